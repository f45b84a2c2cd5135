"""Scenario files: a workbench's edits as GeoJSON, under a TOML header naming what they edit.

A scenario file is UTF-8 text: a TOML header between two ``+++`` lines (format, the
layers, their content digest, the plan, the base scenario), then one GeoJSON
FeatureCollection (RFC 7946, WGS-84 lon/lat) with one feature per edit, in order; a
feature's ``step`` groups edits undone together, its geometry is the point of an ``add``
or ``move`` (null otherwise) and its other properties are the edit's fields. See
``docs/scenarios.md``.
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from cfplan.analysis.evaluate import Result
from cfplan.analysis.plan import Plan
from cfplan.analysis.selection import SCENARIOS
from cfplan.analysis.workbench.changes import result_state, same_result
from cfplan.analysis.workbench.edits import Edit, EditContext, EditError, apply_edit, parse_edit
from cfplan.layers.errors import InputError
from cfplan.layers.fingerprint import input_fingerprint, manifest_files
from cfplan.layers.load import LayerSet
from cfplan.layers.text import Text

__all__ = ["FORMAT", "SUFFIX", "Scenario", "apply_scenario", "check_scenario", "compare_results",
           "layers_digest", "read_scenario", "scenario_text"]

FORMAT = "cfplan-scenario"
VERSION = 1
SUFFIX = ".scenario"
FENCE = "+++"
MAX_BYTES = 5_000_000
_HEADER_KEYS = ("format", "version", "name", "plan", "base", "layers", "layers_digest")


@dataclass(frozen=True)
class Scenario:
    """Edits over a district's layers, checked against a plan.

    Attributes
    ----------
    plan
        The plan's id (``jingkai``) the workbench evaluated.
    base
        ``current`` or ``planned``: the scenario the edits apply to.
    layers
        Where the layers were read (a folder as given, or ``demo``).
    layers_digest
        SHA-256 over the layer folder's files (:func:`layers_digest`); empty when unknown.
    steps
        The edits, grouped in the steps they were made in.
    name
        A free title.
    """

    plan: str
    base: str
    layers: str
    layers_digest: str
    steps: tuple[tuple[Edit, ...], ...]
    name: str = ""

    @property
    def edits(self) -> list[Edit]:
        """Every edit, in order."""
        return [e for step in self.steps for e in step]


def layers_digest(folder: str | Path) -> str:
    """Return the digest of every file a run of the layer folder reads (content only).

    Returns
    -------
    str
        64 hexadecimal digits; a moved folder keeps its digest.
    """
    folder = Path(folder)
    files = {str(p.relative_to(folder)) if p.is_relative_to(folder) else p.name: p
             for p in manifest_files(folder)}
    return str(input_fingerprint(files, options={})["digest"])


def _toml_string(value: str) -> str:
    return json.dumps(value, ensure_ascii=False).replace("\x7f", "\\u007f")


def _feature(edit: Edit, step: int) -> dict[str, Any]:
    props = {"step": step, **{k: v for k, v in edit.payload().items() if k not in ("lon", "lat")}}
    geometry = ({"type": "Point", "coordinates": [edit.lon, edit.lat]}
                if edit.lon is not None and edit.lat is not None else None)
    return {"type": "Feature", "geometry": geometry, "properties": props}


def scenario_text(scenario: Scenario) -> str:
    """Return the scenario file's text (the same scenario gives the same bytes).

    Returns
    -------
    str
        The TOML header between ``+++`` lines, then the GeoJSON of the edits.
    """
    header = [
        FENCE,
        "# cfplan scenario: edits over a district's layers, evaluated against a plan.",
        "# Reproduce: cfplan run --layers LAYERS --plan PLAN --scenario-file THIS --out OUT",
        f'format = "{FORMAT}"',
        f"version = {VERSION}",
        f"name = {_toml_string(scenario.name)}",
        f"plan = {_toml_string(scenario.plan)}",
        f"base = {_toml_string(scenario.base)}",
        f"layers = {_toml_string(scenario.layers)}",
        f"layers_digest = {_toml_string(scenario.layers_digest)}",
        f"edits = {len(scenario.edits)}",
        FENCE,
    ]
    features = [_feature(e, i) for i, step in enumerate(scenario.steps, start=1) for e in step]
    lines = [json.dumps(f, ensure_ascii=False, allow_nan=False) for f in features]
    body = '{"type": "FeatureCollection", "features": [\n' + ",\n".join(lines) + "\n]}"
    return "\n".join(header) + "\n" + body + "\n"


def _error(source: str, zh: str, en: str, *, field: str | None = None, row: int | None = None,
           fix: Text | None = None) -> InputError:
    return InputError(source, Text(zh, en), fix or Text(
        "用 cfplan serve 重新保存情景文件，或按 docs/scenarios.md 修正",
        "save the scenario again from cfplan serve, or fix it as docs/scenarios.md says"),
        row=row, field=field)


def read_scenario(source: str | Path, *, text: str | None = None) -> tuple[Scenario, list[list[dict[str, Any]]]]:
    """Read a scenario file: its header and its edits as request payloads, by step.

    The edits are checked when they are applied (:func:`apply_scenario`), against the
    layers they edit.

    Parameters
    ----------
    source
        The file, or a label for ``text``.
    text
        The file's content, when already read.

    Returns
    -------
    tuple
        The :class:`Scenario` (its ``steps`` empty) and the payloads per step.

    Raises
    ------
    cfplan.InputError
        Naming the file, the feature and the field at fault.
    """
    label = str(source)
    if text is None:
        path = Path(source)
        if path.stat().st_size > MAX_BYTES:
            raise _error(label, "文件过大", "the file is too large")
        text = path.read_text(encoding="utf-8-sig")
    lines = text.splitlines()
    fences = [i for i, line in enumerate(lines) if line.strip() == FENCE]
    if len(fences) < 2 or fences[0] != 0:
        raise _error(label, "缺少 +++ 包围的 TOML 文件头", "no TOML header between +++ lines")
    try:
        header = tomllib.loads("\n".join(lines[1:fences[1]]))
    except tomllib.TOMLDecodeError as exc:
        raise _error(label, f"文件头不是有效的 TOML：{exc}", f"the header is not valid TOML: {exc}"
                     ) from exc
    if header.get("format") != FORMAT or header.get("version") != VERSION:
        raise _error(label, f"不是 {FORMAT} 第 {VERSION} 版文件", f"not a {FORMAT} version {VERSION} "
                     "file", field="format")
    for key in ("plan", "base", "layers", "layers_digest", "name"):
        if not isinstance(header.get(key, ""), str):
            raise _error(label, "应为文本", "must be text", field=key)
    if header.get("base") not in SCENARIOS:
        raise _error(label, f"应为 {' 或 '.join(SCENARIOS)}", f"must be {' or '.join(SCENARIOS)}",
                     field="base")
    try:
        body = json.loads("\n".join(lines[fences[1] + 1:]))
    except json.JSONDecodeError as exc:
        raise _error(label, f"编辑部分不是有效的 GeoJSON：{exc}", f"the edits are not valid GeoJSON: "
                     f"{exc}") from exc
    if not isinstance(body, dict) or body.get("type") != "FeatureCollection" or not isinstance(
            body.get("features"), list):
        raise _error(label, "编辑部分应为 GeoJSON FeatureCollection",
                     "the edits must be a GeoJSON FeatureCollection", field="features")
    steps: list[list[dict[str, Any]]] = []
    last = 0
    for i, feature in enumerate(body["features"], start=1):
        props = feature.get("properties") if isinstance(feature, dict) else None
        if not isinstance(props, dict):
            raise _error(label, "要素缺少 properties", "the feature has no properties", row=i,
                         field="properties")
        step = props.get("step")
        if isinstance(step, bool) or not isinstance(step, int) or not last <= step <= last + 1 \
                or step < 1:
            raise _error(label, "step 应为从 1 起连续的整数", "step must count up from 1", row=i,
                         field="step")
        payload = {k: v for k, v in props.items() if k != "step"}
        geometry = feature.get("geometry")
        if geometry is not None:
            coords = geometry.get("coordinates") if isinstance(geometry, dict) else None
            if (not isinstance(geometry, dict) or geometry.get("type") != "Point"
                    or not isinstance(coords, list) or len(coords) != 2):
                raise _error(label, "几何应为点 [经度, 纬度] 或 null",
                             "the geometry must be a Point [lon, lat] or null", row=i,
                             field="geometry")
            payload["lon"], payload["lat"] = coords
        if step > last:
            steps.append([])
            last = step
        steps[-1].append(payload)
    scenario = Scenario(plan=header.get("plan", ""), base=header["base"],
                        layers=header.get("layers", ""),
                        layers_digest=header.get("layers_digest", ""), steps=(),
                        name=header.get("name", ""))
    return scenario, steps


def check_scenario(header: Scenario, *, plan_id: str, digest: str, source: str) -> None:
    """Refuse a scenario saved against another plan, or from layers whose files differ.

    ``digest``: the layers' :func:`layers_digest` ("" when unknown: not checked).

    Raises
    ------
    cfplan.InputError
        Naming ``plan`` or ``layers_digest``.
    """
    if header.plan != plan_id:
        raise InputError(source, Text(f"情景按规划「{header.plan}」保存，而这里的规划是「{plan_id}」",
                                      f"the scenario was saved against plan {header.plan!r}, "
                                      f"not {plan_id!r}"),
                         Text(f"使用规划 {header.plan}", f"use the plan {header.plan}"),
                         field="plan")
    if digest and header.layers_digest and header.layers_digest != digest:
        raise InputError(source, Text("图层目录的内容与保存情景时不同，编辑无法原样复现",
                                      "the layer folder's files differ from those the scenario "
                                      "was saved from: its edits cannot be reproduced"),
                         Text(f"使用保存情景时的图层（{header.layers}）",
                              f"use the layers the scenario was saved from ({header.layers})"),
                         field="layers_digest")


def apply_scenario(layers: LayerSet, steps: Iterable[Sequence[Mapping[str, Any]]], *,
                   source: str = "scenario", margin_m: float | None = None,
                   default_year: int = 2025) -> tuple[LayerSet, list[list[Edit]]]:
    """Return the layers with every edit of a scenario made, each checked first.

    Parameters
    ----------
    layers
        The layers the scenario edits.
    steps
        The edits per step, as :func:`read_scenario` returns them.
    source
        The scenario file, for error messages.
    margin_m
        The district's margin (default: the layers').
    default_year
        Year of added facilities that give none (the plan period's last year).

    Returns
    -------
    tuple
        The edited layers and the checked edits per step.

    Raises
    ------
    cfplan.InputError
        Naming the file, the edit (1-based, over all steps) and the field at fault.
    """
    margin = layers.margin_m if margin_m is None else margin_m
    checked: list[list[Edit]] = []
    n = 0
    for step in steps:
        done: list[Edit] = []
        for payload in step:
            n += 1
            ctx = EditContext(layers, margin_m=margin, default_year=default_year)
            try:
                edit = parse_edit(payload, ctx)
            except EditError as exc:
                raise InputError(source, exc.text, Text(
                    "情景与这些图层不符：确认 --layers 是保存情景时的图层目录",
                    "the scenario does not fit these layers: check that --layers is the folder "
                    "the scenario was saved from"), row=n, field=exc.field) from exc
            layers = apply_edit(edit, ctx)
            done.append(edit)
        checked.append(done)
    return layers, checked


def compare_results(plan: Plan, a: Sequence[Result], b: Sequence[Result], *,
                    names: tuple[str, str] = ("A", "B"), lang: str = "zh") -> pd.DataFrame:
    """Return two evaluations side by side, one row per target.

    Parameters
    ----------
    plan
        The plan both were evaluated against.
    a, b
        Results of one scenario each (e.g. two saved scenarios over the same layers).
    names
        Column prefixes.
    lang
        Language of the shown values and shortfalls.

    Returns
    -------
    pandas.DataFrame
        ``id``, ``title``, then per side ``<name>_status``, ``<name>_value`` and
        ``<name>_shortfall``, and ``differs`` (status, value, failing units or shortfall).
    """
    by_a = {r.target.id: r for r in a}
    by_b = {r.target.id: r for r in b}
    rows = []
    for t in plan.targets:
        ra, rb = by_a.get(t.id), by_b.get(t.id)
        if ra is None or rb is None:
            continue
        row: dict[str, Any] = {"id": t.id, "title": t.text("title", lang)}
        for name, r in zip(names, (ra, rb), strict=True):
            state = result_state(r, lang=lang)
            row[f"{name}_status"] = state["status"]
            row[f"{name}_value"] = state["value_text"]
            row[f"{name}_shortfall"] = state["shortfall"]
        row["differs"] = not same_result(ra, rb)
        rows.append(row)
    return pd.DataFrame(rows)
