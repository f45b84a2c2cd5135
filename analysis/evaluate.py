"""Evaluate plan targets against loaded layers: met, not met or unknown, and the shortfall by name.

Missing data never counts as met. Wherever a value is missing (a facility's year,
child-friendly flag or capacity, a unit's child population, an indicator), the
evaluator computes the result both ways; if the two disagree, the status is
``unknown`` and the reason names what is missing.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import geopandas as gpd
import pandas as pd

from cfplan.analysis.plan import Plan, Target, unit_text
from cfplan.analysis.selection import SCENARIOS, select, target_key
from cfplan.layers.kinds import UNIT_TYPES, kind_label
from cfplan.layers.load import LayerSet
from cfplan.layers.schema import ValueProblem, is_missing, parse_bool, parse_number
from cfplan.layers.text import EMPTY, Text

STATUS_VALUES = ("met", "not_met", "unknown", "not_assessed")


@dataclass
class Result:
    """The evaluation of one target in one scenario.

    Attributes
    ----------
    status
        ``met``, ``not_met``, ``unknown`` or ``not_assessed``.
    value
        The measured value (a share 0–1, a count, a rate, or a bool), ``None`` if unknown.
    shortfall
        What is still missing, by name: units, facilities or amounts.
    needed
        How many more facilities (or units of capacity) close the gap, when countable.
    failing
        Codes of the units or subdistricts that fail the target.
    reason
        Why the status is unknown or not assessed.
    """

    target: Target
    scenario: str
    status: str
    value: float | bool | None
    shortfall: Text = EMPTY
    needed: float | None = None
    failing: tuple[str, ...] = ()
    reason: Text = EMPTY
    extra: dict[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class Context:
    """What an evaluator needs: the layers, the scenario and optional extra inputs."""

    layers: LayerSet
    scenario: str
    indicators: pd.DataFrame | None = None
    coverage: pd.DataFrame | None = None
    plan_id: str = ""


def _kinds_text(target: Target, lang: str) -> str:
    sep = "、" if lang == "zh" else ", "
    return sep.join(kind_label(k, lang=lang) for k in target.kinds)


def _status(sure_met: bool, maybe_met: bool) -> str:
    if sure_met:
        return "met"
    return "unknown" if maybe_met else "not_met"


def _bounded_status(low: float, high: float, target: Target) -> str:
    """Status of a value known only to lie in ``[low, high]`` (missing data widens it).

    ``at_least`` is met only if ``low`` meets it; ``at_most`` only if ``high`` does.
    """
    if target.direction == "at_most":
        return _status(_meets(high, target), _meets(low, target))
    return _status(_meets(low, target), _meets(high, target))


def _meets(value: float, target: Target) -> bool:
    if target.direction == "at_most":
        return value <= (target.high if target.high is not None else target.low) + 1e-12
    return value >= target.low - 1e-12


# --------------------------------------------------------------------------- units


def _units_for(target: Target, layers: LayerSet) -> pd.DataFrame:
    """Return the units (or subdistricts) a per-unit target covers, with code and name."""
    if target.unit_level == "subdistrict":
        sd = layers.subdistricts
        if target.unit_types:
            sd = sd[sd["subdistrict_type"].isin(target.unit_types)]
        return sd[["code", "name"]].reset_index(drop=True)
    units = layers.units
    if target.unit_types:
        units = units[units["unit_type"].isin(target.unit_types)]
    return units[["code", "name"]].reset_index(drop=True)


def facility_level_codes(layers: LayerSet, *, level: str) -> pd.Series:
    """Return, for each facility, the code of its unit (``level="unit"``) or subdistrict.

    A facility in no unit is placed in the subdistrict polygon that contains it.
    """
    fac = layers.facilities
    if level == "unit":
        return fac["unit"]
    mapping = dict(zip(layers.units["code"], layers.units["subdistrict"], strict=True))
    codes = fac["unit"].map(mapping)
    loose = codes.isna().to_numpy()
    if loose.any() and not layers.subdistricts.empty:
        pts = gpd.GeoDataFrame(geometry=fac.geometry[loose].representative_point(), crs=fac.crs)
        joined = gpd.sjoin(pts, layers.subdistricts[["code", "geometry"]],
                           predicate="dwithin", distance=0.01, how="left")
        joined = joined.sort_values("code").groupby(level=0)["code"].first()
        codes.loc[loose] = joined.reindex(fac.index[loose]).to_numpy()
    return codes


def _names(df: pd.DataFrame, codes: list[str]) -> list[str]:
    lookup = dict(zip(df["code"], df["name"], strict=True))
    return [str(lookup.get(c, c)) for c in codes]


def _list(names: list[str], lang: str, *, limit: int = 12) -> str:
    sep = "、" if lang == "zh" else ", "
    shown = sep.join(names[:limit])
    if len(names) > limit:
        shown += f" 等 {len(names)} 个" if lang == "zh" else f" and {len(names) - limit} more"
    return shown


def _level_word(target: Target, plan_term: str, lang: str) -> str:
    if target.unit_level == "subdistrict":
        return plan_term if lang == "zh" else "subdistricts"
    if target.unit_types and len(target.unit_types) == 1:
        zh, en, _ = UNIT_TYPES[target.unit_types[0]]
        plural = {"Urban community": "urban communities", "Village": "villages"}
        return zh if lang == "zh" else plural.get(en, en.lower())
    return "村/社区" if lang == "zh" else "communities/villages"


# --------------------------------------------------------------------------- evaluators


def eval_presence_per_unit(t: Target, ctx: Context, *, plan_term: str = "办事处") -> Result:
    """Share units with at least one selected facility, against ``t.target`` (0–1)."""
    units = _units_for(t, ctx.layers)
    if units.empty:
        return Result(t, ctx.scenario, "unknown", None,
                      reason=Text("没有符合条件的单元",
                                  "no units of the required type"))
    sure, maybe = select(ctx.layers.facilities, t.kinds, t.filters, scenario=ctx.scenario)
    codes = facility_level_codes(ctx.layers, level=t.unit_level)
    have_sure = set(codes[sure].dropna())
    have_maybe = set(codes[maybe].dropna())
    n = len(units)
    sure_n = int(units["code"].isin(have_sure).sum())
    maybe_n = int(units["code"].isin(have_maybe).sum())
    share = sure_n / n
    status = _status(share >= t.low - 1e-12, maybe_n / n >= t.low - 1e-12)
    lacking = [c for c in units["code"] if c not in have_sure]
    needed = max(0, math.ceil(t.low * n - 1e-9) - sure_n)
    kind_zh, kind_en = _kinds_text(t, "zh"), _kinds_text(t, "en")
    res = Result(t, ctx.scenario, status, share, failing=tuple(lacking), needed=float(needed),
                 extra={"units": n, "covered": sure_n})
    if lacking and needed > 0:
        names = _names(units, lacking)
        res.shortfall = Text(f"缺 {len(lacking)} 个{kind_zh}：{_list(names, 'zh')}",
                             f"{len(lacking)} without a {kind_en}: {_list(names, 'en')}")
        if needed < len(lacking):
            res.shortfall += Text(f"（达标还需 {needed} 个）",
                                  f" ({needed} more needed to reach the target)")
    if status == "unknown":
        res.reason = Text("部分设施的状态、年份或儿童友好标记缺失",
                          "some facilities lack status, year or flag")
    return res


def eval_count(t: Target, ctx: Context, **_: object) -> Result:
    """Count the selected facilities, against a number or range."""
    sure, maybe = select(ctx.layers.facilities, t.kinds, t.filters, scenario=ctx.scenario)
    n, m = int(sure.sum()), int(maybe.sum())
    status = _bounded_status(n, m, t)
    res = Result(t, ctx.scenario, status, float(n))
    kind_zh, kind_en = _kinds_text(t, "zh"), _kinds_text(t, "en")
    if t.direction == "at_least" and n < t.low:
        need = math.ceil(t.low - n)
        res.needed = float(need)
        res.shortfall = Text(f"还差 {need} 个{kind_zh}（现 {n} 个）",
                             f"{need} more {kind_en} needed (now {n})")
    if status == "unknown":
        res.reason = Text(f"{m - n} 个设施的状态、年份或标记缺失",
                          f"{m - n} facilities lack data")
    return res


def _population(ctx: Context, which: str) -> tuple[float, bool]:
    col = ctx.layers.units[which]
    return float(col.fillna(0).sum()), bool(col.isna().any())


def eval_per_capita(t: Target, ctx: Context, **_: object) -> Result:
    """Total (count or capacity sum) per ``t.per`` residents, against a number or range."""
    sure, maybe = select(ctx.layers.facilities, t.kinds, t.filters, scenario=ctx.scenario)
    pop, pop_missing = _population(ctx, t.population)
    if pop <= 0:
        return Result(t, ctx.scenario, "unknown", None, reason=Text("人口为 0 或缺失",
                                                                    "no population"))
    fac = ctx.layers.facilities
    if t.capacity_field:
        cap = fac[t.capacity_field].astype(float)
        total = float(cap[sure].fillna(0).sum())
        unknown_cap = bool(cap[sure].isna().any()) or bool((maybe & ~sure).any())
        upper = math.inf if unknown_cap else total
    else:
        total, upper = float(sure.sum()), float(maybe.sum())
    per = t.per or 1000.0
    value = total / pop * per
    status = _bounded_status(value, upper / pop * per, t)
    if pop_missing and status != "not_met":
        status = "unknown"
    res = Result(t, ctx.scenario, status, value, extra={"total": total, "population": pop})
    if t.direction == "at_least" and value < t.low:
        need = math.ceil(t.low * pop / per - total - 1e-9)
        res.needed = float(need)
        what_zh = "托位" if t.capacity_field == "capacity" else f"个{_kinds_text(t, 'zh')}"
        what_en = "places" if t.capacity_field == "capacity" else _kinds_text(t, "en")
        res.shortfall = Text(f"还差 {need} {what_zh}（现 {total:.0f}，人口 {pop:.0f}）",
                             f"{need} more {what_en} needed (now {total:.0f}, population "
                             f"{pop:.0f})")
    if status == "unknown":
        res.reason = Text("容量或人口数据缺失",
                          "capacity or population missing")
    return res


def eval_capacity_per_unit(t: Target, ctx: Context, *, plan_term: str = "办事处") -> Result:
    """Share of units whose selected facilities' capacity adds up to ``t.capacity``."""
    units = _units_for(t, ctx.layers)
    if units.empty:
        return Result(t, ctx.scenario, "unknown", None, reason=Text("没有符合条件的单元",
                                                                    "no units"))
    sure, maybe = select(ctx.layers.facilities, t.kinds, t.filters, scenario=ctx.scenario)
    fac = ctx.layers.facilities
    codes = facility_level_codes(ctx.layers, level=t.unit_level)
    cap = fac[t.capacity_field or "capacity"].astype(float)
    sums = cap[sure].fillna(0).groupby(codes[sure]).sum()
    unsure = set(codes[maybe & ~sure].dropna()) | set(codes[sure & cap.isna().to_numpy()].dropna())
    have = units["code"].map(sums).fillna(0.0)
    ok = have >= (t.capacity or 0) - 1e-9
    n = len(units)
    share = float(ok.sum()) / n
    maybe_ok = ok | units["code"].isin(unsure)
    status = _status(share >= t.low - 1e-12, float(maybe_ok.sum()) / n >= t.low - 1e-12)
    failing = units.loc[~ok, "code"].tolist()
    res = Result(t, ctx.scenario, status, share, failing=tuple(failing),
                 needed=float(max(0, math.ceil(t.low * n - 1e-9) - int(ok.sum()))))
    if failing:
        detail = [f"{name}({have[i]:.0f})" for i, name in zip(
            units.index[~ok], _names(units, failing), strict=True)]
        res.shortfall = Text(f"{len(failing)} 个{_level_word(t, plan_term, 'zh')}不足 "
                             f"{t.capacity:.0f} 托位：{_list(detail, 'zh')}",
                             f"{len(failing)} {_level_word(t, plan_term, 'en')} below "
                             f"{t.capacity:.0f} places: {_list(detail, 'en')}")
    if status == "unknown":
        res.reason = Text("部分设施容量或状态缺失",
                          "some capacities or statuses missing")
    return res


