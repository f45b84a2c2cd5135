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

from cfplan.analysis.access import units_below
from cfplan.analysis.plan import Filters, Plan, Target, unit_text
from cfplan.analysis.selection import SCENARIOS, in_district, name_matches, select, target_key
from cfplan.layers.kinds import STATUSES, UNIT_TYPES, kind_label, measure_word
from cfplan.layers.load import LayerSet
from cfplan.layers.schema import ValueProblem, is_missing, parse_bool, parse_number
from cfplan.layers.text import EMPTY, Text

STATUS_VALUES = ("met", "not_met", "unknown", "not_assessed")
# An item (a numbered task, or a 重点工程 …) with several targets: all met, some met and some
# not, none met, or not decidable (no target fails, some are unknown or not assessed).
ITEM_STATUSES = ("met", "partly_met", "not_met", "unknown")
PENDING = ("planned", "under_construction")

# The school-route summary that ``route_safety`` targets read (one row per school; made by
# the school-route analysis): the shortest route's unsignalised crossings of arterials, its
# metres with no sidewalk, its metres of road faster than 30 km/h within the school zone, and
# the children it serves. An optional ``scenario`` column (current/planned) gives rows per
# scenario; without it the same rows serve both. NaN in a check means "not known".
ROUTE_SUMMARY_COLUMNS = ("school_code", "unsignalised_crossings_shortest", "no_sidewalk_m",
                         "fast_road_in_zone_m", "children")
ROUTE_CHECKS: tuple[tuple[str, Text], ...] = (
    ("unsignalised_crossings_shortest", Text("无信号灯过街 {v:.0f} 处",
                                             "{v:.0f} unsignalised crossings")),
    ("no_sidewalk_m", Text("无人行道 {v:.0f} m", "{v:.0f} m without a sidewalk")),
    ("fast_road_in_zone_m", Text("校园周边限速高于 30 km/h 的道路 {v:.0f} m",
                                 "{v:.0f} m of road above 30 km/h near the school")),
)


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
    note
        A remark on the reading (e.g. the district has not the number of units the plan
        assumes).
    late
        Planned projects dated after the target's year (in the ``planned`` scenario).
    cross_check
        Where a value the bureau reported contradicts what the layers show.
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
    note: Text = EMPTY
    late: Text = EMPTY
    cross_check: Text = EMPTY


@dataclass(frozen=True)
class Context:
    """What an evaluator needs: the layers, the scenario and optional extra inputs."""

    layers: LayerSet
    scenario: str
    indicators: pd.DataFrame | None = None
    coverage: pd.DataFrame | None = None
    plan_id: str = ""
    routes: pd.DataFrame | None = None


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
    if target.direction == "above":
        return value > target.low + 1e-12
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
                 extra={"units": n, "covered": sure_n,
                        "names": dict(zip(units["code"], units["name"], strict=True))})
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
    if t.expected_units is not None and n != t.expected_units:
        word_zh, word_en = _level_word(t, plan_term, "zh"), _level_word(t, plan_term, "en")
        res.note = Text(
            f"方案按 {t.expected_units} 个{word_zh}计，区内有 {n} 个：本项为 cfplan 的解读，"
            f"以方案的数量目标为准",
            f"the plan assumes {t.expected_units} {word_en}; the district has {n}: this "
            "target is cfplan's reading, and the plan's own figure governs")
    return res


def eval_count(t: Target, ctx: Context, **_: object) -> Result:
    """Count the selected facilities inside the district, against a number or range."""
    fac = ctx.layers.facilities
    kind_zh, kind_en = _kinds_text(t, "zh"), _kinds_text(t, "en")
    if t.filters.name is not None:
        named = fac["kind"].isin(t.kinds).to_numpy() & name_matches(fac["name"], t.filters.name)
        if not named.any():  # the data does not cover it: its works cannot be judged
            return Result(t, ctx.scenario, "unknown", None, reason=Text(
                f"图层中没有名称含「{t.filters.name}」的{kind_zh}，无法判断",
                f"no {kind_en} named {t.filters.name!r} in the layers, so it cannot be judged"))
    sure, maybe = select(fac, t.kinds, t.filters, scenario=ctx.scenario)
    inside = in_district(ctx.layers)  # facilities in the margin serve walking access only
    sure, maybe = sure & inside, maybe & inside
    n, m = int(sure.sum()), int(maybe.sum())
    status = _bounded_status(n, m, t)
    res = Result(t, ctx.scenario, status, float(n))
    if t.direction == "at_least" and n < t.low:
        need = math.ceil(t.low - n)
        res.needed = float(need)
        measure = measure_word(t.kinds)
        res.shortfall = Text(f"还差 {need} {measure}{kind_zh}（现 {n} {measure}）",
                             f"{need} more {kind_en} needed (now {n})")
    if status == "unknown":
        res.reason = Text(f"{m - n} 个设施的状态、年份或标记缺失",
                          f"{m - n} facilities lack data")
    return res


