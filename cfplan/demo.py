"""The embedded demo district: a synthetic district near Zhengzhou with designed gaps.

Run ``python -m cfplan.demo`` (default output: ``cfplan/demo_data``) to regenerate the shipped files.
Everything is deterministic: the same code writes the same bytes.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from xml.sax.saxutils import quoteattr

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely
from shapely.geometry import LineString, Point, Polygon, box

from cfplan.analysis.plan import load_plan
from cfplan.geo.crs import wgs84_to_gcj02
from cfplan.geo.io import atomic_write_text, write_geojson
from cfplan.geo.vector_files import FIXED_DATE

DEMO_DIR = Path(__file__).parent / "demo_data"
DEMO_CRS = "EPSG:4547"
# South-west corner of the district, in EPSG:4547 metres (about 113.78°E, 34.70°N).
ORIGIN = (481_800.0, 3_840_000.0)
CELL = 900.0
COLS = ROWS = 6
SIZE = CELL * COLS
RIVER_X = 3600.0
BRIDGES_Y = (600.0, 2700.0)

SUBDISTRICTS = (
    ("S1", "河滨办事处", (0, 1, 2), (0, 1)),
    ("S2", "东风办事处", (3, 4, 5), (0, 1)),
    ("S3", "青松办事处", (0, 1), (2, 3, 4, 5)),
    ("S4", "白杨办事处", (2, 3), (2, 3, 4, 5)),
    ("S5", "望湖办事处", (4, 5), (2, 3, 4, 5)),
)
COMMUNITY_NAMES = (
    "朝阳", "和平", "锦绣", "幸福", "阳光", "春晖", "桂园", "书香", "清风", "翠竹", "金桥", "明珠",
    "新华", "丰收", "荷花", "安康", "文昌", "康宁", "永安", "祥和", "瑞景", "星河", "枫林", "紫荆",
    "海棠", "玉兰",
)
VILLAGE_NAMES = ("李庄", "王营", "张湾", "刘寨", "陈岗", "杨楼", "赵沟", "孙河", "周庄", "吴营")

# Designed gaps (documented in the README and asserted by tests/test_demo_gaps.py).
NO_CHILDREN_HOME = ("U06", "U17", "U23", "U34")  # U17 has one planned
NO_PARENT_SCHOOL = ("U14", "U33", "U36")  # two 社区 and one 村
STATION_SUBDISTRICTS = ("S1", "S2", "S3")  # S4 planned, S5 none
LAW_BASE_SUBDISTRICTS = ("S1", "S2", "S3", "S4")


@dataclass(frozen=True)
class Unit:
    """A demo 社区/村: grid cell (col, row), code, name, type and subdistrict."""

    code: str
    col: int
    row: int
    name: str
    unit_type: str
    subdistrict: str


def _subdistrict_of(col: int, row: int) -> str:
    for code, _, cols, rows in SUBDISTRICTS:
        if col in cols and row in rows:
            return code
    raise AssertionError((col, row))


def demo_units() -> list[Unit]:
    """Return the 36 demo units in code order (U01 is the south-west cell, row by row)."""
    units = []
    c_iter = iter(COMMUNITY_NAMES)
    v_iter = iter(VILLAGE_NAMES)
    for row in range(ROWS):
        for col in range(COLS):
            code = f"U{row * COLS + col + 1:02d}"
            village = col >= 4 and (row >= 2 or col == 5)
            name = f"{next(v_iter)}村" if village else f"{next(c_iter)}社区"
            units.append(Unit(code, col, row, name, "村" if village else "社区",
                              _subdistrict_of(col, row)))
    return units


def _vertex_grid(rng: np.random.Generator) -> np.ndarray:
    """Jittered cell corners; the river column (x = 3600 m) and the outer edge stay straight."""
    xs = np.arange(COLS + 1) * CELL
    ys = np.arange(ROWS + 1) * CELL
    gx, gy = np.meshgrid(xs, ys, indexing="ij")
    jitter = rng.uniform(-70, 70, size=(2, COLS + 1, ROWS + 1))
    inner = np.zeros_like(gx, dtype=bool)
    inner[1:-1, 1:-1] = True
    jx = np.where(inner & (gx != RIVER_X), jitter[0], 0.0)
    jy = np.where(inner, jitter[1], 0.0)
    return np.stack([gx + jx, gy + jy], axis=-1).round(1)


def _cell(grid: np.ndarray, col: int, row: int) -> Polygon:
    corners = [grid[col, row], grid[col + 1, row], grid[col + 1, row + 1], grid[col, row + 1]]
    return Polygon([tuple(c) for c in corners])


def _centre(col: int, row: int) -> tuple[float, float]:
    return (col * CELL + CELL / 2, row * CELL + CELL / 2)


# Facilities stand beside a street, inside their unit, apart from each other.
MIN_SPACING = 70.0  # m between two facilities
SPREAD_TRIES = 25  # candidate sites drawn per school, kindergarten, play facility or park
STREET_OFFSET = (12.0, 35.0)  # m from the street's centre line
EDGE_CLEARANCE = 25.0  # m inside the unit's boundary
# 小学 P05 (across 示范大道 from U26, the designed unsafe crossing) and 初中 M01 end the
# demo's school routes: they stay at fixed spots.
# The new play facilities of 丰收社区 (PL08) and 祥和社区 (PL09) stand at 阳光游园 (PK3) and
# 星河公园 (PK4, planned), 30 m off their edges: task 33b counts play facilities added in or at
# parks (within 50 m): 1 now, 2 once planned. Off the edge, their glyphs stay clear of the parks'.
FIXED_SITES = {"P05": (_centre(2, 4)[0] - 150, _centre(2, 4)[1] + 60),
               "M01": (_centre(2, 1)[0] + 150, _centre(2, 1)[1] + 150),
               "PL08": (3045.0, 1980.0), "PL09": (1190.0, 3720.0)}  # 30 m off the park edge


class _Sites:
    """Draws facility sites from the seeded generator: inside a unit, near a street, spread.

    Each site lies ``STREET_OFFSET`` metres to one side of a street (footways excluded),
    at least ``EDGE_CLEARANCE`` inside its unit, at least ``MIN_SPACING`` from every site
    already drawn and outside every park polygon.
    """

    def __init__(self, units: list[Unit], polygons: list[Polygon],
                 rng: np.random.Generator, parks: list[Polygon]) -> None:
        self.rng = rng
        self.inner = {u.code: p.buffer(-EDGE_CLEARANCE) for u, p in zip(units, polygons,
                                                                          strict=True)}
        lines = [LineString([(s.at, s.start), (s.at, s.end)]) if s.axis == "x"
                 else LineString([(s.start, s.at), (s.end, s.at)])
                 for s in _street_plan() if s.tags["highway"] != "footway"]
        self.streets = {code: [line for line in lines if line.intersects(poly)]
                        for code, poly in self.inner.items()}
        self.parks = shapely.union_all(parks) if parks else Polygon()
        # a park's glyph stands at its representative point: keep other glyphs clear of it
        self.placed: list[tuple[float, float]] = list(FIXED_SITES.values()) + [
            (p.representative_point().x, p.representative_point().y) for p in parks]
        self.by_kind: dict[str, list[tuple[float, float]]] = {
            "primary_school": [FIXED_SITES["P05"]], "middle_school": [FIXED_SITES["M01"]]}

    def _far_enough(self, x: float, y: float, spacing: float) -> bool:
        if not self.placed:
            return True
        pts = np.asarray(self.placed)
        return bool((np.hypot(pts[:, 0] - x, pts[:, 1] - y) >= spacing).all())

    def _street_point(self, code: str) -> tuple[float, float, bool]:
        """Return a random point on a street in unit ``code`` and whether it runs north-south."""
        streets = [s for s in (line.intersection(self.inner[code]) for line in self.streets[code])
                   if not s.is_empty]
        lengths = np.array([s.length for s in streets])
        street = streets[int(self.rng.choice(len(streets), p=lengths / lengths.sum()))]
        p = street.interpolate(float(self.rng.uniform(0, street.length)))
        (x0, y0), (x1, y1) = street.coords[0], street.coords[-1]
        return round(p.x, 1), round(p.y, 1), abs(x1 - x0) < abs(y1 - y0)

    def _candidate(self, code: str, spacing: float) -> tuple[float, float] | None:
        x, y, vertical = self._street_point(code)
        off = float(self.rng.uniform(*STREET_OFFSET)) * float(self.rng.choice((-1, 1)))
        x, y = (x + off, y) if vertical else (x, y + off)
        x, y = round(x, 1), round(y, 1)
        pt = Point(x, y)
        if self.inner[code].contains(pt) and not self.parks.intersects(pt.buffer(10)) and \
                self._far_enough(x, y, spacing):
            return x, y
        return None

    def draw(self, code: str, *, kind: str = "", tries: int = 1) -> tuple[float, float]:
        """Return a new site in unit ``code`` (local metres, rounded to 0.1 m).

        With ``kind`` and ``tries > 1``, ``tries`` valid sites are drawn and the one
        farthest from every site of the same kind is kept (best-candidate sampling):
        the way a district spreads its schools and parks to serve its residents.
        """
        spacing = MIN_SPACING
        found: list[tuple[float, float]] = []
        for attempt in range(4000):
            if attempt and attempt % 500 == 0 and not found:
                spacing *= 0.8  # a crowded unit: accept closer neighbours
            site = self._candidate(code, spacing)
            if site is not None:
                found.append(site)
                if len(found) >= tries:
                    break
        if not found:
            raise AssertionError(f"no site left in {code}")
        same = np.asarray(self.by_kind.get(kind, []))
        if kind and len(same) and len(found) > 1:
            pts = np.asarray(found)
            gap = np.hypot(pts[:, None, 0] - same[None, :, 0],
                           pts[:, None, 1] - same[None, :, 1]).min(axis=1)
            best = found[int(np.argmax(gap))]
        else:
            best = found[0]
        self.placed.append(best)
        if kind:
            self.by_kind.setdefault(kind, []).append(best)
        return best

    def draw_park(self, code: str, *, width: float = 125.0, depth: float = 85.0) -> Polygon:
        """Return a new park rectangle (≥ 1 ha) in unit ``code``, its long side along a street.

        Of :data:`SPREAD_TRIES` valid rectangles, the one farthest from every park is kept.
        """
        inner = self.inner[code]
        found: list[Polygon] = []
        for _ in range(4000):
            x, y, vertical = self._street_point(code)
            side = float(self.rng.choice((-1, 1)))
            near, far = sorted((10.0 * side, (10.0 + depth) * side))
            if vertical:
                park = box(x + near, y - width / 2, x + far, y + width / 2)
            else:
                park = box(x - width / 2, y + near, x + width / 2, y + far)
            cx, cy = park.centroid.x, park.centroid.y
            if inner.contains(park) and not self.parks.intersects(park.buffer(30)) and \
                    self._far_enough(cx, cy, MIN_SPACING + width / 2):
                found.append(park)
                if len(found) >= SPREAD_TRIES:
                    break
        if not found:
            raise AssertionError(f"no room for a park in {code}")
        best = max(found, key=lambda g: self.parks.distance(g.centroid))
        self.parks = self.parks.union(best)
        self.placed.append((best.representative_point().x, best.representative_point().y))
        return best

    def fixed(self, fid: str) -> tuple[float, float]:
        """Return the fixed site of ``fid`` (see :data:`FIXED_SITES`)."""
        return FIXED_SITES[fid]


class _Frame:
    """Local metres → EPSG:4547 → WGS-84 helper."""

    def __init__(self) -> None:
        self.to_wgs = pyproj.Transformer.from_crs(DEMO_CRS, "EPSG:4326", always_xy=True)

    def gdf(self, records: list[dict[str, object]], geoms: list[object]) -> gpd.GeoDataFrame:
        shifted = [shapely.affinity.translate(g, ORIGIN[0], ORIGIN[1]) for g in geoms]
        return gpd.GeoDataFrame(records, geometry=shifted, crs=DEMO_CRS).to_crs("EPSG:4326")

    def lonlat(self, x: float, y: float) -> tuple[float, float]:
        lon, lat = self.to_wgs.transform(ORIGIN[0] + x, ORIGIN[1] + y)
        return round(lon, 7), round(lat, 7)


# --------------------------------------------------------------------------- streets


@dataclass
class _Street:
    axis: str  # "x": runs north-south at constant x; "y": east-west at constant y
    at: float
    start: float
    end: float
    tags: dict[str, str]


def _street_plan() -> list[_Street]:
    primary = {"highway": "primary", "maxspeed": "60", "lanes": "6", "sidewalk": "both"}
    secondary = {"highway": "secondary", "maxspeed": "50", "lanes": "4", "sidewalk": "both"}
    tertiary = {"highway": "tertiary", "maxspeed": "40", "lanes": "2", "sidewalk": "both"}
    names_ns = {900: "青松路", 1800: "示范大道", 2700: "白杨路", 4500: "望湖路"}
    names_ew = {900: "河滨路", 1800: "春晖街", 2700: "经纬大道", 3600: "文昌街", 4500: "星河路"}
    streets: list[_Street] = []
    west_end, east_start = RIVER_X - 150, RIVER_X + 150
    for x in np.arange(0, SIZE + 1, 300.0):
        if x == RIVER_X:
            continue
        tags = {1800.0: primary, 4500.0: secondary}.get(x)
        if tags is None:
            tags = tertiary if x in (900.0, 2700.0) else {"highway": "residential"}
        tags = dict(tags)
        if int(x) in names_ns:
            tags["name"] = names_ns[int(x)]
        if tags["highway"] == "residential" and int(x // 300) % 3 == 0:
            tags["sidewalk"] = "both"
        streets.append(_Street("x", x, 0.0, SIZE, tags))
    for x in (west_end, east_start):
        streets.append(_Street("x", x, 0.0, SIZE, {"highway": "residential", "name": "滨河路"}))
    for y in np.arange(0, SIZE + 1, 300.0):
        tags = {2700.0: primary, 900.0: secondary, 4500.0: secondary}.get(y)
        if tags is None:
            tags = tertiary if y in (1800.0, 3600.0) else {"highway": "residential"}
        tags = dict(tags)
        if int(y) in names_ew:
            tags["name"] = names_ew[int(y)]
        if y in BRIDGES_Y:
            streets.append(_Street("y", y, 0.0, RIVER_X - 100, tags))
            bridge = dict(tags, bridge="yes", layer="1")
            streets.append(_Street("y", y, RIVER_X - 100, RIVER_X + 100, bridge))
            streets.append(_Street("y", y, RIVER_X + 100, SIZE, tags))
        else:
            streets.append(_Street("y", y, 0.0, west_end, tags))
            east = dict(tags)
            if y == 4500.0:
                east["sidewalk"] = "no"  # designed: a secondary street with no sidewalk
            streets.append(_Street("y", y, east_start, SIZE, east))
    # Footpaths through the western residential blocks (north of 春晖街).
    for x in np.arange(150, RIVER_X - 150, 300.0):
        streets.append(_Street("x", x, 1800.0, SIZE, {"highway": "footway"}))
    return streets


def _signal_nodes() -> dict[tuple[float, float], dict[str, str]]:
    """Signalised junctions and crossings.

    The primary 示范大道 (x = 1800) has no signal north of 文昌街 (y = 3600): the
    designed unsafe crossing between 社区 U26 and 小学 P05.
    """
    signals: dict[tuple[float, float], dict[str, str]] = {}
    for y in (900.0, 1800.0, 2700.0, 3600.0):
        signals[(1800.0, y)] = {"highway": "traffic_signals"}
    for x in (900.0, 2700.0, 4500.0):
        signals[(x, 2700.0)] = {"highway": "traffic_signals"}
    signals[(4500.0, 900.0)] = {"highway": "traffic_signals"}
    signals[(1800.0, 1350.0)] = {"highway": "crossing", "crossing": "traffic_signals"}
    signals[(1350.0, 2700.0)] = {"highway": "crossing", "crossing": "traffic_signals"}
    signals[(2250.0, 2700.0)] = {"highway": "crossing", "crossing": "uncontrolled"}
    return signals


def streets_osm_xml(frame: _Frame) -> str:
    """Return the demo street network, river and rail as OSM XML text."""
    streets = _street_plan()
    signals = _signal_nodes()
    points: dict[tuple[float, float], set[int]] = {}
    way_nodes: list[list[tuple[float, float]]] = []
    for i, s in enumerate(streets):
        stops = {s.start, s.end}
        for other in streets:
            if other.axis == s.axis:
                continue
            if s.start <= other.at <= s.end and other.start <= s.at <= other.end:
                stops.add(other.at)
        for (x, y) in signals:
            at, along = (x, y) if s.axis == "x" else (y, x)
            if at == s.at and s.start <= along <= s.end:
                stops.add(along)
        coords = [(s.at, v) if s.axis == "x" else (v, s.at) for v in sorted(stops)]
        way_nodes.append(coords)
        for c in coords:
            points.setdefault(c, set()).add(i)
    river = [(RIVER_X, -300.0), (RIVER_X, SIZE / 2), (RIVER_X, SIZE + 300.0)]
    bank = [(RIVER_X - 30, -300.0), (RIVER_X + 30, -300.0), (RIVER_X + 30, SIZE + 300.0),
            (RIVER_X - 30, SIZE + 300.0), (RIVER_X - 30, -300.0)]
    for c in river + bank:
        points.setdefault(c, set())
    ids = {c: n for n, c in enumerate(sorted(points), start=1)}
    lines = ['<?xml version="1.0" encoding="UTF-8"?>',
             '<osm version="0.6" generator="cfplan layers.demo (synthetic)">']
    for c, n in ids.items():
        lon, lat = frame.lonlat(*c)
        tags = signals.get(c, {})
        attrs = f'id="{n}" version="1" lat="{lat:.7f}" lon="{lon:.7f}"'
        if tags:
            lines.append(f"  <node {attrs}>")
            lines += [f"    <tag k={quoteattr(k)} v={quoteattr(v)}/>" for k, v in tags.items()]
            lines.append("  </node>")
        else:
            lines.append(f"  <node {attrs}/>")
    way_id = 1
    for s, coords in zip(streets, way_nodes, strict=True):
        lines.append(f'  <way id="{way_id}" version="1">')
        lines += [f'    <nd ref="{ids[c]}"/>' for c in coords]
        lines += [f"    <tag k={quoteattr(k)} v={quoteattr(v)}/>" for k, v in sorted(s.tags.items())]
        lines.append("  </way>")
        way_id += 1
    for coords, tags in ((river, {"waterway": "river", "name": "示范河"}),
                         (bank, {"natural": "water", "water": "river", "name": "示范河"})):
        lines.append(f'  <way id="{way_id}" version="1">')
        lines += [f'    <nd ref="{ids[c]}"/>' for c in coords]
        lines += [f"    <tag k={quoteattr(k)} v={quoteattr(v)}/>" for k, v in sorted(tags.items())]
        lines.append("  </way>")
        way_id += 1
    lines.append("</osm>")
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- facilities


def _fac(fid: str, name: str, kind: str, x: float, y: float, /, **attrs: Any) -> dict[str, object]:
    rec: dict[str, object] = {"编号": fid, "名称": name, "类别": kind, "x": x, "y": y, "状态": "现状"}
    rec.update(attrs)
    return rec


def _point_facilities(units: list[Unit], sites: _Sites,
                      rng: np.random.Generator) -> list[dict[str, object]]:
    """All point facilities except 托育 (shipped separately as a GCJ-02 CSV).

    Every facility is drawn at its own site in its unit (:class:`_Sites`), except 小学 P05
    and 初中 M01 at their fixed sites.
    """
    by_code = {u.code: u for u in units}
    recs: list[dict[str, object]] = []

    def at(code: str, fid: str = "", spread: str = "") -> tuple[float, float]:
        """Return a site in ``code``; ``spread``: a kind whose sites keep apart."""
        if fid in FIXED_SITES:
            return sites.fixed(fid)
        return sites.draw(code, kind=spread, tries=SPREAD_TRIES if spread else 1)

    # 儿童之家: every unit but the designed gaps; U17 has one planned.
    for u in units:
        if u.code in NO_CHILDREN_HOME and u.code != "U17":
            continue
        planned = u.code == "U17"
        recs.append(_fac(f"CH{u.code[1:]}", f"{u.name}儿童之家", "儿童之家", *at(u.code),
                         状态="规划" if planned else "现状", 年份=2025 if planned else 2021))
    # 未成年人保护工作站: S1–S3 built, S4 planned, S5 none.
    station_at = {"S1": "U08", "S2": "U10", "S3": "U20", "S4": "U22"}
    for sd, code in station_at.items():
        name = dict((c, n) for c, n, _, _ in SUBDISTRICTS)[sd]
        planned = sd == "S4"
        recs.append(_fac(f"PS{sd[1]}", f"{name}未成年人保护工作站", "未成年人保护工作站",
                         *at(code), 状态="规划" if planned else "现状",
                         年份=2025 if planned else 2022, 级别="办事处"))
    # 少年儿童法治教育实践基地: S1–S4.
    law_at = {"S1": "U02", "S2": "U11", "S3": "U26", "S4": "U28"}
    for i, (sd, code) in enumerate(law_at.items(), start=1):
        recs.append(_fac(f"LB{i}", f"{sd}法治教育实践基地", "少年儿童法治教育实践基地",
                         *at(code), 年份=2023))
    # 家长学校: every unit but the designed gaps.
    for u in units:
        if u.code not in NO_PARENT_SCHOOL:
            recs.append(_fac(f"PA{u.code[1:]}", f"{u.name}家长学校", "家长学校",
                             *at(u.code), 年份=2022))
    # Schools. P05 sits east of 示范大道, across from U26 (no signal there).
    # P06 was renovated and expanded in 2022 (重点工程1: 改扩建); P02 has no counselling room (14e).
    primaries = [("P01", "U02", 2016, "是"), ("P02", "U10", 2012, "否"), ("P03", "U15", 2019, "是"),
                 ("P04", "U21", 2023, "否"), ("P05", "U27", 2010, "是"), ("P06", "U30", 2022, "否")]
    for fid, code, year, cf in primaries:
        status = "改建" if fid == "P06" else "新建" if year >= 2023 else "现状"
        recs.append(_fac(fid, f"第{fid[1:]}小学", "小学", *at(code, fid, "小学"), 状态=status,
                         年份=year, 儿童友好=cf, 平安校园="是",
                         心理辅导室="否" if fid == "P02" else "是"))
    recs.append(_fac("P07", "第07小学", "小学", *at("U33", spread="小学"), 状态="规划", 年份=2026,
                     儿童友好="否"))
    middles = [("M01", "U09", 2011, "现状", "是"), ("M02", "U16", 2008, "现状", "是"),
               ("M03", "U29", 2024, "在建", "否")]
    for fid, code, year, status, cf in middles:
        room = {} if status == "在建" else {"心理辅导室": "是"}
        recs.append(_fac(fid, f"第{fid[1:]}初级中学", "初中", *at(code, fid, "初中"), 状态=status,
                         年份=year, 儿童友好=cf, 平安校园="是", **room))
    # Kindergartens: 7 child-friendly of 10.
    kg_units = ("U01", "U04", "U08", "U13", "U15", "U19", "U22", "U25", "U32", "U35")
    for i, code in enumerate(kg_units, start=1):
        safe = {"平安校园": "是"} if i < 10 else {}  # K10 has not reported: designed unknown
        recs.append(_fac(f"K{i:02d}", f"{by_code[code].name}幼儿园", "幼儿园", *at(code, spread="幼儿园"),
                         年份=2015 + i % 8, 儿童友好="是" if i <= 7 else "否", **safe))
    # Libraries.
    recs.append(_fac("L01", "区图书馆", "图书馆", *at("U15"), 儿童友好="是", 年份=2019,
                     适儿化卫生间="是"))
    recs.append(_fac("L02", "东风社区书房", "图书馆", *at("U11"), 儿童友好="否",
                     年份=2021, 适儿化卫生间="否"))
    # Play facilities: 4 old, 6 new in the plan period, 2 planned.
    play = [("U03", 2020, "现状"), ("U07", 2021, "现状"), ("U13", 2019, "现状"),
            ("U20", 2022, "现状"), ("U02", 2023, "新建"), ("U09", 2023, "新建"),
            ("U14", 2024, "新建"), ("U16", 2024, "新建"), ("U26", 2024, "新建"),
            ("U28", 2024, "新建"), ("U31", 2025, "规划"), ("U34", 2025, "规划")]
    for i, (code, year, status) in enumerate(play, start=1):
        recs.append(_fac(f"PL{i:02d}", f"{by_code[code].name}儿童游戏场地", "游玩设施",
                         *at(code, f"PL{i:02d}", "游玩设施"), 年份=year, 状态=status))
    # Football pitches: 15 built, 4 planned.
    for i in range(19):
        u = units[(i * 7) % len(units)]
        status = "规划" if i >= 15 else "现状"
        recs.append(_fac(f"F{i + 1:02d}", f"{u.name}足球场", "足球场", *at(u.code),
                         年份=2025 if status == "规划" else 2018, 状态=status))
    # One-off facilities named in the plans.
    singles: list[tuple[str, str, str, str, dict[str, Any]]] = [
        ("H01", "区妇幼保健院", "医院", "U09", {"儿童友好": "是", "年份": 2024, "状态": "改建",
                                              "适儿化卫生间": "是"}),
        ("SL1", "第01小学小小科学家科技创新操作室", "小小科学家科技创新操作室", "U02",
         {"年份": 2024, "状态": "新建"}),
        ("SL2", "第03小学小小科学家科技创新操作室", "小小科学家科技创新操作室", "U15",
         {"年份": 2025, "状态": "规划"}),
        ("AC1", "区儿童活动中心", "儿童活动中心", "U16", {"年份": 2024, "状态": "新建", "级别": "区级"}),
        ("PB1", "农耕文化校外教育实践基地", "校外教育实践基地", "U31",
         {"年份": 2023, "状态": "新建", "儿童友好": "是"}),
        ("PB2", "科技馆校外教育实践基地", "校外教育实践基地", "U21",
         {"年份": 2024, "状态": "新建", "儿童友好": "是"}),
        ("NB1", "湿地自然生态教育基地", "自然生态教育基地", "U35",
         {"年份": 2025, "状态": "规划", "儿童友好": "是"}),
        ("RC1", "第01小学校园阅读中心", "校园阅读中心", "U02", {"年份": 2023, "状态": "新建"}),
        ("RC2", "第02初级中学校园阅读中心", "校园阅读中心", "U16", {"年份": 2024, "状态": "新建"}),
        ("FL1", "李庄村农学书屋", "农学书屋", "U23", {"年份": 2023, "状态": "新建"}),  # not task 42
        ("EN1", "示范区第一实验幼儿园（企事业单位）", "儿童友好企事业单位", "U08", {"年份": 2024}),
        ("EN2", "示范区电力公司", "儿童友好企事业单位", "U11", {"年份": 2024}),
        ("EN3", "示范区人民医院", "儿童友好企事业单位", "U20", {"年份": 2023}),
        ("EN4", "示范区物流公司", "企事业单位", "U12", {"年份": 2024, "儿童友好": "否"}),  # not task 55
        ("MB1", "区政务中心母婴室", "母婴室", "U15", {"年份": 2022}),
        ("MB2", "示范广场母婴室", "母婴室", "U21", {"年份": 2023}),
        ("MB3", "高铁站母婴室", "母婴室", "U12", {"年份": 2024}),
    ]
    for i in range(4):
        singles.append((f"FB{i + 1}", f"家教家风示范基地{i + 1}", "家教家风示范基地",
                        ("U03", "U10", "U19", "U28")[i], {"年份": 2023 + i % 2}))
    for fid, name, kind, code, attrs in singles:
        recs.append(_fac(fid, name, kind, *at(code), **attrs))
    # Public spaces and child-dense places: 12, of which 10 have child toilets.
    for i in range(12):
        u = units[(i * 5 + 2) % len(units)]
        recs.append(_fac(f"PU{i + 1:02d}", f"{u.name}公共服务中心", "公共空间", *at(u.code),
                         适儿化卫生间="否" if i in (4, 9) else "是"))
    # Child-friendly blocks (2 built, 1 planned) and communities (5).
    for i, (code, status) in enumerate((("U15", "新建"), ("U16", "新建"), ("U21", "规划")),
                                       start=1):
        recs.append(_fac(f"FS{i}", f"{by_code[code].name}儿童友好街区", "儿童友好街区",
                         *at(code), 状态=status, 年份=2024 if status == "新建" else 2025))
    for i, code in enumerate(("U03", "U08", "U13", "U19", "U26"), start=1):
        recs.append(_fac(f"FC{i}", f"{by_code[code].name}（儿童友好社区）", "儿童友好社区",
                         *at(code), 状态="新建", 年份=2024))
    recs += _everyday_facilities(units, at)
    rng.shuffle(recs)  # input order must not matter
    return recs


# Everyday facilities a built-up 社区 has besides those the plan targets name: existing,
# built before the plan period and not child-friendly, so that no count, share or
# presence target changes. They bring most of the 社区 within the walking standards;
# the villages get none (望湖办事处's villages across the river stay far from them).
EVERYDAY = (
    # kind key, Chinese kind, id prefix, name suffixes, per 社区
    ("kindergarten", "幼儿园", "KX", ("第二幼儿园", "第三幼儿园", "第四幼儿园", "第五幼儿园", "第六幼儿园"),
     5),
    ("primary_school", "小学", "PX", ("路小学", "街小学"), 2),
    ("play_facility", "游玩设施", "PLX", ("儿童乐园", "口袋乐园", "游戏角", "童趣园", "亲子乐园"), 5),
)


# Junior middle schools beside the designed three (1,000 m standard), one per few 社区.
EVERYDAY_MIDDLE = ("U07", "U11", "U19", "U22", "U32", "U34")


def _everyday_facilities(units: list[Unit], at: Callable[..., tuple[float, float]],
                         ) -> list[dict[str, object]]:
    by_code = {u.code: u for u in units}
    recs: list[dict[str, object]] = []
    for i, code in enumerate(EVERYDAY_MIDDLE, start=1):
        recs.append(_fac(f"MX{i}", f"{by_code[code].name[:-2]}中学", "初中",
                         *at(code, spread="初中"),
                         年份=2000 + 3 * i, 儿童友好="否", 平安校园="是", 心理辅导室="是"))
    for key, kind, prefix, names, per_unit in EVERYDAY:
        for u in units:
            if u.unit_type != "社区":
                continue
            for n in range(per_unit):
                fid = f"{prefix}{u.code[1:]}{n + 1}"
                attrs: dict[str, object] = {"年份": 2008 + (int(u.code[1:]) + n) % 12}
                if key != "play_facility":
                    attrs |= {"儿童友好": "否", "平安校园": "是"}
                if kind in ("小学", "初中"):
                    attrs["心理辅导室"] = "是"
                name = f"{u.name[:-2]}{names[n % len(names)]}"
                recs.append(_fac(fid, name, kind, *at(u.code, spread=kind), **attrs))
    return recs


def _parks() -> tuple[list[dict[str, object]], list[Polygon], list[dict[str, object]], list[Point]]:
    """Park polygons and two parks' entrances, in local metres."""
    parks = [
        ("PK1", "河滨公园", box(1950, 300, 2350, 560), "现状", 2010, "否", "公园"),
        ("PK2", "锦绣公园", box(1200, 1050, 1500, 1250), "改建", 2024, "是", "公园"),
        # A street-corner garden under 1 ha: a park, but not a 居住区公园 (标准5 takes ≥ 1 ha).
        ("PK3", "阳光游园", box(3000, 2010, 3090, 2100), "现状", 2015, "否", "公园"),
        ("PK4", "星河公园", box(900 + 160, 3750, 900 + 420, 3950), "规划", 2025, "是", "公园"),
        ("PK5", "清风游园", box(2050, 3100, 2250, 3250), "现状", 2012, "否", "公园"),
        ("PK6", "临河公园", box(3150, 4650, 3400, 4900), "现状", 2018, "否", "公园"),
        ("PK7", "儿童友好体育公园", box(4650, 1950, 4950, 2250), "在建", 2025, "是", "体育公园"),
        ("PK8", "东风游园", box(4050, 600 + 60, 4250, 800), "现状", 2016, "否", "公园"),
    ]
    recs, geoms = [], []
    for fid, name, geom, status, year, cf, kind in parks:
        recs.append({"编号": fid, "名称": name, "类别": kind, "状态": status, "年份": year,
                     "儿童友好": cf})
        geoms.append(geom)
    entrances = [("PK1", Point(1950, 430)), ("PK1", Point(2350, 430)),
                 ("PK2", Point(1350, 1050)), ("PK2", Point(1500, 1150))]
    return recs, geoms, [{"设施编号": f} for f, _ in entrances], [p for _, p in entrances]


