"""Exact siting models on sparse demand × candidate costs, solved by HiGHS.

Every model takes a cost matrix (see :mod:`.costs`: stored entries are the usable pairs, in
metres), demand weights, and optionally:

* ``existing`` — columns that are existing facilities: always open, free, not counted in
  ``p``; the model keeps them and adds new sites among the other columns (the
  *candidates*);
* ``groups`` / ``required_groups`` — a jurisdiction label per column (the 社区/村 or 办事处
  holding the candidate) and the labels that must receive at least one new site (those that
  lack the facility): ``sum_{j in J_g} x_j >= 1`` for every required ``g``.

``solve`` shrinks the model (demand rows with equal covering sets merged, weights summed;
dominated candidates dropped where that is exact), runs a greedy heuristic, warm-starts
HiGHS with it and returns a :class:`.result.SitingResult` whose status is HiGHS's own
(a time-limited incumbent is ``time_limit``, never ``optimal``).

Notation used in the docstrings: ``I`` demand points with weight ``w_i``; ``J`` candidate
sites, ``E`` existing facilities; ``d_ij`` the cost (walking metres); ``r`` the service
radius; ``N_i = {j in J : d_ij <= r}``; ``x_j`` binary (open candidate ``j``).
"""

from __future__ import annotations

import copy
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import scipy.sparse as sp

from cfplan.analysis.siting._highs import (
    OPTIMAL_GAP,
    Mip,
    reduced_cost_fixing,
    relative_gap,
    solve_lp,
    solve_mip,
    solver_name,
    stack_rows,
    with_upper,
)
from cfplan.analysis.siting.costs import DistanceMode, as_cost_matrix, within
from cfplan.analysis.siting.greedy import (
    greedy_cover,
    greedy_median,
    improve_cover,
    mclp_greedy_bound,
)
from cfplan.analysis.siting.inputs import Metric, layer_costs
from cfplan.analysis.siting.result import EXISTING, UNSERVED, SitingResult
from cfplan.analysis.siting.shrink import dominated_columns, merge_rows
from cfplan.geo.street_network import StreetNetwork

__all__ = ["LSCP", "MCLP", "CapacitatedCoverage", "JurisdictionCover", "PMedian"]

Method = Literal["auto", "exact", "greedy"]
MAX_EXACT_NNZ = 20_000_000
"""With ``method="auto"``, larger models (pairs in the shrunk model) are solved greedily."""

CostLike = np.ndarray | sp.sparray | sp.spmatrix


@dataclass
class _Shrunk:
    """A shrunk model: merged demand rows × kept candidate columns."""

    matrix: sp.csr_array  # rows × kept columns (0/1 coverage or costs)
    weight: np.ndarray  # per merged row
    columns: np.ndarray  # kept columns, as columns of the input cost matrix
    constant: float  # objective part fixed before solving (existing coverage, fallbacks)
    sizes: dict[str, int]
    infeasible: str = ""
    extra: np.ndarray | None = None  # per merged row (p-median fallback cost)
    live: np.ndarray | None = None  # input rows kept (capacitated)
    row_group: np.ndarray | None = None  # merged row of each kept input row


def _coo_rows(row: np.ndarray, col: np.ndarray, value: np.ndarray | float,
              shape: tuple[int, int]) -> sp.csr_array:
    value = np.broadcast_to(np.asarray(value, np.float64), np.shape(row))
    return sp.csr_array(sp.coo_array((value, (row, col)), shape=shape))


def _layer_options(
    network: StreetNetwork | None, demand: gpd.GeoDataFrame, candidates: gpd.GeoDataFrame, *,
    max_distance_m: float, existing: gpd.GeoDataFrame | None, weight: str, metric: Metric,
    group_column: str | None,
) -> dict[str, object]:
    """Return the constructor arguments (cost, weights, existing, groups, mode) from layers."""
    costs = layer_costs(network, demand, candidates, max_distance_m=max_distance_m,
                        existing=existing, weight=weight, group_column=group_column,
                        metric=metric)
    return {"cost": costs.cost, "weights": costs.weights, "existing": costs.existing,
            "groups": costs.groups, "distance_mode": costs.distance_mode}


_LAYER_DOC = """
        Parameters
        ----------
        network
            Street network (``None`` with ``metric="euclidean"``).
        demand
            Demand points (:func:`layers.demand.demand_points`) carrying ``weight``.
        candidates
            Candidate sites (Points): :func:`.candidate_sites` or a candidate layer; the
            result's ``sites`` are their row positions.
        existing
            Existing facilities of the kind (in the chosen scenario): kept, added to.
        weight
            Demand column to weigh by (``"children"`` or ``"population"``).
        metric
            ``"walking"`` (network) or ``"euclidean"`` (straight line, so labelled).
        group_column, required_groups
            Candidate column with each one's unit/subdistrict, and those needing a site.
"""


