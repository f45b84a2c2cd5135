"""The gap report: headline, targets in both scenarios, per-办事处 summary, in Markdown, CSV, XLSX."""

from __future__ import annotations

import html
import re
from pathlib import Path
from typing import cast

import numpy as np
import pandas as pd

from cfplan.analysis.access import WALK_SPEED_M_PER_MIN
from cfplan.analysis.coverage import ScenarioCoverage, unit_distance_summary
from cfplan.analysis.evaluate import Result, headline, item_headline
from cfplan.analysis.export import FAILING_RULE
from cfplan.analysis.indicators import target_text
from cfplan.analysis.plan import DOMAINS_EN, SECTIONS_EN, Plan, Target, unit_text
from cfplan.analysis.report_style import label as col_label
from cfplan.analysis.report_style import localise
from cfplan.analysis.rounding import round_by_meaning
from cfplan.analysis.routes import SchoolRoutes
from cfplan.analysis.selection import SCENARIOS, target_key
from cfplan.analysis.subdistricts import subdistrict_summary, walk_kinds
from cfplan.geo.io import output_path, write_csv
from cfplan.layers.i18n import t as tr
from cfplan.layers.kinds import FACILITY_KINDS, kind_label, life_circle
from cfplan.layers.load import LayerSet
from cfplan.layers.text import Text

TARGETS_COLUMNS = ("plan", "target_id", "domain", "item", "wording", "metric", "target", "value",
                   "status", "shortfall", "scenario", "origin", "lead", "responsible",
                   "cross_check", "note")
SHARE_METRICS = ("presence_per_unit", "capacity_per_unit", "attribute_share", "accessibility",
                 "route_safety")


def value_text(r: Result, *, lang: str = "zh") -> str:
    """Return a result's measured value as short text (``88.9%``, ``3``, ``3.89``, ``是``)."""
    v = r.value
    if v is None:
        return ""
    if r.target.metric == "same_as":
        refs = cast("list[Result]", r.extra.get("refs", []))
        if len(refs) == 1:
            return value_text(refs[0], lang=lang)
        return f"{round(float(v) * len(refs))}/{len(refs)}"
    if isinstance(v, bool):
        return ("是" if v else "否") if lang == "zh" else ("yes" if v else "no")
    if r.target.is_share:
        return f"{v * 100:.1f}%"
    if r.target.metric == "count":
        return f"{v:.0f}"
    if r.target.metric == "per_capita":
        return f"{v:.2f}"
    if r.target.metric == "capacity_per_unit":
        return f"{v:.1f}"
    return f"{v:g}{unit_text(r.target.unit, lang)}"


def _shortfall(r: Result, lang: str) -> str:
    text = r.shortfall.get(lang)
    if r.reason:
        sep = "；" if lang == "zh" else "; "
        text = r.reason.get(lang) + (f"{sep}{text}" if text else "")
    return text


def note_text(r: Result, *, lang: str = "zh") -> str:
    """Return a result's remarks: the reading's note and late planned projects (⚠)."""
    parts = [r.note.get(lang)] if r.note else []
    if r.late:
        parts.append("⚠ " + r.late.get(lang))
    return ("；" if lang == "zh" else "; ").join(parts)


def responsibility(plan: Plan, t: Target) -> tuple[str, str]:
    """Return a target's 牵头单位 and 责任单位 (a repeated item takes its task's)."""
    if t.lead or t.responsible or not t.same_as:
        return t.lead, t.responsible
    leads, partners = [], []
    for ref in t.same_as:
        lead, partner = responsibility(plan, plan.target(ref))
        leads.append(lead)
        partners.append(partner)
    return "；".join(dict.fromkeys(x for x in leads if x)), "；".join(
        dict.fromkeys(x for x in partners if x))


def gap_text(cur: Result, fut: Result, *, lang: str = "zh") -> str:
    """Return the gap in both scenarios: what is short now, what planned projects close.

    ``现状：…；规划完成后：…（规划项目补上：…）`` and, when planned projects are dated after the
    target year, a ⚠ flag naming them.
    """
    zh = lang == "zh"
    sep = "；" if zh else "; "
    both_met = cur.status == fut.status == "met"
    now = _shortfall(cur, lang) or (tr("status.met", lang=lang) if cur.status == "met" else "")
    later = _shortfall(fut, lang) or (tr("status.met", lang=lang) if fut.status == "met" else "")
    parts = [f"{tr('scenario.current', lang=lang)}{'：' if zh else ': '}{now}"] if (
        now and not both_met) else []
    if later and later != now and not both_met:
        text = f"{tr('scenario.planned', lang=lang)}{'：' if zh else ': '}{later}"
        closed = [c for c in cur.failing if c not in set(fut.failing)]
        if closed and cur.target.metric in ("presence_per_unit", "capacity_per_unit"):
            lookup = cast("dict[str, str]", cur.extra.get("names", {}))
            names = [str(lookup.get(c, c)) for c in closed]
            text += (f"（规划项目补上：{'、'.join(names)}）" if zh
                     else f" (planned projects close: {', '.join(names)})")
        parts.append(text)
    if fut.late:
        parts.append("⚠ " + fut.late.get(lang))
    if cur.note:
        parts.append(cur.note.get(lang))
    return sep.join(parts)


