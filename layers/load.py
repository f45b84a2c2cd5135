"""Load a layer folder through its manifest: read, convert, validate, account for every feature."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely

from geo.crs import WGS84, choose_metric_crs, in_china, to_wgs84
from layers.errors import InputError
from layers.kinds import FACILITY_KINDS, SUBDISTRICT_TYPES
from layers.schema import SCHEMAS, LayerSchema, ValueProblem, is_missing, match_columns, parse_value

MANIFEST_NAME = "layers.toml"
LON_ALIASES = ("lon", "lng", "longitude", "经度", "x", "X", "LON", "LNG", "经度(°)")
LAT_ALIASES = ("lat", "latitude", "纬度", "y", "Y", "LAT", "纬度(°)")
SINGLE_LAYERS = ("district", "subdistricts", "units", "entrances", "buildings", "school_routes")


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
            "写明文件名，如 file = \"units.geojson\" / name the file",
        )
    unknown = set(table) - {"file", "crs", "datum", "encoding", "fields", "kind", "lon", "lat",
                            "layer"}
    if unknown:
        raise InputError(
            str(manifest), f"{where} 有未知键 {sorted(unknown)} / unknown keys {sorted(unknown)}",
            "可用键：file, crs, datum, encoding, fields, kind, lon, lat, layer / allowed keys",
        )
    kind = table.get("kind")
    if kind is not None and kind not in FACILITY_KINDS:
        raise InputError(
            str(manifest), f"{where} 的 kind「{kind}」不是已知设施类别 / unknown kind {kind!r}",
            f"可用类别 / known kinds: {', '.join(FACILITY_KINDS)}",
        )
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
            f"在图层目录中放置 {MANIFEST_NAME}（见 README）/ put a {MANIFEST_NAME} in the folder",
        )
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise InputError(str(path), f"不是有效的 TOML：{exc} / not valid TOML: {exc}") from exc
    district = data.get("district", {})
    specs: list[LayerSpec] = []
    layers = data.get("layers", {})
    for layer, table in layers.items():
        if layer not in SINGLE_LAYERS:
            raise InputError(
                str(path), f"未知图层 [layers.{layer}] / unknown layer [layers.{layer}]",
                f"可用图层 / known layers: {', '.join(SINGLE_LAYERS)}; 设施用 [[facilities]]",
            )
        specs.append(_spec(folder, layer, table, f"[layers.{layer}]", path))
    for i, table in enumerate(data.get("facilities", []), start=1):
        specs.append(_spec(folder, "facilities", table, f"[[facilities]] #{i}", path))
    if not any(s.layer == "units" for s in specs):
        raise InputError(
            str(path), "清单中没有社区/村图层 / the manifest has no units layer",
            "添加 [layers.units] file = \"...\" / add a units layer",
        )
    streets = data.get("streets", {}).get("file")
    indicators = data.get("indicators", {}).get("file")
    return Manifest(
        folder=folder,
        name=str(district.get("name", folder.name)),
        name_en=str(district.get("name_en", district.get("name", folder.name))),
        margin_m=float(district.get("margin_m", 2000.0)),
        specs=tuple(specs),
        streets=folder / streets if streets else None,
        indicators=folder / indicators if indicators else None,
        synthetic=bool(district.get("synthetic", False)),
    )


# --------------------------------------------------------------------------- reading


def _find_column(columns: list[str], wanted: str | None, aliases: tuple[str, ...]) -> str | None:
    if wanted:
        return wanted if wanted in columns else None
    lowered = {str(c).strip().lower(): c for c in columns}
    for alias in aliases:
        if alias.lower() in lowered:
            return lowered[alias.lower()]
    return None


def _read_table(spec: LayerSpec) -> gpd.GeoDataFrame:
    """Read a CSV or XLSX with lon/lat columns as points (no CRS set)."""
    path = spec.path
    if path.suffix.lower() in (".xlsx", ".xls"):
        df = pd.read_excel(path, dtype=object)
    else:
        df = pd.read_csv(path, dtype=object, encoding=spec.encoding or "utf-8-sig",
                         keep_default_na=False, na_values=[""])
    cols = [str(c) for c in df.columns]
    df.columns = cols
    lon_col = _find_column(cols, spec.lon, LON_ALIASES)
    lat_col = _find_column(cols, spec.lat, LAT_ALIASES)
    if lon_col is None or lat_col is None:
        raise InputError(
            str(path), f"找不到经纬度列（现有列：{', '.join(cols)}）/ no lon/lat columns",
            "表格需有 经度/纬度 或 lon/lat 列，或在清单中用 lon=、lat= 指定 / name them in the manifest",
        )
    lon = pd.to_numeric(df[lon_col], errors="coerce").to_numpy(dtype=float)
    lat = pd.to_numeric(df[lat_col], errors="coerce").to_numpy(dtype=float)
    ok = np.isfinite(lon) & np.isfinite(lat)
    geoms = np.full(len(df), None, dtype=object)
    geoms[ok] = shapely.points(lon[ok], lat[ok])
    out = gpd.GeoDataFrame(df.drop(columns=[lon_col, lat_col]), geometry=list(geoms), crs=None)
    out.attrs["lonlat"] = (lon_col, lat_col)
    return out


def read_layer_file(spec: LayerSpec) -> gpd.GeoDataFrame:
    """Read one input file as it is, without validation.

    Returns
    -------
    geopandas.GeoDataFrame
        The raw features, in the file's own CRS (or none).

    Raises
    ------
    InputError
        If the file is missing, empty, truncated or unreadable.
    """
    path = spec.path
    if not path.is_file():
        raise InputError(str(path), "文件不存在 / file not found", "检查清单中的文件名 / check the name")
    if path.stat().st_size == 0:
        raise InputError(str(path), "文件为空 / the file is empty",
                         "重新导出该图层 / export the layer again")
    try:
        if path.suffix.lower() in (".csv", ".txt", ".xlsx", ".xls"):
            return _read_table(spec)
        import pyogrio

        kwargs: dict[str, object] = {}
        if spec.encoding:
            kwargs["encoding"] = spec.encoding
        if spec.sublayer:
            kwargs["layer"] = spec.sublayer
        return pyogrio.read_dataframe(path, **kwargs)
    except InputError:
        raise
    except Exception as exc:
        raise InputError(
            str(path), f"文件无法解析（可能不完整或格式错误）：{exc} / cannot parse: {exc}",
            "检查文件是否被截断，重新导出 / check for truncation and export again",
        ) from exc


def _looks_like_degrees(gdf: gpd.GeoDataFrame) -> bool:
    bounds = gdf.geometry.dropna()
    if bounds.empty:
        return True
    x0, y0, x1, y1 = bounds.total_bounds
    return -180 <= x0 <= x1 <= 180 and -90 <= y0 <= y1 <= 90


def to_wgs84_frame(
    gdf: gpd.GeoDataFrame, spec: LayerSpec, *, warnings: list[str], repairs: list[Repair]
) -> gpd.GeoDataFrame:
    """Bring a raw layer to WGS-84 lon/lat, converting GCJ-02 / BD-09 and fixing swapped columns.

    Returns
    -------
    geopandas.GeoDataFrame
        The layer in EPSG:4326.

    Raises
    ------
    InputError
        If the CRS is unknown and the coordinates are not lon/lat degrees.
    """
    name = spec.path.name
    if spec.crs:
        gdf = gdf.set_crs(spec.crs, allow_override=True)
    elif gdf.crs is None:
        if not _looks_like_degrees(gdf):
            raise InputError(
                str(spec.path), "没有坐标系，且坐标不是经纬度 / no CRS and coordinates are not degrees",
                "在清单中写明 crs，如 crs = \"EPSG:4547\" / set crs in the manifest",
            )
        gdf = gdf.set_crs(WGS84)
        if "lonlat" not in gdf.attrs:
            warnings.append(f"{name}: 未声明坐标系，按 WGS-84 经纬度读取 / no CRS, read as WGS-84")
    gdf = gdf.to_crs(WGS84)
    lonlat = gdf.attrs.get("lonlat")
    if lonlat is not None:
        gdf = _fix_swapped(gdf, spec, repairs)
    datum = spec.datum.lower()
    if datum not in ("wgs84", "cgcs2000"):
        geoms = np.asarray(gdf.geometry.values)

        def convert(coords: np.ndarray) -> np.ndarray:
            lon, lat = to_wgs84(coords[:, 0], coords[:, 1], datum=datum)
            return np.column_stack([lon, lat])

        try:
            gdf = gdf.set_geometry(gpd.GeoSeries(shapely.transform(geoms, convert), crs=WGS84,
                                                 index=gdf.index))
        except ValueError as exc:
            raise InputError(str(spec.path), str(exc), "datum 可为 wgs84、cgcs2000、gcj02、bd09")
    return gdf


def _fix_swapped(gdf: gpd.GeoDataFrame, spec: LayerSpec, repairs: list[Repair]) -> gpd.GeoDataFrame:
    """Swap lon/lat per row where only the swapped pair falls in China."""
    geoms = gdf.geometry
    has = geoms.notna().to_numpy()
    if not has.any():
        return gdf
    x = np.full(len(gdf), np.nan)
    y = np.full(len(gdf), np.nan)
    x[has] = shapely.get_x(geoms[has].values)
    y[has] = shapely.get_y(geoms[has].values)
    swap = has & ~in_china(x, y) & in_china(y, x)
    if not swap.any():
        return gdf
    new = np.asarray(geoms.values, dtype=object).copy()
    new[swap] = shapely.points(y[swap], x[swap])
    lon_col, lat_col = gdf.attrs["lonlat"]
    for row in np.flatnonzero(swap):
        repairs.append(Repair(spec.layer, spec.path.name, int(row) + 1, _label(gdf.iloc[row]),
                              f"{lon_col}/{lat_col}", "经纬度列互换，已交换 / lon and lat swapped"))
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
        return None, None, "混合几何（GeometryCollection）/ mixed geometry collection"
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
        return fixed, f"无效几何已修复（{reason}）/ invalid geometry repaired with make_valid", None
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
    mapping = match_columns([c for c in raw.columns if c != raw.geometry.name], schema)
    for src, dst in spec.fields.items():
        if src in raw.columns:
            mapping = {k: v for k, v in mapping.items() if v != dst and k != src}
            mapping[src] = dst
    columns = {dst: src for src, dst in mapping.items()}
    records: list[dict[str, object]] = []
    seen_ids: dict[str, int] = {}
    for pos in range(len(raw)):
        row = raw.iloc[pos]
        rownum = pos + 1
        label = _label(row.rename(index=mapping))
        geom, note, reason = _fix_geometry(row[raw.geometry.name], schema.geometry)
        if reason:
            rejected.append(Rejection(spec.layer, name, rownum, label, "geometry", reason, None))
            continue
        if note:
            repairs.append(Repair(spec.layer, name, rownum, label, "geometry", note))
        values: dict[str, object] = {}
        problem: tuple[str, str] | None = None
        for f in schema.fields:
            src = columns.get(f.name)
            value = row[src] if src is not None else None
            if f.name == "kind" and spec.kind and is_missing(value):
                value = spec.kind
            if is_missing(value):
                if f.required:
                    problem = (f.name, f"缺少必填字段 / required field {f.name} is missing")
                    break
                values[f.name] = None
                continue
            try:
                parsed, repaired = parse_value(value, f.type)
            except ValueProblem as exc:
                problem = (f.name, str(exc))
                break
            if repaired:
                repairs.append(Repair(spec.layer, name, rownum, label, f.name,
                                      f"「{value}」规范为 {parsed} / normalised to {parsed}"))
            values[f.name] = parsed
        if problem is None:
            problem = _check_values(spec.layer, values)
        if problem is None and schema.id_field and values.get(schema.id_field) is not None:
            key = str(values[schema.id_field])
            if key in seen_ids:
                problem = (schema.id_field,
                           f"编号「{key}」与第 {seen_ids[key]} 条重复 / duplicate id, "
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
        Language of warnings (``"zh"`` or ``"en"``).

    Returns
    -------
    LayerSet
        All layers in one metric CRS chosen from the data (CGCS2000 Gauss-Krüger in
        China), with the accounting table, rejections, repairs and warnings.

    Raises
    ------
    InputError
        On a fatal problem: missing or unreadable file, unknown CRS, no usable units,
        overlapping units.
    """
    manifest = read_manifest(folder)
    rejected: list[Rejection] = []
    repairs: list[Repair] = []
    warnings: list[str] = []
    raw: list[tuple[LayerSpec, gpd.GeoDataFrame, int]] = []
    for spec in manifest.specs:
        frame = read_layer_file(spec)
        n = len(frame)
        raw.append((spec, to_wgs84_frame(frame, spec, warnings=warnings, repairs=repairs), n))

    validated: list[tuple[LayerSpec, gpd.GeoDataFrame, int]] = []
    for spec, frame, n in raw:
        gdf = validate_features(frame, spec, SCHEMAS[spec.layer], rejected=rejected,
                                repairs=repairs)
        validated.append((spec, _outside_china(gdf, spec.layer, rejected), n))

    units_wgs = pd.concat([g for s, g, _ in validated if s.layer == "units"])
    if units_wgs.empty:
        raise InputError(
            str(next(s.path for s in manifest.specs if s.layer == "units")),
            "没有可用的社区/村要素 / no usable units", "查看 rejected.csv 中的原因 / see rejected.csv",
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

    units = combined("units")
    units = _dedupe_across_files(units, "units", "code", rejected)
    district = combined("district")
    if district.empty:
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
        reasons = [f"距区界 {d:.0f} m，超出容差 {manifest.margin_m:.0f} m / outside the district"
                   for d in dist[mask]]
        out = _reject_rows(gdf, mask, layer, "geometry", reasons, rejected)
        if mask.all():
            warnings.append(f"{layer}: 整个图层都在区界之外 / the whole layer lies outside the district")
        return out

    units = clip_margin(units, "units")
    subdistricts = clip_margin(_dedupe_across_files(combined("subdistricts"), "subdistricts",
                                                    "code", rejected), "subdistricts")
    if not subdistricts.empty:
        subdistricts["subdistrict_type"] = subdistricts["subdistrict_type"].fillna("office")
    units = _assign_subdistricts(units, subdistricts, rejected, warnings)
    _check_overlaps(units)
    for _, row in units.loc[units["population"].fillna(0) == 0].iterrows():
        warnings.append(f"{row['_file']} {row['code']} {row['name']}: 人口为 0 / unit has no population")

    facilities = clip_margin(combined("facilities"), "facilities")
    facilities = _finish_facilities(facilities, units, rejected, repairs)
    entrances = clip_margin(combined("entrances"), "entrances")
    buildings = combined("buildings")
    routes = combined("school_routes")

    accounting = _accounting(validated, raw, rejected, repairs)
    used = {"units": units, "subdistricts": subdistricts, "facilities": facilities,
            "entrances": entrances, "district": district, "buildings": buildings,
            "school_routes": routes}
    accounting["used"] = [
        int((used[layer]["_file"] == file).sum()) if layer in used else 0
        for layer, file in zip(accounting["layer"], accounting["file"], strict=True)
    ]
    accounting["rejected"] = accounting["read"] - accounting["used"]
    return LayerSet(
        name=manifest.name, name_en=manifest.name_en, crs=crs, district=district,
        subdistricts=subdistricts.sort_values("code", ignore_index=True),
        units=units.sort_values("code", ignore_index=True), facilities=facilities,
        entrances=entrances, buildings=buildings, school_routes=routes,
        streets=manifest.streets, indicators=manifest.indicators, synthetic=manifest.synthetic,
        accounting=accounting, rejected=rejected, repairs=repairs, warnings=warnings,
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


def _check_overlaps(units: gpd.GeoDataFrame, *, tolerance: float = 0.01) -> None:
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
                str(a["_file"]),
                f"社区/村「{a['code']} {a['name']}」与「{b['code']} {b['name']}」重叠 {inter:.0f} m²"
                f"（占较小者 {inter / small:.0%}）/ units overlap by {inter:.0f} m²",
                "修正边界，使社区/村互不重叠 / fix the boundaries so units do not overlap",
                row=int(a["_row"]), feature=str(a["code"]), field="geometry",
            )


def _finish_facilities(
    facilities: gpd.GeoDataFrame, units: gpd.GeoDataFrame, rejected: list[Rejection],
    repairs: list[Repair],
) -> gpd.GeoDataFrame:
    """Fill defaults, generate ids, and assign each facility to a unit."""
    fac = facilities.copy()
    if fac.empty:
        fac["unit"] = pd.Series(dtype=object)
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
        joined = gpd.sjoin(pts, ordered, predicate="covered_by", how="left")
        joined = joined.sort_values("code").groupby(level=0)["code"].first()
        fac.loc[need, "unit"] = joined.reindex(fac.index[need]).to_numpy()
    fac["in_unit"] = fac["unit"].notna()
    for _, row in fac.loc[~fac["in_unit"]].iterrows():
        repairs.append(Repair("facilities", str(row["_file"]), int(row["_row"]), str(row["fid"]),
                              "unit", "不在任何社区/村内：计入全区总数，不计入任何社区 / "
                              "in no unit: counts district-wide, not for any unit"))
    fac["year"] = fac["year"].astype("Int64")
    fac["capacity"] = fac["capacity"].astype(float)
    return fac.sort_values("fid", ignore_index=True)


def _accounting(
    validated: list[tuple[LayerSpec, gpd.GeoDataFrame, int]],
    raw: list[tuple[LayerSpec, gpd.GeoDataFrame, int]],
    rejected: list[Rejection],
    repairs: list[Repair],
) -> pd.DataFrame:
    rows = []
    for spec, _, n in raw:
        name = spec.path.name
        repaired = {(r.row) for r in repairs if r.layer == spec.layer and r.file == name}
        rows.append({"layer": spec.layer, "file": name, "read": n, "used": 0,
                     "repaired": len(repaired), "rejected": 0})
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