class _SitingModel:
    """Shared plumbing: inputs, shrink cache, the solve template and the result."""

    model_name: ClassVar[str] = ""
    sense: ClassVar[Literal["max", "min"]] = "max"
    gain_unit: ClassVar[str] = "weight covered"

    def __init__(
        self,
        cost: CostLike,
        *,
        weights: np.ndarray | None = None,
        existing: Sequence[int] | np.ndarray = (),
        groups: Sequence[object] | np.ndarray | None = None,
        required_groups: Sequence[object] = (),
        max_distance: float = np.inf,
        distance_mode: DistanceMode = "given",
    ) -> None:
        self.cost = as_cost_matrix(cost, max_distance=max_distance)
        n_demand, n_cols = self.cost.shape
        self.weights = (np.ones(n_demand) if weights is None
                        else np.asarray(weights, np.float64).ravel())
        if len(self.weights) != n_demand or (self.weights < 0).any():
            msg = "weights must be one non-negative value per demand row"
            raise ValueError(msg)
        self.existing = np.unique(np.asarray(existing, np.int64))
        if len(self.existing) and (self.existing.min() < 0 or self.existing.max() >= n_cols):
            msg = "existing column index out of range"
            raise ValueError(msg)
        self.candidates = np.setdiff1d(np.arange(n_cols), self.existing)
        self.groups = None if groups is None else np.asarray(groups, dtype=object)
        if self.groups is not None and len(self.groups) != n_cols:
            msg = "groups must give one label per column of the cost matrix"
            raise ValueError(msg)
        self.required_groups = tuple(dict.fromkeys(required_groups))
        if self.required_groups and self.groups is None:
            msg = "required_groups needs groups"
            raise ValueError(msg)
        self.distance_mode: DistanceMode = distance_mode
        self._shrunk: _Shrunk | None = None
        self._shrink_seconds = 0.0

    # -- hooks -----------------------------------------------------------------------------
    def _shrink(self) -> _Shrunk:
        raise NotImplementedError

    def _heuristic(self, start: Sequence[int] | None) -> list[int]:
        raise NotImplementedError

    def _heuristic_bound(self, picks: list[int]) -> float:
        return np.inf if self.sense == "max" else -np.inf

    def _mip(self) -> Mip:
        raise NotImplementedError

    def _finish(self, sites: np.ndarray, values: np.ndarray | None) -> dict[str, object]:
        raise NotImplementedError

    # -- shared ----------------------------------------------------------------------------
    def _prepared(self) -> _Shrunk:
        if self._shrunk is None:
            began = time.perf_counter()
            self._shrunk = self._shrink()
            self._shrink_seconds = time.perf_counter() - began
        return self._shrunk

    def _x_groups(self, shrunk: _Shrunk) -> np.ndarray | None:
        return None if self.groups is None else self.groups[shrunk.columns]

    def _missing_groups(self) -> str:
        if not self.required_groups:
            return ""
        present = set(self.groups[self.candidates].tolist())
        missing = [g for g in self.required_groups if g not in present]
        return f"required groups without any candidate: {missing}" if missing else ""

    def _side_rows(self, shrunk: _Shrunk, n_total: int, *, at_most: float | None,
                   at_least: float = 0.0) -> list[tuple[sp.sparray, np.ndarray, np.ndarray]]:
        """Cardinality row on the x columns (0..n_x-1) and one row per required group."""
        n_x = len(shrunk.columns)
        blocks = []
        if at_most is not None or at_least > 0:
            card = _coo_rows(np.zeros(n_x, np.int64), np.arange(n_x), 1.0, (1, n_total))
            blocks.append((card, np.array([at_least]),
                           np.array([np.inf if at_most is None else at_most])))
        if self.required_groups:
            where = {g: k for k, g in enumerate(self.required_groups)}
            labels = self._x_groups(shrunk)
            row = np.array([where.get(g, -1) for g in labels], np.int64)
            cols = np.flatnonzero(row >= 0)
            groups = _coo_rows(row[cols], cols, 1.0, (len(where), n_total))
            blocks.append((groups, np.ones(len(where)), np.full(len(where), np.inf)))
        return blocks

    def _tighter(self, *bounds: float) -> float:
        return float(min(bounds) if self.sense == "max" else max(bounds))

    def solve(
        self,
        *,
        time_limit: float = 60.0,
        mip_rel_gap: float = OPTIMAL_GAP,
        method: Method = "auto",
        max_nodes: int | None = None,
        presolve: bool = True,
        start: Sequence[int] | None = None,
        log: bool = False,
    ) -> SitingResult:
        """Solve the model exactly with HiGHS (or greedily), within a time limit.

        Parameters
        ----------
        time_limit
            Seconds HiGHS may spend (model building and shrinking not included).
        mip_rel_gap
            Relative gap at which HiGHS may stop; above 1e-6 the status is ``gap_limit``.
        method
            ``exact`` (HiGHS), ``greedy`` (heuristic with its bound) or ``auto`` (exact
            unless the shrunk model has more than ``MAX_EXACT_NNZ`` pairs).
        max_nodes
            Branch-and-bound node limit (status ``node_limit`` when it strikes).
        presolve
            Let HiGHS presolve.
        start
            Candidate columns of a known solution to start from (completed greedily); the
            better of it and the plain greedy solution warm-starts HiGHS.
        log
            Print HiGHS's log.

        Returns
        -------
        SitingResult
            Sites in rank order, objective, bound, gap, status, timings and sizes.
        """
        began = time.perf_counter()
        shrunk = self._prepared()
        seconds = {"shrink": self._shrink_seconds}
        if shrunk.infeasible:
            return self._result_infeasible(shrunk, shrunk.infeasible, seconds, began)
        t = time.perf_counter()
        picks = self._heuristic(start)
        seconds["greedy"] = time.perf_counter() - t
        trivial = self._trivial_bound()
        values = None
        if method == "greedy" or (method == "auto" and shrunk.matrix.nnz > MAX_EXACT_NNZ):
            status, solver, chosen = "greedy", "greedy", np.asarray(picks, np.int64)
            bound = self._tighter(self._heuristic_bound(picks), trivial)
            seconds["build"] = seconds["solve"] = 0.0
        else:
            t = time.perf_counter()
            mip = self._mip()
            seconds["build"] = time.perf_counter() - t
            shrunk.sizes.update(mip_rows=mip.n_rows, mip_cols=mip.n_cols, mip_nnz=mip.rows.nnz)
            status, solver, chosen, bound, values = self._exact(
                mip, picks, seconds, time_limit=time_limit, mip_rel_gap=mip_rel_gap,
                max_nodes=max_nodes, presolve=presolve, log=log)
            if status == "infeasible":
                return self._result_infeasible(shrunk, "HiGHS proved the model infeasible",
                                               seconds, began)
            bound = self._tighter(bound, self._heuristic_bound(picks), trivial)
        if getattr(self, "_integral", False) and np.isfinite(bound):
            bound = float(np.floor(bound + 1e-6) if self.sense == "max"
                          else np.ceil(bound - 1e-6))
        sites = shrunk.columns[chosen]
        finish = self._finish(sites, values)
        objective = float(finish.pop("objective"))
        if status == "optimal" and relative_gap(objective, bound) <= OPTIMAL_GAP:
            bound = objective
        seconds["total"] = time.perf_counter() - began + seconds["shrink"]
        return SitingResult(
            model=self.model_name, status=status, objective=objective, bound=float(bound),
            gap=relative_gap(objective, bound), sense=self.sense, solver=solver,
            seconds=seconds, sizes=dict(shrunk.sizes), distance_mode=self.distance_mode,
            gain_unit=self.gain_unit, **finish,
        )

    def _trivial_bound(self) -> float:
        return np.inf if self.sense == "max" else -np.inf

    def _incumbent_value(self, picks: list[int]) -> float | None:
        """MIP objective of the heuristic solution, when cheap to know exactly."""
        return None

    def _lp_guided(self, x: np.ndarray) -> list[int] | None:
        """Round the LP relaxation's ``x`` to a solution (None: no such heuristic)."""
        return None

    def _exact(self, mip: Mip, picks: list[int], seconds: dict[str, float], *,
               time_limit: float, mip_rel_gap: float, max_nodes: int | None, presolve: bool,
               log: bool) -> tuple[str, str, np.ndarray, float, np.ndarray | None]:
        """LP relaxation (bound, rounding, reduced-cost fixing), then HiGHS's MIP.

        The LP (interior point) bounds the optimum; when the heuristic solution meets that
        bound it is proven optimal without branching. Otherwise candidates that the LP's
        reduced costs prove useless against the incumbent are fixed to 0 and the MIP is
        solved, warm-started. The bound reported covers the fixed-out candidates too.
        """
        shrunk = self._prepared()
        n_x = len(shrunk.columns)
        lp = solve_lp(mip, time_limit=time_limit)
        seconds["lp"] = lp.seconds
        incumbent = self._incumbent_value(picks)
        if lp.solved and incumbent is not None:
            guided = self._lp_guided(lp.values[:n_x])
            value = None if guided is None else self._incumbent_value(guided)
            if value is not None and (value > incumbent if self.sense == "max"
                                      else value < incumbent):
                picks[:], incumbent = guided, value
        lp_bound = lp.objective
        if getattr(self, "_integral", False) and lp.solved:
            lp_bound = float(np.floor(lp_bound + 1e-6) if self.sense == "max"
                             else np.ceil(lp_bound - 1e-6))
        if lp.solved and incumbent is not None and relative_gap(incumbent, lp_bound) <= \
                OPTIMAL_GAP and max_nodes is None:
            seconds["solve"] = lp.seconds
            shrunk.sizes["fixed_by_reduced_cost"] = 0
            return "optimal", solver_name(), np.asarray(picks, np.int64), lp_bound, None
        fixed, fixed_reach = (reduced_cost_fixing(mip, lp, incumbent, np.arange(n_x),
                                                  keep=np.asarray(picks, np.int64))
                              if incumbent is not None else (np.empty(0, np.int64), np.nan))
        shrunk.sizes["fixed_by_reduced_cost"] = len(fixed)
        warm = {j: 0.0 for j in range(n_x)} | {int(j): 1.0 for j in picks}
        outcome = solve_mip(with_upper(mip, fixed, 0.0) if len(fixed) else mip,
                            time_limit=max(time_limit - lp.seconds, 1e-3),
                            mip_rel_gap=mip_rel_gap, start=warm, max_nodes=max_nodes,
                            presolve=presolve, log=log)
        seconds["solve"] = lp.seconds + outcome.seconds
        if outcome.status == "error" and outcome.values is None:
            msg = f"HiGHS failed: {outcome.highs_status}"
            raise RuntimeError(msg)
        bound = outcome.bound
        if len(fixed):  # a solution using a fixed-out candidate reaches at most fixed_reach
            bound = max(bound, fixed_reach) if self.sense == "max" else min(bound, fixed_reach)
        bound = self._tighter(bound, lp_bound)
        if outcome.values is not None:
            chosen = np.flatnonzero(outcome.values[:n_x] > 0.5)
        else:  # a limit struck before HiGHS accepted any solution: keep the heuristic one
            chosen = np.asarray(picks, np.int64)
        return outcome.status, solver_name(), chosen, bound, outcome.values

    def _result_infeasible(self, shrunk: _Shrunk, message: str, seconds: dict[str, float],
                           began: float) -> SitingResult:
        seconds["total"] = time.perf_counter() - began + seconds.get("shrink", 0.0)
        n = self.cost.shape[0]
        return SitingResult(
            model=self.model_name, status="infeasible", objective=float("nan"),
            bound=float("nan"), gap=float("inf"), sense=self.sense,
            sites=np.empty(0, np.int64), gains=np.empty(0), served=np.empty(0),
            assignment=np.full(n, UNSERVED, np.int64), covered=float("nan"),
            total_weight=float(self.weights.sum()), existing_value=float("nan"),
            gain_unit=self.gain_unit, solver=solver_name(), seconds=seconds,
            sizes=dict(shrunk.sizes), distance_mode=self.distance_mode, message=message,
        )


