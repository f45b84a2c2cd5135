r"""Benchmark a whole ``cfplan run`` at city scale, stage by stage: time and peak memory.

Reproduce (from the repository root, alone on the machine: this is a heavy job)::

    .venv/bin/pip install -e '.[bench]'
    .venv/bin/python benchmarks/city.py \\
        --units 3000 --facilities 20000 --nodes 1000000

The city is generated deterministically (``--seed``) into a cache folder
(``--cache``, default ``$XDG_CACHE_HOME/cfplan-bench`` or ``~/.cache/cfplan-bench``; never
in the repository) and reused by later runs with the same parameters:

* a district boundary around a ``cols × rows`` grid of 1 km units (社区, 村 at the edge)
  with population and children, grouped 5 × 5 into subdistricts (办事处);
* ``--facilities`` point facilities of 10 kinds (儿童之家, 家长学校, 幼儿园, 托育, 小学,
  初中, 公园, 游玩设施, 图书馆, 足球场) inside the units, some planned or under
  construction, 托位 on the childcare centres;
* a street network of about ``--nodes`` nodes written as ``.osm.pbf`` with pyosmium's
  writer: a jittered grid cut into block-long ways, primary roads every 20 lines with
  ``maxspeed``/``lanes``/``sidewalk`` and signals where they cross, secondary every 5,
  residential otherwise, a footway every 7th segment of the minor streets.

Then, in one process, ``cfplan.run(city, "jingkai", out)`` runs through the Python API,
exactly what ``cfplan run`` does, and each stage is timed by hooking the pipeline's
logging steps (records of the ``cfplan`` logger carry ``cfplan_step``: load, streets,
access, evaluate, export, map; the report is split from the exports by wrapping
``cfplan.pipeline.write_report``). Peak memory per stage is the highest resident set size
(``VmRSS`` in ``/proc/self/status``, sampled every 20 ms by a thread) while the stage
ran; the total is the process's high-water mark (``VmHWM``).

The peer, unless ``--peer none``: the street stage done the OSMnx way on the same PBF —
``graph_from_osm_file`` (pyosmium reads the PBF, filters it as OSMnx's walk filter does,
writes a filtered OSM XML that ``osmnx.graph_from_xml`` parses), ``project_graph`` and
the array ``street_network`` built from the graph. On a branch whose cfplan still loads
streets through OSMnx this *is* cfplan's own path, so the ratio says nothing but 1; once
the array street reader is in, it is the speed-up of the street stage. The last line
reads ``total_s=T peak_gb=M streets_ratio_vs_osmnx=R goal=met|not_met`` (goal: the whole
run under 60 s and 6 GB). A run is stopped past ``--budget`` seconds or ``--max-gb``; the
running stage is then printed as ``> T s`` and ``goal=not_met``.

Measured on the shared 2-core, 24 GB machine, 3,000 units / 20,000 facilities / 1M nodes
(a 3.9 MB PBF; generated in 15 s)::

    branch batch (OSMnx streets):   load 13.6 s  streets 347 s 7.8 GB   access > 239 s 11.8 GB
    batch merged with streets:      load  4.7 s  streets 11.8 s 1.8 GB  access > 403 s 5.5 GB
                                    (walking_access 8.2 s; the first service_areas call
                                    still running after 395 s)

Both were stopped in the access stage by the budget: the service areas (GEOS unions of
buffered street pieces, see the README's performance section) bound it; the map stage,
which simplifies the same polygons, comes next. 300 units / 2,000 facilities / 20k nodes,
merged: 105 s in all, service areas 47.8 s, the map's service-area layers 42.1 s,
``streets_ratio_vs_osmnx=11.3``.
"""

from __future__ import annotations

import argparse
import gc
import logging
import os
import re
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import ClassVar

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

