"""Every "optimal" a siting model claims is confirmed by an independent HiGHS solve.

The independent side reads only the exported instance (``model.instance()``, through JSON)
and builds the textbook model itself with highspy's row-by-row API: no shrinking, no
dominance, no warm start, no search — none of cfplan's code path. Where cfplan solves
lexicographically, both stages are checked: the fewest sites, then the most weight reached
with that many.
"""

from __future__ import annotations

import json

import highspy
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from cfplan.analysis.siting import (
    LSCP,
    MCLP,
    CapacitatedCoverage,
    JurisdictionCover,
    PMedian,
)

FAST = settings(max_examples=int(__import__("os").environ.get("N_EX", 30)), deadline=None)


@st.composite
def instances(draw: st.DrawFn) -> dict:
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    n_demand, n_cand = draw(st.integers(5, 40)), draw(st.integers(3, 18))
    n_exist = draw(st.integers(0, 3))
    demand = rng.uniform(0, 100, (n_demand, 2))
    sites = rng.uniform(0, 100, (n_cand + n_exist, 2))
    cost = np.hypot(*(demand[:, None, :] - sites[None, :, :]).transpose(2, 0, 1))
    groups = np.array([f"G{g}" for g in rng.integers(0, 4, n_cand + n_exist)], dtype=object)
    cand_groups = sorted(set(groups[:n_cand].tolist()))
    required = [g for g in cand_groups if rng.random() < 0.4]
    weights = np.round(rng.uniform(0.5, 20.0, n_demand), draw(st.sampled_from([0, 2])))
    return {"cost": cost, "weights": weights, "existing": list(range(n_cand, n_cand + n_exist)),
            "groups": groups, "required": required, "radius": draw(st.floats(12.0, 40.0)),
            "p": draw(st.integers(1, 5)), "share": draw(st.sampled_from([0.5, 0.7, 0.9])),
            "capacity": rng.uniform(5.0, 60.0, n_cand + n_exist)}


def exported(model: object) -> dict:
    return json.loads(json.dumps(model.instance()))  # type: ignore[attr-defined]


class Builder:
    """A HiGHS model built row by row from an instance (independent of cfplan)."""

    def __init__(self, sense: str) -> None:
        self.h = highspy.Highs()
        self.h.setOptionValue("output_flag", False)
        self.h.setOptionValue("mip_rel_gap", 0.0)
        self.n = 0
        self.sense = sense

    def var(self, cost: float, upper: float = 1.0, *, integer: bool = False) -> int:
        self.h.addVar(0.0, upper)
        self.h.changeColCost(self.n, cost)
        if integer:
            self.h.changeColIntegrality(self.n, highspy.HighsVarType.kInteger)
        self.n += 1
        return self.n - 1

    def row(self, terms: dict[int, float], lower: float, upper: float) -> None:
        idx = np.fromiter(terms, np.int32, len(terms))
        val = np.fromiter(terms.values(), np.float64, len(terms))
        self.h.addRow(lower, upper, len(idx), idx, val)

    def solve(self) -> float | None:
        sense = highspy.ObjSense.kMaximize if self.sense == "max" else highspy.ObjSense.kMinimize
        self.h.changeObjectiveSense(sense)
        self.h.run()
        if self.h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            return None
        return float(self.h.getInfo().objective_function_value)


INF = highspy.kHighsInf


def coverage_model(inst: dict, *, sense: str, x_cost: float, p: int | None = None,
                   at_least: int = 0, need: float | None = None,
                   full: bool = False) -> float | None:
    """MCLP (max covered), share LSCP (min sites, covered >= need) or full LSCP."""
    b = Builder(sense)
    x = {j: b.var(x_cost, integer=True) for j in inst["candidates"]}
    weights = inst["weights"]
    constant = sum(w for w, done in zip(weights, inst["existing_covered"], strict=True) if done)
    y = {}
    for i, (w, pairs, done) in enumerate(zip(weights, inst["pairs"], inst["existing_covered"],
                                             strict=True)):
        if done:
            continue
        if full:
            if pairs and w > 0:
                b.row({x[j]: 1.0 for j, _ in pairs}, 1.0, INF)
            continue
        y[i] = b.var(w if sense == "max" else 0.0)
        b.row({y[i]: 1.0, **{x[j]: -1.0 for j, _ in pairs}}, -INF, 0.0)
    if p is not None or at_least:
        b.row(dict.fromkeys(x.values(), 1.0), float(at_least), INF if p is None else float(p))
    if need is not None:
        b.row({y[i]: weights[i] for i in y}, need - constant, INF)
    for g in inst["required_groups"]:
        b.row({x[j]: 1.0 for j in x if inst["groups"][j] == g}, 1.0, INF)
    value = b.solve()
    return None if value is None else value + (constant if sense == "max" else 0.0)


def close(a: float, b: float) -> bool:
    return abs(a - b) <= 1e-6 * max(1.0, abs(a), abs(b))


@FAST
@given(instances())
def test_mclp_optimum_confirmed(inst: dict) -> None:
    p = max(inst["p"], len(inst["required"]))
    model = MCLP.from_cost_matrix(inst["cost"], inst["radius"], p, inst["weights"],
                                  existing=inst["existing"], groups=inst["groups"],
                                  required_groups=inst["required"])
    result = model.solve(time_limit=30)
    assert result.optimal, result.status
    assert close(result.objective, coverage_model(exported(model), sense="max", x_cost=0.0,
                                                  p=p))


