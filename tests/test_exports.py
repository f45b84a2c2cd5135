"""Exports bureaus load directly: GeoPackage, Shapefiles (UTF-8/GBK), GCJ-02 GeoJSON, rounding."""

from __future__ import annotations

import csv
import json
import math
import re
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely
from conftest import gcj02_point
from hypothesis import given
from hypothesis import strategies as st
from shapely.geometry import Point, box

from cfplan.analysis.export import export_frames
from cfplan.analysis.gis_export import (
    FIELDS_FILE,
    GEOPACKAGE_NAME,
    SHAPEFILE_DIR,
    SHP_FIELD_NAMES,
    SPLIT_LAYERS,
    layer_name,
    write_gis_geopackage,
    write_gis_shapefiles,
)
from cfplan.analysis.report import access_tables
from cfplan.analysis.rounding import column_meaning, round_by_meaning
from cfplan.cli import main
from cfplan.demo import DEMO_DIR
from cfplan.geo.crs import WGS84, wgs84_to_gcj02
from cfplan.geo.vector_files import (
    DBF_NAME_BYTES,
    shapefile_field_names,
    write_geopackage,
    write_shapefiles,
)
from cfplan.layers.encoding import dbf_text_bytes

DOCS = Path(__file__).resolve().parents[1] / "docs" / "exports.md"


@pytest.fixture(scope="module")
def frames(demo_run):
    extra = {"service_areas": demo_run.service_areas}
    return export_frames(demo_run.layers, demo_run.results, extra=extra)


@pytest.fixture(scope="module")
def written(demo_run, tmp_path_factory):
    """The demo written twice with every export on (no map): the two folders."""
    outs = []
    for name in ("a", "b"):
        out = tmp_path_factory.mktemp(f"exports_{name}")
        demo_run.write(out, map=False, shp="gbk", export_datum="gcj02")
        outs.append(out)
    return outs


def _files(folder: Path) -> dict[Path, bytes]:
    """Every output file's bytes; run.json (which records the run's times) left out."""
    return {p.relative_to(folder): p.read_bytes() for p in folder.rglob("*")
            if p.is_file() and p.name != "run.json"}


def _value(v: object) -> object:
    """A cell as plain Python for comparison: missing → None, numbers → float."""
    if v is None or v is pd.NA or (isinstance(v, float) and math.isnan(v)):
        return None
    if isinstance(v, bool | np.bool_):
        return bool(v)
    if isinstance(v, int | float | np.integer | np.floating):
        return float(v)
    return v


def _rows(df: pd.DataFrame, columns: list[str]) -> list[tuple]:
    return [tuple(_value(v) for v in row) for row in df[columns].itertuples(index=False)]


def _same_geometries(got: gpd.GeoSeries, want: gpd.GeoSeries, tol: float = 1.5e-7) -> None:
    want = want.to_crs(WGS84)
    for g, w in zip(got, want, strict=True):
        if w is None or w.is_empty:
            assert g is None or g.is_empty
            continue
        assert g.geom_type.removeprefix("Multi") == w.geom_type.removeprefix("Multi")
        assert shapely.hausdorff_distance(g, w) < tol, (g.wkt[:80], w.wkt[:80])


# --------------------------------------------------------------------------- GeoPackage


def _gpkg_parts(name: str, frame: gpd.GeoDataFrame) -> dict[str, gpd.GeoDataFrame]:
    """The GeoPackage layers a frame becomes, computed here from its geometry types."""
    kinds = frame.geometry.geom_type.str.removeprefix("Multi").map(
        {"Point": "point", "LineString": "line", "Polygon": "polygon"})
    if name not in SPLIT_LAYERS and kinds.nunique() <= 1:
        return {name: frame}
    parts = {f"{name}_{k}": frame[(kinds == k).to_numpy()]
             for k in sorted({*SPLIT_LAYERS.get(name, ()), *kinds.dropna()})}
    return parts


