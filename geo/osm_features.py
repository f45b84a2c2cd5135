"""OSM features (points, lines, areas) from local OSM XML files, through osmnx."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import osmnx as ox
from osmnx._errors import InsufficientResponseError

from cfplan.geo.crs import WGS84


def features_from_osm_file(path: str | Path, *, tags: dict[str, bool | str | list[str]]
                           ) -> gpd.GeoDataFrame:
    """Read the features of ``path`` (OSM XML) that match ``tags``.

    Parameters
    ----------
    path
        An ``.osm`` XML file.
    tags
        OSMnx tag query, e.g. ``{"waterway": True, "natural": "water"}``.

    Returns
    -------
    geopandas.GeoDataFrame
        Matching features in WGS-84 with their OSM tags as columns, indexed by
        ``(element, id)``; empty when nothing matches.
    """
    try:
        gdf = ox.features_from_xml(Path(path), tags=tags)
    except InsufficientResponseError:
        return gpd.GeoDataFrame(geometry=[], crs=WGS84)
    return gdf.sort_index()


def edges_frame(graph: object) -> gpd.GeoDataFrame:
    """Return one row per street of an OSMnx graph, both directions collapsed.

    Returns
    -------
    geopandas.GeoDataFrame
        Edge attributes (``highway``, ``name``, ``maxspeed``, ``sidewalk``, ``length`` in
        metres …) and LineString geometry, in the graph's CRS, sorted by ``(u, v, key)``.
    """
    edges = ox.graph_to_gdfs(graph, nodes=False, fill_edge_geometry=True)
    idx = edges.index.to_frame(index=False)
    keep = (idx["u"] <= idx["v"]).to_numpy()
    return edges[keep].sort_index()
