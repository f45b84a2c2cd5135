"""Coordinate systems: metric CRS choice and GCJ-02 / BD-09 conversion to WGS-84."""

from __future__ import annotations

from typing import Any

import numpy as np
import pyproj
import shapely
from numpy.typing import ArrayLike, NDArray

WGS84 = "EPSG:4326"

# China's rough extent (lon, lat), used to tell "in China" from "not".
CHINA_BOUNDS = (73.4, 18.0, 135.1, 53.6)

_A = 6378245.0
_EE = 0.00669342162296594323
_X_PI = np.pi * 3000.0 / 180.0


def gauss_kruger_epsg(lon: float) -> int:
    """Return the EPSG code of the CGCS2000 3-degree Gauss-Krüger zone for a longitude.

    The codes are the ones without a false-easting zone prefix, EPSG:4534 (central
    meridian 75°E) to EPSG:4554 (135°E). Zhengzhou (113.6°E) gives EPSG:4547.

    Parameters
    ----------
    lon
        Longitude in degrees east, within 73.5–136.5.

    Returns
    -------
    int
        The EPSG code.
    """
    zone = round((lon - 75.0) / 3.0)
    if not 0 <= zone <= 20:
        msg = f"longitude {lon} is outside the CGCS2000 3-degree Gauss-Krüger zones of China"
        raise ValueError(msg)
    return 4534 + zone


def in_china(lon: ArrayLike, lat: ArrayLike) -> NDArray[np.bool_]:
    """Return a boolean array: which lon/lat pairs fall in China's rough bounding box."""
    lon = np.asarray(lon, dtype=float)
    lat = np.asarray(lat, dtype=float)
    x0, y0, x1, y1 = CHINA_BOUNDS
    return (lon >= x0) & (lon <= x1) & (lat >= y0) & (lat <= y1)