def targets_table(plan: Plan, results: list[Result], *, lang: str = "zh") -> pd.DataFrame:
    """Return the stable ``targets.csv`` table: one row per target and scenario.

    Columns :data:`TARGETS_COLUMNS`: ``plan, target_id, domain, item, wording, metric,
    target, value, status, shortfall, scenario, origin, lead, responsible, cross_check,
    note``. ``target_id`` is unique per plan (``9a``, ``9b``), so no two rows are the same;
    ``status`` is one of ``met``, ``not_met``, ``unknown``, ``not_assessed``; ``scenario``
    is ``current`` or ``planned``; ``target`` says what is counted (``≥ 7 所儿童友好幼儿园``);
    ``origin`` is ``plan``, ``standard`` or ``reading`` (cfplan's reading of the plan);
    ``lead`` and ``responsible`` are the plan's 牵头单位/责任单位, verbatim. ``wording`` stays
    in Chinese (it is the plan's own text); ``shortfall``, ``cross_check`` and ``note``
    follow ``lang``.

    Returns
    -------
    pandas.DataFrame
        The table, in plan order then scenario order.
    """
    rows = []
    for r in results:
        t = r.target
        lead, partners = responsibility(plan, t)
        rows.append({
            "plan": plan.id, "target_id": t.id,
            "domain": t.domain if lang == "zh" else DOMAINS_EN[t.domain],
            "item": t.item, "wording": t.text("wording", lang), "metric": t.metric,
            "target": target_text(t, lang=lang, term=plan.subdistrict_term),
            "value": value_text(r, lang=lang), "status": r.status,
            "shortfall": _shortfall(r, lang), "scenario": r.scenario, "origin": t.origin,
            "lead": lead, "responsible": partners, "cross_check": r.cross_check.get(lang),
            "note": note_text(r, lang=lang),
        })
    return pd.DataFrame(rows, columns=list(TARGETS_COLUMNS))


def side_by_side(plan: Plan, results: list[Result], *, lang: str = "zh") -> pd.DataFrame:
    """Return one row per target with the current and planned results side by side.

    Returns
    -------
    pandas.DataFrame
        Columns ``id, domain, section, item, origin, wording, metric, target,
        assumption, lead, responsible``, then value, status and shortfall for each
        scenario, then ``gap`` (both scenarios, planned projects dated after the target
        year flagged), ``cross_check`` and ``note``.
    """
    by_key = {(r.target.id, r.scenario): r for r in results}
    rows = []
    for t in plan.targets:
        lead, partners = responsibility(plan, t)
        row: dict[str, object] = {
            "id": t.id, "domain": t.domain if lang == "zh" else DOMAINS_EN[t.domain],
            "section": (t.section or "规划事项") if lang == "zh"
            else SECTIONS_EN.get(t.section, t.section),
            "item": t.item, "origin": t.origin, "wording": t.text("wording", lang),
            "metric": t.metric,
            "target": target_text(t, lang=lang, term=plan.subdistrict_term),
            "assumption": t.text("assumption", lang), "lead": lead, "responsible": partners,
        }
        for s in SCENARIOS:
            r = by_key.get((t.id, s))
            row[f"value_{s}"] = value_text(r, lang=lang) if r else ""
            row[f"status_{s}"] = r.status if r else ""
            row[f"shortfall_{s}"] = _shortfall(r, lang) if r else ""
        cur, fut = by_key.get((t.id, "current")), by_key.get((t.id, "planned"))
        row["gap"] = gap_text(cur, fut, lang=lang) if cur and fut else ""
        checks = [r.cross_check.get(lang) for r in (cur, fut) if r is not None and r.cross_check]
        row["cross_check"] = checks[0] if checks else ""
        row["note"] = note_text(fut, lang=lang) if fut else ""
        rows.append(row)
    return pd.DataFrame(rows)


def headline_table(plan: Plan, results: list[Result], *, lang: str = "zh") -> pd.DataFrame:
    """Return the headline: the plan's own items by status, per scenario and part of the plan.

    The national-standard checks are not items of the plan and are not counted here.

    Returns
    -------
    pandas.DataFrame
        Columns ``scenario, section, total, met, partly_met, not_met, unknown``; ``section``
        names the part (``规划事项`` for the numbered items, ``重点工程`` …).
    """
    rows = []
    for s in SCENARIOS:
        for section, counts in item_headline(plan, results, scenario=s).items():
            name = (section or "规划事项") if lang == "zh" else SECTIONS_EN.get(section, section)
            rows.append({"scenario": tr(f"scenario.{s}", lang=lang), "section": name, **counts})
    return pd.DataFrame(rows, columns=["scenario", "section", "total", "met", "partly_met",
                                       "not_met", "unknown"])


