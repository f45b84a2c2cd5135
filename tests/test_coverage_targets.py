"""Accessibility targets with their own filters or radius, and unknown child populations."""

from __future__ import annotations

import dataclasses
import json
import shutil

import pytest

from analysis.coverage import scenario_coverage, target_key
from analysis.evaluate import Context, eval_accessibility
from analysis.plan import Filters, Target
from cfplan.pipeline import load_streets, run
from layers.demo import DEMO_DIR


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
    graph, _, _ = load_streets(demo_layers)
    return plan, scenario_coverage(demo_layers, graph, plan=plan)


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
    assert "儿童人口缺失" in by[("标准5", "current")].reason
