"""Walking distances from many sources at once: multi-source Dijkstra on a street network."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import dijkstra

from cfplan.geo.snap import Snapped, concat_snapped
from cfplan.geo.street_network import StreetNetwork

__all__ = [
    "Nearest",
    "NearestByKind",
    "NodeDistances",
    "augmented_matrix",
    "nearest_by_kind",
    "nearest_source",
    "node_distances",
    "target_distances",
]


@dataclass(frozen=True, eq=False)
class NodeDistances:
    """Walking distance from the nearest source to every network node.

    Attributes
    ----------
    distance
        Metres, shape ``(n_nodes,)``; ``inf`` where no source is within ``limit_m``.
    source
        Row of the nearest source access point in the ``Snapped`` sources, ``-1`` if none.
    limit_m
        Search limit used (m).
    """

    distance: np.ndarray
    source: np.ndarray
    limit_m: float


@dataclass(frozen=True, eq=False)
class Nearest:
    """Nearest source for each target point.

    Attributes
    ----------
    distance
        Walking distance in metres, snap distances of source and target included;
        ``inf`` beyond the limit. Shape ``(n_targets,)``.
    source
        Row of the nearest source access point, ``-1`` if none within the limit.
    owner
        ``owner`` of that access point (e.g. the facility's position), ``-1`` if none.
    """

    distance: np.ndarray
    source: np.ndarray
    owner: np.ndarray


@dataclass(frozen=True, eq=False)
class NearestByKind:
    """Nearest source of each kind for each target point.

    Attributes
    ----------
    kinds
        Kind names, one per column.
    distance
        Metres, shape ``(n_targets, n_kinds)``; ``inf`` beyond each kind's limit.
    owner
        ``owner`` of the nearest access point of each kind, ``-1`` if none; same shape.
    nodes
        Per kind, the :class:`NodeDistances` over the network nodes (for service areas).
    """

    kinds: tuple[str, ...]
    distance: np.ndarray
    owner: np.ndarray
    nodes: dict[str, NodeDistances]


def augmented_matrix(network: StreetNetwork, sources: Snapped) -> sp.csr_matrix:
    """Network matrix plus one virtual node per source with arcs to its edge's two ends.

    The virtual node ``n + k`` of source ``k`` has outgoing arcs only, so no path passes
    through a source, and weights ``snap + along`` to ``u`` and ``snap + length - along``
    to ``v``.
    """
    base = network.matrix
    n, m = base.shape[0], len(sources)
    edge = sources.edge
    u, v = network.edge_u[edge], network.edge_v[edge]
    w_u = sources.snap_m + sources.along_m
    w_v = sources.snap_m + (network.edge_length[edge] - sources.along_m)
    indices = np.concatenate([base.indices, np.column_stack([u, v]).ravel().astype(
        base.indices.dtype)])
    data = np.concatenate([base.data, np.column_stack([w_u, w_v]).ravel()])
    indptr = np.concatenate([base.indptr, base.indptr[-1] + 2 * np.arange(1, m + 1)]).astype(
        base.indptr.dtype)
    return sp.csr_matrix((data, indices, indptr), shape=(n + m, n + m))


def _dijkstra(
    matrix: sp.csr_matrix, n: int, first: int, count: int, limit_m: float
) -> NodeDistances:
    """Multi-source Dijkstra from virtual nodes ``n + first .. n + first + count - 1``."""
    if count == 0:
        return NodeDistances(np.full(n, np.inf), np.full(n, -1, dtype=np.int64), limit_m)
    dist, _, src = dijkstra(
        matrix,
        directed=True,
        indices=np.arange(n + first, n + first + count),
        return_predecessors=True,
        limit=limit_m,
        min_only=True,
    )
    dist = dist[:n]
    src = np.where(np.isfinite(dist), src[:n].astype(np.int64) - n - first, -1)
    return NodeDistances(dist, src, limit_m)


def node_distances(
    network: StreetNetwork, sources: Snapped, *, limit_m: float = np.inf
) -> NodeDistances:
    """Compute the walking distance from the nearest of ``sources`` to every node.

    One Dijkstra (``scipy.sparse.csgraph.dijkstra`` with ``min_only=True``) on the network
    augmented with a virtual node per source access point.

    Parameters
    ----------
    network
        The street network.
    sources
        Snapped access points (snap and along-edge offsets are walked).
    limit_m
        Stop searching beyond this distance (m).

    Returns
    -------
    NodeDistances
        Distances in metres and the nearest source row per node.
    """
    matrix = augmented_matrix(network, sources)
    return _dijkstra(matrix, network.n_nodes, 0, len(sources), float(limit_m))


def target_distances(
    network: StreetNetwork,
    sources: Snapped,
    targets: Snapped,
    nodes: NodeDistances,
) -> Nearest:
    """Compute the distance from the nearest source to snapped targets, given node distances.

    A target on edge ``(u, v)`` at ``along`` from ``u`` is reached through ``u``
    (``d[u] + along``) or ``v`` (``d[v] + length - along``), or directly along the edge from
    a source on the same edge (``|along_s - along_t| + snap_s``); its own snap distance is
    added.

    Parameters
    ----------
    network
        The street network.
    sources
        The sources that ``nodes`` was computed from.
    targets
        Snapped target points.
    nodes
        Output of :func:`node_distances` for ``sources``.

    Returns
    -------
    Nearest
        Distances in metres (``inf`` beyond ``nodes.limit_m``), source rows and owners.
    """
    e = targets.edge
    u, v = network.edge_u[e], network.edge_v[e]
    via_u = nodes.distance[u] + targets.along_m
    via_v = nodes.distance[v] + (network.edge_length[e] - targets.along_m)
    use_u = via_u <= via_v
    best = np.where(use_u, via_u, via_v)
    source = np.where(use_u, nodes.source[u], nodes.source[v])
    # sources on the target's own edge: walk straight along it
    if len(sources):
        order = np.argsort(sources.edge, kind="stable")
        sorted_edge = sources.edge[order]
        lo = np.searchsorted(sorted_edge, e, side="left")
        hi = np.searchsorted(sorted_edge, e, side="right")
        counts = hi - lo
        if counts.any():
            t = np.repeat(np.arange(len(targets)), counts)
            offset = np.arange(len(t)) - np.repeat(np.cumsum(counts) - counts, counts)
            s = order[lo[t] + offset]
            direct = np.abs(sources.along_m[s] - targets.along_m[t]) + sources.snap_m[s]
            pick = np.lexsort((direct, t))
            first = np.ones(len(pick), dtype=bool)
            first[1:] = t[pick][1:] != t[pick][:-1]
            t_best, s_best, d_best = t[pick][first], s[pick][first], direct[pick][first]
            better = d_best < best[t_best]
            best[t_best[better]] = d_best[better]
            source[t_best[better]] = s_best[better]
    distance = best + targets.snap_m
    beyond = ~(distance <= nodes.limit_m)
    distance[beyond] = np.inf
    source = np.where(beyond, -1, source)
    owner = np.where(source >= 0, sources.owner[np.maximum(source, 0)], -1) if len(sources) \
        else np.full(len(targets), -1, dtype=np.int64)
    return Nearest(distance, source.astype(np.int64), owner.astype(np.int64))


def nearest_source(
    network: StreetNetwork, sources: Snapped, targets: Snapped, *, limit_m: float = np.inf
) -> Nearest:
    """Compute the walking distance from each target to its nearest source (one Dijkstra).

    Parameters
    ----------
    network
        The street network.
    sources
        Snapped source access points; ``owner`` says which facility each belongs to.
    targets
        Snapped targets (demand points).
    limit_m
        Search limit (m); targets farther than this get ``inf``.

    Returns
    -------
    Nearest
        Per target: distance in metres (snaps included), source row and owner.
    """
    nodes = node_distances(network, sources, limit_m=limit_m)
    return target_distances(network, sources, targets, nodes)


def nearest_by_kind(
    network: StreetNetwork,
    sources: Mapping[str, Snapped],
    targets: Snapped,
    *,
    limit_m: float | Mapping[str, float] = np.inf,
) -> NearestByKind:
    """Nearest facility of every kind for every target: one Dijkstra per kind.

    The network is augmented once with the access points of all kinds; each kind's search
    starts only from its own virtual nodes (which no path can pass through).

    Parameters
    ----------
    network
        The street network.
    sources
        Kind name -> snapped access points of that kind's facilities (``owner`` = facility).
    targets
        Snapped targets (demand points).
    limit_m
        Search limit in metres, one for all kinds or per kind (missing kinds: unlimited).

    Returns
    -------
    NearestByKind
        ``(n_targets, n_kinds)`` distance (m) and owner arrays, and node distances per kind.
    """
    kinds = tuple(sources)
    parts = [sources[k] for k in kinds]
    matrix = augmented_matrix(network, concat_snapped(parts))
    distance = np.full((len(targets), len(kinds)), np.inf)
    owner = np.full((len(targets), len(kinds)), -1, dtype=np.int64)
    nodes: dict[str, NodeDistances] = {}
    first = 0
    for j, (kind, part) in enumerate(zip(kinds, parts, strict=True)):
        limit = limit_m.get(kind, np.inf) if isinstance(limit_m, Mapping) else limit_m
        nodes[kind] = _dijkstra(matrix, network.n_nodes, first, len(part), float(limit))
        first += len(part)
        near = target_distances(network, part, targets, nodes[kind])
        distance[:, j] = near.distance
        owner[:, j] = near.owner
    return NearestByKind(kinds, distance, owner, nodes)
