"""The reviewer's map: one self-contained Folium HTML file that draws offline."""

from __future__ import annotations

import html
import re
from pathlib import Path

import folium
import geopandas as gpd
import numpy as np
from branca.element import Element

from cfplan.analysis.evaluate import Result
from cfplan.analysis.export import unit_flags
from cfplan.analysis.indicators import target_text
from cfplan.analysis.plan import Plan
from cfplan.analysis.report import value_text
from cfplan.analysis.selection import SCENARIOS
from cfplan.geo.crs import WGS84
from cfplan.geo.io import atomic_write_text, rfc7946_geometries
from cfplan.layers.i18n import t as tr
from cfplan.layers.kinds import FACILITY_KINDS, STATUSES, UNIT_TYPES
from cfplan.layers.load import LayerSet
from cfplan.layers.schema import is_missing

STATIC = Path(__file__).parent / "static"
STATUS_COLOR = {"met": "#1a9850", "not_met": "#d73027", "unknown": "#fdae61",
                "not_assessed": "#999999"}
HOME_COLORS = {"has": "#a6d96a", "planned": "#fee08b", "none": "#f46d43"}
STREET_STYLE = {
    "primary": ("#e8590c", 4.0), "secondary": ("#f08c00", 3.0), "tertiary": ("#fab005", 2.5),
    "residential": ("#868e96", 1.5), "footway": ("#74b816", 1.0),
}
TILES = {
    "osm": ("https://tile.openstreetmap.org/{z}/{x}/{y}.png", "© OpenStreetMap contributors"),
    "tianditu": ("https://t{s}.tianditu.gov.cn/vec_w/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0"
                 "&LAYER=vec&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles&TILEMATRIX={z}"
                 "&TILEROW={y}&TILECOL={x}&tk=", "© 天地图"),
}


def esc(value: object) -> str:
    """Escape a data value for HTML (quotes included)."""
    if is_missing(value):
        return ""
    return html.escape(str(value), quote=True)


def _geojson(gdf: gpd.GeoDataFrame, props: list[dict[str, object]]) -> dict[str, object]:
    geoms = rfc7946_geometries(gdf.geometry, precision=6)
    feats = [{"type": "Feature", "properties": p, "geometry": g}
             for p, g in zip(props, geoms, strict=True) if g is not None]
    return {"type": "FeatureCollection", "features": feats}


def _popup_html(title: str, rows: list[tuple[str, object]]) -> str:
    body = "".join(f"<tr><th>{esc(k)}</th><td>{esc(v)}</td></tr>" for k, v in rows if v != "")
    return f"<b>{esc(title)}</b><table class='cf-pop'>{body}</table>"


def _add_geojson_layer(
    group: folium.FeatureGroup, data: dict[str, object], *, style: dict[str, object],
    popup_key: str | None = "popup",
) -> None:
    """Add a GeoJSON layer whose per-feature style and escaped popup HTML live in properties."""
    layer = folium.GeoJson(
        data,
        style_function=lambda f, base=style: {**base, **f["properties"].get("style", {})},
        highlight_function=None,
        popup=folium.GeoJsonPopup(fields=[popup_key], labels=False) if popup_key else None,
        tooltip=folium.GeoJsonTooltip(fields=["label"], labels=False)
        if data["features"] and "label" in data["features"][0]["properties"] else None,
    )
    layer.add_to(group)


def _home_state(row: object) -> str:
    if row["has_children_home"]:
        return "has"
    return "planned" if row["has_children_home_planned"] else "none"


