"""Word layout of Chinese official documents (GB/T 9704-2012) for python-docx documents.

A4 with margins of 37 / 35 / 28 / 26 mm (top, bottom, left, right); title in 2号 小标宋,
body in 3号 仿宋 with a fixed 28 pt line; headings in 黑体 / 楷体 / 仿宋 bold; page
numbers 「— 1 —」 in 4号 at the outer bottom corner (odd pages right, even pages left).
East Asian font names are set on every style (``w:eastAsia``) and each has the name of a
font that every Chinese Office has as its fallback (``w:altName`` in the font table), so
that Word on a Chinese PC uses them. Fields (contents, page numbers, caption numbers) carry
their current result, so the file reads right before Word updates it.
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Sequence

from docx.enum.section import WD_ORIENT, WD_SECTION
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt

# GB/T 9704-2012 §5.2.1 and §7: the page, the fonts and their sizes (号 → points).
PAGE_MM = (210.0, 297.0)
MARGINS_MM = {"top": 37.0, "bottom": 35.0, "left": 28.0, "right": 26.0}
SIZE_PT = {"2号": 22.0, "3号": 16.0, "4号": 14.0, "小4号": 12.0, "5号": 10.5, "小5号": 9.0}
LINE_PT = 28.0  # 22 lines of 28 characters on the page
TITLE_FONT = "方正小标宋简体"
BODY_FONT = "仿宋_GB2312"
HEADING_FONTS = ("黑体", "楷体_GB2312", BODY_FONT)
LATIN_FONT = "Times New Roman"
PAGE_NUMBER_FONT = "宋体"
# Fonts Chinese Office always has, used when the named font is not installed.
FALLBACKS = {TITLE_FONT: "宋体", BODY_FONT: "仿宋", "楷体_GB2312": "楷体", "黑体": "SimHei",
             "宋体": "SimSun"}
TABLE_PT = SIZE_PT["5号"]


def text_mm() -> float:
    """Return the width of the text block of a portrait page (mm)."""
    return PAGE_MM[0] - MARGINS_MM["left"] - MARGINS_MM["right"]


def _fonts(rpr: object, east_asian: str, *, latin: str = LATIN_FONT) -> None:
    fonts = rpr.find(qn("w:rFonts"))  # type: ignore[attr-defined]
    if fonts is None:
        fonts = OxmlElement("w:rFonts")
        rpr.insert(0, fonts)  # type: ignore[attr-defined]
    for attr, value in (("w:ascii", latin), ("w:hAnsi", latin), ("w:cs", latin),
                        ("w:eastAsia", east_asian)):
        fonts.set(qn(attr), value)


def set_run_font(run: object, east_asian: str, *, size: float | None = None,
                 bold: bool | None = None) -> None:
    """Set a run's East Asian and Latin fonts, size (pt) and weight."""
    _fonts(run._element.get_or_add_rPr(), east_asian)  # type: ignore[attr-defined]
    if size is not None:
        run.font.size = Pt(size)  # type: ignore[attr-defined]
    if bold is not None:
        run.font.bold = bold  # type: ignore[attr-defined]


def _style(doc: object, name: str, east_asian: str, size: float, *, bold: bool = False,
           align: int | None = None, indent: bool = False, exact: bool = True) -> None:
    try:
        style = doc.styles[name]  # type: ignore[attr-defined]
    except KeyError:
        return
    style.font.name = LATIN_FONT
    style.font.size = Pt(size)
    style.font.bold = bold
    style.font.italic = False
    style.font.color.rgb = None
    _fonts(style.element.get_or_add_rPr(), east_asian)
    fmt = style.paragraph_format
    if exact:
        fmt.line_spacing_rule = WD_LINE_SPACING.EXACTLY
        fmt.line_spacing = Pt(LINE_PT)
    fmt.space_before = Pt(0)
    fmt.space_after = Pt(0)
    fmt.first_line_indent = Pt(size * 2) if indent else Pt(0)
    if align is not None:
        fmt.alignment = align


