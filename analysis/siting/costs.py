"""Sparse demand × site cost matrices: walking (bounded Dijkstra) or straight-line (KD-tree).

Every cost matrix in :mod:`analysis.siting` is a CSR array whose **stored entries are the
pairs that may be used**, with their distance in metres as the value (explicit zeros kept:
a distance of 0 is a stored 0). A pair that is not stored is out of reach. Dense input is
turned into this form by :func:`as_cost_matrix` (``inf`` / NaN = out of reach).
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import dijkstra
from scipy.spatial import cKDTree

from cfplan.geo.paths import augmented_matrix
from cfplan.geo.snap import Snapped
from cfplan.geo.street_network import StreetNetwork

__all__ = ["DistanceMode", "as_cost_matrix", "csr_from_pairs", "gather_rows",
           "straight_line_costs", "walking_costs", "within"]

DistanceMode = Literal["walking", "straight_line", "given"]
_BATCH_CELLS = 4_000_000  # Dijkstra output cells (sources × nodes) held at once


def gather_rows(indptr: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Positions of the stored entries of ``rows`` in a CSR structure, and their row.

    Returns
    -------
    tuple[numpy.ndarray, numpy.ndarray]
        Entry positions (into ``indices``/``data``) and, for each, its position in ``rows``.
    """
    rows = np.asarray(rows, dtype=np.int64)
    start = indptr[rows].astype(np.int64)
    count = indptr[rows + 1].astype(np.int64) - start
    which = np.repeat(np.arange(len(rows)), count)
    offset = np.arange(len(which)) - np.repeat(np.cumsum(count) - count, count)
    return start[which] + offset, which


def csr_from_pairs(row: np.ndarray, col: np.ndarray, value: np.ndarray,
                   shape: tuple[int, int]) -> sp.csr_array:
    """Build a CSR array from pairs, keeping the minimum of duplicates and explicit zeros.

    Returns
    -------
    scipy.sparse.csr_array
        Sorted indices, one entry per distinct ``(row, col)``.
    """
    row = np.asarray(row, np.int64)
    col = np.asarray(col, np.int64)
    value = np.asarray(value, np.float64)
    order = np.lexsort((value, col, row))
    row, col, value = row[order], col[order], value[order]
    first = np.ones(len(row), dtype=bool)
    first[1:] = (row[1:] != row[:-1]) | (col[1:] != col[:-1])
    row, col, value = row[first], col[first], value[first]
    indptr = np.zeros(shape[0] + 1, dtype=np.int64)
    np.cumsum(np.bincount(row, minlength=shape[0]), out=indptr[1:])
    return sp.csr_array((value, col, indptr), shape=shape)


def as_cost_matrix(cost: np.ndarray | sp.sparray | sp.spmatrix, *,
                   max_distance: float = np.inf) -> sp.csr_array:
    """Turn a demand × site cost array into the sparse reachable-pairs form.

    Parameters
    ----------
    cost
        Dense array (``inf`` or NaN: out of reach) or scipy.sparse matrix (stored entries are
        the reachable pairs, explicit zeros included).
    max_distance
        Pairs costing more than this are dropped.

    Returns
    -------
    scipy.sparse.csr_array
        Float64 CSR of the reachable pairs with their cost, sorted indices.
    """
    if sp.issparse(cost):
        coo = sp.coo_array(cost)
        row, col, value = coo.row, coo.col, coo.data.astype(np.float64)
        shape = coo.shape
    else:
        dense = np.asarray(cost, dtype=np.float64)
        if dense.ndim != 2:
            msg = "cost must be a 2-D demand × candidate array"
            raise ValueError(msg)
        row, col = np.nonzero(~np.isnan(dense) & (dense <= max_distance))
        value = dense[row, col]
        shape = dense.shape
    keep = ~np.isnan(value) & (value <= max_distance)
    if (value[keep] < 0).any():
        msg = "costs must be non-negative"
        raise ValueError(msg)
    return csr_from_pairs(row[keep], col[keep], value[keep], (int(shape[0]), int(shape[1])))


def within(cost: sp.csr_array, radius: float) -> sp.csr_array:
    """Return the 0/1 coverage matrix of the pairs costing at most ``radius``.

    Returns
    -------
    scipy.sparse.csr_array
        Same shape as ``cost``; value 1.0 on each covering pair.
    """
    keep = cost.data <= radius
    row = np.repeat(np.arange(cost.shape[0]), np.diff(cost.indptr))[keep]
    indptr = np.zeros(cost.shape[0] + 1, dtype=np.int64)
    np.cumsum(np.bincount(row, minlength=cost.shape[0]), out=indptr[1:])
    return sp.csr_array((np.ones(int(keep.sum())), cost.indices[keep], indptr),
                        shape=cost.shape)


