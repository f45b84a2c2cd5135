"""The map in Chromium (Playwright), used as a reviewer uses it: the mouse, the keyboard, two screens.

The system Chromium with the network off (``tests/map_pages.py``): no request may leave the
page, no script error, no dialog. Clicks are real mouse clicks at page points computed from
the layers (shapely) and projected by the page's own map; popups are paged with the mouse;
the answers are compared with ``units.csv``. Screenshots go to ``conftest.SCREENSHOTS``
(``make screenshots`` refreshes ``docs/img/``).
"""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import SCREENSHOTS
from map_pages import SIZES, MapPage, units_wgs84

from cfplan.analysis.evaluate import evaluate_plan
from cfplan.analysis.indicators import target_text
from cfplan.demo import DEMO_DIR
from cfplan.layers.load import load_layers
from cfplan.layers.streets import load_streets
from cfplan.maps.palette import FAILS, MET, NOT_MET, SHARE_BELOW
from cfplan.maps.plan_map import build_map, save_map
from cfplan.maps.unit_layers import target_label

EVIL_IMG = "<img src=x onerror=alert(1)>"
EVIL_SCRIPT = '"><script>alert(2)</script>'
EVIL_FORMULA = '=HYPERLINK("http://example.invalid","x")'
IMG = SCREENSHOTS
# Six units of the demo, each failing something different: 朝阳社区 (only the standards),
# 李庄村 (29), 明珠社区 (8a, 37a), 张湾村 (29 now, not once planned), 海棠社区 (37a), 周庄村.
CLICKED = ("U01", "U06", "U14", "U17", "U33", "U35")
# Layer entries on when the page opens: the units, the outlines, the streets and the
# facilities of the default view (the kinds of the plan's per-unit targets).
ON_AT_START = {"社区/村（按所选目标着色）", "区界", "办事处", "街道（合成）", "水系/铁路",
               "儿童之家", "托育机构", "家长学校"}
CJK = re.compile("[\u3400-\u9fff\uff01-\uff60\u3000-\u303f]")
CJK_RUN = re.compile("[\u3400-\u9fff]+")
# Latin words a Chinese map may show: units of measure, the standards' references, Leaflet.
LATIN_OK = {"m", "km", "h", "ha", "hm", "GB", "Leaflet", "T"}


