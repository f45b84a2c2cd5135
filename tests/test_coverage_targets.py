"""Accessibility targets with their own filters or radius, and unknown child populations."""

from __future__ import annotations

import dataclasses
import json
import shutil

import pytest

from cfplan.analysis.coverage import scenario_coverage
from cfplan.analysis.evaluate import Context, eval_accessibility
from cfplan.analysis.plan import Filters, Target
from cfplan.analysis.selection import target_key
from cfplan.demo import DEMO_DIR
from cfplan.layers.streets import load_streets
from cfplan.pipeline import run


def park_target(tid: str, **kw) -> Target:
    return Target(id=tid, domain="成长空间友好", item=tid, title="", wording="",
                  metric="accessibility", year=2025, target=1.0, kinds=("park",),
                  population="children", **kw)


@pytest.fixture(scope="module")
def coverage(demo_layers, jingkai):
    plan = dataclasses.replace(jingkai, targets=(
        park_target("cf", filters=Filters(child_friendly=True)),
        park_target("far", radius_m=1000.0),
        park_target("plain"),
    ))
    streets = load_streets(demo_layers)
    return plan, scenario_coverage(demo_layers, streets.network,
                                   components=streets.components, plan=plan)


def share(cov, key, scenario):
    rows = cov.coverage
    row = rows[(rows["kind"] == key) & (rows["level"] == "overall")
               & (rows["scenario"] == scenario)]
    return float(row.iloc[0]["share_children"])


def test_keys(coverage):
    plan, _ = coverage
    keys = [target_key(t) for t in plan.targets]
    assert keys == ["park@cf", "park@far", "park"]


def test_filtered_target_counts_only_matching_parks(coverage, demo_layers):
    plan, cov = coverage
    everything = share(cov, "park", "current")
    friendly = share(cov, "park@cf", "current")
    assert 0 < friendly < everything  # only 锦绣公园 is built and child-friendly
    assert share(cov, "park@cf", "planned") > friendly  # + the planned 星河公园
    r = eval_accessibility(plan.targets[0], Context(demo_layers, "current", None,
                                                    cov.coverage, plan.id))
    assert r.status == "not_met" and r.value == pytest.approx(friendly)


def test_own_radius(coverage, demo_layers):
    plan, cov = coverage
    assert share(cov, "park@far", "current") > share(cov, "park", "current")
    r = eval_accessibility(plan.targets[1], Context(demo_layers, "current", None,
                                                    cov.coverage, plan.id))
    assert r.extra["radius_m"] == 1000.0


def test_missing_child_population_makes_child_targets_unknown(tmp_path):
    layers = tmp_path / "layers"
    shutil.copytree(DEMO_DIR, layers)
    units = json.loads((layers / "units.geojson").read_text(encoding="utf-8"))
    units["features"][0]["properties"]["儿童人口"] = None
    (layers / "units.geojson").write_text(json.dumps(units, ensure_ascii=False), encoding="utf-8")
    out = run(layers, "jingkai", tmp_path / "out", write_map=False)
    by = {(r.target.id, r.scenario): r for r in out.results}
    assert by[("标准5", "current")].status == "unknown"
    assert "儿童人口缺失" in by[("标准5", "current")].reason.zh


def test_hand_worked_coverage_on_one_street(tmp_path):
    """One 1 km street; a kindergarten at its west end. Every home's walk is its distance
    along the street plus its distance to it, so the share within 300 m can be counted by
    hand (no point lies within 5 m of the radius)."""
    from conftest import lonlat, make_folder

    from cfplan.layers.load import load_layers

    units = [{"code": "U1", "name": "甲", "pop": 1000, "kids": 200, "box": (0, 0, 1000, 100)}]
    fac = [{"编号": "K1", "名称": "幼", "类别": "幼儿园", "状态": "现状", "x": 0, "y": 50}]
    folder = make_folder(tmp_path / "street", units, fac)
    nodes = "".join(
        f'<node id="{i + 1}" lat="{lonlat(x, 50)[1]:.9f}" lon="{lonlat(x, 50)[0]:.9f}"/>'
        for i, x in enumerate(range(0, 1001, 100)))
    refs = "".join(f'<nd ref="{i + 1}"/>' for i in range(11))
    (folder / "streets.osm").write_text(
        f'<?xml version="1.0"?><osm version="0.6">{nodes}<way id="1">{refs}'
        '<tag k="highway" v="residential"/></way></osm>', encoding="utf-8")
    with open(folder / "layers.toml", "a", encoding="utf-8") as fh:
        fh.write('\n[streets]\nfile = "streets.osm"\n')
    layers = load_layers(folder)
    cov = scenario_coverage(layers, load_streets(layers).network)
    x0, y0 = layers.facilities.geometry.iloc[0].x, layers.facilities.geometry.iloc[0].y
    walk = (cov.demand.geometry.x - x0).abs() + (cov.demand.geometry.y - y0).abs()
    assert ((walk - 300).abs() > 5).all()
    expected = cov.demand.loc[walk <= 300, "children"].sum() / cov.demand["children"].sum()
    rows = cov.coverage
    got = rows[(rows["kind"] == "kindergarten") & (rows["level"] == "overall")
               & (rows["scenario"] == "current")].iloc[0]
    assert 0 < expected < 1
    assert got["share_children"] == pytest.approx(expected)
    d = cov.distances[cov.distances["kind"] == "kindergarten"]["distance_m"].to_numpy()
    assert d == pytest.approx(walk.to_numpy(), abs=0.01)  # metres, in EPSG:4547
