"""The report's tables as files: report.md, the CSV tables, and report.xlsx with numbers as numbers.

The XLSX sheets hold numbers as numbers, with number formats and units in the headers.
"""

from __future__ import annotations

from pathlib import Path
from typing import cast

import pandas as pd

from cfplan.analysis.evaluate import Result
from cfplan.analysis.export import FAILING_RULE
from cfplan.analysis.plan import Plan, unit_text
from cfplan.analysis.report import (
    cross_check_table,
    headline_table,
    markdown_report,
    per_unit_table,
    side_by_side,
    targets_table,
)
from cfplan.analysis.report_findings import supervision_list
from cfplan.analysis.report_style import label, localise, office_style
from cfplan.analysis.rounding import round_by_meaning
from cfplan.analysis.selection import SCENARIOS
from cfplan.analysis.subdistricts import subdistrict_summary
from cfplan.geo.io import atomic_write_text, write_csv, write_xlsx
from cfplan.layers.i18n import t as tr
from cfplan.layers.load import LayerSet
from cfplan.layers.text import Text

# XLSX sheets: key → name in each language.
SHEETS = {"headline": Text("总览", "Headline"), "targets": Text("目标", "Targets"),
          "targets_long": Text("目标明细", "Targets by scenario"),
          "supervision": Text("督办清单", "Supervision list"),
          "subdistricts": Text("办事处汇总", "Subdistricts"), "units": Text("社区村", "Units"),
          "cross_checks": Text("填报核对", "Cross-checks"),
          "accounting": Text("数据核算", "Accounting"), "about": Text("说明", "About")}
_XLSX_WIDE = ("id", "domain", "section", "item", "wording", "target", "status_current",
              "value_current", "status_planned", "value_planned", "gap", "cross_check", "lead",
              "responsible", "assumption")

PERCENT, COUNT, DECIMAL_2, DECIMAL_1 = "0.0%", "#,##0", "0.00", "0.0"
# Units of the numeric columns, shown in their headings (托位（个）), and their formats.
COLUMN_UNITS: dict[str, tuple[Text, str]] = {
    "population": (Text("人", "people"), COUNT), "children": (Text("人", "children"), COUNT),
    "units": (Text("个", "units"), COUNT),
    "children_home": (Text("个", "units"), COUNT),
    "children_home_planned": (Text("个", "units"), COUNT),
    "parent_school": (Text("个", "units"), COUNT),
    "parent_school_planned": (Text("个", "units"), COUNT),
    "childcare_places": (Text("个", "places"), COUNT),
    "childcare_places_planned": (Text("个", "places"), COUNT),
    "places_per_1000": (Text("个/千人", "per 1,000"), DECIMAL_2),
    "places_per_1000_planned": (Text("个/千人", "per 1,000"), DECIMAL_2),
    "protection_station": (Text("个", "stations"), COUNT),
    "protection_station_planned": (Text("个", "stations"), COUNT),
    "law_base": (Text("个", "bases"), COUNT), "law_base_planned": (Text("个", "bases"), COUNT),
    "total": (Text("项", "items"), COUNT), "met": (Text("项", "items"), COUNT),
    "partly_met": (Text("项", "items"), COUNT), "not_met": (Text("项", "items"), COUNT),
    "unknown": (Text("项", "items"), COUNT),
    "read": (Text("个", "features"), COUNT), "used": (Text("个", "features"), COUNT),
    "repaired": (Text("个", "features"), COUNT), "rejected": (Text("个", "features"), COUNT),
    "year": (Text("年", "year"), "0"),
}


