"""Layer loading on the demo: encodings, aliases, GCJ-02 CSVs, OSM tag mappings, streets."""

from __future__ import annotations

import numpy as np
import pyproj
import pytest

from cfplan.demo import demo_sites
from cfplan.layers.kinds import facility_kind_key, status_key, unit_type_key
from cfplan.layers.osm_tags import facilities_from_osm_file


def test_demo_loads_whole(demo_layers):
    acc = demo_layers.accounting
    assert (acc["read"] == acc["used"] + acc["rejected"]).all()
    assert acc["rejected"].sum() == 0
    assert demo_layers.crs.to_epsg() == 4547
    assert len(demo_layers.units) == 36 and len(demo_layers.subdistricts) == 5
    counts = demo_layers.units["unit_type"].value_counts().to_dict()
    assert counts == {"community": 26, "village": 10}


def test_gbk_shapefile_without_cpg(demo_layers):
    assert list(demo_layers.subdistricts["name"]) == [
        "河滨办事处", "东风办事处", "青松办事处", "白杨办事处", "望湖办事处"]


def test_chinese_field_aliases(demo_layers):
    u = demo_layers.units.set_index("code").loc["U01"]
    assert u["name"] == "朝阳社区" and u["unit_type"] == "community"
    assert u["population"] > 0 and 0 < u["children"] < u["population"]


def test_gcj02_csv_lands_where_it_was_drawn(demo_layers):
    """托育 comes as an AMap (GCJ-02) CSV; after conversion it sits at its designed spot."""
    fac = demo_layers.facilities.set_index("fid")
    sites = demo_sites()
    childcare = [fid for fid in sites if fid.startswith("TY")]
    assert len(childcare) == 25
    for fid in childcare:
        x, y = sites[fid]
        p = fac.loc[fid, "geometry"]
        assert np.hypot(p.x - x, p.y - y) < 0.05  # metres, after a 577 m datum shift
    assert fac.loc["TY01", "capacity"] > 0


def test_vocabulary_aliases():
    assert facility_kind_key("儿童友好公园") == "park"
    assert facility_kind_key("家庭教育指导服务站点") == "parent_school"
    assert facility_kind_key("swimming pool") is None
    assert status_key("在建") == "under_construction"
    assert unit_type_key("行政村") == "village"


OSM = """<?xml version='1.0' encoding='UTF-8'?>
<osm version="0.6">
  <node id="1" lat="34.70" lon="113.70"><tag k="amenity" v="kindergarten"/><tag k="name" v="红星幼儿园"/></node>
  <node id="2" lat="34.701" lon="113.701"><tag k="amenity" v="school"/><tag k="isced:level" v="1"/></node>
  <node id="3" lat="34.702" lon="113.702"><tag k="amenity" v="cafe"/></node>
  <node id="4" lat="34.703" lon="113.703"/>
  <node id="5" lat="34.703" lon="113.705"/>
  <node id="6" lat="34.705" lon="113.705"/>
  <way id="10"><nd ref="4"/><nd ref="5"/><nd ref="6"/><nd ref="4"/><tag k="leisure" v="park"/><tag k="name" v="小游园"/></way>
</osm>
"""


def test_facilities_from_osm_tags(tmp_path):
    path = tmp_path / "pois.osm"
    path.write_text(OSM, encoding="utf-8")
    gdf = facilities_from_osm_file(path).set_index("fid")
    assert gdf["kind"].to_dict() == {"osm-node-1": "kindergarten", "osm-node-2": "primary_school",
                                     "osm-way-10": "park"}
    assert gdf.loc["osm-node-1", "name"] == "红星幼儿园"
    assert gdf.loc["osm-node-2", "name"] == "小学"
    assert gdf.loc["osm-way-10"].geometry.geom_type == "Polygon"


def test_demo_streets_and_their_tags(demo_layers):
    from cfplan.layers.streets import load_streets

    loaded = load_streets(demo_layers)
    graph, streets, water = loaded.graph, loaded.lines, loaded.water
    assert {"primary", "secondary", "tertiary", "residential", "footway"} <= set(
        streets["highway"].astype(str))
    assert (streets["sidewalk"] == "no").any()
    assert set(streets.loc[streets["highway"] == "primary", "maxspeed"]) == {"60"}
    assert set(water.index.get_level_values("element")) == {"way"}
    signals = [n for n, d in graph.nodes(data=True) if d.get("highway") == "traffic_signals"]
    assert len(signals) >= 5
    nodes = loaded.nodes
    assert sorted(nodes.loc[nodes["highway"] == "traffic_signals", "osmid"]) == sorted(signals)
    assert nodes.crs.to_epsg() == streets.crs.to_epsg() == 4547
    bridges = streets[streets.get("bridge", "").astype(str) == "yes"]
    assert len(bridges) == 2
    assert pyproj.CRS.from_user_input(graph.graph["crs"]).to_epsg() == 4547


