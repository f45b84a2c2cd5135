"""The document a bureau hands in: ``report.docx`` (python-docx), tables and figures, zh or en.

The same assessment writes the same bytes: the core properties are fixed and the zip is
re-written with fixed timestamps (:func:`cfplan.geo.io.fixed_zip`).
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Protocol

import pandas as pd

from cfplan.analysis.evaluate import Result, headline
from cfplan.analysis.export import FAILING_RULE
from cfplan.analysis.plan import Plan
from cfplan.analysis.report import (
    cross_check_table,
    gap_text,
    headline_table,
    hotspot_table,
    per_unit_table,
    routes_section,
    side_by_side,
    summary_table,
    target_rows,
)
from cfplan.analysis.report_style import STATUS_FILL, label, localise
from cfplan.analysis.routes import SchoolRoutes
from cfplan.geo.io import atomic_write_bytes, fixed_zip
from cfplan.layers.i18n import t as tr
from cfplan.layers.load import LayerSet
from cfplan.layers.text import Text

EAST_ASIAN_FONT = "宋体"  # the font Word uses for Chinese in an office document
LATIN_FONT = "Times New Roman"
FIXED_DATE = datetime(2000, 1, 1)  # fixed core-properties dates: same assessment, same bytes


class FigureLike(Protocol):
    """A figure to embed: a caption and PNG bytes (``cfplan.maps.figures.Figure``)."""

    @property
    def name(self) -> str:
        """File stem (ASCII)."""

    @property
    def caption(self) -> str:
        """Caption in the report language."""

    @property
    def png(self) -> bytes:
        """The PNG bytes."""


AdviceSection = tuple[tuple[str, str], Sequence[tuple[str, str]]]
"""A section of advice: ``(heading, intro)`` and per target ``(label, sentence)``."""


def _set_fonts(doc: object) -> None:
    from docx.oxml.ns import qn
    from docx.shared import Pt

    for name in ("Normal", "Title", "Heading 1", "Heading 2", "Heading 3", "Caption",
                 "List Bullet", "Table Grid"):
        try:
            style = doc.styles[name]  # type: ignore[attr-defined]
        except KeyError:
            continue
        if style.font is None:
            continue
        style.font.name = LATIN_FONT
        rpr = style.element.get_or_add_rPr()
        fonts = rpr.find(qn("w:rFonts"))
        if fonts is None:
            fonts = rpr.makeelement(qn("w:rFonts"), {})
            rpr.append(fonts)
        fonts.set(qn("w:eastAsia"), EAST_ASIAN_FONT)
        if name == "Normal":
            style.font.size = Pt(10)


def _landscape(doc: object) -> None:
    from docx.enum.section import WD_ORIENT
    from docx.shared import Cm

    section = doc.sections[0]  # type: ignore[attr-defined]
    section.orientation = WD_ORIENT.LANDSCAPE
    section.page_width, section.page_height = Cm(29.7), Cm(21.0)
    for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
        setattr(section, side, Cm(1.8))


def _shade(cell: object, fill: str) -> None:
    from docx.oxml.ns import qn

    tcpr = cell._tc.get_or_add_tcPr()  # type: ignore[attr-defined]
    shd = tcpr.makeelement(qn("w:shd"), {qn("w:val"): "clear", qn("w:color"): "auto",
                                          qn("w:fill"): fill})
    tcpr.append(shd)


def _repeat_header(row: object) -> None:
    from docx.oxml.ns import qn

    trpr = row._tr.get_or_add_trPr()  # type: ignore[attr-defined]
    trpr.append(trpr.makeelement(qn("w:tblHeader"), {qn("w:val"): "true"}))


def add_table(doc: object, df: pd.DataFrame, headers: Sequence[str] | None = None, *,
              status_columns: Sequence[int] = (), statuses: Sequence[Sequence[str]] = (),
              font_pt: float = 8.0) -> object:
    """Add ``df`` as a Word table: bold shaded header row repeated on each page, grid lines.

    ``status_columns`` are the positions of cells to shade by the status keys in
    ``statuses`` (one sequence per row, aligned with ``status_columns``).

    Returns
    -------
    docx.table.Table
        The table added.
    """
    from docx.shared import Pt

    headers = list(headers if headers is not None else df.columns)
    table = doc.add_table(rows=1, cols=len(headers))  # type: ignore[attr-defined]
    table.style = "Table Grid"
    head = table.rows[0]
    _repeat_header(head)
    for cell, text in zip(head.cells, headers, strict=True):
        cell.text = ""
        run = cell.paragraphs[0].add_run(str(text))
        run.bold = True
        run.font.size = Pt(font_pt)
        _shade(cell, "DDEBF7")
    for i, values in enumerate(df.itertuples(index=False)):
        cells = table.add_row().cells
        for j, (cell, value) in enumerate(zip(cells, values, strict=True)):
            text = "" if value is None or (isinstance(value, float) and value != value) else value
            run = cell.paragraphs[0].add_run(str(text))
            run.font.size = Pt(font_pt)
            if j in status_columns and i < len(statuses):
                key = statuses[i][list(status_columns).index(j)]
                if key in STATUS_FILL:
                    _shade(cell, STATUS_FILL[key])
    return table


def _para(doc: object, text: str, *, bold: bool = False, size: float | None = None) -> None:
    from docx.shared import Pt

    p = doc.add_paragraph()  # type: ignore[attr-defined]
    run = p.add_run(text)
    run.bold = bold
    if size:
        run.font.size = Pt(size)


def _targets_table(doc: object, wide: pd.DataFrame, lang: str, *, responsible: bool = True
                   ) -> None:
    rows = target_rows(wide, lang=lang)
    headers = [label(c, lang=lang) for c in ("id",)] + [
        Text("依据", "Basis").get(lang), label("wording", lang=lang), label("target", lang=lang),
        tr("scenario.current", lang=lang), tr("scenario.planned", lang=lang),
        label("gap", lang=lang), label("lead", lang=lang), label("responsible", lang=lang)]
    if not responsible:
        rows = rows.drop(columns=["lead", "responsible"])
        headers = headers[:-2]
    statuses = list(zip(wide["status_current"], wide["status_planned"], strict=True))
    add_table(doc, rows, headers, status_columns=(4, 5), statuses=statuses, font_pt=7.5)


def document(
    plan: Plan, layers: LayerSet, results: list[Result], *, lang: str = "zh",
    figures: Sequence[FigureLike] = (), coverage: pd.DataFrame | None = None,
    warnings: Sequence[Text] | None = None,
    advice: Sequence[AdviceSection] | None = None,
    routes: SchoolRoutes | None = None,
) -> object:
    """Build the report as a python-docx ``Document`` (nothing written).

    Sections: headline (the plan's items by status, per scenario), every target by domain
    in both scenarios with the gap and the 牵头单位/责任单位, the parts beyond the numbered
    items, cross-checks of reported values, the per-办事处 summary, the shortfall lists
    (what each failing target lacks, and the targets each unit fails), the national
    standards' walking checks, the 建设建议 and the standards' ranking (``advice``: sections
    of heading and intro, then per target its label and sentence), the routes to school (with ``routes``: the top hotspots), the
    figures, the assumptions and the input accounting.

    Returns
    -------
    docx.document.Document
        The document, landscape A4.
    """
    import docx
    from docx.shared import Cm

    zh = lang == "zh"
    doc = docx.Document()
    _set_fonts(doc)
    _landscape(doc)
    props = doc.core_properties
    props.created = props.modified = props.last_printed = FIXED_DATE
    props.author = props.last_modified_by = "cfplan"
    props.revision = 1
    district = layers.name if zh else layers.name_en
    props.title = (f"儿童友好城市建设目标差距报告：{district}" if zh
                   else f"Child-friendly city gap report: {district}")
    props.language = "zh-CN" if zh else "en"
    doc.add_heading(props.title, level=0)
    _para(doc, (f"规划：{plan.name}（{plan.document or plan.source}）" if zh
                else f"Plan: {plan.name_en} ({plan.document or plan.source})"))
    _para(doc, (f"分析坐标系：{layers.crs_label}" if zh else f"Analysis CRS: {layers.crs_label}"))
    if layers.synthetic:
        _para(doc, "合成数据：示范区不是真实地点。" if zh
              else "Synthetic data: the demo district is not a real place.", bold=True)

    doc.add_heading("总览" if zh else "Headline", level=1)
    head = headline_table(plan, results, lang=lang)
    add_table(doc, head, [label(c, lang=lang) for c in head.columns], font_pt=9)
    _para(doc, "按规划自身的事项计（国家标准的步行可达性核查不计入，见“国家标准步行可达性（参考）”）；"
          "一项含多个分目标时：全部达成为“达成”，部分达成为“部分达成”，无一达成为“未达成”，"
          "无未达成但有无法判断的为“未知”，缺数据不视为达成。" if zh else
          "Counted over the plan's own items (the national-standard walking checks are not; "
          "see 'National standards'): an item with several targets is met when all are, "
          "partly met when some are, not met when none is, unknown when none fails but some "
          "cannot be decided; missing data never counts as met.")
    for s in ("current", "planned"):
        h = headline(results, scenario=s)
        _para(doc, f"{tr(f'scenario.{s}', lang=lang)}{'：' if zh else ': '}"
              + tr("progress.summary", lang=lang, **h))

    wide = side_by_side(plan, results, lang=lang)
    main = {t.id for t in plan.targets if t.section == ""}
    own = wide[(wide["origin"] != "standard") & wide["id"].isin(main)]
    doc.add_heading("各项目标" if zh else "Targets", level=1)
    _para(doc, "✅ 达成　❌ 未达成　❔ 未知（数据不足，不视为达成）　➖ 未评估　⚑ 与填报不符　"
          "⚠ 规划项目晚于目标年" if zh else "✅ met　❌ not met　❔ unknown　➖ not assessed　"
          "⚑ contradicts a report　⚠ planned after the target year", size=8)
    for domain in dict.fromkeys(own["domain"]):
        doc.add_heading(str(domain), level=2)
        _targets_table(doc, own[own["domain"] == domain], lang)
    rest = wide[(wide["origin"] != "standard") & ~wide["id"].isin(main)]
    for section in dict.fromkeys(rest["section"]):
        doc.add_heading(str(section), level=1)
        _targets_table(doc, rest[rest["section"] == section], lang)

    doc.add_heading("与填报数据核对" if zh else "Reported values checked against the layers",
                    level=1)
    checks = cross_check_table(plan, results, lang=lang)
    if checks.empty:
        _para(doc, "填报值与图层无矛盾。" if zh else "No reported value contradicts the layers.")
    else:
        add_table(doc, localise(checks, lang=lang))

    doc.add_heading(f"各{plan.subdistrict_term}汇总" if zh else "Summary by subdistrict",
                    level=1)
    summary = summary_table(layers, coverage, lang=lang)
    if summary.empty:
        _para(doc, "没有办事处图层。" if zh else "No subdistrict layer.")
    else:
        add_table(doc, summary, font_pt=8)
        _para(doc, "x/y：有该设施的社区/村 / 社区/村总数；箭头后为规划完成后；步行可达为半径内儿童占比（现状）。"
              if zh else "x/y: units with one / units; after the arrow, once planned; walk: "
              "share of children within the radius (now).", size=8)

    doc.add_heading("缺口清单" if zh else "Shortfall lists", level=1)
    by_key = {(r.target.id, r.scenario): r for r in results}
    for t in plan.targets:
        cur, fut = by_key[(t.id, "current")], by_key[(t.id, "planned")]
        if t.origin == "standard" or t.metric == "same_as":
            continue
        if cur.status == "met" and fut.status == "met":
            continue
        text = gap_text(cur, fut, lang=lang)
        if text:
            p = doc.add_paragraph(style="List Bullet")
            p.add_run(f"{t.id} {t.text('title', lang)}{'：' if zh else ': '}").bold = True
            p.add_run(text)
    units = per_unit_table(layers, results, lang=lang)
    failing = units[(units["fails_current"] != "") | (units["fails_planned"] != "")]
    if not failing.empty:
        doc.add_heading("各单元未达标目标" if zh else "Targets failed per unit", level=2)
        _para(doc, FAILING_RULE.get(lang))
        level = {"unit": "社区/村" if zh else "unit",
                 "subdistrict": plan.subdistrict_term if zh else "subdistrict"}
        add_table(doc, localise(failing.assign(level=failing["level"].map(level)), lang=lang))

    std = wide[wide["origin"] == "standard"]
    if not std.empty:
        doc.add_heading("国家标准步行可达性（参考）" if zh
                        else "National standards: walking access (reference)", level=1)
        _para(doc, "以下按国家标准核查，不是规划自身的目标，不计入总览。" if zh else
              "Checked against national standards, not targets of the plan; not counted in "
              "the headline.")
        _targets_table(doc, std, lang, responsible=False)

    for (heading, intro), items in advice or ():
        if not items:
            continue
        doc.add_heading(heading, level=1)
        _para(doc, intro)
        for target, text in items:
            doc.add_heading(target, level=2)
            doc.add_paragraph(text, style="List Bullet")

    if routes is not None:
        section = routes_section(routes, lang=lang)
        doc.add_heading(section[0].removeprefix("## "), level=1)
        _para(doc, section[2])
        if not routes.hotspots.empty:
            table = hotspot_table(routes, lang=lang)
            add_table(doc, table, list(table.columns))
        _para(doc, section[-2], size=8)

    if figures:
        doc.add_heading("图" if zh else "Figures", level=1)
        for f in figures:
            doc.add_picture(io.BytesIO(f.png), width=Cm(17.0))
            doc.add_paragraph(f.caption, style="Caption")

    assumed = wide[wide["assumption"] != ""][["id", "wording", "assumption"]]
    if not assumed.empty:
        doc.add_heading("口径假设" if zh else "Assumptions", level=1)
        add_table(doc, localise(assumed, lang=lang))
    doc.add_heading("数据核算" if zh else "Input accounting", level=1)
    add_table(doc, localise(layers.accounting, lang=lang), font_pt=8)
    shown = list(layers.warnings if warnings is None else warnings)
    if shown:
        doc.add_heading("警告" if zh else "Warnings", level=1)
        for w in shown:
            doc.add_paragraph(w.get(lang), style="List Bullet")
    return doc


def write_docx(
    plan: Plan, layers: LayerSet, results: list[Result], path: str | Path, *,
    lang: str = "zh", figures: Sequence[FigureLike] = (), coverage: pd.DataFrame | None = None,
    warnings: Sequence[Text] | None = None,
    advice: Sequence[AdviceSection] | None = None,
    routes: SchoolRoutes | None = None,
) -> Path:
    """Write ``report.docx`` (see :func:`document`), atomically and deterministically.

    Returns
    -------
    pathlib.Path
        The path written.
    """
    doc = document(plan, layers, results, lang=lang, figures=figures, coverage=coverage,
                   warnings=warnings, advice=advice, routes=routes)
    buf = io.BytesIO()
    doc.save(buf)  # type: ignore[attr-defined]
    return atomic_write_bytes(path, fixed_zip(buf.getvalue()))


__all__ = ["add_table", "document", "write_docx"]
