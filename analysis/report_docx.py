"""The document a bureau hands in: ``report.docx`` laid out per GB/T 9704, zh or en.

The document carries the run's date (:func:`cfplan.geo.io.run_date`; ``SOURCE_DATE_EPOCH``
fixes it), on the cover and in the core properties, and the zip is re-written with that
date on every member (:func:`cfplan.geo.io.fixed_zip`): the same assessment on the same
date writes the same bytes.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

import pandas as pd
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
from docx.shared import Cm, Pt

from cfplan.analysis.docx_format import (
    MARGINS_MM,
    PAGE_MM,
    SIZE_PT,
    TABLE_PT,
    add_field,
    column_widths,
    gbt9704_styles,
    keep_together,
    new_section,
    no_page_numbers,
    no_split,
    page_numbers,
    page_setup,
    repeat_header,
    set_run_font,
    set_table_widths,
    shade,
    text_mm,
    update_fields_on_open,
)
from cfplan.analysis.evaluate import Result, headline
from cfplan.analysis.export import FAILING_RULE
from cfplan.analysis.plan import Plan
from cfplan.analysis.report import (
    cross_check_table,
    headline_table,
    hotspot_table,
    per_unit_table,
    routes_section,
    side_by_side,
    summary_table,
    target_rows,
)
from cfplan.analysis.report_findings import domain_conclusions, supervision_list
from cfplan.analysis.report_style import STATUS_FILL, label, localise, status_word
from cfplan.analysis.routes import SchoolRoutes
from cfplan.geo.io import atomic_write_bytes, fixed_zip, package_version, run_date
from cfplan.layers.i18n import t as tr
from cfplan.layers.load import LayerSet
from cfplan.layers.text import Text

CHINESE_NUMERALS = "一二三四五六七八九十"
_PLAIN = (("⚠ ", "注意："), ("⚑ ", "与填报不符："), ("✅", "达成"), ("❌", "未达成"), ("❔", "未知"),
          ("➖", "未评估"))
_PLAIN_EN = (("⚠ ", "Note: "), ("⚑ ", "Contradicts a report: "))


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
        """The PNG bytes (300 dpi)."""


AdviceSection = tuple[tuple[str, str], Sequence[tuple[str, str]]]
"""A section of advice: ``(heading, intro)`` and per target ``(label, sentence)``."""


def plain(text: object, *, lang: str = "zh") -> str:
    """Return report text with its symbols as words (no emoji or dingbats to print as boxes)."""
    out = str(text)
    for sign, word in _PLAIN if lang == "zh" else _PLAIN_EN:
        out = out.replace(sign, word)
    return out


class _Report:
    """The document being built: numbering of headings, tables and figures, and annexes."""

    def __init__(self, doc: object, lang: str) -> None:
        self.doc = doc
        self.lang = lang
        self.zh = lang == "zh"
        self.heading_no = 0
        self.sub_no = 0
        self.tables = 0
        self.figures = 0
        self.annexes: list[tuple[str, Callable[[], None]]] = []

    def heading(self, text: str, level: int = 1) -> None:
        if level == 1:
            self.heading_no += 1
            self.sub_no = 0
            prefix = (f"{CHINESE_NUMERALS[self.heading_no - 1]}、" if self.zh
                      else f"{self.heading_no}. ")
        else:
            self.sub_no += 1
            prefix = (f"（{CHINESE_NUMERALS[(self.sub_no - 1) % 10]}）" if self.zh
                      else f"{self.heading_no}.{self.sub_no} ")
        self.doc.add_heading(prefix + text, level=level)  # type: ignore[attr-defined]

    def para(self, text: str, *, size: float | None = None, indent: bool = True) -> object:
        p = self.doc.add_paragraph()  # type: ignore[attr-defined]
        run = p.add_run(plain(text, lang=self.lang))
        if size:
            run.font.size = Pt(size)
            p.paragraph_format.line_spacing = 1.15
        if not indent:
            p.paragraph_format.first_line_indent = Pt(0)
        return p

    def caption(self, kind: str, text: str) -> object:
        """Add ``表N`` / ``图N`` and the text as a caption (a SEQ field with its number)."""
        if kind == "表":
            self.tables += 1
            n = self.tables
        else:
            self.figures += 1
            n = self.figures
        p = self.doc.add_paragraph(style="Caption")  # type: ignore[attr-defined]
        label = kind if self.zh else {"表": "Table ", "图": "Figure "}[kind]
        p.add_run(label)
        add_field(p, f"SEQ {kind} \\* ARABIC", str(n))
        p.add_run(("　" if self.zh else ". ") + plain(text, lang=self.lang))
        return p

    def table(self, title: str, df: pd.DataFrame, headers: Sequence[str] | None = None, *,
              width_mm: float, statuses: Mapping[int, Sequence[str]] | None = None,
              font_pt: float = TABLE_PT) -> None:
        keep_together(self.caption("表", title))
        add_table(self.doc, df, headers, statuses=statuses, font_pt=font_pt,
                  width_mm=width_mm, lang=self.lang)

    def annex(self, title: str, build: Callable[[], None]) -> str:
        """Register a landscape annex; returns its name (附件N)."""
        self.annexes.append((title, build))
        n = len(self.annexes)
        return f"附件{n}" if self.zh else f"Annex {n}"


# Rows whose longest cell is at most this long are kept on one page (a longer one may run
# past a page and must be allowed to break).
ROW_KEPT_CHARS = 400


def add_table(doc: object, df: pd.DataFrame, headers: Sequence[str] | None = None, *,
              statuses: Mapping[int, Sequence[str]] | None = None, font_pt: float = TABLE_PT,
              width_mm: float | None = None, lang: str = "zh") -> object:
    """Add ``df`` as a Word table: bold shaded header row repeated on each page, grid lines.

    Each row that fits a page is kept whole on one page (``w:cantSplit``).

    ``statuses`` maps a column position to the status key of each row (``met``,
    ``not_met`` …): those cells are shaded by status. With ``width_mm`` the columns get
    widths fitted to their content (:func:`cfplan.analysis.docx_format.column_widths`).

    Returns
    -------
    docx.table.Table
        The table added.
    """
    headers = [str(h) for h in (headers if headers is not None else df.columns)]
    cells_text = [["" if v is None or (isinstance(v, float) and v != v)
                   else plain(v, lang=lang) for v in row] for row in df.itertuples(index=False)]
    table = doc.add_table(rows=1, cols=len(headers))  # type: ignore[attr-defined]
    table.style = "Table Grid"
    head = table.rows[0]
    repeat_header(head)
    no_split(head)
    for cell, text in zip(head.cells, headers, strict=True):
        _cell_text(cell, text, font_pt, bold=True)
        shade(cell, "DDEBF7")
    for i, values in enumerate(cells_text):
        row = table.add_row()
        if max((len(v) for v in values), default=0) <= ROW_KEPT_CHARS:
            no_split(row)  # a row that fits a page is never cut across two
        for j, (cell, text) in enumerate(zip(row.cells, values, strict=True)):
            _cell_text(cell, text, font_pt)
            key = (statuses or {}).get(j, ())
            if i < len(key) and key[i] in STATUS_FILL:
                shade(cell, STATUS_FILL[key[i]])
    if width_mm is not None and headers:
        columns = [[h, *(r[j] for r in cells_text)] for j, h in enumerate(headers)]
        set_table_widths(table, column_widths(columns, width_mm, font_pt=font_pt))
    return table


def _cell_text(cell: object, text: str, size: float, *, bold: bool = False) -> None:
    p = cell.paragraphs[0]  # type: ignore[attr-defined]
    fmt = p.paragraph_format
    fmt.first_line_indent = Pt(0)
    fmt.line_spacing = 1.0
    fmt.alignment = WD_ALIGN_PARAGRAPH.LEFT
    run = p.add_run(text)
    run.font.size = Pt(size)
    run.bold = bold


def _targets_table(rep: _Report, title: str, wide: pd.DataFrame, *, width_mm: float,
                   responsible: bool = True) -> None:
    lang = rep.lang
    rows = target_rows(wide, lang=lang, icons=False)
    headers = [label("id", lang=lang), Text("依据", "Basis").get(lang), label("wording", lang=lang),
               label("target", lang=lang), tr("scenario.current", lang=lang),
               tr("scenario.planned", lang=lang), label("gap", lang=lang),
               label("lead", lang=lang), label("responsible", lang=lang)]
    if not responsible:
        rows = rows.drop(columns=["lead", "responsible"])
        headers = headers[:-2]
    rep.table(title, rows, headers, width_mm=width_mm, font_pt=SIZE_PT["小5号"],
              statuses={4: list(wide["status_current"]), 5: list(wide["status_planned"])})


def _cover(rep: _Report, plan: Plan, layers: LayerSet, *, when: datetime, compiler: str
           ) -> None:
    doc, zh = rep.doc, rep.zh
    district = layers.name if zh else layers.name_en
    for _ in range(4):
        rep.para("", indent=False)
    title = doc.add_paragraph(style="Title")  # type: ignore[attr-defined]
    title.add_run(district)
    title = doc.add_paragraph(style="Title")  # type: ignore[attr-defined]
    title.add_run("儿童友好城市建设目标差距报告" if zh else "Child-friendly city gap report")
    for _ in range(3):
        rep.para("", indent=False)
    day = f"{when.year}年{when.month}月{when.day}日" if zh else when.strftime("%Y-%m-%d")
    lines = [("区　　域" if zh else "District", district),
             ("规　　划" if zh else "Plan", plan.name if zh else plan.name_en),
             ("规划文件" if zh else "Plan document", plan.document or plan.source),
             ("编制单位" if zh else "Compiled by", compiler),
             ("日　　期" if zh else "Date", day)]
    for name, value in lines:
        p = rep.para(f"{name}：{value}" if zh else f"{name}: {value}", indent=False)
        p.paragraph_format.left_indent = Pt(SIZE_PT["3号"] * 3)  # type: ignore[attr-defined]
    if layers.synthetic:
        rep.para("")
        rep.para("合成数据：示范区不是真实地点。" if zh
                 else "Synthetic data: the demo district is not a real place.", indent=False)
    doc.add_page_break()  # type: ignore[attr-defined]
    head = doc.add_paragraph(style="Title")  # type: ignore[attr-defined]
    head.add_run("目　　录" if zh else "Contents")
    toc = doc.add_paragraph()  # type: ignore[attr-defined]
    toc.paragraph_format.first_line_indent = Pt(0)
    add_field(toc, 'TOC \\o "1-2" \\h \\z \\u',
              "（在 Word 中右键“更新域”或按 F9 生成目录）" if zh
              else "(right-click and Update Field, or press F9, to build the contents)")


def document(
    plan: Plan, layers: LayerSet, results: list[Result], *, lang: str = "zh",
    figures: Sequence[FigureLike] = (), coverage: pd.DataFrame | None = None,
    warnings: Sequence[Text] | None = None,
    advice: Sequence[AdviceSection] | None = None,
    routes: SchoolRoutes | None = None, when: datetime | None = None,
    compiler: str | None = None,
) -> object:
    """Build the report as a python-docx ``Document`` (nothing written), laid out per GB/T 9704.

    A cover (district, plan, date, compiler) and a contents field, then the body on A4
    portrait (GB/T 9704 margins, 3号 仿宋, page numbers 「— 1 —」 at the outer corner): the
    headline (the plan's items by status, target counts labelled as such), a conclusion
    per domain, the 督办清单 (failing tasks by 牵头单位, with gap and due year), the
    per-办事处 overview, the 建设建议 and the standards' ranking (``advice``: sections of
    heading and intro, then per target its label and sentence), the routes to school
    (``routes``), the figures (numbered 图1 …), assumptions and warnings; then the wide
    tables as landscape 附件 sections (every target in both scenarios, the national
    standards, the per-办事处 summary, failures per unit, cross-checks, input accounting).
    Tables are numbered 表1 …, captions kept with their tables and figures; statuses are
    words on shaded cells. ``when`` is the date on the cover and in the core properties
    (default :func:`cfplan.geo.io.run_date`).

    Returns
    -------
    docx.document.Document
        The document.
    """
    import docx

    zh = lang == "zh"
    when = when or run_date()
    compiler = compiler or (f"cfplan {package_version()}（自动生成）" if zh
                            else f"cfplan {package_version()} (generated)")
    doc = docx.Document()
    gbt9704_styles(doc)
    update_fields_on_open(doc)
    first = doc.sections[0]
    page_setup(first)
    no_page_numbers(first)
    props = doc.core_properties
    naive = when.astimezone(UTC).replace(tzinfo=None)
    props.created = props.modified = props.last_printed = naive
    props.author = props.last_modified_by = "cfplan"
    props.revision = 1
    district = layers.name if zh else layers.name_en
    props.title = (f"儿童友好城市建设目标差距报告：{district}" if zh
                   else f"Child-friendly city gap report: {district}")
    props.language = "zh-CN" if zh else "en"
    rep = _Report(doc, lang)
    _cover(rep, plan, layers, when=when, compiler=compiler)

    body = new_section(doc)
    page_numbers(doc, body, start=1)
    portrait = text_mm()
    landscape = PAGE_MM[1] - MARGINS_MM["top"] - MARGINS_MM["bottom"]
    title = doc.add_paragraph(style="Title")
    title.add_run(props.title)

    wide = side_by_side(plan, results, lang=lang)
    main = {t.id for t in plan.targets if t.section == ""}
    own = wide[(wide["origin"] != "standard") & wide["id"].isin(main)]
    rest = wide[(wide["origin"] != "standard") & ~wide["id"].isin(main)]
    std = wide[wide["origin"] == "standard"]
    all_targets = rep.annex("各项目标（现状与规划完成后）" if zh else "Every target, now and once planned",
                            lambda: _annex_targets(rep, own, rest, landscape))

    rep.heading("总体情况" if zh else "Headline")
    rep.para(_headline_text(plan, results, lang))
    head = headline_table(plan, results, lang=lang)
    rep.table("规划事项达成情况（按事项计）" if zh else "The plan's items by status (counted by item)",
              head, [label(c, lang=lang) for c in head.columns], width_mm=portrait)
    rep.para(_count_note(plan, results, lang, all_targets))

    rep.heading("分领域结论" if zh else "Conclusions by domain")
    for domain, text in domain_conclusions(plan, results, lang=lang):
        p = rep.para("")
        run = p.runs[0]  # type: ignore[attr-defined]
        run.text = f"{domain}。" if zh else f"{domain}. "
        set_run_font(run, "楷体_GB2312", bold=False)
        p.add_run(plain(text, lang=lang))  # type: ignore[attr-defined]

    _supervision(rep, plan, results, width_mm=portrait)

    summary = summary_table(layers, coverage, lang=lang)
    if not summary.empty:
        name = rep.annex(f"各{plan.subdistrict_term}汇总" if zh else "Summary by subdistrict",
                         lambda: _annex_summary(rep, summary, landscape))
        rep.heading(f"各{plan.subdistrict_term}情况" if zh else "Subdistricts")
        rep.para(f"各{plan.subdistrict_term}的设施、托位与步行可达情况见{name}。" if zh else
                 f"Facilities, childcare places and walking access by subdistrict: {name}.")
    if not std.empty:
        rep.annex("国家标准步行可达性（参考）" if zh else "National standards: walking access (reference)",
                  lambda: _targets_table(rep, "国家标准步行可达性核查" if zh else
                                         "National-standard walking checks", std,
                                         width_mm=landscape, responsible=False))

    for (heading, intro), items in advice or ():
        if not items:
            continue
        rep.heading(heading)
        rep.para(intro)
        for target, text in items:
            p = doc.add_paragraph()
            p.add_run(f"{plain(target, lang=lang)}{'：' if zh else ': '}").bold = True
            p.add_run(plain(text, lang=lang))

    if routes is not None:
        section = routes_section(routes, lang=lang)
        rep.heading(section[0].removeprefix("## "))
        rep.para(section[2])
        if not routes.hotspots.empty:
            table = hotspot_table(routes, lang=lang)
            names = _school_names(layers)
            col = "学校" if zh else "Schools"
            sep = "、" if zh else ", "
            table[col] = [sep.join(names.get(c.strip(), c.strip()) for c in
                                   str(v).replace("、", ",").split(",") if c.strip())
                          for v in table[col]]
            rep.table("上下学路径隐患点（前 10 处）" if zh else "Hotspots on the routes to school (top 10)",
                      table, list(table.columns), width_mm=portrait, font_pt=SIZE_PT["小5号"])
        rep.para(section[-2], size=SIZE_PT["小4号"])

    if figures:
        rep.heading("图" if zh else "Figures")
        width_cm = portrait / 10
        for f in figures:
            doc.add_picture(io.BytesIO(f.png), width=Cm(min(width_cm, _native_cm(f.png))))
            pic = doc.paragraphs[-1]
            pic.paragraph_format.first_line_indent = Pt(0)
            pic.paragraph_format.line_spacing_rule = WD_LINE_SPACING.SINGLE
            pic.alignment = WD_ALIGN_PARAGRAPH.CENTER
            keep_together(pic)
            rep.caption("图", f.caption)

    units = per_unit_table(layers, results, lang=lang)
    failing = units[(units["fails_current"] != "") | (units["fails_planned"] != "")]
    if not failing.empty:
        rep.annex("各单元未达标目标" if zh else "Targets failed per unit",
                  lambda: _annex_units(rep, plan, failing, landscape))
    checks = cross_check_table(plan, results, lang=lang)
    if not checks.empty:
        rep.annex("与填报数据核对" if zh else "Reported values checked against the layers",
                  lambda: rep.table("填报值与图层不一致的目标" if zh else
                                    "Targets whose reported value the layers contradict",
                                    localise(checks, lang=lang), width_mm=landscape))
    assumed = wide[wide["assumption"] != ""][["id", "wording", "assumption"]]
    if not assumed.empty:
        rep.annex("口径假设" if zh else "Assumptions",
                  lambda: rep.table("口径假设" if zh else "Assumptions",
                                    localise(assumed, lang=lang), width_mm=landscape))
    rep.annex("数据核算" if zh else "Input accounting",
              lambda: _annex_accounting(rep, layers, landscape))

    shown = list(layers.warnings if warnings is None else warnings)
    if shown:
        rep.heading("警告" if zh else "Warnings")
        for w in shown:
            rep.para(w.get(lang))
    rep.heading("附件" if zh else "Annexes")
    for i, (name, _) in enumerate(rep.annexes, start=1):
        rep.para(f"附件{i}：{name}" if zh else f"Annex {i}: {name}")

    for i, (name, build) in enumerate(rep.annexes, start=1):
        new_section(doc, landscape=True)
        p = doc.add_paragraph()
        p.paragraph_format.first_line_indent = Pt(0)
        set_run_font(p.add_run(f"附件{i}" if zh else f"Annex {i}"), "黑体")
        doc.add_heading(name, level=1).paragraph_format.first_line_indent = Pt(0)
        build()
    return doc


def _native_cm(png: bytes) -> float:
    """Return a PNG's width in cm at its own resolution (300 dpi)."""
    from PIL import Image

    image = Image.open(io.BytesIO(png))
    dpi = float(image.info.get("dpi", (300, 300))[0]) or 300.0
    return image.width / dpi * 2.54