def _population(ctx: Context, which: str) -> tuple[float, bool]:
    col = ctx.layers.units[which]
    return float(col.fillna(0).sum()), bool(col.isna().any())


def eval_per_capita(t: Target, ctx: Context, **_: object) -> Result:
    """Total (count or capacity sum) per ``t.per`` residents, against a number or range.

    Only the facilities inside the district count (those in the margin serve walking
    access only): the residents are the district's.
    """
    sure, maybe = select(ctx.layers.facilities, t.kinds, t.filters, scenario=ctx.scenario)
    inside = in_district(ctx.layers)
    sure, maybe = sure & inside, maybe & inside
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
    """Capacity per unit: the share of units reaching ``t.capacity``, or the units' mean.

    A unit's capacity is the sum of its selected facilities' capacities, or with
    ``unit_capacity = "largest"`` its largest single facility ("a 托育机构 of at least 20
    托位"). ``aggregate = "each"`` (default) gives the share of units whose capacity reaches
    ``t.capacity``, against ``t.target`` (0–1); ``aggregate = "mean"`` gives the mean
    capacity over the units ("on average 20 托位 per 社区"), against ``t.target`` itself.
    """
    units = _units_for(t, ctx.layers)
    if units.empty:
        return Result(t, ctx.scenario, "unknown", None, reason=Text("没有符合条件的单元",
                                                                    "no units"))
    sure, maybe = select(ctx.layers.facilities, t.kinds, t.filters, scenario=ctx.scenario)
    fac = ctx.layers.facilities
    codes = facility_level_codes(ctx.layers, level=t.unit_level)
    cap = fac[t.capacity_field or "capacity"].astype(float)
    grouped = cap[sure].fillna(0).groupby(codes[sure])
    sums = grouped.max() if t.unit_capacity == "largest" else grouped.sum()
    unsure = set(codes[maybe & ~sure].dropna()) | set(codes[sure & cap.isna().to_numpy()].dropna())
    have = units["code"].map(sums).fillna(0.0)
    if t.aggregate == "mean":
        return _capacity_mean(t, ctx, units, have, bool(unsure & set(units["code"])),
                              words=(_level_word(t, plan_term, "zh"),
                                     _level_word(t, plan_term, "en")))
    ok = have >= (t.capacity or 0) - 1e-9
    n = len(units)
    share = float(ok.sum()) / n
    maybe_ok = ok | units["code"].isin(unsure)
    status = _status(share >= t.low - 1e-12, float(maybe_ok.sum()) / n >= t.low - 1e-12)
    failing = units.loc[~ok, "code"].tolist()
    res = Result(t, ctx.scenario, status, share, failing=tuple(failing),
                 needed=float(max(0, math.ceil(t.low * n - 1e-9) - int(ok.sum()))),
                 extra={"names": dict(zip(units["code"], units["name"], strict=True))})
    if failing:
        detail = [f"{name}({have[i]:.0f})" for i, name in zip(
            units.index[~ok], _names(units, failing), strict=True)]
        word_zh, word_en = _level_word(t, plan_term, "zh"), _level_word(t, plan_term, "en")
        if t.unit_capacity == "largest":
            res.shortfall = Text(
                f"{len(failing)} 个{word_zh}没有不少于 {t.capacity:.0f} 托位的"
                f"{_kinds_text(t, 'zh')}（括号内为最大一处的托位）：{_list(detail, 'zh')}",
                f"{len(failing)} {word_en} have no {_kinds_text(t, 'en')} of at least "
                f"{t.capacity:.0f} places (largest in brackets): {_list(detail, 'en')}")
        else:
            res.shortfall = Text(f"{len(failing)} 个{word_zh}不足 "
                                 f"{t.capacity:.0f} 托位：{_list(detail, 'zh')}",
                                 f"{len(failing)} {word_en} below "
                                 f"{t.capacity:.0f} places: {_list(detail, 'en')}")
    if status == "unknown":
        res.reason = Text("部分设施容量或状态缺失",
                          "some capacities or statuses missing")
    return res


