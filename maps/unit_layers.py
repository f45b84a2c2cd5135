"""The map's units and subdistricts: coloured by the selected view, named from zoom 14; the selector."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd

from cfplan.analysis.export import unit_flags
from cfplan.analysis.indicators import target_text
from cfplan.analysis.plan import Target
from cfplan.analysis.selection import SCENARIOS
from cfplan.layers.i18n import t as tr
from cfplan.layers.kinds import UNIT_TYPES
from cfplan.layers.schema import is_missing
from cfplan.maps.display import display_points, js_json
from cfplan.maps.map_context import JsLayer, MapContext, Overlay, plain
from cfplan.maps.palette import FAILS, MET, SHARE_BELOW, SUBDISTRICT, UNIT_COLORS
from cfplan.maps.unit_status import UnitTarget, unit_status_table

# Pages of a click's popup: facilities 0, other points and lines 20, units 50, subdistricts 60.
UNIT_ORDER, SUBDISTRICT_ORDER = 50, 60
SHARE_BREAKS = (0.25, 0.5, 0.75)


ITEM_WORDS_EN = {"重点工程": "Key project ", "重大项目": "Major project ", "品牌活动": "Brand activity "}


def item_number(t: Target, lang: str) -> str:
    """Return a target's number: ``29``, ``标准5``, ``重点工程1`` (``Key project 1`` in English)."""
    number = t.id if t.origin == "standard" else t.item
    if lang != "zh":
        for zh, en in ITEM_WORDS_EN.items():
            if number.startswith(zh):
                return en + number.removeprefix(zh)
        if t.origin == "standard" and number.startswith("标准"):
            return "Standard " + number.removeprefix("标准")
    return number


def target_label(t: Target, lang: str) -> str:
    """Return a target's number and short title (``29 推进“儿童之家”建设``, ``标准5 …``).

    In English, a plan title with no English is replaced by what the target asks
    (:func:`cfplan.analysis.indicators.target_text`): the plan's own words are Chinese.
    """
    number = item_number(t, lang)
    if lang != "zh" and not t.title_en:
        return f"{number} {target_text(t, lang=lang)}"
    return f"{number} {t.text('title', lang)}"


def _option(t: Target, lang: str) -> str:
    label = target_label(t, lang)
    if lang != "zh" and not t.title_en:
        return label
    return f"{label} · {target_text(t, lang=lang)}"


def share_classes(t: Target, *, lang: str) -> list[dict[str, object]]:
    """Return the shading classes of a walking-access target: below its share, then met.

    Breaks at 25, 50 and 75 % under the target's share, then the share itself; the class at
    or above the target is met (:data:`cfplan.maps.palette.MET`), the others take the
    reds of :data:`cfplan.maps.palette.SHARE_BELOW`, darker the fewer children reached.

    Returns
    -------
    list of dict
        ``{"hi": upper bound (0–1; 2 for the met class), "color", "label"}``, lowest first.
    """
    low = t.low
    breaks = [b for b in SHARE_BREAKS if b < low - 1e-9] + ([low] if low > 0 else [])
    colors = SHARE_BELOW[len(SHARE_BELOW) - len(breaks):] if breaks else ()
    out: list[dict[str, object]] = []
    lo = 0.0
    for hi, color in zip(breaks, colors, strict=True):
        label = f"< {hi:.0%}" if lo == 0 else f"{lo:.0%}–{hi:.0%}"
        out.append({"hi": hi, "color": color, "label": label})
        lo = hi
    met = tr("status.met", lang=lang)
    out.append({"hi": 2.0, "color": MET,
                "label": f"≥ {low:.0%}（目标）· {met}" if lang == "zh"
                else f"≥ {low:.0%} (target) · {met}"})
    return out


def _label_items(gdf: gpd.GeoDataFrame, ctx: MapContext) -> list[list[object]]:
    xy = display_points(gdf.geometry, datum=ctx.datum)
    return [[float(lat), float(lon), str(n)] for (lon, lat), n in zip(xy, gdf["name"], strict=True)]


def _labels(ctx: MapContext, gdf: gpd.GeoDataFrame, cls: str, name: str) -> JsLayer:
    return JsLayer("cfplan.labels(" + js_json({"items": _label_items(gdf, ctx), "cls": cls}) + ")",
                   name=name)


