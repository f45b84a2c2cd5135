"""The workbench engine: incremental edits equal a full assessment of the edited layers.

Every test compares against the real pipeline (``assess`` of the same edited layers, or
``cfplan run --scenario-file``), never against numbers written down by hand, except the
demo's known gaps (29 lacks 儿童之家 in 4 units; 22b lacks a station in 白杨 and 望湖).
"""

from __future__ import annotations

import pandas as pd
import pytest
from conftest import point_in

from cfplan.analysis.report import targets_table
from cfplan.analysis.workbench import (
    EditError,
    apply_scenario,
    read_scenario,
    scenario_text,
)
from cfplan.cli import main
from cfplan.demo import DEMO_DIR
from cfplan.pipeline import assess


def edits_for(layers) -> list[dict]:
    lon, lat = point_in(layers, "units", "李庄村")
    b_lon, b_lat = point_in(layers, "subdistricts", "白杨办事处")
    k_lon, k_lat = point_in(layers, "units", "张湾村")
    p_lon, p_lat = point_in(layers, "units", "孙河村")
    c_lon, c_lat = point_in(layers, "units", "明珠社区")
    return [
        {"op": "add", "kind": "children_home", "lon": lon, "lat": lat, "name": "李庄村儿童之家"},
        {"op": "move", "fid": "PS3", "lon": b_lon, "lat": b_lat},
        {"op": "add", "kind": "幼儿园", "lon": k_lon, "lat": k_lat, "name": "张湾村幼儿园",
         "capacity": 90, "level": "社区"},
        {"op": "remove", "fid": "CH01"},
        {"op": "planned", "fid": "CH17", "outcome": "done"},
        {"op": "population", "unit": "U05", "population": 20000, "children": 4000},
        {"op": "add", "kind": "park", "lon": p_lon, "lat": p_lat, "name": "孙河村小游园"},
        {"op": "add", "kind": "childcare", "lon": c_lon, "lat": c_lat, "name": "明珠托育",
         "capacity": 30},
        {"op": "planned", "fid": "PS4", "outcome": "dropped"},
    ]


def table(plan, results) -> pd.DataFrame:
    return pd.concat([targets_table(plan, results, lang=lang) for lang in ("zh", "en")],
                     axis=1)


@pytest.fixture(scope="module")
def full_edited(demo_run):
    """The demo's layers with every edit made, assessed from scratch."""
    steps = [[e] for e in edits_for(demo_run.layers)]
    layers, _ = apply_scenario(demo_run.layers, steps)
    return assess(layers, "jingkai")


@pytest.mark.parametrize("base", ["current", "planned"])
def test_incremental_edits_equal_a_full_assessment(demo_run, full_edited, base):
    wb = demo_run.workbench(base=base)
    for edit in edits_for(demo_run.layers):
        wb.edit(edit)
    full = [r for r in full_edited.results if r.scenario == base]
    pd.testing.assert_frame_equal(table(wb.plan, wb.results), table(full_edited.plan, full))


def test_edits_say_what_changed(demo_run):
    wb = demo_run.workbench()
    edits = edits_for(demo_run.layers)
    added = wb.edit(edits[0])
    summaries = {c.target.id: c.summary("zh") for c in added.changed}
    assert summaries["29"] == "29：缺儿童之家的村/社区 4 → 3"
    assert "李庄村" not in wb.results[[r.target.id for r in wb.results].index("29")].shortfall.zh
    moved = wb.edit(edits[1])
    assert [c.target.id for c in moved.changed] == ["22b"]
    assert moved.changed[0].summary("zh") == (
        "22b：缺未成年人保护工作站的办事处 白杨办事处、望湖办事处 → 青松办事处、望湖办事处")
    assert moved.changed[0].summary("en").startswith("22b: subdistricts without a ")
    undone = wb.undo()
    assert [c.target.id for c in undone.changed] == ["22b"]
    undone = wb.undo()
    assert undone.changed[0].summary("zh") == "29：缺儿童之家的村/社区 3 → 4"
    assert not wb.can_undo and wb.undo() is None
    redone = wb.redo()
    assert redone.changed[0].summary("zh") == "29：缺儿童之家的村/社区 4 → 3"
    # a new edit after an undo drops what could be redone
    wb.undo()
    wb.edit(edits[3])
    assert not wb.can_redo


