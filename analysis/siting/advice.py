"""The 建设建议 (the plan's targets) and the standards' ranking, as sentences per target."""

from __future__ import annotations

import math

import geopandas as gpd
import pandas as pd

from cfplan.analysis.plan import Plan, Target
from cfplan.analysis.siting.plan_sites import SitingPlan
from cfplan.layers.kinds import FACILITY_KINDS, kind_label, measure_word

__all__ = ["MAX_NAMED", "advice", "advice_heading", "not_sited", "standards_advice",
           "standards_heading"]

MAX_NAMED = 12
"""Sentences name at most this many places, then say how many in all."""
Item = tuple[str, str]


def _label(t: Target, lang: str) -> str:
    return f"{t.id} {t.text('title', lang)}"


def _places(sites: gpd.GeoDataFrame, *, per_subdistrict: bool, zh: bool) -> str:
    """"李庄村（东风办事处）、张湾村（望湖办事处） 2 处…" for the rows, at most MAX_NAMED."""
    counts: dict[str, int] = {}
    for s in sites.itertuples(index=False):
        unit = str(s.unit_name or s.unit_code)
        sd = str(s.subdistrict_name or s.subdistrict_code)
        outer, inner = (sd, unit) if per_subdistrict else (unit, sd)
        place = (f"{outer}（{inner}）" if zh else f"{outer} ({inner})") if inner else outer
        counts[place] = counts.get(place, 0) + 1
    names = [p if c == 1 else (f"{p} {c} 处" if zh else f"{p} ×{c}") for p, c in counts.items()]
    if len(names) > MAX_NAMED:
        more = len(names) - MAX_NAMED
        names = [*names[:MAX_NAMED], f"等 {len(counts)} 处" if zh else f"{more} more"]
    return ("、" if zh else ", ").join(names)


def _noun(kind: str, n: int, zh: bool) -> str:
    if zh:
        return f"{n} {measure_word([kind])}{kind_label(kind)}"
    facility = FACILITY_KINDS[kind]
    return f"{n} {(facility.en if n == 1 else facility.plural()).lower()}"


def _expansions(rows: gpd.GeoDataFrame, zh: bool) -> str:
    if rows.empty:
        return ""
    kind = str(rows["kind"].iloc[0])
    items = []
    for s in rows.head(MAX_NAMED).itertuples(index=False):
        before = float(s.capacity) - float(s.places)
        items.append(f"{s.name}（{s.unit_name}，{before:.0f}→{float(s.capacity):.0f} 托位）" if zh
                     else f"{s.name} ({s.unit_name}, {before:.0f} → {float(s.capacity):.0f} "
                     "places)")
    more = len(rows) - MAX_NAMED
    if more > 0:
        items.append(f"等 {len(rows)} 家" if zh else f"{more} more")
    added = float(rows["places"].sum())
    if zh:
        return (f"扩建 {len(rows)} {measure_word([kind])}现有{kind_label(kind)}，共增 {added:.0f} "
                f"托位：" + "、".join(items))
    return f"expand {_noun(kind, len(rows), False)} by {added:.0f} places in all: " + \
        ", ".join(items)


def _new(rows: gpd.GeoDataFrame, t: Target, *, zh: bool, still: bool) -> str:
    if rows.empty:
        return ""
    kind = str(rows["kind"].iloc[0])
    per_sd = t.metric in ("presence_per_unit", "capacity_per_unit") and \
        t.unit_level == "subdistrict"
    where = _places(rows, per_subdistrict=per_sd, zh=zh)
    cap = rows["capacity"].dropna()
    sized = kind == "childcare" and len(cap)
    if zh:
        size = f"（每处 {cap.min():g} 托位）" if sized else ""
        return f"{'仍需' if still else ''}新建 {_noun(kind, len(rows), True)}{size}：{where}"
    size = f" of {cap.min():g} places each" if sized else ""
    return f"{'still ' if still else ''}build {_noun(kind, len(rows), False)}{size}: {where}"