def test_geopackage_holds_every_layer_feature_and_field(demo_run, demo_out, frames):
    path = demo_out / GEOPACKAGE_NAME
    listed = {name: gtype for name, gtype in pyogrio.list_layers(path)}
    names = [layer_name(k) for k in frames]
    assert names == ["district", "subdistricts", "units", "facilities", "entrances",
                     "school_routes", "school_districts", "gates", "units_coverage", "gaps",
                     "service_areas", "rejected"]
    routes = ["route_lines", "route_hotspots_point", "route_hotspots_line",
              "planned_routes_scored", "school_catchments", "school_gates", "school_zones"]
    split = {"facilities_point", "facilities_polygon", "rejected_point", "rejected_line",
             "rejected_polygon"}
    assert set(listed) == {*(set(names) - {"facilities"}), *split, *routes,
                           "access_coverage", "access_units"}
    # one geometry type per layer: no layer is of the catch-all type Unknown
    assert "Unknown" not in listed.values()
    assert listed["facilities_point"] == "Point" and listed["facilities_polygon"] == "MultiPolygon"
    assert (listed["route_hotspots_point"], listed["route_hotspots_line"]) == (
        "Point", "MultiLineString")
    assert listed["rejected"] is None  # every rejected feature, as rejected.csv
    for name in listed:
        if listed[name] is None:
            continue
        back = pyogrio.read_dataframe(path, layer=name)
        kinds = set(back.geometry.dropna().geom_type.str.removeprefix("Multi"))
        assert len(kinds) <= 1, (name, kinds)
    # the counts add up: 511 schools and other points, 53 parks and other polygons
    fac = demo_run.layers.facilities
    n_point = pyogrio.read_info(path, layer="facilities_point")["features"]
    n_poly = pyogrio.read_info(path, layer="facilities_polygon")["features"]
    assert (n_point, n_poly) == (511, 53) and n_point + n_poly == len(fac)
    hot = demo_run.routes.hotspots
    assert (pyogrio.read_info(path, layer="route_hotspots_point")["features"]
            + pyogrio.read_info(path, layer="route_hotspots_line")["features"]) == len(hot) > 0
    for name, frame in (("route_lines", demo_run.routes.routes),
                        ("school_zones", demo_run.routes.zones)):
        assert pyogrio.read_info(path, layer=name)["features"] == len(frame) > 0, name
    for key, frame in frames.items():
        for name, part in _gpkg_parts(layer_name(key), frame).items():
            info = pyogrio.read_info(path, layer=name)
            assert info["crs"] == "EPSG:4326"
            back = pyogrio.read_dataframe(path, layer=name)
            cols = [c for c in frame.columns if c != frame.geometry.name]
            assert len(back) == len(part) == info["features"], name
            assert list(back.columns[:-1]) == cols, name
            assert _rows(back, cols) == _rows(part, cols), name
            _same_geometries(back.geometry, part.geometry)
    # facilities keep their fid column; the GeoPackage key is then ogc_fid
    assert pyogrio.read_info(path, layer="facilities_point")["fid_column"] == "ogc_fid"
    for name, table in access_tables(demo_run.access).items():
        back = pyogrio.read_dataframe(path, layer=name)
        assert listed[name] is None  # an attribute table
        assert _rows(back, list(table.columns)) == _rows(table, list(table.columns))
    # every layer is named in docs/exports.md
    doc = DOCS.read_text(encoding="utf-8")
    for name in listed:
        assert f"`{name}`" in doc, name


def test_geopackage_splits_rejected_features_by_geometry(tmp_path):
    rejected = gpd.GeoDataFrame(
        {"layer": ["facilities", "units", "facilities", "streets"], "row": [3, 7, 9, 2]},
        geometry=[None, box(113.8, 34.7, 113.81, 34.71), Point(113.8, 34.7),
                  shapely.LineString([(113.8, 34.7), (113.9, 34.8)])], crs=WGS84)
    facilities = gpd.GeoDataFrame({"name": ["甲"]}, geometry=[Point(113.8, 34.7)], crs=WGS84)
    path = write_gis_geopackage({"rejected": rejected, "layers/facilities": facilities},
                                tmp_path)
    listed = dict(pyogrio.list_layers(path))
    assert listed == {"rejected": None, "rejected_point": "Point",
                      "rejected_line": "MultiLineString", "rejected_polygon": "MultiPolygon",
                      "facilities_point": "Point", "facilities_polygon": "MultiPolygon"}
    rows = {n: pyogrio.read_dataframe(path, layer=n)["row"].tolist() if "rejected" in n
            else None for n in listed}
    assert rows["rejected"] == [3, 7, 9, 2]
    assert (rows["rejected_point"], rows["rejected_line"], rows["rejected_polygon"]) == (
        [9], [2], [7])
    assert pyogrio.read_info(path, layer="facilities_polygon")["features"] == 0


