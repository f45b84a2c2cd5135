"""Display copies of layers for the map: simplified, rounded, and shifted to GCJ-02 for AMap tiles.

Only what the browser draws is changed here; analysis data and exports are never touched
(exports keep full RFC 7946 precision through :func:`cfplan.geo.io.write_geojson`).
"""

from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import shapely
from numpy.typing import ArrayLike

from cfplan.geo.crs import WGS84, wgs84_to_gcj02

DATUMS = ("wgs84", "gcj02")
# Decimal places of display coordinates: 1e-5 degree is about 1.1 m north-south (0.9 m
# east-west at 35° N); points keep 1e-6 (0.1 m), so that a marker lands on its pixel.
LINE_DECIMALS = 5
POINT_DECIMALS = 6
# Simplification tolerance of display polygons and lines, in metres of the metric CRS.
SIMPLIFY_M = 1.0


def shift_coords(coords: np.ndarray, *, datum: str) -> np.ndarray:
    """Return WGS-84 lon/lat ``coords`` (n × 2) in the display ``datum``.

    Returns
    -------
    numpy.ndarray
        The same array for ``"wgs84"``; GCJ-02 lon/lat for ``"gcj02"`` (the datum of
        AMap tiles), computed by :func:`cfplan.geo.crs.wgs84_to_gcj02`.
    """
    if datum == "wgs84" or not len(coords):
        return coords
    if datum != "gcj02":
        raise ValueError(f"unknown display datum {datum!r}; known: {', '.join(DATUMS)}")
    lon, lat = wgs84_to_gcj02(coords[:, 0], coords[:, 1])
    return np.column_stack([lon, lat])


def drop_small_holes(geoms: np.ndarray, min_hole_m2: float) -> np.ndarray:
    """Return polygons without their interior rings smaller than ``min_hole_m2``.

    Walking bands are buffered streets: every block they surround is a hole. Blocks smaller
    than a hectare or so are within the band for anyone in them, and at city scale their
    rings are most of the file; the map fills them.

    Returns
    -------
    numpy.ndarray
        Geometries in the same (metric) CRS; non-polygons unchanged.
    """
    out = np.asarray(geoms, dtype=object).copy()
    for i, g in enumerate(out):
        if g is None or g.geom_type not in ("Polygon", "MultiPolygon"):
            continue
        parts = shapely.get_parts(g)
        kept = [shapely.Polygon(p.exterior, [r for r in p.interiors
                                             if shapely.Polygon(r).area >= min_hole_m2])
                for p in parts]
        out[i] = kept[0] if g.geom_type == "Polygon" else shapely.MultiPolygon(kept)
    return out


def simplify_valid(geoms: ArrayLike, *, tolerance_m: float) -> np.ndarray:
    """Return ``geoms`` simplified by Douglas-Peucker, each result valid.

    Plain Douglas-Peucker first (several times faster than GEOS's topology-preserving
    simplifier on a city's service areas: 0.2 s against 3 s for one band of 100,000
    vertices); only the geometries it leaves invalid (a ring pulled across another) are
    simplified again with topology kept.

    Returns
    -------
    numpy.ndarray
        Shapely geometries, in the CRS of ``geoms`` (``tolerance_m`` in its units).
    """
    arr = np.asarray(geoms, dtype=object)
    out = shapely.simplify(arr, tolerance_m, preserve_topology=False)
    bad = ~shapely.is_valid(out) & shapely.is_valid(arr)
    bad |= shapely.is_empty(out) & ~shapely.is_empty(arr)
    if bad.any():
        out[bad] = shapely.simplify(arr[bad], tolerance_m, preserve_topology=True)
    return out


