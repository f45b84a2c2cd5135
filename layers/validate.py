"""Validate features against their layer's schema: parse fields, repair what is unambiguous."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from cfplan.layers.accounting import Rejection, Repair, feature_label
from cfplan.layers.encoding import unique_names
from cfplan.layers.errors import InputError
from cfplan.layers.hidden import (
    COORD_NOTE,
    COORD_PROBLEM,
    GEOM_PROBLEM,
    HIDDEN,
    READ_NOTES,
    READ_PROBLEM,
)
from cfplan.layers.kinds import implies_child_friendly
from cfplan.layers.manifest import LayerSpec
from cfplan.layers.schema import (
    LayerSchema,
    ValueProblem,
    is_missing,
    match_columns,
    parse_value,
)
from cfplan.layers.text import Text, clean_text

Problem = tuple[str, Text]
MAX_UNIT_POPULATION = 1e8  # more people than any 社区 or 村 holds: a typo or a sentinel


def fix_geometry(geom: Any, allowed: tuple[str, ...]) -> tuple[Any, Text | None, Text | None]:
    """Return (geometry, repair note, rejection reason) for one feature's geometry.

    A single-part MultiPoint becomes a Point and an invalid polygon is repaired with
    ``make_valid`` when that leaves a geometry of an allowed type.
    """
    if geom is None or shapely.is_empty(geom):
        return None, None, Text("几何为空", "empty geometry")
    if not np.isfinite(shapely.get_coordinates(geom)).all():
        return None, None, Text("坐标含非有限数值（NaN 或无穷大）",
                                "coordinates that are not finite numbers (NaN or infinity)")
    gtype = geom.geom_type
    if gtype == "MultiPoint" and "Point" in allowed and len(geom.geoms) == 1:
        return geom.geoms[0], Text("单点 MultiPoint 转为 Point",
                                   "single-part MultiPoint made a Point"), None
    if gtype == "GeometryCollection":
        return None, None, Text("混合几何（GeometryCollection）",
                                "mixed geometry collection")
    if gtype not in allowed:
        return None, None, Text(f"几何类型 {gtype} 不符，应为 {'/'.join(allowed)}",
                                f"geometry type {gtype}, expected {'/'.join(allowed)}")
    if not shapely.is_valid(geom):
        reason = shapely.is_valid_reason(geom)
        fixed = shapely.make_valid(geom)
        if fixed.geom_type == "GeometryCollection":
            parts = [g for g in fixed.geoms if g.geom_type in allowed]
            fixed = shapely.union_all(parts) if parts else None
        if fixed is None or fixed.is_empty or fixed.geom_type not in allowed:
            return None, None, Text(f"无效几何且无法修复：{reason}",
                                    f"invalid geometry that cannot be repaired: {reason}")
        return fixed, Text(f"无效几何已修复（{reason}）",
                           f"invalid geometry repaired with make_valid ({reason})"), None
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

    Raises
    ------
    InputError
        If a required column is missing or a column named in the manifest is absent.
    """
    name = spec.path.name
    raw, cleaned = clean_cells(raw)
    columns = column_map(raw, spec, schema)
    lonlat = raw.attrs.get("lonlat")
    records: list[dict[str, object]] = []
    seen_ids: dict[str, int] = {}
    for pos in range(len(raw)):
        row = raw.iloc[pos]
        rownum = pos + 1
        label = feature_label(row.rename(index={src: dst for dst, src in columns.items()}))
        where_field, reason = _read_problem(row, lonlat)
        geom, note = None, None
        if reason is None:
            geom, note, reason = fix_geometry(row[raw.geometry.name], schema.geometry)
            where_field = "geometry"
        if reason is not None:
            rejected.append(Rejection(spec.layer, name, rownum, label, where_field, reason,
                                      _read_geometry(row, raw)))
            continue
        for field_name, what in [*cleaned.get(pos, []), *_read_notes(row, lonlat, note)]:
            repairs.append(Repair(spec.layer, name, rownum, label, field_name, what))
        def record(field_name: str, what: Text, r: int = rownum, lb: str = label) -> None:
            repairs.append(Repair(spec.layer, name, r, lb, field_name, what))

        values, problem = _parse_fields(row, columns, spec, schema, record)
        if problem is None:
            problem = check_values(spec.layer, values)
            if problem is not None:
                problem = (columns.get(problem[0], problem[0]), problem[1])
        if problem is None and schema.id_field and values.get(schema.id_field) is not None:
            key = str(values[schema.id_field])
            if key in seen_ids:
                problem = (columns.get(schema.id_field, schema.id_field),
                           Text(f"编号「{key}」与第 {seen_ids[key]} 条重复",
                                f"duplicate id {key!r}, same as feature {seen_ids[key]}"))
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


