"""The report a bureau submits: headline, per-办事处 summary, XLSX as an office document, DOCX."""

from __future__ import annotations

import io
import re
import zipfile
from datetime import UTC, date, datetime

import docx
import pandas as pd
import pytest
from docx.enum.section import WD_ORIENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from openpyxl import load_workbook
from PIL import Image

from cfplan.analysis.report import headline_table, side_by_side, summary_table
from cfplan.analysis.report_docx import ROW_KEPT_CHARS, write_docx
from cfplan.analysis.subdistricts import subdistrict_summary

_CJK = "[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uff00-\uffef]"


def test_headline_counts_the_plans_own_items(demo_run):
    table = headline_table(demo_run.plan, demo_run.results)
    first = table.iloc[0].to_dict()
    assert first == {"scenario": "现状", "section": "规划事项", "total": 55, "met": 16,
                     "partly_met": 6, "not_met": 27, "unknown": 6}
    assert list(table["section"][:4]) == ["规划事项", "重点工程", "重大项目", "品牌活动"]


def test_report_md_has_the_bureau_sections(demo_out):
    md = (demo_out / "report.md").read_text(encoding="utf-8")
    assert "| 现状 | 规划事项 | 55 | 16 | 6 | 27 | 6 |" in md
    assert "## 国家标准步行可达性（参考）" in md and "## 各办事处汇总" in md
    assert "## 与填报数据核对" in md and "填报为「否」（未达成），但图层显示达成" in md
    assert "牵头单位" in md and "区党群工作部（妇联）" in md
    # both scenarios in the gap column, and what the planned projects close
    assert ("现状：缺 4 个儿童之家：李庄村、张湾村、陈岗村、玉兰社区；规划完成后：缺 3 个儿童之家："
            "李庄村、陈岗村、玉兰社区（规划项目补上：张湾村）") in md
    assert "⚠ 晚于目标年 2025 的规划项目：第07小学（2026 年，未计入）" in md
    assert "| 22b（cfplan 解读） |" in md
    assert "500 m（10 分钟生活圈）" in md and "(8 min)" not in md


def test_per_subdistrict_summary(demo_run):
    raw = subdistrict_summary(demo_run.layers, demo_run.coverage).set_index("name")
    wanghu = raw.loc["望湖办事处"]
    assert (wanghu["units"], wanghu["children_home"], wanghu["children_home_planned"]) == (8, 6, 7)
    assert (wanghu["protection_station"], wanghu["law_base"]) == (0, 0)
    assert wanghu["childcare_places"] == 30.0
    assert wanghu["places_per_1000"] == pytest.approx(30 / wanghu["population"] * 1000)
    baiyang = raw.loc["白杨办事处"]
    assert (baiyang["protection_station"], baiyang["protection_station_planned"]) == (0, 1)
    assert raw["units"].sum() == 36
    assert raw["childcare_places"].sum() == 1017.0  # the 8b total
    cov = demo_run.coverage
    row = cov[(cov["level"] == "subdistrict") & (cov["kind"] == "park")
              & (cov["area"] == "S5") & (cov["scenario"] == "current")].iloc[0]
    assert wanghu["walk_park"] == row["share_children"]
    shown = summary_table(demo_run.layers, demo_run.coverage).set_index("名称")
    assert shown.loc["望湖办事处", "有儿童之家的社区/村"] == "6/8 → 7/8"
    assert shown.loc["白杨办事处", "未成年人保护工作站"] == "0 → 1"
    assert "步行可达：公园" in shown.columns


def test_subdistricts_csv(demo_out):
    table = pd.read_csv(demo_out / "subdistricts.csv", encoding="utf-8-sig")
    assert list(table["code"]) == ["S1", "S2", "S3", "S4", "S5"]
    assert {"children_home", "childcare_places", "places_per_1000", "protection_station",
            "law_base", "walk_park"} <= set(table.columns)


