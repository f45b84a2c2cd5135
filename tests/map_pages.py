"""Drive the reviewer's map in Chromium (Playwright) as a person does: mouse, keyboard, screen sizes.

The system Chromium (``make test`` installs Debian's) with the network off: every request
the page makes is recorded and only local URLs are allowed; dialogs are recorded and
dismissed; script errors are kept. Points on the map are computed in Python (shapely) and
projected by the page's own map (``latLngToContainerPoint``), then clicked with the mouse.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import shapely
from shapely.geometry import Polygon, box

LOCAL = ("file:", "data:", "about:", "blob:")
SIZES = ((1600, 1000), (1280, 720))
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
               "--disable-component-update", "--no-first-run", "--disable-sync",
               "--disable-quic", "--host-resolver-rules=MAP * ~NOTFOUND", "--hide-scrollbars"]
# Every panel and button a page opens with.
PANELS = ("#cf-panel", "#cf-legend", "#cf-layers", "#cf-selector", ".cf-banner",
          ".leaflet-control-zoom", ".leaflet-control-search",
          ".leaflet-control-measure", ".leaflet-control-scale", ".leaflet-control-attribution")
MAP = "cfplan.status.unit._map"


def chromium_path() -> str:
    """Return the system Chromium (``make chromium`` installs it)."""
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if not path:
        raise FileNotFoundError("Chromium is required: `make chromium` installs it with apt-get")
    return path


class MapPage:
    """One map open in a fresh browser context of a given screen size, network off."""

    def __init__(self, browser: Any, path: Path, *, width: int = 1600, height: int = 1000) -> None:
        self.width, self.height = width, height
        self.context = browser.new_context(viewport={"width": width, "height": height},
                                           offline=True, device_scale_factor=1)
        self.page = self.context.new_page()
        self.errors: list[str] = []
        self.requests: list[str] = []
        self.dialogs: list[str] = []
        self.page.on("pageerror", lambda e: self.errors.append(f"exception: {e}"))
        self.page.on("console", lambda m: self.errors.append(f"console: {m.text}")
                     if m.type in ("error", "assert") else None)
        self.page.on("request", lambda r: None if r.url.startswith(LOCAL)
                     else self.requests.append(r.url))
        self.page.on("dialog", self._dialog)
        self.page.goto(path.resolve().as_uri(), wait_until="load")
        self.page.wait_for_selector(".leaflet-marker-icon")
        self.page.wait_for_timeout(300)

    def _dialog(self, dialog: Any) -> None:
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def close(self) -> None:
        """Close the context (and its page)."""
        self.context.close()

    def js(self, expression: str, arg: object = None) -> Any:
        """Evaluate ``expression`` in the page (a function of ``arg`` when given)."""
        return self.page.evaluate(expression, arg) if arg is not None else \
            self.page.evaluate(expression)

    def clean(self) -> None:
        """Assert that the page made no request, threw nothing and opened no dialog."""
        assert self.requests == []
        assert self.errors == []
        assert self.dialogs == []

    # ------------------------------------------------------------------ geometry

    def to_screen(self, lonlat: np.ndarray) -> np.ndarray:
        """Project WGS-84 lon/lat pairs to page pixels with the page's own map."""
        xy = self.js(f"pts => pts.map(p => {{ var q = {MAP}.latLngToContainerPoint([p[1], p[0]]);"
                     f" var r = {MAP}.getContainer().getBoundingClientRect();"
                     " return [q.x + r.left, q.y + r.top]; })",
                     [[float(x), float(y)] for x, y in lonlat])
        return np.asarray(xy, dtype=float)

    def screen_polygon(self, geom: shapely.Geometry) -> shapely.Geometry:
        """Return a WGS-84 polygon in page pixels."""
        parts = []
        for poly in getattr(geom, "geoms", [geom]):
            ext = self.to_screen(np.asarray(poly.exterior.coords))
            holes = [self.to_screen(np.asarray(r.coords)) for r in poly.interiors]
            parts.append(Polygon(ext, holes))
        return shapely.union_all(parts)

    def element_at(self, x: float, y: float) -> str:
        """Return what the page has at a point: tag and classes of the top element."""
        return str(self.js("p => { var e = document.elementFromPoint(p[0], p[1]);"
                           " return e ? e.tagName + ' ' + (e.getAttribute('class') || '') : ''; }",
                           [x, y]))

    def free_point(self, geom: shapely.Geometry) -> tuple[float, float]:
        """Return a page point inside ``geom`` (WGS-84) with no marker or control on it.

        The projected representative point (shapely) first; if a marker, a cluster or a
        panel lies there, the nearest free point of a 5-pixel grid inside the polygon.
        """
        shape = self.screen_polygon(geom).buffer(-4)
        rep = shape.representative_point()
        candidates = [(rep.x, rep.y)]
        x0, y0, x1, y1 = shape.bounds
        grid = [(x, y) for x in np.arange(x0, x1, 5.0) for y in np.arange(y0, y1, 5.0)
                if shape.contains(shapely.Point(x, y))]
        grid.sort(key=lambda p: (p[0] - rep.x) ** 2 + (p[1] - rep.y) ** 2)
        for x, y in candidates + grid:
            if not (0 < x < self.width and 0 < y < self.height):
                continue
            what = self.element_at(x, y)
            if what.startswith(("svg", "path")) or "leaflet-container" in what:
                return float(x), float(y)
        raise AssertionError("no free point inside the polygon")

    # ------------------------------------------------------------------ popups

    def click(self, x: float, y: float) -> None:
        """Click with the mouse at page point ``(x, y)``."""
        self.page.mouse.click(x, y)

    def close_popup(self) -> None:
        """Close the open popup with its × button (the mouse)."""
        button = self.page.locator(".leaflet-popup-close-button")
        if button.count():
            button.first.click()
        self.page.wait_for_selector(".leaflet-popup", state="detached")

    def popup_pages(self) -> list[dict[str, Any]]:
        """Return every page of the open popup, paging with the › button (the mouse).

        Each page: ``layer`` (the layer's name), ``title`` and ``rows`` (header → value
        lines).
        """
        self.page.wait_for_selector(".leaflet-popup-content .cf-page")
        count = self.page.locator(".leaflet-popup-content .cf-count").text_content() or "1/1"
        total = int(count.split("/")[1])
        pages = []
        for i in range(total):
            if i:
                self.page.locator(".leaflet-popup-content .cf-next").click()
            pages.append(self.js("""() => {
                var c = document.querySelector('.leaflet-popup-content');
                var rows = {};
                c.querySelectorAll('.cf-pop tr').forEach(function (tr) {
                  var td = tr.querySelector('td');
                  var lines = Array.from(td.querySelectorAll('.cf-line')).map(d => d.textContent);
                  rows[tr.querySelector('th').textContent] = lines.length ? lines : [td.textContent];
                });
                return {layer: c.querySelector('.cf-page-layer').textContent,
                        title: c.querySelector('.cf-pop-title').textContent,
                        count: c.querySelector('.cf-count').textContent, rows: rows,
                        text: c.innerText};
            }"""))
        return pages

    # ------------------------------------------------------------------ panels, text

    def panel_rects(self) -> dict[str, list[float]]:
        """Return every shown panel's page rectangle ``[left, top, right, bottom]``."""
        return self.js("""sels => { var out = {};
            sels.forEach(function (sel) { document.querySelectorAll(sel).forEach(function (e, i) {
              var r = e.getBoundingClientRect();
              if (r.width && r.height && getComputedStyle(e).display !== 'none')
                out[sel + i] = [r.left, r.top, r.right, r.bottom]; }); });
            return out; }""", list(PANELS))

    def panel_coverage(self, district: shapely.Geometry) -> dict[str, float]:
        """Return each panel's share of the district's area on the screen (0–1)."""
        shape = self.screen_polygon(district).intersection(box(0, 0, self.width, self.height))
        return {name: shape.intersection(box(*r)).area / shape.area
                for name, r in self.panel_rects().items()}

    def visible_text(self) -> str:
        """Return the page's visible text (``innerText``: what a reader sees)."""
        return str(self.js("document.body.innerText"))

    def open_panels(self) -> None:
        """Unfold every folded panel with a mouse click on its header."""
        for sel in ("#cf-layers", "#cf-panel", "#cf-legend"):
            if "cf-collapsed" in (self.page.locator(sel).get_attribute("class") or ""):
                self.page.locator(f"{sel} .cf-box-head").click()

    def fold_panels(self) -> None:
        """Fold the layer control and the targets panel again (mouse)."""
        for sel in ("#cf-layers", "#cf-panel"):
            if "cf-collapsed" not in (self.page.locator(sel).get_attribute("class") or ""):
                self.page.locator(f"{sel} .cf-box-head").click()

    def broken_words(self, word: str) -> int:
        """Return how many shown occurrences of ``word`` are split over two lines."""
        return int(self.js("""w => { var n = 0, walk = document.createTreeWalker(document.body,
              NodeFilter.SHOW_TEXT);
            while (walk.nextNode()) { var t = walk.currentNode, i = t.data.indexOf(w);
              while (i >= 0) { var r = document.createRange(); r.setStart(t, i);
                r.setEnd(t, i + w.length);
                var tops = new Set(Array.from(r.getClientRects()).filter(b => b.width)
                                   .map(b => Math.round(b.top)));
                if (tops.size > 1) n++;
                i = t.data.indexOf(w, i + 1); } }
            return n; }""", word))

    def legend_lines(self) -> list[str]:
        """Return the legend's lines (swatch labels) as shown."""
        return self.js("Array.from(document.querySelectorAll('#cf-legend .cf-leg > span:last-child'))"
                       ".map(e => e.textContent)")

    def layer_entry(self, name: str) -> Any:
        """Return the layer control's checkbox of the entry called ``name``."""
        return self.page.locator("#cf-layers .cf-layer", has_text=re.compile(
            "^\\s*" + re.escape(name) + "\\s*$")).locator("input")

    def zoom_to(self, zoom: float) -> None:
        """Zoom the map (no animation) and let it settle."""
        self.js(f"z => {{ {MAP}.setZoom(z, {{animate: false}}); return true; }}", zoom)
        self.page.wait_for_timeout(400)


def units_wgs84(layers: Any) -> gpd.GeoDataFrame:
    """Return the units in WGS-84 indexed by code."""
    return layers.units.to_crs("EPSG:4326").set_index("code")


__all__ = ["LAUNCH_ARGS", "LOCAL", "PANELS", "SIZES", "MapPage", "chromium_path", "units_wgs84"]
