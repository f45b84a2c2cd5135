"""The planner pipeline: assess a district against its plan, then write every output."""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import pandas as pd

from cfplan.analysis.coverage import ScenarioCoverage, scenario_coverage
from cfplan.analysis.evaluate import (
    Result,
    absent_kind_warnings,
    evaluate_plan,
    headline,
    status_year_warnings,
)
from cfplan.analysis.export import (
    export_frames,
    gaps_frame,
    unit_flags,
    write_geojson_exports,
)
from cfplan.analysis.gis_export import write_gis_geopackage, write_gis_shapefiles
from cfplan.analysis.indicators import check_indicators, read_indicators
from cfplan.analysis.plan import Plan, load_plan
from cfplan.analysis.report import (
    access_section,
    access_tables,
    routes_section,
    targets_table,
    write_access_tables,
)
from cfplan.analysis.report_xlsx import write_report
from cfplan.analysis.routes import SCHOOL_KINDS, SchoolRoutes, layer_rules
from cfplan.analysis.routes_config import RouteRules
from cfplan.analysis.routes_output import write_routes
from cfplan.analysis.selection import SCENARIOS
from cfplan.demo import DEMO_DIR
from cfplan.geo.io import EXPORT_DATUMS, atomic_write_bytes, output_path
from cfplan.geo.vector_files import SHAPEFILE_ENCODINGS
from cfplan.layers import log
from cfplan.layers.errors import CfplanError, InputError
from cfplan.layers.i18n import msg
from cfplan.layers.load import LayerSet, load_layers
from cfplan.layers.streets import Streets, load_streets, street_datum_warnings, street_source
from cfplan.layers.text import Text
from cfplan.publish import publishing, write_evidence

if TYPE_CHECKING:
    from collections.abc import Callable, Collection, Mapping, Sequence

    import folium

    from cfplan.analysis.siting.plan_sites import SitingPlan
    from cfplan.analysis.siting.result import SitingResult
    from cfplan.analysis.workbench import Scenario, Workbench
    from cfplan.geo.snap import Snapped
    from cfplan.maps.figures import Figure
    from cfplan.maps.plan_map import LayerBuilder

STEPS = ("load", "streets", "access", "routes", "evaluate", "export", "map")


class NoStreetsError(CfplanError):
    """Siting was asked for without a walking network (no ``[streets]``, or access skipped)."""

    TEXT = Text("选址需要步行路网：在图层清单中写明 [streets]，且不要跳过可达性计算（--no-access）",
                "siting needs the walking network: name [streets] in the manifest and do not "
                "skip walking access (--no-access)")

    def message(self, *, lang: str = "zh") -> str:
        """Return the message in ``lang``."""
        return self.TEXT.get(lang)

    def __str__(self) -> str:
        return self.TEXT.zh