def cross_check_table(plan: Plan, results: list[Result], *, lang: str = "zh") -> pd.DataFrame:
    """Return the targets whose reported value the layers contradict, with both readings.

    Returns
    -------
    pandas.DataFrame
        Columns ``id, wording, scenario, reported, status, cross_check``.
    """
    rows = [{"id": r.target.id, "wording": r.target.text("wording", lang),
             "scenario": tr(f"scenario.{r.scenario}", lang=lang),
             "reported": str(r.extra.get("reported", "")), "status": r.status,
             "cross_check": r.cross_check.get(lang)}
            for r in results if r.cross_check]
    return pd.DataFrame(rows, columns=["id", "wording", "scenario", "reported", "status",
                                       "cross_check"])


def summary_table(layers: LayerSet, coverage: pd.DataFrame | None = None, *,
                  lang: str = "zh") -> pd.DataFrame:
    """Return the per-办事处 summary as display text (``30/32``, ``3.9``, ``45.2%``).

    One row per 办事处/镇: 儿童之家 and 家长学校 as units with one / units (the planned
    figure after an arrow where it differs), 托位 and 托位 per 1,000 residents, protection
    stations and law-education bases, and the share of children within walking reach of
    each kind measured (:func:`analysis.subdistricts.subdistrict_summary` has the numbers).

    Returns
    -------
    pandas.DataFrame
        Headings in ``lang``.
    """
    raw = subdistrict_summary(layers, coverage)

    def pair(now: object, later: object, fmt: str = "{}") -> str:
        a, b = fmt.format(now), fmt.format(later)
        return a if a == b else f"{a} → {b}"

    rows = []
    for r in raw.to_dict(orient="records"):
        row = {
            "name": r["name"],
            "children_home": pair(f"{r['children_home']}/{r['units']}",
                                  f"{r['children_home_planned']}/{r['units']}"),
            "parent_school": pair(f"{r['parent_school']}/{r['units']}",
                                  f"{r['parent_school_planned']}/{r['units']}"),
            "childcare_places": pair(r["childcare_places"], r["childcare_places_planned"],
                                     "{:.0f}"),
            "places_per_1000": pair(r["places_per_1000"], r["places_per_1000_planned"],
                                    "{:.2f}"),
            "protection_station": pair(r["protection_station"], r["protection_station_planned"]),
            "law_base": pair(r["law_base"], r["law_base_planned"]),
        }
        for kind in walk_kinds(coverage):
            row[f"walk_{kind}"] = _pct(r[f"walk_{kind}"])
        rows.append(row)
    table = pd.DataFrame(rows)
    return table.rename(columns={c: col_label(c, lang=lang) for c in table.columns})


def per_unit_table(layers: LayerSet, results: list[Result], *, lang: str = "zh") -> pd.DataFrame:
    """Return, for every 社区/村 and every 办事处, the per-unit targets it fails.

    Returns
    -------
    pandas.DataFrame
        Columns ``level, code, name, subdistrict, fails_current, fails_planned``; the
        ``fails_*`` columns list target ids with the facility kinds, e.g.
        ``29 儿童之家; 37a 家长学校``.
    """
    fails: dict[tuple[str, str], dict[str, list[str]]] = {}
    for r in results:
        if not r.failing or r.target.metric == "same_as":
            continue
        level = "subdistrict" if r.target.unit_level == "subdistrict" else "unit"
        label = r.target.id
        if r.target.kinds:
            label += " " + "/".join(kind_label(k, lang=lang) for k in r.target.kinds)
        for code in r.failing:
            fails.setdefault((level, code), {s: [] for s in SCENARIOS})[r.scenario].append(label)
    rows = []
    names = {"unit": dict(zip(layers.units["code"], layers.units["name"], strict=True)),
             "subdistrict": dict(zip(layers.subdistricts["code"], layers.subdistricts["name"],
                                     strict=True))}
    parent = dict(zip(layers.units["code"], layers.units["subdistrict"], strict=True))
    for level in ("subdistrict", "unit"):
        for code, name in names[level].items():
            f = fails.get((level, code), {s: [] for s in SCENARIOS})
            rows.append({
                "level": level, "code": code, "name": name,
                "subdistrict": names["subdistrict"].get(parent.get(code, ""), "")
                if level == "unit" else "",
                "fails_current": "; ".join(f["current"]), "fails_planned": "; ".join(f["planned"]),
            })
    return pd.DataFrame(rows, columns=["level", "code", "name", "subdistrict", "fails_current",
                                       "fails_planned"])


_ICON = {"met": "✅", "not_met": "❌", "unknown": "❔", "not_assessed": "➖", "partly_met": "◐"}


_MD_SPECIAL = re.compile(r"([\\`*_\[\]|~])")