def value_cell(r: Result | None, *, lang: str = "zh") -> tuple[object, str | None]:
    """Return a result's measured value as a spreadsheet cell: the number and its format.

    Shares are fractions formatted ``0.0%``; counts ``#,##0``; per-capita values ``0.00``;
    places per unit ``0.0``; reported indicators keep their unit in the format
    (``#,##0.0##"人"``), so that every number can be sorted and summed. Yes/no stays text.

    Returns
    -------
    tuple
        The value (float, int, str or None) and its number format (None for text).
    """
    if r is None or r.value is None:
        return None, None
    v = r.value
    t = r.target
    if t.metric == "same_as":
        refs = cast("list[Result]", r.extra.get("refs", []))
        if len(refs) == 1:
            return value_cell(refs[0], lang=lang)
        return float(v), PERCENT
    if isinstance(v, bool):
        return ("是" if v else "否") if lang == "zh" else ("yes" if v else "no"), None
    if t.is_share:
        return float(v), PERCENT
    if t.metric == "count":
        return round(float(v)), COUNT
    if t.metric == "per_capita":
        return float(v), DECIMAL_2
    if t.metric == "capacity_per_unit":
        return float(v), DECIMAL_1
    unit = unit_text(t.unit, lang).replace('"', "")
    number = float(v)
    if unit.strip() == "%":  # a reported percentage: a share like the measured ones
        return number / 100, PERCENT
    base = COUNT if number.is_integer() else "#,##0.0##"
    return (int(number) if number.is_integer() else number), (f'{base}"{unit}"' if unit
                                                              else base)


def _with_values(frame: pd.DataFrame, cells: list[tuple[object, str | None]], column: str
                 ) -> tuple[pd.DataFrame, list[str | None]]:
    out = frame.copy()
    out[column] = pd.Series([c[0] for c in cells], index=out.index, dtype=object)
    return out, [c[1] for c in cells]


def _with_unit(heading: str, unit: str, lang: str) -> str:
    """Return ``托位（个）``, or ``有儿童之家（规划后，个）`` when the heading ends in brackets."""
    if lang == "zh":
        return f"{heading[:-1]}，{unit}）" if heading.endswith("）") else f"{heading}（{unit}）"
    return f"{heading[:-1]}, {unit})" if heading.endswith(")") else f"{heading} ({unit})"


def _units_in_headings(df: pd.DataFrame, lang: str) -> tuple[pd.DataFrame, dict[str, object]]:
    """Localise ``df`` with the unit in each numeric heading; return its number formats."""
    formats: dict[str, object] = {}
    names = {}
    for col in df.columns:
        heading = label(col, lang=lang)
        unit, fmt = COLUMN_UNITS.get(col, (None, None))
        if col.startswith("walk_"):
            unit, fmt = Text("%", "%"), PERCENT
        if unit is not None and fmt is not None:
            heading = _with_unit(heading, unit.get(lang), lang)
            formats[heading] = fmt
        names[col] = heading
    out = localise(df, lang=lang).set_axis([names[c] for c in df.columns], axis=1)
    return out, formats


def xlsx_sheets(plan: Plan, layers: LayerSet, results: list[Result], *, lang: str = "zh",
                coverage: pd.DataFrame | None = None) -> dict[str, pd.DataFrame]:
    """Return the report's XLSX sheets, headings and statuses in ``lang``.

    Numbers are numbers: measured values, counts, places and shares, each with its number
    format (``0.0%``, ``#,##0`` …) in ``DataFrame.attrs["number_formats"]`` (heading → a
    format, or one format per row) and its unit in the heading (``托位（个）``), for
    :func:`cfplan.analysis.report_style.office_style`.

    Returns
    -------
    dict
        Sheet name → table: headline, targets side by side, targets per scenario, the
        督办清单, the per-办事处 summary, units' failures, cross-checks, accounting, about.
    """
    by_key = {(r.target.id, r.scenario): r for r in results}
    wide = side_by_side(plan, results, lang=lang)[list(_XLSX_WIDE)]
    formats: dict[str, dict[str, object]] = {}
    row_formats: dict[str, object] = {}
    for s in SCENARIOS:
        cells = [value_cell(by_key.get((i, s)), lang=lang) for i in wide["id"]]
        wide, fmts = _with_values(wide, cells, f"value_{s}")
        row_formats[label(f"value_{s}", lang=lang)] = fmts
    long = targets_table(plan, results, lang=lang).drop(columns=["plan", "metric"])
    cells = [value_cell(by_key.get((i, s)), lang=lang)
             for i, s in zip(long["target_id"], long["scenario"], strict=True)]
    long, long_fmts = _with_values(long, cells, "value")
    long["scenario"] = long["scenario"].map(lambda s: tr(f"scenario.{s}", lang=lang))
    summary = subdistrict_summary(layers, coverage).round(
        {"places_per_1000": 2, "places_per_1000_planned": 2})
    for col in summary.columns:
        if col.startswith("walk_"):
            summary[col] = summary[col].round(3)
    units = per_unit_table(layers, results, lang=lang)
    units["level"] = units["level"].map({"unit": "社区/村" if lang == "zh" else "unit",
                                         "subdistrict": plan.subdistrict_term if lang == "zh"
                                         else "subdistrict"})
    sheets: dict[str, pd.DataFrame] = {}
    plain = {"targets": wide, "targets_long": long, "units": units,
             "cross_checks": cross_check_table(plan, results, lang=lang),
             "about": about_table(plan, layers, lang=lang)}
    numeric = {"headline": headline_table(plan, results, lang=lang),
               "supervision": supervision_list(plan, results, lang=lang),
               "subdistricts": summary, "accounting": layers.accounting}
    for key in SHEETS:
        if key in numeric:
            frame, heading_formats = _units_in_headings(numeric[key], lang)
            formats[key] = heading_formats
        else:
            frame = localise(plain[key], lang=lang)
            formats[key] = {}
        sheets[key] = frame
    formats["targets"] = row_formats
    formats["targets_long"] = {label("value", lang=lang): long_fmts}
    out = {}
    for key, frame in sheets.items():
        frame.attrs["number_formats"] = formats[key]
        out[SHEETS[key].get(lang)] = frame
    return out