def display_geometries(
    geoms: gpd.GeoSeries, *, datum: str = "wgs84", simplify_m: float = SIMPLIFY_M,
    min_hole_m2: float = 0.0,
) -> np.ndarray:
    """Return the display copy of ``geoms``: simplified, in WGS-84 or GCJ-02 lon/lat, rounded.

    Parameters
    ----------
    geoms
        Geometries with a CRS (metric CRS for simplification to mean metres).
    datum
        ``"wgs84"`` (OSM, 天地图, no basemap) or ``"gcj02"`` (高德 tiles).
    simplify_m
        Douglas-Peucker tolerance in metres for lines and polygons (each result valid,
        see :func:`simplify_valid`);
        0 keeps every vertex. Points are never simplified.
    min_hole_m2
        Fill polygon holes smaller than this (m², metric CRS only); 0 keeps them all.

    Returns
    -------
    numpy.ndarray
        Shapely geometries: polygons with counter-clockwise exteriors (RFC 7946), points
        rounded to :data:`POINT_DECIMALS` and the rest to :data:`LINE_DECIMALS` decimals.
    """
    series = geoms
    metric = series.crs is not None and series.crs.is_projected
    if min_hole_m2 > 0 and metric:
        series = gpd.GeoSeries(drop_small_holes(series.values, min_hole_m2), crs=series.crs,
                               index=series.index)
    if simplify_m > 0 and metric:
        series = gpd.GeoSeries(simplify_valid(series.values, tolerance_m=simplify_m), crs=series.crs,
                               index=series.index)
    if series.crs is not None:
        series = series.to_crs(WGS84)
    arr = shapely.orient_polygons(np.asarray(series.values), exterior_cw=False)
    arr = shapely.transform(arr, lambda c: shift_coords(c, datum=datum))
    points = shapely.get_type_id(arr) == 0
    out = np.empty(len(arr), dtype=object)
    out[points] = shapely.transform(arr[points], lambda c: np.round(c, POINT_DECIMALS))
    out[~points] = shapely.transform(arr[~points], lambda c: np.round(c, LINE_DECIMALS))
    return out


def display_features(
    gdf: gpd.GeoDataFrame, props: list[dict[str, object]], *, datum: str = "wgs84",
    simplify_m: float = SIMPLIFY_M, min_hole_m2: float = 0.0,
) -> dict[str, object]:
    """Return a GeoJSON FeatureCollection of the display copy of ``gdf`` with ``props``.

    Features whose geometry is missing or empty are left out.

    Returns
    -------
    dict
        ``{"type": "FeatureCollection", "features": [...]}`` in display lon/lat.
    """
    geoms = display_geometries(gdf.geometry, datum=datum, simplify_m=simplify_m,
                               min_hole_m2=min_hole_m2)
    feats = []
    for p, g in zip(props, geoms, strict=True):
        if g is None or g.is_empty:
            continue
        feats.append({"type": "Feature", "properties": p,
                      "geometry": json.loads(shapely.to_geojson(g))})
    return {"type": "FeatureCollection", "features": feats}


def display_points(geoms: gpd.GeoSeries, *, datum: str = "wgs84") -> np.ndarray:
    """Return display lon/lat (n × 2) of point ``geoms`` (other geometries: a point inside).

    Returns
    -------
    numpy.ndarray
        Rounded to :data:`POINT_DECIMALS` decimals, in WGS-84 or GCJ-02.
    """
    pts = geoms.representative_point() if not geoms.geom_type.eq("Point").all() else geoms
    pts = pts.to_crs(WGS84) if pts.crs is not None else pts
    xy = np.column_stack([pts.x.to_numpy(), pts.y.to_numpy()]) if len(pts) else np.empty((0, 2))
    return np.round(shift_coords(xy, datum=datum), POINT_DECIMALS)


def js_json(value: object) -> str:
    r"""Return ``value`` as JSON safe inside an HTML ``<script>`` (no ``<``, ``>``, ``&``).

    Returns
    -------
    str
        Compact JSON with ``<``, ``>`` and ``&`` as ``\\u`` escapes, so that no data text
        can close the script or open a tag.
    """
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return (text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
            .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


__all__ = [
    "DATUMS",
    "LINE_DECIMALS",
    "POINT_DECIMALS",
    "SIMPLIFY_M",
    "display_features",
    "display_geometries",
    "display_points",
    "drop_small_holes",
    "js_json",
    "shift_coords",
]
