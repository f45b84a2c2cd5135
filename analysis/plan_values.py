"""Values in plan files, checked where they are read: types, numbers, years, kinds, filters."""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from cfplan.layers.kinds import FACILITY_KINDS, LEVELS, STATUSES
from cfplan.layers.manifest import suggest
from cfplan.layers.schema import SCHEMAS
from cfplan.layers.text import Text

FILTER_KEYS = {"child_friendly", "statuses", "since", "until", "attribute", "equals", "name",
                "levels", "near_kind", "near_m", "min_area_m2"}
DEFAULT_NEAR_M = 50.0
FACILITY_FIELDS = {f.name for f in SCHEMAS["facilities"].fields}



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


def table_lines(text: str) -> tuple[list[int], list[dict[str, int]]]:
    """Return the line of each ``[[targets]]`` header and of the keys inside each table."""
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


class PlanLineError(Exception):
    """A problem at one line of a plan file (turned into an InputError by ``load_plan``)."""

    def __init__(self, line: int, problem: Text) -> None:
        super().__init__(problem.zh)
        self.line = line
        self.problem = problem


# The type each key of a target takes (``id`` and ``item`` may be written as numbers).
TEXT_KEYS = ("domain", "title", "wording", "metric", "direction", "assumption", "origin",
             "title_en", "wording_en", "assumption_en", "lead", "responsible", "section",
             "unit_level", "capacity_field", "population", "attribute", "indicator", "unit",
             "value_type", "reported", "aggregate", "unit_capacity")
NAME_KEYS = ("id", "item")


def check_types(table: dict[str, object], at: Callable[[str], int]) -> None:
    """Raise at the first key of a target whose value has the wrong type (text, list …)."""
    for key in TEXT_KEYS:
        if key in table and not isinstance(table[key], str):
            raise PlanLineError(at(key), Text(f"{key} 应为文字，而不是 {table[key]!r}",
                                              f"{key} must be text, not {table[key]!r}"))
    for key in NAME_KEYS:
        value = table.get(key)
        if key in table and (isinstance(value, bool) or not isinstance(value, str | int)):
            raise PlanLineError(at(key), Text(f"{key} 应为文字，而不是 {value!r}",
                                              f"{key} must be text, not {value!r}"))
    for key in ("kind", "same_as", "unit_types"):
        value = table.get(key)
        if key in table and not _texts(value, single=key != "unit_types"):
            raise PlanLineError(at(key), Text(f"{key} 应为文字或文字列表，而不是 {value!r}",
                                              f"{key} must be text or a list of text, not "
                                              f"{value!r}"))


def _texts(value: object, *, single: bool = True) -> bool:
    """Whether ``value`` is text (when ``single``) or a list of texts."""
    if isinstance(value, str):
        return single
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


def parse_kinds(value: object, line: int) -> tuple[str, ...]:
    """Return a target's facility kinds (one or a list), or raise naming the line."""
    kinds = (value,) if isinstance(value, str) else tuple(value) if isinstance(value, list) else ()
    if not kinds or not _texts(list(kinds)):
        raise PlanLineError(line, Text("kind 应为设施类别或其列表",
                                       "kind must be a facility kind or a list of kinds"))
    for k in kinds:
        if k not in FACILITY_KINDS:
            raise PlanLineError(line, Text(f"未知设施类别「{k}」；可用类别：{', '.join(FACILITY_KINDS)}",
                                           f"unknown facility kind {k!r}; known: "
                                           f"{', '.join(FACILITY_KINDS)}"))
    return kinds


def parse_filters(value: object, line: int) -> Filters:
    """Return a target's facility filters, or raise naming the line."""
    if value is None:
        return Filters()
    if not isinstance(value, dict):
        raise PlanLineError(line, Text("filters 应为内联表",
                                       "filters must be an inline table"))
    unknown = set(value) - FILTER_KEYS
    if unknown:
        raise PlanLineError(line, Text(f"未知筛选键 {sorted(unknown)}；可用：{sorted(FILTER_KEYS)}",
                                       f"unknown filter keys {sorted(unknown)}; known: "
                                       f"{sorted(FILTER_KEYS)}"))
    statuses = _choices(value.get("statuses"), STATUSES, Text("建设状态", "statuses"), line)
    attribute = value.get("attribute")
    if attribute is not None and (not isinstance(attribute, str)
                                  or attribute not in FACILITY_FIELDS):
        raise PlanLineError(line, Text(f"未知设施字段「{attribute}」",
                                       f"unknown facility field {attribute!r}"))
    levels = _choices(value.get("levels"), LEVELS, Text("级别", "levels"), line)
    if "child_friendly" in value and not isinstance(value["child_friendly"], bool):
        raise PlanLineError(line, Text("child_friendly 应为 true 或 false",
                                       "child_friendly must be true or false"))
    if isinstance(value.get("equals"), dict | list):
        raise PlanLineError(line, Text("equals 应为单个值", "equals must be a single value"))
    near_kind = value.get("near_kind")
    if near_kind is not None:
        near_kind = parse_kinds(near_kind, line)[0]
    since, until = (number(value, key, line, whole=True) for key in ("since", "until"))
    near_m = number(value, "near_m", line)
    min_area = number(value, "min_area_m2", line)
    if "near_m" in value and near_kind is None:
        raise PlanLineError(line, Text("near_m 需要 near_kind", "near_m needs near_kind"))
    name = value.get("name")
    if name is not None and (not isinstance(name, str) or not name.strip()):
        raise PlanLineError(line, Text("name 应为非空文字", "name must be non-empty text"))
    return Filters(
        value.get("child_friendly"), statuses, None if since is None else int(since), attribute,
        value.get("equals"), until=None if until is None else int(until), name=name,
        levels=levels, near_kind=near_kind,
        near_m=(DEFAULT_NEAR_M if near_m is None else near_m) if near_kind else None,
        min_area_m2=min_area)


