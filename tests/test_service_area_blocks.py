"""Service areas through whole blocks equal the plain union of buffers, on awkward networks too."""

from __future__ import annotations

import numpy as np
import pytest
import shapely

from cfplan.geo.faces import street_faces
from cfplan.geo.paths import node_distances
from cfplan.geo.service_area import service_areas
from cfplan.geo.snap import snap_points
from cfplan.geo.street_network import street_network_from_arrays

CRS = "EPSG:4547"
X0, Y0 = 480_000.0, 3_840_000.0


def awkward_grid(n: int, seed: int):
    """A jittered grid with gaps, plus a dead end, a bridge crossing a street without a node,
    a doubled edge, a diagonal and an island ring inside a block."""
    rng = np.random.default_rng(seed)
    i, j = np.meshgrid(np.arange(n), np.arange(n), indexing="ij")
    x = list(X0 + i.ravel() * 100.0 + rng.uniform(-15, 15, n * n))
    y = list(Y0 + j.ravel() * 100.0 + rng.uniform(-15, 15, n * n))
    idx = np.arange(n * n).reshape(n, n)
    u = list(np.concatenate([idx[:-1, :].ravel(), idx[:, :-1].ravel()]))
    v = list(np.concatenate([idx[1:, :].ravel(), idx[:, 1:].ravel()]))
    keep = rng.random(len(u)) > 0.12
    u = [a for a, k in zip(u, keep, strict=True) if k]
    v = [b for b, k in zip(v, keep, strict=True) if k]

    def node(px: float, py: float) -> int:
        x.append(px)
        y.append(py)
        return len(x) - 1

    c = idx[n // 2, n // 2]
    # a dead end into a block
    u.append(c)
    v.append(node(x[c] + 45.0, y[c] + 40.0))
    # a bridge over the street east of c, with no node where they cross
    a, b = node(x[c] + 50.0, y[c] - 50.0), node(x[c] + 150.0, y[c] - 50.0)
    u.append(a)
    v.append(b)
    # the same street twice, and a diagonal across a block
    u += [u[0], idx[1, 1]]
    v += [v[0], idx[2, 2]]
    # an island ring in a block (a roundabout left unconnected)
    d = idx[n // 3, n // 3]
    ring = [node(x[d] + 40 + dx, y[d] + 40 + dy) for dx, dy in ((0, 0), (20, 0), (20, 20), (0, 20))]
    u += ring
    v += ring[1:] + ring[:1]
    return street_network_from_arrays(x=np.array(x), y=np.array(y), edge_u=np.array(u),
                                      edge_v=np.array(v), crs=CRS)


@pytest.mark.parametrize("seed", range(4))
def test_blocks_give_the_plain_union(seed: int) -> None:
    network = awkward_grid(24, seed)
    rng = np.random.default_rng(100 + seed)
    lo, hi = np.array([X0, Y0]), np.array([X0 + 2300.0, Y0 + 2300.0])
    points = shapely.points(rng.uniform(lo, hi, (6 + 4 * seed, 2)))
    sources = snap_points(network, points)
    nodes = node_distances(network, sources, limit_m=900.0)
    fast = service_areas(network, nodes, sources=sources)
    plain = service_areas(network, nodes, sources=sources, blocks=False)
    faces = street_faces(network)
    assert 0 < faces.sound.sum() < len(faces.polygons)  # the awkward faces are set aside
    for a, b in zip(fast.geometry, plain.geometry, strict=True):
        assert a.is_valid
        assert shapely.symmetric_difference(a, b).area < 1e-4 * b.area
        assert abs(a.area - b.area) < 1e-4 * b.area
    assert list(fast["cutoff_m"]) == list(plain["cutoff_m"])


def test_faces_sides_and_soundness() -> None:
    network = awkward_grid(10, 0)
    faces = street_faces(network)
    assert faces is street_faces(network)  # kept on the network
    blocks = shapely.coverage_union_all(faces.polygons[faces.sound])
    assert blocks.is_valid
    # every sound face: its boundary edges have it on exactly one side
    for f in np.flatnonzero(faces.sound)[:20]:
        on = (faces.left == f) ^ (faces.right == f)
        ring = shapely.union_all(network.edge_geometry[on])
        assert ring.length == pytest.approx(faces.polygons[f].length, rel=1e-9)
    # the dead end lies inside a face: the same face on both sides, no boundary
    dead_end = network.n_edges - 8
    assert faces.left[dead_end] == faces.right[dead_end] >= 0
    assert not faces.boundary[dead_end]


def test_reached_dead_end_inside_a_whole_block_is_kept() -> None:
    """All blocks reached whole, one with a dead end to its middle: the ring alone would miss it."""
    n = 4
    i, j = np.meshgrid(np.arange(n), np.arange(n), indexing="ij")
    x = list(X0 + i.ravel() * 100.0)
    y = list(Y0 + j.ravel() * 100.0)
    idx = np.arange(n * n).reshape(n, n)
    u = list(np.concatenate([idx[:-1, :].ravel(), idx[:, :-1].ravel()]))
    v = list(np.concatenate([idx[1:, :].ravel(), idx[:, 1:].ravel()]))
    x.append(X0 + 150.0)
    y.append(Y0 + 150.0)
    u.append(idx[1, 1])
    v.append(len(x) - 1)
    network = street_network_from_arrays(x=np.array(x), y=np.array(y), edge_u=np.array(u),
                                         edge_v=np.array(v), crs=CRS)
    sources = snap_points(network, shapely.points([(X0 + 100.0, Y0 + 150.0)]))
    nodes = node_distances(network, sources, limit_m=900.0)
    fast = service_areas(network, nodes, sources=sources, cutoffs_m=(900.0,)).geometry.iloc[0]
    plain = service_areas(network, nodes, sources=sources, cutoffs_m=(900.0,),
                          blocks=False).geometry.iloc[0]
    assert shapely.symmetric_difference(fast, plain).area < 1.0
    assert fast.covers(shapely.Point(X0 + 150.0, Y0 + 150.0))
    assert not fast.covers(shapely.Point(X0 + 250.0, Y0 + 250.0))  # a plain block's middle
