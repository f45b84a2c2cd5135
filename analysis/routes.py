"""Safe routes to school: catchments, the shortest and the child-safety route, metrics, hotspots."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely import ops

from cfplan.analysis.plan import Filters
from cfplan.analysis.route_hazards import ArcHazards, EdgeHazards, arc_hazards, edge_hazards
from cfplan.analysis.routes_config import RouteRules, route_rules
from cfplan.analysis.selection import select
from cfplan.geo.corners import (
    CornerGraph,
    CornerSearch,
    CornerStructure,
    accumulate,
    arc_path,
    corner_graph,
    corner_structure,
    point_sides,
    search,
    subtree_sums,
)
from cfplan.geo.paths import nearest_source
from cfplan.geo.snap import Snapped, snap_points
from cfplan.geo.street_network import StreetNetwork
from cfplan.layers.demand import demand_points
from cfplan.layers.kinds import SCHOOL_KINDS
from cfplan.layers.load import LayerSet
from cfplan.layers.streets import Streets

__all__ = [
    "METRICS",
    "ROUTE_KINDS",
    "SCHOOL_KINDS",
    "UNIT_METRIC_COLUMNS",
    "SchoolRoutes",
    "layer_rules",
    "route_schools",
    "school_routes",
]

ROUTE_KINDS = ("shortest", "safe")
# Additive metrics carried along every route (columns of the per-arc value table).
_COLS = ("length_m", "street_m", "walkway_m", "no_sidewalk_m", "unsignalised_crossings",
         "signalised_crossings", "long_crossings", "fast_road_in_zone_m")
LEN, STREET, WALK, NOSW, UNSIG, SIG, LONG, ZONE = range(len(_COLS))
METRICS = (*_COLS, "minutes", "walkway_share", "risk", "risk_crossings",
           "risk_long_crossings", "risk_no_sidewalk", "risk_fast_zone")
"""Metrics of one route: metres, counts, minutes, the share on sidewalks or footways (0-1) and
the risk score with its four parts (points: penalty metres / ``risk_unit_m``)."""
UNIT_METRIC_COLUMNS = ("unit_code", "unit_name", "school_code", "children", "length_m",
                       "minutes", "unsignalised_crossings_shortest",
                       "unsignalised_crossings_safe", "no_sidewalk_m", "fast_road_in_zone_m",
                       "risk", "safe_detour_ratio")
"""Columns of ``routes/route_metrics.csv`` (issue #10)."""
MATCH_FACTOR = 10.0  # extra metres per metre off a planned line, when following it
MATCH_BUFFER_M = 25.0  # a street within this of a planned line follows it


@dataclass(frozen=True, eq=False)
class SchoolRoutes:
    """Every result of :func:`school_routes` (metric CRS of the layers unless stated).

    Attributes
    ----------
    routes
        One line per unit × school × route (``shortest``, ``safe``): the route of the unit's
        most central demand point in the catchment, from home to the school gate, with its
        metrics (:data:`METRICS`), ``children`` (the unit's children of the school's age in
        the catchment), ``crossed_roads`` (unsignalised arterial crossings, by road name, ``;``-separated) and
        ``signalised_roads``.
    points
        One row per demand point and school routed (GeoDataFrame of the demand points):
        ``point`` (row of the demand point), ``unit``, ``school_code``, ``kind``,
        ``catchment`` (``district`` or ``nearest``), ``children`` and each metric for each
        route as ``<metric>_<route>``.
    units
        Per unit × school, child-weighted means: the columns of :data:`UNIT_METRIC_COLUMNS`
        (``routes/route_metrics.csv``).
    schools
        Per school: ``school_code``, ``school_name``, ``kind``, ``children``, ``units``, mean
        ``length_m``/``minutes``, and the hazards its catchment's shortest routes meet, each
        counted once: ``unsignalised_crossings_shortest`` (places), ``no_sidewalk_m`` and
        ``fast_road_in_zone_m`` (metres of street sides used, whole edges),
        ``unsignalised_crossings_safe``, mean ``risk`` and ``safe_detour_ratio``.
    hotspots
        Crossings (points) and segments (lines) on shortest routes ranked by children × risk:
        ``rank``, ``kind`` (``crossing``/``segment``), ``road_name``, ``hazard``,
        ``signalised``, ``maxspeed``, ``children``, ``risk``, ``score``, ``schools``.
    catchments
        Per school: ``school_code``, ``school_name``, ``kind``, ``source`` (``district``:
        the 学区 polygon; ``nearest``: the cells of its nearest demand points), ``children``,
        ``points`` and the polygon.
    gates
        The gate points used: ``school_code``, ``gate`` (``gate`` layer or ``school``).
    zones
        School zones: ``school_code``, ``radius_m`` and the polygon around its gates.
    planned
        The user's planned routes (``school_routes`` layer) scored: per route and kind
        (``planned``: the streets following the line; ``shortest``; ``safe``) the metrics,
        ``route_id``, ``name``, ``school_code``, ``unit_code`` and ``follows_share`` (share of
        the planned route's street metres within 25 m of the line).
    rules
        The rules used.
    scenario
        The scenario whose schools were routed.
    warnings
        What could not be routed, in Chinese and English.
    """

    routes: gpd.GeoDataFrame
    points: gpd.GeoDataFrame
    units: pd.DataFrame
    schools: pd.DataFrame
    hotspots: gpd.GeoDataFrame
    catchments: gpd.GeoDataFrame
    gates: gpd.GeoDataFrame
    zones: gpd.GeoDataFrame
    planned: gpd.GeoDataFrame
    rules: RouteRules
    scenario: str = "current"
    warnings: list[Any] = field(default_factory=list)

    def summary(self) -> pd.DataFrame:
        """Return the per-school summary the ``route_safety`` targets read.

        Returns
        -------
        pandas.DataFrame
            :data:`cfplan.analysis.evaluate.ROUTE_SUMMARY_COLUMNS`, one row per school.
        """
        cols = ["school_code", "unsignalised_crossings_shortest", "no_sidewalk_m",
                "fast_road_in_zone_m", "children"]
        return self.schools[cols].copy()


# --------------------------------------------------------------------------- inputs


def _school_points(schools: gpd.GeoDataFrame, gates: gpd.GeoDataFrame | None
                   ) -> gpd.GeoDataFrame:
    """Gate points per school: the ``gates`` layer's, else the school's own point."""
    rows: list[dict[str, object]] = []
    geoms: list[object] = []
    by_school: dict[str, list[object]] = {}
    if gates is not None and not gates.empty and "school" in gates.columns:
        for code, geom in zip(gates["school"].astype(str), gates.geometry, strict=True):
            by_school.setdefault(code, []).append(geom)
    for i, (code, geom) in enumerate(zip(schools["fid"].astype(str), schools.geometry,
                                         strict=True)):
        own = by_school.get(code)
        if own:
            for g in own:
                rows.append({"school": i, "school_code": code, "gate": "gate"})
                geoms.append(g)
        else:
            rows.append({"school": i, "school_code": code, "gate": "school"})
            geoms.append(geom if geom.geom_type == "Point" else geom.representative_point())
    return gpd.GeoDataFrame(rows, geometry=geoms, crs=schools.crs) if rows else \
        gpd.GeoDataFrame({"school": [], "school_code": [], "gate": []}, geometry=[],
                         crs=schools.crs)


def _catchments(network: StreetNetwork, demand: gpd.GeoDataFrame, target: Snapped,
                schools: gpd.GeoDataFrame, gates: gpd.GeoDataFrame, gate_snap: Snapped,
                districts: gpd.GeoDataFrame | None, kinds: Iterable[str]
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Assign demand points to a school per kind: its 学区, else the nearest by walking.

    Returns
    -------
    tuple
        ``point``, ``school`` (row in ``schools``), ``source`` (``district``/``nearest``) and
        the centre-line walking distance (m; NaN for 学区 points) of each assignment.
    """
    points, assigned, sources, dists = [], [], [], []
    fids = schools["fid"].astype(str).to_numpy()
    kind_col = schools["kind"].astype(str).to_numpy()
    for kind in kinds:
        members = np.flatnonzero(kind_col == kind)
        if not len(members):
            continue
        school = np.full(len(demand), -1, dtype=np.int64)
        source = np.full(len(demand), "nearest", dtype=object)
        dist = np.full(len(demand), np.nan)
        if districts is not None and not districts.empty and "school" in districts.columns:
            own = districts[districts["school"].astype(str).isin(fids[members])]
            if not own.empty:
                pos = {f: i for i, f in enumerate(fids)}
                p_i, d_i = own.sindex.query(demand.geometry.to_numpy(), predicate="intersects")
                order = np.lexsort((d_i, p_i))
                p_i, d_i = p_i[order], d_i[order]
                first = np.ones(len(p_i), dtype=bool)
                first[1:] = p_i[1:] != p_i[:-1]
                codes = own["school"].astype(str).to_numpy()[d_i[first]]
                school[p_i[first]] = [pos[c] for c in codes]
                source[p_i[first]] = "district"
        rest = np.flatnonzero(school < 0)
        mine = np.isin(gates["school"].to_numpy(), members)
        if len(rest) and mine.any():
            near = nearest_source(network, gate_snap.with_owner(
                gates["school"].to_numpy(np.int64)).take(mine), target.take(rest))
            school[rest] = np.where(np.isfinite(near.distance), near.owner, -1)
            dist[rest] = near.distance
        ok = np.flatnonzero(school >= 0)
        points.append(ok)
        assigned.append(school[ok])
        sources.append(source[ok])
        dists.append(dist[ok])
    if not points:
        empty = np.empty(0, dtype=np.int64)
        return empty, empty, np.empty(0, dtype=object), np.empty(0)
    return (np.concatenate(points), np.concatenate(assigned), np.concatenate(sources),
            np.concatenate(dists))


# --------------------------------------------------------------------------- the searches


@dataclass(frozen=True, eq=False)
class _Net:
    """The corner graph with hazards, costs and virtual arcs of every school's gates."""

    graph: CornerGraph
    hazards: EdgeHazards
    arcs: ArcHazards
    structure: CornerStructure
    values: np.ndarray  # (A + V, len(_COLS)) without the school zone
    base_safe: np.ndarray  # (A + V,) safe cost without the school zone
    gate_arc_edge: np.ndarray  # (V,)
    gate_arc_side: np.ndarray
    gate_arc_from: np.ndarray  # along of the gate on its edge
    gate_arc_to: np.ndarray  # 0 or the edge length: the end the virtual arc leads to
    gate_arc_gate: np.ndarray  # gate row


def _piece_values(hazards: EdgeHazards, edge: np.ndarray, side: np.ndarray,
                  length: np.ndarray) -> np.ndarray:
    """Metric values of partial walks along one side of an edge (no school zone)."""
    out = np.zeros((len(edge), len(_COLS)))
    out[:, LEN] = out[:, STREET] = length
    out[:, WALK] = np.where(hazards.walkway[edge, side], length, 0.0)
    out[:, NOSW] = np.where(hazards.no_sidewalk[edge, side], length, 0.0)
    return out


def _build(network: StreetNetwork, rules: RouteRules, gate_snap: Snapped,
           gate_side: np.ndarray, gate_school: np.ndarray) -> _Net:
    graph = corner_graph(network)
    hazards = edge_hazards(network, rules)
    arcs = arc_hazards(graph, hazards)
    e, s = gate_snap.edge, gate_side
    to_u = graph.side_corners[e, s, 0]
    to_v = graph.side_corners[e, s, 1]
    virtual_from = np.concatenate([gate_school, gate_school])
    virtual_to = np.concatenate([to_u, to_v])
    structure = corner_structure(graph, virtual_from=virtual_from, virtual_to=virtual_to)
    a = graph.n_arcs
    values = np.zeros((a + len(virtual_to), len(_COLS)))
    values[:a, LEN] = arcs.length
    values[:a, STREET] = np.where(graph.is_crossing, 0.0, arcs.length)
    values[:a, WALK] = arcs.walkway_m
    values[:a, NOSW] = arcs.no_sidewalk_m
    values[:a, UNSIG] = arcs.unsignalised
    values[:a, SIG] = arcs.signalised
    values[:a, LONG] = arcs.long_no_island
    pieces = np.concatenate([gate_snap.along_m, network.edge_length[e] - gate_snap.along_m])
    edge2, side2 = np.concatenate([e, e]), np.concatenate([s, s])
    values[a:] = _piece_values(hazards, edge2, side2, pieces)
    values[a:, LEN] += np.concatenate([gate_snap.snap_m, gate_snap.snap_m])
    base_safe = _safe_cost(values, rules)
    return _Net(graph, hazards, arcs, structure, values, base_safe, edge2, side2,
                np.concatenate([gate_snap.along_m, gate_snap.along_m]),
                np.concatenate([np.zeros(len(e)), network.edge_length[e]]),
                np.concatenate([np.arange(len(e)), np.arange(len(e))]))


def _safe_cost(values: np.ndarray, rules: RouteRules) -> np.ndarray:
    """Return the child-safety cost of arcs or pieces: length plus every penalty (metres)."""
    return (values[:, LEN] + rules.no_sidewalk_factor * values[:, NOSW]
            + rules.unsignalised_crossing_m * values[:, UNSIG]
            + rules.long_crossing_penalty_m * values[:, LONG]
            + rules.fast_zone_factor * values[:, ZONE])


def _zone_lengths(network: StreetNetwork, hazards: EdgeHazards, zone: object
                  ) -> tuple[np.ndarray, np.ndarray]:
    """Fast edges touching a school zone and their length inside it (m)."""
    edges = network.edge_tree.query(zone, predicate="intersects")
    edges = np.sort(edges[hazards.fast[edges]])
    inside = shapely.length(shapely.intersection(network.edge_geometry[edges], zone))
    return edges, inside


def _substring_zone(network: StreetNetwork, edge: int, start: float, end: float,
                    zone: object) -> float:
    """Length (m) of the piece of ``edge`` from ``start`` to ``end`` (along, m) in ``zone``."""
    line = network.edge_geometry[edge]
    scale = line.length / max(network.edge_length[edge], 1e-9)
    lo, hi = sorted((start * scale, end * scale))
    if hi - lo <= 0:
        return 0.0
    piece = ops.substring(line, lo, hi)
    return float(shapely.length(shapely.intersection(piece, zone)))


@dataclass
class _Ends:
    """Where each routed point joins the tree of a search."""

    cost: np.ndarray
    node: np.ndarray  # corner reached (-1: straight from a gate on the same edge side)
    gate: np.ndarray  # for straight walks: the gate row
    values: np.ndarray  # metrics of the whole route


def _ends(net: _Net, network: StreetNetwork, result: CornerSearch, acc: np.ndarray,
          target: Snapped, t_side: np.ndarray, gate_snap: Snapped, gate_side: np.ndarray,
          gates_of_school: np.ndarray, piece_cost: Any, zone: object, zone_edges: np.ndarray,
          ) -> _Ends:
    """Best join of each target: through either corner of its edge side, or straight along it."""
    e, s, a = target.edge, t_side, target.along_m
    length = network.edge_length[e]
    best_cost = np.full(len(e), np.inf)
    best_node = np.full(len(e), -1, dtype=np.int64)
    best_gate = np.full(len(e), -1, dtype=np.int64)
    best_vals = np.zeros((len(e), len(_COLS)))
    fast_here = np.isin(e, zone_edges)
    for end, piece in ((0, a), (1, length - a)):
        corner = net.graph.side_corners[e, s, end]
        vals = _piece_values(net.hazards, e, s, piece)
        for i in np.flatnonzero(fast_here).tolist():
            lo, hi = (0.0, a[i]) if end == 0 else (a[i], length[i])
            vals[i, ZONE] = _substring_zone(network, int(e[i]), lo, hi, zone)
        cost = result.cost[corner] + piece_cost(vals)
        better = cost < best_cost
        best_cost[better] = cost[better]
        best_node[better] = corner[better]
        best_vals[better] = acc[corner[better]] + vals[better]
    for g in gates_of_school.tolist():
        same = np.flatnonzero((e == gate_snap.edge[g]) & (s == gate_side[g]))
        if not len(same):
            continue
        piece = np.abs(a[same] - gate_snap.along_m[g])
        vals = _piece_values(net.hazards, e[same], s[same], piece)
        vals[:, LEN] += gate_snap.snap_m[g]
        for k, i in enumerate(same.tolist()):
            if fast_here[i]:
                vals[k, ZONE] = _substring_zone(network, int(e[i]), a[i],
                                                float(gate_snap.along_m[g]), zone)
        cost = piece_cost(vals)
        better = cost < best_cost[same]
        idx = same[better]
        best_cost[idx] = cost[better]
        best_node[idx] = -1
        best_gate[idx] = g
        best_vals[idx] = vals[better]
    best_vals[:, LEN] += target.snap_m
    return _Ends(best_cost + target.snap_m, best_node, best_gate, best_vals)


def _derived(values: np.ndarray, rules: RouteRules) -> dict[str, np.ndarray]:
    """Every metric of :data:`METRICS` from the additive values."""
    out = {c: values[:, i] for i, c in enumerate(_COLS)}
    out["minutes"] = values[:, LEN] / rules.speed_m_per_min
    with np.errstate(invalid="ignore", divide="ignore"):
        out["walkway_share"] = np.where(values[:, STREET] > 0,
                                        values[:, WALK] / np.maximum(values[:, STREET], 1e-9),
                                        np.nan)
    unit = rules.risk_unit_m
    out["risk_crossings"] = values[:, UNSIG] * rules.unsignalised_crossing_m / unit
    out["risk_long_crossings"] = values[:, LONG] * rules.long_crossing_penalty_m / unit
    out["risk_no_sidewalk"] = values[:, NOSW] * rules.no_sidewalk_factor / unit
    out["risk_fast_zone"] = values[:, ZONE] * rules.fast_zone_factor / unit
    out["risk"] = (out["risk_crossings"] + out["risk_long_crossings"] + out["risk_no_sidewalk"]
                   + out["risk_fast_zone"])
    return out


# --------------------------------------------------------------------------- geometry


def _route_line(net: _Net, network: StreetNetwork, result: CornerSearch, node: int,
                gate: int, target_i: int, target: Snapped, t_side: int, target_pt: object,
                gate_snap: Snapped, gate_pts: np.ndarray) -> tuple[object, list[int]]:
    """Return the line of one route from home to gate, and the arcs it uses (school first)."""
    coords: list[np.ndarray] = []
    e_t, a_t = int(target.edge[target_i]), float(target.along_m[target_i])

    def piece(edge: int, start: float, end: float) -> np.ndarray:
        line = network.edge_geometry[edge]
        scale = line.length / max(network.edge_length[edge], 1e-9)
        if abs(end - start) < 1e-9:
            p = line.interpolate(start * scale)
            return np.array([[p.x, p.y]])
        if start <= end:
            return np.asarray(ops.substring(line, start * scale, end * scale).coords)
        return np.asarray(ops.substring(line, end * scale, start * scale).coords)[::-1]

    arcs: list[int] = []
    if node < 0:
        g = gate
        coords.append(shapely.get_coordinates(gate_pts[g]))
        coords.append(piece(e_t, float(gate_snap.along_m[g]), a_t))
    else:
        arcs = arc_path(result, node)
        graph = net.graph
        n_arcs = graph.n_arcs
        prev_node = -1
        for k in arcs:
            if k >= n_arcs:
                v = k - n_arcs
                g = int(net.gate_arc_gate[v])
                coords.append(shapely.get_coordinates(gate_pts[g]))
                coords.append(piece(int(net.gate_arc_edge[v]), float(net.gate_arc_from[v]),
                                    float(net.gate_arc_to[v])))
                prev_node = int(network.edge_u[net.gate_arc_edge[v]]
                                if net.gate_arc_to[v] == 0 else network.edge_v[
                                    net.gate_arc_edge[v]])
            elif graph.arc_side[k] >= 0:
                e = int(graph.arc_edge[k])
                forward = prev_node == int(network.edge_u[e])
                coords.append(piece(e, 0.0, float(network.edge_length[e])) if forward
                              else piece(e, float(network.edge_length[e]), 0.0))
                prev_node = int(network.edge_v[e] if forward else network.edge_u[e])
        end_along = 0.0 if node == net.graph.side_corners[e_t, t_side, 0] \
            else float(network.edge_length[e_t])
        coords.append(piece(e_t, end_along, a_t))
    coords.append(shapely.get_coordinates(target_pt))
    xy = np.concatenate(coords)[::-1]
    keep = np.ones(len(xy), dtype=bool)
    keep[1:] = (np.abs(np.diff(xy, axis=0)) > 1e-9).any(axis=1)
    xy = xy[keep]
    if len(xy) < 2:
        xy = np.vstack([xy, xy])
    return shapely.linestrings(xy), arcs


def _crossed(net: _Net, arcs: list[int]) -> tuple[str, str]:
    """Road names of the arterial crossings of a route: unsignalised, signalised."""
    graph, hz = net.graph, net.hazards
    unsig: list[str] = []
    sig: list[str] = []
    for k in arcs:
        if k < graph.n_arcs and graph.arc_side[k] < 0 and net.arcs.arterial_crossing[k]:
            e = int(graph.arc_edge[k])
            name = hz.name[e] or hz.highway[e]
            (sig if net.arcs.signalised[k] else unsig).append(name)
    return ";".join(unsig), ";".join(sig)


# --------------------------------------------------------------------------- the analysis


def _weighted(frame: pd.DataFrame, keys: list[str], cols: list[str], weight: str
              ) -> pd.DataFrame:
    """Child-weighted means of ``cols`` per group (plain means where a group has no weight)."""
    w = frame[weight].to_numpy(np.float64)
    even = frame.groupby(keys, sort=True)[weight].transform("sum").to_numpy() <= 0
    w = np.where(even, 1.0, w)
    tmp = frame[keys].copy()
    tmp["_w"] = w
    for c in cols:
        tmp[c] = frame[c].to_numpy(np.float64) * w
    sums = tmp.groupby(keys, sort=True).sum(numeric_only=True)
    out = sums[cols].div(sums["_w"], axis=0)
    return out.reset_index()


def layer_rules(layers: LayerSet) -> RouteRules:
    """Return the route rules of a layer set: the defaults with its ``[routes]`` table applied.

    Raises
    ------
    cfplan.InputError
        Naming ``layers.toml`` ``[routes]`` when a key is unknown or a value is not usable.
    """
    try:
        return route_rules(getattr(layers, "route_rules", None) or None)
    except ValueError as exc:
        from cfplan.layers.errors import InputError
        from cfplan.layers.text import Text

        raise InputError(str(layers.manifest_file),
                         Text(f"[routes] 无效：{exc}", f"[routes] is invalid: {exc}"),
                         Text("键名与取值见 RouteRules（README 上下学路径一节）",
                              "see RouteRules for the keys and values (README, routes to "
                              "school)"), field="routes") from exc


def school_routes(
    layers: LayerSet,
    network: StreetNetwork | Streets,
    *,
    rules: RouteRules | Mapping[str, Any] | None = None,
    kinds: Iterable[str] | None = None,
    scenario: str = "current",
    demand: gpd.GeoDataFrame | None = None,
    spacing_m: float = 100.0,
    detail: bool = True,
) -> SchoolRoutes:
    """Route every child to school, the shortest way and the child-safe way, and find hotspots.

    Each school of ``kinds`` (in ``scenario``) gets a catchment: the demand points inside its
    学区 (``school_districts`` layer), else those for which it is the nearest school of its
    kind by walking. Routes run on the corner graph of the streets
    (:mod:`cfplan.geo.corners`), which knows the sides of each street and the crossings
    between them: one Dijkstra per school and route kind from its gates (``gates`` layer, or
    the school point) reaches every home at once. The shortest route minimises metres (a
    crossing's length included); the safe route adds the penalties of ``rules``. Hotspots are
    the crossings and segments of shortest routes, by children × risk.

    Parameters
    ----------
    layers
        Loaded layers (metric CRS); ``layers.route_rules`` (``[routes]`` in ``layers.toml``)
        override the defaults.
    network
        The walking network (``Streets`` or its ``network``), in ``layers.crs``.
    rules
        Rules or overrides (:func:`cfplan.analysis.routes_config.route_rules`); applied over
        the layers' ``[routes]`` table.
    kinds
        School kinds (default ``rules.kinds``: primary and junior middle schools).
    scenario
        ``current`` (built schools) or ``planned`` (planned ones too).
    demand
        Demand points (:func:`cfplan.layers.demand.demand_points`); built from the units
        when omitted.
    spacing_m
        Demand grid spacing (m) when ``demand`` is built here.
    detail
        ``False``: only the metrics per point, unit and school (no route lines, hotspots,
        catchment polygons or planned routes): what the ``route_safety`` targets read.

    Returns
    -------
    SchoolRoutes
        Routes, metrics per demand point, unit and school, hotspots, catchments, gates,
        school zones and planned routes scored; lengths in metres, times in minutes.
    """
    net = network.network if isinstance(network, Streets) else network
    base = layer_rules(layers)
    if isinstance(rules, RouteRules):
        base = rules
    elif rules:
        base = route_rules(rules, base=base)
    kinds = tuple(kinds) if kinds is not None else base.kinds
    fac = layers.facilities
    planned_lines = layers.school_routes if not layers.school_routes.empty else None
    extra_kinds: tuple[str, ...] = ()
    if planned_lines is not None and "school" in planned_lines.columns:
        named = set(planned_lines["school"].dropna().astype(str))
        extra_kinds = tuple(sorted(set(fac.loc[fac["fid"].astype(str).isin(named), "kind"])
                                   - set(kinds)))
    sure, _ = select(fac, (*kinds, *extra_kinds), Filters(), scenario=scenario)
    if demand is None:
        units = layers.units.copy()
        units["children"] = units["children"].fillna(0.0)
        demand = demand_points(units, spacing_m=spacing_m,
                               buildings=layers.buildings if not layers.buildings.empty else None)
    names = dict(zip(layers.units["code"].astype(str), layers.units["name"].astype(str),
                     strict=True))
    return route_schools(net, fac[sure], demand, kinds=kinds, rules=base,
                         gates=getattr(layers, "gates", None),
                         districts=getattr(layers, "school_districts", None),
                         planned=planned_lines, unit_names=names, spacing_m=spacing_m,
                         detail=detail, scenario=scenario)


def route_schools(
    network: StreetNetwork,
    schools: gpd.GeoDataFrame,
    demand: gpd.GeoDataFrame,
    *,
    kinds: Iterable[str] | None = None,
    rules: RouteRules | None = None,
    gates: gpd.GeoDataFrame | None = None,
    districts: gpd.GeoDataFrame | None = None,
    planned: gpd.GeoDataFrame | None = None,
    unit_names: Mapping[str, str] | None = None,
    spacing_m: float = 100.0,
    detail: bool = True,
    scenario: str = "current",
) -> SchoolRoutes:
    """Route demand points to schools on a network: the engine of :func:`school_routes`.

    Parameters
    ----------
    network
        The walking network (metric CRS).
    schools
        Schools to route to: ``fid``, ``name``, ``kind`` and Point (or Polygon) geometry, in
        the network CRS.
    demand
        Demand points: ``unit`` (unit code), ``children`` and Point geometry.
    kinds
        Kinds that get catchments (default ``rules.kinds``); schools of other kinds are
        only reached by planned routes.
    rules
        Route rules (default :data:`cfplan.analysis.routes_config.DEFAULT_RULES`).
    gates, districts, planned
        Optional ``gates`` (points with ``school``), ``school_districts`` (polygons with
        ``school``) and planned routes (lines with ``school``, ``route_id``, ``name``,
        ``unit_code``).
    unit_names
        Unit code → name for the tables.
    spacing_m
        Demand grid spacing (m), for the catchment cells.
    detail, scenario
        As for :func:`school_routes`.

    Returns
    -------
    SchoolRoutes
        See :func:`school_routes`.
    """
    from cfplan.layers.text import Text

    net = network
    rules = rules or route_rules()
    kinds = tuple(kinds) if kinds is not None else rules.kinds
    warnings: list[Text] = []
    schools = schools.reset_index(drop=True)
    planned_lines = planned if planned is not None and not planned.empty else None
    gates = _school_points(schools, gates)
    crs = network.crs
    demand = demand.reset_index(drop=True)
    gate_pts = gates.geometry.to_numpy()
    gate_snap = snap_points(net, gate_pts)
    gate_side = point_sides(net, gate_snap, gate_pts)
    gate_school = gates["school"].to_numpy(np.int64)
    target_pts = demand.geometry.to_numpy()
    target = snap_points(net, target_pts)
    t_side = point_sides(net, target, target_pts)
    p_point, p_school, p_source, p_dist = _catchments(net, demand, target, schools, gates, gate_snap,
                                              districts, kinds)
    g = _build(net, rules, gate_snap, gate_side, gate_school)
    zones_geom = [shapely.union_all(shapely.buffer(gate_pts[gate_school == j],
                                                   rules.zone_radius_m))
                  for j in range(len(schools))]
    share = np.array([rules.share_for(k) for k in schools["kind"].astype(str)]) \
        if len(schools) else np.zeros(0)
    children = demand["children"].to_numpy(np.float64)

    # planned routes: each line's home end is a target of its school
    plan_rows: list[dict[str, Any]] = []
    plan_geoms: list[object] = []

    point_frames: list[pd.DataFrame] = []
    route_rows: list[dict[str, Any]] = []
    route_geoms: list[object] = []
    flow_arc: list[np.ndarray] = []
    flow_school: list[np.ndarray] = []
    flow_value: list[np.ndarray] = []
    flow_zone: list[np.ndarray] = []
    safe_unsig_arcs: list[tuple[int, np.ndarray]] = []
    unit_name = dict(unit_names or {})
    dropped = 0
    for j in range(len(schools)):
        code = str(schools.at[j, "fid"])
        mine = p_school == j
        pts = p_point[mine]
        lines_j = [] if planned_lines is None else [
            i for i, s in enumerate(planned_lines.get("school", pd.Series(dtype=object))
                                    .astype(str)) if s == code]
        if not len(pts) and not lines_j:
            continue
        zone = zones_geom[j]
        zone_edges, zone_len = _zone_lengths(net, g.hazards, zone)
        zone_col = np.zeros(len(g.values))  # this school's zone metres per arc
        side_arcs = 2 * zone_edges
        for side in (0, 1):
            zone_col[side_arcs + side] = zone_len
        gates_j = np.flatnonzero(gate_school == j)
        v_mine = np.flatnonzero(np.isin(g.gate_arc_gate, gates_j))
        in_zone = set(zone_edges.tolist())
        for v in v_mine.tolist():
            e = int(g.gate_arc_edge[v])
            if e in in_zone:
                zone_col[g.graph.n_arcs + v] = _substring_zone(
                    net, e, float(g.gate_arc_from[v]), float(g.gate_arc_to[v]), zone)

        def values(arcs: np.ndarray, zone_col: np.ndarray = zone_col) -> np.ndarray:
            out = g.values[arcs]
            out[:, ZONE] = zone_col[arcs]
            return out

        costs = {"shortest": g.values[:, LEN],
                 "safe": g.base_safe + rules.fast_zone_factor * zone_col}
        piece_costs = {"shortest": lambda vals: vals[:, LEN],
                       "safe": lambda vals: _safe_cost(vals, rules)}
        near = p_dist[mine]
        limits = {"shortest": 1.5 * float(near.max()) + 300.0
                  if len(near) and np.isfinite(near).all() and not lines_j else np.inf}
        sub = target.take(pts)
        sub_side = t_side[pts]
        columns: dict[str, Any] = {
            "point": pts, "unit": demand["unit"].to_numpy()[pts], "school_code": code,
            "kind": str(schools.at[j, "kind"]), "catchment": p_source[mine],
            "children": children[pts] * share[j]}
        searches: dict[str, tuple[CornerSearch, _Ends]] = {}
        for kind in ROUTE_KINDS:
            limit = limits.get(kind, np.inf)
            while True:
                result = search(g.structure, costs[kind], j, limit=limit)
                acc = accumulate(result, values)
                ends = _ends(g, net, result, acc, sub, sub_side, gate_snap, gate_side,
                             gates_j, piece_costs[kind], zone, zone_edges)
                if np.isfinite(limit) and not np.isfinite(ends.cost).all():
                    limit = np.inf  # the bound was too tight: search again, unbounded
                    continue
                break
            searches[kind] = (result, ends)
            if kind == "shortest" and len(ends.cost) and np.isfinite(ends.cost).all() \
                    and not lines_j:
                # the safe route costs at most what the shortest route costs with penalties
                limits["safe"] = float(_safe_cost(ends.values, rules).max()) * (1 + 1e-9) \
                    + 1e-6
            for metric, col in _derived(ends.values, rules).items():
                columns[f"{metric}_{kind}"] = col
        frame = pd.DataFrame(columns)
        ok = np.isfinite(searches["shortest"][1].cost) & np.isfinite(searches["safe"][1].cost)
        dropped += int((~ok).sum())
        # flows of children along the shortest routes (hotspots) and the school's hazards
        result, ends = searches["shortest"]
        w = np.where(ok, frame["children"].to_numpy(), 0.0)
        node_w = np.zeros(g.structure.n_nodes)
        joined = ends.node >= 0
        np.add.at(node_w, ends.node[joined & ok], w[joined & ok])
        flow = subtree_sums(result, node_w)
        reached = np.flatnonzero(result.arc >= 0)
        arc_flow = np.zeros(len(g.values))
        np.add.at(arc_flow, result.arc[reached], flow[reached])
        # home and gate pieces count on their street side
        piece_arc = 2 * sub.edge + sub_side
        np.add.at(arc_flow, piece_arc[ok], w[ok])
        a_n = g.graph.n_arcs
        virt = np.flatnonzero(arc_flow[a_n:] > 0)
        np.add.at(arc_flow, 2 * g.gate_arc_edge[virt] + g.gate_arc_side[virt],
                  arc_flow[a_n + virt])
        real = np.flatnonzero(arc_flow[:a_n] > 0)
        flow_arc.append(real)
        flow_school.append(np.full(len(real), j))
        flow_value.append(arc_flow[real])
        flow_zone.append(zone_col[real])
        # the safe routes' unsignalised crossings (places used)
        s_result, s_ends = searches["safe"]
        s_w = np.zeros(g.structure.n_nodes)
        s_join = (s_ends.node >= 0) & ok
        np.add.at(s_w, s_ends.node[s_join], np.maximum(w[s_join], 1e-12))
        s_flow = subtree_sums(s_result, s_w)
        s_reached = np.flatnonzero(s_result.arc >= 0)
        s_arcs = np.unique(s_result.arc[s_reached[s_flow[s_reached] > 0]])
        s_arcs = s_arcs[s_arcs < a_n]
        safe_unsig_arcs.append((j, s_arcs[g.arcs.unsignalised[s_arcs]]))
        frame = frame[ok].reset_index(drop=True)
        point_frames.append(frame)
        if not detail:
            continue
        # one drawn route per unit: its most central routed point
        sub_ok = np.flatnonzero(ok)
        for unit, rows in pd.Series(sub_ok).groupby(frame["unit"].to_numpy()):
            idx = rows.to_numpy()
            xy = shapely.get_coordinates(target_pts[pts[idx]])
            wts = np.maximum(w[idx], 1e-12)
            centre = (xy * wts[:, None]).sum(axis=0) / wts.sum()
            pick = int(idx[np.argmin(np.hypot(*(xy - centre).T))])
            for kind in ROUTE_KINDS:
                result, ends = searches[kind]
                line, arcs = _route_line(g, net, result, int(ends.node[pick]),
                                         int(ends.gate[pick]), pick, sub, int(sub_side[pick]),
                                         target_pts[pts[pick]], gate_snap, gate_pts)
                crossed, signalled = _crossed(g, arcs)
                metrics = _derived(ends.values[pick:pick + 1], rules)
                row = {"unit_code": str(unit), "unit_name": unit_name.get(str(unit), ""),
                       "school_code": code, "school_name": str(schools.at[j, "name"]),
                       "kind": str(schools.at[j, "kind"]), "route": kind,
                       "children": float(w[idx].sum()), "point": int(pts[pick])}
                row |= {k: float(v[0]) for k, v in metrics.items()}
                row |= {"crossed_roads": crossed, "signalised_roads": signalled}
                route_rows.append(row)
                route_geoms.append(line)
        # planned routes of this school
        for li in lines_j:
            assert planned_lines is not None
            rows_p, geoms_p = _score_planned(g, net, rules, planned_lines.iloc[li], j, code,
                                             values, costs, piece_costs, gate_snap, gate_side,
                                             gates_j, gate_pts, zone, zone_edges)
            plan_rows += rows_p
            plan_geoms += geoms_p
    if dropped:
        warnings.append(Text(f"{dropped} 个需求点无法沿路网到达其学校，未计入上下学路径",
                             f"{dropped} demand points cannot reach their school along the "
                             "streets; left out of the school routes"))
    table = (pd.concat(point_frames, ignore_index=True) if point_frames
             else pd.DataFrame({c: [] for c in ("point", "unit", "school_code", "kind",
                                                "catchment", "children")}))
    points = gpd.GeoDataFrame(table, geometry=target_pts[table["point"].to_numpy(np.int64)],
                              crs=crs)
    routes = gpd.GeoDataFrame(route_rows, geometry=route_geoms, crs=crs) if route_rows else \
        gpd.GeoDataFrame({"unit_code": [], "school_code": [], "route": []}, geometry=[],
                         crs=crs)
    units_table = _unit_table(points, unit_name)
    flows = pd.DataFrame({
        "arc": np.concatenate(flow_arc) if flow_arc else np.empty(0, dtype=np.int64),
        "school": np.concatenate(flow_school) if flow_school else np.empty(0, dtype=np.int64),
        "children": np.concatenate(flow_value) if flow_value else np.empty(0),
        "zone_m": np.concatenate(flow_zone) if flow_zone else np.empty(0)})
    schools_table = _school_table(g, net, schools, points, flows, dict(safe_unsig_arcs))
    hotspots = _hotspots(g, net, rules, schools, flows if detail else flows.iloc[:0], crs)
    catchments = _catchment_frame(schools, demand, points if detail else points.iloc[:0],
                                  districts if detail else None, spacing_m, crs)
    zones = gpd.GeoDataFrame({"school_code": schools["fid"].astype(str).to_numpy(),
                              "radius_m": rules.zone_radius_m},
                             geometry=zones_geom, crs=crs) if len(schools) else \
        gpd.GeoDataFrame({"school_code": [], "radius_m": []}, geometry=[], crs=crs)
    gates_out = gates[["school_code", "gate", "geometry"]].copy()
    planned = gpd.GeoDataFrame(plan_rows, geometry=plan_geoms, crs=crs) if plan_rows else \
        gpd.GeoDataFrame({"route_id": [], "route": []}, geometry=[], crs=crs)
    return SchoolRoutes(routes, points, units_table, schools_table, hotspots, catchments,
                        gates_out, zones, planned, rules, scenario, warnings)


def _unit_table(points: pd.DataFrame, unit_name: Mapping[str, str]) -> pd.DataFrame:
    """Per unit × school child-weighted means: ``routes/route_metrics.csv``."""
    if points.empty:
        return pd.DataFrame(columns=list(UNIT_METRIC_COLUMNS))
    cols = ["length_m_shortest", "minutes_shortest", "unsignalised_crossings_shortest",
            "unsignalised_crossings_safe", "no_sidewalk_m_shortest",
            "fast_road_in_zone_m_shortest", "risk_shortest", "length_m_safe"]
    means = _weighted(points, ["unit", "school_code"], cols, "children")
    kids = points.groupby(["unit", "school_code"], sort=True)["children"].sum().to_numpy()
    out = pd.DataFrame({
        "unit_code": means["unit"].astype(str),
        "unit_name": means["unit"].astype(str).map(unit_name).fillna(""),
        "school_code": means["school_code"].astype(str),
        "children": kids.round(1),
        "length_m": means["length_m_shortest"].round(1),
        "minutes": means["minutes_shortest"].round(1),
        "unsignalised_crossings_shortest": means["unsignalised_crossings_shortest"].round(2),
        "unsignalised_crossings_safe": means["unsignalised_crossings_safe"].round(2),
        "no_sidewalk_m": means["no_sidewalk_m_shortest"].round(1),
        "fast_road_in_zone_m": means["fast_road_in_zone_m_shortest"].round(1),
        "risk": means["risk_shortest"].round(2),
        "safe_detour_ratio": (means["length_m_safe"]
                              / means["length_m_shortest"].where(
                                  means["length_m_shortest"] > 0)).round(3),
    })
    return out[list(UNIT_METRIC_COLUMNS)]


def _crossing_places(g: _Net, arcs: np.ndarray) -> pd.DataFrame:
    """Crossing arcs grouped into places: one node and one road (by name, else by edge)."""
    e = g.graph.arc_edge[arcs]
    names = g.hazards.name[e]
    road = np.where(names == "", [f"#{x}" for x in e.tolist()] if len(e) else names, names)
    return pd.DataFrame({"arc": arcs, "node": g.graph.arc_node[arcs], "road": road, "edge": e})


def _school_table(g: _Net, network: StreetNetwork, schools: gpd.GeoDataFrame,
                  points: pd.DataFrame, flows: pd.DataFrame,
                  safe_unsig: Mapping[int, np.ndarray]) -> pd.DataFrame:
    rows = []
    by_code = dict(tuple(points.groupby("school_code", sort=False))) if not points.empty \
        else {}
    by_school = dict(tuple(flows.groupby("school", sort=False))) if not flows.empty else {}
    for j in range(len(schools)):
        code = str(schools.at[j, "fid"])
        mine = by_code.get(code)
        if mine is None or mine.empty:
            continue
        f = by_school.get(j, flows.iloc[:0])
        arcs = f["arc"].to_numpy()
        unsig = arcs[g.graph.is_crossing[arcs] & g.arcs.unsignalised[arcs]]
        places = _crossing_places(g, unsig)
        side = ~g.graph.is_crossing[arcs]
        side_arcs = arcs[side]
        no_sw = float(g.arcs.no_sidewalk_m[side_arcs].sum())
        zone = f[side].groupby(g.graph.arc_edge[side_arcs])["zone_m"].max().sum() \
            if side.any() else 0.0
        s_places = _crossing_places(g, safe_unsig.get(j, np.empty(0, dtype=np.int64)))
        w = mine["children"].to_numpy()
        ww = w if w.sum() > 0 else np.ones(len(w))
        mean = {c: float(np.average(mine[c].to_numpy(), weights=ww))
                for c in ("length_m_shortest", "minutes_shortest", "risk_shortest",
                          "length_m_safe")}
        rows.append({
            "school_code": code, "school_name": str(schools.at[j, "name"]),
            "kind": str(schools.at[j, "kind"]), "children": round(float(w.sum()), 1),
            "units": int(mine["unit"].nunique()),
            "length_m": round(mean["length_m_shortest"], 1),
            "minutes": round(mean["minutes_shortest"], 1),
            "unsignalised_crossings_shortest": len(places.drop_duplicates(["node", "road"])),
            "unsignalised_crossings_safe": len(s_places.drop_duplicates(["node", "road"])),
            "no_sidewalk_m": round(no_sw, 1), "fast_road_in_zone_m": round(float(zone), 1),
            "risk": round(mean["risk_shortest"], 2),
            "safe_detour_ratio": round(mean["length_m_safe"] / mean["length_m_shortest"], 3)
            if mean["length_m_shortest"] > 0 else np.nan,
        })
    cols = ["school_code", "school_name", "kind", "children", "units", "length_m", "minutes",
            "unsignalised_crossings_shortest", "unsignalised_crossings_safe", "no_sidewalk_m",
            "fast_road_in_zone_m", "risk", "safe_detour_ratio"]
    return pd.DataFrame(rows, columns=cols)


def _hotspots(g: _Net, network: StreetNetwork, rules: RouteRules, schools: gpd.GeoDataFrame,
              flows: pd.DataFrame, crs: Any) -> gpd.GeoDataFrame:
    """Crossings and segments of shortest routes, ranked by children × risk."""
    cols = ["rank", "kind", "road_name", "hazard", "signalised", "maxspeed", "children",
            "risk", "score", "schools"]
    if flows.empty:
        return gpd.GeoDataFrame({c: [] for c in cols}, geometry=[], crs=crs)
    codes = schools["fid"].astype(str).to_numpy()
    hz, graph = g.hazards, g.graph
    arcs = flows["arc"].to_numpy()
    crossing = graph.is_crossing[arcs]
    rows: list[dict[str, Any]] = []
    geoms: list[object] = []
    # crossings: unsignalised arterial crossings and long crossings without an island
    c = flows[crossing].copy()
    ca = c["arc"].to_numpy()
    c["risk"] = (g.arcs.unsignalised[ca] * rules.unsignalised_crossing_m
                 + g.arcs.long_no_island[ca] * rules.long_crossing_penalty_m) / rules.risk_unit_m
    c = c[c["risk"] > 0]
    if not c.empty:
        places = _crossing_places(g, c["arc"].to_numpy())
        c = c.reset_index(drop=True).join(places.drop(columns="arc"))
        for (node, _road), grp in c.groupby(["node", "road"], sort=True):
            e = int(grp["edge"].iloc[0])
            arc = int(grp["arc"].iloc[0])
            hazard = []
            if g.arcs.unsignalised[arc]:
                hazard.append("unsignalised")
            if g.arcs.long_no_island[arc]:
                hazard.append("long_no_island")
            rows.append({"kind": "crossing", "road_name": hz.name[e],
                         "hazard": "+".join(hazard),
                         "signalised": bool(hz.signalised[int(node)]),
                         "maxspeed": float(hz.maxspeed_kmh[e]),
                         "children": float(grp["children"].sum()),
                         "risk": float(grp["risk"].max()),
                         "schools": ",".join(sorted({codes[s] for s in grp["school"]})),
                         "node": int(network.node_ids[int(node)]), "edge": e})
            geoms.append(shapely.points(network.x[int(node)], network.y[int(node)]))
    # segments: walking with no sidewalk, or beside a fast road in a school zone
    s = flows[~crossing].copy()
    sa = s["arc"].to_numpy()
    s["edge"] = graph.arc_edge[sa]
    s["penalty"] = (g.arcs.no_sidewalk_m[sa] * rules.no_sidewalk_factor
                    + s["zone_m"].to_numpy() * rules.fast_zone_factor)
    s = s[s["penalty"] > 0]
    for e, grp in s.groupby("edge", sort=True):
        e = int(e)
        hazard = []
        if hz.no_sidewalk[e].any() and (g.arcs.no_sidewalk_m[grp["arc"].to_numpy()] > 0).any():
            hazard.append("no_sidewalk")
        if (grp["zone_m"] > 0).any():
            hazard.append("fast_in_zone")
        rows.append({"kind": "segment", "road_name": hz.name[e], "hazard": "+".join(hazard),
                     "signalised": None, "maxspeed": float(hz.maxspeed_kmh[e]),
                     "children": float(grp["children"].sum()),
                     "risk": float(grp["penalty"].max()) / rules.risk_unit_m,
                     "schools": ",".join(sorted({codes[x] for x in grp["school"]})),
                     "node": None, "edge": e})
        geoms.append(network.edge_geometry[e])
    if not rows:
        return gpd.GeoDataFrame({c: [] for c in cols}, geometry=[], crs=crs)
    out = gpd.GeoDataFrame(rows, geometry=geoms, crs=crs)
    out["score"] = out["children"] * out["risk"]
    out = out.sort_values(["score", "children", "kind", "edge"],
                          ascending=[False, False, True, True], kind="stable")
    out = out.reset_index(drop=True)
    out.insert(0, "rank", np.arange(1, len(out) + 1))
    out["children"] = out["children"].round(1)
    out["risk"] = out["risk"].round(2)
    out["score"] = out["score"].round(1)
    return out[[*cols, "node", "edge", "geometry"]]


def _catchment_frame(schools: gpd.GeoDataFrame, demand: gpd.GeoDataFrame, points: pd.DataFrame,
                     districts: gpd.GeoDataFrame | None, spacing_m: float, crs: Any
                     ) -> gpd.GeoDataFrame:
    """One polygon per school: its 学区, else the cells of the demand points it serves."""
    rows, geoms = [], []
    have: dict[str, Any] = {}
    if districts is not None and not districts.empty and "school" in districts.columns:
        for code, geom in zip(districts["school"].astype(str), districts.geometry, strict=True):
            have[code] = geom if code not in have else have[code].union(geom)
    half = spacing_m / 2
    by_code = dict(tuple(points.groupby("school_code", sort=False))) if not points.empty \
        else {}
    for j in range(len(schools)):
        code = str(schools.at[j, "fid"])
        mine = by_code.get(code, points.iloc[:0])
        if mine.empty and code not in have:
            continue
        if code in have:
            geom, source = have[code], "district"
        else:
            xy = shapely.get_coordinates(demand.geometry.to_numpy()[mine["point"].to_numpy()])
            cells = shapely.box(xy[:, 0] - half, xy[:, 1] - half, xy[:, 0] + half,
                                xy[:, 1] + half)
            geom, source = shapely.union_all(cells), "nearest"
        rows.append({"school_code": code, "school_name": str(schools.at[j, "name"]),
                     "kind": str(schools.at[j, "kind"]), "source": source,
                     "children": round(float(mine["children"].sum()), 1) if not mine.empty
                     else 0.0, "points": len(mine)})
        geoms.append(geom)
    if not rows:
        return gpd.GeoDataFrame({"school_code": [], "source": []}, geometry=[], crs=crs)
    return gpd.GeoDataFrame(rows, geometry=geoms, crs=crs)


def _score_planned(g: _Net, network: StreetNetwork, rules: RouteRules, line_row: pd.Series,
                   j: int, code: str, values: Any, costs: Mapping[str, np.ndarray],
                   piece_costs: Mapping[str, Any], gate_snap: Snapped, gate_side: np.ndarray,
                   gates_j: np.ndarray, gate_pts: np.ndarray, zone: object,
                   zone_edges: np.ndarray) -> tuple[list[dict[str, Any]], list[object]]:
    """Score one planned route: the streets that follow it, and the shortest and safe routes."""
    line = line_row.geometry
    if line is None or line.is_empty:
        return [], []
    if line.geom_type == "MultiLineString":
        line = shapely.line_merge(line)
        if line.geom_type == "MultiLineString":
            line = max(line.geoms, key=lambda x: x.length)
    ends = shapely.get_coordinates(line)[[0, -1]]
    gate_xy = shapely.get_coordinates(gate_pts[gates_j])
    d = np.hypot(ends[:, None, 0] - gate_xy[None, :, 0], ends[:, None, 1] - gate_xy[None, :, 1])
    home = shapely.points(ends[int(np.argmax(d.min(axis=1)))])
    target = snap_points(network, np.array([home], dtype=object))
    t_side = point_sides(network, target, np.array([home], dtype=object))
    buffer = line.buffer(MATCH_BUFFER_M)
    near = network.edge_tree.query(buffer, predicate="intersects")
    inside = np.zeros(network.n_edges)
    inside[near] = shapely.length(shapely.intersection(network.edge_geometry[near], buffer))
    frac = np.clip(inside / np.maximum(network.geometry_length, 1e-9), 0, 1)
    graph = g.graph
    a_n = graph.n_arcs
    off = np.zeros(len(g.values))
    side = ~graph.is_crossing
    off[:a_n][side] = 1 - frac[graph.arc_edge[side]]
    off[a_n:] = 1 - frac[g.gate_arc_edge]
    follow_cost = g.values[:, LEN] * (1 + MATCH_FACTOR * off)
    t_frac = 1 - frac[target.edge]

    def follow_piece(vals: np.ndarray) -> np.ndarray:
        return vals[:, LEN] * (1 + MATCH_FACTOR * t_frac[: len(vals)])

    rows, geoms = [], []
    for kind, cost, piece in (("planned", follow_cost, follow_piece),
                              ("shortest", costs["shortest"], piece_costs["shortest"]),
                              ("safe", costs["safe"], piece_costs["safe"])):
        result = search(g.structure, cost, j)
        acc = accumulate(result, values)
        e = _ends(g, network, result, acc, target, t_side, gate_snap,
                  gate_side, gates_j, piece, zone, zone_edges)
        if not np.isfinite(e.cost[0]):
            continue
        geom, arcs = _route_line(g, network, result, int(e.node[0]), int(e.gate[0]), 0,
                                 target, int(t_side[0]), home, gate_snap, gate_pts)
        metrics = _derived(e.values, rules)
        follows = float(shapely.length(shapely.intersection(geom, buffer))
                        / max(float(shapely.length(geom)), 1e-9))
        crossed, signalled = _crossed(g, arcs)
        row = {"route_id": _text(line_row.get("route_id")), "name": _text(line_row.get("name")),
               "school_code": code, "unit_code": _text(line_row.get("unit_code")),
               "route": kind, "follows_share": round(follows, 3)}
        row |= {k: float(v[0]) for k, v in metrics.items()}
        row |= {"crossed_roads": crossed, "signalised_roads": signalled}
        rows.append(row)
        geoms.append(geom)
    return rows, geoms


def _text(value: object) -> str:
    return "" if value is None or (isinstance(value, float) and np.isnan(value)) else str(value)
