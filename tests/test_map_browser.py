"""The map in a real headless Chromium with the network off: it draws, and a reviewer can use it.

Driven over the DevTools protocol (``cfplan.maps.headless``): no request may leave the page,
no script error, no dialog. The test toggles a layer group, searches, switches the target
selector, opens popups, checks that no two panels overlap at two screen sizes, and loads a
map whose facility, unit and 办事处 names are hostile.
"""

from __future__ import annotations

import dataclasses
import json
import time

import pytest

from cfplan.analysis.evaluate import evaluate_plan
from cfplan.demo import DEMO_DIR
from cfplan.layers.load import load_layers
from cfplan.layers.streets import load_streets
from cfplan.maps.headless import Chromium
from cfplan.maps.plan_map import build_map, save_map

EVIL_IMG = "<img src=x onerror=alert(1)>"
EVIL_SCRIPT = '"><script>alert(2)</script>'
EVIL_FORMULA = '=HYPERLINK("http://example.invalid","x")'
PANELS = ("#cf-panel", "#cf-legend", "#cf-layers", "#cf-selector", ".cf-banner",
          ".leaflet-control-zoom", ".leaflet-control-search", ".leaflet-control-measure",
          ".leaflet-control-scale", ".leaflet-control-attribution")


@pytest.fixture(scope="module")
def page(demo_run, demo_out):
    with Chromium(width=1600, height=1000) as browser:
        browser.open(demo_out / "map.html")
        browser.wait_for("document.querySelectorAll('.leaflet-marker-icon').length > 0")
        yield browser


def clean(browser: Chromium) -> None:
    assert browser.remote_requests() == []
    assert browser.errors == []
    assert browser.dialogs == []


def test_map_draws_offline_without_errors(page, demo_run):
    clean(page)
    assert page.eval("document.title").startswith("示范区（合成数据） · 郑州经开区")
    # Clustered at district zoom: fewer icons than facilities, every facility counted.
    icons = page.eval("document.querySelectorAll('.leaflet-marker-icon').length")
    clusters = page.eval("document.querySelectorAll('.cf-cluster').length")
    assert 0 < clusters < icons < len(demo_run.layers.facilities)
    assert shown_facilities(page) == len(demo_run.layers.facilities)
    assert page.eval("document.querySelectorAll('path.leaflet-interactive').length") > len(
        demo_run.layers.units)
    assert "合成数据：示范区不是真实地点" in page.eval("document.body.textContent")
    # Metric-only scale bar; fullscreen, measure and search controls.
    assert page.eval("document.querySelectorAll('.leaflet-control-scale-line').length") == 1
    assert page.eval("document.querySelector('.leaflet-control-scale-line').textContent"
                     ).endswith(("m", "km"))
    for sel in (".leaflet-control-zoom-fullscreen", ".leaflet-control-measure",
                ".leaflet-control-search"):
        assert page.eval(f"!!document.querySelector('{sel}')"), sel


def test_markers_spread_at_street_zoom(page, demo_run):
    page.eval("(function(){var m = cf_facilities.cluster._map; m.setView(m.getCenter(), 16,"
              " {animate: false}); return true;})()")
    page.wait_for("document.querySelectorAll('.cf-cluster').length === 0")
    settled(page)
    assert page.eval("document.querySelectorAll('.cf-marker').length") > 0
    # No two glyphs overlap at street zoom (facilities stand >= 70 m apart).
    overlap = page.eval("""(function(){
      var r = Array.from(document.querySelectorAll('.cf-marker')).map(e => e.getBoundingClientRect())
        .filter(b => b.right > 0 && b.bottom > 0 && b.left < innerWidth && b.top < innerHeight);
      var n = 0;
      for (var i = 0; i < r.length; i++) for (var j = i + 1; j < r.length; j++)
        if (r[i].left + 4 < r[j].right && r[j].left + 4 < r[i].right &&
            r[i].top + 4 < r[j].bottom && r[j].top + 4 < r[i].bottom) n++;
      return n;})()""")
    assert overlap == 0
    page.eval("(function(){var m = cf_facilities.cluster._map; m.setZoom(14, {animate: false});"
              " return true;})()")
    page.wait_for("document.querySelectorAll('.cf-cluster').length > 0")
    settled(page)
    clean(page)


def boxes(browser: Chromium) -> dict[str, list[float]]:
    return browser.eval("(function(){var out = {};" + "".join(
        f"document.querySelectorAll({json.dumps(sel)}).forEach(function(e, i){{"
        "var r = e.getBoundingClientRect(); if (r.width && r.height) "
        f"out[{json.dumps(sel)} + i] = [r.left, r.top, r.right, r.bottom];}});"
        for sel in PANELS) + "return out;})()")


