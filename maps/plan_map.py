"""The reviewer's map: one self-contained Folium HTML file that draws offline."""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from branca.element import MacroElement

from cfplan.analysis.evaluate import Result
from cfplan.analysis.export import unit_flags
from cfplan.analysis.indicators import target_text
from cfplan.analysis.plan import DOMAINS_EN, Plan, Target
from cfplan.analysis.report import value_text
from cfplan.analysis.selection import SCENARIOS
from cfplan.geo.crs import WGS84
from cfplan.geo.io import atomic_write_text
from cfplan.layers.i18n import t as tr
from cfplan.layers.kinds import FACILITY_KINDS, STATUSES, UNIT_TYPES
from cfplan.layers.load import LayerSet
from cfplan.layers.schema import is_missing
from cfplan.maps import assets
from cfplan.maps.basemaps import display_datum, tile_sources
from cfplan.maps.display import SIMPLIFY_M, display_features, display_points, js_json
from cfplan.maps.safe_render import RawHtml, ScriptElement, safe_map
from cfplan.maps.unit_status import unit_status_table

STATUS_COLOR = {"met": "#1a9850", "not_met": "#d73027", "unknown": "#fdae61",
                "not_assessed": "#999999"}
# Fill of a unit by its status for the selected target (M met, N not met, U unknown, - not
# counted by that target).
UNIT_COLORS = {"M": "#66bd63", "N": "#f46d43", "U": "#fee08b", "-": "#bdbdbd"}
BAND_COLORS = {5: "#2b8a3e", 10: "#74b816", 15: "#d9480f"}
# Blocks smaller than this inside a walking band are drawn filled (see drop_small_holes).
BAND_HOLE_M2 = 10_000.0
# Walking bands are 25 m buffers of streets: 5 m of simplification does not show at the
# zooms they are read at (a pixel is 2.4 m at zoom 16) and halves their vertices.
BAND_SIMPLIFY_M = 5.0
STREET_STYLE = {
    "primary": ("#e8590c", 4.0), "secondary": ("#f08c00", 3.0), "tertiary": ("#fab005", 2.5),
    "residential": ("#868e96", 1.5), "footway": ("#74b816", 1.0),
}
# Layer groups of the layer control, in order; facilities get one group per plan domain.
GROUPS = (
    ("basemap", "底图", "Basemap"), ("admin", "行政区划", "Boundaries"),
    ("facilities", "设施", "Facilities"), ("access", "可达性", "Walking access"),
    ("siting", "建议选址", "Proposed sites"), ("routes", "上下学路径", "School routes"),
    ("gaps", "缺口", "Gaps"),
)
CLUSTER_OPTIONS = {"maxClusterRadius": 45, "disableClusteringAtZoom": 16}


def esc(value: object) -> str:
    """Escape a data value for HTML (quotes included)."""
    if is_missing(value):
        return ""
    return html.escape(str(value), quote=True)


