"""Numbers rounded to their meaning in every export: people to 1, shares to 0.1 %, metres to 0.1."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

# (meaning, column-name pattern, decimals). The first pattern that matches a column wins.
# Shares are 0–1 fractions: 3 decimals are 0.1 percentage points.
MEANINGS: tuple[tuple[str, re.Pattern[str], int], ...] = (
    ("people", re.compile(r"^((covered|outside|new)_)?(population|children)(_planned)?$"
                          r"|^(capacity|childcare_places|places|places_added)(_planned)?$"), 0),
    ("rate", re.compile(r"_per_1000(0)?(_planned)?$"), 2),
    ("share", re.compile(r"^share_|_share$|^share$|^walk_[a-z_]+(?<!_m)$"), 3),
    ("metres", re.compile(r"_m$"), 1),
    ("square metres", re.compile(r"_m2$"), 0),
)


def column_meaning(name: str) -> tuple[str, int] | None:
    """Return ``(meaning, decimals)`` for a column name, or ``None`` when it has no rule.

    ``population``, ``children``, ``covered_*``/``outside_*``/``new_*`` of them,
    ``capacity``, ``places`` and ``childcare_places`` (and their ``_planned``) are people
    (or places) rounded to whole numbers; rates per 1,000 or 10,000 (``*_per_1000``) to
    0.01; ``share``, ``share_*``, ``*_share`` and ``walk_*`` columns are 0–1 shares rounded
    to 0.001 (0.1 %); columns ending in ``_m`` are metres rounded to 0.1 m and ``_m2``
    square metres to 1 m².
    """
    for meaning, pattern, decimals in MEANINGS:
        if pattern.search(str(name)):
            return meaning, decimals
    return None


def round_by_meaning(df: pd.DataFrame) -> pd.DataFrame:
    """Return a copy of ``df`` with every numeric column rounded as its name means.

    Whole-number columns become nullable integers (``Int64``: ``261173``, not
    ``261173.00000000207``) unless they hold infinities; other columns keep their
    values. Rounding is half to even (NumPy).

    Returns
    -------
    pandas.DataFrame
        Same columns, index and class (a GeoDataFrame stays one).
    """
    out = df.copy()
    for col in out.columns:
        rule = column_meaning(col)
        series = out[col]
        if (rule is None or pd.api.types.is_bool_dtype(series)
                or not pd.api.types.is_numeric_dtype(series)):
            continue
        values = series.astype("float64").round(rule[1])
        if rule[1] == 0 and not np.isinf(values.to_numpy()).any():
            out[col] = values.astype("Int64")
        else:
            out[col] = values
    return out


__all__ = ["MEANINGS", "column_meaning", "round_by_meaning"]
