"""Bilingual user-facing text: one value that holds the Chinese and the English."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

LANGS = ("zh", "en")


@dataclass(frozen=True, slots=True)
class Text:
    """A message, reason or label in Chinese (the default) and English.

    Every text that reaches a user is a ``Text``, so both languages always exist and
    nothing is split at run time. ``str(text)`` is the Chinese.

    Attributes
    ----------
    zh, en
        The Chinese and the English.
    """

    zh: str
    en: str

    def get(self, lang: str = "zh") -> str:
        """Return the text in ``lang`` (``"en"`` for English; anything else is Chinese)."""
        return self.en if lang == "en" else self.zh

    def __str__(self) -> str:
        return self.zh

    def __add__(self, other: Text | str) -> Text:
        other = other if isinstance(other, Text) else Text(other, other)
        return Text(self.zh + other.zh, self.en + other.en)

    def __radd__(self, other: str) -> Text:
        return Text(other + self.zh, other + self.en)

    def __bool__(self) -> bool:
        return bool(self.zh or self.en)

    @classmethod
    def same(cls, text: str) -> Text:
        """Return a text that reads the same in both languages (a code, a number, a name)."""
        return cls(text, text)

    @classmethod
    def join(cls, parts: Iterable[Text], *, zh: str = "；", en: str = "; ") -> Text:
        """Join texts with a separator of each language."""
        items = list(parts)
        return cls(zh.join(p.zh for p in items), en.join(p.en for p in items))


EMPTY = Text("", "")


def text_of(value: Text | str | None, lang: str = "zh") -> str:
    """Return ``value`` in ``lang``: a ``Text`` in that language, a plain string as it is."""
    if value is None:
        return ""
    return value.get(lang) if isinstance(value, Text) else str(value)


# Characters no output format takes as data: C0 controls but tab and line breaks, DEL, C1
# controls, lone surrogates and the non-characters U+FFFE/U+FFFF. An ANSI escape sequence
# (ESC [ 31 m ...) goes whole, so no "[31m" is left behind.
_CONTROL = re.compile(
    "\x1b(?:\\[[0-?]*[ -/]*[@-~]|\\][^\x07\x1b]*(?:\x07|\x1b\\\\)?|[@-Z\\\\-_])?"
    "|[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")


def _shown(found: str, lang: str) -> str:
    if found.startswith("\x1b"):
        return "ESC 转义序列" if lang == "zh" else "ESC sequence"
    return f"U+{ord(found):04X}"


def clean_text(value: str) -> tuple[str, Text | None]:
    """Return ``value`` without control characters, and a note of what went (None: nothing).

    The one place where text from the data is made safe for every output: a NUL, a bell,
    an ESC colour sequence or a lone surrogate in a name would cut it, garble a terminal
    or stop the XLSX writer. Tabs and line breaks stay.
    """
    found = _CONTROL.findall(value)
    if not found:
        return value, None
    shown = "、".join(dict.fromkeys(_shown(f, "zh") for f in found))
    shown_en = ", ".join(dict.fromkeys(_shown(f, "en") for f in found))
    return _CONTROL.sub("", value), Text(f"删去 {len(found)} 个控制字符（{shown}）",
                                         f"removed {len(found)} control character(s) "
                                         f"({shown_en})")


def show_controls(text: str) -> str:
    r"""Return ``text`` with control characters written out (``\x1b``), for messages."""
    return _CONTROL.sub(lambda m: m.group().encode("unicode_escape", "backslashreplace")
                        .decode("ascii"), text)


__all__ = ["EMPTY", "LANGS", "Text", "clean_text", "show_controls", "text_of"]
