"""Shared fixtures: the demo district loaded once, the demo run once, tiny layer folders."""

from __future__ import annotations

import json
import math
import os
from datetime import UTC, datetime
from pathlib import Path

import geopandas as gpd
import pyproj
import pytest
from hypothesis import settings
from shapely.geometry import box, mapping

from cfplan.analysis.plan import PLANS_DIR, load_plan
from cfplan.demo import DEMO_DIR
from cfplan.layers.load import load_layers

# Documents carry the run's date (cfplan.geo.io.run_date): fixed for the whole session, so that
# a run that crosses midnight compares files written on both sides of it byte for byte.
if not os.environ.get("SOURCE_DATE_EPOCH"):
    _today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    os.environ["SOURCE_DATE_EPOCH"] = str(int(_today.timestamp()))

# Under CI=true hypothesis is derandomized and keeps no example database, so a run is the same
# on every clean clone; locally it explores new examples each run (and replays its failures).
settings.register_profile("ci", derandomize=True, database=None, print_blob=True)
if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
    settings.load_profile("ci")

# Browser tests save their screenshots here (never into the repository during make test);
# `make screenshots` points this at docs/img to refresh the README's pictures.
SCREENSHOTS = Path(os.environ.get("CFPLAN_SCREENSHOTS")
                   or Path(__file__).resolve().parents[1] / "build" / "screenshots")
SCREENSHOTS.mkdir(parents=True, exist_ok=True)

# A small square district near Zhengzhou, built in EPSG:4547 metres.
ORIGIN = (482_000.0, 3_841_000.0)
_TO_WGS = pyproj.Transformer.from_crs("EPSG:4547", "EPSG:4326", always_xy=True)


def lonlat(x: float, y: float) -> tuple[float, float]:
    """Local metres (from ORIGIN) to WGS-84 lon/lat."""
    return _TO_WGS.transform(ORIGIN[0] + x, ORIGIN[1] + y)


def poly_wgs(x0: float, y0: float, x1: float, y1: float) -> dict:
    g = gpd.GeoSeries([box(ORIGIN[0] + x0, ORIGIN[1] + y0, ORIGIN[0] + x1, ORIGIN[1] + y1)],
                      crs="EPSG:4547").to_crs("EPSG:4326")
    return mapping(g.iloc[0])


def write_fc(path: Path, features: list[tuple[dict, dict]]) -> None:
    fc = {"type": "FeatureCollection",
          "features": [{"type": "Feature", "properties": p, "geometry": g} for p, g in features]}
    path.write_text(json.dumps(fc, ensure_ascii=False), encoding="utf-8")


def point(x: float, y: float) -> dict:
    lon, lat = lonlat(x, y)
    return {"type": "Point", "coordinates": [lon, lat]}


def make_folder(tmp: Path, units: list[dict], facilities: list[dict],
                subdistricts: list[dict] | None = None, indicators: str | None = None) -> Path:
    """Write a layer folder: units/facilities given in local metres.

    units: dicts with code, name, type, sd, pop, kids, box=(x0,y0,x1,y1)
    facilities: dicts of properties plus x, y
    subdistricts: dicts with code, name, box
    """
    tmp.mkdir(parents=True, exist_ok=True)
    write_fc(tmp / "units.geojson", [
        ({"编码": u["code"], "名称": u["name"], "类型": u.get("type", "社区"),
          "所属办事处": u.get("sd"), "人口": u.get("pop", 1000), "儿童人口": u.get("kids", 200)},
         poly_wgs(*u["box"])) for u in units])
    feats = []
    for f in facilities:
        props = {k: v for k, v in f.items() if k not in ("x", "y")}
        feats.append((props, point(f["x"], f["y"])))
    write_fc(tmp / "facilities.geojson", feats)
    manifest = ["[district]", 'name = "测试区"', "", "[layers.units]", 'file = "units.geojson"', "",
                "[[facilities]]", 'file = "facilities.geojson"', ""]
    if subdistricts:
        write_fc(tmp / "subdistricts.geojson", [
            ({"编码": s["code"], "名称": s["name"]}, poly_wgs(*s["box"])) for s in subdistricts])
        manifest += ["[layers.subdistricts]", 'file = "subdistricts.geojson"', ""]
    if indicators is not None:
        (tmp / "indicators.csv").write_text(indicators, encoding="utf-8")
        manifest += ["[indicators]", 'file = "indicators.csv"', ""]
    (tmp / "layers.toml").write_text("\n".join(manifest), encoding="utf-8")
    return tmp


@pytest.fixture(scope="session")
def demo_layers():
    return load_layers(DEMO_DIR)


@pytest.fixture(scope="session")
def jingkai():
    return load_plan(PLANS_DIR / "jingkai.toml")


@pytest.fixture(scope="session")
def shangjie():
    return load_plan(PLANS_DIR / "shangjie.toml")


@pytest.fixture(scope="session")
def _demo_output(tmp_path_factory):
    from cfplan.pipeline import run_demo

    out = tmp_path_factory.mktemp("demo")
    return run_demo(out), out


@pytest.fixture(scope="session")
def demo_run(_demo_output):
    """The demo district assessed against the 经开区 plan (an Assessment)."""
    return _demo_output[0]


@pytest.fixture(scope="session")
def demo_out(_demo_output):
    """The folder the demo run wrote."""
    return _demo_output[1]


def gcj02_point(lon: float, lat: float) -> tuple[float, float]:
    """WGS-84 -> GCJ-02 by the published algorithm (Krasovsky 1940), one point at a time.

    Written out here on its own, apart from ``cfplan.geo.crs``, so that the map's display
    shift and the GCJ-02 exports are checked against a separate computation.
    """
    a, ee = 6378245.0, 0.00669342162296594323
    x, y = lon - 105.0, lat - 35.0
    dlat = (-100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * math.sqrt(abs(x))
            + (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2 / 3
            + (20.0 * math.sin(y * math.pi) + 40.0 * math.sin(y / 3.0 * math.pi)) * 2 / 3
            + (160.0 * math.sin(y / 12.0 * math.pi) + 320 * math.sin(y * math.pi / 30.0)) * 2 / 3)
    dlon = (300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * math.sqrt(abs(x))
            + (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2 / 3
            + (20.0 * math.sin(x * math.pi) + 40.0 * math.sin(x / 3.0 * math.pi)) * 2 / 3
            + (150.0 * math.sin(x / 12.0 * math.pi) + 300.0 * math.sin(x / 30.0 * math.pi)) * 2 / 3)
    rad = lat / 180.0 * math.pi
    magic = 1 - ee * math.sin(rad) ** 2
    dlat = dlat * 180.0 / ((a * (1 - ee)) / (magic * math.sqrt(magic)) * math.pi)
    dlon = dlon * 180.0 / (a / math.sqrt(magic) * math.cos(rad) * math.pi)
    return lon + dlon, lat + dlat


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    """pytest-playwright launches the system Chromium (``make chromium``), no downloads."""
    from map_pages import LAUNCH_ARGS, chromium_path

    return {**browser_type_launch_args, "executable_path": chromium_path(), "args": LAUNCH_ARGS}


def point_in(layers, frame: str, name: str) -> tuple[float, float]:
    """Return a point inside the unit or subdistrict called ``name`` (WGS-84, 7 decimals)."""
    gdf = getattr(layers, frame).to_crs(4326)
    p = gdf.loc[gdf["name"] == name].geometry.iloc[0].representative_point()
    return round(p.x, 7), round(p.y, 7)
