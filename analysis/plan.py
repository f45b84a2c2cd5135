"""Plan files: load and validate TOML plans and their targets, naming the line of any error."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from cfplan.analysis.plan_values import (
    FACILITY_FIELDS,
    Filters,
    PlanLineError,
    check_types,
    choice,
    number,
    number_target,
    opt_text,
    parse_filters,
    parse_kinds,
    plan_period,
    table_lines,
    year_outside,
)
from cfplan.layers.errors import InputError
from cfplan.layers.files import check_input_file, read_toml
from cfplan.layers.kinds import SUBDISTRICT_TYPES, UNIT_TYPES
from cfplan.layers.manifest import suggest
from cfplan.layers.text import Text, clean_text

PLANS_DIR = Path(__file__).parent / "plans"
METRICS = (
    "presence_per_unit", "count", "per_capita", "capacity_per_unit", "attribute_share",
    "accessibility", "route_safety", "indicator", "same_as",
)
# Where a target comes from: the plan's own words, a national standard, or cfplan's own reading
# of the plan's words (a check the plan implies but does not state, e.g. "one station per 办事处").
ORIGINS = ("plan", "standard", "reading")
DIRECTIONS = ("at_least", "at_most", "above")
DOMAINS = ("社会政策友好", "公共服务友好", "权利保障友好", "成长空间友好", "发展环境友好")
DOMAINS_EN = {
    "社会政策友好": "Child-friendly social policy",
    "公共服务友好": "Child-friendly public services",
    "权利保障友好": "Child-friendly rights protection",
    "成长空间友好": "Child-friendly spaces for growing up",
    "发展环境友好": "Child-friendly development environment",
}
# The parts of a plan outside its numbered items (``section`` of a target), in English.
SECTIONS_EN = {"": "Plan items", "重点工程": "Key projects", "重大项目": "Major projects",
               "品牌活动": "Brand activities"}
PLAN_KEYS = ("id", "name", "name_en", "district", "document", "source", "period",
             "subdistrict_term")
_COMMON = {"id", "domain", "item", "title", "wording", "metric", "year", "target", "direction",
           "assumption", "origin", "assumption_en", "title_en", "wording_en", "lead",
           "responsible", "section"}
# English for the indicator units the plans use, as appended to a number (``f"{v:g}{unit}"``).
UNITS_EN = {
    "%": "%",
    "‰": "‰",
    "个": "",
    "人": " people",
    "人次": " person-times",
    "元/人/年": " yuan per person per year",
    "场": " events",
    "小时": " hours",
    "岁": " years of age",
    "课时": " class hours",
    "项": " items",
}
TextField = Literal["title", "wording", "assumption"]
_PARAMS: dict[str, set[str]] = {
    "presence_per_unit": {"kind", "unit_level", "unit_types", "filters", "expected_units",
                          "reported"},
    "count": {"kind", "filters", "reported"},
    "per_capita": {"kind", "filters", "capacity_field", "per", "population", "reported"},
    "capacity_per_unit": {"kind", "unit_level", "unit_types", "filters", "capacity_field",
                          "capacity", "aggregate", "unit_capacity", "reported"},
    "attribute_share": {"kind", "filters", "attribute", "reported"},
    "accessibility": {"kind", "filters", "radius_m", "population"},
    "route_safety": {"kind", "reported"},
    "indicator": {"indicator", "unit", "value_type", "baseline_year"},
    "same_as": {"same_as"},
}
_REQUIRED: dict[str, set[str]] = {
    "presence_per_unit": {"kind"},
    "count": {"kind"},
    "per_capita": {"kind", "per"},
    "capacity_per_unit": {"kind"},
    "attribute_share": {"kind", "attribute"},
    "accessibility": {"kind"},
    "route_safety": {"kind"},
    "indicator": {"indicator"},
    "same_as": {"same_as"},
}
SHARE_METRICS = ("presence_per_unit", "capacity_per_unit", "attribute_share", "accessibility",
                 "route_safety")
# capacity_per_unit: how units are aggregated, and how a unit's capacity is formed (first:
# default), with what each value means.
AGGREGATES: dict[str, Text] = {
    "each": Text("每个单元都达到 capacity", "every unit reaches capacity"),
    "mean": Text("单元平均达到 target", "the units' mean reaches target"),
}
UNIT_CAPACITIES: dict[str, Text] = {
    "sum": Text("单元内容量之和", "the unit's facilities added up"),
    "largest": Text("单元内最大的一处", "its largest facility"),
}
_KEY = re.compile(r"^[a-z0-9_]+$")
@dataclass(frozen=True)
class Target:
    """One checkable target of a plan, with its wording and metric parameters.

    ``target`` is a number, a ``(low, high)`` range or ``True``; shares are 0–1.
    ``title``, ``wording`` and ``assumption`` are Chinese; ``title_en``, ``wording_en`` and
    ``assumption_en`` their English, where the plan file gives one (read both through
    :meth:`text`). ``lead`` and ``responsible`` are the plan's 牵头单位 and 责任单位, verbatim;
    ``section`` is the part of the plan an item belongs to (``""`` for its numbered tasks,
    e.g. ``"重点工程"``); ``same_as`` names the targets a repeated item stands for.
    """

    id: str
    domain: str
    item: str
    title: str
    wording: str
    metric: str
    year: int
    target: float | tuple[float, float] | bool
    direction: str = "at_least"
    assumption: str = ""
    origin: str = "plan"
    kinds: tuple[str, ...] = ()
    unit_level: str = "unit"
    unit_types: tuple[str, ...] | None = None
    filters: Filters = field(default_factory=Filters)
    capacity_field: str | None = None
    capacity: float | None = None
    per: float | None = None
    population: str = "population"
    attribute: str | None = None
    radius_m: float | None = None
    indicator: str | None = None
    unit: str = ""
    value_type: str = "number"
    line: int = 0
    title_en: str = ""
    wording_en: str = ""
    assumption_en: str = ""
    lead: str = ""
    responsible: str = ""
    section: str = ""
    reported: str | None = None
    same_as: tuple[str, ...] = ()
    aggregate: str = "each"
    unit_capacity: str = "sum"
    expected_units: int | None = None
    baseline_year: int | None = None

    def text(self, field: TextField, lang: str = "zh") -> str:
        """Return ``field`` (title, wording or assumption) in ``lang``.

        English (``lang == "en"``) when the plan file gives it, else the Chinese: a plan's
        own title and wording are quoted verbatim and have no English.
        """
        if lang == "en":
            english = getattr(self, f"{field}_en")
            if english:
                return english
        return getattr(self, field)

    @property
    def is_share(self) -> bool:
        """Whether the value and target are shares 0–1 (a mean capacity is not)."""
        return self.metric in SHARE_METRICS and not (
            self.metric == "capacity_per_unit" and self.aggregate == "mean")

    @property
    def low(self) -> float:
        """Lower bound of a numeric target (the target itself when not a range)."""
        return float(self.target[0]) if isinstance(self.target, tuple) else float(self.target)

    @property
    def high(self) -> float | None:
        """Upper bound of a range target, else ``None``."""
        return float(self.target[1]) if isinstance(self.target, tuple) else None


@dataclass(frozen=True)
class Plan:
    """A work plan: header and targets in file order."""

    id: str
    name: str
    name_en: str
    district: str
    document: str
    source: str
    period: tuple[int, int]
    subdistrict_term: str
    targets: tuple[Target, ...]
    path: Path
    warnings: tuple[Text, ...] = ()
    """What loading the plan warns of: GBK text, control characters removed, target years
    outside the plan's period."""

    def target(self, target_id: str) -> Target:
        """Return the target called ``target_id``."""
        for t in self.targets:
            if t.id == target_id:
                return t
        raise KeyError(target_id)