POCKET_PARKS = 2  # parks per 社区, its designed parks included


def _pocket_parks(units: list[Unit], sites: _Sites,
                  designed: list[Polygon]) -> tuple[list[dict[str, object]], list[Polygon]]:
    """社区公园 of about 1 ha (existing, old, not child-friendly) where a 社区 has none of its own.

    A park of 1 ha or more within the 10-minute circle is what GB 50180 asks of a 居住区公园
    (标准5); the designed small 阳光游园 (0.81 ha) does not count.
    """
    recs, geoms = [], []
    for u in units:
        if u.unit_type != "社区":
            continue
        own = sum(sites.inner[u.code].buffer(EDGE_CLEARANCE).intersects(p) for p in designed)
        for n in range(POCKET_PARKS - own):
            recs.append({"编号": f"PKX{u.code[1:]}{n + 1}", "名称": f"{u.name[:-2]}{'东西'[n]}社区公园",
                         "类别": "公园", "状态": "现状", "年份": 2005 + int(u.code[1:]) % 15,
                         "儿童友好": "否"})
            geoms.append(sites.draw_park(u.code))
    return recs, geoms


def _childcare(units: list[Unit], sites: _Sites) -> list[dict[str, object]]:
    """托育 centres: 21 of the 26 社区 reach 20 托位; two have 15; three have none."""
    recs = []
    communities = [u for u in units if u.unit_type == "社区"]
    missing = {"U14", "U27", "U32"}
    small = {"U05", "U25"}
    for i, u in enumerate(communities):
        if u.code in missing:
            continue
        cap = 15 if u.code in small else 20 + (i * 13) % 60
        x, y = sites.draw(u.code)
        recs.append({"编号": f"TY{u.code[1:]}", "名称": f"{u.name}托育中心", "托位": cap,
                     "状态": "现状", "年份": 2020 + i % 4, "x": x, "y": y})
    x, y = sites.draw("U27")  # U27 gets a planned one
    recs.append({"编号": "TY27", "名称": "文昌托育中心（规划）", "托位": 60, "状态": "规划",
                 "年份": 2025, "x": x, "y": y})
    x, y = sites.draw("U23")  # one village centre
    recs.append({"编号": "TY23", "名称": "王营村托育点", "托位": 30, "状态": "现状", "年份": 2023,
                 "x": x, "y": y})
    return recs