def _school_names(layers: LayerSet) -> dict[str, str]:
    fac = layers.facilities
    if "fid" not in fac.columns:
        return {}
    return {str(c): str(n) for c, n in zip(fac["fid"], fac["name"], strict=True)
            if str(c) and str(n)}


def _headline_text(plan: Plan, results: list[Result], lang: str) -> str:
    table = headline_table(plan, results, lang=lang)
    parts = []
    for row in table.itertuples(index=False):
        if row.section != table["section"].iloc[0]:
            continue
        parts.append(f"{row.scenario}达成 {row.met} 项、部分达成 {row.partly_met} 项、未达成 "
                     f"{row.not_met} 项、未知 {row.unknown} 项" if lang == "zh" else
                     f"{row.scenario}: {row.met} met, {row.partly_met} partly met, "
                     f"{row.not_met} not met, {row.unknown} unknown")
    total = int(table["total"].iloc[0]) if len(table) else 0
    return (f"规划事项共 {total} 项：" + "；".join(parts) + "。" if lang == "zh" else
            f"The plan's {total} items: " + "; ".join(parts) + ".")


def _count_note(plan: Plan, results: list[Result], lang: str, annex: str) -> str:
    n = sum(1 for t in plan.targets if t.origin == "plan")
    now, later = (headline(results, scenario=s) for s in ("current", "planned"))
    if lang == "zh":
        return (f"上表按事项计：一项含多个分目标时，全部达成为“达成”，部分达成为“部分达成”，无一达成为"
                f"“未达成”，无未达成但有无法判断的为“未知”，缺数据不视为达成。另按分目标计（分目标共 {n} 个，"
                f"含国家标准核查与 cfplan 解读共 {now['total']} 个）：现状达成 {now['met']} 个，规划完成后达成 "
                f"{later['met']} 个；逐项见{annex}。")
    return (f"Counted by item above: an item is met when all its targets are, partly met when "
            f"some are, not met when none is, unknown when none fails but some cannot be "
            f"decided; missing data never counts as met. By target ({n} in the plan, "
            f"{now['total']} with the national standards and cfplan's readings): "
            f"{now['met']} met now, {later['met']} once planned; each in {annex}.")


