"""The map after siting: proposed sites start off, their legend names each kind, their words are ours.

Chromium through Playwright at 1280x720, network off (``tests/map_pages.py``).
"""

from __future__ import annotations

import re

import pytest
from map_pages import MapPage

import cfplan
from cfplan.maps.plan_map import save_map

PLAN_KINDS = ["protection_station", "children_home"]


@pytest.fixture(scope="module")
def sited():
    assessed = cfplan.demo_assessment()
    siting = assessed.site(kinds=PLAN_KINDS, time_limit=30)
    return assessed, siting


@pytest.fixture(scope="module", params=["zh", "en"])
def site_page(request, sited, browser, tmp_path_factory):
    assessed, siting = sited
    out = tmp_path_factory.mktemp(f"sites-{request.param}") / "map.html"
    save_map(assessed.map(lang=request.param), out)
    mp = MapPage(browser, out, width=1280, height=720)
    yield request.param, mp, siting
    mp.close()


def test_sites_start_off_and_the_legend_names_each_kind(site_page):
    lang, page, siting = site_page
    group = "#cf-layers .cf-group[data-group='siting'] .cf-layer"
    names = page.js(f"Array.from(document.querySelectorAll(\"{group}\")).map(e => e.textContent.trim())")
    assert len(names) == 4  # sites and their service areas, for each of the two kinds
    assert not any(page.js(f"Array.from(document.querySelectorAll(\"{group} input\")).map(i => i.checked)"))
    start = page.legend_lines()
    page.open_panels()
    for name in names:
        page.layer_entry(name).click()
    page.fold_panels()
    added = [line for line in page.legend_lines() if line not in start]
    kinds = ("未成年人保护工作站", "儿童之家") if lang == "zh" else (
        "Minor protection station", "Children's home")
    word = "建议新建：" if lang == "zh" else "proposed "
    assert sorted(x for x in added if x.startswith(word)) == sorted(word + k for k in kinds)
    assert len(added) == 3  # the two kinds, and one line for the service areas
    # A proposed site's popup: its model in the map's language, no class names.
    site = siting.sites[siting.sites["kind"] == "children_home"].to_crs("EPSG:4326").iloc[0]
    page.js("p => { cfplan.status.unit._map.setView([p[1], p[0]], 17, {animate: false});"
            " return true; }", [site.geometry.x, site.geometry.y])
    page.page.wait_for_timeout(400)
    x, y = page.to_screen([[site.geometry.x, site.geometry.y]])[0]
    page.click(x, y)
    pages = page.popup_pages()
    first = pages[0]
    assert first["layer"].startswith("建议选址：儿童之家" if lang == "zh" else "Proposed sites: Children's home")
    model = first["rows"]["模型" if lang == "zh" else "Model"][0]
    assert "JurisdictionCover" not in model
    if lang == "zh":
        assert not re.search("[A-Za-z]", model), model
    else:
        assert not re.search("[\u3400-\u9fff]", model), model
    assert any(p["layer"] in ("社区/村", "Unit") for p in pages)
    page.close_popup()
    page.clean()
