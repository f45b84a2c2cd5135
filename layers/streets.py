"""Street input: read an OSM file into a walkable graph, or fail with a clear InputError."""

from __future__ import annotations

import warnings
import xml.etree.ElementTree as ET
from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import osmnx as ox
import shapely

from cfplan.geo.network import graph_from_osm_file
from cfplan.layers.errors import InputError

_FIX = ("提供含 highway=* 步行道路（residential、footway 等）的 OSM 文件，或检查导出范围 / "
        "supply an OSM file with walkable highway=* ways (residential, footway, ...) or check "
        "the export area")


def load_street_graph(path: str | Path, *, network_type: str = "walk") -> nx.MultiDiGraph:
    """Read an OSM XML or PBF file into an unprojected walking graph.

    Parameters
    ----------
    path
        ``.osm``, ``.osm.xml`` or ``.osm.pbf`` file.
    network_type
        OSMnx network type (``"walk"`` by default).

    Returns
    -------
    networkx.MultiDiGraph
        The graph in EPSG:4326 with at least one ``highway`` edge.

    Raises
    ------
    InputError
        If the file is missing, empty, not OSM, cut off, or holds no walkable ways.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(str(path), "路网文件不存在 / street file not found",
                         "检查清单 [streets] 中的文件名 / check the name under [streets]")
    if path.stat().st_size == 0:
        raise InputError(str(path), "路网文件为空 / the street file is empty", _FIX)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            graph = graph_from_osm_file(path, network_type=network_type)
    except ET.ParseError as exc:
        raise InputError(str(path), f"OSM XML 无法解析（可能被截断）：{exc} / cannot parse the "
                         f"OSM XML (cut off?): {exc}",
                         "重新导出路网 / export the streets again") from exc
    except (ValueError, KeyError, ox._errors.InsufficientResponseError) as exc:
        detail = str(exc).replace(f"{path}: ", "")
        raise InputError(str(path), f"没有可步行的道路（{detail}） / no walkable ways ({detail})",
                         _FIX) from exc
    if not any("highway" in data for _, _, data in graph.edges(data=True)):
        raise InputError(str(path), "没有可步行的道路 / no walkable ways", _FIX)
    return graph


def street_lines(graph: nx.MultiDiGraph) -> gpd.GeoSeries:
    """Return the edge lines of a (projected or not) OSMnx graph, one per edge.

    Edges without a ``geometry`` attribute get the straight line between their nodes.

    Returns
    -------
    geopandas.GeoSeries
        Lines in the graph's CRS.
    """
    xy = {n: (d["x"], d["y"]) for n, d in graph.nodes(data=True)}
    lines = [data.get("geometry") or shapely.LineString([xy[u], xy[v]])
             for u, v, data in graph.edges(data=True)]
    return gpd.GeoSeries(np.asarray(lines, dtype=object), crs=graph.graph.get("crs"))


__all__ = ["load_street_graph", "street_lines"]
