"""OSM elements: the nodes, ways and areas of an OSM file that carry given tags, read with pyosmium.

Areas (closed ways, multipolygon relations) are assembled by pyosmium's area handler
(libosmium's multipolygon assembler). What it cannot assemble is diagnosed here, one element
at a time, instead of failing the whole file: in a clipped extract a way or relation may
reference nodes or member ways that are not in the file. Such an area is returned as the
*part inside the extract*: the rings through the nodes present, in their order, each gap
closed by a straight line from the last node before it to the first node after it (see
:func:`kept_part`). This module knows nothing of facilities or children.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from cfplan.geo.crs import WGS84

__all__ = [
    "ASSEMBLY",
    "OSM_SUFFIXES",
    "is_osm_file",
    "kept_part",
    "read_osm_elements",
]

OSM_SUFFIXES = (".osm", ".osm.xml", ".osm.pbf", ".pbf", ".osm.gz", ".osm.bz2")

# How each element's geometry was made (the ``assembly`` column).
ASSEMBLY = {
    "node": "a tagged node: its point",
    "area": "assembled by pyosmium's area handler (closed way or complete multipolygon)",
    "clipped": "nodes or member ways missing from the file: the part inside (kept_part), "
               "or no geometry when fewer than 3 nodes are present",
    "line": "an open way (not an area): a line through the nodes present",
    "invalid": "every node and member present but the area handler refused it: a way's raw "
               "ring (may be invalid), or no geometry for a relation",
    "not_area": "a relation that is not a multipolygon or boundary: no geometry",
}

_AREA_RELATIONS = ("multipolygon", "boundary")
_COLUMNS = ["element", "osm_id", "tags", "assembly", "nodes_in", "nodes_all", "members_in",
            "members_all", "gaps"]

Coord = tuple[float, float] | None
Seq = list[tuple[int, Coord]]


def is_osm_file(path: str | Path) -> bool:
    """Return whether ``path`` names an OSM file (``.osm``, ``.osm.pbf``, ``.osm.xml`` …)."""
    return Path(path).name.lower().endswith(OSM_SUFFIXES)


@dataclass
class _Way:
    seq: Seq
    tags: dict[str, str]


@dataclass
class _Read:
    nodes: dict[int, tuple[Coord, dict[str, str]]] = field(default_factory=dict)
    ways: dict[int, _Way] = field(default_factory=dict)
    relations: dict[int, tuple[dict[str, str], list[tuple[str, int, str]]]] = field(
        default_factory=dict)
    areas: dict[tuple[bool, int], object] = field(default_factory=dict)
    member_ways: dict[int, _Way] = field(default_factory=dict)  # untagged relation members


def _file(path: Path) -> Any:
    import osmium

    return osmium.io.File(str(path))


def _way_seq(way: Any) -> Seq:
    out: Seq = []
    for nr in way.nodes:
        loc = nr.location
        out.append((nr.ref, (loc.lon, loc.lat) if loc.valid() else None))
    return out


def _area_geometry(area: Any, factory: Any) -> Any:
    try:
        geom = shapely.from_wkb(factory.create_multipolygon(area))
    except Exception:
        return None
    if geom is not None and geom.geom_type == "MultiPolygon" and len(geom.geoms) == 1:
        return geom.geoms[0]
    return geom


def _read(path: Path, pairs: list[tuple[str, str]]) -> _Read:
    """Read the tagged nodes, ways, relations and assembled areas, and the members needed."""
    import osmium

    read = _Read()
    rel: Any
    obj: Any
    way: Any
    for rel in osmium.FileProcessor(_file(path), osmium.osm.RELATION).with_filter(
            osmium.filter.TagFilter(*pairs)):
        read.relations[rel.id] = (dict(rel.tags), [(m.type, m.ref, m.role) for m in rel.members])
    factory = osmium.geom.WKBFactory()
    processor = (osmium.FileProcessor(_file(path))
                 .with_areas(osmium.filter.TagFilter(*pairs))
                 .with_filter(osmium.filter.TagFilter(*pairs)))
    for obj in processor:
        if obj.is_node():
            loc = obj.location
            read.nodes[obj.id] = ((loc.lon, loc.lat) if loc.valid() else None, dict(obj.tags))
        elif obj.is_way():
            read.ways[obj.id] = _Way(_way_seq(obj), dict(obj.tags))
        elif obj.is_area():
            read.areas[(obj.from_way(), obj.orig_id())] = _area_geometry(obj, factory)
    wanted = {ref for rid, (_, members) in read.relations.items()
              if (False, rid) not in read.areas for kind, ref, _ in members
              if kind == "w" and ref not in read.ways}
    if wanted:  # member ways of relations the area handler did not assemble
        members = (osmium.FileProcessor(_file(path), osmium.osm.NODE | osmium.osm.WAY)
                   .with_locations()
                   .with_filter(osmium.filter.EntityFilter(osmium.osm.WAY))
                   .with_filter(osmium.filter.IdFilter(wanted)))
        for way in members:
            read.member_ways[way.id] = _Way(_way_seq(way), dict(way.tags))
    return read


def _closed(seq: Seq) -> bool:
    return len(seq) >= 4 and seq[0][0] == seq[-1][0]


def _missing_runs(present: Sequence[bool], *, cyclic: bool) -> int:
    """Count the maximal runs of missing entries (wrapping round when ``cyclic``)."""
    flags = list(present) if cyclic else [*present, False]
    if all(flags):
        return 0
    if not any(flags):
        return 1
    return sum(1 for i, p in enumerate(flags) if not p and flags[i - 1])


def kept_part(seq: Seq, *, closed: bool) -> tuple[object, int]:
    """Return the part of a ring inside the extract, and how many gaps were closed.

    The nodes present are joined in their order; each run of missing nodes (a stretch of
    the ring outside the extract) becomes a straight line from the last node before it to
    the first after it; an open sequence (a ring whose member ways are missing) is closed
    from its last node back to its first. The result never reaches beyond the nodes the
    file holds. Walking the extract's boundary instead would need the ring's orientation
    and the extract's true outline, which a clipped ring does not reliably give.

    Parameters
    ----------
    seq
        ``(node id, (lon, lat) or None)`` in ring order; a closed ring repeats its first
        node at the end.
    closed
        Whether ``seq`` is a closed ring (else the gap between its ends counts as one).

    Returns
    -------
    tuple
        A valid Polygon or MultiPolygon in the coordinates' CRS (``make_valid`` applied,
        polygonal parts kept), or ``None`` when fewer than 3 nodes are present or they
        enclose no area; and the number of gaps closed.
    """
    ring = seq[:-1] if closed else seq
    present = [c is not None for _, c in ring]
    gaps = _missing_runs(present, cyclic=True) if closed else _missing_runs(present, cyclic=False)
    coords = [c for _, c in ring if c is not None]
    if len(set(coords)) < 3:
        return None, gaps
    geom = shapely.make_valid(shapely.Polygon(coords))
    if geom.geom_type == "GeometryCollection":
        parts = [g for g in geom.geoms if g.geom_type in ("Polygon", "MultiPolygon")]
        geom = shapely.union_all(parts) if parts else None
    if geom is None or geom.is_empty or geom.geom_type not in ("Polygon", "MultiPolygon"):
        return None, gaps
    return geom, gaps


def _chains(seqs: list[Seq]) -> list[Seq]:
    """Join member ways end to end (by node id) into rings or open chains."""
    pending = [list(s) for s in seqs if s]
    out: list[Seq] = []
    while pending:
        cur = pending.pop(0)
        grown = True
        while grown and not _closed(cur):
            grown = False
            for i, s in enumerate(pending):
                if s[0][0] == cur[-1][0]:
                    cur = cur + s[1:]
                elif s[-1][0] == cur[-1][0]:
                    cur = cur + s[::-1][1:]
                elif s[-1][0] == cur[0][0]:
                    cur = s + cur[1:]
                elif s[0][0] == cur[0][0]:
                    cur = s[::-1] + cur[1:]
                else:
                    continue
                pending.pop(i)
                grown = True
                break
        out.append(cur)
    return out


def _counts(seq: Seq) -> tuple[int, int]:
    ring = seq[:-1] if _closed(seq) else seq
    return sum(c is not None for _, c in ring), len(ring)


def _way_row(wid: int, way: _Way, area: object, assembled: bool) -> dict[str, object]:
    n_in, n_all = _counts(way.seq)
    row: dict[str, object] = {"element": "way", "osm_id": wid, "tags": way.tags,
                              "nodes_in": n_in, "nodes_all": n_all, "members_in": 0,
                              "members_all": 0, "gaps": 0}
    coords = [c for _, c in way.seq if c is not None]
    if assembled and area is not None:
        return {**row, "assembly": "area", "geometry": area}
    if _closed(way.seq) and n_in == n_all:
        ring = coords if len(set(coords)) >= 3 else None
        return {**row, "assembly": "invalid",
                "geometry": shapely.Polygon(ring) if ring else None}
    if _closed(way.seq):
        geom, gaps = kept_part(way.seq, closed=True)
        return {**row, "assembly": "clipped", "geometry": geom, "gaps": gaps}
    line = (shapely.LineString(coords) if len(coords) >= 2
            else shapely.Point(coords[0]) if coords else None)
    return {**row, "assembly": "line", "geometry": line}


def _relation_row(rid: int, tags: dict[str, str], members: list[tuple[str, int, str]],
                  read: _Read) -> dict[str, object]:
    row: dict[str, object] = {"element": "relation", "osm_id": rid, "tags": tags,
                              "nodes_in": 0, "nodes_all": 0, "members_in": 0,
                              "members_all": 0, "gaps": 0, "geometry": None}
    if (False, rid) in read.areas and read.areas[(False, rid)] is not None:
        return {**row, "assembly": "area", "geometry": read.areas[(False, rid)]}
    if tags.get("type") not in _AREA_RELATIONS:
        return {**row, "assembly": "not_area"}
    pool = {**read.member_ways, **read.ways}
    way_members = [(ref, role) for kind, ref, role in members if kind == "w"]
    found = [(pool[ref], role) for ref, role in way_members if ref in pool]
    n_in = sum(_counts(w.seq)[0] for w, _ in found)
    n_all = sum(_counts(w.seq)[1] for w, _ in found)
    row.update(nodes_in=n_in, nodes_all=n_all, members_in=len(found),
               members_all=len(way_members))
    if len(found) == len(way_members) and n_in == n_all:
        return {**row, "assembly": "invalid"}
    parts: dict[str, list[object]] = {"outer": [], "inner": []}
    gaps = 0
    for role in ("outer", "inner"):
        seqs = [w.seq for w, r in found if (r or "outer") == role]
        for chain in _chains(seqs):
            geom, n = kept_part(chain, closed=_closed(chain))
            if role == "outer":
                gaps += n
            if geom is not None:
                parts[role].append(geom)
    geom = shapely.union_all(parts["outer"]) if parts["outer"] else None
    if geom is not None and parts["inner"]:
        geom = geom.difference(shapely.union_all(parts["inner"]))
    if geom is not None and (geom.is_empty or geom.geom_type not in ("Polygon", "MultiPolygon")):
        geom = None
    return {**row, "assembly": "clipped", "geometry": geom, "gaps": gaps}


def read_osm_elements(path: str | Path, *, tags: Iterable[tuple[str, str]]) -> gpd.GeoDataFrame:
    """Read every node, way and relation of an OSM file that carries one of ``tags``.

    Parameters
    ----------
    path
        An OSM file: ``.osm`` / ``.osm.xml`` (XML), ``.osm.pbf``, or compressed XML.
    tags
        ``(key, value)`` pairs; an element is read when it carries any of them.

    Returns
    -------
    geopandas.GeoDataFrame
        One row per element, nodes then ways then relations, each by id, in WGS-84:
        ``element`` (``node``/``way``/``relation``), ``osm_id``, ``tags`` (dict),
        ``assembly`` (how the geometry was made, see :data:`ASSEMBLY`), ``nodes_in`` /
        ``nodes_all`` (node references present in the file / in all; a relation counts
        those of its member ways in the file), ``members_in`` / ``members_all`` (a
        relation's member ways present / named), ``gaps`` (stretches outside the extract
        closed by a straight line) and ``geometry`` (Point, Polygon, MultiPolygon,
        LineString, or None).

    Raises
    ------
    RuntimeError
        When pyosmium cannot read the file (truncated, not OSM).
    """
    path = Path(path)
    pairs = list(dict.fromkeys((str(k), str(v)) for k, v in tags))
    if not pairs:
        msg = "read_osm_elements needs at least one (key, value) tag"
        raise ValueError(msg)
    read = _read(path, pairs)
    rows: list[dict[str, object]] = []
    for nid in sorted(read.nodes):
        coord, node_tags = read.nodes[nid]
        rows.append({"element": "node", "osm_id": nid, "tags": node_tags, "assembly": "node",
                     "nodes_in": int(coord is not None), "nodes_all": 1, "members_in": 0,
                     "members_all": 0, "gaps": 0,
                     "geometry": shapely.Point(coord) if coord else None})
    for wid in sorted(read.ways):
        assembled = (True, wid) in read.areas
        rows.append(_way_row(wid, read.ways[wid], read.areas.get((True, wid)), assembled))
    for rid in sorted(read.relations):
        rel_tags, members = read.relations[rid]
        rows.append(_relation_row(rid, rel_tags, members, read))
    frame = pd.DataFrame(rows, columns=[*_COLUMNS, "geometry"])
    for col in ("osm_id", "nodes_in", "nodes_all", "members_in", "members_all", "gaps"):
        frame[col] = frame[col].astype(np.int64)
    return gpd.GeoDataFrame(frame, geometry="geometry", crs=WGS84)