@dataclass(eq=False)
class Assessment:
    """A district assessed against its plan: every result in memory, nothing written yet.

    Attributes
    ----------
    plan
        The plan.
    layers
        The loaded layers (metric CRS, see ``layers.crs``).
    results
        One :class:`cfplan.analysis.evaluate.Result` per target and scenario.
    indicators
        The bureau-reported indicator values, when given.
    streets
        The walking network, when the layers name one (or ``place``/cache gave one).
    access
        Walking coverage in both scenarios, when streets were available.
    warnings
        Every warning of the load and the analysis, each in Chinese and English.
    routes
        The school routes as things stand (:class:`cfplan.analysis.routes.SchoolRoutes`:
        routes, metrics per demand point, unit and school, hotspots, catchments), when
        they were computed (streets and schools, and ``routes`` not turned off).
    route_summary
        The per-school summary the ``route_safety`` targets read (columns
        :data:`cfplan.analysis.evaluate.ROUTE_SUMMARY_COLUMNS`, with ``scenario``), computed
        or given to :func:`assess`.
    siting
        The proposed sites, once :meth:`site` has run (then ``write``, ``map`` and the
        report include them).
    scenario
        The workbench scenario whose edits were made to the layers (``assess(...,
        scenario=FILE)``), else None.
    """

    plan: Plan
    layers: LayerSet
    results: list[Result]
    indicators: pd.DataFrame | None = None
    streets: Streets | None = None
    access: ScenarioCoverage | None = None
    warnings: list[Text] = field(default_factory=list)
    routes: SchoolRoutes | None = None
    route_summary: pd.DataFrame | None = None
    siting: SitingPlan | None = None
    scenario: Scenario | None = None

    @property
    def units(self) -> gpd.GeoDataFrame:
        """Units with their flags (``has_children_home`` …) and failed targets; metric CRS."""
        return unit_flags(self.layers, self.results)

    @property
    def facilities(self) -> gpd.GeoDataFrame:
        """Every facility used, with ``kind``, ``status``, ``unit``; metric CRS."""
        fac = self.layers.facilities
        return fac[[c for c in fac.columns if not c.startswith("_")]]

    @property
    def service_areas(self) -> gpd.GeoDataFrame:
        """5/10/15-minute walking service areas per kind as things stand (empty without streets)."""
        if self.access is None:
            return gpd.GeoDataFrame({"kind": [], "cutoff_m": [], "minutes": []}, geometry=[],
                                    crs=self.layers.crs)
        return self.access.service_areas

    @property
    def coverage(self) -> pd.DataFrame:
        """Walking coverage per kind, scenario and area (overall, subdistrict, unit); shares 0–1."""
        if self.access is None:
            return pd.DataFrame()
        return self.access.coverage

    def gaps(self, *, lang: str = "zh") -> gpd.GeoDataFrame:
        """Return one polygon per failing unit or subdistrict per target and scenario."""
        return gaps_frame(self.layers, self.results, lang=lang)

    def targets(self, *, lang: str = "zh") -> pd.DataFrame:
        """Return the targets table: one row per target and scenario (``targets.csv``)."""
        return targets_table(self.plan, self.results, lang=lang)

    def headline(self, scenario: str = "current") -> dict[str, int]:
        """Return the counts of targets by status in ``scenario``."""
        return headline(self.results, scenario=scenario)

    def map_layers(self) -> list[LayerBuilder]:
        """Return the map layer builders of this assessment's optional results.

        Each result that has a map layer (proposed sites, analysed school routes) adds its
        builder here; :meth:`map` draws them in their layer group.
        """
        builders: list[LayerBuilder] = []
        if self.routes is not None:
            from cfplan.maps.routes_layer import routes_layer

            builders.append(routes_layer(self.routes))
        if self.siting is not None and len(self.siting.sites):
            from cfplan.maps.siting_map import siting_layers

            builders.append(siting_layers(self.siting))
        return builders

    def workbench(self, *, base: str = "current") -> Workbench:
        """Return a workbench over this assessment: edits re-evaluated incrementally.

        ``base``: the scenario the edits apply to (``current`` or ``planned``). See
        :class:`cfplan.analysis.workbench.Workbench` and ``cfplan serve``.

        Returns
        -------
        cfplan.analysis.workbench.Workbench
            At step 0: its results are this assessment's in ``base``.
        """
        from cfplan.analysis.workbench import Workbench

        streets = self.streets
        runner = None
        if streets is not None and self.route_summary is not None:
            def runner(layers: LayerSet, scenario: str, **options: Any) -> SchoolRoutes | None:
                assert streets is not None
                return route_run(layers, streets, self.plan, scenario, **options)

        return Workbench(self.plan, self.layers, self.results, base=base,
                         indicators=self.indicators,
                         network=self.access.network if self.access else None,
                         demand=self.access.demand if self.access else None,
                         routes=self.route_summary, route_run=runner,
                         route_kinds=route_kinds(self.layers, self.plan))

    def _walk_inputs(self) -> ScenarioCoverage:
        if self.access is None or self.streets is None:
            raise NoStreetsError
        return self.access

    def site(self, *, scenario: str = "planned", kinds: Sequence[str] | None = None,
             spacing_m: float = 100.0, time_limit: float = 60.0, metric: str = "walking",
             budget: int = 10, centre_places: float = 60.0, expand_share: float = 0.25,
             check: bool = False) -> SitingPlan:
        """Propose what the plan's not-met targets still need, and where (建设建议).

        From the ``planned`` scenario by default (projects under construction or planned
        are done; ``"current"``: today's facilities only): every not-met target siting can
        close becomes constraints of one exact model per kind; per-person targets (托位 per
        1,000, pitches per 10,000) get expansions of existing centres and new ones of
        ``centre_places``; each national standard a ranking of the ``budget`` sites reaching
        the most children not yet reached, with the count full coverage needs. Candidates:
        ``[layers.candidates]``, else street nodes inside each unit ``spacing_m`` apart,
        never in water (the same in every scenario). With ``check``, the sites are applied
        and every target evaluated again (:meth:`apply_sites`; ``siting_check.csv`` and
        ``status_applied``). The result is kept as :attr:`siting`
        (``write`` then writes ``sites.geojson``, ``siting.json``, ``siting_targets.csv``,
        ``tradeoff.csv`` and ``figures/tradeoff.png``; the map and the report gain it).

        Returns
        -------
        cfplan.analysis.siting.plan_sites.SitingPlan
            ``sites`` (GeoDataFrame, metric CRS), ``outcomes``, ``runs``, ``tradeoff``,
            ``service_areas``.
        """
        from cfplan.analysis.siting.plan_sites import propose_sites

        access = self._walk_inputs()
        assert self.streets is not None
        log.info(Text("选址：求解新建设施的最少数量与位置", "siting: the fewest new sites and where"),
                 step="siting")
        self.siting = propose_sites(
            self.plan, self.layers, self.results, network=access.network,
            demand=access.demand, scenario=scenario, water=self.streets.water,
            spacing_m=spacing_m, metric=metric, time_limit=time_limit,  # type: ignore[arg-type]
            kinds=kinds, budget=budget, centre_places=centre_places, expand_share=expand_share)
        if check:
            from cfplan.analysis.siting.apply import with_applied

            log.info(Text("选址：按建议建成后重新评估", "siting: evaluating again with the sites built"),
                     step="siting")
            self.siting = with_applied(self.siting, self.apply_sites(self.siting).results)
        return self.siting

    def apply_sites(self, siting: SitingPlan | None = None) -> Assessment:
        """Return the district assessed again with the proposed sites built.

        The plan's new sites become facilities (in the siting's scenario) and its
        expansions grow their centres (:func:`cfplan.analysis.siting.apply.apply_sites`);
        walking access is measured again and every target evaluated. The school-route
        summary is reused (new sites are not schools on a route).

        Returns
        -------
        Assessment
            A new assessment of the layers with the sites applied (this one is unchanged).
        """
        from cfplan.analysis.siting.apply import apply_sites

        siting = siting or self.siting
        if siting is None:
            siting = self.site()
        layers = apply_sites(self.layers, siting)
        summary = self.route_summary if self.route_summary is not None else False
        return assess(layers, self.plan, indicators=self.indicators,
                      access=self.access is not None, routes=summary)

    def site_model(self, kind: str, model: str, *, k: int | None = None,
                   radius_m: float | None = None, scenario: str = "planned",
                   spacing_m: float = 100.0, time_limit: float = 60.0
                   ) -> tuple[SitingResult, gpd.GeoDataFrame]:
        """Run one model (``lscp``, ``mclp`` or ``pmedian``) for ``kind`` on these layers.

        Returns
        -------
        tuple
            The :class:`cfplan.siting.SitingResult` and the sites (GeoDataFrame, metric CRS).
        """
        from cfplan.analysis.siting.plan_sites import single_model

        access = self._walk_inputs()
        assert self.streets is not None
        return single_model(self.layers, network=access.network, demand=access.demand,
                            kind=kind, model=model, k=k, radius_m=radius_m,  # type: ignore[arg-type]
                            scenario=scenario, water=self.streets.water, spacing_m=spacing_m,
                            time_limit=time_limit)

    def map(self, *, lang: str = "zh", tiles: str | None = None, tianditu_key: str = "",
            extra_layers: Sequence[LayerBuilder] = ()) -> folium.Map:
        """Return the reviewer's map (a ``folium.Map``; it renders inline in Jupyter).

        ``tiles``: ``None``, ``"osm"``, ``"tianditu"``, ``"tianditu-img"`` or ``"amap"``
        (GCJ-02: the display copy is shifted); ``extra_layers``: more layer builders
        (:class:`cfplan.maps.plan_map.Overlay`), after :meth:`map_layers`.
        """
        from cfplan.maps.plan_map import build_map

        return build_map(
            self.plan, self.layers, self.results, lang=lang,
            streets=self.streets.lines if self.streets else None,
            water=self.streets.water if self.streets else None,
            service_areas=self.service_areas if self.access else None,
            coverage=self.coverage if self.access else None,
            tiles=tiles, tianditu_key=tianditu_key,
            extra_layers=[*self.map_layers(), *extra_layers])

    def write(self, out: str | Path, *, lang: str = "zh", map: bool = True,
              tiles: str | None = None, tianditu_key: str = "", shp: str | None = None,
              export_datum: str = "wgs84", wait: bool = False) -> list[Path]:
        """Write every output into ``out``, all at once, and return the files written.

        Files: ``report.md``, ``report.docx`` with ``figures/*.png``, ``report.xlsx``,
        ``targets.csv``, ``units.csv``, ``subdistricts.csv``, ``accounting.csv``,
        ``rejected.csv`` / ``rejected.geojson``, GeoJSON layers under ``layers/`` and
        results under ``results/``, ``cfplan.gpkg`` (every layer, result and rejected
        feature as a named layer, EPSG:4326), ``map.html`` unless ``map`` is false, and
        ``run.json`` (what produced the folder). ``shp="utf-8"`` or ``"gbk"`` adds
        Shapefiles under ``shp/`` with ``fields.csv``; ``export_datum="gcj02"`` adds a
        GCJ-02 copy of every GeoJSON (``*.gcj02.geojson``) for AMap-based systems. The same
        assessment writes the same bytes (``run.json`` also records the times).

        The files are written to a staging folder beside ``out`` and replace ``out`` whole
        only when every one is written (:func:`cfplan.publish.publishing`): a failure leaves
        the previous outputs as they were. Another run writing ``out`` stops this one
        (:class:`cfplan.publish.OutputBusyError`) unless ``wait``.
        """
        options = {"lang": lang, "map": map, "tiles": tiles, "shp": shp,
                   "export_datum": export_datum}
        with publishing(out, command="write", wait=wait,
                        record={**self.run_record(), "options": options}) as stage:
            files = self.write_files(stage.root, lang=lang, map=map, tiles=tiles,
                                     tianditu_key=tianditu_key, shp=shp,
                                     export_datum=export_datum)
        return [stage.final(f) for f in files]

    def run_record(self) -> dict[str, object]:
        """Return what ``run.json`` records of this assessment: the plan and every input's hash."""
        from cfplan.layers.fingerprint import file_digest, run_inputs

        plan_path = self.plan.path if self.plan.path.is_file() else None
        inputs = run_inputs(self.layers.folder, plan=plan_path,
                            indicators=self.layers.indicators) if self.layers.folder else []
        return {"plan": {"id": self.plan.id, "name": self.plan.name,
                         "file": str(self.plan.path)},
                "layers": str(self.layers.folder) if self.layers.folder else None,
                "inputs": [{"input": label, "file": str(path) if path else None,
                            "sha256": file_digest(path) if path else None}
                           for label, path in inputs]}

    def write_files(self, folder: str | Path, *, lang: str = "zh", map: bool = True,
                    tiles: str | None = None, tianditu_key: str = "", shp: str | None = None,
                    export_datum: str = "wgs84") -> list[Path]:
        """Write every output straight into ``folder`` (no staging) and return the files.

        :meth:`write` calls this inside a staging folder; call it directly only on a folder
        you publish yourself (as :func:`run` and ``cfplan batch`` do).
        """
        if shp not in (None, *SHAPEFILE_ENCODINGS) or export_datum not in EXPORT_DATUMS:
            bad = f"shp={shp!r}, export_datum={export_datum!r}"
            raise ValueError(f"{bad}: use shp in {tuple(SHAPEFILE_ENCODINGS)} or None, "
                             f"export_datum in {EXPORT_DATUMS}")
        out = Path(folder)
        log.info(msg("progress.export"), step="export")
        extra = {"service_areas": self.access.service_areas} if self.access else {}
        frames = export_frames(self.layers, self.results, extra=extra, lang=lang)
        files = write_geojson_exports(frames, out, datum=export_datum)
        files += self._write_gis(out, frames, shp=shp)
        sections: list[str] = []
        if self.access is not None:
            files += write_access_tables(self.access, out)
            sections = access_section(self.access, self.layers, lang=lang, plan=self.plan)
        if self.routes is not None:
            files += write_routes(self.routes, out)
            sections += routes_section(self.routes, lang=lang)
        coverage = self.access.coverage if self.access is not None else None
        if self.siting is not None:
            from cfplan.analysis.siting.export import advice_section, write_siting

            files += write_siting(self.siting, out, lang=lang)
            sections = advice_section(self.siting, self.plan, lang=lang) + sections
        files += write_report(self.plan, self.layers, self.results, out, lang=lang,
                              extra_sections=sections, warnings=self.warnings,
                              coverage=coverage)
        files += self.write_document(out, lang=lang)
        if map:
            from cfplan.maps.plan_map import save_map

            log.info(msg("progress.map"), step="map")
            files.append(save_map(self.map(lang=lang, tiles=tiles, tianditu_key=tianditu_key),
                                  out / "map.html"))
        return files

    def _result_layers(self) -> dict[str, gpd.GeoDataFrame]:
        """Return the school routes' and the proposed sites' layers for ``cfplan.gpkg``.

        Keys are export paths whose last part is the GeoPackage layer name (``route_lines``,
        ``route_hotspots``, ``planned_routes_scored``, ``school_catchments``,
        ``school_gates``, ``school_zones``, ``proposed_sites``).
        """
        layers: dict[str, gpd.GeoDataFrame] = {}
        if self.routes is not None:
            from cfplan.analysis.routes_output import GPKG_LAYERS, route_frames

            frames = route_frames(self.routes)
            for file, name in GPKG_LAYERS.items():
                frame = frames.get(file)
                if isinstance(frame, gpd.GeoDataFrame):
                    layers[f"routes/{name}"] = frame
        if self.siting is not None:
            from cfplan.analysis.siting.export import siting_tables
            from cfplan.analysis.siting.plan_sites import SITE_COLUMNS

            sites = siting_tables(self.siting)["sites"]
            layers["siting/proposed_sites"] = sites[[c for c in SITE_COLUMNS if c in sites]
                                                    + ["geometry"]]
        return layers

    def _write_gis(self, out: Path, frames: dict[str, gpd.GeoDataFrame], *,
                   shp: str | None) -> list[Path]:
        """Write ``cfplan.gpkg`` and, when asked, the Shapefiles; log their warnings."""
        tables = access_tables(self.access) if self.access is not None else {}
        # the routes' and sites' layers go into the GeoPackage only (hotspots mix points and
        # lines, which a Shapefile cannot hold)
        files = [write_gis_geopackage({**frames, **self._result_layers()}, out, tables=tables)]
        if shp:
            written, warnings = write_gis_shapefiles(frames, out, encoding=shp)
            files += written
            for w in warnings:
                log.warn(w)
        return files

    def figures(self, *, lang: str = "zh") -> list[Figure]:
        """Return the report's figures (PNG, 300 dpi): 儿童之家 by unit, failing walking targets, bars.

        A figure that cannot be drawn is left out with a warning (logged; the report's
        warnings list it): it never stops the other outputs.
        """
        return self._figures(lang=lang)[0]

    def _figures(self, *, lang: str = "zh") -> tuple[list[Figure], list[Text]]:
        from cfplan.maps.figures import draw_figures, figure_builders, figure_source

        source = figure_source(self.plan, self.layers, lang=lang)
        builders = figure_builders(self.plan, self.layers, self.results,
                                   coverage=self.coverage if self.access is not None else None,
                                   lang=lang, source=source)
        if self.siting is not None:
            from functools import partial

            from cfplan.maps.siting_figure import tradeoff_figure

            builders.append(("新建设施数量与覆盖率" if lang == "zh" else "siting trade-off",
                             partial(tradeoff_figure, self.siting.tradeoff, lang=lang,
                                     source=source)))
        figures, warnings = draw_figures(builders, lang=lang)
        for w in warnings:
            log.warn(w)
        return figures, warnings

    def write_document(self, out: str | Path, *, lang: str = "zh") -> list[Path]:
        """Write ``report.docx`` and its figures as ``figures/*.png`` into ``out``.

        Returns
        -------
        list of pathlib.Path
            The files written; the same assessment writes the same bytes.
        """
        from cfplan.analysis.report_docx import write_docx

        out = Path(out)
        figures, failed = self._figures(lang=lang)
        files = [atomic_write_bytes(output_path(out, "figures", f"{f.name}.png"), f.png)
                 for f in figures]
        advice = None
        if self.siting is not None:
            from cfplan.analysis.siting.export import advice_sections

            advice = advice_sections(self.siting, self.plan, lang=lang)
        files.append(write_docx(self.plan, self.layers, self.results, out / "report.docx",
                                lang=lang, figures=figures,
                                coverage=self.coverage if self.access is not None else None,
                                warnings=[*self.warnings, *failed], advice=advice,
                                routes=self.routes))
        return files

    def __repr__(self) -> str:
        counts = ", ".join(f"{s}: {self.headline(s)['met']}/{self.headline(s)['total']} met"
                           for s in SCENARIOS)
        return f"<Assessment {self.layers.name_en} × {self.plan.id} ({counts})>"


