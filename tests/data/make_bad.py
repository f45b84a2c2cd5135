"""Write the bad-input corpus: one small layer folder per broken case, derived from the demo.

Run ``python tests/data/make_bad.py`` from the repository root; it rewrites
``tests/data/bad/`` byte for byte (no timestamps, no randomness). Each case folder
holds a ``layers.toml`` and a few files copied from ``cfplan/demo_data`` with one
thing broken, or a single broken file (plan, OSM). ``CASES`` says what each case
breaks; ``tests/test_bad_input.py`` asserts what the loader does with it.
"""

from __future__ import annotations

import copy
import csv
import io
import json
import shutil
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio
import shapely
from shapely.geometry import mapping, shape

from cfplan.geo.crs import geometries_to_gcj02
from cfplan.geo.io import write_xlsx

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "cfplan" / "demo_data"
OUT = Path(__file__).resolve().parent / "bad"
UNIT_CODES = ("U01", "U02", "U07", "U08")  # the 2 x 2 cells in the south-west corner
N_FACILITIES = 8

Files = dict[str, bytes]


@dataclass(frozen=True)
class Case:
    """One broken input: its folder name, what is broken, and the files that make it."""

    name: str
    broken: str
    make: Callable[[], Files]


# --------------------------------------------------------------------------- base data


def _features(name: str) -> list[dict]:
    return json.loads((DEMO / name).read_text(encoding="utf-8"))["features"]


def base_units() -> list[dict]:
    """The four demo units U01, U02, U07, U08 as GeoJSON features (Chinese field names)."""
    return [copy.deepcopy(f) for f in _features("units.geojson")
            if f["properties"]["编码"] in UNIT_CODES]


def base_district() -> dict:
    """The union of the four base units as one district feature."""
    union = shapely.union_all([shape(f["geometry"]) for f in base_units()])
    union = shapely.set_precision(union, 1e-7)
    return {"type": "Feature", "properties": {"名称": "坏数据示例区", "编码": "BAD"},
            "geometry": mapping(union)}


def base_facilities() -> list[dict]:
    """The first few demo point facilities inside the base units, by id."""
    area = shapely.union_all([shape(f["geometry"]) for f in base_units()])
    inside = [copy.deepcopy(f) for f in _features("facilities.geojson")
              if area.contains(shape(f["geometry"]))]
    return sorted(inside, key=lambda f: f["properties"]["编号"])[:N_FACILITIES]


def base_childcare() -> list[dict[str, str]]:
    """Demo childcare rows (GCJ-02 经度/纬度) that fall in the base units."""
    text = (DEMO / "childcare.csv").read_text(encoding="utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    return [r for r in rows if r["编号"] in {"TY01", "TY02", "TY07", "TY08"}]


def geojson(features: list[dict], name: str = "layer") -> bytes:
    """Return a FeatureCollection, one feature per line, UTF-8, no ASCII escapes."""
    lines = [json.dumps(f, ensure_ascii=False, separators=(",", ":")) for f in features]
    text = ('{"type":"FeatureCollection","name":' + json.dumps(name) + ',"features":[\n'
            + ",\n".join(lines) + "\n]}\n")
    return text.encode("utf-8")


def csv_bytes(rows: list[dict[str, object]], *, encoding: str = "utf-8-sig") -> bytes:
    """Return rows as CSV text with a header (BOM by default, as Excel writes)."""
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buf.getvalue().encode(encoding)


def _toml_value(value: object) -> str:
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{json.dumps(k, ensure_ascii=False)} = {_toml_value(v)}"
                                for k, v in value.items()) + " }"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    return json.dumps(value, ensure_ascii=False)


def manifest(
    *,
    layers: dict[str, dict[str, object]] | None = None,
    facilities: list[dict[str, object]] | None = None,
    margin_m: float = 500,
    extra: str = "",
) -> bytes:
    """Return a layers.toml: the base district and units unless ``layers`` says otherwise."""
    layers = ({"district": {"file": "district.geojson"}, "units": {"file": "units.geojson"}}
              if layers is None else layers)
    facilities = [{"file": "facilities.geojson"}] if facilities is None else facilities
    out = ["# Bad-input case written by tests/data/make_bad.py (synthetic data).",
           "[district]", 'name = "坏数据示例区"', 'name_en = "Bad-input example"',
           "synthetic = true", f"margin_m = {margin_m}", ""]
    for layer, table in layers.items():
        out.append(f"[layers.{layer}]")
        out += [f"{k} = {_toml_value(v)}" for k, v in table.items()]
        out.append("")
    for table in facilities:
        out.append("[[facilities]]")
        out += [f"{k} = {_toml_value(v)}" for k, v in table.items()]
        out.append("")
    return ("\n".join(out) + extra).encode("utf-8")


def base(**changes: bytes) -> Files:
    """The base folder (district, four units, eight facilities) with files replaced."""
    files: Files = {
        "layers.toml": manifest(),
        "district.geojson": geojson([base_district()], "district"),
        "units.geojson": geojson(base_units(), "units"),
        "facilities.geojson": geojson(base_facilities(), "facilities"),
    }
    files.update({k.replace("__", "."): v for k, v in changes.items()})
    return files