CRS = "EPSG:4547"  # CGCS2000 3-degree Gauss-Kruger CM 114E, as in Zhengzhou
X0, Y0 = 440_000.0, 3_800_000.0  # south-west corner, about 113.35°E 34.33°N
UNIT_M = 1000.0
SUBDISTRICT_UNITS = 5
# kind -> share of the facilities (10 kinds)
KINDS = {
    "children_home": 0.135, "parent_school": 0.135, "kindergarten": 0.15, "childcare": 0.15,
    "primary_school": 0.10, "middle_school": 0.05, "park": 0.075, "play_facility": 0.10,
    "library": 0.04, "football_pitch": 0.065,
}
STAGES = ("load", "streets", "access", "evaluate", "exports", "report", "map")
# Parts of stages timed apart (module, function): what bounds a stage. A part missing on a
# branch is left out.
PARTS = (
    ("access", "cfplan.analysis.coverage", "walking_access"),
    ("access", "cfplan.analysis.coverage", "largest_component"),
    ("access", "cfplan.analysis.coverage", "service_areas"),
    ("map", "cfplan.maps.plan_map", "_add_service_areas"),
    ("map", "cfplan.maps.plan_map", "offline_html"),
)
GOAL_S, GOAL_GB = 60.0, 6.0


# --------------------------------------------------------------------------- memory


def _status_kb(field: str) -> int:
    with open("/proc/self/status", encoding="ascii") as fh:
        for line in fh:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


class RssSampler:
    """Sample this process's resident set size every ``interval`` s; peaks per window."""

    def __init__(self, interval: float = 0.02) -> None:
        self.interval = interval
        self.peak_kb = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak_kb = max(self.peak_kb, _status_kb("VmRSS"))
            self._stop.wait(self.interval)

    def start(self) -> RssSampler:
        """Start sampling in a daemon thread."""
        self._thread.start()
        return self

    def window(self) -> int:
        """Return the peak (kB) since the last call, and start a new window."""
        peak = max(self.peak_kb, _status_kb("VmRSS"))
        self.peak_kb = _status_kb("VmRSS")
        return peak

    def stop(self) -> None:
        """Stop sampling."""
        self._stop.set()
        self._thread.join()


# --------------------------------------------------------------------------- the city


def city_dims(n_units: int) -> tuple[int, int]:
    """Return the unit grid's columns and rows (about 6:5) holding ``n_units`` units."""
    rows = max(1, round(np.sqrt(n_units * 5 / 6)))
    cols = int(np.ceil(n_units / rows))
    return cols, rows


