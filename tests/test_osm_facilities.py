"""Facilities from real OSM extracts (pyrosm's clipped PBFs) through cfplan's loader (issues #12, #13).

Every count asserted here is checked against an independent reading: a plain pyosmium pass
over the tags (no area handler), and pyrosm's own reader for geometries.
"""

from __future__ import annotations

import json
import warnings
from collections import Counter
from functools import cache
from pathlib import Path

import numpy as np
import osmium
import pyrosm
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from cfplan.geo.osm_elements import kept_part, read_osm_elements
from cfplan.layers.load import LayerSet, load_layers
from cfplan.layers.osm_tags import (
    classify_tags,
    interest_tags,
    match_kind,
    school_kind_by_name,
)

DATA = Path(pyrosm.__file__).parent / "data"
HELSINKI = DATA / "Helsinki.osm.pbf"
TEST_PBF = DATA / "test.osm.pbf"

# The tags of interest, written out (not taken from cfplan) for the independent count.
INTEREST = {
    "amenity": {"kindergarten", "childcare", "school", "library", "hospital", "community_centre",
                "baby_hatch"},
    "leisure": {"park", "garden", "playground", "pitch"},
    "changing_table": {"yes"},
}


def _of_interest(tags: dict[str, str]) -> bool:
    return any(tags.get(k) in values for k, values in INTEREST.items())


@cache
def plain_read(path: Path) -> tuple[dict[tuple[str, int], dict[str, str]], set[int],
                                    dict[int, list[int]]]:
    """One plain pyosmium pass: tagged elements of interest, node ids, way node refs."""
    elements, node_ids, refs = {}, set(), {}
    for obj in osmium.FileProcessor(str(path)):
        tags = dict(obj.tags)
        if obj.is_node():
            node_ids.add(obj.id)
        if obj.is_way():
            refs[obj.id] = [n.ref for n in obj.nodes]
        if _of_interest(tags):
            elements[(obj.type_str(), obj.id)] = tags
    return elements, node_ids, refs


