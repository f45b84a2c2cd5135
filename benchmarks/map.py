"""Benchmark the reviewer's map at city scale: file size and Chromium's time to draw it.

Reproduce (from the repository root; heavy, so alone on the machine)::

    .venv/bin/python benchmarks/map.py
    .venv/bin/python benchmarks/map.py --units 300 --facilities 2000

A synthetic, deterministic city (seed 0): ``--units`` square 400 m units (3,000: a
60 x 50 grid, 24 km x 20 km, 30 subdistricts) with 3,000-12,000 residents each; a street
grid every 120 m (written as OSM XML, loaded by cfplan like any street file); ``--facilities``
point facilities (20,000) of 10 kinds, placed at random beside the streets; walking access
and 5/10/15-minute service areas for those 10 kinds (the 8 with a standard radius, plus
儿童之家 and 家长学校 at 500 m), by cfplan's own pipeline. The map is built by
``cfplan.maps.plan_map.build_map`` with streets, service areas and the 经开区 plan's results.

Peer, in the same run on the same layers: plain folium, without cfplan's display
simplification or clustering -- ``folium.GeoJson`` for units, subdistricts, streets and
service areas at full export precision (7 decimals, no simplification), with
``GeoJsonTooltip``/``GeoJsonPopup``, and one ``folium.Marker`` with a ``DivIcon`` and a
tooltip per facility (folium's string popups need jQuery from a CDN). Both pages get Leaflet inlined (``offline_html``) so that both draw offline.

Timed: building the map in Python; the page's size; and in headless Chromium (the system
Chromium through Playwright as in the browser tests, network off, 1600 x 1000) the time from navigation to the load event and to
the first marker or cluster painted (two animation frames after it is in the DOM). Goals:
under 30 MB and under 5 s. The last line reads
``size_ratio=R draw_ratio=D goal_size=met|missed goal_draw=met|missed``, ratios being the
peer's over cfplan's.

Measured (2-core machine shared with other jobs, load average 6.5, Chromium 156, after #18):
cfplan 24.5 MB, load event 2.43 s, first markers painted 2.79 s, built in 16.7-44.7 s (goals
met); the prepared city took 1,090 s (service-area unions). Plain folium had not finished
building its page after 29 min (3.8 GB resident) and was stopped; at 300 units / 2,000
facilities it wrote 22.9 MB.
Use ``--skip-peer`` to time cfplan's map alone.
"""

from __future__ import annotations

import argparse
import json
import pickle
import sys
import tempfile
import time
from pathlib import Path
from xml.sax.saxutils import quoteattr

import folium
import geopandas as gpd
import numpy as np
import pyproj
from shapely.geometry import Point, box

from cfplan.analysis.coverage import scenario_coverage
from cfplan.analysis.evaluate import evaluate_plan
from cfplan.analysis.plan import load_plan
from cfplan.geo.io import rfc7946_geometries, write_geojson
from cfplan.layers.kinds import FACILITY_KINDS
from cfplan.layers.load import load_layers
from cfplan.layers.streets import load_streets
from cfplan.maps.plan_map import build_map, offline_html

CRS = "EPSG:4547"
ORIGIN = (470_000.0, 3_830_000.0)
CELL = 400.0
STREET = 120.0
KINDS = ("kindergarten", "primary_school", "middle_school", "childcare", "park",
         "play_facility", "library", "football_pitch", "children_home", "parent_school")
EXTRA_RADII = {"children_home": 500.0, "parent_school": 500.0}
PAINTED = """new Promise(function (done, fail) {
  var deadline = performance.now() + 300000;
  (function check() {
    if (performance.now() > deadline) fail(new Error('no marker painted in 300 s'));
    else if (document.querySelector('.leaflet-marker-icon'))
      requestAnimationFrame(function () { requestAnimationFrame(function () {
        done(performance.now()); }); });
    else setTimeout(check, 10);
  })();
})"""


