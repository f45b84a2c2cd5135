"""Coverage, demand points, service areas and OSM file loading."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import osmium
import pandas as pd
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from cfplan.analysis.access import accessibility_value, coverage_table, walking_access
from cfplan.geo.graph import largest_component, load_graph, project_graph, save_graph
from cfplan.geo.osm_file import graph_from_osm_file
from cfplan.geo.osm_network import walk_network_from_file
from cfplan.geo.paths import nearest_source, node_distances
from cfplan.geo.service_area import reached_lines, service_areas
from cfplan.geo.snap import Snapped, snap_points, snap_polygons_to_edges
from cfplan.geo.street_network import street_network, street_network_from_arrays
from cfplan.layers.demand import demand_points, far_from_streets

CRS = "EPSG:4547"
X0, Y0 = 480_000.0, 3_840_000.0


def grid_network(n: int = 12, spacing: float = 100.0, seed: int = 0):
    rng = np.random.default_rng(seed)
    i, j = np.meshgrid(np.arange(n), np.arange(n))
    x = X0 + i.ravel() * spacing + rng.uniform(-15, 15, n * n)
    y = Y0 + j.ravel() * spacing + rng.uniform(-15, 15, n * n)
    idx = np.arange(n * n).reshape(n, n)
    u = np.concatenate([idx[:, :-1].ravel(), idx[:-1, :].ravel()])
    v = np.concatenate([idx[:, 1:].ravel(), idx[1:, :].ravel()])
    keep = rng.random(len(u)) > 0.1
    return street_network_from_arrays(x=x, y=y, edge_u=u[keep], edge_v=v[keep], crs=CRS)


NETWORK = grid_network()
SIDE = 1100.0


def units_frame() -> gpd.GeoDataFrame:
    boxes = [shapely.box(X0 - 50 + a, Y0 - 50 + b, X0 - 50 + a + SIDE / 2, Y0 - 50 + b + SIDE / 2)
             for a in (0, SIDE / 2) for b in (0, SIDE / 2)]
    return gpd.GeoDataFrame(
        {
            "code": ["U1", "U2", "U3", "U4"],
            "name": ["一", "二", "三", "四"],
            "unit_type": ["community"] * 4,
            "subdistrict": ["S1", "S1", "S2", "S2"],
            "population": [1000.0, 2500.0, 0.0, 4000.0],
            "children": [150.0, 400.0, 0.0, 700.0],
        },
        geometry=boxes,
        crs=CRS,
    )


UNITS = units_frame()
DEMAND = demand_points(UNITS, spacing_m=100.0)


def facilities_frame(xy: list[tuple[float, float]], kinds: list[str]) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"fid": [f"F{k}" for k in range(len(xy))], "name": [""] * len(xy), "kind": kinds},
        geometry=shapely.points(np.asarray(xy, dtype=float).reshape(-1, 2)),
        crs=CRS,
    )


coords = st.tuples(st.floats(X0 - 100, X0 + 1200), st.floats(Y0 - 100, Y0 + 1200))


@settings(max_examples=25, deadline=None)
@given(st.lists(coords, min_size=1, max_size=6), coords, st.floats(100, 500), st.floats(0, 300))
def test_coverage_never_falls(xy, extra, radius, more) -> None:
    kinds = ["kindergarten"] * len(xy)
    before = walking_access(NETWORK, DEMAND, facilities_frame(xy, kinds),
                            radii={"kindergarten": radius}).coverage
    added = walking_access(NETWORK, DEMAND, facilities_frame([*xy, extra], [*kinds,
                           "kindergarten"]), radii={"kindergarten": radius}).coverage
    wider = walking_access(NETWORK, DEMAND, facilities_frame(xy, kinds),
                           radii={"kindergarten": radius + more}).coverage
    for after in (added, wider):
        for who in ("covered_population", "covered_children"):
            assert (after[who].to_numpy() >= before[who].to_numpy() - 1e-9).all()
        np.testing.assert_array_equal(after["area"], before["area"])
    # and coverage is the share of people whose walk is within the radius
    access = walking_access(NETWORK, DEMAND, facilities_frame(xy, kinds),
                            radii={"kindergarten": radius})
    d = access.distances
    expected = d.loc[d["distance_m"] <= radius, "children"].sum() / d["children"].sum()
    assert accessibility_value(access.coverage, kind="kindergarten") == pytest.approx(expected)


def test_coverage_of_groups_and_missing_kinds() -> None:
    fac = facilities_frame([(X0 + 200, Y0 + 200), (X0 + 900, Y0 + 900)],
                           ["kindergarten", "childcare"])
    access = walking_access(NETWORK, DEMAND, fac,
                            kinds=["kindergarten", "childcare", "kindergarten+childcare",
                                   "primary_school"])
    share = {k: accessibility_value(access.coverage, kind=k, population="population")
             for k in ("kindergarten", "childcare", "kindergarten+childcare", "primary_school")}
    assert share["primary_school"] == 0.0  # no facility of the kind: nobody is covered
    assert share["kindergarten+childcare"] >= max(share["kindergarten"], share["childcare"])
    assert share["kindergarten+childcare"] <= share["kindergarten"] + share["childcare"] + 1e-12
    cov = access.coverage
    assert list(cov["level"].unique()) == ["overall", "subdistrict", "unit"]
    unit_rows = cov[(cov["level"] == "unit") & (cov["kind"] == "kindergarten")]
    assert set(unit_rows["area"]) == {"U1", "U2", "U3", "U4"}
    assert np.isnan(unit_rows.loc[unit_rows["area"] == "U3", "share_children"]).all()
    # the per-unit and overall rows add up
    overall = cov[(cov["level"] == "overall") & (cov["kind"] == "kindergarten")].iloc[0]
    assert unit_rows["covered_children"].sum() == pytest.approx(overall["covered_children"])
    # a radius override changes coverage, computed from the same distances
    tight = coverage_table(access.distances, kinds=["kindergarten"], radii={"kindergarten": 1})
    assert accessibility_value(tight, kind="kindergarten") < share["kindergarten"] or \
        share["kindergarten"] == 0


def test_demand_weights_sum_to_unit_totals() -> None:
    units = units_frame()
    # a unit too small for any lattice point, and an L-shaped one
    tiny = shapely.box(X0 + 2000, Y0, X0 + 2030, Y0 + 30)
    ell = shapely.Polygon([(X0 + 3000, Y0), (X0 + 3500, Y0), (X0 + 3500, Y0 + 100),
                           (X0 + 3100, Y0 + 100), (X0 + 3100, Y0 + 600), (X0 + 3000, Y0 + 600)])
    extra = gpd.GeoDataFrame(
        {"code": ["U5", "U6"], "name": ["", ""], "unit_type": ["village"] * 2,
         "subdistrict": ["S3", "S3"], "population": [77.0, 333.3], "children": [7.0, 33.3]},
        geometry=[tiny, ell], crs=CRS)
    units = pd.concat([units, extra], ignore_index=True)
    for spacing in (100.0, 37.5):
        demand = demand_points(units, spacing_m=spacing)
        sums = demand.groupby("unit")[["population", "children"]].sum()
        for _, unit in units.iterrows():
            assert sums.loc[unit["code"], "population"] == pytest.approx(unit["population"],
                                                                         rel=1e-12, abs=1e-9)
            assert sums.loc[unit["code"], "children"] == pytest.approx(unit["children"],
                                                                       rel=1e-12, abs=1e-9)
        # every point lies in its unit; the tiny unit got one representative point
        unit_geom = units.set_index("code").geometry
        assert shapely.covers(unit_geom.loc[demand["unit"]].to_numpy(),
                              demand.geometry.to_numpy()).all()
        if spacing == 100.0:
            assert (demand.loc[demand["unit"] == "U5", "source"] == "representative").all()
        assert not demand.geometry.duplicated().any()
    lattice = demand_points(units, spacing_m=100.0)
    # 550 m square from x0-50: lattice x0-50 (on its edge), x0+50, ..., x0+450 -> 6 x 6
    assert (lattice["unit"] == "U1").sum() == 36
    # buildings: weight by area x floors; a unit without buildings keeps its lattice
    b = gpd.GeoDataFrame(
        {"floors": [1, 3, None]},
        geometry=[shapely.box(X0, Y0, X0 + 20, Y0 + 20), shapely.box(X0 + 100, Y0, X0 + 120,
                  Y0 + 20), shapely.box(X0 + 200, Y0, X0 + 240, Y0 + 20)],
        crs=CRS)
    by_building = demand_points(units, buildings=b)
    u1 = by_building[by_building["unit"] == "U1"].sort_values("population")
    assert (u1["source"] == "building").all()
    np.testing.assert_allclose(u1["population"], np.array([400, 800, 1200]) / 2400 * 1000)
    assert (by_building.loc[by_building["unit"] == "U2", "source"] == "grid").all()
    assert by_building.groupby("unit")["population"].sum().loc["U1"] == pytest.approx(1000)


def test_far_points_are_reported() -> None:
    units = pd.concat([units_frame(), gpd.GeoDataFrame(
        {"code": ["U9"], "name": [""], "unit_type": ["village"], "subdistrict": ["S9"],
         "population": [50.0], "children": [5.0]},
        geometry=[shapely.box(X0 + 5000, Y0, X0 + 5200, Y0 + 200)], crs=CRS)],
        ignore_index=True)
    demand = demand_points(units)
    fac = facilities_frame([(X0 + 500, Y0 + 500)], ["kindergarten"])
    access = walking_access(NETWORK, demand, fac)
    far = access.far_points
    assert set(far["unit"]) == {"U9"} and (far["snap_m"] > 200).all()
    assert len(far) == (demand["unit"] == "U9").sum()
    table = far_from_streets(demand, access.demand_snap.snap_m, max_snap_m=0.0)
    assert len(table) == len(demand)
    # far points are still counted (uncovered), not dropped
    assert access.distances["point"].nunique() == len(demand)


def test_service_areas_contain_reached_points_and_not_unreached() -> None:
    rng = np.random.default_rng(3)
    fac = shapely.points([(X0 + 420, Y0 + 530), (X0 + 960, Y0 + 80)])
    sources = snap_points(NETWORK, fac)
    nodes = node_distances(NETWORK, sources)
    # random points on the streets, their walking distance
    edge = rng.integers(0, NETWORK.n_edges, 3000)
    frac = rng.random(3000)
    on_street = shapely.line_interpolate_point(NETWORK.edge_geometry[edge], frac,
                                               normalized=True)
    targets = Snapped(edge, frac * NETWORK.edge_length[edge], np.zeros(3000),
                      np.arange(3000), shapely.get_x(on_street), shapely.get_y(on_street))
    dist = nearest_source(NETWORK, sources, targets).distance
    buffer_m = 25.0
    areas = service_areas(NETWORK, nodes, sources=sources, buffer_m=buffer_m, kind="k")
    assert list(areas.columns) == ["kind", "cutoff_m", "minutes", "geometry"]
    assert list(areas["minutes"]) == [5.0, 10.0, 15.0]
    assert areas.crs == NETWORK.crs
    for cutoff, polygon in zip(areas["cutoff_m"], areas.geometry, strict=True):
        inside = shapely.covers(polygon, on_street)
        assert inside[dist <= cutoff].all()
        # unreached: farther than the buffer from every reached street part
        reached = shapely.union_all(reached_lines(NETWORK, nodes, cutoff, sources=sources))
        clear = (dist > cutoff) & (shapely.distance(on_street, reached) > buffer_m + 0.01)
        assert clear.any()
        assert not inside[clear].any()
        # not a circle: some points within the crow-fly cutoff are not reached
        crow = np.min(shapely.distance(on_street[:, None], fac[None, :]), axis=1)
        assert ((crow < cutoff) & (dist > cutoff + 200)).any() or cutoff == 300
    # Nested to the buffers' polygonal arcs: whole blocks are rings, not unions of buffers.
    for small, large in zip(areas.geometry[:-1], areas.geometry[1:], strict=True):
        assert small.within(large.buffer(0.5))
        assert small.difference(large).area < 1e-4 * small.area
    plain = service_areas(NETWORK, nodes, sources=sources, buffer_m=buffer_m, blocks=False)
    assert plain.geometry.iloc[0].within(plain.geometry.iloc[1].buffer(1e-6))


def test_park_access_points() -> None:
    park = shapely.box(X0 + 330, Y0 + 330, X0 + 470, Y0 + 470)  # inside a block
    far_park = shapely.box(X0 + 5000, Y0, X0 + 5100, Y0 + 100)  # no street near
    access = snap_polygons_to_edges(NETWORK, np.array([park, far_park]))
    assert set(access.owner) == {0, 1}
    assert (access.snap_m[access.owner == 0] <= 30.0 + 1e-9).all()
    assert (access.owner == 1).sum() == 1  # only its closest approach
    # with entrances: only those
    gate = shapely.points([(X0 + 400, Y0 + 330)])
    with_gate = snap_polygons_to_edges(NETWORK, np.array([park, far_park]),
                                       entrances=[shapely.multipoints(gate), None])
    assert (with_gate.owner == 0).sum() == 1
    # a park beats the same park reduced to its centroid
    demand = snap_points(NETWORK, DEMAND.geometry.to_numpy())
    as_polygon = nearest_source(NETWORK, access.take(access.owner == 0), demand).distance
    centre = nearest_source(NETWORK, snap_points(NETWORK, [park.centroid]), demand).distance
    assert (as_polygon <= centre + 1e-9).all()


OSM_XML = """<?xml version="1.0" encoding="UTF-8"?>
<osm version="0.6" generator="test">
{nodes}
{ways}
</osm>
"""


def write_osm(path) -> None:
    nodes, ways = [], []
    ids = {}
    nid = 1
    for i in range(4):
        for j in range(4):
            ids[i, j] = nid
            nodes.append(f'<node id="{nid}" version="1" lat="{34.75 + i * 0.001:.7f}" '
                         f'lon="{113.65 + j * 0.001:.7f}"/>')
            nid += 1
    nodes += ['<node id="100" version="1" lat="34.7600000" lon="113.6600000"/>',
              '<node id="101" version="1" lat="34.7610000" lon="113.6600000"/>',
              '<node id="102" version="1" lat="34.7610000" lon="113.6610000"/>']

    def way(wid, refs, **tags) -> str:
        body = "".join(f'<nd ref="{r}"/>' for r in refs)
        body += "".join(f'<tag k="{k}" v="{v}"/>' for k, v in tags.items())
        return f'<way id="{wid}" version="1">{body}</way>'

    wid = 1
    for i in range(4):
        ways.append(way(wid, [ids[i, j] for j in range(4)], highway="residential", oneway="yes"))
        wid += 1
    for j in range(4):
        ways.append(way(wid, [ids[i, j] for i in range(4)],
                        highway="footway" if j == 1 else "tertiary"))
        wid += 1
    ways.append(way(50, [ids[0, 0], ids[3, 3]], highway="motorway"))
    ways.append(way(51, [ids[0, 3], ids[3, 0]], highway="residential", foot="no"))
    ways.append(way(52, [ids[0, 0], ids[3, 0]], highway="service", access="private"))
    ways.append(way(53, [100, 101, 102], highway="path"))  # a separate piece
    ways.append(way(54, [ids[1, 1], 999, ids[2, 2]], highway="residential"))  # missing node
    path.write_text(OSM_XML.format(nodes="\n".join(nodes), ways="\n".join(ways)))


def test_osm_xml_and_pbf_give_the_same_walk_network(tmp_path) -> None:
    xml = tmp_path / "streets.osm"
    write_osm(xml)
    pbf = tmp_path / "streets.osm.pbf"
    with osmium.SimpleWriter(str(pbf)) as writer:
        for obj in osmium.FileProcessor(str(xml)):
            writer.add(obj)
    assert pbf.read_bytes()[:20] != xml.read_bytes()[:20]
    graphs = [graph_from_osm_file(p) for p in (xml, pbf)]
    for g in graphs:
        highways = {h for *_, d in g.edges(data=True)
                    for h in np.atleast_1d(d["highway"]).tolist()}
        assert highways == {"residential", "footway", "tertiary", "path"}  # no motorway
        assert not any(d.get("access") == "private" for *_, d in g.edges(data=True))
        # oneway ignored for walking: every edge has its reverse
        assert all(g.has_edge(v, u) for u, v in g.edges())
    assert [len(g) for g in graphs] == [len(graphs[0])] * 2
    assert graphs[0].number_of_edges() == graphs[1].number_of_edges()
    edges = [sorted((u, v, round(d["length"], 3)) for u, v, d in g.edges(data=True))
             for g in graphs]
    assert edges[0] == edges[1]
    unsimplified = graph_from_osm_file(xml, simplify=False)
    assert 999 not in unsimplified and not unsimplified.has_edge(6, 11)  # never bridge a gap
    # the drive network keeps the motorway and drops the footway
    drive = graph_from_osm_file(pbf, network_type="drive", simplify=False)
    drive_highways = {h for *_, d in drive.edges(data=True)
                      for h in np.atleast_1d(d["highway"]).tolist()}
    assert "motorway" in drive_highways and "footway" not in drive_highways

    projected = project_graph(graphs[1], crs=CRS)
    kept, report = largest_component(projected)
    assert report.n_components == 2 and report.n_dropped == 1
    assert report.nodes_dropped == 2 and len(report.pieces) == 1
    # the dropped path: 0.001° of latitude + 0.001° of longitude at 34.76°N
    assert report.length_dropped_m == pytest.approx(111.2 + 91.4, abs=1.0)
    assert report.nodes_kept == len(kept)
    cache = save_graph(kept, tmp_path / "cache" / "walk.graphml")
    again = load_graph(cache)
    a, b = street_network(kept), street_network(again)
    assert a.n_nodes == b.n_nodes and a.n_edges == b.n_edges
    np.testing.assert_allclose(np.sort(a.edge_length), np.sort(b.edge_length))
    # each street once, both directions folded; the matrix is symmetric
    assert a.n_edges * 2 == kept.number_of_edges()
    assert (a.matrix != a.matrix.T).nnz == 0


def test_service_area_from_a_facility_mid_block() -> None:
    # one 1 km street; the facility stands 400 m from one end: neither end is within 300 m
    line = street_network_from_arrays(x=[X0, X0 + 1000], y=[Y0, Y0], edge_u=[0], edge_v=[1],
                                      crs=CRS)
    sources = snap_points(line, shapely.points([(X0 + 400, Y0 + 10)]))
    nodes = node_distances(line, sources)
    area = service_areas(line, nodes, sources=sources, cutoffs_m=(300.0,), buffer_m=5.0)
    polygon = area.geometry.iloc[0]
    reach = 300 - 10  # the walk onto the street counts
    along = np.array([400 - reach + 1, 400, 400 + reach - 1, 400 - reach - 6, 400 + reach + 6])
    inside = shapely.covers(polygon, shapely.points(X0 + along, np.full(5, Y0)))
    assert inside.tolist() == [True, True, True, False, False]
    assert polygon.bounds[2] - polygon.bounds[0] == pytest.approx(2 * reach + 10, abs=0.5)


def test_online_layer_imports() -> None:
    import cfplan.geo.osm_online as online

    assert callable(online.graph_from_place) and callable(online.features_from_place)
    assert online.graph_from_polygon.__module__ == "cfplan.geo.osm_online"


def test_demo_river_unit_is_farther_by_network_than_crow_flies() -> None:
    from cfplan.demo import BRIDGES_Y, DEMO_DIR, ORIGIN, RIVER_X
    from cfplan.layers.load import load_layers

    layers = load_layers(DEMO_DIR)
    network, report = walk_network_from_file(layers.streets, crs=layers.crs)
    assert report.nodes_kept == network.n_nodes
    x0, y0 = ORIGIN
    # the unit just east of the river, 1.5 km north of the nearest bridge
    east = shapely.Point(x0 + RIVER_X + 300, y0 + 4200)
    units = layers.units
    unit = units[units.contains(east)]
    assert len(unit) == 1
    demand = demand_points(unit)
    # a facility right across the river, on the west bank
    facility = shapely.points([(x0 + RIVER_X - 300, y0 + 4200)])
    walk = nearest_source(network, snap_points(network, facility),
                          snap_points(network, demand.geometry.to_numpy())).distance
    crow = shapely.distance(demand.geometry.to_numpy(), facility[0])
    assert np.isfinite(walk).all()
    assert (walk > crow + 1000).all() and np.median(walk / crow) > 3
    # every walk crosses a bridge: at least the north-south offsets to the nearest bridge
    y_demand = shapely.get_y(demand.geometry.to_numpy()) - y0
    via_bridge = np.min([np.abs(y_demand - yb) + abs(4200 - yb) for yb in BRIDGES_Y], axis=0)
    assert (walk >= via_bridge).all()
