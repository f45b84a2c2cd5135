"""The corner graph of a street network: both sides of every street, and the crossings between.

A street centre-line network says nothing about which side of a street a walker is on, so it
cannot tell walking along a road from crossing it. The corner graph can: every node is split
into *corners*, one per angular sector between consecutive streets meeting there; every edge
becomes two *side arcs* (its left and its right side, each joining a corner at one end to a
corner at the other); and the corners of a node are joined in a ring by *crossing arcs*, each
crossing one street arm at that node. A path along the graph is a walk with its crossings
explicit, so a crossing can be costed and counted. Sides and crossings have costs given per
arc; with side costs equal to the edge lengths and crossing costs zero, distances are the
centre-line distances.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
import shapely
from scipy.sparse.csgraph import dijkstra

from cfplan.geo.snap import Snapped
from cfplan.geo.street_network import StreetNetwork

__all__ = [
    "LEFT",
    "RIGHT",
    "CornerGraph",
    "CornerSearch",
    "CornerStructure",
    "accumulate",
    "arc_path",
    "corner_graph",
    "corner_structure",
    "point_sides",
    "search",
    "subtree_sums",
]

LEFT, RIGHT = 0, 1


@dataclass(frozen=True, eq=False)
class CornerGraph:
    """The corners, side arcs and crossing arcs of a street network (undirected arcs).

    Attributes
    ----------
    network
        The street network it was built from.
    corner_node
        Node of each corner, shape ``(2m + dead ends,)``.
    side_corners
        Corners that the sides of each edge join, shape ``(m, 2, 2)``: ``[edge, side, end]``
        with ``side`` :data:`LEFT`/:data:`RIGHT` (looking from ``u`` to ``v``) and ``end`` 0 at
        ``u``, 1 at ``v``.
    arc_a, arc_b
        Corner ends of each arc, shape ``(A,)``; side arcs first (edge ``e`` side ``s`` is arc
        ``2 e + s``), then crossing arcs.
    arc_edge
        The edge walked along (side arc) or crossed (crossing arc).
    arc_side
        :data:`LEFT`/:data:`RIGHT` for side arcs, ``-1`` for crossing arcs.
    arc_node
        Node where a crossing arc crosses, ``-1`` for side arcs.
    """

    network: StreetNetwork
    corner_node: np.ndarray
    side_corners: np.ndarray
    arc_a: np.ndarray
    arc_b: np.ndarray
    arc_edge: np.ndarray
    arc_side: np.ndarray
    arc_node: np.ndarray

    @property
    def n_corners(self) -> int:
        """Number of corners (twice the edges, plus one per dead end)."""
        return len(self.corner_node)

    @property
    def n_arcs(self) -> int:
        """Number of arcs (side arcs and crossing arcs)."""
        return len(self.arc_a)

    @property
    def is_crossing(self) -> np.ndarray:
        """Which arcs are crossing arcs (boolean, shape ``(A,)``)."""
        return self.arc_side < 0


def _end_directions(network: StreetNetwork) -> tuple[np.ndarray, np.ndarray]:
    """Angle (radians) of each edge leaving ``u`` and leaving ``v``, along its geometry."""
    coords, index = shapely.get_coordinates(network.edge_geometry, return_index=True)
    counts = np.bincount(index, minlength=network.n_edges)
    start = np.cumsum(counts) - counts
    end = start + counts - 1
    second = np.minimum(start + 1, end)
    penult = np.maximum(end - 1, start)
    d_u = coords[second] - coords[start]
    d_v = coords[penult] - coords[end]
    # a degenerate geometry: point at the other node
    flat = (d_u == 0).all(axis=1)
    other = np.column_stack([network.x[network.edge_v] - network.x[network.edge_u],
                             network.y[network.edge_v] - network.y[network.edge_u]])
    d_u[flat] = other[flat]
    d_v[(d_v == 0).all(axis=1)] = -other[(d_v == 0).all(axis=1)]
    return np.arctan2(d_u[:, 1], d_u[:, 0]), np.arctan2(d_v[:, 1], d_v[:, 0])


def corner_graph(network: StreetNetwork) -> CornerGraph:
    """Build the corner graph of ``network`` (see the module docstring).

    Half-edges (an edge seen from one of its ends) are sorted counter-clockwise around
    their node; the corner after half-edge ``h`` is the sector from ``h`` counter-clockwise
    to the next one. A node with one street has one corner (its two sides meet around the
    dead end); crossing arcs join consecutive corners, one per street arm at nodes with two
    or more arms.

    Returns
    -------
    CornerGraph
        ``2m`` corners and ``2m`` side arcs, plus the crossing arcs; the network's edge and
        node positions index them.
    """
    m = network.n_edges
    angle_u, angle_v = _end_directions(network)
    node = np.empty(2 * m, dtype=np.int64)
    node[0::2], node[1::2] = network.edge_u, network.edge_v
    angle = np.empty(2 * m)
    angle[0::2], angle[1::2] = angle_u, angle_v
    order = np.lexsort((np.arange(2 * m), angle, node))
    pos = np.empty(2 * m, dtype=np.int64)
    pos[order] = np.arange(2 * m)
    degree = np.bincount(node, minlength=network.n_nodes)
    first = np.cumsum(degree) - degree
    s, d = first[node], degree[node]
    prev = order[s + (pos - s - 1) % d]  # the half-edge clockwise before h
    hu, hv = np.arange(0, 2 * m, 2), np.arange(1, 2 * m, 2)
    side_corners = np.empty((m, 2, 2), dtype=np.int64)
    side_corners[:, LEFT, 0], side_corners[:, LEFT, 1] = pos[hu], pos[prev[hv]]
    side_corners[:, RIGHT, 0], side_corners[:, RIGHT, 1] = pos[prev[hu]], pos[hv]
    ring = d >= 2
    h_ring = np.flatnonzero(ring)
    # a dead end gets a second corner: its two sides meet only by crossing the street there
    h_end = np.flatnonzero(~ring)
    extra = 2 * m + np.arange(len(h_end))
    at_u = h_end % 2 == 0
    side_corners[h_end[at_u] // 2, RIGHT, 0] = extra[at_u]
    side_corners[h_end[~at_u] // 2, LEFT, 1] = extra[~at_u]
    h_cross = np.concatenate([h_ring, h_end])
    edges = np.arange(m)
    arc_a = np.concatenate([side_corners[:, :, 0].ravel(), pos[prev[h_ring]], pos[h_end]])
    arc_b = np.concatenate([side_corners[:, :, 1].ravel(), pos[h_ring], extra])
    arc_edge = np.concatenate([np.repeat(edges, 2), h_cross // 2])
    arc_side = np.concatenate([np.tile([LEFT, RIGHT], m), np.full(len(h_cross), -1)])
    arc_node = np.concatenate([np.full(2 * m, -1), node[h_cross]])
    corner_node = np.concatenate([node[order], node[h_end]])
    return CornerGraph(network, corner_node, side_corners, arc_a, arc_b, arc_edge, arc_side,
                       arc_node)


def point_sides(network: StreetNetwork, snapped: Snapped, points: np.ndarray) -> np.ndarray:
    """Return the side of its edge each snapped point lies on.

    Returns
    -------
    numpy.ndarray
        :data:`LEFT` or :data:`RIGHT` per point, looking from the edge's ``u`` to ``v``;
        a point on the centre line counts as left.
    """
    if len(snapped) == 0:
        return np.empty(0, dtype=np.int64)
    lines = network.edge_geometry[snapped.edge]
    length = shapely.length(lines)
    at = np.clip(snapped.along_m / np.maximum(network.edge_length[snapped.edge], 1e-9), 0, 1)
    step = np.where(length > 0, np.minimum(0.5, length / 2) / np.maximum(length, 1e-9), 0)
    a = shapely.get_coordinates(shapely.line_interpolate_point(lines, np.clip(at - step, 0, 1),
                                                               normalized=True))
    b = shapely.get_coordinates(shapely.line_interpolate_point(lines, np.clip(at + step, 0, 1),
                                                               normalized=True))
    p = shapely.get_coordinates(np.asarray(points, dtype=object))
    cross = ((b[:, 0] - a[:, 0]) * (p[:, 1] - snapped.y)
             - (b[:, 1] - a[:, 1]) * (p[:, 0] - snapped.x))
    return np.where(cross >= 0, LEFT, RIGHT).astype(np.int64)


@dataclass(frozen=True, eq=False)
class CornerStructure:
    """The directed entries of a corner graph's matrix, with virtual source nodes.

    Each undirected arc gives two entries; each virtual arc (from a virtual source node
    ``n_corners + j`` to a corner) one. Costs are given per search, per arc, so one structure
    serves every search.

    Attributes
    ----------
    graph
        The corner graph.
    n_virtual
        Virtual source nodes after the corners.
    row, col
        Entry ends, sorted by row then column.
    arc
        Arc of each entry: ``0..A-1`` the graph's arcs, ``A + k`` virtual arc ``k``.
    indptr
        CSR row pointer.
    keys
        ``row * n_nodes + col`` of each entry (sorted), to find the entry of a tree arc.
    """

    graph: CornerGraph
    n_virtual: int
    row: np.ndarray
    col: np.ndarray
    arc: np.ndarray
    indptr: np.ndarray
    keys: np.ndarray

    @property
    def n_nodes(self) -> int:
        """Corners plus virtual nodes."""
        return self.graph.n_corners + self.n_virtual

    def matrix(self, arc_cost: np.ndarray) -> sp.csr_matrix:
        """Return the CSR matrix with ``arc_cost`` (per arc, virtual arcs last) as weights."""
        n = self.n_nodes
        return sp.csr_matrix((np.asarray(arc_cost, dtype=np.float64)[self.arc], self.col,
                              self.indptr), shape=(n, n))


def corner_structure(graph: CornerGraph, *, virtual_from: np.ndarray,
                     virtual_to: np.ndarray) -> CornerStructure:
    """Return the matrix structure of ``graph`` plus virtual arcs ``virtual_from → virtual_to``.

    Parameters
    ----------
    graph
        The corner graph.
    virtual_from
        Virtual node number (0, 1, …) of each virtual arc: a source such as a school.
    virtual_to
        Corner each virtual arc leads to.

    Returns
    -------
    CornerStructure
        Entries sorted by row and column (parallel entries kept; a search takes the cheapest).
    """
    virtual_from = np.asarray(virtual_from, dtype=np.int64)
    virtual_to = np.asarray(virtual_to, dtype=np.int64)
    n_virtual = int(virtual_from.max()) + 1 if len(virtual_from) else 0
    a, b = graph.arc_a, graph.arc_b
    arcs = np.arange(graph.n_arcs)
    keep = a != b
    row = np.concatenate([a[keep], b[keep], graph.n_corners + virtual_from])
    col = np.concatenate([b[keep], a[keep], virtual_to])
    arc = np.concatenate([arcs[keep], arcs[keep], graph.n_arcs + np.arange(len(virtual_to))])
    order = np.lexsort((arc, col, row))
    row, col, arc = row[order], col[order], arc[order]
    n = graph.n_corners + n_virtual
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(row, minlength=n), out=indptr[1:])
    dtype = np.int32 if max(n, len(col)) < np.iinfo(np.int32).max else np.int64
    return CornerStructure(graph, n_virtual, row, col.astype(dtype), arc,
                           indptr.astype(dtype), row * np.int64(n) + col)


@dataclass(frozen=True, eq=False)
class CornerSearch:
    """One search from a virtual source over a corner structure.

    Attributes
    ----------
    cost
        Cost of reaching each node (corners, then virtual nodes); ``inf`` if unreached.
    pred
        Predecessor node, ``-1`` at the source and where unreached.
    arc
        The arc (as in :attr:`CornerStructure.arc`) by which each node is reached, ``-1``
        at the source and where unreached.
    """

    cost: np.ndarray
    pred: np.ndarray
    arc: np.ndarray


def search(structure: CornerStructure, arc_cost: np.ndarray, source: int, *,
           limit: float = np.inf) -> CornerSearch:
    """Run one Dijkstra (scipy) from virtual source ``source`` with costs ``arc_cost``.

    Virtual nodes have outgoing entries only, so no path passes through another source.

    Returns
    -------
    CornerSearch
        Costs, predecessors and the arcs of the shortest-path tree.
    """
    arc_cost = np.asarray(arc_cost, dtype=np.float64)
    matrix = structure.matrix(arc_cost)
    start = structure.graph.n_corners + int(source)
    cost, pred = dijkstra(matrix, directed=True, indices=start, return_predecessors=True,
                          limit=limit)
    pred = np.where(pred < 0, -1, pred).astype(np.int64)
    reached = np.flatnonzero(pred >= 0)
    arc = np.full(len(pred), -1, dtype=np.int64)
    if len(reached):
        # the cheapest entry pred -> node (parallel entries: take the cheapest of them)
        p, c = pred[reached], reached
        n = structure.n_nodes
        keys = structure.keys
        want = p * n + c
        lo = np.searchsorted(keys, want, side="left")
        hi = np.searchsorted(keys, want, side="right")
        best = lo.copy()
        multi = np.flatnonzero(hi - lo > 1)
        if len(multi):  # parallel entries: the cheapest of each span
            counts = hi[multi] - lo[multi]
            span = np.repeat(lo[multi] - np.cumsum(counts) + counts, counts) + np.arange(
                counts.sum())
            owner = np.repeat(np.arange(len(multi)), counts)
            order = np.lexsort((span, arc_cost[structure.arc[span]], owner))
            first = np.ones(len(order), dtype=bool)
            first[1:] = owner[order][1:] != owner[order][:-1]
            best[multi] = span[order][first]
        arc[reached] = structure.arc[best]
    return CornerSearch(cost, pred, arc)


def accumulate(result: CornerSearch, arc_values: np.ndarray | Callable[[np.ndarray], np.ndarray]
               ) -> np.ndarray:
    """Sum per-arc values along the tree path from the source to every node.

    Pointer jumping over the reached nodes only: about log2(path length) vectorised steps.

    Parameters
    ----------
    result
        A search.
    arc_values
        Values per arc, shape ``(A + virtual arcs, k)`` (or ``(…,)``), or a function that
        returns the values (shape ``(len(arcs), k)``) of an array of arcs.

    Returns
    -------
    numpy.ndarray
        Shape ``(n_nodes, k)`` (or ``(n_nodes,)``): the sums along each node's path (0 at the
        source and where unreached).
    """
    reached = np.flatnonzero(result.arc >= 0)
    if callable(arc_values):
        rows = np.asarray(arc_values(result.arc[reached]), dtype=np.float64)
    else:
        rows = np.asarray(arc_values, dtype=np.float64)[result.arc[reached]]
    flat = rows.ndim == 1
    if flat:
        rows = rows[:, None]
    # compact: reached nodes 1..r, the source and the unreached 0 (their sums stay 0)
    index = np.zeros(len(result.pred), dtype=np.int64)
    index[reached] = np.arange(1, len(reached) + 1)
    total = np.zeros((len(reached) + 1, rows.shape[1]))
    total[1:] = rows
    anc = np.zeros(len(reached) + 1, dtype=np.int64)
    anc[1:] = index[result.pred[reached]]
    live = np.flatnonzero(anc > 0)
    while len(live):
        nxt = anc[live]
        total[live] += total[nxt]
        anc[live] = anc[nxt]
        live = live[anc[live] > 0]
    out = np.zeros((len(result.pred), rows.shape[1]))
    out[reached] = total[1:]
    return out[:, 0] if flat else out


def subtree_sums(result: CornerSearch, weight: np.ndarray) -> np.ndarray:
    """Sum node weights over each node's subtree (the node and every node reached through it).

    The sum at a node is what travels along the arc into it: the weight of every path from
    the source that passes through the node.

    Returns
    -------
    numpy.ndarray
        Shape ``(n_nodes,)``.
    """
    flow = np.asarray(weight, dtype=np.float64).copy()
    depth = accumulate(result, lambda arcs: np.ones(len(arcs))).astype(np.int64)
    nodes = np.flatnonzero(result.pred >= 0)
    nodes = nodes[np.argsort(-depth[nodes], kind="stable")]
    bounds = np.flatnonzero(np.diff(depth[nodes])) + 1
    for group in np.split(nodes, bounds):
        np.add.at(flow, result.pred[group], flow[group])
    return flow


def arc_path(result: CornerSearch, node: int) -> list[int]:
    """Return the arcs from the source to ``node``, in walking order from the source."""
    arcs: list[int] = []
    pred = result.pred
    while node >= 0 and result.arc[node] >= 0:
        arcs.append(int(result.arc[node]))
        node = int(pred[node])
    return arcs[::-1]
