"""Benchmark school routes: cfplan's one search per school against OSMnx shortest paths per home.

Reproduce (from the repository root)::

    .venv/bin/python benchmarks/routes.py --nodes 10000
    .venv/bin/python benchmarks/routes.py --nodes 100000

The network is the jittered grid of ``benchmarks/access.py`` (60 m spacing, 8 % of edges
removed, 5 % diagonals) with tags: every 15th grid line is a 6-lane primary (60 km/h, signals
at every second junction along it), the rest residential streets, 10 % of them tagged
``sidewalk=no``. Schools (``--per-1000`` per 1,000 nodes, primary schools) and homes
(``--homes`` demand points, 60 children each) stand at random nodes, so that a path between
nodes is the same on both sides.

Timed, in one process, on the same network:

* cfplan: :func:`cfplan.analysis.routes.route_schools` with ``detail=False``: catchments
  (nearest school by walking, one multi-source Dijkstra), the corner graph, then for every
  school one Dijkstra for the shortest and one for the safe route over the corner graph,
  reaching all its homes, with every metric (length, crossings signalised and not, metres
  without a sidewalk, in the school zone, risk) per home and the per-unit and per-school
  tables. Set-up (building the arrays) apart;
* the OSMnx recipe on an OSMnx-style MultiDiGraph (both directions, ``length``): for each home
  ``osmnx.routing.shortest_path(G, home, school, weight="length")`` to the school cfplan
  assigned, then the route's length from the edges (``osmnx.routing.route_to_gdf`` is
  skipped: only the length is summed). Only the shortest route: OSMnx has no notion of a
  street's sides or crossings, so no safe route or crossing counts. It runs on a random
  sample of ``--peer-homes`` homes (300 by default; each takes about 0.1 s at 10,000 nodes)
  and its time per home is scaled to all homes: the ratio is of that scaled time;
* networkx's own one-search-per-school: ``networkx.single_source_dijkstra(G, school)`` with
  paths, once per school, read at its homes (all homes; shortest only): the same algorithm
  as cfplan's, in pure Python, on the centre-line graph (half the nodes of the corner
  graph), without any of the metrics.

Agreement: with crossings of zero width (``lane_width_m=0``) cfplan's shortest street metres
equal the OSMnx route lengths; the check runs on that configuration and reports the largest
difference. The last line reads ``ratio_vs_osmnx=R agree=yes|no``.
"""

from __future__ import annotations

import argparse
import itertools
import sys
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from access import CRS, peak_rss_mb, synthetic_network

from cfplan.analysis.routes import route_schools
from cfplan.analysis.routes_config import RouteRules
from cfplan.geo.street_network import StreetNetwork, street_network_from_arrays

ARTERIAL_EVERY = 15
SPACING = 60.0


def tagged_network(n_nodes: int, seed: int) -> tuple[StreetNetwork, dict[str, np.ndarray]]:
    """Return the access benchmark's grid with arterials, signals and missing sidewalks."""
    arrays = synthetic_network(n_nodes, seed)
    rng = np.random.default_rng(seed + 5)
    side = round(float(np.sqrt(n_nodes)))
    col, row = np.arange(side * side) % side, np.arange(side * side) // side
    u, v = arrays["u"], arrays["v"]
    on_col = (col[u] == col[v]) & (col[u] % ARTERIAL_EVERY == 0)
    on_row = (row[u] == row[v]) & (row[u] % ARTERIAL_EVERY == 0)
    arterial = on_col | on_row
    highway = np.where(arterial, "primary", "residential")
    sidewalk = np.where(arterial, "both", np.where(rng.random(len(u)) < 0.1, "no", None))
    tags = pd.DataFrame({"highway": highway, "lanes": np.where(arterial, "6", "2"),
                         "maxspeed": np.where(arterial, "60", "30"), "sidewalk": sidewalk,
                         "name": np.where(arterial, "大道", "")})
    junction = (col % ARTERIAL_EVERY == 0) & (row % ARTERIAL_EVERY == 0)
    signal = junction | (((col % ARTERIAL_EVERY == 0) | (row % ARTERIAL_EVERY == 0))
                         & ((col + row) % 2 == 0))
    node_tags = pd.DataFrame({"highway": np.where(signal, "traffic_signals", None)})
    network = street_network_from_arrays(x=arrays["x"], y=arrays["y"], edge_u=u, edge_v=v,
                                         edge_length=arrays["length"], edge_tags=tags,
                                         node_tags=node_tags, crs=CRS)
    return network, arrays