def overlaps(rects: dict[str, list[float]]) -> list[tuple[str, str]]:
    names = sorted(rects)
    return [(a, b) for i, a in enumerate(names) for b in names[i + 1:]
            if rects[a][0] < rects[b][2] and rects[b][0] < rects[a][2]
            and rects[a][1] < rects[b][3] and rects[b][1] < rects[a][3]]


@pytest.mark.parametrize("size", [(1600, 1000), (1280, 720)])
def test_panels_never_overlap(page, size):
    page.resize(*size)
    page.eval("window.dispatchEvent(new Event('resize')); true")
    for collapsed in (False, True, False):
        page.eval(f"""document.querySelectorAll('#cf-panel, #cf-legend, #cf-layers').forEach(
            function (e) {{ e.classList.toggle('cf-collapsed', {str(collapsed).lower()}); }}); true""")
        rects = boxes(page)
        assert {"#cf-panel0", "#cf-legend0", "#cf-layers0", "#cf-selector0"} <= set(rects)
        for r in rects.values():  # every panel inside the window
            assert r[0] >= 0 and r[1] >= 0 and r[2] <= size[0] and r[3] <= size[1], rects
        assert overlaps(rects) == [], (size, collapsed, rects)
    page.resize(1600, 1000)


MARKER_BOXES = ("JSON.stringify(Array.from(document.querySelectorAll('.leaflet-marker-icon'))"
                ".map(e => [e.getBoundingClientRect().left, e.getBoundingClientRect().top,"
                " getComputedStyle(e).opacity]))")


def settled(browser: Chromium, *, timeout: float = 10.0) -> None:
    """Wait until markercluster's zoom animation is over: no animation class, markers still."""
    browser.wait_for("!document.querySelector('.leaflet-cluster-anim')", timeout=timeout)
    deadline = time.monotonic() + timeout
    before = browser.eval(MARKER_BOXES)
    while time.monotonic() < deadline:
        time.sleep(0.3)
        now = browser.eval(MARKER_BOXES)
        if now == before:
            return
        before = now
    raise TimeoutError("markers kept moving")


def shown_facilities(browser: Chromium) -> int:
    """Facilities on the map: those in clusters plus the single markers."""
    return int(browser.eval("Array.from(document.querySelectorAll('.cf-cluster span'))"
                            ".reduce((n, s) => n + parseInt(s.textContent, 10), 0)"
                            " + document.querySelectorAll('.cf-marker').length"))


def test_layer_group_toggle(page, demo_run):
    fac = demo_run.layers.facilities
    group = "#cf-layers .cf-group[data-group='facilities:2']"  # 公共服务友好, the 2nd domain
    kinds = page.eval(f"Array.from(document.querySelectorAll(\"{group} .cf-layer\"))"
                      ".map(e => e.textContent.trim())")
    assert "幼儿园" in kinds and "小学" in kinds
    from cfplan.layers.kinds import FACILITY_KINDS

    keys = [k for k, v in FACILITY_KINDS.items() if v.zh in kinds]
    assert shown_facilities(page) == len(fac)
    assert page.eval(f"document.querySelector(\"{group} .cf-group-toggle\").checked")
    page.click_selector(f"{group} .cf-group-toggle")
    assert not any(page.eval(f"Array.from(document.querySelectorAll(\"{group} .cf-layer input\"))"
                             ".map(i => i.checked)"))
    assert page.eval("cf_facilities.cluster._map.hasLayer(cf_facilities.layers.kindergarten)"
                     ) is False
    assert shown_facilities(page) == len(fac) - int(fac["kind"].isin(keys).sum())
    page.click_selector(f"{group} .cf-group-toggle")
    assert page.eval("cf_facilities.cluster._map.hasLayer(cf_facilities.layers.kindergarten)")
    assert all(page.eval(f"Array.from(document.querySelectorAll(\"{group} .cf-layer input\"))"
                         ".map(i => i.checked)"))
    assert shown_facilities(page) == len(fac)
    # Walking bands start hidden and are built when first shown.
    paths = page.eval("document.querySelectorAll('path').length")
    band = ("Array.from(document.querySelectorAll('#cf-layers .cf-layer'))"
            ".find(e => e.textContent.trim() === '步行圈：公园').querySelector('input')")
    assert page.eval(f"{band}.checked") is False
    page.eval(f"{band}.click(); true")
    assert page.eval("document.querySelectorAll('path').length") == paths + 3  # 5/10/15 min
    page.eval(f"{band}.click(); true")
    assert page.eval("document.querySelectorAll('path').length") == paths
    clean(page)


