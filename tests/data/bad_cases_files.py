"""Bad-input cases of files that are not what they say (issue #17), for ``make_bad.py``.

Special files (a named pipe, a folder, a link to itself), encodings (BOM, UTF-16, GBK),
binary files where text belongs, workbooks with several sheets or formulas, GeoPackages
with several layers, cross-references to unknown facilities, control characters, numbers
no count can be, and plans and indicators files broken the same ways.
"""

from __future__ import annotations

import io
import zipfile

import geopandas as gpd
import osmium
import pandas as pd
import pyogrio
from bad_base import (
    DEMO,
    FIFO,
    FOLDER,
    LOOP,
    XLSX_DATE,
    Files,
    base,
    base_childcare,
    base_facilities,
    base_units,
    csv_bytes,
    facility,
    geojson,
    manifest,
    plan_case,
    point,
    set_props,
    with_facilities,
    with_units,
    xlsx_bytes,
)
from shapely.geometry import shape

from cfplan.geo.io import write_xlsx

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00"
SUBDISTRICTS = ("subdistricts.shp", "subdistricts.shx", "subdistricts.dbf", "subdistricts.prj")


# --------------------------------------------------------------------------- special files


def _with_subdistricts(**changes: bytes) -> Files:
    """The base folder with the demo's GBK 办事处 Shapefile (encoding named in the manifest)."""
    layers = {"district": {"file": "district.geojson"},
              "subdistricts": {"file": "subdistricts.shp", "encoding": "GBK"},
              "units": {"file": "units.geojson"}}
    files = base(layers__toml=manifest(layers=layers, margin_m=6000))
    files.update({name: (DEMO / name).read_bytes() for name in SUBDISTRICTS})
    files.update({k.replace("__", "."): v for k, v in changes.items()})
    return files


def case_fifo_dbf() -> Files:
    files = _with_subdistricts()
    files["subdistricts.dbf"] = FIFO
    return files


def case_shapefile_no_dbf() -> Files:
    files = _with_subdistricts()
    del files["subdistricts.dbf"]
    return files


def case_symlink_loop() -> Files:
    return base(facilities__geojson=LOOP)


def case_folder_as_file() -> Files:
    return base(facilities__geojson=FOLDER)


# --------------------------------------------------------------------------- the manifest


def case_manifest_bom() -> Files:
    return base(layers__toml=b"\xef\xbb\xbf" + manifest())


def case_manifest_nested_tables() -> Files:
    return base(layers__toml=manifest(extra="[routes]\nx = " + "[" * 2000 + "]" * 2000 + "\n"))


def case_manifest_margin_inf() -> Files:
    return base(layers__toml=manifest(margin_m=float("inf")))


def case_manifest_path_up() -> Files:
    """A file named through ``..``: the message must name the path as written."""
    return base(layers__toml=manifest(facilities=[
        {"file": "../manifest_path_up/missing.geojson"}]))


# --------------------------------------------------------------------------- layers and sheets


def _gpkg(layers: dict[str, list[dict]]) -> bytes:
    """A GeoPackage holding one point layer per entry (GDAL's dates fixed: reproducible)."""
    from bad_base import OUT

    path = OUT.parent / ".tmp.gpkg"
    path.unlink(missing_ok=True)
    pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": "2024-01-01T00:00:00.000Z"})
    try:
        for name, features in layers.items():
            frame = gpd.GeoDataFrame([f["properties"] for f in features],
                                     geometry=[shape(f["geometry"]) for f in features],
                                     crs="EPSG:4326")
            pyogrio.write_dataframe(frame, path, layer=name, driver="GPKG",
                                    layer_options={"SPATIAL_INDEX": "NO"})
        return path.read_bytes()
    finally:
        pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": None})
        path.unlink(missing_ok=True)


def _gpkg_case(table: dict[str, object]) -> Files:
    facilities = base_facilities()
    files = base(layers__toml=manifest(facilities=[table]),
                 facilities__gpkg=_gpkg({"facilities": facilities, "old": facilities[:2]}))
    del files["facilities.geojson"]
    return files


def case_gpkg_two_layers() -> Files:
    return _gpkg_case({"file": "facilities.gpkg"})


def case_gpkg_layer_named() -> Files:
    return _gpkg_case({"file": "facilities.gpkg", "layer": "facilities"})