# --------------------------------------------------------------------------- extension point


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
        Legend lines ``(css colour, label)`` the layer adds.
    radio
        A basemap choice (one at a time) rather than an overlay.
    """

    group: str
    name: str
    layer: MacroElement | None
    show: bool = True
    legend: tuple[tuple[str, str], ...] = ()
    radio: bool = False


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
        lazy: bool = False,
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
                p["r"] = [[str(k), _plain(v)] for k, v in rows[i] if not is_missing(v)]
            if styles is not None and styles[i]:
                p["s"] = styles[i]
            if pending is not None and pending[i]:
                p["d"] = 1
            props.append(p)
        spec: dict[str, object] = {"data": self.features(gdf, props, simplify_m=simplify_m,
                                                         min_hole_m2=min_hole_m2),
                                   "style": style or {}}
        if glyph:
            spec["glyph"] = {"symbol": glyph[0], "color": glyph[1]}
        js = f"cfplan.geo({js_json(spec)})"
        layer = JsLayer(f"cfplan.lazy(function () {{ return {js}; }})" if lazy else js)
        if searchable:
            self.search.append(layer)
        return layer


LayerBuilder = Callable[[MapContext], Iterable[Overlay]]


def _plain(value: object) -> object:
    if isinstance(value, (list, tuple)):
        return [str(v) for v in value]
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value))
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return f"{float(value):g}"
    return str(value)


# --------------------------------------------------------------------------- the map


def build_map(
    plan: Plan,
    layers: LayerSet,
    results: list[Result],
    *,
    lang: str = "zh",
    streets: gpd.GeoDataFrame | None = None,
    water: gpd.GeoDataFrame | None = None,
    service_areas: gpd.GeoDataFrame | None = None,
    coverage: pd.DataFrame | None = None,
    tiles: str | None = None,
    tianditu_key: str = "",
    extra_layers: Sequence[LayerBuilder] = (),
) -> folium.Map:
    """Build the interactive map.

    Layers, in groups with group toggles: basemap (tiles, streets, water); boundaries
    (district, subdistricts); facilities, one group per plan domain, each kind with its
    own glyph, clustered at low zoom and spread at street zoom; walking service areas;
    school routes; and the gaps: units and subdistricts coloured by the status of the
    target chosen in the target selector. Search by facility, unit or subdistrict name,
    fullscreen, a metric scale bar, a measuring tool, a legend and the targets panel.
    Every script is inlined by :func:`offline_html`, so vector layers draw with no network.

    Parameters
    ----------
    plan, layers, results
        The plan, the loaded layers and the evaluation.
    lang
        ``"zh"`` or ``"en"``.
    streets, water
        Street lines and water/rail features to draw.
    service_areas
        5/10/15-minute walking service areas per kind.
    coverage
        The walking coverage table (unit rows give each unit's share for the selector).
    tiles
        ``None``/``"none"``, ``"osm"``, ``"tianditu"``, ``"tianditu-img"`` or ``"amap"``. With
        ``"amap"`` every layer's display copy is shifted to GCJ-02 (AMap's datum);
        analysis data and exports never are.
    tianditu_key
        天地图 key (else ``TIANDITU_KEY``).
    extra_layers
        Layer builders: each gets a :class:`MapContext` and yields :class:`Overlay`
        entries (proposed sites, analysed school routes …). The map builds without them.

    Returns
    -------
    folium.Map
        The map; save it with :func:`save_map`.
    """
    ctx = MapContext(plan, layers, results, lang=lang, datum=display_datum(tiles))
    zh = ctx.zh
    bounds = layers.district.to_crs(WGS84).total_bounds
    m = safe_map(location=[(bounds[1] + bounds[3]) / 2, (bounds[0] + bounds[2]) / 2],
                 zoom_start=14, tiles=None, control_scale=False, prefer_canvas=False)
    m.options.update({"maxZoom": 19, "minZoom": 3})  # marker clusters need the map's maxZoom
    corners = display_points(gpd.GeoSeries(gpd.points_from_xy(bounds[[0, 2]], bounds[[1, 3]]),
                                           crs=WGS84), datum=ctx.datum)
    m.fit_bounds([[corners[0, 1], corners[0, 0]], [corners[1, 1], corners[1, 0]]])
    title = (f"{layers.name} · {plan.name} · 儿童友好设施覆盖地图" if zh
             else f"{layers.name_en} · {plan.name_en} · child-friendly facility coverage map")
    page: Any = m.get_root()  # a branca Figure, with header and html
    page.header.add_child(RawHtml(f"<title>{esc(title)}</title>"), name="cf_title")

    inline_assets(m, lang=lang)
    overlays: list[Overlay] = []
    overlays += _basemaps(ctx, tiles, tianditu_key, streets, water)
    overlays += _boundaries(ctx)
    fac_overlays, fac_js = _facilities(ctx, m.get_name())
    overlays += fac_overlays
    if service_areas is not None and not service_areas.empty:
        overlays += _service_areas(ctx, service_areas)
    if not layers.school_routes.empty:
        overlays += _school_routes(ctx)
    status_overlays, status_js = _status_layers(ctx, coverage, m.get_name())
    overlays += status_overlays
    for builder in extra_layers:
        overlays += list(builder(ctx))

    for o in overlays:
        if o.layer is not None:
            m.add_child(o.layer)
    m.add_child(JsLayer(fac_js, name="cf_facility_glue"))
    m.add_child(JsLayer(status_js, name="cf_selector"))
    m.add_child(_Controls(ctx, overlays))
    if layers.synthetic:
        banner = ("合成数据：示范区不是真实地点，街道为虚构" if zh
                  else "Synthetic data: the demo district and its streets are not real")
        page.html.add_child(RawHtml(f"<div class='cf-banner'>{esc(banner)}</div>"))
    return m


def _group_label(ctx: MapContext, key: str) -> str:
    if key.startswith("facilities:"):
        domain = _group_domain(key)
        word = "设施" if ctx.zh else "Facilities"
        if not domain:
            return ctx.t("其他设施", "Other facilities")
        return f"{word} · {domain if ctx.zh else DOMAINS_EN.get(domain, domain)}"
    for k, zh, en in GROUPS:
        if k == key:
            return ctx.t(zh, en)
    return key


def _basemaps(ctx: MapContext, tiles: str | None, key: str, streets: gpd.GeoDataFrame | None,
              water: gpd.GeoDataFrame | None) -> list[Overlay]:
    out = []
    sources = tile_sources(tiles, key=key)
    out.append(Overlay("basemap", ctx.t("无底图", "No basemap"), None, show=not sources,
                       radio=True))
    if sources:
        parts = ", ".join(
            f"L.tileLayer({js_json(s.url)}, {js_json({'subdomains': s.subdomains or 'abc', 'attribution': s.attribution, 'maxZoom': s.max_zoom})})"
            for s in sources)
        name = " + ".join(s.name.get(ctx.lang) for s in sources)
        out.append(Overlay("basemap", name, JsLayer(f"L.layerGroup([{parts}])", name="cf_tiles"),
                           show=True, radio=True))
    if streets is not None and not streets.empty:
        merged = _merged_streets(streets)
        styles = [{"color": STREET_STYLE.get(hw, ("#adb5bd", 1.0))[0],
                   "weight": STREET_STYLE.get(hw, ("#adb5bd", 1.0))[1]} for hw in merged["hw"]]
        label = ctx.t("街道（合成）" if ctx.layers.synthetic else "街道",
                      "Streets (synthetic)" if ctx.layers.synthetic else "Streets")
        out.append(Overlay("basemap", label, ctx.geo_layer(
            merged, names=list(merged["label"]), styles=styles, style={"opacity": 0.9})))
    if water is not None and not water.empty:
        out.append(Overlay("basemap", ctx.t("水系/铁路", "Water and rail"), ctx.geo_layer(
            water, style={"color": "#1c7ed6", "weight": 3, "fillColor": "#74c0fc",
                          "fillOpacity": 0.8})))
    return out


def _first(value: object) -> object:
    return value[0] if isinstance(value, list) and value else value


def _merged_streets(streets: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Return the display copy of the streets: one (multi)line per highway type and label.

    Edges that share their type, name, speed limit and sidewalk tag are drawn as one
    feature, contiguous pieces merged (``line_merge``): the tooltip is the same and the page
    gets a few hundred paths instead of one per edge (66,000 in a city).
    """
    hw = streets.get("highway", pd.Series([None] * len(streets), index=streets.index)).map(_first)
    parts = [hw.astype(str)]
    for col in ("name", "maxspeed", "sidewalk"):
        values = streets[col].map(_first) if col in streets.columns else pd.Series(
            [None] * len(streets), index=streets.index)
        parts.append(values.where(values.map(lambda v: isinstance(v, str)), ""))
    labels = [" · ".join(v for v in row if v and v != "None") for row in zip(*parts, strict=True)]
    frame = gpd.GeoDataFrame({"hw": parts[0].to_numpy(), "label": labels},
                             geometry=streets.geometry.to_numpy(), crs=streets.crs)
    rows, geoms = [], []
    for (h, label), sub in frame.groupby(["hw", "label"], sort=True):
        rows.append({"hw": h, "label": label})
        geoms.append(shapely.line_merge(shapely.multilinestrings(
            shapely.get_parts(sub.geometry.to_numpy()))))
    return gpd.GeoDataFrame(rows, geometry=geoms, crs=streets.crs)