def test_gap_column_flags_both_scenarios(demo_run):
    wide = side_by_side(demo_run.plan, demo_run.results).set_index("id")
    assert wide.loc["8b", "gap"].startswith("现状：还差 551 托位")
    assert "规划完成后：还差 491 托位" in wide.loc["8b", "gap"]
    assert wide.loc["9a", "gap"] == ""  # met in both: nothing to say
    assert wide.loc["30", "cross_check"] == "填报为「否」（未达成），但图层显示达成"


def test_xlsx_reads_like_an_office_document(demo_out):
    wb = load_workbook(demo_out / "report.xlsx")
    assert wb.sheetnames == ["总览", "目标", "目标明细", "督办清单", "办事处汇总", "社区村", "填报核对",
                             "数据核算", "说明"]
    ws = wb["目标"]
    heads = [c.value for c in ws[1]]
    assert heads[:6] == ["目标编号", "领域", "部分", "项目", "规划原文", "目标"]
    assert "牵头单位" in heads and "责任单位" in heads
    assert all(c.font.bold for c in ws[1])
    assert ws.freeze_panes == "A2"
    assert ws.auto_filter.ref == ws.dimensions
    col = heads.index("现状") + 1
    fills = {}
    for row in range(2, ws.max_row + 1):
        cell = ws.cell(row=row, column=col)
        fills.setdefault(cell.value, set()).add(cell.fill.fgColor.rgb)
    # every target of the demo is assessed now (24b by the school routes)
    assert set(fills) == {"达成", "未达成", "未知"}
    assert fills["达成"] == {"00C6EFCE"} and fills["未达成"] == {"00FFC7CE"}
    head = wb["总览"]
    assert [c.value for c in head[1]] == ["情景", "部分", "事项（项）", "达成（项）", "部分达成（项）",
                                          "未达成（项）", "未知（项）"]
    assert [c.value for c in head[2]] == ["现状", "规划事项", 55, 16, 6, 27, 6]
    # numbers are numbers, with number formats (not "80.8%" text)
    value = heads.index("现状数值") + 1
    cells = {ws.cell(row=r, column=1).value: ws.cell(row=r, column=value)
             for r in range(2, ws.max_row + 1)}
    assert cells["8a"].value == pytest.approx(21 / 26) and cells["8a"].number_format == "0.0%"
    assert cells["9a"].value == 7 and cells["9a"].number_format == "#,##0"
    assert cells["8b"].value == pytest.approx(3.894, abs=1e-3)
    assert cells["8b"].number_format == "0.00"
    assert cells["6"].value == 125.6 and cells["6"].number_format == '#,##0.0##"人"'
    assert cells["9c"].value == 1.0 and cells["9c"].number_format == "0.0%"  # reported 100%
    assert cells["2"].value == "是"
    assert not any(isinstance(c.value, str) and c.value.rstrip("%人").replace(".", "").isdigit()
                   for c in cells.values())
    # units in the headings, numbers in the cells
    sub = wb["办事处汇总"]
    sub_heads = [c.value for c in sub[1]]
    assert {"托位（个）", "每千人托位（个/千人）", "人口（人）", "托位（规划后，个）",
            "步行可达：公园（%）"} <= set(sub_heads)
    places = sub.cell(row=2, column=sub_heads.index("托位（个）") + 1)
    assert isinstance(places.value, int) and places.number_format == "#,##0"
    walk = sub.cell(row=2, column=sub_heads.index("步行可达：公园（%）") + 1)
    assert 0 <= walk.value <= 1 and walk.number_format == "0.0%"
    assert sum(sub.cell(row=r, column=sub_heads.index("托位（个）") + 1).value
               for r in range(2, sub.max_row + 1)) == 1017
    # 督办清单 sheet, with the year due as a number
    sup = wb["督办清单"]
    assert [c.value for c in sup[1]][:3] == ["牵头单位", "目标编号", "标题"]
    assert sup.cell(row=2, column=7).value == 2025
    # every sheet prints on A4 landscape, fitted to the width, header row repeated
    for sheet in wb.worksheets:
        assert sheet.page_setup.orientation == "landscape", sheet.title
        assert int(sheet.page_setup.paperSize) == 9  # A4
        assert sheet.sheet_properties.pageSetUpPr.fitToPage
        assert (sheet.page_setup.fitToWidth, sheet.page_setup.fitToHeight) == (1, 0)
        assert sheet.print_title_rows == "$1:$1"


