"""Child-safety hazards of a street network read from its OSM tags, per edge side and crossing."""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from cfplan.analysis.routes_config import RouteRules
from cfplan.geo.corners import LEFT, RIGHT, CornerGraph
from cfplan.geo.street_network import StreetNetwork
from cfplan.layers.streets import tag_column

__all__ = ["ArcHazards", "EdgeHazards", "arc_hazards", "edge_hazards", "parse_speed"]

_NUMBER = re.compile(r"\d+(\.\d+)?")
_NO = ("no", "none")
_YES = ("yes", "separate", "both")


def parse_speed(value: object) -> float:
    """Return a ``maxspeed`` tag in km/h (``"50"``, ``"30 mph"``, ``"50;60"`` → first); NaN if none."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return float("nan")
    text = str(value).strip().lower()
    found = _NUMBER.search(text)
    if not found:
        return float("nan")
    speed = float(found.group(0))
    return speed * 1.609344 if "mph" in text else speed


def _first_number(value: object) -> float:
    if value is None:
        return float("nan")
    found = _NUMBER.search(str(value))
    return float(found.group(0)) if found else float("nan")


@dataclass(frozen=True, eq=False)
class EdgeHazards:
    """What the tags say about each edge and node, under a set of :class:`RouteRules`.

    Attributes
    ----------
    highway, name
        The edge's ``highway`` class and road name (empty string when untagged).
    footway
        Walked as a footway: no carriageway, always a walking surface.
    arterial
        A road a child should cross only at a signal (class, or ``maxspeed`` above the limit).
    maxspeed_kmh
        Speed limit (tag, else the class default), km/h.
    lanes
        Lanes (tag, else the class default; 0 for footways).
    crossing_m
        Length of a crossing of the edge's carriageway (m): lanes × lane width.
    long_crossing
        Longer than the rule's limit, or with at least its lanes.
    sidewalk
        Shape ``(m, 2)`` per side (:data:`LEFT`, :data:`RIGHT`): 1 a sidewalk, 0 none, -1 not
        tagged.
    no_sidewalk
        Shape ``(m, 2)``: walking that side is walking on the road (tagged none, or an
        untagged arterial).
    walkway
        Shape ``(m, 2)``: that side is a sidewalk or the edge is a footway.
    fast
        Faster than the school-zone limit.
    signalised
        Per node: a traffic signal (``highway=traffic_signals``, ``crossing=traffic_signals``
        or a ``traffic_signals`` tag).
    island
        Per node: a refuge island (``crossing:island=yes`` or ``crossing=island``).
    """

    highway: np.ndarray
    name: np.ndarray
    footway: np.ndarray
    arterial: np.ndarray
    maxspeed_kmh: np.ndarray
    lanes: np.ndarray
    crossing_m: np.ndarray
    long_crossing: np.ndarray
    sidewalk: np.ndarray
    no_sidewalk: np.ndarray
    walkway: np.ndarray
    fast: np.ndarray
    signalised: np.ndarray
    island: np.ndarray


def _sides(tags: pd.DataFrame | None, m: int) -> np.ndarray:
    """Sidewalk per side from ``sidewalk``, ``sidewalk:both``, ``sidewalk:left``/``right``."""
    out = np.full((m, 2), -1, dtype=np.int64)
    main = tag_column(tags, "sidewalk", m)
    for i, value in enumerate(main.tolist()):
        if value is None:
            continue
        v = str(value).lower()
        if v in ("both", "yes", "separate"):
            out[i] = 1
        elif v in _NO:
            out[i] = 0
        elif v == "left":
            out[i] = (1, 0)
        elif v == "right":
            out[i] = (0, 1)
    for key, cols in (("sidewalk:both", (LEFT, RIGHT)), ("sidewalk:left", (LEFT,)),
                      ("sidewalk:right", (RIGHT,))):
        values = tag_column(tags, key, m)
        for i in np.flatnonzero(pd.notna(values)).tolist():
            v = str(values[i]).lower()
            if v in _YES:
                out[i, list(cols)] = 1
            elif v in _NO:
                out[i, list(cols)] = 0
    return out


def edge_hazards(network: StreetNetwork, rules: RouteRules) -> EdgeHazards:
    """Read the hazards of every edge and node of ``network`` from its tags.

    Edges without tags are residential streets of unknown sidewalk; nodes without tags
    have no signal.

    Returns
    -------
    EdgeHazards
        Arrays aligned with the network's edges (and nodes for ``signalised``/``island``).
    """
    m, n = network.n_edges, network.n_nodes
    tags = network.edge_tags
    highway = np.array([str(v).split(";")[0] if v is not None else "residential"
                        for v in tag_column(tags, "highway", m)], dtype=object)
    name = np.array([str(v) if v is not None else "" for v in tag_column(tags, "name", m)],
                    dtype=object)
    footway = np.isin(highway, list(rules.footway_highways))
    speed = np.array([parse_speed(v) for v in tag_column(tags, "maxspeed", m)])
    default_speed = np.array([rules.maxspeed_for(h) for h in highway])
    speed = np.where(np.isnan(speed), default_speed, speed)
    lanes = np.array([_first_number(v) for v in tag_column(tags, "lanes", m)])
    lanes = np.where(np.isnan(lanes), [rules.lanes_for(h) for h in highway], lanes)
    lanes = np.where(footway, 0.0, lanes)
    arterial = (np.isin(highway, list(rules.arterial_highways))
                | (speed > rules.arterial_maxspeed_kmh)) & ~footway
    crossing_m = lanes * rules.lane_width_m
    long_crossing = ((crossing_m > rules.long_crossing_m)
                     | (lanes >= rules.long_crossing_lanes)) & ~footway
    sidewalk = _sides(tags, m)
    no_sidewalk = ((sidewalk == 0) | ((sidewalk < 0) & arterial[:, None])) & ~footway[:, None]
    walkway = (sidewalk == 1) | footway[:, None]
    fast = (speed > rules.zone_speed_kmh) & ~footway
    ntags = network.node_tags
    nh = tag_column(ntags, "highway", n)
    nc = tag_column(ntags, "crossing", n)
    ns = tag_column(ntags, "traffic_signals", n)
    ni = tag_column(ntags, "crossing:island", n)
    signalised = (nh == "traffic_signals") | (nc == "traffic_signals") | pd.notna(ns)
    island = (ni == "yes") | (nc == "island")
    # a crossing way tagged crossing=traffic_signals signals the nodes it touches
    ec = tag_column(tags, "crossing", m)
    signal_edges = np.flatnonzero(ec == "traffic_signals")
    signalised[network.edge_u[signal_edges]] = True
    signalised[network.edge_v[signal_edges]] = True
    return EdgeHazards(highway, name, footway, arterial, speed, lanes, crossing_m,
                       long_crossing, sidewalk, no_sidewalk, walkway, fast,
                       np.asarray(signalised, dtype=bool), np.asarray(island, dtype=bool))


@dataclass(frozen=True, eq=False)
class ArcHazards:
    """Per arc of a corner graph: its length and what walking it means for a child.

    Attributes
    ----------
    length
        Walking length (m): the edge's length for side arcs, the crossing's length for
        crossing arcs.
    no_sidewalk_m, walkway_m
        Metres on a side with no sidewalk, and on a sidewalk or footway (side arcs).
    arterial_crossing
        Crossing arcs that cross an arterial's carriageway.
    signalised
        Crossing arcs at a signal.
    unsignalised
        Arterial crossings with no signal.
    long_no_island
        Long crossings with no refuge island.
    """

    length: np.ndarray
    no_sidewalk_m: np.ndarray
    walkway_m: np.ndarray
    arterial_crossing: np.ndarray
    signalised: np.ndarray
    unsignalised: np.ndarray
    long_no_island: np.ndarray


def arc_hazards(graph: CornerGraph, hazards: EdgeHazards) -> ArcHazards:
    """Return the length and hazards of every arc of ``graph``.

    Returns
    -------
    ArcHazards
        Arrays of shape ``(A,)``.
    """
    net = graph.network
    e = graph.arc_edge
    side = np.maximum(graph.arc_side, 0)
    crossing = graph.is_crossing
    node = np.maximum(graph.arc_node, 0)
    length = np.where(crossing, hazards.crossing_m[e], net.edge_length[e])
    along = ~crossing
    no_sw = along & hazards.no_sidewalk[e, side]
    walk = along & hazards.walkway[e, side]
    arterial = crossing & hazards.arterial[e]
    signal = crossing & hazards.signalised[node] & ~hazards.footway[e]
    unsignalised = arterial & ~hazards.signalised[node]
    long_no_island = crossing & hazards.long_crossing[e] & ~hazards.island[node]
    return ArcHazards(length, np.where(no_sw, length, 0.0), np.where(walk, length, 0.0),
                      arterial, signal & arterial, unsignalised, long_no_island)
