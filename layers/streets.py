"""Street input, the one home of street loading: a cache, a place online, or the OSM file."""

from __future__ import annotations

import warnings
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import networkx as nx
from numpy.typing import ArrayLike

from cfplan.geo.crs import WGS84
from cfplan.geo.graph import edges_frame, load_graph, project_graph, save_graph
from cfplan.geo.osm_file import (
    InsufficientResponseError,
    features_from_osm_file,
    graph_from_osm_file,
)
from cfplan.layers import checks
from cfplan.layers.errors import InputError
from cfplan.layers.load import LayerSet
from cfplan.layers.text import Text

_FIX = Text("提供含 highway=* 步行道路（residential、footway 等）的 OSM 文件，或检查导出范围",
            "supply an OSM file with walkable highway=* ways (residential, footway, ...) or "
            "check the export area")
WATER_TAGS: dict[str, bool | str | list[str]] = {
    "waterway": ["river", "canal", "stream"], "natural": "water", "railway": "rail"}


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
        raise InputError(str(path), Text("路网文件不存在", "street file not found"),
                         Text("检查清单 [streets] 中的文件名", "check the file name under [streets]"))
    if path.stat().st_size == 0:
        raise InputError(str(path), Text("路网文件为空", "the street file is empty"), _FIX)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            graph = graph_from_osm_file(path, network_type=network_type)
    except ET.ParseError as exc:
        raise InputError(str(path), Text(f"OSM XML 无法解析（可能被截断）：{exc}",
                                         f"cannot parse the OSM XML (cut off?): {exc}"),
                         Text("重新导出路网", "export the streets again")) from exc
    except (ValueError, KeyError, InsufficientResponseError) as exc:
        detail = str(exc).replace(f"{path}: ", "")
        raise InputError(str(path), Text(f"没有可步行的道路（{detail}）",
                                         f"no walkable ways ({detail})"), _FIX) from exc
    if not any("highway" in data for _, _, data in graph.edges(data=True)):
        raise InputError(str(path), Text("没有可步行的道路", "no walkable ways"), _FIX)
    return graph


def street_graph(
    layers: LayerSet, *, place: str | None = None, cache: str | Path | None = None
) -> nx.MultiDiGraph | None:
    """Return the unprojected walking graph from the first source that applies.

    1. ``cache``, a GraphML file written by an earlier run, when it exists;
    2. ``place``, downloaded online through :mod:`cfplan.geo.osm_online` (needs internet);
    3. the manifest's ``[streets]`` file: ``.osm``/``.osm.pbf`` (or ``.graphml``).

    A graph obtained from 2 or 3 is written to ``cache`` when one is given.

    Returns
    -------
    networkx.MultiDiGraph or None
        The graph in WGS-84, or ``None`` when there is no street source at all.
    """
    if cache is not None and Path(cache).is_file():
        return load_graph(cache)
    if place:
        from cfplan.geo.osm_online import graph_from_place

        graph = graph_from_place(place)
    elif layers.streets is not None and layers.streets.suffix.lower() == ".graphml":
        return load_graph(layers.streets)
    elif layers.streets is not None:
        graph = load_street_graph(layers.streets)
    else:
        return None
    if cache is not None:
        save_graph(graph, cache)
    return graph


def street_source(layers: LayerSet, *, place: str | None = None,
                  cache: str | Path | None = None) -> str | None:
    """Name the street source :func:`street_graph` will use (for progress messages)."""
    if cache is not None and Path(cache).is_file():
        return str(cache)
    if place:
        return place
    return layers.streets.name if layers.streets is not None else None


@dataclass(frozen=True, eq=False)
class Streets:
    """The walking network of a district, ready for analysis and maps.

    Attributes
    ----------
    graph
        The OSMnx walking graph projected to the layers' metric CRS.
    lines
        One row per street (both directions collapsed) with its OSM tags, metres.
    water
        Water and rail features from the OSM file (WGS-84), for the map; may be empty.
    """

    graph: nx.MultiDiGraph
    lines: gpd.GeoDataFrame
    water: gpd.GeoDataFrame


def load_streets(
    layers: LayerSet, *, place: str | None = None, cache: str | Path | None = None
) -> Streets | None:
    """Load the walking graph, street lines and water/rail for a layer set.

    Returns
    -------
    Streets or None
        The projected network and its lines, or ``None`` without any street source.

    Raises
    ------
    InputError
        If the street file cannot be read or holds no walkable ways.
    """
    graph = street_graph(layers, place=place, cache=cache)
    if graph is None:
        return None
    graph = project_graph(graph, crs=layers.crs)
    water = gpd.GeoDataFrame(geometry=[], crs=WGS84)
    if layers.streets is not None and layers.streets.suffix.lower() in (".osm", ".xml"):
        water = features_from_osm_file(layers.streets, tags=WATER_TAGS)
    return Streets(graph, edges_frame(graph), water)


def street_datum_warnings(layers: LayerSet, street_lines: gpd.GeoSeries | ArrayLike
                          ) -> list[Text]:
    """Warn about every file, points or polygons, that sits off the streets by a GCJ-02 offset.

    Facilities per file (:func:`cfplan.layers.checks.datum_warnings`), then the district, subdistricts and
    units per file (:func:`cfplan.layers.checks.polygon_datum_warnings`): what ``cfplan run`` and
    ``cfplan validate`` report once the streets are loaded.

    Returns
    -------
    list of Text
        One warning per suspicious file.
    """
    polygons = {name: getattr(layers, name) for name in checks.POLYGON_LAYERS}
    return (checks.datum_warnings(layers.facilities, street_lines, in_china=layers.in_china)
            + checks.polygon_datum_warnings(polygons, street_lines, datums=layers.datums,
                                            in_china=layers.in_china))


__all__ = ["Streets", "load_street_graph", "load_streets", "street_datum_warnings", "street_graph",
           "street_source"]