def eval_attribute_share(t: Target, ctx: Context, **_: object) -> Result:
    """Share the selected facilities whose boolean ``t.attribute`` is true.

    With facilities whose selection or attribute is unknown, the share is bounded:
    the worst case counts every uncertain facility that could hurt, the best case
    every one that could help. Met only if the worst case meets the target; not
    met only if even the best case fails; otherwise unknown.
    """
    sure, maybe = select(ctx.layers.facilities, t.kinds, t.filters, scenario=ctx.scenario)
    fac = ctx.layers.facilities
    if not maybe.any():
        return Result(t, ctx.scenario, "unknown", None,
                      reason=Text(f"没有{_kinds_text(t, 'zh')}数据",
                                  f"no {_kinds_text(t, 'en')} in the data"))
    attr = fac[t.attribute].astype(object) if t.attribute in fac else pd.Series(
        [None] * len(fac), index=fac.index)
    good = attr.map(lambda v: v is True or v == True).to_numpy(dtype=bool)  # noqa: E712
    unk = attr.isna().to_numpy()
    uncertain = maybe & ~sure
    n = int(sure.sum())
    worst_den = n + int((uncertain & ~good).sum())
    best_num = int((sure & (good | unk)).sum()) + int((uncertain & (good | unk)).sum())
    best_den = n + int((uncertain & (good | unk)).sum())
    worst = (good & sure).sum() / worst_den if worst_den else 0.0
    best = best_num / best_den if best_den else 0.0
    status = _status(worst_den > 0 and worst >= t.low - 1e-12, best >= t.low - 1e-12)
    res = Result(t, ctx.scenario, status, float((good & sure).sum()) / n if n else None)
    lacking = fac.loc[sure & ~good & ~unk, "name"].astype(str).tolist()
    if lacking and status != "met":
        res.shortfall = Text(f"{len(lacking)} 处未达标：{_list(lacking, 'zh')}",
                             f"{len(lacking)} not yet: {_list(lacking, 'en')}")
        res.needed = float(len(lacking))
    if status == "unknown":
        res.reason = (Text(f"{int((unk & maybe).sum())} 处缺少「{t.attribute}」或状态",
                           f"{int((unk & maybe).sum())} lack '{t.attribute}' or a status"))
    return res


