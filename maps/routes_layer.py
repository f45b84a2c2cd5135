"""The map's school-route layers: routes coloured by risk, gates, school zones and hotspots."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from cfplan.analysis.report import hazard_text
from cfplan.analysis.routes import SchoolRoutes
from cfplan.maps.map_context import LayerBuilder, MapContext, Overlay
from cfplan.maps.palette import GATE, HOTSPOT, RISK, SAFE_ROUTE, ZONE

__all__ = ["RISK_COLORS", "risk_color", "routes_layer"]

# Risk points (penalty metres / 100) of a route → colour, low to high (none, < 2, < 5, ≥ 5).
RISK_COLORS = ((0.0, RISK[0]), (2.0, RISK[1]), (5.0, RISK[2]), (np.inf, RISK[3]))


def risk_color(risk: float) -> str:
    """Return the colour of a route's risk score: green (none) to red (5 points or more)."""
    if not risk > 0:
        return RISK_COLORS[0][1]
    for limit, color in RISK_COLORS[1:]:
        if risk < limit:
            return color
    return RISK_COLORS[-1][1]


def _radius(children: float, top: float) -> float:
    """Circle radius (px) of a hotspot: its area grows with the children passing."""
    return float(4.0 + 14.0 * np.sqrt(max(children, 0.0) / max(top, 1e-9)))