def _boundaries(ctx: MapContext) -> list[Overlay]:
    layers = ctx.layers
    out = [Overlay("admin", ctx.t("区界", "District boundary"), ctx.geo_layer(
        layers.district, style={"color": "#000", "weight": 4, "fill": False, "interactive": False}))]
    sd = layers.subdistricts
    if not sd.empty:
        rows = [[(ctx.t("编码", "Code"), r["code"])] for _, r in sd.iterrows()]
        out.append(Overlay(
            "admin", ctx.plan.subdistrict_term if ctx.zh else "Subdistricts",
            ctx.geo_layer(sd, names=list(sd["name"]), rows=rows, searchable=True,
                          style={"color": "#1c3d5a", "weight": 3, "fill": False,
                                 "dashArray": "6 4"})))
    return out


def _kind_domains(plan: Plan) -> dict[str, str]:
    """Return the plan domain each facility kind is first counted in (plan order)."""
    out: dict[str, str] = {}
    for t in plan.targets:
        for k in t.kinds:
            out.setdefault(k, t.domain)
    return out


def _facilities(ctx: MapContext, map_name: str) -> tuple[list[Overlay], str]:
    """One marker cluster for all facilities; one entry per kind, grouped by plan domain."""
    fac = ctx.layers.facilities
    zh = ctx.zh
    if fac.empty:
        return [], "(window.cf_facilities = null)"
    unit_codes = list(ctx.layers.units["code"])
    unit_index = {c: i for i, c in enumerate(unit_codes)}
    status_keys = [*list(STATUSES), None]
    status_index = {k: i for i, k in enumerate(status_keys)}
    domains = _kind_domains(ctx.plan)
    overlays, kinds_spec, glue = [], [], []
    xy_all = display_points(fac.geometry, datum=ctx.datum)
    for kind_key in [k for k in FACILITY_KINDS if k in set(fac["kind"])]:
        kind = FACILITY_KINDS[kind_key]
        mask = (fac["kind"] == kind_key).to_numpy()
        sub = fac[mask]
        xy = xy_all[mask]
        pending = (sub["status"].isna() | sub["status"].isin(["planned", "under_construction"])
                   ).to_numpy()
        rows = []
        for (_, r), (lon, lat), p in zip(sub.iterrows(), xy, pending, strict=True):
            status = r["status"] if isinstance(r["status"], str) else None
            cf = r["child_friendly"]
            rows.append([
                float(lon), float(lat), str(r["name"]) if not is_missing(r["name"]) else str(r["fid"]),
                str(r["fid"]), status_index.get(status, len(status_keys) - 1),
                None if is_missing(r["year"]) else str(r["year"]),
                None if is_missing(cf) else int(bool(cf)),
                None if is_missing(r["capacity"]) else f"{r['capacity']:.0f}",
                unit_index.get(r["unit"]) if isinstance(r["unit"], str) else None,
                int(bool(p)),
            ])
        kinds_spec.append({"key": kind_key, "label": kind.zh if zh else kind.en,
                           "glyph": {"symbol": kind.glyph(ctx.lang), "color": kind.color}, "rows": rows})
        is_poly = sub.geom_type.isin(["Polygon", "MultiPolygon"]).to_numpy()
        poly_name = "null"
        if is_poly.any():
            polys = sub[is_poly]
            poly = ctx.geo_layer(
                polys, names=[str(n) for n in polys["name"]],
                styles=[{"dashArray": "5 5"} if d else {} for d in pending[is_poly]],
                style={"color": kind.color, "weight": 2, "fillColor": kind.color,
                       "fillOpacity": 0.45})
            overlays.append(Overlay("", "", poly))  # drawn through its kind's entry below
            poly_name = poly.get_name()
        entry = JsLayer(f"L.layerGroup({poly_name} ? [{poly_name}] : [])",
                        name=f"cf_kind_{kind_key}")
        glue.append(f"{entry.get_name()}.addLayer(cf_facilities.layers[{js_json(kind_key)}]);"
                    f"cf_facilities.layers[{js_json(kind_key)}]._cfEntryGroup = "
                    f"{entry.get_name()};")
        overlays.append(Overlay(_domain_group(domains.get(kind_key, "")),
                                kind.zh if zh else kind.en, entry, show=True))
    spec = {
        "kinds": kinds_spec, "cluster": CLUSTER_OPTIONS,
        "cols": [ctx.t("类别", "Kind"), ctx.t("编号", "Id"), ctx.t("状态", "Status"),
                 ctx.t("年份", "Year"), ctx.t("儿童友好", "Child-friendly"),
                 ctx.t("托位/容量", "Capacity"), ctx.t("所属社区/村", "Unit")],
        "statuses": [STATUSES[k][0 if zh else 1] if k else ctx.t("未知", "unknown")
                     for k in status_keys],
        "units": [str(n) for n in ctx.layers.units["name"]],
        "noUnit": ctx.t("不在任何社区内", "in no unit"),
        "yesno": [ctx.t("否", "no"), ctx.t("是", "yes")],
    }
    # The facility data is made before the entries that hold its sub-groups.
    js = (f"(function () {{ window.cf_facilities = cfplan.facilities({map_name}, "
          f"{js_json(spec)}); {' '.join(glue)} return cf_facilities; }})()")
    return overlays, js


