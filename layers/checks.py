"""Warnings for suspicious input: GCJ-02 offsets, units with no population, gaps, stray layers."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Union

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import ArrayLike, NDArray

from cfplan.geo.crs import WGS84, gcj02_to_wgs84
from cfplan.layers.text import Text

# Polygon layers whose boundaries are checked for a GCJ-02 offset, and the datums that mean
# "the file says WGS-84" (CGCS2000 equals it at planning accuracy).
POLYGON_LAYERS = ("district", "subdistricts", "units")
WGS84_DATUMS = ("wgs84", "cgcs2000", "epsg4326", "epsg4490")
BOUNDARY_SPACING_M = 50.0
STREETS = Text("道路", "the streets")
OUTLINE = Text("官方区界", "the official outline")
MAX_BOUNDARY_POINTS = 20_000
GAP_MIN_AREA_M2 = 5_000.0
_COMPASS_ZH = ("东", "东北", "北", "西北", "西", "西南", "南", "东南")
_COMPASS_EN = ("east", "north-east", "north", "north-west", "west", "south-west", "south",
               "south-east")


def compass(dx: float, dy: float) -> tuple[str, str]:
    """Return the eight-point compass direction of a vector as ``(Chinese, English)``."""
    sector = round(float(np.degrees(np.arctan2(dy, dx))) / 45.0) % 8
    return _COMPASS_ZH[sector], _COMPASS_EN[sector]


StreetLines = Union["gpd.GeoSeries", ArrayLike, shapely.STRtree]


def street_index(street_lines: StreetLines) -> shapely.STRtree:
    """Return a spatial index over the non-empty street lines (an index is returned as is).

    Build it once when many point sets are measured against the same streets.
    """
    if isinstance(street_lines, shapely.STRtree):
        return street_lines
    geoms = np.asarray(getattr(street_lines, "values", street_lines), dtype=object)
    keep = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms)) if len(geoms) else []
    return shapely.STRtree(geoms[keep] if len(geoms) else geoms)


def distance_to_streets(points: gpd.GeoSeries | ArrayLike, street_lines: StreetLines
                        ) -> NDArray[np.float64]:
    """Return each point's distance to the nearest street line (in the lines' units).

    Parameters
    ----------
    points
        Point geometries in a metric CRS.
    street_lines
        Street line geometries in the same CRS, or their :func:`street_index`.

    Returns
    -------
    numpy.ndarray
        Distances; ``inf`` for every point when there are no streets.
    """
    pts = np.asarray(getattr(points, "values", points), dtype=object)
    tree = street_index(street_lines)
    if len(tree) == 0 or len(pts) == 0:
        return np.full(len(pts), np.inf)
    _, dist = tree.query_nearest(pts, return_distance=True, all_matches=False)
    return np.asarray(dist, dtype=float)


def _gcj_corrected(points: gpd.GeoSeries) -> gpd.GeoSeries:
    """Return ``points`` moved as if their coordinates were GCJ-02 read as WGS-84."""
    wgs = points.to_crs(WGS84)
    lon, lat = gcj02_to_wgs84(wgs.x.to_numpy(), wgs.y.to_numpy())
    return gpd.GeoSeries(shapely.points(lon, lat), crs=WGS84, index=points.index).to_crs(points.crs)


DECOY_ANGLES = tuple(range(30, 360, 30))  # degrees: the GCJ-02 shift turned to other directions


def _beats_decoys(pts: gpd.GeoSeries, moved: gpd.GeoSeries,
                  street_lines: StreetLines, raw: np.ndarray, fixed: np.ndarray,
                  *, margin: float = 0.85, quantile: float = 90.0) -> bool:
    """Whether undoing GCJ-02 brings the points closer to the lines than any shift like it.

    In a dense street grid every point is near some street, so a median distance says
    little. The test compares the GCJ-02 correction with decoys, the same shift turned to
    11 other directions, on the 90th percentile of the distances (how far the farthest
    points lie): only coordinates that really are GCJ-02 all come close to the lines under
    the true correction, below ``margin`` × the best decoy's and × the uncorrected value;
    correct coordinates are closest as they are.
    """
    x, y = pts.x.to_numpy(), pts.y.to_numpy()
    dx, dy = moved.x.to_numpy() - x, moved.y.to_numpy() - y
    decoys = []
    for angle in np.radians(DECOY_ANGLES):
        c, s = np.cos(angle), np.sin(angle)
        shifted = shapely.points(x + c * dx - s * dy, y + s * dx + c * dy)
        decoys.append(float(np.percentile(distance_to_streets(shifted, street_lines), quantile)))
    best = float(np.percentile(fixed, quantile))
    return best < margin * min(decoys) and best < margin * float(np.percentile(raw, quantile))


def gcj_offset_warning(
    points: gpd.GeoDataFrame | gpd.GeoSeries,
    street_lines: StreetLines,
    *,
    layer: str = "",
    min_points: int = 5,
    min_gain_m: float = 15.0,
    min_ratio: float = 2.0,
    min_share: float = 0.7,
    against: Text = STREETS,
) -> Text | None:
    """Warn when points or polygons look like GCJ-02 (AMap/Tencent) labelled as WGS-84.

    GCJ-02 moves points by roughly 300–700 m in a direction that changes only slowly
    across a city (about 560 m east-south-east around Zhengzhou). Points entered that
    way sit off the street network by that offset. The test undoes the offset
    (GCJ-02 → WGS-84) and warns when that brings the points markedly closer to the
    streets: the median distance falls by at least ``min_ratio`` times and
    ``min_gain_m`` metres, and at least ``min_share`` of the points move closer; or, where
    streets are so dense that every point is near one, when the correction brings them
    closer than the same shift turned to any of 11 other directions does (decoys). Points
    already converted correctly move away from the streets under the same test, so
    correct data does not warn.

    Polygons (units, subdistricts, a district) are tested by points along their
    boundaries (:func:`boundary_points`), which follow streets (or, against an official
    outline, that outline) when the coordinates are right.

    Parameters
    ----------
    points
        Facilities (or any point layer) in a metric CRS; polygons are represented by
        points along their boundaries, other geometries by their representative point.
    street_lines
        Street centre lines in the same metric CRS (e.g. the network's edge geometries),
        or any reference lines (an official outline's boundary).
    layer
        Name shown in the warning (a file name or layer name).
    min_points
        Fewer points than this never warn.
    min_gain_m, min_ratio, min_share
        Thresholds described above.
    against
        What the lines are, for the polygon warning (the streets, an official outline).

    Returns
    -------
    Text or None
        The warning, or ``None`` when nothing is suspicious.
    """
    geoms = points.geometry if isinstance(points, gpd.GeoDataFrame) else points
    geoms = geoms[geoms.notna() & ~geoms.is_empty]
    if geoms.crs is None or not geoms.crs.is_projected:
        return None
    polygonal = geoms.geom_type.isin(["Polygon", "MultiPolygon"]).to_numpy()
    pts = geoms[~polygonal].representative_point()
    if polygonal.any():
        pts = pd.concat([pts, boundary_points(geoms[polygonal])], ignore_index=True)
    if len(pts) < min_points:
        return None
    raw = distance_to_streets(pts, street_lines)
    if not np.isfinite(raw).all():
        return None
    moved = _gcj_corrected(pts)
    fixed = distance_to_streets(moved, street_lines)
    raw_med, fixed_med = float(np.median(raw)), float(np.median(fixed))
    closer = float(np.mean(fixed < raw))
    strong = raw_med - fixed_med >= min_gain_m and raw_med >= min_ratio * fixed_med \
        and closer >= min_share
    if not strong and not _beats_decoys(pts, moved, street_lines, raw, fixed):
        return None
    dx = float(np.median(pts.x.to_numpy() - moved.x.to_numpy()))
    dy = float(np.median(pts.y.to_numpy() - moved.y.to_numpy()))
    zh_dir, en_dir = compass(dx, dy)
    shift = float(np.hypot(dx, dy))
    name = layer or "points"
    if polygonal.all():
        return (
            Text(f"{name}：边界整体偏向{zh_dir}约 {shift:.0f} m，边界点距{against.zh}中位 {raw_med:.0f} m；"
                 f"按 GCJ-02（高德/腾讯坐标）回算后仅 {fixed_med:.0f} m。边界可能是 GCJ-02（如高德、DataV 下载）"
                 '却标作 WGS-84，请在清单中写 datum = "gcj02"',
                 f"{name}: the boundaries sit about {shift:.0f} m {en_dir} of where they would "
                 f"be, {raw_med:.0f} m from {against.en} (median of {len(pts)} boundary "
                 f"points); read as GCJ-02 (AMap/Tencent) they are {fixed_med:.0f} m away. "
                 "They are probably GCJ-02 (an AMap or DataV download) labelled as WGS-84: "
                 'set datum = "gcj02" in the manifest'))
    return (
        Text(f"{name}：{len(pts)} 个点整体偏向{zh_dir}约 {shift:.0f} m，距道路中位 {raw_med:.0f} m；按 "
             f"GCJ-02（高德/腾讯坐标）回算后仅 {fixed_med:.0f} m。坐标可能是 GCJ-02 却标作 WGS-84，请在清单中写 datum = "
             '"gcj02"',
             f"{name}: {len(pts)} points sit about {shift:.0f} m {en_dir} of where they "
             f"would be, {raw_med:.0f} m from the streets (median); read as GCJ-02 "
             f"(AMap/Tencent) they are {fixed_med:.0f} m away. They are probably GCJ-02 "
             'labelled as WGS-84: set datum = "gcj02" in the manifest')
    )


def datum_warnings(facilities: gpd.GeoDataFrame, street_lines: StreetLines, *,
                   in_china: bool = True) -> list[Text]:
    """Warn, per facility file, when its points sit off the streets by a GCJ-02-like offset.

    Only inside China: GCJ-02 does not shift points elsewhere.

    Returns
    -------
    list of Text
        One warning per suspicious file.
    """
    if not in_china or facilities.empty:
        return []
    points = facilities[facilities.geom_type == "Point"]
    out = []
    for file, group in points.groupby("_file", sort=True):
        warning = gcj_offset_warning(group.geometry, street_lines, layer=str(file))
        if warning:
            out.append(warning)
    return out


def boundary_points(polygons: gpd.GeoSeries, *, spacing_m: float = BOUNDARY_SPACING_M,
                    max_points: int = MAX_BOUNDARY_POINTS) -> gpd.GeoSeries:
    """Return points along polygon boundaries: the vertices and every ``spacing_m`` between.

    Points shared by neighbouring polygons appear once; beyond ``max_points`` an even
    sample is kept (deterministic).

    Returns
    -------
    geopandas.GeoSeries
        Points in the polygons' CRS (metres).
    """
    rings = shapely.segmentize(np.asarray(polygons.boundary.values), spacing_m)
    coords = np.unique(np.round(shapely.get_coordinates(rings), 2), axis=0)
    if len(coords) > max_points:
        coords = coords[np.linspace(0, len(coords) - 1, max_points).astype(int)]
    return gpd.GeoSeries(shapely.points(coords), crs=polygons.crs)


def polygon_datum_warnings(
    polygons: Mapping[str, gpd.GeoDataFrame], lines: StreetLines, *,
    datums: Mapping[str, str] | None = None, in_china: bool = True,
    against: Text = STREETS, min_share: float = 0.6,
) -> list[Text]:
    """Warn, per polygon file labelled WGS-84, when its boundaries sit off by a GCJ-02 offset.

    Parameters
    ----------
    polygons
        Layer name → polygons (with ``_file``) in a metric CRS: the district,
        subdistricts and units.
    lines
        Reference lines in the same CRS: the streets, or an official outline's boundary.
    datums
        File name → declared datum (``LayerSet.datums``); files declared GCJ-02 or BD-09
        were converted on the way in and are not tested.
    in_china
        GCJ-02 only shifts coordinates inside China.
    against, min_share
        See :func:`gcj_offset_warning` (boundaries run off the streets in places, so a
        smaller share of points than for facilities need move closer).

    Returns
    -------
    list of Text
        One warning per suspicious file.
    """
    if not in_china:
        return []
    datums = dict(datums or {})
    out = []
    for layer in POLYGON_LAYERS:
        gdf = polygons.get(layer)
        if gdf is None or gdf.empty or "_file" not in gdf.columns:
            continue
        for file, group in gdf.groupby("_file", sort=True):
            if datums.get(str(file), "wgs84") not in WGS84_DATUMS:
                continue
            warning = gcj_offset_warning(group.geometry, lines, layer=str(file),
                                         against=against, min_share=min_share)
            if warning:
                out.append(warning)
    return out


def zero_population_warnings(units: gpd.GeoDataFrame | pd.DataFrame) -> list[Text]:
    """Return one warning per unit whose population is zero or missing."""
    out = []
    pop = units["population"]
    for _, row in units.loc[pop.isna() | (pop.fillna(0) == 0)].iterrows():
        label = f"{row['_file']} {row['code']} {row['name']}"
        out.append(Text(f"{label}：人口为 0，可能漏填",
                        f"{label}: the unit has no population; probably not filled in"))
    return out


def unit_gap_warning(
    units: gpd.GeoDataFrame, district: gpd.GeoDataFrame, *, min_area_m2: float = GAP_MIN_AREA_M2
) -> Text | None:
    """Warn when the units leave gaps inside the district boundary.

    Parameters
    ----------
    units, district
        Polygons in the same metric CRS.
    min_area_m2
        Gaps smaller than this (slivers from digitising) are ignored.

    Returns
    -------
    Text or None
        The warning with the number of gaps, their area and where the largest lies.
    """
    if units.empty or district.empty:
        return None
    boundary = shapely.union_all(np.asarray(district.geometry.values))
    covered = shapely.union_all(np.asarray(units.geometry.values))
    gaps = shapely.get_parts(shapely.difference(boundary, covered))
    gaps = gaps[shapely.area(gaps) >= min_area_m2] if len(gaps) else gaps
    if len(gaps) == 0:
        return None
    areas = shapely.area(gaps)
    total = float(areas.sum())
    share = total / boundary.area if boundary.area > 0 else 0.0
    where = gpd.GeoSeries([gaps[int(np.argmax(areas))].representative_point()],
                          crs=units.crs).to_crs(WGS84).iloc[0]
    at = f"({where.x:.5f}, {where.y:.5f})"
    return (
        Text(f"社区/村未铺满区界：{len(gaps)} 处空隙，共 {total / 1e4:.1f} 公顷（占 {share:.1%}），最大一处在 {at}"
             "；空隙中的居民与设施不计入任何社区",
             f"the units leave {len(gaps)} gap(s) in the district, {total / 1e4:.1f} ha "
             f"in all ({share:.1%}); the largest is at {at}. Nothing there counts for any unit")
    )


def outside_layer_warning(layer: str, file: str, *, margin_m: float) -> Text:
    """Return the warning for a file whose features all lie outside the district."""
    return (Text(f"{file}（{layer}）：整个图层都在区界 {margin_m:.0f} m 之外，已全部剔除；请检查坐标系",
                 f"{file} ({layer}): the whole layer lies more than {margin_m:.0f} m "
                 "outside the district and was rejected; check its CRS"))


def loose_facility_warning(file: str, fids: list[str]) -> Text:
    """Return the warning for facilities that lie in no unit (but inside the margin)."""
    shown = "、".join(fids[:8]) + ("…" if len(fids) > 8 else "")
    return (Text(f"{file}：{len(fids)} 个设施不在任何社区/村内（{shown}），计入全区数量与步行可达性，不计入任何社区",
                 f"{file}: {len(fids)} facilities lie in no unit ({shown}); they count for "
                 "district totals and walking access, not for any unit"))


__all__ = [
    "boundary_points",
    "compass",
    "datum_warnings",
    "distance_to_streets",
    "gcj_offset_warning",
    "loose_facility_warning",
    "outside_layer_warning",
    "polygon_datum_warnings",
    "unit_gap_warning",
    "zero_population_warnings",
]