def synthetic_city(folder: Path, *, units: int, facilities: int, seed: int = 0) -> Path:
    """Write a synthetic city's layer folder (units, subdistricts, facilities, streets)."""
    rng = np.random.default_rng(seed)
    cols = 60 if units >= 600 else max(1, int(np.sqrt(units * 1.2)))
    rows = -(-units // cols)
    folder.mkdir(parents=True, exist_ok=True)
    recs, geoms = [], []
    for i in range(units):
        c, r = i % cols, i // cols
        geoms.append(box(ORIGIN[0] + c * CELL, ORIGIN[1] + r * CELL,
                         ORIGIN[0] + (c + 1) * CELL, ORIGIN[1] + (r + 1) * CELL))
        pop = int(rng.integers(3000, 12000))
        recs.append({"编码": f"U{i:04d}", "名称": f"第{i:04d}社区", "类型": "社区",
                     "所属办事处": f"S{(r // 10) * 10 + c // 10:02d}", "人口": pop,
                     "儿童人口": int(pop * 0.18)})
    write_geojson(gpd.GeoDataFrame(recs, geometry=geoms, crs=CRS), folder / "units.geojson")
    sds = {}
    for rec, g in zip(recs, geoms, strict=True):
        sds.setdefault(rec["所属办事处"], []).append(g)
    sd = gpd.GeoDataFrame([{"编码": k, "名称": f"第{k[1:]}街道"} for k in sds],
                          geometry=[gpd.GeoSeries(v).union_all() for v in sds.values()], crs=CRS)
    write_geojson(sd, folder / "subdistricts.geojson")
    width, height = cols * CELL, rows * CELL
    # Facilities beside the streets: a random grid line, a random point on it, 10-30 m off.
    along = rng.uniform(0, 1, facilities)
    vertical = rng.random(facilities) < 0.5
    nx_, ny_ = int(width // STREET), int(height // STREET)
    line = np.where(vertical, rng.integers(0, nx_ + 1, facilities), rng.integers(0, ny_ + 1, facilities))
    off = rng.uniform(10, 30, facilities) * rng.choice([-1, 1], facilities)
    x = np.where(vertical, line * STREET + off, along * width)
    y = np.where(vertical, along * height, line * STREET + off)
    x, y = np.clip(x, 5, width - 5), np.clip(y, 5, height - 5)
    kinds = rng.choice(len(KINDS), facilities)
    fac = [{"编号": f"F{i:05d}", "名称": f"{FACILITY_KINDS[KINDS[k]].zh}{i:05d}",
            "类别": FACILITY_KINDS[KINDS[k]].zh, "状态": "现状", "年份": 2015}
           for i, k in enumerate(kinds)]
    pts = [Point(ORIGIN[0] + a, ORIGIN[1] + b) for a, b in zip(x, y, strict=True)]
    write_geojson(gpd.GeoDataFrame(fac, geometry=pts, crs=CRS), folder / "facilities.geojson")
    (folder / "streets.osm").write_text(_grid_osm(width, height), encoding="utf-8")
    (folder / "layers.toml").write_text(
        '[district]\nname = "合成城市"\nname_en = "Synthetic city"\nsynthetic = true\n\n'
        '[layers.units]\nfile = "units.geojson"\n\n[layers.subdistricts]\n'
        'file = "subdistricts.geojson"\n\n[[facilities]]\nfile = "facilities.geojson"\n\n'
        '[streets]\nfile = "streets.osm"\n', encoding="utf-8")
    return folder


def _grid_osm(width: float, height: float) -> str:
    to_wgs = pyproj.Transformer.from_crs(CRS, "EPSG:4326", always_xy=True)
    xs = np.arange(0, width + 1, STREET)
    ys = np.arange(0, height + 1, STREET)
    gx, gy = np.meshgrid(xs, ys, indexing="ij")
    lon, lat = to_wgs.transform(ORIGIN[0] + gx, ORIGIN[1] + gy)
    ids = np.arange(1, gx.size + 1).reshape(gx.shape)
    out = ['<?xml version="1.0" encoding="UTF-8"?>', '<osm version="0.6">']
    out += [f'<node id="{n}" version="1" lat="{la:.7f}" lon="{lo:.7f}"/>'
            for n, lo, la in zip(ids.ravel(), lon.ravel(), lat.ravel(), strict=True)]
    way = 1
    for i in range(len(xs)):
        out.append(f'<way id="{way}" version="1">' + "".join(f'<nd ref="{n}"/>' for n in ids[i])
                   + f'<tag k="highway" v={quoteattr("residential")}/></way>')
        way += 1
    for j in range(len(ys)):
        out.append(f'<way id="{way}" version="1">' + "".join(f'<nd ref="{n}"/>' for n in ids[:, j])
                   + f'<tag k="highway" v={quoteattr("tertiary")}/></way>')
        way += 1
    out.append("</osm>")
    return "\n".join(out) + "\n"


def plain_folium(layers: object, areas: gpd.GeoDataFrame, streets: gpd.GeoDataFrame) -> folium.Map:
    """Return the same layers the plain folium way: full precision, a marker per facility."""
    b = layers.district.to_crs("EPSG:4326").total_bounds
    m = folium.Map(location=[(b[1] + b[3]) / 2, (b[0] + b[2]) / 2], zoom_start=12, tiles=None)

    def gj(gdf: gpd.GeoDataFrame, fields: list[str], name: str, style: dict) -> None:
        feats = [{"type": "Feature", "properties": {f: str(r[f]) for f in fields}, "geometry": g}
                 for (_, r), g in zip(gdf.iterrows(), rfc7946_geometries(gdf.geometry),
                                      strict=True) if g is not None]
        folium.GeoJson({"type": "FeatureCollection", "features": feats}, name=name,
                       style_function=lambda f, s=style: s,
                       tooltip=folium.GeoJsonTooltip(fields=fields[:1]) if fields else None,
                       popup=folium.GeoJsonPopup(fields=fields) if fields else None).add_to(m)

    gj(layers.units, ["name", "code", "population"], "units", {"weight": 1})
    gj(layers.subdistricts, ["name", "code"], "subdistricts", {"weight": 3, "fill": False})
    gj(streets[["geometry"]], [], "streets", {"weight": 1})
    for kind, sub in areas.groupby("kind"):
        gj(sub, ["kind", "minutes"], f"bands {kind}", {"weight": 0, "fillOpacity": 0.2})
    fac = layers.facilities.to_crs("EPSG:4326")
    for kind, sub in fac.groupby("kind"):
        group = folium.FeatureGroup(name=kind).add_to(m)
        k = FACILITY_KINDS[kind]
        for _, r in sub.iterrows():
            # A tooltip, not a popup: folium's string popups need jQuery (a CDN script).
            folium.Marker([r.geometry.y, r.geometry.x], tooltip=f"{r['name']} {r['fid']}",
                          icon=folium.DivIcon(html=f"<div class='cf-ico' style='background:"
                                                   f"{k.color}'>{k.symbol}</div>")).add_to(group)
    folium.LayerControl().add_to(m)
    return m


# The browser tests' Chromium: the system's, through Playwright, network off.
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run"]


def draw(path: Path) -> tuple[float, float, int]:
    """Return (load s, painted s, errors) for the page in headless Chromium (Playwright)."""
    from playwright.sync_api import sync_playwright

    errors: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport={"width": 1600, "height": 1000}, offline=True)
            page = context.new_page()
            page.set_default_timeout(600_000)
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.on("request", lambda r: None if r.url.startswith(("file:", "data:", "about:", "blob:"))
                    else errors.append(r.url))
            t = time.perf_counter()
            page.goto(path.resolve().as_uri(), wait_until="load", timeout=600_000)
            load = time.perf_counter() - t
            painted = float(page.evaluate(PAINTED)) / 1000.0
        finally:
            browser.close()
    return load, painted, len(errors)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--units", type=int, default=3000)
    parser.add_argument("--facilities", type=int, default=20000)
    parser.add_argument("--out", default="", help="work folder; a second run there reuses the "
                        "prepared city (prepared-*.pkl) and only times the maps")
    parser.add_argument("--skip-peer", action="store_true")
    args = parser.parse_args(argv)
    out = Path(args.out or tempfile.mkdtemp(prefix="cfplan-mapbench-"))
    t0 = time.perf_counter()
    plan = load_plan("jingkai")
    cache = out / f"prepared-{args.units}-{args.facilities}.pkl"
    if cache.exists():  # the city, its walking access and results from an earlier run
        layers, lines, cov = pickle.loads(cache.read_bytes())
    else:
        folder = synthetic_city(out / "city", units=args.units, facilities=args.facilities)
        layers = load_layers(folder)
        streets = load_streets(layers)
        cov = scenario_coverage(layers, streets.graph, plan=plan, radii=EXTRA_RADII)
        lines = streets.lines
        cache.write_bytes(pickle.dumps((layers, lines, cov)))
    results = evaluate_plan(plan, layers, coverage=cov.coverage)
    t1 = time.perf_counter()
    areas = cov.service_areas
    print(f"city: {len(layers.units)} units, {len(layers.facilities)} facilities, "
          f"{areas['kind'].nunique()} kinds with service areas ({len(areas)} bands), "
          f"{len(lines)} street lines; prepared in {t1 - t0:.1f} s", flush=True)

    t = time.perf_counter()
    m = build_map(plan, layers, results, streets=lines, service_areas=areas,
                  coverage=cov.coverage)
    page = out / "map.html"
    page.write_text(offline_html(m), encoding="utf-8")
    build_s = time.perf_counter() - t
    size = page.stat().st_size / 1e6
    load, painted, bad = draw(page)
    print(f"cfplan: build {build_s:.1f} s, {size:.1f} MB, load event {load:.2f} s, "
          f"first markers painted {painted:.2f} s, errors {bad}", flush=True)

    size_ratio = draw_ratio = float("nan")
    if not args.skip_peer:
        t = time.perf_counter()
        peer = out / "peer.html"
        peer.write_text(offline_html(plain_folium(layers, areas, lines)), encoding="utf-8")
        peer_build = time.perf_counter() - t
        peer_size = peer.stat().st_size / 1e6
        try:
            p_load, p_painted, p_bad = draw(peer)
        except (TimeoutError, RuntimeError):
            p_load = p_painted = float("inf")
            p_bad = -1
        print(f"plain folium: build {peer_build:.1f} s, {peer_size:.1f} MB, load event "
              f"{p_load:.2f} s, first markers painted {p_painted:.2f} s, errors {p_bad}",
              flush=True)
        size_ratio, draw_ratio = peer_size / size, p_painted / painted
    print(json.dumps({"units": len(layers.units), "facilities": len(layers.facilities),
                      "size_mb": round(size, 2), "painted_s": round(painted, 2)}))
    print(f"size_ratio={size_ratio:.2f} draw_ratio={draw_ratio:.2f} "
          f"goal_size={'met' if size < 30 else 'missed'} "
          f"goal_draw={'met' if painted < 5 else 'missed'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