def about_table(plan: Plan, layers: LayerSet, *, lang: str = "zh") -> pd.DataFrame:
    """Return what the report is of: plan, district, analysis CRS (the XLSX's last sheet).

    Each input file's own CRS and datum are in the accounting sheet.

    Returns
    -------
    pandas.DataFrame
        Columns ``item, value``.
    """
    zh = lang == "zh"
    rows = [("规划" if zh else "Plan", plan.name if zh else plan.name_en),
            ("区域" if zh else "District", layers.name if zh else layers.name_en),
            ("分析坐标系" if zh else "Analysis CRS", layers.crs_label),
            ("各图层坐标系与坐标基准" if zh else "Each layer's CRS and datum",
             "见“数据核算”表" if zh else "see the Accounting sheet"),
            ("单元未达标的判定" if zh else "When a unit fails", FAILING_RULE.get(lang)),
            ("数值" if zh else "Numbers",
             "占比以百分数格式存为 0–1 的小数，计数与托位为数值，单位见表头" if zh else
             "shares are 0–1 fractions shown as percentages; counts and places are "
             "numbers; units in the headings")]
    if layers.synthetic:
        rows.append(("合成数据" if zh else "Synthetic data",
                     "示范区不是真实地点" if zh else "the demo district is not a real place"))
    return pd.DataFrame(rows, columns=["item", "value"])


def write_report(
    plan: Plan, layers: LayerSet, results: list[Result], out: str | Path, *, lang: str = "zh",
    extra_sections: list[str] | None = None, warnings: list[Text] | None = None,
    coverage: pd.DataFrame | None = None,
) -> list[Path]:
    """Write ``report.md``, ``report.xlsx``, ``targets.csv``, ``units.csv`` and ``subdistricts.csv``.

    The CSV files keep machine values (status keys, shares 0–1); ``report.xlsx`` reads
    like an office document: headings and statuses in ``lang``, bold frozen header rows,
    filters and status colours.

    Returns
    -------
    list of pathlib.Path
        The files written.
    """
    out = Path(out)
    targets = targets_table(plan, results, lang=lang)
    units = per_unit_table(layers, results, lang=lang)
    written = [
        atomic_write_text(out / "report.md", markdown_report(plan, layers, results, lang=lang,
                                                             extra_sections=extra_sections,
                                                             warnings=warnings,
                                                             coverage=coverage)),
        write_csv(targets, out / "targets.csv"),
        write_csv(units, out / "units.csv"),
        write_csv(round_by_meaning(subdistrict_summary(layers, coverage)),
                  out / "subdistricts.csv"),
        write_csv(layers.accounting, out / "accounting.csv"),
    ]
    wraps = [label(c, lang=lang) for c in ("wording", "gap", "shortfall", "assumption",
                                           "responsible", "cross_check", "note", "title")]
    written.append(write_xlsx(xlsx_sheets(plan, layers, results, lang=lang, coverage=coverage),
                              out / "report.xlsx",
                              style=office_style(lang=lang, wrap_headings=wraps)))
    return written


__all__ = ["SHEETS", "about_table", "value_cell", "write_report", "xlsx_sheets"]