def _routes(units: list[Unit]) -> tuple[list[dict[str, object]], list[LineString]]:
    by_code = {u.code: u for u in units}
    pairs = [("R1", "U26", "P05"), ("R2", "U20", "P05"), ("R3", "U09", "M01")]
    recs: list[dict[str, object]]
    targets = FIXED_SITES
    recs, geoms = [], []
    for rid, code, school in pairs:
        u = by_code[code]
        cx, cy = _centre(u.col, u.row)
        tx, ty = targets[school]
        geoms.append(LineString([(cx, cy), (cx, ty), (tx, ty)]))
        recs.append({"编号": rid, "学校": school, "社区编码": code, "名称": f"{u.name}—{school}"})
    return recs, geoms


# 小学 P05's 学区 holds 祥和社区 (U26, west of 示范大道) and 文昌社区 (U27, its own unit): the
# children of U26 cross 示范大道 where it has no signal. Its west gate faces them.
SCHOOL_DISTRICTS = (("P05", "第05小学学区", ("U26", "U27")),)
GATES = (("P05", "第05小学西门", (FIXED_SITES["P05"][0] - 12.0, FIXED_SITES["P05"][1])),
         ("M01", "第01初级中学南门", (FIXED_SITES["M01"][0], FIXED_SITES["M01"][1] - 12.0)))


