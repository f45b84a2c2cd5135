"""Per-unit status of each per-unit target: what the map's target selector colours units by."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from cfplan.analysis.evaluate import Result
from cfplan.analysis.plan import Plan, Target
from cfplan.analysis.selection import SCENARIOS, target_key
from cfplan.layers.load import LayerSet

# One character per target and scenario: met, not met, unknown, not counted here.
CODES = {"met": "M", "not_met": "N", "unknown": "U", "none": "-"}
PER_UNIT_METRICS = ("presence_per_unit", "capacity_per_unit", "accessibility")


@dataclass(frozen=True)
class UnitTarget:
    """A target that has a status in each unit (or each subdistrict)."""

    target: Target
    level: str  # "unit" or "subdistrict"


def per_unit_targets(plan: Plan, results: list[Result]) -> list[UnitTarget]:
    """Return the plan's targets that are judged unit by unit, in plan order.

    Presence and capacity targets (per 社区/村 or per 办事处) and walking-access targets
    (per unit, from the coverage table) with a result in the current scenario.

    Returns
    -------
    list of UnitTarget
    """
    have = {r.target.id for r in results if r.scenario == "current"
            and r.status != "not_assessed"}
    out = []
    for t in plan.targets:
        if t.metric in PER_UNIT_METRICS and t.id in have:
            level = "subdistrict" if t.unit_level == "subdistrict" else "unit"
            out.append(UnitTarget(t, "unit" if t.metric == "accessibility" else level))
    return out


def _scope(t: Target, layers: LayerSet, level: str) -> set[str]:
    if level == "subdistrict":
        sd = layers.subdistricts
        if t.unit_types and "subdistrict_type" in sd.columns:
            sd = sd[sd["subdistrict_type"].isin(t.unit_types)]
        return set(sd["code"])
    units = layers.units
    if t.unit_types and t.metric != "accessibility":
        units = units[units["unit_type"].isin(t.unit_types)]
    return set(units["code"])


def unit_status_table(
    plan: Plan, layers: LayerSet, results: list[Result], *,
    coverage: pd.DataFrame | None = None,
) -> tuple[list[UnitTarget], dict[str, str], dict[str, dict[int, list[float | None]]]]:
    """Return each unit's and subdistrict's status for every per-unit target.

    A unit counted by a target is ``met`` unless the result lists it as failing
    (``not_met``; ``unknown`` when the result itself is unknown): the result's failing
    units are the one rule every output applies (:data:`cfplan.analysis.export.FAILING_RULE`).
    For walking-access targets the unit's own share (``coverage``, unit rows) comes along
    for the map's shading; a unit with no share is unknown when its children are not
    known, else not counted (no children). Units outside a target's scope (villages for a
    社区 target) are not counted.

    Returns
    -------
    tuple
        ``(targets, codes, shares)``: the targets (:func:`per_unit_targets`); per unit or
        subdistrict code a string with one :data:`CODES` character per target and
        scenario (``target_index * 2 + scenario_index``); and per unit, for walking
        targets, ``{target_index: [share now, share planned]}`` (0–1, ``None`` unknown).
    """
    targets = per_unit_targets(plan, results)
    by_key = {(r.target.id, r.scenario): r for r in results}
    unit_codes = set(layers.units["code"])
    unknown_children = set(layers.units.loc[layers.units["children"].isna(), "code"])
    codes = list(layers.units["code"]) + list(layers.subdistricts["code"])
    chars: dict[str, list[str]] = {c: [] for c in codes}
    shares: dict[str, dict[int, list[float | None]]] = {}
    for ti, ut in enumerate(targets):
        t = ut.target
        scope = _scope(t, layers, ut.level)
        for scenario in SCENARIOS:
            r = by_key.get((t.id, scenario))
            unit_share = _unit_shares(t, coverage, scenario) if t.metric == "accessibility" else None
            for code in codes:
                is_level = (code in unit_codes) == (ut.level == "unit")
                if not is_level or code not in scope or r is None:
                    chars[code].append(CODES["none"])
                    continue
                if unit_share is not None:
                    share = unit_share.get(code)
                    shares.setdefault(code, {}).setdefault(ti, [])
                    shares[code][ti].append(share)
                    status = ("not_met" if code in r.failing else "met" if share is not None
                              else "unknown" if code in unknown_children else "none")
                elif r.status == "not_assessed":
                    status = "none"
                elif code in r.failing:
                    status = "unknown" if r.status == "unknown" else "not_met"
                elif r.status == "unknown" and not r.failing:
                    status = "unknown"
                else:
                    status = "met"
                chars[code].append(CODES[status])
    return targets, {c: "".join(v) for c, v in chars.items()}, shares


def _unit_shares(t: Target, coverage: pd.DataFrame | None,
                 scenario: str) -> dict[str, float | None] | None:
    if coverage is None or coverage.empty:
        return None
    rows = coverage[(coverage["level"] == "unit") & (coverage["kind"] == target_key(t))
                    & (coverage["scenario"] == scenario)]
    if rows.empty:
        return None
    col = f"share_{t.population}"
    return {str(a): (None if pd.isna(v) else float(v)) for a, v in zip(rows["area"], rows[col],
                                                                         strict=True)}


__all__ = ["CODES", "PER_UNIT_METRICS", "UnitTarget", "per_unit_targets", "unit_status_table"]