class _CoverageModel(_SitingModel):
    """Coverage within a radius: shared shrink, greedy, evaluation and ranking."""

    allow_dominance: ClassVar[bool] = True

    def __init__(self, cost: CostLike, *, radius: float, **options: object) -> None:
        super().__init__(cost, **options)  # type: ignore[arg-type]
        self.radius = float(radius)
        self.cover = within(self.cost, self.radius)

    def _existing_covered(self) -> np.ndarray:
        if not len(self.existing):
            return np.zeros(self.cost.shape[0], dtype=bool)
        return np.diff(self.cover[:, self.existing].indptr) > 0

    def _shrink(self) -> _Shrunk:
        cover_new = self.cover[:, self.candidates]
        done = self._existing_covered()
        reach = np.diff(cover_new.indptr) > 0
        live = np.flatnonzero(~done & reach & (self.weights > 0))
        sub = cover_new[live]
        first, group = merge_rows(sub)
        matrix = sub[first]
        weight = np.bincount(group, weights=self.weights[live], minlength=len(first))
        labels = None if self.groups is None else self.groups[self.candidates]
        if self.allow_dominance and len(first):
            keep = np.flatnonzero(~dominated_columns(matrix, weight, labels))
        else:
            keep = np.arange(len(self.candidates))
        sizes = {"demand": self.cost.shape[0], "demand_rows": len(first),
                 "candidates": len(self.candidates), "candidates_kept": len(keep)}
        infeasible = self._missing_groups()
        uncoverable = ~done & ~reach & (self.weights > 0)
        return _Shrunk(sp.csr_array(matrix[:, keep]), weight, self.candidates[keep],
                       float(self.weights[done].sum()), sizes, infeasible,
                       extra=np.asarray([float(self.weights[uncoverable].sum())]))

    def _covered_mask(self, sites: np.ndarray) -> np.ndarray:
        return self._existing_covered() | (np.diff(self.cover[:, sites].indptr) > 0)

    def _finish(self, sites: np.ndarray, values: np.ndarray | None) -> dict[str, object]:
        done = self._existing_covered()
        rest = sp.csr_array(self.cover[:, sites])
        weight = np.where(done, 0.0, self.weights)
        order, gains = greedy_cover(rest, weight, budget=len(sites), at_least=len(sites))
        ranked = sites[np.asarray(order, np.int64)]
        ranked_cover = sp.csr_array(self.cover[:, ranked])
        assignment = np.full(self.cost.shape[0], UNSERVED, np.int64)
        has = np.diff(ranked_cover.indptr) > 0
        rows = np.repeat(np.arange(self.cost.shape[0]), np.diff(ranked_cover.indptr))
        firsts = np.full(self.cost.shape[0], len(ranked), np.int64)
        np.minimum.at(firsts, rows, ranked_cover.indices)
        assignment[has] = ranked[firsts[has]]
        assignment[done] = EXISTING
        served = np.bincount(firsts[has & ~done], weights=self.weights[has & ~done],
                             minlength=len(ranked))[:len(ranked)]
        covered = float(self.weights[self._covered_mask(sites)].sum())
        existing_value = float(self.weights[done].sum())
        return {"objective": self._objective(sites, covered), "sites": ranked,
                "gains": np.asarray(gains, np.float64), "served": served,
                "assignment": assignment, "covered": covered,
                "total_weight": float(self.weights.sum()), "existing_value": existing_value,
                "details": {"base_gain_value": existing_value}}

    def _objective(self, sites: np.ndarray, covered: float) -> float:
        raise NotImplementedError


