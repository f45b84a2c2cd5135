"""Multi-source walking distances against networkx on random small graphs."""

from __future__ import annotations

import itertools
import math

import networkx as nx
import numpy as np
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from cfplan.geo.paths import nearest_by_kind, nearest_source, node_distances
from cfplan.geo.snap import Snapped, snap_points
from cfplan.geo.street_network import street_network_from_arrays

lengths = st.one_of(st.just(0.0), st.floats(0.5, 100.0))


@st.composite
def problems(draw: st.DrawFn) -> dict:
    n = draw(st.integers(2, 10))
    edges = draw(
        st.lists(
            st.tuples(st.integers(0, n - 1), st.integers(0, n - 1), lengths),
            min_size=1,
            max_size=25,
        )
    )

    def points(min_size: int) -> list[tuple[int, float, float, int]]:
        return draw(
            st.lists(
                st.tuples(
                    st.integers(0, len(edges) - 1),
                    st.floats(0.0, 1.0),
                    st.one_of(st.just(0.0), st.floats(0.0, 30.0)),
                    st.integers(0, 3),
                ),
                min_size=min_size,
                max_size=12,
            )
        )

    return {"n": n, "edges": edges, "sources": points(1), "targets": points(1),
            "limit": draw(st.one_of(st.just(math.inf), st.floats(0.0, 150.0)))}


def build(problem: dict):
    n = problem["n"]
    rng = np.random.default_rng(0)
    xy = rng.uniform(0, 100, (n, 2))
    u = np.array([e[0] for e in problem["edges"]])
    v = np.array([e[1] for e in problem["edges"]])
    length = np.array([e[2] for e in problem["edges"]])
    network = street_network_from_arrays(
        x=xy[:, 0], y=xy[:, 1], edge_u=u, edge_v=v, edge_length=length, crs=4547
    )

    def snapped(rows: list) -> Snapped:
        edge = np.array([r[0] for r in rows])
        along = np.array([r[1] for r in rows]) * length[edge]
        snap = np.array([r[2] for r in rows])
        owner = np.array([r[3] for r in rows])
        zeros = np.zeros(len(rows))
        return Snapped(edge, along, snap, owner, zeros, zeros)

    return network, snapped(problem["sources"]), snapped(problem["targets"])


def reference(network, sources: Snapped, targets: Snapped) -> dict[int, np.ndarray]:
    """Per owner, the distance to every target in a graph with every point as a node."""
    g = nx.DiGraph()
    g.add_nodes_from(range(network.n_nodes))
    on_edge: dict[int, list[tuple[float, object]]] = {}
    for k in range(len(sources)):
        on_edge.setdefault(int(sources.edge[k]), []).append((sources.along_m[k], ("s", k)))
    for k in range(len(targets)):
        on_edge.setdefault(int(targets.edge[k]), []).append((targets.along_m[k], ("t", k)))
    for e in range(network.n_edges):
        chain = [(0.0, int(network.edge_u[e]))]
        chain += sorted(on_edge.get(e, []), key=lambda p: p[0])
        chain += [(float(network.edge_length[e]), int(network.edge_v[e]))]
        chain = [(a, ("e", e, i) if isinstance(node, tuple) else node, node)
                 for i, (a, node) in enumerate(chain)]
        for (a0, n0, _), (a1, n1, _) in itertools.pairwise(chain):
            w = a1 - a0
            if n0 == n1:
                continue
            if not g.has_edge(n0, n1) or g[n0][n1]["w"] > w:
                g.add_edge(n0, n1, w=w)
                g.add_edge(n1, n0, w=w)
        for _, name, node in chain:
            if isinstance(node, tuple):
                g.add_edge(node, name, w=0.0)  # point -> its place on the edge, one way
                if node[0] == "t":
                    g.add_edge(name, node, w=0.0)
    result = {}
    for owner in np.unique(sources.owner):
        g.add_node("S")
        for k in np.flatnonzero(sources.owner == owner):
            g.add_edge("S", ("s", int(k)), w=float(sources.snap_m[k]))
        dist = nx.single_source_dijkstra_path_length(g, "S", weight="w")
        g.remove_node("S")
        result[int(owner)] = np.array(
            [dist.get(("t", k), math.inf) + targets.snap_m[k] for k in range(len(targets))]
        )
    return result


