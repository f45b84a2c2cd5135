"""Exact siting: objectives equal spopt's, greedy never beats the optimum, honest statuses,
jurisdiction constraints hold, walking coverage sets equal networkx, capacities hold."""

from __future__ import annotations

import warnings

import geopandas as gpd
import numpy as np
import pulp
import pytest
import scipy.sparse as sp
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from spopt import locate as spopt
from test_paths import build, problems, reference

from cfplan import siting as public_siting
from cfplan.analysis.siting import (
    EXISTING,
    LSCP,
    MCLP,
    UNSERVED,
    CapacitatedCoverage,
    JurisdictionCover,
    PMedian,
    candidate_sites,
    layer_costs,
    required_groups,
    walking_costs,
)
from cfplan.geo.street_network import street_network_from_arrays

warnings.filterwarnings("ignore", module="spopt")
CBC = pulp.PULP_CBC_CMD(msg=False)
FAST = settings(max_examples=25, deadline=None)


@st.composite
def instances(draw: st.DrawFn) -> dict:
    """A random planar instance: demand and candidate points, integer weights."""
    seed = draw(st.integers(0, 2**32 - 1))
    n_demand = draw(st.integers(5, 60))
    n_cand = draw(st.integers(3, 25))
    rng = np.random.default_rng(seed)
    demand = rng.uniform(0, 100, (n_demand, 2))
    cand = rng.uniform(0, 100, (n_cand, 2))
    cost = np.hypot(*(demand[:, None, :] - cand[None, :, :]).transpose(2, 0, 1))
    return {"cost": cost, "weights": rng.integers(1, 20, n_demand).astype(float),
            "radius": draw(st.floats(10.0, 45.0)), "p": draw(st.integers(1, min(6, n_cand))),
            "seed": seed}


def close(a: float, b: float) -> bool:
    return abs(a - b) <= 1e-6 * max(1.0, abs(a), abs(b))


@FAST
@given(instances())
def test_mclp_objective_equals_spopt(inst: dict) -> None:
    ours = MCLP.from_cost_matrix(inst["cost"], inst["radius"], inst["p"], inst["weights"])
    result = ours.solve(time_limit=30)
    theirs = spopt.MCLP.from_cost_matrix(inst["cost"], inst["weights"], inst["radius"],
                                        inst["p"]).solve(CBC, results=False)
    assert result.status == "optimal"
    assert close(result.objective, pulp.value(theirs.problem.objective))
    assert result.gap == 0 and result.bound == result.objective
    assert len(result.sites) <= inst["p"]
    # the reported coverage is what the sites really cover
    covered = (inst["cost"][:, result.sites] <= inst["radius"]).any(axis=1)
    assert close(result.objective, inst["weights"][covered].sum())
    assert close(result.gains.sum(), result.objective)


@FAST
@given(instances())
def test_lscp_objective_equals_spopt(inst: dict) -> None:
    # a radius every demand point can reach, so spopt's model is feasible
    radius = max(inst["radius"], float(inst["cost"].min(axis=1).max()) + 1e-9)
    result = LSCP.from_cost_matrix(inst["cost"], radius).solve(time_limit=30)
    theirs = spopt.LSCP.from_cost_matrix(inst["cost"], radius).solve(CBC, results=False)
    assert result.status == "optimal"
    assert close(result.objective, pulp.value(theirs.problem.objective))
    assert (inst["cost"][:, result.sites] <= radius).any(axis=1).all()


@FAST
@given(instances())
def test_pmedian_objective_equals_spopt(inst: dict) -> None:
    result = PMedian.from_cost_matrix(inst["cost"], p=inst["p"], weights=inst["weights"]).solve(
        time_limit=30)
    theirs = spopt.PMedian.from_cost_matrix(inst["cost"], inst["weights"], inst["p"]).solve(
        CBC, results=False)
    assert result.status == "optimal"
    assert close(result.objective, pulp.value(theirs.problem.objective))
    walk = inst["cost"][:, result.sites].min(axis=1)
    assert close(result.objective, float((inst["weights"] * walk).sum()))