def assess(
    layers: LayerSet | str | Path,
    plan: Plan | str | Path,
    *,
    indicators: pd.DataFrame | str | Path | None = None,
    access: bool = True,
    place: str | None = None,
    graph_cache: str | Path | None = None,
    routes: pd.DataFrame | bool = True,
    route_rules: RouteRules | Mapping[str, object] | None = None,
    scenario: str | Path | None = None,
) -> Assessment:
    """Assess a district against its plan, in memory: load, measure walking access, evaluate.

    Parameters
    ----------
    layers
        A :class:`LayerSet` from :func:`load_layers`, or a layer folder with a manifest.
    plan
        A :class:`Plan` from :func:`load_plan`, a plan file, or a built-in plan name
        (``"jingkai"``, ``"shangjie"``).
    indicators
        Bureau-reported values (a table or a CSV/XLSX file); default: the manifest's.
    access
        Measure walking access along the streets (needs a street source).
    place
        Download the street network for this place online instead of the manifest's file.
    graph_cache
        A street cache: cfplan's array cache (any name, e.g. ``streets.npz``; read when
        built from the same street file and CRS, else rebuilt and written) or a
        ``.graphml`` file (read when it exists, else written).
    routes
        ``True`` (default): analyse the routes to school when there are streets and schools
        (:func:`cfplan.analysis.routes.school_routes`, both scenarios for the
        ``route_safety`` targets); ``False``: skip them (the targets are not assessed); or a
        school-route summary (one row per school, the columns
        :data:`cfplan.analysis.evaluate.ROUTE_SUMMARY_COLUMNS`) to evaluate instead.
    route_rules
        Overrides of the route rules (:class:`cfplan.analysis.routes_config.RouteRules`),
        over the manifest's ``[routes]`` table.
    scenario
        A scenario file saved by ``cfplan serve`` (``*.scenario``): its edits are made to
        the layers before anything is measured, so the results are the workbench's edited
        scenario (:attr:`Assessment.scenario` keeps it). Its plan must be ``plan`` and,
        when ``layers`` is a folder, its layers digest that folder's.

    Returns
    -------
    Assessment
        Results, GeoDataFrames and tables; ``write()`` writes the files, ``map()`` draws.

    Raises
    ------
    cfplan.InputError
        On bad input; ``message(lang=)`` names the file, feature, field and fix.
    """
    if not isinstance(plan, Plan):
        plan = load_plan(plan)  # a mistyped plan fails before the layers load
    folder = None
    if not isinstance(layers, LayerSet):
        folder = Path(layers)
        log.info(msg("progress.load"), step="load")
        layers = load_layers(layers)
    edited = None
    if scenario is not None:
        layers, edited = _scenario_layers(layers, plan, scenario, folder)
    for row in layers.accounting.itertuples(index=False):
        log.info(msg("progress.layer", layer=row.layer, file=row.file, read=row.read,
                     used=row.used, repaired=row.repaired, rejected=row.rejected,
                     crs=row.crs, datum=row.datum))
    log.info(msg("progress.crs", epsg=layers.crs.to_epsg(), name=layers.crs.name))
    warnings = [*plan.warnings, *layers.warnings, *absent_kind_warnings(plan, layers),
                *status_year_warnings(plan, layers)]
    table = indicators if isinstance(indicators, pd.DataFrame) else read_indicators(
        indicators or layers.indicators, warnings=warnings)
    warnings += check_indicators(plan, table)
    for w in warnings:
        log.warn(w)

    streets, coverage = None, None
    source = street_source(layers, place=place, cache=graph_cache)
    if source is not None:
        log.info(msg("progress.streets", file=source), step="streets")
        streets = load_streets(layers, place=place, cache=graph_cache)
    if streets is not None:
        for w in street_datum_warnings(layers, streets.lines.geometry):
            warnings.append(w)
            log.warn(w)
        if access:
            log.info(msg("progress.access"), step="access")
            coverage = scenario_coverage(layers, streets.network,
                                         components=streets.components, plan=plan)
            for w in coverage.warnings():
                warnings.append(w)
                log.warn(w)
    school, summary = None, routes if isinstance(routes, pd.DataFrame) else None
    if routes is True and streets is not None:
        school, summary = _school_routes(layers, streets, plan, route_rules)
        if school is not None:
            for w in school.warnings:
                warnings.append(w)
                log.warn(w)
    evaluating = msg("progress.evaluate", plan="{plan}")
    log.info(Text(evaluating.zh.format(plan=plan.name), evaluating.en.format(plan=plan.name_en)),
             step="evaluate")
    results = evaluate_plan(plan, layers, indicators=table,
                            coverage=coverage.coverage if coverage else None, routes=summary)
    for s in SCENARIOS:
        log.info(msg(f"scenario.{s}") + Text("：", ": ") + msg("progress.summary",
                                                              **headline(results, scenario=s)))
    return Assessment(plan, layers, results, table, streets, coverage, warnings, school,
                      summary, scenario=edited)


