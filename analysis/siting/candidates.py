"""Candidate sites generated from the street network: nodes inside each unit, thinned."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely
from scipy.spatial import cKDTree

from cfplan.geo.street_network import StreetNetwork
from cfplan.layers.demand import holding_polygon

__all__ = ["candidate_sites"]


def candidate_sites(
    network: StreetNetwork,
    units: gpd.GeoDataFrame,
    *,
    spacing_m: float = 100.0,
    water: gpd.GeoDataFrame | gpd.GeoSeries | None = None,
) -> gpd.GeoDataFrame:
    """Generate candidate sites: street nodes inside each unit, thinned, never in water.

    No two candidates of a unit are closer than ``spacing_m``. Nodes are visited best first, junctions before plain bends (more streets meet there,
    so a site there is reached from more directions), then by node position; a node is
    kept unless a node already kept in the same unit lies within ``spacing_m`` (straight
    line). Each unit thus keeps its own candidates, which the jurisdiction constraints
    need. A node on a unit boundary goes to the first unit holding it.

    Parameters
    ----------
    network
        The street network (metric CRS).
    units
        社区/村 polygons in the network CRS with ``code`` and, when present,
        ``subdistrict``.
    spacing_m
        Minimum distance between the candidates of one unit (m).
    water
        Water areas (polygons; lines are ignored): nodes inside are never candidates.

    Returns
    -------
    geopandas.GeoDataFrame
        One row per candidate: ``candidate`` (0..n-1), ``node`` (position in the network),
        ``node_id``, ``unit`` (unit code), ``subdistrict`` (its subdistrict code, or ``""``),
        ``degree`` (streets meeting there) and Point geometry, in the network CRS.
    """
    if units.crs is None or units.crs != network.crs:
        msg = "units must be in the network CRS"
        raise ValueError(msg)
    if spacing_m < 0:
        msg = "spacing_m must be non-negative"
        raise ValueError(msg)
    units = units.reset_index(drop=True)
    points = shapely.points(network.x, network.y)
    node_i, unit_i = holding_polygon(points, units)
    if water is not None and len(water):
        geoms = np.asarray(water.geometry if isinstance(water, gpd.GeoDataFrame) else water)
        areas = geoms[np.isin(shapely.get_type_id(geoms), [shapely.GeometryType.POLYGON,
                                                           shapely.GeometryType.MULTIPOLYGON])]
        if len(areas):
            wet = shapely.STRtree(areas).query(points[node_i], predicate="intersects")[0]
            dry = np.ones(len(node_i), dtype=bool)
            dry[wet] = False
            node_i, unit_i = node_i[dry], unit_i[dry]
    degree = np.bincount(np.concatenate([network.edge_u, network.edge_v]),
                         minlength=network.n_nodes)
    visit = np.lexsort((node_i, -degree[node_i]))
    node_i, unit_i = node_i[visit], unit_i[visit]
    keep = np.ones(len(node_i), dtype=bool)
    if spacing_m > 0 and len(node_i):
        xy = np.column_stack([network.x[node_i], network.y[node_i]])
        pairs = cKDTree(xy).query_pairs(spacing_m, output_type="ndarray")
        pairs = pairs[unit_i[pairs[:, 0]] == unit_i[pairs[:, 1]]]
        # neighbours of each visited node among those visited after it
        lo, hi = pairs.min(axis=1), pairs.max(axis=1)
        order = np.argsort(lo, kind="stable")
        lo, hi = lo[order], hi[order]
        ptr = np.searchsorted(lo, np.arange(len(node_i) + 1))
        for k in range(len(node_i)):
            if keep[k]:
                keep[hi[ptr[k]:ptr[k + 1]]] = False
    node_i, unit_i = node_i[keep], unit_i[keep]
    out_order = np.lexsort((node_i, unit_i))
    node_i, unit_i = node_i[out_order], unit_i[out_order]
    subdistrict = (units["subdistrict"].astype(str).to_numpy()[unit_i]
                   if "subdistrict" in units.columns else np.full(len(unit_i), "", dtype=object))
    return gpd.GeoDataFrame(
        {
            "candidate": np.arange(len(node_i)),
            "node": node_i,
            "node_id": network.node_ids[node_i],
            "unit": units["code"].astype(str).to_numpy()[unit_i],
            "subdistrict": subdistrict,
            "degree": degree[node_i],
        },
        geometry=points[node_i],
        crs=network.crs,
    )
