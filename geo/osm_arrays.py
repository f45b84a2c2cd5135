"""OSM files straight to arrays: the ways a network filter keeps, their nodes and their tags."""

from __future__ import annotations

import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from cfplan.geo.osm_file import WALK_NODE_TAGS, WALK_WAY_TAGS, filter_clauses

__all__ = ["OSMFileError", "OSMWays", "read_osm_ways", "tag_filter_mask"]


class OSMFileError(Exception):
    """An OSM file that cannot be parsed: XML cut off or not OSM, a PBF that is not one."""


@dataclass(frozen=True, eq=False)
class OSMWays:
    """The ways of an OSM file that pass a network filter, with every node the file holds.

    Attributes
    ----------
    node_id
        OSM ids of the file's nodes, ascending, shape ``(n,)``.
    lon, lat
        Their WGS-84 coordinates in degrees, shape ``(n,)``.
    node_tags
        Tag key -> values aligned with ``node_id`` (categorical, missing where absent), for
        the walking node tags (:data:`cfplan.geo.osm_file.WALK_NODE_TAGS`).
    way_id
        OSM ids of the kept ways, in file order, shape ``(w,)``.
    refs, offsets
        Node ids of the ways: way ``i`` runs through ``refs[offsets[i]:offsets[i + 1]]``
        (ids may be missing from ``node_id`` in a clipped extract).
    way_tags
        Tag key -> values aligned with ``way_id`` (categorical, missing where absent), for
        the walking way tags (:data:`cfplan.geo.osm_file.WALK_WAY_TAGS`).
    ways_read
        Ways in the file before filtering (with at least two node references).
    """

    node_id: np.ndarray
    lon: np.ndarray
    lat: np.ndarray
    node_tags: dict[str, pd.Categorical]
    way_id: np.ndarray
    refs: np.ndarray
    offsets: np.ndarray
    way_tags: dict[str, pd.Categorical]
    ways_read: int


def _tag_codes(keys: np.ndarray, vals: np.ndarray, owner: np.ndarray, n: int,
               key_id: int | None) -> np.ndarray:
    """Return the string ids of tag ``key_id`` per owner row (``-1`` where absent)."""
    col = np.full(n, -1, dtype=np.int64)
    if key_id is not None:
        hit = keys == key_id
        col[owner[hit]] = vals[hit]
    return col


def _categorical(codes: np.ndarray, strings: list[str]) -> pd.Categorical:
    """String-table ids (``-1`` missing) as a pandas Categorical of their strings."""
    used, inverse = np.unique(codes, return_inverse=True)
    present = used >= 0
    categories = [strings[i] for i in used[present].tolist()]
    shift = 0 if present.all() else 1  # the -1 sorts first
    new = np.where(codes >= 0, inverse - shift, -1)
    return pd.Categorical.from_codes(new, categories=pd.Index(categories, dtype=object))


def tag_filter_mask(network_type: str = "walk", *, custom_filter: str | None = None,
                    columns: dict[str, np.ndarray], strings: list[str]) -> np.ndarray:
    """Evaluate an Overpass way filter on whole tag columns at once.

    The same semantics as :func:`cfplan.geo.osm_file.way_filter` (OSMnx's filter for
    ``network_type``): regular expressions match anywhere in the value, ``!=``/``!~`` also
    pass where the key is absent. Each regular expression runs once per distinct value.

    Parameters
    ----------
    network_type, custom_filter
        As :func:`cfplan.geo.osm_file.way_filter`.
    columns
        Tag key -> string-table ids per way (``-1`` absent); keys absent from ``columns``
        count as absent on every way.
    strings
        The string table the ids index.

    Returns
    -------
    numpy.ndarray
        Boolean mask over the ways: ``True`` for those the filter keeps.
    """
    n = len(next(iter(columns.values()))) if columns else 0
    keep = np.ones(n, dtype=bool)
    for key, op, value in filter_clauses(network_type, custom_filter=custom_filter):
        col = columns.get(key, np.full(n, -1, dtype=np.int64))
        present = col >= 0
        if op == "":
            ok = present
        else:
            ids = np.unique(col[present])
            if op in ("=", "!="):
                matching = ids[[strings[i] == value for i in ids.tolist()]]
            else:
                pattern = re.compile(value)
                matching = ids[[pattern.search(strings[i]) is not None for i in ids.tolist()]]
            found = present & np.isin(col, matching)
            ok = found if op in ("=", "~") else ~found
        keep &= ok
    return keep


def _parse_pbf(path: Path) -> tuple[dict[str, object], object]:
    # pyrosm's compiled PBF decoder returns flat arrays (its module API, pinned below 0.26):
    # nodes {"id", "lon", "lat", "tags": NodeTags} and a WayStore (refs/keys/vals CSR).
    from pyrosm.exceptions import PBFException
    from pyrosm.pbfreader import parse_osm_data

    try:
        nodes, ways, *_ = parse_osm_data(str(path), None, True, None, keep_metadata=False)
    except PBFException as exc:
        raise OSMFileError(str(exc)) from exc
    except MemoryError:
        raise
    except Exception as exc:
        # A cut-off or corrupt PBF fails deep in the decoder (protobuf DecodeError, zlib
        # error, struct error ...): the file cannot be read, whatever the decoder says.
        raise OSMFileError(str(exc) or type(exc).__name__) from exc
    return nodes, ways