@FAST
@given(instances())
def test_greedy_never_beats_the_optimum(inst: dict) -> None:
    args = (inst["cost"], inst["radius"], inst["p"], inst["weights"])
    exact = MCLP.from_cost_matrix(*args).solve(time_limit=30)
    greedy = MCLP.from_cost_matrix(*args).solve(method="greedy")
    assert greedy.status == "greedy" and exact.status == "optimal"
    assert greedy.objective <= exact.objective + 1e-9
    assert greedy.bound >= exact.objective - 1e-9  # the (1 - 1/e) bound is a true bound
    radius = max(inst["radius"], float(inst["cost"].min(axis=1).max()) + 1e-9)
    cover_exact = LSCP.from_cost_matrix(inst["cost"], radius).solve(time_limit=30)
    cover_greedy = LSCP.from_cost_matrix(inst["cost"], radius).solve(method="greedy")
    assert cover_greedy.objective >= cover_exact.objective
    assert cover_greedy.bound <= cover_exact.objective
    median = PMedian.from_cost_matrix(inst["cost"], p=inst["p"], weights=inst["weights"])
    assert median.solve(method="greedy").objective >= median.solve().objective - 1e-6


def test_share_lscp_fewest_sites_for_a_share() -> None:
    # 4 points in a row, 1 m apart; candidates at each point, radius 0: each covers itself
    cost = np.abs(np.subtract.outer(np.arange(4.0), np.arange(4.0)))
    weights = np.array([5.0, 3.0, 1.0, 1.0])
    result = LSCP.from_cost_matrix(cost, 0.0, share=0.8, weights=weights).solve()
    assert result.status == "optimal" and result.objective == 2
    assert set(result.sites.tolist()) == {0, 1}
    assert LSCP.from_cost_matrix(cost, 0.0, share=0.5, weights=weights).solve().objective == 1


def hard_instance() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(7)
    demand, cand = rng.uniform(0, 100, (1500, 2)), rng.uniform(0, 100, (200, 2))
    cost = np.hypot(*(demand[:, None, :] - cand[None, :, :]).transpose(2, 0, 1))
    return cost, rng.integers(1, 50, len(demand)).astype(float)


def test_tiny_time_limit_is_never_called_optimal() -> None:
    cost, weights = hard_instance()
    result = MCLP.from_cost_matrix(cost, 12.0, 15, weights).solve(time_limit=1e-3)
    assert result.status == "time_limit"
    assert not result.optimal
    assert result.gap > 0 and result.bound > result.objective
    assert np.isfinite(result.bound)  # the greedy guarantee bounds it even without HiGHS's
    assert len(result.sites) == 15


def test_node_limit_is_reported() -> None:
    # an instance whose root node does not close the gap (seed and sizes found by search)
    rng = np.random.default_rng(4)
    demand, cand = rng.uniform(0, 100, (600, 2)), rng.uniform(0, 100, (120, 2))
    cost = np.hypot(*(demand[:, None, :] - cand[None, :, :]).transpose(2, 0, 1))
    weights = rng.integers(1, 50, len(demand)).astype(float)
    result = MCLP.from_cost_matrix(cost, 18.0, 8, weights).solve(max_nodes=1, presolve=False)
    assert result.status == "node_limit" and not result.optimal
    assert result.gap > 0 and result.bound > result.objective
    assert len(result.sites) == 8
    exact = MCLP.from_cost_matrix(cost, 18.0, 8, weights).solve()
    assert exact.status == "optimal"
    assert result.objective <= exact.objective <= result.bound + 1e-6


def test_results_carry_existing_coverage() -> None:
    # demand 0,1 covered by existing column 2; candidates 0 and 1
    cost = np.array([[5.0, 50.0, 1.0], [50.0, 5.0, 1.0], [5.0, 50.0, 50.0],
                     [50.0, 5.0, 50.0], [50.0, 5.0, 50.0]])
    result = MCLP.from_cost_matrix(cost, 10.0, 1, existing=[2]).solve()
    assert result.objective == 4 and result.existing_value == 2
    assert result.sites.tolist() == [1]
    assert result.assignment.tolist() == [EXISTING, EXISTING, UNSERVED, 1, 1]
    # p-median: the existing facility is open for free; the new site takes two far points
    median = PMedian.from_cost_matrix(cost, p=1, existing=[2]).solve()
    assert median.objective == pytest.approx(1 + 1 + 50 + 5 + 5) and median.sites.tolist() == [1]
    assert median.assignment.tolist() == [EXISTING, EXISTING, EXISTING, 1, 1]
    assert median.existing_value == pytest.approx(1 + 1 + 50 + 50 + 50)
    assert median.gains.tolist() == pytest.approx([90.0])


