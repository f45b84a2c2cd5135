"""Hand-worked cases for every metric kind, edges included."""

from __future__ import annotations

import pandas as pd
import pytest
from conftest import make_folder

from cfplan.analysis.evaluate import EVALUATORS, Context
from cfplan.analysis.plan import Filters, Target
from cfplan.layers.load import load_layers

UNITS = [
    {"code": "U1", "name": "甲社区", "type": "社区", "sd": "S1", "pop": 4000, "kids": 800,
     "box": (0, 0, 1000, 1000)},
    {"code": "U2", "name": "乙社区", "type": "社区", "sd": "S1", "pop": 6000, "kids": 1000,
     "box": (1000, 0, 2000, 1000)},
    {"code": "U3", "name": "丙村", "type": "村", "sd": "S2", "pop": 2000, "kids": 400,
     "box": (2000, 0, 3000, 1000)},
]
SUBDISTRICTS = [{"code": "S1", "name": "东办事处", "box": (0, 0, 2000, 1000)},
                {"code": "S2", "name": "西镇", "box": (2000, 0, 3000, 1000)}]
FACILITIES = [
    {"编号": "CH1", "名称": "甲儿童之家", "类别": "儿童之家", "状态": "现状", "x": 500, "y": 500},
    # On the U1/U2 border: it belongs to the unit with the smaller code, U1.
    {"编号": "CH2", "名称": "界上儿童之家", "类别": "儿童之家", "状态": "现状", "x": 1000, "y": 500},
    {"编号": "CH3", "名称": "丙儿童之家", "类别": "儿童之家", "状态": "规划", "x": 2500, "y": 500},
    {"编号": "PK1", "名称": "新公园", "类别": "公园", "状态": "新建", "年份": 2024, "儿童友好": "是",
     "x": 1500, "y": 300},
    {"编号": "PK2", "名称": "改公园", "类别": "公园", "状态": "改建", "年份": 2024, "x": 1500, "y": 700},
    {"编号": "PK3", "名称": "老公园", "类别": "公园", "状态": "现状", "年份": 2010, "儿童友好": "是",
     "x": 300, "y": 300},
    {"编号": "TY1", "名称": "托1", "类别": "托育", "状态": "现状", "托位": "30", "x": 200, "y": 800},
    {"编号": "TY2", "名称": "托2", "类别": "托育", "状态": "现状", "托位": "15人", "x": 1200, "y": 800},
    {"编号": "TY3", "名称": "托3", "类别": "托育", "状态": "现状", "托位": "１０", "x": 1300, "y": 800},
    {"编号": "PS1", "名称": "保护站", "类别": "未成年人保护工作站", "状态": "现状", "x": 600, "y": 600},
    {"编号": "PU1", "名称": "公厕1", "类别": "公共空间", "状态": "现状", "适儿化卫生间": "是", "x": 100, "y": 100},
    {"编号": "PU2", "名称": "公厕2", "类别": "公共空间", "状态": "现状", "适儿化卫生间": "否", "x": 1100, "y": 100},
    {"编号": "PU3", "名称": "公厕3", "类别": "公共空间", "状态": "现状", "x": 2100, "y": 100},
]
INDICATORS = """plan,id,indicator,value
t,w,workers,157
t,m,mortality,3.0
t,b,council,否
t,e,empty,
t,x,garbage,很多
"""


@pytest.fixture(scope="module")
def layers(tmp_path_factory):
    folder = make_folder(tmp_path_factory.mktemp("hand"), UNITS, FACILITIES, SUBDISTRICTS,
                         indicators=INDICATORS)
    return load_layers(folder)


def tgt(metric: str, target, **kw) -> Target:
    return Target(id=kw.pop("id", "t1"), domain="成长空间友好", item="1", title="", wording="",
                  metric=metric, year=2025, target=target, **kw)


def ev(t: Target, layers, scenario="current", indicators=None):
    return EVALUATORS[t.metric](t, Context(layers, scenario, indicators, None, "t"))


def test_border_facility_goes_to_smaller_code(layers):
    fac = layers.facilities.set_index("fid")
    assert fac.loc["CH2", "unit"] == "U1"
    assert fac.loc["CH3", "unit"] == "U3"


def test_presence_per_unit_both_scenarios(layers):
    t = tgt("presence_per_unit", 1.0, kinds=("children_home",))
    cur, plan = ev(t, layers), ev(t, layers, "planned")
    assert (cur.status, cur.value, cur.failing) == ("not_met", pytest.approx(1 / 3), ("U2", "U3"))
    assert cur.shortfall.zh == "缺 2 个儿童之家：乙社区、丙村"
    assert (plan.status, plan.value, plan.failing) == ("not_met", pytest.approx(2 / 3), ("U2",))
    assert cur.needed == 2 and plan.needed == 1