def _school_districts(units: list[Unit], geoms: list[Polygon]
                      ) -> tuple[list[dict[str, object]], list[Polygon]]:
    by_code = {u.code: g for u, g in zip(units, geoms, strict=True)}
    recs: list[dict[str, object]] = []
    out: list[Polygon] = []
    for school, name, codes in SCHOOL_DISTRICTS:
        recs.append({"学校编号": school, "名称": name})
        out.append(shapely.union_all([by_code[c] for c in codes]).normalize())
    return recs, out


MANIFEST = """\
# Layer manifest of the embedded demo district. SYNTHETIC DATA: not a real place.
# Generated by `python -m cfplan.demo`.
[district]
name = "示范区（合成数据）"
name_en = "Demo district (synthetic)"
synthetic = true
margin_m = 2000

[layers.district]
file = "district.geojson"

[layers.subdistricts]
file = "subdistricts.shp"
encoding = "GBK"          # a government-style Shapefile with no .cpg

[layers.units]
file = "units.geojson"    # Chinese field names, matched by alias

[layers.entrances]
file = "park_entrances.geojson"

[layers.school_routes]
file = "school_routes.geojson"

[layers.school_districts]
file = "school_districts.geojson"   # 学区: only 第05小学 has one; other schools: nearest

[layers.gates]
file = "gates.geojson"    # 校门

[[facilities]]
file = "facilities.geojson"

[[facilities]]
file = "parks.geojson"

[[facilities]]
file = "childcare.csv"    # AMap export: GCJ-02 经度/纬度
kind = "childcare"
datum = "gcj02"

[streets]
file = "streets.osm"

[indicators]
file = "indicators.csv"
"""