def _service_areas(ctx: MapContext, areas: gpd.GeoDataFrame) -> list[Overlay]:
    out = []
    for kind in sorted(areas["kind"].unique()):
        sub = areas[areas["kind"] == kind].sort_values("minutes", ascending=False)
        k = FACILITY_KINDS.get(kind)
        label = (k.zh if ctx.zh else k.en) if k else kind
        names = [f"{label} {int(r['minutes'])} 分钟" if ctx.zh else f"{label} {int(r['minutes'])} min"
                 for _, r in sub.iterrows()]
        styles = [{"fillColor": BAND_COLORS.get(int(r["minutes"]), "#888")}
                  for _, r in sub.iterrows()]
        layer = ctx.geo_layer(sub, names=names, styles=styles, simplify_m=BAND_SIMPLIFY_M,
                              min_hole_m2=BAND_HOLE_M2, lazy=True,
                              style={"weight": 0, "fillOpacity": 0.25})
        out.append(Overlay("access", ctx.t(f"步行圈：{label}", f"Walking bands: {label}"), layer,
                           show=False))
    return out


def _school_routes(ctx: MapContext) -> list[Overlay]:
    routes = ctx.layers.school_routes
    cols = [c for c in routes.columns if c not in ("geometry",) and not c.startswith("_")]
    names = [str(r.get("name", "")) or str(r.get("fid", "")) for _, r in routes.iterrows()]
    rows = [[(c, r[c]) for c in cols if c != "name"] for _, r in routes.iterrows()]
    return [Overlay("routes", ctx.t("上下学路线（输入）", "School routes (input)"), ctx.geo_layer(
        routes, names=names, rows=rows, style={"color": "#5f3dc4", "weight": 4,
                                               "dashArray": "8 6"}))]


