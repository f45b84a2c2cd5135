"""OSM files: read ways and features from OSM XML or PBF, filtered as OSMnx filters them."""

from __future__ import annotations

import re
import tempfile
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

import geopandas as gpd
import networkx as nx
import osmnx as ox

# The two private OSMnx APIs cfplan uses live here, and only here (osmnx is pinned below 2.2):
# the Overpass filter of each network type and the "no matching features" error.
from osmnx import _overpass
from osmnx._errors import InsufficientResponseError

from cfplan.geo.crs import WGS84

__all__ = [
    "WALK_NODE_TAGS",
    "WALK_WAY_TAGS",
    "InsufficientResponseError",
    "features_from_osm_file",
    "filter_clauses",
    "graph_from_osm_file",
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
    compiled = [(k, op, re.compile(v) if "~" in op else v)
                for k, op, v in filter_clauses(network_type, custom_filter=custom_filter)]

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
                ok = tag is not None and isinstance(value, re.Pattern) and \
                    value.search(tag) is not None
            else:  # "!~"
                ok = tag is None or (isinstance(value, re.Pattern) and value.search(tag) is None)
            if not ok:
                return False
        return True

    return keep


def filter_clauses(network_type: str = "walk", *, custom_filter: str | None = None
                   ) -> list[tuple[str, str, str]]:
    """Parse OSMnx's Overpass way filter for ``network_type`` (or ``custom_filter``) into clauses.

    Returns
    -------
    list[tuple[str, str, str]]
        ``(key, op, value)`` per clause, ``op`` one of ``""`` (key present), ``"="``,
        ``"!="``, ``"~"``, ``"!~"`` (regular expressions, Overpass semantics); all must hold.

    Raises
    ------
    ValueError
        If the filter string is not a sequence of such clauses.
    """
    text = custom_filter if custom_filter is not None else _overpass_filter(network_type)
    clauses = [(key, op or "", value) for key, op, value in _CLAUSE.findall(text)]
    if not clauses or _CLAUSE.sub("", text).strip():
        msg = f"cannot parse the Overpass way filter {text!r}"
        raise ValueError(msg)
    return clauses


def _overpass_filter(network_type: str) -> str:
    # OSMnx keeps its filter strings in a private helper; using it keeps our file filter and
    # its online filter identical across OSMnx releases.
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
        assert isinstance(way, osmium.osm.Way)
        yield way.id, [n.ref for n in way.nodes], {t.k: t.v for t in way.tags}


def _pbf_nodes(path: Path, wanted: set[int]) -> dict[int, _Node]:
    import osmium

    nodes: dict[int, _Node] = {}
    for node in osmium.FileProcessor(str(path), osmium.osm.NODE):
        assert isinstance(node, osmium.osm.Node)
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
    XML is read with the standard library, ``.pbf`` with pyosmium; both are
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
WALK_WAY_TAGS = ("highway", "name", "maxspeed", "lanes", "sidewalk", "sidewalk:both",
                 "sidewalk:left", "sidewalk:right", "footway", "foot", "bridge", "tunnel", "layer",
                 "covered", "junction", "oneway", "crossing", "lit", "surface")
WALK_NODE_TAGS = ("highway", "crossing", "crossing:island", "traffic_signals")


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



def features_from_osm_file(path: str | Path, *, tags: dict[str, bool | str | list[str]]
                           ) -> gpd.GeoDataFrame:
    """Read the features of ``path`` (OSM XML) that match ``tags``.

    Parameters
    ----------
    path
        An ``.osm`` XML file.
    tags
        OSMnx tag query, e.g. ``{"waterway": True, "natural": "water"}``.

    Returns
    -------
    geopandas.GeoDataFrame
        Matching features in WGS-84 with their OSM tags as columns, indexed by
        ``(element, id)``; empty when nothing matches.
    """
    try:
        gdf = ox.features_from_xml(Path(path), tags=tags)
    except InsufficientResponseError:
        return gpd.GeoDataFrame(geometry=[], crs=WGS84)
    return gdf.sort_index()
