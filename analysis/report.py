"""The gap report: targets table, per-unit failures, headline counts, in Markdown, CSV and XLSX."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pandas as pd

from cfplan.analysis.access import WALK_SPEED_M_PER_MIN
from cfplan.analysis.coverage import ScenarioCoverage, unit_distance_summary
from cfplan.analysis.evaluate import Result, headline
from cfplan.analysis.indicators import target_text
from cfplan.analysis.plan import DOMAINS_EN, Plan
from cfplan.analysis.selection import SCENARIOS
from cfplan.geo.io import atomic_write_text, write_csv, write_xlsx
from cfplan.layers.i18n import t as tr
from cfplan.layers.kinds import FACILITY_KINDS, kind_label
from cfplan.layers.load import LayerSet
from cfplan.layers.text import Text

TARGETS_COLUMNS = ("plan", "domain", "item", "wording", "metric", "target", "value", "status",
                   "shortfall", "scenario")
SHARE_METRICS = ("presence_per_unit", "capacity_per_unit", "attribute_share", "accessibility")


def value_text(r: Result, *, lang: str = "zh") -> str:
    """Return a result's measured value as short text (``88.9%``, ``3``, ``3.89``, ``是``)."""
    v = r.value
    if v is None:
        return ""
    if isinstance(v, bool):
        return ("是" if v else "否") if lang == "zh" else ("yes" if v else "no")
    if r.target.metric in SHARE_METRICS:
        return f"{v * 100:.1f}%"
    if r.target.metric == "count":
        return f"{v:.0f}"
    if r.target.metric == "per_capita":
        return f"{v:.2f}"
    return f"{v:g}{r.target.unit}"


def _shortfall(r: Result, lang: str) -> str:
    text = r.shortfall.get(lang)
    if r.reason:
        sep = "；" if lang == "zh" else "; "
        text = r.reason.get(lang) + (f"{sep}{text}" if text else "")
    return text


def targets_table(plan: Plan, results: list[Result], *, lang: str = "zh") -> pd.DataFrame:
    """Return the stable ``targets.csv`` table: one row per target and scenario.

    Columns are ``plan, domain, item, wording, metric, target, value, status,
    shortfall, scenario``. ``status`` is one of ``met``, ``not_met``, ``unknown``,
    ``not_assessed``; ``scenario`` is ``current`` or ``planned``. ``wording`` stays in
    Chinese (it is the plan's own text); ``shortfall`` follows ``lang``.

    Returns
    -------
    pandas.DataFrame
        The table, in plan order then scenario order.
    """
    rows = []
    for r in results:
        t = r.target
        rows.append({
            "plan": plan.id, "domain": t.domain if lang == "zh" else DOMAINS_EN[t.domain],
            "item": t.item, "wording": t.text("wording", lang),
            "metric": t.metric, "target": target_text(t, lang=lang), "value": value_text(r, lang=lang),
            "status": r.status, "shortfall": _shortfall(r, lang), "scenario": r.scenario,
        })
    return pd.DataFrame(rows, columns=list(TARGETS_COLUMNS))


def side_by_side(plan: Plan, results: list[Result], *, lang: str = "zh") -> pd.DataFrame:
    """Return one row per target with the current and planned results side by side.

    Returns
    -------
    pandas.DataFrame
        Columns ``id, domain, item, wording, metric, target, assumption`` then value,
        status and shortfall for each scenario.
    """
    by_key = {(r.target.id, r.scenario): r for r in results}
    rows = []
    for t in plan.targets:
        row: dict[str, object] = {
            "id": t.id, "domain": t.domain if lang == "zh" else DOMAINS_EN[t.domain],
            "item": t.item, "wording": t.text("wording", lang), "metric": t.metric,
            "target": target_text(t, lang=lang), "assumption": t.text("assumption", lang),
        }
        for s in SCENARIOS:
            r = by_key.get((t.id, s))
            row[f"value_{s}"] = value_text(r, lang=lang) if r else ""
            row[f"status_{s}"] = r.status if r else ""
            row[f"shortfall_{s}"] = _shortfall(r, lang) if r else ""
        rows.append(row)
    return pd.DataFrame(rows)


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
        if not r.failing:
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