# Values the demo bureau reports for spatial targets, to be checked against the layers: it says
# there is no child-friendly library (the layers hold one: a designed cross-check) and that the
# safety facilities around schools are complete (the school-route analysis will judge that).
DESIGNED_REPORTS = {"child_friendly_library": "否", "route_safety_facilities_coverage": "是"}


def demo_indicators(plan: str | Path = "jingkai") -> pd.DataFrame:
    """Bureau-reported values for the demo against the 经开区 plan's indicator targets.

    A fixed pattern keyed on each target's id (CRC-32), so adding a target moves no other
    value: a third are left blank (unknown); of the rest, half meet their target and the
    others miss it. Spatial targets with a ``reported`` key get :data:`DESIGNED_REPORTS`.

    Returns
    -------
    pandas.DataFrame
        Columns ``plan, id, indicator, value, year, source, note``.
    """
    loaded = load_plan(plan)
    rows = []
    for t in loaded.targets:
        if t.reported and t.reported in DESIGNED_REPORTS:
            rows.append({"plan": loaded.id, "id": t.id, "indicator": t.reported,
                         "value": DESIGNED_REPORTS[t.reported], "year": 2024,
                         "source": "合成数据 / synthetic", "note": ""})
        if t.metric != "indicator":
            continue
        value = ""
        key = zlib.crc32(t.id.encode("utf-8"))
        if key % 3 != 2:
            meets = (key // 3) % 2 == 0
            if t.value_type == "boolean":
                value = "是" if meets else "否"
            else:
                factor = 1.0 if meets else (1.2 if t.direction == "at_most" else 0.8)
                if t.direction == "above":
                    factor = 1.02 if meets else 0.98
                value = f"{t.low * factor:g}"
        rows.append({"plan": loaded.id, "id": t.id, "indicator": t.indicator,
                     "value": value, "year": 2024 if value else "",
                     "source": "合成数据 / synthetic" if value else "", "note": ""})
    return pd.DataFrame(rows, columns=["plan", "id", "indicator", "value", "year", "source", "note"])


@dataclass
class _Design:
    """Every demo layer as records and local-metre geometries, before writing."""

    units: list[Unit]
    unit_recs: list[dict[str, object]]
    unit_geoms: list[Polygon]
    park_recs: list[dict[str, object]]
    park_geoms: list[Polygon]
    entrance_recs: list[dict[str, object]]
    entrance_geoms: list[Point]
    facilities: list[dict[str, object]]  # with local "x", "y"
    childcare: list[dict[str, object]]  # with local "x", "y"


def _design() -> _Design:
    """Draw the whole demo district from its seeded generator (same seed, same district)."""
    rng = np.random.default_rng(20231101)
    grid = _vertex_grid(rng)
    units = demo_units()
    unit_geoms = [_cell(grid, u.col, u.row) for u in units]
    unit_recs = []
    for u in units:
        base = 6000 + (u.col * 37 + u.row * 53) % 6 * 1000 if u.unit_type == "社区" else 2200
        pop = int(base + rng.integers(0, 900))
        share = 0.17 + 0.01 * ((u.col + 2 * u.row) % 5)
        unit_recs.append({"编码": u.code, "名称": u.name, "类型": u.unit_type,
                          "所属办事处": u.subdistrict, "人口": pop, "儿童人口": round(pop * share)})
    park_recs, park_geoms, ent_recs, ent_geoms = _parks()
    sites = _Sites(units, unit_geoms, rng, park_geoms)
    pocket_recs, pocket_geoms = _pocket_parks(units, sites, park_geoms)
    facilities = _point_facilities(units, sites, rng)
    childcare = _childcare(units, sites)
    return _Design(units, unit_recs, unit_geoms, park_recs + pocket_recs,
                   park_geoms + pocket_geoms, ent_recs, ent_geoms, facilities, childcare)


def demo_sites() -> dict[str, tuple[float, float]]:
    """Return where the demo's point facilities (托育 included) were drawn.

    Returns
    -------
    dict
        Facility id (``编号``) -> ``(x, y)`` in EPSG:4547 metres, before any datum shift
        (托育 is written as GCJ-02; loaded back it must land here).
    """
    d = _design()
    return {str(r["编号"]): (ORIGIN[0] + float(r["x"]), ORIGIN[1] + float(r["y"]))  # type: ignore[arg-type]
            for r in d.facilities + d.childcare}


def write_demo(out: str | Path) -> Path:
    """Generate the demo district into ``out``.

    Returns
    -------
    pathlib.Path
        The folder written, holding ``layers.toml`` and every layer file.
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    frame = _Frame()
    d = _design()
    units, unit_geoms = d.units, d.unit_geoms
    write_geojson(frame.gdf(d.unit_recs, unit_geoms), out / "units.geojson")

    sd_recs: list[dict[str, object]] = []
    sd_geoms = []
    for code, name, _, _ in SUBDISTRICTS:
        parts = [g for u, g in zip(units, unit_geoms, strict=True) if u.subdistrict == code]
        sd_recs.append({"编码": code, "名称": name, "类型": "办事处"})
        sd_geoms.append(shapely.union_all(parts).normalize())
    sd = frame.gdf(sd_recs, sd_geoms)
    for suffix in (".shp", ".shx", ".dbf", ".prj", ".cpg"):
        (out / f"subdistricts{suffix}").unlink(missing_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        sd.to_file(Path(tmp) / "subdistricts.shp", encoding="GBK", engine="pyogrio",
                   layer_options={"DBF_DATE_LAST_UPDATE": FIXED_DATE})  # same bytes every day
        for suffix in (".shp", ".shx", ".dbf", ".prj"):
            shutil.copyfile(Path(tmp) / f"subdistricts{suffix}", out / f"subdistricts{suffix}")

    district = frame.gdf([{"名称": "示范区（合成数据）", "编码": "DEMO"}],
                         [shapely.union_all(unit_geoms).normalize()])
    write_geojson(district, out / "district.geojson")

    write_geojson(frame.gdf(d.park_recs, d.park_geoms), out / "parks.geojson")
    write_geojson(frame.gdf(d.entrance_recs, d.entrance_geoms), out / "park_entrances.geojson")

    recs = [dict(r) for r in d.facilities]
    geoms = [Point(r.pop("x"), r.pop("y")) for r in recs]
    write_geojson(frame.gdf(recs, geoms), out / "facilities.geojson")

    route_recs, route_geoms = _routes(units)
    write_geojson(frame.gdf(route_recs, route_geoms), out / "school_routes.geojson")
    sd_recs2, sd_geoms2 = _school_districts(units, unit_geoms)
    write_geojson(frame.gdf(sd_recs2, sd_geoms2), out / "school_districts.geojson")
    write_geojson(frame.gdf([{"学校编号": s, "名称": n} for s, n, _ in GATES],
                            [Point(xy) for _, _, xy in GATES]), out / "gates.geojson")

    rows = []
    for r in (dict(r) for r in d.childcare):
        lon, lat = frame.lonlat(float(r.pop("x")), float(r.pop("y")))  # type: ignore[arg-type]
        glon, glat = wgs84_to_gcj02(lon, lat)
        rows.append(r | {"经度": f"{float(glon):.7f}", "纬度": f"{float(glat):.7f}"})
    text = pd.DataFrame(rows).to_csv(index=False, lineterminator="\n")
    atomic_write_text(out / "childcare.csv", "\ufeff" + text)

    atomic_write_text(out / "streets.osm", streets_osm_xml(frame))
    text = demo_indicators().to_csv(index=False, lineterminator="\n")
    atomic_write_text(out / "indicators.csv", "\ufeff" + text)
    atomic_write_text(out / "layers.toml", MANIFEST)
    return out


def main(argv: list[str] | None = None) -> int:
    """Command-line entry: regenerate the demo district files."""
    parser = argparse.ArgumentParser(description="Generate the synthetic demo district.")
    parser.add_argument("--out", default=str(DEMO_DIR), help="output folder")
    args = parser.parse_args(argv)
    path = write_demo(args.out)
    print(f"demo district written to {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
