"""The per-办事处 summary: 儿童之家, 托位, 家长学校, stations, law bases and walking shares."""

from __future__ import annotations

import numpy as np
import pandas as pd

from cfplan.analysis.evaluate import facility_level_codes
from cfplan.analysis.plan import Filters
from cfplan.analysis.selection import SCENARIOS, select
from cfplan.layers.kinds import FACILITY_KINDS
from cfplan.layers.load import LayerSet

# Per-unit kinds counted as "units with one / units"; per-subdistrict kinds counted as facilities.
UNIT_KINDS = ("children_home", "parent_school")
SUBDISTRICT_KINDS = ("protection_station", "law_base")


def walk_kinds(coverage: pd.DataFrame | None) -> list[str]:
    """Return the kinds (or ``a+b`` groups) with per-subdistrict rows in a coverage table."""
    if coverage is None or coverage.empty:
        return []
    rows = coverage[(coverage["level"] == "subdistrict") & ~coverage["kind"].str.contains("@")]
    return list(dict.fromkeys(rows["kind"]))


def subdistrict_summary(layers: LayerSet, coverage: pd.DataFrame | None = None) -> pd.DataFrame:
    """Return one row per 办事处/镇 with what the plans count there, in both scenarios.

    Columns: ``code, name, units, population, children``; for 儿童之家 and 家长学校
    ``<kind>`` (units that have one) and ``<kind>_planned``; ``childcare_places`` and
    ``places_per_1000`` (托位 per 1,000 residents) with their ``_planned``; for 未成年人保护
    工作站 and 法治教育实践基地 the number of facilities, with ``_planned``; and for every
    kind measured on the streets ``walk_<kind>``, the share of children within its radius as
    things stand (0–1, NaN when unknown), from the ``subdistrict`` rows of ``coverage``.

    Returns
    -------
    pandas.DataFrame
        In subdistrict code order.
    """
    sd = layers.subdistricts[["code", "name"]].sort_values("code").reset_index(drop=True)
    units = layers.units
    fac = layers.facilities
    unit_codes = facility_level_codes(layers, level="unit")
    sd_codes = facility_level_codes(layers, level="subdistrict")
    out = sd.copy()
    grouped = units.groupby("subdistrict")
    out["units"] = out["code"].map(grouped.size()).fillna(0).astype(int)
    out["population"] = out["code"].map(grouped["population"].sum()).fillna(0.0)
    out["children"] = out["code"].map(grouped["children"].sum(min_count=1))
    for scenario in SCENARIOS:
        suffix = "" if scenario == "current" else "_planned"
        for kind in UNIT_KINDS:
            sure, _ = select(fac, (kind,), Filters(), scenario=scenario)
            have = units["code"].isin(set(unit_codes[sure].dropna()))
            out[f"{kind}{suffix}"] = out["code"].map(
                have.groupby(units["subdistrict"]).sum()).fillna(0).astype(int)
        sure, _ = select(fac, ("childcare",), Filters(), scenario=scenario)
        places = fac.loc[sure, "capacity"].fillna(0).groupby(sd_codes[sure]).sum()
        out[f"childcare_places{suffix}"] = out["code"].map(places).fillna(0.0)
        with np.errstate(divide="ignore", invalid="ignore"):
            out[f"places_per_1000{suffix}"] = np.where(
                out["population"] > 0, out[f"childcare_places{suffix}"] / out["population"]
                * 1000, np.nan)
        for kind in SUBDISTRICT_KINDS:
            sure, _ = select(fac, (kind,), Filters(), scenario=scenario)
            counts = pd.Series(sd_codes[sure]).value_counts()
            out[f"{kind}{suffix}"] = out["code"].map(counts).fillna(0).astype(int)
    for kind in walk_kinds(coverage):
        assert coverage is not None  # walk_kinds is empty without a coverage table
        rows = coverage[(coverage["level"] == "subdistrict") & (coverage["kind"] == kind)
                        & (coverage["scenario"] == "current")]
        out[f"walk_{kind}"] = out["code"].map(dict(zip(rows["area"], rows["share_children"],
                                                      strict=True)))
    return out


def walk_label(kind: str, *, lang: str = "zh") -> str:
    """Return the display name of a walking-share column's kind (``幼儿园+托育机构``)."""
    return "+".join((FACILITY_KINDS[k].zh if lang == "zh" else FACILITY_KINDS[k].en)
                    for k in kind.split("+"))


__all__ = ["subdistrict_summary", "walk_kinds", "walk_label"]
