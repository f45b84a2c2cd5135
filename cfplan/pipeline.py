"""The planner pipeline: load layers and plan, measure, evaluate, and write every output."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import networkx as nx
import pandas as pd

from cfplan.analysis.coverage import ScenarioCoverage, scenario_coverage
from cfplan.analysis.evaluate import Result, evaluate_plan, headline
from cfplan.analysis.export import write_exports
from cfplan.analysis.indicators import read_indicators
from cfplan.analysis.plan import Plan, load_plan
from cfplan.analysis.report import access_section, write_access_tables, write_report
from cfplan.geo.crs import WGS84
from cfplan.geo.network import load_graph, project_graph, save_graph
from cfplan.geo.osm_features import edges_frame, features_from_osm_file
from cfplan.layers.checks import gcj_offset_warning
from cfplan.demo import DEMO_DIR
from cfplan.layers.i18n import t
from cfplan.layers.load import LayerSet, load_layers
from cfplan.layers.streets import load_street_graph

Echo = Callable[[str], None]


@dataclass
class RunOutput:
    """What a run produced: the plan, layers, results and the files written."""

    plan: Plan
    layers: LayerSet
    results: list[Result]
    out: Path
    files: list[Path] = field(default_factory=list)
    streets: gpd.GeoDataFrame | None = None
    access: ScenarioCoverage | None = None


def _quiet(_: str) -> None:
    return None


def _echo_layers(layers: LayerSet, *, lang: str, echo: Echo) -> None:
    for row in layers.accounting.itertuples(index=False):
        echo(t("progress.layer", lang=lang, layer=row.layer, file=row.file, read=row.read,
               used=row.used, repaired=row.repaired, rejected=row.rejected))
    for w in layers.warnings:
        parts = w.split(" / ")
        echo(f"  ⚠ {t('warn', lang=lang)}: {parts[0] if lang == 'zh' else parts[-1]}")


def street_graph(
    layers: LayerSet, *, place: str | None = None, cache: str | Path | None = None
) -> nx.MultiDiGraph | None:
    """Return the unprojected walking graph from the first source that applies.

    1. ``cache``, a GraphML file written by an earlier run, when it exists;
    2. ``place``, downloaded online through :mod:`geo.osm_online` (needs internet);
    3. the manifest's ``[streets]`` file: ``.osm``/``.osm.pbf`` (or ``.graphml``).

    A graph obtained from 2 or 3 is written to ``cache`` when one is given.

    Returns
    -------
    networkx.MultiDiGraph or None
        The graph in WGS-84, or ``None`` when there is no street source at all.
    """
    if cache is not None and Path(cache).is_file():
        return load_graph(cache)
    if place:
        from cfplan.geo.osm_online import graph_from_place

        graph = graph_from_place(place)
    elif layers.streets is not None and layers.streets.suffix.lower() == ".graphml":
        return load_graph(layers.streets)
    elif layers.streets is not None:
        graph = load_street_graph(layers.streets)
    else:
        return None
    if cache is not None:
        save_graph(graph, cache)
    return graph


def load_streets(
    layers: LayerSet, *, place: str | None = None, cache: str | Path | None = None
) -> tuple[nx.MultiDiGraph, gpd.GeoDataFrame, gpd.GeoDataFrame] | None:
    """Load the walking graph, street lines and water/rail for a layer set.

    Returns
    -------
    tuple or None
        The OSMnx walking graph projected to the layers' metric CRS, its streets as a
        GeoDataFrame (one row per street, metres), and water and rail features
        (WGS-84, from the manifest's OSM XML when there is one); ``None`` without streets.
    """
    graph = street_graph(layers, place=place, cache=cache)
    if graph is None:
        return None
    graph = project_graph(graph, crs=layers.crs)
    streets = edges_frame(graph)
    water = gpd.GeoDataFrame(geometry=[], crs=WGS84)
    if layers.streets is not None and layers.streets.suffix.lower() in (".osm", ".xml"):
        water = features_from_osm_file(
            layers.streets, tags={"waterway": ["river", "canal", "stream"], "natural": "water",
                                  "railway": "rail"})
    return graph, streets, water


def datum_warnings(layers: LayerSet, streets: gpd.GeoDataFrame) -> list[str]:
    """Warn, per facility file, when its points sit off the streets by a GCJ-02-like offset.

    Returns
    -------
    list of str
        One warning per suspicious file (Chinese / English).
    """
    fac = layers.facilities
    points = fac[fac.geom_type == "Point"]
    out = []
    for file, group in points.groupby("_file", sort=True):
        warning = gcj_offset_warning(group.geometry, streets.geometry, layer=str(file))
        if warning:
            out.append(warning)
    return out


def run(
    layers_dir: str | Path,
    plan_path: str | Path,
    out: str | Path,
    *,
    lang: str = "zh",
    indicators: str | Path | None = None,
    tiles: str | None = None,
    tianditu_key: str = "",
    write_map: bool = True,
    access: bool = True,
    place: str | None = None,
    graph_cache: str | Path | None = None,
    echo: Echo = _quiet,
) -> RunOutput:
    """Run the planner end to end and write every output into ``out``.

    Outputs: ``report.md``, ``report.xlsx``, ``targets.csv``, ``units.csv``,
    ``accounting.csv``, ``rejected.csv`` / ``rejected.geojson``, GeoJSON layers under
    ``layers/`` and results under ``results/``, and ``map.html`` (unless
    ``write_map`` is false). The street network comes from ``graph_cache`` (GraphML)
    when it exists, else online from ``place``, else the manifest's OSM file.

    Returns
    -------
    RunOutput
        The evaluated results and the files written.

    Raises
    ------
    layers.errors.InputError
        On bad input; its ``message(lang=)`` names the file, feature, field and fix.
    """
    out = Path(out)
    start = time.perf_counter()
    plan = load_plan(plan_path)  # a mistyped plan fails before the layers load
    echo(t("progress.load", lang=lang))
    layers = load_layers(layers_dir, lang=lang)
    _echo_layers(layers, lang=lang, echo=echo)
    table = read_indicators(indicators or layers.indicators)

    streets = water = None
    coverage: pd.DataFrame | None = None
    access_result = None
    extra: dict[str, gpd.GeoDataFrame] = {}
    source = place or (str(graph_cache) if graph_cache and Path(graph_cache).is_file() else None)
    source = source or (layers.streets.name if layers.streets else None)
    loaded = None
    if source is not None:
        echo(t("progress.streets", lang=lang, file=source))
        loaded = load_streets(layers, place=place, cache=graph_cache)
    if loaded is not None:
        graph, streets, water = loaded
        for w in datum_warnings(layers, streets):
            layers.warnings.append(w)
            parts = w.split(" / ")
            echo(f"  ⚠ {t('warn', lang=lang)}: {parts[0] if lang == 'zh' else parts[-1]}")
        if access:
            echo(t("progress.access", lang=lang))
            access_result = scenario_coverage(layers, graph, plan=plan)
            coverage = access_result.coverage
            extra["service_areas"] = access_result.service_areas
            report = access_result.components
            if report.n_dropped:
                echo(f"  ⚠ {t('warn', lang=lang)}: " + t(
                    "warn.components", lang=lang, n=report.n_dropped,
                    nodes=report.nodes_dropped, length=report.length_dropped_m))
            if len(access_result.far_points):
                echo(f"  ⚠ {t('warn', lang=lang)}: " + t(
                    "warn.far_points", lang=lang, n=len(access_result.far_points)))

    echo(t("progress.evaluate", lang=lang, plan=plan.name if lang == "zh" else plan.name_en))
    results = evaluate_plan(plan, layers, indicators=table, coverage=coverage)
    for s in ("current", "planned"):
        h = headline(results, scenario=s)
        echo(f"  {t(f'scenario.{s}', lang=lang)}: " + t("progress.summary", lang=lang, **h))

    echo(t("progress.export", lang=lang))
    files = write_exports(layers, results, out, extra=extra)
    sections = []
    if access_result is not None:
        files += write_access_tables(access_result, out)
        sections = access_section(access_result, layers, lang=lang)
    files += write_report(plan, layers, results, out, lang=lang, extra_sections=sections)
    if write_map:
        from cfplan.maps.plan_map import build_map, save_map

        echo(t("progress.map", lang=lang))
        m = build_map(plan, layers, results, lang=lang, streets=streets, water=water,
                      service_areas=extra.get("service_areas"), tiles=tiles,
                      tianditu_key=tianditu_key)
        files.append(save_map(m, out / "map.html"))
    echo(t("progress.done", lang=lang, out=str(out)) + f" ({time.perf_counter() - start:.1f} s)")
    return RunOutput(plan, layers, results, out, files, streets, access_result)


def run_demo(out: str | Path, **kwargs: object) -> RunOutput:
    """Run the planner on the embedded demo district against the 经开区 plan.

    Returns
    -------
    RunOutput
        As :func:`run`.
    """
    from cfplan.analysis.plan import PLANS_DIR

    return run(DEMO_DIR, PLANS_DIR / "jingkai.toml", out, **kwargs)  # type: ignore[arg-type]