def test_pmedian_bounded_costs_with_penalty() -> None:
    cost = np.array([[10.0, np.inf], [np.inf, 20.0], [np.inf, np.inf]])
    strict = PMedian.from_cost_matrix(cost, p=2).solve()
    assert strict.status == "infeasible" and "unassigned_cost" in strict.message
    loose = PMedian.from_cost_matrix(cost, p=1, unassigned_cost=100.0).solve()
    assert loose.status == "optimal" and loose.objective == pytest.approx(10 + 100 + 100)
    assert loose.assignment.tolist() == [0, UNSERVED, UNSERVED]


@st.composite
def grouped(draw: st.DrawFn) -> dict:
    inst = draw(instances())
    n_cand = inst["cost"].shape[1]
    groups = np.array([f"G{k}" for k in draw(st.lists(st.integers(0, 4), min_size=n_cand,
                                                      max_size=n_cand))], dtype=object)
    labels = sorted(set(groups.tolist()))
    required = draw(st.lists(st.sampled_from(labels), unique=True, max_size=len(labels)))
    return {**inst, "groups": groups, "required": required}


@FAST
@given(grouped())
def test_jurisdiction_constraints_hold_in_every_solution(inst: dict) -> None:
    options = {"groups": inst["groups"], "required_groups": inst["required"]}
    p = max(inst["p"], len(inst["required"]))
    radius = max(inst["radius"], float(inst["cost"].min(axis=1).max()) + 1e-9)
    results = [
        MCLP.from_cost_matrix(inst["cost"], inst["radius"], p, inst["weights"],
                              **options).solve(),
        MCLP.from_cost_matrix(inst["cost"], inst["radius"], p, inst["weights"],
                              **options).solve(method="greedy"),
        LSCP.from_cost_matrix(inst["cost"], radius, **options).solve(),
        PMedian.from_cost_matrix(inst["cost"], p=p, weights=inst["weights"], **options).solve(),
        JurisdictionCover.from_cost_matrix(inst["cost"], inst["radius"],
                                           weights=inst["weights"], groups=inst["groups"],
                                           required_groups=inst["required"]).solve(),
    ]
    for result in results:
        assert result.status in {"optimal", "greedy"}, result.message
        assert set(inst["required"]) <= set(inst["groups"][result.sites].tolist())
    assert results[-1].objective == len(inst["required"])
    # the group rows cost coverage, never add to it
    free = MCLP.from_cost_matrix(inst["cost"], inst["radius"], p, inst["weights"]).solve()
    assert results[0].objective <= free.objective + 1e-9


def test_jurisdiction_count_target_gives_the_fewest_sites() -> None:
    # 5 stations required in the district, 3 exist, 2 subdistricts lack one -> 2 new, not 4
    groups = np.array(["白杨", "白杨", "望湖", "望湖", "青松", "青松"], dtype=object)
    cost = np.array([[100.0, 900.0, 2000.0, 2000.0, 2000.0, 2000.0],
                     [2000.0, 2000.0, 900.0, 100.0, 2000.0, 2000.0],
                     [2000.0, 2000.0, 2000.0, 2000.0, 100.0, 2000.0]])
    model = JurisdictionCover.from_cost_matrix(
        cost, 500.0, groups=groups, required_groups=["白杨", "望湖"], count_target=5,
        existing_count=3, weights=np.array([10.0, 20.0, 30.0]))
    result = model.solve()
    assert result.status == "optimal"
    assert result.objective == 2 and result.bound == 2 and result.gap == 0
    assert sorted(result.sites.tolist()) == [0, 3]  # placed where they cover most
    assert result.covered == 30
    more = JurisdictionCover.from_cost_matrix(
        None, 0.0, groups=groups, required_groups=["望湖"], count_target=5, existing_count=2)
    answer = more.solve()
    assert answer.objective == 3 and "望湖" in groups[answer.sites].tolist()
    missing = JurisdictionCover.from_cost_matrix(None, 0.0, groups=groups,
                                                 required_groups=["金水"]).solve()
    assert missing.status == "infeasible" and "金水" in missing.message


