"""Per-person targets: 托位 per 1,000 residents, football pitches per 10,000, and where.

A per-person target asks for an amount, not for places: "≥ 6 托位 per 1,000 people" is
short by ``ceil(6 × population / 1,000 − places)``. What the kinds' runs already propose
counts first (8a's new 托育 centres and expansions). Then, for places (托位):

1. **expansions**: an existing centre may add up to ``expand_share`` of its stated places
   (a quarter by default); the centres of the units with the most children per place
   grow first, the last one only by what is still missing;
2. **new centres** of a stated size (``centre_places``, 60 by default) for the rest,
   placed where they bring the most children within the kind's walking radius (MCLP).

For a count (pitches), the new facilities needed are placed the same way (MCLP).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd

from cfplan.analysis.access import radius_for
from cfplan.analysis.evaluate import Result
from cfplan.analysis.plan import Target
from cfplan.analysis.selection import in_district, select
from cfplan.analysis.siting.mclp import MCLP
from cfplan.analysis.siting.result import SitingResult
from cfplan.analysis.siting.runs import (
    DEFAULT_REACH_M,
    SiteContext,
    empty_sites,
    run_record,
    sites_frame,
    tradeoff_table,
)

__all__ = ["CENTRE_PLACES", "EXPAND_SHARE", "PerCapitaRun", "expansion_rows", "per_capita_run"]

CENTRE_PLACES = 60.0
"""Places (托位) of a new 托育 centre unless stated (the demo's planned centre has 60)."""
EXPAND_SHARE = 0.25
"""An existing centre may add up to this share of its stated places."""


@dataclass
class PerCapitaRun:
    """The answer to one per-person target.

    Attributes
    ----------
    target
        The target.
    needed
        Places (or facilities) missing in the scenario before any proposal.
    from_runs
        What the kinds' runs already propose towards it (places or facilities).
    expansions
        Existing centres to expand (rows of :data:`.runs.SITE_COLUMNS`, ``action =
        "expand"``, ``places`` = places added).
    sites
        New sites (rows of :data:`.runs.SITE_COLUMNS`).
    value_after
        The target's value with everything proposed.
    result, runs, tradeoff
        The MCLP placing the new sites (None when none are needed), its record and curve.
    """

    target: Target
    needed: float
    from_runs: float
    expansions: gpd.GeoDataFrame
    sites: gpd.GeoDataFrame
    value_after: float
    result: SitingResult | None = None
    runs: list[dict[str, object]] = field(default_factory=list)
    tradeoff: pd.DataFrame = field(default_factory=pd.DataFrame)

    @property
    def added(self) -> float:
        """Places (or facilities) the expansions and new sites add."""
        return float(self.expansions["places"].sum() + self.sites["places"].sum())


def expansion_rows(ctx: SiteContext, rows: pd.DataFrame, added: np.ndarray, *, run: str,
                   target: str) -> gpd.GeoDataFrame:
    """Return existing facilities to expand as rows of :data:`.runs.SITE_COLUMNS`."""
    layers = ctx.layers
    unit_names = dict(zip(layers.units["code"].astype(str), layers.units["name"], strict=True))
    sd_of = dict(zip(layers.units["code"].astype(str), layers.units["subdistrict"].astype(str),
                     strict=True))
    sd_names = (dict(zip(layers.subdistricts["code"].astype(str), layers.subdistricts["name"],
                         strict=True)) if not layers.subdistricts.empty else {})
    units = rows["unit"].astype(object).fillna("").astype(str).to_numpy()
    capacity = pd.to_numeric(rows["capacity"], errors="coerce").fillna(0.0).to_numpy()
    return gpd.GeoDataFrame({
        "kind": rows["kind"].astype(str).to_numpy(), "run": run, "origin": "plan",
        "action": "expand", "model": "", "rank": np.arange(1, len(rows) + 1, dtype=np.int64),
        "unit_code": units, "unit_name": [str(unit_names.get(u, "")) for u in units],
        "subdistrict_code": [sd_of.get(u, "") for u in units],
        "subdistrict_name": [str(sd_names.get(sd_of.get(u, ""), "")) for u in units],
        "new_population": 0.0, "new_children": 0.0, "target": target,
        "candidate": rows["fid"].astype(str).to_numpy(),
        "name": rows["name"].astype(str).to_numpy(), "capacity": capacity + added,
        "places": np.asarray(added, np.float64), "distance_mode": "", "status": "",
    }, geometry=rows.geometry.to_numpy(), crs=layers.crs)


def _expansions(ctx: SiteContext, t: Target, missing: float, already: gpd.GeoDataFrame, *,
                run: str, expand_share: float) -> gpd.GeoDataFrame:
    """Expand existing centres (most children per place first) by up to their headroom."""
    layers = ctx.layers
    fac = layers.facilities
    sure, _ = select(fac, t.kinds, t.filters, scenario=ctx.scenario)
    sure &= in_district(layers)
    rows = fac[sure].copy()
    cap = pd.to_numeric(rows["capacity"], errors="coerce")
    rows = rows[cap.notna() & (cap > 0)]
    if rows.empty or missing <= 0:
        return expansion_rows(ctx, rows.iloc[:0], np.empty(0), run=run, target=t.id)
    cap = pd.to_numeric(rows["capacity"], errors="coerce").to_numpy(float)
    done = dict(zip(already["candidate"].astype(str), already["places"], strict=True))
    room = np.floor(expand_share * cap) - np.array([done.get(str(f), 0.0)
                                                    for f in rows["fid"]])
    kids = pd.to_numeric(layers.units["children"], errors="coerce").fillna(0.0)
    children = dict(zip(layers.units["code"].astype(str), kids, strict=True))
    unit = rows["unit"].astype(object).fillna("").astype(str)
    places = pd.Series(cap, index=rows.index).groupby(unit.to_numpy()).sum()
    need = np.array([children.get(u, 0.0) / max(float(places.get(u, 0.0)), 1.0)
                     for u in unit])
    order = np.lexsort((rows["fid"].astype(str).to_numpy(), -need))
    added = np.zeros(len(rows))
    left = missing
    for i in order:
        if left <= 0:
            break
        take = min(max(room[i], 0.0), left)
        added[i], left = take, left - take
    keep = added > 0
    picked = rows[keep].iloc[np.argsort(-need[keep], kind="stable")]
    return expansion_rows(ctx, picked, added[keep][np.argsort(-need[keep], kind="stable")],
                          run=run, target=t.id)


def per_capita_run(ctx: SiteContext, t: Target, r: Result, *, planned_sites: gpd.GeoDataFrame,
                   centre_places: float = CENTRE_PLACES, expand_share: float = EXPAND_SHARE,
                   k_extra: int = 3, tradeoff_time_limit: float = 2.0) -> PerCapitaRun:
    """Answer one per-person target: how much is missing, what expands, what is new, where.

    Parameters
    ----------
    ctx
        The siting's shared inputs (scenario, layers, network, demand).
    t, r
        The target and its result in the scenario (``r.needed``: places or facilities).
    planned_sites
        Sites the kinds' runs propose (their new sites and expansions of ``t``'s kind
        count first).
    centre_places, expand_share
        Size of a new centre, and the share of its stated places an existing centre may add.
    k_extra, tradeoff_time_limit
        The trade-off curve runs to the new sites plus ``k_extra``.

    Returns
    -------
    PerCapitaRun
        Places or facilities needed, what the other runs give, expansions, new sites.
    """
    kind = t.kinds[0]
    run = f"{kind}@{t.id}"
    places = t.capacity_field == "capacity"
    needed = float(r.needed or 0.0)
    mine = planned_sites[planned_sites["kind"] == kind]
    from_runs = float(mine["places"].fillna(0).sum()) if places else float(
        (mine["action"] == "new").sum())
    missing = max(0.0, needed - from_runs)
    expansions = _expansions(ctx, t, missing, mine[mine["action"] == "expand"], run=run,
                             expand_share=expand_share) if places else \
        expansion_rows(ctx, ctx.layers.facilities.iloc[:0], np.empty(0), run=run, target=t.id)
    missing -= float(expansions["places"].sum())
    n_new = math.ceil(missing / centre_places - 1e-9) if places else math.ceil(missing - 1e-9)
    cands = ctx.candidates(kind)
    radius = float(radius_for(kind) or DEFAULT_REACH_M)
    existing = ctx.existing(kind, t.filters, extra=mine[mine["action"] == "new"])
    costs = ctx.costs(cands, radius=radius, existing=existing)
    model = MCLP(costs.cost, radius=radius, p=max(n_new, 0), weights=costs.weights,
                 existing=costs.existing, distance_mode=costs.distance_mode)
    result, records, curve = None, [], pd.DataFrame()
    sites = empty_sites(ctx.layers.crs)
    if n_new > 0:
        result = model.solve(time_limit=ctx.time_limit)
        records = [run_record(kind, result, [t.id], radius_m=radius, run=run)]
        sites = sites_frame(ctx, kind=kind, run=run, origin="plan", result=result, cands=cands,
                            costs=costs, radius=radius, targets=[t.id] * len(result.sites),
                            capacity=centre_places if places else None)
        if not places:
            sites["places"] = 1.0
        curve = tradeoff_table(run, kind, model, k_min=n_new, k_max=n_new + k_extra,
                               radius=radius, proposed=len(result.sites), target_share=None,
                               time_limit=min(ctx.time_limit, tradeoff_time_limit),
                               targets=[t.id])
    total, population = (float(v) if isinstance(v, int | float) else 0.0
                         for v in (r.extra.get("total"), r.extra.get("population")))
    added = from_runs + float(expansions["places"].sum()) + (
        float(sites["places"].sum()) if places else float(len(sites)))
    per = t.per or 1000.0
    value_after = (total + added) / population * per if population > 0 else float("nan")
    return PerCapitaRun(t, needed, from_runs, expansions, sites, value_after, result, records,
                        curve)
