"""The map: one offline HTML file, data strings escaped, every layer and panel present."""

from __future__ import annotations

import dataclasses
import json
import math
import re

import pytest
from conftest import gcj02_point, make_folder

from cfplan.analysis.evaluate import evaluate_plan
from cfplan.analysis.plan import PLANS_DIR, load_plan
from cfplan.layers.load import load_layers
from cfplan.maps.plan_map import build_map, offline_html

EVIL = '<script>alert("x")</script>'


def has(html: str, text: str) -> bool:
    """Text appears in the page, as HTML or inside a JSON string (layer names are JSON)."""
    return text in html or json.dumps(text)[1:-1] in html


@pytest.fixture(scope="module")
def demo_html(demo_run, demo_out):
    return (demo_out / "map.html").read_text(encoding="utf-8")


def test_map_has_no_network_dependency(demo_html):
    assert not re.search(r"<script[^>]+src=", demo_html)
    assert not re.search(r"<link[^>]+href=\"https?:", demo_html)
    assert "L.map(" in demo_html and "Leaflet" in demo_html  # leaflet inlined
    assert "$(" not in demo_html.split("</head>")[1]  # no jQuery needed in the body
    assert "url(images/" not in demo_html  # the layer-control icon is a data URI
    assert "url(data:image/png;base64," in demo_html
    # No style sheet asks for an image file.
    styles = "".join(re.findall(r"<style>(.*?)</style>", demo_html, flags=re.S))
    assert "leaflet-control-layers" in styles and "marker-cluster" in styles
    assert not re.search(r"url\((?!['\"]?(data:|#))[^)]*\)", styles)
    # Every plugin is inlined: marker clusters, sub-groups, search, fullscreen, measure.
    for marker in ("L.MarkerClusterGroup", "Leaflet.FeatureGroup.SubGroup", "L.Control.Search",
                   "leaflet-control-zoom-fullscreen", "L.Control.Measure", "window.cfplan"):
        assert marker in demo_html, marker
    assert "<title>示范区（合成数据） · 郑州经开区" in demo_html


def test_map_layers_legend_panel_and_banner(demo_html):
    assert "cfplan.layerControl(" in demo_html and "cfplan.selector(" in demo_html
    for name in ("社区/村（按所选目标着色）", "办事处", "区界", "街道（合成）", "未成年人保护工作站",
                 "公园", "托育机构", "图例", "空间目标", "填报指标", "底图", "行政区划",
                 "设施 · 公共服务友好", "可达性", "上下学路径", "缺口", "步行圈：公园",
                 "未达标的规划目标数"):
        assert has(demo_html, name), name
    assert "合成数据：示范区不是真实地点" in demo_html
    assert "缺 2 个未成年人保护工作站：白杨办事处、望湖办事处" in demo_html


def test_map_is_deterministic(demo_run, tmp_path, demo_out):
    from cfplan.pipeline import run_demo

    run_demo(tmp_path, access=demo_run.access is not None)
    assert (tmp_path / "map.html").read_bytes() == (demo_out / "map.html").read_bytes()


def test_data_strings_are_escaped(tmp_path):
    units = [{"code": "U1", "name": EVIL, "sd": "S1", "box": (0, 0, 500, 500)}]
    sds = [{"code": "S1", "name": EVIL, "box": (0, 0, 500, 500)}]
    fac = [{"编号": "F1", "名称": EVIL, "类别": "儿童之家", "状态": "现状", "x": 100, "y": 100},
           {"编号": "F2", "名称": "<img src=x onerror=alert(1)>", "类别": "公园", "x": 200,
            "y": 200}]
    layers = load_layers(make_folder(tmp_path / "l", units, fac, sds))
    assert len(layers.subdistricts) == 1
    plan = load_plan(PLANS_DIR / "jingkai.toml")
    plan = dataclasses.replace(plan, subdistrict_term='<b onmouseover="alert(3)">办事处</b>')
    html = offline_html(build_map(plan, layers, evaluate_plan(plan, layers)))
    # Data text reaches the page only as escaped JSON (set as text by the page, see the
    # browser test) or as escaped HTML in the panels: never as markup.
    assert "<b onmouseover" not in html
    assert EVIL not in html
    assert "<img src=x" not in html
    assert "\\u003cimg src=x onerror=alert(1)\\u003e" in html