def _target(table: dict[str, object], lines: dict[str, int], start: int) -> Target:
    def at(key: str) -> int:
        return lines.get(key, start)

    for key in ("id", "domain", "item", "title", "wording", "metric", "year"):
        if key not in table:
            raise PlanLineError(start, Text(f"缺少键 {key}", f"missing key {key}"))
    check_types(table, at)
    if "target" not in table and table["metric"] != "same_as":
        raise PlanLineError(start, Text("缺少键 target", "missing key target"))
    metric = table["metric"]
    if metric not in METRICS:
        raise PlanLineError(at("metric"), Text(f"未知指标类型「{metric}」；可用：{', '.join(METRICS)}",
                                            f"unknown metric {metric!r}; known: "
                                            f"{', '.join(METRICS)}") + suggest(str(metric), METRICS))
    allowed = _COMMON | _PARAMS[metric]
    unknown = set(table) - allowed
    if unknown:
        key = sorted(unknown)[0]
        raise PlanLineError(at(key), Text(f"{metric} 不接受键 {sorted(unknown)}；可用：{sorted(allowed)}",
                                       f"unknown keys {sorted(unknown)} for {metric}; allowed: "
                                       f"{sorted(allowed)}") + suggest(key, sorted(allowed)))
    missing = _REQUIRED[metric] - set(table)
    if missing:
        raise PlanLineError(start, Text(f"{metric} 缺少键 {sorted(missing)}",
                                     f"{metric} needs the keys {sorted(missing)}"))
    if table["domain"] not in DOMAINS:
        raise PlanLineError(at("domain"), Text(f"未知领域「{table['domain']}」；可用：{', '.join(DOMAINS)}",
                                            f"unknown domain {table['domain']!r}; known: "
                                            f"{', '.join(DOMAINS)}"))
    direction = table.get("direction", "at_least")
    if direction not in DIRECTIONS or (direction == "above" and metric != "indicator"):
        raise PlanLineError(at("direction"), Text(
            "direction 应为 at_least、at_most 或 above（above 仅用于 indicator）",
            "direction must be at_least, at_most or above (above for indicator only)"))
    origin = table.get("origin", "plan")
    if origin not in ORIGINS:
        raise PlanLineError(at("origin"), Text(f"origin 应为 {'、'.join(ORIGINS)} 之一",
                                            f"origin must be one of {', '.join(ORIGINS)}"))
    target = number_target(table.get("target", True), at("target"))
    value_type = table.get("value_type", "number")
    if value_type not in ("number", "boolean"):
        raise PlanLineError(at("value_type"), Text("value_type 应为 number 或 boolean",
                                                "value_type must be number or boolean"))
    if metric != "same_as" and (value_type == "boolean") != isinstance(target, bool):
        raise PlanLineError(at("target"), Text("布尔指标的 target 应为 true，数值指标应为数字",
                                            "boolean indicators take target = true; others a "
                                            "number"))
    aggregate = choice(table, "aggregate", AGGREGATES, at("aggregate"))
    unit_capacity = choice(table, "unit_capacity", UNIT_CAPACITIES, at("unit_capacity"))
    if metric == "capacity_per_unit":
        if aggregate == "each" and "capacity" not in table:
            raise PlanLineError(start, Text("aggregate = each 需要 capacity（每个单元的最低容量）",
                                         "aggregate = each needs capacity (the minimum per "
                                         "unit)"))
        if aggregate == "mean" and "capacity" in table:
            raise PlanLineError(at("capacity"), Text(
                "aggregate = mean 的 target 即单元平均容量（如 20），不用 capacity",
                "with aggregate = mean the target is the mean per unit (e.g. 20); drop "
                "capacity"))
    is_share = metric in SHARE_METRICS and not (metric == "capacity_per_unit"
                                                and aggregate == "mean")
    if metric in SHARE_METRICS:
        if direction != "at_least":
            raise PlanLineError(at("direction"), Text(f"{metric} 只支持 at_least",
                                                   f"{metric} takes direction = at_least only"))
        lo = target[0] if isinstance(target, tuple) else target
        if isinstance(lo, bool) or (is_share and not 0 <= float(lo) <= 1):
            raise PlanLineError(at("target"), Text("份额类目标应在 0–1 之间",
                                                "share targets lie between 0 and 1"))
    reported = table.get("reported")
    if reported is not None and (not isinstance(reported, str) or not _KEY.match(reported)):
        raise PlanLineError(at("reported"), Text("reported 应为指标键（a-z、0-9、_）",
                                              "reported must be an indicator key (a-z, 0-9, _)"))
    raw_same = table.get("same_as", [])
    same_as = [raw_same] if isinstance(raw_same, str) else list(raw_same) \
        if isinstance(raw_same, list) else []
    if metric == "same_as" and (not isinstance(same_as, list) or not same_as
                                or not all(isinstance(v, str) for v in same_as)):
        raise PlanLineError(at("same_as"), Text("same_as 应为目标 id 或其列表",
                                             "same_as must be a target id or a list of ids"))
    expected = number(table, "expected_units", at("expected_units"), whole=True)
    baseline_year = number(table, "baseline_year", at("baseline_year"), whole=True)
    for key in ("lead", "responsible", "section"):
        if key in table and not isinstance(table[key], str):
            raise PlanLineError(at(key), Text(f"{key} 应为文字", f"{key} must be text"))
    unit_level = table.get("unit_level", "unit")
    if unit_level not in ("unit", "subdistrict"):
        raise PlanLineError(at("unit_level"), Text("unit_level 应为 unit 或 subdistrict",
                                                "unit_level must be unit or subdistrict"))
    raw_types = table.get("unit_types")
    unit_types: tuple[str, ...] | None = None
    if raw_types is not None:
        known = UNIT_TYPES if unit_level == "unit" else SUBDISTRICT_TYPES
        if not isinstance(raw_types, list):
            raise PlanLineError(at("unit_types"), Text("unit_types 应为列表",
                                                    "unit_types must be a list"))
        bad = [u for u in raw_types if u not in known]
        if bad:
            raise PlanLineError(at("unit_types"), Text(f"未知单元类型 {bad}；可用：{list(known)}",
                                                    f"unknown unit types {bad}; known: "
                                                    f"{list(known)}"))
        unit_types = tuple(str(u) for u in raw_types)
    for key in ("capacity_field", "attribute"):
        if key in table and table[key] not in FACILITY_FIELDS:
            raise PlanLineError(at(key), Text(f"未知设施字段「{table[key]}」",
                                           f"unknown facility field {table[key]!r}"))
    population = table.get("population", "children" if metric == "accessibility" else "population")
    if population not in ("population", "children"):
        raise PlanLineError(at("population"), Text("population 应为 population 或 children",
                                                "population must be population or children"))
    return Target(
        id=str(table["id"]), domain=str(table["domain"]), item=str(table["item"]),
        title=str(table["title"]), wording=str(table["wording"]), metric=str(metric),
        year=int(number(table, "year", at("year"), whole=True) or 0), target=target,
        direction=direction,
        assumption=str(table.get("assumption", "")), origin=str(origin),
        title_en=str(table.get("title_en", "")), wording_en=str(table.get("wording_en", "")),
        assumption_en=str(table.get("assumption_en", "")),
        kinds=parse_kinds(table["kind"], at("kind")) if "kind" in table else (),
        unit_level=unit_level, unit_types=unit_types,
        filters=parse_filters(table.get("filters"), at("filters")),
        capacity_field=opt_text(table.get(
            "capacity_field", "capacity" if metric == "capacity_per_unit" else None)),
        capacity=number(table, "capacity", at("capacity")),
        per=number(table, "per", at("per"), positive=True),
        population=str(population), attribute=opt_text(table.get("attribute")),
        radius_m=number(table, "radius_m", at("radius_m"), positive=True),
        indicator=opt_text(table.get("indicator")), unit=str(table.get("unit", "")),
        value_type=value_type, line=start,
        lead=str(table.get("lead", "")), responsible=str(table.get("responsible", "")),
        section=str(table.get("section", "")), reported=reported, same_as=tuple(str(s) for s in same_as),
        aggregate=str(aggregate), unit_capacity=str(unit_capacity),
        expected_units=int(expected) if expected is not None else None,
        baseline_year=int(baseline_year) if baseline_year is not None else None,
    )


