"""School routes kept up to date edit by edit: only the schools whose catchment changed.

A school's routes depend on its own gates and on its catchment (which demand points, how
far, how many children); every school is routed from its own gates on the same network.
After an edit the catchments of every school are assigned again (one multi-source search
per kind), and only the schools whose catchment or gates changed are routed again; the
rest keep their summary rows, so the summary equals a full
:func:`cfplan.analysis.routes.school_routes`.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass

import numpy as np
import pandas as pd

from cfplan.analysis.routes import SchoolRoutes

__all__ = ["RouteState", "changed_schools", "update_routes"]

Route = Callable[[Callable[[pd.DataFrame], Collection[str]] | None], "SchoolRoutes | None"]
"""Runs the school routes of the edited layers, routing the schools ``choose`` returns."""


@dataclass(frozen=True, eq=False)
class RouteState:
    """The route summary of one scenario and the catchments it was computed from.

    Attributes
    ----------
    summary
        One row per school with a catchment (:data:`ROUTE_SUMMARY_COLUMNS`, ``scenario``),
        or None when no school is routed.
    assignment
        :attr:`cfplan.analysis.routes.SchoolRoutes.assignment` (None: not known yet).
    """

    summary: pd.DataFrame | None
    assignment: pd.DataFrame | None = None


def changed_schools(before: pd.DataFrame | None, after: pd.DataFrame,
                    touched: Collection[str] = ()) -> set[str]:
    """Return the schools whose catchment differs, and the ``touched`` ones (moved, added).

    A school's catchment differs when a demand point joined or left it, or a point's
    catchment source, walking distance or children changed.

    Returns
    -------
    set of str
        School codes to route again (every school when ``before`` is None).
    """
    out = {str(t) for t in touched}
    if before is None:
        return out | set(after["school_code"].astype(str))
    keys = ["school_code", "point"]
    both = before.merge(after, on=keys, how="outer", suffixes=("_a", "_b"), indicator=True)
    differs = both["_merge"].to_numpy() != "both"
    for column in ("catchment", "distance_m", "children"):
        a, b = both[f"{column}_a"], both[f"{column}_b"]
        differs |= ~((a == b) | (a.isna() & b.isna())).to_numpy()
    return out | set(both.loc[differs, "school_code"].astype(str))


def update_routes(route: Route, previous: RouteState, *, scenario: str,
                  touched: Collection[str] = ()) -> RouteState:
    """Return the route summary of the edited layers, routing only the changed schools.

    Parameters
    ----------
    route
        Runs :func:`cfplan.analysis.routes.school_routes` on the edited layers with a
        ``choose``.
    previous
        The summary and catchments before the edit.
    scenario
        The scenario routed (the summary's ``scenario`` column).
    touched
        Facility ids the edit added, moved or changed (their gates may have moved).

    Returns
    -------
    RouteState
        The merged summary, in school order as a full run gives it, and the catchments
        (both None when no school of the routed kinds is left).
    """
    chosen: set[str] = set()

    def choose(assignment: pd.DataFrame) -> set[str]:
        before = previous.assignment if previous.summary is not None else None
        chosen.update(changed_schools(before, assignment, touched))
        return chosen

    result = route(choose)
    if result is None:  # no school of the routed kinds is left
        return RouteState(None, None)
    fresh = result.summary().assign(scenario=scenario)
    assignment = result.assignment
    assert assignment is not None
    with_points = set(assignment["school_code"].astype(str))
    parts = [fresh[fresh["school_code"].astype(str).isin(with_points)]]
    if previous.summary is not None:
        kept = previous.summary
        code = kept["school_code"].astype(str)
        parts.insert(0, kept[code.isin(with_points) & ~code.isin(chosen)])
    summary = pd.concat(parts, ignore_index=True)
    order = {c: i for i, c in enumerate(dict.fromkeys(result.gates["school_code"].astype(str)))}
    rank = summary["school_code"].astype(str).map(order).to_numpy()
    summary = summary.iloc[np.argsort(rank, kind="stable")].reset_index(drop=True)
    return RouteState(summary, assignment)