def test_unrelated_targets_are_not_evaluated_again(demo_run, monkeypatch):
    import cfplan.analysis.workbench.engine as engine

    seen = []
    real = engine.evaluate_plan

    def spy(plan, *args, **kwargs):
        seen.append([t.id for t in plan.targets])
        return real(plan, *args, **kwargs)

    monkeypatch.setattr(engine, "evaluate_plan", spy)
    wb = demo_run.workbench()
    wb.edit(edits_for(demo_run.layers)[1])  # move a protection station
    assert seen == [["22a", "22b"]]


@pytest.mark.parametrize(("payload", "field"), [
    ({"op": "add", "kind": "castle", "lon": 113.7, "lat": 34.7, "name": "x"}, "kind"),
    ({"op": "add", "kind": "park", "lon": float("nan"), "lat": 34.7, "name": "x"}, "lon"),
    ({"op": "add", "kind": "park", "lon": 100.0, "lat": 30.0, "name": "x"}, "lon"),
    ({"op": "add", "kind": "park", "lon": 113.7, "lat": 34.7, "name": "x" * 201}, "name"),
    ({"op": "add", "kind": "park", "lon": 113.7, "lat": 34.7, "name": "a\nb"}, "name"),
    ({"op": "add", "kind": "park", "lon": True, "lat": 34.7, "name": "x"}, "lon"),
    ({"op": "add", "kind": "park", "lon": 113.7, "lat": 34.7, "name": "x", "path": "/etc"},
     "path"),
    ({"op": "move", "fid": "NOPE", "lon": 113.7, "lat": 34.7}, "fid"),
    ({"op": "remove"}, "fid"),
    ({"op": "planned", "fid": "CH01", "outcome": "done"}, "fid"),
    ({"op": "planned", "fid": "CH17", "outcome": "maybe"}, "outcome"),
    ({"op": "population", "unit": "U05", "population": -1}, "population"),
    ({"op": "population", "unit": "U99", "population": 10}, "unit"),
    ({"op": "explode"}, "op"),
])
def test_bad_edits_name_the_field_and_change_nothing(demo_run, payload, field):
    wb = demo_run.workbench()
    before = table(wb.plan, wb.results)
    with pytest.raises(EditError) as err:
        wb.edit(payload)
    assert err.value.field == field
    assert not wb.can_undo and len(wb.layers.facilities) == len(demo_run.layers.facilities)
    pd.testing.assert_frame_equal(table(wb.plan, wb.results), before)


def test_a_bad_edit_in_a_batch_changes_nothing(demo_run):
    wb = demo_run.workbench()
    good = edits_for(demo_run.layers)[0]
    with pytest.raises(EditError):
        wb.edit([good, {"op": "remove", "fid": "NOPE"}])
    assert not wb.can_undo and len(wb.layers.facilities) == len(demo_run.layers.facilities)


def test_scenario_file_reads_back_and_run_reproduces_the_table(demo_run, tmp_path):
    wb = demo_run.workbench()
    edits = edits_for(demo_run.layers)
    wb.edit(edits[0])
    wb.edit([edits[1], edits[2]])  # one step of two edits
    from cfplan.analysis.workbench import Scenario, layers_digest

    scenario = Scenario("jingkai", "current", "demo", layers_digest(DEMO_DIR), wb.edits,
                        name='名称 "带引号" \\ 与 <标签>')
    text = scenario_text(scenario)
    assert text == scenario_text(scenario)  # deterministic
    path = tmp_path / "a.scenario"
    path.write_text(text, encoding="utf-8")
    header, steps = read_scenario(path)
    assert header.name == scenario.name and [len(s) for s in steps] == [1, 2]
    assert header.layers_digest == layers_digest(DEMO_DIR)
    # the full table, routes included (cfplan report: cfplan run without the map)
    out2 = tmp_path / "out2"
    assert main(["report", "--layers", str(DEMO_DIR), "--plan", "jingkai", "--scenario-file",
                 str(path), "--out", str(out2)]) == 0
    csv = pd.read_csv(out2 / "targets.csv", dtype=str, keep_default_na=False)
    mine = targets_table(wb.plan, wb.results).astype(str)
    theirs = csv[csv["scenario"] == "current"].reset_index(drop=True)
    for column in ("target_id", "status", "value", "shortfall"):
        assert theirs[column].tolist() == mine[column].tolist(), column