def eval_accessibility(t: Target, ctx: Context, **_: object) -> Result:
    """Share of residents or children within the walking radius (needs a coverage table).

    Targets with facility filters have their own rows; when some facilities' data is
    missing, a best-case row (scenario ``"<scenario>:best"``) bounds the share, and a
    target met only in the best case is unknown.
    """
    cov = ctx.coverage
    if cov is None or cov.empty:
        return Result(t, ctx.scenario, "not_assessed", None,
                      reason=Text("没有路网，无法计算步行可达性",
                                  "no street network to measure walking access"))
    key = target_key(t)
    overall = cov[(cov["kind"] == key) & (cov["level"] == "overall")]
    rows = overall[overall["scenario"] == ctx.scenario]
    if rows.empty:
        return Result(t, ctx.scenario, "not_assessed", None,
                      reason=Text("未计算该类设施的可达性",
                                  "access not computed for this kind"))
    row = rows.iloc[0]
    share = float(row[f"share_{t.population}"])
    if math.isnan(share):
        return Result(t, ctx.scenario, "unknown", None,
                      reason=Text("儿童人口缺失",
                                  "child population missing"))
    best_rows = overall[overall["scenario"] == f"{ctx.scenario}:best"]
    best = float(best_rows.iloc[0][f"share_{t.population}"]) if len(best_rows) else share
    status = _status(share >= t.low - 1e-12, best >= t.low - 1e-12)
    res = Result(t, ctx.scenario, status, share, extra={"radius_m": float(row["radius_m"])})
    if status == "unknown":
        res.reason = Text("部分设施的状态或标记缺失",
                          "some facilities lack a status or flag")
    if status != "met":
        outside = float(row[f"outside_{t.population}"])
        who_zh = "儿童" if t.population == "children" else "居民"
        who_en = "children" if t.population == "children" else "residents"
        res.shortfall = Text(f"{outside:.0f} 名{who_zh}步行 {row['radius_m']:.0f} m 内没有"
                             f"{_kinds_text(t, 'zh')}",
                             f"{outside:.0f} {who_en} have no {_kinds_text(t, 'en')} within "
                             f"{row['radius_m']:.0f} m walk")
        res.failing = tuple(str(c).strip() for c in str(row.get("failing_units", "")).split(",")
                            if str(c).strip())
    return res


