"""Siting outputs: sites.geojson, siting.json, siting_targets.csv and tradeoff.csv."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from cfplan.analysis.plan import Plan
from cfplan.analysis.report import md_escape
from cfplan.analysis.siting.plan_sites import SITE_COLUMNS, SitingPlan, advice
from cfplan.geo.io import atomic_write_text, write_csv, write_geojson

__all__ = ["advice_heading", "advice_section", "siting_record", "write_siting"]


def _plain(value: object) -> object:
    if isinstance(value, (np.floating, float)):
        return None if not np.isfinite(value) else float(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.bool_):
        return bool(value)
    return value


def siting_record(siting: SitingPlan) -> dict[str, object]:
    """Return the content of ``siting.json``: the scenario, every model run and the outcomes.

    Returns
    -------
    dict
        ``scenario``, ``candidates`` (per run), ``runs`` (status, objective, bound, gap,
        solver, seconds, sizes before/after shrinking …; a time-limited incumbent has
        status ``time_limit`` and ``optimal`` false) and ``targets`` (per target: closed,
        values before and after, best reachable value, note).
    """
    outcomes = [{k: _plain(v) for k, v in row.items()}
                for row in siting.outcomes.to_dict(orient="records")]
    return {"scenario": siting.scenario, "candidates": dict(siting.candidates),
            "runs": [{k: _plain(v) for k, v in r.items()} for r in siting.runs],
            "targets": outcomes}


def write_siting(siting: SitingPlan, out: str | Path, *, lang: str = "zh") -> list[Path]:
    """Write the siting files into ``out``.

    ``sites.geojson`` (WGS-84, one feature per proposed site, :data:`SITE_COLUMNS`),
    ``siting.json`` (:func:`siting_record`), ``siting_targets.csv`` (per target, the note
    in ``lang``) and ``tradeoff.csv`` (coverage for ``k = 1..K`` new sites per run).

    Returns
    -------
    list of pathlib.Path
        The files written.
    """
    out = Path(out)
    files = [write_geojson(siting.sites, out / "sites.geojson", columns=list(SITE_COLUMNS))]
    text = json.dumps(siting_record(siting), ensure_ascii=False, indent=1, allow_nan=False)
    files.append(atomic_write_text(out / "siting.json", text + "\n"))
    table = siting.outcomes.copy()
    if lang == "en":
        table["note"] = table["note_en"]
    files.append(write_csv(table.drop(columns=["note_en"]), out / "siting_targets.csv"))
    files.append(write_csv(siting.tradeoff if len(siting.tradeoff) else pd.DataFrame(
        columns=["run", "kind", "k", "covered", "share", "marginal_gain", "status", "radius_m",
                 "target_share", "proposed"]), out / "tradeoff.csv"))
    return files


def advice_heading(siting: SitingPlan, *, lang: str = "zh") -> tuple[str, str]:
    """Return the 建设建议 heading and its one-line explanation in ``lang``."""
    scenario = {"current": ("现状", "as things stand"),
                "planned": ("规划完成后", "once planned")}[siting.scenario]
    if lang == "zh":
        return ("建设建议", f"在{scenario[0]}设施之外，达成下列未达标目标所需的最少新建设施（精确求解，"
                "HiGHS；步行距离）。详见 sites.geojson、siting.json、tradeoff.csv/png。")
    return ("Where to build", f"The fewest new facilities, besides those {scenario[1]}, that "
            "meet the targets below (solved exactly with HiGHS on walking distances). See "
            "sites.geojson, siting.json and tradeoff.csv/png.")


def advice_section(siting: SitingPlan, plan: Plan, *, lang: str = "zh") -> list[str]:
    """Return the report's 建设建议 section as Markdown lines (empty without advice).

    Returns
    -------
    list of str
        A ``## 建设建议`` heading, then each target closed by new sites with its sentence.
    """
    items = advice(siting, plan, lang=lang)
    if not items:
        return []
    heading, intro = advice_heading(siting, lang=lang)
    lines = [f"## {heading}", "", md_escape(intro), ""]
    for label, text in items:
        lines += [f"### {md_escape(label)}", "", f"- {md_escape(text)}", ""]
    return lines
