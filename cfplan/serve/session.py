"""One workbench session: an assessment, its workbench, and the JSON the page and API read."""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from cfplan.analysis.evaluate import Result
from cfplan.analysis.indicators import target_text
from cfplan.analysis.plan import Target
from cfplan.analysis.report import _shortfall, value_text
from cfplan.analysis.siting.requests import SITEABLE_KINDS, SITEABLE_METRICS
from cfplan.analysis.workbench import (
    Outcome,
    Scenario,
    Workbench,
    check_scenario,
    compare_results,
    read_scenario,
    scenario_text,
)
from cfplan.analysis.workbench.changes import STATUS_TEXT
from cfplan.geo.service_area import reached_intervals
from cfplan.layers.kinds import FACILITY_KINDS, LEVELS, LIFE_CIRCLES_M, STATUSES, kind_label
from cfplan.maps.display import display_features, display_points

if TYPE_CHECKING:
    from cfplan.pipeline import Assessment

__all__ = ["Session"]

MAX_SUGGESTIONS = 20


def _level_default(fac: gpd.GeoDataFrame, kind: str) -> str:
    """Return the level most facilities of ``kind`` give (an added one's likely level), or ''."""
    from cfplan.layers.kinds import level_key

    levels = fac.loc[fac["kind"] == kind, "level"].map(level_key).dropna()
    return str(levels.mode().iloc[0]) if len(levels) else ""


