"""Array street loading against OSMnx + networkx; the array cache; snapping to the surface."""

from __future__ import annotations

import warnings
from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import osmnx as ox
import pandas as pd
import pyrosm
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.sparse.csgraph import dijkstra

from benchmarks.synthetic_osm import synthetic_osm, write_osm
from cfplan.analysis.access import walking_access
from cfplan.demo import DEMO_DIR
from cfplan.geo.graph import largest_component, project_graph
from cfplan.geo.network_cache import load_network, network_key, save_network
from cfplan.geo.osm_arrays import read_osm_ways, tag_filter_mask
from cfplan.geo.osm_file import graph_from_osm_file, way_filter
from cfplan.geo.osm_network import read_street_network, walk_network_from_file
from cfplan.geo.paths import nearest_source
from cfplan.geo.snap import ANY_EDGE, SURFACE, SnapRule, snap_points, snap_polygons_to_edges
from cfplan.geo.street_network import (
    keep_largest_component,
    street_network,
    street_network_from_arrays,
)
from cfplan.layers.demand import demand_points
from cfplan.layers.load import load_layers
from cfplan.layers.streets import LINE_TAGS, load_streets

PYROSM_DATA = Path(pyrosm.__file__).parent / "data"
GK = "EPSG:4547"


def planar_weights(graph: nx.MultiDiGraph) -> None:
    """Give every edge of a projected OSMnx graph its planar length (the independent side)."""
    for u, v, data in graph.edges(data=True):
        geom = data.get("geometry")
        data["planar"] = geom.length if geom is not None else float(np.hypot(
            graph.nodes[u]["x"] - graph.nodes[v]["x"], graph.nodes[u]["y"] - graph.nodes[v]["y"]))


def undirected_length(graph: nx.MultiDiGraph) -> float:
    return sum(d["planar"] for *_, d in ox.convert.to_undirected(graph).edges(data=True))


def assert_equivalent(path: Path, crs: str, reference: nx.MultiDiGraph, *, n_sources: int = 6,
                      seed: int = 0) -> None:
    """cfplan's array network of ``path`` walks as the projected OSMnx graph ``reference``."""
    network, report = walk_network_from_file(path, crs=crs)
    kept, ref_report = largest_component(reference)
    planar_weights(kept)
    assert report.n_components >= 1 and ref_report.n_components >= 1
    # total walkable length of the largest component: 0.1 %
    assert network.edge_length.sum() == pytest.approx(undirected_length(kept), rel=1e-3)
    # every OSMnx node is a node of the array network, at the same place
    position = {n: i for i, n in enumerate(network.node_ids.tolist())}
    ids = np.array(list(kept.nodes))
    assert all(int(n) in position for n in ids)
    at = np.array([position[int(n)] for n in ids])
    np.testing.assert_allclose(network.x[at], [kept.nodes[n]["x"] for n in ids], atol=1e-6)
    # distances from sample nodes to every OSMnx node: networkx on OSMnx's graph, 1 cm
    rng = np.random.default_rng(seed)
    sources = rng.choice(ids, size=min(n_sources, len(ids)), replace=False)
    ours = dijkstra(network.matrix, indices=[position[int(s)] for s in sources])
    for row, s in enumerate(sources):
        theirs = nx.single_source_dijkstra_path_length(kept, s, weight="planar")
        assert len(theirs) == len(kept)
        expected = np.array([theirs[n] for n in ids])
        np.testing.assert_allclose(ours[row, at], expected, atol=0.01, rtol=0)
    # walks between random points snapped to the streets: the old graph path agrees
    old = street_network(kept)
    x0, y0, x1, y1 = shapely.total_bounds(network.edge_geometry)
    pts = shapely.points(rng.uniform(x0, x1, 40), rng.uniform(y0, y1, 40))
    for net_a, net_b in ((network, old),):
        a = nearest_source(net_a, snap_points(net_a, pts[:5], rule=ANY_EDGE),
                           snap_points(net_a, pts[5:], rule=ANY_EDGE)).distance
        b = nearest_source(net_b, snap_points(net_b, pts[:5], rule=ANY_EDGE),
                           snap_points(net_b, pts[5:], rule=ANY_EDGE)).distance
        np.testing.assert_allclose(a, b, atol=0.01, rtol=0)


