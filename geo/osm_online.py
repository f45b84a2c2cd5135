"""Online OpenStreetMap downloads through OSMnx (Overpass, Nominatim); needs internet."""

from __future__ import annotations

import geopandas as gpd
import networkx as nx
import osmnx as ox
from shapely.geometry import MultiPolygon, Polygon

__all__ = ["features_from_place", "graph_from_place", "graph_from_polygon"]


def graph_from_place(
    place: str | dict[str, str], *, network_type: str = "walk", retain_all: bool = True
) -> nx.MultiDiGraph:
    """Download the street network of a geocoded place with :func:`osmnx.graph_from_place`.

    Returns
    -------
    networkx.MultiDiGraph
        Unprojected graph (EPSG:4326), edge ``length`` in metres.
    """
    return ox.graph_from_place(place, network_type=network_type, retain_all=retain_all)


def graph_from_polygon(
    polygon: Polygon | MultiPolygon, *, network_type: str = "walk", retain_all: bool = True
) -> nx.MultiDiGraph:
    """Download the street network inside a WGS-84 polygon with :func:`osmnx.graph_from_polygon`.

    Returns
    -------
    networkx.MultiDiGraph
        Unprojected graph (EPSG:4326), edge ``length`` in metres.
    """
    return ox.graph_from_polygon(polygon, network_type=network_type, retain_all=retain_all)


def features_from_place(
    place: str | dict[str, str], tags: dict[str, bool | str | list[str]]
) -> gpd.GeoDataFrame:
    """Download OSM features with ``tags`` in a place with :func:`osmnx.features_from_place`.

    Returns
    -------
    geopandas.GeoDataFrame
        Features in EPSG:4326.
    """
    return ox.features_from_place(place, tags)