class MCLP(_CoverageModel):
    r"""Maximal covering location problem: the ``p`` new sites that cover the most weight.

    .. math::

        \max \sum_{i \in I} w_i y_i
        \quad \text{s.t.} \quad
        y_i \le \sum_{j \in N_i} x_j \;\; \forall i, \qquad
        \sum_{j \in J} x_j \le p, \qquad
        \sum_{j \in J_g} x_j \ge 1 \;\; \forall g \in R, \qquad
        x_j \in \{0, 1\}, \; 0 \le y_i \le 1.

    Demand within ``r`` of an existing facility is covered already: it is left out of the
    model and added to the objective, which therefore reports all weight covered. ``y`` can
    be continuous: for binary ``x`` the optimum has ``y_i = min(1, sum x)``. ``<= p``
    rather than spopt's ``= p`` gives the same optimum (a site never uncovers anything) and
    stays feasible when shrinking leaves fewer than ``p`` candidates. ``at_least`` adds
    ``sum x_j >= at_least``.

    Shrinking: rows with the same ``N_i`` are merged (weights summed); a candidate whose
    covering set is inside another's (same group) is dropped. Greedy warm start; its bound
    ``greedy / (1 - (1 - 1/p)^p)`` is used when there are no group constraints.
    """

    model_name = "MCLP"
    sense = "max"

    def __init__(self, cost: CostLike, *, radius: float, p: int, at_least: int = 0,
                 **options: object) -> None:
        super().__init__(cost, radius=radius, **options)
        if p < 0:
            msg = "p must be non-negative"
            raise ValueError(msg)
        self.p = int(p)
        self.at_least = int(at_least)

    @classmethod
    def from_cost_matrix(cls, cost: CostLike, radius: float, p: int,
                         weights: np.ndarray | None = None, **options: object) -> MCLP:
        """Build from a demand × candidate cost array (dense, or sparse of usable pairs).

        Parameters
        ----------
        cost
            Demand × candidate costs (m).
        radius
            Coverage radius, same units: ``d_ij <= radius`` covers.
        p
            New sites to open (at most).
        weights
            Demand weights (default 1 each).
        **options
            ``existing``, ``groups``, ``required_groups``, ``at_least``, ``max_distance``,
            ``distance_mode`` (see the class docstring).

        Returns
        -------
        MCLP
            The model; call ``solve``.
        """
        return cls(cost, radius=radius, p=p, weights=weights, **options)

    @classmethod
    def from_layers(cls, network: StreetNetwork | None, demand: gpd.GeoDataFrame,
                    candidates: gpd.GeoDataFrame, *, radius_m: float, p: int,
                    existing: gpd.GeoDataFrame | None = None, weight: str = "children",
                    metric: Metric = "walking", group_column: str | None = None,
                    required_groups: Sequence[object] = ()) -> MCLP:
        """Build on cfplan's layers: the ``p`` new sites within ``radius_m`` covering most.

        Returns
        -------
        MCLP
            The model (walking or straight-line costs within ``radius_m``).
        """
        return cls(radius=radius_m, p=p, required_groups=required_groups, **_layer_options(
            network, demand, candidates, max_distance_m=radius_m, existing=existing,
            weight=weight, metric=metric, group_column=group_column))

    from_layers.__doc__ = str(from_layers.__doc__) + _LAYER_DOC

    def with_p(self, p: int) -> MCLP:
        """Return the same model with another ``p`` (the shrunk data is shared)."""
        other = copy.copy(self)
        other.p = int(p)
        return other

    def _objective(self, sites: np.ndarray, covered: float) -> float:
        return covered

    def _heuristic(self, start: Sequence[int] | None) -> list[int]:
        s = self._prepared()
        labels = self._x_groups(s)
        options = {"budget": self.p, "groups": labels, "required": self.required_groups,
                   "at_least": self.at_least}
        picks = greedy_cover(s.matrix, s.weight, **options)[0]
        if start:
            where = {int(c): k for k, c in enumerate(s.columns)}
            begin = [where[c] for c in start if c in where][: self.p]
            more = greedy_cover(s.matrix, s.weight, initial=begin, **options)[0]
            if self._value(more) > self._value(picks):
                picks = more
        if len(picks) >= max(self.p, 1):  # a full budget: try swaps
            better = improve_cover(s.matrix, s.weight, picks, groups=labels,
                                   required=self.required_groups)
            if self._value(better) > self._value(picks):
                picks = better
        return picks

    def _value(self, picks: list[int]) -> float:
        s = self._prepared()
        return float(s.weight[np.diff(s.matrix[:, picks].indptr) > 0].sum()) if picks else 0.0

    def _incumbent_value(self, picks: list[int]) -> float | None:
        return self._prepared().constant + self._value(picks)

    def _lp_guided(self, x: np.ndarray) -> list[int] | None:
        s = self._prepared()
        top = [int(j) for j in np.argsort(-x, kind="stable")[: self.p] if x[j] > 1e-6]
        labels = self._x_groups(s)
        picks = greedy_cover(s.matrix, s.weight, budget=self.p, groups=labels,
                             required=self.required_groups, at_least=self.at_least,
                             initial=top)[0]
        if len(picks) < max(self.p, 1):
            return picks
        return improve_cover(s.matrix, s.weight, picks, groups=labels,
                             required=self.required_groups)

    @property
    def _integral(self) -> bool:
        return bool(np.all(self.weights == np.round(self.weights)))

    def _heuristic_bound(self, picks: list[int]) -> float:
        s = self._prepared()
        if self.required_groups or self.at_least:
            return np.inf
        return s.constant + mclp_greedy_bound(self._value(picks), self.p, float(s.weight.sum()))

    def _trivial_bound(self) -> float:
        s = self._prepared()
        return s.constant + float(s.weight.sum())

    def _mip(self) -> Mip:
        s = self._prepared()
        n_x, n_r = len(s.columns), s.matrix.shape[0]
        n = n_x + n_r
        cover = sp.hstack([-s.matrix, sp.eye_array(n_r, format="csr")], format="csr")
        blocks = [(cover, np.full(n_r, -np.inf), np.zeros(n_r)),
                  *self._side_rows(s, n, at_most=self.p, at_least=self.at_least)]
        rows, lower, upper = stack_rows(blocks, n)
        return Mip("max", np.r_[np.zeros(n_x), s.weight], np.zeros(n), np.ones(n),
                   np.r_[np.ones(n_x, bool), np.zeros(n_r, bool)], rows, lower, upper,
                   offset=s.constant)

    def tradeoff(self, k_max: int, *, time_limit: float = 60.0,
                 mip_rel_gap: float = OPTIMAL_GAP) -> pd.DataFrame:
        """Solve for ``k = 1..k_max`` new sites, each warm-started from ``k - 1``'s sites.

        Parameters
        ----------
        k_max
            Largest number of new sites.
        time_limit
            Seconds for each solve.
        mip_rel_gap
            As in :meth:`solve`.

        Returns
        -------
        pandas.DataFrame
            One row per ``k``: ``k``, ``objective`` (weight covered, existing included),
            ``marginal_gain`` (over ``k - 1``; ``k = 1`` over the existing facilities),
            ``bound``, ``gap``, ``status``, ``seconds`` and ``sites`` (tuple of columns).
        """
        rows = []
        previous = self.with_p(0)._prepared().constant if k_max else 0.0
        last: list[int] = []
        for k in range(1, k_max + 1):
            result = self.with_p(k).solve(time_limit=time_limit, mip_rel_gap=mip_rel_gap,
                                          start=last)
            rows.append({"k": k, "objective": result.objective,
                         "marginal_gain": result.objective - previous, "bound": result.bound,
                         "gap": result.gap, "status": result.status,
                         "seconds": result.seconds["total"],
                         "sites": tuple(int(j) for j in result.sites)})
            previous, last = result.objective, [int(j) for j in result.sites]
        return pd.DataFrame(rows, columns=["k", "objective", "marginal_gain", "bound", "gap",
                                           "status", "seconds", "sites"])


class LSCP(_CoverageModel):
    r"""Location set covering problem: the fewest new sites for full (or a share of) coverage.

    Full coverage (``share=None``)::

    .. math::

        \min \sum_{j \in J} x_j
        \quad \text{s.t.} \quad
        \sum_{j \in N_i} x_j \ge 1 \;\; \forall i \text{ with } w_i > 0
        \text{ not covered by an existing facility}, \qquad
        \sum_{j \in J_g} x_j \ge 1 \;\; \forall g \in R, \qquad x_j \in \{0,1\}.

    It is infeasible when some demand point has no candidate (nor existing facility) within
    ``r``. Target share ``alpha`` (e.g. 0.95 of the weight):

    .. math::

        \min \sum_j x_j \quad \text{s.t.} \quad y_i \le \sum_{j \in N_i} x_j, \quad
        \sum_i w_i y_i \ge \alpha \sum_i w_i - W_E, \quad 0 \le y_i \le 1,

    where ``W_E`` is the weight existing facilities cover already. Shrinking as for
    :class:`MCLP`. Greedy set cover warm-starts HiGHS.
    """

    model_name = "LSCP"
    sense = "min"
    gain_unit = "weight covered"

    def __init__(self, cost: CostLike, *, radius: float, share: float | None = None,
                 **options: object) -> None:
        super().__init__(cost, radius=radius, **options)
        if share is not None and not 0.0 <= share <= 1.0:
            msg = "share must be within 0..1"
            raise ValueError(msg)
        self.share = share

    @classmethod
    def from_cost_matrix(cls, cost: CostLike, radius: float, *, share: float | None = None,
                         weights: np.ndarray | None = None, **options: object) -> LSCP:
        """Build from a demand × candidate cost array (dense, or sparse of usable pairs).

        Parameters
        ----------
        cost
            Demand × candidate costs (m).
        radius
            Coverage radius: ``d_ij <= radius`` covers.
        share
            Target share of the total weight covered (default: every demand point).
        weights
            Demand weights (default 1 each).
        **options
            ``existing``, ``groups``, ``required_groups``, ``max_distance``,
            ``distance_mode``.

        Returns
        -------
        LSCP
            The model; call ``solve``.
        """
        return cls(cost, radius=radius, share=share, weights=weights, **options)

    @classmethod
    def from_layers(cls, network: StreetNetwork | None, demand: gpd.GeoDataFrame,
                    candidates: gpd.GeoDataFrame, *, radius_m: float,
                    share: float | None = None, existing: gpd.GeoDataFrame | None = None,
                    weight: str = "children", metric: Metric = "walking",
                    group_column: str | None = None,
                    required_groups: Sequence[object] = ()) -> LSCP:
        """Build on cfplan's layers: the fewest new sites covering all (or ``share``).

        Returns
        -------
        LSCP
            The model (walking or straight-line costs within ``radius_m``).
        """
        return cls(radius=radius_m, share=share, required_groups=required_groups,
                   **_layer_options(network, demand, candidates, max_distance_m=radius_m,
                                    existing=existing, weight=weight, metric=metric,
                                    group_column=group_column))

    from_layers.__doc__ = str(from_layers.__doc__) + _LAYER_DOC

    def _needed(self) -> float:
        s = self._prepared()
        if self.share is None:
            return float(s.weight.sum())
        return max(0.0, self.share * float(self.weights.sum()) - s.constant)

    def _shrink(self) -> _Shrunk:
        shrunk = super()._shrink()
        uncoverable = float(shrunk.extra[0]) if shrunk.extra is not None else 0.0
        if not shrunk.infeasible:
            if self.share is None and uncoverable > 0:
                shrunk.infeasible = (f"{uncoverable:g} of the demand weight has no candidate "
                                     "within the radius: full coverage is impossible")
            elif self.share is not None and self.share * float(self.weights.sum()) > (
                    shrunk.constant + float(shrunk.weight.sum())) * (1 + 1e-12):
                shrunk.infeasible = "the target share exceeds what all candidates can cover"
        return shrunk

    def _objective(self, sites: np.ndarray, covered: float) -> float:
        return float(len(sites))

    def _heuristic(self, start: Sequence[int] | None) -> list[int]:
        s = self._prepared()
        return greedy_cover(s.matrix, s.weight, target=self._needed() * (1 - 1e-12),
                            groups=self._x_groups(s), required=self.required_groups)[0]

    _integral = True

    def _incumbent_value(self, picks: list[int]) -> float | None:
        return float(len(picks))

    def _heuristic_bound(self, picks: list[int]) -> float:
        s = self._prepared()
        if self.share is not None or not s.matrix.nnz:
            return 0.0
        # greedy set cover is within H(max set size) of the optimum (Chvátal 1979)
        largest = int(np.diff(sp.csc_array(s.matrix).indptr).max())
        harmonic = float(np.sum(1.0 / np.arange(1, largest + 1)))
        return float(np.ceil(len(picks) / harmonic - 1e-9))

    def _trivial_bound(self) -> float:
        return float(len(self.required_groups) if self.required_groups else 0)

    def _mip(self) -> Mip:
        s = self._prepared()
        n_x, n_r = len(s.columns), s.matrix.shape[0]
        if self.share is None:
            n = n_x
            blocks = [(s.matrix, np.ones(n_r), np.full(n_r, np.inf)),
                      *self._side_rows(s, n, at_most=None)]
            integer = np.ones(n, bool)
        else:
            n = n_x + n_r
            cover = sp.hstack([-s.matrix, sp.eye_array(n_r, format="csr")], format="csr")
            target = _coo_rows(np.zeros(n_r, np.int64), n_x + np.arange(n_r), s.weight, (1, n))
            blocks = [(cover, np.full(n_r, -np.inf), np.zeros(n_r)),
                      (target, np.array([self._needed()]), np.array([np.inf])),
                      *self._side_rows(s, n, at_most=None)]
            integer = np.r_[np.ones(n_x, bool), np.zeros(n_r, bool)]
        rows, lower, upper = stack_rows(blocks, n)
        return Mip("min", np.r_[np.ones(n_x), np.zeros(n - n_x)], np.zeros(n), np.ones(n),
                   integer, rows, lower, upper)