def test_amap_points_labelled_wgs84_are_flagged(tmp_path, caplog):
    """Drop `datum = "gcj02"` from the demo manifest: the run warns, in terminal and report."""
    import shutil

    from cfplan.demo import DEMO_DIR
    from cfplan.pipeline import run

    layers = tmp_path / "layers"
    shutil.copytree(DEMO_DIR, layers)
    manifest = layers / "layers.toml"
    manifest.write_text(manifest.read_text(encoding="utf-8").replace('datum = "gcj02"\n', ""),
                        encoding="utf-8")
    with caplog.at_level("WARNING", logger="cfplan"):
        result = run(layers, "jingkai", tmp_path / "out", write_map=False, access=False)
    warning = [r.cfplan_text for r in caplog.records
               if "childcare.csv" in r.getMessage() and "GCJ-02" in r.getMessage()]
    assert len(warning) == 1 and "566 m" in warning[0].zh and "GCJ-02" in warning[0].en
    assert warning[0] in result.warnings
    report = (tmp_path / "out" / "report.md").read_text(encoding="utf-8")
    assert "GCJ-02" in report


def test_manifest_takes_facilities_from_osm_tags(tmp_path):
    from conftest import make_folder

    from cfplan.layers.load import load_layers

    units = [{"code": "U1", "name": "甲", "box": (-100000, -100000, 100000, 100000)}]
    folder = make_folder(tmp_path / "osm", units, [])
    (folder / "pois.osm").write_text(OSM, encoding="utf-8")
    with open(folder / "layers.toml", "a", encoding="utf-8") as fh:
        fh.write('\n[[facilities]]\nfile = "pois.osm"\n')
    layers = load_layers(folder)
    fac = layers.facilities.set_index("fid")
    assert fac.loc["osm-node-1", "kind"] == "kindergarten"
    assert fac.loc["osm-way-10", "kind"] == "park"
    row = layers.accounting[layers.accounting["file"] == "pois.osm"].iloc[0]
    assert (row["read"], row["used"], row["rejected"]) == (3, 3, 0)


def test_geopackage_layer_and_field_mapping(tmp_path, demo_layers):
    """Units from a named layer of a GeoPackage, in EPSG:4547, with a manifest field mapping."""
    from conftest import make_folder

    from cfplan.layers.load import load_layers

    folder = make_folder(tmp_path / "gpkg", [], [])
    units = demo_layers.units[["code", "name", "unit_type", "population", "children",
                               "geometry"]].rename(columns={"code": "社区代码", "name": "名称",
                                                            "unit_type": "类型",
                                                            "population": "常住人口2023",
                                                            "children": "儿童人口"})
    units["类型"] = units["类型"].map({"community": "社区", "village": "村"})
    units.to_file(folder / "base.gpkg", layer="社区", driver="GPKG")
    units.iloc[:1].to_file(folder / "base.gpkg", layer="other", driver="GPKG")
    manifest = (folder / "layers.toml").read_text(encoding="utf-8").replace(
        '[layers.units]\nfile = "units.geojson"',
        '[layers.units]\nfile = "base.gpkg"\nlayer = "社区"\n'
        '[layers.units.fields]\n"社区代码" = "code"\n"常住人口2023" = "population"')
    (folder / "layers.toml").write_text(manifest, encoding="utf-8")
    layers = load_layers(folder)
    assert len(layers.units) == 36
    assert layers.units["population"].sum() == demo_layers.units["population"].sum()
    assert layers.units.geometry.area.sum() == pytest.approx(
        demo_layers.units.geometry.area.sum(), rel=1e-9)


@pytest.mark.parametrize(("wrong", "right"), [("[[facility]]", "[[facilities]]"),
                                              ("[street]", "[streets]"),
                                              ("[indicator]", "[indicators]")])
def test_misspelled_manifest_sections_are_fatal_with_the_right_name(tmp_path, wrong, right):
    """A mistyped top-level section would silently drop a whole layer: it stops the run."""
    import shutil

    from cfplan.cli import main
    from cfplan.demo import DEMO_DIR
    from cfplan.layers.errors import InputError
    from cfplan.layers.load import load_layers

    folder = tmp_path / "d"
    shutil.copytree(DEMO_DIR, folder)
    manifest = folder / "layers.toml"
    text = manifest.read_text(encoding="utf-8")
    assert right in text
    manifest.write_text(text.replace(right, wrong), encoding="utf-8")
    with pytest.raises(InputError) as err:
        load_layers(folder)
    assert f"不是已知的节；是否指 {right}？" in err.value.message(lang="zh")
    assert f"did you mean {right}?" in err.value.message(lang="en")
    assert main(["validate", "--layers", str(folder)]) == 2