def build_map(
    plan: Plan,
    layers: LayerSet,
    results: list[Result],
    *,
    lang: str = "zh",
    streets: gpd.GeoDataFrame | None = None,
    water: gpd.GeoDataFrame | None = None,
    service_areas: gpd.GeoDataFrame | None = None,
    tiles: str | None = None,
    tianditu_key: str = "",
) -> folium.Map:
    """Build the interactive map.

    Layers: district and subdistrict outlines, units coloured by 儿童之家 status,
    each facility kind with its own colour and glyph and a popup, streets and water
    when given, walking service areas when given; a layer control, a legend, a
    panel of targets (as things stand and once planned is done) and, for synthetic
    data, a banner saying so. Leaflet is inlined, so vector layers draw with no
    network; tile basemaps are optional (``tiles="osm"`` or ``"tianditu"``).

    Returns
    -------
    folium.Map
        The map; save it with :func:`save_map`.
    """
    zh = lang == "zh"
    bounds = layers.district.to_crs(WGS84).total_bounds
    m = folium.Map(location=[(bounds[1] + bounds[3]) / 2, (bounds[0] + bounds[2]) / 2],
                   zoom_start=14, tiles=None, control_scale=True, prefer_canvas=False)
    m.fit_bounds([[bounds[1], bounds[0]], [bounds[3], bounds[2]]])
    if tiles:
        url, attr = TILES[tiles]
        if tiles == "tianditu":
            url += tianditu_key
        folium.TileLayer(url, attr=attr, name="底图" if zh else "Basemap",
                         subdomains="01234567" if tiles == "tianditu" else "abc").add_to(m)

    # Units coloured by 儿童之家 status.
    flags = unit_flags(layers, results)
    group = folium.FeatureGroup(name="社区/村：儿童之家" if zh else "Units: children's home")
    props = []
    home_text = {"has": ("已有儿童之家", "has a children's home"),
                 "planned": ("仅有规划", "planned only"), "none": ("没有儿童之家", "none")}
    for _, row in flags.iterrows():
        state = _home_state(row)
        utype = UNIT_TYPES.get(row["unit_type"], ("", "", ()))
        rows = [
            ("编码" if zh else "Code", row["code"]),
            ("类型" if zh else "Type", utype[0] if zh else utype[1]),
            ("人口" if zh else "Population", f"{row['population']:.0f}"),
            ("儿童" if zh else "Children",
             "" if np.isnan(row["children"]) else f"{row['children']:.0f}"),
            ("儿童之家" if zh else "Children's home", home_text[state][0 if zh else 1]),
            ("托位" if zh else "Childcare places", f"{row['childcare_places']:.0f}"),
            ("现状未达标" if zh else "Fails now", row["fails_current"]),
            ("规划后未达标" if zh else "Fails once planned", row["fails_planned"]),
        ]
        props.append({"popup": _popup_html(str(row["name"]), rows), "label": esc(row["name"]),
                      "style": {"fillColor": HOME_COLORS[state]}})
    _add_geojson_layer(group, _geojson(flags, props),
                       style={"color": "#555", "weight": 1, "fillOpacity": 0.45})
    group.add_to(m)

    # Outlines.
    sd = layers.subdistricts
    if not sd.empty:
        group = folium.FeatureGroup(name=esc(plan.subdistrict_term) if zh else "Subdistricts")
        props = [{"popup": _popup_html(str(r["name"]), [("编码" if zh else "Code", r["code"])]),
                  "label": esc(r["name"])} for _, r in sd.iterrows()]
        _add_geojson_layer(group, _geojson(sd, props),
                           style={"color": "#1c3d5a", "weight": 3, "fill": False,
                                  "dashArray": "6 4"})
        group.add_to(m)
    group = folium.FeatureGroup(name="区界" if zh else "District boundary")
    _add_geojson_layer(group, _geojson(layers.district, [{} for _ in range(len(layers.district))]),
                       style={"color": "#000", "weight": 4, "fill": False}, popup_key=None)
    group.add_to(m)

    if water is not None and not water.empty:
        group = folium.FeatureGroup(name="水系/铁路" if zh else "Water and rail")
        _add_geojson_layer(group, _geojson(water, [{} for _ in range(len(water))]),
                           style={"color": "#1c7ed6", "weight": 3, "fillColor": "#74c0fc",
                                  "fillOpacity": 0.8}, popup_key=None)
        group.add_to(m)

    if streets is not None and not streets.empty:
        label = "街道（合成）" if layers.synthetic and zh else "街道" if zh else (
            "Streets (synthetic)" if layers.synthetic else "Streets")
        group = folium.FeatureGroup(name=label)
        props = []
        for _, r in streets.iterrows():
            hw = r.get("highway")
            hw = hw[0] if isinstance(hw, list) else hw
            color, weight = STREET_STYLE.get(str(hw), ("#adb5bd", 1.0))
            name = r.get("name")
            name = name[0] if isinstance(name, list) else name
            text = " · ".join(esc(v) for v in (name, hw, r.get("maxspeed"), r.get("sidewalk"))
                              if isinstance(v, str))
            props.append({"label": text, "style": {"color": color, "weight": weight}})
        _add_geojson_layer(group, _geojson(streets, props), style={"opacity": 0.9},
                           popup_key=None)
        group.add_to(m)

    if service_areas is not None and not service_areas.empty:
        _add_service_areas(m, service_areas, zh=zh)

    _add_facilities(m, layers, zh=zh)
    folium.LayerControl(collapsed=True).add_to(m)
    m.get_root().html.add_child(Element(_legend_html(layers, zh=zh)))
    m.get_root().html.add_child(Element(_panel_html(plan, results, lang=lang)))
    if layers.synthetic:
        banner = ("合成数据：示范区不是真实地点，街道为虚构" if zh
                  else "Synthetic data: the demo district and its streets are not real")
        m.get_root().html.add_child(Element(f"<div class='cf-banner'>{esc(banner)}</div>"))
    m.get_root().header.add_child(Element(f"<style>{_CSS}</style>"))
    return m


