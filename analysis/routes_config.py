"""Rules of the school-route analysis: road classes, penalties and the school zone, with sources."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from typing import Any

from cfplan.layers.kinds import SCHOOL_KINDS

__all__ = ["DEFAULT_RULES", "RULE_SOURCES", "RouteRules", "route_rules"]


@dataclass(frozen=True)
class RouteRules:
    """What the school-route analysis treats as a hazard, and how much a safe route avoids it.

    Every figure can be overridden in ``layers.toml`` (``[routes]``) or through the API
    (:func:`route_rules`); :data:`RULE_SOURCES` names the source of each default. Penalties
    are in metres of extra walk: the safe route accepts a detour up to that length to avoid
    the hazard.

    Attributes
    ----------
    kinds
        Facility kinds that get catchments and routes (``kindergarten`` is an option).
    arterial_highways
        OSM ``highway`` classes that are arterials (主干路/次干路 and above).
    arterial_maxspeed_kmh
        A road with ``maxspeed`` above this is an arterial whatever its class (km/h).
    zone_radius_m
        School zone (校园周边道路) radius around each gate, straight line (m).
    zone_speed_kmh
        Roads in the school zone faster than this count as fast (km/h).
    long_crossing_m, long_crossing_lanes
        A crossing longer than this (m) or with at least this many lanes is long.
    lane_width_m
        Width of one lane, for a crossing's length from its lanes (m).
    default_lanes, default_maxspeed_kmh
        Lanes and speed limit by ``highway`` class when the way has no tag.
    footway_highways
        Classes walked as footways (no carriageway to cross, always a walking surface).
    unsignalised_crossing_m
        Penalty for crossing an arterial with no signal (m).
    long_crossing_penalty_m
        Penalty for a long crossing with no refuge island (m).
    no_sidewalk_factor
        Extra metres per metre walked on a side with no sidewalk (a road tagged
        ``sidewalk=no``/``none``, or an arterial with no sidewalk tag).
    fast_zone_factor
        Extra metres per metre walked in the school zone beside a fast road.
    risk_unit_m
        Penalty metres that make one point of risk score.
    speed_m_per_min
        Walking speed (m/min) for minutes.
    level_share
        Share of a unit's children (0-17) of each kind's school age, assuming an even spread
        over ages: kindergarten 3-5, primary 6-11, junior middle 12-14.
    """

    kinds: tuple[str, ...] = ("primary_school", "middle_school")
    arterial_highways: tuple[str, ...] = ("trunk", "trunk_link", "primary", "primary_link",
                                          "secondary", "secondary_link")
    arterial_maxspeed_kmh: float = 40.0
    zone_radius_m: float = 150.0
    zone_speed_kmh: float = 30.0
    long_crossing_m: float = 16.0
    long_crossing_lanes: int = 4
    lane_width_m: float = 3.5
    default_lanes: tuple[tuple[str, int], ...] = (
        ("trunk", 6), ("primary", 6), ("secondary", 4), ("tertiary", 2), ("unclassified", 2),
        ("residential", 2), ("living_street", 1), ("service", 1))
    default_maxspeed_kmh: tuple[tuple[str, float], ...] = (
        ("trunk", 80.0), ("primary", 60.0), ("secondary", 50.0), ("tertiary", 40.0),
        ("unclassified", 30.0), ("residential", 30.0), ("living_street", 20.0),
        ("service", 20.0))
    footway_highways: tuple[str, ...] = ("footway", "pedestrian", "path", "steps", "corridor",
                                         "bridleway", "track")
    unsignalised_crossing_m: float = 1000.0
    long_crossing_penalty_m: float = 200.0
    no_sidewalk_factor: float = 3.0
    fast_zone_factor: float = 1.0
    risk_unit_m: float = 100.0
    speed_m_per_min: float = 60.0
    level_share: tuple[tuple[str, float], ...] = (
        ("kindergarten", 3 / 18), ("primary_school", 6 / 18), ("middle_school", 3 / 18))

    def lanes_for(self, highway: str) -> int:
        """Return the default number of lanes of a ``highway`` class (0 for footways)."""
        return dict(self.default_lanes).get(highway, 0 if highway in self.footway_highways
                                            else 2)

    def maxspeed_for(self, highway: str) -> float:
        """Return the default speed limit (km/h) of a ``highway`` class."""
        return dict(self.default_maxspeed_kmh).get(highway, 0.0 if highway in
                                                   self.footway_highways else 30.0)

    def share_for(self, kind: str) -> float:
        """Return the share of children of ``kind``'s school age (1 for a kind not listed)."""
        return dict(self.level_share).get(kind, 1.0)

    @property
    def zero_penalties(self) -> RouteRules:
        """The same rules with every penalty zero (the safe route is then the shortest)."""
        return replace(self, unsignalised_crossing_m=0.0, long_crossing_penalty_m=0.0,
                       no_sidewalk_factor=0.0, fast_zone_factor=0.0)