@FAST
@given(instances())
def test_lscp_full_and_share_optima_confirmed(inst: dict) -> None:
    full = LSCP.from_cost_matrix(inst["cost"], inst["radius"], uncoverable="ignore",
                                 weights=inst["weights"], existing=inst["existing"])
    result = full.solve(time_limit=30)
    assert result.optimal and [s.name for s in result.stages] == ["count", "coverage"]
    assert close(result.objective, coverage_model(exported(full), sense="min", x_cost=1.0,
                                                  full=True))
    share = LSCP.from_cost_matrix(inst["cost"], inst["radius"], share=inst["share"],
                                  weights=inst["weights"], existing=inst["existing"],
                                  groups=inst["groups"], required_groups=inst["required"])
    answer = share.solve(time_limit=30)
    data = exported(share)
    need = inst["share"] * float(np.sum(inst["weights"]))
    fewest = coverage_model(data, sense="min", x_cost=1.0, need=need)
    if answer.status == "infeasible":
        assert fewest is None
        return
    assert answer.optimal and all(s.status == "optimal" for s in answer.stages)
    assert fewest is not None and close(answer.objective, fewest)
    # stage 2: the most weight reached with that many sites (and the share met)
    most = coverage_model(data, sense="max", x_cost=0.0, p=int(answer.objective), need=need)
    assert most is not None and close(answer.covered, most)
    assert answer.covered >= need - 1e-6


@FAST
@given(instances())
def test_jurisdiction_count_and_placement_confirmed(inst: dict) -> None:
    model = JurisdictionCover.from_cost_matrix(
        inst["cost"], inst["radius"], groups=inst["groups"], required_groups=inst["required"],
        count_target=inst["p"], existing_count=len(inst["existing"]),
        weights=inst["weights"], existing=inst["existing"])
    result = model.solve(time_limit=30)
    data = exported(model)
    # stage 1: the fewest sites meeting the group rows and the count, solved as a MIP
    b = Builder("min")
    x = {j: b.var(1.0, integer=True) for j in data["candidates"]}
    b.row(dict.fromkeys(x.values(), 1.0), float(data["count_target"] - data["existing_count"]),
          INF)
    for g in data["required_groups"]:
        b.row({x[j]: 1.0 for j in x if data["groups"][j] == g}, 1.0, INF)
    fewest = b.solve()
    if result.status == "infeasible":
        assert fewest is None or fewest > len(data["candidates"])
        return
    assert result.optimal and fewest is not None and close(result.objective, max(fewest, 0))
    n = int(result.objective)
    most = coverage_model(data, sense="max", x_cost=0.0, p=n, at_least=n)
    assert most is not None and close(result.covered, most)


@FAST
@given(instances())
def test_pmedian_optimum_confirmed(inst: dict) -> None:
    model = PMedian.from_cost_matrix(inst["cost"], p=inst["p"], weights=inst["weights"],
                                     existing=inst["existing"], unassigned_cost=150.0)
    result = model.solve(time_limit=30)
    assert result.optimal
    data = exported(model)
    b = Builder("min")
    x = {j: b.var(0.0, integer=True) for j in data["candidates"]}
    for w, pairs, fallback in zip(data["weights"], data["pairs"], data["existing_cost"],
                                  strict=True):
        f = min(v for v in (fallback, data["unassigned_cost"]) if v is not None)
        terms = {}
        for j, d in pairs:
            z = b.var(w * d)
            b.row({z: 1.0, x[j]: -1.0}, -INF, 0.0)
            terms[z] = 1.0
        terms[b.var(w * f)] = 1.0
        b.row(terms, 1.0, 1.0)
    b.row(dict.fromkeys(x.values(), 1.0), 0.0, float(data["p"]))
    value = b.solve()
    assert value is not None and close(result.objective, value)


def capacitated(data: dict, *, p: int) -> float | None:
    b = Builder("max")
    x = {j: b.var(0.0, integer=True) for j in data["candidates"]}
    loads: dict[int, dict[int, float]] = {}
    for w, pairs in zip(data["weights"], data["pairs"], strict=True):
        terms = {}
        for j, _ in pairs:
            a = b.var(1.0, upper=w)
            terms[a] = 1.0
            loads.setdefault(j, {})[a] = 1.0
        if terms:
            b.row(terms, -INF, w)
    for j, terms in loads.items():
        cap = data["capacity"][j]
        if j in x:
            b.row({**terms, x[j]: -cap}, -INF, 0.0)
        else:
            b.row(terms, -INF, cap)
    b.row(dict.fromkeys(x.values(), 1.0), 0.0, float(p))
    return b.solve()


@FAST
@given(instances())
def test_capacitated_optima_confirmed(inst: dict) -> None:
    options = {"weights": inst["weights"], "existing": inst["existing"]}
    model = CapacitatedCoverage.from_cost_matrix(inst["cost"], inst["radius"],
                                                 inst["capacity"], p=inst["p"], **options)
    result = model.solve(time_limit=30)
    assert result.optimal
    value = capacitated(exported(model), p=inst["p"])
    assert value is not None and close(result.objective, value)
    share = CapacitatedCoverage.from_cost_matrix(inst["cost"], inst["radius"],
                                                 inst["capacity"], share=inst["share"] / 2,
                                                 **options)
    answer = share.solve(time_limit=30)
    if answer.status == "infeasible":
        return
    assert answer.optimal
    data = exported(share)
    need = inst["share"] / 2 * float(np.sum(inst["weights"]))
    k = int(answer.objective)
    best = capacitated(data, p=k)
    assert best is not None and best >= need - 1e-6 and close(answer.covered, best)
    if k > 0:  # one site fewer cannot serve the share
        fewer = capacitated(data, p=k - 1)
        assert fewer is not None and fewer < need - 1e-6
