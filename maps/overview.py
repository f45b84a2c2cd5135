"""The city overview map: every district's outline coloured by its share of targets met."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import folium
import geopandas as gpd
import numpy as np
import pandas as pd

from cfplan.analysis.selection import SCENARIOS
from cfplan.geo.crs import WGS84
from cfplan.geo.io import rfc7946_geometries
from cfplan.layers.i18n import t
from cfplan.maps.plan_map import esc
from cfplan.maps.safe_render import RawHtml, safe_map

# Share of assessed targets met, as things stand: [low, high) -> colour (red to green).
SHARE_CLASSES = ((0.0, 0.25, "#d73027"), (0.25, 0.5, "#fc8d59"), (0.5, 0.75, "#fee08b"),
                 (0.75, 1.0, "#91cf60"), (1.0, 1.01, "#1a9850"))
NO_SHARE_COLOR = "#bdbdbd"
COUNTED = ("met", "not_met", "unknown", "not_assessed")


def share_color(share: float | None) -> str:
    """Return the fill colour for a share of targets met (0–1); grey when unknown."""
    if share is None or not np.isfinite(share):
        return NO_SHARE_COLOR
    for low, high, color in SHARE_CLASSES:
        if low <= share < high:
            return color
    return SHARE_CLASSES[-1][2]


def district_link(name: str) -> str:
    """Return the relative link from the overview to a district's map: ``<name>/map.html``."""
    return f"{quote(name)}/map.html"


def _counts_html(row: pd.Series, lang: str) -> str:
    sep = "、" if lang == "zh" else ", "
    cells = []
    for s in SCENARIOS:
        parts = [f"{t(f'status.{k}', lang=lang)} {int(row[f'{k}_{s}'])}" if lang == "zh"
                 else f"{int(row[f'{k}_{s}'])} {t(f'status.{k}', lang=lang)}" for k in COUNTED]
        cells.append(f"<tr><th>{esc(t(f'scenario.{s}', lang=lang))}</th>"
                     f"<td>{esc(sep.join(parts))}</td></tr>")
    return "".join(cells)


def _popup(row: pd.Series, lang: str) -> str:
    zh = lang == "zh"
    share = row["share_met_current"]
    share_text = "—" if pd.isna(share) else f"{100 * share:.0f}%"
    label = "现状达成率（不含未评估）" if zh else "Share met now (assessed targets)"
    link = (f"<a href='{esc(district_link(row['district']))}' target='_blank'>"
            f"{esc('打开区县地图' if zh else 'Open the district map')}</a>")
    return (f"<b>{esc(row['district'])}</b><table class='cf-pop'>"
            f"<tr><th>{esc(label)}</th><td>{esc(share_text)}</td></tr>"
            f"{_counts_html(row, lang)}</table>{link}")