class JurisdictionCover(_SitingModel):
    r"""The fewest new sites that give every jurisdiction lacking one its own, and meet a count.

    The plan's per-unit targets as constraints: each 办事处 its own 未成年人保护工作站, each
    社区/村 its own 儿童之家, inside it. With ``J_g`` the candidates inside group ``g``, ``R``
    the groups without an existing facility, ``T`` a count target (e.g. 5 stations in the
    district) and ``n_E`` the facilities that exist:

    .. math::

        \min \sum_{j \in J} x_j \quad \text{s.t.} \quad
        \sum_{j \in J_g} x_j \ge 1 \;\; \forall g \in R, \qquad
        \sum_{j \in J} x_j \ge T - n_E, \qquad x_j \in \{0, 1\}.

    Each candidate lies in one group, so the optimum is ``N* = max(|R|, T - n_E, 0)``
    whenever every required group has a candidate (and ``N*`` candidates exist); that value
    is the proven bound. Among all such solutions the sites are placed to cover the most
    weight within ``radius`` (a second, lexicographic stage: :class:`MCLP` with
    ``N* <= sum x <= N*`` and the group rows); the status is that stage's. Example: 5
    stations required, 3 exist, 2 办事处 lack one: ``N* = max(2, 5 - 3) = 2``, not 4.
    """

    model_name = "JurisdictionCover"
    sense = "min"
    gain_unit = "weight covered"

    def __init__(self, cost: CostLike | None, *, groups: Sequence[object] | np.ndarray,
                 required_groups: Sequence[object], radius: float = np.inf,
                 count_target: int = 0, existing_count: int = 0,
                 weights: np.ndarray | None = None, **options: object) -> None:
        labels = np.asarray(groups, dtype=object)
        if cost is None:
            cost = sp.csr_array((0, len(labels)))
        super().__init__(cost, weights=weights, groups=labels,
                         required_groups=required_groups, **options)  # type: ignore[arg-type]
        self.radius = float(radius)
        self.count_target = int(count_target)
        self.existing_count = int(existing_count)
        self.needed = max(len(self.required_groups), self.count_target - self.existing_count, 0)

    @classmethod
    def from_cost_matrix(cls, cost: CostLike | None, radius: float, *,
                         groups: Sequence[object] | np.ndarray,
                         required_groups: Sequence[object], count_target: int = 0,
                         existing_count: int = 0, weights: np.ndarray | None = None,
                         **options: object) -> JurisdictionCover:
        """Build from candidate groups (and optionally costs for placing the sites well).

        Parameters
        ----------
        cost
            Demand × candidate costs (m), or ``None`` (then any candidate of a group will do).
        radius
            Coverage radius for the placement stage.
        groups
            Group (unit or subdistrict code) of each candidate column.
        required_groups
            Groups with no facility yet.
        count_target, existing_count
            A count target and how many facilities exist.
        weights
            Demand weights.
        **options
            ``existing``, ``max_distance``, ``distance_mode``.

        Returns
        -------
        JurisdictionCover
            The model; call ``solve``.
        """
        return cls(cost, radius=radius, groups=groups, required_groups=required_groups,
                   count_target=count_target, existing_count=existing_count, weights=weights,
                   **options)

    @classmethod
    def from_layers(cls, network: StreetNetwork | None, demand: gpd.GeoDataFrame,
                    candidates: gpd.GeoDataFrame, *, radius_m: float, group_column: str,
                    required_groups: Sequence[object], count_target: int = 0,
                    existing: gpd.GeoDataFrame | None = None, weight: str = "children",
                    metric: Metric = "walking") -> JurisdictionCover:
        """Build on cfplan's layers: one new site in each required group, and the count.

        ``existing_count`` is the number of rows of ``existing``.

        Returns
        -------
        JurisdictionCover
            The model; groups from ``candidates[group_column]``.
        """
        options = _layer_options(network, demand, candidates, max_distance_m=radius_m,
                                 existing=existing, weight=weight, metric=metric,
                                 group_column=group_column)
        return cls(radius=radius_m, required_groups=required_groups,
                   count_target=count_target,
                   existing_count=0 if existing is None else len(existing), **options)

    from_layers.__doc__ = str(from_layers.__doc__) + _LAYER_DOC

    def placement(self) -> MCLP:
        """Return the second-stage :class:`MCLP` (``N*`` sites, the group rows)."""
        return MCLP(self.cost, radius=self.radius, p=self.needed, at_least=self.needed,
                    weights=self.weights, existing=self.existing, groups=self.groups,
                    required_groups=self.required_groups, distance_mode=self.distance_mode)

    def solve(self, **options: object) -> SitingResult:  # type: ignore[override]
        """Solve: ``N*`` new sites, placed to cover the most (options as in MCLP.solve).

        Returns
        -------
        SitingResult
            ``objective`` = ``bound`` = ``N*`` new sites; ``covered`` and
            ``details["coverage_bound"]`` for the placement.
        """
        message = self._missing_groups()
        if not message and self.needed > len(self.candidates):
            message = f"{self.needed} new sites needed but only {len(self.candidates)} candidates"
        if message:
            empty = _Shrunk(sp.csr_array((0, 0)), np.empty(0), np.empty(0, np.int64), 0.0,
                            {"demand": self.cost.shape[0], "candidates": len(self.candidates)})
            return self._result_infeasible(empty, message, {}, time.perf_counter())
        placed = self.placement().solve(**options)  # type: ignore[arg-type]
        details = dict(placed.details, coverage=placed.objective,
                       coverage_bound=placed.bound, coverage_gap=placed.gap)
        return SitingResult(
            model=self.model_name, status=placed.status, objective=float(len(placed.sites)),
            bound=float(self.needed), gap=relative_gap(float(len(placed.sites)), self.needed),
            sense="min", sites=placed.sites, gains=placed.gains, served=placed.served,
            assignment=placed.assignment, covered=placed.covered,
            total_weight=placed.total_weight, existing_value=placed.existing_value,
            gain_unit=self.gain_unit, solver=placed.solver, seconds=placed.seconds,
            sizes=placed.sizes, distance_mode=self.distance_mode, message=placed.message,
            details=details,
        )