def eval_indicator(t: Target, ctx: Context, **_: object) -> Result:
    """Compare a bureau-reported value from the indicators table with the target."""
    table = ctx.indicators
    if table is None or table.empty:
        return Result(t, ctx.scenario, "unknown", None, reason=Text("未提供指标填报表",
                                                                    "no indicators file"))
    rows = table[(table["id"].astype(str) == t.id)
                 & (table["plan"].astype(str).isin([ctx.plan_id, ""]))]
    if rows.empty and t.indicator:
        rows = table[table["indicator"].astype(str) == t.indicator]
    if rows.empty or is_missing(rows.iloc[0]["value"]):
        return Result(t, ctx.scenario, "unknown", None, reason=Text("指标未填报",
                                                                    "indicator not reported"))
    raw = rows.iloc[0]["value"]
    try:
        if t.value_type == "boolean":
            value: float | bool = parse_bool(raw)
            status = "met" if value is True else "not_met"
        else:
            value, _ = parse_number(str(raw).replace("%", "").replace("‰", ""))
            status = "met" if _meets(value, t) else "not_met"
    except ValueProblem as exc:
        return Result(t, ctx.scenario, "unknown", None,
                      reason=Text("填报值无法解析：", "the reported value cannot be read: ")
                      + exc.text)
    res = Result(t, ctx.scenario, status, value)
    if status == "not_met" and t.value_type != "boolean":
        gap = abs(t.low - float(value))
        res.shortfall = Text(f"差 {gap:g}{t.unit}", f"off by {gap:g}{unit_text(t.unit, 'en')}")
    elif status == "not_met":
        res.shortfall = Text("尚未达成", "not yet achieved")
    return res