def _per_capita(row: pd.Series, t: Target, sites: gpd.GeoDataFrame, siting: SitingPlan, *,
                zh: bool) -> str:
    kind = t.kinds[0]
    mine = sites[sites["run"] == row["run"]]
    places = t.capacity_field == "capacity"
    needed = float(row["needed"] or 0.0)
    from_runs = float(row["places_added"] or 0.0) - float(mine["places"].fillna(0).sum())
    unit = ("托位" if zh else "places") if places else (
        f"{measure_word([kind])}{kind_label(kind)}" if zh else
        FACILITY_KINDS[kind].plural().lower())
    parts = [f"还差 {needed:.0f} {unit}" if zh else f"{needed:.0f} {unit} short"]
    if from_runs > 0:
        parts.append(f"上述新建与扩建已提供 {from_runs:.0f} {unit}" if zh
                     else f"the sites above give {from_runs:.0f}")
    expand = mine[mine["action"] == "expand"]
    if len(expand):
        share = f"{siting.expand_share:.0%}"
        parts.append(_expansions(expand, zh) + (f"（每家至多增加其托位的 {share}）" if zh
                                               else f" (each by at most {share} of its places)"))
    new = mine[mine["action"] == "new"]
    if len(new):
        parts.append(_new(new, t, zh=zh, still=False))
    elif places and len(expand):
        parts.append("无需另建新机构" if zh else "no new centre needed")
    after = row["value_after"]
    if isinstance(after, float) and math.isfinite(after):
        per = f"{t.per:g}" if t.per else ""
        parts.append(f"提议后 {after:.2f}（每 {per} 人）" if zh else f"{after:.2f} per {per} after")
    return ("；" if zh else "; ").join(parts)


def advice(siting: SitingPlan, plan: Plan, *, lang: str = "zh") -> list[Item]:
    """Return the 建设建议: per plan target what to build or expand and where.

    Only the plan's own targets (and cfplan's readings of them): a sentence names the
    planned projects that close part of the gap (in the planned scenario), the existing
    centres to expand, and the new sites still needed (``"仍需新建 3 个儿童之家：李庄村
    （东风办事处）…"``); a target the planned projects close entirely says so; the last
    item lists the not-met targets new sites do not close, with the reason.

    Returns
    -------
    list of tuple
        ``(target id and title, sentence)`` in plan order.
    """
    zh = lang == "zh"
    sep = "；" if zh else "; "
    out: list[Item] = []
    sites = siting.sites
    for _, row in siting.outcomes.iterrows():
        t = plan.target(str(row["target"]))
        if t.origin == "standard" or (not row["sited"] and not row["closed"]):
            continue
        planned = str(row["planned"] if zh else row["planned_en"] or "")
        note = str(row["note"] if zh else row["note_en"] or "")
        if not row["sited"]:  # closed by the planned projects
            out.append((_label(t, lang), sep.join(p for p in (planned, note) if p)))
            continue
        if t.metric == "per_capita":
            text = _per_capita(row, t, sites, siting, zh=zh)
            out.append((_label(t, lang), sep.join(p for p in (planned, text) if p)))
            continue
        mine = sites[(sites["run"] == row["run"]) & sites["target"].map(
            lambda s, i=t.id: i in str(s).split(","))]
        parts = [planned, _expansions(mine[mine["action"] == "expand"], zh),
                 _new(mine[mine["action"] == "new"], t, zh=zh, still=bool(planned)), note]
        text = sep.join(p for p in parts if p)
        if text:
            out.append((_label(t, lang), text))
    rest = not_sited(siting, plan, lang=lang)
    if rest:
        out.append(rest)
    return out


def not_sited(siting: SitingPlan, plan: Plan, *, lang: str = "zh") -> Item | None:
    """Return the not-met plan targets new sites do not close, grouped by reason."""
    zh = lang == "zh"
    rows = siting.outcomes[~siting.outcomes["sited"].astype(bool)
                           & ~siting.outcomes["closed"].astype(bool)]
    rows = rows[[plan.target(str(t)).origin != "standard" for t in rows["target"]]]
    if rows.empty:
        return None
    groups: dict[str, list[str]] = {}
    for _, row in rows.iterrows():
        groups.setdefault(str(row["note"] if zh else row["note_en"]), []).append(
            str(row["target"]))
    text = ("；" if zh else "; ").join(
        f"{why}：{'、'.join(ids)}" if zh else f"{why}: {', '.join(ids)}"
        for why, ids in groups.items())
    return ("不靠新建选址的未达标目标" if zh else "Not-met targets new sites do not close", text)