def test_xlsx_in_english(tmp_path):
    from cfplan.pipeline import demo_assessment

    a = demo_assessment(access=False)
    a.write(tmp_path, lang="en", map=False)
    wb = load_workbook(tmp_path / "report.xlsx")
    assert wb.sheetnames[:2] == ["Headline", "Targets"]
    heads = [c.value for c in wb["Targets"][1]]
    assert heads[:3] == ["Target id", "Domain", "Part"] and "Lead unit" in heads
    col = heads.index("Status now") + 1
    values = {wb["Targets"].cell(row=r, column=col).value for r in range(2, 20)}
    assert values <= {"met", "not met", "unknown", "not assessed"}
    targets = pd.read_csv(tmp_path / "targets.csv", encoding="utf-8-sig").fillna("")
    assert not targets["value"].str.contains(_CJK).any()  # 125.6 people, not 125.6人
    named = targets[targets["target"].str.contains(_CJK)]
    assert set(named["target_id"]) == {"23b"}  # the plan's own name for the park, 蝶湖公园
    document = docx.Document(tmp_path / "report.docx")
    titles = [p.text for p in document.paragraphs if p.style.name == "Title"]
    assert titles[:2] == ["Demo district (synthetic)", "Child-friendly city gap report"]
    heads = [p.text for p in document.paragraphs if p.style.name == "Heading 1"]
    assert heads[:3] == ["1. Headline", "2. Conclusions by domain", "3. Supervision list"]


def _mm(length) -> float:
    return round(length / 36000, 1)


def test_docx_holds_the_tables_and_figures(demo_run, demo_out):
    path = demo_out / "report.docx"
    document = docx.Document(path)
    titles = [p.text for p in document.paragraphs if p.style.name == "Title"]
    assert titles[:4] == ["示范区（合成数据）", "儿童友好城市建设目标差距报告", "目　　录",
                          "儿童友好城市建设目标差距报告：示范区（合成数据）"]
    head = document.tables[0]
    rows = [[c.text for c in r.cells] for r in head.rows]
    assert rows[0] == ["情景", "部分", "事项", "达成", "部分达成", "未达成", "未知"]
    assert rows[1] == ["现状", "规划事项", "55", "16", "6", "27", "6"]
    assert rows[5] == ["规划完成后", "规划事项", "55", "18", "7", "24", "6"]
    texts = {c.text for t in document.tables for r in t.rows for c in r.cells}
    assert "区党群工作部（妇联）" in texts  # 牵头单位
    assert "6/8 → 7/8" in texts  # the per-办事处 summary (an annex)
    headings = [p.text for p in document.paragraphs if p.style.name.startswith("Heading")]
    for wanted in ("一、总体情况", "二、分领域结论", "三、督办清单", "（一）区经济发展局（1 项）",
                   "国家标准步行可达性（参考）", "各项目标（现状与规划完成后）", "数据核算"):
        assert wanted in headings, wanted
    # one headline: the plan's items; the target counts labelled as such
    body = "\n".join(p.text for p in document.paragraphs)
    assert "规划事项共 55 项：现状达成 16 项、部分达成 6 项、未达成 27 项、未知 6 项" in body
    assert "另按分目标计（分目标共" in body
    # a conclusion per domain, from the results
    assert "成长空间友好。本领域共 17 个分目标" in body
    # no emoji, no field name, no school or unit code where a name exists
    everything = body + "\n".join(texts)
    assert not re.search("[\u2600-\u27bf\U0001f300-\U0001faff]", everything)
    assert "safe_campus" not in everything and "平安校园" in everything
    assert not re.search(r"\b(U\d\d|KX\d+|PX\d+|MX\d)\b", everything)
    # statuses are words on shaded cells
    xml = zipfile.ZipFile(path).read("word/document.xml").decode()
    assert 'w:fill="FFC7CE"' in xml and 'w:fill="C6EFCE"' in xml
    # numbered captions (SEQ fields) kept with their tables and pictures; a contents field
    captions = [p for p in document.paragraphs if p.style.name == "Caption"]
    assert captions[0].text == "表1　规划事项达成情况（按事项计）"
    assert all(p.paragraph_format.keep_with_next for p in captions if p.text.startswith("表"))
    figures = [p.text for p in captions if p.text.startswith("图")]
    assert figures[0].startswith("图1　各社区/村儿童之家现状") and len(figures) == 8
    assert "SEQ 表" in xml and "SEQ 图" in xml and 'TOC \\o "1-2"' in xml
    # 督办清单: each lead unit's failing tasks with the gap and the year due
    sup = next(t for t in document.tables if t.rows[0].cells[-1].text == "完成时限"
               and any(r.cells[0].text == "29" for r in t.rows))
    row = next(r for r in sup.rows if r.cells[0].text == "29")
    assert [c.text for c in row.cells] == ["29", "推进“儿童之家”建设", "未达成", "未达成",
                                           "缺 3 个儿童之家：李庄村、陈岗村、玉兰社区", "2025 年"]
    # Figures: 儿童之家, one per failing accessibility target (6), the bars: 8 images,
    # placed at no more than the text width and at 300 dpi or more
    names = zipfile.ZipFile(path).namelist()
    images = sorted(n for n in names if n.startswith("word/media/"))
    assert len(images) == len(document.inline_shapes) == 8
    for shape in document.inline_shapes:
        assert _mm(shape.width) <= 156.0
    pngs = sorted(p.name for p in (demo_out / "figures").iterdir())
    assert pngs[0] == "access_01_kindergarten.png" and "children_home.png" in pngs
    assert len(pngs) == 8
    for png in pngs:
        image = Image.open(demo_out / "figures" / png)
        assert round(image.info["dpi"][0]) == 300
        placed_in = min(image.width / 300, 156 / 25.4)
        assert image.width / placed_in >= 299.9, png


