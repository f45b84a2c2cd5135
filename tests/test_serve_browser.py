"""The workbench page in the system Chromium (Playwright), with real mouse clicks and typing.

A fresh app over the demo assessment is served by uvicorn on a free loopback port for each
test; the page loads nothing from outside it. A planner adds a 儿童之家 in 李庄村 (29 drops
from 4 to 3 社区 without one) and undoes it, drags a protection station into 白杨办事处
(22b's list changes), accepts a suggested site, saves the scenario and reruns it with
``cfplan run --scenario-file``; a hostile name shows literally; another site's page cannot
edit.
"""

from __future__ import annotations

import http.server
import socket
import threading
import time

import pandas as pd
import pytest
import uvicorn
from conftest import point_in
from playwright.sync_api import Page, expect

from cfplan.analysis.workbench import layers_digest
from cfplan.cli import main
from cfplan.demo import DEMO_DIR
from cfplan.serve.app import create_app
from cfplan.serve.security import GuardConfig
from cfplan.serve.session import open_session

SIZES = {"laptop": (1280, 720), "desktop": (1600, 1000)}
EVIL = '<img src=x onerror=alert(1)>"><script>alert(2)</script>'


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Served:
    """The app on a thread: its URL and its session."""

    def __init__(self, assessment, *, read_only: bool = False) -> None:
        self.port = free_port()
        self.session = open_session(assessment, layers_label="demo",
                                    layers_digest=layers_digest(DEMO_DIR), read_only=read_only)
        app = create_app(self.session, GuardConfig("127.0.0.1", self.port, read_only=read_only))
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port,
                                                    log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started and time.monotonic() < deadline:
            time.sleep(0.05)
        self.url = f"http://127.0.0.1:{self.port}/"

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(10)


@pytest.fixture
def served(demo_run):
    s = Served(demo_run)
    yield s
    s.stop()


def open_page(browser, served: Served, size: str = "laptop") -> tuple[Page, list[str]]:
    w, h = SIZES[size]
    context = browser.new_context(viewport={"width": w, "height": h}, accept_downloads=True)
    page = context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda e: problems.append(f"error: {e}"))
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("dialog", lambda d: (problems.append(f"dialog: {d.message}"), d.dismiss()))
    page.on("request", lambda r: None if r.url.startswith(served.url) else problems.append(
        f"outside request: {r.url}"))
    page.goto(served.url)
    page.wait_for_function("() => window.cfwb && window.cfwb.ready")
    return page, problems


def screen_xy(page: Page, lon: float, lat: float) -> tuple[float, float]:
    """Page pixel of a lon/lat on the map."""
    return page.evaluate("""([lat, lon]) => {
        const p = window.cfwb.map.latLngToContainerPoint([lat, lon]);
        const r = document.getElementById('wb-map').getBoundingClientRect();
        return [r.left + p.x, r.top + p.y];}""", [lat, lon])


def add_facility(page: Page, lon: float, lat: float, name: str, kind_label: str | None = None
                 ) -> None:
    page.click("#wb-add")
    x, y = screen_xy(page, lon, lat)
    page.mouse.click(x, y)
    form = page.locator("#wb-add-form")
    expect(form).to_be_visible()
    if kind_label:
        form.locator("select[name=kind]").select_option(label=kind_label)
    form.locator("input[name=name]").click()
    page.keyboard.type(name)
    page.click("#wb-add-submit")


def change(page: Page, target: str):
    return page.locator(f'#wb-message li[data-target="{target}"]')