def md_escape(text: object) -> str:
    """Return data text made inert in Markdown: no HTML, links, emphasis or table breaks.

    ``<``, ``>`` and ``&`` become HTML entities; Markdown punctuation that could start
    emphasis, code, a link or a table cell is backslash-escaped; ``://`` and ``www.`` are
    written with entities so that nothing autolinks; line breaks become spaces.
    """
    value = html.escape(str(text), quote=False)
    value = value.replace("\r", " ").replace("\n", " ")
    value = _MD_SPECIAL.sub(r"\\\1", value)
    return value.replace("://", ":&#47;&#47;").replace("www.", "www&#46;")


def _md_table(df: pd.DataFrame, headers: list[str]) -> list[str]:
    lines = ["| " + " | ".join(md_escape(h) for h in headers) + " |",
             "|" + "---|" * len(headers)]
    for row in df.itertuples(index=False):
        lines.append("| " + " | ".join(md_escape(v) for v in row) + " |")
    return lines


def target_rows(wide: pd.DataFrame, *, lang: str = "zh", icons: bool = True) -> pd.DataFrame:
    """Return the report's target table: both scenarios, the gap and who is responsible.

    Returns
    -------
    pandas.DataFrame
        Columns ``id, basis, wording, target, status_current, status_planned, gap, lead,
        responsible`` (ids marked where the target is cfplan's reading; statuses with the
        value, e.g. ``❌ 88.9%``, or with ``icons=False`` the status word, ``未达成 88.9%``).
    """
    from cfplan.analysis.report_style import status_word

    def mark(status: str) -> str:
        return _ICON.get(status, "") if icons else status_word(status, lang=lang)

    flag = "⚑ " if icons else ("与填报不符：" if lang == "zh" else "contradicts a report: ")
    rows = []
    for r in wide.itertuples(index=False):
        rows.append({
            "id": r.id + ("（cfplan 解读）" if lang == "zh" else " (cfplan's reading)")
            if r.origin == "reading" else r.id,
            "basis": _basis_word(r.metric, lang), "wording": r.wording, "target": r.target,
            "status_current": f"{mark(r.status_current)} {r.value_current}".strip(),
            "status_planned": f"{mark(r.status_planned)} {r.value_planned}".strip(),
            "gap": ("；" if lang == "zh" else "; ").join(
                x for x in (r.gap, r.cross_check and flag + r.cross_check) if x),
            "lead": r.lead or "—", "responsible": r.responsible or "—",
        })
    return pd.DataFrame(rows, columns=["id", "basis", "wording", "target", "status_current",
                                       "status_planned", "gap", "lead", "responsible"])


def _basis_word(metric: str, lang: str) -> str:
    words = {"indicator": Text("填报", "reported"), "route_safety": Text("路径", "routes"),
             "same_as": Text("同项", "repeat"), "accessibility": Text("路网", "streets")}
    return words.get(metric, Text("图层", "layers")).get(lang)


def _target_headers(lang: str) -> list[str]:
    return (["编号", "依据", "规划原文", "目标", "现状", "规划完成后", "缺口（现状 → 规划完成后）",
             "牵头单位", "责任单位"] if lang == "zh" else
            ["Id", "Basis", "Wording", "Target", "As things stand", "Once planned is done",
             "Gap (now → once planned)", "Lead unit", "Responsible units"])


def _headline_lines(plan: Plan, results: list[Result], lang: str) -> list[str]:
    zh = lang == "zh"
    table = headline_table(plan, results, lang=lang)
    lines = _md_table(table, [col_label(c, lang=lang) for c in
                              ("scenario", "section", "total", "met", "partly_met", "not_met",
                               "unknown")])
    n_targets = sum(1 for t in plan.targets if t.origin == "plan")
    n_std = sum(1 for t in plan.targets if t.origin == "standard")
    n_read = sum(1 for t in plan.targets if t.origin == "reading")
    lines.append("")
    lines.append(
        f"按规划自身的事项计：一项含多个分目标时，全部达成为“达成”，部分达成为“部分达成”，"
        f"无一达成为“未达成”，无未达成但有无法判断的为“未知”（缺数据不视为达成）。分目标共 "
        f"{n_targets} 个；cfplan 的解读 {n_read} 个与国家标准步行可达性核查 {n_std} 个不计入上表，"
        "国家标准见“国家标准步行可达性（参考）”一节。" if zh else
        f"Counted over the plan's own items: an item with several targets is met when all "
        f"are, partly met when some are, not met when none is, and unknown when none fails "
        f"but some cannot be decided (missing data never counts as met). {n_targets} targets "
        f"in all; cfplan's own readings ({n_read}) and the national-standard walking checks "
        f"({n_std}) are not counted here (see 'National standards: walking access').")
    lines.append("")
    for s in SCENARIOS:
        h = headline(results, scenario=s)
        lines.append(
            f"- 分目标（{tr(f'scenario.{s}', lang=lang)}）：" + tr("progress.summary", lang=lang,
                                                              **h) if zh else
            f"- Targets ({tr(f'scenario.{s}', lang=lang)}): " + tr("progress.summary",
                                                                   lang=lang, **h))
    return lines


