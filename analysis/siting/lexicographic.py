"""Fewest sites, then the most weight: a count found by search over "best value with k sites".

Minimising the number of new sites that reach a share of the demand is a covering problem
with one knapsack row (``sum_i w_i y_i >= need``). With fractional weights that row is
numerically delicate: HiGHS 1.16 was seen to report "optimal" counts one to four sites
above the true minimum on the demo's 小学 model (97 sites suffice; 98, 99 and 101 were each
reported with gap 0, depending on presolve and candidate dominance). The search below
needs only the maximisation model (MCLP, or capacitated coverage with ``p`` sites), which
has no such row: ``k*`` is the smallest ``k`` whose best value reaches ``need``.

* every probe ``k`` solves ``max value with at most k sites``; a value reaching ``need`` is
  a feasible count (and its solution the best with that count: the second, lexicographic
  stage); a proven bound below ``need`` proves ``k`` too few;
* probes start at a hint (the LP relaxation's rounded bound), step up doubling, then bisect;
* the count is proven when ``k* - 1`` is proven too few (or is below a proven lower bound).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from cfplan.analysis.siting.result import SitingResult, worst_status

__all__ = ["CountSearch", "fewest_sites"]


@dataclass(frozen=True)
class CountSearch:
    """The outcome of :func:`fewest_sites`.

    Attributes
    ----------
    count
        The fewest sites found that reach ``need``.
    best
        The solve at ``count``: the most value with that many sites (stage 2); None when
        not even ``high`` sites reach ``need`` (the model is infeasible).
    lower
        Proven lower bound on the fewest sites (``count`` when proven).
    status
        The count stage's status: ``optimal`` when ``lower == count``, else the worst status
        of the probes that could not prove a count too few (at least ``time_limit``). The
        second stage's is ``best.status``.
    solves
        Probes solved.
    seconds
        Wall seconds of the search.
    """

    count: int
    best: SitingResult | None
    lower: int
    status: str
    solves: int
    seconds: float


def fewest_sites(
    solve_k: Callable[[int, list[int], float], SitingResult], *, need: float, low: int,
    high: int, high_sites: list[int], hint: int | None = None, time_limit: float = 60.0,
    tolerance: float = 1e-9,
) -> CountSearch:
    """Find the fewest sites whose best value reaches ``need``.

    Parameters
    ----------
    solve_k
        ``solve_k(k, start, time_limit)``: solve "the most value with at most ``k`` new
        sites", warm-started from the sites ``start``; its ``objective`` is the value and
        its ``bound`` a proven upper bound on it.
    need
        The value to reach (same units as the objective).
    low
        A count proven necessary (e.g. the number of jurisdictions needing a site).
    high
        A count known to reach ``need`` (e.g. a greedy solution's).
    high_sites
        The sites of that solution (a warm start).
    hint
        Where to probe first (the LP relaxation's rounded bound).
    time_limit
        Seconds for the whole search (each probe gets what is left).
    tolerance
        Relative tolerance on ``need``.

    Returns
    -------
    CountSearch
        The count, the best solve with it, the proven lower bound and the status.
    """
    began = time.perf_counter()
    slack = tolerance * max(1.0, abs(need))
    proven_short = low - 1  # every count <= proven_short is proven too few
    short = low - 1  # largest count found too few (proven or not)
    unproven: list[str] = []
    hi, hi_sites = max(high, low), list(high_sites)
    best: SitingResult | None = None
    solves = 0

    def probe(k: int) -> bool:
        nonlocal proven_short, short, hi, hi_sites, best, solves
        left = max(time_limit - (time.perf_counter() - began), 1e-3)
        result = solve_k(k, hi_sites if len(hi_sites) <= k else [], left)
        solves += 1
        if result.status != "infeasible" and result.objective >= need - slack:
            used = len(result.sites)
            if used <= hi:
                hi, hi_sites, best = used, [int(j) for j in result.sites], result
            return True
        short = max(short, k)
        if result.status == "infeasible" or result.bound < need - slack:
            proven_short = max(proven_short, k)
        else:
            unproven.append(result.status)
        return False

    if hint is not None and short < hint < hi:
        if probe(hint):
            if hint - 1 > short:
                probe(hint - 1)
        else:
            step = 1
            while short + step < hi and not probe(short + step):
                step *= 2
    while hi - short > 1:
        probe((short + hi) // 2)
    if best is None or len(best.sites) != hi:
        probe(hi)
    lower = min(proven_short + 1, hi)
    status = "optimal" if lower >= hi else worst_status("time_limit", *unproven)
    return CountSearch(hi, best, lower, status, solves, time.perf_counter() - began)