def write_city(folder: Path, *, n_units: int, n_facilities: int, n_nodes: int,
               seed: int) -> Path:
    """Write the synthetic city's layer folder (manifest, units, facilities, PBF streets)."""
    import geopandas as gpd
    import shapely

    from cfplan.geo.io import atomic_write_text, write_geojson

    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    cols, rows = city_dims(n_units)
    width, height = cols * UNIT_M, rows * UNIT_M

    # units on a grid, row-major, the last row partly filled
    idx = np.arange(n_units)
    col, row = idx % cols, idx // cols
    x0, y0 = X0 + col * UNIT_M, Y0 + row * UNIT_M
    units_geom = shapely.box(x0, y0, x0 + UNIT_M, y0 + UNIT_M)
    sd = [f"S{c // SUBDISTRICT_UNITS:02d}{r // SUBDISTRICT_UNITS:02d}"
          for c, r in zip(col, row, strict=True)]
    edge = (col == 0) | (col == cols - 1) | (row == 0) | (row == row.max())
    population = np.round(rng.gamma(4.0, 1500.0, n_units))
    units = gpd.GeoDataFrame({
        "编码": [f"U{i:05d}" for i in idx],
        "名称": [f"第{i + 1}{'村' if e else '社区'}" for i, e in zip(idx, edge, strict=True)],
        "类型": np.where(edge, "村", "社区"),
        "所属办事处": sd,
        "人口": population,
        "儿童人口": np.round(population * rng.uniform(0.12, 0.22, n_units)),
    }, geometry=units_geom, crs=CRS)
    write_geojson(units, folder / "units.geojson")
    sds = units.dissolve(by="所属办事处", as_index=False)[["所属办事处", "geometry"]]
    sds = sds.rename(columns={"所属办事处": "编码"})
    sds["名称"] = [f"{c}街道办事处" for c in sds["编码"]]
    write_geojson(sds[["编码", "名称", "geometry"]], folder / "subdistricts.geojson")
    district = gpd.GeoDataFrame({"名称": ["合成城市"]},
                                geometry=[shapely.union_all(units_geom)], crs=CRS)
    write_geojson(district, folder / "district.geojson")

    # facilities: random points inside random units (40 m from the unit's edge)
    kinds = np.array(list(KINDS))
    counts = np.floor(np.array(list(KINDS.values())) * n_facilities).astype(int)
    counts[0] += n_facilities - counts.sum()
    kind = np.repeat(kinds, counts)
    in_unit = rng.integers(0, n_units, n_facilities)
    fx = x0[in_unit] + rng.uniform(40, UNIT_M - 40, n_facilities)
    fy = y0[in_unit] + rng.uniform(40, UNIT_M - 40, n_facilities)
    status = rng.choice(np.array(["现状", "现状", "现状", "改建", "新建", "在建", "规划"]),
                        n_facilities)
    capacity = np.where(kind == "childcare", rng.integers(0, 120, n_facilities), np.nan)
    facilities = gpd.GeoDataFrame({
        "编号": [f"F{i:06d}" for i in range(n_facilities)],
        "名称": [f"设施{i}" for i in range(n_facilities)],
        "类别": kind,
        "状态": status,
        "年份": rng.integers(2015, 2026, n_facilities),
        "儿童友好": np.where(rng.random(n_facilities) < 0.5, "是", "否"),
        "托位": capacity,
    }, geometry=shapely.points(fx, fy), crs=CRS)
    write_geojson(facilities, folder / "facilities.geojson")

    write_streets_pbf(folder / "streets.osm.pbf", width=width, height=height,
                      n_nodes=n_nodes, rng=rng)
    atomic_write_text(folder / "layers.toml", f"""\
# Synthetic city for benchmarks/city.py (seed {seed}). SYNTHETIC DATA: not a real place.
[district]
name = "合成城市"
name_en = "Synthetic city"
synthetic = true

[layers.district]
file = "district.geojson"
[layers.subdistricts]
file = "subdistricts.geojson"
[layers.units]
file = "units.geojson"

[[facilities]]
file = "facilities.geojson"

[streets]
file = "streets.osm.pbf"
""")
    return folder


