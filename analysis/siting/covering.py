"""Coverage within a radius: the shrink, evaluation and ranking MCLP and LSCP share."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

import numpy as np
import scipy.sparse as sp

from cfplan.analysis.siting.base import CostLike, Finish, Shrunk, SitingModel
from cfplan.analysis.siting.costs import DistanceMode, within
from cfplan.analysis.siting.greedy import greedy_cover
from cfplan.analysis.siting.result import EXISTING, UNSERVED
from cfplan.analysis.siting.shrink import dominated_columns, merge_rows

__all__ = ["CoverageModel"]


class CoverageModel(SitingModel):
    """Coverage within a radius ``r``: ``N_i = {j in J : d_ij <= r}``.

    Shrinking: demand already within ``r`` of an existing facility is left out (its weight
    is a constant of the objective), rows with the same ``N_i`` are merged (weights summed)
    and a candidate whose covering set lies inside another's (same group) is dropped: no
    coverage optimum needs it. ``shrunk.extra[0]`` is the weight no candidate can reach.
    """

    allow_dominance: ClassVar[bool] = True

    def __init__(self, cost: CostLike, *, radius: float, weights: np.ndarray | None = None,
                 existing: Sequence[int] | np.ndarray = (),
                 groups: Sequence[object] | np.ndarray | None = None,
                 required_groups: Sequence[object] = (), max_distance: float = np.inf,
                 distance_mode: DistanceMode = "given") -> None:
        super().__init__(cost, weights=weights, existing=existing, groups=groups,
                         required_groups=required_groups, max_distance=max_distance,
                         distance_mode=distance_mode)
        self.radius = float(radius)
        self.cover = within(self.cost, self.radius)

    def _min_columns(self) -> int:
        """Columns a solution needs at least (dominated ones are kept back for it)."""
        return 0

    def _existing_covered(self) -> np.ndarray:
        if not len(self.existing):
            return np.zeros(self.cost.shape[0], dtype=bool)
        return np.asarray(np.diff(self.cover[:, self.existing].indptr) > 0)

    def coverable(self) -> np.ndarray:
        """Return which demand rows some candidate or existing facility covers."""
        return np.asarray(np.diff(self.cover.indptr) > 0)

    def _shrink(self) -> Shrunk:
        cover_new = sp.csr_array(self.cover[:, self.candidates])
        done = self._existing_covered()
        reach = np.diff(cover_new.indptr) > 0
        live = np.flatnonzero(~done & reach & (self.weights > 0))
        sub = sp.csr_array(cover_new[live])
        first, group = merge_rows(sub)
        matrix = sp.csr_array(sub[first])
        weight = np.bincount(group, weights=self.weights[live], minlength=len(first))
        labels = None if self.groups is None else self.groups[self.candidates]
        if self.allow_dominance and len(first):
            dominated = dominated_columns(matrix, weight, labels)
            short = self._min_columns() - int((~dominated).sum())
            if short > 0:  # keep enough columns for "at least n sites" (fillers)
                dominated[np.flatnonzero(dominated)[:short]] = False
            keep = np.flatnonzero(~dominated)
        else:
            keep = np.arange(len(self.candidates))
        sizes = {"demand": self.cost.shape[0], "demand_rows": len(first),
                 "candidates": len(self.candidates), "candidates_kept": len(keep)}
        uncoverable = ~done & ~reach & (self.weights > 0)
        return Shrunk(sp.csr_array(matrix[:, keep]), weight, self.candidates[keep],
                      float(self.weights[done].sum()), sizes, self._missing_groups(),
                      extra=np.asarray([float(self.weights[uncoverable].sum())]))

    def _covered_mask(self, sites: np.ndarray) -> np.ndarray:
        return self._existing_covered() | (np.diff(self.cover[:, sites].indptr) > 0)

    def _value(self, picks: Sequence[int]) -> float:
        """Weight the shrunk columns ``picks`` cover (existing coverage not included)."""
        s = self._prepared()
        if not len(picks):
            return 0.0
        return float(s.weight[np.diff(s.matrix[:, list(picks)].indptr) > 0].sum())

    def _finish(self, sites: np.ndarray, values: np.ndarray | None) -> Finish:
        done = self._existing_covered()
        rest = sp.csr_array(self.cover[:, sites])
        weight = np.where(done, 0.0, self.weights)
        order, gains = greedy_cover(rest, weight, budget=len(sites), at_least=len(sites))
        ranked = sites[np.asarray(order, np.int64)]
        ranked_cover = sp.csr_array(self.cover[:, ranked])
        n = self.cost.shape[0]
        assignment = np.full(n, UNSERVED, np.int64)
        has = np.diff(ranked_cover.indptr) > 0
        rows = np.repeat(np.arange(n), np.diff(ranked_cover.indptr))
        firsts = np.full(n, len(ranked), np.int64)
        np.minimum.at(firsts, rows, ranked_cover.indices)
        assignment[has] = ranked[firsts[has]]
        assignment[done] = EXISTING
        served = np.bincount(firsts[has & ~done], weights=self.weights[has & ~done],
                             minlength=len(ranked))[:len(ranked)]
        covered = float(self.weights[self._covered_mask(sites)].sum())
        existing_value = float(self.weights[done].sum())
        return Finish(self._objective(sites, covered), ranked, np.asarray(gains, np.float64),
                      served, assignment, covered, float(self.weights.sum()), existing_value,
                      {"base_gain_value": existing_value})

    def _objective(self, sites: np.ndarray, covered: float) -> float:
        raise NotImplementedError

    def _cover_instance(self) -> dict[str, object]:
        return {**self._common_instance(), "radius": self.radius,
                "pairs": self._pairs(self.radius),
                "existing_covered": [bool(v) for v in self._existing_covered()]}
