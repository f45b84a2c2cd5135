"""What every plan-driven siting run shares: candidates, costs, the sites table, the curve."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import scipy.sparse as sp
import shapely

from cfplan.analysis.plan import Filters
from cfplan.analysis.selection import select
from cfplan.analysis.siting.candidates import candidate_sites
from cfplan.analysis.siting.costs import within
from cfplan.analysis.siting.inputs import LayerCosts, Metric, layer_costs
from cfplan.analysis.siting.mclp import MCLP
from cfplan.analysis.siting.result import SitingResult
from cfplan.geo.paths import node_distances
from cfplan.geo.service_area import service_areas
from cfplan.geo.snap import snap_points
from cfplan.geo.street_network import StreetNetwork
from cfplan.layers.load import LayerSet

__all__ = ["DEFAULT_REACH_M", "MAX_EACH_AREA", "SITE_COLUMNS", "TRADEOFF_COLUMNS", "SiteContext",
           "empty_sites", "newly_reached", "plan_candidates", "run_record", "site_areas", "sites_frame",
           "tradeoff_table"]

DEFAULT_REACH_M = 500.0
"""Walking radius (m) for placing and reporting a kind that has none (10-minute circle)."""
MAX_EACH_AREA = 30
"""A run proposing more sites gets one service area for all of them (``rank`` 0)."""
SITE_COLUMNS = ("kind", "run", "origin", "action", "model", "rank", "unit_code", "unit_name",
                "subdistrict_code", "subdistrict_name", "new_population", "new_children",
                "target", "candidate", "name", "capacity", "places", "distance_mode", "status")
_FLOAT_COLUMNS = ("new_population", "new_children", "capacity", "places")
TRADEOFF_COLUMNS = ("run", "kind", "targets", "k", "covered", "share", "marginal_gain",
                    "status", "radius_m", "target_share", "proposed")


def plan_candidates(layers: LayerSet, network: StreetNetwork, kind: str, *,
                    spacing_m: float = 100.0, water: gpd.GeoDataFrame | None = None,
                    generated: gpd.GeoDataFrame | None = None) -> gpd.GeoDataFrame:
    """Return the candidate sites for ``kind`` (the same in every scenario).

    The ``[layers.candidates]`` rows of this kind or of no kind, when there are any; else
    street nodes inside each unit thinned to ``spacing_m``, never in water
    (:func:`.candidates.candidate_sites`; pass ``generated`` to reuse them).

    Returns
    -------
    geopandas.GeoDataFrame
        Points in the layers' CRS with ``candidate`` (0..n-1), ``fid``, ``name``, ``unit``,
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
                "name": rows["name"].astype(object).fillna("").to_numpy(),
                "unit": unit.fillna("").astype(str).to_numpy(),
                "subdistrict": unit.map(sub).fillna("").astype(str).to_numpy(),
                "capacity": rows["capacity"].astype(float).to_numpy(),
            }, geometry=rows.geometry.representative_point().to_numpy(), crs=layers.crs)
    if generated is None:
        generated = candidate_sites(network, layers.units, spacing_m=spacing_m, water=water)
    out = generated.copy()
    out["fid"] = "node-" + out["node_id"].astype(str)
    out["name"] = ""
    out["capacity"] = np.nan
    return out