def test_demo_walks_as_through_osmnx():
    path = DEMO_DIR / "streets.osm"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reference = project_graph(graph_from_osm_file(path), crs=GK)
    assert_equivalent(path, GK, reference, n_sources=10)


@settings(max_examples=4, deadline=None)
@given(seed=st.integers(0, 10_000), drop=st.sampled_from([0.0, 0.0, 0.02]),
       n=st.integers(200, 1500))
def test_generated_networks_walk_as_through_osmnx(tmp_path_factory, seed, drop, n):
    folder = tmp_path_factory.mktemp("osm")
    data = synthetic_osm(n, seed=seed, drop_nodes=drop)
    pbf, xml = folder / "s.osm.pbf", folder / "s.osm"
    write_osm(data, pbf, xml)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        # OSMnx's own reader on the XML after the walk filter and the split at missing nodes
        reference = project_graph(graph_from_osm_file(xml), crs=GK)
    for path in (pbf, xml):
        assert_equivalent(path, GK, reference, seed=seed)


def test_clean_synthetic_matches_graph_from_xml_itself(tmp_path):
    data = synthetic_osm(1200, seed=7, walkable_only=True)
    pbf, xml = tmp_path / "s.osm.pbf", tmp_path / "s.osm"
    write_osm(data, pbf, xml)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reference = project_graph(ox.graph_from_xml(xml, bidirectional=True, retain_all=True),
                                  crs=GK)
    assert_equivalent(pbf, GK, reference)


@pytest.mark.parametrize("name", ["test.osm.pbf", "Helsinki.osm.pbf"])
def test_real_clipped_extract_walks_as_through_osmnx(name):
    path = PYROSM_DATA / name
    ways = read_osm_ways(path)
    present = np.isin(ways.refs, ways.node_id)
    assert (~present).any()  # a real clipped extract: ways reference nodes cut away
    crs = "EPSG:32635"  # UTM 35N (Finland)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reference = project_graph(graph_from_osm_file(path), crs=crs)
    assert_equivalent(path, crs, reference, n_sources=8)


def test_clipped_ways_are_split_never_bridged(tmp_path):
    from tests.test_access import write_osm as write_small_osm

    xml = tmp_path / "streets.osm"
    write_small_osm(xml)  # way 54 runs 6 -> (missing 999) -> 11; a motorway 1 -> 16
    for simplify in (True, False):
        net = read_street_network(xml, crs=GK, simplify=simplify)
        ends = {frozenset(p) for p in zip(net.node_ids[net.edge_u].tolist(),
                                          net.node_ids[net.edge_v].tolist(), strict=True)}
        assert frozenset((6, 11)) not in ends and 999 not in net.node_ids
        assert "motorway" not in set(net.edge_tags["highway"].astype(str))
        assert not (net.edge_tags["osmid"] == 54).any()  # both pieces shorter than 2 nodes
        assert not (net.edge_tags["osmid"] == 51).any()  # foot=no
    # unsimplified and simplified walk alike
    a = read_street_network(xml, crs=GK)
    b = read_street_network(xml, crs=GK, simplify=False)
    assert a.n_nodes < b.n_nodes or a.n_nodes == b.n_nodes
    common = np.intersect1d(a.node_ids, b.node_ids)
    ia = np.searchsorted(a.node_ids, common)
    ib = np.searchsorted(b.node_ids, common)
    da = dijkstra(a.matrix, indices=ia[:3])[:, ia]
    db = dijkstra(b.matrix, indices=ib[:3])[:, ib]
    np.testing.assert_allclose(da, db, atol=1e-6)


tag_values = st.sampled_from(["yes", "no", "separate", "private", "footway", "motorway",
                              "cycleway", "residential", "service", "abandoned", "both"])
