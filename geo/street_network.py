"""The array street network: flat node and edge arrays and a CSR matrix for shortest paths."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np
import pandas as pd
import pyproj
import scipy.sparse as sp
import shapely

from cfplan.geo.graph import ComponentReport, largest_component, project_graph
from cfplan.geo.osm_file import graph_from_osm_file

__all__ = [
    "StreetNetwork",
    "street_network",
    "street_network_from_arrays",
    "walk_network_from_file",
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
    order = np.lexsort((w, b, a))
    a, b, w = a[order], b[order], w[order]
    first = np.ones(len(a), dtype=bool)
    first[1:] = (a[1:] != a[:-1]) | (b[1:] != b[:-1])
    a, b, w = a[first], b[first], w[first]
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
    )


def street_network(graph: nx.MultiDiGraph | nx.MultiGraph) -> StreetNetwork:
    """Compact a projected OSMnx graph into a :class:`StreetNetwork` for walking.

    Directions are dropped: an edge and its reverse twin (same ends, same length) become one
    undirected edge, while distinct parallel streets are kept for snapping. Edges without a
    geometry get the straight segment between their nodes. Lengths are measured on the
    projected geometry, not taken from OSMnx's spherical ``length``.

    Parameters
    ----------
    G
        Graph projected to a metric CRS (see :func:`project_graph`), edge ``length`` in metres.

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
    us, vs, lengths, geoms = [], [], [], []
    for uid, vid, data in graph.edges(data=True):
        us.append(position[uid])
        vs.append(position[vid])
        lengths.append(float(data["length"]))
        geoms.append(data.get("geometry"))
    u = np.asarray(us, dtype=np.int64)
    v = np.asarray(vs, dtype=np.int64)
    length = np.asarray(lengths, dtype=np.float64)
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
    return street_network_from_arrays(
        x=x,
        y=y,
        edge_u=u[keep],
        edge_v=v[keep],
        edge_length=length[keep],
        edge_geometry=geometry[keep],
        node_ids=node_ids,
        crs=crs,
    )


def walk_network_from_file(
    path: str | Path, *, crs: Any, network_type: str = "walk"
) -> tuple[StreetNetwork, ComponentReport, nx.MultiDiGraph]:
    """Read an OSM file, project it, keep its largest component and compact it.

    The usual chain :func:`graph_from_osm_file` → :func:`project_graph` →
    :func:`largest_component` → :func:`street_network` in one call.

    Parameters
    ----------
    path
        OSM XML or PBF file.
    crs
        Metric CRS of the analysis (e.g. EPSG:4547).
    network_type
        OSMnx network type, "walk" by default.

    Returns
    -------
    tuple[StreetNetwork, ComponentReport, networkx.MultiDiGraph]
        The network (metres, in ``crs``), the report on dropped pieces and the projected
        largest-component graph (for maps and route checks).
    """
    graph = project_graph(graph_from_osm_file(path, network_type=network_type), crs=crs)
    kept, report = largest_component(graph)
    return street_network(kept), report, kept