def _target_label(t: Target, lang: str) -> str:
    number = t.id if t.origin == "standard" else t.item
    return f"{number} {t.text('title', lang)}"


def _status_layers(ctx: MapContext, coverage: pd.DataFrame | None,
                   map_name: str) -> tuple[list[Overlay], str]:
    """Units and subdistricts coloured by the selected per-unit target; the selector."""
    layers, zh, lang = ctx.layers, ctx.zh, ctx.lang
    targets, codes, shares = unit_status_table(ctx.plan, layers, ctx.results, coverage=coverage)
    if not targets:
        return [], "null"
    flags = unit_flags(layers, ctx.results)
    sd_names = dict(zip(layers.subdistricts["code"], layers.subdistricts["name"], strict=True))
    home_text = {"has": ("已有", "yes"), "planned": ("仅有规划", "planned only"),
                 "none": ("没有", "none")}
    names, rows, props_t, props_a = [], [], [], []
    for _, row in flags.iterrows():
        state = ("has" if row["has_children_home"] else
                 "planned" if row["has_children_home_planned"] else "none")
        utype = UNIT_TYPES.get(row["unit_type"], ("", "", ()))
        names.append(str(row["name"]))
        rows.append([
            (ctx.t("编码", "Code"), row["code"]),
            (ctx.t("类型", "Type"), utype[0] if zh else utype[1]),
            (ctx.plan.subdistrict_term if zh else "Subdistrict",
             sd_names.get(row["subdistrict"], row["subdistrict"])
             if isinstance(row["subdistrict"], str) else None),
            (ctx.t("人口", "Population"), f"{row['population']:.0f}"),
            (ctx.t("儿童", "Children"),
             None if np.isnan(row["children"]) else f"{row['children']:.0f}"),
            (ctx.t("儿童之家", "Children's home"), home_text[state][0 if zh else 1]),
            (ctx.t("托位", "Childcare places"), f"{row['childcare_places']:.0f}"),
        ])
        props_t.append(codes.get(row["code"], ""))
        props_a.append({str(ti): [_pct(v) for v in vals]
                        for ti, vals in shares.get(row["code"], {}).items()})
    base = {"color": "#555", "weight": 1, "fillOpacity": 0.5}
    data = ctx.features(flags, [{"n": n, "r": [[k, _plain(v)] for k, v in r if not is_missing(v)],
                                 "t": t, **({"a": a} if a else {})}
                                for n, r, t, a in zip(names, rows, props_t, props_a, strict=True)])
    words = {"M": tr("status.met", lang=lang), "N": tr("status.not_met", lang=lang),
             "U": tr("status.unknown", lang=lang), "-": ctx.t("不计入", "not counted")}
    spec_common = {
        "colors": UNIT_COLORS, "words": words,
        "targets": [{"label": _target_label(ut.target, lang), "level": ut.level}
                    for ut in targets],
        "scenarios": [{"key": s, "label": tr(f"scenario.{s}", lang=lang),
                       "fails": ctx.t("现状未达标", "Fails now") if s == "current"
                       else ctx.t("规划完成后未达标", "Fails once planned")} for s in SCENARIOS],
        "selectedWord": ctx.t("所选目标", "Selected target"), "none": ctx.t("无", "none"),
    }
    units_layer = JsLayer("cfplan.statusLayer(" + js_json(
        {**spec_common, "data": data, "style": base, "level": "unit"}) + ")", name="cf_units")
    ctx.search.append(units_layer)
    out = [Overlay("gaps", ctx.t("社区/村：所选目标", "Units: selected target"), units_layer)]
    entries = [f"{{layer: {units_layer.get_name()}, level: 'unit'}}"]
    sd = layers.subdistricts
    if not sd.empty and any(ut.level == "subdistrict" for ut in targets):
        sd_rows = [[(ctx.t("编码", "Code"), r["code"])] for _, r in sd.iterrows()]
        sd_data = ctx.features(sd, [{"n": str(r["name"]), "r": [[k, _plain(v)] for k, v in rr],
                                     "t": codes.get(r["code"], "")}
                                    for (_, r), rr in zip(sd.iterrows(), sd_rows, strict=True)])
        sd_style: dict[str, object] = {**base, "weight": 0}
        sd_layer = JsLayer("cfplan.statusLayer(" + js_json(
            {**spec_common, "data": sd_data, "style": sd_style,
             "level": "subdistrict"}) + ")", name="cf_subdistricts_status")
        out.append(Overlay("gaps", ctx.t(f"{ctx.plan.subdistrict_term}：所选目标",
                                         "Subdistricts: selected target"), sd_layer))
        entries.append(f"{{layer: {sd_layer.get_name()}, level: 'subdistrict'}}")
    initial = next((i for i, ut in enumerate(targets)
                    if "children_home" in ut.target.kinds), 0)
    selector = {
        "title": ctx.t("按目标着色社区/村", "Colour units by target"),
        "targets": [{"label": f"{_target_label(ut.target, lang)} · {target_text(ut.target, lang=lang)}",
                     "level": ut.level} for ut in targets],
        "scenarios": spec_common["scenarios"], "initial": initial,
    }
    js = (f"cfplan.selector({map_name}, Object.assign({js_json(selector)}, "
          f"{{layers: [{', '.join(entries)}]}}))")
    return out, js


