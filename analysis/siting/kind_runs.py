"""One exact model per facility kind for the plan's own targets on it.

Without an accessibility target the model is :class:`.jurisdiction.JurisdictionCover`
(``N* = max(|R|, T - n_E)`` sites, placed to reach the most children within the kind's
radius); with one it is :class:`.lscp.LSCP` (full coverage of every child some site can
reach when the plan asks for all, else the share, lexicographically), then :class:`.mclp.MCLP`
when a count needs more sites. A unit failing a "one 托育 of ≥ 20 places" target whose
largest centre is smaller is answered by expanding that centre, not by a new one.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd

from cfplan.analysis.access import radius_for
from cfplan.analysis.evaluate import Result, facility_level_codes
from cfplan.analysis.plan import Filters, Target
from cfplan.analysis.selection import select
from cfplan.analysis.siting.costs import within
from cfplan.analysis.siting.inputs import LayerCosts
from cfplan.analysis.siting.jurisdiction import JurisdictionCover
from cfplan.analysis.siting.lscp import LSCP
from cfplan.analysis.siting.mclp import MCLP
from cfplan.analysis.siting.per_capita import expansion_rows
from cfplan.analysis.siting.requests import KindRequest
from cfplan.analysis.siting.result import SitingResult
from cfplan.analysis.siting.runs import (
    DEFAULT_REACH_M,
    SiteContext,
    run_record,
    sites_frame,
    tradeoff_table,
)
from cfplan.layers.text import Text

__all__ = ["KindRun", "kind_run", "value_after"]


@dataclass
class KindRun:
    """The answer to one kind's request.

    Attributes
    ----------
    request
        What the targets asked.
    result
        The model's result (its status covers every stage).
    sites
        New sites and expansions (:data:`.runs.SITE_COLUMNS`).
    runs, tradeoff
        Solver records and the trade-off curve under the proposal's constraints.
    best_share, share_goal
        For an accessibility target: the best share any number of candidates reaches,
        and the plan's share.
    radius
        The walking radius used (m).
    """

    request: KindRequest
    result: SitingResult
    sites: gpd.GeoDataFrame
    radius: float
    runs: list[dict[str, object]] = field(default_factory=list)
    tradeoff: pd.DataFrame = field(default_factory=pd.DataFrame)
    best_share: float | None = None
    share_goal: float | None = None


def _capacity_target(req: KindRequest) -> Target | None:
    return next((t for t in req.targets if t.metric == "capacity_per_unit"), None)


def _expand_small(ctx: SiteContext, req: KindRequest) -> gpd.GeoDataFrame | None:
    """Expand the largest centre of each failing unit that has one below the capacity.

    Removes those units from ``req.required``; returns the expansions (None: none).
    """
    t = _capacity_target(req)
    if t is None or t.unit_capacity != "largest" or req.capacity is None:
        return None
    fac = ctx.layers.facilities
    sure, _ = select(fac, t.kinds, t.filters, scenario=ctx.scenario)
    codes = facility_level_codes(ctx.layers, level=t.unit_level).astype(object)
    cap = pd.to_numeric(fac[t.capacity_field or "capacity"], errors="coerce")
    rows, added, served = [], [], []
    for code in list(req.required):
        here = fac[sure & (codes == code).to_numpy() & cap.notna().to_numpy()]
        if here.empty:
            continue
        largest = here.loc[pd.to_numeric(here["capacity"]).idxmax()]
        c = float(largest["capacity"])
        if 0 < c < req.capacity:
            rows.append(largest)
            added.append(req.capacity - c)
            served.append(",".join(req.serves.get(code, [t.id])))
            req.required.remove(code)
    if not rows:
        return None
    frame = gpd.GeoDataFrame(rows, geometry="geometry", crs=fac.crs)
    out = expansion_rows(ctx, frame, np.asarray(added), run=req.key, target=t.id)
    out["target"] = served
    return out


def _site_targets(req: KindRequest, sites: gpd.GeoDataFrame) -> list[str]:
    always = [t.id for t in req.targets if t.metric in ("count", "accessibility")]
    out = []
    for u, s in zip(sites["unit_code"], sites["subdistrict_code"], strict=True):
        code = str(u) if req.level == "unit" else str(s)
        out.append(",".join(t.id for t in req.targets
                            if t.id in req.serves.get(code, []) or t.id in always))
    return out


def _solve(req: KindRequest, costs: LayerCosts, *, radius: float, time_limit: float
           ) -> tuple[SitingResult, MCLP, list[SitingResult], float | None, float | None]:
    """Solve the request; return the result, the curve's model, every solve, best, goal."""
    groups = costs.groups if costs.groups is not None else np.full(costs.cost.shape[1], "",
                                                                   dtype=object)
    if req.access is None:
        model = JurisdictionCover(costs.cost, radius=radius, groups=groups,
                                  required_groups=req.required, count_target=req.count_needed,
                                  existing_count=0, weights=costs.weights,
                                  existing=costs.existing, distance_mode=costs.distance_mode)
        result = model.solve(time_limit=time_limit)
        return result, model.placement(), [result], None, None
    total = float(costs.weights.sum())
    goal = float(req.access.low)
    reach = np.diff(within(costs.cost, radius).indptr) > 0
    best = float(costs.weights[reach].sum()) / total if total > 0 else 1.0
    lscp = LSCP(costs.cost, radius=radius, share=None if goal >= best - 1e-12 else goal,
                uncoverable="ignore", groups=groups, required_groups=req.required,
                weights=costs.weights, existing=costs.existing,
                distance_mode=costs.distance_mode)
    result = lscp.solve(time_limit=time_limit)
    solves = [result]
    curve = lscp.mclp(max(len(result.sites), 1))
    if result.status != "infeasible" and req.count_needed > len(result.sites):
        curve = MCLP(costs.cost, radius=radius, p=req.count_needed, at_least=req.count_needed,
                     groups=groups, required_groups=req.required, weights=costs.weights,
                     existing=costs.existing, distance_mode=costs.distance_mode)
        result = curve.solve(time_limit=time_limit, start=[int(j) for j in result.sites])
        solves.append(result)
    return result, curve, solves, best, goal


