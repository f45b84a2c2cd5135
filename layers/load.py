"""Load a layer folder through its manifest: read, convert, validate, account for every feature."""

from __future__ import annotations

import codecs
import math
import tomllib
import warnings as py_warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pyogrio.raw
import pyproj
import shapely
import shapely.errors

from cfplan.geo.crs import WGS84, choose_metric_crs, in_china, to_wgs84
from cfplan.layers import checks
from cfplan.layers.errors import InputError
from cfplan.layers.kinds import FACILITY_KINDS, SUBDISTRICT_TYPES
from cfplan.layers.schema import (
    SCHEMAS,
    LayerSchema,
    ValueProblem,
    is_missing,
    match_columns,
    parse_number,
    parse_value,
)

MANIFEST_NAME = "layers.toml"
LON_ALIASES = ("lon", "lng", "longitude", "经度", "x", "X", "LON", "LNG", "经度(°)")
LAT_ALIASES = ("lat", "latitude", "纬度", "y", "Y", "LAT", "纬度(°)")
SINGLE_LAYERS = ("district", "subdistricts", "units", "entrances", "buildings", "school_routes")
DATUMS = ("wgs84", "cgcs2000", "epsg4326", "epsg4490", "gcj02", "bd09")


@dataclass(frozen=True)
class LayerSpec:
    """One input file named in the manifest.

    Attributes
    ----------
    layer
        Layer kind: a key of :data:`layers.schema.SCHEMAS`.
    path
        The file.
    crs
        CRS of the coordinates when the file has none or a wrong one (e.g. ``"EPSG:4326"``).
    datum
        ``wgs84`` (default), ``cgcs2000``, ``gcj02`` (AMap/Tencent) or ``bd09`` (Baidu).
    encoding
        Text encoding of a Shapefile's DBF or a CSV (``"GBK"`` is common).
    fields
        ``{input column: canonical field}`` overriding alias matching.
    kind
        For facility files holding one kind: that kind.
    lon, lat
        Coordinate columns of a CSV or XLSX (default: found by alias, 经度/纬度 included).
    sublayer
        Layer name inside a GeoPackage.
    """

    layer: str
    path: Path
    crs: str | None = None
    datum: str = "wgs84"
    encoding: str | None = None
    fields: dict[str, str] = field(default_factory=dict)
    kind: str | None = None
    lon: str | None = None
    lat: str | None = None
    sublayer: str | None = None


@dataclass(frozen=True)
class Manifest:
    """A layer folder's manifest (``layers.toml``)."""

    folder: Path
    name: str
    name_en: str
    margin_m: float
    specs: tuple[LayerSpec, ...]
    streets: Path | None
    indicators: Path | None
    synthetic: bool


@dataclass
class Rejection:
    """One feature not used, and why."""

    layer: str
    file: str
    row: int
    feature: str
    field: str
    reason: str
    geometry: object = None


@dataclass
class Repair:
    """One unambiguous repair applied to a feature."""

    layer: str
    file: str
    row: int
    feature: str
    field: str
    what: str


@dataclass
class LayerSet:
    """All layers of a district, normalised, in one metric CRS.

    Every GeoDataFrame is in :attr:`crs` (metres). Facilities of every kind share one
    frame with a ``kind`` column. ``accounting`` holds one row per input file with
    read = used + rejected.
    """

    name: str
    name_en: str
    crs: pyproj.CRS
    district: gpd.GeoDataFrame
    subdistricts: gpd.GeoDataFrame
    units: gpd.GeoDataFrame
    facilities: gpd.GeoDataFrame
    entrances: gpd.GeoDataFrame
    buildings: gpd.GeoDataFrame
    school_routes: gpd.GeoDataFrame
    streets: Path | None
    indicators: Path | None
    synthetic: bool
    accounting: pd.DataFrame
    rejected: list[Rejection]
    repairs: list[Repair]
    warnings: list[str]


# --------------------------------------------------------------------------- manifest


def _spec(folder: Path, layer: str, table: dict, where: str, manifest: Path) -> LayerSpec:
    if "file" not in table:
        raise InputError(
            str(manifest), f"{where} 缺少 file / {where} has no 'file'",
            "写明文件名，如 file = \"units.geojson\" / name the file", field="file",
        )
    for key in ("file", "crs", "datum", "encoding", "kind", "lon", "lat", "layer"):
        _text(table, key, where, manifest)
    if "encoding" in table:
        try:
            codecs.lookup(table["encoding"])
        except LookupError as exc:
            raise InputError(str(manifest), f"{where} 的 encoding「{table['encoding']}」未知 / "
                             "unknown encoding", "常用 GBK 或 UTF-8 / usually GBK or UTF-8",
                             field="encoding") from exc
    unknown = set(table) - {"file", "crs", "datum", "encoding", "fields", "kind", "lon", "lat",
                            "layer"}
    if unknown:
        raise InputError(
            str(manifest), f"{where} 有未知键 {sorted(unknown)} / unknown keys {sorted(unknown)}",
            "可用键：file, crs, datum, encoding, fields, kind, lon, lat, layer / allowed keys",
        )
    kind = table.get("kind")
    if kind is not None and (layer != "facilities" or kind not in FACILITY_KINDS):
        raise InputError(
            str(manifest), f"{where} 的 kind「{kind}」不是已知设施类别 / unknown kind {kind!r}",
            f"kind 只用于 [[facilities]]；可用类别 / known kinds: {', '.join(FACILITY_KINDS)}",
            field="kind",
        )
    _check_spec_values(layer, table, where, manifest)
    return LayerSpec(
        layer=layer,
        path=folder / table["file"],
        crs=table.get("crs"),
        datum=table.get("datum", "wgs84"),
        encoding=table.get("encoding"),
        fields=dict(table.get("fields", {})),
        kind=kind,
        lon=table.get("lon"),
        lat=table.get("lat"),
        sublayer=table.get("layer"),
    )