def _pct(v: float | None) -> str | None:
    return None if v is None else f"{v * 100:.1f}%"


# --------------------------------------------------------------------------- controls


class _Controls(ScriptElement):
    """Scale bar, fullscreen, measure, search, layer control, legend and targets panel."""

    def __init__(self, ctx: MapContext, overlays: list[Overlay]) -> None:
        super().__init__()
        self._name = "cf_controls"
        self.ctx = ctx
        self.overlays = overlays

    def script(self) -> str:
        """Return the controls' script (at render time: every layer then has its name)."""
        ctx, zh = self.ctx, self.ctx.zh
        assert self._parent is not None  # added to the map before it renders
        mname = self._parent.get_name()
        groups: dict[str, list[str]] = {}
        order = [k for k, _, _ in GROUPS]
        for o in self.overlays:
            if not o.group:
                continue
            entry = (f"{{name: {js_json(o.name)}, layer: {o.layer.get_name() if o.layer else 'null'}, "
                     f"show: {'true' if o.show else 'false'}, radio: {'true' if o.radio else 'false'}}}")
            groups.setdefault(o.group, []).append(entry)
        keys = sorted(groups, key=lambda k: (order.index(k.split(":")[0]) if k.split(":")[0] in order
                                             else len(order), _domain_order(k)))
        spec = ", ".join(f"{{key: {js_json(k)}, label: {js_json(_group_label(ctx, k))}, "
                         f"layers: [{', '.join(groups[k])}]}}" for k in keys)
        search = ", ".join(layer.get_name() for layer in ctx.search)
        measure = {"position": "topleft", "primaryLengthUnit": "meters",
                   "secondaryLengthUnit": "kilometers", "primaryAreaUnit": "sqmeters",
                   "secondaryAreaUnit": "hectares", "activeColor": "#d9480f",
                   "completedColor": "#1c3d5a"}
        legend = _legend_html(ctx, self.overlays)
        panel = _panel_html(ctx.plan, ctx.results, lang=ctx.lang)
        js = f"""
(function (map) {{
  L.control.scale({{imperial: false, metric: true, position: 'bottomleft', maxWidth: 150}}).addTo(map);
  L.control.fullscreen({{position: 'topleft', title: {js_json(ctx.t('全屏', 'Full screen'))},
                         titleCancel: {js_json(ctx.t('退出全屏', 'Exit full screen'))}}}).addTo(map);
  L.Control.Measure.include({{_setCaptureMarkerIcon: function () {{
    this._captureMarker.options.autoPanOnFocus = false;
    this._captureMarker.setIcon(L.divIcon({{iconSize: this._map.getSize().multiplyBy(2)}}));
  }}}});
  new L.Control.Measure({js_json(measure)}).addTo(map);
  cfplan.search(map, {{layers: [{search}].concat(cf_facilities ? Object.values(cf_facilities.layers) : []),
    cluster: cf_facilities ? cf_facilities.cluster : null,
    placeholder: {js_json(ctx.t('搜索设施、社区/村、' + ctx.plan.subdistrict_term, 'Search facilities, units, subdistricts'))},
    notFound: {js_json(ctx.t('没有找到', 'Not found'))}, cancel: {js_json(ctx.t('清除', 'Clear'))}}});
  cfplan.panel(map, {{id: 'cf-panel', cls: 'cf-panel', position: 'topleft',
    title: {js_json(ctx.plan.name if zh else ctx.plan.name_en)}, html: {js_json(panel)}}});
  cfplan.layerControl(map, {{title: {js_json(ctx.t('图层', 'Layers'))}, groups: [{spec}]}});
  cfplan.panel(map, {{id: 'cf-legend', cls: 'cf-legend', position: 'bottomright',
    title: {js_json(ctx.t('图例', 'Legend'))}, html: {js_json(legend)}}});
}})({mname});
"""
        return js


