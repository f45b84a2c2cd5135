"""What every siting model shares: inputs, the shrink cache, the exact solve and the result.

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

Notation used in the models' docstrings: ``I`` demand points with weight ``w_i``; ``J``
candidate sites, ``E`` existing facilities; ``d_ij`` the cost (walking metres); ``r`` the
service radius; ``N_i = {j in J : d_ij <= r}``; ``x_j`` binary (open candidate ``j``).
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import ClassVar, Literal, TypeAlias

import numpy as np
import scipy.sparse as sp

from cfplan.analysis.siting._highs import (
    OPTIMAL_GAP,
    Mip,
    reduced_cost_fixing,
    relative_gap,
    solve_lp,
    solve_mip,
    solver_name,
    with_upper,
)
from cfplan.analysis.siting.costs import DistanceMode, as_cost_matrix
from cfplan.analysis.siting.lexicographic import fewest_sites
from cfplan.analysis.siting.result import UNSERVED, SitingResult, Stage, worst_status

__all__ = ["MAX_EXACT_NNZ", "CostLike", "Method", "Sense", "Shrunk", "SitingModel",
           "coo_rows"]

Method = Literal["auto", "exact", "greedy"]
Sense = Literal["max", "min"]
Block = tuple[sp.csr_array, np.ndarray, np.ndarray]
MAX_EXACT_NNZ = 20_000_000
"""With ``method="auto"``, larger models (pairs in the shrunk model) are solved greedily."""

CostLike: TypeAlias = np.ndarray | sp.sparray | sp.spmatrix

@dataclass
class Shrunk:
    """A shrunk model: merged demand rows × kept candidate columns.

    Attributes
    ----------
    matrix
        Rows × kept columns (0/1 coverage, or costs for the p-median).
    weight
        Weight of each merged row.
    columns
        The kept columns, as columns of the input cost matrix.
    constant
        Objective part fixed before solving (existing coverage, fallback walks).
    sizes
        Sizes before and after shrinking (``demand``, ``demand_rows``, ``candidates``,
        ``candidates_kept`` …).
    infeasible
        Why the model cannot be solved (empty: it can).
    extra
        Per merged row: the p-median fallback cost; coverage models: the uncoverable weight.
    live, row_group
        Capacitated coverage: the input rows kept, and the merged row of each.
    """

    matrix: sp.csr_array
    weight: np.ndarray
    columns: np.ndarray
    constant: float
    sizes: dict[str, int]
    infeasible: str = ""
    extra: np.ndarray | None = None
    live: np.ndarray | None = None
    row_group: np.ndarray | None = None


@dataclass
class Finish:
    """A solution's figures in the original columns (what ``_finish`` returns)."""

    objective: float
    sites: np.ndarray
    gains: np.ndarray
    served: np.ndarray
    assignment: np.ndarray
    covered: float
    total_weight: float
    existing_value: float
    details: dict[str, object] = field(default_factory=dict)


@dataclass
class Exact:
    """What the exact solve of a shrunk model gave (x columns of the shrunk model)."""

    status: str
    chosen: np.ndarray
    bound: float
    values: np.ndarray | None


def coo_rows(row: np.ndarray, col: np.ndarray, value: np.ndarray | float,
             shape: tuple[int, int]) -> sp.csr_array:
    """Return a CSR block with ``value`` at each ``(row, col)`` (a scalar is broadcast)."""
    data = np.broadcast_to(np.asarray(value, np.float64), np.shape(row))
    return sp.csr_array(sp.coo_array((data, (row, col)), shape=shape))


