"""Street input, the one home of street loading: a cache, a place online, or the OSM file."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from cfplan.geo.crs import WGS84
from cfplan.geo.network_cache import (
    file_digest,
    load_network,
    network_key,
    save_network,
    stored_key,
)
from cfplan.geo.osm_arrays import OSMFileError
from cfplan.geo.osm_network import read_street_network
from cfplan.geo.street_network import (
    NODE_TAGS,
    ComponentReport,
    StreetNetwork,
    keep_largest_component,
    network_graph,
    street_network,
)
from cfplan.layers import checks
from cfplan.layers.errors import InputError
from cfplan.layers.files import check_input_file
from cfplan.layers.load import LayerSet
from cfplan.layers.text import Text

if TYPE_CHECKING:
    import networkx as nx

LOADER_VERSION = 1
"""Version of the street loader's output; part of every cache key (bump on any change)."""

LINE_TAGS = ("highway", "name", "maxspeed", "lanes", "sidewalk", "sidewalk:both",
             "sidewalk:left", "sidewalk:right", "footway", "foot", "bridge", "tunnel", "layer",
             "covered")
"""The tag columns of :attr:`Streets.lines`."""

_FIX = Text("提供含 highway=* 步行道路（residential、footway 等）的 OSM 文件，或检查导出范围",
            "supply an OSM file with walkable highway=* ways (residential, footway, ...) or "
            "check the export area")
WATER_TAGS: dict[str, bool | str | list[str]] = {
    "waterway": ["river", "canal", "stream"], "natural": "water", "railway": "rail"}


def load_street_network(path: str | Path, *, crs: Any, network_type: str = "walk"
                        ) -> StreetNetwork:
    """Read an OSM XML or PBF file into the array walking network (every piece).

    Parameters
    ----------
    path
        ``.osm``, ``.osm.xml`` or ``.osm.pbf`` file.
    crs
        Metric CRS of the analysis.
    network_type
        OSMnx network type (``"walk"`` by default).

    Returns
    -------
    StreetNetwork
        Every connected piece in ``crs`` (metres), with OSM ids and walking tags.

    Raises
    ------
    InputError
        If the file is missing, empty, not OSM, cut off, or holds no walkable ways.
    """
    path = check_input_file(path, fix_missing=Text("检查清单 [streets] 中的文件名",
                                                   "check the file name under [streets]"),
                            fix_empty=_FIX, not_found=Text("路网文件不存在", "street file not found"))
    try:
        return read_street_network(path, crs=crs, network_type=network_type)
    except OSMFileError as exc:
        if path.name.lower().endswith(".pbf"):
            what = Text("OSM PBF 无法读取", "cannot read the OSM PBF")
        else:
            what = Text("OSM XML 无法解析（可能被截断）", "cannot parse the OSM XML (cut off?)")
        raise InputError(str(path), what + Text(f"：{exc}", f": {exc}"),
                         Text("重新导出路网", "export the streets again")) from exc
    except ValueError as exc:
        detail = str(exc).replace(f"{path}: ", "")
        raise InputError(str(path), Text(f"没有可步行的道路（{detail}）",
                                         f"no walkable ways ({detail})"), _FIX) from exc


def _graph_network(graph: nx.MultiDiGraph, crs: Any) -> StreetNetwork:
    from cfplan.geo.graph import project_graph

    return street_network(project_graph(graph, crs=crs))


def _cache_key(layers: LayerSet, place: str | None) -> str | None:
    if place:
        source = f"place:{place}"
    elif layers.streets is not None and layers.streets.is_file():
        source = file_digest(layers.streets)
    else:
        return None
    return network_key(source, loader=LOADER_VERSION, network_type="walk",
                       crs=layers.crs.to_wkt())


def _is_graphml(path: str | Path | None) -> bool:
    return path is not None and Path(path).suffix.lower() == ".graphml"