def markdown_report(
    plan: Plan, layers: LayerSet, results: list[Result], *, lang: str = "zh",
    extra_sections: list[str] | None = None, warnings: list[Text] | None = None,
    coverage: pd.DataFrame | None = None,
) -> str:
    """Return the gap report as Markdown.

    Sections: headline (the plan's own items by status, per scenario); every target by
    domain in both scenarios, with the gap, what planned projects close, planned projects
    dated after the target year, and the 牵头单位/责任单位; the parts beyond the numbered
    items (重点工程 …); cross-checks of reported values; the per-办事处 summary; the
    national-standard walking checks (reference); assumptions; the per-unit failures; the
    input accounting; warnings; rejected features. ``extra_sections`` (Markdown lines, e.g.
    :func:`access_section`) go after the standards.

    Returns
    -------
    str
        The Markdown text.
    """
    zh = lang == "zh"
    name = layers.name if zh else layers.name_en
    title = plan.name if zh else plan.name_en
    name, title = md_escape(name), md_escape(title)
    source = md_escape(plan.document or plan.source)
    lines = [f"# 儿童友好城市建设目标差距报告：{name}" if zh
             else f"# Child-friendly city gap report: {name}", ""]
    lines.append(f"- 规划：{title}（{source}）" if zh else f"- Plan: {title} ({source})")
    lines.append(f"- 分析坐标系：{md_escape(layers.crs_label)}" if zh
                 else f"- Analysis CRS: {md_escape(layers.crs_label)}")
    if layers.synthetic:
        lines.append("- **合成数据：示范区不是真实地点。**" if zh
                     else "- **Synthetic data: the demo district is not a real place.**")
    lines += ["", "## 总览" if zh else "## Headline", ""]
    lines += _headline_lines(plan, results, lang)
    lines.append("")

    wide = side_by_side(plan, results, lang=lang)
    lines.append("✅ 达成　❌ 未达成　❔ 未知（数据不足，不视为达成）　➖ 未评估　⚑ 与填报不符　"
                 "⚠ 规划项目晚于目标年" if zh else
                 "✅ met · ❌ not met · ❔ unknown (missing data never counts as met) · ➖ not "
                 "assessed · ⚑ contradicts a report · ⚠ planned after the target year")
    lines.append("")
    main = {t.id for t in plan.targets if t.section == ""}
    own = wide[(wide["origin"] != "standard") & wide["id"].isin(main)]
    lines.append("## 各项目标" if zh else "## Targets")
    lines.append("")
    for domain in dict.fromkeys(own["domain"]):
        lines.append(f"### {md_escape(domain)}")
        lines.append("")
        lines += _md_table(target_rows(own[own["domain"] == domain], lang=lang),
                           _target_headers(lang))
        lines.append("")
    rest = wide[(wide["origin"] != "standard") & ~wide.index.isin(own.index)]
    for section in dict.fromkeys(rest["section"]):
        lines.append(f"## {md_escape(section)}")
        lines.append("")
        lines += _md_table(target_rows(rest[rest["section"] == section], lang=lang),
                           _target_headers(lang))
        lines.append("")
    checks = cross_check_table(plan, results, lang=lang)
    lines.append("## 与填报数据核对" if zh else "## Reported values checked against the layers")
    lines.append("")
    if checks.empty:
        lines.append("填报值与图层无矛盾。" if zh else "No reported value contradicts the layers.")
    else:
        lines += _md_table(localise(checks, lang=lang),
                           [col_label(c, lang=lang) for c in checks.columns])
    lines.append("")
    lines.append(f"## 各{md_escape(plan.subdistrict_term)}汇总" if zh
                 else "## Summary by subdistrict")
    lines.append("")
    summary = summary_table(layers, coverage, lang=lang)
    if summary.empty:
        lines.append("没有办事处图层。" if zh else "No subdistrict layer.")
    else:
        lines += _md_table(summary, list(summary.columns))
        lines.append("")
        lines.append("x/y：有该设施的社区/村 / 社区/村总数；箭头后为规划完成后；步行可达为半径内儿童占比（现状）。"
                     if zh else "x/y: units with one / units; after the arrow, once planned; "
                     "walk: share of children within the radius (now).")
    lines.append("")
    std = wide[wide["origin"] == "standard"]
    if not std.empty:
        lines.append("## 国家标准步行可达性（参考）" if zh
                     else "## National standards: walking access (reference)")
        lines.append("")
        lines.append("以下按国家标准核查，不是规划自身的目标，不计入总览。" if zh else
                     "Checked against national standards, not targets of the plan; not counted "
                     "in the headline.")
        lines.append("")
        rows = target_rows(std, lang=lang).drop(columns=["lead", "responsible"])
        lines += _md_table(rows, _target_headers(lang)[:-2])
        lines.append("")
    lines += extra_sections or []
    assumed = wide[wide["assumption"] != ""][["id", "wording", "assumption"]]
    if not assumed.empty:
        lines.append("## 口径假设" if zh else "## Assumptions")
        lines.append("")
        lines += _md_table(assumed, ["编号", "规划原文", "假设"] if zh
                           else ["Id", "Wording", "Assumption"])
        lines.append("")
    units = per_unit_table(layers, results, lang=lang)
    failing = units[(units["fails_current"] != "") | (units["fails_planned"] != "")]
    lines.append("## 各单元未达标目标" if zh else "## Targets failed per unit")
    lines.append("")
    lines.append(FAILING_RULE.get(lang))
    lines.append("")
    if failing.empty:
        lines.append("无。" if zh else "None.")
    else:
        level = {"unit": "社区/村" if zh else "unit",
                 "subdistrict": plan.subdistrict_term if zh else "subdistrict"}
        show = failing.assign(level=failing["level"].map(level))
        lines += _md_table(show, ["层级", "编码", "名称", "所属", "现状未达标", "规划完成后未达标"]
                           if zh else ["Level", "Code", "Name", "Subdistrict", "Fails now",
                                       "Fails once planned"])
    lines.append("")
    lines.append("## 数据核算" if zh else "## Input accounting")
    lines.append("")
    lines.append("读取 = 采用 + 剔除。剔除的要素及原因见 rejected.csv / rejected.geojson。" if zh
                 else "read = used + rejected. Rejected features and reasons: rejected.csv / "
                 "rejected.geojson.")
    lines.append("")
    lines += _md_table(layers.accounting, ["图层", "文件", "坐标系", "坐标基准", "读取", "采用",
                                           "修复", "剔除"] if zh
                       else ["layer", "file", "CRS", "datum", "read", "used", "repaired",
                             "rejected"])
    lines.append("")
    warnings = layers.warnings if warnings is None else warnings
    if warnings:
        lines.append("## 警告" if zh else "## Warnings")
        lines.append("")
        for w in warnings:
            lines.append(f"- {md_escape(w.get(lang))}")
        lines.append("")
    if layers.rejected:
        lines.append("## 剔除的要素" if zh else "## Rejected features")
        lines.append("")
        rej = pd.DataFrame([[r.layer, r.file, r.row, r.feature, r.field, r.reason.get(lang)]
                            for r in layers.rejected])
        lines += _md_table(rej, ["图层", "文件", "行", "要素", "字段", "原因"] if zh
                           else ["layer", "file", "row", "feature", "field", "reason"])
        lines.append("")
    return "\n".join(lines) + "\n"


