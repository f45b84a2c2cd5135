"""Snap points and polygons to the nearest street edge of a network."""

from __future__ import annotations

import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import pandas as pd
import shapely

from cfplan.geo.street_network import StreetNetwork

__all__ = [
    "ANY_EDGE",
    "SURFACE",
    "SnapRule",
    "Snapped",
    "concat_snapped",
    "snap_points",
    "snap_polygons_to_edges",
    "snap_targets",
]

_CHUNK = 20_000  # points per spatial-index query chunk (threads share the work)


@dataclass(frozen=True, eq=False)
class Snapped:
    """Points attached to network edges (all arrays have one entry per snapped point).

    Attributes
    ----------
    edge
        Edge position in the network (index into ``StreetNetwork.edge_*``).
    along_m
        Walking distance from the edge's ``u`` end to the snapped point, in metres
        (0 ≤ ``along_m`` ≤ edge length).
    snap_m
        Straight-line distance from the original point to the edge, in metres: the walk
        from the point onto the street.
    owner
        Which input geometry the point belongs to (row position of the point, polygon or
        facility); several access points may share one owner.
    x, y
        The snapped position on the edge (network CRS).
    """

    edge: np.ndarray
    along_m: np.ndarray
    snap_m: np.ndarray
    owner: np.ndarray
    x: np.ndarray
    y: np.ndarray

    def __len__(self) -> int:
        return len(self.edge)

    def take(self, index: np.ndarray) -> Snapped:
        """Return the points at ``index`` (positions or a boolean mask)."""
        return Snapped(*(getattr(self, f)[index] for f in ("edge", "along_m", "snap_m", "owner",
                                                           "x", "y")))

    def with_owner(self, owner: np.ndarray) -> Snapped:
        """Return a copy whose ``owner`` is ``owner[self.owner]`` (re-map to other ids)."""
        return Snapped(self.edge, self.along_m, self.snap_m, np.asarray(owner)[self.owner],
                       self.x, self.y)

    def to_frame(self) -> pd.DataFrame:
        """Return the points as a table (columns as the attributes; metres)."""
        return pd.DataFrame({f: getattr(self, f) for f in ("owner", "edge", "along_m", "snap_m",
                                                           "x", "y")})


@dataclass(frozen=True)
class SnapRule:
    """Which edges points may snap to: the edges a person reaches from the street surface.

    Edges a rule refuses stay in the network (a walk may pass through a tunnel); they are
    only never the street a home or a facility is put on. A rule reads the network's
    ``edge_tags``; a network without tags has every edge as a target.

    Attributes
    ----------
    no_tunnels
        Refuse edges whose ``tunnel`` tag is set to anything but ``no`` (``yes``,
        ``building_passage``, ``culvert`` …).
    no_covered
        Refuse ``covered=yes`` edges other than pedestrian ways (covered service roads
        and underground ramps); covered footways (arcades) stay targets.
    min_layer
        Refuse edges with a numeric ``layer`` below this (default 0: underground) unless
        their ``highway`` is one of ``pedestrian_highways``; ``None`` turns it off.
    pedestrian_highways
        Highways that people walk on from the surface even when mapped below it.
    never_highways
        Highways never snapped to (motorways: outside the walk filter anyway, kept here
        for custom filters).
    """

    no_tunnels: bool = True
    no_covered: bool = True
    min_layer: float | None = 0.0
    pedestrian_highways: tuple[str, ...] = ("footway", "path", "pedestrian", "steps")
    never_highways: tuple[str, ...] = ("motorway", "motorway_link")

    def mask(self, network: StreetNetwork) -> np.ndarray:
        """Return which edges of ``network`` are snap targets (boolean, shape ``(m,)``)."""
        tags = network.edge_tags
        ok = np.ones(network.n_edges, dtype=bool)
        if tags is None:
            return ok

        def column(key: str) -> np.ndarray:
            if key not in tags.columns:
                return np.full(network.n_edges, None, dtype=object)
            return tags[key].astype(object).to_numpy()

        highway = column("highway")
        pedestrian = np.isin(highway, list(self.pedestrian_highways))
        if self.no_tunnels:
            tunnel = column("tunnel")
            ok &= pd.isna(tunnel) | (tunnel == "no")
        if self.no_covered:
            ok &= ~((column("covered") == "yes") & ~pedestrian)
        if self.min_layer is not None:
            layer = pd.to_numeric(pd.Series(column("layer")), errors="coerce").to_numpy()
            ok &= ~((layer < self.min_layer) & ~pedestrian)
        ok &= ~np.isin(highway, list(self.never_highways))
        return ok


SURFACE = SnapRule()
"""The default rule: no tunnels, covered roads, underground roads or motorways."""

ANY_EDGE = SnapRule(no_tunnels=False, no_covered=False, min_layer=None, never_highways=())
"""Every edge is a target (the behaviour before snap rules)."""