def _supervision(rep: _Report, plan: Plan, results: list[Result], *, width_mm: float) -> None:
    zh = rep.zh
    table = supervision_list(plan, results, lang=rep.lang)
    rep.heading("督办清单" if zh else "Supervision list")
    rep.para("以下按牵头单位列出现状未达成或无法判断的任务、缺口与完成时限，供各单位对照推进；"
             "一项任务有多个牵头单位的，在各单位下分别列出。" if zh else
             "The tasks not met (or undecidable) now, by lead unit, with their gap and due "
             "year; a task with several lead units is listed under each.")
    if table.empty:
        rep.para("各项任务现状均已达成。" if zh else "Every task is met now.")
        return
    heads = [label("id", lang=rep.lang), Text("任务", "Task").get(rep.lang),
             tr("scenario.current", lang=rep.lang), tr("scenario.planned", lang=rep.lang),
             Text("缺口", "Gap").get(rep.lang), Text("完成时限", "Due").get(rep.lang)]
    keys = {w: k for k in STATUS_FILL if (w := status_word(k, lang=rep.lang))}
    for lead in dict.fromkeys(table["lead"]):
        rows = table[table["lead"] == lead]
        rep.heading(f"{lead}（{len(rows)} 项）" if zh else f"{lead} ({len(rows)})", level=2)
        shown = rows[["id", "title", "status_current", "status_planned", "gap", "year"]].assign(
            year=[f"{y} 年" if zh else str(y) for y in rows["year"]])
        rep.table(f"{lead}督办任务" if zh else f"Tasks of {lead}", shown, heads,
                  width_mm=width_mm,
                  statuses={2: [keys.get(v, "") for v in rows["status_current"]],
                            3: [keys.get(v, "") for v in rows["status_planned"]]})


