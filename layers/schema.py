"""Layer schemas: required fields, types and Chinese aliases, and value parsing."""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass

from cfplan.layers.kinds import facility_kind_key, status_key, subdistrict_type_key, unit_type_key
from cfplan.layers.text import Text


@dataclass(frozen=True)
class Field:
    """One field of a layer schema.

    Attributes
    ----------
    name
        Canonical English field name in normalised layers.
    type
        ``str``, ``int``, ``float``, ``bool``, ``kind``, ``status``, ``unit_type``,
        ``subdistrict_type`` or ``works``.
    required
        Whether a feature without a value is rejected.
    aliases
        Chinese and English field names accepted in input files.
    """

    name: str
    type: str
    required: bool = False
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class LayerSchema:
    """The schema of one layer kind."""

    layer: str
    zh: str
    geometry: tuple[str, ...]
    fields: tuple[Field, ...]
    id_field: str | None

    def field(self, name: str) -> Field:
        """Return the field called ``name``."""
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(name)


_POLY = ("Polygon", "MultiPolygon")
_LINE = ("LineString", "MultiLineString")

SCHEMAS: dict[str, LayerSchema] = {
    s.layer: s
    for s in (
        LayerSchema(
            "district", "区界", _POLY,
            (
                Field("name", "str", aliases=("名称", "区名", "NAME", "name_zh")),
                Field("code", "str", aliases=("编码", "代码", "行政区划代码", "CODE")),
            ),
            None,
        ),
        LayerSchema(
            "subdistricts", "办事处/镇", _POLY,
            (
                Field("code", "str", True, ("编码", "代码", "办事处编码", "街道编码", "CODE", "id")),
                Field("name", "str", True, ("名称", "办事处", "街道", "镇", "NAME")),
                Field("subdistrict_type", "subdistrict_type", False, ("类型", "TYPE", "type")),
            ),
            "code",
        ),
        LayerSchema(
            "units", "社区/村", _POLY,
            (
                Field("code", "str", True, ("编码", "代码", "社区编码", "村编码", "CODE", "id")),
                Field("name", "str", True, ("名称", "社区", "村", "社区名称", "NAME")),
                Field("unit_type", "unit_type", True, ("类型", "社区类型", "TYPE", "type")),
                Field("subdistrict", "str", False, ("所属办事处", "办事处编码", "街道编码", "所属镇")),
                Field("population", "float", True, ("人口", "常住人口", "总人口", "pop", "POP")),
                Field("children", "float", False, ("儿童人口", "儿童", "0-17岁人口", "children_pop")),
            ),
            "code",
        ),
        LayerSchema(
            "facilities", "设施", ("Point", "MultiPoint", *_POLY),
            (
                Field("fid", "str", False, ("编号", "设施编号", "id", "ID")),
                Field("name", "str", True, ("名称", "设施名称", "NAME")),
                Field("kind", "kind", True, ("类别", "设施类别", "种类", "KIND")),
                Field("status", "status", False, ("状态", "建设状态", "STATUS")),
                Field("works", "status", False, ("建设方式", "工程类型")),
                Field("year", "int", False, ("年份", "建成年份", "年度", "YEAR")),
                Field("child_friendly", "bool", False, ("儿童友好", "是否儿童友好")),
                Field("capacity", "float", False, ("托位", "托位数", "容量", "学位", "CAPACITY")),
                Field("unit_code", "str", False, ("社区编码", "所属社区", "村编码", "所属村")),
                Field("level", "str", False, ("级别", "层级")),
                Field("child_toilet", "bool", False, ("适儿化卫生间", "儿童厕位", "适儿化改造")),
                Field("safe_campus", "bool", False, ("平安校园",)),
                Field("counselling_room", "bool", False,
                      ("心理辅导室", "心理咨询室", "心理辅导（咨询）室", "心理辅导(咨询)室")),
            ),
            "fid",
        ),
        LayerSchema(
            "candidates", "候选地块/候选点", ("Point", "MultiPoint", *_POLY),
            (
                Field("fid", "str", False, ("编号", "地块编号", "候选编号", "id", "ID")),
                Field("name", "str", False, ("名称", "地块名称", "NAME")),
                Field("kind", "kind", False, ("类别", "设施类别", "拟建类别", "KIND")),
                Field("capacity", "float", False, ("托位", "托位数", "容量", "学位", "CAPACITY")),
            ),
            "fid",
        ),
        LayerSchema(
            "entrances", "公园出入口", ("Point",),
            (Field("facility", "str", True, ("设施编号", "公园编号", "所属设施")),),
            None,
        ),
        LayerSchema(
            "buildings", "建筑", _POLY,
            (Field("floors", "float", False, ("层数", "楼层", "FLOORS")),),
            None,
        ),
        LayerSchema(
            "school_routes", "上下学路径", _LINE,
            (
                Field("route_id", "str", False, ("编号", "路线编号")),
                Field("school", "str", False, ("学校", "学校编号")),
                Field("unit_code", "str", False, ("社区编码", "所属社区")),
                Field("name", "str", False, ("名称",)),
            ),
            "route_id",
        ),
        LayerSchema(
            "school_districts", "学区", _POLY,
            (
                Field("school", "str", True, ("学校编号", "学校", "学校编码", "所属学校")),
                Field("name", "str", False, ("名称", "学区名称")),
            ),
            None,
        ),
        LayerSchema(
            "gates", "校门", ("Point",),
            (
                Field("school", "str", True, ("学校编号", "学校", "学校编码", "所属学校")),
                Field("name", "str", False, ("名称", "校门名称")),
            ),
            None,
        ),
    )
}

