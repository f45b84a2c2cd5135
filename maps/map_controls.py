"""The map's controls: layer control, legend of the visible layers, targets panel, search, tools."""

from __future__ import annotations

from cfplan.analysis.evaluate import Result
from cfplan.analysis.indicators import target_text
from cfplan.analysis.plan import DOMAINS, DOMAINS_EN, Plan
from cfplan.analysis.report import value_text
from cfplan.analysis.selection import SCENARIOS
from cfplan.layers.i18n import t as tr
from cfplan.maps.display import js_json
from cfplan.maps.map_context import MapContext, Overlay, esc
from cfplan.maps.palette import STATUS_COLOR
from cfplan.maps.safe_render import ScriptElement
from cfplan.maps.unit_layers import item_number

# Layer groups of the layer control, in order; facilities get one group per plan domain.
GROUPS = (
    ("basemap", "底图", "Basemap"), ("admin", "行政区划", "Boundaries"),
    ("facilities", "设施", "Facilities"), ("access", "可达性", "Walking access"),
    ("siting", "建议选址", "Proposed sites"), ("routes", "上下学路径", "School routes"),
    ("gaps", "缺口", "Gaps"),
)
# Room the panels take at each edge when the page opens (px): the district is fitted in
# the rest, so that no panel covers it. Left: the tool buttons; right: the selector and legend.
FIT_PADDING = ((52, 40), (262, 34))


def domain_group(domain: str) -> str:
    """Return the layer-group key of a plan domain: ``facilities:3`` (ASCII, 1-based)."""
    return f"facilities:{DOMAINS.index(domain) + 1}" if domain in DOMAINS else "facilities:"


def _group_domain(key: str) -> str:
    code = key.split(":", 1)[1] if ":" in key else ""
    return DOMAINS[int(code) - 1] if code.isdigit() and 0 < int(code) <= len(DOMAINS) else ""


def _domain_order(key: str) -> int:
    domain = _group_domain(key)
    return DOMAINS.index(domain) if domain in DOMAINS else len(DOMAINS)


def _group_label(ctx: MapContext, key: str) -> str:
    if key.startswith("facilities:"):
        domain = _group_domain(key)
        word = "设施" if ctx.zh else "Facilities"
        if not domain:
            return ctx.t("其他设施", "Other facilities")
        return f"{word} · {domain if ctx.zh else DOMAINS_EN.get(domain, domain)}"
    for k, zh, en in GROUPS:
        if k == key:
            return ctx.t(zh, en)
    return key


class Controls(ScriptElement):
    """Scale bar, fullscreen, measure, search, layer control, legend and targets panel."""

    def __init__(self, ctx: MapContext, overlays: list[Overlay], *,
                 bounds: list[list[float]]) -> None:
        super().__init__()
        self._name = "cf_controls"
        self.ctx = ctx
        self.overlays = overlays
        self.bounds = bounds

    def script(self) -> str:
        """Return the controls' script (at render time: every layer then has its name)."""
        ctx = self.ctx
        assert self._parent is not None  # added to the map before it renders
        mname = self._parent.get_name()
        entries = [o for o in self.overlays if o.group]
        entry_js = ", ".join(
            f"{{name: {js_json(o.name)}, layer: {o.layer.get_name() if o.layer else 'null'}, "
            f"show: {'true' if o.show else 'false'}, radio: {'true' if o.radio else 'false'}, "
            f"kind: {js_json(o.kind)}, legend: {js_json([list(x) for x in o.legend])}}}"
            for o in entries)
        groups: dict[str, list[int]] = {}
        for i, o in enumerate(entries):
            groups.setdefault(o.group, []).append(i)
        order = [k for k, _, _ in GROUPS]
        keys = sorted(groups, key=lambda k: (order.index(k.split(":")[0]) if k.split(":")[0] in order
                                             else len(order), _domain_order(k)))
        spec = ", ".join(f"{{key: {js_json(k)}, label: {js_json(_group_label(ctx, k))}, "
                         f"layers: [{', '.join(f'E[{i}]' for i in groups[k])}]}}" for k in keys)
        search = ", ".join(layer.get_name() for layer in ctx.search)
        measure = {"position": "topleft", "primaryLengthUnit": "meters",
                   "secondaryLengthUnit": "kilometers", "primaryAreaUnit": "sqmeters",
                   "secondaryAreaUnit": "hectares", "activeColor": "#d9480f",
                   "completedColor": "#1c3d5a"}
        panel = panel_html(ctx.plan, ctx.results, lang=ctx.lang)
        notes = [ctx.t("虚线框：在建/规划（现状不计）", "Dashed: under construction or planned"),
                 ctx.t("深色圆：聚合的设施数，放大后展开", "Dark circles: facilities clustered; zoom in")]
        return f"""
(function (map) {{
  var E = [{entry_js}];
  L.control.scale({{imperial: false, metric: true, position: 'bottomleft', maxWidth: 120}}).addTo(map);
  L.control.fullscreen({{position: 'topleft', title: {js_json(ctx.t('全屏', 'Full screen'))},
                         titleCancel: {js_json(ctx.t('退出全屏', 'Exit full screen'))}}}).addTo(map);
  L.Control.Measure.include({{_setCaptureMarkerIcon: function () {{
    this._captureMarker.options.autoPanOnFocus = false;
    this._captureMarker.setIcon(L.divIcon({{iconSize: this._map.getSize().multiplyBy(2)}}));
  }}}});
  new L.Control.Measure({js_json(measure)}).addTo(map);
  cfplan.search(map, {{layers: [{search}].concat(cf_facilities ? Object.values(cf_facilities.layers) : []),
    cluster: cf_facilities ? cf_facilities.cluster : null,
    placeholder: {js_json(ctx.t('搜索设施、社区/村、' + ctx.plan.subdistrict_term, 'Search facilities, units, subdistricts'))},
    notFound: {js_json(ctx.t('没有找到', 'Not found'))}, cancel: {js_json(ctx.t('清除', 'Clear'))}}});
  cfplan.panel(map, {{id: 'cf-panel', cls: 'cf-panel', position: 'topleft', collapsed: true,
    title: {js_json(ctx.t('目标一览', 'Targets'))}, html: {js_json(panel)}}});
  cfplan.layerControl(map, {{title: {js_json(ctx.t('图层', 'Layers'))}, collapsed: true,
    groups: [{spec}]}});
  cfplan.legendControl(map, {{title: {js_json(ctx.t('图例', 'Legend'))}, entries: E,
    facilityNotes: {js_json(notes)}}});
  cfplan.identifyOnClick(map);
  if (cfplan.applySelection) cfplan.applySelection();
  cfplan.fit(map, {js_json(self.bounds)}, {js_json(FIT_PADDING)});
}})({mname});
"""