def test_geopackage_holds_rejected_features_with_and_without_geometry(tmp_path):
    rejected = gpd.GeoDataFrame(
        {"layer": ["facilities", "units"], "file": ["a.csv", "b.geojson"], "row": [3, 7],
         "reason": ["坐标为空", "几何无法解析"]},
        geometry=[None, Point(113.8, 34.7)], crs=WGS84)
    path = write_geopackage({"rejected": rejected}, tmp_path / "r.gpkg")
    back = pyogrio.read_dataframe(path, layer="rejected")
    assert back["reason"].tolist() == ["坐标为空", "几何无法解析"]
    assert back.geometry.iloc[0] is None and back.geometry.iloc[1].equals(Point(113.8, 34.7))


def test_geopackage_write_is_atomic(tmp_path):
    good = gpd.GeoDataFrame({"n": [1]}, geometry=[Point(113.8, 34.7)], crs=WGS84)
    path = write_geopackage({"a": good}, tmp_path / "x.gpkg")
    before = path.read_bytes()
    bad = gpd.GeoDataFrame({"z": [1 + 2j]}, geometry=[Point(113.8, 34.7)], crs=WGS84)
    with pytest.raises(NotImplementedError):
        write_geopackage({"a": good, "b": bad}, path)
    assert path.read_bytes() == before  # the old file is intact
    assert [p.name for p in tmp_path.iterdir()] == ["x.gpkg"]  # no temporary left behind


# --------------------------------------------------------------------------- Shapefiles


def _fields(folder: Path) -> list[dict[str, str]]:
    with (folder / FIELDS_FILE).open(encoding="utf-8-sig") as fh:
        return list(csv.DictReader(fh))


@pytest.mark.parametrize("encoding", ["gbk", "utf-8"])
def test_shapefile_round_trip_keeps_every_feature_field_and_chinese_name(frames, tmp_path,
                                                                         encoding):
    files, warnings = write_gis_shapefiles(frames, tmp_path, encoding=encoding)
    assert all(f.is_file() for f in files)
    assert warnings == []  # every demo name is GBK, nothing longer than a DBF holds
    folder = tmp_path / SHAPEFILE_DIR
    table = _fields(folder)
    by_file: dict[str, dict[str, str]] = {}
    for row in table:
        by_file.setdefault(row["shapefile"], {})[row["shp_field"]] = row["field"]
    for key, frame in frames.items():
        frame = frame[frame.geometry.notna()]
        name = layer_name(key)
        parts = sorted({r["shapefile"] for r in table if r["layer"] == name})
        if frame.empty:
            assert parts == [], name
            continue
        got = []
        for shp in parts:
            cpg = (folder / shp).with_suffix(".cpg").read_text(encoding="ascii")
            dbf = (folder / shp).with_suffix(".dbf").read_bytes()
            assert cpg == {"gbk": "GBK", "utf-8": "UTF-8"}[encoding]
            assert dbf[29] == (0x4D if encoding == "gbk" else 0)  # LDID 77 = code page 936
            info = pyogrio.read_info(folder / shp)
            assert all(len(f.encode("ascii")) <= DBF_NAME_BYTES for f in info["fields"])
            back = pyogrio.read_dataframe(folder / shp).rename(columns=by_file[shp])
            got.append(back)
        back = pd.concat(got, ignore_index=True)
        order = frame.geometry.geom_type.str.removeprefix("Multi").map(
            {"LineString": 0, "Point": 1, "Polygon": 2})  # file order: _line, _point, _polygon
        want = frame.iloc[np.argsort(order.to_numpy(), kind="stable")]
        cols = [c for c in frame.columns if c != frame.geometry.name]
        assert len(back) == len(want), name
        assert set(back.columns) == {*cols, "geometry"}, name
        assert _rows(back, cols) == _rows(want, cols), name
        _same_geometries(back.geometry, want.geometry)
    units = pyogrio.read_dataframe(folder / "units.shp")
    assert "阳光社区" in set(units["name"]) and "李庄村" in set(units["name"])
    text = dbf_text_bytes(folder / "units.dbf")
    if encoding == "gbk":
        assert "阳光社区".encode("gbk") in text
        with pytest.raises(UnicodeDecodeError):
            text.decode("utf-8")
    else:
        assert "阳光社区".encode() in text


