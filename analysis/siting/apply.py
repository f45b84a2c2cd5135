"""Apply a siting to the layers: the proposed sites become facilities, expansions grow centres.

The result is a new :class:`LayerSet` that evaluates as the district would once the advice
is built: every target the plan's sites were proposed for is then met (a test re-evaluates).
New sites take the status of the siting's scenario (``planned`` with works ``new`` when
the advice started from the planned scenario, else ``new``), the year the plan ends, the
level the targets ask for (e.g. 办事处-level stations) and their places; an expansion sets
the centre's places to what the advice says. The standards' ranking is not applied.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import geopandas as gpd
import numpy as np
import pandas as pd

from cfplan.analysis.evaluate import Result
from cfplan.analysis.siting.plan_sites import SitingPlan
from cfplan.layers.kinds import kind_label
from cfplan.layers.load import LayerSet

__all__ = ["APPLIED_COLUMNS", "apply_sites", "proposed_facilities", "with_applied"]

APPLIED_COLUMNS = ("target", "status", "value", "shortfall", "shortfall_en")
"""Columns of :attr:`SitingPlan.applied`: each target re-evaluated with the sites built."""

APPLIED_FILE = "(siting)"
"""The ``_file`` of facilities added by :func:`apply_sites`."""


def proposed_facilities(siting: SitingPlan, layers: LayerSet) -> gpd.GeoDataFrame:
    """Return the plan's proposed new sites as facility rows of ``layers.facilities``.

    Returns
    -------
    geopandas.GeoDataFrame
        One facility per new site of the plan's runs: ``fid`` ``site-<run>-<rank>``,
        ``name`` 建议新建…（unit）, ``kind``, ``status``, ``works``, ``year``,
        ``capacity``, ``level``, ``unit``; metric CRS.
    """
    fac = layers.facilities
    new = siting.sites[(siting.sites["origin"] == "plan") & (siting.sites["action"] == "new")]
    status = "planned" if siting.scenario == "planned" else "new"
    rows = pd.DataFrame({c: pd.Series([None] * len(new), dtype=object) for c in fac.columns
                         if c != "geometry"})
    rows["fid"] = [f"site-{r}-{k}" for r, k in zip(new["run"], new["rank"], strict=True)]
    rows["name"] = [f"建议新建{kind_label(str(k))}（{u}）"
                    for k, u in zip(new["kind"], new["unit_name"], strict=True)]
    rows["kind"] = new["kind"].to_numpy()
    rows["status"], rows["works"] = status, "new"
    rows["year"] = pd.array([siting.year] * len(new), dtype="Int64")
    rows["capacity"] = pd.to_numeric(new["places"], errors="coerce").to_numpy()
    rows["level"] = [siting.attributes.get(str(r), {}).get("level") for r in new["run"]]
    units = new["unit_code"].astype(str).replace("", None).to_numpy()
    rows["unit_code"], rows["unit"] = units, units
    rows["in_unit"] = [u is not None for u in units]
    rows["_file"], rows["_row"] = APPLIED_FILE, np.arange(len(new), dtype=np.int64)
    return gpd.GeoDataFrame(rows, geometry=new.geometry.to_numpy(), crs=fac.crs)


def apply_sites(layers: LayerSet, siting: SitingPlan) -> LayerSet:
    """Return ``layers`` with the plan's proposed sites built and its expansions made.

    Parameters
    ----------
    layers
        The layers the siting was proposed on (metric CRS).
    siting
        The proposal (:func:`.plan_sites.propose_sites` or ``Assessment.site()``).

    Returns
    -------
    LayerSet
        A new layer set (the input is not changed): the facilities gain one row per new
        site of the plan's targets; expanded centres carry their new places.
    """
    fac = layers.facilities.copy()
    grow = siting.sites[(siting.sites["origin"] == "plan")
                        & (siting.sites["action"] == "expand")]
    places = dict(zip(grow["candidate"].astype(str), grow["capacity"].astype(float),
                      strict=True))
    if places:
        grown = fac["fid"].astype(str).map(places)
        fac["capacity"] = grown.where(grown.notna(), fac["capacity"]).astype(float)
    added = proposed_facilities(siting, layers)
    if len(added):
        fac = gpd.GeoDataFrame(pd.concat([fac, added], ignore_index=True), geometry="geometry",
                               crs=layers.facilities.crs)
        fac["year"] = fac["year"].astype("Int64")
    return dataclasses.replace(layers, facilities=fac)


def with_applied(siting: SitingPlan, results: Sequence[Result]) -> SitingPlan:
    """Return ``siting`` with each target's status once its sites are built.

    Parameters
    ----------
    siting
        The proposal.
    results
        The evaluation of the layers with the sites applied (:func:`apply_sites`, then
        ``assess``); the rows of the siting's scenario are read.

    Returns
    -------
    SitingPlan
        The same proposal; ``outcomes`` gains ``status_applied`` and ``applied`` holds
        every target of the scenario re-evaluated (:data:`APPLIED_COLUMNS`).
    """
    rows = [r for r in results if r.scenario == siting.scenario]
    status = {r.target.id: r.status for r in rows}
    outcomes = siting.outcomes.copy()
    outcomes["status_applied"] = outcomes["target"].map(status)
    applied = pd.DataFrame([(r.target.id, r.status, r.value if not isinstance(r.value, bool)
                             else float(r.value), r.shortfall.zh, r.shortfall.en)
                            for r in rows], columns=list(APPLIED_COLUMNS))
    return dataclasses.replace(siting, outcomes=outcomes, applied=applied)
