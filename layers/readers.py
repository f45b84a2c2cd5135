"""Read one input file as it is: vector files through pyogrio, tables with lon/lat, OSM files."""

from __future__ import annotations

import math
import warnings as py_warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pyogrio.errors
import pyogrio.raw
import shapely
import shapely.errors

from cfplan.geo.osm_elements import is_osm_file
from cfplan.layers.encoding import read_csv_text, shapefile_encoding
from cfplan.layers.errors import InputError
from cfplan.layers.files import check_input_file
from cfplan.layers.hidden import COORD_NOTE, COORD_PROBLEM, GEOM_PROBLEM, HIDDEN, READ_PROBLEM
from cfplan.layers.json_features import JSON_SUFFIXES, read_json_features
from cfplan.layers.manifest import LayerSpec
from cfplan.layers.schema import ValueProblem, is_missing, parse_number
from cfplan.layers.text import Text
from cfplan.layers.xlsx import read_sheet

LON_ALIASES = ("lon", "lng", "longitude", "经度", "x", "X", "LON", "LNG", "经度(°)")
LAT_ALIASES = ("lat", "latitude", "纬度", "y", "Y", "LAT", "纬度(°)")
TABLE_SUFFIXES = (".csv", ".txt", ".xlsx", ".xls")


def _find_column(columns: list[str], wanted: str | None, aliases: tuple[str, ...]) -> str | None:
    if wanted:
        return wanted if wanted in columns else None
    lowered = {str(c).strip().lower(): c for c in columns}
    for alias in aliases:
        if alias.lower() in lowered:
            return lowered[alias.lower()]
    return None


def _coordinate(value: object, column: str) -> tuple[float | None, Text | None, Text | None]:
    """Parse one coordinate cell: (value, repair note, problem)."""
    if is_missing(value):
        return None, None, Text(f"「{column}」为空", f"{column} is empty")
    try:
        number, repaired = parse_number(value)
    except ValueProblem:
        return None, None, Text(f"「{column}」的值「{value}」不是数字",
                                f"{column}: {value!r} is not a number")
    note = (Text(f"「{column}」「{value}」规范为 {number}",
                 f"{column}: {value!r} normalised to {number}") if repaired else None)
    return number, note, None


def _read_workbook(spec: LayerSpec, warnings: list[Text]) -> pd.DataFrame:
    """Read the sheet of an XLSX meant by the manifest; formula cells as their stored values."""
    sheet = read_sheet(spec.path, sheet=spec.sheet)
    df = sheet.table
    df[READ_PROBLEM] = pd.Series([sheet.problems.get(pos) for pos in range(len(df))],
                                 index=df.index, dtype=object)
    if sheet.formulas:
        name = spec.path.name
        warnings.append(Text(f"{name}（{sheet.name}）：{sheet.formulas} 个公式单元格按 Excel "
                             "上次保存的计算结果读取",
                             f"{name} ({sheet.name}): {sheet.formulas} formula cell(s) read as "
                             "the values Excel last saved"))
    return df


def _read_table(spec: LayerSpec, warnings: list[Text]) -> gpd.GeoDataFrame:
    """Read a CSV or XLSX with lon/lat columns as points (no CRS set)."""
    path = spec.path
    if path.suffix.lower() in (".xlsx", ".xls"):
        df = _read_workbook(spec, warnings)
    else:
        df = read_csv_text(spec, warnings)
    df.columns = [str(c).strip() for c in df.columns]
    cols = [c for c in df.columns if c not in HIDDEN]
    lon_col = _find_column(cols, spec.lon, LON_ALIASES)
    lat_col = _find_column(cols, spec.lat, LAT_ALIASES)
    if lon_col is None or lat_col is None:
        raise InputError(
            str(path), Text(f"找不到经纬度列（现有列：{', '.join(cols) or '无'}）",
                            f"no lon/lat columns (columns: {', '.join(cols) or 'none'})"),
            Text("表格需有 经度/纬度 或 lon/lat 列，或在清单中用 lon=、lat= 指定",
                 "the table needs 经度/纬度 or lon/lat columns, or name them in the manifest "
                 "with lon= and lat="),
            field=spec.lon if lon_col is None and spec.lon else spec.lat or "经度/纬度",
        )
    geoms: list[object] = []
    notes: list[Text | None] = []
    problems: list[Text | None] = []
    for lon_raw, lat_raw in zip(df[lon_col], df[lat_col], strict=True):
        lon, lon_note, lon_bad = _coordinate(lon_raw, lon_col)
        lat, lat_note, lat_bad = _coordinate(lat_raw, lat_col)
        ok = lon is not None and lat is not None and math.isfinite(lon) and math.isfinite(lat)
        geoms.append(shapely.Point(lon, lat) if ok else None)
        done = [n for n in (lon_note, lat_note) if n]
        notes.append(Text.join(done) if done else None)
        problems.append(None if ok else lon_bad or lat_bad
                        or Text("坐标不是有限数值", "the coordinates are not finite numbers"))
    out = gpd.GeoDataFrame(df.drop(columns=[lon_col, lat_col]), geometry=geoms, crs=None)
    out[COORD_NOTE] = pd.Series(notes, index=out.index, dtype=object)
    out[COORD_PROBLEM] = pd.Series(problems, index=out.index, dtype=object)
    out.attrs["lonlat"] = (lon_col, lat_col)
    return out