_ICON = {"met": "✅", "not_met": "❌", "unknown": "❔", "not_assessed": "➖"}


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
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    for row in df.itertuples(index=False):
        lines.append("| " + " | ".join(md_escape(v) for v in row) + " |")
    return lines


def markdown_report(
    plan: Plan, layers: LayerSet, results: list[Result], *, lang: str = "zh",
    extra_sections: list[str] | None = None, warnings: list[Text] | None = None,
) -> str:
    """Return the gap report as Markdown.

    Sections: headline counts per scenario; spatial targets side by side with the
    shortfall by name; indicator targets; assumptions; the per-unit table; the
    input accounting; warnings; rejected features.

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
    lines.append("")
    lines.append("## 总览" if zh else "## Headline")
    lines.append("")
    head_rows = []
    for s in SCENARIOS:
        h = headline(results, scenario=s)
        head_rows.append([tr(f"scenario.{s}", lang=lang), h["total"], h["met"], h["not_met"],
                          h["unknown"], h["not_assessed"]])
    headers = (["情景", "目标", "达成", "未达成", "未知", "未评估"] if zh
               else ["Scenario", "Targets", "Met", "Not met", "Unknown", "Not assessed"])
    lines += _md_table(pd.DataFrame(head_rows), headers)
    lines.append("")

    wide = side_by_side(plan, results, lang=lang)
    spatial = wide[wide["metric"] != "indicator"]
    indicators = wide[wide["metric"] == "indicator"]

    def block(df: pd.DataFrame) -> list[str]:
        rows = []
        for r in df.itertuples(index=False):
            rows.append([r.id, r.wording, r.target,
                         f"{_ICON[r.status_current]} {r.value_current}",
                         f"{_ICON[r.status_planned]} {r.value_planned}",
                         r.shortfall_current or r.shortfall_planned])
        hdr = (["项目", "规划原文", "目标", "现状", "规划完成后", "缺口"] if zh
               else ["Item", "Wording", "Target", "As things stand", "Once planned is done",
                     "Shortfall"])
        return _md_table(pd.DataFrame(rows), hdr)

    lines.append("## 空间目标" if zh else "## Spatial targets")
    lines.append("")
    lines.append("✅ 达成　❌ 未达成　❔ 未知（数据不足，不视为达成）　➖ 未评估" if zh else
                 "✅ met　❌ not met　❔ unknown (missing data never counts as met)　➖ not assessed")
    lines.append("")
    for domain in dict.fromkeys(spatial["domain"]):
        lines.append(f"### {md_escape(domain)}")
        lines.append("")
        lines += block(spatial[spatial["domain"] == domain])
        lines.append("")
    lines.append("## 填报指标" if zh else "## Reported indicators")
    lines.append("")
    lines += block(indicators)
    lines.append("")
    assumed = wide[wide["assumption"] != ""][["item", "wording", "assumption"]]
    if not assumed.empty:
        lines.append("## 口径假设" if zh else "## Assumptions")
        lines.append("")
        lines += _md_table(assumed, ["项目", "规划原文", "假设"] if zh
                           else ["Item", "Wording", "Assumption"])
        lines.append("")
    units = per_unit_table(layers, results, lang=lang)
    failing = units[(units["fails_current"] != "") | (units["fails_planned"] != "")]
    lines.append("## 各单元未达标目标" if zh else "## Targets failed per unit")
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
    lines += extra_sections or []
    lines.append("## 数据核算" if zh else "## Input accounting")
    lines.append("")
    lines.append("读取 = 采用 + 剔除。剔除的要素及原因见 rejected.csv / rejected.geojson。" if zh
                 else "read = used + rejected. Rejected features and reasons: rejected.csv / "
                 "rejected.geojson.")
    lines.append("")
    lines += _md_table(layers.accounting, ["图层", "文件", "读取", "采用", "修复", "剔除"] if zh
                       else ["layer", "file", "read", "used", "repaired", "rejected"])
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


def write_report(
    plan: Plan, layers: LayerSet, results: list[Result], out: str | Path, *, lang: str = "zh",
    extra_sections: list[str] | None = None, warnings: list[Text] | None = None,
) -> list[Path]:
    """Write ``report.md``, ``report.xlsx``, ``targets.csv`` and ``units.csv`` into ``out``.

    Returns
    -------
    list of pathlib.Path
        The files written.
    """
    out = Path(out)
    targets = targets_table(plan, results, lang=lang)
    wide = side_by_side(plan, results, lang=lang)
    units = per_unit_table(layers, results, lang=lang)
    written = [
        atomic_write_text(out / "report.md", markdown_report(plan, layers, results, lang=lang,
                                                             extra_sections=extra_sections,
                                                             warnings=warnings)),
        write_csv(targets, out / "targets.csv"),
        write_csv(units, out / "units.csv"),
        write_csv(layers.accounting, out / "accounting.csv"),
    ]
    sheets = {"targets": wide, "targets_long": targets, "units": units,
              "accounting": layers.accounting}
    written.append(write_xlsx(sheets, out / "report.xlsx"))
    return written


def _pct(share: float) -> str:
    return "—" if share != share else f"{share * 100:.1f}%"


def access_section(cov: ScenarioCoverage, layers: LayerSet, *, lang: str = "zh") -> list[str]:
    """Return the report's walking-access section as Markdown lines.

    One row per kind: radius, the share of residents and of children within it along
    the streets, as things stand and once planned, and the units where fewer than half
    of the children are covered; then the points far from any street.
    """
    zh = lang == "zh"
    table = cov.coverage
    overall = table[(table["level"] == "overall") & ~table["kind"].str.contains("@")]
    names = dict(zip(layers.units["code"], layers.units["name"], strict=True))
    rows = []
    for kind in dict.fromkeys(overall["kind"]):
        cur = overall[(overall["kind"] == kind) & (overall["scenario"] == "current")].iloc[0]
        fut = overall[(overall["kind"] == kind) & (overall["scenario"] == "planned")].iloc[0]
        label = "+".join((FACILITY_KINDS[k].zh if zh else FACILITY_KINDS[k].en)
                         for k in kind.split("+"))
        minutes = cur["radius_m"] / WALK_SPEED_M_PER_MIN
        worst = [names.get(c, c) for c in str(cur["failing_units"]).split(",") if c][:6]
        rows.append([label, f"{cur['radius_m']:.0f} m ({minutes:.0f} min)",
                     _pct(cur["share_population"]), _pct(cur["share_children"]),
                     _pct(fut["share_children"]),
                     ("、" if zh else ", ").join(worst)])
    lines = ["## 步行可达性（沿路网）" if zh else "## Walking access (along the streets)", ""]
    lines.append("半径与步速取自 GB 50180-2018 等（见 standards.md，部分数值未经核实），可在规划文件中调整；"
                 "步行 60 m/min。" if zh else
                 "Radii and speed from GB 50180-2018 and others (standards.md; some unverified), "
                 "configurable in the plan file; walking 60 m/min.")
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


def write_access_tables(cov: ScenarioCoverage, out: str | Path) -> list[Path]:
    """Write ``results/access_coverage.csv`` and ``results/access_units.csv``.

    Returns
    -------
    list of pathlib.Path
        The files written: coverage shares per scenario, kind and area; and per unit and
        kind, the child-weighted mean and the longest walk in metres as things stand (empty
        where no home reaches a facility of the kind) and the share that reaches one.
    """
    out = Path(out) / "results"
    coverage = cov.coverage.copy()
    for col in coverage.columns:
        if col.startswith("share_"):
            coverage[col] = coverage[col].round(6)
    units = unit_distance_summary(cov).round({"mean_walk_m": 1, "max_walk_m": 1,
                                              "reached_share": 6})
    return [write_csv(coverage, out / "access_coverage.csv"),
            write_csv(units, out / "access_units.csv")]
