"""Plan-driven siting on the demo: from the planned scenario, per-person targets, standards
apart and budgeted, applied sites meet their targets, outputs, map and report."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from conftest import make_folder, point, write_fc

import cfplan
from cfplan.analysis.siting.apply import apply_sites, with_applied
from cfplan.analysis.siting.export import advice_section, write_siting
from cfplan.analysis.siting.plan_sites import SITE_COLUMNS, propose_sites
from cfplan.analysis.siting.requests import kind_requests
from cfplan.cli import main
from cfplan.layers.load import load_layers
from cfplan.maps.plan_map import offline_html
from cfplan.maps.siting_figure import tradeoff_figure

PLAN_KINDS = ["protection_station", "children_home"]


@pytest.fixture(scope="module")
def assessed():
    return cfplan.demo_assessment()


@pytest.fixture(scope="module")
def planned(assessed):
    """The whole advice from the planned scenario (the default), checked by re-evaluation."""
    return assessed.site(time_limit=30, check=True)


@pytest.fixture(scope="module")
def current(assessed):
    plan = assessed.plan
    access = assessed.access
    return propose_sites(plan, assessed.layers, assessed.results, network=access.network,
                         demand=access.demand, scenario="current",
                         water=assessed.streets.water, time_limit=30, service_areas_=False)


def outcome(siting, target):
    return siting.outcomes.set_index("target").loc[target]


def test_requests_start_from_the_planned_scenario(assessed):
    planned = kind_requests(assessed.plan, assessed.layers, assessed.results)
    station = planned.kinds["protection_station"]
    assert [t.id for t in station.targets] == ["22a", "22b"]
    # PS4 is planned in 白杨办事处: only 望湖 is left, and one station of the five
    assert station.required == ["S5"] and station.count_needed == 1
    assert planned.kinds["children_home"].required == ["U06", "U23", "U34"]  # CH17 in 张湾村
    assert [t.id for t in planned.per_capita] == ["8b", "35"]
    assert [t.id for t in planned.standards] == [f"标准{i}" for i in range(1, 7)]
    why = {s["target"]: s["note_en"] for s in planned.skipped}
    assert "designation" in why["27"] and "several kinds" in why["9b"]
    assert "indicator" in why["4"] and "street" in why["24b"]
    now = kind_requests(assessed.plan, assessed.layers, assessed.results, scenario="current")
    assert now.kinds["protection_station"].required == ["S4", "S5"]
    assert now.kinds["protection_station"].count_needed == 2
    assert now.kinds["children_home"].required == ["U06", "U17", "U23", "U34"]


def test_planned_advice_builds_only_what_is_missing(planned):
    sites = planned.sites
    stations = sites[sites["kind"] == "protection_station"]
    assert stations["subdistrict_name"].tolist() == ["望湖办事处"]  # not a second 白杨 station
    homes = sites[sites["run"] == "children_home"]
    assert sorted(homes["unit_name"]) == sorted(["李庄村", "陈岗村", "玉兰社区"])  # not 张湾村
    care = sites[sites["run"] == "childcare"]
    assert "瑞景社区" not in set(care["unit_name"])  # TY27 (60 places) is planned there
    assert outcome(planned, "22a")["planned"].startswith("规划项目已补 1 处：白杨办事处未成年人保护工作站")
    assert "张湾村儿童之家" in outcome(planned, "29")["planned"]
    assert "文昌托育中心（规划）" in outcome(planned, "8a")["planned"]
    for run in planned.runs:
        assert run["optimal"] == (run["status"] == "optimal"
                                  and all(s["status"] == "optimal" for s in run["stages"]))
    assert all(run["optimal"] for run in planned.runs)


def test_advice_names_the_planned_projects_and_what_remains(planned, assessed):
    zh = dict(cfplan.analysis.siting.advice.advice(planned, assessed.plan, lang="zh"))
    home = next(v for k, v in zh.items() if k.startswith("29 "))
    assert home.startswith("规划项目已补 1 处：张湾村儿童之家（张湾村）；仍需新建 3 个儿童之家：")
    assert "李庄村（东风办事处）" in home
    station = next(v for k, v in zh.items() if k.startswith("22b "))
    assert "仍需新建 1 所未成年人保护工作站：望湖办事处（张湾村）" in station
    care = next(v for k, v in zh.items() if k.startswith("8a "))
    assert "扩建 2 家现有托育机构" in care and "阳光社区托育中心（阳光社区，15→20 托位）" in care
    closed = next(v for k, v in zh.items() if k.startswith("33a "))
    assert closed.endswith("规划项目完成后即达成，无需另行新建")
    assert not any(k.startswith("标准") for k in zh)  # standards are not 建设建议
    en = dict(cfplan.analysis.siting.advice.advice(planned, assessed.plan, lang="en"))
    assert "still build 3 children's homes" in next(v for k, v in en.items()
                                                    if k.startswith("29 ")).lower()
    lines = advice_section(planned, assessed.plan, lang="zh")
    split = lines.index("## 国家标准参照：优先选址")
    assert lines[0] == "## 建设建议"
    assert not any(line.startswith("### 标准") for line in lines[:split])
    assert sum(line.startswith("### 标准") for line in lines[split:]) == 6


def test_current_scenario_gives_todays_view(current):
    sites = current.sites
    assert sorted(sites.loc[sites["kind"] == "protection_station", "subdistrict_name"]) == [
        "望湖办事处", "白杨办事处"]
    homes = sites[sites["run"] == "children_home"]
    assert sorted(homes["unit_name"]) == sorted(["李庄村", "张湾村", "陈岗村", "玉兰社区"])
    assert (current.outcomes["planned"] == "").all()


def test_planned_never_needs_more_sites_than_current(planned, current):
    def counts(siting):
        new = siting.sites[siting.sites["action"] == "new"]
        out = new[new["origin"] == "plan"].groupby("run").size().to_dict()
        full = siting.outcomes.dropna(subset=["full_count"])
        out.update({f"{t}:full": int(c) for t, c in zip(full["target"], full["full_count"],
                                                         strict=True)})
        return out

    now, then = counts(current), counts(planned)
    assert set(then) <= set(now) and {f"标准{i}:full" for i in range(1, 7)} <= set(then)
    for run, n in then.items():
        assert n <= now[run], run
    assert then["标准3:full"] == now["标准3:full"] == 97  # the audit's 98 was not optimal
    assert current.candidates == {k: v for k, v in planned.candidates.items()
                                  if k in current.candidates}


def test_applied_sites_meet_every_target_they_were_proposed_for(planned, assessed):
    layers = apply_sites(assessed.layers, planned)
    added = layers.facilities[layers.facilities["_file"] == "(siting)"]
    new = planned.sites[(planned.sites["origin"] == "plan") & (planned.sites["action"] == "new")]
    assert len(added) == len(new) and (added["status"] == "planned").all()
    assert (added.loc[added["kind"] == "protection_station", "level"] == "subdistrict").all()
    grown = planned.sites[planned.sites["action"] == "expand"]
    fac = layers.facilities.set_index("fid")
    for fid, cap in zip(grown["candidate"], grown["capacity"], strict=True):
        assert fac.loc[fid, "capacity"] == cap
    assert len(assessed.layers.facilities) + len(new) == len(layers.facilities)  # a copy
    sited = planned.outcomes[planned.outcomes["sited"].astype(bool)
                             & (planned.outcomes["origin"] != "standard")]
    assert set(sited["target"]) == {"8a", "8b", "22a", "22b", "29", "35", "37a"}
    assert sited["closed"].all()
    assert (sited["status_applied"] == "met").all(), sited[["target", "status_applied"]]
    check = planned.applied.set_index("target")
    assert check.loc["8b", "value"] >= 6.0 and check.loc["35", "value"] >= 0.8
    again = with_applied(planned, assessed.results)  # unchanged layers: still not met
    assert (again.outcomes.set_index("target").loc["29", "status_applied"]) == "not_met"


def test_per_person_targets_are_sited(planned, assessed):
    by_key = {(r.target.id, r.scenario): r for r in assessed.results}
    row = outcome(planned, "8b")
    needed = by_key[("8b", "planned")].needed
    assert row["needed"] == needed and row["value_after"] >= 6.0
    sites = planned.sites
    care = sites[sites["run"] == "childcare"]
    assert row["places_added"] >= needed
    assert row["places_added"] == care["places"].sum() + sites.loc[
        sites["run"] == "childcare@8b", "places"].sum()
    grown = sites[(sites["run"] == "childcare@8b") & (sites["action"] == "expand")]
    before = grown["capacity"] - grown["places"]
    assert (grown["places"] <= np.floor(0.25 * before) + 1e-9).all() and len(grown)
    new = sites[(sites["run"] == "childcare@8b") & (sites["action"] == "new")]
    assert (new["capacity"] == 60).all()
    pitches = sites[sites["run"] == "football_pitch@35"]
    assert len(pitches) == outcome(planned, "35")["needed"] == 2
    assert outcome(planned, "35")["value_after"] >= 0.8


def test_standards_are_ranked_within_a_budget(planned, assessed):
    std = planned.sites[planned.sites["origin"] == "standard"]
    assert std.groupby("run").size().max() == 10 and std["run"].nunique() == 6
    row = outcome(planned, "标准1")
    assert row["full_count"] > 100 and "全部覆盖需新建" in row["note"]
    assert row["value_after"] > row["value_before"]
    access = assessed.access
    three = propose_sites(assessed.plan, assessed.layers, assessed.results,
                          network=access.network, demand=access.demand,
                          kinds=["middle_school"], budget=3, water=assessed.streets.water,
                          service_areas_=False)
    assert len(three.sites) == 3 and outcome(three, "标准4")["full_count"] >= 3
    curve = three.tradeoff
    assert curve["k"].tolist() == [1, 2, 3] and (np.diff(curve["covered"]) >= -1e-6).all()


def test_tradeoff_point_at_the_proposal_is_its_coverage(planned):
    curve = planned.tradeoff
    records = {r["run"]: r for r in planned.runs}
    for run, rows in curve.groupby("run"):
        proposed = int(rows["proposed"].iloc[0])
        at = rows[rows["k"] == proposed]
        assert len(at) == 1, run
        assert at["covered"].iloc[0] == pytest.approx(records[run]["covered"], abs=1e-6), run


def test_every_not_met_target_is_sited_or_explained(planned, assessed):
    not_met = {r.target.id for r in assessed.results if r.scenario == "planned"
               and r.status == "not_met" and r.target.metric != "same_as"}
    rows = planned.outcomes.set_index("target")
    assert not_met <= set(rows.index)
    unsited = rows[~rows["sited"].astype(bool) & ~rows["closed"].astype(bool)]
    assert (unsited["note"] != "").all() and (unsited["note_en"] != "").all()
    items = dict(cfplan.analysis.siting.advice.advice(planned, assessed.plan))
    assert "27" in items["不靠新建选址的未达标目标"]


def test_outputs_files_rounded(planned, tmp_path):
    files = write_siting(planned, tmp_path)
    assert {f.name for f in files} == {"sites.geojson", "siting.json", "siting_targets.csv",
                                       "tradeoff.csv", "siting_check.csv"}
    geo = json.loads((tmp_path / "sites.geojson").read_text(encoding="utf-8"))
    assert len(geo["features"]) == len(planned.sites)
    props = geo["features"][0]["properties"]
    assert set(props) == set(SITE_COLUMNS)
    for f in geo["features"]:
        for key in ("new_population", "new_children", "capacity", "places"):
            value = f["properties"][key]
            assert value is None or value == int(value), (key, value)
    record = json.loads((tmp_path / "siting.json").read_text(encoding="utf-8"))
    assert record["scenario"] == "planned" and record["budget"] == 10
    for run in record["runs"]:
        assert run["optimal"] == (run["status"] == "optimal")
        assert {"demand", "candidates"} <= set(run["sizes"])
        assert run["solver"].startswith("highs") and run["distance_mode"] == "walking"
    targets = pd.read_csv(tmp_path / "siting_targets.csv", encoding="utf-8-sig")
    shares = targets[targets["metric"] == "accessibility"]
    for value in shares["value_after"].dropna():
        assert value == round(value, 3)
    assert targets.set_index("target").loc["8b", "value_after"] == round(
        outcome(planned, "8b")["value_after"], 2)
    curve = pd.read_csv(tmp_path / "tradeoff.csv", encoding="utf-8-sig")
    assert (curve["covered"] == curve["covered"].round(0)).all()
    assert (curve["share"] == curve["share"].round(3)).all()
    again = tmp_path / "again"
    write_siting(planned, again)
    for name in ("sites.geojson", "siting_targets.csv", "tradeoff.csv"):
        assert (again / name).read_bytes() == (tmp_path / name).read_bytes()


def test_map_layer_and_chart(assessed, planned):
    assert [b.__qualname__.split(".")[0] for b in assessed.map_layers()] == [
        "routes_layer", "siting_layers"]
    html = offline_html(assessed.map())
    for text in ("建议选址：未成年人保护工作站（1 处）", "建议选址服务范围：儿童之家",
                 "建议新建儿童之家 #3", "国家标准 标准1，优先 10 处",
                 "建议扩建：阳光社区托育中心（+5 托位）"):
        assert text in html or json.dumps(text)[1:-1] in html, text
    new = planned.sites[planned.sites["action"] == "new"]
    assert len(planned.service_areas) == len(new)
    chart = tradeoff_figure(planned.tradeoff, lang="zh")
    assert chart is not None and chart.png[:4] == b"\x89PNG"


def test_single_model(assessed):
    result, sites = assessed.site_model("children_home", "mclp", k=2)
    assert result.model == "MCLP" and result.status == "optimal" and len(sites) == 2
    assert (sites["new_children"] > 0).all()
    median, msites = assessed.site_model("children_home", "pmedian", k=2)
    assert median.model == "PMedian" and len(msites) == 2 and median.status == "optimal"
    cover, csites = assessed.site_model("middle_school", "lscp")
    assert cover.optimal and [s.name for s in cover.stages] == ["count", "coverage"]
    assert len(csites) == int(cover.objective) and not math.isnan(cover.covered)


def test_cli_usage_errors_before_any_work(tmp_path):
    assert main(["site", "--out", str(tmp_path), "--model", "mclp"]) == 64
    assert main(["site", "--out", str(tmp_path), "--kind", "park", "--model", "mclp"]) == 64
    assert main(["site", "--out", str(tmp_path), "--layers", "x"]) == 64
    assert main(["site", "--out", str(tmp_path), "--budget", "0"]) == 64
    assert main(["site", "--out", str(tmp_path), "--expand-share", "2"]) == 64


def test_candidate_layer_loaded_with_units_and_kind(tmp_path):
    folder = make_folder(tmp_path / "d", [
        {"code": "U1", "name": "甲社区", "box": (0, 0, 500, 500)},
        {"code": "U2", "name": "乙社区", "box": (500, 0, 1000, 500)}],
        [{"名称": "甲之家", "类别": "儿童之家", "x": 100, "y": 100}])
    write_fc(folder / "lots.geojson", [
        ({"编号": "L1", "名称": "空地一", "拟建类别": "儿童之家"}, point(700, 200)),
        ({"名称": "空地二", "托位": "30"}, point(200, 300)),
        ({"名称": "空地三", "托位": "-5"}, point(300, 300))])
    manifest = folder / "layers.toml"
    manifest.write_text(manifest.read_text(encoding="utf-8")
                        + '[layers."候选地块"]\nfile = "lots.geojson"\n', encoding="utf-8")
    layers = load_layers(folder)
    cand = layers.candidates
    assert cand["fid"].tolist() == ["L1", "lots-0002"]
    assert cand["unit"].tolist() == ["U2", "U1"]
    assert cand["kind"].tolist()[0] == "children_home" and pd.isna(cand["kind"].iloc[1])
    assert cand["capacity"].iloc[1] == 30.0
    bad = [r for r in layers.rejected if r.layer == "candidates"]
    assert len(bad) == 1 and bad[0].field == "托位" and "负" in bad[0].reason.zh
    row = layers.accounting[layers.accounting["layer"] == "candidates"].iloc[0]
    assert (row["read"], row["used"], row["rejected"]) == (3, 2, 1)


def test_proposed_sites_in_the_geopackage(assessed, planned, tmp_path):
    import pyogrio

    assessed._write_gis(tmp_path, {}, shp=None)
    back = pyogrio.read_dataframe(tmp_path / "cfplan.gpkg", layer="proposed_sites")
    assert len(back) == len(planned.sites)
    assert set(back.columns) == {*SITE_COLUMNS, "geometry"}
    assert sorted(back["unit_name"]) == sorted(planned.sites["unit_name"])


def test_share_counts_are_exact_and_planned_never_needs_more(assessed):
    """The audit's 标准3 case: a share model on the demo's 小学 once reported 98 "optimal"."""
    from cfplan.analysis.plan import Filters
    from cfplan.analysis.siting import LSCP
    from cfplan.analysis.siting.runs import SiteContext

    access = assessed.access
    counts = {}
    for scenario in ("current", "planned"):
        ctx = SiteContext(assessed.layers, access.network, access.demand, scenario,
                          assessed.streets.water)
        cands = ctx.candidates("primary_school")
        costs = ctx.costs(cands, radius=500.0, existing=ctx.existing("primary_school",
                                                                    Filters()))
        full = LSCP(costs.cost, radius=500.0, uncoverable="ignore", weights=costs.weights,
                    existing=costs.existing).solve()
        share = LSCP(costs.cost, radius=500.0, share=0.9, weights=costs.weights,
                     existing=costs.existing).solve()
        assert full.optimal and share.optimal, (full.status, share.status)
        assert [s.status for s in share.stages] == ["optimal", "optimal"]
        assert share.covered >= 0.9 * costs.weights.sum() - 1e-6
        counts[scenario] = (int(full.objective), int(share.objective))
        assert len(cands) == 498  # the same candidates in both scenarios
    assert counts["current"][0] == counts["planned"][0] == 97
    assert counts["planned"][1] <= counts["current"][1]