def _pct(share: float) -> str:
    return "—" if share != share else f"{share * 100:.1f}%"


def radius_text(radius_m: float, *, lang: str = "zh") -> str:
    """Return a walking radius with its minutes, as the map's bands draw them.

    A radius that is a life circle's distance (:data:`layers.kinds.LIFE_CIRCLES_M`) is
    named by that circle (``500 m（10 分钟生活圈）``); the map's 5/10/15-minute bands are the
    same 300/500/1000 m. Any other radius gets its walking time at 60 m/min.
    """
    circle = life_circle(radius_m)
    if circle is not None:
        return (f"{radius_m:.0f} m（{circle} 分钟生活圈）" if lang == "zh"
                else f"{radius_m:.0f} m ({circle}-minute circle)")
    minutes = radius_m / WALK_SPEED_M_PER_MIN
    return (f"{radius_m:.0f} m（步行约 {minutes:.0f} 分钟）" if lang == "zh"
            else f"{radius_m:.0f} m (about {minutes:.0f} min on foot)")


def _access_keys(table: pd.DataFrame, plan: Plan | None) -> list[tuple[str, str]]:
    """Return the coverage keys the walking table shows, with the target ids of each.

    A kind that the plan's accessibility targets measure only at their own radius or with
    their own filters (``library@30`` at 1,000 m) is shown at the targets' rows, not at
    the kind's default radius; other kinds at their default.
    """
    keys = list(dict.fromkeys(table["kind"]))
    targets = [t for t in (plan.targets if plan else ()) if t.metric == "accessibility"]
    own: dict[str, list[str]] = {}
    for t in targets:
        own.setdefault("+".join(t.kinds), []).append(target_key(t))
    out: list[tuple[str, str]] = []
    for key in keys:
        if "@" in key:
            continue
        measured = own.get(key, [])
        if measured and key not in measured:
            for special in dict.fromkeys(measured):
                if special in keys:
                    ids = sorted({part.split("@")[1] for part in special.split("+")})
                    out.append((special, "、".join(ids)))
        else:
            out.append((key, ""))
    return out


