"""Which not-met targets new sites can close, grouped by kind, and why the others cannot.

Every not-met target that new facilities can close (metrics ``presence_per_unit``,
``count``, ``accessibility`` and ``capacity_per_unit`` with ``aggregate = "each"``) is turned
into the constraints of one model per facility kind, so that targets on the same kind are
solved together: 22a's "5 stations" and 22b's "one per 办事处" give 2 new stations, not 4.
Per-person targets (``per_capita``: 托位 per 1,000, pitches per 10,000) are sited after the
kinds' runs (:mod:`.per_capita`); national standards (``origin = "standard"``) get a
budgeted ranking of their own (:mod:`.standards`). Every other not-met target of the plan
is listed with the reason siting cannot close it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import pandas as pd

from cfplan.analysis.evaluate import Result
from cfplan.analysis.plan import Plan, Target
from cfplan.layers.kinds import kind_label
from cfplan.layers.load import LayerSet
from cfplan.layers.text import Text

__all__ = ["SITEABLE_KINDS", "SITEABLE_METRICS", "KindRequest", "Requests", "kind_requests",
           "why_not"]

SITEABLE_METRICS = ("presence_per_unit", "count", "accessibility", "capacity_per_unit",
                    "per_capita")
SITEABLE_KINDS = ("children_home", "protection_station", "parent_school", "childcare",
                  "kindergarten", "primary_school", "middle_school", "park", "play_facility",
                  "library", "football_pitch", "activity_centre", "sports_park")
"""Kinds a plan closes by building: the others (child-friendly designations of blocks,
enterprises, hospitals …) are met by certifying what exists, not by new sites."""
_DESIGNATION_FILTERS = ("child_friendly", "name", "attribute", "near_kind")
Level = Literal["unit", "subdistrict"]


@dataclass
class KindRequest:
    """What the not-met targets on one kind ask of new sites.

    Attributes
    ----------
    kind
        The facility kind.
    standard
        Whether the targets are national standards (``origin = "standard"``).
    targets
        The targets solved together, in plan order.
    level
        ``unit`` or ``subdistrict``: the level of the jurisdiction rows (None: none).
    required
        Codes of the units/subdistricts that must each get a new site.
    count_needed
        New sites a count target needs at least (0: none).
    access
        The accessibility target, when one is not met.
    capacity
        Places a new site must offer (``capacity_per_unit``), else None.
    serves
        Per required code, the ids of the targets it serves.
    """

    kind: str
    standard: bool = False
    targets: list[Target] = field(default_factory=list)
    level: Level | None = None
    required: list[str] = field(default_factory=list)
    count_needed: int = 0
    access: Target | None = None
    capacity: float | None = None
    serves: dict[str, list[str]] = field(default_factory=dict)

    @property
    def key(self) -> str:
        """The run's name: the kind, or ``"<kind>@standard"``."""
        return f"{self.kind}@standard" if self.standard else self.kind


@dataclass
class Requests:
    """The not-met targets of a scenario, sorted by how siting answers them.

    Attributes
    ----------
    kinds
        ``{kind: KindRequest}``: the plan's own targets solved per kind, in plan order.
    per_capita
        Per-person targets (托位 per 1,000, pitches per 10,000), in plan order.
    standards
        National standards' accessibility targets (a budgeted ranking each).
    skipped
        One outcome row per target siting cannot close: ``target``, ``origin``, ``kind``,
        ``metric``, ``sited`` (False), ``closed`` (False), ``note``, ``note_en``.
    """

    kinds: dict[str, KindRequest]
    per_capita: list[Target]
    standards: list[Target]
    skipped: list[dict[str, object]]


