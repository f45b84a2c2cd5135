"""The answer of a siting model: sites in rank order, objective, proven bound, honest status."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd

__all__ = ["EXISTING", "STATUS_ORDER", "UNSERVED", "SitingResult", "Stage", "worst_status"]

EXISTING = -1
"""``assignment`` value of a demand point served by an existing facility."""
UNSERVED = -2
"""``assignment`` value of a demand point that no site serves (uncovered, or unassigned)."""


STATUS_ORDER = ("optimal", "gap_limit", "node_limit", "time_limit", "greedy", "error",
                "infeasible")
"""Statuses from best to worst: a result's status is the worst of its stages'."""


def worst_status(*statuses: str) -> str:
    """Return the worst of ``statuses`` (:data:`STATUS_ORDER`; unknown ones count as error)."""
    rank = {s: i for i, s in enumerate(STATUS_ORDER)}
    return max(statuses, key=lambda s: rank.get(s, rank["error"]), default="optimal")


@dataclass(frozen=True)
class Stage:
    """One stage of a lexicographic solve.

    Attributes
    ----------
    name
        ``count`` (the fewest new sites), ``coverage`` (the most weight reached among the
        solutions with that count), ``placement`` (JurisdictionCover's second stage) or
        ``single`` (a one-stage model).
    status
        The stage's own status (as :attr:`SitingResult.status`).
    objective, bound, gap
        The stage's objective, its proven bound and their relative gap.
    seconds
        Wall seconds the stage took.
    solves
        HiGHS runs the stage needed (a count found by search takes several).
    """

    name: str
    status: str
    objective: float
    bound: float
    gap: float
    seconds: float = 0.0
    solves: int = 1

    def record(self) -> dict[str, object]:
        """Return the stage as a JSON-ready dict (non-finite numbers as None)."""
        def num(v: float) -> float | None:
            return float(v) if np.isfinite(v) else None

        return {"stage": self.name, "status": self.status, "objective": num(self.objective),
                "bound": num(self.bound), "gap": num(self.gap),
                "seconds": round(float(self.seconds), 4), "solves": int(self.solves)}


@dataclass(frozen=True, eq=False)
class SitingResult:
    """What a siting model's ``solve`` returns.

    Attributes
    ----------
    model
        ``"LSCP"``, ``"MCLP"``, ``"PMedian"``, ``"CapacitatedCoverage"`` or
        ``"JurisdictionCover"``.
    status
        The worst of the stages' statuses (:attr:`stages`): ``optimal`` only when every
        stage is proven (relative gap ≤ 1e-6), ``gap_limit`` (stopped at a requested
        ``mip_rel_gap``), ``time_limit`` or ``node_limit`` (the best solution found when the
        limit struck: never called optimal), ``greedy`` (heuristic only, with the bound
        below), ``infeasible`` (no solution satisfies the constraints; ``message`` says why).
    objective
        The objective of the solution in the model's units: residents/children covered
        (MCLP, existing facilities' coverage included), new sites (LSCP,
        JurisdictionCover, capacitated share mode), weighted metres walked (PMedian),
        demand served (capacitated). NaN when infeasible.
    bound
        Proven bound on the optimum, same units: an upper bound for maximisation, a lower
        bound for minimisation (HiGHS's dual bound, the greedy guarantee or a trivial bound,
        whichever is tightest).
    gap
        ``|objective - bound| / max(|objective|, 1e-9)``; 0 when proven optimal.
    sense
        ``"max"`` or ``"min"``.
    sites
        New sites: column indices of the cost matrix (candidate positions), in rank order.
    gains
        Marginal gain of each site in rank order (``gain_unit``): what it adds when the sites
        are re-added greedily, best first; sums to the solution's gain over the existing
        facilities alone.
    served
        Weight (residents, children, demand) assigned to each site, aligned with ``sites``.
    assignment
        For each demand point (row of the cost matrix): the column of the new site serving
        it, :data:`EXISTING` or :data:`UNSERVED`.
    covered
        Weight covered or served in all, existing facilities included (NaN for PMedian
        without a radius).
    total_weight
        Weight of all demand points.
    existing_value
        The objective with no new site (existing facilities only).
    gain_unit
        What ``gains`` and ``served`` count.
    solver
        ``"highs <version>"``, or ``"greedy"``.
    seconds
        Wall seconds by stage: ``shrink``, ``greedy``, ``build``, ``solve``, ``total``.
    sizes
        Sizes before and after shrinking: ``demand``, ``demand_rows``, ``candidates``,
        ``candidates_kept``, and the MIP's ``mip_rows``, ``mip_cols``, ``mip_nnz``.
    distance_mode
        ``walking`` (network), ``straight_line`` (explicit ``metric="euclidean"``) or
        ``given`` (a cost matrix from the caller).
    message
        Why a model is infeasible, or notes on the solve.
    details
        Model-specific extras (e.g. the coverage bound of JurisdictionCover's placement).
    stages
        The lexicographic stages: where the count is minimised, ``count`` then
        ``coverage`` (the most weight reached among the fewest-site solutions); one
        ``single`` stage otherwise.
    """

    model: str
    status: str
    objective: float
    bound: float
    gap: float
    sense: Literal["max", "min"]
    sites: np.ndarray
    gains: np.ndarray
    served: np.ndarray
    assignment: np.ndarray
    covered: float
    total_weight: float
    existing_value: float
    gain_unit: str
    solver: str
    seconds: dict[str, float]
    sizes: dict[str, int]
    distance_mode: str
    message: str = ""
    details: dict[str, object] = field(default_factory=dict)
    stages: tuple[Stage, ...] = ()

    @property
    def optimal(self) -> bool:
        """``True`` only when the optimum of every stage is proven."""
        return self.status == "optimal" and all(s.status == "optimal" for s in self.stages)

    def site_table(self, candidates: pd.DataFrame | None = None) -> pd.DataFrame:
        """One row per new site, in rank order.

        Parameters
        ----------
        candidates
            Optional table of the cost matrix's columns (one row per column, in order, e.g.
            the candidate layer); its columns are joined on.

        Returns
        -------
        pandas.DataFrame
            ``rank`` (1 = best), ``site`` (column index), ``marginal_gain``, ``cumulative``
            (existing facilities' value plus the gains so far, in ``gain_unit``),
            ``served``, then the candidate columns, plus ``distance_mode`` and ``status``.
        """
        table = pd.DataFrame({
            "rank": np.arange(1, len(self.sites) + 1),
            "site": self.sites,
            "marginal_gain": self.gains,
            "cumulative": self.details.get("base_gain_value", 0.0) + np.cumsum(self.gains),
            "served": self.served,
        })
        if candidates is not None and len(self.sites):
            extra = candidates.iloc[self.sites].reset_index(drop=True)
            extra = extra.drop(columns=[c for c in extra.columns if c in table.columns])
            table = pd.concat([table, pd.DataFrame(extra)], axis=1)
        table["distance_mode"] = self.distance_mode
        table["status"] = self.status
        return table

    def summary(self) -> dict[str, object]:
        """Return the headline figures as a flat dict (for logs, reports and benchmarks)."""
        return {
            "model": self.model, "status": self.status, "objective": self.objective,
            "bound": self.bound, "gap": self.gap, "sites": len(self.sites),
            "covered": self.covered, "total_weight": self.total_weight,
            "existing_value": self.existing_value, "solver": self.solver,
            "distance_mode": self.distance_mode, **{f"seconds_{k}": v for k, v in
                                                    self.seconds.items()},
            **{f"size_{k}": v for k, v in self.sizes.items()},
            **{f"stage_{s.name}": s.status for s in self.stages},
        }