def layer_folder(folder: Path, extract: Path) -> Path:
    """Four units drawn over the extract's bounding box, facilities from the extract."""
    box = osmium.FileProcessor(str(extract)).header.box()
    x0, y0 = box.bottom_left.lon - 0.002, box.bottom_left.lat - 0.002
    x1, y1 = box.top_right.lon + 0.002, box.top_right.lat + 0.002
    xm, ym = (x0 + x1) / 2, (y0 + y1) / 2
    cells = [("U1", x0, y0, xm, ym), ("U2", xm, y0, x1, ym), ("U3", x0, ym, xm, y1),
             ("U4", xm, ym, x1, y1)]
    features = [{"type": "Feature",
                 "properties": {"编码": c, "名称": f"单元{c}", "类型": "社区", "人口": 1000,
                                "儿童人口": 150},
                 "geometry": {"type": "Polygon",
                              "coordinates": [[[a, b], [e, b], [e, d], [a, d], [a, b]]]}}
                for c, a, b, e, d in cells]
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "units.geojson").write_text(
        json.dumps({"type": "FeatureCollection", "features": features}), encoding="utf-8")
    (folder / "layers.toml").write_text(
        '[district]\nname = "测试区"\n\n[layers.units]\nfile = "units.geojson"\n\n'
        f"[[facilities]]\nfile = {json.dumps(str(extract))}\n", encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def helsinki(tmp_path_factory) -> LayerSet:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return load_layers(layer_folder(tmp_path_factory.mktemp("helsinki"), HELSINKI))


def _rejected(layers: LayerSet, file: str) -> dict[str, object]:
    return {r.feature: r for r in layers.rejected if r.file == file}


def _pyrosm_frame(path: Path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        osm = pyrosm.OSM(str(path))
        return osm.get_data_by_custom_criteria(
            custom_filter={k: sorted(v) for k, v in INTEREST.items()},
            keep_nodes=True, keep_ways=True, keep_relations=True)


# --------------------------------------------------------------------------- Helsinki


def test_helsinki_every_feature_of_interest_is_read_used_or_rejected(helsinki):
    elements, _, _ = plain_read(HELSINKI)
    assert len(elements) == 42
    acc = helsinki.accounting.set_index("file").loc["Helsinki.osm.pbf"]
    assert acc.tolist() == ["facilities", "EPSG:4326 WGS 84", "wgs84", 42, 26, 4, 16]
    assert acc["read"] == acc["used"] + acc["rejected"]
    fac = helsinki.facilities[helsinki.facilities["_file"] == "Helsinki.osm.pbf"]
    rejected = _rejected(helsinki, "Helsinki.osm.pbf")
    seen = set(fac["fid"]) | set(rejected)
    assert seen == {f"osm-{'node' if t == 'n' else 'way' if t == 'w' else 'relation'}-{i}"
                    for t, i in elements}
    assert not set(fac["fid"]) & set(rejected)
    assert Counter(fac["kind"]) == {"park": 15, "library": 6, "play_facility": 5}


def test_helsinki_rejections_per_reason(helsinki):
    elements, _, _ = plain_read(HELSINKI)
    rejected = _rejected(helsinki, "Helsinki.osm.pbf")
    by_field = Counter(r.field for r in rejected.values())
    assert by_field == {"sport": 6, "isced:level": 3, "community_centre": 3, "geometry": 3,
                        "access": 1}
    schools = {f"osm-way-{i}" for (t, i), tags in elements.items()
               if t == "w" and tags.get("amenity") == "school"}
    assert len(schools) == 3 and all("isced:level" not in elements[("w", int(s.split("-")[-1]))]
                                     for s in schools)
    for fid in schools:
        assert rejected[fid].reason.en.startswith(
            "amenity=school without isced:level or school:level: level unknown")
        assert "学段不明" in rejected[fid].reason.zh
    pitches = {i for (t, i), tags in elements.items() if tags.get("leisure") == "pitch"}
    assert {f"osm-way-{i}" for i in pitches} == {f for f, r in rejected.items()
                                                  if r.field == "sport"}
    assert "sport=tennis" in rejected["osm-way-138172979"].reason.en


def test_helsinki_clipped_parks_are_kept_inside_or_rejected(helsinki):
    elements, node_ids, refs = plain_read(HELSINKI)
    parks = {i for (t, i), tags in elements.items()
             if t == "w" and tags.get("leisure") == "park"}
    clipped = {i: (sum(r in node_ids for r in set(refs[i])), len(set(refs[i])))
               for i in parks if not set(refs[i]) <= node_ids}
    assert clipped == {8042256: (10, 50), 122869924: (6, 97), 122887005: (4, 69),
                       123811631: (1, 75), 440426433: (72, 112)}
    rejected = _rejected(helsinki, "Helsinki.osm.pbf")
    assert "（1/75 个节点在文件中）：范围内的节点不足以构成面" in rejected["osm-way-123811631"].reason.zh
    assert "only 0.9 m², under 100 m²" in rejected["osm-way-122887005"].reason.en
    repairs = {r.feature: r for r in helsinki.repairs if r.file == "Helsinki.osm.pbf"}
    assert set(repairs) == {"osm-way-8042256", "osm-way-122869924", "osm-way-440426433",
                            "osm-way-514428397"}  # the three parks and a clipped playground
    assert "72 of 112 nodes in the file): kept the part inside" in repairs[
        "osm-way-440426433"].what.en
    # the part kept is the polygon through the nodes present: pyrosm builds the same one
    ours = helsinki.facilities.set_index("fid").geometry
    theirs = _pyrosm_frame(HELSINKI).set_index("id").to_crs(helsinki.crs).geometry
    for way in (8042256, 122869924, 440426433, 514428397):
        assert ours[f"osm-way-{way}"].area == pytest.approx(theirs[way].area, rel=1e-6)


def test_helsinki_complete_areas_match_pyrosm(helsinki):
    ours = helsinki.facilities.set_index("fid")
    theirs = _pyrosm_frame(HELSINKI).set_index(["osm_type", "id"]).to_crs(helsinki.crs)
    polygons = ours[ours.geom_type.isin(["Polygon", "MultiPolygon"])]
    assert len(polygons) == 22  # 26 used, 4 of them library nodes
    for fid, row in polygons.iterrows():
        element, osm_id = fid.split("-")[1], int(fid.split("-")[2])
        other = theirs.loc[(element, osm_id)].geometry
        assert row.geometry.symmetric_difference(other).area < 1e-6 * other.area, fid
    # the multipolygon park keeps its hole (the tennis courts, an inner member)
    park = ours.loc["osm-relation-6627217", "geometry"]
    assert len(park.interiors) == 1


def test_helsinki_library_node_and_building_count_once(helsinki):
    elements, _, _ = plain_read(HELSINKI)
    libraries = {k for k, tags in elements.items() if tags.get("amenity") == "library"}
    assert len(libraries) == 7  # 5 nodes, 2 buildings
    node, way = elements[("n", 369550855)], elements[("w", 122595247)]
    assert node["name"] == way["name"] == "Kansalliskirjasto"
    assert node["wikidata"] == way["wikidata"]
    reason = _rejected(helsinki, "Helsinki.osm.pbf")["osm-node-369550855"].reason
    assert "merged into area way/122595247" in reason.en and "wikidata Q420747" in reason.en
    fac = helsinki.facilities
    assert (fac["kind"] == "library").sum() == 6
    assert (fac["name"] == "Kansalliskirjasto").sum() == 1


def test_test_pbf_counts(tmp_path):
    elements, _, _ = plain_read(TEST_PBF)
    assert len(elements) == 8
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        layers = load_layers(layer_folder(tmp_path / "t", TEST_PBF))
    acc = layers.accounting.set_index("file").loc["test.osm.pbf"]
    assert acc.tolist() == ["facilities", "EPSG:4326 WGS 84", "wgs84", 8, 4, 1, 4]
    assert Counter(layers.facilities["kind"]) == {"kindergarten": 1, "childcare": 1,
                                                  "play_facility": 1, "park": 1}
    rejected = _rejected(layers, "test.osm.pbf")
    assert Counter(r.field for r in rejected.values()) == {"sport": 2, "isced:level": 1,
                                                           "geometry": 1}
    assert "（1/4 个节点在文件中）" in rejected["osm-way-589207387"].reason.zh


def test_same_pbf_for_streets_and_facilities_runs_end_to_end(tmp_path):
    from cfplan.pipeline import run

    folder = layer_folder(tmp_path / "layers", HELSINKI)
    with open(folder / "layers.toml", "a", encoding="utf-8") as fh:
        fh.write(f"\n[streets]\nfile = {json.dumps(str(HELSINKI))}\n")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = run(folder, "jingkai", tmp_path / "out", write_map=False, lang="en")
    text = (tmp_path / "out" / "rejected.csv").read_text(encoding="utf-8-sig")
    assert text.count("Helsinki.osm.pbf") == 16
    assert "level unknown" in text and "merged into area way/122595247" in text
    # no kindergarten in Helsinki's extract: said in the warnings, empty distances, not inf
    assert any("the layers hold no kindergarten at all" in w.en for w in result.warnings)
    units = (tmp_path / "out" / "results" / "access_units.csv").read_text(encoding="utf-8-sig")
    assert "inf" not in units
    assert all(line.endswith(",,,0.0") for line in units.splitlines()
               if ",kindergarten," in line)


# --------------------------------------------------------------------------- the pieces


def test_read_osm_elements_reports_how_each_area_was_made():
    got = read_osm_elements(HELSINKI, tags=interest_tags()).set_index(["element", "osm_id"])
    assert Counter(got["assembly"]) == {"area": 28, "clipped": 6, "node": 8}  # 42 in all
    row = got.loc[("way", 440426433)]
    assert (row["nodes_in"], row["nodes_all"], row["gaps"]) == (72, 112, 2)
    assert got.loc[("way", 123811631)].geometry is None


def test_kept_part_closes_each_gap_with_a_straight_line():
    square = [(1, (0.0, 0.0)), (2, (1.0, 0.0)), (3, None), (4, (1.0, 1.0)), (5, (0.0, 1.0)),
              (6, None), (1, (0.0, 0.0))]
    geom, gaps = kept_part(square, closed=True)
    assert gaps == 2 and geom.equals(shapely.box(0, 0, 1, 1))
    geom, gaps = kept_part([(1, (0.0, 0.0)), (2, (2.0, 0.0)), (3, (2.0, 2.0))], closed=False)
    assert gaps == 1 and geom.area == pytest.approx(2.0)
    assert kept_part([(1, (0.0, 0.0)), (2, None), (3, (1.0, 1.0)), (1, (0.0, 0.0))],
                     closed=True) == (None, 1)


@pytest.mark.parametrize(("name", "kind", "both"), [
    ("红旗小学", "primary_school", False),
    ("郑州市第八中学", "middle_school", False),
    ("经开区实验初级中学", "middle_school", False),
    ("郑州外国语中学附属小学", "primary_school", False),
    ("师大附中", "middle_school", False),
    ("九年一贯制实验学校", "primary_school", True),
    ("第一高级中学", None, False),
    ("职业中学", None, False),
    ("实验学校", None, False),
])
def test_school_kind_by_name(name, kind, both):
    assert school_kind_by_name(name) == (kind, both)


def test_classify_tags_reasons_and_fallbacks():
    assert match_kind({"leisure": "pitch", "sport": "soccer;basketball"}) == "football_pitch"
    both = classify_tags({"amenity": "school", "isced:level": "1;2", "name": "X"})
    assert both.kind == "primary_school" and "primary and middle" in both.note.en
    named = classify_tags({"amenity": "school", "name": "红旗小学"})
    assert named.kind == "primary_school" and named.field == "name" and named.problem is None
    tagged = classify_tags({"amenity": "school", "school:level": "secondary", "name": "红旗小学"})
    assert tagged.kind is None and tagged.field == "school:level"  # tags win over the name
    garden = classify_tags({"leisure": "garden", "access": "private"})
    assert garden.kind is None and "access=private" in garden.problem.en
    assert classify_tags({"leisure": "garden", "access": "yes"}).kind == "park"
    pairs = interest_tags()
    assert ("amenity", "school") in pairs and ("leisure", "pitch") in pairs
    assert len(pairs) == len(set(pairs)) == 12
    assert np.all([isinstance(v, str) for _, v in pairs])


@settings(max_examples=200, deadline=None)
@given(st.integers(3, 40), st.data())
def test_kept_part_stays_within_the_nodes_present(n, data):
    """On any ring (a star-shaped polygon) with any nodes missing, the part kept is valid,
    never reaches beyond the nodes the file holds, and counts one gap per missing stretch."""
    radii = data.draw(st.lists(st.floats(0.5, 2.0), min_size=n, max_size=n))
    present = data.draw(st.lists(st.booleans(), min_size=n, max_size=n))
    angles = np.linspace(0, 2 * np.pi, n, endpoint=False)
    coords = [(float(r * np.cos(a)), float(r * np.sin(a))) for r, a in zip(radii, angles,
                                                                            strict=True)]
    seq = [(i, c if p else None) for i, (c, p) in enumerate(zip(coords, present, strict=True))]
    geom, gaps = kept_part([*seq, seq[0]], closed=True)
    runs = sum(1 for i in range(n) if not present[i] and present[i - 1])
    assert gaps == (runs if any(present) and not all(present) else int(not any(present)))
    kept = [c for c, p in zip(coords, present, strict=True) if p]
    if geom is None:
        assert len(kept) < 3 or shapely.Polygon(kept).area < 1e-9 or not shapely.make_valid(
            shapely.Polygon(kept)).area
        return
    assert geom.is_valid and geom.geom_type in ("Polygon", "MultiPolygon")
    hull = shapely.MultiPoint(kept).convex_hull
    assert geom.difference(hull.buffer(1e-9)).area < 1e-9
    if all(present):
        assert geom.area == pytest.approx(shapely.Polygon(coords).area)