def _check_spec_values(layer: str, table: dict, where: str, manifest: Path) -> None:
    """Raise on a datum, CRS or field mapping in the manifest that cannot be used."""
    datum = str(table.get("datum", "wgs84")).lower().replace("-", "").replace("_", "")
    if datum not in DATUMS:
        raise InputError(
            str(manifest), f"{where} 的 datum「{table['datum']}」未知 / unknown datum",
            "datum 可为 wgs84、cgcs2000、gcj02（高德/腾讯）、bd09（百度） / use one of these",
            field="datum",
        )
    if "crs" in table:
        try:
            pyproj.CRS.from_user_input(table["crs"])
        except pyproj.exceptions.CRSError as exc:
            raise InputError(
                str(manifest), f"{where} 的 crs「{table['crs']}」无法识别 / unknown CRS: {exc}",
                "写成 EPSG 代码，如 crs = \"EPSG:4547\" / write an EPSG code", field="crs",
            ) from exc
    fields = table.get("fields", {})
    if not isinstance(fields, dict):
        raise InputError(str(manifest), f"{where} 的 fields 应为表 / fields must be a table",
                         "如 fields = { \"人口数\" = \"population\" } / e.g. this", field="fields")
    known = [f.name for f in SCHEMAS[layer].fields]
    bad = sorted(str(v) for v in fields.values() if v not in known)
    if bad:
        raise InputError(
            str(manifest), f"{where} 的 fields 指向未知字段 {bad} / fields map to unknown fields "
            f"{bad}", f"{layer} 的字段 / fields of {layer}: {', '.join(known)}", field="fields",
        )


def read_manifest(folder: str | Path) -> Manifest:
    """Read ``layers.toml`` in ``folder``.

    Returns
    -------
    Manifest
        The layer specs in manifest order.

    Raises
    ------
    InputError
        If the manifest is missing, not TOML, or names unknown layers or keys.
    """
    folder = Path(folder)
    path = folder / MANIFEST_NAME
    if not path.is_file():
        raise InputError(
            str(path), "找不到图层清单 / layer manifest not found",
            f"在图层目录中放置 {MANIFEST_NAME}（见 README） / put a {MANIFEST_NAME} in the folder",
        )
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise InputError(str(path), f"不是有效的 TOML：{exc} / not valid TOML: {exc}",
                         "按提示的行修正语法（字符串加引号，表名成对方括号） / fix the syntax at "
                         "that line (quote strings, close table headers)") from exc
    district = _table(data, "district", path)
    specs: list[LayerSpec] = []
    for layer, table in _table(data, "layers", path).items():
        if layer not in SINGLE_LAYERS:
            raise InputError(
                str(path), f"未知图层 [layers.{layer}] / unknown layer [layers.{layer}]",
                f"可用图层：{', '.join(SINGLE_LAYERS)}；设施用 [[facilities]] / known layers: "
                f"{', '.join(SINGLE_LAYERS)}; facilities go in [[facilities]]",
            )
        where = f"[layers.{layer}]"
        specs.append(_spec(folder, layer, _table({where: table}, where, path), where, path))
    facilities = data.get("facilities", [])
    if not isinstance(facilities, list):
        raise InputError(str(path), "facilities 应写成 [[facilities]] 表数组 / facilities must be "
                         "an array of tables", "每个设施文件写一个 [[facilities]] / one per file")
    for i, table in enumerate(facilities, start=1):
        where = f"[[facilities]] #{i}"
        specs.append(_spec(folder, "facilities", _table({where: table}, where, path), where, path))
    if not any(s.layer == "units" for s in specs):
        raise InputError(
            str(path), "清单中没有社区/村图层 / the manifest has no units layer",
            "添加 [layers.units] file = \"...\" / add a units layer",
        )
    streets = _text(_table(data, "streets", path), "file", "[streets]", path)
    indicators = _text(_table(data, "indicators", path), "file", "[indicators]", path)
    margin = district.get("margin_m", 2000.0)
    if isinstance(margin, bool) or not isinstance(margin, int | float) or not margin >= 0:
        raise InputError(str(path), f"margin_m 应为非负数，而不是 {margin!r} / margin_m must be a "
                         "non-negative number", "如 margin_m = 2000 / e.g.", field="margin_m")
    return Manifest(
        folder=folder,
        name=str(district.get("name", folder.name)),
        name_en=str(district.get("name_en", district.get("name", folder.name))),
        margin_m=float(margin),
        specs=tuple(specs),
        streets=folder / streets if streets else None,
        indicators=folder / indicators if indicators else None,
        synthetic=bool(district.get("synthetic", False)),
    )


def _table(data: dict, key: str, manifest: Path) -> dict:
    """Return ``data[key]`` (empty if absent), raising unless it is a TOML table."""
    value = data.get(key, {})
    if not isinstance(value, dict):
        raise InputError(str(manifest), f"{key} 应为表，而不是 {value!r} / {key} must be a table",
                         "参见 cfplan/demo_data/layers.toml / see the demo manifest", field=key)
    return value


def _text(table: dict, key: str, where: str, manifest: Path) -> str | None:
    """Return the text value ``table[key]`` (or None), raising if it is not text."""
    value = table.get(key)
    if value is not None and not (isinstance(value, str) and value.strip()):
        raise InputError(str(manifest), f"{where} 的 {key} 应为文本 / {where} {key} must be text",
                         f"如 {key} = \"...\" / e.g.", field=key)
    return value


# --------------------------------------------------------------------------- reading

COORD_PROBLEM = "_coord_problem"
COORD_NOTE = "_coord_note"
GEOM_PROBLEM = "_geom_problem"
HIDDEN = (COORD_PROBLEM, COORD_NOTE, GEOM_PROBLEM)


def _find_column(columns: list[str], wanted: str | None, aliases: tuple[str, ...]) -> str | None:
    if wanted:
        return wanted if wanted in columns else None
    lowered = {str(c).strip().lower(): c for c in columns}
    for alias in aliases:
        if alias.lower() in lowered:
            return lowered[alias.lower()]
    return None


def guess_encoding(data: bytes) -> str | None:
    """Return ``"utf-8"`` or ``"gb18030"`` for text bytes, or ``None`` if they are plain ASCII.

    GB18030 is the superset of GBK and GB2312, so it reads every GBK file.
    """
    if data.isascii():
        return None
    for encoding in ("utf-8", "gb18030"):
        try:
            data.decode(encoding)
        except UnicodeDecodeError:
            continue
        return encoding
    return None


