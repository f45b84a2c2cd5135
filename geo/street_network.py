"""The array street network: flat node and edge arrays and a CSR matrix for shortest paths."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pyproj
import scipy.sparse as sp
import shapely
from scipy.sparse.csgraph import connected_components

if TYPE_CHECKING:
    import networkx as nx

__all__ = [
    "ComponentReport",
    "StreetNetwork",
    "keep_largest_component",
    "network_graph",
    "street_network",
    "street_network_from_arrays",
    "take_nodes",
]


@dataclass(frozen=True, eq=False)
class StreetNetwork:
    """A walking network as flat arrays, ready for snapping and shortest paths.

    Walking is undirected: one-way tags are ignored. All coordinates and lengths are in
    metres in the metric ``crs`` of the graph it was built from.

    Attributes
    ----------
    crs
        The metric CRS of ``x``, ``y`` and ``edge_geometry``.
    node_ids
        Original node ids (OSM ids for OSM graphs), shape ``(n,)``.
    x, y
        Node coordinates, shape ``(n,)``.
    edge_u, edge_v
        Node positions (0..n-1) of each undirected edge's ends, shape ``(m,)``; the geometry
        runs from ``edge_u`` to ``edge_v``.
    edge_length
        Walking length of each edge in metres, shape ``(m,)``.
    edge_geometry
        Shapely LineStrings, shape ``(m,)``.
    matrix
        Symmetric ``(n, n)`` CSR matrix of walking lengths (m): the shortest of parallel edges.
    edge_tags
        Optional attributes aligned with the edges (one row per edge, ``RangeIndex``): for
        OSM networks ``osmid`` (the way's id) and the walking tags (``highway``, ``name``,
        ``sidewalk`` …, categorical, missing where the way has no such tag).
    node_tags
        Optional attributes aligned with the nodes (``highway``, ``crossing`` …).
    """

    crs: pyproj.CRS
    node_ids: np.ndarray
    x: np.ndarray
    y: np.ndarray
    edge_u: np.ndarray
    edge_v: np.ndarray
    edge_length: np.ndarray
    edge_geometry: np.ndarray
    matrix: sp.csr_matrix
    edge_tags: pd.DataFrame | None = None
    node_tags: pd.DataFrame | None = None
    _cache: dict[Any, Any] = field(default_factory=dict, repr=False)

    @property
    def n_nodes(self) -> int:
        """Number of nodes."""
        return len(self.node_ids)

    @property
    def n_edges(self) -> int:
        """Number of undirected edges (parallel edges counted separately)."""
        return len(self.edge_length)

    @cached_property
    def edge_tree(self) -> shapely.STRtree:
        """Spatial index of ``edge_geometry`` (built on first use, then kept)."""
        return shapely.STRtree(self.edge_geometry)

    @cached_property
    def geometry_length(self) -> np.ndarray:
        """Planar length of each edge geometry in CRS units (m), shape ``(m,)``."""
        return shapely.length(self.edge_geometry)


def street_network_from_arrays(
    *,
    x: np.ndarray,
    y: np.ndarray,
    edge_u: np.ndarray,
    edge_v: np.ndarray,
    edge_length: np.ndarray | None = None,
    edge_geometry: np.ndarray | None = None,
    node_ids: np.ndarray | None = None,
    edge_tags: pd.DataFrame | None = None,
    node_tags: pd.DataFrame | None = None,
    crs: Any,
) -> StreetNetwork:
    """Build a :class:`StreetNetwork` from node coordinates and undirected edges.

    Parameters
    ----------
    x, y
        Node coordinates in the metric ``crs`` (m).
    edge_u, edge_v
        Node positions of each edge's ends (each undirected edge listed once).
    edge_length
        Edge lengths (m); the geometry lengths when omitted.
    edge_geometry
        Edge LineStrings from ``u`` to ``v``; straight segments when omitted.
    node_ids
        Node ids; ``0..n-1`` when omitted.
    edge_tags, node_tags
        Optional attribute tables aligned with the edges and the nodes (see
        :class:`StreetNetwork`); their index is reset.
    crs
        Metric CRS of the coordinates.

    Returns
    -------
    StreetNetwork
        The compact network (lengths in metres).
    """
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    u = np.asarray(edge_u, dtype=np.int64)
    v = np.asarray(edge_v, dtype=np.int64)
    n = len(x)
    if len(u) == 0:
        msg = "a street network needs at least one edge"
        raise ValueError(msg)
    if edge_geometry is None:
        coords = np.stack([np.column_stack([x[u], y[u]]), np.column_stack([x[v], y[v]])], axis=1)
        edge_geometry = shapely.linestrings(coords)
    edge_geometry = np.asarray(edge_geometry, dtype=object)
    if edge_length is None:
        edge_length = shapely.length(edge_geometry)
    length = np.asarray(edge_length, dtype=np.float64)
    if (length < 0).any() or not np.isfinite(length).all():
        msg = "edge lengths must be finite and non-negative"
        raise ValueError(msg)
    # symmetric CSR with the minimum over parallel edges; self-loops never shorten a path
    a = np.concatenate([u, v])
    b = np.concatenate([v, u])
    w = np.concatenate([length, length])
    ok = a != b
    a, b, w = a[ok], b[ok], w[ok]
    order = np.argsort(a * np.int64(n) + b, kind="stable")
    a, b, w = a[order], b[order], w[order]
    first = np.ones(len(a), dtype=bool)
    first[1:] = (a[1:] != a[:-1]) | (b[1:] != b[:-1])
    starts = np.flatnonzero(first)
    w = np.minimum.reduceat(w, starts) if len(w) else w
    a, b = a[starts], b[starts]
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(a, minlength=n), out=indptr[1:])
    index_dtype = np.int32 if max(n, len(a)) < np.iinfo(np.int32).max else np.int64
    matrix = sp.csr_matrix(
        (w, b.astype(index_dtype), indptr.astype(index_dtype)), shape=(n, n)
    )
    return StreetNetwork(
        crs=pyproj.CRS.from_user_input(crs),
        node_ids=np.arange(n) if node_ids is None else np.asarray(node_ids),
        x=x,
        y=y,
        edge_u=u,
        edge_v=v,
        edge_length=length,
        edge_geometry=edge_geometry,
        matrix=matrix,
        edge_tags=_aligned(edge_tags, len(u), "edge_tags"),
        node_tags=_aligned(node_tags, n, "node_tags"),
    )


def _aligned(frame: pd.DataFrame | None, n: int, name: str) -> pd.DataFrame | None:
    if frame is None:
        return None
    if len(frame) != n:
        msg = f"{name} has {len(frame)} rows for {n}"
        raise ValueError(msg)
    return frame.reset_index(drop=True)


EDGE_TAGS = ("highway", "name", "maxspeed", "lanes", "sidewalk", "sidewalk:both",
             "sidewalk:left", "sidewalk:right", "footway", "foot", "bridge", "tunnel", "layer",
             "covered", "junction", "oneway", "crossing", "lit", "surface")
NODE_TAGS = ("highway", "crossing", "crossing:island", "traffic_signals")


def _tag_value(value: object) -> object:
    """One tag value of an OSMnx attribute: merged ways' lists joined with ``;``."""
    if isinstance(value, list):
        return ";".join(dict.fromkeys(str(v) for v in value))
    return value


