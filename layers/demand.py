"""Demand points: residents and children of each unit spread over points inside it."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

__all__ = ["demand_points", "far_from_streets", "grid_points", "holding_polygon"]

_UNIT_COLUMNS = ("code", "subdistrict", "population", "children")


def _check_units(units: gpd.GeoDataFrame) -> None:
    missing = [c for c in _UNIT_COLUMNS if c not in units.columns]
    if missing:
        msg = f"units lack columns {missing}"
        raise ValueError(msg)
    if units.crs is None or not units.crs.is_projected:
        msg = "units must be in a metric (projected) CRS"
        raise ValueError(msg)
    for column in ("population", "children"):
        values = pd.to_numeric(units[column], errors="coerce")
        bad = units.loc[values.isna() | (values < 0), "code"].astype(str).tolist()
        if bad:
            msg = f"units with a missing or negative {column}: {bad}"
            raise ValueError(msg)
    if units["code"].duplicated().any():
        msg = "unit codes must be unique"
        raise ValueError(msg)


def grid_points(
    polygons: gpd.GeoSeries, *, spacing_m: float = 100.0
) -> tuple[np.ndarray, np.ndarray]:
    """Points of a regular lattice that fall inside polygons.

    The lattice is shared by all polygons (cell centres at odd multiples of
    ``spacing_m / 2``), so neighbouring units never get overlapping points; a point on a shared
    boundary goes to the first polygon.

    Parameters
    ----------
    polygons
        Polygons in a metric CRS.
    spacing_m
        Lattice spacing (m).

    Returns
    -------
    tuple[numpy.ndarray, numpy.ndarray]
        Shapely Points and the position of the polygon holding each.
    """
    bounds = polygons.bounds.to_numpy()
    ranges = []
    for minx, miny, maxx, maxy in bounds:
        i = np.arange(np.ceil(minx / spacing_m - 0.5), np.floor(maxx / spacing_m - 0.5) + 1)
        j = np.arange(np.ceil(miny / spacing_m - 0.5), np.floor(maxy / spacing_m - 0.5) + 1)
        ii, jj = np.meshgrid(i, j)
        ranges.append(np.column_stack([ii.ravel(), jj.ravel()]))
    cells = np.unique(np.concatenate(ranges), axis=0) if ranges else np.empty((0, 2))
    points = shapely.points((cells + 0.5) * spacing_m)
    point_i, poly_i = holding_polygon(points, polygons)
    return points[point_i], poly_i


def holding_polygon(points: np.ndarray, polygons: gpd.GeoDataFrame | gpd.GeoSeries
                    ) -> tuple[np.ndarray, np.ndarray]:
    """Return the points that lie in some polygon, each with the first polygon holding it.

    A point on the border of two polygons goes to the one at the lower position.

    Returns
    -------
    tuple[numpy.ndarray, numpy.ndarray]
        Positions of those points (ascending) and of their polygon in ``polygons``.
    """
    point_i, poly_i = polygons.sindex.query(points, predicate="intersects")
    order = np.lexsort((poly_i, point_i))
    point_i, poly_i = point_i[order], poly_i[order]
    first = np.ones(len(point_i), dtype=bool)
    first[1:] = point_i[1:] != point_i[:-1]
    return point_i[first], poly_i[first]


def demand_points(
    units: gpd.GeoDataFrame,
    *,
    spacing_m: float = 100.0,
    buildings: gpd.GeoDataFrame | None = None,
) -> gpd.GeoDataFrame:
    """Spread each unit's residents and children over points inside it.

    Without buildings, every unit gets the points of a regular lattice (``spacing_m``) that
    fall inside it, equally weighted; a unit too small to hold a lattice point gets its
    representative point. With buildings, each building's representative point carries a
    share proportional to footprint area × ``floors`` (when that column exists; missing or
    non-positive floors count as 1); a building belongs to the unit containing that point,
    and a unit with no building falls back to its lattice points.

    Parameters
    ----------
    units
        Communities and villages in a metric CRS with ``code``, ``subdistrict``,
        ``population`` and ``children``.
    spacing_m
        Lattice spacing (m); keep it at or under 100 m for 300 m radii.
    buildings
        Optional building footprints (Polygons) in the same CRS.

    Returns
    -------
    geopandas.GeoDataFrame
        Points with ``unit`` (unit code), ``subdistrict``, ``population``, ``children``
        (persons; they sum to each unit's totals) and ``source`` (``"building"``,
        ``"grid"`` or ``"representative"``), in the units' CRS.
    """
    _check_units(units)
    units = units.reset_index(drop=True)
    geoms = units.geometry
    parts_points: list[np.ndarray] = []
    parts_unit: list[np.ndarray] = []
    parts_weight: list[np.ndarray] = []
    parts_source: list[np.ndarray] = []
    has_points = np.zeros(len(units), dtype=bool)
    if buildings is not None and len(buildings):
        if buildings.crs != units.crs:
            msg = "buildings and units must share a CRS"
            raise ValueError(msg)
        rep = buildings.geometry.representative_point().to_numpy()
        weight = buildings.geometry.area.to_numpy()
        if "floors" in buildings.columns:
            floors = pd.to_numeric(buildings["floors"], errors="coerce").to_numpy(np.float64)
            weight = weight * np.where(np.isfinite(floors) & (floors > 0), floors, 1.0)
        b_i, u_i = holding_polygon(rep, geoms)
        w = weight[b_i]
        has_weight = np.bincount(u_i, weights=w, minlength=len(units)) > 0
        keep = has_weight[u_i]
        parts_points.append(rep[b_i[keep]])
        parts_unit.append(u_i[keep])
        parts_weight.append(w[keep])
        parts_source.append(np.full(keep.sum(), "building", dtype=object))
        has_points |= has_weight
    todo = np.flatnonzero(~has_points)
    if len(todo):
        points, which = grid_points(geoms.iloc[todo], spacing_m=spacing_m)
        parts_points.append(points)
        parts_unit.append(todo[which])
        parts_weight.append(np.ones(len(points)))
        parts_source.append(np.full(len(points), "grid", dtype=object))
        has_points[todo[which]] = True
    lonely = np.flatnonzero(~has_points)
    parts_points.append(geoms.iloc[lonely].representative_point().to_numpy())
    parts_unit.append(lonely)
    parts_weight.append(np.ones(len(lonely)))
    parts_source.append(np.full(len(lonely), "representative", dtype=object))

    unit_i = np.concatenate(parts_unit)
    weight = np.concatenate(parts_weight)
    share = weight / np.bincount(unit_i, weights=weight, minlength=len(units))[unit_i]
    out = gpd.GeoDataFrame(
        {
            "unit": units["code"].astype(str).to_numpy()[unit_i],
            "subdistrict": units["subdistrict"].astype(str).to_numpy()[unit_i],
            "population": units["population"].to_numpy(np.float64)[unit_i] * share,
            "children": units["children"].to_numpy(np.float64)[unit_i] * share,
            "source": np.concatenate(parts_source),
        },
        geometry=np.concatenate(parts_points),
        crs=units.crs,
    )
    order = np.argsort(unit_i, kind="stable")
    return out.iloc[order].reset_index(drop=True)


def far_from_streets(
    demand: gpd.GeoDataFrame, snap_m: np.ndarray, *, max_snap_m: float = 200.0
) -> pd.DataFrame:
    """List demand points farther than ``max_snap_m`` from any street.

    They stay in the analysis (their walk onto the street counts); this table is for the
    report, so that gaps in the street data are seen rather than hidden.

    Parameters
    ----------
    demand
        Demand points from :func:`demand_points`.
    snap_m
        Distance (m) from each point to its nearest street edge, aligned with ``demand``
        (``geo.snap.snap_points(network, demand.geometry.to_numpy()).snap_m``).
    max_snap_m
        Threshold (m).

    Returns
    -------
    pandas.DataFrame
        Columns ``point`` (row position in ``demand``), ``unit``, ``subdistrict``,
        ``population``, ``children``, ``snap_m``, ``x``, ``y`` (demand CRS), farthest first.
    """
    snap_m = np.asarray(snap_m, dtype=np.float64)
    far = np.flatnonzero(snap_m > max_snap_m)
    rows = demand.iloc[far]
    table = pd.DataFrame(
        {
            "point": far,
            "unit": rows["unit"].to_numpy(),
            "subdistrict": rows["subdistrict"].to_numpy(),
            "population": rows["population"].to_numpy(),
            "children": rows["children"].to_numpy(),
            "snap_m": snap_m[far],
            "x": rows.geometry.x.to_numpy(),
            "y": rows.geometry.y.to_numpy(),
        }
    )
    return table.sort_values("snap_m", ascending=False, kind="stable").reset_index(drop=True)
