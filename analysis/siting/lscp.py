"""The location set covering problem (LSCP): the fewest new sites for full or share coverage."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Sequence
from typing import Literal

import geopandas as gpd
import numpy as np
import scipy.sparse as sp

from cfplan.analysis.siting._highs import OPTIMAL_GAP, Mip, solve_lp, stack_rows
from cfplan.analysis.siting.base import CostLike, Method, Shrunk, coo_rows
from cfplan.analysis.siting.costs import DistanceMode
from cfplan.analysis.siting.covering import CoverageModel
from cfplan.analysis.siting.greedy import greedy_cover
from cfplan.analysis.siting.inputs import LAYER_DOC, Metric, layer_costs
from cfplan.analysis.siting.mclp import MCLP
from cfplan.analysis.siting.result import SitingResult, Stage, worst_status
from cfplan.geo.street_network import StreetNetwork

__all__ = ["LSCP"]

Uncoverable = Literal["infeasible", "ignore"]


class LSCP(CoverageModel):
    r"""Location set covering problem: the fewest new sites for full (or a share of) coverage.

    Full coverage (``share=None``):

    .. math::

        \min \sum_{j \in J} x_j
        \quad \text{s.t.} \quad
        \sum_{j \in N_i} x_j \ge 1 \;\; \forall i \text{ with } w_i > 0
        \text{ not covered by an existing facility}, \qquad
        \sum_{j \in J_g} x_j \ge 1 \;\; \forall g \in R, \qquad x_j \in \{0,1\}.

    It is infeasible when some demand point has no candidate (nor existing facility) within
    ``r``, unless ``uncoverable="ignore"``: then every point some site can reach must be
    covered (the weight left out is ``details["uncoverable"]``). Every full-coverage
    solution covers the same weight, so the second, lexicographic stage is settled.

    Target share ``alpha`` (e.g. 0.95 of the weight), lexicographically: first

    .. math::

        k^* = \min \sum_j x_j \quad \text{s.t.} \quad y_i \le \sum_{j \in N_i} x_j, \quad
        \sum_i w_i y_i \ge \alpha \sum_i w_i, \quad 0 \le y_i \le 1,

    then, among the solutions with ``k*`` sites, the most weight covered: the :class:`MCLP`
    with ``p = k*``. ``k*`` is found as the smallest ``p`` whose MCLP optimum reaches
    ``alpha sum w`` (:func:`.lexicographic.fewest_sites`), which proves it by the MCLP at
    ``k* - 1`` and avoids the knapsack row above (numerically delicate with fractional
    weights). Both stages' statuses are in ``stages``; the result is ``optimal`` only
    when both are proven. Shrinking as for :class:`MCLP`; greedy set cover warm-starts.
    """

    model_name = "LSCP"
    default_sense = "min"
    gain_unit = "weight covered"

    def __init__(self, cost: CostLike, *, radius: float, share: float | None = None,
                 uncoverable: Uncoverable = "infeasible", weights: np.ndarray | None = None,
                 existing: Sequence[int] | np.ndarray = (),
                 groups: Sequence[object] | np.ndarray | None = None,
                 required_groups: Sequence[object] = (), max_distance: float = np.inf,
                 distance_mode: DistanceMode = "given") -> None:
        super().__init__(cost, radius=radius, weights=weights, existing=existing,
                         groups=groups, required_groups=required_groups,
                         max_distance=max_distance, distance_mode=distance_mode)
        if share is not None and not 0.0 <= share <= 1.0:
            msg = "share must be within 0..1"
            raise ValueError(msg)
        self.share = share
        self.uncoverable: Uncoverable = uncoverable

    @classmethod
    def from_cost_matrix(cls, cost: CostLike, radius: float, *, share: float | None = None,
                         uncoverable: Uncoverable = "infeasible",
                         weights: np.ndarray | None = None,
                         existing: Sequence[int] | np.ndarray = (),
                         groups: Sequence[object] | np.ndarray | None = None,
                         required_groups: Sequence[object] = (), max_distance: float = np.inf,
                         distance_mode: DistanceMode = "given") -> LSCP:
        """Build from a demand × candidate cost array (dense, or sparse of usable pairs).

        Parameters
        ----------
        cost
            Demand × candidate costs (m).
        radius
            Coverage radius: ``d_ij <= radius`` covers.
        share
            Target share of the total weight covered (default: every demand point).
        uncoverable
            With full coverage: ``infeasible`` (a point no site reaches makes it so) or
            ``ignore`` (cover every point some site reaches).
        weights
            Demand weights (default 1 each).
        existing, groups, required_groups, max_distance, distance_mode
            As for :class:`MCLP`.

        Returns
        -------
        LSCP
            The model; call ``solve``.
        """
        return cls(cost, radius=radius, share=share, uncoverable=uncoverable, weights=weights,
                   existing=existing, groups=groups, required_groups=required_groups,
                   max_distance=max_distance, distance_mode=distance_mode)

    @classmethod
    def from_layers(cls, network: StreetNetwork | None, demand: gpd.GeoDataFrame,
                    candidates: gpd.GeoDataFrame, *, radius_m: float,
                    share: float | None = None, uncoverable: Uncoverable = "infeasible",
                    existing: gpd.GeoDataFrame | None = None, weight: str = "children",
                    metric: Metric = "walking", group_column: str | None = None,
                    required_groups: Sequence[object] = ()) -> LSCP:
        """Build on cfplan's layers: the fewest new sites covering all (or ``share``).

        Returns
        -------
        LSCP
            The model (walking or straight-line costs within ``radius_m``).
        """
        costs = layer_costs(network, demand, candidates, max_distance_m=radius_m,
                            existing=existing, weight=weight, group_column=group_column,
                            metric=metric)
        return cls(costs.cost, radius=radius_m, share=share, uncoverable=uncoverable,
                   weights=costs.weights, existing=costs.existing, groups=costs.groups,
                   required_groups=required_groups, distance_mode=costs.distance_mode)

    from_layers.__doc__ = str(from_layers.__doc__) + LAYER_DOC

    def _need(self) -> float:
        """Weight to cover in all (existing coverage included); full: every coverable row."""
        s = self._prepared()
        if self.share is None:
            return s.constant + float(s.weight.sum())
        return self.share * float(self.weights.sum())

    def _shrink(self) -> Shrunk:
        shrunk = super()._shrink()
        left_out = float(shrunk.extra[0]) if shrunk.extra is not None else 0.0
        if not shrunk.infeasible:
            if self.share is None and left_out > 0 and self.uncoverable == "infeasible":
                shrunk.infeasible = (f"{left_out:g} of the demand weight has no candidate "
                                     "within the radius: full coverage is impossible")
            elif self.share is not None and self.share * float(self.weights.sum()) > (
                    shrunk.constant + float(shrunk.weight.sum())) * (1 + 1e-12):
                shrunk.infeasible = "the target share exceeds what all candidates can cover"
        return shrunk

    def _objective(self, sites: np.ndarray, covered: float) -> float:
        return float(len(sites))

    def _heuristic(self, start: Sequence[int] | None) -> list[int]:
        s = self._prepared()
        target = (self._need() - s.constant) * (1 - 1e-12)
        return greedy_cover(s.matrix, s.weight, target=target, groups=self._x_groups(s),
                            required=self.required_groups)[0]

    def _integral(self) -> bool:
        return True

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
        return float(len(self.required_groups))

    def _mip(self) -> Mip:
        """Return the full-coverage set cover (the share model is :meth:`_share_mip`)."""
        s = self._prepared()
        n_x, n_r = len(s.columns), s.matrix.shape[0]
        if self.share is not None:
            return self._share_mip()
        blocks = [(s.matrix, np.ones(n_r), np.full(n_r, np.inf)),
                  *self._side_rows(s, n_x, at_most=None)]
        rows, lower, upper = stack_rows(blocks, n_x)
        return Mip("min", np.ones(n_x), np.zeros(n_x), np.ones(n_x), np.ones(n_x, bool), rows,
                   lower, upper)

    def _share_mip(self) -> Mip:
        """Return the share model, knapsack row included (its LP relaxation guides the search)."""
        s = self._prepared()
        n_x, n_r = len(s.columns), s.matrix.shape[0]
        n = n_x + n_r
        cover = sp.csr_array(sp.hstack([-s.matrix, sp.eye_array(n_r, format="csr")],
                                       format="csr"))
        target = coo_rows(np.zeros(n_r, np.int64), n_x + np.arange(n_r), s.weight, (1, n))
        blocks = [(cover, np.full(n_r, -np.inf), np.zeros(n_r)),
                  (target, np.array([self._need() - s.constant]), np.array([np.inf])),
                  *self._side_rows(s, n, at_most=None)]
        rows, lower, upper = stack_rows(blocks, n)
        return Mip("min", np.r_[np.ones(n_x), np.zeros(n_r)], np.zeros(n), np.ones(n),
                   np.r_[np.ones(n_x, bool), np.zeros(n_r, bool)], rows, lower, upper)

    def mclp(self, p: int) -> MCLP:
        """Return the :class:`MCLP` on the same data and constraints with ``p`` sites."""
        other = MCLP.__new__(MCLP)
        other.__dict__.update(self.__dict__)
        other.sense = "max"
        other.p, other.at_least = int(p), 0
        return other

    def solve(self, *, time_limit: float = 60.0, mip_rel_gap: float = OPTIMAL_GAP,
              method: Method = "auto", max_nodes: int | None = None, presolve: bool = True,
              start: Sequence[int] | None = None, log: bool = False) -> SitingResult:
        """Solve lexicographically: the fewest sites, then the most weight covered.

        Parameters are those of :meth:`.base.SitingModel.solve`; with a share, each MCLP
        probe of the count search gets what is left of ``time_limit``.

        Returns
        -------
        SitingResult
            ``objective`` = the number of new sites, ``bound`` its proven lower bound,
            ``covered`` the weight reached; ``stages`` = count, then coverage.
        """
        began = time.perf_counter()
        s = self._prepared()
        if self.share is None or s.infeasible or method == "greedy":
            result = super().solve(time_limit=time_limit, mip_rel_gap=mip_rel_gap,
                                   method=method, max_nodes=max_nodes, presolve=presolve,
                                   start=start, log=log)
            return self._with_coverage_stage(result)
        need = self._need()
        slack = 1e-9 * max(1.0, need)
        if s.constant >= need - slack and not self.required_groups:  # reached already
            return self._with_coverage_stage(super().solve(method="greedy"), proven=True)
        picks = self._heuristic(start)
        lp = solve_lp(self._share_mip(), time_limit=time_limit)
        hint = int(np.ceil(lp.objective - 1e-6)) if lp.solved else None
        model = self.mclp(len(picks))
        return self._lexicographic(
            model.with_p, need=need, low=max(len(self.required_groups), 1), picks=picks,
            hint=hint, began=began, lp_seconds=lp.seconds, time_limit=time_limit,
            mip_rel_gap=mip_rel_gap, max_nodes=max_nodes, presolve=presolve, log=log)

    def _with_coverage_stage(self, result: SitingResult, *,
                             proven: bool = False) -> SitingResult:
        """Add the coverage stage to a full-coverage (or zero-site) solve: it is settled."""
        s = self._prepared()
        if result.status == "infeasible":
            return result
        status = "optimal" if proven else result.status
        first = result.stages[0] if result.stages else None
        count = Stage("count", status, result.objective, result.bound, result.gap,
                      first.seconds if first else 0.0)
        settled = "optimal" if self.share is None or proven else "greedy"
        coverage = Stage("coverage", settled, result.covered, result.covered, 0.0)
        left_out = float(s.extra[0]) if s.extra is not None else 0.0
        return dataclasses.replace(
            result, status=worst_status(status, settled), stages=(count, coverage),
            bound=result.objective if proven else result.bound,
            gap=0.0 if proven else result.gap,
            details={**result.details, "uncoverable": left_out, "share": self.share})

    def instance(self) -> dict[str, object]:
        """Return the model's data as plain lists (see :meth:`.base.SitingModel.instance`).

        Returns
        -------
        dict
            The coverage data of :meth:`MCLP.instance`, ``share`` and ``uncoverable``.
        """
        return {**self._cover_instance(), "share": self.share, "uncoverable": self.uncoverable}