def _capacity_mean(t: Target, ctx: Context, units: pd.DataFrame, have: pd.Series,
                   uncertain: bool, *, words: tuple[str, str]) -> Result:
    """Compare the mean capacity per unit with ``t.target``; unknown if missing data could help."""
    n = len(units)
    total = float(have.sum())
    mean = total / n
    met = _meets(mean, t)
    status = "met" if met else ("unknown" if uncertain else "not_met")
    res = Result(t, ctx.scenario, status, mean, extra={"units": n, "total": total})
    if not met:
        need = max(0, math.ceil(t.low * n - total - 1e-9))
        res.needed = float(need)
        res.shortfall = Text(f"平均每个{words[0]} {mean:.1f} 托位（{n} 个{words[0]}共 {total:.0f}），"
                             f"还差 {need} 托位",
                             f"{mean:.1f} places on average ({total:.0f} in {n} {words[1]}); "
                             f"{need} more places needed")
    if status == "unknown":
        res.reason = Text("部分设施容量或状态缺失", "some capacities or statuses missing")
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
        zh, en = _field_words(str(t.attribute))
        res.reason = (Text(f"{int((unk & maybe).sum())} 处缺少「{zh}」或状态",
                           f"{int((unk & maybe).sum())} lack '{en}' or a status"))
    return res


def _field_words(attribute: str) -> tuple[str, str]:
    """Return a facility field's name for people: its Chinese alias, and words in English."""
    from cfplan.layers.schema import SCHEMAS

    aliases = next((f.aliases for f in SCHEMAS["facilities"].fields if f.name == attribute), ())
    return (aliases[0] if aliases else attribute), attribute.replace("_", " ")


