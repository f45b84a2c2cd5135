"""Input errors that name the file, the feature, the field, the problem and the fix."""

from __future__ import annotations

from dataclasses import dataclass

from cfplan.layers.i18n import t


@dataclass
class InputError(Exception):
    """A fatal problem with an input file.

    Attributes
    ----------
    file
        The file (or manifest) at fault.
    problem
        What is wrong, in Chinese (an English version may follow after " / ").
    fix
        How to fix it.
    row
        1-based feature or row number, when one feature is at fault.
    feature
        The feature's id or name, when known.
    field
        The field at fault, when one is.
    """

    file: str
    problem: str
    fix: str = ""
    row: int | None = None
    feature: str | None = None
    field: str | None = None

    def message(self, *, lang: str = "zh") -> str:
        """Return the full message in ``lang``."""
        problem = _pick(self.problem, lang)
        fix = _pick(self.fix, lang)
        if self.row is not None:
            return t(
                "err.feature", lang=lang, file=self.file, row=self.row,
                feature=self.feature or "-", field=self.field or "-", problem=problem, fix=fix,
            )
        if self.field:
            problem = f"「{self.field}」{problem}" if lang == "zh" else f"'{self.field}': {problem}"
        return t("err.layer", lang=lang, file=self.file, problem=problem, fix=fix)

    def __str__(self) -> str:
        return self.message(lang="zh")


def _pick(text: str, lang: str) -> str:
    """Return the Chinese or English half of a ``"中文 / English"`` text."""
    if " / " not in text:
        return text
    zh, en = text.split(" / ", 1)
    return en if lang == "en" else zh