def clean_cells(raw: gpd.GeoDataFrame) -> tuple[gpd.GeoDataFrame, dict[int, list[tuple[str, Text]]]]:
    """Remove control characters from every text cell and column name (:func:`clean_text`).

    Returns
    -------
    tuple
        The frame (a copy when anything changed) and ``{row position: [(column, note)]}``
        for the repairs to record.
    """
    notes: dict[int, list[tuple[str, Text]]] = {}
    geometry = raw.geometry.name
    names = unique_names([c if c == geometry else clean_text(str(c))[0] for c in raw.columns])
    out = raw
    if names != list(raw.columns):  # names that held control characters, or repeated names
        out = raw.copy()
        out.columns = names
        out = out.set_geometry(geometry)
    for i, col in enumerate(out.columns):
        dtype = out.dtypes.iloc[i]
        if (col == geometry or col in HIDDEN
                or not (pd.api.types.is_object_dtype(dtype) or pd.api.types.is_string_dtype(dtype))):
            continue
        values = out.iloc[:, i].to_numpy()
        for pos in np.flatnonzero([isinstance(v, str) for v in values]):
            text, note = clean_text(values[pos])
            if note is not None:
                if out is raw:
                    out = raw.copy()
                out.iloc[pos, i] = text
                notes.setdefault(int(pos), []).append((str(col), note))
    return out, notes


def column_map(raw: gpd.GeoDataFrame, spec: LayerSpec, schema: LayerSchema) -> dict[str, str]:
    """Return ``{canonical field: input column}``, raising if a required column is absent.

    Raises
    ------
    InputError
        If a column the manifest's ``fields`` names is not in the file, or a required
        field has no column.
    """
    names = [c for c in raw.columns if c != raw.geometry.name and c not in HIDDEN]
    mapping = match_columns(names, schema)
    for src, dst in spec.fields.items():
        if src not in raw.columns:
            raise InputError(
                str(spec.path), Text(f"清单 fields 中的列「{src}」不在文件中（现有列：{', '.join(names)}）",
                                     f"column {src!r} named in the manifest's fields is not in "
                                     f"the file (columns: {', '.join(names)})"),
                Text("改正清单中的列名", "correct the column name in the manifest"), field=src,
            )
        mapping = {k: v for k, v in mapping.items() if v != dst and k != src}
        mapping[src] = dst
    columns = {dst: src for src, dst in mapping.items()}
    if len(raw) == 0:
        return columns
    for f in schema.fields:
        if f.required and f.name not in columns and not (f.name == "kind" and spec.kind):
            accepted = "、".join((f.name, *f.aliases))
            shown = ", ".join(names) or "-"
            raise InputError(
                str(spec.path),
                Text(f"缺少必填列「{f.name}」，可用列名：{accepted}（现有列：{', '.join(names) or '无'}）",
                     f"required column {f.name!r} is missing (columns: {shown})"),
                Text(f'添加该列，或在清单中用 fields = {{ "现有列名" = "{f.name}" }} 指定',
                     f'add the column, or map one in the manifest: fields = {{ "your column" = '
                     f'"{f.name}" }}'),
                field=f.name,
            )
    return columns


def _read_problem(row: pd.Series, lonlat: tuple[str, str] | None) -> tuple[str, Text | None]:
    """Return (field, problem) recorded by the reader for this row, if any."""
    coord = row.get(COORD_PROBLEM)
    if isinstance(coord, Text):
        return (f"{lonlat[0]}/{lonlat[1]}" if lonlat else "geometry"), coord
    geom = row.get(GEOM_PROBLEM)
    if isinstance(geom, Text):
        return "geometry", geom
    read = row.get(READ_PROBLEM)
    if isinstance(read, tuple):
        return read[0], read[1]
    return "geometry", None