def gbt9704_styles(doc: object) -> None:
    """Set the styles of ``doc`` to GB/T 9704: title, body, headings, captions, tables.

    Body (``Normal``) 3号 仿宋 with a two-character first-line indent and a fixed 28 pt
    line; ``Title`` 2号 小标宋 centred; ``Heading 1`` 3号 黑体, ``Heading 2`` 3号 楷体,
    ``Heading 3`` 3号 仿宋 bold; ``Caption`` 4号 黑体 centred; list bullets and table text
    in the body font.
    """
    _style(doc, "Normal", BODY_FONT, SIZE_PT["3号"], indent=True,
           align=WD_ALIGN_PARAGRAPH.JUSTIFY)
    _style(doc, "Title", TITLE_FONT, SIZE_PT["2号"], align=WD_ALIGN_PARAGRAPH.CENTER,
           exact=False)
    for level, font in enumerate(HEADING_FONTS, start=1):
        _style(doc, f"Heading {level}", font, SIZE_PT["3号"], bold=level == 3, indent=True)
        doc.styles[f"Heading {level}"].paragraph_format.keep_with_next = True  # type: ignore[attr-defined]
    _style(doc, "Caption", "黑体", SIZE_PT["4号"], align=WD_ALIGN_PARAGRAPH.CENTER)
    _style(doc, "List Bullet", BODY_FONT, SIZE_PT["3号"])
    _style(doc, "Table Grid", BODY_FONT, TABLE_PT, exact=False)
    title = doc.styles["Title"]  # type: ignore[attr-defined]
    title.paragraph_format.space_after = Pt(LINE_PT)
    # the title's bottom border of python-docx's template is not in GB/T 9704
    ppr = title.element.get_or_add_pPr()
    for border in ppr.findall(qn("w:pBdr")):
        ppr.remove(border)
    defaults = doc.styles.element.find(qn("w:docDefaults"))  # type: ignore[attr-defined]
    if defaults is not None:
        rpr = defaults.find(qn("w:rPrDefault") + "/" + qn("w:rPr"))
        if rpr is not None:
            _fonts(rpr, BODY_FONT)
            lang = rpr.find(qn("w:lang"))
            if lang is None:
                lang = OxmlElement("w:lang")
                rpr.append(lang)
            lang.set(qn("w:eastAsia"), "zh-CN")
    _font_fallbacks(doc)


def _font_fallbacks(doc: object) -> None:
    """Declare each Chinese font with the name of a font every Chinese Office has (``altName``)."""
    from docx.opc.constants import RELATIONSHIP_TYPE as RT
    from lxml import etree

    part = doc.part  # type: ignore[attr-defined]
    table = next((r.target_part for r in part.rels.values() if r.reltype == RT.FONT_TABLE),
                 None)
    if table is None:
        return
    root = etree.fromstring(table.blob)
    have = {f.get(qn("w:name")) for f in root.findall(qn("w:font"))}
    for name, alt in FALLBACKS.items():
        if name in have:
            continue
        font = etree.SubElement(root, qn("w:font"), {qn("w:name"): name})
        etree.SubElement(font, qn("w:altName"), {qn("w:val"): alt})
        etree.SubElement(font, qn("w:charset"), {qn("w:val"): "86"})  # GB2312
        etree.SubElement(font, qn("w:family"), {qn("w:val"): "roman" if "宋" in name
                                                 else "modern"})
    table._blob = etree.tostring(root, xml_declaration=True, encoding="UTF-8",
                                 standalone=True)


def page_setup(section: object, *, landscape: bool = False) -> None:
    """Set a section to A4 with the GB/T 9704 margins (turned for a landscape page)."""
    w, h = PAGE_MM
    m = MARGINS_MM
    if landscape:
        section.orientation = WD_ORIENT.LANDSCAPE  # type: ignore[attr-defined]
        section.page_width, section.page_height = Mm(h), Mm(w)  # type: ignore[attr-defined]
        # the page turned: the binding edge (left) becomes the top
        section.top_margin, section.bottom_margin = Mm(m["left"]), Mm(m["right"])  # type: ignore[attr-defined]
        section.left_margin, section.right_margin = Mm(m["top"]), Mm(m["bottom"])  # type: ignore[attr-defined]
    else:
        section.orientation = WD_ORIENT.PORTRAIT  # type: ignore[attr-defined]
        section.page_width, section.page_height = Mm(w), Mm(h)  # type: ignore[attr-defined]
        section.top_margin, section.bottom_margin = Mm(m["top"]), Mm(m["bottom"])  # type: ignore[attr-defined]
        section.left_margin, section.right_margin = Mm(m["left"]), Mm(m["right"])  # type: ignore[attr-defined]
    section.footer_distance = Mm(28 - 7)  # type: ignore[attr-defined]  # 页码 7 mm under the text