_TRUE = {"1", "true", "yes", "y", "t", "是", "有", "对", "√", "✓"}
_FALSE = {"0", "false", "no", "n", "f", "否", "无", "不是", "×", "✗"}
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
MAX_EXACT_INT = 2**53  # whole numbers beyond this are not exact as floats
# No count, capacity, population or coordinate comes near this; sums of a million such
# values stay finite, so a 1e308 in a cell cannot overflow a total.
MAX_NUMBER = 1e15
_UNIT_SUFFIX = re.compile(r"(人|个|名|位|所|处|块|户|口|万人|千人|张|间|座|m²|㎡|平方米|平米)$")


class ValueProblem(ValueError):  # noqa: N818 (public name used across the package)
    """A value that cannot be parsed as its field's type; ``text`` says why in both languages."""

    def __init__(self, text: Text) -> None:
        super().__init__(text.zh)
        self.text = text


def is_missing(value: object) -> bool:
    """Return True for None, NaN and blank strings."""
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    try:
        import pandas as pd

        if value is pd.NA or value is pd.NaT:
            return True
    except ImportError:  # pragma: no cover
        pass
    return isinstance(value, str) and not value.strip()


def parse_number(value: object, *, limit: float = MAX_NUMBER) -> tuple[float, bool]:
    """Parse a number written the way Chinese tables write it.

    Full-width digits (１２３), thousands separators (1,234 / 1，234), a trailing unit
    (人, 个, 托位 …) and 万 (×10,000) are accepted. Numbers beyond ``limit`` in size are
    refused: no real count comes near :data:`MAX_NUMBER`, and totals of such values could
    overflow.

    Returns
    -------
    tuple
        The value, and whether it had to be normalised (a repair worth recording).

    Raises
    ------
    ValueProblem
        If the text is not a number.
    """
    if isinstance(value, bool):
        raise ValueProblem(Text("布尔值不是数字",
                                "a boolean is not a number"))
    if isinstance(value, int | float) and not isinstance(value, bool):
        try:
            f = float(value)
        except OverflowError:  # an integer beyond any float
            f = math.inf
        if math.isnan(f) or math.isinf(f):
            raise ValueProblem(Text("不是有限数值",
                                    "not a finite number"))
        if abs(f) > limit:
            raise ValueProblem(Text(f"数值 {f:g} 超出范围（绝对值应不超过 {limit:g}）",
                                    f"{f:g} is out of range (at most {limit:g} in size)"))
        return f, False
    text = str(value).strip()
    norm = unicodedata.normalize("NFKC", text).replace(",", "").replace("，", "").replace(" ", "")
    scale = 1.0
    norm = _UNIT_SUFFIX.sub("", norm)
    if norm.endswith("万"):
        norm, scale = norm[:-1], 10000.0
    norm = _UNIT_SUFFIX.sub("", norm)
    if not _NUMBER.match(norm):
        raise ValueProblem(Text(f"「{text}」不是数字",
                                f"'{text}' is not a number"))
    f = float(norm) * scale
    if not math.isfinite(f) or abs(f) > limit:
        raise ValueProblem(Text(f"「{text}」超出数值范围",
                                f"'{text}' is out of range"))
    return f, norm != text or scale != 1.0