def eval_accessibility(t: Target, ctx: Context, **_: object) -> Result:
    """Share of residents or children within the walking radius (needs a coverage table).

    The failing units are those whose own share is below the target's
    (:func:`cfplan.analysis.access.units_below`), the rule every output applies.

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
    units = cov[(cov["kind"] == key) & (cov["level"] == "unit")
                & (cov["scenario"] == ctx.scenario)]
    res.failing = tuple(units_below(units, share=t.low, population=t.population)["area"]
                        .astype(str))
    return res


def eval_route_safety(t: Target, ctx: Context, **_: object) -> Result:
    """Share of schools of ``t.kinds`` whose shortest route to school passes every check.

    Reads the school-route summary (:data:`ROUTE_SUMMARY_COLUMNS`): a school's route is
    safe with no unsignalised arterial crossing, no metre without a sidewalk and no metre
    of road above 30 km/h in the school zone. A school with a check not known counts as
    safe only in the best case. Without the summary the target is ``not_assessed``.
    """
    routes = ctx.routes
    if routes is None:
        return Result(t, ctx.scenario, "not_assessed", None, reason=Text(
            "未计算上下学路径（需要路网与学校图层）",
            "school routes were not computed (they need streets and schools)"))
    missing = [c for c in ROUTE_SUMMARY_COLUMNS if c not in routes.columns]
    if missing:
        msg = f"route summary lacks the columns {missing}; expected {ROUTE_SUMMARY_COLUMNS}"
        raise ValueError(msg)
    if "scenario" in routes.columns:
        routes = routes[routes["scenario"] == ctx.scenario]
    fac = ctx.layers.facilities
    kind_of = dict(zip(fac["fid"].astype(str), fac["kind"], strict=True))
    name_of = dict(zip(fac["fid"].astype(str), fac["name"], strict=True))
    rows = routes[routes["school_code"].astype(str).map(kind_of).isin(t.kinds)]
    if rows.empty:
        return Result(t, ctx.scenario, "unknown", None, reason=Text(
            f"上下学路径结果中没有{_kinds_text(t, 'zh')}",
            f"the school-route results hold no {_kinds_text(t, 'en')}"))
    checks = rows[[c for c, _ in ROUTE_CHECKS]].astype(float)
    hazard = (checks.fillna(0) > 0).any(axis=1).to_numpy()
    unknown = checks.isna().any(axis=1).to_numpy()
    safe = ~hazard & ~unknown
    n = len(rows)
    share = float(safe.sum()) / n
    best = float((~hazard).sum()) / n
    status = _status(share >= t.low - 1e-12, best >= t.low - 1e-12)
    res = Result(t, ctx.scenario, status, share,
                 extra={"schools": tuple(rows.loc[hazard, "school_code"].astype(str))})
    if hazard.any():
        items_zh, items_en = [], []
        for (_, row), bad in zip(checks.iterrows(), hazard, strict=True):
            if not bad:
                continue
            found = [text for col, text in ROUTE_CHECKS if row[col] > 0]
            code = str(rows.loc[row.name, "school_code"])
            items_zh.append(f"{name_of.get(code, code)}（"
                            + "；".join(x.zh.format(v=row[c]) for (c, x) in ROUTE_CHECKS
                                       if x in found) + "）")
            items_en.append(f"{name_of.get(code, code)} ("
                            + "; ".join(x.en.format(v=row[c]) for (c, x) in ROUTE_CHECKS
                                       if x in found) + ")")
        kids = float(pd.to_numeric(rows.loc[hazard, "children"], errors="coerce").fillna(0).sum())
        res.needed = float(int(hazard.sum()))
        res.shortfall = Text(
            f"{int(hazard.sum())} 所学校的最短上学路线有隐患，涉及 {kids:.0f} 名儿童："
            + _list(items_zh, "zh"),
            f"{int(hazard.sum())} schools' shortest routes have hazards, for {kids:.0f} "
            "children: " + _list(items_en, "en"))
    if status == "unknown":
        res.reason = Text(f"{int(unknown.sum())} 所学校的路径检查项缺失",
                          f"{int(unknown.sum())} schools lack a route check")
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
        value: float | bool
        if t.value_type == "boolean":
            value = parse_bool(raw)
            status = "met" if value is True else "not_met"
        else:
            value = parse_number(str(raw).replace("%", "").replace("‰", ""))[0]
            status = "met" if _meets(value, t) else "not_met"
    except ValueProblem as exc:
        return Result(t, ctx.scenario, "unknown", None,
                      reason=Text("填报值无法解析：", "the reported value cannot be read: ")
                      + exc.text)
    res = Result(t, ctx.scenario, status, value)
    if status == "not_met" and t.value_type != "boolean":
        gap = abs(t.low - float(value))
        if t.direction == "above":
            res.shortfall = Text(f"未高于 {t.low:g}{t.unit}（现 {float(value):g}{t.unit}）",
                                 f"not above {t.low:g}{unit_text(t.unit, 'en')} (now "
                                 f"{float(value):g}{unit_text(t.unit, 'en')})")
        else:
            res.shortfall = Text(f"差 {gap:g}{t.unit}",
                                 f"off by {gap:g}{unit_text(t.unit, 'en')}")
    elif status == "not_met":
        res.shortfall = Text("尚未达成", "not yet achieved")
    return res


def eval_same_as(t: Target, ctx: Context, **_: object) -> Result:
    """Return a placeholder: a repeated item's result comes from its targets (:func:`same_as`)."""
    return Result(t, ctx.scenario, "unknown", None)


def same_as(t: Target, refs: list[Result], scenario: str) -> Result:
    """Return the result of a repeated item from the results of the targets it stands for.

    Met when all are met, not met when any is not met, else unknown; the value is the
    single target's value, or the share of its targets met.
    """
    combined = combine_statuses([r.status for r in refs])
    status = {"partly_met": "not_met"}.get(combined, combined)
    ids = "、".join(r.target.id for r in refs)
    ids_en = ", ".join(r.target.id for r in refs)
    if len(refs) == 1:
        ref = refs[0]
        res = Result(t, scenario, status, ref.value, needed=ref.needed, failing=ref.failing,
                     reason=ref.reason, extra={"refs": tuple(refs)})
        res.shortfall = (Text(f"同第 {ids} 项：", f"as item {ids_en}: ") + ref.shortfall
                         if ref.shortfall else EMPTY)
        return res
    met = sum(r.status == "met" for r in refs)
    res = Result(t, scenario, status, met / len(refs),
                 extra={"refs": tuple(refs), "item_status": combined})
    if status != "met":
        word = {"partly_met": ("部分达成", "partly met"), "not_met": ("未达成", "not met"),
                "unknown": ("未知", "unknown")}.get(combined, (combined, combined))
        res.shortfall = Text(f"同第 {ids} 项：达成 {met}/{len(refs)}（{word[0]}）",
                             f"as items {ids_en}: {met} of {len(refs)} met ({word[1]})")
    if status == "unknown":
        res.reason = Text.join(r.reason for r in refs if r.reason)
    return res