EVALUATORS: dict[str, Callable[..., Result]] = {
    "presence_per_unit": eval_presence_per_unit,
    "count": eval_count,
    "per_capita": eval_per_capita,
    "capacity_per_unit": eval_capacity_per_unit,
    "attribute_share": eval_attribute_share,
    "accessibility": eval_accessibility,
    "indicator": eval_indicator,
}


def absent_kinds(plan: Plan, layers: LayerSet) -> dict[str, list[Target]]:
    """Return the kinds that targets of ``plan`` count but of which the layers hold no facility.

    Returns
    -------
    dict
        ``{kind: [targets naming it]}`` in plan order; a kind present in the facilities in
        any status is not absent.
    """
    present = set(layers.facilities["kind"].dropna().astype(str))
    out: dict[str, list[Target]] = {}
    for t in plan.targets:
        for kind in t.kinds:
            if kind not in present:
                out.setdefault(kind, []).append(t)
    return out


def absent_kind_warnings(plan: Plan, layers: LayerSet) -> list[Text]:
    """Return one warning per kind that targets count but the layers hold none of.

    Returns
    -------
    list of Text
        "the layers hold no 公园 at all: 2 targets (items 33, 34) …", per kind.
    """
    out = []
    for kind, targets in absent_kinds(plan, layers).items():
        items = list(dict.fromkeys(t.item for t in targets))
        zh_items, en_items = "、".join(items), ", ".join(items)
        out.append(Text(
            f"图层中没有任何{kind_label(kind, lang='zh')}：{len(targets)} 项目标（第 {zh_items} 项）"
            "按没有此类设施评估；如确有，请加入设施图层",
            f"the layers hold no {kind_label(kind, lang='en').lower()} at all: {len(targets)} "
            f"target(s) (items {en_items}) are evaluated as if there were none; add them to a "
            "facility layer if they exist"))
    return out


def _absent_reason(t: Target, present: set[str]) -> Text | None:
    """Return the reason of a target none of whose kinds has any facility in the layers."""
    if not t.kinds or set(t.kinds) & present:
        return None
    return Text(f"图层中没有任何{_kinds_text(t, 'zh')}",
                f"the layers hold no {_kinds_text(t, 'en').lower()} at all")


def evaluate_plan(
    plan: Plan,
    layers: LayerSet,
    *,
    indicators: pd.DataFrame | None = None,
    coverage: pd.DataFrame | None = None,
    scenarios: tuple[str, ...] = SCENARIOS,
) -> list[Result]:
    """Evaluate every target of ``plan`` in each scenario.

    Parameters
    ----------
    plan
        The plan.
    layers
        Loaded layers.
    indicators
        Bureau-reported values (see :func:`read_indicators`), or ``None``.
    coverage
        Walking-coverage table from :mod:`analysis.access` with columns ``kind``,
        ``scenario``, ``radius_m``, ``share_population``, ``share_children``,
        ``outside_population``, ``outside_children``; or ``None``.
    scenarios
        Scenario names, ``current`` and/or ``planned``.

    Returns
    -------
    list of Result
        Target order, then scenario order. A target none of whose kinds has any facility
        in the layers says so in its ``reason`` (see :func:`absent_kind_warnings`).
    """
    out = []
    present = set(layers.facilities["kind"].dropna().astype(str))
    for t in plan.targets:
        absent = _absent_reason(t, present)
        for scenario in scenarios:
            ctx = Context(layers, scenario, indicators, coverage, plan.id)
            res = EVALUATORS[t.metric](t, ctx, plan_term=plan.subdistrict_term)
            if absent is not None:
                res.reason = absent + (Text("；", "; ") + res.reason if res.reason else EMPTY)
            out.append(res)
    return out


def headline(results: list[Result], *, scenario: str) -> dict[str, int]:
    """Count targets by status in one scenario.

    Returns
    -------
    dict
        ``{"total", "met", "not_met", "unknown", "not_assessed"}`` counts.
    """
    rows = [r for r in results if r.scenario == scenario]
    counts = {s: sum(r.status == s for r in rows) for s in STATUS_VALUES}
    return {"total": len(rows), **counts}


__all__ = [
    "Result",
    "absent_kind_warnings",
    "absent_kinds",
    "evaluate_plan",
    "headline",
    "select",
]