def street_network_for(
    layers: LayerSet, *, place: str | None = None, cache: str | Path | None = None
) -> StreetNetwork | None:
    """Return the walking network (every piece) from the first source that applies.

    1. ``cache``: a ``.graphml`` file when it exists (read whatever it was made from), or
       any other name for cfplan's array cache (``.npz``), read only when it was built from
       the same street source (the SHA-256 of the OSM file's bytes, or the place name)
       with the same loader version and CRS; a stale cache is rebuilt;
    2. ``place``, downloaded online through :mod:`cfplan.geo.osm_online` (needs internet);
    3. the manifest's ``[streets]`` file: ``.osm``/``.osm.pbf`` (or ``.graphml``).

    A network obtained from 2 or 3 is written to ``cache`` when one is given.

    Returns
    -------
    StreetNetwork or None
        The network in ``layers.crs``, or ``None`` when there is no street source at all.
    """
    from cfplan.geo.graph import load_graph, save_graph

    key = None if _is_graphml(cache) else _cache_key(layers, place)
    if cache is not None:
        if _is_graphml(cache) and Path(cache).is_file():
            return _graph_network(load_graph(cache), layers.crs)
        if key is not None and (hit := load_network(cache, key=key)) is not None:
            return hit
    graph = None
    if place:
        from cfplan.geo.osm_online import graph_from_place

        graph = graph_from_place(place)
        network = _graph_network(graph, layers.crs)
    elif layers.streets is not None and layers.streets.suffix.lower() == ".graphml":
        return _graph_network(load_graph(layers.streets), layers.crs)
    elif layers.streets is not None:
        network = load_street_network(layers.streets, crs=layers.crs)
    else:
        return None
    if cache is not None and _is_graphml(cache):
        save_graph(graph if graph is not None else network_graph(network), cache)
    elif cache is not None and key is not None:
        save_network(network, cache, key=key)
    return network


def street_source(layers: LayerSet, *, place: str | None = None,
                  cache: str | Path | None = None) -> str | None:
    """Name the street source :func:`street_network_for` will use (for progress messages)."""
    if cache is not None and Path(cache).is_file():
        if _is_graphml(cache):
            return str(cache)
        key = _cache_key(layers, place)
        if key is not None and stored_key(cache) == key:
            return str(cache)
    if place:
        return place
    return layers.streets.name if layers.streets is not None else None


def tag_column(frame: pd.DataFrame | None, key: str, n: int) -> np.ndarray:
    """Return tag ``key`` of an edge or node tag table as objects, ``None`` where missing.

    Returns
    -------
    numpy.ndarray
        Shape ``(n,)``; all ``None`` when the table or the column is absent.
    """
    if frame is None or key not in frame.columns:
        return np.full(n, None, dtype=object)
    values = frame[key].astype(object).to_numpy(copy=True)
    values[pd.isna(values)] = None
    return values


def street_lines(network: StreetNetwork) -> gpd.GeoDataFrame:
    """Return one row per undirected edge of a network, with its OSM tags.

    Returns
    -------
    geopandas.GeoDataFrame
        Columns ``u``, ``v`` (OSM node ids), ``osmid`` (way id, when known), the tags of
        :data:`LINE_TAGS` (strings, missing where absent), ``length`` (m, planar in the
        network CRS) and LineString geometry, in the network's CRS, in edge order.
    """
    m = network.n_edges
    data: dict[str, object] = {"u": network.node_ids[network.edge_u],
                               "v": network.node_ids[network.edge_v]}
    if network.edge_tags is not None and "osmid" in network.edge_tags.columns:
        data["osmid"] = network.edge_tags["osmid"].to_numpy()
    for key in LINE_TAGS:
        data[key] = tag_column(network.edge_tags, key, m)
    data["length"] = network.edge_length
    return gpd.GeoDataFrame(data, geometry=gpd.GeoSeries(network.edge_geometry,
                                                         crs=network.crs))


def street_nodes(network: StreetNetwork) -> gpd.GeoDataFrame:
    """Return the nodes of a network with their walking tags.

    Returns
    -------
    geopandas.GeoDataFrame
        Columns ``osmid`` and the tags of :data:`cfplan.geo.street_network.NODE_TAGS`
        (``highway``, ``crossing``, ``crossing:island``, ``traffic_signals``; missing where
        absent) and Point geometry, in the network's CRS.
    """
    data: dict[str, object] = {"osmid": network.node_ids}
    for key in NODE_TAGS:
        data[key] = tag_column(network.node_tags, key, network.n_nodes)
    return gpd.GeoDataFrame(data, geometry=gpd.points_from_xy(network.x, network.y),
                            crs=network.crs)