def test_presence_unit_filter_and_empty_unit(layers):
    village = tgt("presence_per_unit", 1.0, kinds=("children_home",), unit_types=("village",))
    assert ev(village, layers).status == "not_met"  # U3 has only a planned one
    assert ev(village, layers, "planned").status == "met"
    share = tgt("presence_per_unit", 0.5, kinds=("children_home",), unit_types=("community",))
    r = ev(share, layers)
    assert (r.status, r.value) == ("met", 0.5)
    assert r.shortfall.zh == ""


def test_presence_at_subdistrict_level(layers):
    t = tgt("presence_per_unit", 1.0, kinds=("protection_station",), unit_level="subdistrict")
    r = ev(t, layers)
    assert (r.status, r.value, r.failing) == ("not_met", 0.5, ("S2",))
    assert r.shortfall.zh == "缺 1 个未成年人保护工作站：西镇"


def test_presence_with_no_units_of_that_type_is_unknown(layers):
    t = tgt("presence_per_unit", 1.0, kinds=("children_home",), unit_level="subdistrict",
            unit_types=("town",))
    assert ev(t, layers).status == "unknown"  # no subdistrict is typed 镇 (type column absent)


def test_count_range_with_missing_flag_is_unknown(layers):
    f = Filters(child_friendly=True, statuses=("new", "renovated"), since=2023)
    r = ev(tgt("count", (2.0, 3.0), kinds=("park",), filters=f), layers)
    # PK1 surely counts; PK2 might (its child-friendly flag is missing); PK3 is too old.
    assert (r.status, r.value) == ("unknown", 1.0)
    assert ev(tgt("count", 1.0, kinds=("park",), filters=f), layers).status == "met"
    r = ev(tgt("count", 3.0, kinds=("park",), filters=f), layers)
    assert (r.status, r.needed) == ("not_met", 2.0)
    assert r.shortfall.zh == "还差 2 个公园（现 1 个）"


def test_count_at_most(layers):
    r = ev(tgt("count", 2.0, kinds=("children_home",), direction="at_most"), layers)
    assert (r.status, r.value) == ("met", 2.0)
    r = ev(tgt("count", 2.0, kinds=("children_home",), direction="at_most"), layers, "planned")
    assert (r.status, r.value) == ("not_met", 3.0)


def test_per_capita_places_per_thousand(layers):
    t = tgt("per_capita", 6.0, kinds=("childcare",), capacity_field="capacity", per=1000.0)
    r = ev(t, layers)
    # 30 + 15 + 10 places ("15人" and full-width "１０" are repaired) for 12,000 residents.
    assert r.value == pytest.approx(55 / 12000 * 1000)
    assert (r.status, r.needed) == ("not_met", 17.0)
    children = tgt("per_capita", 20.0, kinds=("childcare",), capacity_field="capacity",
                   per=1000.0, population="children")
    assert ev(children, layers).value == pytest.approx(55 / 2200 * 1000)
    assert ev(children, layers).status == "met"


def test_capacity_per_unit(layers):
    t = tgt("capacity_per_unit", 1.0, kinds=("childcare",), unit_types=("community",),
            capacity_field="capacity", capacity=20.0)
    assert ev(t, layers).status == "met"  # U1 30, U2 15 + 10
    t = tgt("capacity_per_unit", 1.0, kinds=("childcare",), unit_types=("community",),
            capacity_field="capacity", capacity=26.0)
    r = ev(t, layers)
    assert (r.status, r.value, r.failing) == ("not_met", 0.5, ("U2",))
    assert r.shortfall.zh == "1 个社区不足 26 托位：乙社区(25)"
    every = tgt("capacity_per_unit", 1.0, kinds=("childcare",), capacity_field="capacity",
                capacity=20.0)
    assert ev(every, layers).failing == ("U3",)  # the empty unit


def test_attribute_share_with_missing_values(layers):
    t = tgt("attribute_share", 1.0, kinds=("public_space",), attribute="child_toilet")
    r = ev(t, layers)
    assert (r.status, r.value) == ("not_met", pytest.approx(1 / 3))  # even if PU3 had one
    t = tgt("attribute_share", 0.5, kinds=("public_space",), attribute="child_toilet")
    assert ev(t, layers).status == "unknown"  # 1/3 for sure, 2/3 if PU3 has one
    t = tgt("attribute_share", 0.3, kinds=("public_space",), attribute="child_toilet")
    assert ev(t, layers).status == "met"  # 1/3 even if PU3 has none
    none = tgt("attribute_share", 1.0, kinds=("library",), attribute="child_toilet")
    assert ev(none, layers).status == "unknown"