def snap_targets(network: StreetNetwork, rule: SnapRule | None = SURFACE
                 ) -> tuple[np.ndarray, shapely.STRtree]:
    """Return the snap-target edges of ``network`` under ``rule`` and their spatial index.

    When the rule leaves no edge at all, every edge is a target. The result is kept on the
    network, per rule.

    Returns
    -------
    tuple[numpy.ndarray, shapely.STRtree]
        Edge positions (ascending) and an STRtree over their geometries (tree index ``i``
        is edge ``edges[i]``).
    """
    rule = ANY_EDGE if rule is None else rule
    cached = network._cache.get(("snap", rule))
    if cached is not None:
        return cached
    mask = rule.mask(network)
    if mask.all() or not mask.any():
        result = (np.arange(network.n_edges), network.edge_tree)
    else:
        edges = np.flatnonzero(mask)
        result = (edges, shapely.STRtree(network.edge_geometry[edges]))
    network._cache[("snap", rule)] = result
    return result


def concat_snapped(parts: Sequence[Snapped]) -> Snapped:
    """Concatenate snapped point sets (owners are kept as they are).

    Returns
    -------
    Snapped
        All points, in order.
    """
    if not parts:
        empty_f = np.empty(0, dtype=np.float64)
        empty_i = np.empty(0, dtype=np.int64)
        return Snapped(empty_i, empty_f, empty_f, empty_i, empty_f, empty_f)
    return Snapped(
        *(np.concatenate([getattr(p, f) for p in parts])
          for f in ("edge", "along_m", "snap_m", "owner", "x", "y"))
    )