class SitingModel:
    """Shared plumbing: inputs, shrink cache, the solve template and the result.

    Subclasses give ``_shrink`` (the reduced model), ``_heuristic`` (a greedy solution),
    ``_mip`` (the model for HiGHS) and ``_finish`` (the figures of a solution); the other
    hooks have defaults.
    """

    model_name: ClassVar[str] = ""
    default_sense: ClassVar[Sense] = "max"
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
        self.groups: np.ndarray | None = (None if groups is None
                                          else np.asarray(groups, dtype=object))
        if self.groups is not None and len(self.groups) != n_cols:
            msg = "groups must give one label per column of the cost matrix"
            raise ValueError(msg)
        self.required_groups: tuple[object, ...] = tuple(dict.fromkeys(required_groups))
        if self.required_groups and self.groups is None:
            msg = "required_groups needs groups"
            raise ValueError(msg)
        self.distance_mode: DistanceMode = distance_mode
        self.sense: Sense = self.default_sense
        self._shrunk: Shrunk | None = None
        self._shrink_seconds = 0.0

    # -- hooks -----------------------------------------------------------------------------
    def _shrink(self) -> Shrunk:
        raise NotImplementedError

    def _heuristic(self, start: Sequence[int] | None) -> list[int]:
        raise NotImplementedError

    def _heuristic_bound(self, picks: list[int]) -> float:
        return np.inf if self.sense == "max" else -np.inf

    def _mip(self) -> Mip:
        raise NotImplementedError

    def _finish(self, sites: np.ndarray, values: np.ndarray | None) -> Finish:
        raise NotImplementedError

    def _trivial_bound(self) -> float:
        return np.inf if self.sense == "max" else -np.inf

    def _incumbent_value(self, picks: list[int]) -> float | None:
        """MIP objective of the heuristic solution, when cheap to know exactly."""
        return None

    def _lp_guided(self, x: np.ndarray) -> list[int] | None:
        """Round the LP relaxation's ``x`` to a solution (None: no such heuristic)."""
        return None

    def _integral(self) -> bool:
        """Whether every solution's objective is a whole number (a bound may be rounded)."""
        return False

    def instance(self) -> dict[str, object]:
        """Return the model's data as plain lists (for an independent re-solve).

        Returns
        -------
        dict
            JSON-ready: the model name, the demand weights, the pairs each demand row may
            use, the constraints' data; no shrinking applied.
        """
        raise NotImplementedError

    # -- shared ----------------------------------------------------------------------------
    def _prepared(self) -> Shrunk:
        if self._shrunk is None:
            began = time.perf_counter()
            self._shrunk = self._shrink()
            self._shrink_seconds = time.perf_counter() - began
        return self._shrunk

    def _share_shrunk(self, other: SitingModel) -> None:
        """Give ``other`` (a model on the same data and shrink) this model's shrunk data."""
        other._shrunk = self._prepared()
        other._shrink_seconds = self._shrink_seconds

    def _x_groups(self, shrunk: Shrunk) -> np.ndarray | None:
        return None if self.groups is None else self.groups[shrunk.columns]

    def _missing_groups(self) -> str:
        if not self.required_groups or self.groups is None:
            return ""
        present = set(self.groups[self.candidates].tolist())
        missing = [g for g in self.required_groups if g not in present]
        return f"required groups without any candidate: {missing}" if missing else ""

    def _side_rows(self, shrunk: Shrunk, n_total: int, *, at_most: float | None,
                   at_least: float = 0.0) -> list[Block]:
        """Cardinality row on the x columns (0..n_x-1) and one row per required group."""
        n_x = len(shrunk.columns)
        blocks: list[Block] = []
        if at_most is not None or at_least > 0:
            card = coo_rows(np.zeros(n_x, np.int64), np.arange(n_x), 1.0, (1, n_total))
            blocks.append((card, np.array([at_least]),
                           np.array([np.inf if at_most is None else at_most])))
        labels = self._x_groups(shrunk)
        if self.required_groups and labels is not None:
            where = {g: k for k, g in enumerate(self.required_groups)}
            row = np.array([where.get(g, -1) for g in labels], np.int64)
            cols = np.flatnonzero(row >= 0)
            groups = coo_rows(row[cols], cols, 1.0, (len(where), n_total))
            blocks.append((groups, np.ones(len(where)), np.full(len(where), np.inf)))
        return blocks

    def _tighter(self, *bounds: float) -> float:
        return float(min(bounds) if self.sense == "max" else max(bounds))

    def _round_bound(self, bound: float) -> float:
        if self._integral() and np.isfinite(bound):
            return float(np.floor(bound + 1e-6) if self.sense == "max"
                         else np.ceil(bound - 1e-6))
        return bound

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
            exact = self._exact(mip, picks, seconds, time_limit=time_limit,
                                mip_rel_gap=mip_rel_gap, max_nodes=max_nodes,
                                presolve=presolve, log=log)
            if exact.status == "infeasible":
                return self._result_infeasible(shrunk, "HiGHS proved the model infeasible",
                                               seconds, began)
            status, solver, chosen, values = exact.status, solver_name(), exact.chosen, \
                exact.values
            bound = self._tighter(exact.bound, self._heuristic_bound(picks), trivial)
        bound = self._round_bound(bound)
        finish = self._finish(shrunk.columns[chosen], values)
        objective = float(finish.objective)
        if status == "optimal" and relative_gap(objective, bound) <= OPTIMAL_GAP:
            bound = objective
        seconds["total"] = time.perf_counter() - began + seconds["shrink"]
        gap = relative_gap(objective, bound)
        return SitingResult(
            model=self.model_name, status=status, objective=objective, bound=float(bound),
            gap=gap, sense=self.sense, solver=solver, seconds=seconds,
            sizes=dict(shrunk.sizes), distance_mode=self.distance_mode,
            gain_unit=self.gain_unit, sites=finish.sites, gains=finish.gains,
            served=finish.served, assignment=finish.assignment, covered=finish.covered,
            total_weight=finish.total_weight, existing_value=finish.existing_value,
            details=finish.details,
            stages=(Stage("single", status, objective, float(bound), gap,
                          seconds.get("solve", 0.0)),),
        )

    def _exact(self, mip: Mip, picks: list[int], seconds: dict[str, float], *,
               time_limit: float, mip_rel_gap: float, max_nodes: int | None, presolve: bool,
               log: bool) -> Exact:
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
            if guided is not None and value is not None and (
                    value > incumbent if self.sense == "max" else value < incumbent):
                picks[:], incumbent = guided, value
        lp_bound = self._round_bound(lp.objective) if lp.solved else lp.objective
        if lp.solved and incumbent is not None and relative_gap(incumbent, lp_bound) <= \
                OPTIMAL_GAP and max_nodes is None:
            seconds["solve"] = lp.seconds
            shrunk.sizes["fixed_by_reduced_cost"] = 0
            return Exact("optimal", np.asarray(picks, np.int64), lp_bound, None)
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
        return Exact(outcome.status, chosen, bound, outcome.values)

    def _lexicographic(self, maximiser: Callable[[int], SitingModel], *, need: float,
                       low: int, picks: list[int], hint: int | None, began: float,
                       lp_seconds: float, time_limit: float, mip_rel_gap: float,
                       max_nodes: int | None, presolve: bool, log: bool) -> SitingResult:
        """Fewest sites reaching ``need``, then the most value with them (see the module).

        ``maximiser(k)`` is the "most value with ``k`` new sites" model on the same data;
        ``picks`` a solution (shrunk columns) known to reach ``need``; ``hint`` the first
        count to try. The result's ``objective`` is the count, ``bound`` its proven lower
        bound, ``covered`` the value reached, ``stages`` count then coverage.
        """
        s = self._prepared()

        def solve_k(k: int, warm: list[int], left: float) -> SitingResult:
            return maximiser(k).solve(time_limit=left, mip_rel_gap=mip_rel_gap,
                                      max_nodes=max_nodes, presolve=presolve, start=warm,
                                      log=log)

        search = fewest_sites(solve_k, need=need, low=low, high=len(picks),
                              high_sites=[int(j) for j in s.columns[picks]], hint=hint,
                              time_limit=time_limit)
        best = search.best
        if best is None:
            return self._result_infeasible(s, "no number of sites reaches the target share",
                                           {"search": search.seconds}, began)
        count, lower = float(search.count), float(search.lower)
        stages = (Stage("count", search.status, count, lower, relative_gap(count, lower),
                        search.seconds, search.solves),
                  Stage("coverage", best.status, best.objective, best.bound, best.gap,
                        best.seconds.get("total", 0.0)))
        seconds = {"shrink": self._shrink_seconds, "lp": lp_seconds, "search": search.seconds,
                   "total": time.perf_counter() - began + self._shrink_seconds}
        return dataclasses.replace(
            best, model=self.model_name, status=worst_status(search.status, best.status),
            objective=count, bound=lower, gap=relative_gap(count, lower), sense="min",
            seconds=seconds, sizes=dict(s.sizes), stages=stages,
            details={**best.details, "coverage_bound": best.bound, "need": need})

    def _result_infeasible(self, shrunk: Shrunk, message: str, seconds: dict[str, float],
                           began: float) -> SitingResult:
        seconds["total"] = time.perf_counter() - began + seconds.get("shrink", 0.0)
        n = self.cost.shape[0]
        nan = float("nan")
        return SitingResult(
            model=self.model_name, status="infeasible", objective=nan, bound=nan,
            gap=float("inf"), sense=self.sense, sites=np.empty(0, np.int64),
            gains=np.empty(0), served=np.empty(0), assignment=np.full(n, UNSERVED, np.int64),
            covered=nan, total_weight=float(self.weights.sum()), existing_value=nan,
            gain_unit=self.gain_unit, solver=solver_name(), seconds=seconds,
            sizes=dict(shrunk.sizes), distance_mode=self.distance_mode, message=message,
            stages=(Stage("single", "infeasible", nan, nan, float("inf")),),
        )

    # -- instance export ------------------------------------------------------------------
    def _pairs(self, radius: float | None = None) -> list[list[list[float]]]:
        """Per demand row: ``[candidate column, cost]`` of each usable pair (within radius)."""
        cand = np.zeros(self.cost.shape[1], dtype=bool)
        cand[self.candidates] = True
        out = []
        for i in range(self.cost.shape[0]):
            a, b = self.cost.indptr[i], self.cost.indptr[i + 1]
            cols, vals = self.cost.indices[a:b], self.cost.data[a:b]
            keep = cand[cols] & (vals <= (np.inf if radius is None else radius))
            out.append([[int(c), float(v)] for c, v in zip(cols[keep], vals[keep],
                                                          strict=True)])
        return out

    def _existing_cost(self) -> list[float | None]:
        """Per demand row: the cost to its nearest existing facility (None: none in reach)."""
        best = np.full(self.cost.shape[0], np.inf)
        if len(self.existing):
            sub = sp.csr_array(self.cost[:, self.existing])
            rows = np.repeat(np.arange(sub.shape[0]), np.diff(sub.indptr))
            np.minimum.at(best, rows, sub.data)
        return [float(v) if np.isfinite(v) else None for v in best]

    def _common_instance(self) -> dict[str, object]:
        groups = None if self.groups is None else [str(g) for g in self.groups]
        return {"model": self.model_name, "sense": self.sense,
                "weights": [float(w) for w in self.weights],
                "n_columns": int(self.cost.shape[1]),
                "candidates": [int(j) for j in self.candidates],
                "existing": [int(j) for j in self.existing],
                "groups": groups, "required_groups": [str(g) for g in self.required_groups],
                "existing_cost": self._existing_cost()}