def with_units(edit: Callable[[list[dict]], None]) -> Files:
    """The base folder with the units edited in place by ``edit``."""
    units = base_units()
    edit(units)
    return base(units__geojson=geojson(units, "units"))


def with_facilities(edit: Callable[[list[dict]], None]) -> Files:
    """The base folder with the facilities edited in place by ``edit``."""
    facilities = base_facilities()
    edit(facilities)
    return base(facilities__geojson=geojson(facilities, "facilities"))


def point(lon: float, lat: float) -> dict:
    """A GeoJSON point geometry."""
    return {"type": "Point", "coordinates": [lon, lat]}


def facility(fid: str, kind: str, geometry: dict | None, **props: object) -> dict:
    """A facility feature with Chinese field names."""
    properties = {"编号": fid, "名称": f"测试{fid}", "类别": kind, "状态": "现状", "年份": 2022}
    properties.update(props)
    return {"type": "Feature", "properties": properties, "geometry": geometry}


def _shift(geometry: dict, dlon: float, dlat: float) -> dict:
    moved = shapely.affinity.translate(shape(geometry), dlon, dlat)
    return mapping(shapely.set_precision(moved, 1e-7))


def _centre(feature: dict) -> tuple[float, float]:
    p = shape(feature["geometry"]).representative_point()
    return round(p.x, 7), round(p.y, 7)


def _set(index: int, **props: object) -> Callable[[list[dict]], None]:
    def edit(features: list[dict]) -> None:
        features[index]["properties"].update(props)

    return edit


def _append(*features: dict) -> Callable[[list[dict]], None]:
    def edit(existing: list[dict]) -> None:
        existing.extend(features)

    return edit


# --------------------------------------------------------------------------- shapefiles & xlsx


def _fix_dbf_date(data: bytes) -> bytes:
    """Set a dBASE header's last-update date to 2024-01-01 so the bytes are reproducible."""
    return data[:1] + bytes([124, 1, 1]) + data[4:]


def shapefile(gdf: gpd.GeoDataFrame, stem: str, *, encoding: str, keep: tuple[str, ...]) -> Files:
    """Write ``gdf`` as a Shapefile and return the parts named in ``keep`` (by suffix)."""
    tmp = OUT.parent / ".tmp_shp"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    try:
        pyogrio.write_dataframe(gdf, tmp / f"{stem}.shp", encoding=encoding)
        files = {}
        for suffix in keep:
            data = (tmp / f"{stem}{suffix}").read_bytes()
            files[f"{stem}{suffix}"] = _fix_dbf_date(data) if suffix == ".dbf" else data
        return files
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def xlsx_bytes(rows: list[dict[str, object]]) -> bytes:
    """Return a one-sheet workbook (fixed metadata, so the bytes are reproducible)."""
    tmp = OUT.parent / ".tmp_xlsx"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    try:
        return write_xlsx({"托育机构": pd.DataFrame(rows)}, tmp / "t.xlsx",
                          when=datetime(2000, 1, 1, tzinfo=UTC)).read_bytes()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


SHP_FIELDS = {"编码": "CODE", "名称": "NAME", "类型": "TYPE", "人口": "POP", "编号": "ID",
              "类别": "KIND", "状态": "STATUS", "年份": "YEAR"}


def shp_frame(features: list[dict], crs: str | None) -> gpd.GeoDataFrame:
    """Features as a frame with short ASCII field names (a DBF name holds 10 bytes)."""
    records = [{SHP_FIELDS[k]: v for k, v in f["properties"].items() if k in SHP_FIELDS}
               for f in features]
    return gpd.GeoDataFrame(records, geometry=[shape(f["geometry"]) for f in features],
                            crs=crs)


def _units_frame(crs: str) -> gpd.GeoDataFrame:
    return shp_frame(base_units(), "EPSG:4326").to_crs(crs)


# --------------------------------------------------------------------------- the cases


def _bowtie_park() -> dict:
    x, y = _centre(base_units()[0])
    d = 0.001
    ring = [[x, y], [x + d, y + d], [x + d, y], [x, y + d], [x, y]]
    return facility("PKX", "公园", {"type": "Polygon", "coordinates": [ring]})


def _unclosed_park() -> dict:
    x, y = _centre(base_units()[0])
    return facility("PKY", "公园", {"type": "Polygon", "coordinates": [[[x, y], [x + 0.001, y]]]})


def case_geom_self_intersecting() -> Files:
    return with_facilities(_append(_bowtie_park()))


def case_geom_unreadable() -> Files:
    return with_facilities(_append(_unclosed_park()))


def case_geom_empty() -> Files:
    return with_facilities(_append(facility("NULL1", "幼儿园", None)))


def case_geom_collection() -> Files:
    x, y = _centre(base_units()[0])
    mixed = {"type": "GeometryCollection",
             "geometries": [point(x, y), {"type": "LineString",
                                          "coordinates": [[x, y], [x + 0.001, y]]}]}
    return with_facilities(_append(facility("GC1", "幼儿园", mixed)))