def walking_costs(network: StreetNetwork, demand: Snapped, sites: Snapped, *,
                  max_distance_m: float, n_sites: int | None = None) -> sp.csr_array:
    """Measure the walk from every site to every demand point within ``max_distance_m``.

    One bounded Dijkstra per site access point (``scipy.sparse.csgraph.dijkstra`` with
    ``limit``, in batches so that at most a few million distances are held at once) on the
    network augmented with a virtual node per access point, as in :mod:`geo.paths`. Each
    reached node passes its distance to the demand points on its edges (``+ along`` from
    ``u``, ``+ length - along`` from ``v``); a site on the demand point's own edge also walks
    straight along it. Both snap distances are walked. A site with several access points
    (``owner``) takes the nearest of them. Nothing dense of size demand × sites is formed.

    Parameters
    ----------
    network
        The street network.
    demand
        Snapped demand points; row ``i`` of the result is ``demand`` point ``i``.
    sites
        Snapped site access points; column = ``owner``.
    max_distance_m
        Pairs farther than this are not stored (m).
    n_sites
        Number of columns (default ``max(owner) + 1``).

    Returns
    -------
    scipy.sparse.csr_array
        ``(len(demand), n_sites)`` walking metres of every pair within ``max_distance_m``.
    """
    n_cols = int(sites.owner.max()) + 1 if n_sites is None and len(sites) else int(n_sites or 0)
    shape = (len(demand), n_cols)
    if not len(sites) or not len(demand):
        return sp.csr_array(shape)
    n = network.n_nodes
    matrix = augmented_matrix(network, sites)
    # node -> demand points on its edges, with the walk from the node to the point
    e = demand.edge
    length = network.edge_length[e]
    inc_node = np.concatenate([network.edge_u[e], network.edge_v[e]])
    inc_point = np.tile(np.arange(len(demand)), 2)
    inc_walk = np.concatenate([demand.along_m, length - demand.along_m]) + np.tile(
        demand.snap_m, 2)
    order = np.argsort(inc_node, kind="stable")
    inc_point, inc_walk = inc_point[order], inc_walk[order]
    inc_ptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(inc_node, minlength=n), out=inc_ptr[1:])
    rows, cols, vals = [], [], []
    batch = max(1, _BATCH_CELLS // (n + len(sites)))
    for first in range(0, len(sites), batch):
        idx = np.arange(first, min(first + batch, len(sites)))
        dist = dijkstra(matrix, directed=True, indices=n + idx, limit=max_distance_m)[:, :n]
        src, node = np.nonzero(np.isfinite(dist))
        pos, which = gather_rows(inc_ptr, node)
        walk = dist[src[which], node[which]] + inc_walk[pos]
        keep = walk <= max_distance_m
        rows.append(inc_point[pos][keep])
        cols.append(sites.owner[idx[src[which]]][keep])
        vals.append(walk[keep])
    # a site on the demand point's own edge: straight along it
    s_order = np.argsort(sites.edge, kind="stable")
    s_edge = sites.edge[s_order]
    lo = np.searchsorted(s_edge, e, side="left")
    count = np.searchsorted(s_edge, e, side="right") - lo
    point = np.repeat(np.arange(len(demand)), count)
    site = s_order[lo[point] + np.arange(len(point)) - np.repeat(np.cumsum(count) - count,
                                                                   count)]
    direct = (np.abs(sites.along_m[site] - demand.along_m[point]) + sites.snap_m[site]
              + demand.snap_m[point])
    keep = direct <= max_distance_m
    rows.append(point[keep])
    cols.append(sites.owner[site][keep])
    vals.append(direct[keep])
    return csr_from_pairs(np.concatenate(rows), np.concatenate(cols), np.concatenate(vals),
                          shape)


def straight_line_costs(demand_xy: np.ndarray, site_xy: np.ndarray, *,
                        max_distance_m: float) -> sp.csr_array:
    """Straight-line distance of every demand × site pair within ``max_distance_m`` (KD-tree).

    Only for an explicit ``metric="euclidean"``: results built on it carry
    ``distance_mode == "straight_line"``.

    Parameters
    ----------
    demand_xy, site_xy
        ``(n, 2)`` coordinates in a metric CRS (m).
    max_distance_m
        Pairs farther than this are not stored.

    Returns
    -------
    scipy.sparse.csr_array
        ``(len(demand_xy), len(site_xy))`` metres.
    """
    demand_xy = np.asarray(demand_xy, np.float64).reshape(-1, 2)
    site_xy = np.asarray(site_xy, np.float64).reshape(-1, 2)
    shape = (len(demand_xy), len(site_xy))
    if not (len(demand_xy) and len(site_xy)):
        return sp.csr_array(shape)
    pairs = cKDTree(demand_xy).sparse_distance_matrix(cKDTree(site_xy), max_distance_m,
                                                      output_type="ndarray")
    return csr_from_pairs(pairs["i"], pairs["j"], pairs["v"], shape)