def dbf_text_bytes(path: Path) -> bytes:
    """Return the field names and records of a dBASE file: the bytes that hold text."""
    data = path.read_bytes()
    if len(data) < 32:
        return b""
    header_len = int.from_bytes(data[8:10], "little")
    names = b"".join(data[pos:pos + 11].split(b"\0")[0]
                     for pos in range(32, min(header_len, len(data)) - 31, 32)
                     if data[pos] != 0x0D)
    return names + data[header_len:]


def _shapefile_encoding(spec: LayerSpec, warnings: list[str]) -> str | None:
    """Return the encoding to read a Shapefile's DBF with when nothing declares it."""
    dbf = spec.path.with_suffix(".dbf")
    if spec.encoding or spec.path.with_suffix(".cpg").is_file() or not dbf.is_file():
        return spec.encoding
    if guess_encoding(dbf_text_bytes(dbf)) != "gb18030":
        return None
    name = spec.path.name
    warnings.append(f"{name}：没有 .cpg 且字段不是 UTF-8，按 GBK 读取；请在清单中写 encoding = \"GBK\""
                    f" / {name}: no .cpg and the text is not UTF-8; read as GBK. Set "
                    "encoding = \"GBK\" in the manifest")
    return "GB18030"


def _read_csv(spec: LayerSpec, warnings: list[str]) -> pd.DataFrame:
    """Read a CSV as text cells, falling back from UTF-8 to GBK with a warning."""
    options = {"dtype": object, "keep_default_na": False, "na_values": [""]}
    encoding = spec.encoding or "utf-8-sig"
    try:
        return pd.read_csv(spec.path, encoding=encoding, **options)
    except UnicodeDecodeError as exc:
        if spec.encoding or guess_encoding(spec.path.read_bytes()) != "gb18030":
            raise InputError(
                str(spec.path), f"文本编码不是 {encoding}：{exc} / not {encoding} text",
                "在清单中写明 encoding，如 encoding = \"GBK\" / set encoding in the manifest",
                field="encoding",
            ) from exc
    name = spec.path.name
    warnings.append(f"{name}：不是 UTF-8，按 GBK 读取；请在清单中写 encoding = \"GBK\" / {name}: not "
                    "UTF-8; read as GBK. Set encoding = \"GBK\" in the manifest")
    return pd.read_csv(spec.path, encoding="gb18030", **options)


def _coordinate(value: object, column: str) -> tuple[float | None, str | None, str | None]:
    """Parse one coordinate cell: (value, repair note, problem)."""
    if is_missing(value):
        return None, None, f"「{column}」为空 / {column} is empty"
    try:
        number, repaired = parse_number(value)
    except ValueProblem:
        return None, None, f"「{column}」的值「{value}」不是数字 / {column} {value!r} is not a number"
    note = f"「{column}」「{value}」规范为 {number} / {column} normalised" if repaired else None
    return number, note, None


def _read_table(spec: LayerSpec, warnings: list[str]) -> gpd.GeoDataFrame:
    """Read a CSV or XLSX with lon/lat columns as points (no CRS set)."""
    path = spec.path
    if path.suffix.lower() in (".xlsx", ".xls"):
        df = pd.read_excel(path, dtype=object)
    else:
        df = _read_csv(spec, warnings)
    cols = [str(c).strip() for c in df.columns]
    df.columns = cols
    lon_col = _find_column(cols, spec.lon, LON_ALIASES)
    lat_col = _find_column(cols, spec.lat, LAT_ALIASES)
    if lon_col is None or lat_col is None:
        raise InputError(
            str(path), f"找不到经纬度列（现有列：{', '.join(cols)}） / no lon/lat columns",
            "表格需有 经度/纬度 或 lon/lat 列，或在清单中用 lon=、lat= 指定 / name them in the manifest",
            field=spec.lon if lon_col is None and spec.lon else spec.lat or "经度/纬度",
        )
    geoms: list[object] = []
    notes: list[str | None] = []
    problems: list[str | None] = []
    for lon_raw, lat_raw in zip(df[lon_col], df[lat_col], strict=True):
        lon, lon_note, lon_bad = _coordinate(lon_raw, lon_col)
        lat, lat_note, lat_bad = _coordinate(lat_raw, lat_col)
        ok = lon is not None and lat is not None and math.isfinite(lon) and math.isfinite(lat)
        geoms.append(shapely.Point(lon, lat) if ok else None)
        notes.append("; ".join(n for n in (lon_note, lat_note) if n) or None)
        problems.append(None if ok else lon_bad or lat_bad or "坐标不是有限数值 / not finite")
    out = gpd.GeoDataFrame(df.drop(columns=[lon_col, lat_col]), geometry=geoms, crs=None)
    out[COORD_NOTE] = notes
    out[COORD_PROBLEM] = problems
    out.attrs["lonlat"] = (lon_col, lat_col)
    return out


def _read_ogr_per_feature(path: Path, kwargs: dict[str, object]) -> gpd.GeoDataFrame:
    """Read a vector file whose geometries GEOS refuses, marking the unreadable ones."""
    meta, _, wkb, fields = pyogrio.raw.read(path, **kwargs)
    geoms = shapely.from_wkb(wkb, on_invalid="ignore")
    bad = np.array([w is not None for w in wkb]) & shapely.is_missing(geoms)
    data = {str(name): values for name, values in zip(meta["fields"], fields, strict=True)}
    out = gpd.GeoDataFrame(data, geometry=list(geoms), crs=meta["crs"])
    out[GEOM_PROBLEM] = np.where(bad, "几何无法解析（环未闭合或点数不足） / unreadable geometry "
                                      "(unclosed ring or too few points)", None)
    return out


def _read_ogr(spec: LayerSpec, warnings: list[str]) -> gpd.GeoDataFrame:
    kwargs: dict[str, object] = {}
    encoding = (_shapefile_encoding(spec, warnings) if spec.path.suffix.lower() == ".shp"
                else spec.encoding)
    if encoding:
        kwargs["encoding"] = encoding
    if spec.sublayer:
        kwargs["layer"] = spec.sublayer
    with py_warnings.catch_warnings():
        py_warnings.simplefilter("ignore")
        try:
            return pyogrio.read_dataframe(spec.path, **kwargs)
        except shapely.errors.GEOSException:
            return _read_ogr_per_feature(spec.path, kwargs)


