"""Plan files: load and validate TOML plans and their targets, naming the line of any error."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from cfplan.layers.errors import InputError
from cfplan.layers.kinds import FACILITY_KINDS, STATUSES, SUBDISTRICT_TYPES, UNIT_TYPES
from cfplan.layers.schema import SCHEMAS

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
_COMMON = {"id", "domain", "item", "title", "wording", "metric", "year", "target", "direction",
           "assumption", "origin"}
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
    def __init__(self, line: int, problem: str) -> None:
        super().__init__(problem)
        self.line = line
        self.problem = problem


def _kinds(value: object, line: int) -> tuple[str, ...]:
    kinds = (value,) if isinstance(value, str) else tuple(value) if isinstance(value, list) else ()
    if not kinds:
        raise _PlanError(line, "kind 应为设施类别或其列表 / kind must be a kind or a list of kinds")
    for k in kinds:
        if k not in FACILITY_KINDS:
            raise _PlanError(line, f"未知设施类别「{k}」 / unknown facility kind {k!r}; "
                                   f"known: {', '.join(FACILITY_KINDS)}")
    return kinds


def _filters(value: object, line: int) -> Filters:
    if value is None:
        return Filters()
    if not isinstance(value, dict):
        raise _PlanError(line, "filters 应为内联表 / filters must be an inline table")
    unknown = set(value) - _FILTER_KEYS
    if unknown:
        raise _PlanError(line, f"未知筛选键 {sorted(unknown)} / unknown filter keys; "
                               f"known: {sorted(_FILTER_KEYS)}")
    statuses = value.get("statuses")
    if statuses is not None:
        bad = [s for s in statuses if s not in STATUSES]
        if bad:
            raise _PlanError(line, f"未知建设状态 {bad} / unknown statuses; known: {list(STATUSES)}")
        statuses = tuple(statuses)
    attribute = value.get("attribute")
    if attribute is not None and attribute not in _FACILITY_FIELDS:
        raise _PlanError(line, f"未知设施字段「{attribute}」 / unknown facility field {attribute!r}")
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
    raise _PlanError(line, f"target 应为数字、[下限, 上限] 或 true，而不是 {value!r} / "
                           "target must be a number, a [low, high] range or true")


def _number(table: dict[str, object], key: str, line: int, *, whole: bool = False) -> float | None:
    """Return ``table[key]`` as a number (``None`` if absent), or raise naming the line."""
    if key not in table:
        return None
    value = table[key]
    ok = isinstance(value, int | float) and not isinstance(value, bool)
    if not ok or (whole and not float(value).is_integer()):
        kind = "整数 / a whole number" if whole else "数字 / a number"
        zh, en = kind.split(" / ")
        raise _PlanError(line, f"{key} 应为{zh}，而不是 {value!r} / {key} must be {en}, not {value!r}")
    return float(value)


def _target(table: dict[str, object], lines: dict[str, int], start: int) -> Target:
    def at(key: str) -> int:
        return lines.get(key, start)

    for key in ("id", "domain", "item", "title", "wording", "metric", "year", "target"):
        if key not in table:
            raise _PlanError(start, f"缺少键 {key} / missing key {key}")
    metric = table["metric"]
    if metric not in METRICS:
        raise _PlanError(at("metric"), f"未知指标类型「{metric}」 / unknown metric; "
                                       f"known: {', '.join(METRICS)}")
    allowed = _COMMON | _PARAMS[metric]
    unknown = set(table) - allowed
    if unknown:
        key = sorted(unknown)[0]
        raise _PlanError(at(key), f"{metric} 不接受键 {sorted(unknown)} / unknown keys for "
                                  f"{metric}; allowed: {sorted(allowed)}")
    missing = _REQUIRED[metric] - set(table)
    if missing:
        raise _PlanError(start, f"{metric} 缺少键 {sorted(missing)} / missing keys")
    if table["domain"] not in DOMAINS:
        raise _PlanError(at("domain"), f"未知领域「{table['domain']}」 / unknown domain; "
                                       f"known: {', '.join(DOMAINS)}")
    direction = table.get("direction", "at_least")
    if direction not in ("at_least", "at_most"):
        raise _PlanError(at("direction"), "direction 应为 at_least 或 at_most")
    target = _number_target(table["target"], at("target"))
    value_type = table.get("value_type", "number")
    if value_type not in ("number", "boolean"):
        raise _PlanError(at("value_type"), "value_type 应为 number 或 boolean")
    if (value_type == "boolean") != isinstance(target, bool):
        raise _PlanError(at("target"), "布尔指标的 target 应为 true，数值指标应为数字 / "
                                       "boolean indicators take target = true; others a number")
    if metric in ("presence_per_unit", "capacity_per_unit", "attribute_share", "accessibility"):
        if direction != "at_least":
            raise _PlanError(at("direction"), f"{metric} 只支持 at_least / {metric} takes "
                                              "direction = at_least only")
        lo = target[0] if isinstance(target, tuple) else target
        if isinstance(lo, bool) or not 0 <= float(lo) <= 1:
            raise _PlanError(at("target"), "份额类目标应在 0–1 之间 / share targets are 0–1")
    unit_level = table.get("unit_level", "unit")
    if unit_level not in ("unit", "subdistrict"):
        raise _PlanError(at("unit_level"), "unit_level 应为 unit 或 subdistrict")
    unit_types = table.get("unit_types")
    if unit_types is not None:
        known = UNIT_TYPES if unit_level == "unit" else SUBDISTRICT_TYPES
        bad = [u for u in unit_types if u not in known]
        if bad:
            raise _PlanError(at("unit_types"), f"未知单元类型 {bad} / unknown unit types; "
                                               f"known: {list(known)}")
        unit_types = tuple(unit_types)
    for key in ("capacity_field", "attribute"):
        if key in table and table[key] not in _FACILITY_FIELDS:
            raise _PlanError(at(key), f"未知设施字段「{table[key]}」 / unknown facility field")
    population = table.get("population", "children" if metric == "accessibility" else "population")
    if population not in ("population", "children"):
        raise _PlanError(at("population"), "population 应为 population 或 children")
    return Target(
        id=str(table["id"]), domain=str(table["domain"]), item=str(table["item"]),
        title=str(table["title"]), wording=str(table["wording"]), metric=str(metric),
        year=int(_number(table, "year", at("year"), whole=True) or 0), target=target,
        direction=direction,
        assumption=str(table.get("assumption", "")), origin=str(table.get("origin", "plan")),
        kinds=_kinds(table["kind"], at("kind")) if "kind" in table else (),
        unit_level=unit_level, unit_types=unit_types,
        filters=_filters(table.get("filters"), at("filters")),
        capacity_field=table.get("capacity_field",
                                 "capacity" if metric == "capacity_per_unit" else None),
        capacity=_number(table, "capacity", at("capacity")),
        per=_number(table, "per", at("per")),
        population=population, attribute=table.get("attribute"),
        radius_m=_number(table, "radius_m", at("radius_m")),
        indicator=table.get("indicator"), unit=str(table.get("unit", "")),
        value_type=value_type, line=start,
    )


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
            raise InputError(str(path), "找不到规划文件 / plan file not found",
                             f"可用内置规划 / built-in plans: {', '.join(builtin_plans())}")
    text = path.read_text(encoding="utf-8")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        found = re.search(r"line (\d+)", str(exc))
        line = getattr(exc, "lineno", None) or (int(found.group(1)) if found else 0)
        raise InputError(str(path), f"第 {line} 行 TOML 语法错误：{exc} / line {line}: TOML "
                         f"syntax error: {exc}") from exc
    starts, key_lines = _table_lines(text)
    head = data.get("plan")
    if not isinstance(head, dict) or "id" not in head or "name" not in head:
        raise InputError(str(path), "缺少 [plan] 表或其 id/name / missing [plan] with id and name")
    targets: list[Target] = []
    seen: dict[str, int] = {}
    indicators: dict[str, int] = {}
    try:
        for i, table in enumerate(data.get("targets", [])):
            start = starts[i] if i < len(starts) else 0
            target = _target(table, key_lines[i] if i < len(key_lines) else {}, start)
            if target.id in seen:
                raise _PlanError(start, f"目标 id「{target.id}」与第 {seen[target.id]} 行重复 / "
                                        "duplicate target id")
            seen[target.id] = start
            if target.indicator:
                if target.indicator in indicators:
                    raise _PlanError(start, f"指标键「{target.indicator}」重复 / duplicate indicator")
                indicators[target.indicator] = start
            targets.append(target)
    except _PlanError as exc:
        zh, _, en = exc.problem.partition(" / ")
        raise InputError(str(path), f"第 {exc.line} 行：{zh} / line {exc.line}: {en or zh}",
                         "参见 docs/plan-format.md / see docs/plan-format.md") from exc
    if not targets:
        raise InputError(str(path), "没有任何 [[targets]] / the plan has no targets")
    period = head.get("period", [0, 0])
    return Plan(
        id=str(head["id"]), name=str(head["name"]), name_en=str(head.get("name_en", head["name"])),
        district=str(head.get("district", "")), document=str(head.get("document", "")),
        source=str(head.get("source", "")), period=(int(period[0]), int(period[1])),
        subdistrict_term=str(head.get("subdistrict_term", "办事处")), targets=tuple(targets),
        path=path,
    )


def builtin_plans() -> list[str]:
    """Return the names of the plans shipped in ``analysis/plans`` (without ``.toml``)."""
    return sorted(p.stem for p in PLANS_DIR.glob("*.toml"))
