"""End to end on the demo district: the report finds exactly the gaps designed into it."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from cfplan.analysis.evaluate import headline

# target id -> (current status, current value, current failing, planned status, planned value,
#               planned failing). Values: shares 0–1, counts, rates. See README "Designed gaps".
DESIGNED = {
    "8a": ("not_met", 21 / 26, ("U05", "U14", "U25", "U27", "U32"),
           "not_met", 22 / 26, ("U05", "U14", "U25", "U32")),
    "9a": ("met", 7, (), "met", 7, ()),
    "9b": ("not_met", 5, (), "not_met", 5, ()),
    "16a": ("not_met", 1, (), "met", 2, ()),
    "22a": ("not_met", 3, (), "not_met", 4, ()),
    "22b": ("not_met", 0.6, ("S4", "S5"), "not_met", 0.8, ("S5",)),
    "23a": ("not_met", 10 / 12, (), "not_met", 10 / 12, ()),
    "27": ("not_met", 2, (), "not_met", 3, ()),
    "28": ("met", 5, (), "met", 5, ()),
    "29": ("not_met", 32 / 36, ("U06", "U17", "U23", "U34"),
           "not_met", 33 / 36, ("U06", "U23", "U34")),
    "32": ("not_met", 0, (), "met", 1, ()),
    "33a": ("not_met", 1, (), "met", 2, ()),
    "33b": ("not_met", 6, (), "not_met", 8, ()),
    "34": ("not_met", 0, (), "met", 1, ()),
    "37a": ("not_met", 24 / 26, ("U14", "U33"), "not_met", 24 / 26, ("U14", "U33")),
    "37b": ("met", 0.9, ("U36",), "met", 0.9, ("U36",)),
    "53": ("not_met", 0.8, ("S5",), "not_met", 0.8, ("S5",)),
    "55": ("not_met", 3, (), "not_met", 3, ()),
    "重点工程1": ("not_met", 2, (), "not_met", 3, ()),
}


@pytest.fixture(scope="module")
def by_key(demo_run):
    return {(r.target.id, r.scenario): r for r in demo_run.results}


@pytest.mark.parametrize("target_id", sorted(DESIGNED))
def test_designed_gap(by_key, target_id):
    cs, cv, cf, ps, pv, pf = DESIGNED[target_id]
    cur, plan = by_key[(target_id, "current")], by_key[(target_id, "planned")]
    assert (cur.status, plan.status) == (cs, ps)
    assert cur.value == pytest.approx(cv)
    assert plan.value == pytest.approx(pv)
    assert cur.failing == cf
    assert plan.failing == pf


def test_shortfall_names_the_missing_stations(by_key):
    r = by_key[("22b", "current")]
    assert r.shortfall.zh == "缺 2 个未成年人保护工作站：白杨办事处、望湖办事处"
    assert r.shortfall.en == "2 without a Minor protection station: 白杨办事处, 望湖办事处"
    assert by_key[("22a", "current")].shortfall.zh == "还差 2 个未成年人保护工作站（现 3 个）"


def test_per_capita_childcare_places(by_key, demo_layers):
    pop = demo_layers.units["population"].sum()
    fac = demo_layers.facilities
    built = fac[(fac["kind"] == "childcare") & fac["status"].isin(["existing", "new"])]
    r = by_key[("8b", "current")]
    assert r.value == pytest.approx(built["capacity"].sum() / pop * 1000)
    assert r.status == "not_met"
    assert r.needed == pytest.approx(-(-6 * pop // 1000) - built["capacity"].sum())


def test_football_per_10000(by_key, demo_layers):
    pop = demo_layers.units["population"].sum()
    assert by_key[("35", "current")].value == pytest.approx(15 / pop * 10000)
    assert by_key[("35", "planned")].value == pytest.approx(19 / pop * 10000)


def test_safe_campus_is_unknown_not_met(by_key):
    """K10 has not reported 平安校园: the share cannot be decided, so it is unknown."""
    r = by_key[("45", "current")]
    assert r.status == "unknown"
    assert "safe_campus" in r.reason.zh


def test_unreported_indicators_are_unknown(demo_run):
    rows = [r for r in demo_run.results if r.target.metric == "indicator"]
    blank = [r for r in rows if r.status == "unknown"]
    assert blank and all("未填报" in r.reason.zh for r in blank)
    assert not any(r.status == "met" and r.value is None for r in demo_run.results)


def test_headline_counts(demo_run):
    cur = headline(demo_run.results, scenario="current")
    plan = headline(demo_run.results, scenario="planned")
    assert cur == {"total": 100, "met": 30, "not_met": 47, "unknown": 23, "not_assessed": 0}
    assert plan == {"total": 100, "met": 34, "not_met": 43, "unknown": 23, "not_assessed": 0}


def test_outputs_parse_back(demo_run, demo_out):
    out = demo_out
    targets = pd.read_csv(out / "targets.csv", encoding="utf-8-sig")
    assert list(targets.columns) == ["plan", "domain", "item", "wording", "metric", "target",
                                     "value", "status", "shortfall", "scenario"]
    assert set(targets["status"]) <= {"met", "not_met", "unknown", "not_assessed"}
    assert len(targets) == 2 * 100
    row = targets[(targets["item"] == "29") & (targets["scenario"] == "current")].iloc[0]
    assert row["shortfall"] == "缺 4 个儿童之家：李庄村、张湾村、陈岗村、玉兰社区"
    gaps = json.loads((out / "results" / "gaps.geojson").read_text(encoding="utf-8"))
    missing = {f["properties"]["code"] for f in gaps["features"]
               if f["properties"]["target_id"] == "29" and f["properties"]["scenario"] == "current"}
    assert missing == {"U06", "U17", "U23", "U34"}
    units = pd.read_csv(out / "units.csv", encoding="utf-8-sig").fillna("")
    u14 = units[units["code"] == "U14"].iloc[0]
    assert "29" not in u14["fails_current"] and "37a" in u14["fails_current"]
    xlsx = pd.read_excel(out / "report.xlsx", sheet_name=None)
    assert set(xlsx) >= {"targets", "units", "accounting"}
    assert len(xlsx["targets"]) == 100
    md = (out / "report.md").read_text(encoding="utf-8")
    assert "合成数据" in md and "缺 2 个未成年人保护工作站：白杨办事处、望湖办事处" in md


def test_accessibility_targets_use_the_network(by_key, demo_run):
    cov = demo_run.access.coverage
    row = cov[(cov["level"] == "overall") & (cov["kind"] == "park")
              & (cov["scenario"] == "current")].iloc[0]
    r = by_key[("标准5", "current")]
    assert r.status == "not_met" and r.value == pytest.approx(row["share_children"])
    assert r.shortfall.zh.startswith(f"{row['outside_children']:.0f} 名儿童步行 500 m 内没有公园")
    assert by_key[("标准5", "planned")].value > r.value  # the planned 星河公园


def test_river_makes_far_side_farther_than_it_looks(demo_run, demo_layers):
    """望湖办事处's U35 lies across the river from 临河公园: one bridge, a long detour."""
    d = demo_run.access.distances
    demand = demo_run.access.demand
    parks = demo_layers.facilities[(demo_layers.facilities["kind"] == "park")
                                   & demo_layers.facilities["status"].isin(["existing"])]
    pts = d[(d["kind"] == "park") & (d["unit"] == "U35")]
    geoms = demand.geometry.iloc[pts["point"].to_numpy()]
    straight = geoms.apply(lambda g: parks.distance(g).min()).to_numpy()
    walk = pts["distance_m"].to_numpy()
    assert (straight < 1200).all()
    assert (walk > straight + 1500).all()