def read_layer_file(spec: LayerSpec, *, warnings: list[str] | None = None) -> gpd.GeoDataFrame:
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
        ``_geom_problem``.

    Raises
    ------
    InputError
        If the file is missing, empty, truncated or unreadable.
    """
    warnings = [] if warnings is None else warnings
    path = spec.path
    if not path.is_file():
        raise InputError(str(path), "文件不存在 / file not found", "检查清单中的文件名 / check the name")
    if path.stat().st_size == 0:
        raise InputError(str(path), "文件为空 / the file is empty",
                         "重新导出该图层 / export the layer again")
    try:
        if path.suffix.lower() in (".csv", ".txt", ".xlsx", ".xls"):
            return _read_table(spec, warnings)
        if path.suffix.lower() == ".osm" and spec.layer == "facilities":
            from cfplan.layers.osm_tags import facilities_from_osm_file

            return facilities_from_osm_file(path)
        return _read_ogr(spec, warnings)
    except InputError:
        raise
    except Exception as exc:
        raise InputError(
            str(path), f"文件无法解析（可能不完整或格式错误）：{exc} / cannot parse: {exc}",
            "检查文件是否被截断，重新导出 / check for truncation and export again",
        ) from exc


def _in_degrees(gdf: gpd.GeoDataFrame) -> np.ndarray:
    """Which features have every coordinate within ±180 (lon/lat, possibly swapped)."""
    bounds = gdf.geometry.bounds.to_numpy(dtype=float)
    return (np.abs(bounds) <= 180).all(axis=1)


def _check_coordinates(gdf: gpd.GeoDataFrame, spec: LayerSpec, *, declared: bool) -> None:
    """Raise when the coordinates cannot be in the CRS the file claims."""
    has = gdf.geometry.notna().to_numpy() & ~gdf.geometry.is_empty.to_numpy()
    if not has.any():
        return
    degrees = _in_degrees(gdf[has])
    x0, y0, _, _ = gdf.geometry[has].total_bounds
    sample = f"({x0:.6g}, {y0:.6g})"
    if (gdf.crs is None or gdf.crs.is_geographic) and not degrees.any():
        problem = ("文件声明为经纬度（WGS-84），但坐标不是经纬度" if declared
                   else "没有坐标系，且坐标不是经纬度")
        raise InputError(
            str(spec.path), f"{problem}，如 {sample} / coordinates such as {sample} are not "
            "lon/lat degrees and the file gives no projected CRS",
            "在清单中写明 crs，如 crs = \"EPSG:4547\" / set crs in the manifest", field="geometry",
        )
    if gdf.crs is not None and gdf.crs.is_projected and degrees.all():
        raise InputError(
            str(spec.path), f"坐标系为投影坐标系 {gdf.crs.to_string()}，但坐标像经纬度 {sample} / the "
            f"CRS is projected ({gdf.crs.to_string()}) but coordinates look like degrees",
            "删除错误的 .prj 或在清单中写 crs = \"EPSG:4326\" / fix the CRS", field="geometry",
        )


def to_wgs84_frame(
    gdf: gpd.GeoDataFrame, spec: LayerSpec, *, warnings: list[str], repairs: list[Repair]
) -> gpd.GeoDataFrame:
    """Bring a raw layer to WGS-84 lon/lat, converting GCJ-02 / BD-09 and fixing swapped pairs.

    Returns
    -------
    geopandas.GeoDataFrame
        The layer in EPSG:4326.

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
    _check_coordinates(gdf, spec, declared=declared)
    if gdf.crs is None:
        gdf = gdf.set_crs(WGS84)
        if "lonlat" not in gdf.attrs and len(gdf):
            warnings.append(f"{name}：未声明坐标系，按 WGS-84 经纬度读取 / {name}: no CRS; read as "
                            "WGS-84 lon/lat")
    geographic = gdf.crs.is_geographic
    attrs = dict(gdf.attrs)
    gdf = gdf.to_crs(WGS84)
    gdf.attrs = attrs
    if geographic:
        gdf = _fix_swapped(gdf, spec, repairs)
    datum = spec.datum.lower().replace("-", "").replace("_", "")
    if datum in ("gcj02", "bd09"):

        def convert(coords: np.ndarray) -> np.ndarray:
            lon, lat = to_wgs84(coords[:, 0], coords[:, 1], datum=datum)
            return np.column_stack([lon, lat])

        geoms = shapely.transform(np.asarray(gdf.geometry.values), convert)
        gdf = gdf.set_geometry(gpd.GeoSeries(geoms, crs=WGS84, index=gdf.index))
        gdf.attrs = attrs
    return gdf


def _swap_xy(coords: np.ndarray) -> np.ndarray:
    return coords[:, ::-1]


def _fix_swapped(gdf: gpd.GeoDataFrame, spec: LayerSpec, repairs: list[Repair]) -> gpd.GeoDataFrame:
    """Swap lon/lat per feature where only the swapped coordinates fall in China."""
    has = gdf.geometry.notna().to_numpy()
    if not has.any():
        return gdf
    bounds = np.full((len(gdf), 4), np.nan)
    bounds[has] = gdf.geometry[has].bounds.to_numpy(dtype=float)
    x0, y0, x1, y1 = bounds.T
    inside = in_china(x0, y0) & in_china(x1, y1)
    swapped = in_china(y0, x0) & in_china(y1, x1)
    swap = has & ~inside & swapped
    if not swap.any():
        return gdf
    new = np.asarray(gdf.geometry.values, dtype=object).copy()
    new[swap] = shapely.transform(new[swap], _swap_xy)
    lonlat = gdf.attrs.get("lonlat")
    field_name = f"{lonlat[0]}/{lonlat[1]}" if lonlat else "geometry"
    for row in np.flatnonzero(swap):
        repairs.append(Repair(spec.layer, spec.path.name, int(row) + 1, _label(gdf.iloc[row]),
                              field_name, "经纬度互换，已交换 / lon and lat swapped; swapped back"))
    out = gdf.set_geometry(gpd.GeoSeries(list(new), crs=gdf.crs, index=gdf.index))
    out.attrs = gdf.attrs
    return out