def _add_service_areas(m: folium.Map, areas: gpd.GeoDataFrame, *, zh: bool) -> None:
    band_color = {5: "#2b8a3e", 10: "#74b816", 15: "#d9480f"}
    for kind in sorted(areas["kind"].unique()):
        sub = areas[areas["kind"] == kind].sort_values("minutes", ascending=False)
        sub = sub.set_geometry(sub.geometry.simplify(2.0))  # metres; keeps the file small
        k = FACILITY_KINDS.get(kind)
        label = (k.zh if zh else k.en) if k else kind
        group = folium.FeatureGroup(
            name=f"步行圈：{label}" if zh else f"Walking bands: {label}", show=False)
        props = [{"label": esc(f"{label} {int(r['minutes'])} 分钟" if zh
                               else f"{label} {int(r['minutes'])} min"),
                  "style": {"fillColor": band_color.get(int(r["minutes"]), "#888")}}
                 for _, r in sub.iterrows()]
        _add_geojson_layer(group, _geojson(sub, props),
                           style={"weight": 0, "fillOpacity": 0.25}, popup_key=None)
        group.add_to(m)


def _add_facilities(m: folium.Map, layers: LayerSet, *, zh: bool) -> None:
    """One group per kind: polygons, and glyph markers (dashed when not yet built)."""
    fac = layers.facilities
    if fac.empty:
        return
    units = dict(zip(layers.units["code"], layers.units["name"], strict=True))
    for kind_key in [k for k in FACILITY_KINDS if k in set(fac["kind"])]:
        kind = FACILITY_KINDS[kind_key]
        group = folium.FeatureGroup(name=f"{kind.zh if zh else kind.en}")
        sub = fac[fac["kind"] == kind_key]
        is_poly = sub.geom_type.isin(["Polygon", "MultiPolygon"]).to_numpy()
        pending = (sub["status"].isna() | sub["status"].isin(["planned", "under_construction"])
                   ).to_numpy()
        polys = sub[is_poly]
        if not polys.empty:
            props = [{"popup": _facility_popup(r, kind, units, zh=zh), "label": esc(r["name"]),
                      "style": {"dashArray": "5 5"} if p else {}}
                     for (_, r), p in zip(polys.iterrows(), pending[is_poly], strict=True)]
            _add_geojson_layer(group, _geojson(polys, props),
                               style={"color": kind.color, "weight": 2, "fillColor": kind.color,
                                      "fillOpacity": 0.5})
        for dashed in (False, True):
            pts = sub[~is_poly & (pending == dashed)]
            if pts.empty:
                continue
            fill, text = ("#fff", kind.color) if dashed else (kind.color, "#fff")
            border = "dashed" if dashed else "solid"
            icon = folium.DivIcon(
                html=(f"<div class='cf-ico' style='background:{fill};color:{text};"
                      f"border:2px {border} {kind.color}'>{esc(kind.glyph('zh' if zh else 'en'))}</div>"),
                icon_size=(22, 22), icon_anchor=(11, 11))
            props = [{"popup": _facility_popup(r, kind, units, zh=zh), "label": esc(r["name"])}
                     for _, r in pts.iterrows()]
            folium.GeoJson(
                _geojson(pts, props), marker=folium.Marker(icon=icon),
                popup=folium.GeoJsonPopup(fields=["popup"], labels=False),
                tooltip=folium.GeoJsonTooltip(fields=["label"], labels=False),
            ).add_to(group)
        group.add_to(m)


def _facility_popup(r: object, kind: object, units: dict[str, str], *, zh: bool) -> str:
    status = r["status"] if isinstance(r["status"], str) else None
    st = STATUSES.get(status, ("未知", "unknown", ()))
    cf = r["child_friendly"]
    cf_text = "" if is_missing(cf) else (("是" if cf else "否") if zh else
                                          ("yes" if cf else "no"))
    year = r["year"]
    rows = [
        ("类别" if zh else "Kind", kind.zh if zh else kind.en),
        ("编号" if zh else "Id", r["fid"]),
        ("状态" if zh else "Status", st[0] if zh else st[1]),
        ("年份" if zh else "Year", "" if is_missing(year) else str(year)),
        ("儿童友好" if zh else "Child-friendly", cf_text),
        ("托位/容量" if zh else "Capacity",
         "" if is_missing(r["capacity"]) else f"{r['capacity']:.0f}"),
        ("所属社区/村" if zh else "Unit", units.get(r["unit"], "") if isinstance(r["unit"], str)
         else ("不在任何社区内" if zh else "in no unit")),
    ]
    return _popup_html(str(r["name"]), rows)