def popup_text(browser: Chromium) -> str:
    browser.wait_for("document.querySelector('.leaflet-popup-content')")
    return str(browser.eval("document.querySelector('.leaflet-popup-content').textContent"))


def close_popups(browser: Chromium) -> None:
    browser.eval("cf_facilities.cluster._map.closePopup(); true")
    browser.wait_for("!document.querySelector('.leaflet-popup-content')")


def search(browser: Chromium, text: str) -> list[str]:
    close_popups(browser)
    browser.eval("cfplan.searchControl.cancel(); true")
    if not browser.eval("document.querySelector('.leaflet-control-search')"
                        ".classList.contains('search-exp')"):
        browser.click_selector(".leaflet-control-search .search-button")
    browser.eval("document.querySelector('.leaflet-control-search .search-input').focus(); true")
    browser.type_text(text)
    browser.wait_for("document.querySelectorAll('.search-tip').length > 0")
    return browser.eval("Array.from(document.querySelectorAll('.search-tip'))"
                        ".map(e => e.textContent)")  # type: ignore[return-value]


def test_search_finds_facilities_units_and_subdistricts(page):
    assert search(page, "区图书馆") == ["区图书馆"]
    page.click_selector(".search-tip")
    text = popup_text(page)
    assert "区图书馆" in text and "图书馆" in text and "L01" in text
    tips = search(page, "李庄")
    assert "李庄村" in tips
    page.eval("Array.from(document.querySelectorAll('.search-tip'))"
              ".find(e => e.textContent === '李庄村').click(); true")
    assert "李庄村" in popup_text(page)
    assert "望湖办事处" in search(page, "望湖办")
    clean(page)


def select_target(browser: Chromium, label_start: str, scenario: str) -> None:
    browser.eval(f"""(function(){{
        var s = document.getElementById('cf-target');
        var o = Array.from(s.options).find(o => o.textContent.indexOf({json.dumps(label_start)}) === 0);
        s.value = o.value; s.dispatchEvent(new Event('change')); return true;}})()""")
    browser.click_selector(f"#cf-scenario-{scenario}")


def unit_fill(browser: Chromium, code: str) -> str:
    return str(browser.eval(f"""(function(){{var out;
        cfplan.status.unit.eachLayer(function(l){{ if (l.feature.properties.r[0][1] === {json.dumps(code)})
          out = l.options.fillColor; }}); return out;}})()"""))


def open_unit_popup(browser: Chromium, code: str) -> str:
    close_popups(browser)
    browser.eval(f"""(function(){{cfplan.status.unit.eachLayer(function(l){{
        if (l.feature.properties.r[0][1] === {json.dumps(code)}) l.openPopup(); }}); return 1;}})()""")
    return popup_text(browser)


def test_target_selector_and_popups(page):
    from cfplan.maps.plan_map import UNIT_COLORS

    select_target(page, "29 ", "current")
    assert unit_fill(page, "U17") == UNIT_COLORS["N"]  # 张湾村: only a planned 儿童之家
    assert unit_fill(page, "U01") == UNIT_COLORS["M"]
    select_target(page, "29 ", "planned")
    assert unit_fill(page, "U17") == UNIT_COLORS["M"]
    assert unit_fill(page, "U06") == UNIT_COLORS["N"]
    text = open_unit_popup(page, "U06")
    assert "李庄村" in text
    assert "29 推进“儿童之家”建设 · 未达成" in text  # the selected target's number and text
    assert "现状未达标" in text and "标准5 居住区公园" in text  # failing targets: number + title
    # A 社区-only target leaves villages uncounted; the legend names the selection.
    select_target(page, "8 大力发展普惠托育服务 · 100% 社区", "current")
    assert unit_fill(page, "U06") == UNIT_COLORS["-"]
    assert unit_fill(page, "U14") == UNIT_COLORS["N"]  # 明珠社区: no 托育
    assert "8 大力发展普惠托育服务" in page.eval("document.getElementById('cf-legend-target')"
                                          ".textContent")
    # A walking-access target: each unit's own share in its popup.
    select_target(page, "标准5 ", "current")
    text = open_unit_popup(page, "U35")
    assert "标准5 居住区公园（10分钟生活圈） · 未达成 · 0.0%" in text
    clean(page)