def write_streets_pbf(path: Path, *, width: float, height: float, n_nodes: int,
                      rng: np.random.Generator, way_nodes: int = 25) -> None:
    """Write a jittered street grid of about ``n_nodes`` nodes over the city as OSM PBF."""
    import osmium
    import pyproj
    from osmium.osm.mutable import Node, Way

    nx_ = max(2, round(np.sqrt(n_nodes * width / height)))
    ny_ = max(2, round(n_nodes / nx_))
    dx, dy = width / (nx_ - 1), height / (ny_ - 1)
    gx, gy = np.meshgrid(np.arange(nx_), np.arange(ny_))
    x = X0 + gx.ravel() * dx + rng.uniform(-0.15, 0.15, gx.size) * dx
    y = Y0 + gy.ravel() * dy + rng.uniform(-0.15, 0.15, gy.size) * dy
    lon, lat = pyproj.Transformer.from_crs(CRS, "EPSG:4326", always_xy=True).transform(x, y)
    ids = np.arange(1, gx.size + 1).reshape(ny_, nx_)

    def kind_of(line: int) -> dict[str, str]:
        if line % 20 == 0:
            return {"highway": "primary", "maxspeed": "60", "lanes": "6", "sidewalk": "both"}
        if line % 5 == 0:
            return {"highway": "secondary", "maxspeed": "40", "sidewalk": "both"}
        return {"highway": "residential"}

    path.unlink(missing_ok=True)
    writer = osmium.SimpleWriter(str(path))
    try:
        signals = {"highway": "traffic_signals"}
        for (r, c), nid in np.ndenumerate(ids):
            tags = signals if r % 20 == 0 and c % 20 == 0 else {}
            writer.add_node(Node(id=int(nid), location=(float(lon[nid - 1]),
                                                        float(lat[nid - 1])), tags=tags))
        way_id = 0
        for lines, along in ((ids, "row"), (ids.T, "col")):
            for n, line in enumerate(lines):
                base = kind_of(n)
                for start in range(0, len(line) - 1, way_nodes - 1):
                    refs = [int(v) for v in line[start:start + way_nodes]]
                    way_id += 1
                    tags = dict(base)
                    if base["highway"] == "residential" and way_id % 7 == 0:
                        tags = {"highway": "footway"}
                    tags["name"] = f"{'纬' if along == 'row' else '经'}{n}路"
                    writer.add_way(Way(id=way_id, nodes=refs, tags=tags))
    finally:
        writer.close()


def city_folder(cache: Path, *, n_units: int, n_facilities: int, n_nodes: int,
                seed: int) -> Path:
    """Return the cached city for these parameters, generating it on first use."""
    folder = cache / f"city-u{n_units}-f{n_facilities}-n{n_nodes}-s{seed}"
    done = folder / ".complete"
    if not done.is_file():
        start = time.perf_counter()
        print(f"generating {folder} ...", flush=True)
        write_city(folder, n_units=n_units, n_facilities=n_facilities, n_nodes=n_nodes,
                   seed=seed)
        done.write_text("ok\n", encoding="ascii")
        print(f"  generated in {time.perf_counter() - start:.1f} s", flush=True)
    return folder


# --------------------------------------------------------------------------- stages


class StageClock(logging.Handler):
    """Time the pipeline's stages from the ``cfplan_step`` of its log records."""

    NAMES: ClassVar[dict[str, str]] = {"export": "exports"}

    def __init__(self, sampler: RssSampler) -> None:
        super().__init__(logging.INFO)
        self.sampler = sampler
        self.current: str | None = None
        self.started = 0.0
        self.rows: list[tuple[str, float, float]] = []  # (stage, seconds, peak GB)
        self.parts: dict[str, list[float]] = {}  # "stage: function" -> [calls, seconds]

    def switch(self, stage: str | None) -> None:
        """Close the running stage (time, peak RSS) and start ``stage``."""
        now = time.perf_counter()
        peak = self.sampler.window() / 1024**2
        if self.current is not None:
            self.rows.append((self.current, now - self.started, peak))
            print(f"  {self.current:<9s} {now - self.started:8.2f} s   peak RSS "
                  f"{peak:6.2f} GB", flush=True)
        self.current, self.started = stage, now

    def emit(self, record: logging.LogRecord) -> None:
        """Start a new stage on each record that names a step."""
        step = getattr(record, "cfplan_step", None)
        if step:
            self.switch(self.NAMES.get(step, step))


@contextmanager
def wrapped(module: object, name: str, before: Callable[[], None],
            after: Callable[[], None]) -> Iterator[None]:
    """Call ``before``/``after`` around ``module.name`` while the context is open."""
    original = getattr(module, name)

    def wrapper(*args: object, **kwargs: object) -> object:
        before()
        try:
            return original(*args, **kwargs)
        finally:
            after()

    setattr(module, name, wrapper)
    try:
        yield
    finally:
        setattr(module, name, original)