def _check_same_as(targets: list[Target], lines: dict[str, int]) -> None:
    """Raise unless every ``same_as`` names other targets that are not themselves repeats."""
    kinds = {t.id: t.metric for t in targets}
    for t in targets:
        for ref in t.same_as:
            if ref == t.id or ref not in kinds:
                known = suggest(ref, list(kinds))
                raise PlanLineError(lines[t.id], Text(f"same_as 指向不存在的目标「{ref}」",
                                                   f"same_as names no target {ref!r}") + known)
            if kinds[ref] == "same_as":
                raise PlanLineError(lines[t.id], Text(
                    f"same_as 指向的「{ref}」本身也是 same_as；请直接指向原目标",
                    f"same_as names {ref!r}, itself a same_as; name the original target"))


def _check_top_level(data: dict[str, object], path: Path) -> None:
    """Raise on a top-level table of a plan file other than [plan] and [[targets]]."""
    for name in sorted(set(data) - {"plan", "targets"}):
        hint = suggest(name, ["plan", "targets"])
        shown = f"[[{name}]]" if isinstance(data[name], list) else f"[{name}]"
        raise InputError(str(path), Text(f"{shown} 不是规划文件的已知节", f"{shown} is not a known "
                                         "section of a plan file") + hint,
                         Text("规划文件只有 [plan] 与 [[targets]]",
                              "a plan file holds [plan] and [[targets]] only"), field=name)
    if "targets" in data and not isinstance(data["targets"], list):
        raise InputError(str(path), Text("targets 应写成 [[targets]] 表数组",
                                         "targets must be an array of tables, [[targets]]"),
                         Text("每个目标写一个 [[targets]]", "write one [[targets]] per target"),
                         field="targets")


