"""Indicator values reported by the bureau: the fill-in template and reading it back."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from cfplan.analysis.plan import Plan, Target
from cfplan.geo.io import write_csv, write_xlsx

TEMPLATE_COLUMNS = ("plan", "id", "indicator", "domain", "item", "wording", "target", "unit",
                    "direction", "value", "year", "source", "note")


def target_text(t: Target, *, lang: str = "zh") -> str:
    """Return a target as short text: ``≥ 5``, ``2–3``, ``≤ 2.5‰``, ``100%``, ``是``."""
    if isinstance(t.target, bool):
        return ("是" if t.target else "否") if lang == "zh" else ("yes" if t.target else "no")
    share = t.metric in ("presence_per_unit", "capacity_per_unit", "attribute_share",
                         "accessibility")

    def fmt(v: float) -> str:
        return f"{v * 100:g}%" if share else f"{v:g}{t.unit}"

    if isinstance(t.target, tuple):
        text = f"{fmt(t.target[0])}–{fmt(t.target[1])}"
    else:
        sign = "≤ " if t.direction == "at_most" else ("" if share else "≥ ")
        text = sign + fmt(float(t.target))
    scope = _scope(t, lang=lang)
    return f"{text} {scope}" if scope else text


def _scope(t: Target, *, lang: str) -> str:
    """Return what a target is counted over, e.g. ``社区（≥ 20 托位）``."""
    from cfplan.layers.kinds import SUBDISTRICT_TYPES, UNIT_TYPES

    zh = lang == "zh"
    if t.metric in ("presence_per_unit", "capacity_per_unit"):
        table = SUBDISTRICT_TYPES if t.unit_level == "subdistrict" else UNIT_TYPES
        types = t.unit_types or tuple(table)
        words = "/".join(table[k][0] if zh else table[k][1].lower() for k in types)
        if t.metric == "capacity_per_unit":
            words += f"（≥ {t.capacity:g} 托位）" if zh else f" (≥ {t.capacity:g} places)"
        return words
    if t.metric == "per_capita":
        what = "托位" if t.capacity_field == "capacity" else "个"
        per = f"{t.per / 1000:g}千人" if t.per and t.per < 10000 else f"{(t.per or 0) / 10000:g}万人"
        if not zh:
            return f"per {t.per:g} {'children' if t.population == 'children' else 'residents'}"
        return f"{what}/{per}".replace("/1千人", "/千人").replace("/1万人", "/万人")
    if t.metric == "accessibility":
        radius = t.radius_m
        who = ("儿童" if t.population == "children" else "居民") if zh else (
            "of children" if t.population == "children" else "of residents")
        if radius is None:
            return f"{who}步行可达" if zh else f"{who} within walking radius"
        return f"{who}步行 {radius:g} m 内" if zh else f"{who} within {radius:g} m walk"
    return ""


def indicator_template(plan: Plan) -> pd.DataFrame:
    """Return the fill-in table of every non-spatial (indicator) target of ``plan``.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`TEMPLATE_COLUMNS`; ``value``, ``year``, ``source`` and ``note``
        are empty for the bureau to fill in. ``value`` takes a number (units as in
        ``unit``) or 是/否 for yes/no targets.
    """
    rows = []
    for t in plan.targets:
        if t.metric != "indicator":
            continue
        rows.append({
            "plan": plan.id, "id": t.id, "indicator": t.indicator, "domain": t.domain,
            "item": t.item, "wording": t.wording, "target": target_text(t),
            "unit": "是/否" if t.value_type == "boolean" else t.unit,
            "direction": "" if t.value_type == "boolean" else t.direction,
            "value": "", "year": "", "source": "", "note": "",
        })
    return pd.DataFrame(rows, columns=list(TEMPLATE_COLUMNS))


def write_template(plan: Plan, out: str | Path) -> list[Path]:
    """Write ``indicators_<plan>.csv`` and ``.xlsx`` into ``out``.

    Returns
    -------
    list of pathlib.Path
        The two files written.
    """
    out = Path(out)
    table = indicator_template(plan)
    csv = write_csv(table, out / f"indicators_{plan.id}.csv")
    xlsx = out / f"indicators_{plan.id}.xlsx"
    write_xlsx({"indicators": table}, xlsx)
    return [csv, xlsx]


def read_indicators(path: str | Path | None) -> pd.DataFrame | None:
    """Read an indicators CSV or XLSX (columns ``plan, id, indicator, value, …``).

    Returns
    -------
    pandas.DataFrame or None
        The table with string columns, or ``None`` when no path is given.

    Raises
    ------
    layers.errors.InputError
        If the file does not exist.
    """
    if path is None:
        return None
    p = Path(path)
    if not p.is_file():
        from cfplan.layers.errors import InputError
        from cfplan.layers.text import Text

        raise InputError(str(p), Text("找不到指标填报表", "indicators file not found"),
                         Text("用 cfplan template 生成后填写，或检查路径",
                              "make one with cfplan template, or check the path"))
    if p.suffix.lower() in (".xlsx", ".xls"):
        df = pd.read_excel(p, dtype=object)
    else:
        df = pd.read_csv(p, dtype=object, encoding="utf-8-sig", keep_default_na=False)
    for col in ("plan", "id", "indicator", "value"):
        if col not in df.columns:
            df[col] = ""
    return df.fillna("").astype(str)
