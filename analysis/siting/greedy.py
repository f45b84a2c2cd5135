"""Greedy heuristics: warm starts for HiGHS, the fallback for big instances, and ranking."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import scipy.sparse as sp

from cfplan.analysis.siting.costs import gather_rows

__all__ = ["greedy_cover", "greedy_median", "mclp_greedy_bound"]


def _forced(groups: np.ndarray | None, required: Sequence[object],
            picked: list[int]) -> np.ndarray | None:
    """Columns of the required groups not yet holding a picked column (None: all met)."""
    if groups is None or not len(required):
        return None
    met = set(groups[picked].tolist()) if picked else set()
    open_groups = [g for g in required if g not in met]
    if not open_groups:
        return None
    return np.isin(groups, np.asarray(open_groups, dtype=object))


def greedy_cover(
    cover: sp.csr_array,
    weight: np.ndarray,
    *,
    budget: int | None = None,
    target: float | None = None,
    columns: np.ndarray | None = None,
    groups: np.ndarray | None = None,
    required: Sequence[object] = (),
    at_least: int = 0,
    initial: Sequence[int] = (),
) -> tuple[list[int], list[float]]:
    """Pick columns one at a time, each covering the most weight not yet covered.

    Stops after ``budget`` picks, once the covered weight reaches ``target``, or when no
    column adds anything; the picks then go on while a required group has no column or
    fewer than ``at_least`` are picked. When the picks left equal the required groups still
    open, only their columns may be picked (so a feasible budget is never wasted).

    Parameters
    ----------
    cover
        0/1 CSR, rows = demand, columns = candidate sites.
    weight
        Weight of each row.
    budget
        At most this many picks.
    target
        Stop once this much weight is covered.
    columns
        Only these columns may be picked (default all).
    groups, required
        Each column's group, and the groups that need at least one pick.
    at_least
        Pick at least this many columns.
    initial
        Columns taken first, in this order (a known solution to complete).

    Returns
    -------
    tuple[list[int], list[float]]
        The columns in the order picked and the weight each newly covered.
    """
    n_rows, n_cols = cover.shape
    weight = np.asarray(weight, np.float64)
    csc = sp.csc_array(cover)
    gain = np.asarray(csc.T @ weight).ravel()
    allowed = np.zeros(n_cols, dtype=bool)
    allowed[np.arange(n_cols) if columns is None else np.asarray(columns, np.int64)] = True
    covered = np.zeros(n_rows, dtype=bool)
    total = 0.0
    picked: list[int] = []
    gains: list[float] = []
    limit = n_cols if budget is None else min(budget, n_cols)
    queue = [int(j) for j in initial][:limit]
    while len(picked) < limit and allowed.any():
        forced = _forced(groups, required, picked)
        n_open = 0 if forced is None or groups is None else len(
            set(required) - set(groups[picked].tolist()))
        if queue:
            j = queue.pop(0)
            if forced is not None and limit - len(picked) <= n_open and not forced[j]:
                continue  # the picks left are needed for the required groups
        else:
            done = (target is not None and total >= target - 1e-9) or not (
                gain[allowed] > 1e-12).any()
            if done and forced is None and len(picked) >= at_least:
                break
            mask = allowed & forced if forced is not None and (
                done or limit - len(picked) <= n_open) else allowed
            if not mask.any():
                break
            j = int(np.argmax(np.where(mask, gain, -np.inf)))
        rows = csc.indices[csc.indptr[j]:csc.indptr[j + 1]]
        rows = rows[~covered[rows]]
        covered[rows] = True
        pos, which = gather_rows(cover.indptr, rows)
        gain -= np.bincount(cover.indices[pos], weights=weight[rows][which], minlength=n_cols)
        added = float(weight[rows].sum())
        total += added
        picked.append(j)
        gains.append(added)
        allowed[j] = False
    return picked, gains


def mclp_greedy_bound(greedy_value: float, p: int, coverable: float) -> float:
    """Upper bound on the maximal coverage with ``p`` sites from a greedy value.

    Greedy reaches at least ``1 - (1 - 1/p)^p`` (> 1 - 1/e) of the optimum of a coverage
    function under a cardinality constraint (Nemhauser, Wolsey & Fisher 1978), so the
    optimum is at most ``greedy / (1 - (1 - 1/p)^p)``, and never more than ``coverable``.

    Returns
    -------
    float
        The bound (weight units).
    """
    if p <= 0:
        return greedy_value
    ratio = 1.0 - (1.0 - 1.0 / p) ** p
    return float(min(coverable, greedy_value / ratio))


def greedy_median(
    cost: sp.csr_array,
    weight: np.ndarray,
    fallback: np.ndarray,
    *,
    budget: int,
    columns: np.ndarray | None = None,
    groups: np.ndarray | None = None,
    required: Sequence[object] = (),
) -> tuple[list[int], list[float]]:
    """Add sites one at a time, each cutting the total weighted distance the most.

    Each row walks to its nearest open site, or pays ``fallback`` (distance to an existing
    facility or the unassigned penalty; ``inf`` = must be assigned: such rows count as a
    very long walk while unassigned).

    Returns
    -------
    tuple[list[int], list[float]]
        Columns in the order picked and the weighted distance each saved (finite rows only).
    """
    n_rows, n_cols = cost.shape
    weight = np.asarray(weight, np.float64)
    big = 10.0 * (float(cost.data.max()) if cost.nnz else 1.0) + 1.0
    current = np.where(np.isfinite(fallback), fallback, big).astype(np.float64)
    row = np.repeat(np.arange(n_rows), np.diff(cost.indptr))
    col = cost.indices
    allowed = np.zeros(n_cols, dtype=bool)
    allowed[np.arange(n_cols) if columns is None else np.asarray(columns, np.int64)] = True
    picked: list[int] = []
    gains: list[float] = []
    while len(picked) < min(budget, n_cols) and allowed.any():
        saving = np.bincount(col, weights=weight[row] * np.maximum(current[row] - cost.data, 0),
                             minlength=n_cols)
        forced = _forced(groups, required, picked)
        n_open = 0 if forced is None or groups is None else len(
            set(required) - set(groups[picked].tolist()))
        mask = allowed & forced if forced is not None and budget - len(
            picked) <= n_open else allowed
        if not mask.any() or (forced is None and not (saving[mask] > 1e-12).any()):
            break
        j = int(np.argmax(np.where(mask, saving, -np.inf)))
        mine = col == j
        rows, dist = row[mine], cost.data[mine]
        before = current[rows].copy()
        current[rows] = np.minimum(current[rows], dist)
        finite = before < big
        gains.append(float((weight[rows] * (before - current[rows]))[finite].sum()))
        picked.append(j)
        allowed[j] = False
    return picked, gains


def improve_cover(
    cover: sp.csr_array,
    weight: np.ndarray,
    picked: Sequence[int],
    *,
    groups: np.ndarray | None = None,
    required: Sequence[object] = (),
    max_rounds: int = 500,
) -> list[int]:
    """Improve a maximal-coverage solution by swaps (one site out, one in) until none helps.

    The best swap of each round is found at once for all pairs: with ``c_i`` the picked
    sites covering row ``i``, dropping ``j`` loses the rows only ``j`` covers
    (``loss_j``), adding ``k`` gains the uncovered rows of ``k`` (``gain_k``) and the rows
    only ``j`` covers that ``k`` covers too come back (``back_jk``, a sparse sum over the
    rows with ``c_i = 1``): the swap changes coverage by ``gain_k - loss_j + back_jk``
    (the fast interchange of Whitaker 1983). A swap may not leave a required group empty.

    Returns
    -------
    list[int]
        The improved columns (same count), never covering less than ``picked``.
    """
    n_rows, n_cols = cover.shape
    chosen = [int(j) for j in picked]
    if not chosen or len(chosen) >= n_cols:
        return chosen
    weight = np.asarray(weight, np.float64)
    csc = sp.csc_array(cover)
    row_of = np.repeat(np.arange(n_rows), np.diff(cover.indptr))
    for _ in range(max_rounds):
        is_in = np.zeros(n_cols, dtype=bool)
        is_in[chosen] = True
        count = np.bincount(row_of[is_in[cover.indices]], minlength=n_rows)
        gain = np.asarray(csc.T @ np.where(count == 0, weight, 0.0)).ravel()
        only = count == 1
        sole = np.full(n_rows, -1, np.int64)
        hit = is_in[cover.indices] & only[row_of]
        sole[row_of[hit]] = cover.indices[hit]
        loss = np.bincount(sole[only], weights=weight[only], minlength=n_cols)
        # back[j, k]: rows only j covers that k covers too
        slot = np.full(n_cols, -1, np.int64)
        slot[chosen] = np.arange(len(chosen))
        pos, which = gather_rows(cover.indptr, np.flatnonzero(only))
        rows = np.flatnonzero(only)[which]
        back = sp.coo_array((weight[rows], (slot[sole[rows]], cover.indices[pos])),
                            shape=(len(chosen), n_cols)).toarray()
        delta = gain[None, :] - loss[chosen][:, None] + back
        delta[:, is_in] = -np.inf
        if groups is not None and len(required):
            for a, j in enumerate(chosen):
                g = groups[j]
                if g in required and sum(groups[c] == g for c in chosen) == 1:
                    delta[a, groups != g] = -np.inf
        a, k = (int(v) for v in np.unravel_index(int(np.argmax(delta)), delta.shape))
        if not delta[a, k] > 1e-9:
            break
        chosen[a] = int(k)
    return chosen