def load_plan(path: str | Path) -> Plan:
    """Load and validate a plan file.

    Returns
    -------
    Plan
        The plan, targets in file order.

    Raises
    ------
    InputError
        With the file and line of the first problem: TOML syntax, a missing or unknown
        key, an unknown kind, field, status or metric, a duplicate id.
    """
    path = Path(path)
    plans = ", ".join(builtin_plans())
    if not path.is_file():  # a built-in plan's name, even beside a folder of that name
        alt = PLANS_DIR / f"{path.name}" if path.suffix else PLANS_DIR / f"{path.name}.toml"
        path = alt if alt.is_file() else path
    check_input_file(path, not_found=Text("找不到规划文件", "plan file not found"),
                     fix_missing=Text(f"给出规划文件路径，或内置规划名：{plans}",
                                      f"give a plan file, or a built-in plan: {plans}"),
                     fix_empty=Text("规划文件须含 [plan] 与 [[targets]]（见 docs/plan-format.md）",
                                    "a plan file holds [plan] and [[targets]] (see "
                                    "docs/plan-format.md)"))
    warnings: list[Text] = []
    raw, text = read_toml(path, warnings=warnings, fix=Text(
        "规划文件是 TOML 文本（见 docs/plan-format.md）：按提示的行修正",
        "a plan file is TOML text (see docs/plan-format.md): fix it at that line"))
    data, cleaned = _clean(raw)
    assert isinstance(data, dict)  # a TOML document is a table
    warnings += [Text(f"{path.name}：{where}：", f"{path.name}: {where}: ") + note
                 for where, note in cleaned]
    starts, key_lines = table_lines(text)
    _check_top_level(data, path)
    head = data.get("plan")
    if not isinstance(head, dict) or "id" not in head or "name" not in head:
        raise InputError(str(path), Text("缺少 [plan] 表或其 id/name",
                                         "missing [plan] with id and name"))
    unknown = sorted(set(head) - set(PLAN_KEYS))
    if unknown:
        raise InputError(str(path), Text(f"[plan] 有未知键「{unknown[0]}」",
                                         f"[plan] has an unknown key {unknown[0]!r}")
                         + suggest(unknown[0], PLAN_KEYS),
                         Text(f"可用键：{', '.join(PLAN_KEYS)}", f"allowed keys: {', '.join(PLAN_KEYS)}"),
                         field=unknown[0])
    targets: list[Target] = []
    seen: dict[str, int] = {}
    indicators: dict[str, int] = {}
    try:
        found = re.search(r"^\s*period\s*=", text, re.M)
        line = text.count("\n", 0, found.start()) + 1 if found else 0
        period = plan_period(head["period"], line) if "period" in head else (0, 0)
        for i, table in enumerate(data.get("targets", [])):
            start = starts[i] if i < len(starts) else 0
            if not isinstance(table, dict):
                raise PlanLineError(start, Text("每个目标应为 [[targets]] 表",
                                                "each target must be a [[targets]] table"))
            lines = key_lines[i] if i < len(key_lines) else {}
            target = _target(table, lines, start)
            if "period" in head:
                late = year_outside(target.year, period, lines.get("year", start))
                warnings += [Text(f"{path.name}：", f"{path.name}: ") + late] if late else []
            if target.id in seen:
                raise PlanLineError(start, Text(f"目标 id「{target.id}」与第 {seen[target.id]} 行重复",
                                             f"target id {target.id!r} repeats line "
                                             f"{seen[target.id]}"))
            seen[target.id] = start
            key = target.indicator or target.reported
            if key:  # one key for one fact: a repeated fact is written with same_as
                if key in indicators:
                    raise PlanLineError(start, Text(
                        f"指标键「{key}」与第 {indicators[key]} 行重复；同一事项请用 same_as",
                        f"indicator key {key!r} repeats line {indicators[key]}; write a "
                        "repeated item with same_as"))
                indicators[key] = start
            targets.append(target)
        _check_same_as(targets, seen)
    except PlanLineError as exc:
        raise InputError(str(path), Text(f"第 {exc.line} 行：", f"line {exc.line}: ") + exc.problem,
                         Text("参见 docs/plan-format.md", "see docs/plan-format.md")) from exc
    if not targets:
        raise InputError(str(path), Text("没有任何 [[targets]]",
                                         "the plan has no targets"))
    return Plan(
        id=str(head["id"]), name=str(head["name"]), name_en=str(head.get("name_en", head["name"])),
        district=str(head.get("district", "")), document=str(head.get("document", "")),
        source=str(head.get("source", "")), period=period,
        subdistrict_term=str(head.get("subdistrict_term", "办事处")), targets=tuple(targets),
        path=path, warnings=tuple(warnings),
    )