def _nearest_edges(network: StreetNetwork, points: np.ndarray, rule: SnapRule | None
                   ) -> tuple[np.ndarray, np.ndarray]:
    """Nearest target edge and distance for each point, with STRtree.query_nearest.

    Queries run in spatial (Hilbert) order, which keeps the tree in cache, and in chunks over
    threads (shapely releases the GIL).
    """
    targets, tree = snap_targets(network, rule)
    n = len(points)
    edge = np.empty(n, dtype=np.int64)
    dist = np.empty(n, dtype=np.float64)
    if n == 0:
        return edge, dist
    if n > 256:  # nearby queries in a row reuse the same tree nodes (2-3x faster)
        import geopandas as gpd

        order = np.argsort(gpd.GeoSeries(points).hilbert_distance(), kind="stable")
    else:
        order = np.arange(n)
    chunks = np.array_split(order, max(1, -(-n // _CHUNK)))

    def query(chunk: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        (i, e), d = tree.query_nearest(points[chunk], return_distance=True, all_matches=False)
        return chunk[i], e, d

    workers = min(len(chunks), os.cpu_count() or 1)
    if workers > 1:
        with ThreadPoolExecutor(workers) as pool:
            results = list(pool.map(query, chunks))
    else:
        results = [query(c) for c in chunks]
    for i, e, d in results:
        edge[i] = targets[e]
        dist[i] = d
    return edge, dist


def _locate(
    network: StreetNetwork, edge: np.ndarray, points: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Along-edge position (m of walking length) and the snapped x, y of points on edges."""
    lines = network.edge_geometry[edge]
    fraction = shapely.line_locate_point(lines, points, normalized=True)
    fraction = np.nan_to_num(fraction, nan=0.0)  # zero-length edges
    on_edge = shapely.line_interpolate_point(lines, fraction, normalized=True)
    xy = shapely.get_coordinates(on_edge)
    along = np.clip(fraction * network.edge_length[edge], 0.0, network.edge_length[edge])
    return along, xy[:, 0], xy[:, 1]


def snap_points(network: StreetNetwork, points: np.ndarray, *,
                rule: SnapRule | None = SURFACE) -> Snapped:
    """Snap points to their nearest network edge that ``rule`` allows.

    Parameters
    ----------
    network
        The street network.
    points
        Shapely Points (array-like) in the network's metric CRS.
    rule
        Which edges are snap targets (:class:`SnapRule`); by default :data:`SURFACE`, the
        edges reached from the street surface; ``None`` or :data:`ANY_EDGE` for every edge.

    Returns
    -------
    Snapped
        One entry per point, in input order: nearest edge, distance along it from ``u``
        (m, scaled to the edge's walking length), perpendicular snap distance (m), ``owner``
        = the point's position and the snapped coordinates.
    """
    points = np.asarray(points, dtype=object)
    if len(points) and (shapely.is_missing(points) | shapely.is_empty(points)).any():
        msg = "points must not be missing or empty"
        raise ValueError(msg)
    edge, snap = _nearest_edges(network, points, rule)
    along, x, y = _locate(network, edge, points)
    return Snapped(edge, along, snap, np.arange(len(points), dtype=np.int64), x, y)


def _boundary_samples(polygons: np.ndarray, spacing_m: float) -> tuple[np.ndarray, np.ndarray]:
    """Points every ``spacing_m`` along each polygon's boundary rings, with the polygon index."""
    rings, owner = shapely.get_parts(shapely.boundary(polygons), return_index=True)
    length = shapely.length(rings)
    counts = np.maximum(1, np.ceil(length / spacing_m).astype(np.int64))
    ring_index = np.repeat(np.arange(len(rings)), counts)
    start = np.repeat(np.cumsum(counts) - counts, counts)
    step = np.arange(len(ring_index)) - start
    fraction = step / counts[ring_index]
    samples = shapely.line_interpolate_point(rings[ring_index], fraction, normalized=True)
    return samples, owner[ring_index]


def snap_polygons_to_edges(
    network: StreetNetwork,
    polygons: np.ndarray,
    *,
    entrances: Sequence[object] | None = None,
    spacing_m: float = 25.0,
    tolerance_m: float = 30.0,
    rule: SnapRule | None = SURFACE,
) -> Snapped:
    """Access points of polygon facilities (parks, squares) on the network.

    A polygon with entrances is reached at its entrances (each snapped to the nearest edge).
    Otherwise it is reached wherever the network touches it:

    * where an edge crosses or touches the boundary (exact intersection points, snap 0);
    * boundary points, sampled every ``spacing_m``, that lie within ``tolerance_m`` of an
      edge (streets running alongside the park, sidewalks separated from the fence);
    * if neither exists, the single boundary sample nearest to the network, with its snap
      distance (a park set back from every street is reached by its closest approach).

    Parameters
    ----------
    network
        The street network.
    polygons
        Shapely Polygons or MultiPolygons in the network's CRS.
    entrances
        Optional, aligned with ``polygons``: for each polygon a Point/MultiPoint of its
        entrances, or ``None`` to use its boundary.
    spacing_m
        Spacing of boundary samples (m).
    tolerance_m
        How close (m) a boundary sample must be to an edge to count as an access point.
    rule
        Which edges can be access points (:class:`SnapRule`; a tunnel under a park's
        boundary is not a way in); default :data:`SURFACE`.

    Returns
    -------
    Snapped
        Access points; ``owner`` is the polygon's position in ``polygons``.
    """
    polygons = np.asarray(polygons, dtype=object)
    n = len(polygons)
    use_boundary = np.ones(n, dtype=bool)
    parts: list[Snapped] = []
    if entrances is not None:
        if len(entrances) != n:
            msg = "entrances must be aligned with polygons"
            raise ValueError(msg)
        ent = np.asarray(entrances, dtype=object)
        given = ~(shapely.is_missing(ent) | shapely.is_empty(ent))
        use_boundary &= ~given
        pts, owner = shapely.get_parts(ent[given], return_index=True)
        snapped = snap_points(network, pts, rule=rule)
        parts.append(snapped.with_owner(np.flatnonzero(given)[owner]))
    todo = np.flatnonzero(use_boundary)
    if len(todo):
        parts.append(_boundary_access(network, polygons[todo], spacing_m, tolerance_m, rule)
                     .with_owner(todo))
    result = concat_snapped(parts)
    order = np.argsort(result.owner, kind="stable")
    return result.take(order)


def _boundary_access(
    network: StreetNetwork, polygons: np.ndarray, spacing_m: float, tolerance_m: float,
    rule: SnapRule | None,
) -> Snapped:
    boundaries = shapely.boundary(polygons)
    # 1. exact crossings of target edges with the boundary
    targets, tree = snap_targets(network, rule)
    poly_i, tree_i = tree.query(boundaries, predicate="intersects")
    edge_i = targets[tree_i]
    crossing = shapely.intersection(boundaries[poly_i], network.edge_geometry[edge_i])
    # points of every crossing part (a street running along the boundary gives its vertices)
    coords, pair = shapely.get_coordinates(crossing, return_index=True)
    pts = shapely.points(coords)
    cross_edge = edge_i[pair]
    along, x, y = _locate(network, cross_edge, pts)
    crossings = Snapped(cross_edge, along, np.zeros(len(pts)), poly_i[pair], x, y)
    # 2. boundary samples near a street
    samples, owner = _boundary_samples(polygons, spacing_m)
    snapped = snap_points(network, samples, rule=rule).with_owner(owner)
    near = snapped.snap_m <= tolerance_m
    # 3. polygons with neither: their closest boundary sample
    reached = np.zeros(len(polygons), dtype=bool)
    reached[crossings.owner] = True
    reached[snapped.owner[near]] = True
    frame = pd.DataFrame({"owner": snapped.owner, "snap": snapped.snap_m})
    closest = frame[~reached[snapped.owner]].groupby("owner")["snap"].idxmin().to_numpy()
    access = concat_snapped([crossings, snapped.take(near), snapped.take(closest)])
    # samples around a corner often land on the same street point: keep the shortest approach
    key = pd.DataFrame({"owner": access.owner, "edge": access.edge,
                        "cm": np.round(access.along_m * 100).astype(np.int64),
                        "snap": access.snap_m})
    best = key.sort_values("snap", kind="stable").drop_duplicates(["owner", "edge", "cm"])
    return access.take(np.sort(best.index.to_numpy()))