def kind_run(ctx: SiteContext, req: KindRequest, *, centre_places: float, k_extra: int = 3,
             tradeoff_time_limit: float = 2.0) -> KindRun:
    """Answer one kind's request: expansions, the exact model, the sites and the curve.

    Returns
    -------
    KindRun
        The result, new sites (and expansions), records and the trade-off curve.
    """
    kind = req.kind
    expansions = _expand_small(ctx, req)
    cands = ctx.candidates(kind)
    capacity = None
    if req.capacity is not None:  # a stated capacity must meet the need
        cap = cands["capacity"].to_numpy(np.float64)
        cands = cands[np.isnan(cap) | (cap >= req.capacity - 1e-9)].reset_index(drop=True)
        capacity = max(req.capacity, centre_places) if kind == "childcare" else req.capacity
    radius = float(req.access.radius_m or radius_for(kind) or DEFAULT_REACH_M
                   ) if req.access is not None else float(radius_for(kind) or DEFAULT_REACH_M)
    filters = req.access.filters if req.access is not None else Filters()
    weight = req.access.population if req.access is not None else "children"
    costs = ctx.costs(cands, radius=radius, existing=ctx.existing(kind, filters),
                      weight=weight, group_column=req.level)
    result, model, solves, best, goal = _solve(req, costs, radius=radius,
                                               time_limit=ctx.time_limit)
    ids = [t.id for t in req.targets]
    records = [run_record(kind, r, ids, radius_m=radius, run=req.key) for r in solves]
    sites = sites_frame(ctx, kind=kind, run=req.key, origin="plan", result=result, cands=cands,
                        costs=costs, radius=radius, targets=[""] * len(result.sites),
                        capacity=capacity)
    sites["target"] = _site_targets(req, sites)
    if expansions is not None:
        sites = gpd.GeoDataFrame(pd.concat([sites, expansions], ignore_index=True),
                                 geometry="geometry", crs=ctx.layers.crs)
    n = len(result.sites)
    curve = tradeoff_table(req.key, kind, model, k_min=1, k_max=max(n, 1) + k_extra,
                           radius=radius, proposed=n, target_share=goal,
                           time_limit=min(ctx.time_limit, tradeoff_time_limit), targets=ids)
    return KindRun(req, result, sites, radius, records, curve, best, goal)


def value_after(t: Target, r: Result, run: KindRun) -> float | None:
    """Return the target's value once the run's sites (and expansions) are built."""
    sites = run.sites
    new = sites[sites["action"] == "new"]
    if run.result.status == "infeasible":
        return None
    if t.metric == "count":
        return float(r.value or 0.0) + len(new)
    if t.metric == "accessibility":
        total = run.result.total_weight
        return run.result.covered / total if total > 0 else None
    served = {str(c) for c in (sites["unit_code"] if run.request.level == "unit"
                               else sites["subdistrict_code"])}
    names = r.extra.get("names", {})
    codes = set(names) if isinstance(names, dict) else set()
    if not codes:
        return None
    return (len(codes - set(r.failing)) + len(set(r.failing) & served)) / len(codes)


def infeasible_note(run: KindRun) -> Text:
    """Why the run found no answer, or that no number of candidates meets the target."""
    if run.result.status == "infeasible":
        return Text(f"无解：{run.result.message}", f"infeasible: {run.result.message}")
    if run.best_share is not None and run.share_goal is not None and \
            run.best_share < run.share_goal - 1e-9:
        return Text(f"候选点无论多少都达不到目标；最多可达 {run.best_share:.1%}",
                    f"no number of candidate sites can meet it; the best reachable is "
                    f"{run.best_share:.1%}")
    return Text("", "")