def _read_ogr_per_feature(path: Path, kwargs: dict[str, object]) -> gpd.GeoDataFrame:
    """Read a vector file whose geometries GEOS refuses, marking the unreadable ones."""
    meta, _, wkb, fields = pyogrio.raw.read(path, **kwargs)
    geoms = shapely.from_wkb(wkb, on_invalid="ignore")
    bad = np.array([w is not None for w in wkb]) & shapely.is_missing(geoms)
    data = {str(name): values for name, values in zip(meta["fields"], fields, strict=True)}
    out = gpd.GeoDataFrame(data, geometry=list(geoms), crs=meta["crs"])
    problem = Text("几何无法解析（环未闭合或点数不足）",
                   "unreadable geometry (unclosed ring or too few points)")
    out[GEOM_PROBLEM] = pd.Series([problem if b else None for b in bad], index=out.index,
                                  dtype=object)
    return out


def _ogr_layer(spec: LayerSpec) -> str | None:
    """Return the layer of a multi-layer source (GeoPackage …) to read: the manifest's or the only one.

    Raises
    ------
    InputError
        If the manifest names a layer the file does not hold, or the file holds several
        layers with geometry and the manifest names none (both list the layers).
    """
    names = [str(n) for n, geometry in pyogrio.list_layers(spec.path) if geometry is not None]
    shown = "、".join(names) or "-"
    where = "[[facilities]]" if spec.layer == "facilities" else f"[layers.{spec.layer}]"
    if spec.sublayer is not None:
        if spec.sublayer in names or not names:
            return spec.sublayer
        raise InputError(str(spec.path), Text(f"没有名为「{spec.sublayer}」的图层（现有：{shown}）",
                                              f"no layer named {spec.sublayer!r} (layers: "
                                              f"{', '.join(names)})"),
                         Text(f"改正清单 {where} 中的 layer", f"correct layer in {where}"),
                         field="layer")
    if len(names) > 1:
        raise InputError(
            str(spec.path), Text(f"文件有 {len(names)} 个图层（{shown}），清单未指定读取哪一个",
                                 f"the file holds {len(names)} layers ({', '.join(names)}) and "
                                 "the manifest names none"),
            Text(f'在清单 {where} 中写 layer = "{names[0]}"（或其他图层名）',
                 f'write layer = "{names[0]}" (or another) in {where}'), field="layer")
    return None


def _read_ogr(spec: LayerSpec, warnings: list[Text]) -> gpd.GeoDataFrame:
    kwargs: dict[str, object] = {}
    suffix = spec.path.suffix.lower()
    encoding = shapefile_encoding(spec, warnings) if suffix == ".shp" else spec.encoding
    if encoding:
        kwargs["encoding"] = encoding
    if suffix in JSON_SUFFIXES and b"\\u0000" in spec.path.read_bytes():
        # GDAL would cut every text at an escaped NUL: cfplan's JSON reader keeps the whole
        # text, and the validator removes the NUL with a repair note.
        return read_json_features(spec.path)
    try:
        layer = _ogr_layer(spec)
    except pyogrio.errors.DataSourceError:
        layer = spec.sublayer  # GDAL cannot open it: the reader below says why, or reads JSON
    if layer is not None:
        kwargs["layer"] = layer
    with py_warnings.catch_warnings():
        py_warnings.simplefilter("ignore")
        try:
            return pyogrio.read_dataframe(spec.path, **kwargs)
        except shapely.errors.GEOSException:
            return _read_ogr_per_feature(spec.path, kwargs)
        except Exception:
            if suffix not in JSON_SUFFIXES:
                raise
            # DataV/AMap downloads (a bare array of features, a district response) and
            # JSON GDAL refuses whole: read feature by feature, or say where it breaks.
            return read_json_features(spec.path)


def read_layer_file(spec: LayerSpec, *, warnings: list[Text] | None = None) -> gpd.GeoDataFrame:
    """Read one input file as it is, without validation.

    Parameters
    ----------
    spec
        The file and how to read it.
    warnings
        Receives a warning when an encoding had to be guessed (GBK Shapefile with no
        ``.cpg``, GBK CSV).

    Returns
    -------
    geopandas.GeoDataFrame
        The raw features, in the file's own CRS (or none). Tables get hidden columns
        ``_coord_note`` / ``_coord_problem``; a file with unreadable geometries gets
        ``_geom_problem``. An OSM facility file (``.osm``, ``.osm.xml``, ``.osm.pbf``) gives
        every element with a tag of interest, classed by
        :func:`cfplan.layers.osm_tags.facilities_from_osm_file`, with ``_read_problem`` /
        ``_read_notes`` for those it rejects or repaired.

    Raises
    ------
    InputError
        If the file is missing, empty, truncated or unreadable.
    """
    warnings = [] if warnings is None else warnings
    path = check_input_file(spec.path, fix_empty=Text("重新导出该图层", "export the layer again"))
    if spec.sheet is not None and path.suffix.lower() not in (".xlsx", ".xls"):
        raise InputError(str(path), Text("sheet 只用于 Excel 工作簿（.xlsx）",
                                         "sheet applies to Excel workbooks (.xlsx) only"),
                         Text("删去清单中的 sheet，或用 layer 指定 GeoPackage 的图层",
                              "remove sheet from the manifest, or name a GeoPackage layer with "
                              "layer"), field="sheet")
    try:
        if path.suffix.lower() in TABLE_SUFFIXES:
            return _read_table(spec, warnings)
        if spec.layer == "facilities" and is_osm_file(path):
            from cfplan.layers.osm_tags import facilities_from_osm_file

            return facilities_from_osm_file(path)
        return _read_ogr(spec, warnings)
    except InputError:
        raise
    except Exception as exc:
        raise InputError(
            str(path), Text(f"文件无法解析（可能不完整或格式错误）：{exc}",
                            f"cannot parse the file (cut off or malformed?): {exc}"),
            Text("检查文件是否被截断，重新导出", "check for truncation and export again"),
        ) from exc


__all__ = ["LAT_ALIASES", "LON_ALIASES", "read_layer_file"]
