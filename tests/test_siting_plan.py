"""Plan-driven siting on the demo: the designed gaps get their sites, outputs, map and report."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from conftest import make_folder, point, write_fc

import cfplan
from cfplan.analysis.siting.export import advice_section, write_siting
from cfplan.analysis.siting.plan_sites import (
    SITE_COLUMNS,
    advice,
    kind_requests,
    propose_sites,
)
from cfplan.cli import main
from cfplan.layers.load import load_layers
from cfplan.maps.plan_map import offline_html
from cfplan.maps.siting_figure import tradeoff_figure

PLAN_KINDS = ["protection_station", "children_home"]


@pytest.fixture(scope="module")
def assessed():
    return cfplan.demo_assessment()


@pytest.fixture(scope="module")
def siting(assessed):
    return assessed.site(kinds=PLAN_KINDS, time_limit=30)


def test_targets_on_one_kind_are_solved_together(assessed):
    requests, skipped = kind_requests(assessed.plan, assessed.layers, assessed.results)
    station = requests["protection_station"]
    assert [t.id for t in station.targets] == ["22a", "22b"]
    assert station.required == ["S4", "S5"] and station.count_needed == 2
    assert station.level == "subdistrict"
    assert requests["children_home"].required == ["U06", "U17", "U23", "U34"]
    # a national standard on a kind is solved apart from the plan's own target on it
    assert [t.id for t in requests["childcare"].targets] == ["8a"]
    assert [t.id for t in requests["childcare@standard"].targets] == ["标准2"]
    why = {s["target"]: s["note_en"] for s in skipped}
    assert "designation" in why["27"] and "several kinds" in why["9b"]


def test_two_stations_not_four_one_in_each_missing_office(siting):
    st = siting.sites[siting.sites["kind"] == "protection_station"]
    assert len(st) == 2
    assert sorted(st["subdistrict_name"]) == ["望湖办事处", "白杨办事处"]
    assert set(st["target"]) == {"22a,22b"}
    run = next(r for r in siting.runs if r["kind"] == "protection_station")
    assert run["model"] == "JurisdictionCover" and run["status"] == "optimal"
    assert run["objective"] == run["bound"] == 2.0 and run["gap"] == 0.0
    out = siting.outcomes.set_index("target")
    assert out.loc["22a", "value_after"] == 5 and out.loc["22b", "value_after"] == 1.0
    assert bool(out.loc["22a", "closed"]) and bool(out.loc["22b", "closed"])


def test_four_childrens_homes_one_in_each_unit_without_one(siting):
    homes = siting.sites[siting.sites["kind"] == "children_home"]
    assert sorted(homes["unit_name"]) == sorted(["李庄村", "张湾村", "陈岗村", "玉兰社区"])
    assert homes["rank"].tolist() == [1, 2, 3, 4]
    assert (homes["new_children"] >= 0).all() and homes["new_children"].sum() > 0
    assert siting.outcomes.set_index("target").loc["29", "value_after"] == 1.0


def test_advice_names_each_site_in_both_languages(siting, assessed):
    zh = dict(advice(siting, assessed.plan, lang="zh"))
    label = next(k for k in zh if k.startswith("22b "))
    assert zh[label].startswith("新建 2 所未成年人保护工作站：")
    assert "白杨办事处（" in zh[label] and "望湖办事处（" in zh[label]
    home = next(v for k, v in zh.items() if k.startswith("29 "))
    assert home.startswith("新建 4 个儿童之家：") and "李庄村（东风办事处）" in home
    en = dict(advice(siting, assessed.plan, lang="en"))
    assert next(v for k, v in en.items() if k.startswith("22b ")).startswith(
        "build 2 new minor protection stations: ")
    lines = advice_section(siting, assessed.plan, lang="zh")
    assert lines[0] == "## 建设建议" and any(line.startswith("### 22b ") for line in lines)


def test_unreachable_target_says_so_with_the_best_value(assessed):
    access = assessed.access
    plan = propose_sites(assessed.plan, assessed.layers, assessed.results,
                         network=access.network, demand=access.demand, kinds=["middle_school"],
                         water=assessed.streets.water, service_areas_=False)
    row = plan.outcomes.set_index("target").loc["标准4"]
    run = plan.runs[0]
    assert run["model"] == "LSCP" and run["status"] == "optimal"
    if row["reachable"]:  # every child can be reached: the target is met with the sites
        assert row["value_after"] >= 1.0 - 1e-9
    else:
        assert 0 < row["best_value"] < 1 and "最多可达" in row["note"]
        assert row["value_after"] == pytest.approx(row["best_value"], abs=1e-6)
    curve = plan.tradeoff
    assert curve["k"].tolist() == list(range(1, len(curve) + 1))
    assert (np.diff(curve["covered"]) >= -1e-6).all()  # more sites never cover less
    assert (curve["target_share"] == 1.0).all()


def test_outputs_files(siting, tmp_path):
    files = write_siting(siting, tmp_path)
    assert {f.name for f in files} == {"sites.geojson", "siting.json", "siting_targets.csv",
                                       "tradeoff.csv"}
    geo = json.loads((tmp_path / "sites.geojson").read_text(encoding="utf-8"))
    assert len(geo["features"]) == len(siting.sites) == 6
    assert set(geo["features"][0]["properties"]) == set(SITE_COLUMNS)
    record = json.loads((tmp_path / "siting.json").read_text(encoding="utf-8"))
    for run in record["runs"]:
        assert run["optimal"] == (run["status"] == "optimal")
        assert {"demand", "demand_rows", "candidates", "candidates_kept"} <= set(run["sizes"])
        assert run["solver"].startswith("highs") and run["distance_mode"] == "walking"
    tradeoff = pd.read_csv(tmp_path / "tradeoff.csv", encoding="utf-8-sig")
    assert set(tradeoff["run"]) == set(PLAN_KINDS)
    again = tmp_path / "again"
    write_siting(siting, again)
    assert (again / "sites.geojson").read_bytes() == (tmp_path / "sites.geojson").read_bytes()


def test_map_layer_and_chart(assessed, siting):
    # the school routes' layer, then the proposed sites'
    assert [b.__qualname__.split(".")[0] for b in assessed.map_layers()] == [
        "routes_layer", "siting_layers"]
    html = offline_html(assessed.map())
    for text in ("建议选址：未成年人保护工作站（2 处）", "建议选址服务范围：儿童之家", "建议新建儿童之家 #4"):
        assert text in html or json.dumps(text)[1:-1] in html, text
    assert len(siting.service_areas) == 6
    chart = tradeoff_figure(siting.tradeoff, lang="zh")
    assert chart is not None and chart.png[:4] == b"\x89PNG"


def test_single_model(assessed):
    result, sites = assessed.site_model("children_home", "mclp", k=2)
    assert result.model == "MCLP" and result.status == "optimal" and len(sites) == 2
    assert (sites["new_children"] > 0).all()
    median, msites = assessed.site_model("children_home", "pmedian", k=2)
    assert median.model == "PMedian" and len(msites) == 2 and median.status == "optimal"


def test_cli_usage_errors_before_any_work(tmp_path):
    assert main(["site", "--out", str(tmp_path), "--model", "mclp"]) == 64
    assert main(["site", "--out", str(tmp_path), "--kind", "park", "--model", "mclp"]) == 64
    assert main(["site", "--out", str(tmp_path), "--layers", "x"]) == 64


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


def test_proposed_sites_in_the_geopackage(assessed, siting, tmp_path):
    import pyogrio

    assessed._write_gis(tmp_path, {}, shp=None)
    back = pyogrio.read_dataframe(tmp_path / "cfplan.gpkg", layer="proposed_sites")
    assert len(back) == len(siting.sites) == 6
    assert set(back.columns) == {*SITE_COLUMNS, "geometry"}
    assert sorted(back["unit_name"]) == sorted(siting.sites["unit_name"])