def overview_map(districts: gpd.GeoDataFrame, *, lang: str = "zh") -> folium.Map:
    """Build the city overview: one outline per district, coloured by its share of targets met.

    Parameters
    ----------
    districts
        One row per district: ``district``, ``status`` (``ok`` or ``failed``), ``error``,
        ``share_met_current`` (0–1, or NaN) and ``{met,not_met,unknown,not_assessed}_{current,
        planned}`` counts, with the district's outline as geometry (any CRS; missing for
        a district that failed before its layers loaded).
    lang
        ``"zh"`` or ``"en"``.

    Returns
    -------
    folium.Map
        The map: each outline's popup holds the counts in both scenarios and a relative
        link to ``<district>/map.html``; failed districts are listed in a panel with their
        error. Save it with :func:`cfplan.maps.plan_map.save_map` (offline, Leaflet inlined).
    """
    zh = lang == "zh"
    drawn = districts[districts.geometry.notna() & ~districts.geometry.is_empty
                      & (districts["status"] == "ok")]
    if drawn.empty:
        m = safe_map(location=[34.75, 113.65], zoom_start=9, tiles=None, control_scale=True)
    else:
        bounds = drawn.to_crs(WGS84).total_bounds
        m = safe_map(location=[(bounds[1] + bounds[3]) / 2, (bounds[0] + bounds[2]) / 2],
                     zoom_start=11, tiles=None, control_scale=True)
        m.fit_bounds([[bounds[1], bounds[0]], [bounds[3], bounds[2]]])
        feats = []
        for (_, row), geom in zip(drawn.iterrows(), rfc7946_geometries(drawn.geometry,
                                                                          precision=6),
                                  strict=True):
            if geom is None:
                continue
            feats.append({"type": "Feature", "geometry": geom, "properties": {
                "label": esc(row["district"]), "popup": _popup(row, lang),
                "style": {"fillColor": share_color(row["share_met_current"])}}})
        group = folium.FeatureGroup(name="区县" if zh else "Districts")
        folium.GeoJson(
            {"type": "FeatureCollection", "features": feats},
            style_function=lambda f: {"color": "#333", "weight": 2, "fillOpacity": 0.6,
                                      **f["properties"]["style"]},
            popup=folium.GeoJsonPopup(fields=["popup"], labels=False),
            tooltip=folium.GeoJsonTooltip(fields=["label"], labels=False),
        ).add_to(group)
        for _, row in drawn.to_crs(WGS84).iterrows():  # a name on each district
            at = row.geometry.representative_point()
            folium.Marker([at.y, at.x], icon=folium.DivIcon(
                html=f"<div class='cf-name'>{esc(row['district'])}</div>",
                icon_size=(120, 18), icon_anchor=(60, 9))).add_to(group)
        group.add_to(m)
    ok = int((districts["status"] == "ok").sum())
    title = (f"城市总览：{len(districts)} 个区县，{ok} 个完成，{len(districts) - ok} 个失败" if zh
             else f"City overview: {len(districts)} districts, {ok} done, "
                  f"{len(districts) - ok} failed")
    root: Any = m.get_root()  # a branca Figure: html and header children
    root.html.add_child(RawHtml(f"<div class='cf-title'>{esc(title)}</div>"))
    root.html.add_child(RawHtml(_legend_html(districts, zh=zh)))
    root.header.add_child(RawHtml(f"<style>{_CSS}</style>"))
    return m


def _legend_html(districts: gpd.GeoDataFrame, *, zh: bool) -> str:
    title = "现状目标达成率" if zh else "Share of targets met now"
    rows = "".join(
        f"<div><span class='cf-sw' style='background:{c}'></span>"
        f"{esc(f'{100 * lo:.0f}%' if hi > 1 else f'{100 * lo:.0f}–{100 * hi:.0f}%')}</div>"
        for lo, hi, c in SHARE_CLASSES)
    failed = districts[districts["status"] != "ok"]
    items = ""
    if not failed.empty:
        head = "未完成的区县" if zh else "Districts that failed"
        items = f"<hr><b>{esc(head)}</b>" + "".join(
            f"<div class='cf-err'><b>{esc(r['district'])}</b>：{esc(r['error'])}</div>" if zh
            else f"<div class='cf-err'><b>{esc(r['district'])}</b>: {esc(r['error'])}</div>"
            for _, r in failed.iterrows())
    note = ("不含未评估的目标；点击区县打开其地图" if zh
            else "Targets not assessed are left out; click a district to open its map")
    return (f"<div class='cf-legend'><b>{esc(title)}</b>{rows}<small>{esc(note)}</small>"
            f"{items}</div>")


_CSS = """
.cf-legend{position:fixed;bottom:24px;right:10px;z-index:1000;background:#fff;padding:8px;
 font:12px sans-serif;max-height:60vh;max-width:360px;overflow:auto;border:1px solid #999;
 border-radius:4px}
.cf-sw{display:inline-block;width:14px;height:10px;margin-right:4px;border:1px solid #555}
.cf-title{position:fixed;top:8px;left:50%;transform:translateX(-50%);z-index:1000;
 background:#fff;border:1px solid #999;border-radius:4px;padding:4px 12px;font:bold 14px sans-serif}
.cf-name{text-align:center;font:bold 13px sans-serif;color:#222;text-shadow:0 0 3px #fff}
.cf-err{margin-top:4px;color:#a61e1e}
.cf-pop th{text-align:left;padding-right:6px;color:#555}
"""


__all__ = ["SHARE_CLASSES", "district_link", "overview_map", "share_color"]
