"""Faces of a street network: the city blocks its edges enclose, and the face on each side of an edge."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely

from cfplan.geo.street_network import StreetNetwork

__all__ = ["Faces", "street_faces"]

_SIDE_OFFSET_M = 0.01  # how far beside an edge's middle its two sides are looked up
_CLOSURE_TOLERANCE = 1e-6  # relative: a face's boundary edges must add up to its ring length


@dataclass(frozen=True)
class Faces:
    """The faces (blocks) of a street network, as :func:`shapely.polygonize` forms them.

    Attributes
    ----------
    polygons
        Face polygons, shape ``(f,)``, in the network CRS.
    left, right
        Per edge, the face on each side of its middle (``-1``: outside every face).
    sound
        Per face: usable as a block (its boundary edges add up to its whole ring, it overlaps
        no other face, no edge crosses it). Faces that are not sound are never trusted.
        Edges inside a face (dead ends) have that face on both sides: they bound nothing.
    """

    polygons: np.ndarray
    left: np.ndarray
    right: np.ndarray
    sound: np.ndarray

    @property
    def boundary(self) -> np.ndarray:
        """Per edge: it separates two different faces, or a face from the outside."""
        return self.left != self.right


def _side_points(network: StreetNetwork) -> tuple[np.ndarray, np.ndarray]:
    """Return two points just left and right of each edge's middle (shapely arrays)."""
    geoms = network.edge_geometry
    length = shapely.length(geoms)
    step = np.minimum(0.05, length * 0.01)
    a = shapely.line_interpolate_point(geoms, np.maximum(0.0, length / 2 - step))
    b = shapely.line_interpolate_point(geoms, np.minimum(length, length / 2 + step))
    mid = shapely.line_interpolate_point(geoms, 0.5, normalized=True)
    dx = shapely.get_x(b) - shapely.get_x(a)
    dy = shapely.get_y(b) - shapely.get_y(a)
    norm = np.hypot(dx, dy)
    norm[norm == 0] = 1.0
    ox, oy = -dy / norm * _SIDE_OFFSET_M, dx / norm * _SIDE_OFFSET_M
    mx, my = shapely.get_x(mid), shapely.get_y(mid)
    return shapely.points(mx + ox, my + oy), shapely.points(mx - ox, my - oy)


def street_faces(network: StreetNetwork) -> Faces:
    """Return the faces of ``network`` and the face on each side of every edge (cached).

    Faces come from :func:`shapely.polygonize` over the edge geometries. A face is *sound*
    when the edges with it on exactly one side add up to its ring length (to 1e-6), it
    overlaps no other face and no edge crosses it: only then is it a block whose edges
    bound it completely. Kept on the network (``network._cache``).

    Returns
    -------
    Faces
        Face polygons (network CRS) and the per-edge sides.
    """
    cached = network._cache.get("faces")
    if cached is not None:
        return cached
    geoms = network.edge_geometry
    n_edges = len(geoms)
    polygons = (np.asarray(shapely.get_parts(shapely.polygonize(list(geoms))))
                if n_edges else np.empty(0, dtype=object))
    n_faces = len(polygons)
    tree = shapely.STRtree(polygons)
    sides = []
    for points in _side_points(network):
        side = np.full(n_edges, -1, dtype=np.int64)
        edge, face = tree.query(points, predicate="within")
        side[edge] = face
        sides.append(side)
    left, right = sides
    sound = np.ones(n_faces, dtype=bool)
    # Faces that overlap each other (edges crossing without a node) are not blocks.
    for predicate in ("overlaps", "contains"):
        a, b = tree.query(polygons, predicate=predicate)
        other = a != b
        sound[a[other]] = False
        sound[b[other]] = False
    # An edge crossing a face without a node: the face is not a block.
    _, crossing_face = tree.query(geoms, predicate="crosses")
    sound[crossing_face] = False
    # The boundary edges of a face must account for its whole ring (exterior and holes).
    edge_len = shapely.length(geoms)
    ring_len = np.zeros(n_faces)
    boundary = left != right
    for side in (left, right):
        m = boundary & (side >= 0)
        np.add.at(ring_len, side[m], edge_len[m])
    perimeter = shapely.length(polygons) if n_faces else np.zeros(0)
    sound &= np.abs(ring_len - perimeter) <= _CLOSURE_TOLERANCE * np.maximum(1.0, perimeter)
    faces = Faces(polygons=polygons, left=left, right=right, sound=sound)
    network._cache["faces"] = faces
    return faces