def access_section(cov: ScenarioCoverage, layers: LayerSet, *, lang: str = "zh",
                   plan: Plan | None = None) -> list[str]:
    """Return the report's walking-access section as Markdown lines.

    One row per kind: radius, the share of residents and of children within it along
    the streets, as things stand and once planned, and the units with the most children
    out of reach; then the points far from any street. With ``plan``, a kind its
    accessibility targets measure at their own radius (or filters) is shown as those
    targets measure it, with their ids.
    """
    zh = lang == "zh"
    table = cov.coverage
    overall = table[table["level"] == "overall"]
    names = dict(zip(layers.units["code"], layers.units["name"], strict=True))
    rows = []
    for kind, ids in _access_keys(overall, plan):
        cur = overall[(overall["kind"] == kind) & (overall["scenario"] == "current")].iloc[0]
        fut = overall[(overall["kind"] == kind) & (overall["scenario"] == "planned")].iloc[0]
        label = "+".join((FACILITY_KINDS[k.split("@")[0]].zh if zh
                          else FACILITY_KINDS[k.split("@")[0]].en) for k in kind.split("+"))
        if ids:
            label += f"（{ids}）" if zh else f" ({ids})"
        worst = [names.get(c, c) for c in str(cur["failing_units"]).split(",") if c][:6]
        rows.append([label, radius_text(float(cur["radius_m"]), lang=lang),
                     _pct(cur["share_population"]), _pct(cur["share_children"]),
                     _pct(fut["share_children"]),
                     ("、" if zh else ", ").join(worst)])
    lines = ["## 步行可达性（沿路网）" if zh else "## Walking access (along the streets)", ""]
    lines.append("半径取自 GB 50180-2018 等（见 standards.md，部分数值未经核实），可在规划文件中调整。"
                 "分钟数是生活圈的名称：5、10、15 分钟生活圈按 300、500、1000 m 计，"
                 "地图上的 5/10/15 分钟步行圈用的是同样的距离（不按步速折算）。" if zh else
                 "Radii from GB 50180-2018 and others (standards.md; some unverified), "
                 "configurable in the plan file. Minutes name the life circles: the 5-, 10- and "
                 "15-minute circles are 300, 500 and 1000 m, and the map's 5/10/15-minute "
                 "walking bands use the same distances (not a walking speed).")
    lines.append("")
    lines += _md_table(pd.DataFrame(rows), [
        "设施", "步行半径", "居民覆盖（现状）", "儿童覆盖（现状）", "儿童覆盖（规划后）",
        "覆盖最差的社区/村"] if zh else [
        "Kind", "Radius", "Residents (now)", "Children (now)", "Children (once planned)",
        "Worst-served units"])
    lines.append("")
    far = cov.far_points
    if len(far):
        lines.append(f"距道路超过 200 m 的需求点：{len(far)} 个（已计入）。" if zh
                     else f"Demand points over 200 m from a street: {len(far)} (counted).")
        lines.append("")
    return lines


def access_tables(cov: ScenarioCoverage) -> dict[str, pd.DataFrame]:
    """Return the walking-access tables, numbers rounded to their meaning.

    Returns
    -------
    dict
        ``access_coverage``: coverage per scenario, kind and area (people to 1, shares
        0–1 to 0.001, metres to 0.1); ``access_units``: per unit and kind, the
        child-weighted mean and the longest walk in metres as things stand.
    """
    return {"access_coverage": round_by_meaning(cov.coverage),
            "access_units": round_by_meaning(unit_distance_summary(cov))}


def write_access_tables(cov: ScenarioCoverage, out: str | Path) -> list[Path]:
    """Write ``results/access_coverage.csv`` and ``results/access_units.csv``.

    Returns
    -------
    list of pathlib.Path
        The files written (see :func:`access_tables`).
    """
    return [write_csv(df, output_path(out, "results", f"{name}.csv"))
            for name, df in access_tables(cov).items()]


HAZARD_TEXT: dict[str, Text] = {
    "unsignalised": Text("无信号灯穿越干路", "arterial crossed with no signal"),
    "long_no_island": Text("过街距离长且无安全岛", "long crossing with no refuge island"),
    "no_sidewalk": Text("无人行道", "no sidewalk"),
    "fast_in_zone": Text("校园周边限速高于 30 km/h", "faster than 30 km/h near a school"),
}
"""Labels of the hotspot ``hazard`` keys (joined with ``+`` in the data)."""


def hazard_text(hazard: object, *, lang: str = "zh") -> str:
    """Return a hotspot's ``hazard`` keys (``unsignalised+long_no_island``) as words."""
    parts = [HAZARD_TEXT[k].get(lang) if k in HAZARD_TEXT else k
             for k in str(hazard or "").split("+") if k]
    return ("、" if lang == "zh" else "; ").join(parts)