def routes_layer(routes: SchoolRoutes) -> LayerBuilder:
    """Return a layer builder drawing ``routes`` in the map's 上下学路径 group.

    Entries, all off when the page opens: the shortest routes coloured by risk, the safe
    routes (dashed), school gates (those of a ``gates`` layer, as dots), the school zones
    (GA/T 1215 radius) and the hotspots as circles sized by the children whose shortest
    route passes (largest first in the popup's rank). Schools are named, never coded.

    Returns
    -------
    Callable
        ``builder(ctx) -> Iterator[Overlay]`` for :func:`cfplan.maps.plan_map.build_map`.
    """

    def build(ctx: MapContext) -> Iterator[Overlay]:
        t = ctx.t
        lines = routes.routes
        fac = ctx.layers.facilities
        school_names = dict(zip(fac["fid"].astype(str), fac["name"].astype(str), strict=True))

        def school(code: object) -> str:
            return school_names.get(str(code), str(code))

        def schools_text(codes: object) -> str:
            return t("、", ", ").join(school(c) for c in str(codes).split(",") if c)

        for kind, label in (("shortest", t("最短上学路线（按风险着色）",
                                           "Shortest routes to school (by risk)")),
                            ("safe", t("安全上学路线", "Safe routes to school"))):
            sub = lines[lines["route"] == kind] if not lines.empty else lines
            if sub.empty:
                continue
            names = [f"{r.unit_name} → {school(r.school_code) if hasattr(r, 'school_code') else r.school_name}"
                     for r in sub.itertuples()]
            rows = [[(t("儿童", "Children"), f"{r.children:.0f}"),
                     (t("长度", "Length"), f"{r.length_m:.0f} m"),
                     (t("步行", "Walk"), t(f"{r.minutes:.0f} 分钟", f"{r.minutes:.0f} min")),
                     (t("无信号灯穿越干路", "Unsignalised arterial crossings"),
                      f"{r.unsignalised_crossings:.0f}"),
                     (t("无信号灯穿越的道路", "Roads crossed unsignalised"),
                      str(r.crossed_roads).replace(";", t("、", ", "))),
                     (t("无人行道", "No sidewalk"), f"{r.no_sidewalk_m:.0f} m"),
                     (t("风险", "Risk"), f"{r.risk:.1f}")] for r in sub.itertuples()]
            styles: list[dict[str, object]] | None
            if kind == "shortest":
                styles = [{"color": risk_color(float(r))} for r in sub["risk"]]
                style: dict[str, object] = {"weight": 3, "opacity": 0.8}
                legend: tuple[tuple[str, ...], ...] = tuple(
                    (c, t(f"路线风险 < {lim:g}", f"route risk < {lim:g}") if np.isfinite(lim)
                     else t("路线风险 ≥ 5", "route risk ≥ 5"), "line")
                    for lim, c in RISK_COLORS[1:])
                legend = ((RISK_COLORS[0][1], t("路线无风险", "route: no risk"), "line"), *legend)
            else:
                styles = None
                style = {"color": SAFE_ROUTE, "weight": 3, "dashArray": "6 5", "opacity": 0.8}
                legend = ((SAFE_ROUTE, t("安全路线", "safe route"), "dash"),)
            yield Overlay("routes", label, ctx.geo_layer(sub, names=names, rows=rows,
                                                         styles=styles, style=style, lazy=True),
                          show=False, legend=legend)
        if not routes.zones.empty:
            yield Overlay("routes", t(f"校园周边 {routes.rules.zone_radius_m:.0f} m",
                                      f"School zones ({routes.rules.zone_radius_m:.0f} m)"),
                          ctx.geo_layer(routes.zones,
                                        names=[school(c) for c in routes.zones["school_code"]],
                                        rows=[[(t("半径", "Radius"),
                                                f"{routes.rules.zone_radius_m:.0f} m")]]
                                        * len(routes.zones), lazy=True, pane="cf-low",
                                        style={"color": ZONE, "weight": 1, "fillColor": ZONE,
                                               "fillOpacity": 0.08}),
                          show=False, legend=((ZONE, t("校园周边", "school zone")),))
        gates = routes.gates[routes.gates["gate"] == "gate"] if not routes.gates.empty \
            else routes.gates
        if not gates.empty:  # schools without a gate layer are on the map already
            yield Overlay("routes", t("校门", "School gates"), ctx.geo_layer(
                gates, names=[school(c) for c in gates["school_code"]],
                rows=[[(t("类型", "Kind"), t("校门", "gate"))]] * len(gates), lazy=True,
                style={"radius": 5, "color": GATE, "fillColor": GATE,
                       "fillOpacity": 0.9, "weight": 1}),
                show=False, legend=((GATE, t("校门", "school gate"), "dot"),))
        hot = routes.hotspots
        if not hot.empty:
            top = float(hot["children"].max())
            points = hot[hot["kind"] == "crossing"]
            segments = hot[hot["kind"] == "segment"]
            unnamed = t("（无名道路）", "(unnamed road)")

            def rows_of(frame: object) -> list[list[tuple[str, object]]]:
                return [[(t("排名", "Rank"), int(r.rank)),
                         (t("隐患", "Hazard"), hazard_text(r.hazard, lang=ctx.lang)),
                         (t("途经儿童", "Children passing"), f"{r.children:.0f}"),
                         (t("风险", "Risk"), f"{r.risk:.1f}"),
                         (t("限速", "Speed limit"), f"{r.maxspeed:.0f} km/h"),
                         (t("学校", "Schools"), schools_text(r.schools))]
                        for r in frame.itertuples()]  # type: ignore[attr-defined]

            if not segments.empty:
                yield Overlay("routes", t("隐患路段", "Hotspot segments"), ctx.geo_layer(
                    segments, names=[r or unnamed for r in segments["road_name"]],
                    rows=rows_of(segments),
                    styles=[{"weight": 2 + 8 * float(np.sqrt(c / max(top, 1e-9)))}
                            for c in segments["children"]],
                    style={"color": HOTSPOT, "opacity": 0.7}, lazy=True), show=False,
                    legend=((HOTSPOT, t("隐患路段", "hotspot segment"), "line"),))
            if not points.empty:
                yield Overlay("routes", t("隐患过街点（按途经儿童大小）",
                                          "Hotspot crossings (sized by children)"),
                              ctx.geo_layer(points, names=[r or unnamed
                                                           for r in points["road_name"]],
                                            rows=rows_of(points),
                                            styles=[{"radius": _radius(float(c), top)}
                                                    for c in points["children"]],
                                            style={"color": HOTSPOT, "fillColor": HOTSPOT,
                                                   "fillOpacity": 0.6, "weight": 1}, lazy=True),
                              show=False,
                              legend=((HOTSPOT, t("隐患点（越大途经儿童越多）",
                                                  "hotspot (larger: more children)"), "dot"),))

    return build
