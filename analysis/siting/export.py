"""Siting outputs: sites.geojson, siting.json, siting_targets.csv and tradeoff.csv.

Numbers are rounded to their meaning (people and places to 1, 0–1 shares to 0.001,
rates per 1,000 or 10,000 to 0.01, metres to 0.1); a target's values follow its metric.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from cfplan.analysis.plan import SHARE_METRICS, Plan
from cfplan.analysis.report import md_escape
from cfplan.analysis.rounding import round_by_meaning
from cfplan.analysis.siting.advice import (
    advice,
    advice_heading,
    standards_advice,
    standards_heading,
)
from cfplan.analysis.siting.plan_sites import SITE_COLUMNS, SitingPlan
from cfplan.analysis.siting.runs import TRADEOFF_COLUMNS
from cfplan.geo.io import atomic_write_text, write_csv, write_geojson

__all__ = ["advice_section", "advice_sections", "siting_record", "siting_tables", "write_siting"]

_VALUES = ("value_before", "value_after", "value_with_plan", "best_value")


def _plain(value: object) -> object:
    if isinstance(value, (np.floating, float)):
        return None if not np.isfinite(value) else float(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.bool_):
        return bool(value)
    if value is pd.NA:
        return None
    return value


def _decimals(metric: str) -> int:
    if metric in SHARE_METRICS:
        return 3
    return 2 if metric == "per_capita" else 0


def siting_tables(siting: SitingPlan, *, lang: str = "zh") -> dict[str, pd.DataFrame]:
    """Return the siting's tables as written: rounded, notes in ``lang``.

    Returns
    -------
    dict
        ``sites`` (GeoDataFrame, :data:`SITE_COLUMNS`), ``targets`` (one row per target:
        values rounded by the target's metric — shares 0.001, rates 0.01, counts 1 — and
        places, sites and counts as whole numbers) and ``tradeoff``.
    """
    sites = round_by_meaning(siting.sites)
    table = siting.outcomes.copy()
    for col in _VALUES:
        table[col] = [None if v is None or pd.isna(v) else round(float(v), _decimals(str(m)))
                      for v, m in zip(table[col], table["metric"], strict=True)]
    for col in ("new_sites", "expansions", "needed", "places_added", "full_count"):
        table[col] = pd.to_numeric(table[col], errors="coerce").round(0).astype("Int64")
    if lang == "en":
        table["note"], table["planned"] = table["note_en"], table["planned_en"]
    table = table.drop(columns=["note_en", "planned_en"])
    curve = siting.tradeoff.copy() if len(siting.tradeoff) else pd.DataFrame(
        columns=list(TRADEOFF_COLUMNS))
    if len(curve):
        for col in ("covered", "marginal_gain"):
            curve[col] = pd.to_numeric(curve[col]).round(0).astype("Int64")
        for col in ("share", "target_share"):
            curve[col] = pd.to_numeric(curve[col]).round(3)
        curve["radius_m"] = pd.to_numeric(curve["radius_m"]).round(1)
    return {"sites": sites, "targets": table, "tradeoff": curve}


def siting_record(siting: SitingPlan, *, lang: str = "zh") -> dict[str, object]:
    """Return the content of ``siting.json``: the scenario, every model run and the outcomes.

    Returns
    -------
    dict
        ``scenario``, ``budget``, ``centre_places``, ``expand_share``, ``candidates`` (per
        run), ``runs`` (status, objective, bound, gap, each stage's status, solver,
        seconds, sizes before/after shrinking …; a time-limited incumbent has status
        ``time_limit`` and ``optimal`` false) and ``targets`` (as ``siting_targets.csv``).
    """
    targets = siting_tables(siting, lang=lang)["targets"]
    outcomes = [{k: _plain(v) for k, v in row.items()}
                for row in targets.to_dict(orient="records")]
    return {"scenario": siting.scenario, "budget": siting.budget,
            "centre_places": siting.centre_places, "expand_share": siting.expand_share,
            "candidates": dict(siting.candidates),
            "runs": [{k: _plain(v) for k, v in r.items()} for r in siting.runs],
            "targets": outcomes}


def write_siting(siting: SitingPlan, out: str | Path, *, lang: str = "zh") -> list[Path]:
    """Write the siting files into ``out``.

    ``sites.geojson`` (WGS-84, one feature per proposed site or expansion,
    :data:`SITE_COLUMNS`), ``siting.json`` (:func:`siting_record`), ``siting_targets.csv``
    (per target, notes in ``lang``) and ``tradeoff.csv`` (coverage for ``k`` new sites per
    run), each rounded as :func:`siting_tables` says; once checked
    (:func:`.apply.with_applied`), ``siting_check.csv``: every target evaluated again with
    the sites built.

    Returns
    -------
    list of pathlib.Path
        The files written.
    """
    out = Path(out)
    tables = siting_tables(siting, lang=lang)
    files = [write_geojson(tables["sites"], out / "sites.geojson", columns=list(SITE_COLUMNS))]
    text = json.dumps(siting_record(siting, lang=lang), ensure_ascii=False, indent=1,
                      allow_nan=False)
    files.append(atomic_write_text(out / "siting.json", text + "\n"))
    files.append(write_csv(tables["targets"], out / "siting_targets.csv"))
    files.append(write_csv(tables["tradeoff"], out / "tradeoff.csv"))
    if siting.applied is not None:
        check = siting.applied.copy()
        check["value"] = [None if v is None or pd.isna(v) else round(float(v), 3)
                          for v in check["value"]]
        if lang == "en":
            check["shortfall"] = check["shortfall_en"]
        files.append(write_csv(check.drop(columns=["shortfall_en"]),
                               out / "siting_check.csv"))
    return files


Section = tuple[tuple[str, str], list[tuple[str, str]]]


def advice_sections(siting: SitingPlan, plan: Plan, *, lang: str = "zh") -> list[Section]:
    """Return the 建设建议 and the standards' ranking as ``((heading, intro), items)``.

    Returns
    -------
    list
        The plan's section first (when it has items), then the standards' (when any).
    """
    out: list[Section] = []
    items = advice(siting, plan, lang=lang)
    if items:
        out.append((advice_heading(siting, lang=lang), items))
    ranked = standards_advice(siting, plan, lang=lang)
    if ranked:
        out.append((standards_heading(siting, lang=lang), ranked))
    return out


def advice_section(siting: SitingPlan, plan: Plan, *, lang: str = "zh") -> list[str]:
    """Return the report's 建设建议 and standards' sections as Markdown lines.

    Returns
    -------
    list of str
        A ``## 建设建议`` heading, then each plan target with its sentence; then
        ``## 国家标准参照：优先选址`` with each standard's ranking. Empty without advice.
    """
    lines: list[str] = []
    for (heading, intro), items in advice_sections(siting, plan, lang=lang):
        lines += [f"## {heading}", "", md_escape(intro), ""]
        for label, text in items:
            lines += [f"### {md_escape(label)}", "", f"- {md_escape(text)}", ""]
    return lines
