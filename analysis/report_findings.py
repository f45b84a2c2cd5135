"""What a report concludes: a written conclusion per domain and the 督办清单 (tasks by 牵头单位)."""

from __future__ import annotations

import pandas as pd

from cfplan.analysis.evaluate import Result
from cfplan.analysis.plan import DOMAINS_EN, Plan, Target
from cfplan.analysis.report import responsibility
from cfplan.analysis.report_style import status_word
from cfplan.analysis.selection import SCENARIOS

NO_LEAD = {"zh": "（规划未明确牵头单位）", "en": "(no lead unit named in the plan)"}
SHOWN_PER_DOMAIN = 3  # failing targets named in a domain's conclusion
GAP_CHARS = 120  # a longer gap is cut in the 督办清单 (the annex of targets has it whole)


def _own(plan: Plan) -> list[Target]:
    """Return the plan's own targets judged on their own (no standards, no repeats)."""
    return [t for t in plan.targets if t.origin != "standard" and t.metric != "same_as"]


def _short(text: str, limit: int = 60) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _gap(r: Result, lang: str) -> str:
    """Return a result's shortfall (or why it cannot be decided), as one line."""
    parts = [x.get(lang) for x in (r.shortfall, r.reason) if x]
    return ("；" if lang == "zh" else "; ").join(p for p in parts if p)


def lead_units(text: str) -> list[str]:
    """Return the units named in a 牵头单位 text, split at 、，；, never inside brackets."""
    units, depth, current = [], 0, ""
    for ch in text:
        depth += int(ch in "（(")
        depth -= int(ch in "）)")
        if depth <= 0 and ch in "、，；,;":
            units.append(current)
            current, depth = "", 0
        else:
            current += ch
    units.append(current)
    return [u.strip() for u in units if u.strip()]


def domain_conclusions(plan: Plan, results: list[Result], *, lang: str = "zh"
                       ) -> list[tuple[str, str]]:
    """Return a short written conclusion per domain of the plan, from the results.

    For each domain: how many of its targets are met now and once planned projects are
    done, how many cannot be decided, and the failing ones with the largest part of the
    work (up to three, with their gap).

    Returns
    -------
    list of (str, str)
        Domain name in ``lang`` and its conclusion, in plan order.
    """
    zh = lang == "zh"
    by_key = {(r.target.id, r.scenario): r for r in results}
    out = []
    targets = _own(plan)
    for domain in dict.fromkeys(t.domain for t in targets):
        mine = [t for t in targets if t.domain == domain]
        counts = {s: {k: 0 for k in ("met", "not_met", "unknown", "not_assessed")}
                  for s in SCENARIOS}
        for t in mine:
            for s in SCENARIOS:
                r = by_key.get((t.id, s))
                if r is not None:
                    counts[s][r.status] = counts[s].get(r.status, 0) + 1
        now, later = counts["current"], counts["planned"]
        failing = [by_key[(t.id, "planned")] for t in mine
                   if (t.id, "planned") in by_key
                   and by_key[(t.id, "planned")].status == "not_met"]
        failing.sort(key=lambda r: -(r.needed or 0.0))
        name = domain if zh else DOMAINS_EN.get(domain, domain)
        if zh:
            text = (f"本领域共 {len(mine)} 个分目标，现状达成 {now['met']} 个、未达成 "
                    f"{now['not_met']} 个")
            text += f"、数据不足无法判断 {now['unknown']} 个" if now["unknown"] else ""
            text += f"；规划项目完成后达成 {later['met']} 个、仍未达成 {later['not_met']} 个。"
            if failing:
                shown = "；".join(f"{r.target.id}“{r.target.text('title', lang)}”（"
                                 f"{_short(_gap(r, lang)) or status_word('not_met')}）"
                                 for r in failing[:SHOWN_PER_DOMAIN])
                more = f"等 {len(failing)} 项" if len(failing) > SHOWN_PER_DOMAIN else ""
                text += f"规划完成后仍需推进的主要有：{shown}{more}。"
            elif later["met"] == len(mine):
                text += "各分目标在规划项目完成后均可达成。"
            if now["unknown"] or later["unknown"]:
                text += "无法判断的分目标需补充数据后复核（缺数据不视为达成）。"
        else:
            text = (f"{len(mine)} targets: {now['met']} met now, {now['not_met']} not met"
                    + (f", {now['unknown']} cannot be decided" if now["unknown"] else "")
                    + f"; once planned projects are done {later['met']} met, "
                    f"{later['not_met']} still not met.")
            if failing:
                shown = "; ".join(f"{r.target.id} '{r.target.text('title', lang)}' ("
                                  f"{_short(_gap(r, lang)) or 'not met'})"
                                  for r in failing[:SHOWN_PER_DOMAIN])
                more = f" and {len(failing) - SHOWN_PER_DOMAIN} more" if len(
                    failing) > SHOWN_PER_DOMAIN else ""
                text += f" Still to do once planned: {shown}{more}."
            elif later["met"] == len(mine):
                text += " Every target is met once planned projects are done."
            if now["unknown"] or later["unknown"]:
                text += " Targets that cannot be decided need data (missing data never counts " \
                        "as met)."
        out.append((name, text))
    return out


SUPERVISION_COLUMNS = ("lead", "id", "title", "status_current", "status_planned", "gap", "year",
                       "responsible")


def supervision_list(plan: Plan, results: list[Result], *, lang: str = "zh") -> pd.DataFrame:
    """Return the 督办清单: every target not met as things stand, by 牵头单位.

    One row per failing target (not met or undecidable now): its 牵头单位, id, title,
    status now and once planned projects are done, the gap (what is short once planned;
    what is short now when the planned projects close it) and the year it is due; rows
    grouped by 牵头单位 in the order the plan names them. A target whose task has several
    牵头单位 is listed under each, so that every bureau sees its own list.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`SUPERVISION_COLUMNS`; statuses as words in ``lang``.
    """
    by_key = {(r.target.id, r.scenario): r for r in results}
    rows = []
    for t in _own(plan):
        cur, fut = by_key.get((t.id, "current")), by_key.get((t.id, "planned"))
        if cur is None or fut is None or cur.status in ("met", "not_assessed"):
            continue
        lead, partners = responsibility(plan, t)
        gap = _short(_gap(fut, lang) if fut.status != "met" else _gap(cur, lang), GAP_CHARS)
        if fut.status == "met":
            gap = (f"规划项目完成后达成；现状：{gap}" if lang == "zh"
                   else f"met once planned projects are done; now: {gap}")
        for one in lead_units(lead) or [NO_LEAD[lang]]:
            rows.append({"lead": one, "id": t.id, "title": t.text("title", lang),
                         "status_current": status_word(cur.status, lang=lang),
                         "status_planned": status_word(fut.status, lang=lang),
                         "gap": gap, "year": t.year, "responsible": partners})
    table = pd.DataFrame(rows, columns=list(SUPERVISION_COLUMNS))
    order = {lead: i for i, lead in enumerate(dict.fromkeys(table["lead"]))}
    if NO_LEAD[lang] in order:
        order[NO_LEAD[lang]] = len(order)
    return table.sort_values("lead", key=lambda s: s.map(order), kind="stable").reset_index(
        drop=True)


__all__ = ["SUPERVISION_COLUMNS", "domain_conclusions", "lead_units", "supervision_list"]