def watchdog(clock: StageClock, budget_s: float, max_gb: float,
             started: float) -> threading.Event:
    """Stop the process past ``budget_s`` seconds or ``max_gb`` of memory, reporting so.

    The stages done are printed as usual and the one running as ``> T s (stopped)``; the
    last line then reads ``goal=not_met``. The machine is shared by a team: a stage that
    would run for an hour, or take the memory of the others, is stopped rather than waited for.
    """
    done = threading.Event()

    def watch() -> None:
        why = ""
        while not done.wait(0.5):
            if time.perf_counter() - started > budget_s:
                why = f"--budget {budget_s:.0f} s spent"
            elif _status_kb("VmRSS") / 1024**2 > max_gb:
                why = f"over --max-gb {max_gb:g} GB"
            if why:
                break
        else:
            return
        now = time.perf_counter()
        peak = clock.sampler.window() / 1024**2
        print(f"  {clock.current or '?':<9s} > {now - clock.started:7.2f} s   peak RSS "
              f"{peak:6.2f} GB   (stopped: {why})", flush=True)
        print_parts(clock)
        summary = " ".join(f"{s}_s={t:.2f}" for s, t, _ in clock.rows)
        print(f"{summary} {clock.current}_s>{now - clock.started:.0f}")
        print(f"total_s>{now - started:.0f} peak_gb={_status_kb('VmHWM') / 1024**2:.2f} "
              "streets_ratio_vs_osmnx=n/a goal=not_met", flush=True)
        os._exit(3)

    threading.Thread(target=watch, daemon=True).start()
    return done


def print_parts(clock: StageClock) -> None:
    """Print the time spent in each timed part, and a call still running."""
    now = time.perf_counter()
    for part, (calls, seconds, since) in clock.parts.items():
        running = f" + one running for {now - since:.1f} s" if since else ""
        print(f"    {part:<40s} {seconds:8.2f} s in {int(calls)} calls{running}", flush=True)


def timed_parts(clock: StageClock, stack: ExitStack) -> None:
    """Time the functions of :data:`PARTS` into ``clock.parts`` while ``stack`` is open."""
    import importlib

    for stage, module_name, name in PARTS:
        module = importlib.import_module(module_name)
        if not hasattr(module, name):
            continue
        acc = clock.parts.setdefault(f"{stage}: {name}", [0.0, 0.0, 0.0])

        def before(acc: list[float] = acc) -> None:
            acc[2] = time.perf_counter()

        def after(acc: list[float] = acc) -> None:
            acc[0] += 1
            acc[1] += time.perf_counter() - acc[2]
            acc[2] = 0.0

        stack.enter_context(wrapped(module, name, before, after))


def run_cfplan(folder: Path, out: Path, sampler: RssSampler, *, lang: str, budget_s: float,
               max_gb: float) -> tuple[list[tuple[str, float, float]], float]:
    """Run ``cfplan.run`` on the city; return the per-stage rows and the wall time."""
    import cfplan.pipeline as pipeline
    from cfplan.layers.log import logger

    clock = StageClock(sampler)
    logger.addHandler(clock)
    level = logger.level
    logger.setLevel(logging.INFO)
    start = time.perf_counter()
    done = watchdog(clock, budget_s, max_gb, start)
    try:
        with ExitStack() as stack:
            stack.enter_context(wrapped(pipeline, "write_report", lambda: clock.switch("report"),
                                        lambda: clock.switch("exports")))
            timed_parts(clock, stack)
            pipeline.run(folder, "jingkai", out, lang=lang)
        clock.switch(None)
    finally:
        done.set()
        logger.removeHandler(clock)
        logger.setLevel(level)
    # the exports resumed after the report are one stage with the exports before it
    rows: dict[str, list[float]] = {}
    for stage, seconds, peak in clock.rows:
        acc = rows.setdefault(stage, [0.0, 0.0])
        acc[0] += seconds
        acc[1] = max(acc[1], peak)
    print_parts(clock)
    return [(s, *rows[s]) for s in STAGES if s in rows], time.perf_counter() - start