def combine_statuses(statuses: list[str]) -> str:
    """Return an item's status from its targets' statuses (one of :data:`ITEM_STATUSES`).

    ``met`` when every target is met; ``partly_met`` when some are met and some not;
    ``not_met`` when some are not met and none is met; ``unknown`` when none fails but
    some cannot be decided (unknown or not assessed).
    """
    if not statuses:
        return "unknown"
    if "not_met" in statuses:
        return "partly_met" if "met" in statuses else "not_met"
    if any(s in ("unknown", "not_assessed") for s in statuses):
        return "unknown"
    return "met"


EVALUATORS: dict[str, Callable[..., Result]] = {
    "presence_per_unit": eval_presence_per_unit,
    "count": eval_count,
    "per_capita": eval_per_capita,
    "capacity_per_unit": eval_capacity_per_unit,
    "attribute_share": eval_attribute_share,
    "accessibility": eval_accessibility,
    "route_safety": eval_route_safety,
    "indicator": eval_indicator,
    "same_as": eval_same_as,
}


def _reported(t: Target, ctx: Context) -> tuple[str, str] | None:
    """Return (value as written, status it implies) of a value reported for a spatial target.

    A 是/否 reads as met/not met; a number is compared with the target (shares in %).
    ``None`` when nothing is reported.
    """
    table = ctx.indicators
    if not t.reported or table is None or table.empty:
        return None
    rows = table[(table["id"].astype(str) == t.id)
                 & (table["plan"].astype(str).isin([ctx.plan_id, ""]))]
    if rows.empty:
        rows = table[table["indicator"].astype(str) == t.reported]
    if rows.empty or is_missing(rows.iloc[0]["value"]):
        return None
    raw = str(rows.iloc[0]["value"]).strip()
    try:
        return raw, "met" if parse_bool(raw) else "not_met"
    except ValueProblem:
        pass
    try:
        value, _ = parse_number(raw.replace("%", ""))
    except ValueProblem:
        return raw, "unknown"
    if t.is_share:
        value /= 100.0
    return raw, "met" if _meets(value, t) else "not_met"


def cross_check(res: Result, ctx: Context) -> Text:
    """Return where the bureau's reported value contradicts the layers' result, else empty."""
    found = _reported(res.target, ctx)
    if found is None:
        return EMPTY
    raw, implied = found
    res.extra["reported"] = raw
    if implied not in ("met", "not_met") or res.status not in ("met", "not_met"):
        return EMPTY
    if implied == res.status:
        return EMPTY
    shown = {"met": ("达成", "met"), "not_met": ("未达成", "not met")}
    zh, en = shown[res.status]
    said_zh, said_en = shown[implied]
    return Text(f"填报为「{raw}」（{said_zh}），但图层显示{zh}",
                f"reported {raw!r} ({said_en}), but the layers show it {en}")


def late_projects(t: Target, layers: LayerSet) -> Text:
    """Return the pending projects of a target dated after its year, and whether they count.

    Projects under construction or planned, of the target's kinds and passing its filters
    but for ``until``; ``planned`` counts them unless the target's ``until`` excludes them.
    """
    if not t.kinds or t.metric in ("indicator", "route_safety", "same_as"):
        return EMPTY
    fac = layers.facilities
    if fac.empty:
        return EMPTY
    loose = Filters(**{**t.filters.__dict__, "until": None})
    _, maybe = select(fac, t.kinds, loose, scenario="planned")
    counted, _ = select(fac, t.kinds, t.filters, scenario="planned")
    year = pd.to_numeric(fac["year"], errors="coerce").to_numpy()
    late = maybe & fac["status"].isin(PENDING).to_numpy() & (year > t.year)
    if not late.any():
        return EMPTY
    zh, en = [], []
    for i in late.nonzero()[0]:
        name, y = str(fac["name"].iloc[i]), int(year[i])
        zh.append(f"{name}（{y} 年{'，已计入' if counted[i] else '，未计入'}）")
        en.append(f"{name} ({y}{', counted' if counted[i] else ', not counted'})")
    return Text(f"晚于目标年 {t.year} 的规划项目：{_list(zh, 'zh')}",
                f"planned projects dated after the target year {t.year}: {_list(en, 'en')}")