class PMedian(_SitingModel):
    r"""p-median: the ``p`` new sites that minimise the total weighted walking distance.

    Each demand point walks to its nearest open site. The cost matrix stays sparse: only
    stored pairs (``d_ij <= max_distance``) may be used. A demand point may instead fall
    back to a fixed cost ``f_i``: the distance to its nearest existing facility (existing
    facilities are open at no cost) or, when ``unassigned_cost`` is given, that many metres
    (an explicit penalty for being left beyond ``max_distance``), whichever is lower. With
    ``K_i = {j in J : d_ij < f_i}``:

    .. math::

        \min \sum_i w_i \Big( \sum_{j \in K_i} d_{ij} z_{ij} + f_i u_i \Big)
        \quad \text{s.t.} \quad
        \sum_{j \in K_i} z_{ij} + u_i = 1 \;\; \forall i, \qquad
        z_{ij} \le x_j, \qquad \sum_j x_j \le p, \qquad
        \sum_{j \in J_g} x_j \ge 1 \;\; \forall g \in R,

    ``x`` binary, ``z, u >= 0``; ``u_i`` exists only where ``f_i`` is finite, so a demand
    point with neither a site within ``max_distance`` nor a fallback makes the model
    infeasible. On a dense cost matrix with no existing facility and no penalty this is the
    textbook p-median (spopt's, with ``<= p``, the same optimum). Shrinking: pairs no
    shorter than ``f_i`` are dropped; rows with equal pairs, costs and ``f_i`` are merged.
    Greedy (largest saving first) warm-starts HiGHS.
    """

    model_name = "PMedian"
    sense = "min"
    gain_unit = "weighted distance saved"

    def __init__(self, cost: CostLike, *, p: int, unassigned_cost: float | None = None,
                 **options: object) -> None:
        super().__init__(cost, **options)  # type: ignore[arg-type]
        self.p = int(p)
        self.unassigned_cost = unassigned_cost

    @classmethod
    def from_cost_matrix(cls, cost: CostLike, p: int = 5, weights: np.ndarray | None = None,
                         **options: object) -> PMedian:
        """Build from a demand × candidate cost array (dense, or sparse of usable pairs).

        Parameters
        ----------
        cost
            Demand × candidate costs (m).
        p
            New sites to open (at most).
        weights
            Demand weights (default 1 each).
        **options
            ``existing``, ``unassigned_cost``, ``groups``, ``required_groups``,
            ``max_distance``, ``distance_mode``.

        Returns
        -------
        PMedian
            The model; call ``solve``.
        """
        return cls(cost, p=p, weights=weights, **options)

    @classmethod
    def from_layers(cls, network: StreetNetwork | None, demand: gpd.GeoDataFrame,
                    candidates: gpd.GeoDataFrame, *, p: int, max_distance_m: float,
                    unassigned_cost: float | None = None,
                    existing: gpd.GeoDataFrame | None = None, weight: str = "children",
                    metric: Metric = "walking", group_column: str | None = None,
                    required_groups: Sequence[object] = ()) -> PMedian:
        """Build on cfplan's layers: ``p`` new sites, walks cut off at ``max_distance_m``.

        Returns
        -------
        PMedian
            The model (pairs beyond ``max_distance_m`` are not allowed; see the class).
        """
        return cls(p=p, unassigned_cost=unassigned_cost, required_groups=required_groups,
                   **_layer_options(network, demand, candidates,
                                    max_distance_m=max_distance_m, existing=existing,
                                    weight=weight, metric=metric, group_column=group_column))

    from_layers.__doc__ = str(from_layers.__doc__) + _LAYER_DOC

    def _fallback(self) -> tuple[np.ndarray, np.ndarray]:
        """Per demand: fallback cost ``f_i`` and whether it is an existing facility."""
        n = self.cost.shape[0]
        best = np.full(n, np.inf)
        if len(self.existing):
            sub = sp.csr_array(self.cost[:, self.existing])
            rows = np.repeat(np.arange(n), np.diff(sub.indptr))
            np.minimum.at(best, rows, sub.data)
        penalty = np.inf if self.unassigned_cost is None else float(self.unassigned_cost)
        return np.minimum(best, penalty), best <= penalty

    def _shrink(self) -> _Shrunk:
        fallback, _ = self._fallback()
        sub = sp.csr_array(self.cost[:, self.candidates])
        n = sub.shape[0]
        rows = np.repeat(np.arange(n), np.diff(sub.indptr))
        keep = sub.data < fallback[rows]
        rows = rows[keep]
        indptr = np.zeros(n + 1, np.int64)
        np.cumsum(np.bincount(rows, minlength=n), out=indptr[1:])
        pairs = sp.csr_array((sub.data[keep], sub.indices[keep], indptr), shape=sub.shape)
        reach = np.diff(pairs.indptr) > 0
        weighted = self.weights > 0
        stranded = weighted & ~reach & ~np.isfinite(fallback)
        fixed = weighted & ~reach & np.isfinite(fallback)
        live = np.flatnonzero(weighted & reach)
        first, group = merge_rows(pairs[live], with_values=True, extra=fallback[live])
        matrix = sp.csr_array(pairs[live][first])
        weight = np.bincount(group, weights=self.weights[live], minlength=len(first))
        used = np.flatnonzero(np.diff(sp.csc_array(matrix).indptr) > 0)
        if self.required_groups:
            labels = self.groups[self.candidates]
            used = np.union1d(used, np.flatnonzero(np.isin(labels, self.required_groups)))
        sizes = {"demand": n, "demand_rows": len(first), "candidates": len(self.candidates),
                 "candidates_kept": len(used), "pairs": int(pairs.nnz)}
        message = self._missing_groups()
        if stranded.any() and not message:
            message = (f"{int(stranded.sum())} demand points reach no candidate within "
                       "max_distance and have no fallback (give unassigned_cost)")
        return _Shrunk(sp.csr_array(matrix[:, used]), weight, self.candidates[used],
                       float((self.weights[fixed] * fallback[fixed]).sum()), sizes, message,
                       extra=fallback[live][first])

    def _heuristic(self, start: Sequence[int] | None) -> list[int]:
        s = self._prepared()
        return greedy_median(s.matrix, s.weight, s.extra, budget=self.p,
                             groups=self._x_groups(s), required=self.required_groups)[0]

    def _trivial_bound(self) -> float:
        s = self._prepared()  # each row at its nearest possible site
        nearest = np.full(s.matrix.shape[0], np.inf)
        rows = np.repeat(np.arange(s.matrix.shape[0]), np.diff(s.matrix.indptr))
        np.minimum.at(nearest, rows, s.matrix.data)
        return s.constant + float((s.weight * np.minimum(nearest, s.extra)).sum())

    def _mip(self) -> Mip:
        s = self._prepared()
        m = s.matrix
        n_x, n_r, n_z = len(s.columns), m.shape[0], m.nnz
        fb_rows = np.flatnonzero(np.isfinite(s.extra))
        n = n_x + n_z + len(fb_rows)
        pair_row = np.repeat(np.arange(n_r), np.diff(m.indptr))
        z = n_x + np.arange(n_z)
        u = n_x + n_z + np.arange(len(fb_rows))
        assign = _coo_rows(np.r_[pair_row, fb_rows], np.r_[z, u], 1.0, (n_r, n))
        link = _coo_rows(np.repeat(np.arange(n_z), 2), np.column_stack([z, m.indices]).ravel(),
                         np.tile([1.0, -1.0], n_z), (n_z, n))
        blocks = [(assign, np.ones(n_r), np.ones(n_r)),
                  (link, np.full(n_z, -np.inf), np.zeros(n_z)),
                  *self._side_rows(s, n, at_most=self.p)]
        rows, lower, upper = stack_rows(blocks, n)
        cost = np.r_[np.zeros(n_x), s.weight[pair_row] * m.data,
                     s.weight[fb_rows] * s.extra[fb_rows]]
        return Mip("min", cost, np.zeros(n), np.ones(n), np.r_[np.ones(n_x, bool),
                   np.zeros(n - n_x, bool)], rows, lower, upper, offset=s.constant)

    def _finish(self, sites: np.ndarray, values: np.ndarray | None) -> dict[str, object]:
        fallback, from_existing = self._fallback()
        n = self.cost.shape[0]
        sub = sp.csr_array(self.cost[:, sites])
        order, gains = greedy_median(sub, self.weights, fallback, budget=len(sites))
        rest = [k for k in range(len(sites)) if k not in set(order)]
        order, gains = order + rest, gains + [0.0] * len(rest)
        ranked = sites[np.asarray(order, np.int64)]
        sub = sp.csr_array(self.cost[:, ranked])
        rows = np.repeat(np.arange(n), np.diff(sub.indptr))
        best = np.full(n, np.inf)
        np.minimum.at(best, rows, sub.data)
        # nearest new site (lowest rank among ties)
        at_best = sub.data <= best[rows]
        pick = np.full(n, len(ranked), np.int64)
        np.minimum.at(pick, rows[at_best], sub.indices[at_best])
        walk = np.minimum(best, fallback)
        new = best < fallback
        assignment = np.where(new, ranked[np.minimum(pick, max(len(ranked) - 1, 0))]
                              if len(ranked) else UNSERVED,
                              np.where(np.isfinite(fallback) & from_existing, EXISTING,
                                       UNSERVED)).astype(np.int64)
        served = np.bincount(pick[new], weights=self.weights[new], minlength=len(ranked))
        base = float((self.weights * fallback).sum()) if np.isfinite(fallback).all() else np.inf
        objective = float((self.weights * walk).sum())
        return {"objective": objective, "sites": ranked, "gains": np.asarray(gains),
                "served": served[:len(ranked)], "assignment": assignment,
                "covered": float(self.weights[np.isfinite(walk)].sum()),
                "total_weight": float(self.weights.sum()), "existing_value": base,
                "details": {"base_gain_value": 0.0}}