@pytest.fixture(scope="module", params=SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def page(request, browser, demo_run, demo_out):
    width, height = request.param
    mp = MapPage(browser, demo_out / "map.html", width=width, height=height)
    yield mp
    mp.close()


def unit_fails(demo_out: Path, plan) -> dict[str, tuple[list[str], list[str]]]:
    """units.csv: each unit's failing targets now and once planned, as the map labels them."""
    units = pd.read_csv(demo_out / "units.csv", dtype=str).fillna("")
    units = units[units["level"] == "unit"]

    def labels(cell: str) -> list[str]:
        return sorted(target_label(plan.target(part.split(" ", 1)[0]), "zh")
                      for part in cell.split("; ") if part)

    return {r.code: (labels(r.fails_current), labels(r.fails_planned))
            for r in units.itertuples()}


def unit_colours(page: MapPage) -> dict[str, str]:
    return page.js("""() => { var out = {};
        cfplan.status.unit.eachLayer(function (l) { out[l.feature.properties.n] = l.options.fillColor; });
        return out; }""")


def entries_on(page: MapPage) -> set[str]:
    return set(page.js("Array.from(document.querySelectorAll('#cf-layers .cf-layer'))"
                       ".filter(e => e.querySelector('input[type=checkbox]') && e.querySelector('input').checked).map(e => e.textContent.trim())"))


def test_opens_offline_in_the_default_view(page, demo_run):
    page.clean()
    assert page.js("document.title").startswith("示范区（合成数据） · 郑州经开区")
    assert page.page.locator("#cf-target").input_value() == "count"
    # Units coloured by how many of the plan's own per-unit targets each fails now.
    plan_ids = {t.id for t in demo_run.plan.targets if t.origin != "standard"}
    fails = {}
    for r in demo_run.results:
        if r.scenario == "current" and r.target.id in plan_ids and r.target.unit_level == "unit" \
                and r.target.metric in ("presence_per_unit", "capacity_per_unit", "accessibility"):
            for code in r.failing:
                fails[code] = fails.get(code, 0) + 1
    names = dict(zip(demo_run.layers.units["code"], demo_run.layers.units["name"], strict=True))
    want = {names[c]: FAILS[min(fails.get(c, 0), len(FAILS) - 1)] for c in names}
    assert unit_colours(page) == want
    assert max(fails.values()) >= 2  # 明珠社区: 8a and 37a
    # Only the units, the outlines and the default view's facilities are on.
    assert entries_on(page) == ON_AT_START
    total = page.js("document.querySelectorAll('#cf-layers .cf-layer').length")
    assert total > 2 * len(ON_AT_START)
    # Clustered at district zoom: every shown facility counted once.
    shown = page.js("Array.from(document.querySelectorAll('.cf-cluster span'))"
                    ".reduce((n, s) => n + parseInt(s.textContent, 10), 0)"
                    " + document.querySelectorAll('.cf-marker').length")
    fac = demo_run.layers.facilities
    assert shown == int(fac["kind"].isin(["children_home", "childcare", "parent_school"]).sum())
    for sel in (".leaflet-control-zoom-fullscreen", ".leaflet-control-measure",
                ".leaflet-control-search", ".leaflet-control-scale-line"):
        assert page.page.locator(sel).count() == 1, sel
    page.clean()


def test_clicks_reach_the_unit_under_the_pointer(page, demo_run, demo_out):
    """A mouse click inside each of six units opens that unit's page with units.csv's failures."""
    units = units_wgs84(demo_run.layers)
    expected = unit_fails(demo_out, demo_run.plan)
    sd_names = dict(zip(demo_run.layers.subdistricts["code"], demo_run.layers.subdistricts["name"],
                        strict=True))
    results = {}
    for code in CLICKED:
        x, y = page.free_point(units.loc[code, "geometry"])
        page.click(x, y)
        pages = page.popup_pages()
        layers = [p["layer"] for p in pages]
        assert layers[0] == "社区/村", (code, layers)  # the unit is on top where nothing else is
        unit = pages[0]
        assert unit["title"] == units.loc[code, "name"]
        now, planned = expected[code]
        assert sorted(unit["rows"]["现状未达标"]) == (now or ["无"])
        assert sorted(unit["rows"]["规划完成后未达标"]) == (planned or ["无"])
        assert unit["rows"]["未达标的规划目标"] == [str(sum(1 for t in now if not t.startswith("标准")))]
        # The 办事处 under the same point is a later page, never in the way.
        sd = [p for p in pages if p["layer"] == "办事处"]
        assert [p["title"] for p in sd] == [sd_names[units.loc[code, "subdistrict"]]]
        results[code] = [p["count"] for p in pages]
        assert page.broken_words("未达成") == 0
        if code == "U14":  # 明珠社区 fails two of the plan's targets
            page.page.locator(".leaflet-popup-content .cf-prev").click()  # back to page 1
            page.page.wait_for_function(  # the popup's fade-in is over
                "getComputedStyle(document.querySelector('.leaflet-popup')).opacity === '1'")
            page.page.wait_for_timeout(300)
            page.page.screenshot(path=str(IMG / f"map-popup-{page.width}.png"))
        page.close_popup()
    assert len(results) == 6
    page.clean()


def test_a_facility_in_a_unit_pages_through_both(page, demo_run):
    """Click a 儿童之家 at street zoom: facility, unit and 办事处 on one popup's pages."""
    fac = demo_run.layers.facilities
    home = fac[(fac["kind"] == "children_home") & (fac["unit"] == "U02")].to_crs("EPSG:4326").iloc[0]
    page.js("p => { cfplan.status.unit._map.setView([p[1], p[0]], 17, {animate: false});"
            " return true; }", [home.geometry.x, home.geometry.y])
    page.page.wait_for_timeout(500)
    x, y = page.to_screen([[home.geometry.x, home.geometry.y]])[0]
    assert "cf-ico" in page.element_at(x, y)  # the glyph is under the pointer
    page.click(x, y)
    pages = page.popup_pages()
    page.close_popup()
    page.js("() => { cfplan.refit(); return true; }")
    assert [p["layer"] for p in pages] == ["儿童之家", "社区/村", "办事处"]
    assert pages[0]["title"] == home["name"] and pages[0]["count"] == "1/3"
    assert pages[1]["title"] == "和平社区" and pages[2]["count"] == "3/3"
    page.page.wait_for_timeout(300)
    page.clean()


def test_outlines_and_labels_take_no_clicks(page, demo_run):
    """Nothing above the units takes the pointer: the 办事处 outline, the district, names."""
    blocking = page.js("""() => Array.from(document.querySelectorAll(
        '.leaflet-cf-top-pane *, .leaflet-cf-low-pane *, .leaflet-cf-labels-pane *'))
        .filter(e => getComputedStyle(e).pointerEvents !== 'none').length""")
    assert blocking == 0
    # On an 办事处 boundary, 3 px inside a unit: the unit's page first.
    units = units_wgs84(demo_run.layers)
    sd = demo_run.layers.subdistricts.to_crs("EPSG:4326").set_index("code")
    unit = units.loc["U06"]
    sd_edge = sd.loc[unit["subdistrict"], "geometry"].boundary
    mid = next(p for p in (unit.geometry.boundary.interpolate(f, normalized=True)
                           for f in np.linspace(0.05, 0.95, 91)) if sd_edge.distance(p) < 1e-7)
    (ex, ey), (cx, cy) = page.to_screen([[mid.x, mid.y], [unit.geometry.centroid.x,
                                                          unit.geometry.centroid.y]])
    d = ((cx - ex) ** 2 + (cy - ey) ** 2) ** 0.5
    page.click(ex + 3 * (cx - ex) / d, ey + 3 * (cy - ey) / d)
    pages = page.popup_pages()
    assert pages[0]["layer"] == "社区/村" and pages[0]["title"] == "李庄村"
    page.close_popup()
    page.clean()


def test_panels_cover_little_of_the_district(page, demo_run):
    """When the map opens no panel covers more than 5% of the district; none overlaps another."""
    district = demo_run.layers.district.to_crs("EPSG:4326").geometry.union_all()
    share = page.panel_coverage(district)
    assert {"#cf-legend0", "#cf-layers0", "#cf-selector0", "#cf-panel0"} <= set(share)
    assert max(share.values()) <= 0.05, share
    IMG.mkdir(parents=True, exist_ok=True)
    print(f"panel coverage at {page.width}x{page.height}:",
          json.dumps({k: round(v, 4) for k, v in share.items()}, ensure_ascii=False))
    page.page.screenshot(path=str(IMG / f"map-default-{page.width}.png"))
    # Unfolded and folded again, the panels stay inside the window and apart.
    for step in ("open", "fold"):
        page.open_panels() if step == "open" else page.fold_panels()
        rects = page.panel_rects()
        for r in rects.values():
            assert r[0] >= 0 and r[1] >= 0 and r[2] <= page.width and r[3] <= page.height, rects
        names = sorted(rects)
        clash = [(a, b) for i, a in enumerate(names) for b in names[i + 1:]
                 if rects[a][0] < rects[b][2] and rects[b][0] < rects[a][2]
                 and rects[a][1] < rects[b][3] and rects[b][1] < rects[a][3]]
        assert clash == [], (step, rects)
        assert page.broken_words("未达成") == 0  # never split inside the word
    page.clean()


def test_names_from_zoom_14(page, demo_run):
    page.zoom_to(13.5)
    assert page.js("Array.from(document.querySelectorAll('.cf-label'))"
                   ".filter(e => e.offsetParent !== null).length") == 0
    page.zoom_to(14)
    shown = page.js("""() => Array.from(document.querySelectorAll('.cf-label'))
        .filter(e => e.offsetParent !== null).map(e => {
          var r = e.getBoundingClientRect(); return [e.textContent, r.left + r.width / 2, r.top + r.height / 2]; })""")
    names = {t for t, _, _ in shown}
    assert set(demo_run.layers.units["name"]) <= names
    assert set(demo_run.layers.subdistricts["name"]) <= names
    # Each unit's name lies inside the unit (those on the screen).
    units = units_wgs84(demo_run.layers).set_index("name")
    import shapely

    inside = 0
    for text, x, y in shown:
        if text in units.index and 0 < x < page.width and 0 < y < page.height:
            assert page.screen_polygon(units.loc[text, "geometry"]).contains(shapely.Point(x, y)), text
            inside += 1
    assert inside >= 4
    page.js("() => { cfplan.refit(); return true; }")
    page.page.wait_for_timeout(300)


def test_legend_lists_only_the_visible_layers(page):
    start = page.legend_lines()
    assert start[:5] == ["0 项", "1 项", "2 项", "3 项", "≥ 4 项"]
    assert {"儿童之家", "托育机构", "家长学校", "区界", "办事处界"} <= set(start)
    assert not {"幼儿园", "步行 5 分钟", "路线无风险"} & set(start)
    page.open_panels()
    page.layer_entry("步行圈：公园").click()
    with_bands = page.legend_lines()
    assert {"步行 5 分钟", "步行 10 分钟", "步行 15 分钟"} <= set(with_bands)
    page.layer_entry("步行圈：公园").click()
    page.layer_entry("儿童之家").click()
    assert "儿童之家" not in page.legend_lines()
    page.layer_entry("儿童之家").click()
    assert page.legend_lines() == start
    page.fold_panels()
    page.clean()


def test_selector_and_scenario_switch_recolour_everything(page, demo_run):
    colours = unit_colours(page)
    select = page.page.locator("#cf-target")
    select.select_option(label=next(o for o in select.locator("option").all_text_contents()
                                    if o.startswith("29 ")))
    assert unit_colours(page)["张湾村"] == NOT_MET  # only a planned 儿童之家
    assert entries_on(page) & {"儿童之家", "托育机构", "家长学校"} == {"儿童之家"}
    dashed = page.js("document.querySelectorAll('.cf-marker .cf-ico[style*=dashed]').length")
    scenario = page.page.locator("#cf-selector")
    scenario.get_by_text("规划完成后", exact=True).click()
    assert unit_colours(page)["张湾村"] == MET
    assert page.page.locator("#cf-legend .cf-leg-title").text_content().endswith("规划完成后")
    assert page.js("document.querySelectorAll('.cf-marker .cf-ico[style*=dashed]').length") < dashed
    scenario.get_by_text("现状", exact=True).click()
    # A walking-access target: units shaded by their share of children within reach.
    select.select_option(label=next(o for o in select.locator("option").all_text_contents()
                                    if o.startswith("标准5 ")))
    legend = page.legend_lines()
    assert legend[0] == "≥ 100%（目标）· 达成" and "< 25%" in legend
    cov = demo_run.coverage
    rows = cov[(cov["level"] == "unit") & (cov["kind"] == "park@标准5")
               & (cov["scenario"] == "current")].set_index("area")["share_children"]
    names = dict(zip(demo_run.layers.units["code"], demo_run.layers.units["name"], strict=True))
    shown = unit_colours(page)
    for code, share in rows.items():
        k = sum(share >= b for b in (0.25, 0.5, 0.75))
        assert shown[names[code]] == (MET if share >= 1 else SHARE_BELOW[k]), code
    page.page.screenshot(path=str(IMG / f"map-target-{page.width}.png"))
    units = units_wgs84(demo_run.layers)
    page.click(*page.free_point(units.loc["U35", "geometry"]))
    assert page.popup_pages()[0]["rows"]["所选目标"] == [
        "标准5 居住区公园（10分钟生活圈） · 未达成 · 0.0%"]
    page.close_popup()
    # A per-办事处 target: the 办事处 are coloured, the units let them show through.
    select.select_option(label=next(o for o in select.locator("option").all_text_contents()
                                    if o.startswith("22 ")))
    sd = page.js("""() => { var out = {}; cfplan.status.subdistrict.eachLayer(function (l) {
        out[l.feature.properties.n] = [l.options.fillColor, l.options.fillOpacity]; }); return out; }""")
    assert sd["白杨办事处"] == [NOT_MET, 0.6] and sd["河滨办事处"] == [MET, 0.6]
    assert set(page.js("""() => { var out = []; cfplan.status.unit.eachLayer(function (l) {
        out.push(l.options.fillOpacity); }); return out; }""")) == {0}
    page.click(*page.free_point(units.loc["U33", "geometry"]))  # 海棠社区 in 白杨办事处
    pages = page.popup_pages()
    assert [p["layer"] for p in pages] == ["办事处", "社区/村"]  # the coloured level first
    assert pages[0]["title"] == "白杨办事处"
    assert pages[0]["rows"]["所选目标"][0].endswith("· 未达成")
    page.close_popup()
    select.select_option("count")
    assert unit_colours(page) == colours
    page.clean()


def search(page: MapPage, text: str) -> list[str]:
    """Type into the search box as an input method commits Chinese, and read the tips."""
    box = page.page.locator(".leaflet-control-search")
    if "search-exp" not in (box.get_attribute("class") or ""):
        box.locator(".search-button").click()
    field = box.locator("input.search-input")
    field.fill("")
    field.click()
    page.page.keyboard.insert_text(text)
    page.page.keyboard.press("F2")  # the keyup after composition, which starts the search
    page.page.wait_for_function(
        """t => { var tips = Array.from(document.querySelectorAll('.search-tip'));
                  return tips.length && tips.every(e => e.textContent.toLowerCase()
                                                   .indexOf(t.toLowerCase()) >= 0); }""",
        arg=text)
    return box.locator(".search-tip").all_text_contents()


def test_search_finds_facilities_units_and_subdistricts(page):
    assert search(page, "区图书馆") == ["区图书馆"]
    page.page.locator(".search-tip").first.click()
    pages = page.popup_pages()
    assert pages[0]["title"] == "区图书馆" and pages[0]["layer"] == "图书馆"
    page.close_popup()
    assert "李庄村" in search(page, "李庄")
    page.page.locator(".search-tip").get_by_text("李庄村", exact=True).click()
    assert page.popup_pages()[0]["title"] == "李庄村"
    page.close_popup()
    assert "望湖办事处" in search(page, "望湖办")
    page.page.locator(".search-tip").get_by_text("望湖办事处", exact=True).click()
    assert page.popup_pages()[0]["title"] == "望湖办事处"
    page.close_popup()
    page.js("() => { cfplan.searchControl.cancel(); cfplan.refit(); return true; }")
    page.clean()


def latin_words(text: str, plan) -> set[str]:
    """Latin words of ours: the plan's own wording (``VI 系统``) and item numbers (``8a``) aside."""
    for t in plan.targets:
        for field in ("wording", "title", "assumption"):
            text = text.replace(t.text(field, "zh"), "")
    return set(re.findall(r"(?<![0-9A-Za-z_])[A-Za-z_][A-Za-z0-9_]*", text)) - LATIN_OK


def all_text(page: MapPage, demo_run, codes=CLICKED) -> str:
    """Everything a reader can see: the page with every panel open and popups of units."""
    page.open_panels()
    texts = [page.visible_text(),
             "\n".join(page.page.locator("#cf-target option").all_text_contents())]
    page.fold_panels()
    units = units_wgs84(demo_run.layers)
    for code in codes:
        page.click(*page.free_point(units.loc[code, "geometry"]))
        texts += [p["text"] for p in page.popup_pages()]
        page.close_popup()
    return "\n".join(texts)


def test_chinese_map_shows_no_english(page, demo_run):
    text = all_text(page, demo_run)
    assert "JurisdictionCover" not in text and "route_id" not in text
    assert latin_words(text, demo_run.plan) == set()
    # The school routes' layers: schools by name, never by code.
    page.open_panels()
    page.page.locator("#cf-layers .cf-group[data-group='routes'] .cf-group-toggle").click()
    page.fold_panels()
    where = page.js("""() => { var out = null; cfplan.pickers.forEach(function (pk) {
        if (cfplan.labelOf(pk.layer).indexOf('隐患过街点') === 0) {
          var l = pk.layer.getLayers()[0]; out = [l.getLatLng().lng, l.getLatLng().lat]; } });
        return out; }""")
    page.js("p => { cfplan.status.unit._map.setView([p[1], p[0]], 17, {animate: false});"
            " return true; }", where)
    page.page.wait_for_timeout(400)
    page.click(*page.to_screen([where])[0])
    pages = page.popup_pages()
    page.close_popup()
    hotspot = next(p for p in pages if p["layer"].startswith("隐患过街点"))
    schools = set(demo_run.layers.facilities["name"])
    assert hotspot["rows"]["学校"] and set(hotspot["rows"]["学校"][0].split("、")) <= schools
    assert latin_words("\n".join(p["text"] for p in pages), demo_run.plan) == set()
    page.open_panels()
    page.page.locator("#cf-layers .cf-group[data-group='routes'] .cf-group-toggle").click()
    page.fold_panels()
    page.js("() => { cfplan.refit(); return true; }")
    page.clean()


@pytest.fixture(scope="module")
def english_page(browser, demo_run, tmp_path_factory):
    out = tmp_path_factory.mktemp("en") / "map.html"
    save_map(demo_run.map(lang="en"), out)
    mp = MapPage(browser, out, width=1600, height=1000)
    yield mp
    mp.close()


def test_english_map_shows_no_chinese_of_ours(english_page, demo_run):
    """``--lang en``: every word of ours is English; Chinese only in the data's names."""
    page = english_page
    page.clean()
    assert page.js("document.title") == (
        "Demo district (synthetic) · Zhengzhou Economic-Technological Development Zone"
        " child-friendly city work plan · child-friendly facility coverage map")
    text = all_text(page, demo_run)
    layers = demo_run.layers
    plan_words = [w for t in demo_run.plan.targets  # the plan's own words and names
                  for w in (t.text("title", "en"), t.text("wording", "en"),
                            *CJK_RUN.findall(target_text(t, lang="en")))]
    names = [*layers.units["name"], *layers.subdistricts["name"], *layers.facilities["name"],
             layers.name, *plan_words]
    for name in sorted({str(n) for n in names}, key=len, reverse=True):
        text = text.replace(name, "")
    assert not CJK.search(text), [text[max(0, m.start() - 30):m.end() + 30]
                                  for m in CJK.finditer(text)][:5]
    assert "Fails now" in text and "Plan targets failed" in text
    page.clean()


def test_english_map_names_unnamed_features_in_english(demo_run):
    from cfplan.maps.plan_map import facility_name

    assert facility_name("公园", "park", lang="en") == "Park"
    assert facility_name("足球场", "football_pitch", lang="en") == "Football pitch"
    assert facility_name("游玩设施", "play_facility", lang="en") == "Play facility"
    assert facility_name("公园", "park", lang="zh") == "公园"
    assert facility_name(None, "park", lang="zh") == "公园"
    assert facility_name("人民公园", "park", lang="en") == "人民公园"


@pytest.fixture(scope="module")
def hostile_page(tmp_path_factory, jingkai, browser):
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
    mp = MapPage(browser, out, width=1600, height=1000)
    yield mp, layers
    mp.close()


def no_injection(page: MapPage) -> None:
    assert page.js("document.querySelectorAll('img[src=x], .leaflet-popup script,"
                   " .search-tip *').length") == 0
    assert page.js("window.__pwned === undefined")
    page.clean()


def test_hostile_names_show_literally(hostile_page):
    page, layers = hostile_page
    no_injection(page)
    assert search(page, "<img") == [EVIL_IMG]  # a facility and a unit share the name: one tip
    assert EVIL_SCRIPT in search(page, '">')
    page.page.locator(".search-tip", has_text=EVIL_SCRIPT).first.click()
    assert page.popup_pages()[0]["title"] == EVIL_SCRIPT
    page.close_popup()
    page.js("() => { cfplan.refit(); return true; }")
    # A mouse click on the hostile unit: its name as text, in the popup and the label.
    units = units_wgs84(layers)
    page.click(*page.free_point(units.loc["U06", "geometry"]))
    assert page.popup_pages()[0]["title"] == EVIL_IMG
    page.close_popup()
    panel = page.js("document.getElementById('cf-panel').textContent")
    assert EVIL_IMG in panel  # shortfalls name the hostile units in the targets panel, as text
    labels = page.js("Array.from(document.querySelectorAll('.cf-label')).map(e => e.textContent)")
    assert EVIL_IMG in labels and EVIL_SCRIPT in labels and EVIL_FORMULA in labels
    no_injection(page)