@dataclass(frozen=True, eq=False)
class Streets:
    """The walking network of a district, ready for analysis and maps.

    Attributes
    ----------
    network
        The array walking network of the largest connected component (metric CRS).
    components
        What keeping the largest component dropped.
    lines
        One row per undirected edge of every piece, with its OSM tags (:func:`street_lines`).
    nodes
        The nodes of every piece with their tags (:func:`street_nodes`).
    water
        Water and rail features from the OSM file (WGS-84), for the map; may be empty.
    whole
        The array network of every piece (``lines`` and ``nodes`` are its tables).
    """

    network: StreetNetwork
    components: ComponentReport
    lines: gpd.GeoDataFrame
    nodes: gpd.GeoDataFrame
    water: gpd.GeoDataFrame
    whole: StreetNetwork

    @cached_property
    def graph(self) -> nx.MultiDiGraph:
        """The OSMnx-style networkx graph of every piece, built on first use (metric CRS)."""
        return network_graph(self.whole)


def streets_from_network(whole: StreetNetwork, *, water: gpd.GeoDataFrame | None = None
                         ) -> Streets:
    """Wrap a network of every piece as :class:`Streets` (largest component, tables).

    Returns
    -------
    Streets
        The network, its report, lines and nodes, and ``water`` (empty when ``None``).
    """
    network, components = keep_largest_component(whole)
    water = gpd.GeoDataFrame(geometry=[], crs=WGS84) if water is None else water
    return Streets(network, components, street_lines(whole), street_nodes(whole), water, whole)


def load_streets(
    layers: LayerSet, *, place: str | None = None, cache: str | Path | None = None
) -> Streets | None:
    """Load the walking network, street lines and nodes, and water/rail for a layer set.

    Returns
    -------
    Streets or None
        The network and its tables, or ``None`` without any street source.

    Raises
    ------
    InputError
        If the street file cannot be read or holds no walkable ways.
    """
    whole = street_network_for(layers, place=place, cache=cache)
    if whole is None:
        return None
    water = None
    if layers.streets is not None and layers.streets.suffix.lower() in (".osm", ".xml"):
        from cfplan.geo.osm_file import features_from_osm_file

        water = features_from_osm_file(layers.streets, tags=WATER_TAGS)
    return streets_from_network(whole, water=water)


def street_datum_warnings(layers: LayerSet, street_lines: gpd.GeoSeries | ArrayLike
                          ) -> list[Text]:
    """Warn about every file, points or polygons, that sits off the streets by a GCJ-02 offset.

    Facilities per file (:func:`cfplan.layers.checks.datum_warnings`), then the district,
    subdistricts and units per file (:func:`cfplan.layers.checks.polygon_datum_warnings`):
    what ``cfplan run`` and ``cfplan validate`` report once the streets are loaded.

    Returns
    -------
    list of Text
        One warning per suspicious file.
    """
    polygons = {name: getattr(layers, name) for name in checks.POLYGON_LAYERS}
    index = checks.street_index(street_lines)  # one index for every shifted point set
    return (checks.datum_warnings(layers.facilities, index, in_china=layers.in_china)
            + checks.polygon_datum_warnings(polygons, index, datums=layers.datums,
                                            in_china=layers.in_china))


def street_graph(
    layers: LayerSet, *, place: str | None = None, cache: str | Path | None = None
) -> nx.MultiDiGraph | None:
    """Return the walking network as an OSMnx-style networkx graph, built from the arrays.

    For users who want networkx; cfplan's own analyses use :attr:`Streets.network`.

    Returns
    -------
    networkx.MultiDiGraph or None
        The graph of every piece in ``layers.crs`` (edge ``length`` in metres, planar), or
        ``None`` without any street source.
    """
    streets = load_streets(layers, place=place, cache=cache)
    return None if streets is None else streets.graph


__all__ = [
    "LINE_TAGS",
    "LOADER_VERSION",
    "Streets",
    "load_street_network",
    "load_streets",
    "street_datum_warnings",
    "street_graph",
    "street_lines",
    "street_network_for",
    "street_nodes",
    "street_source",
    "streets_from_network",
    "tag_column",
]