def case_geom_wrong_type() -> Files:
    x, y = _centre(base_units()[0])
    line = {"type": "LineString", "coordinates": [[x, y], [x + 0.001, y + 0.001]]}
    return with_facilities(_append(facility("LN1", "幼儿园", line)))


def case_facilities_no_features() -> Files:
    return base(facilities__geojson=geojson([], "facilities"))


def case_units_no_features() -> Files:
    return base(units__geojson=geojson([], "units"))


def case_crs_missing_projected() -> Files:
    files = base(layers__toml=manifest(layers={"district": {"file": "district.geojson"},
                                               "units": {"file": "units.shp"}}))
    del files["units.geojson"]
    files.update(shapefile(_units_frame("EPSG:4547"), "units", encoding="UTF-8",
                           keep=(".shp", ".shx", ".dbf", ".cpg")))
    return files


def case_crs_missing_degrees() -> Files:
    gdf = shp_frame(base_facilities(), None)
    files = base(layers__toml=manifest(facilities=[{"file": "facilities.shp"}]))
    del files["facilities.geojson"]
    files.update(shapefile(gdf, "facilities", encoding="UTF-8",
                           keep=(".shp", ".shx", ".dbf", ".cpg")))
    return files


def case_crs_geojson_in_metres() -> Files:
    metres = _units_frame("EPSG:4547")
    features = [{"type": "Feature", "properties": dict(f["properties"]),
                 "geometry": mapping(shapely.set_precision(g, 0.01))}
                for f, g in zip(base_units(), metres.geometry, strict=True)]
    return base(units__geojson=geojson(features, "units"))


def case_crs_prj_wrong() -> Files:
    gdf = _units_frame("EPSG:4326").set_crs("EPSG:4547", allow_override=True)
    files = base(layers__toml=manifest(layers={"district": {"file": "district.geojson"},
                                               "units": {"file": "units.shp"}}))
    del files["units.geojson"]
    files.update(shapefile(gdf, "units", encoding="UTF-8",
                           keep=(".shp", ".shx", ".dbf", ".cpg", ".prj")))
    return files


def case_crs_wrong_zone() -> Files:
    fac = base_facilities()
    metres = gpd.GeoSeries([shape(f["geometry"]) for f in fac], crs="EPSG:4326").to_crs(
        "EPSG:4547")
    features = [dict(f, geometry=mapping(shapely.set_precision(g, 0.01)))
                for f, g in zip(fac, metres, strict=True)]
    return base(layers__toml=manifest(facilities=[{"file": "facilities.geojson",
                                                   "crs": "EPSG:4546"}]),
                facilities__geojson=geojson(features, "facilities"))


def _childcare_case(rows: list[dict[str, object]], **spec: object) -> Files:
    table = {"file": "childcare.csv", "kind": "childcare", "datum": "gcj02", **spec}
    return base(layers__toml=manifest(facilities=[{"file": "facilities.geojson"}, table]),
                childcare__csv=csv_bytes(rows))


def case_lonlat_swapped_csv() -> Files:
    rows = base_childcare()
    for row in rows[:2]:
        row["经度"], row["纬度"] = row["纬度"], row["经度"]
    return _childcare_case(rows)


def case_lonlat_swapped_xlsx() -> Files:
    body = [{**r, "托位": int(r["托位"]), "年份": int(r["年份"]), "经度": float(r["纬度"]),
             "纬度": float(r["经度"])} for r in base_childcare()]
    table = {"file": "childcare.xlsx", "kind": "childcare", "datum": "gcj02"}
    return base(layers__toml=manifest(facilities=[{"file": "facilities.geojson"}, table]),
                childcare__xlsx=xlsx_bytes(body))


def case_lonlat_swapped_geojson() -> Files:
    def edit(features: list[dict]) -> None:
        for f in features[:3]:
            f["geometry"]["coordinates"] = f["geometry"]["coordinates"][::-1]

    return with_facilities(edit)


def case_gcj_labelled_wgs84() -> Files:
    """The whole demo's 托育 table (AMap, GCJ-02) with its datum left out of the manifest."""
    table = {"file": "childcare.csv", "kind": "childcare"}
    return {
        "layers.toml": manifest(facilities=[table],
                                extra='[streets]\nfile = "streets.osm"\n', margin_m=2000),
        "district.geojson": (DEMO / "district.geojson").read_bytes(),
        "units.geojson": (DEMO / "units.geojson").read_bytes(),
        "childcare.csv": (DEMO / "childcare.csv").read_bytes(),
        "streets.osm": (DEMO / "streets.osm").read_bytes(),
    }


def case_far_away() -> Files:
    return with_facilities(_append(facility("ZERO", "幼儿园", point(0.0, 0.0)),
                                   facility("SYD", "幼儿园", point(151.2093, -33.8688))))


def case_coords_out_of_range() -> Files:
    return with_facilities(_append(facility("BAD", "幼儿园", point(200.0, 34.7))))


def case_outside_district() -> Files:
    x, y = _centre(base_units()[0])
    return with_facilities(_append(facility("FAR", "幼儿园", point(round(x - 0.06, 7), y))))