def new_section(doc: object, *, landscape: bool = False) -> object:
    """Start a new section on a new page, A4 portrait or landscape; returns it."""
    section = doc.add_section(WD_SECTION.NEW_PAGE)  # type: ignore[attr-defined]
    page_setup(section, landscape=landscape)
    for restart in section._sectPr.findall(qn("w:pgNumType")):
        section._sectPr.remove(restart)  # numbering runs on
    return section


def add_field(paragraph: object, instruction: str, result: str = "") -> object:
    """Append a field (``PAGE``, ``TOC …``, ``SEQ 表``) with its current ``result``; returns the result run."""
    def fld(kind: str) -> object:
        run = paragraph.add_run()  # type: ignore[attr-defined]
        char = OxmlElement("w:fldChar")
        char.set(qn("w:fldCharType"), kind)
        if kind == "begin":
            char.set(qn("w:dirty"), "true")  # Word updates it on opening
        run._r.append(char)
        return run

    fld("begin")
    instr = paragraph.add_run()  # type: ignore[attr-defined]
    text = OxmlElement("w:instrText")
    text.set(qn("xml:space"), "preserve")
    text.text = f" {instruction} "
    instr._r.append(text)
    fld("separate")
    shown = paragraph.add_run(result)  # type: ignore[attr-defined]
    fld("end")
    return shown


def page_numbers(doc: object, section: object, *, start: int | None = None) -> None:
    """Give a section GB/T 9704 page numbers: 「— n —」, 4号 宋体, odd right, even left.

    Odd pages (the default footer) carry the number at the right, even pages at the left,
    each a quarter em in from the edge of the text; ``start`` restarts the numbering.
    """
    settings = doc.settings.element  # type: ignore[attr-defined]
    if settings.find(qn("w:evenAndOddHeaders")) is None:
        settings.append(OxmlElement("w:evenAndOddHeaders"))
    for footer, align in ((section.footer, WD_ALIGN_PARAGRAPH.RIGHT),  # type: ignore[attr-defined]
                          (section.even_page_footer, WD_ALIGN_PARAGRAPH.LEFT)):  # type: ignore[attr-defined]
        footer.is_linked_to_previous = False
        p = footer.paragraphs[0]
        for run in list(p.runs):
            run._r.getparent().remove(run._r)
        p.alignment = align
        fmt = p.paragraph_format
        fmt.first_line_indent = Pt(0)
        pad = Pt(SIZE_PT["4号"])
        fmt.right_indent, fmt.left_indent = (pad, Pt(0)) if align == WD_ALIGN_PARAGRAPH.RIGHT \
            else (Pt(0), pad)
        for piece in ("— ", None, " —"):
            run = add_field(p, "PAGE", "1") if piece is None else p.add_run(piece)
            set_run_font(run, PAGE_NUMBER_FONT, size=SIZE_PT["4号"])
    if start is not None:
        sect = section._sectPr  # type: ignore[attr-defined]
        num = sect.find(qn("w:pgNumType"))
        if num is None:
            num = OxmlElement("w:pgNumType")
            sect.append(num)
        num.set(qn("w:start"), str(start))


def no_page_numbers(section: object) -> None:
    """Give a section empty footers (the cover and the contents carry no number)."""
    for footer in (section.footer, section.even_page_footer):  # type: ignore[attr-defined]
        footer.is_linked_to_previous = False
        for p in footer.paragraphs:
            for run in list(p.runs):
                run._r.getparent().remove(run._r)


def update_fields_on_open(doc: object) -> None:
    """Ask Word to update the fields (contents, page numbers) when the file is opened."""
    settings = doc.settings.element  # type: ignore[attr-defined]
    if settings.find(qn("w:updateFields")) is None:
        update = OxmlElement("w:updateFields")
        update.set(qn("w:val"), "true")
        settings.append(update)


