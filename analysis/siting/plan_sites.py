"""Plan-driven siting: the fewest new sites that close the plan's not-met targets, per kind.

Every not-met target that new facilities can close (metrics ``presence_per_unit``, ``count``,
``accessibility`` and ``capacity_per_unit`` with ``aggregate = "each"``) is turned into the
constraints of one model per facility kind, so that targets on the same kind are solved
together: 22a's "5 stations" and 22b's "one per 办事处" give 2 new stations, not 4.

* ``presence_per_unit`` / ``capacity_per_unit``: each unit (or 办事处) lacking the facility
  needs one new site inside it (a share target below 1: the lacking units with the most
  children first, as many as the share needs — any lacking units would do as many);
* ``count``: at least ``target - existing`` new sites;
* ``accessibility``: the share of children (or residents) within the walking radius.

Without an accessibility target the model is :class:`.models.JurisdictionCover` (``N* =
max(|R|, T - n_E)`` sites, placed to reach the most children within the kind's radius);
with one it is :class:`.models.LSCP` with a target share and the group rows, then
:class:`.models.MCLP` when a count needs more sites. A share no number of candidates can
reach is said so, and the best reachable share is solved for and reported instead.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import scipy.sparse as sp
import shapely

from cfplan.analysis.access import radius_for
from cfplan.analysis.evaluate import Result
from cfplan.analysis.plan import Filters, Plan, Target
from cfplan.analysis.selection import select
from cfplan.analysis.siting.candidates import candidate_sites
from cfplan.analysis.siting.costs import within
from cfplan.analysis.siting.inputs import LayerCosts, Metric, layer_costs, option_problem
from cfplan.analysis.siting.models import LSCP, MCLP, JurisdictionCover, PMedian
from cfplan.analysis.siting.result import SitingResult
from cfplan.geo.paths import node_distances
from cfplan.geo.service_area import service_areas
from cfplan.geo.snap import snap_points
from cfplan.geo.street_network import StreetNetwork
from cfplan.layers.kinds import FACILITY_KINDS, kind_label, measure_word
from cfplan.layers.load import LayerSet
from cfplan.layers.text import Text

__all__ = [
    "DEFAULT_REACH_M",
    "MAX_EACH_AREA",
    "MAX_NAMED",
    "SITEABLE_KINDS",
    "SITEABLE_METRICS",
    "SITE_COLUMNS",
    "KindRequest",
    "SitingPlan",
    "advice",
    "kind_requests",
    "plan_candidates",
    "propose_sites",
    "run_record",
    "single_model",
]

SITEABLE_METRICS = ("presence_per_unit", "count", "accessibility", "capacity_per_unit")
SITEABLE_KINDS = ("children_home", "protection_station", "parent_school", "childcare",
                  "kindergarten", "primary_school", "middle_school", "park", "play_facility",
                  "library", "football_pitch", "activity_centre", "sports_park")
"""Kinds a plan closes by building: the others (child-friendly designations of blocks,
enterprises, hospitals …) are met by certifying what exists, not by new sites."""
MAX_EACH_AREA = 30
"""A run proposing more sites gets one service area for all of them (``rank`` 0)."""
MAX_NAMED = 12
"""建设建议 name at most this many places per target, then say how many in all."""
DEFAULT_REACH_M = 500.0
"""Walking radius (m) for placing and reporting a kind that has none (10-minute circle)."""
SITE_COLUMNS = ("kind", "run", "model", "rank", "unit_code", "unit_name", "subdistrict_code",
                "subdistrict_name", "new_population", "new_children", "target", "candidate",
                "capacity", "distance_mode", "status")
_DESIGNATION_FILTERS = ("child_friendly", "name", "attribute", "near_kind")
Level = Literal["unit", "subdistrict"]


@dataclass
class KindRequest:
    """What the not-met targets on one kind ask of new sites.

    Attributes
    ----------
    kind
        The facility kind.
    standard
        Whether the targets are national standards (``origin = "standard"``): solved apart
        from the plan's own targets on the kind, as a reference.
    targets
        The targets solved together, in plan order.
    level
        ``unit`` or ``subdistrict``: the level of the jurisdiction rows (None: none).
    required
        Codes of the units/subdistricts that must each get a new site.
    count_needed
        New sites a count target needs at least (0: none).
    access
        The accessibility target, when one is not met.
    capacity
        Places a new site must offer (``capacity_per_unit``), else None.
    serves
        Per required code, the ids of the targets it serves.
    """

    kind: str
    standard: bool = False
    targets: list[Target] = field(default_factory=list)
    level: Level | None = None
    required: list[str] = field(default_factory=list)
    count_needed: int = 0
    access: Target | None = None
    capacity: float | None = None
    serves: dict[str, list[str]] = field(default_factory=dict)


@dataclass(frozen=True, eq=False)
class SitingPlan:
    """The proposed sites for a plan's not-met targets in one scenario.

    Attributes
    ----------
    scenario
        ``current`` or ``planned``: which facilities are fixed.
    sites
        One row per proposed site (:data:`SITE_COLUMNS` and Point geometry), metric CRS,
        by run (kind, or ``"<kind>@standard"``) in plan order, then rank.
    outcomes
        One row per target considered: ``target``, ``kind``, ``metric``, ``closed``
        (bool), ``value_before``, ``value_after``, ``new_sites``, ``reachable`` (whether
        any number of candidates can meet it), ``best_value`` and ``note`` (Chinese) /
        ``note_en``; targets siting cannot close say why.
    runs
        One record per model solved (``siting.json``): kind, model, targets, status,
        objective, bound, gap, solver, seconds, sizes, distance_mode, message.
    tradeoff
        Per run, ``k = 1..K`` new sites: ``run``, ``kind``, ``k``, ``covered`` (weight within the
        radius, existing facilities included), ``share`` (0–1), ``marginal_gain``,
        ``status``, ``radius_m``, ``target_share`` (the plan's, or NaN) and ``proposed``
        (the number of sites proposed).
    service_areas
        One walking service area per proposed site (``kind``, ``run``, ``rank``,
        ``cutoff_m``), metric CRS; a run of more than :data:`MAX_EACH_AREA` sites has one
        for all of them (``rank`` 0).
    candidates
        Number of candidate sites considered per kind.
    """

    scenario: str
    sites: gpd.GeoDataFrame
    outcomes: pd.DataFrame
    runs: list[dict[str, object]]
    tradeoff: pd.DataFrame
    service_areas: gpd.GeoDataFrame
    candidates: dict[str, int]


# --------------------------------------------------------------------------- requests


def _why_not(t: Target) -> Text | None:
    """Why new sites cannot close ``t`` (None: they can)."""
    if len(t.kinds) != 1:
        return Text("多类设施合计的目标，不按单一类别选址", "a target over several kinds: not sited")
    kind = t.kinds[0]
    if kind not in SITEABLE_KINDS:
        return Text(f"{kind_label(kind)}靠认定或改造达成，不靠新建选址",
                    f"{kind_label(kind, lang='en')}: met by designation, not by new sites")
    used = [f for f in _DESIGNATION_FILTERS if getattr(t.filters, f) is not None]
    if used and t.metric != "accessibility":
        return Text(f"目标按设施属性（{', '.join(used)}）计数，靠认定或改造达成",
                    f"counts facilities by attribute ({', '.join(used)}): met by "
                    "designation or renovation, not by new sites")
    if t.metric == "capacity_per_unit" and t.aggregate != "each":
        return Text("平均容量目标，不按选址处理", "a mean-capacity target: not sited")
    return None


def _children_by(layers: LayerSet, level: Level) -> dict[str, float]:
    units = layers.units
    kids = pd.to_numeric(units["children"], errors="coerce").fillna(0.0)
    key = units["code"] if level == "unit" else units["subdistrict"]
    return kids.groupby(key.astype(str)).sum().to_dict()


def kind_requests(plan: Plan, layers: LayerSet, results: Sequence[Result], *,
                  scenario: str = "current", kinds: Sequence[str] | None = None
                  ) -> tuple[dict[str, KindRequest], list[dict[str, object]]]:
    """Group the not-met targets of ``scenario`` that siting can close by kind.

    The plan's own targets on a kind are solved together; national standards
    (``origin = "standard"``) on it apart (key ``"<kind>@standard"``), so that a reference
    check never inflates the plan's answer.

    Returns
    -------
    tuple
        ``{key: KindRequest}`` in plan order, and one outcome row per target that siting
        cannot close (``target``, ``kind``, ``metric``, ``closed`` False, ``note``,
        ``note_en``).
    """
    requests: dict[str, KindRequest] = {}
    skipped: list[dict[str, object]] = []
    for r in results:
        t = r.target
        if r.scenario != scenario or r.status != "not_met" or t.metric not in SITEABLE_METRICS:
            continue
        if kinds is not None and not set(t.kinds) & set(kinds):
            continue
        why = _why_not(t)
        standard = t.origin == "standard"
        key = f"{t.kinds[0]}@standard" if standard else t.kinds[0]
        req = (requests.setdefault(key, KindRequest(t.kinds[0], standard))
               if why is None else None)
        if req is not None and t.metric in ("presence_per_unit", "capacity_per_unit"):
            level: Level = "subdistrict" if t.unit_level == "subdistrict" else "unit"
            if req.level not in (None, level):
                why = Text("同一类设施的目标分属社区与办事处两级，本项未合并求解",
                           "targets of this kind at both unit and subdistrict level: this "
                           "one is not solved with the others")
            else:
                req.level = level
                lacking = [str(c) for c in r.failing]
                need = int(r.needed or 0)
                if need < len(lacking):
                    kids = _children_by(layers, level)
                    lacking = sorted(lacking, key=lambda c: (-kids.get(c, 0.0), c))[:need]
                for code in lacking:
                    if code not in req.required:
                        req.required.append(code)
                    req.serves.setdefault(code, []).append(t.id)
                if t.metric == "capacity_per_unit":
                    req.capacity = max(req.capacity or 0.0, float(t.capacity or 0.0))
        elif req is not None and t.metric == "count":
            req.count_needed = max(req.count_needed, int(r.needed or 0))
        elif req is not None and t.metric == "accessibility":
            if req.access is not None:
                why = Text("同类设施已有一项可达性目标参与求解",
                           "another accessibility target of this kind is solved")
            else:
                req.access = t
        if why is not None:
            skipped.append({"target": t.id, "kind": "+".join(t.kinds), "run": "",
                            "metric": t.metric,
                            "closed": False, "note": why.zh, "note_en": why.en})
            continue
        assert req is not None
        req.targets.append(t)
    return {k: v for k, v in requests.items() if v.targets}, skipped


# --------------------------------------------------------------------------- candidates


def plan_candidates(layers: LayerSet, network: StreetNetwork, kind: str, *,
                    spacing_m: float = 100.0, water: gpd.GeoDataFrame | None = None,
                    generated: gpd.GeoDataFrame | None = None) -> gpd.GeoDataFrame:
    """Return the candidate sites for ``kind``.

    The ``[layers.candidates]`` rows of this kind or of no kind, when there are any; else
    street nodes inside each unit thinned to ``spacing_m``, never in water
    (:func:`.candidates.candidate_sites`; pass ``generated`` to reuse them).

    Returns
    -------
    geopandas.GeoDataFrame
        Points in the layers' CRS with ``candidate`` (0..n-1), ``fid``, ``unit``,
        ``subdistrict`` and ``capacity`` (NaN: built to the need).
    """
    given = layers.candidates
    if not given.empty:
        rows = given[given["kind"].isna() | (given["kind"] == kind)].reset_index(drop=True)
        if len(rows):
            sub = dict(zip(layers.units["code"], layers.units["subdistrict"], strict=True))
            unit = rows["unit"].astype(object)
            return gpd.GeoDataFrame({
                "candidate": np.arange(len(rows)),
                "fid": rows["fid"].astype(str).to_numpy(),
                "name": rows["name"].astype(object).to_numpy(),
                "unit": unit.fillna("").astype(str).to_numpy(),
                "subdistrict": unit.map(sub).fillna("").astype(str).to_numpy(),
                "capacity": rows["capacity"].astype(float).to_numpy(),
            }, geometry=rows.geometry.representative_point().to_numpy(), crs=layers.crs)
    if generated is None:
        generated = candidate_sites(network, layers.units, spacing_m=spacing_m, water=water)
    out = generated.copy()
    out["fid"] = "node-" + out["node_id"].astype(str)
    out["capacity"] = np.nan
    return out


# --------------------------------------------------------------------------- solving


def _existing(layers: LayerSet, kind: str, filters: Filters, scenario: str) -> gpd.GeoDataFrame:
    sure, _ = select(layers.facilities, (kind,), filters, scenario=scenario)
    return layers.facilities[sure].reset_index(drop=True)


def run_record(kind: str, result: SitingResult, targets: Sequence[str] = (), *,
               radius_m: float | None = None) -> dict[str, object]:
    """Return one model run as a ``siting.json`` record (no NaN: unknown values are None).

    Returns
    -------
    dict
        ``kind``, ``model``, ``targets``, ``status``, ``optimal``, ``objective``, ``bound``,
        ``gap``, ``sense``, ``solver``, ``seconds``, ``sizes`` (before and after shrinking),
        ``distance_mode``, ``radius_m``, ``sites``, ``message``.
    """
    def num(v: float) -> float | None:
        return float(v) if math.isfinite(v) else None

    return {"kind": kind, "model": result.model, "targets": list(targets),
            "status": result.status, "optimal": result.optimal,
            "objective": num(result.objective), "bound": num(result.bound),
            "gap": num(result.gap), "sense": result.sense, "solver": result.solver,
            "seconds": {k: round(float(v), 4) for k, v in result.seconds.items()},
            "sizes": {k: int(v) for k, v in result.sizes.items()},
            "distance_mode": result.distance_mode, "radius_m": radius_m,
            "sites": len(result.sites), "message": result.message}


def _reachable_weight(costs: LayerCosts, radius: float) -> float:
    cover = within(costs.cost, radius)
    return float(costs.weights[np.diff(cover.indptr) > 0].sum())


@dataclass
class _Solved:
    result: SitingResult
    runs: list[dict[str, object]]
    best_share: float | None
    share_goal: float | None


def _solve_kind(req: KindRequest, costs: LayerCosts, *, radius: float, time_limit: float
                ) -> _Solved:
    """Solve one kind's request (see the module docstring)."""
    ids = [t.id for t in req.targets]
    options = {"weights": costs.weights, "existing": costs.existing,
               "distance_mode": costs.distance_mode}
    groups = costs.groups if costs.groups is not None else np.full(costs.cost.shape[1], "",
                                                                   dtype=object)
    runs = []
    if req.access is None:
        model = JurisdictionCover(costs.cost, radius=radius, groups=groups,
                                  required_groups=req.required, count_target=req.count_needed,
                                  existing_count=0, **options)  # type: ignore[arg-type]
        result = model.solve(time_limit=time_limit)
        runs.append(run_record(req.kind, result, ids, radius_m=radius))
        return _Solved(result, runs, None, None)
    total = float(costs.weights.sum())
    goal = float(req.access.low)
    best = _reachable_weight(costs, radius) / total if total > 0 else 1.0
    share = min(goal, best * (1 - 1e-9))
    lscp = LSCP(costs.cost, radius=radius, share=share, groups=groups,
                required_groups=req.required, **options)
    result = lscp.solve(time_limit=time_limit)
    runs.append(run_record(req.kind, result, ids, radius_m=radius))
    if result.status != "infeasible" and req.count_needed > len(result.sites):
        mclp = MCLP(costs.cost, radius=radius, p=req.count_needed, at_least=req.count_needed,
                    groups=groups, required_groups=req.required,
                    **options)
        result = mclp.solve(time_limit=time_limit, start=[int(j) for j in result.sites])
        runs.append(run_record(req.kind, result, ids, radius_m=radius))
    return _Solved(result, runs, best, goal)


def _newly_reached(costs: LayerCosts, radius: float, ranked: np.ndarray,
                   demand: gpd.GeoDataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Residents and children each ranked site newly brings within ``radius``."""
    cover = within(costs.cost, radius)
    reached = np.diff(sp.csr_array(cover[:, costs.existing]).indptr) > 0
    pop = demand["population"].to_numpy(np.float64)
    kids = demand["children"].to_numpy(np.float64)
    csc = sp.csc_array(cover)
    new_pop, new_kids = [], []
    for j in ranked:
        rows = csc.indices[csc.indptr[j]:csc.indptr[j + 1]]
        rows = rows[~reached[rows]]
        new_pop.append(float(pop[rows].sum()))
        new_kids.append(float(kids[rows].sum()))
        reached[rows] = True
    return np.asarray(new_pop), np.asarray(new_kids)


def _tradeoff(kind: str, costs: LayerCosts, radius: float, *, proposed: int,
              target_share: float | None, k_max: int, time_limit: float) -> pd.DataFrame:
    """Coverage within ``radius`` for ``k = 1..k_max`` new sites (MCLP, no group rows)."""
    k_max = min(k_max, costs.n_candidates)
    if k_max < 1:
        return pd.DataFrame()
    mclp = MCLP(costs.cost, radius=radius, p=k_max, weights=costs.weights,
                existing=costs.existing, distance_mode=costs.distance_mode)
    table = mclp.tradeoff(k_max, time_limit=time_limit)
    total = float(costs.weights.sum())
    return pd.DataFrame({
        "run": kind, "kind": kind.split("@")[0], "k": table["k"], "covered": table["objective"],
        "share": table["objective"] / total if total > 0 else np.nan,
        "marginal_gain": table["marginal_gain"], "status": table["status"],
        "radius_m": radius,
        "target_share": np.nan if target_share is None else target_share,
        "proposed": proposed,
    })


def _site_areas(network: StreetNetwork, sites: gpd.GeoDataFrame, radius: float, *,
                each: bool = True) -> list[shapely.Geometry]:
    """Return the walking service area within ``radius`` of each site (or of all, as one)."""
    groups = ([np.array([p]) for p in sites.geometry.to_numpy()] if each
              else [sites.geometry.to_numpy()])
    out = []
    for points in groups:
        snapped = snap_points(network, points)
        nodes = node_distances(network, snapped, limit_m=radius)
        area = service_areas(network, nodes, sources=snapped, cutoffs_m=[radius],
                             minutes=[radius / 60.0])
        out.append(area.geometry.iloc[0])
    return out


def _sites_frame(kind: str, result: SitingResult, cands: gpd.GeoDataFrame, req: KindRequest,
                 layers: LayerSet, new_pop: np.ndarray, new_kids: np.ndarray
                 ) -> gpd.GeoDataFrame:
    rows = cands.iloc[result.sites].reset_index(drop=True)
    unit_names = dict(zip(layers.units["code"].astype(str), layers.units["name"], strict=True))
    sd_names = dict(zip(layers.subdistricts["code"].astype(str), layers.subdistricts["name"],
                        strict=True)) if not layers.subdistricts.empty else {}
    always = [t.id for t in req.targets if t.metric in ("count", "accessibility")]
    targets = []
    for u, s in zip(rows["unit"], rows["subdistrict"], strict=True):
        code = str(u) if req.level == "unit" else str(s)
        ids = [t.id for t in req.targets if t.id in req.serves.get(code, []) or t.id in always]
        targets.append(",".join(ids))
    capacity = rows["capacity"].to_numpy(np.float64)
    if req.capacity is not None:
        capacity = np.where(np.isnan(capacity), req.capacity, capacity)
    return gpd.GeoDataFrame({
        "kind": kind, "run": f"{kind}@standard" if req.standard else kind,
        "model": result.model, "rank": np.arange(1, len(rows) + 1),
        "unit_code": rows["unit"].astype(str).to_numpy(),
        "unit_name": [str(unit_names.get(str(u), "")) for u in rows["unit"]],
        "subdistrict_code": rows["subdistrict"].astype(str).to_numpy(),
        "subdistrict_name": [str(sd_names.get(str(s), "")) for s in rows["subdistrict"]],
        "new_population": np.round(new_pop, 1), "new_children": np.round(new_kids, 1),
        "target": targets, "candidate": rows["fid"].astype(str).to_numpy(),
        "capacity": capacity, "distance_mode": result.distance_mode, "status": result.status,
    }, geometry=rows.geometry.to_numpy(), crs=cands.crs)


def _value_after(t: Target, r: Result, n_new: int, served_codes: set[str],
                 share_after: float | None) -> float | None:
    if t.metric == "count":
        return float(r.value or 0.0) + n_new
    if t.metric == "accessibility":
        return share_after
    if t.metric in ("presence_per_unit", "capacity_per_unit"):
        names = r.extra.get("names", {})
        codes = set(names) if isinstance(names, dict) else set()
        n = len(codes)
        now = codes - set(r.failing)
        return (len(now) + len(set(r.failing) & served_codes)) / n if n else None
    return None


def propose_sites(
    plan: Plan, layers: LayerSet, results: Sequence[Result], *, network: StreetNetwork,
    demand: gpd.GeoDataFrame, scenario: str = "current", water: gpd.GeoDataFrame | None = None,
    spacing_m: float = 100.0, metric: Metric = "walking", time_limit: float = 60.0,
    kinds: Sequence[str] | None = None, k_extra: int = 3, k_max: int = 10,
    tradeoff_time_limit: float = 2.0, service_areas_: bool = True,
) -> SitingPlan:
    """Propose the fewest new sites that close the plan's not-met targets in ``scenario``.

    Parameters
    ----------
    plan, layers, results
        The plan, its layers (metric CRS) and the evaluation (:func:`evaluate_plan`).
    network
        The walking network the access was measured on (``Assessment.access.network``).
    demand
        Demand points (``Assessment.access.demand``) with ``population`` and ``children``.
    scenario
        ``current`` or ``planned``: the facilities of that scenario are fixed and kept.
    water
        Water areas: generated candidates are never inside them.
    spacing_m
        Spacing of generated candidates within a unit (m).
    metric
        ``walking`` (default) or ``euclidean`` (straight line, labelled in every output).
    time_limit
        Seconds HiGHS may spend on each model.
    kinds
        Only these kinds (default: every kind with a target siting can close).
    k_extra, k_max
        The trade-off curve runs to the proposed number of sites plus ``k_extra``, at
        most ``k_max``; each of its solves may take ``tradeoff_time_limit`` seconds (a
        point stopped by it has status ``time_limit`` in the table).
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
    requests, outcomes = kind_requests(plan, layers, results, scenario=scenario, kinds=kinds)
    by_key = {(r.target.id, r.scenario): r for r in results}
    generated = None
    frames, areas, runs, curves = [], [], [], []
    counts: dict[str, int] = {}
    for key, req in requests.items():
        kind = req.kind
        given = layers.candidates
        if generated is None and (given.empty or not (
                given["kind"].isna() | (given["kind"] == kind)).any()):
            generated = candidate_sites(network, layers.units, spacing_m=spacing_m,
                                        water=water)
        cands = plan_candidates(layers, network, kind, spacing_m=spacing_m, water=water,
                                generated=generated)
        if req.capacity is not None:  # a given capacity must meet the need
            cap = cands["capacity"].to_numpy(np.float64)
            cands = cands[np.isnan(cap) | (cap >= req.capacity - 1e-9)].reset_index(drop=True)
        counts[key] = len(cands)
        radius = (float(req.access.radius_m or radius_for(kind) or DEFAULT_REACH_M)
                  if req.access is not None else float(radius_for(kind) or DEFAULT_REACH_M))
        filters = req.access.filters if req.access is not None else Filters()
        existing = _existing(layers, kind, filters, scenario)
        weight = req.access.population if req.access is not None else "children"
        costs = layer_costs(network if metric == "walking" else None, demand, cands,
                            max_distance_m=radius, existing=existing if len(existing) else None,
                            weight=weight, group_column=req.level, metric=metric)
        solved = _solve_kind(req, costs, radius=radius, time_limit=time_limit)
        result = solved.result
        runs += [dict(r, run=key) for r in solved.runs]
        infeasible = result.status == "infeasible"
        new_pop, new_kids = _newly_reached(costs, radius, result.sites, demand)
        sites = _sites_frame(kind, result, cands, req, layers, new_pop, new_kids)
        frames.append(sites)
        if service_areas_ and len(sites) and metric == "walking":
            each = len(sites) <= MAX_EACH_AREA
            polygons = _site_areas(network, sites, radius, each=each)
            areas.append(gpd.GeoDataFrame(
                {"kind": kind, "run": key,
                 "rank": sites["rank"].to_numpy() if each else np.zeros(1, np.int64),
                 "cutoff_m": radius}, geometry=polygons, crs=layers.crs))
        curves.append(_tradeoff(key, costs, radius, proposed=len(sites),
                                target_share=solved.share_goal,
                                k_max=min(max(len(sites), 1) + k_extra, k_max),
                                time_limit=min(time_limit, tradeoff_time_limit)))
        served_codes = {str(c) for c in (sites["unit_code"] if req.level == "unit"
                                         else sites["subdistrict_code"])}
        total = float(costs.weights.sum())
        share_after = (result.covered / total if total > 0 and not infeasible else None)
        for t in req.targets:
            r = by_key[(t.id, scenario)]
            reachable = not infeasible and not (
                t.metric == "accessibility" and solved.best_share is not None
                and solved.share_goal is not None
                and solved.best_share < solved.share_goal - 1e-9)
            after = None if infeasible else _value_after(t, r, len(sites), served_codes,
                                                         share_after)
            note = Text("", "")
            if infeasible:
                note = Text(f"无解：{result.message}", f"infeasible: {result.message}")
            elif not reachable:
                best = solved.best_share or 0.0
                note = Text(f"候选点无论多少都达不到目标；最多可达 {best:.1%}",
                            f"no number of candidate sites can meet it; the best reachable "
                            f"is {best:.1%}")
            outcomes.append({"target": t.id, "kind": kind, "run": key, "metric": t.metric,
                             "closed": bool(reachable), "value_before": r.value,
                             "value_after": after, "new_sites": len(sites),
                             "reachable": reachable,
                             "best_value": solved.best_share if t.metric == "accessibility"
                             else after, "note": note.zh, "note_en": note.en})
    columns = [*SITE_COLUMNS, "geometry"]
    sites_all = (gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), geometry="geometry",
                                  crs=layers.crs)[columns] if frames
                 else gpd.GeoDataFrame({c: [] for c in SITE_COLUMNS}, geometry=[],
                                       crs=layers.crs))
    areas_all = (gpd.GeoDataFrame(pd.concat(areas, ignore_index=True), geometry="geometry",
                                  crs=layers.crs) if areas
                 else gpd.GeoDataFrame({"kind": [], "run": [], "rank": [], "cutoff_m": []},
                                       geometry=[],
                                       crs=layers.crs))
    order = {t.id: i for i, t in enumerate(plan.targets)}
    table = pd.DataFrame(outcomes, columns=["target", "kind", "run", "metric", "closed",
                                            "value_before", "value_after", "new_sites",
                                            "reachable", "best_value", "note", "note_en"])
    table = table.iloc[np.argsort([order.get(t, len(order)) for t in table["target"]],
                                  kind="stable")].reset_index(drop=True)
    curve = pd.concat([c for c in curves if len(c)], ignore_index=True) if any(
        len(c) for c in curves) else pd.DataFrame()
    return SitingPlan(scenario, sites_all, table, runs, curve, areas_all, counts)