def _tag_frame(rows: list[dict[str, Any]], keys: tuple[str, ...]) -> pd.DataFrame:
    frame = pd.DataFrame({k: [_tag_value(r.get(k)) for r in rows] for k in keys})
    for k in keys:
        frame[k] = frame[k].astype(object).where(frame[k].notna(), None)
        frame[k] = frame[k].map(lambda v: v if v is None else str(v)).astype("category")
    return frame


def street_network(graph: nx.MultiDiGraph | nx.MultiGraph) -> StreetNetwork:
    """Compact a projected OSMnx graph into a :class:`StreetNetwork` for walking.

    The one conversion from a networkx graph (an online ``--place`` download, a GraphML
    cache, a user's own graph) to the arrays. Directions are dropped: an edge and its
    reverse twin (same ends, same length) become one undirected edge, while distinct
    parallel streets are kept for snapping. Edges without a geometry get the straight
    segment between their nodes. Lengths are measured on the projected geometry, not taken
    from OSMnx's spherical ``length``. Edge attributes named in :data:`EDGE_TAGS` (and
    ``osmid``) and node attributes in :data:`NODE_TAGS` become ``edge_tags``/``node_tags``
    (values of merged ways joined with ``;``).

    Parameters
    ----------
    graph
        Graph projected to a metric CRS (see :func:`cfplan.geo.graph.project_graph`).

    Returns
    -------
    StreetNetwork
        Arrays in the graph's CRS, lengths in metres.
    """
    crs = pyproj.CRS.from_user_input(graph.graph["crs"])
    if not crs.is_projected:
        msg = "project the graph to a metric CRS first (project_graph)"
        raise ValueError(msg)
    node_ids = np.fromiter(graph.nodes, dtype=np.int64, count=graph.number_of_nodes())
    x = np.array([graph.nodes[n]["x"] for n in node_ids], dtype=np.float64)
    y = np.array([graph.nodes[n]["y"] for n in node_ids], dtype=np.float64)
    position = {nid: i for i, nid in enumerate(node_ids.tolist())}
    us, vs, geoms, rows = [], [], [], []
    for uid, vid, data in graph.edges(data=True):
        us.append(position[uid])
        vs.append(position[vid])
        geoms.append(data.get("geometry"))
        rows.append(data)
    u = np.asarray(us, dtype=np.int64)
    v = np.asarray(vs, dtype=np.int64)
    geometry = np.empty(len(geoms), dtype=object)
    geometry[:] = geoms
    missing = pd.isna(geometry)
    if missing.any():
        coords = np.stack(
            [
                np.column_stack([x[u[missing]], y[u[missing]]]),
                np.column_stack([x[v[missing]], y[v[missing]]]),
            ],
            axis=1,
        )
        geometry[missing] = shapely.linestrings(coords)
    # Walk lengths in the metric CRS: OSMnx's ``length`` is great-circle on a sphere, which
    # at 35°N runs about 0.2 % short east-west; Gauss-Krüger lengths are within 10 ppm.
    length = shapely.length(geometry)
    # drop reverse twins: keep one of each (unordered ends, length to the millimetre)
    lo, hi = np.minimum(u, v), np.maximum(u, v)
    key = pd.DataFrame({"lo": lo, "hi": hi, "mm": np.round(length * 1000).astype(np.int64)})
    keep = ~key.duplicated().to_numpy()
    edge_tags = _tag_frame([r for r, k in zip(rows, keep, strict=True) if k], EDGE_TAGS)
    edge_tags.insert(0, "osmid", [_tag_value(r.get("osmid"))
                                  for r, k in zip(rows, keep, strict=True) if k])
    node_tags = _tag_frame([graph.nodes[n] for n in node_ids.tolist()], NODE_TAGS)
    return street_network_from_arrays(
        x=x,
        y=y,
        edge_u=u[keep],
        edge_v=v[keep],
        edge_length=length[keep],
        edge_geometry=geometry[keep],
        node_ids=node_ids,
        edge_tags=edge_tags,
        node_tags=node_tags,
        crs=crs,
    )


