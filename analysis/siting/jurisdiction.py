"""Jurisdiction cover: each 办事处/社区 lacking a facility gets its own, and a count is met."""

from __future__ import annotations

import time
from collections.abc import Sequence

import geopandas as gpd
import numpy as np
import scipy.sparse as sp

from cfplan.analysis.siting._highs import OPTIMAL_GAP, relative_gap
from cfplan.analysis.siting.base import CostLike, Method, Shrunk, SitingModel
from cfplan.analysis.siting.costs import DistanceMode
from cfplan.analysis.siting.inputs import LAYER_DOC, Metric, layer_costs
from cfplan.analysis.siting.mclp import MCLP
from cfplan.analysis.siting.result import SitingResult, Stage
from cfplan.geo.street_network import StreetNetwork

__all__ = ["JurisdictionCover"]


class JurisdictionCover(SitingModel):
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
    is the proven bound of the first stage. Among all such solutions the sites are placed to
    cover the most weight within ``radius`` (the second, lexicographic stage: :class:`MCLP`
    with ``N* <= sum x <= N*`` and the group rows); the result is ``optimal`` only when that
    stage is proven too. Example: 5 stations required, 3 exist, 2 办事处 lack one:
    ``N* = max(2, 5 - 3) = 2``, not 4.
    """

    model_name = "JurisdictionCover"
    default_sense = "min"
    gain_unit = "weight covered"

    def __init__(self, cost: CostLike | None, *, groups: Sequence[object] | np.ndarray,
                 required_groups: Sequence[object], radius: float = np.inf,
                 count_target: int = 0, existing_count: int = 0,
                 weights: np.ndarray | None = None, existing: Sequence[int] | np.ndarray = (),
                 max_distance: float = np.inf, distance_mode: DistanceMode = "given") -> None:
        labels = np.asarray(groups, dtype=object)
        matrix: CostLike = sp.csr_array((0, len(labels))) if cost is None else cost
        super().__init__(matrix, weights=weights, existing=existing, groups=labels,
                         required_groups=required_groups, max_distance=max_distance,
                         distance_mode=distance_mode)
        self.radius = float(radius)
        self.count_target = int(count_target)
        self.existing_count = int(existing_count)
        self.needed = max(len(self.required_groups), self.count_target - self.existing_count, 0)

    @classmethod
    def from_cost_matrix(cls, cost: CostLike | None, radius: float, *,
                         groups: Sequence[object] | np.ndarray,
                         required_groups: Sequence[object], count_target: int = 0,
                         existing_count: int = 0, weights: np.ndarray | None = None,
                         existing: Sequence[int] | np.ndarray = (),
                         max_distance: float = np.inf,
                         distance_mode: DistanceMode = "given") -> JurisdictionCover:
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
        existing, max_distance, distance_mode
            As for :class:`MCLP`.

        Returns
        -------
        JurisdictionCover
            The model; call ``solve``.
        """
        return cls(cost, radius=radius, groups=groups, required_groups=required_groups,
                   count_target=count_target, existing_count=existing_count, weights=weights,
                   existing=existing, max_distance=max_distance, distance_mode=distance_mode)

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
        costs = layer_costs(network, demand, candidates, max_distance_m=radius_m,
                            existing=existing, weight=weight, group_column=group_column,
                            metric=metric)
        assert costs.groups is not None
        return cls(costs.cost, radius=radius_m, groups=costs.groups,
                   required_groups=required_groups, count_target=count_target,
                   existing_count=0 if existing is None else len(existing),
                   weights=costs.weights, existing=costs.existing,
                   distance_mode=costs.distance_mode)

    from_layers.__doc__ = str(from_layers.__doc__) + LAYER_DOC

    def placement(self) -> MCLP:
        """Return the second-stage :class:`MCLP` (``N*`` sites, the group rows)."""
        return MCLP(self.cost, radius=self.radius, p=self.needed, at_least=self.needed,
                    weights=self.weights, existing=self.existing, groups=self.groups,
                    required_groups=self.required_groups, distance_mode=self.distance_mode)

    def solve(self, *, time_limit: float = 60.0, mip_rel_gap: float = OPTIMAL_GAP,
              method: Method = "auto", max_nodes: int | None = None, presolve: bool = True,
              start: Sequence[int] | None = None, log: bool = False) -> SitingResult:
        """Solve: ``N*`` new sites, placed to cover the most (options as in MCLP.solve).

        Returns
        -------
        SitingResult
            ``objective`` = ``bound`` = ``N*`` new sites; ``covered`` and
            ``details["coverage_bound"]`` for the placement; ``stages`` = count (proven in
            closed form), then placement.
        """
        message = self._missing_groups()
        if not message and self.needed > len(self.candidates):
            message = f"{self.needed} new sites needed but only {len(self.candidates)} candidates"
        if message:
            empty = Shrunk(sp.csr_array((0, 0)), np.empty(0), np.empty(0, np.int64), 0.0,
                           {"demand": self.cost.shape[0], "candidates": len(self.candidates)})
            return self._result_infeasible(empty, message, {}, time.perf_counter())
        placed = self.placement().solve(time_limit=time_limit, mip_rel_gap=mip_rel_gap,
                                        method=method, max_nodes=max_nodes, presolve=presolve,
                                        start=start, log=log)
        details = dict(placed.details, coverage=placed.objective,
                       coverage_bound=placed.bound, coverage_gap=placed.gap)
        count = float(len(placed.sites))
        stages = (Stage("count", "optimal", float(self.needed), float(self.needed), 0.0),
                  Stage("placement", placed.status, placed.objective, placed.bound,
                        placed.gap, placed.seconds.get("total", 0.0)))
        return SitingResult(
            model=self.model_name, status=placed.status, objective=count,
            bound=float(self.needed), gap=relative_gap(count, self.needed),
            sense="min", sites=placed.sites, gains=placed.gains, served=placed.served,
            assignment=placed.assignment, covered=placed.covered,
            total_weight=placed.total_weight, existing_value=placed.existing_value,
            gain_unit=self.gain_unit, solver=placed.solver, seconds=placed.seconds,
            sizes=placed.sizes, distance_mode=self.distance_mode, message=placed.message,
            details=details, stages=stages,
        )

    def instance(self) -> dict[str, object]:
        """Return the model's data as plain lists (see :meth:`.base.SitingModel.instance`).

        Returns
        -------
        dict
            ``groups``, ``required_groups``, ``count_target``, ``existing_count`` and, for
            the placement, the coverage data of :meth:`MCLP.instance`.
        """
        cover = self.placement()._cover_instance()
        return {**cover, "model": self.model_name, "sense": "min",
                "count_target": self.count_target, "existing_count": self.existing_count,
                "needed": self.needed}
