"""The map's 建议选址 layers: each proposed site with its walking service area."""

from __future__ import annotations

from collections.abc import Iterator

from cfplan.analysis.siting.plan_sites import SitingPlan
from cfplan.layers.kinds import FACILITY_KINDS
from cfplan.maps.plan_map import LayerBuilder, MapContext, Overlay

__all__ = ["SITE_COLOR", "siting_layers"]

SITE_COLOR = "#c2255c"


def siting_layers(siting: SitingPlan) -> LayerBuilder:
    """Return the layer builder of the proposed sites (for ``build_map(extra_layers=...)``).

    One entry per siting run in the 建议选址 group: the sites as glyph markers (the
    kind's glyph, dashed: not built) with rank, unit, 办事处, the residents and children
    newly within reach and the targets served, expansions of existing centres with the
    places they add; and the new sites' walking service areas. Runs for the plan's own
    targets are on when the page opens; each national standard's budgeted ranking (at most
    ``budget`` sites) is off.

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
            standard = str(sub["origin"].iloc[0]) == "standard"
            target = str(run).split("@")[1] if "@" in str(run) else ""
            if standard:
                label += ctx.t(f"（国家标准 {target}，优先 {len(sub)} 处）",
                               f" (standard {target}, first {len(sub)})")
            elif target:
                label += ctx.t(f"（{target}）", f" ({target})")
            names = [ctx.t(f"建议扩建：{s.name}（+{float(s.places):.0f} 托位）",
                           f"Expand: {s.name} (+{float(s.places):.0f} places)")
                     if s.action == "expand" else
                     ctx.t(f"建议新建{kind.zh} #{s.rank}", f"Proposed {kind.en} #{s.rank}")
                     for s in sub.itertuples(index=False)]
            rows = [[(ctx.t("社区/村", "Unit"), s.unit_name),
                     (ctx.t("办事处", "Subdistrict"), s.subdistrict_name),
                     (ctx.t("新增可达居民", "Residents newly in reach"),
                      round(float(s.new_population))),
                     (ctx.t("新增可达儿童", "Children newly in reach"),
                      round(float(s.new_children))),
                     (ctx.t("服务目标", "Targets served"), s.target),
                     (ctx.t("模型", "Model"), f"{s.model} ({s.status})" if s.model else "")]
                    for s in sub.itertuples(index=False)]
            area = areas[areas["run"] == run] if len(areas) else areas
            if len(area):
                layer = ctx.geo_layer(area, names=[ctx.t(f"{label}服务范围", f"{label} service area")]
                                      * len(area), lazy=standard,
                                      style={"color": SITE_COLOR, "weight": 1,
                                             "fillColor": SITE_COLOR, "fillOpacity": 0.12})
                yield Overlay("siting", ctx.t(f"建议选址服务范围：{label}",
                                              f"Service areas of proposed sites: {label}"),
                              layer, show=not standard)
            layer = ctx.geo_layer(sub, names=names, rows=rows,
                                  glyph=(kind.glyph(ctx.lang), SITE_COLOR),
                                  pending=[True] * len(sub), searchable=not standard,
                                  lazy=standard)
            yield Overlay("siting", ctx.t(f"建议选址：{label}（{len(sub)} 处）",
                                          f"Proposed sites: {label} ({len(sub)})"), layer,
                          show=not standard,
                          legend=((SITE_COLOR, ctx.t("建议选址", "Proposed site")),))
    return build