def why_not(t: Target) -> Text | None:
    """Return why new sites cannot close ``t`` (None: they can)."""
    if t.metric == "indicator":
        return Text("填报指标，不涉及选址", "a reported indicator: not a siting matter")
    if t.metric == "route_safety":
        return Text("上下学路径安全靠道路与路口治理，不靠新建选址",
                    "safe routes to school come from street and crossing works, not new sites")
    if t.metric == "attribute_share":
        return Text("按现有设施的属性计（如适儿化改造），靠改造达成，不靠新建选址",
                    "counts an attribute of existing facilities: met by renovation, not by "
                    "new sites")
    if t.metric not in SITEABLE_METRICS:
        return Text("不是选址能回答的目标", "not a target siting can answer")
    if len(t.kinds) != 1:
        return Text("多类设施合计的目标，不按单一类别选址", "a target over several kinds: not sited")
    kind = t.kinds[0]
    if kind not in SITEABLE_KINDS:
        return Text(f"{kind_label(kind)}靠认定或改造达成，不靠新建选址",
                    f"{kind_label(kind, lang='en')}: met by designation, not by new sites")
    used = [f for f in _DESIGNATION_FILTERS if getattr(t.filters, f) is not None]
    if used and t.metric != "accessibility":
        return Text(f"目标按设施属性（{', '.join(used)}）计数，靠认定或改造达成",
                    f"counts facilities by attribute ({', '.join(used)}): met by "
                    "designation or renovation, not by new sites")
    if t.metric == "capacity_per_unit" and t.aggregate != "each":
        return Text("平均容量目标，不按选址处理", "a mean-capacity target: not sited")
    if t.metric == "per_capita" and t.capacity_field not in (None, "capacity"):
        return Text("按其他容量字段计的人均目标，不按选址处理",
                    "a per-person target on another capacity field: not sited")
    return None


def _children_by(layers: LayerSet, level: Level) -> dict[str, float]:
    units = layers.units
    kids = pd.to_numeric(units["children"], errors="coerce").fillna(0.0)
    key = units["code"] if level == "unit" else units["subdistrict"]
    return kids.groupby(key.astype(str)).sum().to_dict()


def _skip(t: Target, why: Text) -> dict[str, object]:
    return {"target": t.id, "origin": t.origin, "kind": "+".join(t.kinds), "run": "",
            "metric": t.metric, "sited": False, "closed": False, "note": why.zh,
            "note_en": why.en}


def kind_requests(plan: Plan, layers: LayerSet, results: Sequence[Result], *,
                  scenario: str = "planned", kinds: Sequence[str] | None = None) -> Requests:
    """Sort the not-met targets of ``scenario`` by how siting answers them.

    The plan's own targets on a kind are solved together; national standards
    (``origin = "standard"``) get a budgeted ranking each, so that a reference check never
    inflates the plan's answer; repeated items (``same_as``) are left to their targets.

    Returns
    -------
    Requests
        The kinds' requests, the per-person targets, the standards and the targets siting
        cannot close, with the reason.
    """
    out = Requests({}, [], [], [])
    for r in results:
        t = r.target
        if r.scenario != scenario or r.status != "not_met" or t.metric == "same_as":
            continue
        if kinds is not None and not set(t.kinds) & set(kinds):
            continue
        why = why_not(t)
        if why is None and t.origin == "standard":
            if t.metric == "accessibility":
                out.standards.append(t)
                continue
            why = Text("国家标准的非可达性核查，不选址", "a standard other than walking access")
        if why is None and t.metric == "per_capita":
            out.per_capita.append(t)
            continue
        req = out.kinds.setdefault(t.kinds[0], KindRequest(t.kinds[0])) if why is None else None
        if req is not None and t.metric in ("presence_per_unit", "capacity_per_unit"):
            level: Level = "subdistrict" if t.unit_level == "subdistrict" else "unit"
            if req.level not in (None, level):
                why = Text("同一类设施的目标分属社区与办事处两级，本项未合并求解",
                           "targets of this kind at both unit and subdistrict level: this "
                           "one is not solved with the others")
            else:
                req.level = level
                lacking = [str(c) for c in r.failing]
                need = int(r.needed or 0)
                if need < len(lacking):
                    kids = _children_by(layers, level)
                    lacking = sorted(lacking, key=lambda c: (-kids.get(c, 0.0), c))[:need]
                for code in lacking:
                    if code not in req.required:
                        req.required.append(code)
                    req.serves.setdefault(code, []).append(t.id)
                if t.metric == "capacity_per_unit":
                    req.capacity = max(req.capacity or 0.0, float(t.capacity or 0.0))
        elif req is not None and t.metric == "count":
            req.count_needed = max(req.count_needed, int(r.needed or 0))
        elif req is not None and t.metric == "accessibility":
            if req.access is not None:
                why = Text("同类设施已有一项可达性目标参与求解",
                           "another accessibility target of this kind is solved")
            else:
                req.access = t
        if why is not None:
            out.skipped.append(_skip(t, why))
            continue
        assert req is not None
        req.targets.append(t)
    out.kinds = {k: v for k, v in out.kinds.items() if v.targets}
    return out