def _target_specs(ctx: MapContext, targets: list[UnitTarget],
                  scope_all: dict[int, bool]) -> list[dict[str, object]]:
    out = []
    for i, ut in enumerate(targets):
        t = ut.target
        spec: dict[str, object] = {"label": target_label(t, ctx.lang), "level": ut.level,
                                   "plan": t.origin != "standard", "partial": not scope_all[i]}
        if t.metric == "accessibility":
            spec["classes"] = share_classes(t, lang=ctx.lang)
        out.append(spec)
    return out


def status_layers(ctx: MapContext, coverage: pd.DataFrame | None,
                  map_name: str) -> tuple[list[Overlay], str]:
    """Return the units' and subdistricts' entries and the selector's script.

    The units (group 缺口, on top of every fill) are coloured by the selected view: at first
    by how many of the plan's own per-unit targets each fails (the national standards are
    not counted), or by one target: met / not met / unknown / not counted, and for a
    walking-access target by the unit's share of children within reach
    (:func:`share_classes`). The subdistricts (group 行政区划) are an outline over the units
    and a fill under them that a per-办事处 target colours. Names show from zoom 14.
    Neither takes the pointer: a click anywhere finds the unit and the 办事处 under it.

    Returns
    -------
    tuple
        The overlays and the ``cfplan.selector`` script (``"null"`` without any unit).
    """
    layers, zh, lang = ctx.layers, ctx.zh, ctx.lang
    targets, codes, shares = unit_status_table(ctx.plan, layers, ctx.results, coverage=coverage)
    flags = unit_flags(layers, ctx.results)
    if flags.empty:
        return [], "null"
    sd_names = dict(zip(layers.subdistricts["code"], layers.subdistricts["name"], strict=True))
    home_text = {"has": ("已有", "yes"), "planned": ("仅有规划", "planned only"),
                 "none": ("没有", "none")}
    label_xy = display_points(flags.geometry, datum=ctx.datum)
    props: list[dict[str, object]] = []
    for (_, row), (lon, lat) in zip(flags.iterrows(), label_xy, strict=True):
        state = ("has" if row["has_children_home"] else
                 "planned" if row["has_children_home_planned"] else "none")
        utype = UNIT_TYPES.get(row["unit_type"], ("", "", ()))
        rows = [
            (ctx.t("类型", "Type"), utype[0] if zh else utype[1]),
            (ctx.plan.subdistrict_term if zh else "Subdistrict",
             sd_names.get(row["subdistrict"], row["subdistrict"])
             if isinstance(row["subdistrict"], str) else None),
            (ctx.t("人口", "Population"), f"{row['population']:.0f}"),
            (ctx.t("儿童", "Children"),
             None if np.isnan(row["children"]) else f"{row['children']:.0f}"),
            (ctx.t("儿童之家", "Children's home"), home_text[state][0 if zh else 1]),
            (ctx.t("托位", "Childcare places"), f"{row['childcare_places']:.0f}"),
        ]
        shares_of = {str(ti): [None if v is None else round(v, 4) for v in vals]
                     for ti, vals in shares.get(row["code"], {}).items()}
        props.append({"n": str(row["name"]),
                      "r": [[k, plain(v)] for k, v in rows if not is_missing(v)],
                      "t": codes.get(row["code"], ""), "c": [float(lat), float(lon)],
                      **({"a": shares_of} if shares_of else {})})
    unit_chars = [codes.get(c, "") for c in flags["code"]]
    scope_all = {i: all(ch[2 * i] != "-" for ch in unit_chars if len(ch) > 2 * i)
                 for i in range(len(targets))}
    words = {"M": tr("status.met", lang=lang), "N": tr("status.not_met", lang=lang),
             "U": tr("status.unknown", lang=lang), "-": ctx.t("不计入", "not counted")}
    failed = ctx.t("未达标的规划目标", "Plan targets failed")
    common = {
        "colors": UNIT_COLORS, "words": words, "fails": list(FAILS),
        "failWords": ([f"{n} 项" for n in range(len(FAILS) - 1)] + [f"≥ {len(FAILS) - 1} 项"])
        if zh else ([str(n) for n in range(len(FAILS) - 1)] + [f"≥ {len(FAILS) - 1}"]),
        "targets": _target_specs(ctx, targets, scope_all),
        "scenarios": [{"key": s, "label": tr(f"scenario.{s}", lang=lang),
                       "short": tr(f"scenario.{s}", lang=lang) if zh
                       else ("Now" if s == "current" else "Once planned"),
                       "fails": ctx.t("现状未达标", "Fails now") if s == "current"
                       else ctx.t("规划完成后未达标", "Fails once planned")} for s in SCENARIOS],
        "selectedWord": ctx.t("所选目标", "Selected target"), "none": ctx.t("无", "none"),
        "countWord": failed, "countTitle": ctx.t("未达标的规划目标数（不含国家标准）",
                                                 "Plan targets failed (standards not counted)"),
    }
    unit_spec = {**common, "data": ctx.features(flags, props), "level": "unit",
                 "order": UNIT_ORDER, "label": ctx.t("社区/村", "Unit"),
                 "style": {"color": "#4d4d4d", "weight": 1, "fillOpacity": 0.6}}
    units = JsLayer("cfplan.statusLayer(" + js_json(unit_spec) + ")", name="cf_units")
    ctx.search.append(units)
    unit_labels = _labels(ctx, flags, "cf-label-unit", "cf_unit_labels")
    units_entry = JsLayer(f"L.layerGroup([{units.get_name()}, {unit_labels.get_name()}])",
                          name="cf_units_entry")
    out = [Overlay("", "", units), Overlay("", "", unit_labels),
           Overlay("gaps", ctx.t("社区/村（按所选目标着色）", "Units (coloured by the selection)"),
                   units_entry)]
    entries = [f"{{layer: {units.get_name()}, level: 'unit'}}"]
    sd = layers.subdistricts
    if not sd.empty:
        n_units = layers.units.groupby("subdistrict").size()
        kids = layers.units.groupby("subdistrict")["children"].sum(min_count=1)
        sd_props: list[dict[str, object]] = []
        for (_, r), (lon, lat) in zip(sd.iterrows(), display_points(sd.geometry, datum=ctx.datum),
                                      strict=True):
            rows = [(ctx.t("社区/村", "Units"), int(n_units.get(r["code"], 0))),
                    (ctx.t("儿童", "Children"),
                     None if pd.isna(kids.get(r["code"], np.nan)) else f"{kids[r['code']]:.0f}")]
            sd_props.append({"n": str(r["name"]),
                             "r": [[k, plain(v)] for k, v in rows if not is_missing(v)],
                             "t": codes.get(r["code"], ""), "c": [float(lat), float(lon)]})
        sd_spec = {**common, "data": ctx.features(sd, sd_props), "level": "subdistrict",
                   "order": SUBDISTRICT_ORDER, "label": ctx.plan.subdistrict_term if zh
                   else "Subdistrict",
                   "style": {"weight": 0, "fillOpacity": 0, "pane": "cf-low"}}
        sd_fill = JsLayer("cfplan.statusLayer(" + js_json(sd_spec) + ")", name="cf_sd_status")
        ctx.search.append(sd_fill)
        outline = ctx.geo_layer(sd, style={"color": SUBDISTRICT, "weight": 3, "fill": False,
                                           "dashArray": "6 4"}, pane="cf-top")
        sd_labels = _labels(ctx, sd, "cf-label-sd", "cf_sd_labels")
        group = JsLayer(f"L.layerGroup([{sd_fill.get_name()}, {outline.get_name()}, "
                        f"{sd_labels.get_name()}])", name="cf_sd_entry")
        out += [Overlay("", "", sd_fill), Overlay("", "", outline), Overlay("", "", sd_labels),
                Overlay("admin", ctx.plan.subdistrict_term if zh else "Subdistricts", group,
                        legend=((SUBDISTRICT, ctx.t(f"{ctx.plan.subdistrict_term}界",
                                                    "Subdistrict boundary"), "dash"),))]
        entries.append(f"{{layer: {sd_fill.get_name()}, level: 'subdistrict'}}")
    count_kinds = list(dict.fromkeys(k for ut in targets if ut.target.origin != "standard"
                                     and ut.level == "unit" for k in ut.target.kinds))
    selector = {
        "title": ctx.t("按目标着色社区/村", "Colour units by target"),
        "countLabel": ctx.t("未达标的规划目标数", "Plan targets failed"),
        "targets": [{"label": _option(ut.target, lang), "level": ut.level, "kinds": list(ut.target.kinds)} for ut in targets],
        "scenarios": common["scenarios"], "countKinds": count_kinds,
    }
    js = (f"cfplan.selector({map_name}, Object.assign({js_json(selector)}, "
          f"{{layers: [{', '.join(entries)}]}}))")
    return out, js


__all__ = ["SUBDISTRICT_ORDER", "UNIT_ORDER", "item_number", "share_classes", "status_layers",
           "target_label"]