def _workbook(sheets: dict[str, list[dict[str, object]]]) -> bytes:
    from bad_base import OUT

    path = OUT.parent / ".tmp.xlsx"
    try:
        return write_xlsx({k: pd.DataFrame(v) for k, v in sheets.items()}, path,
                          when=XLSX_DATE).read_bytes()
    finally:
        path.unlink(missing_ok=True)


def _childcare_rows() -> list[dict[str, object]]:
    return [{**r, "托位": int(r["托位"]), "经度": float(r["经度"]), "纬度": float(r["纬度"])}
            for r in base_childcare()]


def _xlsx_case(data: bytes, **spec: object) -> Files:
    table = {"file": "childcare.xlsx", "kind": "childcare", "datum": "gcj02", **spec}
    return base(layers__toml=manifest(facilities=[{"file": "facilities.geojson"}, table]),
                childcare__xlsx=data)


def case_xlsx_two_sheets() -> Files:
    rows = _childcare_rows()
    return _xlsx_case(_workbook({"托育机构": rows, "旧表": rows[:2]}))


def case_xlsx_sheet_named() -> Files:
    rows = _childcare_rows()
    return _xlsx_case(_workbook({"托育机构": rows, "旧表": rows[:2]}), sheet="托育机构")


def _patched(data: bytes, member: str, changes: dict[str, str]) -> bytes:
    """Return a ZIP (XLSX) with text replaced in one member, entries and dates kept."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            body = src.read(info)
            if info.filename == member:
                text = body.decode("utf-8")
                for old, new in changes.items():
                    assert old in text, old
                    text = text.replace(old, new)
                body = text.encode("utf-8")
            dst.writestr(info, body, compress_type=zipfile.ZIP_DEFLATED)
    return out.getvalue()


def case_xlsx_formulas() -> Files:
    """托位 as formulas: one with the value Excel stored, one never computed (no value)."""
    rows = _childcare_rows()
    data = xlsx_bytes(rows)
    first, second = rows[0]["托位"], rows[1]["托位"]
    return _xlsx_case(_patched(data, "xl/worksheets/sheet1.xml", {
        f'<c r="C2" t="n"><v>{first}</v></c>': f'<c r="C2"><f>10+{first - 10}</f><v>{first}</v></c>',
        f'<c r="C3" t="n"><v>{second}</v></c>': f'<c r="C3"><f>10+{second - 10}</f></c>'}))


def case_xls_old_format() -> Files:
    files = _xlsx_case(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504))
    files["childcare.xls"] = files.pop("childcare.xlsx")
    files["layers.toml"] = files["layers.toml"].replace(b"childcare.xlsx", b"childcare.xls")
    return files


# --------------------------------------------------------------------------- text and numbers


def _childcare_csv(data: bytes) -> Files:
    table = {"file": "childcare.csv", "kind": "childcare", "datum": "gcj02"}
    return base(layers__toml=manifest(facilities=[{"file": "facilities.geojson"}, table]),
                childcare__csv=data)


def case_csv_utf16() -> Files:
    """Excel's "Unicode text": UTF-16 with a byte-order mark, tab-separated."""
    text = csv_bytes(base_childcare(), encoding="utf-8-sig").decode("utf-8-sig")
    return _childcare_csv(text.replace(",", "\t").encode("utf-16"))


def case_csv_ragged_row() -> Files:
    lines = csv_bytes(base_childcare()).decode("utf-8-sig").splitlines()
    lines[2] = lines[2].replace("托育中心", "托育中心,第二分园")  # a comma in an unquoted name
    return _childcare_csv(("\n".join(lines) + "\n").encode("utf-8-sig"))


def case_nan_coordinates() -> Files:
    text = geojson([*base_facilities(), facility("NAN1", "幼儿园", point(0.0, 0.0))], "facilities")
    return base(facilities__geojson=text.replace(b"[0.0,0.0]", b"[NaN,34.7]"))


def case_population_out_of_range() -> Files:
    def edit(units: list[dict]) -> None:
        units[0]["properties"]["人口"] = 1e308
        units[1]["properties"]["人口"] = 2e8

    return with_units(edit)