def _label(row: pd.Series) -> str:
    for key in ("fid", "code", "编码", "编号", "id", "name", "名称", "NAME"):
        if key in row.index and not is_missing(row[key]):
            return str(row[key])
    return "-"


# --------------------------------------------------------------------------- validation


def _fix_geometry(geom: object, allowed: tuple[str, ...]) -> tuple[object, str | None, str | None]:
    """Return (geometry, repair note, rejection reason) for one feature's geometry."""
    if geom is None or shapely.is_empty(geom):
        return None, None, "几何为空 / empty geometry"
    gtype = geom.geom_type
    if gtype == "MultiPoint" and "Point" in allowed and len(geom.geoms) == 1:
        return geom.geoms[0], "单点 MultiPoint 转为 Point / single-part MultiPoint", None
    if gtype == "GeometryCollection":
        return None, None, "混合几何（GeometryCollection） / mixed geometry collection"
    if gtype not in allowed:
        return None, None, f"几何类型 {gtype} 不符，应为 {'/'.join(allowed)} / wrong geometry type"
    if not shapely.is_valid(geom):
        reason = shapely.is_valid_reason(geom)
        fixed = shapely.make_valid(geom)
        if fixed.geom_type == "GeometryCollection":
            parts = [g for g in fixed.geoms if g.geom_type in allowed]
            fixed = shapely.union_all(parts) if parts else None
        if fixed is None or fixed.is_empty or fixed.geom_type not in allowed:
            return None, None, f"无效几何且无法修复：{reason} / invalid geometry"
        return fixed, f"无效几何已修复（{reason}） / invalid geometry repaired with make_valid", None
    return geom, None, None


def validate_features(
    raw: gpd.GeoDataFrame,
    spec: LayerSpec,
    schema: LayerSchema,
    *,
    rejected: list[Rejection],
    repairs: list[Repair],
) -> gpd.GeoDataFrame:
    """Check every feature of one file against its schema.

    Features that fail go to ``rejected`` with a reason; unambiguous repairs
    (make_valid, full-width digits, units in numbers) are applied and recorded.

    Returns
    -------
    geopandas.GeoDataFrame
        The kept features with canonical columns plus ``_file`` and ``_row`` (1-based),
        in the input CRS.
    """
    name = spec.path.name
    columns = _column_map(raw, spec, schema)
    records: list[dict[str, object]] = []
    seen_ids: dict[str, int] = {}
    for pos in range(len(raw)):
        row = raw.iloc[pos]
        rownum = pos + 1
        label = _label(row.rename(index={src: dst for dst, src in columns.items()}))
        where_field, reason = _read_problem(row, raw.attrs.get("lonlat"))
        geom, note = None, None
        if reason is None:
            geom, note, reason = _fix_geometry(row[raw.geometry.name], schema.geometry)
            where_field = "geometry"
        if reason:
            rejected.append(Rejection(spec.layer, name, rownum, label, where_field, reason, None))
            continue
        for field_name, what in _read_notes(row, raw.attrs.get("lonlat"), note):
            repairs.append(Repair(spec.layer, name, rownum, label, field_name, what))
        values, problem = _parse_fields(row, columns, spec, schema,
                                        lambda f, w, r=rownum, lb=label: repairs.append(
                                            Repair(spec.layer, name, r, lb, f, w)))
        if problem is None:
            problem = _check_values(spec.layer, values)
            if problem is not None:
                problem = (columns.get(problem[0], problem[0]), problem[1])
        if problem is None and schema.id_field and values.get(schema.id_field) is not None:
            key = str(values[schema.id_field])
            if key in seen_ids:
                problem = (columns.get(schema.id_field, schema.id_field),
                           f"编号「{key}」与第 {seen_ids[key]} 条重复 / duplicate id {key!r}, "
                           f"same as feature {seen_ids[key]}")
            else:
                seen_ids[key] = rownum
        if problem is not None:
            rejected.append(Rejection(spec.layer, name, rownum, label, problem[0], problem[1], geom))
            continue
        values["_file"] = name
        values["_row"] = rownum
        values["geometry"] = geom
        records.append(values)
    cols = [f.name for f in schema.fields] + ["_file", "_row", "geometry"]
    return gpd.GeoDataFrame(records, columns=cols, geometry="geometry", crs=raw.crs)


def _column_map(raw: gpd.GeoDataFrame, spec: LayerSpec, schema: LayerSchema) -> dict[str, str]:
    """Return ``{canonical field: input column}``, raising if a required column is absent."""
    names = [c for c in raw.columns if c != raw.geometry.name and c not in HIDDEN]
    mapping = match_columns(names, schema)
    for src, dst in spec.fields.items():
        if src not in raw.columns:
            raise InputError(
                str(spec.path), f"清单 fields 中的列「{src}」不在文件中（现有列：{', '.join(names)}）"
                f" / column {src!r} named in the manifest's fields is not in the file",
                "改正清单中的列名 / correct the column name in the manifest", field=src,
            )
        mapping = {k: v for k, v in mapping.items() if v != dst and k != src}
        mapping[src] = dst
    columns = {dst: src for src, dst in mapping.items()}
    if len(raw) == 0:
        return columns
    for f in schema.fields:
        if f.required and f.name not in columns and not (f.name == "kind" and spec.kind):
            accepted = "、".join((f.name, *f.aliases))
            raise InputError(
                str(spec.path), f"缺少必填列「{f.name}」，可用列名：{accepted}（现有列："
                f"{', '.join(names) or '无'}） / required column {f.name!r} is missing",
                "添加该列，或在清单中用 fields = { \"现有列名\" = \"" + f.name + "\" } 指定 / add "
                "the column or map one in the manifest's fields", field=f.name,
            )
    return columns


def _read_problem(row: pd.Series, lonlat: tuple[str, str] | None) -> tuple[str, str | None]:
    """Return (field, problem) recorded by the reader for this row, if any."""
    coord = row.get(COORD_PROBLEM)
    if not is_missing(coord):
        return (f"{lonlat[0]}/{lonlat[1]}" if lonlat else "geometry"), str(coord)
    geom = row.get(GEOM_PROBLEM)
    if not is_missing(geom):
        return "geometry", str(geom)
    return "geometry", None


