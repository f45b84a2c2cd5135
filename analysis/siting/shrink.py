"""Shrink a coverage model before solving: merge equal demand rows, drop dominated sites."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

__all__ = ["dominated_columns", "merge_rows"]


def merge_rows(matrix: sp.csr_array, *, with_values: bool = False,
               extra: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Group the rows of a CSR matrix that have the same stored pattern (and values).

    Parameters
    ----------
    matrix
        CSR with sorted indices.
    with_values
        Rows must also have equal values to merge (p-median distances).
    extra
        Optional per-row value that must be equal too (e.g. a fallback cost).

    Returns
    -------
    tuple[numpy.ndarray, numpy.ndarray]
        ``first``: the first row of each group (ascending) and ``group``: each row's group
        (index into ``first``).
    """
    indptr, indices = matrix.indptr, matrix.indices.astype(np.int64)
    data = matrix.data.astype(np.float64)
    seen: dict[bytes, int] = {}
    group = np.empty(matrix.shape[0], dtype=np.int64)
    first: list[int] = []
    for i in range(matrix.shape[0]):
        a, b = indptr[i], indptr[i + 1]
        key = indices[a:b].tobytes()
        if with_values:
            key += b"|" + data[a:b].tobytes()
        if extra is not None:
            key += b"#" + np.float64(extra[i]).tobytes()
        g = seen.setdefault(key, len(first))
        if g == len(first):
            first.append(i)
        group[i] = g
    return np.asarray(first, dtype=np.int64), group


def dominated_columns(cover: sp.csr_array, weight: np.ndarray,
                      groups: np.ndarray | None = None) -> np.ndarray:
    """Flag the columns of a 0/1 coverage matrix that another column dominates.

    Column ``j`` is dominated by ``k`` when every row ``j`` covers is covered by ``k`` too
    (rows of zero weight ignored), ``k`` is in the same group (when ``groups`` is given) and
    ``k`` covers more, or as much with a lower index. The relation is a strict order, so
    every group keeps its undominated columns, at least one; a maximal-coverage or set-cover
    optimum never needs a dominated column.

    Returns
    -------
    numpy.ndarray
        Boolean mask over columns, ``True`` = dominated (may be dropped).
    """
    n_cols = cover.shape[1]
    live = sp.csr_array(cover[np.flatnonzero(np.asarray(weight) > 0)])
    live.data[:] = 1.0
    size = np.asarray(live.sum(axis=0)).ravel()
    group = np.zeros(n_cols, dtype=np.int64) if groups is None else np.asarray(groups)
    csc = sp.csc_array(live)
    overlap = sp.coo_array(csc.T @ csc)
    j, k, both = overlap.row, overlap.col, overlap.data
    beats = (j != k) & (both >= size[j] - 0.5) & (group[j] == group[k]) & (
        (size[k] > size[j]) | (k < j))
    dominated = np.zeros(n_cols, dtype=bool)
    dominated[j[beats]] = True
    # empty columns: dominated by any other column of their group (the first one if all empty)
    empty = np.flatnonzero(size == 0)
    if len(empty):
        _, inverse = np.unique(group, return_inverse=True)
        best = np.full(inverse.max() + 1, -1, dtype=np.int64)
        order = np.lexsort((np.arange(n_cols), -size))  # largest first, then lowest index
        best[inverse[order[::-1]]] = order[::-1]
        dominated[empty] = best[inverse[empty]] != empty
    return dominated