# Walking access to the standards' kinds (share of children within the radius), as things
# stand and once planned is done: README "Designed gaps", walking access rows.
ACCESS = {
    "标准1": (0.5753, 0.5753),  # 幼儿园 300 m
    "标准2": (0.1126, 0.1174),  # 托育 300 m: one centre per 社区 (8a/8b short too)
    "标准3": (0.6831, 0.6873),  # 小学 500 m
    "标准4": (0.4427, 0.4658),  # 初中 1000 m
    "标准5": (0.7174, 0.7431),  # 公园 500 m
    "标准6": (0.5565, 0.5636),  # 游玩设施 300 m
}


@pytest.mark.parametrize("target_id", sorted(ACCESS))
def test_designed_walking_access(by_key, target_id):
    cur, plan = by_key[(target_id, "current")], by_key[(target_id, "planned")]
    assert (cur.status, plan.status) == ("not_met", "not_met")  # the standards ask for 100%
    assert (round(cur.value, 4), round(plan.value, 4)) == ACCESS[target_id]


def test_villages_across_the_river_stand_out(demo_run, demo_layers):
    """The 社区 reach parks, schools and play within the standards; 望湖办事处 does not."""
    cov = demo_run.access.coverage
    rows = cov[(cov["level"] == "unit") & (cov["scenario"] == "current")]
    units = demo_layers.units.set_index("code")
    community = rows["area"].map(units["unit_type"]).eq("community")
    far = rows["area"].map(units["subdistrict"]).eq("S5")
    for kind, core_at_least in (("park", 0.75), ("primary_school", 0.7),
                                ("kindergarten", 0.6), ("play_facility", 0.6)):
        of_kind = rows["kind"] == kind
        core = rows[of_kind & community]
        villages = rows[of_kind & far]
        assert core["covered_children"].sum() / core["children"].sum() >= core_at_least, kind
        assert villages["covered_children"].sum() / villages["children"].sum() < 0.06, kind


def test_facilities_spread_through_their_units(demo_layers):
    """Not stacked at unit centres: every point facility stands apart and beside a street."""
    from cfplan.demo import FIXED_SITES, ORIGIN

    fac = demo_layers.facilities
    pts = fac[fac.geom_type == "Point"]
    xy = np.c_[pts.geometry.x, pts.geometry.y]
    gap = np.hypot(xy[:, None, 0] - xy[None, :, 0], xy[:, None, 1] - xy[None, :, 1])
    np.fill_diagonal(gap, np.inf)
    assert gap.min() >= 70.0 - 0.05  # metres (0.05: the 托育 GCJ-02 round trip)
    assert pts["unit"].notna().all()
    p05 = pts.set_index("fid").loc["P05", "geometry"]  # the school routes' school stays put
    assert np.hypot(p05.x - ORIGIN[0] - FIXED_SITES["P05"][0],
                    p05.y - ORIGIN[1] - FIXED_SITES["P05"][1]) < 0.01
    assert (pts.set_index("fid").loc["P05", "unit"], FIXED_SITES["P05"]) == ("U27", (2100, 4110))
