"""Check a plan, a layer folder and its indicators as a run would, without analysing them."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from cfplan.analysis.evaluate import absent_kind_warnings
from cfplan.analysis.indicators import check_indicators, read_indicators
from cfplan.analysis.plan import Plan, load_plan
from cfplan.analysis.routes import layer_rules
from cfplan.layers.load import LayerSet, load_layers
from cfplan.layers.streets import Streets, load_streets, street_datum_warnings
from cfplan.layers.text import Text


@dataclass
class Validation:
    """What :func:`validate` read, and every warning a run would give before analysing.

    Attributes
    ----------
    plan, layers, streets
        The plan, the layers and the walking network, when given (or named).
    indicators
        The indicators table (the one given, else the manifest's), when there is one.
    indicators_path
        Where it was read from.
    warnings
        Every warning, each in Chinese and English: the plan's, the layers', the
        streets' datum check, the indicators' and what the plan asks of the layers.
    """

    plan: Plan | None = None
    layers: LayerSet | None = None
    streets: Streets | None = None
    indicators: pd.DataFrame | None = None
    indicators_path: Path | None = None
    warnings: list[Text] = field(default_factory=list)


def validate(layers: str | Path | None = None, plan: str | Path | None = None, *,
             indicators: str | Path | None = None) -> Validation:
    """Run every check that a run (``cfplan run``) would fail or warn on, short of analysing.

    The plan is loaded; the layers are loaded and validated, their street file read and
    its datum checked, and their ``[routes]`` rules checked; the indicators file
    (``indicators``, else the one the manifest names) is read and, with a plan, checked
    against it: rows naming no reported value of the plan and values that cannot be read
    are warned of. With both a plan and layers, a kind the plan counts that the layers do
    not hold at all is warned of.

    Parameters
    ----------
    layers
        A layer folder with a manifest.
    plan
        A plan file, or a built-in plan name.
    indicators
        An indicators CSV or XLSX, instead of the manifest's.

    Returns
    -------
    Validation
        What was read and every warning.

    Raises
    ------
    cfplan.InputError
        On the first fatal problem, as a run would raise it.
    """
    out = Validation()
    if plan is not None:
        out.plan = load_plan(plan)
        out.warnings += out.plan.warnings
    if layers is not None:
        out.layers = loaded = load_layers(layers)
        out.warnings += loaded.warnings
        layer_rules(loaded)
        if loaded.streets is not None:
            out.streets = load_streets(loaded)
            if out.streets is not None:
                out.warnings += street_datum_warnings(loaded, out.streets.lines.geometry)
        if out.plan is not None:
            out.warnings += absent_kind_warnings(out.plan, loaded)
    source = indicators or (out.layers.indicators if out.layers is not None else None)
    if source is not None:
        out.indicators_path = Path(source)
        out.indicators = read_indicators(source, warnings=out.warnings)
        if out.plan is not None:
            out.warnings += check_indicators(out.plan, out.indicators)
    return out


__all__ = ["Validation", "validate"]
