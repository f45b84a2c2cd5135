"""The workbench engine: a scenario of edits over a district, re-evaluated edit by edit.

Each edit updates only what it touches: the facilities of the edited kind (one bounded
search per source set of that kind, :mod:`cfplan.analysis.workbench.walk`), the school
routes when a school changes, the demand weights on a population change; then only the
targets that depend on what changed are evaluated again, with the same evaluators a full
assessment runs. Every step is kept, so undo and redo restore a state without computing.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from cfplan.analysis.coverage import _unknown_children
from cfplan.analysis.evaluate import Result, evaluate_plan, headline
from cfplan.analysis.plan import Plan, Target
from cfplan.analysis.routes import SchoolRoutes
from cfplan.analysis.selection import SCENARIOS
from cfplan.analysis.workbench.changes import Change, describe_change, same_result
from cfplan.analysis.workbench.edits import Edit, EditContext, apply_edit, parse_edit
from cfplan.analysis.workbench.routes import RouteState, update_routes
from cfplan.analysis.workbench.walk import (
    CoverageKey,
    SourceSet,
    coverage_keys,
    coverage_rows,
    set_limits,
    snap_by_fid,
    target_kinds,
    update_set,
)
from cfplan.geo.snap import SURFACE, Snapped, snap_points
from cfplan.geo.street_network import StreetNetwork
from cfplan.layers.demand import demand_points
from cfplan.layers.load import LayerSet

__all__ = ["Outcome", "RouteRun", "Workbench"]

RouteRun = Callable[..., "SchoolRoutes | None"]
"""``(layers, scenario, *, choose, demand, target) -> SchoolRoutes`` without detail, as a full
assessment routes (None when the layers hold no school of the routed kinds)."""
POPULATION_METRICS = ("per_capita", "accessibility")
MAX_STEPS = 1000


@dataclass(frozen=True, eq=False)
class _Walk:
    """Walking inputs that never change: network, demand points snapped, and their shares."""

    network: StreetNetwork
    targets: Snapped
    unit_pos: np.ndarray  # each demand point's unit position in layers.units
    share: np.ndarray  # each demand point's share of its unit


@dataclass(frozen=True, eq=False)
class _State:
    """Everything one step of the scenario holds (frames are never changed in place)."""

    layers: LayerSet
    edits: tuple[tuple[Edit, ...], ...]
    results: Mapping[str, Result]
    demand: gpd.GeoDataFrame | None = None
    snaps: Mapping[str, Snapped] = field(default_factory=dict)
    sets: Mapping[tuple[str, ...], SourceSet] = field(default_factory=dict)
    keys: tuple[CoverageKey, ...] = ()
    tables: Mapping[tuple[str, str], pd.DataFrame] = field(default_factory=dict)
    routes: RouteState | None = None


@dataclass(frozen=True)
class Outcome:
    """What one edit (or undo or redo) did.

    Attributes
    ----------
    step
        Number of steps applied now (0: the base scenario).
    changed
        The targets whose status, value, shortfall or failing units changed, in plan order.
    elapsed_ms
        Wall time of the update (ms).
    edits
        The edits of the step.
    """

    step: int
    changed: list[Change]
    elapsed_ms: float
    edits: tuple[Edit, ...] = ()


class Workbench:
    """A scenario of edits over a district, evaluated against its plan after every edit.

    Parameters
    ----------
    plan, layers
        The plan and the district's layers as loaded (metric CRS).
    results
        A full evaluation of ``layers`` in both scenarios (``Assessment.results``): the
        table's current and planned columns, and the start of the edited one.
    base
        The scenario the edits apply to: ``current`` (default) or ``planned``.
    indicators
        The bureau's reported values, as the assessment read them.
    network, demand
        The walking network and demand points of the assessment
        (``Assessment.access.network`` and ``.demand``); ``None`` without streets.
    routes
        The school-route summary of the assessment (both scenarios), or ``None``.
    route_run
        Routes the schools of edited layers in one scenario; needed to follow edits of
        schools when ``routes`` is given (only the schools an edit touches are routed).
    route_kinds
        The school kinds ``route_run`` routes: edits of them re-route.
    margin_m
        How far outside the district an added or moved facility may lie (m); default the
        layers' ``margin_m``.
    """

    def __init__(self, plan: Plan, layers: LayerSet, results: Sequence[Result], *,
                 base: str = "current", indicators: pd.DataFrame | None = None,
                 network: StreetNetwork | None = None, demand: gpd.GeoDataFrame | None = None,
                 routes: pd.DataFrame | None = None,
                 route_run: RouteRun | None = None,
                 route_kinds: Sequence[str] = (), margin_m: float | None = None) -> None:
        if base not in SCENARIOS:
            raise ValueError(f"base must be one of {SCENARIOS}, not {base!r}")
        self.plan, self.base, self.indicators = plan, base, indicators
        self.margin_m = layers.margin_m if margin_m is None else margin_m
        self.route_run = route_run
        self.route_kinds = frozenset(route_kinds)
        self.reference = {(r.target.id, r.scenario): r for r in results}
        start = {r.target.id: r for r in results if r.scenario == base}
        self._walk: _Walk | None = None
        state = _State(layers, (), start)
        if network is not None and demand is not None:
            state = self._start_walk(state, network, demand)
        if routes is not None:
            rows = routes[routes["scenario"] == base] if "scenario" in routes.columns \
                else routes.assign(scenario=base)
            state = dataclasses.replace(state, routes=RouteState(
                rows.reset_index(drop=True), self._catchments(state)))
        self._steps: list[_State] = [state]
        self._at = 0

    # ------------------------------------------------------------------ state

    def _start_walk(self, state: _State, network: StreetNetwork,
                    demand: gpd.GeoDataFrame) -> _State:
        layers = state.layers
        targets = snap_points(network, demand.geometry.to_numpy(), rule=SURFACE)
        codes = layers.units["code"].astype(str)
        unit_pos = pd.Index(codes).get_indexer(demand["unit"].astype(str))
        ones = layers.units.assign(population=1.0, children=1.0)
        buildings = layers.buildings if not layers.buildings.empty else None
        share = demand_points(ones, buildings=buildings)["population"].to_numpy(np.float64)
        self._walk = _Walk(network, targets, unit_pos, share)
        entrances = layers.entrances if not layers.entrances.empty else None
        snaps = snap_by_fid(network, layers.facilities, entrances=entrances)
        return self._walk_state(dataclasses.replace(state, demand=demand, snaps=snaps),
                                changed_kinds=None)

    def _route_options(self, state: _State) -> dict[str, Any]:
        walk = self._walk
        return {"demand": state.demand, "target": walk.targets} if walk is not None else {}

    def _catchments(self, state: _State) -> pd.DataFrame | None:
        """Return the schools' catchments as loaded (no school routed)."""
        if self.route_run is None:
            return None
        found = self.route_run(state.layers, self.base, choose=lambda _: (),
                               **self._route_options(state))
        return None if found is None else found.assignment

    def _walk_state(self, state: _State, *, changed_kinds: set[str] | None,
                    moved: frozenset[str] = frozenset(), weights: bool = False) -> _State:
        """Update the source sets and coverage rows; ``None`` kinds: build every one."""
        walk = self._walk
        assert walk is not None and state.demand is not None
        keys, members = coverage_keys(state.layers, self.plan, self.base)
        limits = set_limits(keys)
        sets: dict[tuple[str, ...], SourceSet] = {}
        for sid, (kind, fids) in members.items():
            old = state.sets.get(sid)
            if changed_kinds is not None and old is not None and kind not in changed_kinds:
                sets[sid] = old
                continue
            sets[sid] = update_set(old, kind, fids, network=walk.network, snaps=state.snaps,
                                   targets=walk.targets, limit_m=limits.get(sid, 0.0),
                                   moved=moved)
        tables: dict[tuple[str, str], pd.DataFrame] = {}
        for key in keys:
            ident = (key.key, key.label)
            old_table = state.tables.get(ident)
            same = (old_table is not None and not weights
                    and all(state.sets.get(s) is sets[s] for s in key.sets))
            tables[ident] = old_table if same and old_table is not None else coverage_rows(
                key, sets, state.demand, state.layers.facilities)
        return dataclasses.replace(state, sets=sets, keys=tuple(keys), tables=tables)

    def coverage(self, state: _State | None = None) -> pd.DataFrame | None:
        """Return the edited scenario's coverage table (rows the evaluators read)."""
        state = state or self.state
        if not state.tables:
            return None if self._walk is None else pd.DataFrame()
        units = state.layers.units
        no_children = units["children"].isna()
        table = pd.concat(list(state.tables.values()), ignore_index=True)
        return _unknown_children(table, units, no_children)

    @property
    def state(self) -> _State:
        """The state at the current step."""
        return self._steps[self._at]

    @property
    def layers(self) -> LayerSet:
        """The layers with every applied edit made."""
        return self.state.layers

    @property
    def edits(self) -> tuple[tuple[Edit, ...], ...]:
        """The applied edits, step by step."""
        return self.state.edits

    @property
    def results(self) -> list[Result]:
        """The edited scenario's results, in plan order (scenario = the base scenario)."""
        res = self.state.results
        return [res[t.id] for t in self.plan.targets if t.id in res]

    def context(self) -> EditContext:
        """Return the context a new edit is checked against."""
        return EditContext(self.layers, margin_m=self.margin_m,
                           default_year=int(self.plan.period[1]))

    def reach(self, kind: str) -> SourceSet | None:
        """Return the edited scenario's walking reach of ``kind`` (None: not measured).

        Returns
        -------
        SourceSet or None
            Distances (m) from the nearest facility of the kind to every street node
            (``nodes``, bounded at ``limit_m`` ≥ 1,000 m) and demand point, and the access
            points (``sources``).
        """
        return self.state.sets.get(("plain", kind))

    @property
    def network(self) -> StreetNetwork | None:
        """The walking network (None without streets)."""
        return self._walk.network if self._walk is not None else None

    @property
    def demand(self) -> gpd.GeoDataFrame | None:
        """The demand points, weighted by the edited units' population (None without streets)."""
        return self.state.demand

    # ------------------------------------------------------------------ editing

    def edit(self, payloads: Sequence[Mapping[str, Any]] | Mapping[str, Any]) -> Outcome:
        """Check and apply one edit, or several as one step (undone together).

        Parameters
        ----------
        payloads
            A request's edit (see :func:`cfplan.analysis.workbench.edits.parse_edit`) or a
            list of them.

        Returns
        -------
        Outcome
            The targets that changed, with before and after.

        Raises
        ------
        cfplan.analysis.workbench.edits.EditError
            Naming the field at fault; nothing is changed then.
        """
        started = time.perf_counter()
        items = [payloads] if isinstance(payloads, Mapping) else list(payloads)
        if not items:
            raise ValueError("no edit given")
        state = self.state
        edits: list[Edit] = []
        for payload in items:
            ctx = EditContext(state.layers, margin_m=self.margin_m,
                              default_year=int(self.plan.period[1]))
            edit = parse_edit(payload, ctx)
            state = self._advance(state, edit, ctx)
            edits.append(edit)
        before = self.state.results
        state = dataclasses.replace(state, edits=(*self.state.edits, tuple(edits)))
        del self._steps[self._at + 1:]
        self._steps.append(state)
        if len(self._steps) > MAX_STEPS:
            del self._steps[0]
        self._at = len(self._steps) - 1
        return Outcome(len(state.edits), self._changes(before, state.results),
                       (time.perf_counter() - started) * 1000, tuple(edits))

    def replay(self, steps: Sequence[Sequence[Mapping[str, Any]]]) -> None:
        """Apply the steps of a scenario file, one after another."""
        for step in steps:
            self.edit(list(step))

    def undo(self) -> Outcome | None:
        """Go one step back (None: nothing to undo)."""
        return self._move(-1)

    def redo(self) -> Outcome | None:
        """Redo the step undone last (None: nothing to redo)."""
        return self._move(+1)

    @property
    def can_undo(self) -> bool:
        """Whether a step can be undone."""
        return self._at > 0

    @property
    def can_redo(self) -> bool:
        """Whether an undone step can be redone."""
        return self._at < len(self._steps) - 1

    def _move(self, delta: int) -> Outcome | None:
        started = time.perf_counter()
        target = self._at + delta
        if not 0 <= target < len(self._steps):
            return None
        before = self.state.results
        edits = self.state.edits[-1] if delta < 0 else self._steps[target].edits[-1]
        self._at = target
        return Outcome(len(self.state.edits), self._changes(before, self.state.results),
                       (time.perf_counter() - started) * 1000, edits)

    def _changes(self, before: Mapping[str, Result], after: Mapping[str, Result]
                 ) -> list[Change]:
        out = []
        for t in self.plan.targets:
            a, b = before.get(t.id), after.get(t.id)
            if a is None or b is None or same_result(a, b):
                continue
            out.append(describe_change(t, a, b, self.plan))
        return out

    def _advance(self, state: _State, edit: Edit, ctx: EditContext) -> _State:
        """Return ``state`` with ``edit`` applied and its targets evaluated again."""
        layers = apply_edit(edit, ctx)
        state = dataclasses.replace(state, layers=layers)
        kinds = set(edit.kinds)
        population = edit.op == "population"
        if self._walk is not None:
            snaps = state.snaps
            if edit.op in ("add", "move") and edit.fid is not None:
                row = layers.facilities[layers.facilities["fid"].astype(str) == edit.fid]
                entrances = layers.entrances if not layers.entrances.empty else None
                snaps = {**snaps, **snap_by_fid(self._walk.network, row, entrances=entrances)}
            demand = state.demand
            if population:
                demand = self._weights(layers, demand)
            state = self._walk_state(
                dataclasses.replace(state, snaps=snaps, demand=demand), changed_kinds=kinds,
                moved=frozenset([edit.fid]) if edit.op == "move" and edit.fid else frozenset(),
                weights=population)
        routes_changed = False
        children = population and edit.children is not None
        run = self.route_run
        if state.routes is not None and run is not None and (
                kinds & self.route_kinds or children):
            options = self._route_options(state)

            def route(choose: Any) -> SchoolRoutes | None:
                assert run is not None
                return run(layers, self.base, choose=choose, **options)

            touched = {edit.fid} if edit.fid and edit.op in ("add", "move", "planned") else set()
            state = dataclasses.replace(state, routes=update_routes(
                route, state.routes, scenario=self.base, touched=touched))
            routes_changed = True
        todo = self._dependants(kinds, population=population, routes=routes_changed,
                                children=children)
        return dataclasses.replace(state, results=self._evaluate(state, todo))

    def _weights(self, layers: LayerSet, demand: gpd.GeoDataFrame | None) -> gpd.GeoDataFrame:
        """Return the demand points weighted by the units' population (as demand_points)."""
        walk = self._walk
        assert walk is not None and demand is not None
        units = layers.units
        out = demand.copy()
        out["population"] = units["population"].to_numpy(np.float64)[walk.unit_pos] * walk.share
        kids = units["children"].fillna(0.0).to_numpy(np.float64)
        out["children"] = kids[walk.unit_pos] * walk.share
        return out

    def _dependants(self, kinds: set[str], *, population: bool, routes: bool,
                    children: bool) -> list[Target]:
        """Return the targets whose result may change, with the targets they repeat."""
        todo: dict[str, Target] = {}
        for t in self.plan.targets:
            hit = bool(target_kinds(t) & kinds)
            hit |= population and t.metric in POPULATION_METRICS
            hit |= (routes or children) and t.metric == "route_safety"
            if hit:
                todo[t.id] = t
        for t in self.plan.targets:
            if t.metric == "same_as" and set(t.same_as) & set(todo):
                todo[t.id] = t
                for ref in t.same_as:
                    if ref not in todo:
                        todo[ref] = self.plan.target(ref)
        order = {t.id: i for i, t in enumerate(self.plan.targets)}
        return sorted(todo.values(), key=lambda t: order[t.id])

    def _evaluate(self, state: _State, targets: Sequence[Target]) -> dict[str, Result]:
        results = dict(state.results)
        if not targets:
            return results
        sub = dataclasses.replace(self.plan, targets=tuple(targets))
        fresh = evaluate_plan(sub, state.layers, indicators=self.indicators,
                              coverage=self.coverage(state),
                              routes=state.routes.summary if state.routes else None,
                              scenarios=(self.base,))
        results.update({r.target.id: r for r in fresh})
        return results

    # ------------------------------------------------------------------ reading

    def headline(self) -> dict[str, dict[str, int]]:
        """Return the counts of targets by status: current, planned and edited."""
        ref = list(self.reference.values())
        return {"current": headline(ref, scenario="current"),
                "planned": headline(ref, scenario="planned"),
                "edited": headline(self.results, scenario=self.base)}
