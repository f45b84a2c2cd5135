"""OSM tag mappings per facility kind, and facilities read from OSM files through them."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from cfplan.geo.crs import WGS84
from cfplan.geo.osm_file import features_from_osm_file

# kind -> list of tag conditions; a feature matches a kind if all tags of one condition match.
# A value of True means "any value". Order matters: the first kind that matches wins.
OSM_TAGS: dict[str, list[dict[str, str | bool]]] = {
    "kindergarten": [{"amenity": "kindergarten"}],
    "childcare": [{"amenity": "childcare"}],
    "primary_school": [{"amenity": "school", "isced:level": "1"},
                       {"amenity": "school", "school:level": "primary"}],
    "middle_school": [{"amenity": "school", "isced:level": "2"},
                      {"amenity": "school", "school:level": "middle"}],
    "library": [{"amenity": "library"}],
    "park": [{"leisure": "park"}, {"leisure": "garden", "access": "yes"}],
    "play_facility": [{"leisure": "playground"}],
    "football_pitch": [{"leisure": "pitch", "sport": "soccer"}],
    "hospital": [{"amenity": "hospital"}],
    "activity_centre": [{"amenity": "community_centre", "community_centre": "youth_centre"}],
    "mother_baby_room": [{"amenity": "baby_hatch"}, {"changing_table": "yes", "amenity": True}],
}


def _matches(tags: pd.DataFrame, condition: dict[str, str | bool]) -> np.ndarray:
    ok = np.ones(len(tags), dtype=bool)
    for key, value in condition.items():
        if key not in tags:
            return np.zeros(len(tags), dtype=bool)
        col = tags[key]
        ok &= col.notna().to_numpy() if value is True else (col == value).to_numpy()
    return ok


def classify(tags: pd.DataFrame, *, mapping: dict[str, list[dict[str, str | bool]]] = OSM_TAGS
             ) -> pd.Series:
    """Return the facility kind of each row of OSM tags, or NA where no mapping matches.

    Returns
    -------
    pandas.Series
        Kind keys of :data:`layers.kinds.FACILITY_KINDS`, aligned with ``tags``.
    """
    kinds = pd.Series(pd.NA, index=tags.index, dtype=object)
    for kind, conditions in mapping.items():
        for condition in conditions:
            hit = _matches(tags, condition) & kinds.isna().to_numpy()
            kinds[hit] = kind
    return kinds


def facilities_from_osm_file(
    path: str | Path, *, mapping: dict[str, list[dict[str, str | bool]]] = OSM_TAGS
) -> gpd.GeoDataFrame:
    """Read facilities from an OSM XML file through the tag mapping.

    Returns
    -------
    geopandas.GeoDataFrame
        Columns ``fid`` (``osm-<element>-<id>``), ``name`` (``name:zh``, ``name`` or the
        kind's Chinese name), ``kind``, ``status`` (``existing``), and geometry in
        WGS-84. Features no mapping matches are left out; they are not facilities.
    """
    keys = sorted({k for conds in mapping.values() for c in conds for k in c})
    raw = features_from_osm_file(path, tags={k: True for k in keys})
    if raw.empty:
        return gpd.GeoDataFrame({"fid": [], "name": [], "kind": [], "status": []},
                                geometry=[], crs=WGS84)
    kinds = classify(raw, mapping=mapping)
    hit = raw[kinds.notna().to_numpy()]
    kinds = kinds[kinds.notna()]
    from cfplan.layers.kinds import FACILITY_KINDS

    names = pd.Series([None] * len(hit), index=hit.index, dtype=object)
    for col in ("name", "name:zh"):
        if col in hit:
            names = hit[col].where(hit[col].notna(), names)
    names = names.where(names.notna(), kinds.map(lambda k: FACILITY_KINDS[k].zh))
    fids = [f"osm-{el}-{i}" for el, i in hit.index]
    geoms = hit.geometry.where(~hit.geom_type.isin(["LineString"]), hit.geometry.representative_point())
    return gpd.GeoDataFrame({"fid": fids, "name": names.to_numpy(), "kind": kinds.to_numpy(),
                             "status": "existing"}, geometry=geoms.to_numpy(), crs=WGS84)