def _read_notes(
    row: pd.Series, lonlat: tuple[str, str] | None, geometry_note: str | None
) -> list[tuple[str, str]]:
    """Return the (field, what) repairs made while reading and fixing this row's geometry."""
    notes = []
    coord = row.get(COORD_NOTE)
    if not is_missing(coord) and lonlat:
        notes.append((f"{lonlat[0]}/{lonlat[1]}", str(coord)))
    if geometry_note:
        notes.append(("geometry", geometry_note))
    return notes


def _parse_fields(
    row: pd.Series,
    columns: dict[str, str],
    spec: LayerSpec,
    schema: LayerSchema,
    record_repair: Callable[[str, str], None],
) -> tuple[dict[str, object], tuple[str, str] | None]:
    """Parse one row's fields: (values, first problem as (field, reason) or None)."""
    values: dict[str, object] = {}
    for f in schema.fields:
        src = columns.get(f.name)
        shown = src or f.name
        value = row[src] if src is not None else None
        if f.name == "kind" and spec.kind and is_missing(value):
            value = spec.kind
        if is_missing(value):
            if f.required:
                return values, (shown, f"缺少必填字段「{shown}」 / required field {f.name} is empty")
            values[f.name] = None
            continue
        try:
            parsed, repaired = parse_value(value, f.type)
        except ValueProblem as exc:
            return values, (shown, str(exc))
        if f.name == "kind" and spec.kind and parsed != spec.kind:
            return values, (shown, f"类别「{value}」与清单中的 kind = \"{spec.kind}\" 不符 / kind "
                                   f"{value!r} conflicts with the manifest's kind {spec.kind!r}")
        if repaired:
            record_repair(shown, f"「{value}」规范为 {parsed} / {value!r} normalised to {parsed}")
        values[f.name] = parsed
    return values, None


def _check_values(layer: str, values: dict[str, object]) -> tuple[str, str] | None:
    if layer == "units":
        pop = values.get("population")
        if pop is not None and pop < 0:
            return "population", f"人口为负数 {pop} / negative population"
        kids = values.get("children")
        if kids is not None and kids < 0:
            return "children", f"儿童人口为负数 {kids} / negative child population"
        if kids is not None and pop is not None and kids > pop:
            return "children", f"儿童人口 {kids} 大于总人口 {pop} / children exceed population"
    if layer == "facilities":
        cap = values.get("capacity")
        if cap is not None and cap < 0:
            return "capacity", f"容量为负数 {cap} / negative capacity"
        year = values.get("year")
        if year is not None and not 1900 <= int(year) <= 2100:
            return "year", f"年份 {year} 不合理 / implausible year"
    return None


# --------------------------------------------------------------------------- assembly


def _empty(layer: str, crs: pyproj.CRS) -> gpd.GeoDataFrame:
    schema = SCHEMAS[layer]
    cols = [f.name for f in schema.fields] + ["_file", "_row"]
    return gpd.GeoDataFrame({c: [] for c in cols}, geometry=gpd.GeoSeries([], crs=crs), crs=crs)


def _reject_rows(
    gdf: gpd.GeoDataFrame, mask: np.ndarray, layer: str, field_name: str, reasons: list[str],
    rejected: list[Rejection],
) -> gpd.GeoDataFrame:
    idx = np.flatnonzero(mask)
    geoms = gdf.geometry.iloc[idx].to_crs(WGS84) if gdf.crs is not None else gdf.geometry.iloc[idx]
    for i, reason, geom in zip(idx, reasons, geoms, strict=True):
        row = gdf.iloc[i]
        rejected.append(Rejection(layer, str(row["_file"]), int(row["_row"]), _label(row),
                                  field_name, reason, geom))
    return gdf.loc[~mask].copy()


def _outside_china(gdf: gpd.GeoDataFrame, layer: str, rejected: list[Rejection]) -> gpd.GeoDataFrame:
    if gdf.empty:
        return gdf
    pts = gdf.geometry.representative_point()
    mask = ~in_china(pts.x.to_numpy(), pts.y.to_numpy())
    reasons = [f"坐标 ({p.x:.5f}, {p.y:.5f}) 不在中国范围内 / outside China" for p in pts[mask]]
    return _reject_rows(gdf, mask, layer, "geometry", reasons, rejected)


