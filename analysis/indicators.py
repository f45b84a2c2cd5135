"""Indicator values reported by the bureau: the fill-in template and reading it back."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd

from cfplan.analysis.plan import Plan, Target, unit_text
from cfplan.geo.io import output_path, write_csv, write_xlsx
from cfplan.layers.encoding import csv_table
from cfplan.layers.errors import InputError
from cfplan.layers.files import check_input_file, read_text
from cfplan.layers.kinds import (
    FACILITY_KINDS,
    LEVELS,
    STATUSES,
    SUBDISTRICT_TYPES,
    UNIT_TYPES,
    life_circle,
    measure_word,
)
from cfplan.layers.schema import ValueProblem, parse_bool, parse_number
from cfplan.layers.text import Text, clean_text
from cfplan.layers.xlsx import read_sheet

_FILL_TEMPLATE = Text("用 cfplan template 生成模板，填写 value 列",
                      "make the template with cfplan template and fill in its value column")
TEMPLATE_COLUMNS = ("plan", "id", "indicator", "domain", "item", "wording", "target", "unit",
                    "direction", "value", "year", "source", "note")


# What a facility attribute of an ``attribute_share`` target means, as the row says it.
ATTRIBUTE_TEXT: dict[str, tuple[str, str]] = {
    "child_toilet": ("卫生间、洗手池完成适儿化改造", "with child-sized toilets and basins"),
    "safe_campus": ("达到平安校园标准", "meeting the safe-campus standard"),
    "counselling_room": ("设置心理辅导（咨询）室", "with a counselling room"),
}


def _number_text(v: float, t: Target) -> str:
    return f"{v * 100:g}%" if t.is_share else f"{v:g}"


def _bound(t: Target, *, share: bool) -> str:
    """Return the figure of a target with its direction: ``≥ 7``, ``2–3``, ``≤ 2.5``, ``100%``."""
    def fmt(v: float) -> str:
        return f"{v * 100:g}%" if share else f"{v:g}"

    if isinstance(t.target, tuple):
        return f"{fmt(t.target[0])}–{fmt(t.target[1])}"
    sign = {"at_most": "≤ ", "above": "> "}.get(t.direction, "" if share else "≥ ")
    return sign + fmt(float(t.target))


def _lower(word: str) -> str:
    return word[:1].lower() + word[1:]


def _kinds_words(t: Target, lang: str, *, plural: bool = True) -> str:
    if not t.kinds:
        return ""
    if lang == "zh":
        return "、".join(FACILITY_KINDS[k].zh for k in t.kinds)
    words = [_lower(FACILITY_KINDS[k].plural() if plural else FACILITY_KINDS[k].en)
             for k in t.kinds]
    return ", ".join(words[:-1]) + f" or {words[-1]}" if len(words) > 1 else words[0]


def _kind_phrase(t: Target, lang: str, *, plural: bool = True) -> str:
    """Return the facilities a target counts, with its filters: ``儿童友好幼儿园（2023 年以来新建）``."""
    f = t.filters
    zh = lang == "zh"
    pre, post = [], []
    if f.levels:
        pre.append(("/".join(LEVELS[v][0] for v in f.levels)) if zh
                   else "/".join(LEVELS[v][1] for v in f.levels))
    if f.child_friendly:
        pre.append("儿童友好" if zh else "child-friendly")
    elif f.child_friendly is False:
        pre.append("非儿童友好" if zh else "not child-friendly")
    if f.name:
        pre.insert(0, f"名为「{f.name}」的" if zh else "")
    when = []
    if f.statuses:
        when.append(("或".join(STATUSES[v][0] for v in f.statuses)) if zh
                    else " or ".join(STATUSES[v][1].lower() for v in f.statuses))
    if f.since is not None and f.until is not None:
        when.insert(0, f"{f.since}–{f.until} 年" if zh else f"{f.since}–{f.until}")
    elif f.since is not None:
        when.insert(0, f"{f.since} 年以来" if zh else f"since {f.since}")
    elif f.until is not None:
        when.insert(0, f"{f.until} 年及以前" if zh else f"by {f.until}")
    if when:
        post.append("".join(when) if zh else ", ".join(when))
    if f.near_kind:
        near = FACILITY_KINDS[f.near_kind]
        post.append(f"位于{near.zh}内或 {f.near_m:g} m 内" if zh
                    else f"in or within {f.near_m:g} m of a {near.en.lower()}")
    if f.min_area_m2 is not None:
        area = f"{f.min_area_m2 / 10000:g} ha" if f.min_area_m2 >= 10000 else f"{f.min_area_m2:g} m²"
        post.append(f"面积 ≥ {area}" if zh else f"of at least {area}")
    if f.attribute:
        post.append(f"{f.attribute} = {f.equals}")
    kinds = _kinds_words(t, lang, plural=plural)
    if zh:
        text = "".join(pre) + kinds
        return text + (f"（{'，'.join(post)}）" if post else "")
    if f.name:
        post.insert(0, f"named {f.name}")
    text = " ".join([p for p in pre if p] + [kinds])
    return text + (f" ({'; '.join(post)})" if post else "")


def _units_word(t: Target, lang: str, term: str | None = None, *, singular: bool = False) -> str:
    table = SUBDISTRICT_TYPES if t.unit_level == "subdistrict" else UNIT_TYPES
    types = t.unit_types or tuple(table)
    if lang == "zh":
        if t.unit_level == "subdistrict" and not t.unit_types and term:
            return term
        return "/".join(table[k][0] for k in types)
    plural = {"Urban community": "urban communities", "Village": "villages",
              "Subdistrict office": "subdistrict offices", "Town": "towns"}
    return "/".join(table[k][1].lower() if singular else plural[table[k][1]] for k in types)


def target_text(t: Target, *, lang: str = "zh", term: str | None = None) -> str:
    """Return a target as a short phrase that says what it counts.

    ``≥ 7 所儿童友好幼儿园``, ``100% 村/社区有儿童之家``, ``≥ 6 托位/千人``,
    ``≤ 2.5‰``, ``是``; in English with ``lang = "en"``. ``term`` is the plan's word for
    the level above 社区/村 (``办事处``, ``镇（办）``), used for per-subdistrict targets.
    """
    zh = lang == "zh"
    if t.metric == "same_as":
        ids = "、".join(t.same_as) if zh else ", ".join(t.same_as)
        return f"同第 {ids} 项" if zh else f"as item {ids}"
    if t.metric == "indicator":
        if isinstance(t.target, bool):
            return ("是" if t.target else "否") if zh else ("yes" if t.target else "no")
        unit = unit_text(t.unit, lang)
        text = _bound(t, share=False) + unit
        if isinstance(t.target, tuple):
            text = f"{t.target[0]:g}–{t.target[1]:g}{unit}"
        if t.baseline_year:
            text += f"（{t.baseline_year} 年基线）" if zh else f" ({t.baseline_year} baseline)"
        return text
    what = _kind_phrase(t, lang)
    one = _kind_phrase(t, lang, plural=False)
    if t.metric == "count":
        measure = measure_word(t.kinds) if zh else ""
        if not zh and t.target == 1.0 and t.direction == "at_least":
            what = one
        return f"{_bound(t, share=False)} {measure}{what}"
    if t.metric == "presence_per_unit":
        units = _units_word(t, lang, term)
        return (f"{_bound(t, share=True)} {units}有{what}" if zh
                else f"{_bound(t, share=True)} of {units} with a {one}")
    if t.metric == "capacity_per_unit":
        units = _units_word(t, lang, term)
        if t.aggregate == "mean":
            single = _units_word(t, lang, term, singular=True)
            return (f"平均每个{units} {_bound(t, share=False)} 托位" if zh
                    else f"{_bound(t, share=False)} places per {single} on average")
        if t.unit_capacity == "largest":
            return (f"{_bound(t, share=True)} {units}有不少于 {t.capacity:g} 托位的{what}" if zh
                    else f"{_bound(t, share=True)} of {units} with a {one} of at least "
                    f"{t.capacity:g} places")
        return (f"{_bound(t, share=True)} {units}{what}托位合计 ≥ {t.capacity:g}" if zh
                else f"{_bound(t, share=True)} of {units} with ≥ {t.capacity:g} places in "
                f"{what}")
    if t.metric == "per_capita":
        per_zh = f"{t.per / 1000:g}千人" if t.per and t.per < 10000 else f"{(t.per or 0) / 10000:g}万人"
        per_zh = per_zh.replace("1千人", "千人").replace("1万人", "万人") if per_zh[0] == "1" and per_zh[1] in "千万" else per_zh
        who_en = "children" if t.population == "children" else "residents"
        if t.capacity_field == "capacity":
            return (f"{_bound(t, share=False)} 托位/{per_zh}" if zh
                    else f"{_bound(t, share=False)} places per {t.per:,.0f} {who_en}")
        measure = measure_word(t.kinds)
        return (f"{_bound(t, share=False)} {measure}{what}/{per_zh}" if zh
                else f"{_bound(t, share=False)} {what} per {t.per:,.0f} {who_en}")
    if t.metric == "attribute_share":
        zh_attr, en_attr = ATTRIBUTE_TEXT.get(t.attribute or "", (t.attribute, t.attribute))
        return (f"{_bound(t, share=True)} {what}{zh_attr}" if zh
                else f"{_bound(t, share=True)} of {what} {en_attr}")
    if t.metric == "accessibility":
        radius = t.radius_m
        who = ("儿童" if t.population == "children" else "居民") if zh else (
            "children" if t.population == "children" else "residents")
        if radius is None:
            return (f"{_bound(t, share=True)} {who}步行可达{what}" if zh
                    else f"{_bound(t, share=True)} of {who} within walking reach of a {one}")
        circle = life_circle(radius)
        walk_zh = f"{radius:g} m（{circle} 分钟生活圈）" if circle else f"{radius:g} m"
        walk_en = f"{radius:g} m ({circle}-minute circle)" if circle else f"{radius:g} m"
        return (f"{_bound(t, share=True)} {who}步行 {walk_zh}内有{what}" if zh
                else f"{_bound(t, share=True)} of {who} within a {walk_en} walk of a {one}")
    if t.metric == "route_safety":
        return (f"{_bound(t, share=True)} {what}的最短上学路线无无信号过街、无缺失人行道、"
                "周边道路限速 ≤ 30 km/h" if zh
                else f"{_bound(t, share=True)} of {what} whose shortest route to school has no "
                "unsignalised crossing, no missing sidewalk and no road above 30 km/h nearby")
    return _bound(t, share=t.is_share)


def indicator_template(plan: Plan) -> pd.DataFrame:
    """Return the fill-in table of every reported value ``plan`` reads.

    One row per indicator target, then (in plan order among them) one per spatial target
    with a ``reported`` key: a value the bureau may report for a target the layers decide,
    which the report checks against the layers (``核对`` in ``direction``).

    Returns
    -------
    pandas.DataFrame
        Columns :data:`TEMPLATE_COLUMNS`; ``value``, ``year``, ``source`` and ``note``
        are empty for the bureau to fill in. ``value`` takes a number (units as in
        ``unit``) or 是/否 for yes/no targets.
    """
    rows = []
    for t in plan.targets:
        if t.metric != "indicator" and not t.reported:
            continue
        checked = t.metric != "indicator"
        rows.append({
            "plan": plan.id, "id": t.id, "indicator": t.indicator or t.reported,
            "domain": t.domain, "item": t.item, "wording": t.wording,
            "target": target_text(t, term=plan.subdistrict_term),
            "unit": "是/否" if t.value_type == "boolean" or checked else t.unit,
            "direction": "核对（图层判定）" if checked else (
                "" if t.value_type == "boolean" else t.direction),
            "value": "", "year": "", "source": "", "note": "",
        })
    return pd.DataFrame(rows, columns=list(TEMPLATE_COLUMNS))


def write_template(plan: Plan, out: str | Path) -> list[Path]:
    """Write ``indicators_<plan>.csv`` and ``.xlsx`` into ``out``.

    The plan's id becomes part of a safe file name (:func:`cfplan.geo.io.safe_name`): an
    id such as ``x/../../escaped`` cannot lead outside ``out``.

    Returns
    -------
    list of pathlib.Path
        The two files written.
    """
    table = indicator_template(plan)
    csv = write_csv(table, output_path(out, f"indicators_{plan.id}.csv"))
    xlsx = write_xlsx({"indicators": table}, output_path(out, f"indicators_{plan.id}.xlsx"))
    return [csv, xlsx]


def read_indicators(path: str | Path | None, *, warnings: list[Text] | None = None
                    ) -> pd.DataFrame | None:
    """Read an indicators CSV or XLSX (columns ``plan, id, indicator, value, …``).

    A CSV may be UTF-8 (with or without a byte-order mark, as Excel saves "CSV UTF-8"),
    UTF-16 (Excel's "Unicode text", tab-separated) or GBK (Excel's plain "CSV" on Chinese
    Windows, read with a warning). An XLSX is read from its only sheet with data, or the
    sheet called ``indicators``; formula cells as the values Excel stored.

    Parameters
    ----------
    path
        The file, or ``None``.
    warnings
        Receives what reading warns of: GBK text, formula cells without a stored value
        (read as not reported), control characters removed.

    Returns
    -------
    pandas.DataFrame or None
        The table with text columns (missing cells ``""``), or ``None`` when no path is
        given.

    Raises
    ------
    layers.errors.InputError
        Naming the file: missing, empty, not text or not a workbook, a row with more
        values than the header has columns, no ``value`` column or neither ``id`` nor
        ``indicator``.
    """
    if path is None:
        return None
    warnings = [] if warnings is None else warnings
    p = check_input_file(path, not_found=Text("找不到指标填报表", "indicators file not found"),
                         fix_missing=Text("用 cfplan template 生成后填写，或检查路径",
                                          "make one with cfplan template, or check the path"),
                         fix_empty=_FILL_TEMPLATE)
    name = p.name
    if p.suffix.lower() in (".xlsx", ".xls"):
        sheet = read_sheet(p, prefer="indicators")
        df = sheet.table
        for pos, (column, problem) in sheet.problems.items():
            warnings.append(Text(f"{name} 第 {pos + 2} 行：", f"{name}, line {pos + 2}: ")
                            + problem + Text("；按未填报处理", "; read as not reported"))
            df.iloc[pos, list(df.columns).index(column)] = None
    else:
        df, long = csv_table(read_text(p, warnings=warnings, hint=Text(
            "；另存为 UTF-8 可免此警告", "; save it as UTF-8 to silence this")))
        if long:
            pos, cells = next(iter(long.items()))
            raise InputError(str(p), Text(f"第 {pos + 2} 行有 {cells} 个值，表头只有 {len(df.columns)} 列",
                                          f"line {pos + 2} holds {cells} values for "
                                          f"{len(df.columns)} columns"),
                             Text("删去多余的逗号，或给含逗号的文字加引号",
                                  "remove the stray comma, or quote text that holds a comma"))
    columns = [str(c).strip() for c in df.columns]
    df.columns = columns
    if "value" not in columns or not {"id", "indicator"} & set(columns):
        raise InputError(str(p), Text(f"缺少 value 列或 id/indicator 列（现有列：{', '.join(columns) or '无'}）",
                                      "needs a value column and an id or indicator column "
                                      f"(columns: {', '.join(columns) or 'none'})"),
                         _FILL_TEMPLATE)
    for col in ("plan", "id", "indicator", "value"):
        if col not in df.columns:
            df[col] = ""
    df = df.fillna("").astype(str)
    for col in df.columns:
        for pos, value in enumerate(df[col]):
            text, note = clean_text(value)
            if note is not None:
                df.iloc[pos, list(df.columns).index(col)] = text
                warnings.append(Text(f"{name} 第 {pos + 2} 行「{col}」：",
                                     f"{name}, line {pos + 2}, {col}: ") + note)
    df.attrs["file"] = name
    return df


def check_indicators(plan: Plan, table: pd.DataFrame | None) -> list[Text]:
    """Return what in an indicators table ``plan`` cannot use, one warning per row.

    A row for this plan (or for no plan) whose ``id`` and ``indicator`` name none of the
    plan's reported values, and a value that cannot be read for its target (not a number,
    not 是/否) would otherwise count as "not reported" without a word.
    """
    if table is None or table.empty:
        return []
    by_id = {t.id: t for t in plan.targets if t.metric == "indicator" or t.reported}
    by_key = {(t.indicator or t.reported): t for t in by_id.values()}
    out: list[Text] = []
    name = table.attrs.get("file", "indicators")
    for pos, row in enumerate(table.itertuples(index=False), start=2):
        if str(row.plan).strip() not in ("", plan.id):
            continue
        target = by_id.get(str(row.id).strip()) or by_key.get(str(row.indicator).strip())
        where = Text(f"{name} 第 {pos} 行：", f"{name}, line {pos}: ")
        if target is None:
            shown = str(row.id).strip() or str(row.indicator).strip()
            if shown or str(row.value).strip():
                out.append(where + Text(f"「{shown}」不是规划 {plan.id} 的填报指标",
                                        f"{shown!r} is not a reported value of plan {plan.id}"))
            continue
        raw = str(row.value).strip()
        problem = _unreadable(target, raw) if raw else None
        if problem is not None:
            out.append(where + Text(f"第 {target.id} 项的填报值无法解析：",
                                    f"item {target.id}: the reported value cannot be read: ")
                       + problem)
    return out


def _unreadable(target: Target, raw: str) -> Text | None:
    """Return why ``raw`` cannot be read as the value reported for ``target``, else None.

    As the evaluation reads it: 是/否 for a yes/no indicator, a number (``%``, ``‰``
    allowed) for another, and 是/否 or a number for a value reported beside a target the
    layers decide.
    """
    def number(value: str) -> object:
        return parse_number(value.replace("%", "").replace("‰", ""))

    readers: tuple[Callable[[str], object], ...]
    if target.metric != "indicator":
        readers = (parse_bool, number)
    else:
        readers = (parse_bool,) if target.value_type == "boolean" else (number,)
    problem = None
    for read in readers:
        try:
            read(raw)
        except ValueProblem as exc:
            problem = exc.text
        else:
            return None
    return problem
