"""Plan files: load and validate TOML plans and their targets, naming the line of any error."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from cfplan.layers.errors import InputError
from cfplan.layers.kinds import FACILITY_KINDS, LEVELS, STATUSES, SUBDISTRICT_TYPES, UNIT_TYPES
from cfplan.layers.manifest import suggest
from cfplan.layers.schema import SCHEMAS
from cfplan.layers.text import Text

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
_FILTER_KEYS = {"child_friendly", "statuses", "since", "until", "attribute", "equals", "name",
                "levels", "near_kind", "near_m", "min_area_m2", "built_in_period"}
DEFAULT_NEAR_M = 50.0
_FACILITY_FIELDS = {f.name for f in SCHEMAS["facilities"].fields}


@dataclass(frozen=True)
class Filters:
    """Facility filters of a target. ``None`` means "no filter".

    Attributes
    ----------
    child_friendly
        Only facilities whose child-friendly flag is this.
    statuses
        Only these statuses.
    since, until
        Only facilities whose ``year`` lies in ``[since, until]``.
    attribute, equals
        Only facilities whose field ``attribute`` equals ``equals``.
    name
        Only facilities whose name contains this text (ignoring spaces and full-width forms).
    levels
        Only facilities of these administrative levels (keys of ``layers.kinds.LEVELS``).
    near_kind, near_m
        Only facilities in, or within ``near_m`` metres of, a facility of ``near_kind`` that
        counts in the same scenario (a play facility in or at a park).
    min_area_m2
        Only polygon facilities of at least this area (m², metric CRS); a point has no area.
    built_in_period
        A new-build target ("新建、改扩建、开工建设" in the period): the ``year`` decides.
        A facility dated in ``[since, until]`` counts even when marked existing (现状);
        one marked new or renovated but dated outside does not; ``statuses`` still say
        which stages count (e.g. under construction for "开工"). Where status and year
        disagree, the target says so (:func:`cfplan.analysis.evaluate.status_year_notes`).
    """

    child_friendly: bool | None = None
    statuses: tuple[str, ...] | None = None
    since: int | None = None
    attribute: str | None = None
    equals: object = None
    until: int | None = None
    name: str | None = None
    levels: tuple[str, ...] | None = None
    near_kind: str | None = None
    near_m: float | None = None
    min_area_m2: float | None = None
    built_in_period: bool = False


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

    def target(self, target_id: str) -> Target:
        """Return the target called ``target_id``."""
        for t in self.targets:
            if t.id == target_id:
                return t
        raise KeyError(target_id)


def _table_lines(text: str) -> tuple[list[int], list[dict[str, int]]]:
    """Line numbers of each ``[[targets]]`` header and of the keys inside each table."""
    starts: list[int] = []
    keys: list[dict[str, int]] = []
    header_keys: dict[str, int] = {}
    current: dict[str, int] = header_keys
    key_re = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*=")
    for n, line in enumerate(text.splitlines(), start=1):
        if re.match(r"^\s*\[\[\s*targets\s*\]\]", line):
            starts.append(n)
            current = {}
            keys.append(current)
        elif re.match(r"^\s*\[", line):
            current = header_keys
        else:
            m = key_re.match(line)
            if m:
                current.setdefault(m.group(1), n)
    return starts, keys


class _PlanError(Exception):
    """A problem at one line of a plan file (turned into an InputError by :func:`load_plan`)."""

    def __init__(self, line: int, problem: Text) -> None:
        super().__init__(problem.zh)
        self.line = line
        self.problem = problem


def _kinds(value: object, line: int) -> tuple[str, ...]:
    kinds = (value,) if isinstance(value, str) else tuple(value) if isinstance(value, list) else ()
    if not kinds:
        raise _PlanError(line, Text("kind 应为设施类别或其列表",
                                    "kind must be a facility kind or a list of kinds"))
    for k in kinds:
        if k not in FACILITY_KINDS:
            raise _PlanError(line, Text(f"未知设施类别「{k}」；可用类别：{', '.join(FACILITY_KINDS)}",
                                        f"unknown facility kind {k!r}; known: "
                                        f"{', '.join(FACILITY_KINDS)}"))
    return kinds


def _filters(value: object, line: int) -> Filters:
    if value is None:
        return Filters()
    if not isinstance(value, dict):
        raise _PlanError(line, Text("filters 应为内联表",
                                    "filters must be an inline table"))
    unknown = set(value) - _FILTER_KEYS
    if unknown:
        raise _PlanError(line, Text(f"未知筛选键 {sorted(unknown)}；可用：{sorted(_FILTER_KEYS)}",
                                    f"unknown filter keys {sorted(unknown)}; known: "
                                    f"{sorted(_FILTER_KEYS)}"))
    statuses = value.get("statuses")
    if statuses is not None:
        bad = [s for s in statuses if s not in STATUSES]
        if bad:
            raise _PlanError(line, Text(f"未知建设状态 {bad}；可用：{list(STATUSES)}",
                                        f"unknown statuses {bad}; known: {list(STATUSES)}"))
        statuses = tuple(statuses)
    attribute = value.get("attribute")
    if attribute is not None and attribute not in _FACILITY_FIELDS:
        raise _PlanError(line, Text(f"未知设施字段「{attribute}」",
                                    f"unknown facility field {attribute!r}"))
    levels = value.get("levels")
    if levels is not None:
        bad = [v for v in (levels if isinstance(levels, list) else [levels]) if v not in LEVELS]
        if bad or not isinstance(levels, list):
            raise _PlanError(line, Text(f"未知级别 {bad or levels}；可用：{list(LEVELS)}",
                                        f"unknown levels {bad or levels}; known: {list(LEVELS)}"))
        levels = tuple(levels)
    near_kind = value.get("near_kind")
    if near_kind is not None:
        near_kind = _kinds(near_kind, line)[0]
    for key in ("since", "until"):
        if key in value:
            _number(value, key, line, whole=True)
    for key in ("near_m", "min_area_m2"):
        if key in value and (_number(value, key, line) or 0) < 0:
            raise _PlanError(line, Text(f"{key} 不能为负", f"{key} cannot be negative"))
    if "near_m" in value and near_kind is None:
        raise _PlanError(line, Text("near_m 需要 near_kind", "near_m needs near_kind"))
    name = value.get("name")
    if name is not None and (not isinstance(name, str) or not name.strip()):
        raise _PlanError(line, Text("name 应为非空文字", "name must be non-empty text"))
    by_year = value.get("built_in_period", False)
    if not isinstance(by_year, bool) or (by_year and "since" not in value):
        raise _PlanError(line, Text("built_in_period 应为 true/false，且需要 since（期初年份）",
                                    "built_in_period must be true or false, and needs since "
                                    "(the period's first year)"))
    return Filters(
        value.get("child_friendly"), statuses, value.get("since"), attribute, value.get("equals"),
        until=value.get("until"), name=name, levels=levels, near_kind=near_kind,
        near_m=float(value.get("near_m", DEFAULT_NEAR_M)) if near_kind else None,
        min_area_m2=float(value["min_area_m2"]) if "min_area_m2" in value else None,
        built_in_period=by_year)


def _number_target(value: object, line: int) -> float | tuple[float, float] | bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return float(value)
    if (isinstance(value, list) and len(value) == 2
            and all(isinstance(v, int | float) and not isinstance(v, bool) for v in value)
            and value[0] <= value[1]):
        return (float(value[0]), float(value[1]))
    raise _PlanError(line, Text(f"target 应为数字、[下限, 上限] 或 true，而不是 {value!r}",
                                "target must be a number, a [low, high] range or true"))


def _number(table: dict[str, object], key: str, line: int, *, whole: bool = False) -> float | None:
    """Return ``table[key]`` as a number (``None`` if absent), or raise naming the line."""
    if key not in table:
        return None
    value = table[key]
    if (not isinstance(value, int | float) or isinstance(value, bool)
            or (whole and not float(value).is_integer())):
        kind = Text("整数", "a whole number") if whole else Text("数字", "a number")
        raise _PlanError(line, Text(f"{key} 应为{kind.zh}，而不是 {value!r}",
                                    f"{key} must be {kind.en}, not {value!r}"))
    return float(value)


def _opt_text(value: object) -> str | None:
    return None if value is None else str(value)


def _choice(table: dict[str, object], key: str, choices: dict[str, Text], line: int) -> str:
    """Return ``table[key]`` (default: the first choice), or raise naming the choices."""
    value = table.get(key, next(iter(choices)))
    if value not in choices:
        zh = " 或 ".join(f"{k}（{v.zh}）" for k, v in choices.items())
        en = " or ".join(f"{k} ({v.en})" for k, v in choices.items())
        raise _PlanError(line, Text(f"{key} 应为 {zh}，而不是 {value!r}",
                                    f"{key} must be {en}, not {value!r}")
                         + suggest(str(value), list(choices)))
    return str(value)


def _target(table: dict[str, object], lines: dict[str, int], start: int) -> Target:
    def at(key: str) -> int:
        return lines.get(key, start)

    for key in ("id", "domain", "item", "title", "wording", "metric", "year"):
        if key not in table:
            raise _PlanError(start, Text(f"缺少键 {key}", f"missing key {key}"))
    if "target" not in table and table["metric"] != "same_as":
        raise _PlanError(start, Text("缺少键 target", "missing key target"))
    metric = table["metric"]
    if metric not in METRICS:
        raise _PlanError(at("metric"), Text(f"未知指标类型「{metric}」；可用：{', '.join(METRICS)}",
                                            f"unknown metric {metric!r}; known: "
                                            f"{', '.join(METRICS)}") + suggest(str(metric), METRICS))
    allowed = _COMMON | _PARAMS[metric]
    unknown = set(table) - allowed
    if unknown:
        key = sorted(unknown)[0]
        raise _PlanError(at(key), Text(f"{metric} 不接受键 {sorted(unknown)}；可用：{sorted(allowed)}",
                                       f"unknown keys {sorted(unknown)} for {metric}; allowed: "
                                       f"{sorted(allowed)}") + suggest(key, sorted(allowed)))
    missing = _REQUIRED[metric] - set(table)
    if missing:
        raise _PlanError(start, Text(f"{metric} 缺少键 {sorted(missing)}",
                                     f"{metric} needs the keys {sorted(missing)}"))
    if table["domain"] not in DOMAINS:
        raise _PlanError(at("domain"), Text(f"未知领域「{table['domain']}」；可用：{', '.join(DOMAINS)}",
                                            f"unknown domain {table['domain']!r}; known: "
                                            f"{', '.join(DOMAINS)}"))
    direction = table.get("direction", "at_least")
    if direction not in DIRECTIONS or (direction == "above" and metric != "indicator"):
        raise _PlanError(at("direction"), Text(
            "direction 应为 at_least、at_most 或 above（above 仅用于 indicator）",
            "direction must be at_least, at_most or above (above for indicator only)"))
    origin = table.get("origin", "plan")
    if origin not in ORIGINS:
        raise _PlanError(at("origin"), Text(f"origin 应为 {'、'.join(ORIGINS)} 之一",
                                            f"origin must be one of {', '.join(ORIGINS)}"))
    target = _number_target(table.get("target", True), at("target"))
    value_type = table.get("value_type", "number")
    if value_type not in ("number", "boolean"):
        raise _PlanError(at("value_type"), Text("value_type 应为 number 或 boolean",
                                                "value_type must be number or boolean"))
    if metric != "same_as" and (value_type == "boolean") != isinstance(target, bool):
        raise _PlanError(at("target"), Text("布尔指标的 target 应为 true，数值指标应为数字",
                                            "boolean indicators take target = true; others a "
                                            "number"))
    aggregate = _choice(table, "aggregate", AGGREGATES, at("aggregate"))
    unit_capacity = _choice(table, "unit_capacity", UNIT_CAPACITIES, at("unit_capacity"))
    if metric == "capacity_per_unit":
        if aggregate == "each" and "capacity" not in table:
            raise _PlanError(start, Text("aggregate = each 需要 capacity（每个单元的最低容量）",
                                         "aggregate = each needs capacity (the minimum per "
                                         "unit)"))
        if aggregate == "mean" and "capacity" in table:
            raise _PlanError(at("capacity"), Text(
                "aggregate = mean 的 target 即单元平均容量（如 20），不用 capacity",
                "with aggregate = mean the target is the mean per unit (e.g. 20); drop "
                "capacity"))
    is_share = metric in SHARE_METRICS and not (metric == "capacity_per_unit"
                                                and aggregate == "mean")
    if metric in SHARE_METRICS:
        if direction != "at_least":
            raise _PlanError(at("direction"), Text(f"{metric} 只支持 at_least",
                                                   f"{metric} takes direction = at_least only"))
        lo = target[0] if isinstance(target, tuple) else target
        if isinstance(lo, bool) or (is_share and not 0 <= float(lo) <= 1):
            raise _PlanError(at("target"), Text("份额类目标应在 0–1 之间",
                                                "share targets lie between 0 and 1"))
    reported = table.get("reported")
    if reported is not None and (not isinstance(reported, str) or not _KEY.match(reported)):
        raise _PlanError(at("reported"), Text("reported 应为指标键（a-z、0-9、_）",
                                              "reported must be an indicator key (a-z, 0-9, _)"))
    raw_same = table.get("same_as", [])
    same_as = [raw_same] if isinstance(raw_same, str) else list(raw_same) \
        if isinstance(raw_same, list) else []
    if metric == "same_as" and (not isinstance(same_as, list) or not same_as
                                or not all(isinstance(v, str) for v in same_as)):
        raise _PlanError(at("same_as"), Text("same_as 应为目标 id 或其列表",
                                             "same_as must be a target id or a list of ids"))
    expected = _number(table, "expected_units", at("expected_units"), whole=True)
    baseline_year = _number(table, "baseline_year", at("baseline_year"), whole=True)
    for key in ("lead", "responsible", "section"):
        if key in table and not isinstance(table[key], str):
            raise _PlanError(at(key), Text(f"{key} 应为文字", f"{key} must be text"))
    unit_level = table.get("unit_level", "unit")
    if unit_level not in ("unit", "subdistrict"):
        raise _PlanError(at("unit_level"), Text("unit_level 应为 unit 或 subdistrict",
                                                "unit_level must be unit or subdistrict"))
    raw_types = table.get("unit_types")
    unit_types: tuple[str, ...] | None = None
    if raw_types is not None:
        known = UNIT_TYPES if unit_level == "unit" else SUBDISTRICT_TYPES
        if not isinstance(raw_types, list):
            raise _PlanError(at("unit_types"), Text("unit_types 应为列表",
                                                    "unit_types must be a list"))
        bad = [u for u in raw_types if u not in known]
        if bad:
            raise _PlanError(at("unit_types"), Text(f"未知单元类型 {bad}；可用：{list(known)}",
                                                    f"unknown unit types {bad}; known: "
                                                    f"{list(known)}"))
        unit_types = tuple(str(u) for u in raw_types)
    for key in ("capacity_field", "attribute"):
        if key in table and table[key] not in _FACILITY_FIELDS:
            raise _PlanError(at(key), Text(f"未知设施字段「{table[key]}」",
                                           f"unknown facility field {table[key]!r}"))
    population = table.get("population", "children" if metric == "accessibility" else "population")
    if population not in ("population", "children"):
        raise _PlanError(at("population"), Text("population 应为 population 或 children",
                                                "population must be population or children"))
    return Target(
        id=str(table["id"]), domain=str(table["domain"]), item=str(table["item"]),
        title=str(table["title"]), wording=str(table["wording"]), metric=str(metric),
        year=int(_number(table, "year", at("year"), whole=True) or 0), target=target,
        direction=direction,
        assumption=str(table.get("assumption", "")), origin=str(origin),
        title_en=str(table.get("title_en", "")), wording_en=str(table.get("wording_en", "")),
        assumption_en=str(table.get("assumption_en", "")),
        kinds=_kinds(table["kind"], at("kind")) if "kind" in table else (),
        unit_level=unit_level, unit_types=unit_types,
        filters=_filters(table.get("filters"), at("filters")),
        capacity_field=_opt_text(table.get(
            "capacity_field", "capacity" if metric == "capacity_per_unit" else None)),
        capacity=_number(table, "capacity", at("capacity")),
        per=_number(table, "per", at("per")),
        population=str(population), attribute=_opt_text(table.get("attribute")),
        radius_m=_number(table, "radius_m", at("radius_m")),
        indicator=_opt_text(table.get("indicator")), unit=str(table.get("unit", "")),
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
                raise _PlanError(lines[t.id], Text(f"same_as 指向不存在的目标「{ref}」",
                                                   f"same_as names no target {ref!r}") + known)
            if kinds[ref] == "same_as":
                raise _PlanError(lines[t.id], Text(
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
    if not path.is_file():
        alt = PLANS_DIR / f"{path.name}" if path.suffix else PLANS_DIR / f"{path.name}.toml"
        if alt.is_file():
            path = alt
        else:
            plans = ", ".join(builtin_plans())
            raise InputError(str(path), Text("找不到规划文件", "plan file not found"),
                             Text(f"给出规划文件路径，或内置规划名：{plans}",
                                  f"give a plan file, or a built-in plan: {plans}"))
    text = path.read_text(encoding="utf-8")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        found = re.search(r"line (\d+)", str(exc))
        line = getattr(exc, "lineno", None) or (int(found.group(1)) if found else 0)
        raise InputError(str(path), Text(f"第 {line} 行 TOML 语法错误：{exc}",
                                         f"line {line}: TOML syntax error: {exc}")) from exc
    starts, key_lines = _table_lines(text)
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
        for i, table in enumerate(data.get("targets", [])):
            start = starts[i] if i < len(starts) else 0
            target = _target(table, key_lines[i] if i < len(key_lines) else {}, start)
            if target.id in seen:
                raise _PlanError(start, Text(f"目标 id「{target.id}」与第 {seen[target.id]} 行重复",
                                             f"target id {target.id!r} repeats line "
                                             f"{seen[target.id]}"))
            seen[target.id] = start
            key = target.indicator or target.reported
            if key:  # one key for one fact: a repeated fact is written with same_as
                if key in indicators:
                    raise _PlanError(start, Text(
                        f"指标键「{key}」与第 {indicators[key]} 行重复；同一事项请用 same_as",
                        f"indicator key {key!r} repeats line {indicators[key]}; write a "
                        "repeated item with same_as"))
                indicators[key] = start
            targets.append(target)
        _check_same_as(targets, seen)
    except _PlanError as exc:
        raise InputError(str(path), Text(f"第 {exc.line} 行：", f"line {exc.line}: ") + exc.problem,
                         Text("参见 docs/plan-format.md", "see docs/plan-format.md")) from exc
    if not targets:
        raise InputError(str(path), Text("没有任何 [[targets]]",
                                         "the plan has no targets"))
    period = head.get("period", [0, 0])
    return Plan(
        id=str(head["id"]), name=str(head["name"]), name_en=str(head.get("name_en", head["name"])),
        district=str(head.get("district", "")), document=str(head.get("document", "")),
        source=str(head.get("source", "")), period=(int(period[0]), int(period[1])),
        subdistrict_term=str(head.get("subdistrict_term", "办事处")), targets=tuple(targets),
        path=path,
    )


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