def test_fields_csv_maps_long_names_through_the_documented_table(frames, tmp_path):
    write_gis_shapefiles(frames, tmp_path, encoding="utf-8")
    rows = _fields(tmp_path / SHAPEFILE_DIR)
    mapping = {(r["layer"], r["field"]): r["shp_field"] for r in rows}
    assert mapping[("units_coverage", "has_children_home_planned")] == "hch_plan"
    assert mapping[("units", "subdistrict")] == "subdist"
    assert mapping[("units", "population")] == "population"  # 10 characters fit
    for (_, field), short in mapping.items():
        assert len(short) <= DBF_NAME_BYTES
        if len(field) <= DBF_NAME_BYTES:
            assert short == field
        else:
            assert short == SHP_FIELD_NAMES[field], field  # every demo long name is curated
    doc = DOCS.read_text(encoding="utf-8")
    for field, short in SHP_FIELD_NAMES.items():
        assert f"| `{field}` | `{short}` |" in doc, field


def test_curated_names_are_short_and_distinct():
    shorts = list(SHP_FIELD_NAMES.values())
    assert all(len(s.encode("ascii")) <= DBF_NAME_BYTES for s in shorts)
    assert len({s.lower() for s in shorts}) == len(shorts)
    assert not {s.lower() for s in shorts} & {f.lower() for f in SHP_FIELD_NAMES}


NAME = st.from_regex(r"[a-z]{1,9}(_[a-z]{1,9}){0,3}", fullmatch=True)


@given(st.lists(NAME, min_size=1, max_size=30, unique=True),
       st.sampled_from(["utf-8", "gbk"]))
def test_field_names_are_short_unique_and_deterministic(columns, encoding):
    preferred = {c: SHP_FIELD_NAMES[c] for c in columns if c in SHP_FIELD_NAMES}
    names = shapefile_field_names(columns, preferred=preferred, encoding=encoding)
    assert list(names) == columns
    assert all(len(n.encode()) <= DBF_NAME_BYTES for n in names.values())
    assert len({n.lower() for n in names.values()}) == len(columns)
    assert names == shapefile_field_names(columns, preferred=preferred, encoding=encoding)
    curated = {p.lower() for p in preferred.values()}
    for c in columns:  # names that fit and curated names never move
        if c in preferred:
            assert names[c] == preferred[c]
        elif len(c) <= DBF_NAME_BYTES and c.lower() not in curated:
            assert names[c] == c


def test_gbk_shapefile_marks_what_gbk_cannot_hold(tmp_path):
    gdf = gpd.GeoDataFrame({"name": ["阳光社区", "😀乐园", "长" * 200]},
                           geometry=[Point(113.8, 34.7)] * 3, crs=WGS84)
    report = write_shapefiles({"t": gdf}, tmp_path, encoding="gbk")
    assert report.replaced == {("t", "name"): 1}
    assert report.truncated == {("t", "name"): 1}
    back = pyogrio.read_dataframe(tmp_path / "t.shp")
    assert back["name"].tolist() == ["阳光社区", "?乐园", "长" * 127]  # 254 bytes, whole characters


# --------------------------------------------------------------------------- GCJ-02 GeoJSON


def _coords(geometry: dict) -> np.ndarray:
    return np.array(shapely.get_coordinates(shapely.geometry.shape(geometry)))


def test_gcj02_geojson_equals_the_conversion_of_the_wgs84_export(written, demo_out):
    out = written[0]
    gcj_files = sorted(out.rglob("*.gcj02.geojson"))
    assert {p.relative_to(out).as_posix() for p in gcj_files} >= {
        "layers/units.gcj02.geojson", "layers/facilities.gcj02.geojson",
        "results/gaps.gcj02.geojson", "results/service_areas.gcj02.geojson"}
    for gcj_path in gcj_files:
        wgs_path = gcj_path.with_name(gcj_path.name.replace(".gcj02.geojson", ".geojson"))
        # the default WGS-84 file is the one a run without --export-datum writes
        assert wgs_path.read_bytes() == (demo_out / wgs_path.relative_to(out)).read_bytes()
        wgs, gcj = (json.loads(p.read_text(encoding="utf-8")) for p in (wgs_path, gcj_path))
        assert len(wgs["features"]) == len(gcj["features"])
        for fw, fg in zip(wgs["features"], gcj["features"], strict=True):
            assert fw["properties"] == fg["properties"]
            if fw["geometry"] is None:
                assert fg["geometry"] is None
                continue
            assert fw["geometry"]["type"] == fg["geometry"]["type"]
            w, g = _coords(fw["geometry"]), _coords(fg["geometry"])
            lon, lat = wgs84_to_gcj02(w[:, 0], w[:, 1])
            assert np.array_equal(g, np.column_stack([np.round(lon, 7), np.round(lat, 7)]))
            independent = np.array([gcj02_point(x, y) for x, y in w])
            assert np.abs(g - independent).max() < 2e-7  # rounding to 7 decimals
    units = json.loads((out / "layers/units.gcj02.geojson").read_text(encoding="utf-8"))
    w = _coords(json.loads((out / "layers/units.geojson").read_text())["features"][0]["geometry"])
    g = _coords(units["features"][0]["geometry"])
    shift = gpd.GeoSeries(shapely.points(g), crs=WGS84).to_crs(4547).distance(
        gpd.GeoSeries(shapely.points(w), crs=WGS84).to_crs(4547))
    assert ((shift > 500) & (shift < 650)).all()  # GCJ-02 near Zhengzhou: ≈ 565 m


