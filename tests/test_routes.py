"""Safe routes to school (#10): a hand-built network with exact sums, properties, the demo."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import Point

from cfplan.analysis.routes import UNIT_METRIC_COLUMNS, route_schools
from cfplan.analysis.routes_config import RouteRules, route_rules
from cfplan.geo.corners import LEFT, RIGHT, corner_graph
from cfplan.geo.street_network import street_network_from_arrays

CRS = "EPSG:4547"
X0, Y0 = 500_000.0, 3_800_000.0
ARTERIAL = {"highway": "primary", "name": "大道", "lanes": "4", "maxspeed": "60",
            "sidewalk": "both"}


def _network(*, loop: bool = True, signal: bool = False, west_sidewalk: str = "no"):
    """An arterial (x = 0, y -300..300) crossed by a street at y = 0 (x -200..200).

    With ``loop``, streets x = -200 and x = 200 (y 0..300) and y = 300 meet the arterial's
    north end, where the arterial ends: walking round it crosses no arterial.
    """
    nodes = {"S": (0, -300), "C": (0, 0), "N": (0, 300), "W": (-200, 0), "E": (200, 0),
             "NW": (-200, 300), "NE": (200, 300)}
    edges = [("S", "C", ARTERIAL), ("C", "N", ARTERIAL),
             ("W", "C", {"highway": "residential", "name": "西街", "lanes": "2",
                         "sidewalk": west_sidewalk}),
             ("C", "E", {"highway": "residential", "name": "东街", "lanes": "2",
                         "sidewalk": "both"})]
    if loop:
        side = {"highway": "residential", "lanes": "2", "sidewalk": "both"}
        edges += [("W", "NW", side), ("NW", "N", side), ("N", "NE", side), ("NE", "E", side)]
    names = list(nodes)
    pos = {n: i for i, n in enumerate(names)}
    keys = ["highway", "name", "lanes", "maxspeed", "sidewalk"]
    tags = pd.DataFrame([{k: t.get(k) for k in keys} for _, _, t in edges])
    node_tags = pd.DataFrame({"highway": [("traffic_signals" if signal and n == "C" else None)
                                          for n in names]})
    return street_network_from_arrays(
        x=np.array([X0 + nodes[n][0] for n in names], dtype=float),
        y=np.array([Y0 + nodes[n][1] for n in names], dtype=float),
        edge_u=np.array([pos[u] for u, _, _ in edges]),
        edge_v=np.array([pos[v] for _, v, _ in edges]),
        edge_tags=tags, node_tags=node_tags, crs=CRS)


def _schools():
    return gpd.GeoDataFrame({"fid": ["P1"], "name": ["一小"], "kind": ["primary_school"]},
                            geometry=[Point(X0 + 150, Y0 - 5)], crs=CRS)


def _home(children: float = 90.0):
    return gpd.GeoDataFrame({"unit": ["U1"], "children": [children]},
                            geometry=[Point(X0 - 150, Y0 - 5)], crs=CRS)


def _route(network, rules=None):
    rules = rules or RouteRules(level_share=(("primary_school", 1.0),))
    return route_schools(network, _schools(), _home(), rules=rules, unit_names={"U1": "一村"})


def test_corner_graph_sides_and_crossings():
    g = corner_graph(_network(loop=False))
    # 4 edges: 8 corners and 8 side arcs; C has 4 arms (4 crossing arcs); S, N, W, E are dead
    # ends, each with a second corner and a crossing of its street
    assert (g.n_corners, g.n_arcs, int(g.is_crossing.sum())) == (12, 16, 8)
    assert (g.arc_node[g.is_crossing][:4] == 1).all()  # the junction's crossings are at C
    w_c = 2  # edge W -> C: its two sides at W are joined only by crossing it there
    left, right = g.side_corners[w_c, LEFT, 0], g.side_corners[w_c, RIGHT, 0]
    assert left != right
    crossing = g.is_crossing & (g.arc_edge == w_c) & (g.arc_node == 3)
    assert sorted([g.arc_a[crossing][0], g.arc_b[crossing][0]]) == sorted([left, right])


def test_metrics_add_up_exactly_and_the_safe_route_goes_round():
    r = _route(_network())
    p = r.points.iloc[0]
    # shortest: 5 m onto the street, 150 m west street (no sidewalk), a 4-lane crossing of
    # the arterial (14 m, no signal, no island), 150 m east street, 5 m to the school
    assert p["length_m_shortest"] == pytest.approx(5 + 150 + 14 + 150 + 5)
    assert p["street_m_shortest"] == pytest.approx(300)
    assert p["no_sidewalk_m_shortest"] == pytest.approx(150)
    assert p["walkway_m_shortest"] == pytest.approx(150)
    assert p["walkway_share_shortest"] == pytest.approx(0.5)
    assert (p["unsignalised_crossings_shortest"], p["signalised_crossings_shortest"],
            p["long_crossings_shortest"]) == (1, 0, 1)
    assert p["minutes_shortest"] == pytest.approx(324 / 60)
    rules = r.rules
    assert p["risk_crossings_shortest"] == pytest.approx(rules.unsignalised_crossing_m / 100)
    assert p["risk_long_crossings_shortest"] == pytest.approx(rules.long_crossing_penalty_m / 100)
    assert p["risk_no_sidewalk_shortest"] == pytest.approx(150 * rules.no_sidewalk_factor / 100)
    assert p["risk_shortest"] == pytest.approx(p["risk_crossings_shortest"]
                                               + p["risk_long_crossings_shortest"]
                                               + p["risk_no_sidewalk_shortest"])
    # safe: round the arterial's north end (no junction there), then down its east side:
    # 50 m west, 300 m north, 200 m east, over 东街's north arm at N (7 m: 2 lanes), 300 m
    # south, over 东街 at C (7 m), 150 m east
    assert p["length_m_safe"] == pytest.approx(5 + 50 + 300 + 200 + 7 + 300 + 7 + 150 + 5)
    assert p["street_m_safe"] == pytest.approx(50 + 300 + 200 + 300 + 150)
    assert p["unsignalised_crossings_safe"] == 0
    assert p["no_sidewalk_m_safe"] == pytest.approx(50)
    row = r.units.iloc[0]
    assert list(r.units.columns) == list(UNIT_METRIC_COLUMNS)
    assert (row["unit_code"], row["unit_name"], row["school_code"]) == ("U1", "一村", "P1")
    assert row["safe_detour_ratio"] == pytest.approx(round(1024 / 324, 3))
    # the drawn lines run from home to school and are as long as their street metres
    lines = r.routes.set_index("route")
    assert lines.loc["shortest", "crossed_roads"] == "大道"
    assert lines.loc["safe", "crossed_roads"] == ""
    assert lines.loc["safe", "geometry"].length == pytest.approx(5 + 1000 + 5)
    start = lines.loc["shortest", "geometry"].coords[0]
    assert start == pytest.approx((X0 - 150, Y0 - 5))


def test_safe_route_takes_the_crossing_when_it_must_and_says_so():
    r = _route(_network(loop=False))
    p = r.points.iloc[0]
    assert p["length_m_safe"] == pytest.approx(p["length_m_shortest"])
    assert p["unsignalised_crossings_safe"] == 1
    assert r.units.iloc[0]["unsignalised_crossings_safe"] == 1
    school = r.schools.iloc[0]
    assert (school["unsignalised_crossings_shortest"], school["unsignalised_crossings_safe"]) \
        == (1, 1)
    crossing = r.hotspots[r.hotspots["kind"] == "crossing"].iloc[0]
    assert (crossing["road_name"], crossing["hazard"], bool(crossing["signalised"])) == (
        "大道", "unsignalised+long_no_island", False)
    assert crossing["children"] == pytest.approx(90)
    assert crossing["risk"] == pytest.approx(12.0)
    segment = r.hotspots[r.hotspots["kind"] == "segment"].iloc[0]
    assert (segment["road_name"], segment["hazard"]) == ("西街", "no_sidewalk")


def test_a_signal_makes_the_crossing_safe():
    r = _route(_network(signal=True, west_sidewalk="both"))
    p = r.points.iloc[0]
    assert (p["unsignalised_crossings_shortest"], p["signalised_crossings_shortest"]) == (0, 1)
    # the 4-lane crossing still has no island: 200 m of penalty is less than the detour
    assert p["length_m_safe"] == pytest.approx(p["length_m_shortest"])
    assert p["long_crossings_safe"] == 1
    assert r.schools.iloc[0]["unsignalised_crossings_shortest"] == 0


def test_rules_from_a_table():
    rules = route_rules({"unsignalised_crossing_m": 50, "default_lanes": {"primary": 8}})
    assert rules.unsignalised_crossing_m == 50.0
    assert rules.lanes_for("primary") == 8 and rules.lanes_for("secondary") == 4
    with pytest.raises(ValueError, match="unknown routes rules"):
        route_rules({"penalty": 1})
    with pytest.raises(ValueError, match="must be a number"):
        route_rules({"zone_radius_m": "far"})


@settings(max_examples=25, deadline=None)
@given(st.floats(0, 3000), st.floats(0, 500), st.floats(0, 10), st.booleans(), st.booleans(),
       st.sampled_from(["no", "both", "left"]))
def test_safe_is_never_shorter_and_equal_without_penalties(unsig, long, factor, loop, signal,
                                                           west):
    net = _network(loop=loop, signal=signal, west_sidewalk=west)
    share = (("primary_school", 1.0),)
    rules = RouteRules(unsignalised_crossing_m=unsig, long_crossing_penalty_m=long,
                       no_sidewalk_factor=factor, level_share=share)
    p = _route(net, rules).points.iloc[0]
    assert p["length_m_safe"] >= p["length_m_shortest"] - 1e-9
    zero = _route(net, rules.zero_penalties).points.iloc[0]
    assert zero["length_m_safe"] == pytest.approx(zero["length_m_shortest"], abs=1e-9)


# --------------------------------------------------------------------------- the demo


@pytest.fixture(scope="module")
def demo_routes():
    from cfplan import DEMO_DIR, load_layers, school_routes

    return school_routes(load_layers(DEMO_DIR))


def test_demo_u26_crosses_shifan_avenue_unsignalised_and_the_safe_route_does_not(demo_routes):
    lines = demo_routes.routes
    u26 = lines[(lines["unit_code"] == "U26") & (lines["school_code"] == "P05")]
    shortest = u26[u26["route"] == "shortest"].iloc[0]
    safe = u26[u26["route"] == "safe"].iloc[0]
    assert "示范大道" in shortest["crossed_roads"].split(";")
    assert shortest["unsignalised_crossings"] >= 1
    assert "示范大道" not in safe["crossed_roads"].split(";")
    assert safe["unsignalised_crossings"] == 0
    assert "示范大道" in safe["signalised_roads"]
    assert safe["length_m"] > shortest["length_m"]
    # U26 is in P05's 学区 (the demo's school_districts layer); its planned route R1 too
    pts = demo_routes.points
    assert set(pts.loc[pts["unit"] == "U26", "school_code"]) >= {"P05"}
    assert (pts.loc[pts["school_code"] == "P05", "catchment"] == "district").all()
    r1 = demo_routes.planned[demo_routes.planned["route_id"] == "R1"].set_index("route")
    assert r1.loc["planned", "unsignalised_crossings"] == 1
    assert r1.loc["safe", "unsignalised_crossings"] == 0


def test_demo_top_unsignalised_hotspot_is_on_shifan_avenue(demo_routes):
    hot = demo_routes.hotspots
    crossings = hot[hot["hazard"].str.contains("unsignalised")]
    top = crossings.iloc[0]
    assert top["road_name"] == "示范大道"
    assert "P05" in top["schools"].split(",")
    assert list(hot["rank"]) == list(range(1, len(hot) + 1))
    assert (np.diff(hot["score"].to_numpy()) <= 1e-9).all()


def test_demo_xinghe_road_has_no_sidewalk_metres(demo_routes):
    """星河路 east of the river is tagged sidewalk=no: the routes along it say so."""
    from cfplan.demo import ORIGIN, RIVER_X

    hot = demo_routes.hotspots
    bare = hot[(hot["kind"] == "segment") & hot["hazard"].str.contains("no_sidewalk")]
    assert len(bare) and set(bare["road_name"]) == {"星河路"}
    assert (bare.geometry.bounds["minx"] >= ORIGIN[0] + RIVER_X).all()
    lines = demo_routes.routes
    shortest = lines[(lines["route"] == "shortest") & (lines["no_sidewalk_m"] > 0)]
    river = ORIGIN[0] + RIVER_X
    assert len(shortest) and (shortest.geometry.bounds["maxx"] > river).all()
    assert demo_routes.schools["no_sidewalk_m"].max() > 0


# --------------------------------------------------------------------------- outputs


def test_run_writes_the_routes_folder(demo_run, demo_out, tmp_path):
    import json

    from cfplan.analysis.routes_output import HOTSPOT_COLUMNS, write_routes

    folder = demo_out / "routes"
    names = {p.name for p in folder.iterdir()}
    assert {"routes.geojson", "route_metrics.csv", "hotspots.geojson", "hotspots.csv",
            "planned_routes.csv", "planned_routes.geojson", "schools.csv"} <= names
    metrics = pd.read_csv(folder / "route_metrics.csv", encoding="utf-8-sig")
    assert list(metrics.columns) == list(UNIT_METRIC_COLUMNS)
    hot = pd.read_csv(folder / "hotspots.csv", encoding="utf-8-sig")
    assert list(hot.columns) == [*HOTSPOT_COLUMNS, "lon", "lat"]
    assert hot.iloc[0]["road_name"] == "示范大道"
    fc = json.loads((folder / "hotspots.geojson").read_text(encoding="utf-8"))
    kinds = {f["properties"]["kind"]: f["geometry"]["type"] for f in fc["features"]}
    assert kinds == {"crossing": "Point", "segment": "LineString"}
    lines = json.loads((folder / "routes.geojson").read_text(encoding="utf-8"))
    lon, lat = lines["features"][0]["geometry"]["coordinates"][0]
    assert 113 < lon < 115 and 34 < lat < 35 and len(str(lon).split(".")[1]) <= 7
    assert {f["properties"]["route"] for f in lines["features"]} == {"shortest", "safe"}
    # the same routes write the same bytes
    again = write_routes(demo_run.routes, tmp_path)
    for path in again:
        assert path.read_bytes() == (folder / path.name).read_bytes(), path.name
    # the report names the top hotspot, the targets read the routes
    report = (demo_out / "report.md").read_text(encoding="utf-8")
    assert "## 上下学路径" in report and "| 1 | 过街 | 示范大道 |" in report
    assert demo_run.route_summary is not None
    assert set(demo_run.route_summary["scenario"]) == {"current", "planned"}


def test_routes_section_in_english_and_the_map_layers(demo_run):
    from cfplan.analysis.report import routes_section
    from cfplan.maps.plan_map import offline_html

    lines = routes_section(demo_run.routes, lang="en")
    assert lines[0] == "## Routes to school"
    assert any("| 1 | crossing | 示范大道 | arterial crossed with no signal" in x for x in lines)
    html = offline_html(demo_run.map(lang="en"))
    for label in ("Shortest routes to school (by risk)", "Safe routes to school",
                  "School gates", "Hotspot crossings (sized by children)", "School zones"):
        assert label in html, label


def test_cli_routes_alone(tmp_path):
    from cfplan import DEMO_DIR
    from cfplan.cli import build_parser, main

    assert main(["routes", "--layers", str(DEMO_DIR), "--out", str(tmp_path),
                 "--lang", "en"]) == 0
    assert (tmp_path / "routes" / "route_metrics.csv").is_file()
    assert not (tmp_path / "report.md").exists()
    args = build_parser().parse_args(["demo", "--no-routes"])
    assert args.no_routes


def test_manifest_routes_table_overrides_the_rules(tmp_path):
    import shutil

    from cfplan import DEMO_DIR, InputError, load_layers, school_routes

    folder = tmp_path / "demo"
    shutil.copytree(DEMO_DIR, folder)
    manifest = folder / "layers.toml"
    base = manifest.read_text(encoding="utf-8")
    manifest.write_text(base + "\n[routes]\nunsignalised_crossing_m = 0\nlong_crossing_penalty_m"
                        " = 0\nno_sidewalk_factor = 0\nfast_zone_factor = 0\n", encoding="utf-8")
    layers = load_layers(folder)
    assert layers.route_rules["unsignalised_crossing_m"] == 0
    r = school_routes(layers, kinds=("primary_school",))
    assert r.rules.unsignalised_crossing_m == 0
    pts = r.points
    assert np.allclose(pts["length_m_safe"], pts["length_m_shortest"])
    manifest.write_text(base + "\n[routes]\nsignal_penalty = 3\n", encoding="utf-8")
    with pytest.raises(InputError, match="signal_penalty"):
        school_routes(load_layers(folder))


def test_hostile_road_names_stay_inert(tmp_path):
    from cfplan.analysis.report import routes_section
    from cfplan.analysis.routes_output import write_routes

    net = _network(loop=False)
    evil = "=HYPERLINK(\"x\")<script>|**"
    net.edge_tags["name"] = net.edge_tags["name"].astype(object)
    net.edge_tags.loc[net.edge_tags["highway"] == "primary", "name"] = evil
    r = _route(net)
    assert r.hotspots.iloc[0]["road_name"] == evil
    text = "\n".join(routes_section(r, lang="zh"))
    assert "<script>" not in text and "&lt;script&gt;" in text and "\\|" in text
    write_routes(r, tmp_path)
    csv = (tmp_path / "routes" / "hotspots.csv").read_text(encoding="utf-8-sig")
    assert "'=HYPERLINK" in csv


def test_docx_has_the_routes_section(demo_out, demo_run):
    import docx

    doc = docx.Document(str(demo_out / "report.docx"))
    headings = [p.text for p in doc.paragraphs if p.style.name.startswith("Heading")]
    assert any(h.endswith("、上下学路径") for h in headings), headings
    table = next(t for t in doc.tables if t.rows[0].cells[0].text == "排名")
    assert table.rows[1].cells[2].text == "示范大道"
    assert demo_run.routes.points.geometry.geom_type.eq("Point").all()
