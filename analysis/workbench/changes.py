"""What an edit changed in a target: before → after, in the words a planner reads."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cfplan.analysis.evaluate import Result, _kinds_text, _level_word
from cfplan.analysis.plan import Plan, Target
from cfplan.analysis.report import _shortfall, value_text
from cfplan.layers.text import Text

__all__ = ["Change", "describe_change", "result_state", "same_result"]

STATUS_TEXT = {"met": Text("达成", "met"), "not_met": Text("未达成", "not met"),
               "unknown": Text("未知", "unknown"), "not_assessed": Text("未评估", "not assessed")}


def _value(value: object) -> Any:
    if isinstance(value, bool) or value is None:
        return value
    return float(value)  # type: ignore[arg-type]


def same_result(a: Result, b: Result) -> bool:
    """Whether two results read the same: status, value, failing units and shortfall."""
    return (a.status == b.status and _value(a.value) == _value(b.value)
            and a.failing == b.failing and a.shortfall == b.shortfall
            and a.reason == b.reason)


def _failing_names(r: Result) -> list[str]:
    names = r.extra.get("names")
    lookup = names if isinstance(names, dict) else {}
    return [str(lookup.get(code, code)) for code in r.failing]


def _measure(t: Target, plan: Plan, lang: str) -> str:
    """Return the label of the number that tells the change (缺儿童之家的村/社区 …)."""
    if t.metric == "presence_per_unit":
        kind, level = _kinds_text(t, lang), _level_word(t, plan.subdistrict_term, lang)
        return f"缺{kind}的{level}" if lang == "zh" else f"{level} without a {kind}"
    if t.metric == "capacity_per_unit" and t.aggregate != "mean":
        level = _level_word(t, plan.subdistrict_term, lang)
        return f"未达标的{level}" if lang == "zh" else f"{level} below the target"
    return t.text("title", lang) if t.text("title", lang) else ("数值" if lang == "zh" else "value")


def result_state(r: Result, *, lang: str = "zh") -> dict[str, Any]:
    """Return a result as JSON-ready fields: status, value, shown text, failing units.

    Returns
    -------
    dict
        ``status``, ``status_text``, ``value`` (share 0–1, count, rate or bool; None if
        unknown), ``value_text``, ``count`` (failing units, for per-unit targets),
        ``names`` (their names) and ``shortfall``.
    """
    return {"status": r.status, "status_text": STATUS_TEXT[r.status].get(lang),
            "value": _value(r.value), "value_text": value_text(r, lang=lang),
            "count": len(r.failing), "names": _failing_names(r),
            "shortfall": _shortfall(r, lang)}


@dataclass(frozen=True)
class Change:
    """One target whose result an edit changed.

    Attributes
    ----------
    target
        The target.
    before, after
        Its results before and after.
    """

    target: Target
    before: Result
    after: Result
    plan: Plan

    def summary(self, lang: str = "zh") -> str:
        """Return one line: 「29：缺儿童之家的村/社区 4 → 3」 (the list when the count stays)."""
        t, a, b = self.target, self.before, self.after
        sep = "：" if lang == "zh" else ": "
        if t.metric in ("presence_per_unit", "capacity_per_unit") and t.aggregate != "mean":
            label = _measure(t, self.plan, lang)
            if len(a.failing) != len(b.failing):
                shown = f"{len(a.failing)} → {len(b.failing)}"
            else:
                comma = "、" if lang == "zh" else ", "
                shown = (f"{comma.join(_failing_names(a)) or '—'} → "
                         f"{comma.join(_failing_names(b)) or '—'}")
            line = f"{t.id}{sep}{label} {shown}"
        else:
            line = (f"{t.id}{sep}{value_text(a, lang=lang) or '—'} → "
                    f"{value_text(b, lang=lang) or '—'}")
        if a.status != b.status:
            line += (f"（{STATUS_TEXT[a.status].zh} → {STATUS_TEXT[b.status].zh}）" if lang == "zh"
                     else f" ({STATUS_TEXT[a.status].en} → {STATUS_TEXT[b.status].en})")
        return line

    def to_dict(self, lang: str = "zh") -> dict[str, Any]:
        """Return ``{"id", "before", "after", "summary"}`` for the API."""
        return {"id": self.target.id, "before": result_state(self.before, lang=lang),
                "after": result_state(self.after, lang=lang), "summary": self.summary(lang)}


def describe_change(t: Target, before: Result, after: Result, plan: Plan) -> Change:
    """Return the change of ``t`` from ``before`` to ``after``."""
    return Change(t, before, after, plan)