def single_model(
    layers: LayerSet, *, network: StreetNetwork, demand: gpd.GeoDataFrame, kind: str,
    model: Literal["lscp", "mclp", "pmedian"], k: int | None = None,
    radius_m: float | None = None, share: float | None = None, scenario: str = "current",
    water: gpd.GeoDataFrame | None = None, spacing_m: float = 100.0,
    metric: Metric = "walking", weight: str = "children", time_limit: float = 60.0,
) -> tuple[SitingResult, gpd.GeoDataFrame]:
    """Run one textbook model for ``kind`` on the layers (``cfplan site --kind --model``).

    ``lscp``: the fewest new sites covering every child within reach (or ``share``); a
    demand no candidate reaches is left out and said in the message. ``mclp``: the ``k``
    new sites covering the most. ``pmedian``: the ``k`` new sites minimising the walk, with
    walks beyond ``2 × radius`` not allowed (penalised at that distance).

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
    radius = float(radius_m or radius_for(kind) or DEFAULT_REACH_M)
    cands = plan_candidates(layers, network, kind, spacing_m=spacing_m, water=water)
    existing = _existing(layers, kind, Filters(), scenario)
    reach = 2 * radius if model == "pmedian" else radius
    costs = layer_costs(network if metric == "walking" else None, demand, cands,
                        max_distance_m=reach, existing=existing if len(existing) else None,
                        weight=weight, metric=metric)
    options = {"weights": costs.weights, "existing": costs.existing,
               "distance_mode": costs.distance_mode}
    solver: LSCP | MCLP | PMedian
    if model == "lscp":
        total = float(costs.weights.sum())
        best = _reachable_weight(costs, radius) / total if total > 0 else 1.0
        solver = LSCP(costs.cost, radius=radius, share=min(share or 1.0, best * (1 - 1e-9)),
                      **options)
    elif model == "mclp":
        solver = MCLP(costs.cost, radius=radius, p=int(k or 1), **options)  # type: ignore[arg-type]
    else:
        solver = PMedian(costs.cost, p=int(k or 1), unassigned_cost=reach,
                         **options)
    result = solver.solve(time_limit=time_limit)
    new_pop, new_kids = _newly_reached(costs, radius, result.sites, demand)
    req = KindRequest(kind)
    sites = _sites_frame(kind, result, cands, req, layers, new_pop, new_kids)
    return result, sites


# --------------------------------------------------------------------------- advice


def advice(siting: SitingPlan, plan: Plan, *, lang: str = "zh",
           term: str | None = None) -> list[tuple[str, str]]:
    """Return the 建设建议: per target the sites closing it, as (target label, sentence).

    ``"新建 2 所未成年人保护工作站：白杨办事处（白杨社区）、望湖办事处（望湖社区）"`` for a
    per-办事处 target (the unit holding each site in brackets), ``"新建 4 个儿童之家：李庄村
    （…办事处）…"`` for a per-unit one, plus any target no number of sites can meet.

    Returns
    -------
    list of tuple
        ``(target id and title, sentence)`` in plan order.
    """
    zh = lang == "zh"
    term = term or plan.subdistrict_term
    out = []
    sites = siting.sites
    for row in siting.outcomes.itertuples(index=False):
        if pd.isna(row.new_sites) or str(row.kind) not in FACILITY_KINDS:
            continue  # a target siting cannot close
        t = plan.target(str(row.target))
        label = f"{t.id} {t.text('title', lang)}"
        mine = sites[(sites["run"] == row.run)
                     & sites["target"].map(lambda s, i=t.id: i in str(s).split(","))]
        if not row.closed and not len(mine) and not row.note:
            continue
        kind = str(row.kind)
        per_sd = t.metric in ("presence_per_unit", "capacity_per_unit") and \
            t.unit_level == "subdistrict"
        places: dict[str, int] = {}
        for s in mine.itertuples(index=False):
            unit, sd = str(s.unit_name or s.unit_code), str(s.subdistrict_name or
                                                            s.subdistrict_code)
            if per_sd:
                place = f"{sd}（{unit}）" if zh else f"{sd} ({unit})"
            else:
                place = f"{unit}（{sd}）" if zh else f"{unit} ({sd})"
            places[place] = places.get(place, 0) + 1
        names = [p if c == 1 else (f"{p} {c} 处" if zh else f"{p} ×{c}")
                 for p, c in places.items()]
        if len(names) > MAX_NAMED:
            rest = len(names) - MAX_NAMED
            names = [*names[:MAX_NAMED], f"等 {len(places)} 处" if zh else f"{rest} more"]
        n = len(mine)
        cap = mine["capacity"].dropna()
        if zh:
            text = f"新建 {n} {measure_word([kind])}{kind_label(kind)}" + (
                f"（每处不少于 {cap.min():g} 托位）" if len(cap) and t.metric ==
                "capacity_per_unit" else "") + (f"：{'、'.join(names)}" if names else "")
        else:
            noun = FACILITY_KINDS[kind].en if n == 1 else FACILITY_KINDS[kind].plural()
            text = f"build {n} new {noun.lower()}" + (
                f" (each of at least {cap.min():g} places)" if len(cap) and t.metric ==
                "capacity_per_unit" else "") + (f": {', '.join(names)}" if names else "")
        note = row.note if zh else row.note_en
        if note:
            text += ("；" if zh else "; ") + str(note)
        elif not row.closed:
            continue
        out.append((label, text))
    return out