RULE_SOURCES: dict[str, str] = {
    "zone_radius_m": "GA/T 1215-2014: 校园周边道路 within ≥ 150 m of a school access",
    "zone_speed_kmh": "GA/T 1215-2014: speed limit 30 km/h on 校园周边道路",
    "long_crossing_m": "shared/docs/standards.md: a crossing longer than 16 m with no refuge "
                       "island is a route check",
    "long_crossing_lanes": "GA/T 1215-2014 (summary): crosswalks over 2+ lanes each way",
    "arterial_highways": "standards.md route checks: an arterial crossed with no signal and no "
                         "grade separation; OSM trunk/primary/secondary = 快速路/主干路/次干路",
    "arterial_maxspeed_kmh": "issue #10: maxspeed > 40 km/h counts as an arterial",
    "speed_m_per_min": "GB 50647-2011 crossing design speed, 60 m/min (standards.md)",
    "lane_width_m": "assumption (3.5 m lane; not in standards.md)",
    "default_lanes": "assumption by OSM class (not in standards.md)",
    "default_maxspeed_kmh": "assumption by OSM class (not in standards.md)",
    "unsignalised_crossing_m": "assumption: a child walks up to 1 km (~17 min) more to cross "
                               "an arterial at a signal",
    "long_crossing_penalty_m": "assumption",
    "no_sidewalk_factor": "assumption: a metre without a sidewalk weighs as four",
    "fast_zone_factor": "assumption",
    "risk_unit_m": "assumption: 100 penalty metres make one risk point",
    "level_share": "assumption: children spread evenly over ages 0-17",
    "kinds": "issue #10: 小学 and 初中, 幼儿园 as an option",
}
"""Where each default of :class:`RouteRules` comes from (GA/T 1215 via standards.md, or an
assumption)."""

DEFAULT_RULES = RouteRules()


def _rule_number(name: str, value: Any, kind: type) -> Any:
    """Return ``value`` as ``kind`` if it is a finite, non-negative number (whole for int)."""
    if (isinstance(value, bool) or not isinstance(value, int | float)
            or not math.isfinite(value) or value < 0
            or (kind is int and not float(value).is_integer())):
        what = "a whole number" if kind is int else "a number"
        msg = f"routes rule {name!r} must be {what}, finite and not negative, not {value!r}"
        raise ValueError(msg)
    return kind(value)


def _coerce(name: str, value: Any, default: Any) -> Any:
    if isinstance(default, tuple) and default and isinstance(default[0], tuple):
        if not isinstance(value, Mapping):
            msg = f"routes rule {name!r} must be a table of class = value"
            raise ValueError(msg)
        kind = type(default[0][1])
        merged = dict(default) | {str(k): _rule_number(f"{name}.{k}", v, kind)
                                  for k, v in value.items()}
        return tuple(merged.items())
    if isinstance(default, tuple):
        if isinstance(value, str) or not isinstance(value, list | tuple):
            msg = f"routes rule {name!r} must be a list"
            raise ValueError(msg)
        unknown = [v for v in value if name == "kinds" and v not in SCHOOL_KINDS]
        if unknown:
            msg = f"routes rule 'kinds' names {unknown}, not school kinds {list(SCHOOL_KINDS)}"
            raise ValueError(msg)
        return tuple(str(v) for v in value)
    return _rule_number(name, value, type(default))


def route_rules(overrides: Mapping[str, Any] | None = None, *,
                base: RouteRules = DEFAULT_RULES) -> RouteRules:
    """Return ``base`` with ``overrides`` (a ``[routes]`` table or keyword values) applied.

    Tables such as ``default_lanes`` are merged with the defaults by class.

    Raises
    ------
    ValueError
        On an unknown rule name or a value of the wrong type.
    """
    if not overrides:
        return base
    known = {f.name: getattr(base, f.name) for f in fields(RouteRules)}
    unknown = sorted(set(overrides) - set(known))
    if unknown:
        msg = f"unknown routes rules {unknown}; known: {sorted(known)}"
        raise ValueError(msg)
    return replace(base, **{k: _coerce(k, v, known[k]) for k, v in overrides.items()})
