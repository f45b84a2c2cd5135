"""Office-document look of the report tables: column headings, status words and colours."""

from __future__ import annotations

from collections.abc import Callable, Iterable

import pandas as pd

from cfplan.layers.i18n import t as tr
from cfplan.layers.text import Text

# Cell fills by status (Excel's own good / bad / neutral tones).
STATUS_FILL = {
    "met": "C6EFCE", "partly_met": "FCE4D6", "not_met": "FFC7CE", "unknown": "FFEB9C",
    "not_assessed": "D9D9D9",
}
STATUS_KEYS = tuple(STATUS_FILL)

# Headings of every report column, in Chinese and English.
LABELS: dict[str, Text] = {
    "plan": Text("规划", "Plan"), "target_id": Text("目标编号", "Target id"),
    "id": Text("目标编号", "Target id"), "domain": Text("领域", "Domain"),
    "item": Text("项目", "Item"), "section": Text("部分", "Part"),
    "title": Text("标题", "Title"), "wording": Text("规划原文", "Wording (plan text)"),
    "metric": Text("核查方式", "Check"), "target": Text("目标", "Target"),
    "value": Text("数值", "Value"), "status": Text("状态", "Status"),
    "shortfall": Text("缺口", "Shortfall"), "scenario": Text("情景", "Scenario"),
    "origin": Text("来源", "Source"), "lead": Text("牵头单位", "Lead unit"),
    "responsible": Text("责任单位", "Responsible units"),
    "cross_check": Text("与填报核对", "Cross-check with reports"),
    "note": Text("备注", "Note"), "assumption": Text("口径假设", "Assumption"),
    "value_current": Text("现状数值", "Value now"),
    "status_current": Text("现状", "Status now"),
    "shortfall_current": Text("现状缺口", "Shortfall now"),
    "value_planned": Text("规划完成后数值", "Value once planned"),
    "status_planned": Text("规划完成后", "Status once planned"),
    "shortfall_planned": Text("规划完成后缺口", "Shortfall once planned"),
    "gap": Text("缺口（现状 → 规划完成后）", "Gap (now → once planned)"),
    "level": Text("层级", "Level"), "code": Text("编码", "Code"), "name": Text("名称", "Name"),
    "subdistrict": Text("所属", "Subdistrict"),
    "fails_current": Text("现状未达标", "Fails now"),
    "fails_planned": Text("规划完成后未达标", "Fails once planned"),
    "layer": Text("图层", "Layer"), "file": Text("文件", "File"), "read": Text("读取", "Read"),
    "crs": Text("坐标系", "CRS"), "datum": Text("坐标基准", "Datum"),
    "used": Text("采用", "Used"), "repaired": Text("修复", "Repaired"),
    "rejected": Text("剔除", "Rejected"), "units": Text("社区/村数", "Units"),
    "population": Text("人口", "Population"), "children": Text("儿童", "Children"),
    "children_home": Text("有儿童之家的社区/村", "Units with a children's home"),
    "children_home_planned": Text("有儿童之家（规划后）", "With a children's home (planned)"),
    "parent_school": Text("有家长学校的社区/村", "Units with a parent school"),
    "parent_school_planned": Text("有家长学校（规划后）", "With a parent school (planned)"),
    "childcare_places": Text("托位", "Childcare places"),
    "childcare_places_planned": Text("托位（规划后）", "Places (planned)"),
    "places_per_1000": Text("每千人托位", "Places per 1,000"),
    "places_per_1000_planned": Text("每千人托位（规划后）", "Per 1,000 (planned)"),
    "protection_station": Text("未成年人保护工作站", "Minor protection stations"),
    "protection_station_planned": Text("保护工作站（规划后）", "Stations (planned)"),
    "law_base": Text("法治教育实践基地", "Law education bases"),
    "law_base_planned": Text("法治教育基地（规划后）", "Law bases (planned)"),
    "scope": Text("范围", "Scope"), "total": Text("事项", "Items"),
    "met": Text("达成", "Met"), "partly_met": Text("部分达成", "Partly met"),
    "not_met": Text("未达成", "Not met"), "unknown": Text("未知", "Unknown"),
    "not_assessed": Text("未评估", "Not assessed"),
    "reported": Text("填报值", "Reported"),
    "year": Text("完成时限", "Due"),
}
# Columns whose cells are status keys.
STATUS_COLUMNS = ("status", "status_current", "status_planned")


def label(column: str, *, lang: str = "zh") -> str:
    """Return the heading of ``column`` in ``lang`` (the column name itself when unknown)."""
    if column.startswith("walk_"):
        from cfplan.analysis.subdistricts import walk_label

        word = Text("步行可达：", "Walk: ")
        return word.get(lang) + walk_label(column[5:], lang=lang)
    text = LABELS.get(column)
    return text.get(lang) if text else column