def _clean(value: object, where: str = "") -> tuple[object, list[tuple[str, Text]]]:
    """Return the parsed plan with control characters removed from every text, and notes."""
    if isinstance(value, str):
        text, note = clean_text(value)
        return text, [(where, note)] if note else []
    notes: list[tuple[str, Text]] = []
    if isinstance(value, dict):
        out: dict[str, object] = {}
        for key, item in value.items():
            out[key], found = _clean(item, f"{where}.{key}" if where else key)
            notes += found
        return out, notes
    if isinstance(value, list):
        items = []
        for i, item in enumerate(value, start=1):
            cleaned, found = _clean(item, f"{where}[{i}]")
            items.append(cleaned)
            notes += found
        return items, notes
    return value, notes


def unit_text(unit: str, lang: str = "zh") -> str:
    """Return an indicator unit as appended to a number in ``lang``.

    Chinese (or an unmapped unit) is returned as it is; in English a mapped unit gets its
    ``UNITS_EN`` text, which starts with a space where a word follows the number
    (``f"{12:g}{unit_text('课时', 'en')}"`` gives ``"12 class hours"``).
    """
    if lang == "en":
        return UNITS_EN.get(unit, unit)
    return unit


def builtin_plans() -> list[str]:
    """Return the names of the plans shipped in ``analysis/plans`` (without ``.toml``)."""
    return sorted(p.stem for p in PLANS_DIR.glob("*.toml"))
