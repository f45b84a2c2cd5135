"""National standards (reference): a budgeted ranking, and the count full coverage needs.

A standard such as "every child within 300 m of a 幼儿园" can need hundreds of new sites,
which no bureau builds; it is not the plan's own target. Each not-met standard therefore
gets the ``budget`` new sites (10 by default) that bring the most children not yet reached
within its radius (MCLP, lexicographic on nothing else: ``p`` is fixed), counted on top of
the scenario's facilities and what the plan's targets already propose on the kind; and,
stated once, the fewest sites full coverage would need (LSCP over every child some site
can reach) with the best share any number of candidates reaches.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd

from cfplan.analysis.access import radius_for
from cfplan.analysis.evaluate import Result
from cfplan.analysis.plan import Target
from cfplan.analysis.siting.costs import within
from cfplan.analysis.siting.lscp import LSCP
from cfplan.analysis.siting.mclp import MCLP
from cfplan.analysis.siting.result import SitingResult
from cfplan.analysis.siting.runs import (
    DEFAULT_REACH_M,
    SiteContext,
    run_record,
    sites_frame,
    tradeoff_table,
)

__all__ = ["BUDGET", "StandardRun", "standard_run"]

BUDGET = 10
"""New sites ranked per national standard unless ``--budget`` says otherwise."""


@dataclass
class StandardRun:
    """The budgeted ranking for one national standard.

    Attributes
    ----------
    target
        The standard.
    ranking
        The MCLP with ``budget`` new sites.
    full
        The fewest sites that reach every child some site can reach (LSCP).
    best_share
        The best share any number of candidates reaches (0–1).
    share_before, share_after
        The share within reach now and with the ranked sites.
    sites
        The ranked sites (:data:`.runs.SITE_COLUMNS`).
    runs, tradeoff
        Solver records and the curve ``k = 1..budget``.
    radius
        The standard's walking radius (m).
    """

    target: Target
    ranking: SitingResult
    full: SitingResult
    best_share: float
    share_before: float
    share_after: float
    sites: gpd.GeoDataFrame
    runs: list[dict[str, object]]
    tradeoff: pd.DataFrame
    radius: float


def standard_run(ctx: SiteContext, t: Target, r: Result, *, budget: int = BUDGET,
                 plan_sites: gpd.GeoDataFrame | None = None,
                 tradeoff_time_limit: float = 2.0) -> StandardRun:
    """Rank the ``budget`` new sites reaching the most children a standard leaves out.

    Parameters
    ----------
    ctx
        The siting's shared inputs.
    t, r
        The standard and its result in the scenario.
    budget
        New sites to rank.
    plan_sites
        The sites the plan's targets propose: those of the standard's kind count as built.
    tradeoff_time_limit
        Seconds for each point of the curve ``k = 1..budget``.

    Returns
    -------
    StandardRun
        The ranking, the full-coverage count and the best reachable share.
    """
    kind = t.kinds[0]
    run = f"{kind}@{t.id}"
    radius = float(t.radius_m or radius_for(kind) or DEFAULT_REACH_M)
    extra = None
    if plan_sites is not None and len(plan_sites):
        extra = plan_sites[(plan_sites["kind"] == kind) & (plan_sites["action"] == "new")]
    cands = ctx.candidates(kind)
    costs = ctx.costs(cands, radius=radius, existing=ctx.existing(kind, t.filters, extra=extra),
                      weight=t.population)
    total = float(costs.weights.sum())
    reach = np.diff(within(costs.cost, radius).indptr) > 0
    best = float(costs.weights[reach].sum()) / total if total > 0 else 1.0
    model = MCLP(costs.cost, radius=radius, p=budget, weights=costs.weights,
                 existing=costs.existing, distance_mode=costs.distance_mode)
    ranking = model.solve(time_limit=ctx.time_limit)
    full = LSCP(costs.cost, radius=radius, uncoverable="ignore", weights=costs.weights,
                existing=costs.existing, distance_mode=costs.distance_mode
                ).solve(time_limit=ctx.time_limit)
    sites = sites_frame(ctx, kind=kind, run=run, origin="standard", result=ranking,
                        cands=cands, costs=costs, radius=radius,
                        targets=[t.id] * len(ranking.sites))
    runs = [run_record(kind, ranking, [t.id], radius_m=radius, run=run),
            run_record(kind, full, [t.id], radius_m=radius, run=f"{run}:full")]
    curve = tradeoff_table(run, kind, model, k_min=1, k_max=budget, radius=radius,
                           proposed=len(ranking.sites), target_share=t.low,
                           time_limit=min(ctx.time_limit, tradeoff_time_limit),
                           targets=[t.id])
    before = ranking.existing_value / total if total > 0 else float("nan")
    after = ranking.covered / total if total > 0 else float("nan")
    return StandardRun(t, ranking, full, best, before, after, sites, runs, curve, radius)
