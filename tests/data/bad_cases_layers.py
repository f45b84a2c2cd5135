"""Bad-input cases of layer files (issue #5 and after), for ``make_bad.py``.

Geometries, CRS and datums, coordinates in tables, values of fields, units and their
overlaps, encodings of Shapefiles and CSVs, JSON downloads, OSM files, plans and the
manifest: each case breaks one thing of the base folder of ``bad_base.py``.
"""

from __future__ import annotations

import copy
import json

import geopandas as gpd
import shapely
from bad_base import (
    DEMO,
    Files,
    append_features,
    base,
    base_childcare,
    base_district,
    base_facilities,
    base_units,
    centre,
    csv_bytes,
    demo_features,
    facility,
    geojson,
    manifest,
    plan_case,
    point,
    set_props,
    shapefile,
    shift,
    shp_frame,
    units_frame,
    with_facilities,
    with_units,
    xlsx_bytes,
)
from shapely.geometry import mapping, shape

from cfplan.geo.crs import geometries_to_gcj02


def _bowtie_park() -> dict:
    x, y = centre(base_units()[0])
    d = 0.001
    ring = [[x, y], [x + d, y + d], [x + d, y], [x, y + d], [x, y]]
    return facility("PKX", "公园", {"type": "Polygon", "coordinates": [ring]})


def _unclosed_park() -> dict:
    x, y = centre(base_units()[0])
    return facility("PKY", "公园", {"type": "Polygon", "coordinates": [[[x, y], [x + 0.001, y]]]})


def case_geom_self_intersecting() -> Files:
    return with_facilities(append_features(_bowtie_park()))


def case_geom_unreadable() -> Files:
    return with_facilities(append_features(_unclosed_park()))


def case_geom_empty() -> Files:
    return with_facilities(append_features(facility("NULL1", "幼儿园", None)))


def case_geom_collection() -> Files:
    x, y = centre(base_units()[0])
    mixed = {"type": "GeometryCollection",
             "geometries": [point(x, y), {"type": "LineString",
                                          "coordinates": [[x, y], [x + 0.001, y]]}]}
    return with_facilities(append_features(facility("GC1", "幼儿园", mixed)))


def case_geom_wrong_type() -> Files:
    x, y = centre(base_units()[0])
    line = {"type": "LineString", "coordinates": [[x, y], [x + 0.001, y + 0.001]]}
    return with_facilities(append_features(facility("LN1", "幼儿园", line)))


def case_facilities_no_features() -> Files:
    return base(facilities__geojson=geojson([], "facilities"))


def case_units_no_features() -> Files:
    return base(units__geojson=geojson([], "units"))


def case_crs_missing_projected() -> Files:
    files = base(layers__toml=manifest(layers={"district": {"file": "district.geojson"},
                                               "units": {"file": "units.shp"}}))
    del files["units.geojson"]
    files.update(shapefile(units_frame("EPSG:4547"), "units", encoding="UTF-8",
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
    metres = units_frame("EPSG:4547")
    features = [{"type": "Feature", "properties": dict(f["properties"]),
                 "geometry": mapping(shapely.set_precision(g, 0.01))}
                for f, g in zip(base_units(), metres.geometry, strict=True)]
    return base(units__geojson=geojson(features, "units"))


def case_crs_prj_wrong() -> Files:
    gdf = units_frame("EPSG:4326").set_crs("EPSG:4547", allow_override=True)
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
    return with_facilities(append_features(facility("ZERO", "幼儿园", point(0.0, 0.0)),
                                   facility("SYD", "幼儿园", point(151.2093, -33.8688))))


def case_coords_out_of_range() -> Files:
    return with_facilities(append_features(facility("BAD", "幼儿园", point(200.0, 34.7))))


def case_outside_district() -> Files:
    x, y = centre(base_units()[0])
    return with_facilities(append_features(facility("FAR", "幼儿园", point(round(x - 0.06, 7), y))))


def case_facility_in_no_unit() -> Files:
    y = centre(base_units()[0])[1]
    west = shape(base_district()["geometry"]).bounds[0]
    return with_facilities(append_features(facility("EDGE", "幼儿园", point(round(west - 0.002, 7), y))))


def case_duplicate_unit_code() -> Files:
    return with_units(set_props(3, 编码="U02"))


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
    return with_facilities(set_props(2, 名称=None))


def case_wrong_type_number() -> Files:
    return with_facilities(set_props(1, 年份="去年"))


def case_fullwidth_numbers() -> Files:
    def edit(units: list[dict]) -> None:
        for f, value in zip(units, ("６６７８", "7,172人", "0.83万", "１，２３４人"), strict=True):
            f["properties"]["人口"] = value

    return with_units(edit)


def case_negative_population() -> Files:
    return with_units(set_props(1, 人口=-120))


def case_zero_population() -> Files:
    return with_units(set_props(2, 人口=0, 儿童人口=0))


def case_children_exceed_population() -> Files:
    return with_units(set_props(0, 人口=500, 儿童人口=800))


def case_unknown_kind() -> Files:
    return with_facilities(set_props(0, 类别="游泳馆"))


def case_unknown_status() -> Files:
    return with_facilities(set_props(4, 状态="拆除"))


def case_unknown_unit_type() -> Files:
    return with_units(set_props(0, 类型="小区"))


def case_bad_bool() -> Files:
    return with_facilities(set_props(3, 儿童友好="也许"))


def case_kind_conflict() -> Files:
    rows = [{"类别": "托育机构", **r} for r in base_childcare()]
    rows[1]["类别"] = "幼儿园"
    return _childcare_case(rows)


def case_overlapping_units() -> Files:
    def edit(units: list[dict]) -> None:
        units[1]["geometry"] = shift(units[1]["geometry"], -0.003, 0.0)

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
        feats = demo_features(name)
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


def case_plan_unknown_kind() -> Files:
    return plan_case('metric = "count"\nkind = "swimming_pool"\ntarget = 3\n')


def case_plan_unknown_field() -> Files:
    return plan_case('metric = "attribute_share"\nkind = "kindergarten"\nattribute = "colour"\n'
                 "target = 0.5\n")


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