def case_facility_in_no_unit() -> Files:
    y = _centre(base_units()[0])[1]
    west = shape(base_district()["geometry"]).bounds[0]
    return with_facilities(_append(facility("EDGE", "幼儿园", point(round(west - 0.002, 7), y))))


def case_duplicate_unit_code() -> Files:
    return with_units(_set(3, 编码="U02"))


def case_duplicate_across_files() -> Files:
    extra = [copy.deepcopy(base_facilities()[0])]
    return base(layers__toml=manifest(facilities=[{"file": "facilities.geojson"},
                                                  {"file": "more.geojson"}]),
                more__geojson=geojson(extra, "more"))


def case_missing_required_column() -> Files:
    def edit(units: list[dict]) -> None:
        for f in units:
            del f["properties"]["人口"]

    return with_units(edit)


def case_missing_required_value() -> Files:
    return with_facilities(_set(2, 名称=None))


def case_wrong_type_number() -> Files:
    return with_facilities(_set(1, 年份="去年"))


def case_fullwidth_numbers() -> Files:
    def edit(units: list[dict]) -> None:
        for f, value in zip(units, ("６６７８", "7,172人", "0.83万", "１，２３４人"), strict=True):
            f["properties"]["人口"] = value

    return with_units(edit)


def case_negative_population() -> Files:
    return with_units(_set(1, 人口=-120))


def case_zero_population() -> Files:
    return with_units(_set(2, 人口=0, 儿童人口=0))


def case_children_exceed_population() -> Files:
    return with_units(_set(0, 人口=500, 儿童人口=800))


def case_unknown_kind() -> Files:
    return with_facilities(_set(0, 类别="游泳馆"))


def case_unknown_status() -> Files:
    return with_facilities(_set(4, 状态="拆除"))


def case_unknown_unit_type() -> Files:
    return with_units(_set(0, 类型="小区"))


def case_bad_bool() -> Files:
    return with_facilities(_set(3, 儿童友好="也许"))


def case_kind_conflict() -> Files:
    rows = [{"类别": "托育机构", **r} for r in base_childcare()]
    rows[1]["类别"] = "幼儿园"
    return _childcare_case(rows)


def case_overlapping_units() -> Files:
    def edit(units: list[dict]) -> None:
        units[1]["geometry"] = _shift(units[1]["geometry"], -0.003, 0.0)

    return with_units(edit)


def case_gap_between_units() -> Files:
    return with_units(lambda units: units.pop(3))


def case_gbk_shapefile_no_cpg() -> Files:
    layers = {"district": {"file": "district.geojson"}, "subdistricts": {"file": "subdistricts.shp"},
              "units": {"file": "units.geojson"}}
    files = base(layers__toml=manifest(layers=layers, margin_m=6000))
    for suffix in (".shp", ".shx", ".dbf", ".prj"):
        files[f"subdistricts{suffix}"] = (DEMO / f"subdistricts{suffix}").read_bytes()
    return files


def case_gbk_csv() -> Files:
    rows = base_childcare()
    files = _childcare_case(rows)
    files["childcare.csv"] = csv_bytes(rows, encoding="gbk")
    return files


def case_csv_bom_chinese_headers() -> Files:
    return _childcare_case(base_childcare())


def case_csv_bad_coordinates() -> Files:
    rows = base_childcare()
    rows[0]["经度"] = "东经113度"
    rows[1]["纬度"] = ""
    rows[2]["经度"] = rows[2]["经度"].translate(str.maketrans("0123456789.", "０１２３４５６７８９．"))
    return _childcare_case(rows)


def case_csv_no_coordinate_columns() -> Files:
    rows = [{k: v for k, v in r.items() if k not in ("经度", "纬度")} for r in base_childcare()]
    return _childcare_case(rows)