def _annex_targets(rep: _Report, own: pd.DataFrame, rest: pd.DataFrame, width: float) -> None:
    for domain in dict.fromkeys(own["domain"]):
        _targets_table(rep, str(domain), own[own["domain"] == domain], width_mm=width)
    for section in dict.fromkeys(rest["section"]):
        _targets_table(rep, str(section), rest[rest["section"] == section], width_mm=width)


def _annex_summary(rep: _Report, summary: pd.DataFrame, width: float) -> None:
    rep.table("各办事处设施、托位与步行可达" if rep.zh else
              "Facilities, places and walking access by subdistrict",
              summary, list(summary.columns), width_mm=width)
    rep.para("x/y：有该设施的社区/村 / 社区/村总数；箭头后为规划完成后；步行可达为半径内儿童占比（现状）。"
             if rep.zh else "x/y: units with one / units; after the arrow, once planned; "
             "walk: share of children within the radius (now).", size=SIZE_PT["小4号"])


def _annex_units(rep: _Report, plan: Plan, failing: pd.DataFrame, width: float) -> None:
    zh = rep.zh
    level = {"unit": "社区/村" if zh else "unit",
             "subdistrict": plan.subdistrict_term if zh else "subdistrict"}
    shown = failing.assign(level=failing["level"].map(level)).drop(columns=["code"])
    rep.para(FAILING_RULE.get(rep.lang))
    rep.table("各社区/村与办事处未达标的目标" if zh else "Targets failed by each unit and subdistrict",
              localise(shown, lang=rep.lang), width_mm=width)