def _scenario_layers(layers: LayerSet, plan: Plan, path: str | Path, folder: Path | None
                     ) -> tuple[LayerSet, Scenario]:
    """Return the layers with a scenario file's edits made, after checking what it edits."""
    from cfplan.analysis.workbench import (
        apply_scenario,
        check_scenario,
        layers_digest,
        read_scenario,
    )

    header, steps = read_scenario(path)
    check_scenario(header, plan_id=plan.id, digest=layers_digest(folder) if folder else "",
                   source=str(path))
    edited, checked = apply_scenario(layers, steps, source=str(path),
                                     default_year=int(plan.period[1]))
    log.info(Text(f"情景 {Path(path).name}：{sum(map(len, checked))} 项编辑（基于"
                  f"{'现状' if header.base == 'current' else '规划完成后'}）",
                  f"scenario {Path(path).name}: {sum(map(len, checked))} edits (on the "
                  f"{header.base} scenario)"))
    return edited, replace(header, steps=tuple(tuple(s) for s in checked))


def route_kinds(layers: LayerSet, plan: Plan,
                rules: RouteRules | Mapping[str, object] | None = None) -> tuple[str, ...]:
    """Return the school kinds an assessment routes: the rules' and the plan's route targets'."""
    base = layer_rules(layers) if not isinstance(rules, RouteRules) else rules
    asked = [k for t in plan.targets if t.metric == "route_safety" for k in t.kinds]
    return tuple(dict.fromkeys([*base.kinds, *(k for k in asked if k in SCHOOL_KINDS)]))


