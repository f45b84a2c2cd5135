"""Hostile text in every field that reaches a report is written as inert text, never run."""

from __future__ import annotations

import csv
import io
import json

import openpyxl
import pytest
from conftest import make_folder

from cfplan.cli import main
from cfplan.geo.io import FORMULA_PREFIXES, neutralise_formulas

HOSTILE = {
    "formula": '=HYPERLINK("http://x","click")',
    "sum": "=1+1",
    "plus": "+cmd|' /C calc'!A0",
    "minus": "-2+3",
    "at": "@SUM(1,2)",
    "html": "<img src=x onerror=alert(1)>",
    "script": '"><script>alert(1)</script>',
    "markdown": "[click](javascript:alert(1)) **bold** | cell",
}


@pytest.fixture(scope="module")
def hostile_run(tmp_path_factory):
    """A district whose unit, subdistrict and facility names are all hostile."""
    tmp = tmp_path_factory.mktemp("hostile")
    names = list(HOSTILE.values())
    units = [{"code": f"U{i}", "name": names[i], "sd": "S1" if i < 5 else "S2", "pop": 1000,
              "kids": 200, "box": (i * 300, 0, i * 300 + 300, 300)} for i in range(len(names))]
    subdistricts = [{"code": "S1", "name": HOSTILE["formula"], "box": (0, 0, 1500, 300)},
                    {"code": "S2", "name": HOSTILE["html"], "box": (1500, 0, 2700, 300)}]
    facilities = [{"编号": f"F{i}", "名称": name, "类别": "儿童之家", "状态": "现状",
                   "x": i * 300 + 150, "y": 150} for i, name in enumerate(names[:4])]
    folder = make_folder(tmp / "layers", units, facilities, subdistricts)
    out = tmp / "out"
    assert main(["run", "--layers", str(folder), "--plan", "jingkai", "--out", str(out),
                 "--no-access"]) == 0
    return out


def test_xlsx_holds_no_formula_and_keeps_the_text(hostile_run):
    wb = openpyxl.load_workbook(hostile_run / "report.xlsx")
    seen = set()
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (ws.title, cell.coordinate, cell.value)
                if isinstance(cell.value, str) and cell.value in HOSTILE.values():
                    seen.add(cell.value)
                    if cell.value.startswith(FORMULA_PREFIXES):
                        assert cell.quotePrefix, (ws.title, cell.coordinate)
    # every hostile unit name reaches the workbook (units sheet), as literal text
    assert seen == set(HOSTILE.values())


@pytest.mark.parametrize("name", ["units.csv", "targets.csv", "accounting.csv", "rejected.csv"])
def test_csv_cells_never_start_a_formula(hostile_run, name):
    text = (hostile_run / name).read_text(encoding="utf-8-sig")
    for row in csv.reader(io.StringIO(text)):
        for cell in row:
            assert not cell.startswith(FORMULA_PREFIXES), (name, cell)


def test_units_csv_keeps_the_names_behind_a_quote(hostile_run):
    rows = list(csv.DictReader(io.StringIO(
        (hostile_run / "units.csv").read_text(encoding="utf-8-sig"))))
    names = {r["name"] for r in rows}
    assert "'=1+1" in names and "'@SUM(1,2)" in names and HOSTILE["html"] in names


def test_markdown_carries_no_live_html_or_links(hostile_run):
    md = (hostile_run / "report.md").read_text(encoding="utf-8")
    assert "<img" not in md and "<script" not in md
    assert "&lt;img src=x onerror=alert(1)&gt;" in md
    assert "\\[click\\](javascript" in md and "[click](" not in md.replace("\\[click\\](", "")
    assert "http://x" not in md  # no autolink either
    for line in md.splitlines():  # a name with | never splits a table row
        if line.startswith("| U") and "cell" in line:
            assert "\\| cell" in line


def test_geojson_keeps_names_exactly(hostile_run):
    data = json.loads((hostile_run / "layers" / "units.geojson").read_text(encoding="utf-8"))
    assert {f["properties"]["name"] for f in data["features"]} == set(HOSTILE.values())


def test_map_escapes_every_name(hostile_run):
    html = (hostile_run / "map.html").read_text(encoding="utf-8")
    assert "<img src=x onerror=alert(1)>" not in html
    assert "<script>alert(1)</script>" not in html


def test_neutralise_formulas_only_touches_text_that_acts():
    import pandas as pd

    df = pd.DataFrame({"a": ["=1", "ok", "-x", "\t=1", None], "n": [-1.0, 2.0, 3.0, 4.0, 5.0]})
    out = neutralise_formulas(df)
    assert out["a"].tolist()[:4] == ["'=1", "ok", "'-x", "'\t=1"] and out["n"].tolist()[0] == -1.0
