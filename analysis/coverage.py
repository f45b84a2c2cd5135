"""Walking coverage of a layer set in both scenarios: tables, service areas, far points."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pandas as pd

from cfplan.analysis.access import radius_for, walking_access
from cfplan.analysis.plan import Filters, Plan, Target
from cfplan.analysis.selection import SCENARIOS, select, target_key
from cfplan.geo.service_area import service_areas
from cfplan.geo.snap import SURFACE, SnapRule
from cfplan.geo.street_network import (
    ComponentReport,
    StreetNetwork,
    keep_largest_component,
    street_network,
)
from cfplan.layers.demand import demand_points
from cfplan.layers.i18n import msg
from cfplan.layers.kinds import FACILITY_KINDS, LIFE_CIRCLES_M
from cfplan.layers.load import LayerSet
from cfplan.layers.text import Text

if TYPE_CHECKING:
    import networkx as nx


@dataclass(frozen=True, eq=False)
class ScenarioCoverage:
    """Walking access in both scenarios.

    Attributes
    ----------
    coverage
        :func:`analysis.access.coverage_table` rows for each scenario, with a
        ``scenario`` column (``current`` / ``planned``).
    distances
        Per demand point and kind, the walk to the nearest facility as things stand
        (metres, with the facility's ``fid``).
    service_areas
        5/10/15-minute service areas per kind as things stand, in the layers' CRS.
    far_points
        Demand points farther than 200 m from any street (still counted).
    components
        What keeping the largest connected part of the network dropped.
    network
        The compact walking network (metric CRS).
    demand
        The demand points (metric CRS).
    """

    coverage: pd.DataFrame
    distances: pd.DataFrame
    service_areas: gpd.GeoDataFrame
    far_points: pd.DataFrame
    components: ComponentReport
    network: StreetNetwork
    demand: gpd.GeoDataFrame

    def warnings(self) -> list[Text]:
        """Return the warnings of the measurement: dropped street pieces, far demand points."""
        out = []
        if self.components.n_dropped:
            out.append(msg("warn.components", n=self.components.n_dropped,
                           nodes=self.components.nodes_dropped,
                           length=self.components.length_dropped_m))
        if len(self.far_points):
            out.append(msg("warn.far_points", n=len(self.far_points)))
        return out


def _target_coverage(
    t: Target, layers: LayerSet, network: StreetNetwork, demand: gpd.GeoDataFrame,
    scenario: str, *, entrances: gpd.GeoDataFrame | None, radii: Mapping[str, float],
    snap_rule: SnapRule | None = SURFACE,
) -> list[pd.DataFrame]:
    """Return the coverage rows of one filtered or re-radiused target.

    Rows for the facilities that surely pass, and (as scenario ``"<scenario>:best"``)
    for those that pass if missing data were favourable.
    """
    key = target_key(t)
    radius = t.radius_m if t.radius_m is not None else radius_for("+".join(t.kinds), radii)
    if radius is None:
        msg_ = f"no walking radius for target {t.id}: give radius_m"
        raise ValueError(msg_)
    sure, maybe = select(layers.facilities, t.kinds, t.filters, scenario=scenario)
    out = []
    for mask, label in ((sure, scenario), (maybe, f"{scenario}:best")):
        if label.endswith(":best") and (maybe == sure).all():
            continue
        fac = layers.facilities[mask].reset_index(drop=True)
        fac = fac.assign(kind=fac["kind"].astype(str) + f"@{t.id}")
        acc = walking_access(network, demand, fac, kinds=[key], radii={key: float(radius)},
                             entrances=entrances, snap_rule=snap_rule, unserved_share=t.low)
        out.append(acc.coverage.assign(scenario=label))
    return out


def _unknown_children(coverage: pd.DataFrame, units: gpd.GeoDataFrame,
                      no_children: pd.Series) -> pd.DataFrame:
    """Set child shares to NaN wherever a unit's child population is not known."""
    if not no_children.any():
        return coverage
    codes = set(units.loc[no_children, "code"])
    subs = set(units.loc[no_children, "subdistrict"].dropna())
    hit = ((coverage["level"] == "overall")
           | ((coverage["level"] == "subdistrict") & coverage["area"].isin(subs))
           | ((coverage["level"] == "unit") & coverage["area"].isin(codes)))
    coverage = coverage.copy()
    for col in ("children", "covered_children", "outside_children", "share_children"):
        coverage.loc[hit, col] = np.nan
    return coverage


def access_kinds(layers: LayerSet, plan: Plan | None = None,
                 radii: Mapping[str, float] | None = None) -> list[str]:
    """Return the kinds (or ``a+b`` groups) to measure.

    Every kind with a walking radius present in the data, and every kind an
    ``accessibility`` target of ``plan`` names.

    Returns
    -------
    list of str
        Kinds in :data:`layers.kinds.FACILITY_KINDS` order, then plan groups.
    """
    present = set(layers.facilities["kind"])
    kinds = [k for k in FACILITY_KINDS if k in present and radius_for(k, radii) is not None]
    for t in plan.targets if plan else ():
        if t.metric == "accessibility" and target_key(t) == "+".join(t.kinds):
            key = "+".join(t.kinds)
            if key not in kinds:
                kinds.append(key)
    return kinds


def scenario_coverage(
    layers: LayerSet,
    network: StreetNetwork | nx.MultiDiGraph,
    *,
    components: ComponentReport | None = None,
    snap_rule: SnapRule | None = SURFACE,
    plan: Plan | None = None,
    radii: Mapping[str, float] | None = None,
    spacing_m: float = 100.0,
    bands: Mapping[int, float] | None = None,
) -> ScenarioCoverage:
    """Measure walking access from every home to every kind, as things stand and once planned.

    Parameters
    ----------
    layers
        Loaded layers (metric CRS).
    network
        The array walking network in ``layers.crs`` (``Streets.network``); its largest
        component is kept. An OSMnx graph projected to ``layers.crs`` is accepted too
        (converted with :func:`cfplan.geo.street_network.street_network`).
    components
        The report of an earlier :func:`keep_largest_component` (``Streets.components``);
        computed from ``network`` when omitted.
    snap_rule
        Which edges homes and facilities snap to (:class:`cfplan.geo.snap.SnapRule`);
        default the street surface.
    plan
        The plan, whose ``accessibility`` targets add kinds or groups to measure and
        whose ``radius_m`` values override the defaults.
    radii
        Radius overrides in metres by kind; default from ``layers/kinds.py``.
    spacing_m
        Demand grid spacing in metres (≤ 100).
    bands
        Service-area bands, minutes → metres; default the life circles of
        :data:`layers.kinds.LIFE_CIRCLES_M` (5 min 300 m, 10 min 500 m, 15 min 1000 m), the
        same distances the standards' radii use, so the map's bands and the report's
        minutes agree.

    Returns
    -------
    ScenarioCoverage
        Coverage tables, distances, service areas and the network used.
    """
    radii = dict(radii or {})
    bands = dict(bands or LIFE_CIRCLES_M)
    if not isinstance(network, StreetNetwork):
        network = street_network(network)
        components = None
    if components is None:
        network, components = keep_largest_component(network)
    buildings = layers.buildings if not layers.buildings.empty else None
    units = layers.units.copy()
    no_children = units["children"].isna()
    units.loc[no_children, "children"] = 0.0  # restored as NaN shares below
    demand = demand_points(units, spacing_m=spacing_m, buildings=buildings)
    kinds = access_kinds(layers, plan, radii)
    members = list(dict.fromkeys(m for k in kinds for m in k.split("+")))
    entrances = layers.entrances if not layers.entrances.empty else None
    specific = [t for t in (plan.targets if plan else ())
                if t.metric == "accessibility" and target_key(t) != "+".join(t.kinds)]
    tables: list[pd.DataFrame] = []
    areas: list[gpd.GeoDataFrame] = []
    distances, far = pd.DataFrame(), pd.DataFrame()
    for scenario in SCENARIOS:
        sure, _ = select(layers.facilities, tuple(members), Filters(), scenario=scenario)
        fac = layers.facilities[sure].reset_index(drop=True)
        acc = walking_access(network, demand, fac, kinds=kinds, radii=radii,
                             entrances=entrances, snap_rule=snap_rule)
        tables.append(acc.coverage.assign(scenario=scenario))
        for t in specific:
            tables += _target_coverage(t, layers, network, demand, scenario,
                                       entrances=entrances, radii=radii, snap_rule=snap_rule)
        if scenario == "current":
            distances, far = acc.distances, acc.far_points
            for kind in members:
                if kind not in acc.nearest.nodes or len(acc.sources[kind].edge) == 0:
                    continue
                areas.append(service_areas(network, acc.nearest.nodes[kind],
                                           sources=acc.sources[kind],
                                           cutoffs_m=list(bands.values()),
                                           minutes=list(bands), kind=kind))
    coverage = _unknown_children(pd.concat(tables, ignore_index=True), units, no_children)
    sa = (gpd.GeoDataFrame(pd.concat(areas, ignore_index=True), crs=layers.crs) if areas
          else gpd.GeoDataFrame({"kind": [], "cutoff_m": [], "minutes": []}, geometry=[],
                                 crs=layers.crs))
    return ScenarioCoverage(coverage, distances, sa, far, components, network, demand)


def unit_distance_summary(cov: ScenarioCoverage) -> pd.DataFrame:
    """Return per unit and kind the child-weighted mean and the worst walk as things stand.

    Only homes that reach a facility of the kind count in the mean and the maximum; where
    none does (the kind has no facility, or the streets do not connect) both are empty
    (NaN), never ``inf`` or 0.

    Returns
    -------
    pandas.DataFrame
        Columns ``unit, kind, mean_walk_m, max_walk_m`` (metres along streets; NaN when no
        home reaches one) and ``reached_share`` (0–1: the share of the unit's children, or
        residents where it has no children, whose home reaches one at all).
    """
    d = cov.distances
    w = d["children"].where(d["children"] > 0, d["population"])
    reached = np.isfinite(d["distance_m"].to_numpy(np.float64))
    frame = d.assign(_w=w, _wr=w.where(reached, 0.0),
                     _wd=(w * d["distance_m"]).where(reached, 0.0),
                     _d=d["distance_m"].where(reached, np.nan))
    g = frame.groupby(["unit", "kind"], observed=True)
    weight, weight_reached = g["_w"].sum(), g["_wr"].sum()
    out = pd.DataFrame({
        "mean_walk_m": (g["_wd"].sum() / weight_reached).where(weight_reached > 0, np.nan),
        "max_walk_m": g["_d"].max(),
        "reached_share": (weight_reached / weight).where(weight > 0, np.nan),
    }).reset_index()
    return out