def test_docx_follows_gbt_9704(demo_out):
    document = docx.Document(demo_out / "report.docx")
    body = document.sections[1]
    assert (_mm(body.page_width), _mm(body.page_height)) == (210.0, 297.0)
    assert [_mm(x) for x in (body.top_margin, body.bottom_margin, body.left_margin,
                             body.right_margin)] == [37.0, 35.0, 28.0, 26.0]
    styles = document.styles

    def east_asian(style):
        return style.element.rPr.find(qn("w:rFonts")).get(qn("w:eastAsia"))

    assert (east_asian(styles["Title"]), styles["Title"].font.size.pt) == ("方正小标宋简体", 22.0)
    assert (east_asian(styles["Normal"]), styles["Normal"].font.size.pt) == ("仿宋_GB2312", 16.0)
    assert east_asian(styles["Heading 1"]) == "黑体"
    fonts = zipfile.ZipFile(demo_out / "report.docx").read("word/fontTable.xml").decode()
    assert '<w:font w:name="方正小标宋简体"><w:altName w:val="宋体"/>' in fonts
    assert '<w:font w:name="仿宋_GB2312"><w:altName w:val="仿宋"/>' in fonts
    # page numbers 「— n —」: odd pages at the right, even pages at the left
    settings = document.settings.element
    assert settings.find(qn("w:evenAndOddHeaders")) is not None
    odd, even = body.footer.paragraphs[0], body.even_page_footer.paragraphs[0]
    assert odd.text == even.text == "— 1 —"
    assert (odd.alignment, even.alignment) == (WD_ALIGN_PARAGRAPH.RIGHT, WD_ALIGN_PARAGRAPH.LEFT)
    assert "PAGE" in odd._p.xml
    assert document.sections[0].footer.paragraphs[0].text == ""  # the cover: no number
    # the wide tables: landscape annex sections whose columns fit their content
    annexes = document.sections[2:]
    assert annexes and all(s.orientation == WD_ORIENT.LANDSCAPE for s in annexes)
    annex = [p.text for p in document.paragraphs if p.text.startswith("附件")]
    assert annex[0] == "附件1：各项目标（现状与规划完成后）"
    widths = [_mm(c.width) for c in document.tables[-1].columns]
    assert max(widths) > 2 * min(widths)  # not all alike
    # a row that fits a page is kept on one page; only very long ones may break
    rows = [r for t in document.tables for r in t.rows]
    short = [r for r in rows if max(len(c.text) for c in r.cells) <= ROW_KEPT_CHARS]
    assert len(short) > 0.95 * len(rows)
    assert all("<w:cantSplit/>" in r._tr.xml for r in short)


