"""The reviewer's map: one self-contained Folium HTML file that draws offline."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import folium
import geopandas as gpd
import pandas as pd
import shapely

from cfplan.analysis.evaluate import Result
from cfplan.analysis.plan import Plan
from cfplan.geo.crs import WGS84
from cfplan.geo.io import atomic_write_text
from cfplan.layers.kinds import FACILITY_KINDS, STATUSES
from cfplan.layers.load import LayerSet
from cfplan.layers.schema import is_missing
from cfplan.maps import assets
from cfplan.maps.basemaps import display_datum, tile_sources
from cfplan.maps.display import display_points, js_json
from cfplan.maps.map_context import JsLayer, LayerBuilder, MapContext, Overlay, esc
from cfplan.maps.map_controls import GROUPS, Controls, domain_group
from cfplan.maps.palette import (
    BANDS,
    DISTRICT,
    INPUT_ROUTE,
    STREET_OTHER,
    STREETS,
    UNIT_COLORS,
    WATER,
    WATER_LINE,
)
from cfplan.maps.safe_render import RawHtml, safe_map
from cfplan.maps.unit_layers import status_layers

BAND_COLORS = BANDS
# Blocks smaller than this inside a walking band are drawn filled (see drop_small_holes).
BAND_HOLE_M2 = 10_000.0
# Walking bands are 25 m buffers of streets: 5 m of simplification does not show at the
# zooms they are read at (a pixel is 2.4 m at zoom 16) and halves their vertices.
BAND_SIMPLIFY_M = 5.0
CLUSTER_OPTIONS = {"maxClusterRadius": 45, "disableClusteringAtZoom": 16}
# Facilities' pages come first in a click's popup.
FACILITY_ORDER = 0


def facility_name(name: object, kind: str, *, lang: str) -> str:
    """Return a facility's name as the map shows it.

    Unnamed features (OSM ones are named after their kind in Chinese, ``公园``) are called
    by their kind in the map's language; a name of the data is shown as it is.
    """
    k = FACILITY_KINDS.get(kind)
    if is_missing(name) or not str(name).strip():
        return (k.zh if lang == "zh" else k.en) if k else ""
    if k is not None and lang != "zh" and str(name) in (k.zh, *k.aliases):
        return k.en
    return str(name)


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

    At first the units are coloured by how many of the plan's own per-unit targets each
    fails; the target selector colours them by one target instead (walking-access targets
    by each unit's share of children within reach) and switches 现状 / 规划完成后. Only
    the units, the 办事处 outlines (with the streets and the district outline) and the
    facilities of the selected view are on when the page opens; the facilities of other
    kinds, walking bands, school routes and proposed sites are a click away in the layer
    control. Names show from zoom 14. A click anywhere opens one popup that pages through
    every feature under the pointer (facility, unit, 办事处 …). Search by facility, unit or
    subdistrict name, fullscreen, a metric scale bar, a measuring tool, the legend of the
    visible layers and the targets panel. Every script is inlined by :func:`offline_html`,
    so vector layers draw with no network.

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
    # Marker clusters need the map's maxZoom; quarter zoom steps let the district fill the
    # room between the panels.
    m.options.update({"maxZoom": 19, "minZoom": 3, "zoomSnap": 0.25, "zoomDelta": 0.5})
    corners = display_points(gpd.GeoSeries(gpd.points_from_xy(bounds[[0, 2]], bounds[[1, 3]]),
                                           crs=WGS84), datum=ctx.datum)
    fit = [[float(corners[0, 1]), float(corners[0, 0])], [float(corners[1, 1]), float(corners[1, 0])]]
    title = (f"{layers.name} · {plan.name} · 儿童友好设施覆盖地图" if zh
             else f"{layers.name_en} · {plan.name_en} · child-friendly facility coverage map")
    page: Any = m.get_root()  # a branca Figure, with header and html
    page.header.add_child(RawHtml(f"<title>{esc(title)}</title>"), name="cf_title")

    inline_assets(m, lang=lang)
    m.add_child(JsLayer(f"cfplan.panes({m.get_name()})", name="cf_panes"))
    overlays: list[Overlay] = []
    overlays += _basemaps(ctx, tiles, tianditu_key, streets, water)
    overlays += _boundaries(ctx)
    fac_overlays, fac_js = _facilities(ctx, m.get_name())
    overlays += fac_overlays
    if service_areas is not None and not service_areas.empty:
        overlays += _service_areas(ctx, service_areas)
    if not layers.school_routes.empty:
        overlays += _school_routes(ctx)
    status_overlays, status_js = status_layers(ctx, coverage, m.get_name())
    for builder in extra_layers:
        overlays += list(builder(ctx))
    overlays += status_overlays  # drawn last: the units lie over every other fill

    m.add_child(JsLayer(fac_js, name="cf_facility_glue"))
    for o in overlays:
        if o.layer is not None:
            m.add_child(o.layer)
    m.add_child(JsLayer(status_js, name="cf_selector"))
    m.add_child(Controls(ctx, overlays, bounds=fit))
    if layers.synthetic:
        banner = ("合成数据：示范区不是真实地点，街道为虚构" if zh
                  else "Synthetic data: the demo district and its streets are not real")
        page.html.add_child(RawHtml(f"<div class='cf-banner'>{esc(banner)}</div>"))
    return m


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
        styles = [{"color": STREETS.get(hw, STREET_OTHER)[0],
                   "weight": STREETS.get(hw, STREET_OTHER)[1]} for hw in merged["hw"]]
        label = ctx.t("街道（合成）" if ctx.layers.synthetic else "街道",
                      "Streets (synthetic)" if ctx.layers.synthetic else "Streets")
        out.append(Overlay("basemap", label, ctx.geo_layer(
            merged, styles=styles, style={"opacity": 0.9}, pane="cf-low")))
    if water is not None and not water.empty:
        out.append(Overlay("basemap", ctx.t("水系/铁路", "Water and rail"), ctx.geo_layer(
            water, style={"color": WATER_LINE, "weight": 3, "fillColor": WATER,
                          "fillOpacity": 0.8}, pane="cf-low"),
            legend=((WATER, ctx.t("水系", "Water")),)))
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
    layer = ctx.geo_layer(ctx.layers.district, style={"color": DISTRICT, "weight": 4,
                                                      "fill": False}, pane="cf-top")
    return [Overlay("admin", ctx.t("区界", "District boundary"), layer,
                    legend=((DISTRICT, ctx.t("区界", "District boundary"), "line"),))]


def _kind_domains(plan: Plan) -> dict[str, str]:
    """Return the plan domain each facility kind is first counted in (plan order)."""
    out: dict[str, str] = {}
    for t in plan.targets:
        for k in t.kinds:
            out.setdefault(k, t.domain)
    return out


def _facilities(ctx: MapContext, map_name: str) -> tuple[list[Overlay], str]:
    """One marker cluster for all facilities; one entry per kind, grouped by plan domain.

    Every kind starts hidden: the target selector shows the kinds of the selected view.
    """
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
        unknown = sub["status"].isna().to_numpy()
        names = [facility_name(n, kind_key, lang=ctx.lang) for n in sub["name"]]
        rows = []
        for (_, r), (lon, lat), name, p, u in zip(sub.iterrows(), xy, names, pending, unknown,
                                                   strict=True):
            status = r["status"] if isinstance(r["status"], str) else None
            cf = r["child_friendly"]
            rows.append([
                float(lon), float(lat), name,
                str(r["fid"]), status_index.get(status, len(status_keys) - 1),
                None if is_missing(r["year"]) else str(r["year"]),
                None if is_missing(cf) else int(bool(cf)),
                None if is_missing(r["capacity"]) else f"{r['capacity']:.0f}",
                unit_index.get(r["unit"]) if isinstance(r["unit"], str) else None,
                int(bool(p)), int(bool(u)),
            ])
        kinds_spec.append({"key": kind_key, "label": kind.zh if zh else kind.en,
                           "glyph": {"symbol": kind.glyph(ctx.lang), "color": kind.color}, "rows": rows})
        is_poly = sub.geom_type.isin(["Polygon", "MultiPolygon"]).to_numpy()
        poly_name = "null"
        if is_poly.any():
            polys = sub[is_poly]
            poly = ctx.geo_layer(
                polys, styles=[{"dashArray": "5 5"} if d else {} for d in pending[is_poly]],
                style={"color": kind.color, "weight": 2, "fillColor": kind.color,
                       "fillOpacity": 0.45}, pane="cf-low")
            overlays.append(Overlay("", "", poly))  # drawn through its kind's entry below
            poly_name = poly.get_name()
        entry = JsLayer(f"L.layerGroup({poly_name} ? [{poly_name}] : [])",
                        name=f"cf_kind_{kind_key}")
        glue.append(f"{entry.get_name()}.addLayer(cf_facilities.layers[{js_json(kind_key)}]);"
                    f"cf_facilities.layers[{js_json(kind_key)}]._cfEntryGroup = "
                    f"{entry.get_name()};")
        label = kind.zh if zh else kind.en
        overlays.append(Overlay(domain_group(domains.get(kind_key, "")), label, entry,
                                show=False, kind=kind_key,
                                legend=((kind.color, label, "glyph", kind.glyph(ctx.lang)),)))
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
    # The facility data is made before the entries that hold its sub-groups: the glue runs
    # after every entry is defined (see build_map).
    js = (f"(function () {{ window.cf_facilities = cfplan.facilities({map_name}, "
          f"{js_json(spec)}); return cf_facilities; }})()")
    overlays.append(Overlay("", "", JsLayer("(function () { " + " ".join(glue) + " return null; })()",
                                            name="cf_facility_entries")))
    return overlays, js


def _service_areas(ctx: MapContext, areas: gpd.GeoDataFrame) -> list[Overlay]:
    out = []
    for kind in sorted(areas["kind"].unique()):
        sub = areas[areas["kind"] == kind].sort_values("minutes", ascending=False)
        k = FACILITY_KINDS.get(kind)
        label = (k.zh if ctx.zh else k.en) if k else kind
        styles = [{"fillColor": BAND_COLORS.get(int(r["minutes"]), "#888")}
                  for _, r in sub.iterrows()]
        layer = ctx.geo_layer(sub, styles=styles, simplify_m=BAND_SIMPLIFY_M,
                              min_hole_m2=BAND_HOLE_M2, lazy=True, pane="cf-low",
                              style={"weight": 0, "fillOpacity": 0.25})
        legend = tuple((c, ctx.t(f"步行 {m} 分钟", f"{m} min walk")) for m, c in BAND_COLORS.items())
        out.append(Overlay("access", ctx.t(f"步行圈：{label}", f"Walking bands: {label}"), layer,
                           show=False, legend=legend))
    return out


def _school_routes(ctx: MapContext) -> list[Overlay]:
    """Return the input layer's planned school routes: school and unit by name, no ids."""
    routes = ctx.layers.school_routes
    fac = ctx.layers.facilities
    schools = dict(zip(fac["fid"].astype(str), fac["name"], strict=True))
    units = dict(zip(ctx.layers.units["code"], ctx.layers.units["name"], strict=True))
    word = ctx.t("上下学路线", "School route")
    names, rows = [], []
    for _, r in routes.iterrows():
        school = r.get("school")
        unit = r.get("unit_code")
        school_name = None if is_missing(school) else schools.get(str(school), str(school))
        names.append(str(r["name"]) if not is_missing(r.get("name")) else
                     f"{word} · {school_name}" if school_name else word)
        rows.append([(ctx.t("学校", "School"), school_name),
                     (ctx.t("社区/村", "Unit"),
                      None if is_missing(unit) else units.get(str(unit), str(unit)))])
    return [Overlay("routes", ctx.t("上下学路线（输入）", "School routes (input)"), ctx.geo_layer(
        routes, names=names, rows=rows, lazy=True,
        style={"color": INPUT_ROUTE, "weight": 4, "dashArray": "8 6"}), show=False,
        legend=((INPUT_ROUTE, ctx.t("规划的上下学路线", "planned school route"), "dash"),))]


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


__all__ = ["GROUPS", "UNIT_COLORS", "JsLayer", "LayerBuilder", "MapContext", "Overlay", "build_map",
           "esc", "facility_name", "inline_assets", "offline_html", "save_map"]
