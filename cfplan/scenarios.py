"""Saved workbench scenarios from Python: open a workbench, compare two scenarios."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from cfplan.analysis.plan import Plan
from cfplan.analysis.workbench import (
    EditError,
    Workbench,
    check_scenario,
    compare_results,
    layers_digest,
    read_scenario,
)
from cfplan.layers.errors import InputError
from cfplan.layers.load import LayerSet
from cfplan.pipeline import Assessment, assess

__all__ = ["compare_scenarios", "open_scenario"]


def open_scenario(assessment: Assessment, path: str | Path, *, digest: str = "") -> Workbench:
    """Return a workbench over ``assessment`` with a saved scenario's edits replayed.

    ``digest``: the assessed layer folder's :func:`~cfplan.analysis.workbench.layers_digest`
    (checked against the scenario's when given).

    Returns
    -------
    cfplan.analysis.workbench.Workbench
        Its ``results`` are the scenario's edited targets (scenario = the file's base).

    Raises
    ------
    cfplan.InputError
        When the file is not a scenario of this plan, or an edit does not fit the layers.
    """
    header, steps = read_scenario(path)
    check_scenario(header, plan_id=assessment.plan.id, digest=digest, source=str(path))
    wb = assessment.workbench(base=header.base)
    try:
        wb.replay(steps)
    except EditError as exc:
        raise InputError(str(path), exc.text, field=exc.field) from exc
    return wb


def compare_scenarios(layers: LayerSet | str | Path, plan: Plan | str | Path,
                      a: str | Path, b: str | Path, *, lang: str = "zh") -> pd.DataFrame:
    """Return two saved scenarios side by side, one row per target (``cfplan compare``).

    The district is assessed once; each scenario is replayed on its own workbench.

    Returns
    -------
    pandas.DataFrame
        ``id``, ``title``, then for each scenario (named by its file stem) the status,
        value and shortfall, and ``differs``.
    """
    assessment = assess(layers, plan)
    digest = layers_digest(layers) if not isinstance(layers, LayerSet) else ""
    first = open_scenario(assessment, a, digest=digest)
    second = open_scenario(assessment, b, digest=digest)
    names = (Path(a).stem, Path(b).stem)
    if names[0] == names[1]:
        names = (f"{names[0]}_1", f"{names[1]}_2")
    return compare_results(assessment.plan, first.results, second.results, names=names,
                           lang=lang)