def test_indicators(layers):
    from cfplan.analysis.indicators import read_indicators

    table = read_indicators(layers.indicators)
    num = tgt("indicator", 157.0, id="w", indicator="workers", unit="人")
    assert ev(num, layers, indicators=table).status == "met"
    rate = tgt("indicator", 2.5, id="m", indicator="mortality", unit="‰", direction="at_most")
    r = ev(rate, layers, indicators=table)
    assert (r.status, r.value, r.shortfall.zh) == ("not_met", 3.0, "差 0.5‰")
    yes = tgt("indicator", True, id="b", indicator="council", value_type="boolean")
    assert ev(yes, layers, indicators=table).status == "not_met"
    blank = tgt("indicator", 1.0, id="e", indicator="empty")
    assert ev(blank, layers, indicators=table).status == "unknown"
    bad = tgt("indicator", 1.0, id="x", indicator="garbage")
    assert ev(bad, layers, indicators=table).status == "unknown"
    assert ev(num, layers, indicators=None).status == "unknown"
    other = pd.DataFrame({"plan": ["t"], "id": ["zz"], "indicator": ["zz"], "value": ["1"]})
    assert ev(num, layers, indicators=other).status == "unknown"


def test_attribute_share_uncertain_selection(tmp_path):
    """A facility whose status is unknown may or may not count: bound the share both ways."""
    units = [{"code": "U1", "name": "甲", "box": (0, 0, 1000, 1000)}]
    fac = [{"编号": f"P{i}", "名称": f"p{i}", "类别": "公共空间", "状态": "现状",
            "适儿化卫生间": "是", "x": 100 * i, "y": 100} for i in range(1, 4)]
    fac.append({"编号": "P9", "名称": "p9", "类别": "公共空间", "适儿化卫生间": "否", "x": 900,
                "y": 100})
    lay = load_layers(make_folder(tmp_path / "u", units, fac))
    t = tgt("attribute_share", 1.0, kinds=("public_space",), attribute="child_toilet")
    r = ev(t, lay)
    # 3/3 if P9 is not built yet, 3/4 if it is: cannot be decided.
    assert (r.status, r.value) == ("unknown", 1.0)
    assert ev(tgt("attribute_share", 0.75, kinds=("public_space",), attribute="child_toilet"),
              lay).status == "met"


def test_accessibility_without_network_is_not_assessed(layers):
    r = ev(tgt("accessibility", 0.9, kinds=("park",)), layers)
    assert r.status == "not_assessed" and "路网" in r.reason.zh


def test_pending_project_counts_by_status_or_works(tmp_path):
    """A school under construction as a renovation still counts once done when the filter
    names under_construction (重点工程1: 开工建设)."""
    units = [{"code": "U1", "name": "甲", "box": (0, 0, 1000, 1000)}]
    fac = [{"编号": "S1", "名称": "一小", "类别": "小学", "状态": "在建", "建设方式": "改建",
            "年份": 2024, "x": 100, "y": 100},
           {"编号": "S2", "名称": "二小", "类别": "小学", "状态": "新建", "年份": 2023, "x": 300,
            "y": 100}]
    lay = load_layers(make_folder(tmp_path / "w", units, fac))
    f = Filters(statuses=("new", "under_construction"), since=2021)
    t = tgt("count", 2.0, kinds=("primary_school",), filters=f)
    assert ev(t, lay).value == 2.0
    assert ev(t, lay, "planned").value == 2.0


def test_at_most_is_met_only_in_the_worst_case(tmp_path):
    units = [{"code": "U1", "name": "甲", "box": (0, 0, 1000, 1000)}]
    fac = [{"编号": "A", "名称": "a", "类别": "托育", "状态": "现状", "托位": 10, "x": 100, "y": 100},
           {"编号": "B", "名称": "b", "类别": "托育", "托位": 100, "x": 300, "y": 100}]  # no status
    lay = load_layers(make_folder(tmp_path / "m", units, fac))
    assert ev(tgt("count", 1.0, kinds=("childcare",), direction="at_most"), lay).status == "unknown"
    per = tgt("per_capita", 50.0, kinds=("childcare",), capacity_field="capacity", per=1000.0,
              direction="at_most")
    assert ev(per, lay).status == "unknown"  # 10 places per 1,000 for sure; 110 if B is built