tag_keys = st.sampled_from(["highway", "area", "access", "foot", "service", "sidewalk",
                            "sidewalk:both", "sidewalk:left", "sidewalk:right", "name"])


@settings(max_examples=60, deadline=None)
@given(st.lists(st.dictionaries(tag_keys, tag_values, max_size=5), min_size=1, max_size=30),
       st.sampled_from(["walk", "drive", "bike", "all"]))
def test_column_filter_equals_the_way_filter(tag_sets, network_type):
    strings = sorted({s for tags in tag_sets for kv in tags.items() for s in kv})
    ids = {s: i for i, s in enumerate(strings)}
    keys = {k for tags in tag_sets for k in tags} | {"highway"}
    columns = {k: np.array([ids[t[k]] if k in t else -1 for t in tag_sets]) for k in keys}
    mask = tag_filter_mask(network_type, columns=columns, strings=strings)
    keep = way_filter(network_type)
    assert mask.tolist() == [keep(t) for t in tag_sets]


def test_streets_tables_and_graph_on_demand(demo_layers):
    streets = load_streets(demo_layers)
    lines, nodes = streets.lines, streets.nodes
    assert {"u", "v", *LINE_TAGS, "length", "geometry"} <= set(lines.columns)
    assert list(nodes.columns) == ["osmid", "highway", "crossing", "crossing:island",
                                   "traffic_signals", "geometry"]
    assert lines.crs == nodes.crs == demo_layers.crs
    np.testing.assert_allclose(lines["length"], lines.length, rtol=1e-12)
    assert set(lines["u"]) | set(lines["v"]) <= set(nodes["osmid"])
    assert streets.network.n_nodes == streets.components.nodes_kept
    # the networkx graph, built from the arrays, walks as the arrays do
    graph = streets.graph
    assert graph.number_of_edges() == 2 * len(lines)
    back = street_network(graph)
    order = {n: i for i, n in enumerate(back.node_ids.tolist())}
    rows = [0, 5, 9]
    a = dijkstra(streets.whole.matrix, indices=rows)
    b = dijkstra(back.matrix, indices=[order[int(n)] for n in streets.whole.node_ids[rows]])
    perm = [order[int(n)] for n in streets.whole.node_ids]
    np.testing.assert_allclose(a, b[:, perm], atol=1e-9)
    gdf_nodes, gdf_edges = ox.graph_to_gdfs(graph)
    assert len(gdf_nodes) == streets.whole.n_nodes
    assert len(gdf_edges) == graph.number_of_edges()


def test_array_cache_round_trip_and_key(tmp_path):
    net = read_street_network(DEMO_DIR / "streets.osm", crs=GK)
    path = save_network(net, tmp_path / "streets.npz", key="k1")
    again = load_network(path, key="k1")
    assert load_network(path, key="k2") is None  # another source: stale
    assert load_network(tmp_path / "none.npz", key="k1") is None
    for name in ("node_ids", "x", "y", "edge_u", "edge_v", "edge_length"):
        np.testing.assert_array_equal(getattr(net, name), getattr(again, name))
    assert shapely.equals_exact(net.edge_geometry, again.edge_geometry, tolerance=0).all()
    assert (net.matrix != again.matrix).nnz == 0
    pd.testing.assert_frame_equal(net.edge_tags, again.edge_tags, check_categorical=False)
    pd.testing.assert_frame_equal(net.node_tags, again.node_tags, check_categorical=False)
    assert network_key("a", crs="x") != network_key("a", crs="y")


