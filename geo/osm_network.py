"""OSM ways to the array street network: project, split at gaps, simplify, keep the tags."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyproj
import shapely

from cfplan.geo.osm_arrays import OSMWays, read_osm_ways
from cfplan.geo.street_network import (
    ComponentReport,
    StreetNetwork,
    keep_largest_component,
    street_network_from_arrays,
)

__all__ = ["read_street_network", "street_network_from_osm", "walk_network_from_file"]


def _take(cat: pd.Categorical, rows: np.ndarray) -> pd.Categorical:
    return pd.Categorical.from_codes(cat.codes[rows], categories=cat.categories)


def street_network_from_osm(ways: OSMWays, *, crs: Any, simplify: bool = True) -> StreetNetwork:
    """Build the walking :class:`StreetNetwork` of OSM ways, with array code only.

    Node coordinates are projected to ``crs`` in one pyproj call. A way is split where a
    node it references is missing from the file (a clipped extract): the gap is never
    bridged, and pieces shorter than two nodes are dropped. Consecutive repeats of a node
    are dropped, as OSMnx drops them.

    With ``simplify`` (the default) the network keeps as nodes only the ends of every way
    piece, the nodes where streets meet (more or fewer than two segments, or a way that
    doubles back) and the nodes with walking tags (signals, crossings); the nodes in
    between become the vertices of the edge geometries. Shortest-path distances are those
    of the unsimplified network (each edge's length is its polyline's), and so those
    through OSMnx's simplified graph; a way's tags stay on each of its edges unmerged, so
    an edge never spans two ways. ``simplify=False`` keeps one edge per node-to-node
    segment.

    Parameters
    ----------
    ways
        Output of :func:`cfplan.geo.osm_arrays.read_osm_ways`.
    crs
        Metric CRS of the analysis.
    simplify
        Merge chains of untagged two-segment nodes into single edges.

    Returns
    -------
    StreetNetwork
        Every connected piece, lengths in metres (planar in ``crs``); ``edge_tags`` has
        ``osmid`` (way id) and the walking tags, ``node_tags`` the node tags.

    Raises
    ------
    ValueError
        If ``crs`` is not projected, or no way has two nodes present in the file.
    """
    crs = pyproj.CRS.from_user_input(crs)
    if not crs.is_projected:
        msg = f"{crs.name} is not a projected (metric) CRS"
        raise ValueError(msg)
    refs = ways.refs
    way = np.repeat(np.arange(len(ways.way_id)), np.diff(ways.offsets))
    pos = np.searchsorted(ways.node_id, refs)
    pos = np.minimum(pos, max(len(ways.node_id) - 1, 0))
    found = (ways.node_id[pos] == refs) if len(ways.node_id) else np.zeros(len(refs), bool)
    same_way = np.zeros(len(refs), dtype=bool)
    same_way[1:] = way[1:] == way[:-1]
    # consecutive repeats of a node (found, same way, same id) are dropped
    repeat = np.zeros(len(refs), dtype=bool)
    repeat[1:] = same_way[1:] & found[1:] & found[:-1] & (refs[1:] == refs[:-1])
    keep = ~repeat
    pos, found, way, same_way = pos[keep], found[keep], way[keep], same_way[keep]
    same_way[1:] &= way[1:] == way[:-1]
    # runs: stretches of present nodes within a way
    prev_found = np.zeros(len(pos), dtype=bool)
    prev_found[1:] = found[:-1]
    start = found & ~(same_way & prev_found)
    run = np.cumsum(start) - 1
    pos, run, way = pos[found], run[found], way[found]
    run_len = np.bincount(run, minlength=run.max() + 1 if len(run) else 0)
    long = run_len[run] >= 2
    pos, run, way = pos[long], run[long], way[long]
    if len(pos) == 0:
        msg = "no way has two nodes present in the file"
        raise ValueError(msg)
    n_entries = len(pos)
    first = np.ones(n_entries, dtype=bool)
    first[1:] = run[1:] != run[:-1]
    last = np.ones(n_entries, dtype=bool)
    last[:-1] = run[1:] != run[:-1]
    n_file = len(ways.node_id)
    if simplify:
        seg = ~last
        degree = (np.bincount(pos[:-1][seg[:-1]], minlength=n_file)
                  + np.bincount(pos[1:][seg[:-1]], minlength=n_file))
        tagged = np.zeros(n_file, dtype=bool)
        for cat in ways.node_tags.values():
            tagged |= cat.codes >= 0
        back = np.zeros(n_entries, dtype=bool)  # a way that doubles back on itself
        back[1:-1] = pos[:-2] == pos[2:]
        brk = first | last | (degree[pos] != 2) | tagged[pos] | back
    else:
        brk = np.ones(n_entries, dtype=bool)
    breaks = np.flatnonzero(brk)
    starts = breaks[~last[breaks]]
    ends = breaks[np.searchsorted(breaks, starts, side="right")]
    counts = ends - starts + 1
    offsets = np.zeros(len(starts) + 1, dtype=np.int64)
    np.cumsum(counts, out=offsets[1:])
    entry = np.repeat(starts - offsets[:-1], counts) + np.arange(offsets[-1])
    piece = np.repeat(np.arange(len(starts)), counts)
    # project every node used once
    used, inverse = np.unique(pos, return_inverse=True)
    transformer = pyproj.Transformer.from_crs("EPSG:4326", crs, always_xy=True)
    ux, uy = transformer.transform(ways.lon[used], ways.lat[used])
    ux, uy = np.asarray(ux, dtype=np.float64), np.asarray(uy, dtype=np.float64)
    coords = np.column_stack([ux[inverse[entry]], uy[inverse[entry]]])
    geometry = shapely.linestrings(coords, indices=piece)
    # network nodes: the ends of the pieces
    node_pos, node_index = np.unique(np.concatenate([pos[starts], pos[ends]]),
                                     return_inverse=True)
    edge_u, edge_v = node_index[: len(starts)], node_index[len(starts):]
    at = np.searchsorted(used, node_pos)
    edge_way = way[starts]
    edge_tags = pd.DataFrame({"osmid": ways.way_id[edge_way]})
    for key, cat in ways.way_tags.items():
        edge_tags[key] = _take(cat, edge_way)
    node_tags = pd.DataFrame({key: _take(cat, node_pos) for key, cat in ways.node_tags.items()})
    return street_network_from_arrays(
        x=ux[at], y=uy[at], edge_u=edge_u, edge_v=edge_v,
        edge_length=shapely.length(geometry), edge_geometry=geometry,
        node_ids=ways.node_id[node_pos], edge_tags=edge_tags, node_tags=node_tags, crs=crs)


def read_street_network(
    path: str | Path, *, crs: Any, network_type: str = "walk",
    custom_filter: str | None = None, simplify: bool = True,
) -> StreetNetwork:
    """Read an OSM PBF or XML file straight into a :class:`StreetNetwork` (all pieces).

    :func:`cfplan.geo.osm_arrays.read_osm_ways` then :func:`street_network_from_osm`; no
    networkx graph is built.

    Returns
    -------
    StreetNetwork
        Every connected piece in ``crs``, lengths in metres, OSM ids and walking tags.

    Raises
    ------
    ValueError
        If no way passes the filter (the message says so) or the file type is unknown.
    cfplan.geo.osm_arrays.OSMFileError
        If the file cannot be parsed.
    """
    ways = read_osm_ways(path, network_type=network_type, custom_filter=custom_filter)
    if len(ways.way_id) == 0:
        msg = f"no ways pass the {network_type!r} network filter"
        raise ValueError(msg)
    return street_network_from_osm(ways, crs=crs, simplify=simplify)


def walk_network_from_file(
    path: str | Path, *, crs: Any, network_type: str = "walk"
) -> tuple[StreetNetwork, ComponentReport]:
    """Read an OSM file and keep its largest connected component.

    Returns
    -------
    tuple[StreetNetwork, ComponentReport]
        The network (metres, in ``crs``) and the report on the dropped pieces.
    """
    return keep_largest_component(read_street_network(path, crs=crs, network_type=network_type))