@dataclass(frozen=True)
class ComponentReport:
    """What :func:`keep_largest_component` kept and dropped.

    Attributes
    ----------
    n_components
        Connected components in the input network.
    nodes_kept, length_kept_m
        Nodes and undirected street length (m) of the largest component.
    nodes_dropped, length_dropped_m
        Nodes and undirected street length (m) in all the other components.
    pieces
        One row per dropped component, largest first: ``nodes``, ``edges`` (undirected),
        ``length_m`` and ``x``, ``y`` of one of its nodes (network CRS) to find it on a map.
    """

    n_components: int
    nodes_kept: int
    length_kept_m: float
    nodes_dropped: int
    length_dropped_m: float
    pieces: pd.DataFrame

    @property
    def n_dropped(self) -> int:
        """Number of components dropped."""
        return self.n_components - 1 if self.n_components else 0


def take_nodes(network: StreetNetwork, keep: np.ndarray) -> StreetNetwork:
    """Return the part of ``network`` on the nodes where ``keep`` is true.

    Edges with both ends kept stay, in order; nodes are renumbered in order.

    Returns
    -------
    StreetNetwork
        The sub-network, same CRS, lengths and tags.
    """
    keep = np.asarray(keep, dtype=bool)
    new = np.cumsum(keep) - 1
    edges = keep[network.edge_u] & keep[network.edge_v]
    return street_network_from_arrays(
        x=network.x[keep], y=network.y[keep],
        edge_u=new[network.edge_u[edges]], edge_v=new[network.edge_v[edges]],
        edge_length=network.edge_length[edges], edge_geometry=network.edge_geometry[edges],
        node_ids=network.node_ids[keep],
        edge_tags=None if network.edge_tags is None else network.edge_tags[edges],
        node_tags=None if network.node_tags is None else network.node_tags[keep],
        crs=network.crs)