def load_layers(folder: str | Path, *, lang: str = "zh") -> LayerSet:
    """Load, convert and validate every layer named in ``folder/layers.toml``.

    Parameters
    ----------
    folder
        A layer folder with a manifest.
    lang
        Kept for API stability; warnings carry both languages (``"中文 / English"``).

    Returns
    -------
    LayerSet
        All layers in one metric CRS chosen from the data (CGCS2000 Gauss-Krüger in
        China), with the accounting table, rejections, repairs and warnings.

    Raises
    ------
    InputError
        On a fatal problem: see docs/bad-input.md. A bad manifest; a missing, empty,
        truncated or unreadable file; a missing required column; a CRS that the
        coordinates contradict; no usable units; overlapping units.
    """
    manifest = read_manifest(folder)
    rejected: list[Rejection] = []
    repairs: list[Repair] = []
    warnings: list[str] = []
    raw: list[tuple[LayerSpec, gpd.GeoDataFrame, int]] = []
    for spec in manifest.specs:
        frame = read_layer_file(spec, warnings=warnings)
        if len(frame) == 0:
            warnings.append(f"{spec.path.name}：文件中没有要素 / {spec.path.name}: the file has no "
                            "features")
        raw.append((spec, to_wgs84_frame(frame, spec, warnings=warnings, repairs=repairs),
                    len(frame)))

    validated: list[tuple[LayerSpec, gpd.GeoDataFrame, int]] = []
    for spec, frame, n in raw:
        gdf = validate_features(frame, spec, SCHEMAS[spec.layer], rejected=rejected,
                                repairs=repairs)
        validated.append((spec, _outside_china(gdf, spec.layer, rejected), n))

    unit_files = [str(s.path) for s in manifest.specs if s.layer == "units"]
    units_wgs = pd.concat([g for s, g, _ in validated if s.layer == "units"])
    if units_wgs.empty:
        raise InputError(
            ", ".join(unit_files), "没有可用的社区/村要素 / no usable units",
            "查看 rejected.csv 中的原因 / see the reasons in rejected.csv",
        )
    centre = shapely.union_all(np.asarray(units_wgs.geometry.values)).centroid
    crs = choose_metric_crs(centre.x, centre.y)

    by_layer: dict[str, list[gpd.GeoDataFrame]] = {}
    for spec, gdf, _ in validated:
        by_layer.setdefault(spec.layer, []).append(gdf.to_crs(crs))

    def combined(layer: str) -> gpd.GeoDataFrame:
        frames = by_layer.get(layer)
        if not frames:
            return _empty(layer, crs)
        return gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), geometry="geometry", crs=crs)

    units = _dedupe_across_files(combined("units"), "units", "code", rejected)
    district = combined("district")
    district_given = not district.empty
    if not district_given:
        district = gpd.GeoDataFrame(
            {"name": [manifest.name], "code": [None], "_file": ["(units)"], "_row": [0]},
            geometry=[shapely.union_all(np.asarray(units.geometry.values))], crs=crs,
        )
        warnings.append("未提供区界，以社区/村的并集代替 / no district layer; using the union of units")
    boundary = shapely.union_all(np.asarray(district.geometry.values))

    def clip_margin(gdf: gpd.GeoDataFrame, layer: str) -> gpd.GeoDataFrame:
        if gdf.empty:
            return gdf
        dist = gdf.geometry.distance(boundary).to_numpy()
        mask = dist > manifest.margin_m
        reasons = [f"距区界 {d:.0f} m，超出容差 {manifest.margin_m:.0f} m / {d:.0f} m outside the "
                   f"district, beyond the {manifest.margin_m:.0f} m margin" for d in dist[mask]]
        out = _reject_rows(gdf, mask, layer, "geometry", reasons, rejected)
        for file in sorted(set(gdf["_file"])):
            if mask[(gdf["_file"] == file).to_numpy()].all():
                warnings.append(checks.outside_layer_warning(layer, file,
                                                             margin_m=manifest.margin_m))
        return out

    units = clip_margin(units, "units")
    if units.empty:
        raise InputError(
            ", ".join(unit_files), "所有社区/村都在区界之外 / every unit lies outside the district",
            "检查社区/村图层与区界图层的坐标系 / check the CRS of the units and the district",
            field="geometry",
        )
    subdistricts = clip_margin(_dedupe_across_files(combined("subdistricts"), "subdistricts",
                                                    "code", rejected), "subdistricts")
    if not subdistricts.empty:
        subdistricts["subdistrict_type"] = subdistricts["subdistrict_type"].fillna("office")
    units = _assign_subdistricts(units, subdistricts, rejected, warnings)
    _check_overlaps(units, {s.path.name: s.path for s in manifest.specs})
    warnings.extend(checks.zero_population_warnings(units))
    if district_given:
        gap = checks.unit_gap_warning(units, district)
        if gap:
            warnings.append(gap)

    facilities = clip_margin(combined("facilities"), "facilities")
    facilities = _finish_facilities(facilities, units, rejected, warnings)
    entrances = clip_margin(combined("entrances"), "entrances")
    buildings = combined("buildings")
    routes = combined("school_routes")

    used = {"units": units, "subdistricts": subdistricts, "facilities": facilities,
            "entrances": entrances, "district": district, "buildings": buildings,
            "school_routes": routes}
    return LayerSet(
        name=manifest.name, name_en=manifest.name_en, crs=crs, district=district,
        subdistricts=subdistricts.sort_values("code", ignore_index=True),
        units=units.sort_values("code", ignore_index=True), facilities=facilities,
        entrances=entrances, buildings=buildings, school_routes=routes,
        streets=manifest.streets, indicators=manifest.indicators, synthetic=manifest.synthetic,
        accounting=accounting_table(raw, used, rejected, repairs), rejected=rejected,
        repairs=repairs, warnings=warnings,
    )


def _dedupe_across_files(
    gdf: gpd.GeoDataFrame, layer: str, key: str, rejected: list[Rejection]
) -> gpd.GeoDataFrame:
    if gdf.empty:
        return gdf
    dup = gdf.duplicated(subset=[key], keep="first").to_numpy()
    reasons = [f"编号「{v}」与其他文件重复 / duplicate id across files" for v in gdf.loc[dup, key]]
    return _reject_rows(gdf, dup, layer, key, reasons, rejected)


def _assign_subdistricts(
    units: gpd.GeoDataFrame, subdistricts: gpd.GeoDataFrame, rejected: list[Rejection],
    warnings: list[str],
) -> gpd.GeoDataFrame:
    units = units.copy()
    if subdistricts.empty:
        if units["subdistrict"].isna().any():
            warnings.append("没有办事处/镇图层，部分社区未归属办事处 / units without a subdistrict")
        return units
    codes = set(subdistricts["code"])
    known = units["subdistrict"].isna() | units["subdistrict"].isin(codes)
    bad = ~known.to_numpy()
    reasons = [f"所属办事处「{v}」不在办事处图层中 / unknown subdistrict code"
               for v in units.loc[bad, "subdistrict"]]
    units = _reject_rows(units, bad, "units", "subdistrict", reasons, rejected)
    missing = units["subdistrict"].isna().to_numpy()
    if missing.any():
        pts = gpd.GeoDataFrame(geometry=units.geometry[missing].representative_point(),
                               crs=units.crs)
        joined = gpd.sjoin(pts, subdistricts[["code", "geometry"]], predicate="within", how="left")
        joined = joined[~joined.index.duplicated(keep="first")]
        units.loc[missing, "subdistrict"] = joined["code"].to_numpy()
        lost = units["subdistrict"].isna()
        for _, row in units.loc[lost].iterrows():
            warnings.append(f"{row['code']} {row['name']}: 不在任何办事处内 / in no subdistrict")
    return units


