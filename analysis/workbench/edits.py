"""Workbench edits: parse and check one change to a district's layers, and apply it.

An edit is what a planner does on the map: add a facility, move or remove one, mark a
planned project done or dropped (or give it another year), or change a unit's population.
:func:`parse_edit` checks every field of a request and raises :class:`EditError` naming the
field; :func:`apply_edit` returns new layers with the edit made and never changes its input.
The same two functions serve the live workbench and the replay of a scenario file, so an
edited scenario and a full assessment of the same edited layers see identical frames.
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely

from cfplan.analysis.evaluate import PENDING
from cfplan.layers.errors import CfplanError
from cfplan.layers.kinds import FACILITY_KINDS, LEVELS, facility_kind_key, level_key
from cfplan.layers.load import LayerSet, unit_of_points
from cfplan.layers.text import Text

__all__ = [
    "MAX_NAME",
    "OPS",
    "OUTCOMES",
    "Edit",
    "EditContext",
    "EditError",
    "apply_edit",
    "parse_edit",
]

Op = Literal["add", "move", "remove", "planned", "population"]
OPS: tuple[str, ...] = ("add", "move", "remove", "planned", "population")
OUTCOMES = ("done", "dropped", "pending")
"""``planned`` outcomes: built as its works say, dropped from the plan, or still pending (a
new ``year`` only)."""
MAX_NAME = 200
COORD_DECIMALS = 7  # RFC 7946 precision: the scenario file holds what the edit used
MAX_PEOPLE = 10_000_000.0
MAX_CAPACITY = 100_000.0
YEARS = (1949, 2100)
EDIT_FILE = "scenario"  # the ``_file`` of facilities an edit adds
_FIELDS: dict[str, tuple[str, ...]] = {
    "add": ("kind", "lon", "lat", "name", "capacity", "level", "year", "child_friendly", "fid"),
    "move": ("fid", "lon", "lat"),
    "remove": ("fid",),
    "planned": ("fid", "outcome", "year"),
    "population": ("unit", "population", "children"),
}
_CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029]")


class EditError(CfplanError):
    """An edit that cannot be made: ``field`` names the request field, ``text`` says why."""

    def __init__(self, field: str, text: Text) -> None:
        super().__init__(text.en)
        self.field = field
        self.text = text

    def message(self, *, lang: str = "zh") -> str:
        """Return ``field: why`` in ``lang``."""
        return f"{self.field}: {self.text.get(lang)}"

    def __str__(self) -> str:
        return self.message(lang="en")


@dataclass(frozen=True)
class Edit:
    """One change to the layers; fields unused by ``op`` are ``None``.

    Attributes
    ----------
    op
        ``add``, ``move``, ``remove``, ``planned`` or ``population``.
    fid
        The facility edited; for ``add``, the id the new facility gets.
    kind, name, capacity, level, year, child_friendly
        The new facility (``add``); ``year`` also reschedules a planned project.
    lon, lat
        WGS-84 degrees (7 decimals) of an added or moved facility.
    outcome
        ``planned``: ``done``, ``dropped`` or ``pending``.
    unit, population, children
        ``population``: the unit's code and its new residents and/or children.
    """

    op: Op
    fid: str | None = None
    kind: str | None = None
    name: str | None = None
    capacity: float | None = None
    level: str | None = None
    year: int | None = None
    child_friendly: bool | None = None
    lon: float | None = None
    lat: float | None = None
    outcome: str | None = None
    unit: str | None = None
    population: float | None = None
    children: float | None = None

    def to_dict(self) -> dict[str, Any]:
        """Return the edit as JSON-ready properties (``None`` fields left out)."""
        return {k: v for k, v in dataclasses.asdict(self).items() if v is not None}

    def payload(self) -> dict[str, Any]:
        """Return the request that makes this edit again (what a scenario file stores)."""
        fields = ("op", *_FIELDS[self.op])
        return {k: v for k, v in self.to_dict().items() if k in fields}

    @property
    def kinds(self) -> tuple[str, ...]:
        """The facility kinds the edit touches (set by :func:`parse_edit`)."""
        return (self.kind,) if self.kind else ()


@dataclass(frozen=True)
class EditContext:
    """What checking an edit needs: the layers as edited so far and the district's margin.

    Attributes
    ----------
    layers
        The layers with every earlier edit made.
    margin_m
        How far (m) outside the district boundary a facility may lie (the manifest's
        ``margin_m``).
    default_year
        The year of an added facility when none is given (the plan period's last year).
    """

    layers: LayerSet
    margin_m: float = 2000.0
    default_year: int = 2025

    def to_metric(self, lon: float, lat: float) -> shapely.Point:
        """Return the WGS-84 point in the layers' metric CRS."""
        x, y = _transformer(self.layers.crs).transform(lon, lat)
        return shapely.Point(x, y)


_TRANSFORMERS: dict[str, pyproj.Transformer] = {}


def _transformer(crs: pyproj.CRS) -> pyproj.Transformer:
    key = crs.to_wkt()
    if key not in _TRANSFORMERS:
        _TRANSFORMERS[key] = pyproj.Transformer.from_crs("EPSG:4326", crs, always_xy=True)
    return _TRANSFORMERS[key]


def _bad(field: str, zh: str, en: str) -> EditError:
    return EditError(field, Text(zh, en))


def _number(payload: Mapping[str, Any], field: str, *, low: float, high: float,
            required: bool = False, whole: bool = False) -> float | None:
    value = payload.get(field)
    if value is None:
        if required:
            raise _bad(field, "必填", "is required")
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _bad(field, "应为数字", "must be a number")
    if not math.isfinite(value):
        raise _bad(field, "应为有限数字", "must be a finite number")
    if whole and float(value) != int(value):
        raise _bad(field, "应为整数", "must be a whole number")
    if not low <= value <= high:
        raise _bad(field, f"应在 {low:g} 到 {high:g} 之间", f"must lie between {low:g} and {high:g}")
    return float(value)


def _text(payload: Mapping[str, Any], field: str, *, required: bool = False) -> str | None:
    value = payload.get(field)
    if value is None:
        if required:
            raise _bad(field, "必填", "is required")
        return None
    if not isinstance(value, str):
        raise _bad(field, "应为文本", "must be text")
    value = value.strip()
    if required and not value:
        raise _bad(field, "不能为空", "must not be empty")
    if len(value) > MAX_NAME:
        raise _bad(field, f"不能超过 {MAX_NAME} 个字符", f"must be at most {MAX_NAME} characters")
    if _CONTROL.search(value):
        raise _bad(field, "不能含控制字符或换行", "must not contain control characters or line breaks")
    return value


def _facility(ctx: EditContext, fid: str, field: str = "fid") -> pd.Series:
    fac = ctx.layers.facilities
    hit = fac.index[fac["fid"].astype(str) == fid]
    if not len(hit):
        raise _bad(field, f"没有编号为「{fid}」的设施", f"no facility with id {fid!r}")
    return fac.loc[hit[0]]


def _point(ctx: EditContext, payload: Mapping[str, Any]) -> tuple[float, float]:
    lon = _number(payload, "lon", low=-180, high=180, required=True)
    lat = _number(payload, "lat", low=-90, high=90, required=True)
    assert lon is not None and lat is not None
    lon, lat = round(lon, COORD_DECIMALS), round(lat, COORD_DECIMALS)
    boundary = shapely.union_all(np.asarray(ctx.layers.district.geometry.values))
    distance = float(shapely.distance(ctx.to_metric(lon, lat), boundary))
    if not distance <= ctx.margin_m:
        raise _bad("lon", f"该点在区界外 {distance:.0f} m，超出容差 {ctx.margin_m:.0f} m",
                   f"the point lies {distance:.0f} m outside the district, beyond the "
                   f"{ctx.margin_m:.0f} m margin")
    return lon, lat


def _new_fid(ctx: EditContext) -> str:
    taken = set(ctx.layers.facilities["fid"].astype(str))
    n = 1
    while f"W{n:03d}" in taken:
        n += 1
    return f"W{n:03d}"


def parse_edit(payload: Mapping[str, Any], ctx: EditContext) -> Edit:
    """Check a request's edit against the layers as edited so far and return it.

    Parameters
    ----------
    payload
        ``{"op": ..., ...}`` as sent to ``POST /api/edits`` or read from a scenario file:
        ``add`` (``kind``, ``lon``, ``lat``, ``name``, optional ``capacity``, ``level``,
        ``year``, ``child_friendly``), ``move`` (``fid``, ``lon``, ``lat``), ``remove``
        (``fid``), ``planned`` (``fid``, ``outcome``: done/dropped/pending, optional
        ``year``) or ``population`` (``unit``, ``population`` and/or ``children``).
    ctx
        The layers and the district's margin.

    Returns
    -------
    Edit
        With coordinates rounded to 7 decimals, the kind as its key, and ``fid`` (a new
        ``W001`` … for ``add`` unless given) and ``kind`` filled for facility edits.

    Raises
    ------
    EditError
        Naming the first field that is unknown, missing, of the wrong type, out of range, or
        names something the layers do not hold.
    """
    if not isinstance(payload, Mapping):
        raise _bad("op", "请求应为 JSON 对象", "the request must be a JSON object")
    op = payload.get("op")
    if op not in OPS:
        raise _bad("op", f"应为 {'、'.join(OPS)} 之一", f"must be one of {', '.join(OPS)}")
    for key in payload:
        if key != "op" and key not in _FIELDS[op]:
            raise _bad(str(key)[:40], f"「{op}」不接受此字段", f"is not a field of {op!r}")
    if op == "add":
        return _parse_add(payload, ctx)
    if op == "population":
        return _parse_population(payload, ctx)
    fid = _text(payload, "fid", required=True)
    assert fid is not None
    row = _facility(ctx, fid)
    kind = str(row["kind"])
    if op == "remove":
        return Edit("remove", fid=fid, kind=kind)
    if op == "move":
        if row.geometry.geom_type != "Point":
            raise _bad("fid", "只能移动点状设施（面状设施如公园不能拖动）",
                       "only point facilities can be moved (not polygons such as parks)")
        lon, lat = _point(ctx, payload)
        return Edit("move", fid=fid, kind=kind, lon=lon, lat=lat)
    outcome = payload.get("outcome")
    if outcome not in OUTCOMES:
        raise _bad("outcome", f"应为 {'、'.join(OUTCOMES)} 之一", f"must be one of {', '.join(OUTCOMES)}")
    if row["status"] not in PENDING:
        raise _bad("fid", f"「{fid}」不是规划或在建项目", f"{fid!r} is not a planned project")
    year = _number(payload, "year", low=YEARS[0], high=YEARS[1], whole=True)
    if outcome == "pending" and year is None:
        raise _bad("year", "保持规划状态时须给出新的年份", "a pending project needs a new year")
    return Edit("planned", fid=fid, kind=kind, outcome=outcome,
                year=int(year) if year is not None else None)


def _parse_add(payload: Mapping[str, Any], ctx: EditContext) -> Edit:
    kind = facility_kind_key(payload.get("kind")) if isinstance(payload.get("kind"), str) else None
    if kind is None:
        raise _bad("kind", "未知设施类别", "unknown facility kind")
    name = _text(payload, "name", required=True)
    lon, lat = _point(ctx, payload)
    capacity = _number(payload, "capacity", low=0, high=MAX_CAPACITY)
    level = payload.get("level")
    if level is not None and level != "":
        level = level_key(level) if isinstance(level, str) else None
        if level is None:
            raise _bad("level", f"应为 {'、'.join(v[0] for v in LEVELS.values())} 之一",
                       f"must be one of {', '.join(LEVELS)}")
    else:
        level = None
    year = _number(payload, "year", low=YEARS[0], high=YEARS[1], whole=True)
    friendly = payload.get("child_friendly", True)
    if not isinstance(friendly, bool):
        raise _bad("child_friendly", "应为 true 或 false", "must be true or false")
    fid = _text(payload, "fid") or _new_fid(ctx)
    if (ctx.layers.facilities["fid"].astype(str) == fid).any():
        raise _bad("fid", f"编号「{fid}」已被占用", f"the id {fid!r} is taken")
    return Edit("add", fid=fid, kind=kind, name=name, capacity=capacity, level=level,
                year=int(year) if year is not None else ctx.default_year,
                child_friendly=friendly, lon=lon, lat=lat)


def _parse_population(payload: Mapping[str, Any], ctx: EditContext) -> Edit:
    code = _text(payload, "unit", required=True)
    units = ctx.layers.units
    if not (units["code"].astype(str) == code).any():
        raise _bad("unit", f"没有编码为「{code}」的社区/村", f"no unit with code {code!r}")
    population = _number(payload, "population", low=0, high=MAX_PEOPLE)
    children = _number(payload, "children", low=0, high=MAX_PEOPLE)
    if population is None and children is None:
        raise _bad("population", "须给出 population 或 children", "give population or children")
    return Edit("population", unit=code, population=population, children=children)


# --------------------------------------------------------------------------- applying


def _new_row(edit: Edit, ctx: EditContext, fac: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    assert edit.lon is not None and edit.lat is not None
    row: dict[str, Any] = dict.fromkeys(fac.columns)
    row.update(fid=edit.fid, name=edit.name, kind=edit.kind, status="new", works="new",
               year=edit.year, child_friendly=edit.child_friendly, capacity=edit.capacity,
               level=edit.level, _file=EDIT_FILE, _row=len(fac))
    point = ctx.to_metric(edit.lon, edit.lat)
    row["geometry"] = point
    new = gpd.GeoDataFrame([row], columns=fac.columns, geometry="geometry", crs=fac.crs)
    new["unit"] = unit_of_points(np.array([point]), ctx.layers.units)
    new["in_unit"] = new["unit"].notna()
    for column in fac.columns:
        if column != "geometry" and fac[column].dtype != object:
            new[column] = new[column].astype(fac[column].dtype)
    return new


def apply_edit(edit: Edit, ctx: EditContext) -> LayerSet:
    """Return the layers of ``ctx`` with ``edit`` made (the input is not changed).

    ``add`` appends a built facility (status and works ``new``) assigned to the unit
    holding it; ``move`` puts a facility at the new point and reassigns its unit;
    ``remove`` drops it; ``planned`` ``done`` gives a pending project the status its
    ``works`` say, ``dropped`` removes it, and a ``year`` reschedules it; ``population``
    sets a unit's ``population`` and/or ``children``.

    Returns
    -------
    cfplan.layers.load.LayerSet
        New layers sharing every frame the edit does not touch.
    """
    layers = ctx.layers
    if edit.op == "population":
        units = layers.units.copy()
        hit = units["code"].astype(str) == edit.unit
        for column in ("population", "children"):
            value = getattr(edit, column)
            if value is not None:
                units.loc[hit, column] = float(value)
        return dataclasses.replace(layers, units=units)
    fac = layers.facilities
    if edit.op == "add":
        out = pd.concat([fac, _new_row(edit, ctx, fac)], ignore_index=True)
        return dataclasses.replace(layers, facilities=gpd.GeoDataFrame(
            out, geometry="geometry", crs=fac.crs))
    at = fac["fid"].astype(str) == edit.fid
    if edit.op == "remove" or (edit.op == "planned" and edit.outcome == "dropped"):
        return dataclasses.replace(layers, facilities=fac[~at].reset_index(drop=True))
    fac = fac.copy()
    if edit.op == "move":
        assert edit.lon is not None and edit.lat is not None
        point = ctx.to_metric(edit.lon, edit.lat)
        fac.loc[at, "geometry"] = point
        fac.loc[at, "unit_code"] = None
        unit = unit_of_points(np.array([point]), layers.units)[0]
        fac.loc[at, "unit"] = unit
        fac.loc[at, "in_unit"] = unit is not None
    else:  # planned: done or pending, maybe in another year
        if edit.outcome == "done":
            works = fac.loc[at, "works"].fillna("new")
            fac.loc[at, "status"] = works
        if edit.year is not None:
            fac.loc[at, "year"] = edit.year
    return dataclasses.replace(layers, facilities=fac)


def known_kinds() -> tuple[str, ...]:
    """Return every facility kind key an ``add`` accepts."""
    return tuple(FACILITY_KINDS)