def route_run(layers: LayerSet, streets: Streets, plan: Plan, scenario: str, *,
              rules: RouteRules | Mapping[str, object] | None = None,
              choose: Callable[[pd.DataFrame], Collection[str]] | None = None,
              demand: gpd.GeoDataFrame | None = None, target: Snapped | None = None
              ) -> SchoolRoutes | None:
    """Return the school routes of one scenario as :func:`assess` computes them (no detail).

    ``choose``, ``demand`` and ``target`` go to
    :func:`cfplan.analysis.routes.school_routes` (the workbench routes only the schools an
    edit touched).

    Returns
    -------
    cfplan.analysis.routes.SchoolRoutes or None
        None when the layers hold no school of the routed kinds.
    """
    from cfplan.analysis.routes import school_routes

    kinds = route_kinds(layers, plan, rules)
    if not layers.facilities["kind"].isin(kinds).any():
        return None
    return school_routes(layers, streets, rules=rules, kinds=kinds, scenario=scenario,
                         detail=False, choose=choose, demand=demand, target=target)


def _school_routes(layers: LayerSet, streets: Streets, plan: Plan,
                   rules: RouteRules | Mapping[str, object] | None
                   ) -> tuple[SchoolRoutes | None, pd.DataFrame | None]:
    """Routes as things stand, and the route summary of both scenarios (None: no school)."""
    from cfplan.analysis.routes import school_routes

    kinds = route_kinds(layers, plan, rules)
    fac = layers.facilities
    if not fac["kind"].isin(kinds).any():
        return None, None
    log.info(msg("progress.routes"), step="routes")
    summaries, current = [], None
    for scenario in SCENARIOS:
        result = school_routes(layers, streets, rules=rules, kinds=kinds, scenario=scenario,
                               detail=scenario == "current")
        if scenario == "current":
            current = result
        summaries.append(result.summary().assign(scenario=scenario))
    return current, pd.concat(summaries, ignore_index=True)


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
    shp: str | None = None,
    export_datum: str = "wgs84",
    routes: bool = True,
    scenario: str | Path | None = None,
    wait: bool = False,
    command: str = "run",
) -> Assessment:
    """Assess a district and write every output into ``out``: :func:`assess` + ``write``.

    ``shp`` and ``export_datum`` are passed to :meth:`Assessment.write`; ``routes=False``
    skips the school routes (no ``routes/`` folder); ``scenario`` is a workbench scenario
    file whose edits are made first (see :func:`assess`). The run holds ``out`` from the start
    (another run into it stops, or waits with ``wait``) and publishes every file at once
    (:func:`cfplan.publish.publishing`); on bad input the previous outputs stay, and the
    rejected features and accounting of what was read go to the failed run's folder
    (``.<out>.cfplan-failed``, the exception's ``partial_outputs``).

    Returns
    -------
    Assessment
        The assessment whose files were written.

    Raises
    ------
    cfplan.InputError
        On bad input; its ``message(lang=)`` names the file, feature, field and fix.
    """
    start = time.perf_counter()
    options = {"lang": lang, "map": write_map, "tiles": tiles, "access": access,
               "routes": routes, "place": place, "shp": shp, "export_datum": export_datum,
               "indicators": str(indicators) if indicators else None}
    with publishing(out, command=command, wait=wait, record={"options": options}) as stage:
        try:
            result = assess(layers_dir, plan_path, indicators=indicators, access=access,
                            place=place, graph_cache=graph_cache, routes=routes,
                            scenario=scenario)
        except InputError as exc:  # what was read goes with the partial outputs
            write_evidence(exc, stage.root, lang=lang)
            raise
        stage.record.update(result.run_record())
        result.write_files(stage.root, lang=lang, map=write_map, tiles=tiles,
                           tianditu_key=tianditu_key, shp=shp, export_datum=export_datum)
    log.info(msg("progress.done", out=str(stage.out))
             + Text.same(f" ({time.perf_counter() - start:.1f} s)"))
    return result