def case_control_characters() -> Files:
    """A bell, an ESC colour sequence and a NUL in names (GeoJSON escapes)."""
    files = with_facilities(set_props(0, 名称="朝阳\x07儿童之家"))
    text = files["facilities.geojson"]
    assert isinstance(text, bytes)
    names = [f["properties"]["名称"] for f in base_facilities()[1:3]]
    text = text.replace(b"\x07", b"\\u0007")
    for name, mark in zip(names, (b"\\u001b[31m", b"\\u0000"), strict=True):
        raw = name.encode("utf-8")
        text = text.replace(raw, raw[:6] + mark + raw[6:])
    files["facilities.geojson"] = text
    return files


def case_unknown_references() -> Files:
    """校门, 学区 and park entrances naming a school or park that is not there."""
    units = base_units()
    centre = shape(units[0]["geometry"]).representative_point()
    x, y = round(centre.x, 7), round(centre.y, 7)
    school = facility("P01", "小学", point(x, y))
    park = facility("PK01", "公园", point(round(x + 0.002, 7), y))
    gates = [{"type": "Feature", "properties": {"学校编号": code, "名称": f"{code}门"},
              "geometry": point(round(x + dx, 7), y)}
             for code, dx in (("P01", 0.0003), ("P99", 0.0006), ("PK01", 0.0009))]
    zones = [{"type": "Feature", "properties": {"学校编号": code, "名称": f"{code}学区"},
              "geometry": units[i]["geometry"]} for i, code in ((0, "P01"), (1, "X9"))]
    entrances = [{"type": "Feature", "properties": {"设施编号": code},
                  "geometry": point(round(x + 0.002, 7), round(y + dy, 7))}
                 for code, dy in (("PK01", 0.0003), ("PK99", 0.0006))]
    layers = {"district": {"file": "district.geojson"}, "units": {"file": "units.geojson"},
              "gates": {"file": "gates.geojson"},
              "school_districts": {"file": "school_districts.geojson"},
              "entrances": {"file": "entrances.geojson"}}
    return base(layers__toml=manifest(layers=layers),
                facilities__geojson=geojson([*base_facilities(), school, park], "facilities"),
                gates__geojson=geojson(gates, "gates"),
                school_districts__geojson=geojson(zones, "school_districts"),
                entrances__geojson=geojson(entrances, "entrances"))


# --------------------------------------------------------------------------- plans


def _plan_text(target: str) -> bytes:
    data = plan_case(target)["plan.toml"]
    assert isinstance(data, bytes)
    return data


COUNT = 'metric = "count"\nkind = "children_home"\n'


def case_plan_binary() -> Files:
    return {"plan.toml": PNG}


def case_plan_nested_keys() -> Files:
    """A dotted key 3,000 tables deep: TOML reads it, whatever walks it next must not recurse."""
    return {"plan.toml": _plan_text(COUNT + "target = 3\n" + ".".join(["x"] * 3000) + " = 1\n")}


def case_plan_gbk() -> Files:
    return {"plan.toml": _plan_text(COUNT + "target = 3\n").decode("utf-8").encode("gbk")}


def case_plan_period_not_range() -> Files:
    text = _plan_text(COUNT + "target = 3\n").replace(b"period = [2024, 2025]", b"period = 2025")
    return {"plan.toml": text}


def case_plan_target_inf() -> Files:
    return {"plan.toml": _plan_text(COUNT + "target = inf\n")}


def case_plan_target_nan() -> Files:
    return {"plan.toml": _plan_text(COUNT + "target = nan\n")}


def case_plan_target_negative() -> Files:
    return {"plan.toml": _plan_text(COUNT + "target = -1\n")}


def case_plan_radius_negative() -> Files:
    return {"plan.toml": _plan_text('metric = "accessibility"\nkind = "park"\nradius_m = -300\n'
                                    "target = 0.9\n")}


def case_plan_year_outside_period() -> Files:
    text = _plan_text(COUNT + "target = 3\n").replace(b"year = 2025", b"year = 2035")
    return {"plan.toml": text}


def case_plan_control_characters() -> Files:
    text = _plan_text(COUNT + "target = 3\n").replace(b'title = "\xe6\xb5\x8b\xe8\xaf\x95"',
                                                       'title = "测\\u001b[31m试"'.encode())
    return {"plan.toml": text}


# --------------------------------------------------------------------------- indicators