def _legend_html(layers: LayerSet, *, zh: bool) -> str:
    kinds = [k for k in FACILITY_KINDS.values() if k.key in set(layers.facilities["kind"])]
    items = "".join(
        f"<div><span class='cf-ico cf-sm' style='background:{k.color}'>{esc(k.glyph('zh' if zh else 'en'))}</span>"
        f"{esc(k.zh if zh else k.en)}</div>" for k in kinds)
    homes = "".join(
        f"<div><span class='cf-sw' style='background:{c}'></span>{esc(t)}</div>"
        for c, t in zip(HOME_COLORS.values(),
                        (("已有儿童之家", "仅规划", "没有儿童之家") if zh
                         else ("Children's home", "Planned only", "None")), strict=True))
    pending = ("虚线框：在建/规划" if zh else "Dashed: under construction or planned")
    title = "图例" if zh else "Legend"
    return (f"<div class='cf-legend'><b>{title}</b>{homes}<hr>{items}<hr>"
            f"<div>{esc(pending)}</div></div>")


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
            short = ""
            if first is not None:
                short = first.shortfall.get(lang)
            rows.append(
                f"<tr><td>{esc(t.item)}</td><td title='{esc(t.text('wording', lang))}'>"
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
    title = esc(plan.name if zh else plan.name_en)
    return (f"<details class='cf-panel' open><summary><b>{title}</b><br><small>{esc(summary)}"
            f"</small></summary><div class='cf-scroll'><table><tr>{head}</tr>{''.join(rows)}"
            "</table></div></details>")


_CSS = """
.cf-banner{position:fixed;top:8px;left:50%;transform:translateX(-50%);z-index:1000;
 background:#fff3bf;border:2px solid #f08c00;padding:4px 12px;font:bold 14px sans-serif}
.cf-legend{position:fixed;bottom:24px;right:10px;z-index:1000;background:#fff;padding:8px;
 font:12px sans-serif;max-height:45vh;overflow:auto;border:1px solid #999;border-radius:4px}
.cf-panel{position:fixed;top:80px;left:10px;z-index:1000;background:#fff;padding:6px;
 font:12px sans-serif;width:400px;border:1px solid #999;border-radius:4px}
.cf-scroll{max-height:60vh;overflow:auto}
.cf-panel table{border-collapse:collapse;width:100%}
.cf-panel td,.cf-panel th{border-bottom:1px solid #eee;padding:2px 4px;vertical-align:top}
.cf-sec{background:#f1f3f5;text-align:left}
.cf-dot{display:inline-block;width:9px;height:9px;border-radius:50%;margin-right:3px}
.cf-ico{width:18px;height:18px;border-radius:50%;font:bold 11px/18px sans-serif;
 text-align:center;box-shadow:0 0 2px #333}
.cf-sm{display:inline-block;width:16px;height:16px;line-height:16px;margin-right:4px;color:#fff}
.cf-sw{display:inline-block;width:14px;height:10px;margin-right:4px;border:1px solid #555}
.cf-pop th{text-align:left;padding-right:6px;color:#555}
"""


def _inline_images(css: str) -> str:
    """Replace Leaflet's ``url(images/x.png)`` with data URIs (the layer-control icon)."""
    import base64

    def data_uri(match: re.Match[str]) -> str:
        png = (STATIC / "images" / match.group(1)).read_bytes()
        return f"url(data:image/png;base64,{base64.b64encode(png).decode('ascii')})"

    return re.sub(r"url\(images/([\w.-]+\.png)\)", data_uri, css)


def offline_html(m: folium.Map) -> str:
    """Render ``m`` to HTML with Leaflet inlined and every CDN reference removed.

    Returns
    -------
    str
        A self-contained HTML document: no ``<script src>`` or stylesheet link to
        the network, so vector layers draw on an intranet with no internet.
    """
    m.default_js = []
    m.default_css = []
    root = m.get_root()
    js = (STATIC / "leaflet.js").read_text(encoding="utf-8")
    css = _inline_images((STATIC / "leaflet.css").read_text(encoding="utf-8"))
    root.header.add_child(Element(f"<style>{css}</style>"), name="leaflet_css_inline", index=0)
    root.header.add_child(Element(f"<script>{js}</script>"), name="leaflet_js_inline", index=1)
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


__all__ = ["build_map", "esc", "offline_html", "save_map"]
