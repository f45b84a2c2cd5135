"""Hand-worked cases for the corrected plan readings (issue 14), on small layers."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from conftest import make_folder, poly_wgs, write_fc

from cfplan.analysis.evaluate import (
    EVALUATORS,
    Context,
    Result,
    combine_statuses,
    cross_check,
    evaluate_plan,
    item_statuses,
    late_projects,
)
from cfplan.analysis.plan import Filters, Target, load_plan
from cfplan.analysis.selection import select
from cfplan.layers.kinds import facility_kind_key
from cfplan.layers.load import load_layers

ONE_UNIT = [{"code": "U1", "name": "甲社区", "box": (0, 0, 1000, 1000)}]


def tgt(metric: str, target, **kw) -> Target:
    return Target(id=kw.pop("id", "t1"), domain="成长空间友好", item=kw.pop("item", "1"),
                  title="", wording="", metric=metric, year=kw.pop("year", 2025),
                  target=target, **kw)


def ev(t: Target, layers, scenario="current", indicators=None, routes=None) -> Result:
    res = EVALUATORS[t.metric](t, Context(layers, scenario, indicators, None, "t", routes))
    res.cross_check = cross_check(res, Context(layers, scenario, indicators, None, "t"))
    return res


def with_polygons(folder: Path, polygons: list[dict]) -> Path:
    """Add a polygon facility file (parks) to a make_folder layer folder."""
    write_fc(folder / "parks.geojson",
             [({k: v for k, v in p.items() if k != "box"}, poly_wgs(*p["box"]))
              for p in polygons])
    manifest = folder / "layers.toml"
    manifest.write_text(manifest.read_text(encoding="utf-8")
                        + '\n[[facilities]]\nfile = "parks.geojson"\n', encoding="utf-8")
    return folder


# ---------------------------------------------------------------- 重点工程1: 新建、改扩建, 十四五


def test_schools_new_renovated_started_within_the_period(tmp_path):
    fac = [
        {"编号": "A", "名称": "新建小学", "类别": "小学", "状态": "新建", "年份": 2022, "x": 100, "y": 100},
        {"编号": "B", "名称": "改扩建小学", "类别": "小学", "状态": "改建", "年份": 2023, "x": 200,
         "y": 100},
        {"编号": "C", "名称": "在建初中", "类别": "初中", "状态": "在建", "年份": 2024, "x": 300, "y": 100},
        {"编号": "D", "名称": "规划小学", "类别": "小学", "状态": "规划", "年份": 2025, "x": 400, "y": 100},
        {"编号": "E", "名称": "晚建小学", "类别": "小学", "状态": "规划", "年份": 2026, "x": 500, "y": 100},
        {"编号": "F", "名称": "老小学", "类别": "小学", "状态": "现状", "年份": 2010, "x": 600, "y": 100},
        {"编号": "G", "名称": "十三五小学", "类别": "小学", "状态": "新建", "年份": 2019, "x": 700,
         "y": 100},
    ]
    lay = load_layers(make_folder(tmp_path / "s", ONE_UNIT, fac))
    plan = load_plan("jingkai")
    t = plan.target("重点工程1")
    # As things stand: new A, renovated B and C under construction (started): 3.
    assert ev(t, lay).value == 3.0
    # Once planned: D (2025) too; E is dated 2026, after 十四五: 4, and it is flagged.
    assert ev(t, lay, "planned").value == 4.0
    late = late_projects(t, lay)
    assert late.zh == "晚于目标年 2025 的规划项目：晚建小学（2026 年，未计入）"
    # The old reading (new + under construction, no upper bound) counted 2 and 4 with E.
    old = tgt("count", 9.0, kinds=t.kinds,
              filters=Filters(statuses=("new", "under_construction"), since=2021))
    assert (ev(old, lay).value, ev(old, lay, "planned").value) == (2.0, 4.0)


# ---------------------------------------------------------------- 30: the layers decide it


def test_library_is_counted_and_a_contradicting_report_flagged(tmp_path):
    fac = [{"编号": "L1", "名称": "区图书馆", "类别": "图书馆", "状态": "现状", "儿童友好": "是",
            "x": 100, "y": 100},
           {"编号": "L2", "名称": "社区书房", "类别": "城市书房", "状态": "现状", "儿童友好": "否",
            "x": 300, "y": 100}]
    lay = load_layers(make_folder(tmp_path / "l", ONE_UNIT, fac))
    t = load_plan("jingkai").target("30")
    assert (t.metric, t.reported) == ("count", "child_friendly_library")
    said_no = pd.DataFrame({"plan": ["t"], "id": ["30"], "indicator": ["child_friendly_library"],
                            "value": ["否"]})
    r = ev(t, lay, indicators=said_no)
    assert (r.status, r.value) == ("met", 1.0)
    assert r.cross_check.zh == "填报为「否」（未达成），但图层显示达成"
    said_yes = said_no.assign(value="是")
    assert not ev(t, lay, indicators=said_yes).cross_check
    blank = said_no.assign(value="")
    assert not ev(t, lay, indicators=blank).cross_check
    # A number is compared with the target: 0 libraries reported while the layers have 1.
    assert ev(t, lay, indicators=said_no.assign(value="0")).cross_check


# ---------------------------------------------------------------- 26, 22a/22b: levels


def test_levels_count_only_the_level_the_plan_names(tmp_path):
    units = [{"code": "U1", "name": "甲社区", "sd": "S1", "box": (0, 0, 1000, 1000)},
             {"code": "U2", "name": "乙社区", "sd": "S2", "box": (1000, 0, 2000, 1000)}]
    sds = [{"code": "S1", "name": "东办事处", "box": (0, 0, 1000, 1000)},
           {"code": "S2", "name": "西办事处", "box": (1000, 0, 2000, 1000)}]
    fac = [
        {"编号": "A1", "名称": "区儿童活动中心", "类别": "儿童活动中心", "状态": "现状", "级别": "区级",
         "x": 100, "y": 100},
        {"编号": "A2", "名称": "东办儿童活动中心", "类别": "儿童活动中心", "状态": "现状",
         "级别": "办事处", "x": 200, "y": 100},
        {"编号": "P1", "名称": "东办工作站", "类别": "未成年人保护工作站", "状态": "现状", "级别": "办事处",
         "x": 300, "y": 100},
        {"编号": "P2", "名称": "社区工作站", "类别": "未成年人保护工作站", "状态": "现状", "级别": "社区",
         "x": 1300, "y": 100},
        {"编号": "P3", "名称": "某工作站", "类别": "未成年人保护工作站", "状态": "现状", "x": 1400,
         "y": 100},
    ]
    lay = load_layers(make_folder(tmp_path / "v", units, fac, sds))
    plan = load_plan("jingkai")
    r26 = ev(plan.target("26"), lay)
    assert (r26.status, r26.value) == ("met", 1.0)  # the 办事处 centre is only encouraged
    two = tgt("count", 2.0, kinds=("activity_centre",), filters=Filters(levels=("district",)))
    assert ev(two, lay).status == "not_met"
    # 22a: P1 surely, P3 maybe (no level), P2 never: 1 for sure, 2 at best, of 5.
    r22 = ev(tgt("count", 2.0, kinds=("protection_station",),
                 filters=Filters(levels=("subdistrict",))), lay)
    assert (r22.status, r22.value) == ("unknown", 1.0)
    assert ev(plan.target("22a"), lay).status == "not_met"
    # 22b is cfplan's reading: it says so when the district has not the plan's 5 offices.
    r22b = ev(plan.target("22b"), lay)
    assert plan.target("22b").origin == "reading"
    assert r22b.note.zh.startswith("方案按 5 个办事处计，区内有 2 个")
    assert "cfplan" in r22b.note.en


def test_a_reading_does_not_decide_its_item(jingkai, demo_layers):
    results = evaluate_plan(jingkai, demo_layers)
    items = item_statuses(jingkai, results, scenario="current")
    by = {(r.target.id, r.scenario): r for r in results}
    assert by[("22b", "current")].status == "not_met"
    assert items["22"] == combine_statuses([by[("22a", "current")].status])


# ---------------------------------------------------------------- 55, 27: child-friendly only


def test_plain_firms_and_blocks_do_not_count(tmp_path):
    fac = [
        {"编号": "E1", "名称": "友好公司", "类别": "儿童友好企事业单位", "状态": "现状", "x": 100, "y": 100},
        {"编号": "E2", "名称": "普通公司", "类别": "企事业单位", "儿童友好": "否", "状态": "现状", "x": 200, "y": 100},
        {"编号": "E3", "名称": "未知公司", "类别": "企业", "状态": "现状", "x": 300, "y": 100},
        {"编号": "E4", "名称": "标了的公司", "类别": "企事业单位", "儿童友好": "是", "状态": "现状", "x": 400, "y": 100},
        {"编号": "B1", "名称": "老街", "类别": "街区", "状态": "现状", "x": 500, "y": 100},
        {"编号": "B2", "名称": "友好街", "类别": "儿童友好街区", "状态": "现状", "x": 600, "y": 100},
    ]
    lay = load_layers(make_folder(tmp_path / "e", ONE_UNIT, fac))
    flags = lay.facilities.set_index("fid")["child_friendly"]
    assert flags["E1"] is True and flags["B2"] is True  # the kind's name says so
    assert flags["E2"] is False and flags["E4"] is True
    assert pd.isna(flags["E3"]) and pd.isna(flags["B1"])
    plan = load_plan("jingkai")
    r55 = ev(plan.target("55"), lay)  # 4 needed: E1, E4 surely, E3 maybe
    assert (r55.status, r55.value) == ("not_met", 2.0)
    two = tgt("count", 3.0, kinds=("enterprise",), filters=Filters(child_friendly=True))
    assert ev(two, lay).status == "unknown"  # E3 may be the third
    r27 = ev(plan.target("27"), lay)
    assert r27.value == 1.0  # only 友好街; the plain 老街 (flag missing) at best


# ---------------------------------------------------------------- 42: 农学书屋 is its own kind


def test_farm_reading_rooms_are_not_school_reading_centres(tmp_path):
    assert facility_kind_key("农学书屋") == "farm_library"
    assert facility_kind_key("校园阅读中心") == "reading_centre"
    fac = [{"编号": "R1", "名称": "一小阅读中心", "类别": "校园阅读中心", "状态": "新建", "x": 100,
            "y": 100},
           {"编号": "R2", "名称": "村农学书屋", "类别": "农学书屋", "状态": "新建", "x": 200, "y": 100}]
    lay = load_layers(make_folder(tmp_path / "r", ONE_UNIT, fac))
    r = ev(load_plan("jingkai").target("42"), lay)
    assert (r.status, r.value) == ("not_met", 1.0)


# ---------------------------------------------------------------- 23a: the places the plan names


def test_child_toilets_in_every_place_the_plan_names(tmp_path):
    assert facility_kind_key("车站") == facility_kind_key("影院") == "public_space"
    fac = [
        {"编号": "S1", "名称": "客运站", "类别": "车站", "状态": "现状", "适儿化卫生间": "是", "x": 100,
         "y": 100},
        {"编号": "H1", "名称": "区医院", "类别": "医院", "状态": "现状", "适儿化卫生间": "否", "x": 200,
         "y": 100},
        {"编号": "L1", "名称": "图书馆", "类别": "图书馆", "状态": "现状", "适儿化卫生间": "是", "x": 300,
         "y": 100},
        {"编号": "K1", "名称": "幼儿园", "类别": "幼儿园", "状态": "现状", "适儿化卫生间": "否", "x": 400,
         "y": 100},
    ]
    lay = load_layers(make_folder(tmp_path / "w", ONE_UNIT, fac))
    t = load_plan("jingkai").target("23a")
    r = ev(t, lay)
    # 2 of 3 (the hospital is not yet); the kindergarten is not among the places named.
    assert (r.status, r.value) == ("not_met", pytest.approx(2 / 3))
    assert r.shortfall.zh == "1 处未达标：区医院"
    assert "医院、车站、图书馆、商场、影院" in t.assumption


# ---------------------------------------------------------------- 33b: in or at a park


def test_play_facilities_in_or_at_a_built_park(tmp_path):
    fac = [
        {"编号": "Y1", "名称": "园内游戏场", "类别": "游玩设施", "状态": "新建", "年份": 2024, "x": 150,
         "y": 150},
        {"编号": "Y2", "名称": "园门游戏场", "类别": "游玩设施", "状态": "新建", "年份": 2024, "x": 340,
         "y": 150},  # 40 m east of the park's edge
        {"编号": "Y3", "名称": "街边游戏场", "类别": "游玩设施", "状态": "新建", "年份": 2024, "x": 450,
         "y": 150},  # 150 m away
        {"编号": "Y4", "名称": "新园游戏场", "类别": "游玩设施", "状态": "新建", "年份": 2024, "x": 750,
         "y": 750},  # inside a planned park
        {"编号": "Y5", "名称": "旧游戏场", "类别": "游玩设施", "状态": "现状", "年份": 2020, "x": 160,
         "y": 160},  # in the park but before 2023
    ]
    parks = [{"编号": "K1", "名称": "老公园", "类别": "公园", "状态": "现状", "box": (100, 100, 300, 300)},
             {"编号": "K2", "名称": "新公园", "类别": "游园", "状态": "规划", "年份": 2025,
              "box": (700, 700, 800, 800)}]
    lay = load_layers(with_polygons(make_folder(tmp_path / "p", ONE_UNIT, fac), parks))
    t = load_plan("jingkai").target("33b")
    assert ev(t, lay).value == 2.0  # Y1, Y2
    assert ev(t, lay, "planned").value == 3.0  # and Y4 once 新公园 is built
    every = tgt("count", 10.0, kinds=("play_facility",), filters=Filters(since=2023))
    assert ev(every, lay).value == 4.0  # the old reading: any play facility


# ---------------------------------------------------------------- 23b: the park by its name


def test_named_park_by_name_or_unknown(tmp_path):
    t = load_plan("jingkai").target("23b")
    fac = [{"编号": "X", "名称": "别的公园", "类别": "公园", "状态": "改建", "x": 100, "y": 100}]
    lay = load_layers(make_folder(tmp_path / "n0", ONE_UNIT, fac))
    r = ev(t, lay)
    assert (r.status, r.value, r.shortfall.zh) == ("unknown", None, "")
    assert r.reason.zh == "图层中没有名称含「蝶湖公园」的公园，无法判断"
    fac = [{"编号": "D", "名称": "滨河新城 蝶湖公园", "类别": "公园", "状态": "现状", "x": 100, "y": 100}]
    lay = load_layers(make_folder(tmp_path / "n1", ONE_UNIT, fac))
    r = ev(t, lay)
    assert (r.status, r.value) == ("not_met", 0.0)  # found, but not yet renovated
    fac[0]["状态"] = "改建"
    assert ev(t, load_layers(make_folder(tmp_path / "n2", ONE_UNIT, fac))).status == "met"


# ---------------------------------------------------------------- 8a: one institution of 20


def test_one_institution_of_twenty_places_is_not_a_sum(tmp_path):
    units = [{"code": "U1", "name": "甲社区", "box": (0, 0, 1000, 1000)},
             {"code": "U2", "name": "乙社区", "box": (1000, 0, 2000, 1000)}]
    fac = [{"编号": "T1", "名称": "大托育", "类别": "托育", "状态": "现状", "托位": 25, "x": 100, "y": 100},
           {"编号": "T2", "名称": "小托育一", "类别": "托育", "状态": "现状", "托位": 15, "x": 1100,
            "y": 100},
           {"编号": "T3", "名称": "小托育二", "类别": "托育", "状态": "现状", "托位": 10, "x": 1200,
            "y": 100}]
    lay = load_layers(make_folder(tmp_path / "c", units, fac))
    t = load_plan("jingkai").target("8a")
    r = ev(t, lay)
    assert (r.status, r.value, r.failing) == ("not_met", 0.5, ("U2",))
    assert r.shortfall.zh == ("1 个社区没有不少于 20 托位的托育机构（括号内为最大一处的托位）："
                              "乙社区(15)")
    summed = tgt("capacity_per_unit", 1.0, kinds=("childcare",), unit_types=("community",),
                 capacity_field="capacity", capacity=20.0)
    assert ev(summed, lay).status == "met"  # the old reading added 15 + 10


# ---------------------------------------------------------------- 上街区 公共服务1: the mean


def test_mean_places_per_community(tmp_path, shangjie):
    units = [{"code": f"U{i}", "name": f"{i}社区", "box": (i * 1000, 0, i * 1000 + 1000, 1000)}
             for i in range(3)]
    units.append({"code": "V1", "name": "某村", "type": "村", "box": (3000, 0, 4000, 1000)})
    fac = [{"编号": "T0", "名称": "托0", "类别": "托育", "状态": "现状", "托位": 40, "x": 100, "y": 100},
           {"编号": "T1", "名称": "托1", "类别": "托育", "状态": "现状", "托位": 15, "x": 1100, "y": 100},
           {"编号": "TV", "名称": "村托", "类别": "托育", "状态": "现状", "托位": 90, "x": 3100, "y": 100},
           {"编号": "TP", "名称": "规划托", "类别": "托育", "状态": "规划", "托位": 10, "x": 2100,
            "y": 100}]
    lay = load_layers(make_folder(tmp_path / "m", units, fac))
    t = shangjie.target("公共服务1a")
    assert (t.aggregate, t.target) == ("mean", 20.0)
    r = ev(t, lay)
    # (40 + 15 + 0) / 3 社区 = 18.33 < 20: 5 places short; the village's 90 do not count.
    assert (r.status, r.value, r.needed) == ("not_met", pytest.approx(55 / 3), 5.0)
    assert r.shortfall.zh == "平均每个社区 18.3 托位（3 个社区共 55），还差 5 托位"
    p = ev(t, lay, "planned")
    assert (p.status, p.value) == ("met", pytest.approx(65 / 3))
    # "each" (the old reading) fails: 2 of 3 社区 have fewer than 20.
    each = tgt("capacity_per_unit", 1.0, kinds=("childcare",), unit_types=("community",),
               capacity_field="capacity", capacity=20.0)
    assert ev(each, lay, "planned").value == pytest.approx(1 / 3)


def test_mean_is_unknown_when_a_missing_capacity_could_reach_it(tmp_path):
    units = [{"code": "U1", "name": "甲社区", "box": (0, 0, 1000, 1000)}]
    fac = [{"编号": "T1", "名称": "托1", "类别": "托育", "状态": "现状", "托位": 10, "x": 100, "y": 100},
           {"编号": "T2", "名称": "托2", "类别": "托育", "状态": "现状", "x": 200, "y": 100}]
    lay = load_layers(make_folder(tmp_path / "q", units, fac))
    t = tgt("capacity_per_unit", 20.0, kinds=("childcare",), capacity_field="capacity",
            aggregate="mean")
    assert ev(t, lay).status == "unknown"
    assert ev(tgt("capacity_per_unit", 5.0, kinds=("childcare",), capacity_field="capacity",
                  aggregate="mean"), lay).status == "met"


# ---------------------------------------------------------------- 标准5: parks of at least 1 ha


def test_park_area_filter(tmp_path):
    fac = [{"编号": "PT", "名称": "点公园", "类别": "公园", "状态": "现状", "x": 900, "y": 900}]
    parks = [{"编号": "BIG", "名称": "大公园", "类别": "公园", "状态": "现状", "box": (0, 0, 120, 100)},
             {"编号": "SMALL", "名称": "街角游园", "类别": "游园", "状态": "现状",
              "box": (300, 300, 390, 390)}]
    lay = load_layers(with_polygons(make_folder(tmp_path / "a", ONE_UNIT, fac), parks))
    t = load_plan("jingkai").target("标准5")
    assert t.filters.min_area_m2 == 10000
    sure, maybe = select(lay.facilities, ("park",), t.filters, scenario="current")
    fids = lay.facilities["fid"].to_numpy()
    assert set(fids[sure]) == {"BIG"}  # 1.2 ha; the 0.81 ha garden is too small
    assert set(fids[maybe]) == {"BIG", "PT"}  # a point park's area is not known


def test_minutes_follow_the_life_circles():
    from cfplan.analysis.report import radius_text
    from cfplan.layers.kinds import LIFE_CIRCLES_M, life_circle

    assert LIFE_CIRCLES_M == {5: 300.0, 10: 500.0, 15: 1000.0}
    assert radius_text(500.0) == "500 m（10 分钟生活圈）"  # not "8 min"
    assert radius_text(300.0, lang="en") == "300 m (5-minute circle)"
    assert radius_text(800.0) == "800 m（步行约 13 分钟）"
    assert life_circle(600.0) is None


def test_map_bands_are_the_standard_radii(demo_run):
    """The map's 5/10/15-minute bands are drawn at the standards' 300/500/1000 m."""
    areas = demo_run.service_areas
    bands = areas[areas["kind"] == "park"].sort_values("cutoff_m")
    assert list(bands["cutoff_m"]) == [300.0, 500.0, 1000.0]
    assert list(bands["minutes"]) == [5.0, 10.0, 15.0]
    r = next(r for r in demo_run.results if r.target.id == "标准5")
    assert r.extra["radius_m"] == 500.0  # the 10-minute band


# ---------------------------------------------------------------- 重大项目: one key for one fact


def test_repeated_items_take_the_task_status(jingkai, demo_layers):
    table = pd.DataFrame({"plan": ["jingkai"] * 2, "id": ["5", "7"],
                          "indicator": ["digital_three_level_network", "publicity_campaign"],
                          "value": ["是", "否"]})
    by = {(r.target.id, r.scenario): r for r in
          evaluate_plan(jingkai, demo_layers, indicators=table)}
    assert by[("重大项目1", "current")].status == by[("5", "current")].status == "met"
    assert by[("重大项目2", "current")].status == by[("7", "current")].status == "not_met"
    assert by[("重大项目2", "current")].shortfall.zh == "同第 7 项：尚未达成"
    # 重点工程6 stands for 33a and 33b: not met while either is not.
    six = by[("重点工程6", "planned")]
    assert (by[("33a", "planned")].status, by[("33b", "planned")].status) == ("met", "not_met")
    assert (six.status, six.value) == ("not_met", 0.5)
    indicators = [t.indicator for t in jingkai.targets if t.indicator]
    assert len(indicators) == len(set(indicators))
    assert not any(t.indicator and t.indicator.startswith("major_project") for t in jingkai.targets)


def test_combine_statuses():
    assert combine_statuses(["met", "met"]) == "met"
    assert combine_statuses(["met", "not_met", "unknown"]) == "partly_met"
    assert combine_statuses(["not_met", "unknown"]) == "not_met"
    assert combine_statuses(["met", "unknown"]) == "unknown"
    assert combine_statuses(["met", "not_assessed"]) == "unknown"
    assert combine_statuses([]) == "unknown"


# ---------------------------------------------------------------- the missing sub-targets


def test_missing_sub_targets_are_encoded(jingkai, shangjie):
    t14 = jingkai.target("14e")
    assert (t14.metric, t14.attribute, t14.kinds) == (
        "attribute_share", "counselling_room", ("primary_school", "middle_school"))
    t11 = jingkai.target("11c")
    assert (t11.indicator, t11.value_type, t11.item) == (
        "free_prenatal_diagnosis_high_risk", "boolean", "11")
    t9 = jingkai.target("9d")
    assert (t9.target, t9.direction, t9.baseline_year, t9.unit) == (91.0, "above", 2022, "%")
    police = shangjie.target("发展环境8a")
    assert (police.indicator, police.item) == ("junior_police_school", "发展环境8")
    assert shangjie.target("发展环境8b").attribute == "safe_campus"


def test_counselling_rooms_per_school(tmp_path, jingkai):
    fac = [{"编号": "P1", "名称": "一小", "类别": "小学", "状态": "现状", "心理辅导室": "是", "x": 100,
            "y": 100},
           {"编号": "P2", "名称": "二小", "类别": "小学", "状态": "现状", "心理辅导室": "否", "x": 200,
            "y": 100},
           {"编号": "M1", "名称": "一中", "类别": "初中", "状态": "现状", "x": 300, "y": 100}]
    lay = load_layers(make_folder(tmp_path / "k", ONE_UNIT, fac))
    r = ev(jingkai.target("14e"), lay)
    # 1 of 3 for sure (一中 has not said); not met even if it has one (2 of 3).
    assert (r.status, r.value) == ("not_met", pytest.approx(1 / 3))
    assert r.shortfall.zh == "1 处未达标：二小"


def test_above_a_baseline(tmp_path, jingkai):
    lay = load_layers(make_folder(tmp_path / "b", ONE_UNIT, []))
    t = jingkai.target("9d")

    def reported(value: str) -> str:
        table = pd.DataFrame({"plan": ["t"], "id": ["9d"], "indicator": [t.indicator],
                              "value": [value]})
        return ev(t, lay, indicators=table).status

    assert reported("91") == "not_met"  # 持续提升: not above the 2022 baseline
    assert reported("91.5%") == "met"


# ---------------------------------------------------------------- 24b / 成长空间2b: routes


ROUTES = pd.DataFrame({
    "school_code": ["P1", "P2", "P3", "K1"],
    "unsignalised_crossings_shortest": [0, 2, 0, None],
    "no_sidewalk_m": [0.0, 120.0, 0.0, 0.0],
    "fast_road_in_zone_m": [0.0, 0.0, 0.0, 0.0],
    "children": [300, 250, 180, 90],
})


@pytest.fixture(scope="module")
def school_layers(tmp_path_factory):
    fac = [{"编号": c, "名称": n, "类别": k, "状态": "现状", "x": 100 * i, "y": 100}
           for i, (c, n, k) in enumerate([("P1", "一小", "小学"), ("P2", "二小", "小学"),
                                          ("P3", "三小", "小学"), ("K1", "幼儿园", "幼儿园")],
                                         start=1)]
    return load_layers(make_folder(tmp_path_factory.mktemp("routes"), ONE_UNIT, fac))


def test_route_safety_reads_the_route_summary(school_layers, jingkai):
    t = jingkai.target("24b")
    assert t.metric == "route_safety"
    r = ev(t, school_layers, routes=ROUTES)
    # P1 and P3 safe; P2 has hazards; K1's crossings are unknown (safe at best).
    assert (r.status, r.value) == ("not_met", pytest.approx(2 / 4))
    assert r.shortfall.zh == ("1 所学校的最短上学路线有隐患，涉及 250 名儿童：二小（无信号灯过街 2 处；"
                              "无人行道 120 m）")
    assert r.extra["schools"] == ("P2",)
    fixed = ROUTES.assign(unsignalised_crossings_shortest=[0, 0, 0, None],
                          no_sidewalk_m=[0.0, 0.0, 0.0, 0.0])
    r = ev(t, school_layers, routes=fixed)
    assert (r.status, r.value) == ("unknown", 0.75)  # K1 not known
    assert "1 所学校的路径检查项缺失" in r.reason.zh
    assert ev(t, school_layers, routes=fixed.fillna(0)).status == "met"
    primaries = tgt("route_safety", 1.0, kinds=("primary_school",))
    assert ev(primaries, school_layers, routes=fixed).status == "met"


def test_route_safety_without_routes_is_not_assessed(school_layers, shangjie):
    r = ev(shangjie.target("成长空间2b"), school_layers)
    assert (r.status, r.value) == ("not_assessed", None)
    assert r.reason.zh == "未计算上下学路径（需要路网与学校图层）"
    with pytest.raises(ValueError, match="children"):
        ev(shangjie.target("成长空间2b"), school_layers, routes=ROUTES.drop(columns="children"))


def test_route_safety_per_scenario(school_layers, jingkai):
    both = pd.concat([ROUTES.fillna(0).assign(scenario="current"),
                      ROUTES.fillna(0).assign(scenario="planned", no_sidewalk_m=0.0,
                                              unsignalised_crossings_shortest=0)])
    t = jingkai.target("24b")
    assert ev(t, school_layers, routes=both).status == "not_met"
    assert ev(t, school_layers, "planned", routes=both).status == "met"


def test_assess_passes_routes_to_the_targets(jingkai):
    from cfplan.demo import DEMO_DIR
    from cfplan.pipeline import assess

    summary = pd.DataFrame({"school_code": ["P05", "K01"],
                            "unsignalised_crossings_shortest": [1, 0], "no_sidewalk_m": [0, 0],
                            "fast_road_in_zone_m": [0, 0], "children": [400, 120]})
    a = assess(DEMO_DIR, jingkai, access=False, routes=summary)
    r = next(r for r in a.results if r.target.id == "24b" and r.scenario == "current")
    assert (r.status, r.value) == ("not_met", 0.5)
    # The demo bureau reported the safety facilities complete: the routes contradict it.
    assert r.cross_check.zh == "填报为「是」（达成），但图层显示未达成"


# ---------------------------------------------------------------- #20: the last loose readings


def test_counts_and_per_person_targets_take_the_districts_facilities_only(tmp_path):
    # the district is the unit (0..1000 m); two play facilities and pitches lie in the margin
    fac = [
        {"编号": "A", "名称": "区内游戏场地", "类别": "游玩设施", "状态": "现状", "x": 500, "y": 500},
        {"编号": "B", "名称": "区外游戏场地", "类别": "游玩设施", "状态": "现状", "x": 1254, "y": 500},
        {"编号": "C", "名称": "远处游戏场地", "类别": "游玩设施", "状态": "现状", "x": 2952, "y": 500},
        {"编号": "F1", "名称": "区内足球场", "类别": "足球场", "状态": "现状", "x": 300, "y": 300},
        {"编号": "F2", "名称": "区外足球场", "类别": "足球场", "状态": "现状", "x": 1500, "y": 300},
    ]
    lay = load_layers(make_folder(tmp_path / "m", ONE_UNIT, fac))
    from cfplan.analysis.selection import in_district

    inside = dict(zip(lay.facilities["fid"], in_district(lay), strict=True))
    assert inside == {"A": True, "B": False, "C": False, "F1": True, "F2": False}
    count = ev(tgt("count", 2.0, kinds=("play_facility",)), lay)
    assert (count.value, count.status) == (1.0, "not_met")  # B and C are outside
    per = ev(tgt("per_capita", 10.0, kinds=("football_pitch",), per=10000.0), lay)
    assert per.value == pytest.approx(1 / 1000 * 10000)  # one pitch for 1,000 residents
    # the margin facilities are kept: they serve walking access
    assert {"B", "C", "F2"} <= set(lay.facilities["fid"])


def test_district_level_or_above_reads_the_level(tmp_path, shangjie):
    base = {"类别": "家风家教示范基地", "状态": "现状", "y": 100}
    fac = [{**base, "编号": f"B{i}", "名称": f"基地{i}", "级别": level, "x": 100 * i}
           for i, level in enumerate(["区级", "市级", "国家级", "社区", "办事处"], start=1)]
    fac.append({**base, "编号": "B6", "名称": "基地6", "x": 600})
    lay = load_layers(make_folder(tmp_path / "f", ONE_UNIT, fac))
    t = shangjie.target("发展环境4")
    assert t.filters.levels == ("district", "city", "province", "national")
    r = ev(t, lay)
    # 区级, 市级, 国家级 count; 社区 and 办事处 do not; B6 has no level: 3 sure, 4 at best
    assert (r.value, r.status) == (3.0, "unknown")
    assert ev(t, load_layers(make_folder(tmp_path / "g", ONE_UNIT, fac[:5]))).status == "not_met"


def test_new_build_targets_use_the_year_and_say_where_status_disagrees(tmp_path, jingkai):
    fac = [
        {"编号": "A", "名称": "新建小学", "类别": "小学", "状态": "新建", "年份": 2022, "x": 100, "y": 100},
        {"编号": "B", "名称": "现状标错的小学", "类别": "小学", "状态": "现状", "年份": 2023, "x": 200,
         "y": 100},
        {"编号": "C", "名称": "旧的新建小学", "类别": "小学", "状态": "新建", "年份": 2019, "x": 300,
         "y": 100},
        {"编号": "D", "名称": "老小学", "类别": "小学", "状态": "现状", "年份": 2010, "x": 400, "y": 100},
        {"编号": "L", "名称": "现状操作室", "类别": "小小科学家科技创新操作室", "状态": "现状", "年份": 2024,
         "x": 500, "y": 100},
    ]
    lay = load_layers(make_folder(tmp_path / "y", ONE_UNIT, fac))
    t = jingkai.target("重点工程1")
    assert t.filters.built_in_period
    r = ev(t, lay)
    assert r.value == 2.0  # A, and B by its year (2023); not C (2019) nor D (2010)
    results = {(x.target.id, x.scenario): x for x in evaluate_plan(jingkai, lay)}
    note = results[("重点工程1", "current")].note.zh
    assert "现状标错的小学（标为现状，2023 年建：按年份计入）" in note
    assert "旧的新建小学（标为新建，但为 2019 年，早于 2021 年：按年份不计入）" in note
    assert "老小学" not in note  # status and year agree: nothing to say
    assert results[("16a", "current")].value == 1.0  # the lab of 2024 marked 现状 counts
    from cfplan.analysis.evaluate import status_year_warnings

    warned = [w.zh for w in status_year_warnings(jingkai, lay)]
    assert [w.split("：")[0] for w in warned] == ["16a", "重点工程1"]
    for target_id in ("16a", "33a", "重点工程1"):
        assert jingkai.target(target_id).filters.built_in_period, target_id


def test_route_safety_is_evidence_not_the_plans_test(jingkai, shangjie, demo_run):
    for plan, target_id, item in ((jingkai, "24b", "24"), (shangjie, "成长空间2b", "成长空间2")):
        t = plan.target(target_id)
        assert (t.origin, t.metric, t.item) == ("reading", "route_safety", item)
        assert "cfplan" in t.assumption_en and "not" in t.assumption_en
    by = {(r.target.id, r.scenario): r for r in demo_run.results}
    assert by[("24b", "current")].status == "not_met"  # the routes still give their evidence
    items = item_statuses(demo_run.plan, demo_run.results, scenario="current")
    assert items["24"] == by[("24a", "current")].status == "unknown"


def test_repeat_items_share_one_status(jingkai, demo_layers):
    results = evaluate_plan(jingkai, demo_layers)
    for scenario in ("current", "planned"):
        items = item_statuses(jingkai, results, scenario=scenario)
        assert items["重点工程6"] == items["33"], scenario
        assert items["重点工程4"] == items["29"]
        by = {r.target.id: r for r in results if r.scenario == scenario}
        assert items["重点工程5"] == by["16a"].status  # it repeats 16a, not the whole of 16
    planned = item_statuses(jingkai, results, scenario="planned")
    assert planned["33"] == "partly_met"  # 33a met, 33b not
    six = next(r for r in results if r.target.id == "重点工程6" and r.scenario == "planned")
    assert six.shortfall.zh == "同第 33a、33b 项：达成 1/2（部分达成）"


def test_walking_table_uses_the_targets_radii(demo_run):
    import dataclasses

    from cfplan.analysis.coverage import scenario_coverage
    from cfplan.analysis.report import access_section

    base = demo_run.plan.target("标准3")
    library = dataclasses.replace(base, id="L1", kinds=("library",), radius_m=1000.0)
    plan = dataclasses.replace(demo_run.plan, targets=(*demo_run.plan.targets, library))
    cov = scenario_coverage(demo_run.layers, demo_run.streets.network,
                            components=demo_run.streets.components, plan=plan)
    lines = access_section(cov, demo_run.layers, lang="en", plan=plan)
    rows = [line for line in lines if line.startswith("| Library")]
    assert len(rows) == 1 and "1000 m" in rows[0] and "(L1)" in rows[0]
    plain = access_section(cov, demo_run.layers, lang="en")  # no plan: the kinds' radii
    assert any(line.startswith("| Library | 500 m") for line in plain)
    parks = [line for line in access_section(demo_run.access, demo_run.layers, lang="zh",
                                             plan=demo_run.plan) if line.startswith("| 公园")]
    assert parks and all("标准5" in line for line in parks)  # parks of ≥ 1 ha, as 标准5 reads
