"""The map's 建议选址 layers: each proposed site with its walking service area."""

from __future__ import annotations

from collections.abc import Iterator

from cfplan.analysis.siting.plan_sites import SitingPlan
from cfplan.layers.kinds import FACILITY_KINDS
from cfplan.maps.map_context import LayerBuilder, MapContext, Overlay
from cfplan.maps.palette import SITE

__all__ = ["MODEL_NAMES", "SITE_COLOR", "SOLVE_STATUS", "siting_layers"]

SITE_COLOR = SITE
# The siting models and solver outcomes in the map's words.
MODEL_NAMES = {
    "JurisdictionCover": ("辖区全覆盖模型", "every-unit cover"),
    "LSCP": ("集合覆盖模型（LSCP）", "set cover (LSCP)"),
    "MCLP": ("最大覆盖模型（MCLP）", "maximal cover (MCLP)"),
    "PMedian": ("P 中值模型", "p-median"),
    "CapacitatedCoverage": ("带容量的覆盖模型", "capacitated cover"),
}
SOLVE_STATUS = {
    "optimal": ("最优解", "optimal"), "gap_limit": ("近似最优（达到间隙上限）", "near-optimal (gap limit)"),
    "time_limit": ("限时内的最好解", "best found in the time limit"),
    "node_limit": ("节点上限内的最好解", "best found in the node limit"),
    "infeasible": ("无可行解", "infeasible"), "error": ("求解出错", "solver error"),
}


def model_text(model: object, status: object, *, lang: str) -> str:
    """Return a siting model and its solve status in the map's language."""
    i = 0 if lang == "zh" else 1
    name = MODEL_NAMES.get(str(model), (str(model), str(model)))[i]
    state = SOLVE_STATUS.get(str(status), (str(status), str(status)))[i]
    return f"{name}（{state}）" if lang == "zh" else f"{name} ({state})"


def siting_layers(siting: SitingPlan) -> LayerBuilder:
    """Return the layer builder of the proposed sites (for ``build_map(extra_layers=...)``).

    One entry per siting run in the 建议选址 group: the sites as glyph markers (the
    kind's glyph, dashed, in the site colour) with rank, unit, 办事处, the residents and
    children newly within reach, the targets served and the model; and their walking
    service areas. Every entry is off when the page opens; the legend names each shown
    run's kind.

    Returns
    -------
    LayerBuilder
        ``ctx -> overlays``; nothing when no site is proposed.
    """
    def build(ctx: MapContext) -> Iterator[Overlay]:
        sites, areas = siting.sites, siting.service_areas
        for run in dict.fromkeys(sites["run"]):
            sub = sites[sites["run"] == run]
            kind = FACILITY_KINDS[str(sub["kind"].iloc[0])]
            label = kind.zh if ctx.zh else kind.en
            standard = str(run).endswith("@standard")
            if standard:
                label += ctx.t("（国家标准）", " (standard)")
            names = [ctx.t(f"建议新建{kind.zh} #{r}", f"Proposed {kind.en} #{r}")
                     for r in sub["rank"]]
            rows = [[(ctx.t("社区/村", "Unit"), s.unit_name),
                     (ctx.t("办事处", "Subdistrict"), s.subdistrict_name),
                     (ctx.t("新增可达居民", "Residents newly in reach"), round(s.new_population)),
                     (ctx.t("新增可达儿童", "Children newly in reach"), round(s.new_children)),
                     (ctx.t("服务目标", "Targets served"), s.target),
                     (ctx.t("模型", "Model"), model_text(s.model, s.status, lang=ctx.lang))]
                    for s in sub.itertuples(index=False)]
            area = areas[areas["run"] == run] if len(areas) else areas
            if len(area):
                layer = ctx.geo_layer(area, lazy=True, pane="cf-low",
                                      style={"color": SITE_COLOR, "weight": 1,
                                             "fillColor": SITE_COLOR, "fillOpacity": 0.12})
                yield Overlay("siting", ctx.t(f"建议选址服务范围：{label}",
                                              f"Service areas of proposed sites: {label}"),
                              layer, show=False,
                              legend=((SITE_COLOR, ctx.t("建议选址的步行服务范围",
                                                         "walking area of a proposed site")),))
            layer = ctx.geo_layer(sub, names=names, rows=rows,
                                  glyph=(kind.glyph(ctx.lang), SITE_COLOR),
                                  pending=[True] * len(sub), lazy=True, order=10)
            yield Overlay("siting", ctx.t(f"建议选址：{label}（{len(sub)} 处）",
                                          f"Proposed sites: {label} ({len(sub)})"), layer,
                          show=False,
                          legend=((SITE_COLOR, ctx.t(f"建议新建：{label}", f"proposed {label}"),
                                   "glyph", kind.glyph(ctx.lang)),))
    return build