def site_plan(
    layers: LayerSet | str | Path = DEMO_DIR,
    plan: Plan | str | Path = "jingkai",
    *,
    scenario: str = "planned",
    kinds: Sequence[str] | None = None,
    spacing_m: float = 100.0,
    time_limit: float = 60.0,
    budget: int = 10,
    check: bool = False,
    out: str | Path | None = None,
    lang: str = "zh",
    graph_cache: str | Path | None = None,
    wait: bool = False,
) -> Assessment:
    """Assess a district and propose where to build (:meth:`Assessment.site`); the demo by default.

    From the planned scenario unless ``scenario="current"``; ``budget`` new sites ranked per
    national standard; ``check`` applies the sites and evaluates every target again. With
    ``out``, every output is written there (:meth:`Assessment.write`: the siting files, the
    report with its 建设建议 and standards' sections and the map with 建议选址).

    Returns
    -------
    Assessment
        With :attr:`Assessment.siting` set (``.siting.sites`` is a GeoDataFrame).
    """
    result = assess(layers, plan, graph_cache=graph_cache)
    result.site(scenario=scenario, kinds=kinds, spacing_m=spacing_m, time_limit=time_limit,
                budget=budget, check=check)
    if out is not None:
        result.write(out, lang=lang, wait=wait)
    return result


