"""Street networks: read OSM files, cache, project, clean and compact them for shortest paths."""

from __future__ import annotations

import re
import tempfile
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np
import osmnx as ox
import pandas as pd
import pyproj
import scipy.sparse as sp
import shapely

__all__ = [
    "ComponentReport",
    "StreetNetwork",
    "graph_from_osm_file",
    "largest_component",
    "load_graph",
    "project_graph",
    "save_graph",
    "street_network",
    "street_network_from_arrays",
    "walk_network_from_file",
    "way_filter",
]

# One Overpass filter clause: ["key"], ["key"="v"], ["key"!="v"], ["key"~"re"], ["key"!~"re"].
_CLAUSE = re.compile(r'\[\s*"([^"]+)"\s*(?:(!?~|!?=)\s*"([^"]*)"\s*)?\]')

Tags = dict[str, str]
_Way = tuple[int, list[int], Tags]
_Node = tuple[float, float, Tags]


def way_filter(network_type: str = "walk", *, custom_filter: str | None = None) -> Callable[
    [Tags], bool
]:
    """Return a predicate on way tags equal to OSMnx's Overpass filter for ``network_type``.

    OSMnx applies its network filters only when it queries Overpass; ``graph_from_xml`` keeps
    every way. This turns the same Overpass filter string (from OSMnx itself, so a "walk"
    network drops motorways, cycleways, ``foot=no``, ``access=private`` and areas exactly as
    ``ox.graph_from_place`` would) into a Python predicate with Overpass semantics: regular
    expressions match anywhere in the value and ``!~`` / ``!=`` also pass when the key is absent.

    Parameters
    ----------
    network_type
        One of OSMnx's network types ("walk", "drive", "bike", "all", ...).
    custom_filter
        An Overpass filter string such as ``'["highway"]["foot"!~"no"]'`` used instead.

    Returns
    -------
    Callable[[dict[str, str]], bool]
        ``True`` for the tags of a way the network keeps.
    """
    text = custom_filter if custom_filter is not None else _overpass_filter(network_type)
    clauses = [(key, op or "", value) for key, op, value in _CLAUSE.findall(text)]
    if not clauses or _CLAUSE.sub("", text).strip():
        msg = f"cannot parse the Overpass way filter {text!r}"
        raise ValueError(msg)
    compiled = [(k, op, re.compile(v) if "~" in op else v) for k, op, v in clauses]

    def keep(tags: Tags) -> bool:
        for key, op, value in compiled:
            tag = tags.get(key)
            if op == "":
                ok = tag is not None
            elif op == "=":
                ok = tag == value
            elif op == "!=":
                ok = tag != value
            elif op == "~":
                ok = tag is not None and value.search(tag) is not None  # type: ignore[union-attr]
            else:  # "!~"
                ok = tag is None or value.search(tag) is None  # type: ignore[union-attr]
            if not ok:
                return False
        return True

    return keep


def _overpass_filter(network_type: str) -> str:
    # OSMnx keeps its filter strings in a private helper; using it keeps our file filter and
    # its online filter identical across OSMnx releases.
    from osmnx import _overpass

    return _overpass._get_network_filter(network_type)


def _xml_ways(path: Path) -> Iterator[_Way]:
    for _, elem in ET.iterparse(path, events=("end",)):
        if elem.tag == "way":
            refs = [int(nd.get("ref")) for nd in elem.iter("nd")]
            tags = {t.get("k"): t.get("v") for t in elem.iter("tag")}
            yield int(elem.get("id")), refs, tags
        if elem.tag in {"node", "way", "relation"}:
            elem.clear()


def _xml_nodes(path: Path, wanted: set[int]) -> dict[int, _Node]:
    nodes: dict[int, _Node] = {}
    for _, elem in ET.iterparse(path, events=("end",)):
        if elem.tag == "node":
            nid = int(elem.get("id"))
            if nid in wanted:
                tags = {t.get("k"): t.get("v") for t in elem.iter("tag")}
                nodes[nid] = (float(elem.get("lon")), float(elem.get("lat")), tags)
        if elem.tag in {"node", "way", "relation"}:
            elem.clear()
    return nodes


def _pbf_ways(path: Path) -> Iterator[_Way]:
    import osmium

    for way in osmium.FileProcessor(str(path), osmium.osm.WAY):
        yield way.id, [n.ref for n in way.nodes], {t.k: t.v for t in way.tags}


def _pbf_nodes(path: Path, wanted: set[int]) -> dict[int, _Node]:
    import osmium

    nodes: dict[int, _Node] = {}
    for node in osmium.FileProcessor(str(path), osmium.osm.NODE):
        if node.id in wanted and node.location.valid():
            tags = {t.k: t.v for t in node.tags}
            nodes[node.id] = (node.location.lon, node.location.lat, tags)
    return nodes


def _split_at_missing(ways: Iterable[_Way], nodes: dict[int, _Node]) -> Iterator[_Way]:
    """Split ways where a referenced node is missing (clipped extracts); never bridge a gap."""
    next_id = -1
    for wid, refs, tags in ways:
        runs: list[list[int]] = [[]]
        for ref in refs:
            if ref in nodes:
                runs[-1].append(ref)
            elif runs[-1]:
                runs.append([])
        pieces = [run for run in runs if len(run) >= 2]
        for k, run in enumerate(pieces):
            if k == 0:
                yield wid, run, tags
            else:
                yield next_id, run, tags
                next_id -= 1