def _read_geometry(row: pd.Series, raw: gpd.GeoDataFrame) -> object:
    """Return the geometry of a feature its reader rejected (OSM), for rejected.geojson."""
    geom = row[raw.geometry.name]
    if (not isinstance(row.get(READ_PROBLEM), tuple) or raw.crs is None
            or not raw.crs.equals("EPSG:4326") or geom is None or shapely.is_empty(geom)):
        return None
    return geom


def _read_notes(
    row: pd.Series, lonlat: tuple[str, str] | None, geometry_note: Text | None
) -> list[tuple[str, Text]]:
    """Return the (field, what) repairs made while reading and fixing this row's geometry."""
    notes = []
    coord = row.get(COORD_NOTE)
    if isinstance(coord, Text) and lonlat:
        notes.append((f"{lonlat[0]}/{lonlat[1]}", coord))
    read = row.get(READ_NOTES)
    if isinstance(read, tuple):
        notes.extend(read)
    if geometry_note is not None:
        notes.append(("geometry", geometry_note))
    return notes


def _parse_fields(
    row: pd.Series,
    columns: dict[str, str],
    spec: LayerSpec,
    schema: LayerSchema,
    record_repair: Callable[[str, Text], None],
) -> tuple[dict[str, object], Problem | None]:
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
                return values, (shown, Text(f"缺少必填字段「{shown}」",
                                            f"required field {shown!r} is empty"))
            values[f.name] = None
            continue
        try:
            parsed, repaired = parse_value(value, f.type)
        except ValueProblem as exc:
            return values, (shown, exc.text)
        if f.name == "kind" and spec.kind and parsed != spec.kind:
            return values, (shown, Text(f'类别「{value}」与清单中的 kind = "{spec.kind}" 不符',
                                        f"kind {value!r} conflicts with the manifest's kind "
                                        f"{spec.kind!r}"))
        if repaired:
            record_repair(shown, Text(f"「{value}」规范为 {parsed}",
                                      f"{value!r} normalised to {parsed}"))
        values[f.name] = parsed
    if schema.layer == "facilities" and values.get("child_friendly") is None:
        # 儿童友好企事业单位, 儿童友好公园 …: the kind's name states the designation.
        src = columns.get("kind")
        written = row[src] if src is not None else spec.kind
        if implies_child_friendly(written) or implies_child_friendly(spec.kind):
            values["child_friendly"] = True
    return values, None


def check_values(layer: str, values: dict[str, object]) -> Problem | None:
    """Return the first implausible value of a parsed feature as (field, reason), or None."""
    if layer == "units":
        pop = values.get("population")
        if isinstance(pop, int | float) and pop < 0:
            return "population", Text(f"人口为负数 {pop}", f"negative population {pop}")
        kids = values.get("children")
        if isinstance(kids, int | float) and kids < 0:
            return "children", Text(f"儿童人口为负数 {kids}", f"negative child population {kids}")
        for key, word in (("population", Text("人口", "population")),
                          ("children", Text("儿童人口", "child population"))):
            value = values.get(key)
            if isinstance(value, int | float) and value > MAX_UNIT_POPULATION:
                return key, Text(f"{word.zh} {value:g} 超过 1 亿，不可能属于一个社区/村",
                                 f"{word.en} {value:g} exceeds 100 million: no unit holds that")
        if isinstance(kids, int | float) and isinstance(pop, int | float) and kids > pop:
            return "children", Text(f"儿童人口 {kids} 大于总人口 {pop}",
                                    f"children {kids} exceed the population {pop}")
    if layer in ("facilities", "candidates"):
        cap = values.get("capacity")
        if isinstance(cap, int | float) and cap < 0:
            return "capacity", Text(f"容量为负数 {cap}", f"negative capacity {cap}")
        year = values.get("year")
        if isinstance(year, int | float) and not 1900 <= int(year) <= 2100:
            return "year", Text(f"年份 {year} 不合理", f"implausible year {year}")
    return None


__all__ = ["check_values", "clean_cells", "column_map", "fix_geometry", "validate_features"]