def school_routes(
    layers: LayerSet | str | Path,
    streets: Streets | None = None,
    *,
    rules: RouteRules | Mapping[str, object] | None = None,
    kinds: Sequence[str] | None = None,
    scenario: str = "current",
    place: str | None = None,
    graph_cache: str | Path | None = None,
) -> SchoolRoutes:
    """Analyse the routes to school of a district: catchments, routes, metrics, hotspots.

    Parameters
    ----------
    layers
        A :class:`LayerSet` or a layer folder (with ``layers.toml``).
    streets
        The walking network; loaded from the layers (or ``place``/``graph_cache``) when
        omitted.
    rules
        Route rules or overrides (:class:`cfplan.analysis.routes_config.RouteRules`), over
        the manifest's ``[routes]`` table.
    kinds
        School kinds (default: primary and junior middle schools).
    scenario
        ``current`` (built schools) or ``planned``.
    place, graph_cache
        As for :func:`assess`.

    Returns
    -------
    cfplan.analysis.routes.SchoolRoutes
        GeoDataFrames of routes, per-point, per-unit and per-school metrics, hotspots,
        catchments, gates, school zones and planned routes scored (metric CRS).

    Raises
    ------
    cfplan.InputError
        On bad input, or when the layers have no street network.
    """
    from cfplan.analysis.routes import school_routes as analyse
    from cfplan.layers.errors import InputError

    if not isinstance(layers, LayerSet):
        layers = load_layers(layers)
    if streets is None:
        streets = load_streets(layers, place=place, cache=graph_cache)
    if streets is None:
        raise InputError(str(layers.manifest_file),
                         Text("没有路网，无法分析上下学路径",
                              "no street network: school routes need one"),
                         Text("在清单 [streets] 中给出 OSM 文件，或用 --place",
                              "name an OSM file under [streets], or use --place"))
    log.info(msg("progress.routes"), step="routes")
    result = analyse(layers, streets, rules=rules, kinds=kinds, scenario=scenario)
    for w in result.warnings:
        log.warn(w)
    return result


