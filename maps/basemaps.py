"""Tile basemaps that work in China (天地图, 高德) and elsewhere (OSM), and their datums."""

from __future__ import annotations

import os
from dataclasses import dataclass

from cfplan.layers.text import Text

TILE_CHOICES = ("none", "osm", "tianditu", "tianditu-img", "amap")


@dataclass(frozen=True)
class TileSource:
    """One tile layer: URL template (``{s}``, ``{x}``, ``{y}``, ``{z}``), subdomains, credit."""

    name: Text
    url: str
    subdomains: str
    attribution: str
    max_zoom: int = 18


def _tianditu(layer: str) -> str:
    return (f"https://t{{s}}.tianditu.gov.cn/{layer}_w/wmts?SERVICE=WMTS&REQUEST=GetTile"
            f"&VERSION=1.0.0&LAYER={layer}&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles"
            "&TILEMATRIX={z}&TILEROW={y}&TILECOL={x}&tk=")


_TDT = "© 天地图 (tianditu.gov.cn)"
BASEMAPS: dict[str, tuple[TileSource, ...]] = {
    "osm": (TileSource(Text("OpenStreetMap", "OpenStreetMap"),
                       "https://tile.openstreetmap.org/{z}/{x}/{y}.png", "",
                       "© OpenStreetMap contributors", 19),),
    # 天地图 in Web Mercator ("_w"): the map layer and its label layer on top.
    "tianditu": (TileSource(Text("天地图 矢量", "Tianditu vector"), _tianditu("vec"), "01234567",
                            _TDT),
                 TileSource(Text("天地图 注记", "Tianditu labels"), _tianditu("cva"), "01234567",
                            _TDT)),
    "tianditu-img": (TileSource(Text("天地图 影像", "Tianditu imagery"), _tianditu("img"),
                                "01234567", _TDT),
                     TileSource(Text("天地图 影像注记", "Tianditu imagery labels"),
                                _tianditu("cia"), "01234567", _TDT)),
    # 高德 tiles are drawn in GCJ-02: every layer's display copy is shifted for them.
    "amap": (TileSource(Text("高德地图", "AMap"),
                        "https://webrd0{s}.is.autonavi.com/appmaptile?lang=zh_cn&size=1&scale=1"
                        "&style=8&x={x}&y={y}&z={z}", "1234", "© 高德地图 AutoNavi"),),
}


def display_datum(tiles: str | None) -> str:
    """Return the datum the map's layers are drawn in for ``tiles``: ``gcj02`` for 高德.

    Returns
    -------
    str
        ``"gcj02"`` for ``"amap"``, else ``"wgs84"``.
    """
    return "gcj02" if tiles == "amap" else "wgs84"


def tianditu_key(key: str = "") -> str:
    """Return the 天地图 key: ``key`` when given, else the ``TIANDITU_KEY`` environment variable.

    Returns
    -------
    str
        The key, or ``""`` when neither gives one.
    """
    return key or os.environ.get("TIANDITU_KEY", "")


def tile_sources(tiles: str | None, *, key: str = "") -> tuple[TileSource, ...]:
    """Return the tile layers of basemap ``tiles`` (``None``/``"none"``: none).

    Raises
    ------
    ValueError
        On an unknown basemap, or 天地图 without a key (``--tianditu-key`` or
        ``TIANDITU_KEY``): its servers refuse requests without one.

    Returns
    -------
    tuple of TileSource
        Base layer first, then any label layer; 天地图 URLs carry the key.
    """
    if tiles in (None, "", "none"):
        return ()
    if tiles not in BASEMAPS:
        raise ValueError(f"unknown basemap {tiles!r}; known: {', '.join(TILE_CHOICES)}")
    sources = BASEMAPS[tiles]
    if tiles.startswith("tianditu"):
        tk = tianditu_key(key)
        if not tk:
            raise ValueError("天地图 needs a key: --tianditu-key KEY or TIANDITU_KEY")
        sources = tuple(TileSource(s.name, s.url + tk, s.subdomains, s.attribution, s.max_zoom)
                        for s in sources)
    return sources


__all__ = ["BASEMAPS", "TILE_CHOICES", "TileSource", "display_datum", "tianditu_key",
           "tile_sources"]