@pytest.fixture(scope="module")
def hostile_page(tmp_path_factory, jingkai):
    """The demo with hostile names in every text field that reaches the map."""
    layers = load_layers(DEMO_DIR)
    units = layers.units.copy()
    units.loc[units["code"] == "U06", "name"] = EVIL_IMG
    units.loc[units["code"] == "U01", "name"] = EVIL_SCRIPT
    units.loc[units["code"] == "U02", "name"] = EVIL_FORMULA
    sds = layers.subdistricts.copy()
    sds.loc[sds["code"] == "S5", "name"] = EVIL_IMG
    sds.loc[sds["code"] == "S4", "name"] = EVIL_SCRIPT
    sds.loc[sds["code"] == "S1", "name"] = EVIL_FORMULA
    fac = layers.facilities.copy()
    for fid, name in (("L01", EVIL_IMG), ("L02", EVIL_SCRIPT), ("H01", EVIL_FORMULA)):
        fac.loc[fac["fid"] == fid, "name"] = name
    layers = dataclasses.replace(layers, units=units, subdistricts=sds, facilities=fac)
    streets = load_streets(layers).lines.copy()
    streets["name"] = streets["name"].astype(object)
    streets.iloc[0, streets.columns.get_loc("name")] = EVIL_IMG
    out = tmp_path_factory.mktemp("hostile") / "map.html"
    save_map(build_map(jingkai, layers, evaluate_plan(jingkai, layers), streets=streets), out)
    with Chromium(width=1600, height=1000) as browser:
        browser.open(out)
        browser.wait_for("document.querySelectorAll('.leaflet-marker-icon').length > 0")
        yield browser


def no_injection(browser: Chromium) -> None:
    assert browser.eval("document.querySelectorAll('img[src=x], .leaflet-popup script,"
                        " .search-tip *').length") == 0
    assert browser.eval("window.__pwned === undefined")
    clean(browser)


def test_hostile_names_show_literally(hostile_page):
    page = hostile_page
    no_injection(page)
    assert search(page, "<img") == [EVIL_IMG]  # a facility and a unit share the name: one tip
    tips = search(page, '">')
    assert EVIL_SCRIPT in tips
    page.eval(f"""Array.from(document.querySelectorAll('.search-tip'))
        .find(e => e.textContent === {json.dumps(EVIL_SCRIPT)}).click(); true""")
    assert EVIL_SCRIPT in popup_text(page)
    assert EVIL_FORMULA in search(page, "=HYPER")
    page.click_selector(".search-tip")
    assert EVIL_FORMULA in popup_text(page)
    # Shortfalls name the hostile units and 办事处 in the targets panel, as text.
    panel = page.eval("document.getElementById('cf-panel').textContent")
    assert EVIL_IMG in panel
    # Tooltips (streets, facilities, units) show the names as text too.
    shown = page.eval(f"""(function(){{var out = [];
        cf_facilities.cluster._map.eachLayer(function (l) {{
          var p = l.feature && l.feature.properties;
          if (p && p.n && p.n.indexOf({json.dumps(EVIL_IMG)}) >= 0 && l.getTooltip()) {{
            l.openTooltip(l.getBounds ? l.getBounds().getCenter() : undefined);
            out.push(l.getTooltip().getElement().textContent); l.closeTooltip(); }} }});
        return out;}})()""")
    assert len(shown) >= 3 and all(EVIL_IMG in t for t in shown)  # a street, a unit, a 办事处
    no_injection(page)


CJK = "[\u3400-\u9fff\uff01-\uff60\u3000-\u303f]"


def test_english_map_in_the_browser(demo_run, tmp_path):
    """``--lang en``: the page's own words are English; Chinese only in names and plan wording."""
    import re

    out = tmp_path / "map.html"
    save_map(demo_run.map(lang="en"), out)
    with Chromium(width=1600, height=1000) as browser:
        browser.open(out)
        browser.wait_for("document.querySelectorAll('.leaflet-marker-icon').length > 0")
        clean(browser)
        assert browser.eval("document.title") == (
            "Demo district (synthetic) · Zhengzhou Economic-Technological Development Zone"
            " child-friendly city work plan · child-friendly facility coverage map")
        layers = browser.eval("document.getElementById('cf-layers').textContent")
        assert layers.startswith("Layers") and "Facilities · Child-friendly public services" in layers
        assert not re.search(CJK, layers)  # group and kind labels: all ours, all English
        assert "Synthetic data: the demo district" in browser.eval("document.body.textContent")
        select_target(browser, "标准5 ", "current")
        text = open_unit_popup(browser, "U35")
        assert "周庄村" in text  # the unit's name stays as it is
        assert "not met" in text and "0.0%" in text
        assert "未达成" not in text and "现状" not in text
        clean(browser)
