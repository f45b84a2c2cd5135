"""OSMnx street graphs: cache, project, keep the largest component, and tabulate edges."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import geopandas as gpd
import networkx as nx
import numpy as np
import osmnx as ox
import pandas as pd
import pyproj
import shapely

from cfplan.geo.street_network import ComponentReport

__all__ = [
    "ComponentReport",
    "edges_frame",
    "largest_component",
    "load_graph",
    "project_graph",
    "save_graph",
    "street_lines",
]


def save_graph(graph: nx.MultiDiGraph, path: str | Path) -> Path:
    """Save a graph as OSMnx GraphML (a cache that :func:`load_graph` reads back).

    Returns
    -------
    pathlib.Path
        The file written.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    ox.save_graphml(graph, path)
    return path


def load_graph(path: str | Path) -> nx.MultiDiGraph:
    """Load a graph saved by :func:`save_graph`.

    Returns
    -------
    networkx.MultiDiGraph
        The graph, with OSMnx's attribute types (``length`` in metres) and its ``crs``.
    """
    return ox.load_graphml(Path(path))


def project_graph(graph: nx.MultiDiGraph, *, crs: Any) -> nx.MultiDiGraph:
    """Project a graph to a metric CRS (e.g. EPSG:4547 for Zhengzhou).

    Returns
    -------
    networkx.MultiDiGraph
        New graph with node ``x``/``y`` and edge geometries in ``crs``; edge ``length``
        stays in metres.
    """
    crs = pyproj.CRS.from_user_input(crs)
    if not crs.is_projected:
        msg = f"{crs.name} is not a projected (metric) CRS"
        raise ValueError(msg)
    return ox.project_graph(graph, to_crs=crs)


def _undirected_length(graph: nx.MultiDiGraph) -> tuple[int, float]:
    if graph.number_of_edges() == 0:
        return 0, 0.0
    undirected = ox.convert.to_undirected(graph)
    lengths = (d.get("length", 0.0) for *_, d in undirected.edges(data=True))
    return undirected.number_of_edges(), float(sum(lengths))


def largest_component(graph: nx.MultiDiGraph) -> tuple[nx.MultiDiGraph, ComponentReport]:
    """Keep the largest weakly connected component and report every piece that is dropped.

    Dropped pieces are often real problems (a gated estate, a footpath not joined to the
    street, a bridge missing from the data), so they are listed rather than silently lost.

    Returns
    -------
    tuple[networkx.MultiDiGraph, ComponentReport]
        The largest component (a copy) and the report; lengths in metres.
    """
    components = sorted(nx.weakly_connected_components(graph), key=len, reverse=True)
    if not components:
        empty = pd.DataFrame(columns=["nodes", "edges", "length_m", "x", "y"])
        return graph.copy(), ComponentReport(0, 0, 0.0, 0, 0.0, empty)
    kept = graph.subgraph(components[0]).copy()
    rows = []
    for nodes in components[1:]:
        edges, length = _undirected_length(graph.subgraph(nodes).copy())
        first = next(iter(nodes))
        rows.append(
            {
                "nodes": len(nodes),
                "edges": edges,
                "length_m": length,
                "x": graph.nodes[first].get("x"),
                "y": graph.nodes[first].get("y"),
            }
        )
    pieces = pd.DataFrame(rows, columns=["nodes", "edges", "length_m", "x", "y"])
    report = ComponentReport(
        n_components=len(components),
        nodes_kept=len(components[0]),
        length_kept_m=_undirected_length(kept)[1],
        nodes_dropped=int(pieces["nodes"].sum()),
        length_dropped_m=float(pieces["length_m"].sum()),
        pieces=pieces,
    )
    return kept, report


def edges_frame(graph: object) -> gpd.GeoDataFrame:
    """Return one row per street of an OSMnx graph, both directions collapsed.

    Returns
    -------
    geopandas.GeoDataFrame
        Edge attributes (``highway``, ``name``, ``maxspeed``, ``sidewalk``, ``length`` in
        metres …) and LineString geometry, in the graph's CRS, sorted by ``(u, v, key)``.
    """
    edges = ox.graph_to_gdfs(graph, nodes=False, fill_edge_geometry=True)
    idx = edges.index.to_frame(index=False)
    keep = (idx["u"] <= idx["v"]).to_numpy()
    return edges[keep].sort_index()


def street_lines(graph: nx.MultiDiGraph) -> gpd.GeoSeries:
    """Return the edge lines of a (projected or not) OSMnx graph, one per edge.

    Edges without a ``geometry`` attribute get the straight line between their nodes.

    Returns
    -------
    geopandas.GeoSeries
        Lines in the graph's CRS.
    """
    xy = {n: (d["x"], d["y"]) for n, d in graph.nodes(data=True)}
    lines = [data.get("geometry") or shapely.LineString([xy[u], xy[v]])
             for u, v, data in graph.edges(data=True)]
    return gpd.GeoSeries(np.asarray(lines, dtype=object), crs=graph.graph.get("crs"))