def _xml_to_pbf(path: Path, pbf: Path) -> None:
    """Copy an OSM XML file to PBF in libosmium's C++ reader and writer (nodes and ways)."""
    import osmium

    writer = osmium.SimpleWriter(str(pbf))
    try:
        osmium.apply(osmium.io.Reader(str(path), osmium.osm.NODE | osmium.osm.WAY), writer)
    except MemoryError:
        raise
    except Exception as exc:  # libosmium's XML parser: cut off, not OSM, a lat="nan" ...
        raise OSMFileError(str(exc) or type(exc).__name__) from exc
    finally:
        writer.close()


def read_osm_ways(
    path: str | Path, *, network_type: str = "walk", custom_filter: str | None = None
) -> OSMWays:
    """Read the ways of an OSM file that a network filter keeps, as flat arrays.

    ``.osm.pbf`` files are decoded by pyrosm's compiled reader straight into arrays; OSM
    XML (``.osm``, ``.osm.xml``) is first copied to a temporary PBF by libosmium (pyosmium,
    C++ throughout). Ways are filtered exactly as OSMnx filters an Overpass query for
    ``network_type`` (:func:`tag_filter_mask`), on whole tag columns: compiled decoding and
    NumPy array code, no Python loop over nodes or ways.

    Parameters
    ----------
    path
        OSM PBF or XML file.
    network_type
        OSMnx network type, "walk" by default.
    custom_filter
        Overpass way filter string used instead of the ``network_type`` filter.

    Returns
    -------
    OSMWays
        The kept ways (node references, walking tags) and the file's nodes (degrees).

    Raises
    ------
    ValueError
        If the file name is not ``.osm``, ``.osm.xml`` or ``.pbf``.
    OSMFileError
        If the file cannot be parsed (XML cut off or not OSM, not a PBF).
    """
    path = Path(path)
    name = path.name.lower()
    if name.endswith(".pbf"):
        nodes, ways = _parse_pbf(path)
    elif name.endswith((".osm", ".xml")):
        with tempfile.TemporaryDirectory() as tmp:
            pbf = Path(tmp) / "copy.osm.pbf"
            _xml_to_pbf(path, pbf)
            nodes, ways = _parse_pbf(pbf)
    else:
        msg = f"{path}: expected an .osm, .osm.xml or .osm.pbf file"
        raise ValueError(msg)
    return _from_pyrosm(nodes, ways, network_type=network_type, custom_filter=custom_filter)


def _from_pyrosm(nodes: dict[str, Any], ways: Any, *, network_type: str,
                 custom_filter: str | None) -> OSMWays:
    empty_i = np.empty(0, dtype=np.int64)
    if not nodes or "id" not in nodes:
        node_id, lon, lat = empty_i, np.empty(0), np.empty(0)
        node_tags = {k: pd.Categorical([], categories=[]) for k in WALK_NODE_TAGS}
    else:
        node_id = np.asarray(nodes["id"], dtype=np.int64)
        lon = np.asarray(nodes["lon"], dtype=np.float64)
        lat = np.asarray(nodes["lat"], dtype=np.float64)
        sort = np.argsort(node_id, kind="stable")
        order = sort if bool((np.diff(sort) != 1).any()) else None
        if order is not None:
            node_id, lon, lat = node_id[order], lon[order], lat[order]
        tags = nodes["tags"]
        owner = np.repeat(np.asarray(tags.rows, dtype=np.int64), np.diff(tags.tags_off))
        ids = {s: i for i, s in enumerate(tags.strings)}
        node_tags = {}
        for key in WALK_NODE_TAGS:
            codes = _tag_codes(tags.keys, tags.vals, owner, len(node_id), ids.get(key))
            node_tags[key] = _categorical(codes if order is None else codes[order], tags.strings)
    n_ways = len(ways.ids)
    refs_off = np.asarray(ways.refs_off, dtype=np.int64)
    tags_off = np.asarray(ways.tags_off, dtype=np.int64)
    owner = np.repeat(np.arange(n_ways), np.diff(tags_off))
    ids = {s: i for i, s in enumerate(ways.strings)}
    keys = {k for k, _, _ in filter_clauses(network_type, custom_filter=custom_filter)}
    columns = {k: _tag_codes(ways.keys, ways.vals, owner, n_ways, ids.get(k))
               for k in (keys | set(WALK_WAY_TAGS))}
    long_enough = np.diff(refs_off) >= 2
    keep = long_enough & tag_filter_mask(network_type, custom_filter=custom_filter,
                                         columns=columns, strings=ways.strings)
    rows = np.flatnonzero(keep)
    counts = np.diff(refs_off)[rows]
    offsets = np.zeros(len(rows) + 1, dtype=np.int64)
    np.cumsum(counts, out=offsets[1:])
    starts = np.repeat(refs_off[rows] - offsets[:-1], counts)
    refs = np.asarray(ways.refs, dtype=np.int64)[starts + np.arange(offsets[-1])]
    way_tags = {k: _categorical(columns[k][rows], ways.strings) for k in WALK_WAY_TAGS}
    return OSMWays(node_id, lon, lat, node_tags, np.asarray(ways.ids, dtype=np.int64)[rows],
                   refs, offsets, way_tags, int(long_enough.sum()))