def hotspot_table(routes: SchoolRoutes, *, lang: str = "zh", top: int = 10) -> pd.DataFrame:
    """Return the top hotspots of the school routes as a report table (headers in ``lang``).

    Returns
    -------
    pandas.DataFrame
        Rank, kind, road, hazard, children whose shortest route passes, risk and schools.
    """
    zh = lang == "zh"
    hot = routes.hotspots.head(top)
    kind = {"crossing": "过街" if zh else "crossing", "segment": "路段" if zh else "segment"}
    unnamed = "（无名道路）" if zh else "(unnamed road)"
    return pd.DataFrame({
        "排名" if zh else "Rank": hot["rank"].astype(int).to_numpy(),
        "类型" if zh else "Kind": [kind.get(k, k) for k in hot["kind"]],
        "道路" if zh else "Road": [str(n) or unnamed for n in hot["road_name"]],
        "隐患" if zh else "Hazard": [hazard_text(h, lang=lang) for h in hot["hazard"]],
        "途经儿童" if zh else "Children": [f"{c:.0f}" for c in hot["children"]],
        "风险" if zh else "Risk": [f"{r:.1f}" for r in hot["risk"]],
        "学校" if zh else "Schools": [str(s).replace(",", "、" if zh else ", ")
                                    for s in hot["schools"]],
    })


def routes_section(routes: SchoolRoutes, *, lang: str = "zh") -> list[str]:
    """Return the report's 上下学路径 (routes to school) section as Markdown lines.

    The children routed, how many of their shortest routes cross an arterial with no signal
    and what the safe routes cost in detour; then the top hotspots (places for 护学岗,
    signals or crossings) and the rules' sources.
    """
    zh = lang == "zh"
    pts = routes.points
    lines = ["## 上下学路径" if zh else "## Routes to school", ""]
    if pts.empty:
        lines += ["没有可分析的学校或需求点。" if zh else "No school or demand point to route.", ""]
        return lines
    kids = pts["children"].to_numpy()
    total = float(kids.sum())
    unsafe = float(kids[pts["unsignalised_crossings_shortest"].to_numpy() > 0].sum())
    avoided = float(kids[(pts["unsignalised_crossings_shortest"].to_numpy() > 0)
                         & (pts["unsignalised_crossings_safe"].to_numpy() == 0)].sum())
    detour = (float(np.average(pts["length_m_safe"], weights=kids))
              / max(float(np.average(pts["length_m_shortest"], weights=kids)), 1e-9)
              if total > 0 else float("nan"))
    schools = int(routes.schools["school_code"].nunique())
    share = unsafe / total if total > 0 else 0.0
    if zh:
        lines.append(f"{schools} 所学校、约 {total:.0f} 名适龄儿童（按 0–17 岁儿童的学龄段比例）的上学路线："
                     f"最短路线无信号灯穿越干路的约 {unsafe:.0f} 人（{_pct(share)}），"
                     f"其中 {avoided:.0f} 人有不穿越的安全路线；安全路线平均长 "
                     f"{(detour - 1) * 100:.0f}%。")
    else:
        lines.append(f"Routes to {schools} schools for about {total:.0f} children of school age "
                     f"(their age groups' share of the 0-17s): about {unsafe:.0f} "
                     f"({_pct(share)}) walk a shortest route that crosses an arterial with no "
                     f"signal, {avoided:.0f} of them have a safe route that does not; safe "
                     f"routes are {(detour - 1) * 100:.0f}% longer on average.")
    lines.append("")
    if routes.hotspots.empty:
        lines += ["最短路线上没有隐患点。" if zh else "No hotspot on the shortest routes.", ""]
    else:
        lines.append("隐患点（按途经儿童 × 风险排序，可设护学岗、信号灯或过街设施）：" if zh else
                     "Hotspots (by children passing × risk: places for a crossing guard, a "
                     "signal or a crossing):")
        lines.append("")
        table = hotspot_table(routes, lang=lang)
        lines += _md_table(table, list(table.columns))
        lines.append("")
    r = routes.rules
    lines.append(
        f"规则：校园周边 {r.zone_radius_m:.0f} m、限速 {r.zone_speed_kmh:.0f} km/h（GA/T 1215-2014）；"
        f"无信号灯穿越干路按绕行 {r.unsignalised_crossing_m:.0f} m 计，长距离过街（>"
        f"{r.long_crossing_m:.0f} m 或 ≥{r.long_crossing_lanes} 车道）无安全岛按 "
        f"{r.long_crossing_penalty_m:.0f} m 计，无人行道每米按 {1 + r.no_sidewalk_factor:.0f} m 计"
        "（假设值，可在 layers.toml 的 [routes] 中调整）。明细见 routes/ 目录。" if zh else
        f"Rules: school zone {r.zone_radius_m:.0f} m, {r.zone_speed_kmh:.0f} km/h (GA/T "
        f"1215-2014); an arterial crossed with no signal weighs as a {r.unsignalised_crossing_m:.0f}"
        f" m detour, a long crossing (> {r.long_crossing_m:.0f} m or ≥ {r.long_crossing_lanes} "
        f"lanes) with no island as {r.long_crossing_penalty_m:.0f} m, a metre with no sidewalk as "
        f"{1 + r.no_sidewalk_factor:.0f} m (assumptions, adjustable under [routes] in "
        "layers.toml). Details in the routes/ folder.")
    lines.append("")
    return lines
