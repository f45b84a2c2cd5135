"""The planned projects that already close part of a target's gap, and what remains.

Siting starts from the planned scenario: projects under construction or planned are taken
as done, and only what is still missing is proposed. The 建设建议 names those projects per
target, so that a bureau sees which gap a 2025 project closes before it funds a new site.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import geopandas as gpd
import numpy as np

from cfplan.analysis.evaluate import Result, facility_level_codes
from cfplan.analysis.selection import in_district, select
from cfplan.layers.load import LayerSet
from cfplan.layers.text import Text

__all__ = ["PlannedProgress", "planned_progress"]


@dataclass(frozen=True)
class PlannedProgress:
    """What a target's planned projects close.

    Attributes
    ----------
    target
        The target id.
    fids, names, places
        The pending projects that close part of the gap (``places``: their unit or
        subdistrict names, as the target counts them).
    closes
        Units or subdistricts (codes) the projects close, for per-unit targets.
    value_now, value_planned
        The target's value as things stand and once planned.
    status_planned
        The target's status once planned (``met``: nothing left to build).
    """

    target: str
    fids: tuple[str, ...]
    names: tuple[str, ...]
    places: tuple[str, ...]
    closes: tuple[str, ...]
    value_now: float | None
    value_planned: float | None
    status_planned: str

    def text(self, *, zh: bool = True) -> str:
        """Return "规划项目已补：张湾村儿童之家（张湾村）" (empty without projects)."""
        if not self.fids:
            return ""
        items = [f"{n}（{p}）" if zh else f"{n} ({p})" if p else n
                 for n, p in zip(self.names, self.places, strict=True)]
        if zh:
            return f"规划项目已补 {len(items)} 处：" + "、".join(items)
        return f"{len(items)} planned project(s) close part of it: " + ", ".join(items)


def _pending(layers: LayerSet, r_now: Result) -> np.ndarray:
    """Facilities that count once planned but not now (the target's pending projects)."""
    t = r_now.target
    fac = layers.facilities
    now, _ = select(fac, t.kinds, t.filters, scenario="current")
    then, _ = select(fac, t.kinds, t.filters, scenario="planned")
    pending = then & ~now
    if t.metric in ("count", "per_capita"):
        pending &= in_district(layers)
    return pending


def planned_progress(layers: LayerSet, results: Sequence[Result]) -> dict[str, PlannedProgress]:
    """Return, per target not met as things stand, the planned projects closing part of it.

    Per-unit targets (presence, capacity per unit) name the projects inside the units they
    close; counts, per-person and walking-access targets every pending project that
    counts once planned. A target whose planned projects close nothing is left out, and so
    are shares of facilities with an attribute (a planned school adds to what must have it).

    Returns
    -------
    dict
        ``{target id: PlannedProgress}`` in plan order.
    """
    by_key = {(r.target.id, r.scenario): r for r in results}
    fac = layers.facilities
    unit_names = dict(zip(layers.units["code"].astype(str), layers.units["name"], strict=True))
    sd_names = (dict(zip(layers.subdistricts["code"].astype(str), layers.subdistricts["name"],
                         strict=True)) if not layers.subdistricts.empty else {})
    out: dict[str, PlannedProgress] = {}
    for r in results:
        t = r.target
        then = by_key.get((t.id, "planned"))
        if r.scenario != "current" or r.status != "not_met" or then is None or not t.kinds \
                or t.metric in ("same_as", "indicator", "route_safety", "attribute_share"):
            continue
        pending = _pending(layers, r)
        if not pending.any():
            continue
        closes: tuple[str, ...] = ()
        if t.metric in ("presence_per_unit", "capacity_per_unit"):
            closed = set(r.failing) - set(then.failing)
            codes = facility_level_codes(layers, level=t.unit_level).astype(object)
            pending &= codes.isin(closed).to_numpy()
            closes = tuple(sorted(closed))
        if not pending.any():
            continue
        rows: gpd.GeoDataFrame = fac[pending]
        names = sd_names if t.unit_level == "subdistrict" and t.metric in (
            "presence_per_unit", "capacity_per_unit") else unit_names
        level = (facility_level_codes(layers, level="subdistrict")[pending]
                 if names is sd_names else rows["unit"])
        out[t.id] = PlannedProgress(
            t.id, tuple(rows["fid"].astype(str)), tuple(rows["name"].astype(str)),
            tuple(str(names.get(str(c), "")) for c in level), closes,
            None if r.value is None else float(r.value),
            None if then.value is None else float(then.value), then.status)
    return out


def closed_text() -> Text:
    """Return the note of a target the planned projects close entirely."""
    return Text("规划项目完成后即达成，无需另行新建", "met once they are done: nothing more to build")
