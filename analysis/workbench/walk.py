"""Walking access kept up to date edit by edit: per set of facilities, one bounded search.

A *source set* is the facilities of one kind that count for one coverage key in the edited
scenario (every built one of the kind, or those a filtered target selects). It keeps the
walking distance from its nearest member to every street node, bounded at a limit no
smaller than any radius read from it, and to every demand point. Adding facilities to a set
runs one bounded Dijkstra from the new ones and takes the elementwise minimum; removing or
moving one runs one bounded multi-source Dijkstra from the set's members. Both give exactly
the distances of :func:`cfplan.geo.paths.nearest_by_kind` within the limit (the minimum over
sources of the same floating-point path sums), so coverage within each radius is identical
to a full :func:`cfplan.analysis.coverage.scenario_coverage`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd

from cfplan.analysis.access import coverage_table, distance_table, radius_for, snap_facilities
from cfplan.analysis.coverage import access_kinds
from cfplan.analysis.plan import Filters, Plan, Target
from cfplan.analysis.selection import select, target_key
from cfplan.geo.paths import NearestByKind, NodeDistances, node_distances, target_distances
from cfplan.geo.snap import Snapped, concat_snapped
from cfplan.geo.street_network import StreetNetwork
from cfplan.layers.kinds import LIFE_CIRCLES_M
from cfplan.layers.load import LayerSet

__all__ = ["CoverageKey", "SourceSet", "coverage_keys", "coverage_rows", "snap_by_fid",
           "update_set"]

BAND_LIMIT_M = max(LIFE_CIRCLES_M.values())  # the map's widest walking band


@dataclass(frozen=True)
class CoverageKey:
    """One block of coverage rows the evaluators read.

    Attributes
    ----------
    key
        The coverage table's ``kind`` (``"park"``, ``"kindergarten+childcare"``,
        ``"park@标准5"``).
    label
        The ``scenario`` of its rows (``"current"`` or ``"current:best"``).
    radius_m
        Walking radius (m).
    sets
        The source sets of its member kinds, in member order.
    """

    key: str
    label: str
    radius_m: float
    sets: tuple[tuple[str, ...], ...]


@dataclass(frozen=True, eq=False)
class SourceSet:
    """Facilities of one kind that count for some coverage rows, and their walking reach.

    Attributes
    ----------
    kind
        The facility kind.
    fids
        Facility ids in the set, in frame order.
    sources
        Their access points (``owner`` = position in ``fids``).
    nodes
        Distance (m) from the nearest member to each node, ``inf`` beyond ``limit_m``.
    distance
        The same to each demand point, snaps included.
    """

    kind: str
    fids: tuple[str, ...]
    sources: Snapped
    nodes: NodeDistances
    distance: np.ndarray

    @property
    def limit_m(self) -> float:
        """Search limit (m)."""
        return self.nodes.limit_m


def snap_by_fid(network: StreetNetwork, facilities: gpd.GeoDataFrame, *,
                entrances: gpd.GeoDataFrame | None) -> dict[str, Snapped]:
    """Return each facility's access points (owner 0), as a full assessment snaps them.

    Returns
    -------
    dict
        fid → :class:`cfplan.geo.snap.Snapped`.
    """
    fac = facilities.reset_index(drop=True)
    if fac.empty:
        return {}
    fids = fac["fid"].astype(str).to_numpy()
    out: dict[str, Snapped] = {}
    for snapped in snap_facilities(network, fac, entrances=entrances).values():
        order = np.argsort(snapped.owner, kind="stable")
        snapped = snapped.take(order)
        cuts = np.flatnonzero(np.diff(snapped.owner)) + 1
        for part in np.split(np.arange(len(snapped)), cuts):
            if len(part):
                piece = snapped.take(part)
                out[fids[piece.owner[0]]] = piece.with_owner(
                    np.zeros(int(piece.owner.max()) + 1, dtype=np.int64))
    return out


def _members(fids: Sequence[str], snaps: Mapping[str, Snapped]) -> Snapped:
    parts = [snaps[f].with_owner(np.array([i])) for i, f in enumerate(fids) if f in snaps]
    return concat_snapped(parts)


def _search(network: StreetNetwork, sources: Snapped, targets: Snapped, limit_m: float
            ) -> tuple[NodeDistances, np.ndarray]:
    nodes = node_distances(network, sources, limit_m=limit_m)
    return nodes, target_distances(network, sources, targets, nodes).distance


def update_set(old: SourceSet | None, kind: str, fids: tuple[str, ...], *,
               network: StreetNetwork, snaps: Mapping[str, Snapped], targets: Snapped,
               limit_m: float, moved: frozenset[str] = frozenset()) -> SourceSet:
    """Return the set with members ``fids``, reusing ``old`` where it can.

    The same members and none moved: ``old`` itself. Only additions: one bounded search
    from the new members, merged by elementwise minimum (the new members go last). Otherwise
    one bounded multi-source search from every member.

    Returns
    -------
    SourceSet
        The set's members, access points and distances (m).
    """
    wanted = set(fids)
    if old is not None and set(old.fids) == wanted and not (moved & wanted):
        return old
    keep = set(old.fids) if old is not None else set()
    if old is not None and old.limit_m == limit_m and not (moved & keep) and wanted >= keep:
        added = tuple(f for f in fids if f not in keep)
        fresh = _members(added, snaps)
        nodes, distance = _search(network, fresh, targets, limit_m)
        better = nodes.distance < old.nodes.distance
        merged = NodeDistances(np.where(better, nodes.distance, old.nodes.distance),
                               np.where(better, nodes.source + len(old.sources),
                                        old.nodes.source), limit_m)
        offset = fresh.with_owner(np.arange(len(added)) + len(old.fids)) if len(fresh) \
            else fresh
        return SourceSet(kind, old.fids + added, concat_snapped([old.sources, offset]), merged,
                         np.minimum(old.distance, distance))
    sources = _members(fids, snaps)
    nodes, distance = _search(network, sources, targets, limit_m)
    return SourceSet(kind, fids, sources, nodes, distance)


def _plain_groups(layers: LayerSet, plan: Plan) -> list[str]:
    return access_kinds(layers, plan, {})


def coverage_keys(layers: LayerSet, plan: Plan, scenario: str
                  ) -> tuple[list[CoverageKey], dict[tuple[str, ...], tuple[str, tuple[str, ...]]]]:
    """Return the coverage row blocks of ``scenario`` and the members of each source set.

    Mirrors :func:`cfplan.analysis.coverage.scenario_coverage`: every kind or group of
    :func:`~cfplan.analysis.coverage.access_kinds` over the facilities built in the
    scenario, and for each filtered or re-radiused accessibility target its own rows (and
    best-case rows when missing data leaves facilities uncertain).

    Returns
    -------
    tuple
        The keys, and per source-set id ``(kind, fids)``.
    """
    fac = layers.facilities
    fid = fac["fid"].astype(str).to_numpy()
    kind = fac["kind"].astype(str).to_numpy()
    keys: list[CoverageKey] = []
    sets: dict[tuple[str, ...], tuple[str, tuple[str, ...]]] = {}
    groups = _plain_groups(layers, plan)
    members = list(dict.fromkeys(m for g in groups for m in g.split("+")))
    sure, _ = select(fac, tuple(members), Filters(), scenario=scenario)
    for m in members:
        sets[("plain", m)] = (m, tuple(fid[sure & (kind == m)]))
    for g in groups:
        radius = radius_for(g, {})
        if radius is not None:
            keys.append(CoverageKey(g, scenario, radius,
                                    tuple(("plain", m) for m in g.split("+"))))
    for t in plan.targets:
        if t.metric != "accessibility" or target_key(t) == "+".join(t.kinds):
            continue
        key = target_key(t)
        radius = t.radius_m if t.radius_m is not None else radius_for("+".join(t.kinds), {})
        if radius is None:
            continue
        s_mask, m_mask = select(fac, t.kinds, t.filters, scenario=scenario)
        for mask, label in ((s_mask, scenario), (m_mask, f"{scenario}:best")):
            if label.endswith(":best") and (m_mask == s_mask).all():
                continue
            ids = []
            for m in t.kinds:
                sid = ("target", t.id, label, m)
                sets[sid] = (m, tuple(fid[mask & (kind == m)]))
                ids.append(sid)
            keys.append(CoverageKey(key, label, float(radius), tuple(ids)))
    return keys, sets


def set_limits(keys: Sequence[CoverageKey]) -> dict[tuple[str, ...], float]:
    """Return each source set's search limit: its largest radius, and the widest band."""
    out: dict[tuple[str, ...], float] = {}
    for k in keys:
        for sid in k.sets:
            out[sid] = max(out.get(sid, BAND_LIMIT_M), k.radius_m)
    return out


def coverage_rows(key: CoverageKey, sets: Mapping[tuple[str, ...], SourceSet],
                  demand: gpd.GeoDataFrame, facilities: gpd.GeoDataFrame) -> pd.DataFrame:
    """Return the coverage rows of one key, as :func:`coverage_table` gives them.

    Returns
    -------
    pandas.DataFrame
        Overall, subdistrict and unit rows with ``scenario`` = ``key.label``.
    """
    members = key.key.split("+")
    distance = np.column_stack([sets[sid].distance for sid in key.sets])
    nearest = NearestByKind(tuple(members), distance,
                            np.full(distance.shape, -1, dtype=np.int64), {})
    table = distance_table(demand, nearest, facilities.iloc[:0])
    radii = {key.key: key.radius_m}
    return coverage_table(table, kinds=[key.key], radii=radii).assign(scenario=key.label)


def target_kinds(t: Target) -> set[str]:
    """Return the facility kinds a target's result depends on."""
    out = set(t.kinds)
    if t.filters.near_kind:
        out.add(t.filters.near_kind)
    return out