def test_capacitated_hand_worked() -> None:
    # demand 10 at each of 3 points; A covers points 0,1 (15 places), B covers 1,2 (12),
    # an existing centre E covers point 2 (4 places)
    cost = np.array([[100.0, 900.0, 900.0], [100.0, 100.0, 900.0], [900.0, 100.0, 100.0]])
    capacity = np.array([15.0, 12.0, 4.0])
    q = np.array([10.0, 10.0, 10.0])
    one = CapacitatedCoverage.from_cost_matrix(cost, 300.0, capacity, p=1, weights=q,
                                               existing=[2]).solve()
    assert one.status == "optimal" and one.objective == pytest.approx(19)  # A 15 + E 4
    assert one.sites.tolist() == [0] and one.served.tolist() == pytest.approx([15])
    assert one.existing_value == pytest.approx(4)
    two = CapacitatedCoverage.from_cost_matrix(cost, 300.0, capacity, p=2, weights=q,
                                               existing=[2]).solve()
    assert two.objective == pytest.approx(30)  # A 10+5, B 5+6, E 4
    share = CapacitatedCoverage.from_cost_matrix(cost, 300.0, capacity, share=0.6, weights=q,
                                                 existing=[2]).solve()
    assert share.objective == 1 and share.sites.tolist() == [0]


@FAST
@given(instances(), st.integers(0, 2**32 - 1))
def test_capacitated_never_serves_beyond_capacity(inst: dict, seed: int) -> None:
    rng = np.random.default_rng(seed)
    capacity = rng.uniform(0, 150, inst["cost"].shape[1])
    model = CapacitatedCoverage.from_cost_matrix(inst["cost"], inst["radius"], capacity,
                                                 p=inst["p"], weights=inst["weights"])
    result = model.solve()
    assert result.status == "optimal"
    assert (result.served <= capacity[result.sites] + 1e-6).all()
    covered = (inst["cost"][:, result.sites] <= inst["radius"]).any(axis=1)
    assert result.objective <= inst["weights"][covered].sum() + 1e-6
    # with room for everyone it is the maximal covering problem
    roomy = CapacitatedCoverage.from_cost_matrix(
        inst["cost"], inst["radius"], np.full(len(capacity), 1e9), p=inst["p"],
        weights=inst["weights"]).solve()
    mclp = MCLP.from_cost_matrix(inst["cost"], inst["radius"], inst["p"],
                                 inst["weights"]).solve()
    assert close(roomy.objective, mclp.objective)


@settings(max_examples=60, deadline=None)
@given(problems())
def test_walking_costs_equal_networkx(problem: dict) -> None:
    network, sites, demand = build(problem)
    limit = problem["limit"] if np.isfinite(problem["limit"]) else 1e6
    got = walking_costs(network, demand, sites, max_distance_m=limit, n_sites=4).toarray()
    stored = walking_costs(network, demand, sites, max_distance_m=limit, n_sites=4)
    mask = np.zeros(got.shape, dtype=bool)
    mask[np.repeat(np.arange(stored.shape[0]), np.diff(stored.indptr)), stored.indices] = True
    for owner in range(4):
        expected = reference(network, sites, demand)[owner] if owner in set(
            sites.owner.tolist()) else np.full(len(demand), np.inf)
        inside = expected <= limit
        edge = np.abs(expected - limit) <= 1e-6  # at the cut-off either side is right
        assert np.array_equal(mask[:, owner] | edge, inside | edge)
        both = mask[:, owner] & inside
        np.testing.assert_allclose(got[both, owner], expected[both], atol=1e-6, rtol=0)


