"""The map: one offline HTML file, data strings escaped, every layer and panel present."""

from __future__ import annotations

import dataclasses
import json
import re

import pytest
from conftest import make_folder

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


def test_map_layers_legend_panel_and_banner(demo_html):
    assert "L.control.layers(" in demo_html
    for name in ("社区/村：儿童之家", "办事处", "区界", "街道（合成）", "未成年人保护工作站", "公园",
                 "托育机构", "图例", "空间目标", "填报指标"):
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
    assert "<b onmouseover" not in html and "\\u003cb onmouseover" not in html
    assert EVIL not in html
    assert "<img src=x" not in html
    assert "&lt;script&gt;" in html


def test_english_map(tmp_path):
    units = [{"code": "U1", "name": "甲社区", "box": (0, 0, 500, 500)}]
    layers = load_layers(make_folder(tmp_path / "l", units, []))
    plan = load_plan(PLANS_DIR / "shangjie.toml")
    html = offline_html(build_map(plan, layers, evaluate_plan(plan, layers), lang="en"))
    assert r"Units: children\u0027s home" in html
    assert "Spatial targets" in html and "Legend" in html
