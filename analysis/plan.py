"""Plan files: load and validate TOML plans and their targets, naming the line of any error."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from cfplan.layers.errors import InputError
from cfplan.layers.kinds import FACILITY_KINDS, STATUSES, SUBDISTRICT_TYPES, UNIT_TYPES
from cfplan.layers.manifest import suggest
from cfplan.layers.schema import SCHEMAS
from cfplan.layers.text import Text

PLANS_DIR = Path(__file__).parent / "plans"
METRICS = (
    "presence_per_unit", "count", "per_capita", "capacity_per_unit", "attribute_share",
    "accessibility", "indicator",
)
DOMAINS = ("社会政策友好", "公共服务友好", "权利保障友好", "成长空间友好", "发展环境友好")
DOMAINS_EN = {
    "社会政策友好": "Child-friendly social policy",
    "公共服务友好": "Child-friendly public services",
    "权利保障友好": "Child-friendly rights protection",
    "成长空间友好": "Child-friendly spaces for growing up",
    "发展环境友好": "Child-friendly development environment",
}
PLAN_KEYS = ("id", "name", "name_en", "district", "document", "source", "period",
             "subdistrict_term")
_COMMON = {"id", "domain", "item", "title", "wording", "metric", "year", "target", "direction",
           "assumption", "origin", "assumption_en", "title_en", "wording_en"}
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
    "presence_per_unit": {"kind", "unit_level", "unit_types", "filters"},
    "count": {"kind", "filters"},
    "per_capita": {"kind", "filters", "capacity_field", "per", "population"},
    "capacity_per_unit": {"kind", "unit_level", "unit_types", "filters", "capacity_field",
                          "capacity"},
    "attribute_share": {"kind", "filters", "attribute"},
    "accessibility": {"kind", "filters", "radius_m", "population"},
    "indicator": {"indicator", "unit", "value_type"},
}
_REQUIRED: dict[str, set[str]] = {
    "presence_per_unit": {"kind"},
    "count": {"kind"},
    "per_capita": {"kind", "per"},
    "capacity_per_unit": {"kind", "capacity"},
    "attribute_share": {"kind", "attribute"},
    "accessibility": {"kind"},
    "indicator": {"indicator"},
}
_FILTER_KEYS = {"child_friendly", "statuses", "since", "attribute", "equals"}
_FACILITY_FIELDS = {f.name for f in SCHEMAS["facilities"].fields}


@dataclass(frozen=True)
class Filters:
    """Facility filters of a target. ``None`` means "no filter"."""

    child_friendly: bool | None = None
    statuses: tuple[str, ...] | None = None
    since: int | None = None
    attribute: str | None = None
    equals: object = None


@dataclass(frozen=True)
class Target:
    """One checkable target of a plan, with its wording and metric parameters.

    ``target`` is a number, a ``(low, high)`` range or ``True``; shares are 0–1.
    ``title``, ``wording`` and ``assumption`` are Chinese; ``title_en``, ``wording_en`` and
    ``assumption_en`` their English, where the plan file gives one (read both through
    :meth:`text`).
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
    return Filters(value.get("child_friendly"), statuses, value.get("since"), attribute,
                   value.get("equals"))


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


def _target(table: dict[str, object], lines: dict[str, int], start: int) -> Target:
    def at(key: str) -> int:
        return lines.get(key, start)

    for key in ("id", "domain", "item", "title", "wording", "metric", "year", "target"):
        if key not in table:
            raise _PlanError(start, Text(f"缺少键 {key}", f"missing key {key}"))
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
    if direction not in ("at_least", "at_most"):
        raise _PlanError(at("direction"), Text("direction 应为 at_least 或 at_most",
                                               "direction must be at_least or at_most"))
    target = _number_target(table["target"], at("target"))
    value_type = table.get("value_type", "number")
    if value_type not in ("number", "boolean"):
        raise _PlanError(at("value_type"), Text("value_type 应为 number 或 boolean",
                                                "value_type must be number or boolean"))
    if (value_type == "boolean") != isinstance(target, bool):
        raise _PlanError(at("target"), Text("布尔指标的 target 应为 true，数值指标应为数字",
                                            "boolean indicators take target = true; others a "
                                            "number"))
    if metric in ("presence_per_unit", "capacity_per_unit", "attribute_share", "accessibility"):
        if direction != "at_least":
            raise _PlanError(at("direction"), Text(f"{metric} 只支持 at_least",
                                                   f"{metric} takes direction = at_least only"))
        lo = target[0] if isinstance(target, tuple) else target
        if isinstance(lo, bool) or not 0 <= float(lo) <= 1:
            raise _PlanError(at("target"), Text("份额类目标应在 0–1 之间",
                                                "share targets lie between 0 and 1"))
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
        assumption=str(table.get("assumption", "")), origin=str(table.get("origin", "plan")),
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
    )


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
            if target.indicator:
                if target.indicator in indicators:
                    raise _PlanError(start, Text(
                        f"指标键「{target.indicator}」与第 {indicators[target.indicator]} 行重复",
                        f"indicator key {target.indicator!r} repeats line "
                        f"{indicators[target.indicator]}"))
                indicators[target.indicator] = start
            targets.append(target)
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
