"""Capacitated coverage (托育): sites with capacity (托位) serve the demand within a radius."""

from __future__ import annotations

import copy
import dataclasses
import time
from collections.abc import Sequence

import geopandas as gpd
import numpy as np
import pandas as pd
import scipy.sparse as sp

from cfplan.analysis.siting._highs import (
    OPTIMAL_GAP,
    Mip,
    solve_lp,
    solve_mip,
    stack_rows,
)
from cfplan.analysis.siting.base import (
    CostLike,
    Finish,
    Method,
    Shrunk,
    SitingModel,
    coo_rows,
)
from cfplan.analysis.siting.costs import DistanceMode, within
from cfplan.analysis.siting.inputs import LAYER_DOC, Metric, layer_costs
from cfplan.analysis.siting.result import EXISTING, UNSERVED, SitingResult
from cfplan.analysis.siting.shrink import merge_rows
from cfplan.geo.street_network import StreetNetwork

__all__ = ["CapacitatedCoverage"]


class CapacitatedCoverage(SitingModel):
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
    capacity row but tightens the LP bound). With ``share=alpha`` instead, lexicographically:
    the fewest new sites ``k*`` so that ``sum a_ij >= alpha sum q_i``, then the most demand
    served with ``k*`` sites; ``k*`` is the smallest ``p`` whose optimum above reaches the
    share (:func:`.lexicographic.fewest_sites`). Shrinking merges points with the same
    covering sets (their demand summed); no candidate is dropped (capacities differ). Sites
    are ranked by the demand they serve in the solution.
    """

    model_name = "CapacitatedCoverage"
    default_sense = "max"
    gain_unit = "demand served"

    def __init__(self, cost: CostLike, *, radius: float, capacity: np.ndarray,
                 p: int | None = None, share: float | None = None,
                 weights: np.ndarray | None = None, existing: Sequence[int] | np.ndarray = (),
                 groups: Sequence[object] | np.ndarray | None = None,
                 required_groups: Sequence[object] = (), max_distance: float = np.inf,
                 distance_mode: DistanceMode = "given") -> None:
        super().__init__(cost, weights=weights, existing=existing, groups=groups,
                         required_groups=required_groups, max_distance=max_distance,
                         distance_mode=distance_mode)
        if (p is None) == (share is None):
            msg = "give exactly one of p (maximise served demand) or share (fewest sites)"
            raise ValueError(msg)
        self.radius = float(radius)
        self.capacity = np.asarray(capacity, np.float64).ravel()
        if len(self.capacity) != self.cost.shape[1] or (self.capacity < 0).any():
            msg = "capacity must be one non-negative value per column"
            raise ValueError(msg)
        self.p, self.share = p, share
        self.sense = "max" if share is None else "min"
        self.cover = within(self.cost, self.radius)

    @classmethod
    def from_cost_matrix(cls, cost: CostLike, radius: float, capacity: np.ndarray, *,
                         p: int | None = None, share: float | None = None,
                         weights: np.ndarray | None = None,
                         existing: Sequence[int] | np.ndarray = (),
                         groups: Sequence[object] | np.ndarray | None = None,
                         required_groups: Sequence[object] = (), max_distance: float = np.inf,
                         distance_mode: DistanceMode = "given") -> CapacitatedCoverage:
        """Build from a demand × site cost array; ``weights`` are the demand ``q_i``.

        Returns
        -------
        CapacitatedCoverage
            The model; call ``solve``.
        """
        return cls(cost, radius=radius, capacity=capacity, p=p, share=share, weights=weights,
                   existing=existing, groups=groups, required_groups=required_groups,
                   max_distance=max_distance, distance_mode=distance_mode)

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
        costs = layer_costs(network, demand, candidates, max_distance_m=radius_m,
                            existing=existing, weight=weight, group_column=group_column,
                            metric=metric)

        def places(frame: gpd.GeoDataFrame | None, column: str) -> np.ndarray:
            if frame is None:
                return np.empty(0)
            return pd.to_numeric(frame[column], errors="coerce").fillna(0.0).to_numpy(float)

        if isinstance(capacity, str):
            new, old = places(candidates, capacity), places(existing, capacity)
        else:
            new, old = np.full(len(candidates), float(capacity)), places(existing, "capacity")
        return cls(costs.cost, radius=radius_m, capacity=np.r_[new, old], p=p, share=share,
                   weights=costs.weights * float(demand_share), existing=costs.existing,
                   groups=costs.groups, required_groups=required_groups,
                   distance_mode=costs.distance_mode)

    from_layers.__doc__ = str(from_layers.__doc__) + LAYER_DOC

    def with_p(self, p: int) -> CapacitatedCoverage:
        """Return the "most demand served with ``p`` new sites" model on the same data."""
        other = copy.copy(self)
        other.p, other.share, other.sense = int(p), None, "max"
        if other._shrunk is not None:
            other._shrunk = dataclasses.replace(other._shrunk, infeasible=self._missing_groups())
        return other

    def _columns(self) -> np.ndarray:
        """Columns of the model: candidates first (the x columns), then existing ones."""
        return np.r_[self.candidates, self.existing]

    def _shrink(self) -> Shrunk:
        columns = self._columns()
        sub = sp.csr_array(self.cover[:, columns])
        live = np.flatnonzero((np.diff(sub.indptr) > 0) & (self.weights > 0))
        first, group = merge_rows(sp.csr_array(sub[live]))
        matrix = sp.csr_array(sub[live][first])
        weight = np.bincount(group, weights=self.weights[live], minlength=len(first))
        sizes = {"demand": self.cost.shape[0], "demand_rows": len(first),
                 "candidates": len(self.candidates), "candidates_kept": len(self.candidates)}
        message = self._missing_groups()
        if self.share is not None and not message:
            reachable = min(float(weight.sum()), float(self.capacity[columns].sum()))
            if self.share * float(self.weights.sum()) > reachable * (1 + 1e-12):
                message = "the target share exceeds what all sites within reach can serve"
        return Shrunk(matrix, weight, self.candidates, 0.0, sizes, message, live=live,
                      row_group=group)

    def _mip(self) -> Mip:
        s = self._prepared()
        m = s.matrix
        n_x, n_r, n_a = len(self.candidates), m.shape[0], m.nnz
        n = n_x + n_a
        pair_row = np.repeat(np.arange(n_r), np.diff(m.indptr))
        a = n_x + np.arange(n_a)
        cap = self.capacity[self._columns()]
        demand = coo_rows(pair_row, a, 1.0, (n_r, n))
        new = m.indices < n_x
        capacity = coo_rows(np.r_[m.indices, np.arange(n_x)], np.r_[a, np.arange(n_x)],
                            np.r_[np.ones(n_a), -cap[:n_x]], (n_x + len(self.existing), n))
        vub = np.flatnonzero(new)
        tighten = coo_rows(np.repeat(np.arange(len(vub)), 2),
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
        served = coo_rows(np.zeros(n_a, np.int64), a, 1.0, (1, n))
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
        cap = self.capacity[self._columns()]
        blocks = [(coo_rows(pair_row, np.arange(n), 1.0, (m.shape[0], n)),
                   np.full(m.shape[0], -np.inf), s.weight),
                  (coo_rows(col, np.arange(n), 1.0, (len(cap), n)),
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
        room = self.capacity[self._columns()].copy()
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
        if start:
            where = {int(c): k for k, c in enumerate(s.columns)}
            for c in start:
                if c in where and len(picks) < budget:
                    served += serve(where[c])
                    picks.append(where[c])
        while len(picks) < budget:
            potential = np.minimum(np.asarray(csc.T[:n_x] @ left).ravel(), room[:n_x])
            potential[picks] = -1.0
            open_groups = [g for g in self.required_groups
                           if labels is None or g not in set(labels[picks].tolist())]
            if open_groups and labels is not None and (
                    budget - len(picks) <= len(open_groups) or (
                        target is not None and served >= target) or potential.max() <= 0):
                potential[~np.isin(labels, np.asarray(open_groups, dtype=object))] = -1.0
            elif (target is not None and served >= target - 1e-9) or potential.max() <= 0:
                break
            j = int(np.argmax(potential))
            if potential[j] < 0:
                break
            served += serve(j)
            picks.append(j)
        return picks

    def _finish(self, sites: np.ndarray, values: np.ndarray | None) -> Finish:
        s = self._prepared()
        m = s.matrix
        assert s.live is not None and s.row_group is not None
        total, flow = self._served(sites)
        n_x = len(self.candidates)
        pos = np.searchsorted(self.candidates, sites)
        per_col = np.bincount(m.indices, weights=flow, minlength=m.shape[1])
        served = per_col[pos]
        rank = np.argsort(-served, kind="stable")
        ranked, served = sites[rank], served[rank]
        existing_value = self._served(np.empty(0, np.int64))[0]
        # each demand point's main server
        pair_row = np.repeat(np.arange(m.shape[0]), np.diff(m.indptr))
        best_flow = np.zeros(m.shape[0])
        best_col = np.full(m.shape[0], -1, np.int64)
        order = np.lexsort((-flow, pair_row))
        firsts = np.ones(len(order), bool)
        firsts[1:] = pair_row[order][1:] != pair_row[order][:-1]
        best_flow[pair_row[order][firsts]] = flow[order][firsts]
        best_col[pair_row[order][firsts]] = m.indices[order][firsts]
        assignment = np.full(self.cost.shape[0], UNSERVED, np.int64)
        cls_col = best_col[s.row_group]
        served_cls = best_flow[s.row_group] > 1e-9
        columns = self._columns()
        assignment[s.live[served_cls]] = np.where(cls_col[served_cls] < n_x,
                                                  columns[np.maximum(cls_col[served_cls], 0)],
                                                  EXISTING)
        objective = float(len(sites)) if self.share is not None else total
        return Finish(objective, ranked, served, served, assignment, total,
                      float(self.weights.sum()), existing_value,
                      {"base_gain_value": existing_value})

    def solve(self, *, time_limit: float = 60.0, mip_rel_gap: float = OPTIMAL_GAP,
              method: Method = "auto", max_nodes: int | None = None, presolve: bool = True,
              start: Sequence[int] | None = None, log: bool = False) -> SitingResult:
        """Solve (with ``share``: the fewest sites, then the most demand served).

        Returns
        -------
        SitingResult
            With ``p``: the demand served. With ``share``: ``objective`` = the number of new
            sites, ``covered`` = the demand served, ``stages`` = count then coverage.
        """
        s = self._prepared()
        if self.share is None or s.infeasible or method == "greedy":
            return super().solve(time_limit=time_limit, mip_rel_gap=mip_rel_gap, method=method,
                                 max_nodes=max_nodes, presolve=presolve, start=start, log=log)
        began = time.perf_counter()
        need = self.share * float(self.weights.sum())
        picks = self._heuristic(start)
        if self._served(s.columns[picks])[0] < need * (1 - 1e-9):  # greedy fell short
            picks = list(range(len(s.columns)))
        lp = solve_lp(self._mip(), time_limit=time_limit)
        hint = int(np.ceil(lp.objective - 1e-6)) if lp.solved else None
        return self._lexicographic(
            self.with_p, need=need, low=len(self.required_groups), picks=picks, hint=hint,
            began=began, lp_seconds=lp.seconds, time_limit=time_limit,
            mip_rel_gap=mip_rel_gap, max_nodes=max_nodes, presolve=presolve, log=log)

    def instance(self) -> dict[str, object]:
        """Return the model's data as plain lists (see :meth:`.base.SitingModel.instance`).

        Returns
        -------
        dict
            ``pairs`` (per demand row, the ``[column, metres]`` within ``radius``, existing
            facilities included), ``capacity`` per column, ``weights``, ``p`` or ``share``.
        """
        pairs = []
        for i in range(self.cover.shape[0]):
            a, b = self.cover.indptr[i], self.cover.indptr[i + 1]
            pairs.append([[int(c), 1.0] for c in self.cover.indices[a:b]])
        return {**self._common_instance(), "radius": self.radius, "pairs": pairs,
                "capacity": [float(c) for c in self.capacity], "p": self.p,
                "share": self.share}