def grid_network(side: int = 8, spacing: float = 50.0):
    idx = np.arange(side * side).reshape(side, side)
    u = np.r_[idx[:, :-1].ravel(), idx[:-1, :].ravel()]
    v = np.r_[idx[:, 1:].ravel(), idx[1:, :].ravel()]
    x = (np.arange(side * side) % side) * spacing + 500_000.0
    y = (np.arange(side * side) // side) * spacing + 3_800_000.0
    return street_network_from_arrays(x=x, y=y, edge_u=u, edge_v=v, crs=4547)


def test_candidate_sites_thinned_inside_units_never_in_water() -> None:
    network = grid_network()
    x0, y0 = 500_000.0, 3_800_000.0
    units = gpd.GeoDataFrame(
        {"code": ["U1", "U2"], "subdistrict": ["S1", "S1"]},
        geometry=[shapely.box(x0 - 1, y0 - 1, x0 + 175, y0 + 351),
                  shapely.box(x0 + 175, y0 - 1, x0 + 351, y0 + 351)], crs=4547)
    water = gpd.GeoSeries([shapely.box(x0 + 280, y0 - 5, x0 + 400, y0 + 400)], crs=4547)
    sites = candidate_sites(network, units, spacing_m=100.0, water=water)
    assert len(sites) and set(sites["unit"]) == {"U1", "U2"}
    assert not sites.geometry.intersects(water.iloc[0]).any()
    for _, part in sites.groupby("unit"):
        xy = shapely.get_coordinates(part.geometry.to_numpy())
        d = np.hypot(*(xy[:, None, :] - xy[None, :, :]).transpose(2, 0, 1))
        assert (d[~np.eye(len(xy), dtype=bool)] > 100.0).all()
    unit_of = dict(zip(units["code"], units.geometry, strict=True))
    assert all(unit_of[u].intersects(g) for u, g in zip(sites["unit"], sites.geometry,
                                                       strict=True))
    assert (sites["subdistrict"] == "S1").all()
    assert len(candidate_sites(network, units, spacing_m=0.0)) == network.n_nodes


def test_from_layers_walking_and_straight_line_modes() -> None:
    network = grid_network()
    x0, y0 = 500_000.0, 3_800_000.0
    rng = np.random.default_rng(3)
    demand = gpd.GeoDataFrame(
        {"children": rng.integers(1, 30, 40).astype(float), "unit": "U1"},
        geometry=shapely.points(rng.uniform(x0, x0 + 350, 40), rng.uniform(y0, y0 + 350, 40)),
        crs=4547)
    units = gpd.GeoDataFrame({"code": ["U1", "U2"]}, geometry=[
        shapely.box(x0 - 1, y0 - 1, x0 + 175, y0 + 351),
        shapely.box(x0 + 175, y0 - 1, x0 + 351, y0 + 351)], crs=4547)
    cands = candidate_sites(network, units, spacing_m=100.0)
    existing = gpd.GeoDataFrame({"fid": ["F1"], "kind": ["kindergarten"]},
                                geometry=[shapely.Point(x0 + 10, y0 + 10)], crs=4547)
    walk = MCLP.from_layers(network, demand, cands, radius_m=120.0, p=2, existing=existing)
    line = public_siting.MCLP.from_layers(network, demand, cands, radius_m=120.0, p=2,
                                  existing=existing, metric="euclidean")
    walked, straight = walk.solve(), line.solve()
    assert walked.distance_mode == "walking" and straight.distance_mode == "straight_line"
    assert (walked.site_table(cands)["distance_mode"] == "walking").all()
    assert walked.status == straight.status == "optimal"
    assert straight.objective >= walked.objective  # walking is never shorter
    costs = layer_costs(network, demand, cands, max_distance_m=120.0, existing=existing)
    assert costs.existing.tolist() == [len(cands)]
    assert required_groups(units, existing) == ["U2"]
    jur = JurisdictionCover.from_layers(network, demand, cands, radius_m=120.0,
                                        existing=existing, group_column="unit",
                                        required_groups=required_groups(units, existing))
    placed = jur.solve()
    assert placed.objective == 1 and cands["unit"].iloc[placed.sites[0]] == "U2"


def test_tradeoff_table() -> None:
    cost, weights = hard_instance()
    cost, weights = cost[:300, :40], weights[:300]
    table = MCLP.from_cost_matrix(cost, 12.0, 5, weights).tradeoff(5)
    assert table["k"].tolist() == [1, 2, 3, 4, 5]
    assert (table["status"] == "optimal").all()
    assert (np.diff(table["objective"]) >= -1e-9).all()
    assert table["marginal_gain"].sum() == pytest.approx(table["objective"].iloc[-1])
    five = MCLP.from_cost_matrix(cost, 12.0, 5, weights).solve()
    assert table["objective"].iloc[-1] == pytest.approx(five.objective)


def test_sparse_cost_input_matches_dense() -> None:
    cost, weights = hard_instance()
    cost, weights = cost[:200, :30], weights[:200]
    dense = MCLP.from_cost_matrix(cost, 12.0, 4, weights).solve()
    pairs = sp.csr_array(np.where(cost <= 12.0, cost, 0.0))
    sparse = MCLP.from_cost_matrix(pairs, 12.0, 4, weights).solve()
    assert dense.objective == sparse.objective
    assert dense.sizes["demand_rows"] < 200  # equal covering sets merged
