"""GeoJSON exports: normalised layers, units with coverage flags, the gaps, rejected features."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd

from cfplan.analysis.evaluate import Result, facility_level_codes
from cfplan.analysis.plan import Filters
from cfplan.analysis.rounding import round_by_meaning
from cfplan.analysis.selection import select
from cfplan.geo.io import write_csv, write_geojson
from cfplan.layers.accounting import Rejection, rejected_frame
from cfplan.layers.kinds import kind_label
from cfplan.layers.load import LayerSet
from cfplan.layers.text import Text

# The one rule for failing a unit, as the reports state it. Every output reads the failing
# units of a target from its Result (``Result.failing``): the map, gaps.geojson, units.csv,
# units_coverage.geojson, the XLSX and the DOCX; walking-access targets get them from
# cfplan.analysis.access.units_below.
FAILING_RULE = Text(
    "单元未达标的判定：按单元考核的目标，社区/村（或办事处）缺少目标要求每个单元具备的设施或托位即为未达标；"
    "步行可达目标，本单元沿路网步行半径内的儿童（或居民）占比低于目标占比即为未达标（无儿童的单元不计，"
    "儿童人数未知的单元为“未知”）。地图、gaps.geojson、units.csv、units_coverage.geojson、"
    "XLSX 与报告用同一口径。",
    "When a unit fails: for a target judged unit by unit, a 社区/村 (or 办事处) fails when it "
    "lacks the facility or places the target asks of each unit; for a walking-access target, "
    "when the share of its children (or residents) within the radius along the streets is "
    "below the target's share (units with no children are not counted, units whose children "
    "are not known are unknown). The map, gaps.geojson, units.csv, units_coverage.geojson, "
    "the XLSX and the report apply this one rule.")

# Kinds that a plan expects in every unit: each gets a has_<kind> flag on units.
UNIT_FLAG_KINDS = ("children_home", "parent_school", "childcare")


def _or_empty(gdf: gpd.GeoDataFrame | None, crs: object) -> gpd.GeoDataFrame:
    return gdf if gdf is not None else gpd.GeoDataFrame(geometry=[], crs=crs)


def _public(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    cols = [c for c in gdf.columns if not c.startswith("_")]
    return gdf[cols]


def unit_flags(layers: LayerSet, results: list[Result]) -> gpd.GeoDataFrame:
    """Return units with their coverage flags and the targets they fail.

    Columns: ``code, name, unit_type, subdistrict, population, children``; for each
    kind in :data:`UNIT_FLAG_KINDS`, ``has_<kind>`` (as things stand) and
    ``has_<kind>_planned``; ``childcare_places``; ``fails_current`` and
    ``fails_planned`` (target ids, comma-separated). Geometry in the layers' CRS.

    Returns
    -------
    geopandas.GeoDataFrame
        One row per unit, in code order.
    """
    units = _public(layers.units).copy()
    fac = layers.facilities
    codes = facility_level_codes(layers, level="unit")
    for kind in UNIT_FLAG_KINDS:
        for scenario, suffix in (("current", ""), ("planned", "_planned")):
            sure, _ = select(fac, (kind,), Filters(), scenario=scenario)
            units[f"has_{kind}{suffix}"] = units["code"].isin(set(codes[sure].dropna()))
    sure, _ = select(fac, ("childcare",), Filters(), scenario="current")
    places = fac.loc[sure, "capacity"].fillna(0).groupby(codes[sure]).sum()
    units["childcare_places"] = units["code"].map(places).fillna(0.0)
    for scenario in ("current", "planned"):
        fails: dict[str, list[str]] = {}
        for r in results:
            if r.scenario == scenario and r.target.unit_level == "unit" \
                    and r.target.metric != "same_as":  # a repeat is listed once, as units.csv
                for c in r.failing:
                    fails.setdefault(c, []).append(r.target.id)
        units[f"fails_{scenario}"] = units["code"].map(lambda c, f=fails: ",".join(f.get(c, [])))
    return units


def gaps_frame(layers: LayerSet, results: list[Result], *, lang: str = "zh") -> gpd.GeoDataFrame:
    """Return one feature per failing unit or subdistrict per target and scenario.

    A unit fails by :data:`FAILING_RULE` (the result's failing units), also where the
    target is met as a whole (37b: 90% of villages have a 家长学校, the plan asks 85%).

    Columns: ``plan_item, target_id, scenario, level, code, name, kind, metric,
    shortfall`` (in ``lang``); geometry is the failing unit's or subdistrict's polygon.

    Returns
    -------
    geopandas.GeoDataFrame
        In the layers' CRS, sorted by target then scenario then code.
    """
    polys = {
        "unit": layers.units.set_index("code"),
        "subdistrict": layers.subdistricts.set_index("code"),
    }
    rows, geoms = [], []
    for r in results:  # every failing unit, also of a target met as a whole (FAILING_RULE)
        level = "subdistrict" if r.target.unit_level == "subdistrict" else "unit"
        for code in r.failing:
            table = polys[level]
            if code not in table.index:
                continue
            rows.append({
                "plan_item": r.target.item, "target_id": r.target.id, "scenario": r.scenario,
                "level": level, "code": code, "name": table.loc[code, "name"],
                "kind": ",".join(r.target.kinds) or None, "metric": r.target.metric,
                "shortfall": r.shortfall.get(lang) or None,
            })
            geoms.append(table.loc[code, "geometry"])
    cols = ["plan_item", "target_id", "scenario", "level", "code", "name", "kind", "metric",
            "shortfall"]
    return gpd.GeoDataFrame(pd.DataFrame(rows, columns=cols), geometry=geoms, crs=layers.crs)


# Input layers that are left out of the exports when a district has none.
OPTIONAL_LAYERS = ("entrances", "buildings", "school_routes", "school_districts", "gates")


def export_frames(
    layers: LayerSet, results: list[Result], *,
    extra: dict[str, gpd.GeoDataFrame] | None = None, lang: str = "zh",
) -> dict[str, gpd.GeoDataFrame]:
    """Return every exported frame by its path under the output folder, without suffix.

    ``layers/<name>`` for each input layer as used (``district, subdistricts, units,
    facilities`` with ``kind_label`` in ``lang``, and ``entrances, buildings,
    school_routes, school_districts, gates`` when present); ``results/units_coverage``, ``results/gaps`` and
    ``results/<name>`` for each ``extra`` frame; ``rejected`` (every rejected feature,
    geometry missing where it had none). Numbers are rounded to their meaning
    (:func:`cfplan.analysis.rounding.round_by_meaning`). GeoJSON, GeoPackage and
    Shapefile exports all write these frames.

    Returns
    -------
    dict
        Path stem → GeoDataFrame (layers' CRS; ``rejected`` in WGS-84), in export order.
    """
    inputs = {
        "district": layers.district, "subdistricts": layers.subdistricts, "units": layers.units,
        "facilities": layers.facilities.assign(
            kind_label=layers.facilities["kind"].map(lambda k: kind_label(k, lang=lang))),
        "entrances": layers.entrances, "buildings": layers.buildings,
        "school_routes": layers.school_routes,
        "school_districts": _or_empty(layers.school_districts, layers.crs),
        "gates": _or_empty(layers.gates, layers.crs),
    }
    frames = {f"layers/{name}": _public(gdf) for name, gdf in inputs.items()
              if not (name in OPTIONAL_LAYERS and gdf.empty)}
    frames["results/units_coverage"] = unit_flags(layers, results)
    frames["results/gaps"] = gaps_frame(layers, results, lang=lang)
    for name, gdf in (extra or {}).items():
        frames[f"results/{name}"] = gdf
    frames["rejected"] = rejected_frame(layers.rejected, lang=lang)
    return {key: round_by_meaning(gdf) for key, gdf in frames.items()}


def write_exports(
    layers: LayerSet, results: list[Result], out: str | Path,
    *, extra: dict[str, gpd.GeoDataFrame] | None = None, lang: str = "zh",
    datum: str = "wgs84",
) -> list[Path]:
    """Write every normalised layer and the results as RFC 7946 GeoJSON under ``out``.

    Files: ``layers/{district,subdistricts,units,facilities,entrances,school_routes}.geojson``,
    ``results/units_coverage.geojson``, ``results/gaps.geojson``, plus any ``extra``
    frames as ``results/<name>.geojson``, and ``rejected.geojson`` / ``rejected.csv``
    (see :func:`export_frames`). With ``datum="gcj02"`` each GeoJSON also gets a GCJ-02
    copy for AMap-based systems, ``<name>.gcj02.geojson``; the WGS-84 files never shift.

    Returns
    -------
    list of pathlib.Path
        The files written.
    """
    return write_geojson_exports(export_frames(layers, results, extra=extra, lang=lang), out,
                                 datum=datum)


def write_geojson_exports(
    frames: dict[str, gpd.GeoDataFrame], out: str | Path, *, datum: str = "wgs84",
) -> list[Path]:
    """Write :func:`export_frames` as ``<key>.geojson`` under ``out``, and ``rejected.csv``.

    ``rejected.geojson`` holds the rejected features that have a geometry, ``rejected.csv``
    all of them. With ``datum="gcj02"`` every GeoJSON also gets its GCJ-02 copy,
    ``<key>.gcj02.geojson``.

    Returns
    -------
    list of pathlib.Path
        The files written.
    """
    out = Path(out)
    datums = ["wgs84"] if datum == "wgs84" else ["wgs84", datum]
    written = []
    for key, gdf in frames.items():
        if key == "rejected":
            gdf = gdf[gdf.geometry.notna()]
        for d in datums:
            suffix = ".geojson" if d == "wgs84" else f".{d}.geojson"
            written.append(write_geojson(gdf, out / f"{key}{suffix}", datum=d))
    rej = frames["rejected"]
    written.append(write_csv(pd.DataFrame(rej.drop(columns="geometry")), out / "rejected.csv"))
    return written


def write_rejected(rejected: list[Rejection], out: str | Path, *, lang: str = "zh") -> list[Path]:
    """Write ``rejected.geojson`` (those with a geometry) and ``rejected.csv`` (all) into ``out``.

    Returns
    -------
    list of pathlib.Path
        The two files written; reasons in ``lang``.
    """
    out = Path(out)
    rej = rejected_frame(rejected, lang=lang)
    return [write_geojson(rej[rej.geometry.notna()], out / "rejected.geojson"),
            write_csv(pd.DataFrame(rej.drop(columns="geometry")), out / "rejected.csv")]
