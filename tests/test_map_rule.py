"""One rule for failing a unit: the map, gaps.geojson, units.csv, units_coverage.geojson, XLSX, DOCX.

Every output of the demo run names the same (unit, target) pairs as failing, in both
scenarios, and the reports state the rule.
"""

from __future__ import annotations

import json

import docx
import openpyxl
import pandas as pd
import pytest

from cfplan.analysis.export import FAILING_RULE
from cfplan.analysis.selection import SCENARIOS, target_key
from cfplan.maps.palette import legend_colours
from cfplan.maps.unit_status import unit_status_table

ZH_SCENARIO = {"现状未达标": "current", "规划完成后未达标": "planned"}


def ids(cell: object) -> set[str]:
    """Target ids of a units.csv / XLSX / DOCX cell: ``29 儿童之家; 标准1 幼儿园``."""
    if not isinstance(cell, str):
        return set()
    return {part.strip().split(" ", 1)[0] for part in cell.split(";") if part.strip()}


@pytest.fixture(scope="module")
def repeats(demo_run):
    return {t.id for t in demo_run.plan.targets if t.metric == "same_as"}


@pytest.fixture(scope="module")
def from_map(demo_run):
    """(scenario, unit code, target id) the map colours 未达成."""
    targets, codes, _ = unit_status_table(demo_run.plan, demo_run.layers, demo_run.results,
                                          coverage=demo_run.coverage)
    units = set(demo_run.layers.units["code"])
    return {(s, code, ut.target.id) for code, chars in codes.items() if code in units
            for ti, ut in enumerate(targets) for si, s in enumerate(SCENARIOS)
            if chars[2 * ti + si] == "N"}


def test_map_and_exports_fail_the_same_units(demo_run, demo_out, from_map, repeats):
    units = set(demo_run.layers.units["code"])
    unit_targets = {t for _, _, t in from_map}
    csv = pd.read_csv(demo_out / "units.csv", dtype=str)
    from_csv = {(s, r.code, t) for r in csv[csv["level"] == "unit"].itertuples()
                for s in SCENARIOS for t in ids(getattr(r, f"fails_{s}"))}
    cov = json.loads((demo_out / "results" / "units_coverage.geojson").read_text("utf-8"))
    from_cov = {(s, f["properties"]["code"], t) for f in cov["features"] for s in SCENARIOS
                for t in (f["properties"][f"fails_{s}"] or "").split(",") if t}
    gaps = json.loads((demo_out / "results" / "gaps.geojson").read_text("utf-8"))
    from_gaps = {(p["scenario"], p["code"], p["target_id"]) for f in gaps["features"]
                 for p in [f["properties"]] if p["code"] in units and p["target_id"] not in repeats}
    book = openpyxl.load_workbook(demo_out / "report.xlsx", read_only=True)
    rows = list(book["社区村"].iter_rows(values_only=True))
    head = list(rows[0])
    code_col = head.index("编码")
    from_xlsx = {(ZH_SCENARIO[h], r[code_col], t) for r in rows[1:] if r[code_col] in units
                 for h in ZH_SCENARIO for t in ids(r[head.index(h)])}
    doc = docx.Document(str(demo_out / "report.docx"))
    # the document names units, never by code: a unit's name is unique in the demo
    by_name = dict(zip(demo_run.layers.units["name"], demo_run.layers.units["code"],
                       strict=True))
    table = next(t for t in doc.tables if t.rows[0].cells[1].text == "名称"
                 and "现状未达标" in [c.text for c in t.rows[0].cells])
    dhead = [c.text for c in table.rows[0].cells]
    from_docx = {(ZH_SCENARIO[h], by_name[row.cells[1].text], t) for row in table.rows[1:]
                 if row.cells[1].text in by_name for h in ZH_SCENARIO
                 for t in ids(row.cells[dhead.index(h)].text)}
    # The map colours only targets judged unit by unit; the exports list the same for those.
    for name, got in (("units.csv", from_csv), ("units_coverage", from_cov),
                      ("gaps.geojson", from_gaps), ("XLSX", from_xlsx), ("DOCX", from_docx)):
        assert {x for x in got if x[2] in unit_targets} == from_map, name
        assert {x[2] for x in got} <= unit_targets | {"22b", "53"}, name
    # The walking-access standards (100% of children) fail every unit short of 100%: 朝阳社区
    # among them, as the map says.
    assert ("current", "U01", "标准1") in from_map and ("current", "U01", "标准1") in from_gaps
    # A unit failing a target met as a whole is listed too (37b: 90% of villages, 85% asked).
    assert ("current", "U36", "37b") in from_map and ("current", "U36", "37b") in from_gaps


def test_the_reports_state_the_rule(demo_out):
    md = (demo_out / "report.md").read_text("utf-8")
    assert FAILING_RULE.zh in md
    doc = docx.Document(str(demo_out / "report.docx"))
    assert any(p.text == FAILING_RULE.zh for p in doc.paragraphs)
    book = openpyxl.load_workbook(demo_out / "report.xlsx", read_only=True)
    about = [r for r in book["说明"].iter_rows(values_only=True)]
    assert any(FAILING_RULE.zh in (v or "") for r in about for v in r)


def test_walking_failures_follow_the_units_share(demo_run):
    """A unit fails a walking target exactly when its own share is below the target's."""
    cov = demo_run.coverage
    by_key = {(r.target.id, r.scenario): r for r in demo_run.results}
    for t in demo_run.plan.targets:
        if t.metric != "accessibility":
            continue
        for s in SCENARIOS:
            r = by_key[(t.id, s)]
            rows = cov[(cov["level"] == "unit") & (cov["scenario"] == s)
                       & (cov["kind"] == target_key(t))].set_index("area")[f"share_{t.population}"]
            below = {a for a, v in rows.items() if v == v and v < t.low - 1e-12}
            assert set(r.failing) == below, (t.id, s)


def test_no_two_legend_meanings_share_a_colour():
    colours = legend_colours()
    seen: dict[str, str] = {}
    for meaning, colour in colours.items():
        assert colour.lower() not in seen, (meaning, seen.get(colour.lower()))
        seen[colour.lower()] = meaning
