"""Which facilities count for a target in a scenario, and which coverage rows a target reads."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from cfplan.analysis.access import radius_for
from cfplan.analysis.plan import Filters, Target
from cfplan.layers.kinds import BUILT_STATUSES, level_key
from cfplan.layers.load import LayerSet

SCENARIOS = ("current", "planned")


def _tri(values: pd.Series, test: Callable[[pd.Series], pd.Series]) -> tuple[np.ndarray, np.ndarray]:
    """Return (surely matches, possibly matches) for a test over values that may be missing."""
    missing = values.isna().to_numpy()
    sure = np.zeros(len(values), dtype=bool)
    if (~missing).any():
        sure[~missing] = test(values[~missing]).to_numpy(dtype=bool)
    return sure, sure | missing


def select(
    facilities: gpd.GeoDataFrame, kinds: tuple[str, ...], filters: Filters, *, scenario: str
) -> tuple[np.ndarray, np.ndarray]:
    """Select facilities of ``kinds`` that pass ``filters`` in ``scenario``.

    In ``current``, a facility counts if its status is built (existing, renovated,
    new), or is one of ``filters.statuses`` when those are given (with
    ``filters.built_in_period``, existing ones too: their year decides). In ``planned``,
    facilities under construction or planned take the status of their ``works``
    (``new`` unless stated) and count too.

    Returns
    -------
    tuple of ndarray
        Boolean masks over ``facilities``: those that surely pass, and those that
        pass if every missing value were favourable. Their difference is the
        uncertain set.
    """
    fac = facilities
    if fac.empty:
        empty = np.zeros(0, dtype=bool)
        return empty, empty
    status = fac["status"]
    allowed = set(filters.statuses) if filters.statuses else set(BUILT_STATUSES)
    if filters.built_in_period:  # the year decides: an existing one dated in the period counts
        allowed.add("existing")
    kind_ok = fac["kind"].isin(kinds).to_numpy()
    sure, maybe = _tri(status, lambda s: s.isin(allowed))
    if scenario == "planned":
        # Once done, a pending project is what its works make it (new unless stated);
        # a filter that names its current status still counts it.
        pending = status.isin(["planned", "under_construction"]).to_numpy()
        done = fac["works"].fillna("new").isin(allowed).to_numpy()
        sure = sure | (pending & done)
        maybe = maybe | (pending & done)
    if filters.child_friendly is not None:
        cf = fac["child_friendly"].astype(object)
        s2, m2 = _tri(cf, lambda s: s.astype(bool) == bool(filters.child_friendly))
        sure, maybe = sure & s2, maybe & m2
    if filters.since is not None:
        s2, m2 = _tri(fac["year"].astype(object), lambda s: s.astype(int) >= filters.since)
        sure, maybe = sure & s2, maybe & m2
    if filters.until is not None:
        s2, m2 = _tri(fac["year"].astype(object), lambda s: s.astype(int) <= filters.until)
        sure, maybe = sure & s2, maybe & m2
    if filters.attribute is not None:
        col = fac[filters.attribute] if filters.attribute in fac else pd.Series(
            [None] * len(fac), index=fac.index)
        s2, m2 = _tri(col.astype(object), lambda s: s == filters.equals)
        sure, maybe = sure & s2, maybe & m2
    if filters.name is not None:
        hit = name_matches(fac["name"], filters.name)
        sure, maybe = sure & hit, maybe & hit
    if filters.levels is not None:
        levels = fac["level"].map(level_key) if "level" in fac else pd.Series(
            [None] * len(fac), index=fac.index)
        s2, m2 = _tri(levels.astype(object), lambda s: s.isin(filters.levels))
        sure, maybe = sure & s2, maybe & m2
    if filters.min_area_m2 is not None:
        polygon = fac.geom_type.isin(["Polygon", "MultiPolygon"]).to_numpy()
        area = np.where(polygon, fac.geometry.area.to_numpy(), np.nan)
        least = float(filters.min_area_m2) - 1e-6
        s2, m2 = _tri(pd.Series(area, index=fac.index).where(polygon), lambda s: s >= least)
        sure, maybe = sure & s2, maybe & m2
    if filters.near_kind is not None:
        s2, m2 = _near(fac, filters.near_kind, filters.near_m or 0.0, scenario=scenario)
        sure, maybe = sure & s2, maybe & m2
    return kind_ok & sure, kind_ok & maybe


def in_district(layers: LayerSet) -> np.ndarray:
    """Return which facilities lie inside the district (not in the margin around it).

    A facility is inside when its representative point lies within 1 cm of the district
    polygons. Facilities in the margin serve walking access only: counts and per-person
    targets take the district's own facilities.

    Returns
    -------
    numpy.ndarray
        Boolean mask over ``layers.facilities``.
    """
    fac = layers.facilities
    if fac.empty or layers.district.empty:
        return np.ones(len(fac), dtype=bool)
    boundary = shapely.union_all(np.asarray(layers.district.geometry.values))
    points = shapely.point_on_surface(np.asarray(fac.geometry.values))
    return np.asarray(shapely.dwithin(points, boundary, 0.01), dtype=bool)


def _normal_name(text: object) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", str(text)))


def name_matches(names: pd.Series, wanted: str) -> np.ndarray:
    """Return which names contain ``wanted``, ignoring spaces and full-width forms."""
    key = _normal_name(wanted)
    return names.map(lambda n: key in _normal_name(n) if isinstance(n, str) else False
                     ).to_numpy(dtype=bool)


def _near(fac: gpd.GeoDataFrame, kind: str, distance_m: float, *, scenario: str
          ) -> tuple[np.ndarray, np.ndarray]:
    """Return which facilities lie in or within ``distance_m`` of a ``kind`` that counts.

    Surely when the nearby one surely counts in ``scenario``; possibly when it might.
    """
    sure_k, maybe_k = select(fac, (kind,), Filters(), scenario=scenario)
    out = []
    for mask in (sure_k, maybe_k):
        if not mask.any():
            out.append(np.zeros(len(fac), dtype=bool))
            continue
        others = fac.geometry[mask]
        tree = shapely.STRtree(others.to_numpy())
        idx = tree.query(fac.geometry.to_numpy(), predicate="dwithin", distance=distance_m)
        hit = np.zeros(len(fac), dtype=bool)
        hit[np.unique(idx[0])] = True
        out.append(hit)
    return out[0], out[0] | out[1]


def target_key(target: Target) -> str:
    """Return the coverage-table ``kind`` key of an accessibility target.

    A target with facility filters or a radius other than the kind's default gets rows
    of its own,
    ``"<kind>@<target id>"`` (joined with ``+`` for groups); otherwise it shares the
    kind's rows.
    """
    group = "+".join(target.kinds)
    if target.filters == Filters() and target.radius_m in (None, radius_for(group)):
        return group
    return "+".join(f"{k}@{target.id}" for k in target.kinds)


__all__ = ["SCENARIOS", "in_district", "name_matches", "select", "target_key"]