def test_assess_accepts_a_scenario_file(demo_run, tmp_path):
    wb = demo_run.workbench(base="planned")
    wb.edit(edits_for(demo_run.layers)[0])
    from cfplan.analysis.workbench import Scenario

    path = tmp_path / "p.scenario"
    path.write_text(scenario_text(Scenario("jingkai", "planned", "demo", "", wb.edits)),
                    encoding="utf-8")
    edited = assess(DEMO_DIR, "jingkai", scenario=path)
    assert edited.scenario is not None and edited.scenario.base == "planned"
    assert len(edited.layers.facilities) == len(demo_run.layers.facilities) + 1
    planned = [r for r in edited.results if r.scenario == "planned"]
    pd.testing.assert_frame_equal(table(wb.plan, wb.results), table(edited.plan, planned))


def test_a_scenario_of_other_layers_or_plan_is_refused(demo_run, tmp_path):
    from cfplan.analysis.workbench import Scenario
    from cfplan.layers.errors import InputError

    wb = demo_run.workbench()
    wb.edit(edits_for(demo_run.layers)[0])
    for plan, digest, field in (("shangjie", "", "plan"), ("jingkai", "0" * 64, "layers_digest")):
        path = tmp_path / f"{field}.scenario"
        path.write_text(scenario_text(Scenario(plan, "current", "demo", digest, wb.edits)),
                        encoding="utf-8")
        with pytest.raises(InputError) as err:
            assess(DEMO_DIR, "jingkai", scenario=path)
        assert err.value.field == field
    broken = tmp_path / "broken.scenario"
    text = scenario_text(Scenario("jingkai", "current", "demo", "", wb.edits))
    broken.write_text(text.replace('"children_home"', '"castle"'), encoding="utf-8")
    with pytest.raises(InputError) as err:
        assess(DEMO_DIR, "jingkai", scenario=broken)
    assert (err.value.row, err.value.field) == (1, "kind")
    assert main(["report", "--layers", str(DEMO_DIR), "--plan", "jingkai", "--scenario-file",
                 str(broken), "--out", str(tmp_path / "x")]) == 2


def test_compare_two_saved_scenarios(demo_run, tmp_path):
    from cfplan.analysis.workbench import Scenario, layers_digest
    from cfplan.scenarios import compare_scenarios

    edits = edits_for(demo_run.layers)
    paths = []
    for name, chosen in (("a", [edits[0]]), ("b", [edits[1]])):
        wb = demo_run.workbench()
        for e in chosen:
            wb.edit(e)
        path = tmp_path / f"{name}.scenario"
        path.write_text(scenario_text(Scenario("jingkai", "current", "demo",
                                               layers_digest(DEMO_DIR), wb.edits)),
                        encoding="utf-8")
        paths.append(path)
    side = compare_scenarios(demo_run.layers, demo_run.plan, *paths)
    differs = side.loc[side["differs"], "id"].tolist()
    assert differs == ["22b", "29", "重点工程4"]
    row = side.set_index("id").loc["29"]
    assert (row["a_value"], row["b_value"]) == ("91.7%", "88.9%")
    assert main(["compare", str(paths[0]), str(paths[1]), "--out", str(tmp_path / "c.csv")]) == 0
    back = pd.read_csv(tmp_path / "c.csv", dtype=str, keep_default_na=False)
    assert back.loc[back["differs"] == "True", "id"].tolist() == differs


@pytest.mark.parametrize("kind", ["kindergarten", "park", "childcare"])
def test_walking_reach_equals_an_unbounded_search_within_its_limit(demo_run, kind):
    import numpy as np

    from cfplan.analysis.access import snap_facilities
    from cfplan.analysis.plan import Filters
    from cfplan.analysis.selection import select
    from cfplan.geo.paths import node_distances

    wb = demo_run.workbench()
    edits = edits_for(demo_run.layers)
    for e in (edits[2], edits[6], edits[7], {"op": "remove", "fid": str(
            demo_run.layers.facilities.query("kind == @kind")["fid"].iloc[0])}):
        wb.edit(e)
    fac = wb.layers.facilities
    sure, _ = select(fac, (kind,), Filters(), scenario="current")
    sources = snap_facilities(wb.network, fac[sure].reset_index(drop=True),
                              entrances=wb.layers.entrances)[kind]
    full = node_distances(wb.network, sources).distance
    mine = wb.reach(kind)
    assert mine.limit_m >= 1000.0
    inside = full <= mine.limit_m
    assert inside.sum() > 100
    assert np.array_equal(mine.nodes.distance[inside], full[inside])
    assert np.isinf(mine.nodes.distance[~inside]).all()