@settings(max_examples=150, deadline=None)
@given(problems())
def test_nearest_source_matches_networkx(problem: dict) -> None:
    network, sources, targets = build(problem)
    limit = problem["limit"]
    got = nearest_source(network, sources, targets, limit_m=limit)
    per_owner = reference(network, sources, targets)
    expected = np.min(np.vstack(list(per_owner.values())), axis=0)
    expected = np.where(expected <= limit, expected, np.inf)
    assert np.array_equal(np.isinf(got.distance), np.isinf(expected))
    finite = np.isfinite(expected)
    np.testing.assert_allclose(got.distance[finite], expected[finite], atol=1e-6, rtol=0)
    # the reported facility really is at that distance
    for k in np.flatnonzero(finite):
        assert got.owner[k] >= 0
        assert abs(per_owner[int(got.owner[k])][k] - expected[k]) < 1e-6
    assert (got.owner[~finite] == -1).all()


@settings(max_examples=50, deadline=None)
@given(problems())
def test_node_distances_match_networkx(problem: dict) -> None:
    network, sources, _ = build(problem)
    got = node_distances(network, sources)
    # nodes are targets on an incident edge at along 0 (u) with no snap
    g = nx.MultiGraph()
    g.add_nodes_from(range(network.n_nodes))
    for u, v, w in zip(network.edge_u, network.edge_v, network.edge_length, strict=True):
        g.add_edge(int(u), int(v), w=float(w))
    expected = np.full(network.n_nodes, np.inf)
    for k in range(len(sources)):
        e = sources.edge[k]
        for node, w in ((network.edge_u[e], sources.along_m[k]),
                        (network.edge_v[e], network.edge_length[e] - sources.along_m[k])):
            d = nx.single_source_dijkstra_path_length(g, int(node), weight="w")
            for m, dm in d.items():
                expected[m] = min(expected[m], dm + w + sources.snap_m[k])
    np.testing.assert_allclose(got.distance, expected, atol=1e-6, rtol=0)


@settings(max_examples=50, deadline=None)
@given(problems(), problems())
def test_by_kind_equals_one_kind_at_a_time(p1: dict, p2: dict) -> None:
    network, s1, targets = build(p1)
    # second kind on the same network: reuse p2's points, clipped to p1's edges
    n_edges = network.n_edges
    s2 = Snapped(p2_edge := np.array([r[0] % n_edges for r in p2["sources"]]),
                 np.array([r[1] for r in p2["sources"]]) * network.edge_length[p2_edge],
                 np.array([r[2] for r in p2["sources"]]),
                 np.array([r[3] for r in p2["sources"]]),
                 np.zeros(len(p2["sources"])), np.zeros(len(p2["sources"])))
    limits = {"a": p1["limit"], "b": p2["limit"]}
    both = nearest_by_kind(network, {"a": s1, "b": s2}, targets, limit_m=limits)
    for j, (kind, src) in enumerate((("a", s1), ("b", s2))):
        one = nearest_source(network, src, targets, limit_m=limits[kind])
        np.testing.assert_array_equal(both.distance[:, j], one.distance)
        np.testing.assert_array_equal(both.owner[:, j], one.owner)


def test_snap_points_is_the_nearest_edge() -> None:
    rng = np.random.default_rng(1)
    xy = rng.uniform(0, 1000, (60, 2))
    u = rng.integers(0, 60, 150)
    v = rng.integers(0, 60, 150)
    keep = u != v
    network = street_network_from_arrays(
        x=xy[:, 0], y=xy[:, 1], edge_u=u[keep], edge_v=v[keep], crs=4547
    )
    points = shapely.points(rng.uniform(-100, 1100, (500, 2)))
    snapped = snap_points(network, points)
    all_d = shapely.distance(points[:, None], network.edge_geometry[None, :])
    np.testing.assert_allclose(snapped.snap_m, all_d.min(axis=1), atol=1e-9)
    on_edge = shapely.points(snapped.x, snapped.y)
    np.testing.assert_allclose(shapely.distance(points, on_edge), snapped.snap_m, atol=1e-6)
    # straight edges: along is the distance from u to the snapped point
    ux, uy = network.x[network.edge_u[snapped.edge]], network.y[network.edge_u[snapped.edge]]
    np.testing.assert_allclose(np.hypot(snapped.x - ux, snapped.y - uy), snapped.along_m,
                               atol=1e-6)
