"""Synthetic OSM street data: a jittered grid of tagged ways, written as PBF and OSM XML."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

__all__ = ["SyntheticOSM", "synthetic_osm", "write_osm"]

_HIGHWAYS = np.array(["residential", "residential", "residential", "tertiary", "secondary",
                      "primary", "footway", "service", "living_street", "path", "pedestrian",
                      "unclassified"])
_SIDEWALK = np.array(["both", "left", "right", "no", "", "separate"])


@dataclass(frozen=True)
class SyntheticOSM:
    """Nodes and ways of a synthetic street grid (WGS-84 degrees).

    Attributes
    ----------
    node_id, lon, lat
        One entry per node.
    node_tags
        Node id -> tags for the tagged nodes (signals, crossings).
    ways
        ``(way id, node ids, tags)`` per way.
    """

    node_id: np.ndarray
    lon: np.ndarray
    lat: np.ndarray
    node_tags: dict[int, dict[str, str]]
    ways: list[tuple[int, list[int], dict[str, str]]]


def synthetic_osm(n_nodes: int, *, seed: int = 0, lon0: float = 113.60, lat0: float = 34.70,
                  spacing_m: float = 80.0, walkable_only: bool = False,
                  drop_nodes: float = 0.0) -> SyntheticOSM:
    """Build a walkable street grid of about ``n_nodes`` nodes.

    A square grid of intersections (``spacing_m`` apart, jittered by up to 12 m), about 6 % of
    its block sides missing; about 35 % of block sides carry a shape node near their middle
    (a curve, or a marked crossing). Rows and columns are cut into ways of a few blocks each
    with their own tags (``highway`` residential … primary, footway, path, pedestrian;
    ``name``, ``maxspeed``, ``lanes``, ``sidewalk``, ``oneway``, a few ``bridge``/``tunnel`` with
    ``layer``), and 4 % of the cells are crossed by a diagonal footway. About 5 % of
    intersections carry ``highway=traffic_signals``; a fifth of shape nodes are
    ``highway=crossing``.

    Parameters
    ----------
    n_nodes
        Rough number of nodes.
    seed
        Random seed (the same seed gives the same data).
    lon0, lat0
        South-west corner (degrees).
    spacing_m
        Grid spacing (m).
    walkable_only
        Every way passes OSMnx's walk filter (no ``sidewalk=separate`` roads, no
        ``highway=cycleway``); otherwise about 1 in 6 roads is mapped with separate
        sidewalks and 2 % of ways are cycleways, which the walk filter drops.
    drop_nodes
        Share of nodes left out of the node list while ways still reference them, as a
        clipped extract leaves them out.

    Returns
    -------
    SyntheticOSM
        Nodes (degrees) and ways; ids start at 1.
    """
    rng = np.random.default_rng(seed)
    side = max(3, int(np.sqrt(n_nodes / 1.66)))
    m_lat = 111_132.0
    m_lon = 111_320.0 * np.cos(np.radians(lat0))
    i, j = np.meshgrid(np.arange(side), np.arange(side), indexing="ij")
    gx = j.ravel() * spacing_m + rng.uniform(-12, 12, side * side)
    gy = i.ravel() * spacing_m + rng.uniform(-12, 12, side * side)
    grid = np.arange(side * side).reshape(side, side)  # node position of (i, j)
    lon = [lon0 + gx / m_lon]
    lat = [lat0 + gy / m_lat]
    next_pos = side * side
    node_tags: dict[int, dict[str, str]] = {}
    for p in np.flatnonzero(rng.random(side * side) < 0.05):
        node_tags[int(p) + 1] = {"highway": "traffic_signals"}
    ways: list[tuple[int, list[int], dict[str, str]]] = []
    shape_x: list[np.ndarray] = []
    shape_y: list[np.ndarray] = []

    def lines(index: np.ndarray) -> None:
        # index: (lines, side) node positions along each row or column
        nonlocal next_pos
        n_lines, n = index.shape
        keep = rng.random((n_lines, n - 1)) > 0.06
        shaped = rng.random((n_lines, n - 1)) < 0.35
        cut = rng.random((n_lines, n - 1)) < 0.3
        a, b = index[:, :-1], index[:, 1:]
        sid = np.full((n_lines, n - 1), -1, dtype=np.int64)
        count = int(shaped.sum())
        sid[shaped] = next_pos + np.arange(count)
        mx = (gx[a[shaped]] + gx[b[shaped]]) / 2 + rng.uniform(-8, 8, count)
        my = (gy[a[shaped]] + gy[b[shaped]]) / 2 + rng.uniform(-8, 8, count)
        shape_x.append(mx)
        shape_y.append(my)
        for k in np.flatnonzero(rng.random(count) < 0.2):
            tags = {"highway": "crossing", "crossing": str(rng.choice(
                ["marked", "unmarked", "traffic_signals", "zebra"]))}
            if rng.random() < 0.3:
                tags["crossing:island"] = "yes"
            node_tags[next_pos + int(k) + 1] = tags
        next_pos += count
        for r in range(n_lines):
            refs: list[int] = []
            for c in range(n - 1):
                if not keep[r, c]:
                    if len(refs) >= 2:
                        ways.append((len(ways) + 1, refs, _way_tags(rng, walkable_only)))
                    refs = []
                    continue
                if not refs:
                    refs = [int(a[r, c]) + 1]
                if sid[r, c] >= 0:
                    refs.append(int(sid[r, c]) + 1)
                refs.append(int(b[r, c]) + 1)
                if cut[r, c]:
                    ways.append((len(ways) + 1, refs, _way_tags(rng, walkable_only)))
                    refs = []
            if len(refs) >= 2:
                ways.append((len(ways) + 1, refs, _way_tags(rng, walkable_only)))

    lines(grid)
    lines(grid.T.copy())
    cells = np.flatnonzero(rng.random((side - 1) * (side - 1)) < 0.04)
    for cell in cells:
        ci, cj = divmod(int(cell), side - 1)
        ways.append((len(ways) + 1, [int(grid[ci, cj]) + 1, int(grid[ci + 1, cj + 1]) + 1],
                     {"highway": "footway", "footway": "sidewalk" if rng.random() < 0.5
                      else "crossing"}))
    sx = np.concatenate(shape_x)
    sy = np.concatenate(shape_y)
    lon.append(lon0 + sx / m_lon)
    lat.append(lat0 + sy / m_lat)
    all_lon = np.round(np.concatenate(lon), 7)
    all_lat = np.round(np.concatenate(lat), 7)
    ids = np.arange(1, len(all_lon) + 1)
    present = rng.random(len(ids)) >= drop_nodes
    return SyntheticOSM(ids[present], all_lon[present], all_lat[present], node_tags, ways)


def _way_tags(rng: np.random.Generator, walkable_only: bool) -> dict[str, str]:
    highway = str(rng.choice(_HIGHWAYS))
    if not walkable_only and rng.random() < 0.02:
        highway = "cycleway"
    tags = {"highway": highway}
    if rng.random() < 0.6:
        tags["name"] = f"路{int(rng.integers(1, 500))}"
    if highway in ("primary", "secondary", "tertiary"):
        tags["maxspeed"] = str(rng.choice(["30", "40", "50", "60"]))
        tags["lanes"] = str(rng.integers(2, 7))
        if rng.random() < 0.15:
            tags["oneway"] = "yes"
    sidewalk = str(rng.choice(_SIDEWALK[:-1] if walkable_only else _SIDEWALK))
    if sidewalk and highway not in ("footway", "path", "pedestrian"):
        tags["sidewalk"] = sidewalk
    roll = rng.random()
    if roll < 0.02:
        tags.update(bridge="yes", layer="1")
    elif roll < 0.03:
        tags.update(tunnel="yes", layer="-1")
    return tags


def write_osm(data: SyntheticOSM, *paths: str | Path) -> None:
    """Write ``data`` to each of ``paths`` with pyosmium's writer (``.osm.pbf`` or ``.osm``).

    Existing files are replaced.
    """
    import osmium
    from osmium.osm.mutable import Node, Way

    writers = []
    for path in paths:
        Path(path).unlink(missing_ok=True)
        writers.append(osmium.SimpleWriter(str(path)))
    try:
        empty: dict[str, str] = {}
        for nid, x, y in zip(data.node_id.tolist(), data.lon.tolist(), data.lat.tolist(),
                             strict=True):
            node = Node(id=nid, location=(x, y), tags=data.node_tags.get(nid, empty),
                        version=1)
            for w in writers:
                w.add_node(node)
        for wid, refs, tags in data.ways:
            way = Way(id=wid, nodes=refs, tags=tags, version=1)
            for w in writers:
                w.add_way(way)
    finally:
        for w in writers:
            w.close()