@pytest.mark.parametrize("size", list(SIZES))
def test_add_a_children_home_in_lizhuang_then_undo(browser, served, demo_run, size):
    page, problems = open_page(browser, served, size)
    # side panel beside the map, both inside the window
    map_box = page.locator("#wb-map").bounding_box()
    side_box = page.locator("#wb-side").bounding_box()
    w, h = SIZES[size]
    assert map_box["x"] + map_box["width"] <= side_box["x"] + 1
    assert side_box["x"] + side_box["width"] <= w + 1 and side_box["height"] <= h + 1
    expect(page.locator('tr[data-target="29"] .wb-edited-cell')).to_contain_text("88.9%")
    lon, lat = point_in(demo_run.layers, "units", "李庄村")
    add_facility(page, lon, lat, "李庄村儿童之家")
    expect(change(page, "29")).to_have_text("29：缺儿童之家的村/社区 4 → 3")
    row = page.locator('tr[data-target="29"]')
    expect(row).to_have_class("wb-row wb-changed wb-selected")
    expect(row.locator(".wb-delta")).to_have_text("缺儿童之家的村/社区 4 → 3")
    expect(row.locator(".wb-edited-cell .wb-val")).to_have_text("91.7%")
    expect(page.locator(".wb-count-edited b")).to_have_text("28 / 109")
    # the units are coloured by 29 now: 李庄村 is no longer failing
    assert page.evaluate("() => window.cfwb.failing['U06'] === undefined "
                         "&& window.cfwb.failing['U17'] === true")
    # the new facility is drawn where it was clicked
    added = page.locator('[data-fid="W001"]')
    expect(added).to_be_visible()
    box = added.bounding_box()
    x, y = screen_xy(page, lon, lat)
    assert abs(box["x"] + box["width"] / 2 - x) < 3 and abs(box["y"] + box["height"] / 2 - y) < 3
    page.click("#wb-undo")
    expect(change(page, "29")).to_have_text("29：缺儿童之家的村/社区 3 → 4")
    expect(row.locator(".wb-edited-cell .wb-val")).to_have_text("88.9%")
    expect(page.locator('[data-fid="W001"]')).to_have_count(0)
    assert served.session.workbench.can_redo
    assert problems == []


def test_drag_a_protection_station_into_baiyang(browser, served, demo_run):
    page, problems = open_page(browser, served)
    marker = page.locator('[data-fid="PS3"]')
    box = marker.bounding_box()
    sx, sy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(sx, sy)  # the marker rises on hover, above its neighbours
    lon, lat = point_in(demo_run.layers, "subdistricts", "白杨办事处")
    tx, ty = screen_xy(page, lon, lat)
    page.mouse.down()
    page.mouse.move(tx, ty, steps=25)
    page.mouse.up()
    expect(change(page, "22b")).to_have_text(
        "22b：缺未成年人保护工作站的办事处 白杨办事处、望湖办事处 → 青松办事处、望湖办事处")
    moved = served.session.workbench.layers.facilities.set_index("fid").loc["PS3"]
    assert moved["unit"] in set(demo_run.layers.units.loc[
        demo_run.layers.units["subdistrict"] == "S4", "code"])
    assert problems == []


def test_accept_a_suggestion(browser, served):
    page, problems = open_page(browser, served)
    page.locator('tr[data-target="22b"] .wb-suggest-btn').click()
    sites = page.locator(".wb-site")
    expect(sites.first).to_be_visible(timeout=60_000)
    assert "未成年人保护工作站" in sites.first.inner_text()
    sites.first.locator(".wb-accept").click()
    expect(change(page, "22b")).to_be_visible()
    expect(sites.first).to_have_class("wb-site wb-accepted")
    step = served.session.workbench.edits[-1]
    assert [e.kind for e in step] == ["protection_station"] and step[0].level == "subdistrict"
    assert problems == []


def test_save_then_cfplan_run_gives_the_same_table(browser, served, demo_run, tmp_path):
    page, problems = open_page(browser, served)
    lon, lat = point_in(demo_run.layers, "units", "李庄村")
    add_facility(page, lon, lat, "李庄村儿童之家")
    expect(change(page, "29")).to_be_visible()
    with page.expect_download() as info:
        page.click("#wb-save")
    saved = tmp_path / "saved.scenario"
    info.value.save_as(saved)
    assert info.value.suggested_filename == "workbench.scenario"
    page.locator('[data-filter="all"]').click()
    rows = page.locator("tr[data-target]")
    shown = {rows.nth(i).get_attribute("data-target"): (
        rows.nth(i).locator(".wb-edited-cell").get_attribute("data-status"),
        rows.nth(i).locator(".wb-edited-cell .wb-val").inner_text())
        for i in range(rows.count())}
    out = tmp_path / "out"
    assert main(["run", "--layers", str(DEMO_DIR), "--plan", "jingkai", "--scenario-file",
                 str(saved), "--out", str(out)]) == 0
    csv = pd.read_csv(out / "targets.csv", dtype=str, keep_default_na=False)
    current = csv[csv["scenario"] == "current"]
    table = {r.target_id: (r.status, r.value or r.status) for r in current.itertuples()}
    status_words = {"met": "达成", "not_met": "未达成", "unknown": "未知", "not_assessed": "未评估"}
    table = {k: (s, v if v != s else status_words[s]) for k, (s, v) in table.items()}
    assert shown == table
    assert table["29"] == ("not_met", "91.7%")
    assert problems == []