def _annex_accounting(rep: _Report, layers: LayerSet, width: float) -> None:
    from cfplan.layers.schema import SCHEMAS

    acc = layers.accounting.copy()
    if rep.zh:
        acc["layer"] = [SCHEMAS[x].zh if x in SCHEMAS else x for x in acc["layer"]]
    rep.table("各图层读取、采用与剔除的要素数" if rep.zh else "Features read, used and rejected per layer",
              localise(acc, lang=rep.lang), width_mm=width)
    rep.para("读取 = 采用 + 剔除；剔除的要素及原因见 rejected.csv。" if rep.zh else
             "read = used + rejected; rejected features and reasons: rejected.csv.",
             size=SIZE_PT["小4号"])


def write_docx(
    plan: Plan, layers: LayerSet, results: list[Result], path: str | Path, *,
    lang: str = "zh", figures: Sequence[FigureLike] = (), coverage: pd.DataFrame | None = None,
    warnings: Sequence[Text] | None = None,
    advice: Sequence[AdviceSection] | None = None,
    routes: SchoolRoutes | None = None, when: datetime | None = None,
) -> Path:
    """Write ``report.docx`` (see :func:`document`), atomically and deterministically.

    Returns
    -------
    pathlib.Path
        The path written.
    """
    when = when or run_date()
    doc = document(plan, layers, results, lang=lang, figures=figures, coverage=coverage,
                   warnings=warnings, advice=advice, routes=routes, when=when)
    buf = io.BytesIO()
    doc.save(buf)  # type: ignore[attr-defined]
    return atomic_write_bytes(path, fixed_zip(buf.getvalue(), when=when))


__all__ = ["add_table", "document", "plain", "write_docx"]