def homes_and_schools(network: StreetNetwork, homes: int, per_1000: float, seed: int
                      ) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Schools and homes at random nodes (distinct), homes in 1 km units."""
    rng = np.random.default_rng(seed + 7)
    n = network.n_nodes
    n_schools = max(1, round(n * per_1000 / 1000))
    nodes = rng.choice(n, n_schools + homes, replace=False)
    s_nodes, h_nodes = nodes[:n_schools], nodes[n_schools:]
    schools = gpd.GeoDataFrame(
        {"fid": [f"P{i}" for i in range(n_schools)], "name": "", "kind": "primary_school",
         "node": s_nodes},
        geometry=shapely.points(network.x[s_nodes], network.y[s_nodes]), crs=CRS)
    x, y = network.x[h_nodes], network.y[h_nodes]
    units = [f"U{int(a // 1000)}_{int(b // 1000)}" for a, b in zip(x, y, strict=True)]
    demand = gpd.GeoDataFrame({"unit": units, "children": 60.0, "node": h_nodes},
                              geometry=shapely.points(x, y), crs=CRS)
    return schools, demand


def osmnx_graph(network: StreetNetwork):  # noqa: ANN201
    """Return an OSMnx-style MultiDiGraph of the network (both directions, ``length``)."""
    import networkx as nx

    g = nx.MultiDiGraph(crs=CRS)
    g.add_nodes_from((i, {"x": a, "y": b}) for i, (a, b) in enumerate(
        zip(network.x.tolist(), network.y.tolist(), strict=True)))
    u, v = network.edge_u.tolist(), network.edge_v.tolist()
    w = network.edge_length.tolist()
    g.add_edges_from((a, b, {"length": c}) for a, b, c in zip(u, v, w, strict=True))
    g.add_edges_from((b, a, {"length": c}) for a, b, c in zip(u, v, w, strict=True))
    return g


def osmnx_lengths(g, origins: np.ndarray, targets: np.ndarray) -> np.ndarray:  # noqa: ANN001
    """Shortest route per home with OSMnx, and its length summed over its edges (m)."""
    import osmnx as ox

    out = np.empty(len(origins))
    for i, (a, b) in enumerate(zip(origins.tolist(), targets.tolist(), strict=True)):
        path = ox.routing.shortest_path(g, a, b, weight="length")
        out[i] = sum(min(d["length"] for d in g[p][q].values())
                     for p, q in itertools.pairwise(path)) if path else np.nan
    return out


def networkx_per_school(g, schools: gpd.GeoDataFrame, rows: pd.DataFrame,  # noqa: ANN001
                        demand: gpd.GeoDataFrame) -> np.ndarray:
    """One ``networkx.single_source_dijkstra`` per school, paths to all its homes (m)."""
    import networkx as nx

    out = np.full(len(rows), np.nan)
    home = demand["node"].to_numpy()[rows["point"].to_numpy()]
    node_of = dict(zip(schools["fid"], schools["node"], strict=True))
    codes = rows["school_code"].to_numpy()
    for code in dict.fromkeys(codes):
        mine = np.flatnonzero(codes == code)
        dist, _paths = nx.single_source_dijkstra(g, node_of[code], weight="length")
        out[mine] = [dist.get(h, np.nan) for h in home[mine].tolist()]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--nodes", type=int, default=10_000)
    parser.add_argument("--homes", type=int, default=2_000)
    parser.add_argument("--per-1000", type=float, default=0.5, help="schools per 1,000 nodes")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--peer-homes", type=int, default=300,
                        help="homes routed by OSMnx (a random sample; its time per home is "
                             "scaled to all homes)")
    args = parser.parse_args()
    print(f"routes benchmark: {args.nodes:,} nodes, {args.homes:,} homes, "
          f"{args.per_1000} schools per 1,000 nodes (seed {args.seed})", flush=True)
    start = time.perf_counter()
    network, _ = tagged_network(args.nodes, args.seed)
    schools, demand = homes_and_schools(network, args.homes, args.per_1000, args.seed)
    print(f"  set-up (arrays)                               {time.perf_counter() - start:9.3f}"
          f" s   {network.n_nodes:,} nodes, {network.n_edges:,} edges, {len(schools)} schools",
          flush=True)
    share = (("primary_school", 1.0),)
    best = np.inf
    for _ in range(args.repeat):
        start = time.perf_counter()
        result = route_schools(network, schools, demand, rules=RouteRules(level_share=share),
                               detail=False)
        best = min(best, time.perf_counter() - start)
    cf_time = best
    pts = result.points
    print(f"  cfplan: catchments + shortest + safe + metrics {cf_time:9.3f} s   "
          f"peak RSS {peak_rss_mb():8.0f} MB   {len(pts):,} homes routed", flush=True)
    unsafe = (pts["unsignalised_crossings_shortest"] > 0).mean()
    avoided = ((pts["unsignalised_crossings_shortest"] > 0)
               & (pts["unsignalised_crossings_safe"] == 0)).mean()
    print(f"    homes whose shortest route crosses an arterial unsignalised: {unsafe:.1%}; "
          f"safe route avoids it for {avoided:.1%}")
    flat = route_schools(network, schools, demand,
                         rules=RouteRules(level_share=share, lane_width_m=0.0), detail=False)
    start = time.perf_counter()
    g = osmnx_graph(network)
    print(f"  set-up (networkx graph)                       {time.perf_counter() - start:9.3f} s",
          flush=True)
    node_of_school = dict(zip(schools["fid"], schools["node"], strict=True))
    sample = np.sort(np.random.default_rng(args.seed + 9).choice(
        len(flat.points), min(args.peer_homes, len(flat.points)), replace=False))
    rows = flat.points.iloc[sample]
    origins = demand["node"].to_numpy()[rows["point"].to_numpy()]
    targets = np.array([node_of_school[c] for c in rows["school_code"]])
    start = time.perf_counter()
    lengths = osmnx_lengths(g, origins, targets)
    sample_time = time.perf_counter() - start
    ox_time = sample_time / len(rows) * len(flat.points)
    print(f"  osmnx shortest_path, {len(rows):,} homes (shortest only) {sample_time:9.3f} s   "
          f"peak RSS {peak_rss_mb():8.0f} MB", flush=True)
    print(f"    {sample_time / len(rows) * 1000:.1f} ms per home: {ox_time:.1f} s for all "
          f"{len(flat.points):,} homes (scaled)")
    start = time.perf_counter()
    per_school = networkx_per_school(g, schools, flat.points, demand)
    nx_time = time.perf_counter() - start
    print(f"  networkx single_source_dijkstra per school    {nx_time:9.3f} s   "
          f"(paths to all {len(flat.points):,} homes, shortest only)", flush=True)
    diff_nx = np.abs(flat.points["street_m_shortest"].to_numpy() - per_school)
    print(f"  ratio_vs_networkx_per_school={nx_time / cf_time:.1f} "
          f"(max |diff| {np.nanmax(diff_nx):.2e} m)")
    diff = np.abs(rows["street_m_shortest"].to_numpy() - lengths)
    ok = bool(np.nanmax(diff) < 1e-6) if len(diff) else True
    print(f"  max |cfplan - osmnx| route length: {np.nanmax(diff) if len(diff) else 0:.2e} m")
    print(f"ratio_vs_osmnx={ox_time / cf_time:.1f} agree={'yes' if ok else 'no'}")


if __name__ == "__main__":
    main()