def test_a_hostile_name_typed_into_the_form_shows_literally(browser, served, demo_run):
    page, problems = open_page(browser, served)
    lon, lat = point_in(demo_run.layers, "units", "张湾村")
    add_facility(page, lon, lat, EVIL)
    expect(change(page, "29")).to_be_visible()
    page.locator(".wb-edits summary").click()
    expect(page.locator(".wb-edits li").first).to_have_text(f"添加 · {EVIL}")
    page.locator('[data-fid="W001"]').hover()
    # the unit under the pointer may show its own tooltip too: take the facility's
    expect(page.locator(".leaflet-tooltip").filter(has_text="onerror")).to_have_text(EVIL)
    assert page.locator("img[src=x]").count() == 0
    assert page.locator("#wb-side script").count() == 0
    assert served.session.workbench.layers.facilities["name"].iloc[-1] == EVIL
    assert problems == []


def test_another_sites_page_cannot_edit(browser, served, demo_run, tmp_path):
    (tmp_path / "index.html").write_text("<!DOCTYPE html><title>elsewhere</title>", encoding="utf-8")
    handler = lambda *a, **k: http.server.SimpleHTTPRequestHandler(  # noqa: E731
        *a, directory=str(tmp_path), **k)
    other = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), handler)
    threading.Thread(target=other.serve_forever, daemon=True).start()
    try:
        page = browser.new_page()
        page.goto(f"http://127.0.0.1:{other.server_address[1]}/index.html")
        lon, lat = point_in(demo_run.layers, "units", "李庄村")
        status = page.evaluate("""([url, lon, lat]) => fetch(url + 'api/edits', {method: 'POST',
            headers: {'Content-Type': 'text/plain'}, body: JSON.stringify({op: 'add',
            kind: 'children_home', lon: lon, lat: lat, name: 'x'})})
            .then(r => r.status, e => 'blocked')""", [served.url, lon, lat])
        assert status == "blocked"  # the browser hides the answer; the app refused it anyway
        assert not served.session.workbench.can_undo
        assert len(served.session.workbench.layers.facilities) == len(demo_run.layers.facilities)
    finally:
        other.shutdown()


def test_mark_a_planned_project_done_and_change_a_population(browser, served, demo_run):
    page, problems = open_page(browser, served)
    marker = page.locator('[data-fid="CH17"]')  # 张湾村儿童之家, planned for 2025
    expect(marker.locator(".wb-pending")).to_have_count(1)
    marker.hover()
    marker.click()
    page.locator(".leaflet-popup button", has_text="标记建成").click()
    expect(change(page, "29")).to_have_text("29：缺儿童之家的村/社区 4 → 3")
    expect(page.locator('[data-fid="CH17"] .wb-pending')).to_have_count(0)
    # a unit's popup changes its residents
    lon, lat = point_in(demo_run.layers, "units", "阳光社区")
    page.keyboard.press("Escape")
    x, y = screen_xy(page, lon, lat)
    page.mouse.click(x, y)
    field = page.locator(".leaflet-popup input[name=population]")
    expect(field).to_be_visible()
    field.fill("")
    field.click()
    page.keyboard.type("20000")
    page.locator(".leaflet-popup button", has_text="修改人口").click()
    expect(change(page, "8b")).to_have_text("8b：3.89 → 3.76")
    units = served.session.workbench.layers.units.set_index("name")
    assert units.loc["阳光社区", "population"] == 20000.0
    assert problems == []


def test_read_only_page_has_no_editing(browser, demo_run):
    served = Served(demo_run, read_only=True)
    try:
        page, problems = open_page(browser, served)
        expect(page.locator(".wb-banner.wb-ro")).to_have_text("只读：仅供查看，不能编辑")
        assert page.locator("#wb-add, #wb-undo, #wb-redo").count() == 0
        assert page.locator(".leaflet-marker-draggable").count() == 0
        page.locator('[data-fid="CH17"]').click()
        expect(page.locator(".leaflet-popup")).to_be_visible()
        assert page.locator(".leaflet-popup button").count() == 0
        assert problems == []
    finally:
        served.stop()


def test_page_script_never_parses_data_as_html():
    from importlib import resources

    js = (resources.files("cfplan.serve") / "static" / "workbench.js").read_text(encoding="utf-8")
    for banned in ("innerHTML", "insertAdjacentHTML", "eval(", "new Function", "document.write",
                   "http://", "https://"):
        assert banned not in js, banned