def case_truncated_geojson() -> Files:
    data = geojson(base_units(), "units")
    return base(units__geojson=data[: len(data) // 2])


def _gcj(geometry: dict) -> dict:
    """A WGS-84 geometry as AMap and DataV serve it: shifted to GCJ-02, 6 decimals."""
    moved = geometries_to_gcj02([shape(geometry)])[0]
    return mapping(shapely.set_precision(moved, 1e-6))


def _datav_district() -> dict:
    """The base district as DataV's boundary download gives it (GCJ-02, nested members)."""
    feature = base_district()
    centre = shape(feature["geometry"]).centroid
    return {"type": "Feature", "geometry": _gcj(feature["geometry"]), "properties": {
        "adcode": 999001, "name": "坏数据示例区", "center": [round(centre.x, 6), round(centre.y, 6)],
        "centroid": [round(centre.x, 6), round(centre.y, 6)], "childrenNum": 0,
        "level": "district", "parent": {"adcode": 999000}, "subFeatureIndex": 0,
        "acroutes": [100000, 999000]}}


def _json(data: object) -> bytes:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def case_datav_bare_array() -> Files:
    """A district boundary saved from DataV: a bare array of features, GCJ-02."""
    layers = {"district": {"file": "district.json", "datum": "gcj02"},
              "units": {"file": "units.geojson"}}
    files = base(district__json=_json([_datav_district()]))
    del files["district.geojson"]
    files["layers.toml"] = manifest(layers=layers)
    return files


def case_amap_district_response() -> Files:
    """A district boundary saved from AMap's district search: districts with a polyline."""
    geom = shape(_datav_district()["geometry"])
    rings = [list(p.exterior.coords) for p in getattr(geom, "geoms", [geom])]
    polyline = "|".join(";".join(f"{x:.6f},{y:.6f}" for x, y in ring) for ring in rings)
    response = {"status": "1", "info": "OK", "infocode": "10000", "count": "1",
                "suggestion": {"keywords": [], "cities": []},
                "districts": [{"citycode": [], "adcode": "999001", "name": "坏数据示例区",
                               "center": "113.790000,34.710000", "level": "district",
                               "polyline": polyline, "districts": []}]}
    layers = {"district": {"file": "district.json", "datum": "gcj02"},
              "units": {"file": "units.geojson"}}
    files = base(district__json=_json(response))
    del files["district.geojson"]
    files["layers.toml"] = manifest(layers=layers)
    return files


def case_json_bare_array_broken() -> Files:
    """Facilities as a bare JSON array in which one feature's polygon has two points."""
    broken = facility("BROKEN", "公园", {"type": "Polygon", "coordinates": [
        [[113.79, 34.705], [113.791, 34.705]]]})
    files = base(facilities__json=_json([*base_facilities(), broken]))
    del files["facilities.geojson"]
    files["layers.toml"] = manifest(facilities=[{"file": "facilities.json"}])
    return files


def case_json_error_response() -> Files:
    """An AMap error answer saved in place of the unit boundaries."""
    files = base(units__json=_json({"status": "0", "info": "INVALID_USER_KEY",
                                    "infocode": "10001"}))
    del files["units.geojson"]
    files["layers.toml"] = manifest(layers={"district": {"file": "district.geojson"},
                                            "units": {"file": "units.json"}})
    return files


def case_gcj_boundaries_labelled_wgs84() -> Files:
    """The demo's district and units in GCJ-02 (an AMap download), datum left out."""
    def shifted(name: str) -> bytes:
        feats = _features(name)
        for f in feats:
            f["geometry"] = _gcj(f["geometry"])
        return geojson(feats, name.split(".")[0])

    return {
        "layers.toml": manifest(facilities=[], extra='[streets]\nfile = "streets.osm"\n',
                                margin_m=2000),
        "district.geojson": shifted("district.geojson"),
        "units.geojson": shifted("units.geojson"),
        "streets.osm": (DEMO / "streets.osm").read_bytes(),
    }


def case_empty_file() -> Files:
    return base(facilities__geojson=b"")


def case_missing_file() -> Files:
    files = base()
    del files["facilities.geojson"]
    return files


def case_manifest_not_toml() -> Files:
    return base(layers__toml=manifest() + b"\n[layers.units\nfile = units.geojson\n")


def case_manifest_unknown_layer() -> Files:
    return base(layers__toml=manifest(extra='[layers.roads]\nfile = "roads.geojson"\n'))


def case_manifest_unknown_field() -> Files:
    layers = {"district": {"file": "district.geojson"},
              "units": {"file": "units.geojson", "fields": {"人口": "populaton"}}}
    return base(layers__toml=manifest(layers=layers))


def case_manifest_bad_crs() -> Files:
    return base(layers__toml=manifest(facilities=[{"file": "facilities.geojson",
                                                   "crs": "EPSG:999999"}]))


def case_manifest_unknown_kind() -> Files:
    return base(layers__toml=manifest(facilities=[{"file": "facilities.geojson",
                                                   "kind": "swimming_pool"}]))


def _plan(target: str) -> Files:
    head = ('[plan]\nid = "bad"\nname = "坏规划"\nperiod = [2024, 2025]\n\n'
            "[[targets]]\n"
            'id = "T1"\ndomain = "公共服务友好"\nitem = "1"\ntitle = "测试"\n'
            'wording = "测试目标"\nyear = 2025\n')
    return {"plan.toml": (head + target).encode("utf-8")}


def case_plan_unknown_kind() -> Files:
    return _plan('metric = "count"\nkind = "swimming_pool"\ntarget = 3\n')


def case_plan_unknown_field() -> Files:
    return _plan('metric = "attribute_share"\nkind = "kindergarten"\nattribute = "colour"\n'
                 "target = 0.5\n")


def _osm(body: str) -> bytes:
    return ('<?xml version="1.0" encoding="UTF-8"?>\n<osm version="0.6" generator="make_bad">\n'
            + body + "</osm>\n").encode("utf-8")


def case_osm_no_walkable_ways() -> Files:
    nodes = "".join(f'  <node id="{i}" version="1" lat="34.69{i}" lon="113.80{i}"/>\n'
                    for i in range(1, 5))
    ways = ('  <way id="1" version="1"><nd ref="1"/><nd ref="2"/>'
            '<tag k="highway" v="motorway"/></way>\n'
            '  <way id="2" version="1"><nd ref="3"/><nd ref="4"/><nd ref="3"/>'
            '<tag k="building" v="yes"/></way>\n')
    return {"streets.osm": _osm(nodes + ways)}


def case_osm_truncated() -> Files:
    data = (DEMO / "streets.osm").read_bytes()
    return {"streets.osm": data[:4000]}


# OSM facility files (issue #13): hand-written XML around unit U01, one element per line.
D = 0.0005  # degrees: about 46 m east-west and 55 m north-south here


def _osm_node(nid: int, lon: float, lat: float, **tags: str) -> str:
    body = "".join(f'<tag k="{k.replace("__", ":")}" v="{v}"/>' for k, v in tags.items())
    return (f'  <node id="{nid}" version="1" lat="{lat:.7f}" lon="{lon:.7f}">{body}</node>\n'
            if body else
            f'  <node id="{nid}" version="1" lat="{lat:.7f}" lon="{lon:.7f}"/>\n')


def _osm_way(wid: int, refs: list[int], **tags: str) -> str:
    nds = "".join(f'<nd ref="{r}"/>' for r in refs)
    body = "".join(f'<tag k="{k.replace("__", ":")}" v="{v}"/>' for k, v in tags.items())
    return f'  <way id="{wid}" version="1">{nds}{body}</way>\n'


def _osm_relation(rid: int, ways: list[int], **tags: str) -> str:
    members = "".join(f'<member type="way" ref="{w}" role="outer"/>' for w in ways)
    body = "".join(f'<tag k="{k}" v="{v}"/>' for k, v in
                   {"type": "multipolygon", **tags}.items())
    return f'  <relation id="{rid}" version="1">{members}{body}</relation>\n'


def _square(first: int, x: float, y: float, size: float, *, skip: tuple[int, ...] = ()
            ) -> tuple[str, list[int]]:
    """Nodes of a square ring (corners and mid-sides, 8 nodes) from ``first``; ids in ``skip``
    are left out of the file (a clipped extract), their references kept."""
    h = size / 2
    corners = [(x - h, y - h), (x, y - h), (x + h, y - h), (x + h, y), (x + h, y + h),
               (x, y + h), (x - h, y + h), (x - h, y)]
    ids = list(range(first, first + len(corners)))
    nodes = "".join(_osm_node(i, cx, cy) for i, (cx, cy) in zip(ids, corners, strict=True)
                    if i not in skip)
    return nodes, [*ids, ids[0]]


def _osm_case(body: str) -> Files:
    files = base(layers__toml=manifest(facilities=[{"file": "pois.osm"}]), pois__osm=_osm(body))
    del files["facilities.geojson"]
    return files


def case_osm_unmapped_features() -> Files:
    """OSM features of interest that match no kind: rejected with the reason, or classed by
    the school-name fallback and recorded; a cafe is of no interest and not read."""
    x, y = _centre(base_units()[0])
    pitch, ring = _square(20, x, y + 2 * D, D)
    body = (_osm_node(1, x, y, amenity="kindergarten", name="阳光幼儿园")
            + _osm_node(2, x + D, y, amenity="school", name="红旗小学")
            + _osm_node(3, x + 2 * D, y, amenity="school", name="实验学校")
            + _osm_node(4, x + 3 * D, y, amenity="school", name="第一高级中学", isced__level="3")
            + _osm_node(5, x, y + D, amenity="cafe", name="咖啡馆")
            + pitch + _osm_way(30, ring, leisure="pitch", sport="basketball"))
    return _osm_case(body)


def case_osm_clipped_areas() -> Files:
    """A clipped extract: parks whose rings lose nodes or member ways, a multipolygon with
    one of its two outer ways missing, one with both missing, and a library mapped twice
    (a node inside its building, same name)."""
    x, y = _centre(base_units()[0])
    park, park_ring = _square(100, x, y, 4 * D, skip=(105, 106, 107))
    tiny, tiny_ring = _square(110, x + 5 * D, y, 2 * D, skip=(112, 113, 114, 115, 116, 117))
    half, half_ring = _square(120, x, y + 5 * D, 4 * D)
    library, library_ring = _square(130, x + 5 * D, y + 5 * D, D)
    body = (_osm_node(1, x + 5 * D, y + 5 * D, amenity="library", name="区图书馆")
            + park + tiny + half + library
            + _osm_way(30, park_ring, leisure="park", name="中心公园")
            + _osm_way(31, tiny_ring, leisure="park", name="街角游园")
            + _osm_way(32, half_ring[:5])
            + _osm_way(34, library_ring, amenity="library", name="区图书馆", building="yes")
            + _osm_relation(40, [32, 33], leisure="park", name="滨河公园")
            + _osm_relation(41, [35, 36], leisure="park", name="远郊公园"))
    return _osm_case(body)


def case_osm_facilities_truncated() -> Files:
    """The clipped-areas OSM file cut off in the middle of its ways."""
    files = case_osm_clipped_areas()
    files["pois.osm"] = files["pois.osm"][:2500]
    return files


def case_kind_without_facilities() -> Files:
    """A plan counts parks and their walking access; the layers hold no park at all."""
    targets = (
        '[[targets]]\nid = "T1"\ndomain = "公共服务友好"\nitem = "33"\ntitle = "公园"\n'
        'wording = "建成公园"\nyear = 2025\nmetric = "count"\nkind = "park"\ntarget = 1\n\n'
        '[[targets]]\nid = "T2"\ndomain = "公共服务友好"\nitem = "标准5"\ntitle = "公园可达"\n'
        'wording = "公园服务半径 500 m"\nyear = 2025\nmetric = "accessibility"\n'
        'kind = "park"\nradius_m = 500\npopulation = "children"\ntarget = 1.0\n\n'
        '[[targets]]\nid = "T3"\ndomain = "公共服务友好"\nitem = "29"\ntitle = "儿童之家"\n'
        'wording = "儿童之家"\nyear = 2025\nmetric = "count"\nkind = "children_home"\n'
        "target = 1\n")
    plan = ('[plan]\nid = "nopark"\nname = "无公园规划"\nperiod = [2024, 2025]\n\n'
            + targets)
    return base(layers__toml=manifest(extra='[streets]\nfile = "streets.osm"\n'),
                plan__toml=plan.encode("utf-8"),
                streets__osm=(DEMO / "streets.osm").read_bytes())


BROKEN: dict[str, str] = {
    "bad_bool": "儿童友好 = 也许 (not yes/no)",
    "children_exceed_population": "儿童人口 800 > 人口 500",
    "crs_geojson_in_metres": "GeoJSON units in EPSG:4547 metres (GeoJSON means WGS-84)",
    "crs_missing_degrees": "facility Shapefile in lon/lat with no .prj",
    "crs_missing_projected": "unit Shapefile in metres with no .prj",
    "crs_prj_wrong": ".prj says EPSG:4547, coordinates are lon/lat",
    "crs_wrong_zone": "manifest crs = EPSG:4546 for data in EPSG:4547 (layer 270 km off)",
    "csv_bad_coordinates": "经度 = 东经113度, empty 纬度, full-width digits",
    "csv_bom_chinese_headers": "UTF-8 CSV with BOM and Chinese headers (as Excel saves)",
    "csv_no_coordinate_columns": "CSV without 经度/纬度 columns",
    "duplicate_across_files": "the same 编号 in two facility files",
    "duplicate_unit_code": "two 社区 with code U02",
    "empty_file": "facilities.geojson of 0 bytes",
    "facilities_no_features": "a FeatureCollection with no features",
    "facility_in_no_unit": "a facility 180 m outside every unit (inside the margin)",
    "fullwidth_numbers": "人口 ６６７８, 7,172人, 0.83万, １，２３４人",
    "gap_between_units": "one unit missing: the units do not tile the district",
    "gbk_csv": "CSV in GBK, no encoding in the manifest",
    "gbk_shapefile_no_cpg": "GBK Shapefile with no .cpg and no encoding in the manifest",
    "gcj_labelled_wgs84": "AMap (GCJ-02) coordinates without datum = gcj02 in the manifest",
    "geom_collection": "a GeometryCollection facility",
    "geom_empty": "a facility with null geometry",
    "geom_self_intersecting": "a bow-tie park polygon",
    "geom_unreadable": "a polygon ring of two points",
    "geom_wrong_type": "a LineString facility",
    "datav_bare_array": "district saved from DataV: a bare JSON array of features (GCJ-02)",
    "amap_district_response": "district saved from AMap's district search (polyline, GCJ-02)",
    "json_bare_array_broken": "facilities as a bare JSON array, one polygon of two points",
    "json_error_response": "an AMap error answer saved as the units file",
    "gcj_boundaries_labelled_wgs84": "district and units in GCJ-02 without datum = gcj02",
    "kind_conflict": "类别 = 幼儿园 in a file the manifest says is childcare",
    "lonlat_swapped_csv": "经度/纬度 values swapped in two rows",
    "lonlat_swapped_geojson": "[lat, lon] points in GeoJSON",
    "lonlat_swapped_xlsx": "Excel sheet with the 经度 and 纬度 columns swapped",
    "manifest_bad_crs": "crs = EPSG:999999",
    "manifest_not_toml": "layers.toml with a broken table header",
    "manifest_unknown_field": "fields maps 人口 to populaton (a typo)",
    "manifest_unknown_kind": "kind = swimming_pool",
    "manifest_unknown_layer": "[layers.roads]",
    "missing_file": "the manifest names a file that is not there",
    "missing_required_column": "units without a 人口 column",
    "missing_required_value": "a facility with an empty 名称",
    "negative_population": "人口 = -120",
    "osm_no_walkable_ways": "OSM with only a motorway and a building",
    "osm_truncated": "OSM XML cut off after 4 kB",
    "osm_unmapped_features": "OSM schools without isced:level (one named 小学), an isced:level=3 "
                             "school, a basketball pitch",
    "osm_clipped_areas": "clipped OSM parks and multipolygons; a library as node and building",
    "osm_facilities_truncated": "an OSM facility file cut off after 2.5 kB",
    "kind_without_facilities": "a plan counting parks (and their walking access) where the "
                               "layers hold none",
    "far_away": "facilities at (0, 0) and in Sydney",
    "coords_out_of_range": "a facility at longitude 200",
    "outside_district": "a facility 5 km outside the district (margin 500 m)",
    "overlapping_units": "U02 shifted 270 m west over U01",
    "plan_unknown_field": "plan target with attribute = colour",
    "plan_unknown_kind": "plan target with kind = swimming_pool",
    "truncated_geojson": "units.geojson cut off halfway",
    "units_no_features": "units.geojson with no features",
    "unknown_kind": "类别 = 游泳馆",
    "unknown_status": "状态 = 拆除",
    "unknown_unit_type": "类型 = 小区",
    "wrong_type_number": "年份 = 去年",
    "zero_population": "人口 = 0",
}


CASES: tuple[Case, ...] = tuple(
    Case(name.removeprefix("case_"), BROKEN[name.removeprefix("case_")], func)
    for name, func in sorted(globals().items())
    if name.startswith("case_") and callable(func)
)


def write_case(case: Case, out: Path) -> Path:
    """Write one case into ``out/<name>/``, replacing what was there."""
    folder = out / case.name
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    for name, data in sorted(case.make().items()):
        (folder / name).write_bytes(data)
    return folder


# --------------------------------------------------------------------------- the doc table

DOC = ROOT / "docs" / "bad-input.md"
DOC_START, DOC_END = "<!-- cases:start -->", "<!-- cases:end -->"


def _relative(text: str) -> str:
    return text.replace(f"{ROOT}/", "")


def _street_warnings(layers: object) -> list[str]:
    """The GCJ-02 offset check per file (points and polygons), as the pipeline runs it."""
    from cfplan.layers.streets import load_streets, street_datum_warnings

    streets = load_streets(layers)
    if streets is None:
        return []
    return street_datum_warnings(layers, streets.lines.geometry)


def _both(text: object) -> str:
    """A message in both languages for the doc table: ``中文 / English``."""
    return f"{text.zh} / {text.en}"  # type: ignore[attr-defined]


def outcome(folder: Path) -> tuple[str, str, str]:
    """Run a case through its loader: (outcome, field, first message).

    A folder with a manifest and a plan is assessed whole (:func:`cfplan.pipeline.assess`)
    and its warnings are the assessment's.
    """
    import warnings

    from cfplan.analysis.plan import load_plan
    from cfplan.layers.errors import InputError
    from cfplan.layers.load import load_layers
    from cfplan.layers.streets import load_street_network

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if (folder / "plan.toml").is_file() and (folder / "layers.toml").is_file():
                from cfplan.pipeline import assess

                assessment = assess(folder, folder / "plan.toml")
                layers, warned = assessment.layers, assessment.warnings
            elif (folder / "plan.toml").is_file():
                load_plan(folder / "plan.toml")
                return "used", "", ""
            elif not (folder / "layers.toml").is_file():
                load_street_network(folder / "streets.osm", crs="EPSG:4547")
                return "used", "", ""
            else:
                layers = load_layers(folder)
                warned = layers.warnings + _street_warnings(layers)
    except InputError as exc:
        return "**fatal**", exc.field or "", _relative(exc.message(lang="zh"))
    parts, fields, first = [], [], []
    for label, records, field_of, text_of in (
        ("rejected", layers.rejected, lambda r: r.field, lambda r: _both(r.reason)),
        ("repaired", layers.repairs, lambda r: r.field, lambda r: _both(r.what)),
    ):
        if records:
            parts.append(f"{label} {len(records)}")
            fields += [field_of(r) for r in records]
            first.append(f"第 {records[0].row} 条：{text_of(records[0])}")
    if warned:
        parts.append(f"warned {len(warned)}")
        first += [_both(w) for w in warned]
    return "; ".join(parts) or "used", ", ".join(dict.fromkeys(fields)), " ⏎ ".join(first)


def doc_table() -> str:
    """Return the Markdown table of every case and what the loader does with it."""
    rows = ["| case | what is broken | outcome | field | message |", "|---|---|---|---|---|"]
    for case in CASES:
        result, field, message = outcome(OUT / case.name)
        cells = [f"`{case.name}`", case.broken, result, field, message]
        rows.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return "\n".join(rows) + "\n"


def write_doc_table(path: Path = DOC) -> Path:
    """Replace the table between the markers in docs/bad-input.md."""
    text = path.read_text(encoding="utf-8")
    head, rest = text.split(DOC_START, 1)
    _, tail = rest.split(DOC_END, 1)
    path.write_text(f"{head}{DOC_START}\n{doc_table()}{DOC_END}{tail}", encoding="utf-8")
    return path


def main(argv: list[str] | None = None) -> int:
    """Rewrite ``tests/data/bad/`` (or the folder given), or with ``--doc`` the doc's table."""
    args = sys.argv[1:] if argv is None else argv
    if args == ["--doc"]:
        print(write_doc_table())
        return 0
    out = Path(args[0]) if args else OUT
    out.mkdir(parents=True, exist_ok=True)
    for stale in out.iterdir():
        if stale.is_dir() and stale.name not in {c.name for c in CASES}:
            shutil.rmtree(stale)
    for case in CASES:
        write_case(case, out)
    print(f"{len(CASES)} cases in {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