def _indicators(rows: list[list[str]], *, encoding: str = "utf-8-sig") -> Files:
    head = ["plan", "id", "indicator", "value", "year", "source", "note"]
    text = "\n".join(",".join(r) for r in [head, *rows]) + "\n"
    return {"indicators.csv": text.encode(encoding)}


ROWS = [["bad", "T1", "work_mechanism", "是", "2024", "区妇儿工委", ""],
        ["bad", "T2", "child_council", "否", "2024", "区妇儿工委", ""]]


def case_indicators_empty() -> Files:
    return {"indicators.csv": b""}


def case_indicators_gbk() -> Files:
    return _indicators(ROWS, encoding="gbk")


def case_indicators_ragged_row() -> Files:
    return _indicators([ROWS[0], [*ROWS[1][:6], "备注", "多出的值"]])


def case_indicators_no_value_column() -> Files:
    return {"indicators.csv": "plan,id,indicator,year\nbad,T1,work_mechanism,2024\n"
            .encode("utf-8-sig")}


# --------------------------------------------------------------------------- streets


def case_osm_pbf_truncated() -> Files:
    """The demo's streets as PBF (libosmium's writer), cut off halfway."""
    from bad_base import OUT

    path = OUT.parent / ".tmp.osm.pbf"
    path.unlink(missing_ok=True)
    try:
        with osmium.SimpleWriter(str(path)) as writer:
            for obj in osmium.FileProcessor(str(DEMO / "streets.osm")):
                writer.add(obj)
        data = path.read_bytes()
    finally:
        path.unlink(missing_ok=True)
    return {"streets.osm.pbf": data[: len(data) // 2]}


BROKEN: dict[str, str] = {
    "fifo_dbf": "a named pipe (FIFO) where the Shapefile's .dbf should be",
    "shapefile_no_dbf": "a Shapefile without its .dbf",
    "symlink_loop": "facilities.geojson is a link to itself",
    "folder_as_file": "facilities.geojson is a folder",
    "manifest_bom": "layers.toml saved with a UTF-8 BOM (Notepad)",
    "manifest_nested_tables": "2,000 nested arrays in layers.toml",
    "manifest_margin_inf": "margin_m = inf",
    "manifest_path_up": "a file named through ../ that is not there",
    "gpkg_two_layers": "a GeoPackage with two layers, none named",
    "gpkg_layer_named": "the same GeoPackage with layer = \"facilities\"",
    "xlsx_two_sheets": "a workbook with two sheets of data, none named",
    "xlsx_sheet_named": "the same workbook with sheet = \"托育机构\"",
    "xlsx_formulas": "托位 as formulas: one with Excel's stored value, one never computed",
    "xls_old_format": "an old binary .xls workbook",
    "csv_utf16": "Excel's Unicode text: UTF-16 with a BOM, tab-separated",
    "csv_ragged_row": "an unquoted comma in a name: a row with one value too many",
    "nan_coordinates": "a GeoJSON point at [NaN, 34.7]",
    "population_out_of_range": "人口 = 1e308 and 2e8",
    "control_characters": "a bell, an ESC colour sequence and a NUL in three names",
    "unknown_references": "校门 and 学区 naming an unknown school or a park, an entrance naming "
                          "an unknown park",
    "plan_binary": "a PNG image given as the plan",
    "plan_gbk": "a plan saved in GBK (Notepad on Chinese Windows)",
    "plan_nested_keys": "a dotted key 3,000 tables deep in a target",
    "plan_period_not_range": "period = 2025",
    "plan_target_inf": "target = inf",
    "plan_target_nan": "target = nan",
    "plan_target_negative": "target = -1",
    "plan_radius_negative": "radius_m = -300",
    "plan_year_outside_period": "a target year of 2035 in a 2024–2025 plan",
    "plan_control_characters": "an ESC colour sequence in a target's title",
    "indicators_empty": "an indicators file of 0 bytes",
    "indicators_gbk": "an indicators CSV saved in GBK (Excel on Chinese Windows)",
    "indicators_ragged_row": "an indicators row with two values too many",
    "indicators_no_value_column": "an indicators file without a value column",
    "osm_pbf_truncated": "streets.osm.pbf cut off halfway",
}

SPECIAL_CASES = ("fifo_dbf", "folder_as_file", "symlink_loop")
