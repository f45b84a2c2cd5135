"""Siting inputs from cfplan's own layers: demand points, candidates, existing facilities."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import geopandas as gpd
import numpy as np
import scipy.sparse as sp
import shapely

from cfplan.analysis.access import snap_facilities
from cfplan.analysis.siting.costs import DistanceMode, straight_line_costs, walking_costs
from cfplan.geo.snap import concat_snapped, snap_points
from cfplan.geo.street_network import StreetNetwork
from cfplan.layers.text import Text

__all__ = ["LayerCosts", "layer_costs", "option_problem", "required_groups"]

Metric = Literal["walking", "euclidean"]


@dataclass(frozen=True, eq=False)
class LayerCosts:
    """A demand × (candidates, then existing facilities) cost matrix built from layers.

    Attributes
    ----------
    cost
        CSR of metres for every pair within ``max_distance_m``; columns ``0..n_candidates-1``
        are the candidates in order, the next ones the existing facilities in order.
    weights
        Demand weight per row (the chosen column of the demand layer).
    existing
        Column indices of the existing facilities.
    n_candidates
        Number of candidate columns.
    groups
        Per column, the candidate's group label (``""`` for existing facilities), or None.
    distance_mode
        ``walking`` or ``straight_line``.
    """

    cost: sp.csr_array
    weights: np.ndarray
    existing: np.ndarray
    n_candidates: int
    groups: np.ndarray | None
    distance_mode: DistanceMode


def _xy(geoms: np.ndarray) -> np.ndarray:
    return shapely.get_coordinates(shapely.point_on_surface(geoms)).reshape(-1, 2)


def layer_costs(
    network: StreetNetwork | None,
    demand: gpd.GeoDataFrame,
    candidates: gpd.GeoDataFrame,
    *,
    max_distance_m: float,
    existing: gpd.GeoDataFrame | None = None,
    weight: str = "children",
    group_column: str | None = None,
    metric: Metric = "walking",
) -> LayerCosts:
    """Build the sparse demand × site costs from layers, in walking or straight-line metres.

    Parameters
    ----------
    network
        The street network (``None`` only with ``metric="euclidean"``).
    demand
        Demand points (:func:`layers.demand.demand_points`) with the ``weight`` column.
    candidates
        Candidate sites (Points), e.g. from :func:`.candidates.candidate_sites` or a
        ``[layers.candidates]`` layer.
    max_distance_m
        Pairs farther than this are not stored (the radius, or the p-median cut-off).
    existing
        Existing facilities of the kind being sited (in the scenario at hand): fixed, open.
        Points or polygons (reached at their entrances / boundary as in walking access).
    weight
        Demand column used as weights (``"children"``, ``"population"``, ...).
    group_column
        Candidate column holding the group (``"unit"`` or ``"subdistrict"``).
    metric
        ``"walking"`` (network distances, snaps included) or ``"euclidean"`` (straight
        line, labelled ``straight_line`` in every result).

    Returns
    -------
    LayerCosts
        The cost matrix and what its columns are.
    """
    existing = existing.reset_index(drop=True) if existing is not None else None
    n_c, n_e = len(candidates), 0 if existing is None else len(existing)
    weights = demand[weight].to_numpy(np.float64)
    if metric == "walking":
        if network is None:
            msg = "walking costs need a street network (or pass metric='euclidean')"
            raise ValueError(msg)
        parts = [snap_points(network, candidates.geometry.to_numpy())]
        if n_e:
            snapped = snap_facilities(network, existing)
            parts += [s.with_owner(n_c + s.owner) for s in snapped.values()]
        sites = concat_snapped(parts)
        targets = snap_points(network, demand.geometry.to_numpy())
        cost = walking_costs(network, targets, sites, max_distance_m=max_distance_m,
                             n_sites=n_c + n_e)
        mode: DistanceMode = "walking"
    elif metric == "euclidean":
        site_xy = _xy(candidates.geometry.to_numpy())
        if existing is not None and n_e:
            site_xy = np.vstack([site_xy, _xy(existing.geometry.to_numpy())])
        cost = straight_line_costs(_xy(demand.geometry.to_numpy()), site_xy,
                                   max_distance_m=max_distance_m)
        mode = "straight_line"
    else:
        msg = f"metric must be 'walking' or 'euclidean', not {metric!r}"
        raise ValueError(msg)
    groups = None
    if group_column is not None:
        groups = np.r_[candidates[group_column].astype(str).to_numpy(dtype=object),
                       np.full(n_e, "", dtype=object)]
    return LayerCosts(cost, weights, n_c + np.arange(n_e), n_c, groups, mode)


def required_groups(areas: gpd.GeoDataFrame, existing: gpd.GeoDataFrame | None, *,
                    code: str = "code") -> list[str]:
    """List the areas (units or subdistricts) holding no existing facility.

    A facility belongs to the area containing its representative point.

    Returns
    -------
    list[str]
        Area codes with no facility, in the areas' order: the groups that need a new site.
    """
    codes = areas[code].astype(str).to_numpy()
    if existing is None or not len(existing):
        return codes.tolist()
    points = shapely.point_on_surface(existing.geometry.to_numpy())
    _, area_i = areas.reset_index(drop=True).sindex.query(points, predicate="intersects")
    has = np.zeros(len(codes), dtype=bool)
    has[area_i] = True
    return codes[~has].tolist()


def option_problem(*, k: int | None = None, radius_m: float | None = None,
                   spacing_m: float = 100.0, time_limit: float = 60.0) -> Text | None:
    """Return why a siting option cannot be used, or None when all can.

    ``k`` (new sites) is a whole number of at least 1; ``radius_m`` (metres) and
    ``time_limit`` (seconds) finite and above 0; ``spacing_m`` (metres between generated
    candidates) finite and not negative. A NaN radius would otherwise cover no one and
    report "optimal, 0 new sites".
    """
    if k is not None and (isinstance(k, bool) or int(k) != k or k < 1):
        return Text(f"新建数量 k 应为不小于 1 的整数，而不是 {k}",
                    f"the number of new sites k must be a whole number of at least 1, not {k}")
    checks = (("radius_m", radius_m, Text("覆盖半径", "the radius"), True),
              ("time_limit", time_limit, Text("求解时限", "the time limit"), True),
              ("spacing_m", spacing_m, Text("候选点间距", "the candidate spacing"), False))
    for name, value, what, positive in checks:
        if value is None:
            continue
        if not math.isfinite(value) or value < 0 or (positive and value == 0):
            bound = Text("大于 0", "above 0") if positive else Text("不小于 0", "0 or more")
            return Text(f"{what.zh}（{name}）应为{bound.zh} 的有限数值，而不是 {value}",
                        f"{what.en} ({name}) must be a finite number {bound.en}, not {value}")
    return None