def status_word(status: str, *, lang: str = "zh") -> str:
    """Return a status key (``met``, ``partly_met`` …) as a word in ``lang``."""
    return tr(f"status.{status}", lang=lang) if status in STATUS_FILL else status


def localise(df: pd.DataFrame, *, lang: str = "zh",
             status_columns: Iterable[str] = STATUS_COLUMNS) -> pd.DataFrame:
    """Return ``df`` with headings and status cells in ``lang`` (for XLSX and DOCX).

    Returns
    -------
    pandas.DataFrame
        A copy; machine columns (CSV) are left to the caller.
    """
    out = df.copy()
    for col in status_columns:
        if col in out.columns:
            out[col] = out[col].map(lambda v: status_word(v, lang=lang) if isinstance(v, str)
                                    else v)
    return out.rename(columns={c: label(c, lang=lang) for c in out.columns})


def status_of_word(word: object, *, lang: str = "zh") -> str | None:
    """Return the status key a localised status word stands for, else ``None``."""
    for key in STATUS_FILL:
        if word == status_word(key, lang=lang):
            return key
    return None


def office_style(*, lang: str = "zh", status_headings: Iterable[str] | None = None,
                 wrap_headings: Iterable[str] = ()) -> Callable[..., None]:
    """Return a ``style(worksheet, name, df)`` for :func:`cfplan.geo.io.write_xlsx`.

    Bold, filled and frozen header row; an auto-filter over the table; status cells
    filled by status (met green, partly met orange, not met red, unknown yellow, not
    assessed grey); long text columns wrapped; number formats from
    ``df.attrs["number_formats"]`` (heading → format, or a list of one format per row),
    whole numbers ``#,##0`` otherwise. Each sheet prints on A4 landscape, fitted to the
    page width, with its header row repeated on every page and page numbers in the footer.
    """
    from openpyxl.styles import Alignment, Font, PatternFill

    statuses = set(status_headings if status_headings is not None
                   else (label(c, lang=lang) for c in STATUS_COLUMNS))
    wraps = set(wrap_headings)
    bold = Font(bold=True)
    head_fill = PatternFill("solid", fgColor="DDEBF7")
    fills = {k: PatternFill("solid", fgColor=v) for k, v in STATUS_FILL.items()}
    wrap = Alignment(wrap_text=True, vertical="top")

    def style(ws: object, name: str, df: pd.DataFrame) -> None:
        formats = dict(df.attrs.get("number_formats", {}))
        for cell in ws[1]:  # type: ignore[index]
            cell.font = bold
            cell.fill = head_fill
            cell.alignment = Alignment(wrap_text=True, vertical="center")
        ws.freeze_panes = "A2"  # type: ignore[attr-defined]
        if len(df.columns):
            ws.auto_filter.ref = ws.dimensions  # type: ignore[attr-defined]
        for j, col in enumerate(df.columns, start=1):
            letter = ws.cell(row=1, column=j).column_letter  # type: ignore[attr-defined]
            if col in statuses:
                for i, value in enumerate(df[col], start=2):
                    key = status_of_word(value, lang=lang)
                    if key:
                        ws.cell(row=i, column=j).fill = fills[key]  # type: ignore[attr-defined]
            if col in wraps:
                ws.column_dimensions[letter].width = 48  # type: ignore[attr-defined]
                for i in range(2, len(df) + 2):
                    ws.cell(row=i, column=j).alignment = wrap  # type: ignore[attr-defined]
            fmt = formats.get(col)
            if fmt is None and pd.api.types.is_integer_dtype(df[col].dtype):
                fmt = "#,##0"
            if fmt is None:
                continue
            each = fmt if isinstance(fmt, list) else [fmt] * len(df)
            for i, f in enumerate(each, start=2):
                if f:
                    ws.cell(row=i, column=j).number_format = f  # type: ignore[attr-defined]
        print_setup(ws)

    return style


def print_setup(ws: object) -> None:
    """Print a worksheet on A4 landscape, fitted to the page width, header row on every page."""
    setup = ws.page_setup  # type: ignore[attr-defined]
    setup.orientation = "landscape"
    setup.paperSize = ws.PAPERSIZE_A4  # type: ignore[attr-defined]
    setup.fitToWidth = 1
    setup.fitToHeight = 0  # as many pages down as the rows need
    ws.sheet_properties.pageSetUpPr.fitToPage = True  # type: ignore[attr-defined]
    ws.print_title_rows = "1:1"  # type: ignore[attr-defined]
    ws.print_options.horizontalCentered = True  # type: ignore[attr-defined]
    ws.oddFooter.center.text = "&P / &N"  # type: ignore[attr-defined]


__all__ = ["LABELS", "STATUS_FILL", "label", "localise", "office_style", "print_setup",
           "status_word"]
