"""JSON boundaries as DataV and AMap give them: bare arrays of features, district responses."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import pyproj
import shapely
import shapely.geometry

from cfplan.geo.crs import WGS84
from cfplan.layers.errors import InputError
from cfplan.layers.hidden import GEOM_PROBLEM
from cfplan.layers.text import Text

JSON_SUFFIXES = (".json", ".geojson")
GEOMETRY_TYPES = ("Point", "MultiPoint", "LineString", "MultiLineString", "Polygon",
                  "MultiPolygon", "GeometryCollection")


_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')


def _unclosed(text: str) -> bool:
    """Return True when JSON text ends inside a string or with brackets left open (cut off)."""
    bare = _STRING.sub('""', text)
    depth = bare.count("{") + bare.count("[") - bare.count("}") - bare.count("]")
    return bare.count('"') % 2 == 1 or depth > 0


def _syntax_error(path: Path, text: str, exc: json.JSONDecodeError) -> InputError:
    """Return the error for text that is not JSON: where it breaks, whether it was cut off."""
    cut = _unclosed(text)
    where = Text(f"第 {exc.lineno} 行第 {exc.colno} 列", f"line {exc.lineno}, column {exc.colno}")
    if cut:
        return InputError(
            str(path), Text("文件无法解析：JSON 在", "cannot parse the file: the JSON stops at ")
            + where + Text(f"中断，文件不完整（{exc.msg}）",
                           f" before it is complete ({exc.msg})"),
            Text("文件被截断：重新下载或导出", "the file was cut off: download or export it again"))
    return InputError(
        str(path), Text("文件无法解析：JSON 语法错误，位于", "cannot parse the file: JSON syntax error at ")
        + where + Text(f"（{exc.msg}）", f" ({exc.msg})"),
        Text("按提示位置修正 JSON，或重新导出", "fix the JSON at that place, or export it again"))


def _crs_of(data: dict[str, object]) -> str | pyproj.CRS:
    """Return the CRS an old-style GeoJSON ``crs`` member names, else WGS-84 (RFC 7946)."""
    member = data.get("crs")
    if isinstance(member, dict):
        name = (member.get("properties") or {}).get("name")
        if name:
            try:
                return pyproj.CRS.from_user_input(name)
            except pyproj.exceptions.CRSError:
                pass
    return WGS84


def _geometry(value: object) -> tuple[object, Text | None]:
    """Return ``(shapely geometry or None, problem)`` for one GeoJSON geometry member."""
    if value is None:
        return None, None
    if not isinstance(value, dict) or value.get("type") not in GEOMETRY_TYPES:
        return None, Text("几何不是 GeoJSON 几何对象", "the geometry is not a GeoJSON geometry")
    try:
        geom = shapely.geometry.shape(value)
    except (ValueError, TypeError, KeyError, IndexError, AttributeError,
            shapely.errors.GEOSException):
        return None, Text("几何无法解析（环未闭合或点数不足）",
                          "unreadable geometry (unclosed ring or too few points)")
    return geom, None


def _rings(polyline: str) -> Any:
    """Return an AMap ``polyline`` (``lon,lat;lon,lat|…``) as one shape; inner rings are holes."""
    polygons = []
    for part in polyline.split("|"):
        coords = [tuple(float(v) for v in pair.split(",")) for pair in part.split(";") if pair]
        polygons.append(shapely.Polygon(coords))
    polygons.sort(key=lambda p: -p.area)
    shape = shapely.Polygon()
    for poly in polygons:
        shape = shape.difference(poly) if shape.contains(poly) else shape.union(poly)
    return shape


Row = tuple[dict[str, object], Any, Text | None]


def _amap_districts(districts: list[object]) -> list[Row]:
    rows: list[Row] = []
    for d in districts:
        if not isinstance(d, dict):
            rows.append(({}, None, Text("不是行政区对象", "not a district object")))
            continue
        props = {k: v for k, v in d.items() if k not in ("polyline", "districts")}
        try:
            geom = _rings(str(d.get("polyline") or ""))
            problem = None if not geom.is_empty else Text("没有边界（polyline 为空）",
                                                          "no boundary (empty polyline)")
        except (ValueError, TypeError, shapely.errors.GEOSException):
            geom, problem = None, Text("polyline 无法解析", "unreadable polyline")
        rows.append((props, geom, problem))
    return rows


def _features(items: list[object]) -> list[Row]:
    rows: list[Row] = []
    for item in items:
        if isinstance(item, dict) and item.get("type") in GEOMETRY_TYPES:
            item = {"type": "Feature", "properties": {}, "geometry": item}
        if not isinstance(item, dict) or item.get("type") != "Feature":
            rows.append(({}, None, Text("不是 GeoJSON 要素（Feature）", "not a GeoJSON Feature")))
            continue
        props = item.get("properties")
        geom, problem = _geometry(item.get("geometry"))
        rows.append((dict(props) if isinstance(props, dict) else {}, geom, problem))
    return rows


def read_json_features(path: str | Path) -> gpd.GeoDataFrame:
    """Read JSON boundaries in the shapes that downloads give them.

    Accepted: a GeoJSON FeatureCollection (extra members ignored), a bare array of
    Features (DataV and similar tools), a single Feature or geometry, and the AMap
    district-search response (``{"districts": [{"name", "adcode", "polyline"}, …]}``).
    DataV and AMap boundaries are GCJ-02: the manifest says ``datum = "gcj02"``.

    Returns
    -------
    geopandas.GeoDataFrame
        One row per feature with its properties (nested values kept as they are) and a
        hidden ``_geom_problem`` column for features whose geometry is broken (the
        validator rejects them); CRS from an old-style ``crs`` member, else WGS-84.

    Raises
    ------
    InputError
        When the text is not JSON (where it breaks; cut off or not), or is JSON that holds
        no features.
    """
    path = Path(path)
    text = path.read_bytes().decode("utf-8-sig", errors="replace")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise _syntax_error(path, text, exc) from exc
    crs: str | pyproj.CRS = WGS84
    if isinstance(data, list):
        rows = _features(data)
    elif isinstance(data, dict) and isinstance(data.get("features"), list):
        rows, crs = _features(data["features"]), _crs_of(data)
    elif isinstance(data, dict) and data.get("type") in ("Feature", *GEOMETRY_TYPES):
        rows, crs = _features([data]), _crs_of(data)
    elif isinstance(data, dict) and isinstance(data.get("districts"), list):
        rows = _amap_districts(data["districts"])
    else:
        keys = ", ".join(sorted(map(str, data))[:8]) if isinstance(data, dict) else type(data).__name__
        raise InputError(
            str(path), Text(f"文件是 JSON 但不含要素（顶层：{keys}）",
                            f"the file is JSON but holds no features (top level: {keys})"),
            Text("需要 GeoJSON FeatureCollection、要素数组，或高德行政区查询结果（districts/polyline）",
                 "give a GeoJSON FeatureCollection, an array of Features, or an AMap district "
                 "response (districts with polyline)"))
    props = pd.DataFrame([r[0] for r in rows], index=range(len(rows)))
    out = gpd.GeoDataFrame(props, geometry=[r[1] for r in rows], crs=crs)
    out[GEOM_PROBLEM] = pd.Series([r[2] for r in rows], index=out.index, dtype=object)
    return out


__all__ = ["JSON_SUFFIXES", "read_json_features"]