def _write_osm_xml(path: Path, nodes: dict[int, _Node], ways: list[_Way]) -> None:
    root = ET.Element("osm", version="0.6", generator="cfplan")
    for nid, (lon, lat, tags) in nodes.items():
        el = ET.SubElement(root, "node", id=str(nid), lat=repr(lat), lon=repr(lon))
        for k, v in tags.items():
            ET.SubElement(el, "tag", k=k, v=v)
    for wid, refs, tags in ways:
        el = ET.SubElement(root, "way", id=str(wid))
        for ref in refs:
            ET.SubElement(el, "nd", ref=str(ref))
        for k, v in tags.items():
            ET.SubElement(el, "tag", k=k, v=v)
    ET.ElementTree(root).write(path, encoding="utf-8", xml_declaration=True)


def graph_from_osm_file(
    path: str | Path,
    *,
    network_type: str = "walk",
    custom_filter: str | None = None,
    simplify: bool = True,
    retain_all: bool = True,
) -> nx.MultiDiGraph:
    """Build an OSMnx street graph from a local OSM XML (``.osm``, ``.osm.xml``) or PBF file.

    Ways are filtered exactly as OSMnx filters an Overpass query for ``network_type`` (see
    :func:`way_filter`); ``graph_from_xml`` alone would keep motorways and private roads.
    XML is read with the standard library, ``.pbf`` with pyosmium (the ``pbf`` extra); both are
    written to a temporary filtered OSM XML that :func:`osmnx.graph_from_xml` turns into the
    graph. Ways cut by a clipped extract are split at the missing nodes. For "walk" networks
    one-way streets get edges in both directions, as in OSMnx.

    Parameters
    ----------
    path
        OSM XML or PBF file.
    network_type
        OSMnx network type, "walk" by default.
    custom_filter
        Overpass way filter string used instead of the ``network_type`` filter.
    simplify
        Simplify the topology with OSMnx (edges between intersections only).
    retain_all
        Keep every connected piece (default) so that :func:`largest_component` can report
        what it drops; ``False`` keeps only the largest weakly connected component.

    Returns
    -------
    networkx.MultiDiGraph
        Unprojected OSMnx graph (EPSG:4326, node ``x``/``y`` in degrees, edge ``length``
        in metres).
    """
    path = Path(path)
    name = path.name.lower()
    if name.endswith(".pbf"):
        read_ways, read_nodes = _pbf_ways, _pbf_nodes
    elif name.endswith((".osm", ".xml")):
        read_ways, read_nodes = _xml_ways, _xml_nodes
    else:
        msg = f"{path}: expected an .osm, .osm.xml or .osm.pbf file"
        raise ValueError(msg)
    keep = way_filter(network_type, custom_filter=custom_filter)
    ways = [w for w in read_ways(path) if len(w[1]) >= 2 and keep(w[2])]
    if not ways:
        msg = f"{path}: no ways pass the {network_type!r} network filter"
        raise ValueError(msg)
    nodes = read_nodes(path, {ref for _, refs, _ in ways for ref in refs})
    ways = list(_split_at_missing(ways, nodes))
    used = {ref for _, refs, _ in ways for ref in refs}
    nodes = {nid: node for nid, node in nodes.items() if nid in used}
    bidirectional = network_type in ox.settings.bidirectional_network_types
    with tempfile.TemporaryDirectory() as tmp:
        xml_path = Path(tmp) / "filtered.osm"
        _write_osm_xml(xml_path, nodes, ways)
        with _walking_tags():
            return ox.graph_from_xml(
                xml_path, bidirectional=bidirectional, simplify=simplify, retain_all=retain_all
            )


# Tags that walking analyses read (sidewalks, crossings, signals) beyond OSMnx's defaults.
WALK_WAY_TAGS = ("sidewalk", "sidewalk:both", "sidewalk:left", "sidewalk:right", "foot",
                 "footway", "bridge", "tunnel", "layer", "lit", "surface", "maxspeed", "lanes")
WALK_NODE_TAGS = ("highway", "crossing", "crossing:island", "traffic_signals", "ref")


@contextmanager
def _walking_tags() -> Iterator[None]:
    """Keep the walking-relevant tags while OSMnx builds a graph, then restore its settings."""
    ways, nodes = list(ox.settings.useful_tags_way), list(ox.settings.useful_tags_node)
    ox.settings.useful_tags_way = list(dict.fromkeys([*ways, *WALK_WAY_TAGS]))
    ox.settings.useful_tags_node = list(dict.fromkeys([*nodes, *WALK_NODE_TAGS]))
    try:
        yield
    finally:
        ox.settings.useful_tags_way, ox.settings.useful_tags_node = ways, nodes


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


@dataclass(frozen=True)
class ComponentReport:
    """What :func:`largest_component` kept and dropped.

    Attributes
    ----------
    n_components
        Weakly connected components in the input graph.
    nodes_kept, length_kept_m
        Nodes and undirected street length (m) of the largest component.
    nodes_dropped, length_dropped_m
        Nodes and undirected street length (m) in all the other components.
    pieces
        One row per dropped component, largest first: ``nodes``, ``edges`` (undirected),
        ``length_m`` and ``x``, ``y`` of one of its nodes (graph CRS) to find it on a map.
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