def test_english_map(tmp_path):
    units = [{"code": "U1", "name": "甲社区", "box": (0, 0, 500, 500)}]
    layers = load_layers(make_folder(tmp_path / "l", units, []))
    plan = load_plan(PLANS_DIR / "shangjie.toml")
    html = offline_html(build_map(plan, layers, evaluate_plan(plan, layers), lang="en"))
    assert has(html, "Units (coloured by the selection)") and "Colour units by target" in html
    assert "Spatial targets" in html and "Legend" in html
    assert "<title>测试区 · " in html


# --------------------------------------------------------------------------- 高德 (GCJ-02)


def tile_pixel(lon: float, lat: float, zoom: int) -> tuple[int, int]:
    """Web-Mercator global pixel (256-px tiles) of a lon/lat at ``zoom``."""
    n = 256 * 2 ** zoom
    x = (lon + 180.0) / 360.0 * n
    y = (1 - math.log(math.tan(math.radians(lat)) + 1 / math.cos(math.radians(lat))) / math.pi) / 2 * n
    return int(x), int(y)


def drawn_at(html: str, fid: str) -> tuple[float, float]:
    """Where the page draws facility ``fid``: its row in the facility data."""
    m = re.search(r"\[(-?[\d.]+),(-?[\d.]+),\"[^\"]*\",\"" + re.escape(fid) + r"\"", html)
    assert m, fid
    return float(m.group(1)), float(m.group(2))


def test_amap_tiles_shift_the_display_copy_only(demo_run, tmp_path):
    from cfplan.maps.plan_map import save_map

    p05 = demo_run.layers.facilities.set_index("fid").loc[["P05"]].to_crs("EPSG:4326").geometry
    lon, lat = float(p05.iloc[0].x), float(p05.iloc[0].y)
    amap = offline_html(demo_run.map(tiles="amap"))
    assert "webrd0{s}.is.autonavi.com" in amap
    shown = drawn_at(amap, "P05")
    glon, glat = gcj02_point(lon, lat)
    for zoom in (12, 16, 18):  # the same tile pixel as the independently computed GCJ-02 point
        assert tile_pixel(*shown, zoom) == tile_pixel(glon, glat, zoom)
    plain = drawn_at(offline_html(demo_run.map()), "P05")
    assert tile_pixel(*plain, 18) == tile_pixel(lon, lat, 18)
    assert tile_pixel(*plain, 16) != tile_pixel(*shown, 16)  # ≈ 570 m apart
    # Exports and analysis data are never shifted.
    demo_run.write(tmp_path, tiles="amap")
    assert (tmp_path / "map.html").read_text(encoding="utf-8").count("autonavi") >= 1
    fc = json.loads((tmp_path / "layers" / "facilities.geojson").read_text(encoding="utf-8"))
    exported = next(f for f in fc["features"] if f["properties"]["fid"] == "P05")
    assert exported["geometry"]["coordinates"] == pytest.approx([lon, lat], abs=1e-7)
    assert demo_run.layers.facilities.crs.to_epsg() == 4547
    save_map(demo_run.map(), tmp_path / "again.html")  # the assessment itself is untouched
    assert drawn_at((tmp_path / "again.html").read_text(encoding="utf-8"), "P05") == plain


def test_map_builds_with_extra_layers_and_without(demo_run):
    """Proposed sites and routes come in through layer builders, each in its group."""
    import geopandas as gpd
    from shapely.geometry import Point

    from cfplan.maps.plan_map import Overlay

    sites = gpd.GeoDataFrame({"name": ["拟建幼儿园 A", EVIL]},
                             geometry=[Point(113.80, 34.72), Point(113.81, 34.72)], crs="EPSG:4326")

    def site_layers(ctx):
        layer = ctx.geo_layer(sites, names=list(sites["name"]),
                              rows=[[(ctx.t("类别", "Kind"), ctx.t("建议选址", "Proposed"))]] * 2,
                              glyph=("选", "#c2255c"), searchable=True)
        yield Overlay("siting", ctx.t("建议选址：幼儿园", "Proposed: kindergartens"), layer,
                      legend=(("#c2255c", ctx.t("建议选址", "Proposed site")),))

    html = offline_html(demo_run.map(extra_layers=[site_layers]))
    assert has(html, "建议选址：幼儿园") and has(html, "选址") and "拟建幼儿园 A" in html
    assert EVIL not in html
    assert '"key": "siting"' in html or "key: \"siting\"" in html
    plain = offline_html(demo_run.map())
    assert "拟建幼儿园 A" not in plain and "key: \"siting\"" not in plain