# --------------------------------------------------------------------------- rounding


def test_numbers_are_rounded_to_their_meaning():
    df = pd.DataFrame({
        "population": [261173.00000000207, np.nan], "covered_children": [7758.27, 0.5],
        "share_children": [0.156742, np.nan], "radius_m": [500.04, 1500.0],
        "mean_walk_m": [830.46, np.inf], "name": ["甲", "乙"], "minutes": [5.25, 10.0],
        "has_childcare": [True, False], "year": [2023.0, 2024.0]})
    out = round_by_meaning(df)
    assert out["population"].dtype == "Int64" and out["population"].iloc[0] == 261173
    assert out["population"].isna().iloc[1]
    assert out["covered_children"].tolist() == [7758, 0]  # half to even
    assert out["share_children"].iloc[0] == 0.157 and np.isnan(out["share_children"].iloc[1])
    assert out["radius_m"].tolist() == [500.0, 1500.0]
    assert out["mean_walk_m"].iloc[0] == 830.5 and np.isinf(out["mean_walk_m"].iloc[1])
    for col in ("name", "minutes", "has_childcare", "year"):
        assert out[col].equals(df[col]), col
    assert column_meaning("share_population") == ("share", 3)
    assert column_meaning("cutoff_m") == ("metres", 1)
    assert column_meaning("capacity") == ("people", 0)
    assert column_meaning("name") is None


def test_exported_tables_carry_no_float_noise(demo_out):
    coverage = (demo_out / "results" / "access_coverage.csv").read_text(encoding="utf-8-sig")
    rows = list(csv.DictReader(coverage.splitlines()))
    assert rows
    for row in rows:
        for col, cell in row.items():
            if not cell:
                continue
            rule = column_meaning(col)
            if rule is None:
                continue
            decimals = len(cell.split(".")[1]) if "." in cell else 0
            assert decimals <= max(rule[1], 1), (col, cell)
            if rule[0] == "people":
                assert re.fullmatch(r"\d+", cell), (col, cell)
    assert any(r["population"] == "261173" for r in rows)
    units = json.loads((demo_out / "results" / "units_coverage.geojson").read_text())
    for f in units["features"]:
        assert isinstance(f["properties"]["population"], int)
        assert isinstance(f["properties"]["childcare_places"], int)


# --------------------------------------------------------------------------- determinism


def test_every_new_export_is_byte_identical_on_a_rerun(written):
    a, b = (_files(o) for o in written)
    assert a.keys() == b.keys()
    names = {p.as_posix() for p in a}
    assert {GEOPACKAGE_NAME, "shp/units.shp", "shp/units.dbf", "shp/units.cpg",
            "shp/units.prj", "shp/fields.csv", "layers/units.gcj02.geojson",
            "shp/facilities_point.shp", "shp/facilities_polygon.shp"} <= names
    for name in a:
        assert a[name] == b[name], name
    assert not [n for n in names if any(part.startswith(".") for part in Path(n).parts)]


def test_cli_flags_write_shapefiles_and_gcj02(tmp_path):
    outs = [tmp_path / "a", tmp_path / "b"]
    for out in outs:
        assert main(["report", "--layers", str(DEMO_DIR), "--plan", "shangjie", "--out",
                     str(out), "--no-access", "--shp", "GBK", "--export-datum", "gcj02"]) == 0
    a, b = (_files(o) for o in outs)
    assert a == b
    assert (outs[0] / "shp" / "units.cpg").read_text() == "GBK"
    assert (outs[0] / "layers" / "district.gcj02.geojson").is_file()
    assert main(["report", "--layers", str(DEMO_DIR), "--plan", "shangjie", "--out",
                 str(tmp_path / "c"), "--no-access", "--shp", "latin-1"]) == 64
