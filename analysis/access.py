"""Walking access: each resident's walk to the nearest facility of each kind, and coverage."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely

from cfplan.geo.paths import NearestByKind, nearest_by_kind
from cfplan.geo.snap import (
    SURFACE,
    Snapped,
    SnapRule,
    concat_snapped,
    snap_points,
    snap_polygons_to_edges,
)
from cfplan.geo.street_network import StreetNetwork
from cfplan.layers.demand import far_from_streets
from cfplan.layers.kinds import FACILITY_KINDS

__all__ = [
    "WALK_SPEED_M_PER_MIN",
    "Access",
    "accessibility_value",
    "coverage_table",
    "distance_table",
    "radius_for",
    "snap_facilities",
    "units_below",
    "walking_access",
]

WALK_SPEED_M_PER_MIN = 60.0  # GB 50647-2011 crossing design speed; see docs/standards.md

_COVERAGE_COLUMNS = [
    "level", "area", "subdistrict", "kind", "radius_m", "population", "children",
    "covered_population", "covered_children", "outside_population", "outside_children",
    "share_population", "share_children", "failing_units",
]


def radius_for(kind: str, radii: Mapping[str, float] | None = None) -> float | None:
    """Return the walking radius (m) of a kind or of a group ``"a+b"`` (nearest of a or b).

    ``radii`` overrides first; otherwise ``FACILITY_KINDS[kind].radius_m``; a group without
    an override takes the largest radius of its members. ``None`` means no walking standard.
    """
    if radii and kind in radii:
        return float(radii[kind])
    members = kind.split("+")
    if len(members) > 1:
        found = [r for r in (radius_for(m, radii) for m in members) if r is not None]
        return max(found) if found else None
    known = FACILITY_KINDS.get(kind)
    return None if known is None or known.radius_m is None else float(known.radius_m)


def _entrance_points(facilities: gpd.GeoDataFrame, entrances: gpd.GeoDataFrame | None,
                     rows: np.ndarray) -> list[object] | None:
    if entrances is None or not len(entrances):
        return None
    column = "facility" if "facility" in entrances.columns else "fid"
    grouped = entrances.groupby(entrances[column].astype(str)).geometry.apply(
        lambda g: shapely.multipoints(g.to_numpy()))
    fids = facilities["fid"].astype(str).to_numpy()[rows]
    return [grouped.get(f) for f in fids]


def snap_facilities(
    network: StreetNetwork,
    facilities: gpd.GeoDataFrame,
    *,
    kinds: Iterable[str] | None = None,
    entrances: gpd.GeoDataFrame | None = None,
    spacing_m: float = 25.0,
    tolerance_m: float = 30.0,
    snap_rule: SnapRule | None = SURFACE,
) -> dict[str, Snapped]:
    """Snap facilities to the network, by kind.

    Point facilities are reached at their nearest street; polygon facilities (parks) at
    their entrances when ``entrances`` lists any, else where the streets meet their
    boundary (see :func:`geo.snap.snap_polygons_to_edges`).

    Parameters
    ----------
    network
        The street network.
    facilities
        Facilities in the network CRS with ``fid``, ``kind`` and Point/Polygon geometry.
    kinds
        Kinds to snap (default: every kind present); a kind with no facility gets no points.
    entrances
        Optional entrance points whose ``facility`` (or ``fid``) column names their polygon
        facility's ``fid`` (the ``entrances`` layer).
    spacing_m, tolerance_m
        Boundary sampling for polygons without entrances (m).
    snap_rule
        Which edges facilities may be put on (:class:`cfplan.geo.snap.SnapRule`); default
        the street surface (no tunnels, underground roads or motorways).

    Returns
    -------
    dict[str, geo.snap.Snapped]
        Access points per kind; ``owner`` is the facility's row position in ``facilities``.
    """
    geoms = facilities.geometry.to_numpy()
    kind_col = facilities["kind"].astype(str).to_numpy()
    wanted = list(dict.fromkeys(kind_col)) if kinds is None else list(kinds)
    types = shapely.get_type_id(geoms)
    if (shapely.is_missing(geoms) | shapely.is_empty(geoms)).any():
        msg = "facilities with no geometry: " + ", ".join(
            facilities["fid"].astype(str)[shapely.is_missing(geoms) | shapely.is_empty(geoms)])
        raise ValueError(msg)
    is_point = types == shapely.GeometryType.POINT
    is_poly = np.isin(types, [shapely.GeometryType.POLYGON, shapely.GeometryType.MULTIPOLYGON])
    if not (is_point | is_poly).all():
        msg = "facility geometries must be Points, Polygons or MultiPolygons"
        raise ValueError(msg)
    point_rows = np.flatnonzero(is_point & np.isin(kind_col, wanted))
    points = snap_points(network, geoms[point_rows], rule=snap_rule).with_owner(point_rows)
    point_kind = kind_col[points.owner]
    out: dict[str, Snapped] = {}
    for kind in wanted:
        members = kind_col == kind
        parts = [points.take(point_kind == kind)]
        poly_rows = np.flatnonzero(members & is_poly)
        if len(poly_rows):
            ents = _entrance_points(facilities, entrances, poly_rows)
            parts.append(
                snap_polygons_to_edges(network, geoms[poly_rows], entrances=ents,
                                       spacing_m=spacing_m, tolerance_m=tolerance_m,
                                       rule=snap_rule)
                .with_owner(poly_rows)
            )
        out[kind] = concat_snapped(parts)
    return out


def distance_table(
    demand: gpd.GeoDataFrame,
    nearest: NearestByKind,
    facilities: gpd.GeoDataFrame,
    *,
    radii: Mapping[str, float] | None = None,
    speed_m_per_min: float = WALK_SPEED_M_PER_MIN,
) -> pd.DataFrame:
    """Tidy table of each demand point's walk to the nearest facility of each kind.

    Returns
    -------
    pandas.DataFrame
        One row per (demand point, kind): ``point`` (row position in ``demand``), ``unit``,
        ``subdistrict`` (categoricals), ``kind`` (categorical), ``distance_m`` (walking metres,
        snaps included; NaN, an empty cell, when no facility is reachable within the search
        limit or the kind has none), ``minutes`` (NaN likewise), ``fid`` of the nearest facility
        (categorical; NaN if none), ``radius_m`` (NaN: no walking standard), ``covered``
        (``distance_m <= radius_m``; NA without a radius), ``population``, ``children``.
    """
    n, k = nearest.distance.shape
    fids = pd.Index(facilities["fid"].astype(str))
    if not fids.is_unique:
        msg = "facility fid values must be unique"
        raise ValueError(msg)
    fid = pd.Categorical.from_codes(nearest.owner.ravel(), categories=fids)  # -1: none
    radius = np.array([np.nan if (r := radius_for(kind, radii)) is None else r
                       for kind in nearest.kinds])
    radius_col = np.tile(radius, n)
    distance = nearest.distance.ravel()
    distance = np.where(np.isfinite(distance), distance, np.nan)  # unreachable: empty, not inf
    covered = pd.array(distance <= radius_col, dtype="boolean")
    covered[np.isnan(radius_col)] = pd.NA
    def repeated(column: str) -> pd.Categorical:
        values = pd.Categorical(demand[column].astype(str))
        return pd.Categorical.from_codes(np.repeat(values.codes, k), values.categories)

    return pd.DataFrame(
        {
            "point": np.repeat(np.arange(n), k),
            "unit": repeated("unit"),
            "subdistrict": repeated("subdistrict"),
            "kind": pd.Categorical(np.tile(np.asarray(nearest.kinds, dtype=object), n),
                                   categories=list(nearest.kinds)),
            "distance_m": distance,
            "minutes": distance / speed_m_per_min,
            "fid": fid,
            "radius_m": radius_col,
            "covered": covered,
            "population": np.repeat(demand["population"].to_numpy(np.float64), k),
            "children": np.repeat(demand["children"].to_numpy(np.float64), k),
        }
    )


def _sums(codes: np.ndarray, size: int, population: np.ndarray, children: np.ndarray,
          covered: np.ndarray) -> dict[str, np.ndarray]:
    """Totals, covered, outside and shares per group code (persons; shares 0-1)."""
    out: dict[str, np.ndarray] = {}
    for who, weight in (("population", population), ("children", children)):
        total = np.bincount(codes, weights=weight, minlength=size)
        inside = np.bincount(codes, weights=np.where(covered, weight, 0.0), minlength=size)
        out[who], out[f"covered_{who}"], out[f"outside_{who}"] = total, inside, total - inside
        with np.errstate(invalid="ignore", divide="ignore"):
            out[f"share_{who}"] = np.where(total > 0, inside / np.where(total > 0, total, 1),
                                           np.nan)
    return out


def units_below(units: pd.DataFrame, *, share: float,
                population: str = "children") -> pd.DataFrame:
    """Return the unit rows that fail a walking-access share: cfplan's one rule for a unit.

    A unit fails a walking-access target when the share of its children (or residents, for
    a ``population`` target) within the walking radius along the streets is below the
    target's share. A unit with none of that population, or whose count is not known (the
    share is NaN), is not listed: it is not counted or unknown, never failing.

    Parameters
    ----------
    units
        Unit rows of :func:`coverage_table` (``share_<population>``, ``outside_<population>``).
    share
        The target's share (0–1).
    population
        ``"children"`` or ``"population"``.

    Returns
    -------
    pandas.DataFrame
        The failing rows, most people outside first (ties in input order).
    """
    shares = pd.to_numeric(units[f"share_{population}"], errors="coerce")
    bad = units[shares.notna() & (shares < share - 1e-12)]
    return bad.sort_values(f"outside_{population}", ascending=False, kind="stable")


def coverage_table(
    distances: pd.DataFrame,
    *,
    kinds: Iterable[str] | None = None,
    radii: Mapping[str, float] | None = None,
    unserved_share: float = 1.0,
) -> pd.DataFrame:
    """Share of residents and children within walking radius, overall, by subdistrict and unit.

    Parameters
    ----------
    distances
        Output of :func:`distance_table`.
    kinds
        Kinds or groups to report; a group ``"kindergarten+childcare"`` counts a point as
        covered when the nearest of either is within the radius. Default: every kind of
        ``distances`` with a walking radius. A kind absent from ``distances`` has no
        facility: nobody is covered.
    radii
        Radius overrides (m) by kind or group; see :func:`radius_for`.
    unserved_share
        A unit is listed in ``failing_units`` when its share of children within the radius
        is below this (:func:`units_below`); by default 1: every unit where some child is
        out of reach. A plan's target applies its own share (``Result.failing``).

    Returns
    -------
    pandas.DataFrame
        Rows for ``level`` ``"overall"`` (``area`` = ``""``), ``"subdistrict"`` (``area`` =
        subdistrict code) and ``"unit"`` (``area`` = unit code, with its ``subdistrict``),
        overall rows first, per kind: ``kind``, ``radius_m``, ``population``, ``children``,
        ``covered_population``, ``covered_children``, ``outside_population``,
        ``outside_children`` (persons), ``share_population``, ``share_children`` (0–1; NaN
        when the total is 0) and ``failing_units`` (comma-separated unit codes of the area,
        most children outside first; empty on unit rows).
    """
    wide = distances.pivot(index="point", columns="kind", values="distance_m")
    wide.columns = wide.columns.astype(str)
    first = distances.drop_duplicates("point").set_index("point").loc[wide.index]
    if kinds is None:
        kinds = [k for k in wide.columns if radius_for(k, radii) is not None]
    population = first["population"].to_numpy(np.float64)
    children = first["children"].to_numpy(np.float64)
    unit_code, unit_names = pd.factorize(first["unit"].astype(object).fillna("").astype(str).to_numpy(),
                                         sort=True)
    sub_code, sub_names = pd.factorize(
        first["subdistrict"].astype(object).fillna("").astype(str).to_numpy(), sort=True)
    # each unit's subdistrict (its first point's)
    unit_sub = np.empty(len(unit_names), dtype=np.int64)
    unit_sub[unit_code[::-1]] = sub_code[::-1]
    overall_code = np.zeros(len(first), dtype=np.int64)
    tables = []
    for key in kinds:
        radius = radius_for(key, radii)
        if radius is None:
            msg = f"no walking radius for {key!r}: give one in radii"
            raise ValueError(msg)
        members = [m for m in key.split("+") if m in wide.columns]
        d = wide[members].min(axis=1).to_numpy() if members else np.full(len(wide), np.inf)
        covered = d <= radius
        units = pd.DataFrame(_sums(unit_code, len(unit_names), population, children, covered))
        units.insert(0, "area", np.asarray(unit_names, dtype=object))
        units.insert(1, "subdistrict", np.asarray(sub_names, dtype=object)[unit_sub])
        failing = units_below(units, share=unserved_share)
        overall = pd.DataFrame(_sums(overall_code, 1, population, children, covered))
        overall["area"], overall["subdistrict"] = "", ""
        overall["failing_units"] = ",".join(failing["area"])
        subs = pd.DataFrame(_sums(sub_code, len(sub_names), population, children, covered))
        subs["area"] = subs["subdistrict"] = np.asarray(sub_names, dtype=object)
        by_sub = failing.groupby("subdistrict")["area"].agg(",".join)
        subs["failing_units"] = [by_sub.get(code, "") for code in subs["subdistrict"]]
        units["failing_units"] = ""
        for frame, level in ((overall, "overall"), (subs, "subdistrict"), (units, "unit")):
            frame["level"], frame["kind"], frame["radius_m"] = level, key, radius
        tables.append((overall, subs, units))
    if not tables:
        return pd.DataFrame(columns=_COVERAGE_COLUMNS)
    ordered = [t[i] for i in range(3) for t in tables]  # overall rows first, then by level
    return pd.concat(ordered, ignore_index=True)[_COVERAGE_COLUMNS]


@dataclass(frozen=True, eq=False)
class Access:
    """Everything :func:`walking_access` computes.

    Attributes
    ----------
    distances
        See :func:`distance_table`.
    coverage
        See :func:`coverage_table`.
    far_points
        Demand points farther than ``max_snap_m`` from any street (see
        :func:`layers.demand.far_from_streets`); they are still counted.
    nearest
        Raw arrays, with the node distances per kind (for service areas).
    sources
        Facility access points per kind (for service areas and maps).
    demand_snap
        The demand points snapped to the network.
    """

    distances: pd.DataFrame
    coverage: pd.DataFrame
    far_points: pd.DataFrame
    nearest: NearestByKind
    sources: dict[str, Snapped]
    demand_snap: Snapped


def walking_access(
    network: StreetNetwork,
    demand: gpd.GeoDataFrame,
    facilities: gpd.GeoDataFrame,
    *,
    kinds: Iterable[str] | None = None,
    radii: Mapping[str, float] | None = None,
    speed_m_per_min: float = WALK_SPEED_M_PER_MIN,
    limit_m: float | Mapping[str, float] | None = None,
    entrances: gpd.GeoDataFrame | None = None,
    max_snap_m: float = 200.0,
    unserved_share: float = 1.0,
    snap_rule: SnapRule | None = SURFACE,
) -> Access:
    """Measure the walk to the nearest facility of each kind, and coverage within radius.

    Demand points and facilities are snapped to the network; one multi-source Dijkstra per
    kind gives every point's distance to its nearest facility along the streets, the walk
    onto and off the street included.

    Parameters
    ----------
    network
        The street network (metric CRS).
    demand
        Demand points from :func:`layers.demand.demand_points`, same CRS.
    facilities
        Facilities (``fid``, ``kind``, Point/Polygon geometry), same CRS; pass only those
        that count in the scenario at hand (built, or built and planned).
    kinds
        Kinds or groups (``"a+b"``) to report (default: every kind in ``facilities``); their
        member kinds are measured even without any facility (then nobody is covered).
    radii
        Walking radius overrides (m) by kind or group; default ``FACILITY_KINDS[k].radius_m``.
    speed_m_per_min
        Walking speed for the ``minutes`` column.
    limit_m
        Search limit (m), one or per kind; default ``None`` measures every distance exactly
        (fast for a district; on very large networks pass the radii to save time).
    entrances
        Park entrance points with the ``fid`` of their park in a ``facility`` (or ``fid``)
        column.
    max_snap_m
        Demand points farther than this (m) from a street are listed in ``far_points``.
    unserved_share
        Threshold for ``failing_units`` in the coverage table (:func:`units_below`).
    snap_rule
        Which edges demand points and facilities snap to (see
        :class:`cfplan.geo.snap.SnapRule`): by default only edges reached from the street
        surface; tunnels stay in the network for walking through.

    Returns
    -------
    Access
        Tidy ``distances`` and ``coverage`` tables (metres, persons, shares), the far points
        and the raw arrays.
    """
    for name, frame in (("demand", demand), ("facilities", facilities)):
        if frame.crs is None or pyproj.CRS.from_user_input(frame.crs) != network.crs:
            msg = f"{name} must be in the network CRS ({network.crs.to_string()})"
            raise ValueError(msg)
    facilities = facilities.reset_index(drop=True)
    demand = demand.reset_index(drop=True)
    groups = list(dict.fromkeys(facilities["kind"].astype(str))) if kinds is None else list(kinds)
    members = list(dict.fromkeys(m for g in groups for m in g.split("+")))
    sources = snap_facilities(network, facilities, kinds=members, entrances=entrances,
                              snap_rule=snap_rule)
    targets = snap_points(network, demand.geometry.to_numpy(), rule=snap_rule)
    nearest = nearest_by_kind(network, sources, targets,
                              limit_m=np.inf if limit_m is None else limit_m)
    distances = distance_table(demand, nearest, facilities, radii=radii,
                               speed_m_per_min=speed_m_per_min)
    reported = [g for g in groups if radius_for(g, radii) is not None]
    coverage = coverage_table(distances, kinds=reported, radii=radii,
                              unserved_share=unserved_share)
    far = far_from_streets(demand, targets.snap_m, max_snap_m=max_snap_m)
    return Access(distances, coverage, far, nearest, sources, targets)


def accessibility_value(
    coverage: pd.DataFrame, *, kind: str, population: str = "children"
) -> float:
    """Return the overall share (0–1) of ``population`` within walking radius of ``kind``.

    Parameters
    ----------
    coverage
        Output of :func:`coverage_table` (or ``Access.coverage``).
    kind
        Kind key or group ``"a+b"``.
    population
        ``"children"`` or ``"population"``.

    Returns
    -------
    float
        The share; NaN when the population total is 0.
    """
    if population not in ("children", "population"):
        msg = "population must be 'children' or 'population'"
        raise ValueError(msg)
    rows = coverage[(coverage["level"] == "overall") & (coverage["kind"] == kind)]
    if rows.empty:
        msg = f"no coverage computed for {kind!r}"
        raise KeyError(msg)
    return float(rows.iloc[0][f"share_{population}"])