def keep_largest_component(network: StreetNetwork) -> tuple[StreetNetwork, ComponentReport]:
    """Keep the largest connected component and report every piece that is dropped.

    Dropped pieces are often real problems (a gated estate, a footpath not joined to the
    street, a bridge missing from the data), so they are listed rather than silently lost.
    Components are those of the walking matrix (undirected); the largest has the most nodes.

    Returns
    -------
    tuple[StreetNetwork, ComponentReport]
        The largest component and the report; lengths in metres.
    """
    n, labels = connected_components(network.matrix, directed=False)
    sizes = np.bincount(labels, minlength=n)
    edges = np.bincount(labels[network.edge_u], minlength=n)
    length = np.bincount(labels[network.edge_u], weights=network.edge_length, minlength=n)
    order = np.lexsort((np.arange(n), -sizes))  # largest first, ties by first node
    first = np.full(n, -1, dtype=np.int64)
    first[labels[::-1]] = np.arange(len(labels))[::-1]
    big, rest = order[0], order[1:]
    pieces = pd.DataFrame({"nodes": sizes[rest], "edges": edges[rest],
                           "length_m": length[rest], "x": network.x[first[rest]],
                           "y": network.y[first[rest]]}).reset_index(drop=True)
    report = ComponentReport(
        n_components=int(n), nodes_kept=int(sizes[big]), length_kept_m=float(length[big]),
        nodes_dropped=int(sizes[rest].sum()), length_dropped_m=float(length[rest].sum()),
        pieces=pieces)
    if n == 1:
        return network, report
    return take_nodes(network, labels == big), report


def network_graph(network: StreetNetwork) -> nx.MultiDiGraph:
    """Build an OSMnx-style networkx graph from the arrays (for users who want networkx).

    Every undirected edge becomes two directed edges (the reverse with its geometry
    reversed), as OSMnx does for walking networks; edges carry ``osmid``, the tags,
    ``length`` (m, planar) and ``geometry``, nodes ``x``, ``y`` and their tags, and the graph
    its ``crs``, so ``osmnx.graph_to_gdfs`` and networkx algorithms work on it.

    Returns
    -------
    networkx.MultiDiGraph
        The graph in the network's metric CRS.
    """
    import networkx as nx

    graph = nx.MultiDiGraph(crs=network.crs)
    node_attrs = [{"x": x, "y": y} for x, y in zip(network.x.tolist(), network.y.tolist(),
                                                     strict=True)]
    if network.node_tags is not None:
        for key in network.node_tags.columns:
            values = network.node_tags[key].astype(object).to_numpy()
            for i in np.flatnonzero(pd.notna(values)).tolist():
                node_attrs[i][key] = values[i]
    graph.add_nodes_from(zip(network.node_ids.tolist(), node_attrs, strict=True))
    attrs: list[dict[str, Any]] = [{} for _ in range(network.n_edges)]
    if network.edge_tags is not None:
        for key in network.edge_tags.columns:
            values = network.edge_tags[key].astype(object).to_numpy()
            for i in np.flatnonzero(pd.notna(values)).tolist():
                attrs[i][key] = values[i]
    ids = network.node_ids
    reverse = shapely.reverse(network.edge_geometry)
    for i, (a, b) in enumerate(zip(ids[network.edge_u].tolist(), ids[network.edge_v].tolist(),
                                   strict=True)):
        data = {**attrs[i], "length": float(network.edge_length[i])}
        graph.add_edge(a, b, **data, geometry=network.edge_geometry[i])
        graph.add_edge(b, a, **data, geometry=reverse[i])
    return graph
