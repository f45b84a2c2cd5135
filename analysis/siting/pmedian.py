"""The p-median problem: ``p`` new sites minimising the total weighted walking distance."""

from __future__ import annotations

from collections.abc import Sequence

import geopandas as gpd
import numpy as np
import scipy.sparse as sp

from cfplan.analysis.siting._highs import Mip, stack_rows
from cfplan.analysis.siting.base import CostLike, Finish, Shrunk, SitingModel, coo_rows
from cfplan.analysis.siting.costs import DistanceMode
from cfplan.analysis.siting.greedy import greedy_median
from cfplan.analysis.siting.inputs import LAYER_DOC, Metric, layer_costs
from cfplan.analysis.siting.result import EXISTING, UNSERVED
from cfplan.analysis.siting.shrink import merge_rows
from cfplan.geo.street_network import StreetNetwork

__all__ = ["PMedian"]


class PMedian(SitingModel):
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
    default_sense = "min"
    gain_unit = "weighted distance saved"

    def __init__(self, cost: CostLike, *, p: int, unassigned_cost: float | None = None,
                 weights: np.ndarray | None = None, existing: Sequence[int] | np.ndarray = (),
                 groups: Sequence[object] | np.ndarray | None = None,
                 required_groups: Sequence[object] = (), max_distance: float = np.inf,
                 distance_mode: DistanceMode = "given") -> None:
        super().__init__(cost, weights=weights, existing=existing, groups=groups,
                         required_groups=required_groups, max_distance=max_distance,
                         distance_mode=distance_mode)
        self.p = int(p)
        self.unassigned_cost = unassigned_cost

    @classmethod
    def from_cost_matrix(cls, cost: CostLike, p: int = 5, weights: np.ndarray | None = None,
                         *, unassigned_cost: float | None = None,
                         existing: Sequence[int] | np.ndarray = (),
                         groups: Sequence[object] | np.ndarray | None = None,
                         required_groups: Sequence[object] = (), max_distance: float = np.inf,
                         distance_mode: DistanceMode = "given") -> PMedian:
        """Build from a demand × candidate cost array (dense, or sparse of usable pairs).

        Parameters
        ----------
        cost
            Demand × candidate costs (m).
        p
            New sites to open (at most).
        weights
            Demand weights (default 1 each).
        unassigned_cost
            Metres charged to a demand point left with no site in reach (default: none
            allowed).
        existing, groups, required_groups, max_distance, distance_mode
            As for :class:`.mclp.MCLP`.

        Returns
        -------
        PMedian
            The model; call ``solve``.
        """
        return cls(cost, p=p, unassigned_cost=unassigned_cost, weights=weights,
                   existing=existing, groups=groups, required_groups=required_groups,
                   max_distance=max_distance, distance_mode=distance_mode)

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
        costs = layer_costs(network, demand, candidates, max_distance_m=max_distance_m,
                            existing=existing, weight=weight, group_column=group_column,
                            metric=metric)
        return cls(costs.cost, p=p, unassigned_cost=unassigned_cost, weights=costs.weights,
                   existing=costs.existing, groups=costs.groups,
                   required_groups=required_groups, distance_mode=costs.distance_mode)

    from_layers.__doc__ = str(from_layers.__doc__) + LAYER_DOC

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

    def _shrink(self) -> Shrunk:
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
        first, group = merge_rows(sp.csr_array(pairs[live]), with_values=True,
                                  extra=fallback[live])
        matrix = sp.csr_array(pairs[live][first])
        weight = np.bincount(group, weights=self.weights[live], minlength=len(first))
        used = np.flatnonzero(np.diff(sp.csc_array(matrix).indptr) > 0)
        if self.required_groups and self.groups is not None:
            labels = self.groups[self.candidates]
            used = np.union1d(used, np.flatnonzero(np.isin(labels, np.asarray(self.required_groups, dtype=object))))
        sizes = {"demand": n, "demand_rows": len(first), "candidates": len(self.candidates),
                 "candidates_kept": len(used), "pairs": int(pairs.nnz)}
        message = self._missing_groups()
        if stranded.any() and not message:
            message = (f"{int(stranded.sum())} demand points reach no candidate within "
                       "max_distance and have no fallback (give unassigned_cost)")
        return Shrunk(sp.csr_array(matrix[:, used]), weight, self.candidates[used],
                      float((self.weights[fixed] * fallback[fixed]).sum()), sizes, message,
                      extra=fallback[live][first])

    def _extra(self) -> np.ndarray:
        extra = self._prepared().extra
        assert extra is not None
        return extra

    def _heuristic(self, start: Sequence[int] | None) -> list[int]:
        s = self._prepared()
        return greedy_median(s.matrix, s.weight, self._extra(), budget=self.p,
                             groups=self._x_groups(s), required=self.required_groups)[0]

    def _trivial_bound(self) -> float:
        s = self._prepared()  # each row at its nearest possible site
        nearest = np.full(s.matrix.shape[0], np.inf)
        rows = np.repeat(np.arange(s.matrix.shape[0]), np.diff(s.matrix.indptr))
        np.minimum.at(nearest, rows, s.matrix.data)
        return s.constant + float((s.weight * np.minimum(nearest, self._extra())).sum())

    def _mip(self) -> Mip:
        s = self._prepared()
        m, extra = s.matrix, self._extra()
        n_x, n_r, n_z = len(s.columns), m.shape[0], m.nnz
        fb_rows = np.flatnonzero(np.isfinite(extra))
        n = n_x + n_z + len(fb_rows)
        pair_row = np.repeat(np.arange(n_r), np.diff(m.indptr))
        z = n_x + np.arange(n_z)
        u = n_x + n_z + np.arange(len(fb_rows))
        assign = coo_rows(np.r_[pair_row, fb_rows], np.r_[z, u], 1.0, (n_r, n))
        link = coo_rows(np.repeat(np.arange(n_z), 2), np.column_stack([z, m.indices]).ravel(),
                        np.tile([1.0, -1.0], n_z), (n_z, n))
        blocks = [(assign, np.ones(n_r), np.ones(n_r)),
                  (link, np.full(n_z, -np.inf), np.zeros(n_z)),
                  *self._side_rows(s, n, at_most=self.p)]
        rows, lower, upper = stack_rows(blocks, n)
        cost = np.r_[np.zeros(n_x), s.weight[pair_row] * m.data,
                     s.weight[fb_rows] * extra[fb_rows]]
        return Mip("min", cost, np.zeros(n), np.ones(n), np.r_[np.ones(n_x, bool),
                   np.zeros(n - n_x, bool)], rows, lower, upper, offset=s.constant)

    def _finish(self, sites: np.ndarray, values: np.ndarray | None) -> Finish:
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
        served_by = (ranked[np.minimum(pick, max(len(ranked) - 1, 0))] if len(ranked)
                     else np.full(n, UNSERVED, np.int64))
        assignment = np.where(new, served_by,
                              np.where(np.isfinite(fallback) & from_existing, EXISTING,
                                       UNSERVED)).astype(np.int64)
        served = np.bincount(pick[new], weights=self.weights[new], minlength=len(ranked))
        base = float((self.weights * fallback).sum()) if np.isfinite(fallback).all() else np.inf
        objective = float((self.weights * walk).sum())
        return Finish(objective, ranked, np.asarray(gains), served[:len(ranked)], assignment,
                      float(self.weights[np.isfinite(walk)].sum()), float(self.weights.sum()),
                      base, {"base_gain_value": 0.0})

    def instance(self) -> dict[str, object]:
        """Return the model's data as plain lists (see :meth:`.base.SitingModel.instance`).

        Returns
        -------
        dict
            ``pairs`` (per demand row, every ``[column, metres]``), ``existing_cost``,
            ``unassigned_cost``, ``weights``, ``p``, ``groups``, ``required_groups``.
        """
        return {**self._common_instance(), "pairs": self._pairs(), "p": self.p,
                "unassigned_cost": self.unassigned_cost}