def status_year_notes(t: Target, layers: LayerSet) -> Text:
    """Return the facilities of a new-build target whose status and year disagree.

    For a target with ``built_in_period`` (new, renovated or started within ``[since,
    until]``) the year decides: a facility marked existing (现状) but dated in the period is
    counted by its year; one marked new, renovated or under construction but dated before
    the period is not. Each is named with what was done.

    Returns
    -------
    Text
        Empty when status and year agree everywhere.
    """
    f = t.filters
    if not f.built_in_period or f.since is None:
        return EMPTY
    fac = layers.facilities
    if fac.empty:
        return EMPTY
    loose = Filters(**{**f.__dict__, "statuses": tuple(STATUSES), "since": None,
                       "until": None, "built_in_period": False})
    sure, maybe = select(fac, t.kinds, loose, scenario="current")
    year = pd.to_numeric(fac["year"], errors="coerce").to_numpy()
    until = f.until if f.until is not None else t.year
    status = fac["status"].astype(object).to_numpy()
    period = (year >= f.since) & (year <= until)
    by_year = (sure | maybe) & (status == "existing") & period
    early = (sure | maybe) & (status != "existing") & pd.notna(status) & (year < f.since)
    zh, en = [], []
    for i in by_year.nonzero()[0]:
        zh.append(f"{fac['name'].iloc[i]}（标为现状，{int(year[i])} 年建：按年份计入）")
        en.append(f"{fac['name'].iloc[i]} (marked existing, built {int(year[i])}: counted by "
                  "its year)")
    for i in early.nonzero()[0]:
        word = STATUSES.get(str(status[i]), (str(status[i]),))[0]
        zh.append(f"{fac['name'].iloc[i]}（标为{word}，但为 {int(year[i])} 年，早于 {f.since} 年："
                  "按年份不计入）")
        en.append(f"{fac['name'].iloc[i]} (marked {status[i]}, but dated {int(year[i])}, "
                  f"before {f.since}: not counted, by its year)")
    if not zh:
        return EMPTY
    return Text(f"状态与年份不一致，以年份为准：{_list(zh, 'zh')}",
                f"status and year disagree; the year decides: {_list(en, 'en')}")


def status_year_warnings(plan: Plan, layers: LayerSet) -> list[Text]:
    """Return one warning per new-build target whose facilities' status and year disagree.

    Returns
    -------
    list of Text
        "重点工程1：状态与年份不一致，以年份为准：…", per target (see
        :func:`status_year_notes`).
    """
    out = []
    for t in plan.targets:
        note = status_year_notes(t, layers)
        if note:
            out.append(Text(f"{t.id}：", f"{t.id}: ") + note)
    return out


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


def _no_nan(res: Result) -> Result:
    """Return ``res``, or ``unknown`` when its value is not a number: never compare a NaN.

    A value computed from missing data (a total of nothing, a rate over no one) cannot
    meet or fail a target; a comparison with NaN would say "not met" without a word.
    """
    value = res.value
    if (isinstance(value, float) and not math.isfinite(value)
            and res.status in ("met", "not_met")):
        return Result(res.target, res.scenario, "unknown", None, failing=res.failing,
                      reason=Text("没有可比较的数值（数据缺失）", "no value to compare (missing data)"),
                      extra=res.extra, note=res.note)
    return res