def choose_metric_crs(lon: float, lat: float) -> pyproj.CRS:
    """Choose a metric CRS for analysis around a point.

    Parameters
    ----------
    lon, lat
        Centre of the study area in WGS-84 degrees.

    Returns
    -------
    pyproj.CRS
        CGCS2000 3-degree Gauss-Krüger (EPSG:4534–4554) inside China, otherwise the
        WGS-84 UTM zone of the point. Units are metres. Gauss-Krüger axes are northing
        first: transform with ``always_xy=True``.
    """
    if bool(in_china(lon, lat)):
        return pyproj.CRS.from_epsg(gauss_kruger_epsg(lon))
    zone = int((lon + 180.0) // 6.0) + 1
    return pyproj.CRS.from_epsg((32600 if lat >= 0 else 32700) + zone)


def _transform_lat(x: NDArray[np.float64], y: NDArray[np.float64]) -> NDArray[np.float64]:
    ret = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * np.sqrt(np.abs(x))
    ret += (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    ret += (20.0 * np.sin(y * np.pi) + 40.0 * np.sin(y / 3.0 * np.pi)) * 2.0 / 3.0
    ret += (160.0 * np.sin(y / 12.0 * np.pi) + 320 * np.sin(y * np.pi / 30.0)) * 2.0 / 3.0
    return ret


def _transform_lon(x: NDArray[np.float64], y: NDArray[np.float64]) -> NDArray[np.float64]:
    ret = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * np.sqrt(np.abs(x))
    ret += (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    ret += (20.0 * np.sin(x * np.pi) + 40.0 * np.sin(x / 3.0 * np.pi)) * 2.0 / 3.0
    ret += (150.0 * np.sin(x / 12.0 * np.pi) + 300.0 * np.sin(x / 30.0 * np.pi)) * 2.0 / 3.0
    return ret


def wgs84_to_gcj02(
    lon: ArrayLike, lat: ArrayLike
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Shift WGS-84 lon/lat to GCJ-02 (the offset used by AMap and Tencent).

    Returns
    -------
    tuple of ndarray
        GCJ-02 longitude and latitude in degrees. Points outside China are unchanged.
    """
    lon = np.asarray(lon, dtype=float)
    lat = np.asarray(lat, dtype=float)
    dlat = _transform_lat(lon - 105.0, lat - 35.0)
    dlon = _transform_lon(lon - 105.0, lat - 35.0)
    radlat = lat / 180.0 * np.pi
    magic = 1 - _EE * np.sin(radlat) ** 2
    sqrtmagic = np.sqrt(magic)
    dlat = (dlat * 180.0) / ((_A * (1 - _EE)) / (magic * sqrtmagic) * np.pi)
    dlon = (dlon * 180.0) / (_A / sqrtmagic * np.cos(radlat) * np.pi)
    inside = in_china(lon, lat)
    return np.where(inside, lon + dlon, lon), np.where(inside, lat + dlat, lat)


def geometries_to_gcj02(geoms: ArrayLike) -> NDArray[np.object_]:
    """Shift shapely geometries in WGS-84 lon/lat to GCJ-02, vertex by vertex.

    Returns
    -------
    numpy.ndarray
        Geometries of the same types in GCJ-02 lon/lat degrees (missing ones stay missing);
        vertices outside China are unchanged.
    """

    def shift(coords: NDArray[np.float64]) -> NDArray[np.float64]:
        lon, lat = wgs84_to_gcj02(coords[:, 0], coords[:, 1])
        return np.column_stack([lon, lat])

    return shapely.transform(np.asarray(geoms, dtype=object), shift)


def gcj02_to_wgs84(
    lon: ArrayLike, lat: ArrayLike, *, iterations: int = 6
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Convert GCJ-02 lon/lat back to WGS-84 by fixed-point inversion.

    Parameters
    ----------
    lon, lat
        GCJ-02 coordinates in degrees.
    iterations
        Fixed-point steps; six bring the round trip below a millimetre.

    Returns
    -------
    tuple of ndarray
        WGS-84 longitude and latitude in degrees.
    """
    glon = np.asarray(lon, dtype=float)
    glat = np.asarray(lat, dtype=float)
    wlon, wlat = glon.copy(), glat.copy()
    for _ in range(iterations):
        tlon, tlat = wgs84_to_gcj02(wlon, wlat)
        wlon = wlon - (tlon - glon)
        wlat = wlat - (tlat - glat)
    return wlon, wlat


def bd09_to_gcj02(
    lon: ArrayLike, lat: ArrayLike
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Convert Baidu BD-09 lon/lat to GCJ-02 degrees."""
    x = np.asarray(lon, dtype=float) - 0.0065
    y = np.asarray(lat, dtype=float) - 0.006
    z = np.sqrt(x * x + y * y) - 0.00002 * np.sin(y * _X_PI)
    theta = np.arctan2(y, x) - 0.000003 * np.cos(x * _X_PI)
    return z * np.cos(theta), z * np.sin(theta)


def gcj02_to_bd09(
    lon: ArrayLike, lat: ArrayLike
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Convert GCJ-02 lon/lat to Baidu BD-09 degrees."""
    x = np.asarray(lon, dtype=float)
    y = np.asarray(lat, dtype=float)
    z = np.sqrt(x * x + y * y) + 0.00002 * np.sin(y * _X_PI)
    theta = np.arctan2(y, x) + 0.000003 * np.cos(x * _X_PI)
    return z * np.cos(theta) + 0.0065, z * np.sin(theta) + 0.006


def to_wgs84(
    lon: ArrayLike, lat: ArrayLike, *, datum: str
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Convert lon/lat in ``datum`` (``"wgs84"``, ``"cgcs2000"``, ``"gcj02"``, ``"bd09"``) to WGS-84.

    CGCS2000 equals WGS-84 at planning accuracy and is returned unchanged.

    Returns
    -------
    tuple of ndarray
        WGS-84 longitude and latitude in degrees.
    """
    datum = datum.lower().replace("-", "").replace("_", "")
    if datum in ("wgs84", "cgcs2000", "epsg4326", "epsg4490"):
        return np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    if datum == "gcj02":
        return gcj02_to_wgs84(lon, lat)
    if datum == "bd09":
        return gcj02_to_wgs84(*bd09_to_gcj02(lon, lat))
    msg = f"unknown coordinate datum {datum!r}: use wgs84, cgcs2000, gcj02 or bd09"
    raise ValueError(msg)


def crs_label(crs: Any) -> str:
    """Return a CRS as ``EPSG:4547 CGCS2000 / 3-degree Gauss-Kruger CM 114E``.

    Returns
    -------
    str
        ``EPSG:<code> <name>``; the name alone when it has no EPSG code; ``""`` for none.
    """
    if crs is None:
        return ""
    crs = pyproj.CRS.from_user_input(crs)
    code = crs.to_epsg()
    return f"EPSG:{code} {crs.name}" if code else crs.name
