"""Benchmark street loading: cfplan's array loader against OSMnx's graph_from_xml + project_graph.

Reproduce (from the repository root; the big sizes alone on the machine)::

    .venv/bin/pip install -e '.[test]'
    .venv/bin/python benchmarks/streets.py --nodes 100000
    .venv/bin/python benchmarks/streets.py --nodes 1000000
    .venv/bin/python benchmarks/streets.py   # 100k, then 1M

Each size writes a synthetic street grid (``benchmarks/synthetic_osm.py``: jittered 80 m grid,
6 % of block sides missing, a shape node on 35 % of them, rows and columns cut into tagged
ways of a few blocks, diagonal footways, signals and crossings on nodes; every way walkable)
with pyosmium's writer, as ``.osm.pbf`` and as the OSM XML that OSMnx reads, into
``--data`` (reused when present). Then, each in a fresh process (``spawn``) so that its peak
resident memory (``ru_maxrss``, imports included) is its own:

* cfplan: ``read_osm_ways`` + ``street_network_from_osm`` (the array network) and
  ``streets_from_network`` (largest component, ``lines``/``nodes`` tables), i.e. what
  ``load_streets`` does, on the PBF and on the XML;
* OSMnx: ``osmnx.graph_from_xml(xml, bidirectional=True, retain_all=False)`` +
  ``osmnx.project_graph`` to the same CRS (EPSG:4547).

Agreement: from 4 random nodes of OSMnx's graph, networkx's Dijkstra on OSMnx's graph
(planar edge lengths, as cfplan measures walks) against scipy's on cfplan's arrays, to every
OSMnx node, within 1 cm; and the total walkable length of the largest component within 0.1 %.
cfplan runs ``--repeat`` times (default 3, best kept; OSMnx once); wall and CPU times are
both printed, as the machine may be shared. The last line reads ``ratio_vs_osmnx=R
agree=yes|no`` where R is OSMnx's wall time over cfplan's (PBF) at the largest size run. ``--osmnx-max-nodes`` skips OSMnx above a size (then R is that
of the largest size OSMnx ran).
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import resource
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

CRS = "EPSG:4547"


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_cfplan(path: str, out: str | None) -> dict[str, float]:
    """Load ``path`` as ``load_streets`` does, timed; save the network to ``out`` if given."""
    t0 = time.perf_counter()
    from cfplan.geo.network_cache import save_network
    from cfplan.geo.osm_arrays import read_osm_ways
    from cfplan.geo.osm_network import street_network_from_osm
    from cfplan.layers.streets import streets_from_network

    t1, c1 = time.perf_counter(), time.process_time()
    ways = read_osm_ways(path)
    t2 = time.perf_counter()
    whole = street_network_from_osm(ways, crs=CRS)
    t3 = time.perf_counter()
    streets = streets_from_network(whole)
    t4, c4 = time.perf_counter(), time.process_time()
    result = {"imports": t1 - t0, "read": t2 - t1, "build": t3 - t2, "streets": t4 - t3,
              "total": t4 - t1, "cpu": c4 - c1, "peak_mb": _peak_mb(),
              "nodes": streets.network.n_nodes,
              "edges": streets.network.n_edges}
    if out:
        save_network(streets.network, out, key="bench")
    return result


def run_osmnx(xml: str, sources: int, seed: int) -> dict[str, object]:
    """``graph_from_xml`` + ``project_graph``, timed; then networkx distances for the check."""
    t0 = time.perf_counter()
    import networkx as nx
    import osmnx as ox

    t1, c1 = time.perf_counter(), time.process_time()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        graph = ox.graph_from_xml(xml, bidirectional=True, retain_all=False)
    t2 = time.perf_counter()
    graph = ox.project_graph(graph, to_crs=CRS)
    t3, c3 = time.perf_counter(), time.process_time()
    peak = _peak_mb()
    for u, v, data in graph.edges(data=True):
        geom = data.get("geometry")
        data["planar"] = geom.length if geom is not None else float(np.hypot(
            graph.nodes[u]["x"] - graph.nodes[v]["x"], graph.nodes[u]["y"] - graph.nodes[v]["y"]))
    undirected = ox.convert.to_undirected(graph)
    total = sum(d["planar"] for *_, d in undirected.edges(data=True))
    ids = np.fromiter(graph.nodes, dtype=np.int64)
    rng = np.random.default_rng(seed)
    picked = rng.choice(ids, size=sources, replace=False)
    dist = np.array([[d.get(int(n), np.inf) for n in ids] for d in (
        nx.single_source_dijkstra_path_length(graph, int(s), weight="planar") for s in picked)])
    return {"imports": t1 - t0, "read": t2 - t1, "project": t3 - t2, "total": t3 - t1,
            "cpu": c3 - c1, "peak_mb": peak, "nodes": len(graph), "edges": undirected.number_of_edges(),
            "length": total, "ids": ids, "sources": picked, "dist": dist}


def _in_child(func: object, *args: object) -> object:
    with mp.get_context("spawn").Pool(1) as pool:
        return pool.apply(func, args)


def agreement(network_file: Path, osmnx: dict[str, object]) -> tuple[bool, float, float]:
    """Compare cfplan's saved network with OSMnx's distances: (agree, max |diff| m, rel length)."""
    from scipy.sparse.csgraph import dijkstra

    from cfplan.geo.network_cache import load_network

    net = load_network(network_file, key="bench")
    order = np.argsort(net.node_ids)
    ids = osmnx["ids"]
    at = order[np.searchsorted(net.node_ids, ids, sorter=order)]
    if not (net.node_ids[at] == ids).all():
        return False, np.inf, np.inf
    src = order[np.searchsorted(net.node_ids, osmnx["sources"], sorter=order)]
    ours = dijkstra(net.matrix, indices=src)[:, at]
    diff = float(np.max(np.abs(ours - osmnx["dist"])))
    rel = abs(net.edge_length.sum() - osmnx["length"]) / osmnx["length"]
    return diff <= 0.01 and rel <= 1e-3, diff, rel


def prepare(n: int, seed: int, folder: Path) -> tuple[Path, Path, int, int]:
    """Write (or reuse) the synthetic PBF and XML of about ``n`` nodes."""
    from benchmarks.synthetic_osm import synthetic_osm, write_osm

    pbf, xml = folder / f"grid-{n}-{seed}.osm.pbf", folder / f"grid-{n}-{seed}.osm"
    meta = folder / f"grid-{n}-{seed}.txt"
    if not (pbf.is_file() and xml.is_file() and meta.is_file()):
        data = synthetic_osm(n, seed=seed, walkable_only=True)
        write_osm(data, pbf, xml)
        meta.write_text(f"{len(data.node_id)} {len(data.ways)}")
    nodes, ways = (int(v) for v in meta.read_text().split())
    return pbf, xml, nodes, ways


def bench(n: int, *, seed: int, folder: Path, run_peer: bool, repeat: int
          ) -> tuple[float | None, bool]:
    pbf, xml, n_nodes, n_ways = prepare(n, seed, folder)
    print(f"\n{n_nodes:,} nodes, {n_ways:,} ways: PBF {pbf.stat().st_size / 1e6:.1f} MB, "
          f"XML {xml.stat().st_size / 1e6:.0f} MB", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        saved = Path(tmp) / "net.npz"
        runs = [_in_child(run_cfplan, str(pbf), str(saved) if k == 0 else None)
                for k in range(repeat)]
        ours = min(runs, key=lambda r: r["total"])
        print(f"  cfplan PBF: {ours['total']:.2f} s, cpu {ours['cpu']:.2f} s (read "
              f"{ours['read']:.2f}, network {ours['build']:.2f}, largest component + tables "
              f"{ours['streets']:.2f}; imports {ours['imports']:.1f} s apart; best of "
              f"{repeat}), peak {max(r['peak_mb'] for r in runs) / 1024:.2f} GB; "
              f"{ours['nodes']:,} nodes, {ours['edges']:,} edges", flush=True)
        xml_run = min((_in_child(run_cfplan, str(xml), None) for _ in range(repeat)),
                      key=lambda r: r["total"])
        print(f"  cfplan XML: {xml_run['total']:.2f} s, cpu {xml_run['cpu']:.2f} s (read "
              f"{xml_run['read']:.2f}), peak {xml_run['peak_mb'] / 1024:.2f} GB", flush=True)
        if not run_peer:
            print("  osmnx: skipped (--osmnx-max-nodes)")
            return None, True
        theirs = _in_child(run_osmnx, str(xml), 4, seed)
        ratio = theirs["total"] / ours["total"]
        print(f"  osmnx: {theirs['total']:.1f} s, cpu {theirs['cpu']:.1f} s (graph_from_xml "
              f"{theirs['read']:.1f}, "
              f"project_graph {theirs['project']:.1f}), peak "
              f"{theirs['peak_mb'] / 1024:.2f} GB; {theirs['nodes']:,} nodes, "
              f"{theirs['edges']:,} edges", flush=True)
        agree, diff, rel = agreement(saved, theirs)
        print(f"  ratio {ratio:.1f}x (cpu {theirs['cpu'] / ours['cpu']:.1f}x); "
              f"max |distance diff| {diff:.2e} m from 4 nodes to every "
              f"node; total length rel. diff {rel:.1e}; agree={'yes' if agree else 'no'}")
    return ratio, agree


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, action="append",
                        help="network size (repeatable; default 100000 and 1000000)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--data", type=Path, default=Path(tempfile.gettempdir()) /
                        "cfplan-bench-streets", help="folder for the synthetic files")
    parser.add_argument("--osmnx-max-nodes", type=int, default=None,
                        help="skip OSMnx above this many nodes")
    parser.add_argument("--repeat", type=int, default=3,
                        help="cfplan runs per file, best kept (OSMnx runs once)")
    args = parser.parse_args()
    args.data.mkdir(parents=True, exist_ok=True)
    sizes = args.nodes or [100_000, 1_000_000]
    ratio, agree_all = None, True
    for n in sizes:
        peer = args.osmnx_max_nodes is None or n <= args.osmnx_max_nodes
        r, agree = bench(n, seed=args.seed, folder=args.data, run_peer=peer,
                         repeat=args.repeat)
        ratio = r if r is not None else ratio
        agree_all &= agree
    shown = f"{ratio:.1f}" if ratio is not None else "nan"
    print(f"ratio_vs_osmnx={shown} agree={'yes' if agree_all else 'no'}")


if __name__ == "__main__":
    main()