def _domain_group(domain: str) -> str:
    """Return the layer-group key of a plan domain: ``facilities:3`` (ASCII, 1-based)."""
    from cfplan.analysis.plan import DOMAINS

    return f"facilities:{DOMAINS.index(domain) + 1}" if domain in DOMAINS else "facilities:"


def _group_domain(key: str) -> str:
    """Return the plan domain of a ``facilities:<n>`` group key ("" for other facilities)."""
    from cfplan.analysis.plan import DOMAINS

    code = key.split(":", 1)[1] if ":" in key else ""
    return DOMAINS[int(code) - 1] if code.isdigit() and 0 < int(code) <= len(DOMAINS) else ""


def _domain_order(key: str) -> int:
    from cfplan.analysis.plan import DOMAINS

    domain = _group_domain(key)
    return DOMAINS.index(domain) if domain in DOMAINS else len(DOMAINS)


def _legend_html(ctx: MapContext, overlays: list[Overlay]) -> str:
    zh = ctx.zh
    fac = ctx.layers.facilities
    kinds = [k for k in FACILITY_KINDS.values() if len(fac) and k.key in set(fac["kind"])]
    items = "".join(
        f"<div><span class='cf-ico cf-sm' style='background:{k.color}'>{esc(k.glyph(ctx.lang))}</span>"
        f"{esc(k.zh if zh else k.en)}</div>" for k in kinds)
    status = "".join(
        f"<div><span class='cf-sw' style='background:{UNIT_COLORS[c]}'></span>{esc(w)}</div>"
        for c, w in (("M", tr("status.met", lang=ctx.lang)), ("N", tr("status.not_met", lang=ctx.lang)),
                     ("U", tr("status.unknown", lang=ctx.lang)),
                     ("-", ctx.t("不计入该目标", "not counted by the target"))))
    bands = "".join(
        f"<div><span class='cf-sw' style='background:{c};opacity:.5'></span>"
        f"{esc(ctx.t(f'步行 {m} 分钟', f'{m} min walk'))}</div>" for m, c in BAND_COLORS.items())
    extra = "".join(f"<div><span class='cf-sw' style='background:{esc(c)}'></span>{esc(t)}</div>"
                    for o in overlays for c, t in o.legend)
    pending = ctx.t("虚线框：在建/规划", "Dashed: under construction or planned")
    cluster = ctx.t("深蓝圆：聚合的设施数，放大后展开", "Dark circles: facilities clustered; zoom in")
    return (f"<div><b>{esc(ctx.t('社区/村着色：', 'Unit colour: '))}</b>"
            f"<span id='cf-legend-target'></span></div>{status}<hr>{items}"
            f"<div>{esc(pending)}</div><div>{esc(cluster)}</div><hr>{bands}{extra}")