class CapacitatedCoverage(_SitingModel):
    r"""Capacitated coverage (托育): sites with capacity (托位) serve demand within a radius.

    Demand ``q_i`` (children 0–3, or a share of the children) at each point may be split
    among the sites within ``r``; site ``j`` serves at most its capacity ``c_j``.
    Existing facilities are open with their capacities. ``a_ij`` (children of ``i`` served
    by ``j``) exists only for the sparse pairs ``d_ij <= r``. Maximise the demand served
    with ``p`` new sites:

    .. math::

        \max \sum_{(i,j)} a_{ij} \quad \text{s.t.} \quad
        \sum_j a_{ij} \le q_i, \qquad
        \sum_i a_{ij} \le c_j x_j \; (j \in J), \qquad
        \sum_i a_{ij} \le c_j \; (j \in E), \qquad
        a_{ij} \le q_i x_j \; (j \in J), \qquad
        \sum_{j \in J} x_j \le p,

    plus the group rows, ``a >= 0``, ``x`` binary (``a_ij <= q_i x_j`` is implied by the
    capacity row but tightens the LP bound). With ``share=alpha`` instead: minimise
    ``sum x_j`` subject to ``sum a_ij >= alpha sum q_i`` (the fewest new sites so that a
    share of the demand is served). Shrinking merges points with the same covering sets
    (their demand summed); no candidate is dropped (capacities differ). Sites are ranked by
    the demand they serve in the solution.
    """

    model_name = "CapacitatedCoverage"
    sense = "max"
    gain_unit = "demand served"

    def __init__(self, cost: CostLike, *, radius: float, capacity: np.ndarray,
                 p: int | None = None, share: float | None = None, **options: object) -> None:
        super().__init__(cost, **options)  # type: ignore[arg-type]
        if (p is None) == (share is None):
            msg = "give exactly one of p (maximise served demand) or share (fewest sites)"
            raise ValueError(msg)
        self.radius = float(radius)
        self.capacity = np.asarray(capacity, np.float64).ravel()
        if len(self.capacity) != self.cost.shape[1] or (self.capacity < 0).any():
            msg = "capacity must be one non-negative value per column"
            raise ValueError(msg)
        self.p, self.share = p, share
        self.sense = "max" if share is None else "min"  # type: ignore[misc]
        self.cover = within(self.cost, self.radius)

    @classmethod
    def from_cost_matrix(cls, cost: CostLike, radius: float, capacity: np.ndarray, *,
                         p: int | None = None, share: float | None = None,
                         weights: np.ndarray | None = None,
                         **options: object) -> CapacitatedCoverage:
        """Build from a demand × site cost array; ``weights`` are the demand ``q_i``.

        Returns
        -------
        CapacitatedCoverage
            The model; call ``solve``.
        """
        return cls(cost, radius=radius, capacity=capacity, p=p, share=share, weights=weights,
                   **options)

    @classmethod
    def from_layers(cls, network: StreetNetwork | None, demand: gpd.GeoDataFrame,
                    candidates: gpd.GeoDataFrame, *, radius_m: float,
                    capacity: str | float = "capacity", p: int | None = None,
                    share: float | None = None, existing: gpd.GeoDataFrame | None = None,
                    weight: str = "children", demand_share: float = 1.0,
                    metric: Metric = "walking", group_column: str | None = None,
                    required_groups: Sequence[object] = ()) -> CapacitatedCoverage:
        """Build on cfplan's layers: 托育 places (``capacity``) for children within reach.

        ``capacity`` names the column of ``candidates`` and ``existing`` holding the places
        (托位; missing values count 0), or gives one number for every new site (existing
        facilities then need the ``capacity`` column). ``demand_share`` scales the demand
        (e.g. the share of children aged 0–3).

        Returns
        -------
        CapacitatedCoverage
            The model.
        """
        options = _layer_options(network, demand, candidates, max_distance_m=radius_m,
                                 existing=existing, weight=weight, metric=metric,
                                 group_column=group_column)
        def places(frame: gpd.GeoDataFrame | None, column: str) -> np.ndarray:
            if frame is None:
                return np.empty(0)
            return pd.to_numeric(frame[column], errors="coerce").fillna(0.0).to_numpy(float)

        if isinstance(capacity, str):
            new = places(candidates, capacity)
            old = places(existing, capacity)
        else:
            new = np.full(len(candidates), float(capacity))
            old = places(existing, "capacity")
        options["weights"] = np.asarray(options["weights"]) * float(demand_share)
        return cls(radius=radius_m, capacity=np.r_[new, old], p=p, share=share,
                   required_groups=required_groups, **options)

    from_layers.__doc__ = str(from_layers.__doc__) + _LAYER_DOC

    def _shrink(self) -> _Shrunk:
        columns = np.r_[self.candidates, self.existing]
        sub = sp.csr_array(self.cover[:, columns])
        live = np.flatnonzero((np.diff(sub.indptr) > 0) & (self.weights > 0))
        first, group = merge_rows(sub[live])
        matrix = sp.csr_array(sub[live][first])
        weight = np.bincount(group, weights=self.weights[live], minlength=len(first))
        sizes = {"demand": self.cost.shape[0], "demand_rows": len(first),
                 "candidates": len(self.candidates), "candidates_kept": len(self.candidates)}
        message = self._missing_groups()
        if self.share is not None and not message:
            reachable = min(float(weight.sum()), float(self.capacity[columns].sum()))
            if self.share * float(self.weights.sum()) > reachable * (1 + 1e-12):
                message = "the target share exceeds what all sites within reach can serve"
        # columns: candidates first (the x columns), then existing facilities
        return _Shrunk(matrix, weight, self.candidates, 0.0, sizes, message, live=live,
                       row_group=group)

    def _mip(self) -> Mip:
        s = self._prepared()
        m = s.matrix
        n_x, n_r, n_a = len(self.candidates), m.shape[0], m.nnz
        n = n_x + n_a
        pair_row = np.repeat(np.arange(n_r), np.diff(m.indptr))
        a = n_x + np.arange(n_a)
        cap = self.capacity[np.r_[self.candidates, self.existing]]
        demand = _coo_rows(pair_row, a, 1.0, (n_r, n))
        new = m.indices < n_x
        capacity = _coo_rows(np.r_[m.indices, np.arange(n_x)], np.r_[a, np.arange(n_x)],
                             np.r_[np.ones(n_a), -cap[:n_x]], (n_x + len(self.existing), n))
        vub = np.flatnonzero(new)
        tighten = _coo_rows(np.repeat(np.arange(len(vub)), 2),
                            np.column_stack([a[vub], m.indices[vub]]).ravel(),
                            np.column_stack([np.ones(len(vub)), -s.weight[pair_row[vub]]]
                                            ).ravel(), (len(vub), n))
        cap_upper = np.r_[np.zeros(n_x), cap[n_x:]]
        blocks = [(demand, np.full(n_r, -np.inf), s.weight),
                  (capacity, np.full(len(cap), -np.inf), cap_upper),
                  (tighten, np.full(len(vub), -np.inf), np.zeros(len(vub)))]
        integer = np.r_[np.ones(n_x, bool), np.zeros(n_a, bool)]
        upper = np.r_[np.ones(n_x), s.weight[pair_row]]
        if self.share is None:
            blocks += self._side_rows(s, n, at_most=self.p)
            rows, lower, row_upper = stack_rows(blocks, n)
            return Mip("max", np.r_[np.zeros(n_x), np.ones(n_a)], np.zeros(n), upper,
                       integer, rows, lower, row_upper)
        served = _coo_rows(np.zeros(n_a, np.int64), a, 1.0, (1, n))
        blocks += [(served, np.array([self.share * float(self.weights.sum())]),
                    np.array([np.inf])), *self._side_rows(s, n, at_most=None)]
        rows, lower, row_upper = stack_rows(blocks, n)
        return Mip("min", np.r_[np.ones(n_x), np.zeros(n_a)], np.zeros(n), upper, integer,
                   rows, lower, row_upper)

    def _served(self, sites: np.ndarray) -> tuple[float, np.ndarray]:
        """Demand served with ``sites`` open (max flow as an LP) and the pair flows."""
        s = self._prepared()
        n_x = len(self.candidates)
        is_open = np.zeros(n_x + len(self.existing), bool)
        is_open[np.searchsorted(self.candidates, sites)] = True
        is_open[n_x:] = True
        m = s.matrix
        usable = is_open[m.indices]
        pair_row = np.repeat(np.arange(m.shape[0]), np.diff(m.indptr))[usable]
        col = m.indices[usable]
        n = int(usable.sum())
        cap = self.capacity[np.r_[self.candidates, self.existing]]
        blocks = [(_coo_rows(pair_row, np.arange(n), 1.0, (m.shape[0], n)),
                   np.full(m.shape[0], -np.inf), s.weight),
                  (_coo_rows(col, np.arange(n), 1.0, (len(cap), n)),
                   np.full(len(cap), -np.inf), cap)]
        rows, lower, upper = stack_rows(blocks, n)
        lp = Mip("max", np.ones(n), np.zeros(n), np.full(n, np.inf), np.zeros(n, bool), rows,
                 lower, upper)
        outcome = solve_mip(lp, time_limit=60.0)
        flow = np.zeros(m.nnz)
        if outcome.values is not None:
            flow[np.flatnonzero(usable)] = outcome.values
        return float(flow.sum()), flow

    def _heuristic(self, start: Sequence[int] | None) -> list[int]:
        s = self._prepared()
        m = s.matrix
        n_x = len(self.candidates)
        left = s.weight.copy()
        room = self.capacity[np.r_[self.candidates, self.existing]].copy()
        csc = sp.csc_array(m)

        def serve(j: int) -> float:
            rows = csc.indices[csc.indptr[j]:csc.indptr[j + 1]]
            given = 0.0
            for i in rows:
                take = min(left[i], room[j])
                left[i] -= take
                room[j] -= take
                given += take
            return given

        for j in range(n_x, m.shape[1]):
            serve(j)
        picks: list[int] = []
        budget = n_x if self.p is None else min(self.p, n_x)
        target = None if self.share is None else self.share * float(self.weights.sum())
        served = float(s.weight.sum() - left.sum())
        labels = self._x_groups(s)
        while len(picks) < budget:
            potential = np.minimum(np.asarray(csc.T[:n_x] @ left).ravel(), room[:n_x])
            potential[picks] = -1.0
            open_groups = [g for g in self.required_groups
                           if labels is None or g not in set(labels[picks].tolist())]
            if open_groups and (budget - len(picks) <= len(open_groups) or (
                    target is not None and served >= target) or potential.max() <= 0):
                potential[~np.isin(labels, open_groups)] = -1.0
            elif (target is not None and served >= target - 1e-9) or potential.max() <= 0:
                break
            j = int(np.argmax(potential))
            if potential[j] < 0:
                break
            served += serve(j)
            picks.append(j)
        return picks

    def _finish(self, sites: np.ndarray, values: np.ndarray | None) -> dict[str, object]:
        s = self._prepared()
        m = s.matrix
        total, flow = self._served(sites)
        n_x = len(self.candidates)
        pos = np.searchsorted(self.candidates, sites)
        per_col = np.bincount(m.indices, weights=flow, minlength=m.shape[1])
        served = per_col[pos]
        rank = np.argsort(-served, kind="stable")
        ranked, served = sites[rank], served[rank]
        existing_value = self._served(np.empty(0, np.int64))[0]
        # each demand point's main server
        live, group = s.live, s.row_group
        pair_row = np.repeat(np.arange(m.shape[0]), np.diff(m.indptr))
        best_flow = np.zeros(m.shape[0])
        best_col = np.full(m.shape[0], -1, np.int64)
        order = np.lexsort((-flow, pair_row))
        firsts = np.ones(len(order), bool)
        firsts[1:] = pair_row[order][1:] != pair_row[order][:-1]
        best_flow[pair_row[order][firsts]] = flow[order][firsts]
        best_col[pair_row[order][firsts]] = m.indices[order][firsts]
        assignment = np.full(self.cost.shape[0], UNSERVED, np.int64)
        cls_col = best_col[group]
        served_cls = best_flow[group] > 1e-9
        columns = np.r_[self.candidates, self.existing]
        assignment[live[served_cls]] = np.where(cls_col[served_cls] < n_x,
                                                columns[np.maximum(cls_col[served_cls], 0)],
                                                EXISTING)
        objective = float(len(sites)) if self.share is not None else total
        return {"objective": objective, "sites": ranked, "gains": served, "served": served,
                "assignment": assignment, "covered": total,
                "total_weight": float(self.weights.sum()), "existing_value": existing_value,
                "details": {"base_gain_value": existing_value}}
