"""Plan-driven siting: what is still missing once the planned projects are done, and where.

:func:`propose_sites` starts from a scenario (``planned`` by default: projects under
construction or planned are taken as done) and answers every not-met target of it:

* the plan's own targets on a kind, together, by one exact model each
  (:mod:`.kind_runs`: 22a + 22b → 2 stations, not 4);
* per-person targets (托位 per 1,000, pitches per 10,000) after them: what the kinds' runs
  give, expansions of existing centres, new centres of a stated size, and where
  (:mod:`.per_capita`);
* national standards apart, as a reference: the ``budget`` sites reaching the most children
  not yet reached, and the count full coverage would need (:mod:`.standards`);
* every other not-met target with the reason siting cannot close it (:mod:`.requests`).

In the planned scenario each target also names the planned projects that close part of its
gap (:mod:`.planned`); a target they close entirely needs nothing new. The candidates are
the same in every scenario, so the planned run never needs more sites than the current one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import geopandas as gpd
import numpy as np
import pandas as pd

from cfplan.analysis.access import radius_for
from cfplan.analysis.evaluate import Result
from cfplan.analysis.plan import Plan
from cfplan.analysis.siting.costs import within
from cfplan.analysis.siting.inputs import Metric, option_problem
from cfplan.analysis.siting.kind_runs import KindRun, infeasible_note, kind_run, value_after
from cfplan.analysis.siting.lscp import LSCP
from cfplan.analysis.siting.mclp import MCLP
from cfplan.analysis.siting.per_capita import (
    CENTRE_PLACES,
    EXPAND_SHARE,
    PerCapitaRun,
    per_capita_run,
)
from cfplan.analysis.siting.planned import PlannedProgress, closed_text, planned_progress
from cfplan.analysis.siting.pmedian import PMedian
from cfplan.analysis.siting.requests import kind_requests
from cfplan.analysis.siting.result import SitingResult
from cfplan.analysis.siting.runs import (
    DEFAULT_REACH_M,
    MAX_EACH_AREA,
    SITE_COLUMNS,
    TRADEOFF_COLUMNS,
    SiteContext,
    empty_sites,
    site_areas,
    sites_frame,
)
from cfplan.analysis.siting.standards import BUDGET, StandardRun, standard_run
from cfplan.geo.street_network import StreetNetwork
from cfplan.layers.load import LayerSet
from cfplan.layers.text import Text

__all__ = ["OUTCOME_COLUMNS", "SITE_COLUMNS", "SitingPlan", "propose_sites", "single_model"]

OUTCOME_COLUMNS = ("target", "origin", "kind", "run", "metric", "sited", "closed",
                   "value_before", "value_after", "new_sites", "expansions", "needed",
                   "places_added", "full_count", "value_with_plan", "reachable",
                   "best_value", "planned",
                   "planned_en", "note", "note_en")


@dataclass(frozen=True, eq=False)
class SitingPlan:
    """The proposed sites for a plan's not-met targets in one scenario.

    Attributes
    ----------
    scenario
        ``current`` or ``planned`` (default): which facilities are fixed.
    sites
        One row per proposed site or expansion (:data:`SITE_COLUMNS`, Point geometry),
        metric CRS: the plan's runs (``origin = "plan"``) in plan order, then the
        standards' rankings (``origin = "standard"``, at most ``budget`` each).
        ``action`` is ``new`` or ``expand`` (an existing centre grows by ``places``).
    outcomes
        One row per target considered (:data:`OUTCOME_COLUMNS`): ``sited`` (siting gave an
        answer), ``closed`` (it meets the target), values before and after, new sites,
        expansions, places needed and added, for a standard ``full_count`` (new sites full
        coverage needs), ``value_with_plan`` (its share with the plan's proposals built, the
        base of its ranking) and ``best_value`` (the best share any number reaches), the planned
        projects closing part of the gap (``planned``), and ``note`` (why a target cannot
        be sited, or what is left) in Chinese and English.
    runs
        One record per model solved (``siting.json``), with each stage's status.
    tradeoff
        Per run, coverage for ``k`` new sites under the proposal's own constraints
        (``run``, ``kind``, ``k``, ``covered``, ``share``, ``marginal_gain``, ``status``,
        ``radius_m``, ``target_share``, ``proposed``).
    service_areas
        One walking service area per proposed new site (``kind``, ``run``, ``rank``,
        ``cutoff_m``), metric CRS; a run of more than :data:`.runs.MAX_EACH_AREA` sites
        has one for all of them (``rank`` 0).
    candidates
        Number of candidate sites per run (the same set per kind in every scenario).
    budget, centre_places, expand_share
        The standards' budget, the size of a new 托育 centre, the share of its places an
        existing centre may add.
    progress
        Per target not met as things stand, the planned projects closing part of it (the
        planned scenario only).
    year
        The year the plan ends: a proposed site is built by then.
    attributes
        Per run, facility fields a new site needs to count (e.g. ``level`` for
        办事处-level stations): used by :func:`.apply.apply_sites`.
    applied
        Once checked (:func:`.apply.with_applied`): every target of the scenario evaluated
        again with the sites built; ``outcomes`` then has ``status_applied``.
    """

    scenario: str
    sites: gpd.GeoDataFrame
    outcomes: pd.DataFrame
    runs: list[dict[str, object]]
    tradeoff: pd.DataFrame
    service_areas: gpd.GeoDataFrame
    candidates: dict[str, int]
    budget: int = BUDGET
    centre_places: float = CENTRE_PLACES
    expand_share: float = EXPAND_SHARE
    progress: dict[str, PlannedProgress] = field(default_factory=dict)
    year: int = 0
    attributes: dict[str, dict[str, str]] = field(default_factory=dict)
    applied: pd.DataFrame | None = None


def _row(target: str, **values: object) -> dict[str, object]:
    row: dict[str, object] = dict.fromkeys(OUTCOME_COLUMNS)
    row.update({"target": target, "planned": "", "planned_en": "", "note": "", "note_en": ""})
    row.update(values)
    return row


def _kind_rows(run: KindRun, by_key: dict[tuple[str, str], Result], scenario: str
               ) -> list[dict[str, object]]:
    note = infeasible_note(run)
    sites = run.sites
    rows = []
    for t in run.request.targets:
        r = by_key[(t.id, scenario)]
        reachable = not note.zh
        mine = sites[sites["target"].map(lambda s, i=t.id: i in str(s).split(","))]
        after = value_after(t, r, run)
        rows.append(_row(
            t.id, origin=t.origin, kind=run.request.kind, run=run.request.key, metric=t.metric,
            sited=True, closed=bool(reachable and run.result.status != "infeasible"),
            value_before=r.value, value_after=after,
            new_sites=int((mine["action"] == "new").sum()),
            expansions=int((mine["action"] == "expand").sum()), needed=r.needed,
            places_added=float(mine["places"].fillna(0).sum()) if t.metric ==
            "capacity_per_unit" else None, reachable=reachable,
            best_value=run.best_share if t.metric == "accessibility" else after,
            note=note.zh, note_en=note.en))
    return rows


def _per_capita_row(run: PerCapitaRun, r: Result) -> dict[str, object]:
    t = run.target
    closed = bool(np.isfinite(run.value_after) and run.value_after >= t.low - 1e-9)
    note = Text("", "") if closed else Text("提议后仍未达标", "still short after the proposal")
    return _row(t.id, origin=t.origin, kind=t.kinds[0], run=f"{t.kinds[0]}@{t.id}",
                metric=t.metric, sited=True, closed=closed, value_before=r.value,
                value_after=run.value_after, new_sites=len(run.sites),
                expansions=len(run.expansions), needed=run.needed,
                places_added=run.from_runs + run.added, reachable=True,
                best_value=run.value_after, note=note.zh, note_en=note.en)


def _standard_row(run: StandardRun, r: Result) -> dict[str, object]:
    t = run.target
    full = run.full
    count = None if full.status == "infeasible" else int(full.objective)
    reach = run.best_share >= t.low - 1e-9
    zh = (f"全部覆盖需新建 {count} 处" if count is not None else "无法求出全部覆盖所需数量") + (
        "" if reach else f"（候选点无论多少最多可达 {run.best_share:.1%}）")
    en = (f"full coverage needs {count} new sites" if count is not None
          else "no count for full coverage") + (
        "" if reach else f" (no number of candidates reaches more than {run.best_share:.1%})")
    return _row(t.id, origin=t.origin, kind=t.kinds[0], run=f"{t.kinds[0]}@{t.id}",
                metric=t.metric, sited=True, closed=bool(run.share_after >= t.low - 1e-9),
                value_before=r.value, value_after=run.share_after,
                new_sites=len(run.sites), expansions=0, full_count=count,
                value_with_plan=run.share_before, reachable=reach,
                best_value=run.best_share, note=zh, note_en=en)


def _areas(ctx: SiteContext, sites: gpd.GeoDataFrame, radius_of: dict[str, float]
           ) -> gpd.GeoDataFrame:
    frames = []
    new = sites[sites["action"] == "new"]
    for run in dict.fromkeys(new["run"]):
        mine = new[new["run"] == run]
        radius = radius_of[str(run)]
        each = len(mine) <= MAX_EACH_AREA
        polygons = site_areas(ctx.network, mine, radius, each=each)
        frames.append(gpd.GeoDataFrame(
            {"kind": str(mine["kind"].iloc[0]), "run": run,
             "rank": mine["rank"].to_numpy() if each else np.zeros(1, np.int64),
             "cutoff_m": radius}, geometry=polygons, crs=ctx.layers.crs))
    if not frames:
        return gpd.GeoDataFrame({"kind": [], "run": [], "rank": [], "cutoff_m": []},
                                geometry=gpd.GeoSeries([], crs=ctx.layers.crs),
                                crs=ctx.layers.crs)
    return gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), geometry="geometry",
                            crs=ctx.layers.crs)


def _concat(frames: list[gpd.GeoDataFrame], crs: object) -> gpd.GeoDataFrame:
    frames = [f for f in frames if len(f)]
    if not frames:
        return empty_sites(crs)
    out = gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), geometry="geometry", crs=crs)
    return gpd.GeoDataFrame(out[[*SITE_COLUMNS, "geometry"]], geometry="geometry", crs=crs)


def propose_sites(
    plan: Plan, layers: LayerSet, results: Sequence[Result], *, network: StreetNetwork,
    demand: gpd.GeoDataFrame, scenario: str = "planned",
    water: gpd.GeoDataFrame | None = None, spacing_m: float = 100.0,
    metric: Metric = "walking", time_limit: float = 60.0, kinds: Sequence[str] | None = None,
    budget: int = BUDGET, centre_places: float = CENTRE_PLACES,
    expand_share: float = EXPAND_SHARE, k_extra: int = 3, tradeoff_time_limit: float = 2.0,
    service_areas_: bool = True,
) -> SitingPlan:
    """Propose what is still missing in ``scenario``: new sites, expansions and where.

    Parameters
    ----------
    plan, layers, results
        The plan, its layers (metric CRS) and the evaluation (:func:`evaluate_plan`).
    network
        The walking network the access was measured on (``Assessment.access.network``).
    demand
        Demand points (``Assessment.access.demand``) with ``population`` and ``children``.
    scenario
        ``planned`` (default: projects under construction or planned are done) or
        ``current`` (today's facilities only).
    water
        Water areas: generated candidates are never inside them.
    spacing_m
        Spacing of generated candidates within a unit (m).
    metric
        ``walking`` (default) or ``euclidean`` (straight line, labelled in every output).
    time_limit
        Seconds HiGHS may spend on each model (a count search shares them).
    kinds
        Only these kinds (default: every kind with a target siting can close).
    budget
        New sites ranked for each national standard.
    centre_places, expand_share
        Places of a new 托育 centre, and the share of its stated places an existing centre
        may add, for 托位 targets.
    k_extra, tradeoff_time_limit
        The trade-off curve runs to the proposed number of sites plus ``k_extra`` (a
        standard's to ``budget``); each of its solves may take ``tradeoff_time_limit``
        seconds (a point stopped by it has status ``time_limit`` in the table).
    service_areas_
        Compute the proposed sites' walking service areas (for the map).

    Returns
    -------
    SitingPlan
        Sites, per-target outcomes, solver records, the trade-off table, service areas.

    Raises
    ------
    ValueError
        If ``spacing_m`` or ``time_limit`` cannot be used (:func:`option_problem`).
    """
    problem = option_problem(spacing_m=spacing_m, time_limit=time_limit)
    if problem is not None:
        raise ValueError(problem.en)
    if scenario not in ("current", "planned"):
        msg = f"scenario must be 'current' or 'planned', not {scenario!r}"
        raise ValueError(msg)
    ctx = SiteContext(layers, network, demand, scenario, water, spacing_m, metric, time_limit)
    requests = kind_requests(plan, layers, results, scenario=scenario, kinds=kinds)
    by_key = {(r.target.id, r.scenario): r for r in results}
    outcomes = [_row(str(r["target"]), **{k: v for k, v in r.items() if k != "target"})
                for r in requests.skipped]
    frames, runs, curves = [], [], []
    counts: dict[str, int] = {}
    radius_of: dict[str, float] = {}
    attributes: dict[str, dict[str, str]] = {}
    for key, req in requests.kinds.items():
        levels = [lv for t in req.targets for lv in (t.filters.levels or ())]
        if levels:
            attributes[key] = {"level": levels[0]}
        run = kind_run(ctx, req, centre_places=centre_places, k_extra=k_extra,
                       tradeoff_time_limit=tradeoff_time_limit)
        frames.append(run.sites)
        runs += run.runs
        curves.append(run.tradeoff)
        counts[key], radius_of[key] = run.result.sizes.get("candidates", 0), run.radius
        outcomes += _kind_rows(run, by_key, scenario)
    plan_sites = _concat(frames, layers.crs)
    for t in requests.per_capita:
        pc = per_capita_run(ctx, t, by_key[(t.id, scenario)], planned_sites=plan_sites,
                            centre_places=centre_places, expand_share=expand_share,
                            k_extra=k_extra, tradeoff_time_limit=tradeoff_time_limit)
        frames += [pc.expansions, pc.sites]
        runs += pc.runs
        curves.append(pc.tradeoff)
        key = f"{t.kinds[0]}@{t.id}"
        radius_of[key] = float(radius_for(t.kinds[0]) or DEFAULT_REACH_M)
        outcomes.append(_per_capita_row(pc, by_key[(t.id, scenario)]))
    plan_sites = _concat(frames, layers.crs)
    for t in requests.standards:
        sr = standard_run(ctx, t, by_key[(t.id, scenario)], budget=budget,
                          plan_sites=plan_sites, tradeoff_time_limit=tradeoff_time_limit)
        frames.append(sr.sites)
        runs += sr.runs
        curves.append(sr.tradeoff)
        key = f"{t.kinds[0]}@{t.id}"
        counts[key], radius_of[key] = sr.ranking.sizes.get("candidates", 0), sr.radius
        outcomes.append(_standard_row(sr, by_key[(t.id, scenario)]))
    progress = planned_progress(layers, results) if scenario == "planned" else {}
    outcomes = _with_progress(outcomes, progress, plan, kinds)
    sites = _concat(frames, layers.crs)
    areas = _areas(ctx, sites, radius_of) if service_areas_ and metric == "walking" else \
        _areas(ctx, sites.iloc[:0], radius_of)
    order = {t.id: i for i, t in enumerate(plan.targets)}
    table = pd.DataFrame(outcomes, columns=list(OUTCOME_COLUMNS))
    table = table.iloc[np.argsort([order.get(t, len(order)) for t in table["target"]],
                                  kind="stable")].reset_index(drop=True)
    curve = pd.concat([c for c in curves if len(c)], ignore_index=True) if any(
        len(c) for c in curves) else pd.DataFrame(columns=list(TRADEOFF_COLUMNS))
    return SitingPlan(scenario, sites, table, runs, curve, areas, counts, budget,
                      centre_places, expand_share, progress, plan.period[1], attributes)


def _with_progress(outcomes: list[dict[str, object]], progress: dict[str, PlannedProgress],
                   plan: Plan, kinds: Sequence[str] | None) -> list[dict[str, object]]:
    """Name the planned projects on each row; add the targets they close entirely."""
    seen = {str(r["target"]) for r in outcomes}
    for row in outcomes:
        found = progress.get(str(row["target"]))
        if found is not None:
            row["planned"], row["planned_en"] = found.text(zh=True), found.text(zh=False)
    for tid, found in progress.items():
        t = plan.target(tid)
        if tid in seen or found.status_planned != "met" or t.origin == "standard" or (
                kinds is not None and not set(t.kinds) & set(kinds)):
            continue
        text = closed_text()
        outcomes.append(_row(tid, origin=t.origin, kind="+".join(t.kinds), run="",
                             metric=t.metric, sited=False, closed=True,
                             value_before=found.value_now, value_after=found.value_planned,
                             new_sites=0, expansions=0, planned=found.text(zh=True),
                             planned_en=found.text(zh=False), note=text.zh,
                             note_en=text.en))
    return outcomes


def single_model(
    layers: LayerSet, *, network: StreetNetwork, demand: gpd.GeoDataFrame, kind: str,
    model: Literal["lscp", "mclp", "pmedian"], k: int | None = None,
    radius_m: float | None = None, share: float | None = None, scenario: str = "planned",
    water: gpd.GeoDataFrame | None = None, spacing_m: float = 100.0,
    metric: Metric = "walking", weight: str = "children", time_limit: float = 60.0,
) -> tuple[SitingResult, gpd.GeoDataFrame]:
    """Run one textbook model for ``kind`` on the layers (``cfplan site --kind --model``).

    ``lscp``: the fewest new sites covering every child some site can reach (or
    ``share``), then the most children with that many. ``mclp``: the ``k`` new sites
    covering the most. ``pmedian``: the ``k`` new sites minimising the walk, with walks
    beyond ``2 × radius`` not allowed (penalised at that distance).

    Returns
    -------
    tuple
        The :class:`SitingResult` and the sites (:data:`SITE_COLUMNS`, metric CRS).

    Raises
    ------
    ValueError
        If ``k``, ``radius_m``, ``spacing_m`` or ``time_limit`` cannot be used (a NaN or
        negative radius, ``k`` below 1 …; :func:`option_problem`).
    """
    problem = option_problem(k=k, radius_m=radius_m, spacing_m=spacing_m, time_limit=time_limit)
    if problem is not None:
        raise ValueError(problem.en)
    ctx = SiteContext(layers, network, demand, scenario, water, spacing_m, metric, time_limit)
    radius = float(radius_m or radius_for(kind) or DEFAULT_REACH_M)
    cands = ctx.candidates(kind)
    reach = 2 * radius if model == "pmedian" else radius
    costs = ctx.costs(cands, radius=reach, existing=ctx.existing(kind), weight=weight)
    solver: LSCP | MCLP | PMedian
    if model == "lscp":
        total = float(costs.weights.sum())
        best = float(costs.weights[np.diff(within(costs.cost, radius).indptr) > 0].sum())
        goal = share if share is not None and share * total < best - 1e-9 else None
        solver = LSCP(costs.cost, radius=radius, share=goal, uncoverable="ignore",
                      distance_mode=costs.distance_mode, weights=costs.weights,
                      existing=costs.existing)
    elif model == "mclp":
        solver = MCLP(costs.cost, radius=radius, p=int(k or 1),
                      distance_mode=costs.distance_mode, weights=costs.weights,
                      existing=costs.existing)
    else:
        solver = PMedian(costs.cost, p=int(k or 1), unassigned_cost=reach,
                         distance_mode=costs.distance_mode, weights=costs.weights,
                         existing=costs.existing)
    result = solver.solve(time_limit=time_limit)
    sites = sites_frame(ctx, kind=kind, run=kind, origin="model", result=result, cands=cands,
                        costs=costs, radius=radius, targets=[""] * len(result.sites))
    return result, sites