def run_peer(folder: Path, sampler: RssSampler) -> tuple[float, float] | None:
    """Load the city's streets the OSMnx way; return (seconds, peak GB), or None if absent."""
    try:
        from cfplan.geo.graph import project_graph
        from cfplan.geo.osm_file import graph_from_osm_file
        from cfplan.geo.street_network import street_network
    except ImportError as exc:
        print(f"  peer unavailable: {exc}")
        return None
    sampler.window()
    start = time.perf_counter()
    graph = graph_from_osm_file(folder / "streets.osm.pbf", network_type="walk")
    t_read = time.perf_counter() - start
    graph = project_graph(graph, crs=CRS)
    t_project = time.perf_counter() - start - t_read
    network = street_network(graph)
    seconds = time.perf_counter() - start
    peak = sampler.window() / 1024**2
    print(f"  osmnx peer: graph_from_osm_file {t_read:.1f} s, project_graph "
          f"{t_project:.1f} s, street_network {seconds - t_read - t_project:.1f} s; "
          f"{network.n_nodes} nodes; total {seconds:.1f} s, peak RSS {peak:.2f} GB",
          flush=True)
    return seconds, peak


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--units", type=int, default=3000)
    parser.add_argument("--facilities", type=int, default=20000)
    parser.add_argument("--nodes", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--cache", type=Path, default=Path(
        os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "cfplan-bench")
    parser.add_argument("--out", type=Path, help="output folder (default: beside the city)")
    parser.add_argument("--peer", choices=("osmnx", "none"), default="osmnx")
    parser.add_argument("--lang", choices=("zh", "en"), default="zh")
    parser.add_argument("--budget", type=float, default=900.0,
                        help="stop after this many seconds of cfplan run (default 900)")
    parser.add_argument("--max-gb", type=float, default=12.0,
                        help="stop when the process holds more memory than this (default 12)")
    args = parser.parse_args(argv)

    folder = city_folder(args.cache, n_units=args.units, n_facilities=args.facilities,
                         n_nodes=args.nodes, seed=args.seed)
    out = args.out or folder.with_name(folder.name + "-out")
    sizes = {p.name: p.stat().st_size for p in folder.iterdir() if p.is_file()}
    print(f"city: {args.units} units, {args.facilities} facilities, ~{args.nodes} street "
          f"nodes; streets.osm.pbf {sizes['streets.osm.pbf'] / 1e6:.1f} MB", flush=True)
    sampler = RssSampler().start()
    print("cfplan run (stage, wall time, peak RSS during the stage):", flush=True)
    stages, total = run_cfplan(folder, out, sampler, lang=args.lang, budget_s=args.budget,
                               max_gb=args.max_gb)
    hwm = _status_kb("VmHWM") / 1024**2
    print(f"  {'total':<9s} {total:8.2f} s   peak RSS {hwm:6.2f} GB (high-water mark)")
    for stage, seconds, _ in stages:
        if seconds > 0.2 * total:
            print(f"  over 20% of the total: {stage} ({100 * seconds / total:.0f}%)")
    html = out / "map.html"
    if html.is_file():
        print(f"  map.html {html.stat().st_size / 1e6:.1f} MB")
    ratio = "n/a"
    if args.peer == "osmnx":
        gc.collect()
        peer = run_peer(folder, sampler)
        streets = dict((s, t) for s, t, _ in stages).get("streets")
        if peer is not None and streets:
            ratio = f"{peer[0] / streets:.2f}"
    sampler.stop()
    goal = "met" if total < GOAL_S and hwm < GOAL_GB else "not_met"
    summary = " ".join(re.sub(r"\s+", "", f"{s}_s={t:.2f}") for s, t, _ in stages)
    print(summary)
    print(f"total_s={total:.2f} peak_gb={hwm:.2f} streets_ratio_vs_osmnx={ratio} goal={goal}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