def test_docx_carries_the_run_date(demo_run, tmp_path, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1767225600")  # 2026-01-01T00:00:00Z
    path = write_docx(demo_run.plan, demo_run.layers, demo_run.results, tmp_path / "a.docx")
    document = docx.Document(path)
    assert document.core_properties.created == datetime(2026, 1, 1, tzinfo=UTC)
    assert document.core_properties.modified == datetime(2026, 1, 1, tzinfo=UTC)
    assert any(p.text == "日　　期：2026年1月1日" for p in document.paragraphs)
    again = write_docx(demo_run.plan, demo_run.layers, demo_run.results, tmp_path / "b.docx")
    assert again.read_bytes() == path.read_bytes()
    monkeypatch.delenv("SOURCE_DATE_EPOCH")
    today = date.today()
    document = docx.Document(write_docx(demo_run.plan, demo_run.layers, demo_run.results,
                                        tmp_path / "c.docx"))
    assert document.core_properties.created.date() == today


def test_docx_and_figures_are_deterministic(demo_run, demo_out, tmp_path):
    again = demo_run.write_document(tmp_path)
    for path in again:
        rel = path.relative_to(tmp_path)
        assert path.read_bytes() == (demo_out / rel).read_bytes(), rel
    png = (demo_out / "figures" / "children_home.png").read_bytes()
    info = Image.open(io.BytesIO(png)).info
    assert "Software" not in info and not any("date" in k.lower() for k in info)


def test_docx_without_figures_or_coverage(demo_run, tmp_path):
    path = write_docx(demo_run.plan, demo_run.layers, demo_run.results, tmp_path / "r.docx")
    document = docx.Document(path)
    assert len(document.inline_shapes) == 0
    assert document.tables[0].rows[1].cells[2].text == "55"
    assert not any(p.text.startswith("图1") for p in document.paragraphs)


def test_missing_cjk_font_fails_clearly(monkeypatch):
    from matplotlib import font_manager

    from cfplan.maps import figures

    monkeypatch.setattr(figures, "packaged_font", lambda: None)  # the package uninstalled
    monkeypatch.setattr(font_manager.fontManager, "ttflist", [])
    monkeypatch.setattr(font_manager, "findSystemFonts", lambda *a, **k: [])
    with pytest.raises(figures.FontMissingError) as err:
        figures.cjk_font()
    assert "pip install noto-cjk-sans-otc" in err.value.message(lang="zh")
    assert "No CJK font" in err.value.message(lang="en")


def test_a_figure_that_cannot_be_drawn_never_stops_the_report(demo_run, tmp_path, monkeypatch):
    from cfplan.maps import figures

    def broken(*args, **kwargs):
        raise RuntimeError("drawing failed")

    monkeypatch.setattr(figures, "children_home_figure", broken)
    files = demo_run.write_document(tmp_path / "one")
    names = sorted(p.name for p in files)
    assert "report.docx" in names and "children_home.png" not in names
    assert len([n for n in names if n.endswith(".png")]) == 7
    text = "\n".join(p.text for p in docx.Document(tmp_path / "one" / "report.docx").paragraphs)
    assert "插图「各社区/村儿童之家」无法绘制，已略去：RuntimeError: drawing failed" in text
    # no Chinese font at all: no figure, and the report is still written, saying why
    monkeypatch.setattr(figures, "cjk_font", lambda: (_ for _ in ()).throw(
        figures.FontMissingError()))
    files = demo_run.write_document(tmp_path / "none")
    assert [p.name for p in files] == ["report.docx"]
    text = "\n".join(p.text for p in docx.Document(files[0]).paragraphs)
    assert "没有找到中文字体" in text