@dataclass
class SiteContext:
    """The inputs every run of one plan-driven siting shares.

    Attributes
    ----------
    layers, network, demand
        The layers (metric CRS), the walking network and the demand points.
    scenario
        ``current`` or ``planned``: whose facilities are fixed.
    water, spacing_m, metric, time_limit
        As in :func:`.plan_sites.propose_sites`.
    """

    layers: LayerSet
    network: StreetNetwork
    demand: gpd.GeoDataFrame
    scenario: str
    water: gpd.GeoDataFrame | None = None
    spacing_m: float = 100.0
    metric: Metric = "walking"
    time_limit: float = 60.0
    _generated: gpd.GeoDataFrame | None = field(default=None, repr=False)

    def candidates(self, kind: str) -> gpd.GeoDataFrame:
        """Return the candidates of ``kind``: the same set in every scenario."""
        given = self.layers.candidates
        needs_nodes = given.empty or not (given["kind"].isna() | (given["kind"] == kind)).any()
        if needs_nodes and self._generated is None:
            self._generated = candidate_sites(self.network, self.layers.units,
                                              spacing_m=self.spacing_m, water=self.water)
        return plan_candidates(self.layers, self.network, kind, spacing_m=self.spacing_m,
                               water=self.water, generated=self._generated)

    def existing(self, kind: str, filters: Filters | None = None,
                 extra: gpd.GeoDataFrame | None = None) -> gpd.GeoDataFrame:
        """Return the facilities of ``kind`` that count in the scenario, plus ``extra`` sites."""
        fac = self.layers.facilities
        sure, _ = select(fac, (kind,), filters or Filters(), scenario=self.scenario)
        rows = fac[sure].reset_index(drop=True)[["fid", "kind", "geometry"]]
        if extra is not None and len(extra):
            more = gpd.GeoDataFrame({"fid": extra["candidate"].astype(str).to_numpy(),
                                     "kind": kind}, geometry=extra.geometry.to_numpy(),
                                    crs=fac.crs)
            rows = gpd.GeoDataFrame(pd.concat([rows, more], ignore_index=True),
                                    geometry="geometry", crs=fac.crs)
        return gpd.GeoDataFrame(rows, geometry="geometry", crs=fac.crs)

    def costs(self, cands: gpd.GeoDataFrame, *, radius: float, existing: gpd.GeoDataFrame,
              weight: str = "children", group_column: str | None = None) -> LayerCosts:
        """Return the walking (or straight-line) costs of the demand to candidates and existing."""
        return layer_costs(self.network if self.metric == "walking" else None, self.demand,
                           cands, max_distance_m=radius,
                           existing=existing if len(existing) else None, weight=weight,
                           group_column=group_column, metric=self.metric,
                           entrances=self.layers.entrances)


def run_record(kind: str, result: SitingResult, targets: Sequence[str] = (), *,
               radius_m: float | None = None, run: str | None = None) -> dict[str, object]:
    """Return one model run as a ``siting.json`` record (no NaN: unknown values are None).

    Returns
    -------
    dict
        ``run``, ``kind``, ``model``, ``targets``, ``status``, ``optimal``, ``objective``,
        ``bound``, ``gap``, ``sense``, ``stages`` (each stage's status, objective, bound),
        ``solver``, ``seconds``, ``sizes`` (before and after shrinking), ``distance_mode``,
        ``radius_m``, ``sites``, ``covered`` and ``total_weight`` (the demand weight reached
        with the sites, existing facilities included, and in all), ``message``.
    """
    def num(v: float) -> float | None:
        return float(v) if math.isfinite(v) else None

    return {"run": run or kind, "kind": kind, "model": result.model, "targets": list(targets),
            "status": result.status, "optimal": result.optimal,
            "objective": num(result.objective), "bound": num(result.bound),
            "gap": num(result.gap), "sense": result.sense,
            "stages": [s.record() for s in result.stages], "solver": result.solver,
            "seconds": {k: round(float(v), 4) for k, v in result.seconds.items()},
            "sizes": {k: int(v) for k, v in result.sizes.items()},
            "distance_mode": result.distance_mode, "radius_m": radius_m,
            "sites": len(result.sites), "covered": num(result.covered),
            "total_weight": num(result.total_weight), "message": result.message}