def _check_overlaps(
    units: gpd.GeoDataFrame, paths: dict[str, Path], *, tolerance: float = 0.01
) -> None:
    """Raise on units that overlap by more than ``tolerance`` of the smaller one's area."""
    geoms = np.asarray(units.geometry.values)
    tree = shapely.STRtree(geoms)
    left, right = tree.query(geoms, predicate="intersects")
    keep = left < right
    for i, j in zip(left[keep], right[keep], strict=True):
        inter = shapely.intersection(geoms[i], geoms[j]).area
        small = min(geoms[i].area, geoms[j].area)
        if small > 0 and inter / small > tolerance:
            a, b = units.iloc[i], units.iloc[j]
            raise InputError(
                str(paths.get(str(a["_file"]), a["_file"])),
                f"社区/村「{a['code']} {a['name']}」与「{b['code']} {b['name']}」重叠 {inter:.0f} m²"
                f"（占较小者 {inter / small:.0%}） / units overlap by {inter:.0f} m²",
                "修正边界，使社区/村互不重叠 / fix the boundaries so units do not overlap",
                row=int(a["_row"]), feature=str(a["code"]), field="geometry",
            )


def _finish_facilities(
    facilities: gpd.GeoDataFrame, units: gpd.GeoDataFrame, rejected: list[Rejection],
    warnings: list[str],
) -> gpd.GeoDataFrame:
    """Fill defaults, generate ids, and assign each facility to a unit.

    A facility inside the district margin but in no unit is kept (it counts for
    district totals and walking access) with ``in_unit`` False, and warned about.
    """
    fac = facilities.copy()
    if fac.empty:
        fac["unit"] = pd.Series(dtype=object)
        fac["in_unit"] = pd.Series(dtype=bool)
        return fac
    fac["works"] = fac["works"].fillna("new")
    stems = fac["_file"].map(lambda f: Path(str(f)).stem)
    generated = stems + "-" + fac["_row"].astype(int).astype(str).str.zfill(4)
    fac["fid"] = fac["fid"].where(fac["fid"].notna(), generated)
    fac = _dedupe_across_files(fac, "facilities", "fid", rejected)
    codes = set(units["code"])
    bad = (fac["unit_code"].notna() & ~fac["unit_code"].isin(codes)).to_numpy()
    reasons = [f"社区编码「{v}」不存在 / unit code not found" for v in fac.loc[bad, "unit_code"]]
    fac = _reject_rows(fac, bad, "facilities", "unit_code", reasons, rejected)
    fac["unit"] = fac["unit_code"]
    need = fac["unit"].isna().to_numpy()
    if need.any():
        pts = gpd.GeoDataFrame(geometry=fac.geometry[need].representative_point(), crs=fac.crs)
        ordered = units[["code", "geometry"]].sort_values("code")
        # Within 1 cm of a boundary counts as on it: a border facility goes to the
        # smaller unit code, whatever rounding the coordinates went through.
        joined = gpd.sjoin(pts, ordered, predicate="dwithin", distance=0.01, how="left")
        joined = joined.sort_values("code").groupby(level=0)["code"].first()
        fac.loc[need, "unit"] = joined.reindex(fac.index[need]).to_numpy()
    fac["in_unit"] = fac["unit"].notna()
    loose = fac.loc[~fac["in_unit"]]
    for file, group in loose.groupby("_file", sort=True):
        warnings.append(checks.loose_facility_warning(str(file), sorted(map(str, group["fid"]))))
    fac["year"] = fac["year"].astype("Int64")
    fac["capacity"] = fac["capacity"].astype(float)
    return fac.sort_values("fid", ignore_index=True)


def accounting_table(
    raw: list[tuple[LayerSpec, gpd.GeoDataFrame, int]],
    used: dict[str, gpd.GeoDataFrame],
    rejected: list[Rejection],
    repairs: list[Repair],
) -> pd.DataFrame:
    """Count, per input file, the features read, used, repaired (of those used) and rejected.

    Returns
    -------
    pandas.DataFrame
        Columns ``layer, file, read, used, repaired, rejected``.

    Raises
    ------
    RuntimeError
        If read != used + rejected for any file: a feature was lost or counted twice,
        which is a bug in the loader, never a property of the input.
    """
    rows = []
    for spec, _, n in raw:
        name = spec.path.name
        frame = used.get(spec.layer)
        rows_used = (set() if frame is None or frame.empty
                     else set(frame.loc[frame["_file"] == name, "_row"].astype(int)))
        rows_rejected = [r.row for r in rejected if r.layer == spec.layer and r.file == name]
        rows_repaired = {r.row for r in repairs if r.layer == spec.layer and r.file == name}
        rows.append({"layer": spec.layer, "file": name, "read": n, "used": len(rows_used),
                     "repaired": len(rows_repaired & rows_used), "rejected": len(rows_rejected)})
        lost = n - len(rows_used) - len(rows_rejected)
        if lost or len(set(rows_rejected)) != len(rows_rejected) or rows_used & set(rows_rejected):
            msg = (f"accounting mismatch for {spec.layer} {name}: read {n}, used {len(rows_used)},"
                   f" rejected {len(rows_rejected)} (a loader bug; please report it)")
            raise RuntimeError(msg)
    return pd.DataFrame(rows, columns=["layer", "file", "read", "used", "repaired", "rejected"])


def rejected_frame(rejected: list[Rejection]) -> gpd.GeoDataFrame:
    """Return the rejections as a GeoDataFrame (geometry may be missing), sorted stably.

    Returns
    -------
    geopandas.GeoDataFrame
        Columns ``layer, file, row, feature, field, reason`` and geometry in WGS-84.
    """
    cols = ["layer", "file", "row", "feature", "field", "reason"]
    data = [{c: getattr(r, c) for c in cols} | {"geometry": r.geometry} for r in rejected]
    gdf = gpd.GeoDataFrame(data, columns=[*cols, "geometry"], geometry="geometry", crs=WGS84)
    return gdf.sort_values(["layer", "file", "row"], ignore_index=True)


def subdistrict_label(code: str, subdistricts: gpd.GeoDataFrame) -> str:
    """Return the subdistrict's name for ``code`` (or the code if unknown)."""
    match = subdistricts.loc[subdistricts["code"] == code, "name"]
    return str(match.iloc[0]) if len(match) else str(code)


__all__ = [
    "SUBDISTRICT_TYPES",
    "InputError",
    "LayerSet",
    "LayerSpec",
    "Manifest",
    "Rejection",
    "Repair",
    "load_layers",
    "read_layer_file",
    "read_manifest",
    "rejected_frame",
    "validate_features",
]