def _panel_html(plan: Plan, results: list[Result], *, lang: str) -> str:
    zh = lang == "zh"
    by_key = {(r.target.id, r.scenario): r for r in results}
    rows = []
    for spatial in (True, False):
        rows.append(f"<tr><th colspan='4' class='cf-sec'>"
                    f"{'空间目标' if spatial and zh else '填报指标' if zh else 'Spatial targets' if spatial else 'Reported indicators'}"
                    "</th></tr>")
        for t in plan.targets:
            if (t.metric != "indicator") != spatial:
                continue
            cells = []
            for s in SCENARIOS:
                r = by_key.get((t.id, s))
                if r is None:
                    cells.append("<td></td>")
                    continue
                label = tr(f"status.{r.status}", lang=lang)
                tip = esc(r.shortfall.get(lang) or r.reason.get(lang))
                cells.append(f"<td title='{tip}'><span class='cf-dot' style='background:"
                             f"{STATUS_COLOR[r.status]}'></span>{esc(label)} "
                             f"{esc(value_text(r, lang=lang))}</td>")
            first = by_key.get((t.id, "current"))
            short = first.shortfall.get(lang) if first is not None else ""
            number = t.id if t.origin == "standard" else t.item
            rows.append(
                f"<tr><td>{esc(number)}</td><td title='{esc(t.text('wording', lang))}'>"
                f"{esc(t.text('title', lang))}<br>"
                f"<small>{esc(target_text(t, lang=lang))}"
                f"{(' · ' + esc(short)) if short else ''}</small></td>{''.join(cells)}</tr>")
    heads = ("项目" if zh else "Item", "目标" if zh else "Target",
             tr("scenario.current", lang=lang), tr("scenario.planned", lang=lang))
    head = "".join(f"<th>{esc(h)}</th>" for h in heads)
    counts = {s: {k: sum(1 for r in results if r.scenario == s and r.status == k)
                  for k in STATUS_COLOR} for s in SCENARIOS}
    summary = "；".join(
        f"{tr(f'scenario.{s}', lang=lang)}："
        + "、".join(f"{tr(f'status.{k}', lang=lang)} {v}" for k, v in counts[s].items())
        for s in SCENARIOS) if zh else "; ".join(
        f"{tr(f'scenario.{s}', lang=lang)}: "
        + ", ".join(f"{v} {tr(f'status.{k}', lang=lang)}" for k, v in counts[s].items())
        for s in SCENARIOS)
    return (f"<div class='cf-summary'><small>{esc(summary)}</small></div>"
            f"<table><tr>{head}</tr>{''.join(rows)}</table>")


# --------------------------------------------------------------------------- output


def _page_assets(lang: str) -> list[assets.Asset]:
    return [assets.LEAFLET, assets.MARKERCLUSTER, assets.SUBGROUP, assets.SEARCH,
            assets.FULLSCREEN, assets.measure(lang), assets.CFPLAN]


def inline_assets(m: folium.Map, *, lang: str = "zh") -> None:
    """Put Leaflet and every plugin inline at the top of ``m``'s page, and drop folium's CDN links.

    Any rendering of the map (a saved file, Jupyter's inline view) then carries its scripts.
    """
    m.default_js = []
    m.default_css = []
    root: Any = m.get_root()
    styles, scripts = assets.inline_tags(_page_assets(lang))
    root.header.add_child(RawHtml(styles), name="cf_inline_css", index=0)
    root.header.add_child(RawHtml(scripts), name="cf_inline_js", index=1)


def offline_html(m: folium.Map, *, lang: str | None = None) -> str:
    """Render ``m`` to HTML with Leaflet and every plugin inlined, every CDN reference removed.

    Returns
    -------
    str
        A self-contained HTML document: no ``<script src>`` or stylesheet link to
        the network, so vector layers draw on an intranet with no internet.
    """
    root: Any = m.get_root()
    if "cf_inline_js" not in root.header._children:  # a map not made by build_map
        inline_assets(m, lang=lang or "zh")
    text = root.render()
    text = re.sub(r"<script[^>]+src=\"https?://[^\"]+\"[^>]*>\s*</script>", "", text)
    text = re.sub(r"<link[^>]+href=\"https?://[^\"]+\"[^>]*/?>", "", text)
    # Folium names elements with random ids; make them stable so output is deterministic.
    ids = dict.fromkeys(re.findall(r"\b([a-z_]+_[0-9a-f]{32})\b", text))
    for n, old in enumerate(ids):
        text = text.replace(old, f"{old.rsplit('_', 1)[0]}_{n:05d}")
    return text


def save_map(m: folium.Map, path: str | Path) -> Path:
    """Write the map as one self-contained HTML file, atomically.

    Returns
    -------
    pathlib.Path
        The path written.
    """
    return atomic_write_text(path, offline_html(m))


__all__ = ["GROUPS", "JsLayer", "LayerBuilder", "MapContext", "Overlay", "build_map", "esc",
           "inline_assets", "offline_html", "save_map"]
