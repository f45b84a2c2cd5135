"""Solver plumbing shared by every siting model: a sparse MIP in, HiGHS's honest answer out.

A model is a :class:`Mip` (column bounds and costs, a CSR constraint matrix with row bounds),
handed to HiGHS in one ``passModel`` call of flat arrays, never row by row. :func:`solve_mip`
sets the time limit and the relative gap, passes a warm start with ``setSolution`` and reads
back the model status, the incumbent, ``mip_dual_bound`` and the gap. A time-limited
incumbent is reported as ``time_limit``, never as optimal.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from functools import cache
from typing import Literal

import highspy
import numpy as np
import scipy.sparse as sp

__all__ = ["OPTIMAL_GAP", "Mip", "MipOutcome", "relative_gap", "solve_lp_bound", "solve_mip",
           "solver_name", "stack_rows"]

INF = highspy.kHighsInf
OPTIMAL_GAP = 1e-6
"""Relative gap at or under which a HiGHS ``Optimal`` answer is reported as ``optimal``."""

Status = Literal["optimal", "gap_limit", "time_limit", "node_limit", "infeasible", "error"]


@dataclass(frozen=True, eq=False)
class Mip:
    """A mixed-integer linear programme in flat arrays.

    Attributes
    ----------
    sense
        ``"min"`` or ``"max"``.
    cost
        Objective coefficient of each column, shape ``(n_cols,)``.
    col_lower, col_upper
        Column bounds.
    integer
        ``True`` for integer columns (binary with bounds 0..1).
    rows
        Constraint matrix, CSR, shape ``(n_rows, n_cols)``.
    row_lower, row_upper
        Row bounds (``±inf`` for one-sided rows).
    offset
        Constant added to the objective.
    """

    sense: Literal["min", "max"]
    cost: np.ndarray
    col_lower: np.ndarray
    col_upper: np.ndarray
    integer: np.ndarray
    rows: sp.csr_array
    row_lower: np.ndarray
    row_upper: np.ndarray
    offset: float = 0.0

    @property
    def n_cols(self) -> int:
        """Number of columns (variables)."""
        return len(self.cost)

    @property
    def n_rows(self) -> int:
        """Number of constraint rows."""
        return self.rows.shape[0]


@dataclass(frozen=True, eq=False)
class MipOutcome:
    """What HiGHS returned.

    Attributes
    ----------
    status
        ``optimal`` (HiGHS proved optimality to :data:`OPTIMAL_GAP`), ``gap_limit`` (stopped
        at the requested relative gap, above :data:`OPTIMAL_GAP`), ``time_limit``,
        ``node_limit``, ``infeasible`` or ``error``.
    values
        Column values of the incumbent, ``None`` when there is none.
    objective
        Objective of the incumbent (NaN when there is none).
    bound
        HiGHS's proven bound on the optimum (``mip_dual_bound``; ``±inf`` when it has none).
    gap
        :func:`relative_gap` of ``objective`` and ``bound``.
    seconds
        Wall time of ``passModel`` + ``run``.
    nodes
        Branch-and-bound nodes explored.
    highs_status
        HiGHS's own model status text (e.g. ``"Time limit reached"``).
    """

    status: Status
    values: np.ndarray | None
    objective: float
    bound: float
    gap: float
    seconds: float
    nodes: int
    highs_status: str


@cache
def solver_name() -> str:
    """Return ``"highs <version>"`` of the HiGHS build in use."""
    return f"highs {highspy.Highs().version()}"


def relative_gap(objective: float, bound: float) -> float:
    """Relative optimality gap ``|objective - bound| / max(|objective|, 1e-9)``.

    Returns
    -------
    float
        0 when both are equal (0 and 0 included), ``inf`` when either is not finite.
    """
    if not (np.isfinite(objective) and np.isfinite(bound)):
        return float("inf")
    diff = abs(objective - bound)
    if diff <= 1e-9:
        return 0.0
    return float(diff / max(abs(objective), 1e-9))


def stack_rows(
    blocks: list[tuple[sp.sparray, np.ndarray, np.ndarray]], n_cols: int
) -> tuple[sp.csr_array, np.ndarray, np.ndarray]:
    """Stack constraint blocks ``(matrix, lower, upper)`` into one CSR matrix and bounds.

    Returns
    -------
    tuple[scipy.sparse.csr_array, numpy.ndarray, numpy.ndarray]
        The matrix (``n_cols`` columns) and the row bounds.
    """
    blocks = [b for b in blocks if b[0].shape[0]]
    if not blocks:
        return sp.csr_array((0, n_cols)), np.empty(0), np.empty(0)
    matrix = sp.vstack([sp.csr_array(b[0]) for b in blocks], format="csr")
    lower = np.concatenate([np.broadcast_to(b[1], b[0].shape[0]) for b in blocks])
    upper = np.concatenate([np.broadcast_to(b[2], b[0].shape[0]) for b in blocks])
    return sp.csr_array(matrix), lower.astype(np.float64), upper.astype(np.float64)


def _highs(mip: Mip, *, integer: bool, log: bool) -> highspy.Highs:
    h = highspy.Highs()
    h.setOptionValue("output_flag", bool(log))
    rows = mip.rows
    h.passModel(
        mip.n_cols, mip.n_rows, int(rows.nnz), int(highspy.MatrixFormat.kRowwise),
        int(highspy.ObjSense.kMaximize if mip.sense == "max" else highspy.ObjSense.kMinimize),
        float(mip.offset),
        np.asarray(mip.cost, np.float64), np.asarray(mip.col_lower, np.float64),
        np.asarray(mip.col_upper, np.float64),
        np.where(np.isfinite(mip.row_lower), mip.row_lower, -INF).astype(np.float64),
        np.where(np.isfinite(mip.row_upper), mip.row_upper, INF).astype(np.float64),
        rows.indptr.astype(np.int32), rows.indices.astype(np.int32),
        rows.data.astype(np.float64),
        (np.asarray(mip.integer, bool) & integer).astype(np.int32),
    )
    return h


def solve_mip(
    mip: Mip,
    *,
    time_limit: float,
    mip_rel_gap: float = OPTIMAL_GAP,
    start: dict[int, float] | None = None,
    max_nodes: int | None = None,
    presolve: bool = True,
    log: bool = False,
) -> MipOutcome:
    """Solve a MIP with HiGHS and report its true status, incumbent, bound and gap.

    Parameters
    ----------
    mip
        The model.
    time_limit
        Seconds HiGHS may run.
    mip_rel_gap
        HiGHS stops once its relative gap is at most this.
    start
        Warm start: column index -> value (a partial solution: HiGHS completes the rest).
    max_nodes
        Branch-and-bound node limit (``mip_max_nodes``).
    presolve
        Let HiGHS presolve the model.
    log
        Print HiGHS's log.

    Returns
    -------
    MipOutcome
        Status, incumbent, objective, bound (model units) and wall seconds.
    """
    began = time.perf_counter()
    h = _highs(mip, integer=True, log=log)
    h.setOptionValue("time_limit", float(time_limit))
    h.setOptionValue("mip_rel_gap", float(mip_rel_gap))
    if max_nodes is not None:
        h.setOptionValue("mip_max_nodes", int(max_nodes))
    if not presolve:
        h.setOptionValue("presolve", "off")
    if start:
        index = np.fromiter(start.keys(), dtype=np.int32, count=len(start))
        value = np.fromiter(start.values(), dtype=np.float64, count=len(start))
        h.setSolution(len(index), index, value)
    h.run()
    seconds = time.perf_counter() - began
    model_status = h.getModelStatus()
    info = h.getInfo()
    has_solution = info.primal_solution_status == 2  # kSolutionStatusFeasible
    values = np.asarray(h.getSolution().col_value, np.float64) if has_solution else None
    objective = float(info.objective_function_value) if has_solution else float("nan")
    bound = float(info.mip_dual_bound)
    if not np.isfinite(bound) or abs(bound) >= INF:
        bound = float("inf") if mip.sense == "max" else float("-inf")
    gap = relative_gap(objective, bound)
    codes = highspy.HighsModelStatus
    if model_status == codes.kOptimal:
        proven = gap <= OPTIMAL_GAP or abs(objective - bound) <= 1e-6
        status: Status = "optimal" if proven else "gap_limit"
    elif model_status == codes.kTimeLimit:
        status = "time_limit"
    elif model_status in (codes.kSolutionLimit, codes.kIterationLimit):
        status = "node_limit"
    elif model_status in (codes.kInfeasible, codes.kUnboundedOrInfeasible):
        status = "infeasible"
    else:
        status = "error"
    return MipOutcome(status, values, objective, bound, gap, seconds,
                      int(info.mip_node_count), h.modelStatusToString(model_status))


def solve_lp_bound(mip: Mip, *, time_limit: float) -> float:
    """Solve the LP relaxation and return its optimum, a bound on the MIP optimum.

    Returns
    -------
    float
        The LP optimum (an upper bound for ``max``, a lower bound for ``min``); ``±inf``
        (the trivial bound) when the LP did not solve in time.
    """
    h = _highs(mip, integer=False, log=False)
    h.setOptionValue("time_limit", float(time_limit))
    h.run()
    if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
        return float("inf") if mip.sense == "max" else float("-inf")
    return float(h.getInfo().objective_function_value)
