"""Errors cfplan raises on purpose: each names the file, the feature, the field and the fix."""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field as dataclass_field

from cfplan.layers.i18n import t
from cfplan.layers.text import EMPTY, Text, show_controls


class CfplanError(Exception):
    """Base class of every error cfplan raises on purpose (never a bug)."""

    def message(self, *, lang: str = "zh") -> str:
        """Return the message in ``lang`` (``"zh"`` or ``"en"``)."""
        return str(self)


@dataclass
class InputError(CfplanError):
    """A fatal problem with an input file: cfplan cannot go on with it.

    Attributes
    ----------
    file
        The file (or manifest) at fault.
    problem
        What is wrong.
    fix
        How to fix it.
    row
        1-based feature or row number, when one feature is at fault.
    feature
        The feature's id or name, when known.
    field
        The field at fault, when one is.
    evidence
        What the loader had read before it stopped (rejections and accounting), so that
        the caller can still write ``rejected.csv`` and ``accounting.csv``; ``None`` when
        the error came before any file was read.
    """

    file: str
    problem: Text
    fix: Text = EMPTY
    row: int | None = None
    feature: str | None = None
    field: str | None = None
    evidence: object = dataclass_field(default=None, compare=False, repr=False)

    def message(self, *, lang: str = "zh") -> str:
        """Return the full message in ``lang`` (control characters from the data written out)."""
        problem, fix = self.problem.get(lang).rstrip(), self.fix.get(lang)
        if self.row is not None:
            text = t("err.feature", lang=lang, file=self.file, row=self.row,
                     feature=self.feature or "-", field=self.field or "-",
                     problem=problem, fix=fix)
        else:
            if self.field:
                problem = (f"「{self.field}」{problem}" if lang == "zh"
                           else f"'{self.field}': {problem}")
            text = t("err.layer", lang=lang, file=self.file, problem=problem, fix=fix)
        return show_controls(_join_stop(text, problem))

    def __str__(self) -> str:
        return self.message(lang="zh")


def _join_stop(text: str, problem: str) -> str:
    """Drop the template's full stop after a problem that ends a sentence itself.

    ``…是否指 X？。修正`` → ``…是否指 X？修正``; ``...did you mean X?. fix`` → ``...X? fix``;
    a message with no fix ends at its stop. Only the stop after the problem is touched: a
    path such as ``../data`` in the message stays as written.
    """
    for stop in ("。", ". "):
        if problem and problem[-1] in "。？！.?!" and f"{problem}{stop}" in text:
            text = text.replace(f"{problem}{stop}", problem + (" " if stop == ". " else ""), 1)
    return text.rstrip()


__all__ = ["CfplanError", "InputError"]