def parse_bool(value: object) -> bool:
    """Parse 是/否, yes/no, 1/0, true/false.

    Raises
    ------
    ValueProblem
        If the value is none of those.
    """
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float) and value in (0, 1):
        return bool(value)
    text = unicodedata.normalize("NFKC", str(value)).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValueProblem(Text(f"「{value}」不是 是/否",
                            f"'{value}' is not yes/no"))


def parse_value(value: object, type_: str) -> tuple[object, bool]:
    """Parse ``value`` as a field of type ``type_``.

    Returns
    -------
    tuple
        The parsed value and whether it was normalised (repaired).

    Raises
    ------
    ValueProblem
        If the value cannot be parsed; the message says what is wrong.
    """
    if type_ == "str":
        if isinstance(value, float) and value.is_integer():
            return str(int(value)), False
        return str(value).strip(), False
    if type_ in ("float", "int"):
        number, repaired = parse_number(value, limit=math.inf if type_ == "int" else MAX_NUMBER)
        if type_ == "int":
            if not number.is_integer():
                raise ValueProblem(Text(f"「{value}」不是整数",
                                        f"'{value}' is not a whole number"))
            if abs(number) > MAX_EXACT_INT:
                raise ValueProblem(Text(f"「{value}」超出整数范围",
                                        f"'{value}' is out of the integer range"))
            return int(number), repaired
        return number, repaired
    if type_ == "bool":
        return parse_bool(value), False
    lookups = {
        "kind": (facility_kind_key, "未知设施类别", "unknown facility kind"),
        "status": (status_key, "未知建设状态", "unknown status"),
        "works": (status_key, "未知建设方式", "unknown works type"),
        "unit_type": (unit_type_key, "未知社区类型（应为 社区 或 村）",
                      "unknown unit type (use community or village)"),
        "subdistrict_type": (subdistrict_type_key, "未知类型（应为 办事处 或 镇）",
                             "unknown subdistrict type (use office or town)"),
    }
    func, zh, en = lookups[type_]
    key = func(value)
    if key is None:
        raise ValueProblem(Text(f"{zh}「{value}」",
                                f"{en} {value!r}"))
    return key, False


def match_columns(columns: list[str], schema: LayerSchema) -> dict[str, str]:
    """Map input column names to canonical field names by name or alias.

    Matching ignores case, surrounding spaces and full-width forms. The first input
    column that matches a field wins; later ones are left as they are.

    Returns
    -------
    dict
        ``{input column: canonical field}`` for the matched columns.
    """
    index: dict[str, str] = {}
    for f in schema.fields:
        for name in (f.name, *f.aliases):
            index.setdefault(unicodedata.normalize("NFKC", name).strip().lower(), f.name)
    mapping: dict[str, str] = {}
    taken: set[str] = set()
    for col in columns:
        key = unicodedata.normalize("NFKC", str(col)).strip().lower()
        target = index.get(key)
        if target and target not in taken:
            mapping[col] = target
            taken.add(target)
    return mapping