def panel_html(plan: Plan, results: list[Result], *, lang: str) -> str:
    """Return the targets panel: every target in both scenarios with its shortfall (escaped)."""
    zh = lang == "zh"
    by_key = {(r.target.id, r.scenario): r for r in results}
    rows = []
    for spatial in (True, False):
        rows.append(f"<tr><th colspan='4' class='cf-sec'>"
                    f"{'空间目标' if spatial and zh else '填报指标' if zh else 'Spatial targets' if spatial else 'Reported indicators'}"
                    "</th></tr>")
        for t in plan.targets:
            if (t.metric != "indicator") != spatial:
                continue
            cells = []
            for s in SCENARIOS:
                r = by_key.get((t.id, s))
                if r is None:
                    cells.append("<td></td>")
                    continue
                label = tr(f"status.{r.status}", lang=lang)
                tip = esc(r.shortfall.get(lang) or r.reason.get(lang))
                cells.append(f"<td title='{tip}'><span class='cf-nw'><span class='cf-dot' "
                             f"style='background:{STATUS_COLOR[r.status]}'></span>{esc(label)}"
                             f"</span> {esc(value_text(r, lang=lang))}</td>")
            first = by_key.get((t.id, "current"))
            short = first.shortfall.get(lang) if first is not None else ""
            number = item_number(t, lang)
            rows.append(
                f"<tr><td>{esc(number)}</td><td title='{esc(t.text('wording', lang))}'>"
                f"{esc(t.text('title', lang))}<br>"
                f"<small>{esc(target_text(t, lang=lang))}"
                f"{(' · ' + esc(short)) if short else ''}</small></td>{''.join(cells)}</tr>")
    heads = ("项目" if zh else "Item", "目标" if zh else "Target",
             tr("scenario.current", lang=lang), tr("scenario.planned", lang=lang))
    head = "".join(f"<th>{esc(h)}</th>" for h in heads)
    counts = {s: {k: sum(1 for r in results if r.scenario == s and r.status == k)
                  for k in STATUS_COLOR} for s in SCENARIOS}
    summary = "；".join(
        f"{tr(f'scenario.{s}', lang=lang)}："
        + "、".join(f"{tr(f'status.{k}', lang=lang)} {v}" for k, v in counts[s].items())
        for s in SCENARIOS) if zh else "; ".join(
        f"{tr(f'scenario.{s}', lang=lang)}: "
        + ", ".join(f"{v} {tr(f'status.{k}', lang=lang)}" for k, v in counts[s].items())
        for s in SCENARIOS)
    name = plan.name if zh else plan.name_en
    return (f"<div class='cf-summary'><b>{esc(name)}</b><br><small>{esc(summary)}</small></div>"
            f"<table><tr>{head}</tr>{''.join(rows)}</table>")


__all__ = ["FIT_PADDING", "GROUPS", "Controls", "domain_group", "panel_html"]