def test_load_streets_reads_its_cache_only_for_the_same_file(tmp_path):
    import shutil

    folder = tmp_path / "district"
    shutil.copytree(DEMO_DIR, folder)
    layers = load_layers(folder)
    cache = tmp_path / "cache" / "streets.npz"
    first = load_streets(layers, cache=cache)
    assert cache.is_file()
    stamp = cache.stat().st_mtime_ns
    second = load_streets(layers, cache=cache)
    assert cache.stat().st_mtime_ns == stamp  # read, not rewritten
    np.testing.assert_array_equal(first.network.edge_length, second.network.edge_length)
    pd.testing.assert_frame_equal(first.lines.drop(columns="geometry"),
                                  second.lines.drop(columns="geometry"))
    # the street file changes (a footway less): the cache is stale and rebuilt
    text = (folder / "streets.osm").read_text(encoding="utf-8")
    (folder / "streets.osm").write_text(text.replace('v="footway"', 'v="cycleway"', 1),
                                        encoding="utf-8")
    third = load_streets(load_layers(folder), cache=cache)
    assert cache.stat().st_mtime_ns != stamp
    assert third.whole.n_edges < first.whole.n_edges


def test_components_of_arrays_match_osmnx_report(tmp_path):
    from tests.test_access import write_osm as write_small_osm

    xml = tmp_path / "streets.osm"
    write_small_osm(xml)
    kept, report = keep_largest_component(read_street_network(xml, crs=GK))
    assert report.n_components == 2 and report.n_dropped == 1 and len(report.pieces) == 1
    assert report.length_dropped_m == pytest.approx(111.2 + 91.4, abs=1.0)
    assert report.nodes_kept == kept.n_nodes
    assert report.length_kept_m == pytest.approx(kept.edge_length.sum())


# A tunnel under a park: a street along y=300 underground (tunnel=yes, layer=-1) between two
# north-south streets (x=0, x=1000), with surface streets along y=0 and y=700.
NODES = {"A": (0, 0), "B": (1000, 0), "C": (0, 300), "D": (1000, 300), "E": (0, 700),
         "F": (1000, 700)}
EDGES = [("A", "B", {"highway": "residential"}),
         ("C", "D", {"highway": "service", "tunnel": "yes", "layer": "-1"}),
         ("E", "F", {"highway": "residential"}),
         ("A", "C", {"highway": "tertiary"}), ("C", "E", {"highway": "tertiary"}),
         ("B", "D", {"highway": "tertiary"}), ("D", "F", {"highway": "tertiary"})]
X0, Y0 = 480_000.0, 3_840_000.0


def tunnel_network():
    names = list(NODES)
    x = np.array([NODES[n][0] for n in names], dtype=float) + X0
    y = np.array([NODES[n][1] for n in names], dtype=float) + Y0
    u = [names.index(a) for a, _, _ in EDGES]
    v = [names.index(b) for _, b, _ in EDGES]
    tags = pd.DataFrame([t for *_, t in EDGES]).astype("category")
    return street_network_from_arrays(x=x, y=y, edge_u=u, edge_v=v, edge_tags=tags, crs=GK)


def test_home_above_a_tunnel_snaps_to_the_surface_street():
    net = tunnel_network()
    home = shapely.points([(X0 + 500, Y0 + 290)])  # 10 m above the tunnel, 290 m from y=0
    school = shapely.points([(X0 + 900, Y0 - 5)])  # 5 m south of the y=0 street
    snapped = snap_points(net, home)
    assert EDGES[snapped.edge[0]][:2] == ("A", "B")
    assert snapped.snap_m[0] == pytest.approx(290.0)
    walk = nearest_source(net, snap_points(net, school), snapped).distance[0]
    assert walk == pytest.approx(290 + 400 + 5)  # up to the street, 400 m along it, 5 m in
    # without the rule it went down into the tunnel and round: 10 + 500 + 300 + 100 + 5
    old = nearest_source(net, snap_points(net, school, rule=ANY_EDGE),
                         snap_points(net, home, rule=ANY_EDGE)).distance[0]
    assert old == pytest.approx(915.0)
    # the tunnel stays walkable: from beside C to beside D through it, 5 + 1000 + 5
    west, east = shapely.points([(X0 - 5, Y0 + 300)]), shapely.points([(X0 + 1005, Y0 + 300)])
    through = nearest_source(net, snap_points(net, west), snap_points(net, east)).distance[0]
    assert through == pytest.approx(1010.0)
    # a park over the tunnel is not entered from the tunnel where it crosses the boundary
    park = shapely.box(X0 + 100, Y0 + 200, X0 + 900, Y0 + 400)
    access = snap_polygons_to_edges(net, np.array([park]))
    assert EDGES[1][:2] == ("C", "D") and not (access.edge == 1).any()
    assert (snap_polygons_to_edges(net, np.array([park]), rule=ANY_EDGE).edge == 1).any()