def newly_reached(costs: LayerCosts, radius: float, ranked: np.ndarray,
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


def empty_sites(crs: object) -> gpd.GeoDataFrame:
    """Return a sites table with no row (:data:`SITE_COLUMNS`, Point geometry)."""
    return gpd.GeoDataFrame({c: pd.Series(dtype=float if c in _FLOAT_COLUMNS else object)
                             for c in SITE_COLUMNS}, geometry=gpd.GeoSeries([], crs=crs),
                            crs=crs)


def sites_frame(ctx: SiteContext, *, kind: str, run: str, origin: str, result: SitingResult,
                cands: gpd.GeoDataFrame, costs: LayerCosts, radius: float,
                targets: Sequence[str], capacity: float | None = None) -> gpd.GeoDataFrame:
    """Return the new sites of a run as rows of :data:`SITE_COLUMNS` (metric CRS).

    ``targets`` gives, per site in rank order, the target ids it serves (comma-joined);
    ``capacity`` the places of a new site where a candidate states none.
    """
    rows = cands.iloc[result.sites].reset_index(drop=True)
    layers = ctx.layers
    unit_names = dict(zip(layers.units["code"].astype(str), layers.units["name"], strict=True))
    sd_names = (dict(zip(layers.subdistricts["code"].astype(str), layers.subdistricts["name"],
                         strict=True)) if not layers.subdistricts.empty else {})
    new_pop, new_kids = newly_reached(costs, radius, result.sites, ctx.demand)
    places = rows["capacity"].to_numpy(np.float64)
    if capacity is not None:
        places = np.where(np.isnan(places), capacity, places)
    return gpd.GeoDataFrame({
        "kind": kind, "run": run, "origin": origin, "action": "new", "model": result.model,
        "rank": np.arange(1, len(rows) + 1, dtype=np.int64),
        "unit_code": rows["unit"].astype(str).to_numpy(),
        "unit_name": [str(unit_names.get(str(u), "")) for u in rows["unit"]],
        "subdistrict_code": rows["subdistrict"].astype(str).to_numpy(),
        "subdistrict_name": [str(sd_names.get(str(s), "")) for s in rows["subdistrict"]],
        "new_population": new_pop, "new_children": new_kids, "target": list(targets),
        "candidate": rows["fid"].astype(str).to_numpy(),
        "name": rows["name"].astype(str).to_numpy(), "capacity": places, "places": places,
        "distance_mode": result.distance_mode, "status": result.status,
    }, geometry=rows.geometry.to_numpy(), crs=cands.crs)


def tradeoff_table(run: str, kind: str, model: MCLP, *, k_min: int, k_max: int, radius: float,
                   proposed: int, target_share: float | None, time_limit: float,
                   targets: Sequence[str] = ()) -> pd.DataFrame:
    """Coverage for ``k = k_min..k_max`` new sites under the proposal's own constraints.

    ``model`` is the MCLP of the proposal (its group rows and ``at_least``), so the point
    at the proposed ``k`` is the proposal's coverage. ``marginal_gain`` is what the ``k``-th
    site adds; at a first ``k`` above 1 (fewer sites cannot meet the constraints) it is
    not defined (NaN).

    Returns
    -------
    pandas.DataFrame
        :data:`TRADEOFF_COLUMNS`, one row per ``k``.
    """
    k_max = min(k_max, len(model.candidates))
    if k_max < max(k_min, 1):
        return pd.DataFrame(columns=list(TRADEOFF_COLUMNS))
    table = model.tradeoff(k_max, k_min=k_min, time_limit=time_limit)
    total = float(model.weights.sum())
    gain = table["marginal_gain"].astype(float).copy()
    if len(table) and int(table["k"].iloc[0]) > 1:
        gain.iloc[0] = np.nan
    return pd.DataFrame({
        "run": run, "kind": kind, "targets": ",".join(targets), "k": table["k"],
        "covered": table["objective"],
        "share": table["objective"] / total if total > 0 else np.nan,
        "marginal_gain": gain, "status": table["status"],
        "radius_m": radius, "target_share": np.nan if target_share is None else target_share,
        "proposed": proposed,
    }, columns=list(TRADEOFF_COLUMNS))


def site_areas(network: StreetNetwork, sites: gpd.GeoDataFrame, radius: float, *,
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
