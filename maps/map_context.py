"""What a map layer builder works with: the context, the layer element and the layer entry."""

from __future__ import annotations

import html
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
from branca.element import MacroElement

from cfplan.analysis.evaluate import Result
from cfplan.analysis.plan import Plan
from cfplan.layers.load import LayerSet
from cfplan.layers.schema import is_missing
from cfplan.maps.display import SIMPLIFY_M, display_features, js_json
from cfplan.maps.safe_render import ScriptElement


def esc(value: object) -> str:
    """Escape a data value for HTML (quotes included)."""
    if is_missing(value):
        return ""
    return html.escape(str(value), quote=True)


class JsLayer(ScriptElement):
    """A Leaflet layer made by a JavaScript expression, named like any Folium element.

    It is only defined here; the layer control adds it to the map when it is shown. Its
    script is put on the page as a value (:class:`cfplan.maps.safe_render.ScriptElement`).
    """

    def __init__(self, js: str, *, name: str = "cf_layer") -> None:
        super().__init__()
        self._name = name
        self.js = js

    def script(self) -> str:
        """Return ``var <name> = <js>;``."""
        return f"var {self.get_name()} = {self.js};\n"


@dataclass
class Overlay:
    """One entry of the layer control.

    Attributes
    ----------
    group
        A key of :data:`GROUPS` (``"siting"``, ``"routes"`` …) or ``"facilities:<n>"`` (the n-th plan domain).
    name
        The entry's label, in the map's language.
    layer
        Any Folium layer or :class:`JsLayer` (it is added to the map for you).
    show
        Whether it is on when the page opens.
    legend
        Legend lines the layer adds while it is shown: ``(css colour, label)``, or
        ``(colour, label, shape)`` with shape ``"fill"``, ``"line"``, ``"dash"`` or ``"dot"``,
        or ``(colour, label, "glyph", symbol)``.
    radio
        A basemap choice (one at a time) rather than an overlay.
    kind
        The facility kind the entry draws (the target selector shows its target's kinds).
    """

    group: str
    name: str
    layer: MacroElement | None
    show: bool = True
    legend: tuple[tuple[str, ...], ...] = ()
    radio: bool = False
    kind: str = ""


@dataclass
class MapContext:
    """What a layer builder gets: the inputs, the language and the display datum.

    Use :meth:`geo_layer` to make a layer from a GeoDataFrame: it draws the display copy
    (simplified, rounded, shifted to GCJ-02 for 高德 tiles) and escapes nothing itself
    because the page sets every data string as text.
    """

    plan: Plan
    layers: LayerSet
    results: list[Result]
    lang: str = "zh"
    datum: str = "wgs84"
    search: list[MacroElement] = field(default_factory=list)

    @property
    def zh(self) -> bool:
        """Whether the map is in Chinese."""
        return self.lang == "zh"

    def t(self, zh: str, en: str) -> str:
        """Return ``zh`` or ``en`` for the map's language."""
        return zh if self.zh else en

    def features(self, gdf: gpd.GeoDataFrame, props: list[dict[str, object]], *,
                 simplify_m: float = SIMPLIFY_M, min_hole_m2: float = 0.0) -> dict[str, object]:
        """Return the display GeoJSON of ``gdf`` with ``props`` (see :mod:`cfplan.maps.display`)."""
        return display_features(gdf, props, datum=self.datum, simplify_m=simplify_m,
                                min_hole_m2=min_hole_m2)

    def geo_layer(
        self, gdf: gpd.GeoDataFrame, *, names: Sequence[object] | None = None,
        rows: Sequence[Sequence[tuple[str, object]]] | None = None,
        styles: Sequence[Mapping[str, object]] | None = None,
        style: Mapping[str, object] | None = None,
        glyph: tuple[str, str] | None = None, pending: Sequence[bool] | None = None,
        searchable: bool = False, simplify_m: float = SIMPLIFY_M, min_hole_m2: float = 0.0,
        lazy: bool = False, order: int = 20, pane: str | None = None,
    ) -> JsLayer:
        """Return a layer of ``gdf``: a tooltip name, popup rows and a style per feature.

        Parameters
        ----------
        gdf
            Features in any CRS.
        names
            Tooltip and popup title per feature (data text, shown literally).
        rows
            Popup rows per feature: ``(label, value)``; empty values are left out.
        styles, style
            Leaflet path options per feature, and for all.
        glyph
            ``(symbol, colour)``: points drawn as round glyph markers instead of circles.
        pending
            Per feature: draw its glyph dashed (not yet built).
        searchable
            Whether the map's search finds the features by name.
        simplify_m
            Display simplification in metres.
        min_hole_m2
            Fill polygon holes smaller than this many square metres.
        lazy
            Build the layer only when it is first shown (for layers off at first: the page
            then only scans their data at load).
        order
            Place of its features among the pages of a click's popup (lower first:
            facilities 0, units 50, subdistricts 60). Features with popup rows take part.
        pane
            The Leaflet pane to draw in (``"cf-low"`` under the units, ``"cf-top"`` over them).
        """
        n = len(gdf)
        names = None if names is None else list(names)
        rows = None if rows is None else list(rows)
        styles = None if styles is None else list(styles)
        pending = None if pending is None else list(pending)
        props = []
        for i in range(n):
            p: dict[str, object] = {}
            if names is not None and not is_missing(names[i]):
                p["n"] = str(names[i])
            if rows is not None:
                p["r"] = [[str(k), plain(v)] for k, v in rows[i] if not is_missing(v)]
            if styles is not None and styles[i]:
                p["s"] = styles[i]
            if pending is not None and pending[i]:
                p["d"] = 1
            props.append(p)
        spec: dict[str, object] = {"data": self.features(gdf, props, simplify_m=simplify_m,
                                                         min_hole_m2=min_hole_m2),
                                   "style": {**(style or {}), **({"pane": pane} if pane else {})}}
        if rows is not None:
            spec["order"] = order
        if glyph:
            spec["glyph"] = {"symbol": glyph[0], "color": glyph[1]}
        js = f"cfplan.geo({js_json(spec)})"
        layer = JsLayer(f"cfplan.lazy(function () {{ return {js}; }})" if lazy else js)
        if searchable:
            self.search.append(layer)
        return layer


LayerBuilder = Callable[[MapContext], Iterable[Overlay]]


def plain(value: object) -> object:
    """Return a popup value as JSON-ready text or number."""
    if isinstance(value, (list, tuple)):
        return [str(v) for v in value]
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value))
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return f"{float(value):g}"
    return str(value)


__all__ = ["JsLayer", "LayerBuilder", "MapContext", "Overlay", "esc", "plain"]