def evaluate_plan(
    plan: Plan,
    layers: LayerSet,
    *,
    indicators: pd.DataFrame | None = None,
    coverage: pd.DataFrame | None = None,
    routes: pd.DataFrame | None = None,
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
    routes
        School-route summary, one row per school, with the columns
        :data:`ROUTE_SUMMARY_COLUMNS` (read by ``route_safety`` targets); or ``None``, which
        leaves those targets ``not_assessed``.
    scenarios
        Scenario names, ``current`` and/or ``planned``.

    Returns
    -------
    list of Result
        Target order, then scenario order. Results carry the bureau's contradicting
        reports (``cross_check``) and, once planned, projects dated after the target year
        (``late``). A target none of whose kinds has any facility in the layers says so in
        its ``reason`` (see :func:`absent_kind_warnings`).
    """
    out = []
    present = set(layers.facilities["kind"].dropna().astype(str))
    for t in plan.targets:
        late = late_projects(t, layers)
        absent = _absent_reason(t, present)
        disagree = status_year_notes(t, layers)
        for scenario in scenarios:
            ctx = Context(layers, scenario, indicators, coverage, plan.id, routes)
            res = _no_nan(EVALUATORS[t.metric](t, ctx, plan_term=plan.subdistrict_term))
            if disagree:
                res.note = res.note + Text("；", "; ") + disagree if res.note else disagree
            if absent is not None:
                res.reason = absent + (Text("；", "; ") + res.reason if res.reason else EMPTY)
            res.cross_check = cross_check(res, ctx)
            if scenario == "planned":
                res.late = late
            out.append(res)
    by_key = {(r.target.id, r.scenario): r for r in out}
    for i, r in enumerate(out):
        if r.target.metric == "same_as":
            refs = [by_key[(ref, r.scenario)] for ref in r.target.same_as
                    if (ref, r.scenario) in by_key]
            out[i] = same_as(r.target, refs, r.scenario) if refs else Result(
                r.target, r.scenario, "unknown", None, reason=Text(
                    "所指目标不在本次评估中", "the targets it repeats were not evaluated"))
    return out


def item_statuses(plan: Plan, results: list[Result], *, scenario: str) -> dict[str, str]:
    """Return the status of each item of ``plan`` in ``scenario`` (:data:`ITEM_STATUSES`).

    An item's status combines its targets' statuses (:func:`combine_statuses`); a repeated
    item (``same_as``) combines the statuses of the targets it repeats, so 重点工程6 reads
    as task 33 does (partly met, not "not met"); the national-standard targets
    (``origin = "standard"``) and cfplan's own readings (``origin = "reading"``) are not the
    plan's items and do not count.

    Returns
    -------
    dict
        Item → status, in plan order.
    """
    by_id = {r.target.id: r for r in results if r.scenario == scenario}
    by_item: dict[str, list[str]] = {}
    for r in results:
        if r.scenario == scenario and r.target.origin == "plan":
            refs = [by_id[i] for i in r.target.same_as if i in by_id]
            # a repeated item reads its targets' statuses: the same status as the item it repeats
            statuses = [x.status for x in refs] if refs else [r.status]
            by_item.setdefault(r.target.item, []).extend(statuses)
    return {item: combine_statuses(s) for item, s in by_item.items()}


def item_headline(plan: Plan, results: list[Result], *, scenario: str) -> dict[str, dict[str, int]]:
    """Count the plan's own items by status, per section of the plan.

    Returns
    -------
    dict
        Section (``""`` for the numbered tasks, then e.g. ``"重点工程"``) →
        ``{"total", "met", "partly_met", "not_met", "unknown"}``.
    """
    statuses = item_statuses(plan, results, scenario=scenario)
    section = {t.item: t.section for t in plan.targets if t.origin == "plan"}
    out: dict[str, dict[str, int]] = {}
    for item, status in statuses.items():
        counts = out.setdefault(section[item], {"total": 0, **dict.fromkeys(ITEM_STATUSES, 0)})
        counts["total"] += 1
        counts[status] += 1
    return dict(sorted(out.items(), key=lambda kv: kv[0] != ""))


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


__all__ = ["ITEM_STATUSES", "ROUTE_SUMMARY_COLUMNS", "Result", "combine_statuses",
           "evaluate_plan", "headline", "item_headline", "item_statuses", "select"]


__all__ = [
    "Result",
    "absent_kind_warnings",
    "absent_kinds",
    "evaluate_plan",
    "headline",
    "select",
    "status_year_notes",
    "status_year_warnings",
]
