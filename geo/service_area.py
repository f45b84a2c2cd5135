"""Service areas: the streets reached within walking cutoffs, buffered into polygons."""

from __future__ import annotations

from collections.abc import Sequence

import geopandas as gpd
import numpy as np
import shapely
from shapely.ops import substring

from cfplan.geo.faces import Faces, street_faces
from cfplan.geo.paths import NodeDistances
from cfplan.geo.snap import Snapped
from cfplan.geo.street_network import StreetNetwork

__all__ = ["reached_intervals", "reached_lines", "service_areas"]

DEFAULT_CUTOFFS_M: tuple[float, ...] = (300.0, 600.0, 900.0)  # 5/10/15 min at 60 m/min


def reached_intervals(
    network: StreetNetwork,
    nodes: NodeDistances,
    cutoff_m: float,
    *,
    sources: Snapped | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return the parts of edges within ``cutoff_m`` of the nearest source.

    From an end reached at distance ``d`` the walk goes on ``cutoff_m - d`` metres into each
    incident edge; from a source on an edge it goes ``cutoff_m - snap`` metres both ways.

    Parameters
    ----------
    network
        The street network.
    nodes
        Node distances from :func:`geo.paths.node_distances` (its ``limit_m`` must not be
        below ``cutoff_m``).
    cutoff_m
        Walking distance (m).
    sources
        The sources ``nodes`` was computed from; needed to cover the edges they sit on.

    Returns
    -------
    tuple[numpy.ndarray, numpy.ndarray, numpy.ndarray]
        Edge positions, start and end (m from the edge's ``u`` end, start ≤ end) of every
        reached interval. Intervals may overlap.
    """
    if cutoff_m > nodes.limit_m:
        msg = f"cutoff {cutoff_m} m is beyond the search limit {nodes.limit_m} m"
        raise ValueError(msg)
    length = network.edge_length
    reach_u = cutoff_m - nodes.distance[network.edge_u]
    reach_v = cutoff_m - nodes.distance[network.edge_v]
    from_u = np.flatnonzero(reach_u >= 0)
    from_v = np.flatnonzero(reach_v >= 0)
    edges = [from_u, from_v]
    starts = [np.zeros(len(from_u)), np.maximum(0.0, length[from_v] - reach_v[from_v])]
    ends = [np.minimum(length[from_u], reach_u[from_u]), length[from_v]]
    if sources is not None and len(sources):
        reach = cutoff_m - sources.snap_m
        ok = reach >= 0
        e = sources.edge[ok]
        edges.append(e)
        starts.append(np.maximum(0.0, sources.along_m[ok] - reach[ok]))
        ends.append(np.minimum(length[e], sources.along_m[ok] + reach[ok]))
    return np.concatenate(edges), np.concatenate(starts), np.concatenate(ends)


def reached_lines(
    network: StreetNetwork,
    nodes: NodeDistances,
    cutoff_m: float,
    *,
    sources: Snapped | None = None,
) -> np.ndarray:
    """Return the reached parts of edges as geometries (see :func:`reached_intervals`).

    Returns
    -------
    numpy.ndarray
        Shapely LineStrings (whole or cut edges) and Points (an end reached with nothing to
        spare), in the network CRS.
    """
    return _pieces(network, *reached_intervals(network, nodes, cutoff_m, sources=sources))


def _pieces(network: StreetNetwork, edge: np.ndarray, start: np.ndarray, end: np.ndarray
            ) -> np.ndarray:
    """Return the edge intervals ``(edge, start, end)`` as geometries."""
    length = network.edge_length[edge]
    whole = (start <= 0) & (end >= length)
    pieces = np.empty(len(edge), dtype=object)
    pieces[whole] = network.edge_geometry[edge[whole]]
    with np.errstate(invalid="ignore", divide="ignore"):
        lo = np.nan_to_num(start / length, nan=0.0)
        hi = np.nan_to_num(end / length, nan=0.0)
    partial = np.flatnonzero(~whole)
    pieces[partial] = [
        substring(g, a, b, normalized=True)
        for g, a, b in zip(network.edge_geometry[edge[partial]], lo[partial], hi[partial],
                           strict=True)
    ]
    return pieces


def _fully_reached(network: StreetNetwork, nodes: NodeDistances, cutoff_m: float
                   ) -> np.ndarray:
    """Return, per edge, whether walks from its two ends within ``cutoff_m`` cover all of it."""
    reach_u = cutoff_m - nodes.distance[network.edge_u]
    reach_v = cutoff_m - nodes.distance[network.edge_v]
    some = (reach_u >= 0) | (reach_v >= 0)
    return some & (np.maximum(reach_u, 0.0) + np.maximum(reach_v, 0.0) >= network.edge_length)


def _band(network: StreetNetwork, nodes: NodeDistances, cutoff_m: float, *,
          sources: Snapped | None, buffer_m: float, faces: Faces | None,
          inner: shapely.Geometry | None) -> tuple[shapely.Geometry, shapely.Geometry]:
    """Return the band reached within ``cutoff_m`` as (whole blocks, the rest), both polygonal.

    Their union is the union of the ``buffer_m`` buffers of the street parts reached. With
    ``faces``, a sound block whose boundary edges are all fully reached is taken whole as
    its ring of width ``buffer_m`` (the block minus the block shrunk by ``buffer_m``: exactly
    the points of it within ``buffer_m`` of its edges), and the rings are joined by a
    coverage union; only edges that border another block or the outside, and dead ends
    inside blocks, are buffered and unioned one by one, with ``inner`` (a smaller band, to
    keep the bands nested). Same polygon as the plain union up to the buffers' arcs.
    """
    edge, start, end = reached_intervals(network, nodes, cutoff_m, sources=sources)
    extra = [] if inner is None else [inner]
    empty = shapely.Polygon()
    if faces is None or not len(faces.polygons):
        pieces = shapely.buffer(_pieces(network, edge, start, end), buffer_m, quad_segs=4)
        return empty, shapely.union_all([*pieces, *extra])
    full = _fully_reached(network, nodes, cutoff_m)
    blocked = ~faces.sound
    boundary = faces.boundary
    for side in (faces.left, faces.right):
        open_edge = boundary & (side >= 0) & ~full
        blocked[side[open_edge]] = True
    whole = ~blocked
    left, right = faces.left, faces.right
    inside = (boundary & (left >= 0) & (right >= 0)
              & whole[np.maximum(left, 0)] & whole[np.maximum(right, 0)])
    keep = ~inside[edge]
    pieces = shapely.buffer(_pieces(network, edge[keep], start[keep], end[keep]), buffer_m,
                            quad_segs=4)
    rest = shapely.union_all([*pieces, *extra])
    blocks = faces.polygons[whole]
    if not len(blocks):
        return empty, rest
    rings = shapely.difference(blocks, shapely.buffer(blocks, -buffer_m, quad_segs=4))
    return shapely.coverage_union_all(rings), rest


def service_areas(
    network: StreetNetwork,
    nodes: NodeDistances,
    *,
    sources: Snapped | None = None,
    cutoffs_m: Sequence[float] = DEFAULT_CUTOFFS_M,
    speed_m_per_min: float = 60.0,
    buffer_m: float = 25.0,
    kind: str | None = None,
    minutes: Sequence[float] | None = None,
    blocks: bool = True,
) -> gpd.GeoDataFrame:
    """Return network service-area polygons, one per cutoff (not circles, not convex hulls).

    Each polygon is the union of the street parts reached within the cutoff (edges cut
    where the walk runs out), buffered by ``buffer_m`` so that the houses along them are
    inside. Bands are nested: the 10-minute polygon contains the 5-minute one (with
    ``blocks``, to the buffers' polygonal arcs, under 0.5 m).

    Parameters
    ----------
    network
        The street network.
    nodes
        Node distances (m) from the facilities, see :func:`geo.paths.node_distances`.
    sources
        The facilities' snapped access points, so that the edges they stand on are covered.
    cutoffs_m
        Walking distances (m); default 300/600/900 m = 5/10/15 minutes at 60 m/min.
    speed_m_per_min
        Walking speed used for the ``minutes`` column when ``minutes`` is not given.
    buffer_m
        Buffer around reached streets (m).
    kind
        Facility kind written to a ``kind`` column when given.
    minutes
        The minutes each cutoff stands for, in the order of ``cutoffs_m`` (for bands
        defined by distance, such as planning life circles); default ``cutoff / speed``.
    blocks
        Take the blocks whose edges are all reached whole (see :func:`geo.faces.street_faces`)
        instead of unioning each of their edges' buffers: the same polygon (to the buffers'
        polygonal arcs, about 0.01% of the area) several times faster once bands cover most
        of a city. ``False`` unions every piece.

    Returns
    -------
    geopandas.GeoDataFrame
        Columns ``kind`` (when given), ``cutoff_m``, ``minutes`` and ``geometry``
        (Polygon/MultiPolygon, empty when nothing is reached), in the network CRS.
    """
    geometries: list[shapely.Geometry] = []
    faces = street_faces(network) if blocks else None
    rest: shapely.Geometry | None = None
    for cutoff in sorted(cutoffs_m):
        # Buffering each piece and unioning the polygons is about 3x faster than buffering
        # one MultiLineString (GEOS nodes the whole collection first); same area. Without
        # blocks the previous band joins the union (bands nested despite the buffers'
        # polygonal arcs); with blocks that union would cost more than all the rest, and
        # the bands nest to the arcs' precision (< 0.5 m at 25 m).
        whole, rest = _band(network, nodes, float(cutoff), sources=sources,
                            buffer_m=buffer_m, faces=faces,
                            inner=rest if faces is None else None)
        geometries.append(rest if whole.is_empty else shapely.union(whole, rest))
    data: dict[str, object] = {}
    if kind is not None:
        data["kind"] = [kind] * len(geometries)
    order = np.argsort(np.asarray(cutoffs_m, dtype=np.float64), kind="stable")
    bands = np.asarray(cutoffs_m, dtype=np.float64)[order]
    data["cutoff_m"] = bands
    data["minutes"] = (np.asarray(minutes, dtype=np.float64)[order] if minutes is not None
                       else bands / speed_m_per_min)
    return gpd.GeoDataFrame(data, geometry=geometries, crs=network.crs)
