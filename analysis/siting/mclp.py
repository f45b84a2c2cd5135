"""The maximal covering location problem (MCLP): ``p`` new sites covering the most weight."""

from __future__ import annotations

import copy
from collections.abc import Sequence

import geopandas as gpd
import numpy as np
import pandas as pd
import scipy.sparse as sp

from cfplan.analysis.siting._highs import OPTIMAL_GAP, Mip, stack_rows
from cfplan.analysis.siting.base import CostLike
from cfplan.analysis.siting.costs import DistanceMode
from cfplan.analysis.siting.covering import CoverageModel
from cfplan.analysis.siting.greedy import greedy_cover, improve_cover, mclp_greedy_bound
from cfplan.analysis.siting.inputs import LAYER_DOC, Metric, layer_costs
from cfplan.geo.street_network import StreetNetwork

__all__ = ["MCLP"]


class MCLP(CoverageModel):
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
    default_sense = "max"

    def __init__(self, cost: CostLike, *, radius: float, p: int, at_least: int = 0,
                 weights: np.ndarray | None = None, existing: Sequence[int] | np.ndarray = (),
                 groups: Sequence[object] | np.ndarray | None = None,
                 required_groups: Sequence[object] = (), max_distance: float = np.inf,
                 distance_mode: DistanceMode = "given") -> None:
        super().__init__(cost, radius=radius, weights=weights, existing=existing,
                         groups=groups, required_groups=required_groups,
                         max_distance=max_distance, distance_mode=distance_mode)
        if p < 0:
            msg = "p must be non-negative"
            raise ValueError(msg)
        self.p = int(p)
        self.at_least = int(at_least)

    @classmethod
    def from_cost_matrix(cls, cost: CostLike, radius: float, p: int,
                         weights: np.ndarray | None = None, *, at_least: int = 0,
                         existing: Sequence[int] | np.ndarray = (),
                         groups: Sequence[object] | np.ndarray | None = None,
                         required_groups: Sequence[object] = (), max_distance: float = np.inf,
                         distance_mode: DistanceMode = "given") -> MCLP:
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
        at_least
            Open at least this many new sites.
        existing
            Columns that are existing facilities (open, free).
        groups, required_groups
            Each column's group, and the groups that need a new site.
        max_distance
            Pairs costing more are dropped.
        distance_mode
            Label of the costs (``given``, ``walking``, ``straight_line``).

        Returns
        -------
        MCLP
            The model; call ``solve``.
        """
        return cls(cost, radius=radius, p=p, at_least=at_least, weights=weights,
                   existing=existing, groups=groups, required_groups=required_groups,
                   max_distance=max_distance, distance_mode=distance_mode)

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
        costs = layer_costs(network, demand, candidates, max_distance_m=radius_m,
                            existing=existing, weight=weight, group_column=group_column,
                            metric=metric)
        return cls(costs.cost, radius=radius_m, p=p, weights=costs.weights,
                   existing=costs.existing, groups=costs.groups,
                   required_groups=required_groups, distance_mode=costs.distance_mode)

    from_layers.__doc__ = str(from_layers.__doc__) + LAYER_DOC

    def with_p(self, p: int, *, at_least: int | None = None) -> MCLP:
        """Return the same model with another ``p`` (the shrunk data is shared)."""
        other = copy.copy(self)
        other.p = int(p)
        if at_least is not None:
            other.at_least = int(at_least)
        return other

    def _objective(self, sites: np.ndarray, covered: float) -> float:
        return covered

    def _min_columns(self) -> int:
        return self.at_least

    def _heuristic(self, start: Sequence[int] | None) -> list[int]:
        s = self._prepared()
        labels = self._x_groups(s)

        def cover(initial: Sequence[int] = ()) -> list[int]:
            return greedy_cover(s.matrix, s.weight, budget=self.p, groups=labels,
                                required=self.required_groups, at_least=self.at_least,
                                initial=initial)[0]

        picks = cover()
        if start:
            where = {int(c): k for k, c in enumerate(s.columns)}
            more = cover([where[c] for c in start if c in where][: self.p])
            if self._value(more) > self._value(picks):
                picks = more
        if len(picks) >= max(self.p, 1):  # a full budget: try swaps
            better = improve_cover(s.matrix, s.weight, picks, groups=labels,
                                   required=self.required_groups)
            if self._value(better) > self._value(picks):
                picks = better
        return picks

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
        cover = sp.csr_array(sp.hstack([-s.matrix, sp.eye_array(n_r, format="csr")],
                                       format="csr"))
        blocks = [(cover, np.full(n_r, -np.inf), np.zeros(n_r)),
                  *self._side_rows(s, n, at_most=self.p, at_least=self.at_least)]
        rows, lower, upper = stack_rows(blocks, n)
        return Mip("max", np.r_[np.zeros(n_x), s.weight], np.zeros(n), np.ones(n),
                   np.r_[np.ones(n_x, bool), np.zeros(n_r, bool)], rows, lower, upper,
                   offset=s.constant)

    def instance(self) -> dict[str, object]:
        """Return the model's data as plain lists (see :meth:`.base.SitingModel.instance`).

        Returns
        -------
        dict
            ``pairs`` (per demand row, the ``[column, metres]`` within ``radius``),
            ``existing_covered``, ``weights``, ``p``, ``at_least``, ``groups``,
            ``required_groups``.
        """
        return {**self._cover_instance(), "p": self.p, "at_least": self.at_least}

    def tradeoff(self, k_max: int, *, k_min: int = 1, time_limit: float = 60.0,
                 mip_rel_gap: float = OPTIMAL_GAP) -> pd.DataFrame:
        """Solve for ``k = k_min..k_max`` new sites, each warm-started from ``k - 1``'s.

        The model's own constraints (group rows, ``at_least``) hold at every ``k``: the
        point at a proposal's ``k`` is the proposal's coverage. A ``k`` the group rows make
        infeasible (fewer sites than required groups) is left out.

        Parameters
        ----------
        k_max
            Largest number of new sites.
        k_min
            Smallest number of new sites.
        time_limit
            Seconds for each solve.
        mip_rel_gap
            As in :meth:`solve`.

        Returns
        -------
        pandas.DataFrame
            One row per ``k``: ``k``, ``objective`` (weight covered, existing included),
            ``marginal_gain`` (over ``k - 1``, or over the existing facilities at the first
            ``k``), ``bound``, ``gap``, ``status``, ``seconds`` and ``sites`` (tuple of
            columns).
        """
        rows = []
        previous = self._prepared().constant
        last: list[int] = []
        start = max(int(k_min), len(self.required_groups), 1)
        for k in range(start, k_max + 1):
            result = self.with_p(k, at_least=min(self.at_least, k)).solve(
                time_limit=time_limit, mip_rel_gap=mip_rel_gap, start=last)
            if result.status == "infeasible":
                continue
            rows.append({"k": k, "objective": result.objective,
                         "marginal_gain": result.objective - previous, "bound": result.bound,
                         "gap": result.gap, "status": result.status,
                         "seconds": result.seconds["total"],
                         "sites": tuple(int(j) for j in result.sites)})
            previous, last = result.objective, [int(j) for j in result.sites]
        return pd.DataFrame(rows, columns=["k", "objective", "marginal_gain", "bound", "gap",
                                           "status", "seconds", "sites"])
