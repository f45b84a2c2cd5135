"""Bilingual user-facing text: one value that holds the Chinese and the English."""

from __future__ import annotations

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


__all__ = ["EMPTY", "LANGS", "Text", "text_of"]
