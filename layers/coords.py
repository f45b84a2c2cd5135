"""Coordinates on the way in: declared CRS, GCJ-02/BD-09 datums, swapped lon/lat, valid ranges."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely

from cfplan.geo.crs import WGS84, in_china, to_wgs84
from cfplan.layers.accounting import Repair, feature_label
from cfplan.layers.errors import InputError
from cfplan.layers.manifest import LayerSpec
from cfplan.layers.text import Text

SHIFTED_DATUMS = ("gcj02", "bd09")


def _in_degrees(gdf: gpd.GeoDataFrame) -> np.ndarray:
    """Which features have every coordinate within ±180 (lon/lat, possibly swapped)."""
    bounds = gdf.geometry.bounds.to_numpy(dtype=float)
    return (np.abs(bounds) <= 180).all(axis=1)


def check_coordinates(gdf: gpd.GeoDataFrame, spec: LayerSpec, *, declared: bool) -> None:
    """Raise when the coordinates cannot be in the CRS the file claims.

    Raises
    ------
    InputError
        Degrees-like coordinates under a projected CRS, or metre-like coordinates with
        no CRS or a geographic one.
    """
    has = gdf.geometry.notna().to_numpy() & ~gdf.geometry.is_empty.to_numpy()
    if not has.any():
        return
    degrees = _in_degrees(gdf[has])
    x0, y0, _, _ = gdf.geometry[has].total_bounds
    sample = f"({x0:.6g}, {y0:.6g})"
    if (gdf.crs is None or gdf.crs.is_geographic) and not degrees.any():
        problem = (Text("文件声明为经纬度（WGS-84），但坐标不是经纬度",
                        "the file declares lon/lat (WGS-84) but its coordinates are not degrees")
                   if declared else
                   Text("没有坐标系，且坐标不是经纬度",
                        "the file has no CRS and its coordinates are not lon/lat degrees"))
        raise InputError(
            str(spec.path), problem + Text(f"，如 {sample}", f", e.g. {sample}"),
            Text('在清单中写明 crs，如 crs = "EPSG:4547"',
                 'set the CRS in the manifest, e.g. crs = "EPSG:4547"'), field="geometry",
        )
    if gdf.crs is not None and gdf.crs.is_projected and degrees.all():
        raise InputError(
            str(spec.path), Text(f"坐标系为投影坐标系 {gdf.crs.to_string()}，但坐标像经纬度 {sample}",
                                 f"the CRS is projected ({gdf.crs.to_string()}) but coordinates "
                                 f"such as {sample} look like degrees"),
            Text('删除错误的 .prj 或在清单中写 crs = "EPSG:4326"',
                 'remove the wrong .prj or set crs = "EPSG:4326" in the manifest'),
            field="geometry",
        )


def to_wgs84_frame(
    gdf: gpd.GeoDataFrame, spec: LayerSpec, *, warnings: list[Text], repairs: list[Repair]
) -> gpd.GeoDataFrame:
    """Bring a raw layer to WGS-84 lon/lat, converting GCJ-02 / BD-09 and fixing swapped pairs.

    Returns
    -------
    geopandas.GeoDataFrame
        The layer in EPSG:4326 (``attrs`` kept).

    Raises
    ------
    InputError
        If the CRS is unknown and the coordinates are not lon/lat degrees, or the
        coordinates cannot be in the CRS the file declares.
    """
    name = spec.path.name
    declared = gdf.crs is not None or bool(spec.crs)
    if spec.crs:
        gdf = gdf.set_crs(spec.crs, allow_override=True)
    check_coordinates(gdf, spec, declared=declared)
    if gdf.crs is None:
        gdf = gdf.set_crs(WGS84)
        if "lonlat" not in gdf.attrs and len(gdf):
            warnings.append(Text(f"{name}：未声明坐标系，按 WGS-84 经纬度读取",
                                 f"{name}: no CRS; read as WGS-84 lon/lat"))
    geographic = gdf.crs.is_geographic
    attrs = dict(gdf.attrs)
    gdf = gdf.to_crs(WGS84)
    gdf.attrs = attrs
    if geographic:
        gdf = fix_swapped(gdf, spec, repairs)
    datum = spec.datum_key
    if datum in SHIFTED_DATUMS:

        def convert(coords: np.ndarray) -> np.ndarray:
            lon, lat = to_wgs84(coords[:, 0], coords[:, 1], datum=datum)
            return np.column_stack([lon, lat])

        geoms = shapely.transform(np.asarray(gdf.geometry.values), convert)
        gdf = gdf.set_geometry(gpd.GeoSeries(geoms, crs=WGS84, index=gdf.index))
        gdf.attrs = attrs
    return gdf


def _swap_xy(coords: np.ndarray) -> np.ndarray:
    return coords[:, ::-1]


def _valid_lonlat(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    return (np.abs(x) <= 180) & (np.abs(y) <= 90)


def fix_swapped(gdf: gpd.GeoDataFrame, spec: LayerSpec, repairs: list[Repair]
                ) -> gpd.GeoDataFrame:
    """Swap lon/lat back, per feature, where the pair is certainly swapped.

    A feature is swapped back when its latitude cannot be one (beyond ±90°) but the
    swapped pair is valid, or when only the swapped pair falls in China (a common mistake
    with 经度/纬度 columns). Elsewhere a swapped pair that is still valid cannot be told
    from a real place; it is rejected later as outside the district, with a hint.

    Returns
    -------
    geopandas.GeoDataFrame
        The layer with swapped features fixed; each fix is recorded in ``repairs``.
    """
    has = gdf.geometry.notna().to_numpy() & ~gdf.geometry.is_empty.to_numpy()
    if not has.any():
        return gdf
    bounds = np.full((len(gdf), 4), np.nan)
    bounds[has] = gdf.geometry[has].bounds.to_numpy(dtype=float)
    x0, y0, x1, y1 = bounds.T
    valid = _valid_lonlat(x0, y0) & _valid_lonlat(x1, y1)
    valid_swapped = _valid_lonlat(y0, x0) & _valid_lonlat(y1, x1)
    china = in_china(x0, y0) & in_china(x1, y1)
    china_swapped = in_china(y0, x0) & in_china(y1, x1)
    swap = has & ((~valid & valid_swapped) | (~china & china_swapped))
    if not swap.any():
        return gdf
    new = np.asarray(gdf.geometry.values, dtype=object).copy()
    new[swap] = shapely.transform(new[swap], _swap_xy)
    lonlat = gdf.attrs.get("lonlat")
    field_name = f"{lonlat[0]}/{lonlat[1]}" if lonlat else "geometry"
    for row in np.flatnonzero(swap):
        repairs.append(Repair(spec.layer, spec.path.name, int(row) + 1,
                              feature_label(gdf.iloc[row]), field_name,
                              Text("经纬度互换，已交换", "lon and lat swapped; swapped back")))
    out = gdf.set_geometry(gpd.GeoSeries(list(new), crs=gdf.crs, index=gdf.index))
    out.attrs = gdf.attrs
    return out


def out_of_range(gdf: gpd.GeoDataFrame) -> tuple[np.ndarray, list[Text]]:
    """Return which WGS-84 features have coordinates no place on Earth has, and why.

    Returns
    -------
    tuple
        A boolean mask over ``gdf`` and one reason per flagged feature.
    """
    if gdf.empty:
        return np.zeros(0, dtype=bool), []
    x0, y0, x1, y1 = gdf.geometry.bounds.to_numpy(dtype=float).T
    bad = ~(_valid_lonlat(x0, y0) & _valid_lonlat(x1, y1))
    reasons = [Text(f"坐标 ({a:.5f}, {b:.5f}) 超出经纬度范围",
                    f"coordinates ({a:.5f}, {b:.5f}) are outside the lon/lat range")
               for a, b in zip(x0[bad], y0[bad], strict=True)]
    return bad, reasons


def swapped_hint(points: gpd.GeoSeries, boundary: object, margin_m: float) -> np.ndarray:
    """Which points (metric CRS, WGS-84 input swapped) would lie in the district if swapped.

    Returns
    -------
    numpy.ndarray
        Boolean mask over ``points``.
    """
    if points.empty:
        return np.zeros(0, dtype=bool)
    wgs = points.to_crs(WGS84)
    swapped = gpd.GeoSeries(shapely.transform(np.asarray(wgs.values), _swap_xy), crs=WGS84)
    ok = _valid_lonlat(swapped.x.to_numpy(), swapped.y.to_numpy())
    out = np.zeros(len(points), dtype=bool)
    if ok.any():
        back = swapped[ok].to_crs(points.crs)
        out[ok] = (back.distance(boundary) <= margin_m).to_numpy()
    return out


def centre_of(gdf: gpd.GeoDataFrame) -> tuple[float, float]:
    """Return the median lon/lat of the features' representative points (robust to strays)."""
    pts = gdf.geometry.representative_point()
    return float(np.median(pts.x)), float(np.median(pts.y))


__all__ = ["centre_of", "check_coordinates", "fix_swapped", "out_of_range", "swapped_hint",
           "to_wgs84_frame"]