def test_walking_access_uses_the_surface_rule_by_default():
    net = tunnel_network()
    unit = gpd.GeoDataFrame(
        {"code": ["U1"], "name": ["一"], "unit_type": ["community"], "subdistrict": ["S1"],
         "population": [100.0], "children": [10.0]},
        geometry=[shapely.box(X0 + 400, Y0 + 200, X0 + 600, Y0 + 400)], crs=GK)
    building = gpd.GeoDataFrame({"floors": [3]}, geometry=[shapely.box(
        X0 + 495, Y0 + 285, X0 + 505, Y0 + 295)], crs=GK)
    demand = demand_points(unit, buildings=building)
    fac = gpd.GeoDataFrame({"fid": ["K1"], "name": [""], "kind": ["kindergarten"]},
                           geometry=shapely.points([(X0 + 900, Y0 - 5)]), crs=GK)
    surface = walking_access(net, demand, fac).distances["distance_m"].iloc[0]
    anywhere = walking_access(net, demand, fac, snap_rule=ANY_EDGE).distances
    assert surface == pytest.approx(695.0)
    assert anywhere["distance_m"].iloc[0] == pytest.approx(915.0)


def test_snap_rule_mask():
    tags = pd.DataFrame({
        "highway": ["residential", "footway", "service", "service", "motorway", "steps",
                    "residential", "footway", "residential"],
        "tunnel": [None, None, "yes", None, None, None, "building_passage", None, "no"],
        "layer": [None, "-1", None, "-2", None, "-1", None, None, "-1"],
        "covered": [None, None, None, None, None, None, None, "yes", None],
    })
    m = len(tags)
    x = np.arange(m + 1, dtype=float) * 10 + X0
    net = street_network_from_arrays(x=x, y=np.full(m + 1, Y0), edge_u=np.arange(m),
                                     edge_v=np.arange(1, m + 1), edge_tags=tags, crs=GK)
    assert SURFACE.mask(net).tolist() == [True, True, False, False, False, True, False, True,
                                          False]
    assert ANY_EDGE.mask(net).all()
    allow_passages = SnapRule(no_tunnels=False)
    assert allow_passages.mask(net)[6]
    assert not SnapRule(pedestrian_highways=()).mask(net)[1]


def test_cli_array_cache_gives_the_same_results(tmp_path, capsys):
    from cfplan.cli import main

    cache = tmp_path / "streets.npz"
    out1, out2 = tmp_path / "o1", tmp_path / "o2"
    args = ["report", "--layers", str(DEMO_DIR), "--plan", "jingkai", "--graph-cache", str(cache)]
    assert main([*args, "--out", str(out1)]) == 0
    first = capsys.readouterr().err
    assert cache.is_file() and "streets.npz" not in first  # built from streets.osm
    assert main([*args, "--out", str(out2)]) == 0
    assert "streets.npz" in capsys.readouterr().err  # the second run read the cache
    for name in ("targets.csv", "results/access_coverage.csv", "results/access_units.csv"):
        assert (out1 / name).read_bytes() == (out2 / name).read_bytes()


def test_unreadable_street_files_are_input_errors(tmp_path):
    from cfplan.layers.errors import InputError
    from cfplan.layers.streets import load_street_network

    junk = tmp_path / "streets.osm.pbf"
    junk.write_bytes(bytes(range(256)) * 20)
    html = tmp_path / "streets.osm"
    html.write_text("<html>not OSM</html>")
    for path, words in ((junk, "OSM PBF 无法读取"), (html, "OSM XML 无法解析")):
        with pytest.raises(InputError) as info:
            load_street_network(path, crs=GK)
        assert words in info.value.message(lang="zh") and str(path) in info.value.message()