def _choices(value: object, known: Mapping[str, object], what: Text, line: int
             ) -> tuple[str, ...] | None:
    """Return a filter's list of names (statuses, levels), or raise naming those unknown."""
    if value is None:
        return None
    names = value if isinstance(value, list) and _texts(value, single=False) else None
    bad = [value] if names is None else [v for v in names if v not in known]
    if bad or names is None:
        raise PlanLineError(line, Text(f"未知{what.zh} {bad}；可用：{list(known)}",
                                       f"unknown {what.en} {bad}; known: {list(known)}"))
    return tuple(names)


def number_target(value: object, line: int) -> float | tuple[float, float] | bool:
    """Return a target's figure: a number, a ``(low, high)`` range or ``True``.

    Numbers must be finite and not negative: a target of ``nan``, ``inf`` or ``-1`` is a
    typo that no measure could meet or fail meaningfully.
    """
    if isinstance(value, bool):
        return value
    values = value if isinstance(value, list) and len(value) == 2 else [value]
    if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in values):
        raise PlanLineError(line, Text(f"target 应为数字、[下限, 上限] 或 true，而不是 {value!r}",
                                       "target must be a number, a [low, high] range or true"))
    figures = [_checked(float(v), "target", line) for v in values]  # type: ignore[arg-type]
    if len(figures) == 1:
        return figures[0]
    if figures[0] > figures[1]:
        raise PlanLineError(line, Text(f"target 的下限 {figures[0]:g} 大于上限 {figures[1]:g}",
                                       f"target's low {figures[0]:g} exceeds its high "
                                       f"{figures[1]:g}"))
    return (figures[0], figures[1])


def _checked(value: float, key: str, line: int, *, positive: bool = False) -> float:
    """Return ``value`` if finite and not negative (above zero when ``positive``)."""
    if not math.isfinite(value):
        raise PlanLineError(line, Text(f"{key} 应为有限数字，而不是 {value}",
                                       f"{key} must be a finite number, not {value}"))
    if value < 0 or (positive and value == 0):
        word = Text("应大于 0", "must be above 0") if positive else Text("不能为负", "cannot be negative")
        raise PlanLineError(line, Text(f"{key} {word.zh}（现为 {value:g}）",
                                       f"{key} {word.en} (it is {value:g})"))
    return value


def number(table: dict[str, object], key: str, line: int, *, whole: bool = False,
           positive: bool = False) -> float | None:
    """Return ``table[key]`` as a number (``None`` if absent), or raise naming the line.

    Every number of a plan is a count, a distance, a share, a capacity or a year: it must
    be finite and not negative (above zero with ``positive``), whole with ``whole``.
    """
    if key not in table:
        return None
    value = table[key]
    if (not isinstance(value, int | float) or isinstance(value, bool)
            or (whole and not float(value).is_integer())):
        kind = Text("整数", "a whole number") if whole else Text("数字", "a number")
        raise PlanLineError(line, Text(f"{key} 应为{kind.zh}，而不是 {value!r}",
                                       f"{key} must be {kind.en}, not {value!r}"))
    return _checked(float(value), key, line, positive=positive)


def opt_text(value: object) -> str | None:
    """Return ``value`` as text, or None."""
    return None if value is None else str(value)


def choice(table: dict[str, object], key: str, choices: dict[str, Text], line: int) -> str:
    """Return ``table[key]`` (default: the first choice), or raise naming the choices."""
    value = table.get(key, next(iter(choices)))
    if not isinstance(value, str) or value not in choices:
        zh = " 或 ".join(f"{k}（{v.zh}）" for k, v in choices.items())
        en = " or ".join(f"{k} ({v.en})" for k, v in choices.items())
        raise PlanLineError(line, Text(f"{key} 应为 {zh}，而不是 {value!r}",
                                       f"{key} must be {en}, not {value!r}")
                            + suggest(str(value), list(choices)))
    return value


def plan_period(value: object, line: int) -> tuple[int, int]:
    """Return a plan's ``period = [start, end]`` (whole years, start <= end), or raise."""
    if (not isinstance(value, list) or len(value) != 2
            or not all(isinstance(v, int) and not isinstance(v, bool) for v in value)
            or not 1900 <= value[0] <= value[1] <= 2200):
        raise PlanLineError(line, Text(f"period 应为 [起始年, 结束年]，如 [2023, 2025]，而不是 {value!r}",
                                       "period must be [first year, last year], e.g. [2023, 2025], "
                                       f"not {value!r}"))
    return int(value[0]), int(value[1])


def year_outside(year: int, period: tuple[int, int], line: int) -> Text | None:
    """Return a warning when a target's year lies outside the plan's period, else None."""
    first, last = period
    if first <= year <= last:
        return None
    return Text(f"第 {line} 行：目标年份 {year} 不在规划期 {first}–{last} 内",
                f"line {line}: target year {year} lies outside the plan period {first}–{last}")


__all__ = [
    "DEFAULT_NEAR_M",
    "FACILITY_FIELDS",
    "Filters",
    "PlanLineError",
    "check_types",
    "choice",
    "number",
    "number_target",
    "opt_text",
    "parse_filters",
    "parse_kinds",
    "plan_period",
    "table_lines",
    "year_outside",
]
