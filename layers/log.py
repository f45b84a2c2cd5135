"""Progress and warnings through ``logging.getLogger("cfplan")``, each message in both languages."""

from __future__ import annotations

import logging

from cfplan.layers.text import Text

logger = logging.getLogger("cfplan")
logger.addHandler(logging.NullHandler())


def info(text: Text, *, step: str | None = None) -> None:
    """Log a progress message; ``step`` names a pipeline stage (the CLI's progress bar)."""
    logger.info(text.zh, extra={"cfplan_text": text, "cfplan_step": step})


def warn(text: Text) -> None:
    """Log a warning about the input or the results."""
    logger.warning(text.zh, extra={"cfplan_text": text, "cfplan_step": None})


def text_of_record(record: logging.LogRecord, lang: str = "zh") -> str:
    """Return a log record's message in ``lang`` (its ``Text`` when cfplan logged it)."""
    text = getattr(record, "cfplan_text", None)
    return text.get(lang) if isinstance(text, Text) else record.getMessage()


__all__ = ["info", "logger", "text_of_record", "warn"]