def display_width(text: str) -> int:
    """Return the width of ``text`` in half-width characters (CJK and full-width count 2)."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def column_widths(columns: Sequence[Sequence[str]], total: float, *, font_pt: float = TABLE_PT,
                  pad_mm: float = 4.6, short_chars: int = 16) -> list[float]:
    """Return column widths (mm) that fit their content into ``total`` mm.

    Each column wants the width of its longer cells at ``font_pt`` (the longest, or the
    90th percentile when a few cells are much longer: those wrap) plus the cell padding;
    a heading may wrap onto two lines. When all fit, the spare room is shared in
    proportion. When not, short columns (up to ``short_chars`` half-width characters)
    keep their text on one line, and the long ones share the rest in proportion to the
    square root of what they want, so that long text wraps in the widest columns.

    Returns
    -------
    list of float
        One width per column (mm), summing to ``total``.
    """
    half_mm = font_pt / 2 * 25.4 / 72  # a half-width character
    want = []
    for cells in columns:
        head, *body = [str(c) for c in cells] or [""]
        sizes = sorted(display_width(c) for c in body) or [0]
        typical = sizes[min(len(sizes) - 1, math.ceil(0.9 * len(sizes)) - 1)]
        chars = max(math.ceil(display_width(head) / 2), 4, typical)
        want.append(chars * half_mm * 1.15 + pad_mm)
    if sum(want) <= total:
        return [w * total / sum(want) for w in want]
    short = short_chars * half_mm + pad_mm
    widths = [w if w <= short else 0.0 for w in want]
    long = {i for i, w in enumerate(want) if w > short}
    while long:
        room = total - sum(widths[i] for i in range(len(want)) if i not in long)
        weight = sum(math.sqrt(want[i]) for i in long)
        share = {i: room * math.sqrt(want[i]) / weight for i in long}
        tight = {i for i in long if share[i] < short}
        if not tight:
            for i in long:
                widths[i] = share[i]
            break
        for i in tight:
            widths[i] = short
        long -= tight
    if sum(widths) > total + 1e-6:  # too many columns even for short widths
        widths = [w * total / sum(widths) for w in widths]
    return widths


def set_table_widths(table: object, widths_mm: Sequence[float]) -> None:
    """Fix a table's column widths (mm): grid columns and every cell, no autofit."""
    table.autofit = False  # type: ignore[attr-defined]
    tbl = table._tbl  # type: ignore[attr-defined]
    tblpr = tbl.tblPr
    layout = tblpr.find(qn("w:tblLayout"))
    if layout is None:
        layout = OxmlElement("w:tblLayout")
        tblpr.append(layout)
    layout.set(qn("w:type"), "fixed")
    width = tblpr.find(qn("w:tblW"))
    if width is None:
        width = OxmlElement("w:tblW")
        tblpr.append(width)
    width.set(qn("w:type"), "dxa")
    width.set(qn("w:w"), str(int(Mm(sum(widths_mm)).twips)))
    for col, w in zip(table.columns, widths_mm, strict=True):  # type: ignore[attr-defined]
        col.width = Mm(w)
        for cell in col.cells:
            cell.width = Mm(w)


def keep_together(paragraph: object) -> None:
    """Keep a paragraph on the page of the one after it (captions, pictures)."""
    paragraph.paragraph_format.keep_with_next = True  # type: ignore[attr-defined]


def shade(cell: object, fill: str) -> None:
    """Fill a table cell with a colour (hex RGB)."""
    tcpr = cell._tc.get_or_add_tcPr()  # type: ignore[attr-defined]
    for old in tcpr.findall(qn("w:shd")):
        tcpr.remove(old)
    shd = OxmlElement("w:shd")
    shd.set(qn("w:val"), "clear")
    shd.set(qn("w:color"), "auto")
    shd.set(qn("w:fill"), fill)
    tcpr.append(shd)


def repeat_header(row: object) -> None:
    """Repeat a table row at the top of each page the table runs onto."""
    trpr = row._tr.get_or_add_trPr()  # type: ignore[attr-defined]
    header = OxmlElement("w:tblHeader")
    header.set(qn("w:val"), "true")
    trpr.append(header)


def no_split(row: object) -> None:
    """Keep a table row on one page."""
    trpr = row._tr.get_or_add_trPr()  # type: ignore[attr-defined]
    trpr.append(OxmlElement("w:cantSplit"))


__all__ = ["BODY_FONT", "MARGINS_MM", "SIZE_PT", "TABLE_PT", "TITLE_FONT",
           "add_field", "column_widths", "display_width", "gbt9704_styles", "keep_together",
           "new_section", "no_page_numbers", "no_split", "page_numbers", "page_setup",
           "repeat_header", "set_run_font", "set_table_widths", "shade", "text_mm",
           "update_fields_on_open"]