def standards_advice(siting: SitingPlan, plan: Plan, *, lang: str = "zh") -> list[Item]:
    """Return the standards' ranking: per standard the ``budget`` best sites, and the count.

    Returns
    -------
    list of tuple
        ``(standard id and title, sentence)``: how many new sites are ranked, the share
        within reach before and after, where, and once the count full coverage needs.
    """
    zh = lang == "zh"
    out: list[Item] = []
    sites = siting.sites
    for _, row in siting.outcomes.iterrows():
        t = plan.target(str(row["target"]))
        if t.origin != "standard" or not row["sited"]:
            continue
        mine = sites[sites["run"] == row["run"]]
        kind = t.kinds[0]
        where = _places(mine, per_subdistrict=False, zh=zh)
        before, after = float(row["value_before"] or 0.0), float(row["value_after"] or 0.0)
        base = float(row["value_with_plan"] or before)
        radius = f"{t.radius_m or FACILITY_KINDS[kind].radius_m or 500:.0f} m"
        note = str(row["note"] if zh else row["note_en"])
        with_plan = ""
        if base > before + 5e-4:
            with_plan = f"（连同上述建议 {base:.1%}）" if zh else f" ({base:.1%} with the advice above)"
        who = ("儿童" if t.population == "children" else "居民") if zh else (
            "children" if t.population == "children" else "residents")
        if zh:
            text = (f"优先新建 {_noun(kind, len(mine), True)}，步行 {radius} 内{who} {before:.1%}"
                    f"{with_plan} → {after:.1%}：{where}；{note}")
        else:
            text = (f"first {_noun(kind, len(mine), False)}: {who} within {radius} "
                    f"{before:.1%}{with_plan} → {after:.1%}: {where}; {note}")
        out.append((_label(t, lang), text))
    return out


def advice_heading(siting: SitingPlan, *, lang: str = "zh") -> tuple[str, str]:
    """Return the 建设建议 heading and its one-line explanation in ``lang``."""
    if siting.scenario == "planned":
        zh = ("以规划项目（在建、规划）建成为前提，达成下列规划目标仍需的最少新建与扩建（精确求解，"
              "HiGHS；步行距离）；每项先列已覆盖部分缺口的规划项目。")
        en = ("What the plan's targets still need once the projects under construction and "
              "planned are done: the fewest new sites and expansions (solved exactly with "
              "HiGHS on walking distances), after the planned projects that already close "
              "part of each gap.")
    else:
        zh = "在现状设施之外，达成下列规划目标所需的最少新建与扩建（精确求解，HiGHS；步行距离）。"
        en = ("The fewest new sites and expansions, besides the facilities as things stand, "
              "that meet the plan's targets below (solved exactly with HiGHS on walking "
              "distances).")
    files = " 详见 sites.geojson、siting_targets.csv、siting.json、tradeoff.csv。"
    if lang == "zh":
        return "建设建议", zh + files
    return "Where to build", en + " See sites.geojson, siting_targets.csv, siting.json and " \
        "tradeoff.csv."


def standards_heading(siting: SitingPlan, *, lang: str = "zh") -> tuple[str, str]:
    """Return the heading of the standards' ranking and its explanation."""
    n = siting.budget
    if lang == "zh":
        return ("国家标准参照：优先选址", f"以下不是规划目标，仅作参照：每项国家标准列出在现有设施与上述建议"
                f"之外、新增步行可达儿童最多的 {n} 处（可用 --budget 调整），并注明全部覆盖所需的数量。")
    return ("National standards (reference): first sites",
            f"Not targets of the plan, for reference: for each national standard, the {n} new "
            "sites (--budget) that bring the most children not yet reached within its walking "
            "radius, besides the facilities and the advice above; and, once, how many sites "
            "full coverage would need.")