def run_routes(layers_dir: str | Path | LayerSet, out: str | Path, *,
               place: str | None = None, graph_cache: str | Path | None = None,
               rules: RouteRules | Mapping[str, object] | None = None,
               wait: bool = False) -> SchoolRoutes:
    """Analyse the routes to school and publish ``routes/`` (and ``run.json``) as ``out``.

    Returns
    -------
    cfplan.analysis.routes.SchoolRoutes
        The routes whose files were written (see
        :func:`cfplan.analysis.routes_output.route_frames`).
    """
    with publishing(out, command="routes", wait=wait) as stage:
        result = school_routes(layers_dir, place=place, graph_cache=graph_cache, rules=rules)
        write_routes(result, stage.root)
    log.info(msg("progress.done", out=str(stage.out / "routes")))
    return result


def run_demo(out: str | Path, **kwargs: object) -> Assessment:
    """Run the planner on the embedded demo district against the 经开区 plan.

    Returns
    -------
    Assessment
        As :func:`run`.
    """
    return run(DEMO_DIR, "jingkai", out, **kwargs)  # type: ignore[arg-type]


def demo_assessment(**kwargs: object) -> Assessment:
    """Assess the embedded demo district against the 经开区 plan, in memory.

    Returns
    -------
    Assessment
        As :func:`assess`.
    """
    return assess(DEMO_DIR, "jingkai", **kwargs)  # type: ignore[arg-type]


__all__ = ["STEPS", "Assessment", "NoStreetsError", "assess", "demo_assessment", "route_kinds",
           "route_run", "run", "run_demo", "run_routes", "school_routes", "site_plan"]
