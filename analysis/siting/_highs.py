"""Solver plumbing shared by every siting model: a sparse MIP in, HiGHS's honest answer out.

A model is a :class:`Mip` (column bounds and costs, a CSR constraint matrix with row bounds),
handed to HiGHS in one ``passModel`` call of flat arrays, never row by row. :func:`solve_mip`
sets the time limit and the relative gap, passes a warm start with ``setSolution`` and reads
back the model status, the incumbent, ``mip_dual_bound`` and the gap. A time-limited
incumbent is reported as ``time_limit``, never as optimal.
"""

from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass
from functools import cache
from typing import Literal

import highspy
import numpy as np
import scipy.sparse as sp

__all__ = ["OPTIMAL_GAP", "LpSolution", "Mip", "MipOutcome", "reduced_cost_fixing",
           "relative_gap", "solve_lp", "solve_mip", "solver_name", "stack_rows"]

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
    integral
        Every solution's objective is a whole number (integer weights): a bound may be
        rounded to the next whole number.
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
    integral: bool = False

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
def _quiet_banner() -> None:
    """Create the process's first ``Highs`` with standard output closed.

    HiGHS prints its banner when the first instance of a process is made, before any
    option (``output_flag``) can be set; it would land among a command's printed paths.
    """
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 1)
            highspy.Highs()
    finally:
        os.dup2(saved, 1)
        os.close(saved)


def _new_highs() -> highspy.Highs:
    _quiet_banner()
    return highspy.Highs()


@cache
def solver_name() -> str:
    """Return ``"highs <version>"`` of the HiGHS build in use."""
    return f"highs {_new_highs().version()}"


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


def with_upper(mip: Mip, columns: np.ndarray, value: float) -> Mip:
    """Return ``mip`` with the upper bound of ``columns`` set to ``value``."""
    upper = np.array(mip.col_upper, np.float64)
    upper[columns] = value
    return Mip(mip.sense, mip.cost, mip.col_lower, upper, mip.integer, mip.rows,
               mip.row_lower, mip.row_upper, mip.offset, mip.integral)


def _highs(mip: Mip, *, integer: bool, log: bool) -> highspy.Highs:
    h = _new_highs()
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
    outcome = _solve_mip_once(mip, time_limit=time_limit, mip_rel_gap=mip_rel_gap, start=start,
                              max_nodes=max_nodes, presolve=presolve, log=log)
    if outcome.values is not None and presolve:
        # HiGHS 1.16 can hand back the warm start as its solution after presolve while
        # reporting the better objective it found: check, and re-solve without presolve
        value = float(np.dot(mip.cost, outcome.values) + mip.offset)
        if abs(value - outcome.objective) > 1e-6 * max(1.0, abs(outcome.objective)):
            left = max(time_limit - (time.perf_counter() - began), 1e-3)
            outcome = _solve_mip_once(mip, time_limit=left, mip_rel_gap=mip_rel_gap,
                                      start=start, max_nodes=max_nodes, presolve=False,
                                      log=log)
    return MipOutcome(outcome.status, outcome.values, outcome.objective, outcome.bound,
                      outcome.gap, time.perf_counter() - began, outcome.nodes,
                      outcome.highs_status)


def _solve_mip_once(mip: Mip, *, time_limit: float, mip_rel_gap: float,
                    start: dict[int, float] | None, max_nodes: int | None, presolve: bool,
                    log: bool) -> MipOutcome:
    began = time.perf_counter()
    if mip.n_cols == 0:  # nothing to decide: the offset is the optimum
        return MipOutcome("optimal", np.zeros(0), float(mip.offset), float(mip.offset), 0.0,
                          time.perf_counter() - began, 0, "Empty")
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


@dataclass(frozen=True, eq=False)
class LpSolution:
    """The LP relaxation's optimum.

    Attributes
    ----------
    solved
        ``True`` when HiGHS proved the LP optimal within the time limit.
    objective
        The LP optimum: an upper bound on the MIP for ``max``, a lower bound for ``min``.
    values, reduced_costs
        Column values and reduced costs (``c - A^T y``) of the optimal basic solution.
    seconds
        Wall time.
    """

    solved: bool
    objective: float
    values: np.ndarray
    reduced_costs: np.ndarray
    seconds: float


def solve_lp(mip: Mip, *, time_limit: float, solver: str = "ipm") -> LpSolution:
    """Solve the LP relaxation for a bound, reduced costs and a rounding guide.

    Interior point with crossover by default: on coverage LPs it is many times faster than
    the dual simplex that HiGHS's MIP solver starts with.

    Returns
    -------
    LpSolution
        ``solved=False`` (objective ``±inf``, the trivial bound) when the LP did not solve.
    """
    began = time.perf_counter()
    h = _highs(mip, integer=False, log=False)
    h.setOptionValue("time_limit", float(time_limit))
    h.setOptionValue("solver", solver)
    h.run()
    seconds = time.perf_counter() - began
    if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
        trivial = float("inf") if mip.sense == "max" else float("-inf")
        empty = np.zeros(mip.n_cols)
        return LpSolution(False, trivial, empty, empty, seconds)
    solution = h.getSolution()
    return LpSolution(True, float(h.getInfo().objective_function_value),
                      np.asarray(solution.col_value, np.float64),
                      np.asarray(solution.col_dual, np.float64), seconds)


def reduced_cost_fixing(mip: Mip, lp: LpSolution, incumbent: float, columns: np.ndarray,
                        *, keep: np.ndarray) -> tuple[np.ndarray, float]:
    """Find the binary columns that cannot be 1 in any solution beating ``incumbent``.

    For ``max``, any solution with column ``j`` (at its lower bound 0 in the LP optimum,
    reduced cost ``d_j <= 0``) set to 1 has objective at most ``z_LP + d_j``; when that is
    below the incumbent (with a safety margin of 1e-7 relative), ``x_j = 0`` loses nothing.
    Symmetrically for ``min``.

    Parameters
    ----------
    mip, lp
        The model and its LP relaxation's optimum.
    incumbent
        Objective of a known solution.
    columns
        Binary columns that may be fixed.
    keep
        Columns never fixed (those of the incumbent).

    Returns
    -------
    tuple[numpy.ndarray, float]
        Columns fixed to 0, and the best objective a solution using any of them could reach
        (``-inf``/``inf`` when none are fixed): part of the bound of the fixed-out model.
    """
    if not lp.solved:
        return np.empty(0, np.int64), float("-inf") if mip.sense == "max" else float("inf")
    margin = 1e-7 * max(1.0, abs(incumbent))
    at_zero = lp.values[columns] <= 1e-9
    reach = lp.objective + lp.reduced_costs[columns]
    if mip.sense == "max":
        fix = at_zero & (lp.reduced_costs[columns] < 0) & (reach < incumbent - margin)
    else:
        fix = at_zero & (lp.reduced_costs[columns] > 0) & (reach > incumbent + margin)
    fix &= ~np.isin(columns, keep)
    fixed = columns[fix]
    if not len(fixed):
        return fixed, float("-inf") if mip.sense == "max" else float("inf")
    best = float(reach[fix].max() if mip.sense == "max" else reach[fix].min())
    return fixed, best