@dataclass
class Session:
    """The assessment and the workbench one ``cfplan serve`` runs, behind one lock.

    Attributes
    ----------
    assessment
        The full assessment of the layers (the table's current and planned columns).
    workbench
        The edits and their incremental evaluation.
    lang
        The page's language.
    layers_label
        How the scenario file names the layers (the folder as given, or ``demo``).
    layers_digest
        The layer folder's digest, written into scenario files.
    read_only
        Whether edits are refused.
    """

    assessment: Assessment
    workbench: Workbench
    lang: str = "zh"
    layers_label: str = ""
    layers_digest: str = ""
    read_only: bool = False
    lock: threading.RLock = field(default_factory=threading.RLock, repr=False)
    suggestions: list[dict[str, Any]] = field(default_factory=list, repr=False)

    @property
    def plan(self):  # noqa: ANN201
        """The plan."""
        return self.workbench.plan

    def t(self, zh: str, en: str) -> str:
        """Return ``zh`` or ``en`` for the session's language."""
        return zh if self.lang == "zh" else en

    # ------------------------------------------------------------------ layers

    def district(self) -> dict[str, Any]:
        """Return the district's outlines: units, subdistricts, boundary (display GeoJSON)."""
        layers = self.workbench.layers
        units = layers.units
        props: list[dict[str, object]] = [{"code": str(r.code), "name": str(r.name), "subdistrict": str(r.subdistrict),
                  "population": float(r.population),
                  "children": None if pd.isna(r.children) else float(r.children)}
                 for r in units.itertuples()]
        subs = layers.subdistricts
        sub_props: list[dict[str, object]] = [{"code": str(c), "name": str(n)} for c, n in zip(subs["code"], subs["name"],
                                                                      strict=True)]
        return {"units": display_features(units, props),
                "subdistricts": display_features(subs, sub_props) if len(subs) else None,
                "boundary": display_features(layers.district, [{} for _ in
                                                               range(len(layers.district))])}

    def facilities(self) -> list[dict[str, Any]]:
        """Return the edited scenario's facilities: id, name, kind, status, point and fields."""
        fac = self.workbench.layers.facilities
        if fac.empty:
            return []
        xy = display_points(fac.geometry)
        edited = {e.fid for step in self.workbench.edits for e in step if e.fid}
        out = []
        for i, row in enumerate(fac.itertuples(index=False)):
            year: Any = getattr(row, "year", None)
            cap: Any = getattr(row, "capacity", None)
            out.append({
                "fid": str(row.fid), "name": str(row.name), "kind": str(row.kind),
                "status": str(row.status) if isinstance(row.status, str) else "",
                "year": None if pd.isna(year) else int(year),
                "capacity": None if pd.isna(cap) else float(cap),
                "unit": str(row.unit) if isinstance(row.unit, str) else "",
                "point": row.geometry.geom_type == "Point",
                "lon": float(xy[i, 0]), "lat": float(xy[i, 1]),
                "edited": str(row.fid) in edited})
        return out

    def kinds(self) -> list[dict[str, Any]]:
        """Return every kind an edit can add: key, label, colour, glyph, radius, level."""
        fac = self.workbench.layers.facilities
        return [{"key": k.key, "label": kind_label(k.key, lang=self.lang), "color": k.color,
                 "glyph": k.glyph(self.lang), "radius_m": k.radius_m,
                 "level": _level_default(fac, k.key)} for k in FACILITY_KINDS.values()]

    def vocabulary(self) -> dict[str, Any]:
        """Return the page's lookups: levels and statuses in the session's language."""
        pick = 0 if self.lang == "zh" else 1
        return {"levels": [{"key": k, "label": v[pick]} for k, v in LEVELS.items()],
                "statuses": {k: v[pick] for k, v in STATUSES.items()},
                "result_statuses": {k: v.get(self.lang) for k, v in STATUS_TEXT.items()}}

    # ------------------------------------------------------------------ targets

    def _row(self, t: Target, cur: Result | None, pla: Result | None, edi: Result | None
             ) -> dict[str, Any]:
        lang = self.lang

        def cell(r: Result | None) -> dict[str, Any] | None:
            if r is None:
                return None
            return {"status": r.status, "value_text": value_text(r, lang=lang),
                    "shortfall": _shortfall(r, lang), "failing": list(r.failing)}

        value = None if edi is None else edi.value
        if value is not None and not isinstance(value, bool):
            value = float(value)
        return {
            "id": t.id, "item": t.item, "title": t.text("title", lang),
            "metric": t.metric, "origin": t.origin,
            "target": target_text(t, lang=lang, term=self.plan.subdistrict_term),
            "status_current": cur.status if cur else None,
            "status_planned": pla.status if pla else None,
            "status_edited": edi.status if edi else None,
            "value_edited": value,
            "current": cell(cur), "planned": cell(pla), "edited": cell(edi),
            "level": "subdistrict" if t.unit_level == "subdistrict" else "unit",
            "per_unit": t.metric in ("presence_per_unit", "capacity_per_unit", "accessibility"),
            "siteable": self._siteable(t),
        }

    @staticmethod
    def _siteable(t: Target) -> bool:
        return (t.metric in SITEABLE_METRICS and len(t.kinds) == 1
                and t.kinds[0] in SITEABLE_KINDS)

    def targets(self) -> list[dict[str, Any]]:
        """Return one row per target: both scenarios as loaded and the edited one.

        Returns
        -------
        list of dict
            ``id``, ``status_current``, ``status_planned``, ``status_edited``,
            ``value_edited`` (share 0–1, count, rate or bool; None when unknown), and for
            the page the title, target text and each column's value and shortfall.
        """
        ref = self.workbench.reference
        edited = {r.target.id: r for r in self.workbench.results}
        return [self._row(t, ref.get((t.id, "current")), ref.get((t.id, "planned")),
                          edited.get(t.id)) for t in self.plan.targets]

    def outcome(self, outcome: Outcome | None) -> dict[str, Any]:
        """Return an edit's, undo's or redo's answer for the API."""
        wb = self.workbench
        changed = [] if outcome is None else [c.to_dict(self.lang) for c in outcome.changed]
        return {"edit_id": len(wb.edits), "changed": changed,
                "elapsed_ms": round(outcome.elapsed_ms, 1) if outcome else 0.0,
                "kinds": sorted({e.kind for e in outcome.edits if e.kind}) if outcome else [],
                "headline": wb.headline(), "can_undo": wb.can_undo, "can_redo": wb.can_redo}

    def edits(self) -> list[dict[str, Any]]:
        """Return the applied edits, step by step (for the page's list)."""
        return [{"step": i, **e.to_dict()} for i, step in enumerate(self.workbench.edits, 1)
                for e in step]

    # ------------------------------------------------------------------ scenario

    def scenario(self) -> Scenario:
        """Return the edits so far as a scenario."""
        return Scenario(plan=self.plan.id, base=self.workbench.base, layers=self.layers_label,
                        layers_digest=self.layers_digest, steps=self.workbench.edits,
                        name=self.t(f"{self.workbench.layers.name}工作台情景",
                                    f"{self.workbench.layers.name_en} workbench scenario"))

    def scenario_text(self) -> str:
        """Return the scenario file's content."""
        return scenario_text(self.scenario())

    def compare(self, text: str) -> list[dict[str, Any]]:
        """Return the edited scenario beside a saved one (its text), target by target.

        Raises
        ------
        cfplan.InputError
            When the text is not a scenario of these layers and plan.
        """
        source = self.t("上传的情景", "uploaded scenario")
        header, steps = read_scenario(source, text=text)
        check_scenario(header, plan_id=self.plan.id, digest=self.layers_digest, source=source)
        other = self.assessment.workbench(base=header.base)
        other.replay(steps)
        table = compare_results(self.plan, self.workbench.results, other.results,
                                names=("a", "b"), lang=self.lang)
        return table.to_dict(orient="records")

    # ------------------------------------------------------------------ map extras

    def reach(self, kind: str) -> dict[str, Any]:
        """Return the streets within each walking band of ``kind`` (edited scenario), as lines.

        Returns
        -------
        dict
            GeoJSON lines with ``minutes`` (5, 10, 15), widest band first; empty when the
            kind has no walking standard.
        """
        found, network = self.workbench.reach(kind), self.workbench.network
        if found is None or network is None:
            return {"type": "FeatureCollection", "features": []}
        geoms: list[object] = []
        props: list[dict[str, object]] = []
        for minutes, cutoff in sorted(LIFE_CIRCLES_M.items(), reverse=True):
            edge, start, end = reached_intervals(network, found.nodes, cutoff,
                                                 sources=found.sources)
            if not len(edge):
                continue
            keep = end - start > 0.5
            lines = _cut(network.edge_geometry[edge[keep]], start[keep] / np.maximum(
                network.edge_length[edge[keep]], 1e-9), end[keep] / np.maximum(
                network.edge_length[edge[keep]], 1e-9))
            merged = shapely.line_merge(shapely.union_all(lines)) if len(lines) else None
            if merged is None or merged.is_empty:
                continue
            geoms.append(merged)
            props.append({"minutes": minutes})
        frame = gpd.GeoDataFrame(geometry=geoms, crs=self.workbench.layers.crs)
        return display_features(frame, props, simplify_m=2.0)

    def suggest(self, target_id: str) -> dict[str, Any]:
        """Propose new sites for one failing target with the siting models (edited scenario).

        Returns
        -------
        dict
            ``sites``: ``[{n, kind, lon, lat, unit, name}]`` and ``message``.
        """
        from cfplan.analysis.siting.plan_sites import propose_sites

        wb = self.workbench
        t = self.plan.target(target_id)
        result = {r.target.id: r for r in wb.results}.get(target_id)
        if result is None or not self._siteable(t) or result.status == "met":
            self.suggestions = []
            return {"sites": [], "message": self.t("该目标无需或无法选址",
                                                   "siting cannot help this target")}
        if wb.network is None or wb.demand is None:
            return {"sites": [], "message": self.t("没有路网，无法选址", "no street network for siting")}
        sub = _sub_plan(self.plan, t)
        streets = self.assessment.streets
        siting = propose_sites(sub, wb.layers, [result], network=wb.network,
                               demand=wb.demand, scenario=wb.base,
                               water=streets.water if streets is not None else None,
                               k_extra=0, tradeoff_time_limit=1.0, service_areas_=False,
                               time_limit=20.0)
        sites = siting.sites
        if "action" in sites.columns:  # expansions of existing centres are not new sites
            sites = sites[sites["action"] != "expand"]
        sites = sites.head(MAX_SUGGESTIONS)
        out = []
        if len(sites):
            xy = display_points(sites.geometry)
            for i, row in enumerate(sites.itertuples(index=False)):
                kind = str(row.kind)
                unit = str(row.unit_name) if isinstance(row.unit_name, str) else ""
                out.append({"n": i + 1, "kind": kind, "kind_label": kind_label(kind, lang=self.lang),
                            "level": _level_default(wb.layers.facilities, kind) or None,
                            "lon": float(xy[i, 0]), "lat": float(xy[i, 1]), "unit": unit,
                            "name": self.t(f"{unit}{kind_label(kind, lang='zh')}（建议）",
                                           f"Proposed {kind_label(kind, lang='en').lower()} "
                                           f"{i + 1}")})
        self.suggestions = out
        message = self.t(f"建议新建 {len(out)} 处", f"{len(out)} sites proposed") if out else \
            self.t("模型没有找到可行的新址", "the model found no feasible new site")
        return {"sites": out, "message": message}


def _cut(lines: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Return the parts of ``lines`` between the fractions ``lo`` and ``hi``."""
    from shapely.ops import substring

    out = np.empty(len(lines), dtype=object)
    whole = (lo <= 0) & (hi >= 1)
    out[whole] = lines[whole]
    for i in np.flatnonzero(~whole):
        out[i] = substring(lines[i], float(lo[i]), float(hi[i]), normalized=True)
    return out


def _sub_plan(plan: Any, t: Target) -> Any:
    import dataclasses

    return dataclasses.replace(plan, targets=(t,))


def open_session(assessment: Assessment, *, base: str = "current", lang: str = "zh",
                 layers_label: str = "", layers_digest: str = "", read_only: bool = False,
                 steps: Sequence[Sequence[Mapping[str, Any]]] = ()) -> Session:
    """Return a session over an assessment, with a scenario's steps replayed when given."""
    wb = assessment.workbench(base=base)
    if steps:
        wb.replay(steps)
    return Session(assessment, wb, lang=lang, layers_label=layers_label,
                   layers_digest=layers_digest, read_only=read_only)
