"""Account for every feature: rejections and repairs, and read = used + rejected per file."""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd

from cfplan.geo.crs import WGS84
from cfplan.layers.schema import is_missing
from cfplan.layers.text import Text

ACCOUNTING_COLUMNS = ["layer", "file", "crs", "datum", "read", "used", "repaired", "rejected"]
REJECTED_COLUMNS = ["layer", "file", "row", "feature", "field", "reason"]


@dataclass
class Rejection:
    """One feature not used, and why.

    Attributes
    ----------
    layer, file, row
        Where it came from (``row`` is 1-based in the file).
    feature
        Its id or name, ``-`` if it has none.
    field
        The field at fault (``geometry`` for coordinates).
    reason
        What is wrong, in both languages.
    geometry
        The feature's geometry in WGS-84, when it has a usable one.
    """

    layer: str
    file: str
    row: int
    feature: str
    field: str
    reason: Text
    geometry: object = None


@dataclass
class Repair:
    """One unambiguous repair applied to a feature (it is used, as repaired)."""

    layer: str
    file: str
    row: int
    feature: str
    field: str
    what: Text


@dataclass(frozen=True)
class ReadCount:
    """How many features one input file held before validation."""

    layer: str
    file: str
    read: int
    crs: str = ""  # the CRS the file was read in ("EPSG:4326 WGS 84" …; "lon/lat": a table)
    datum: str = "wgs84"  # its declared datum: wgs84, cgcs2000, gcj02, bd09 …


def feature_label(row: pd.Series) -> str:
    """Return a feature's id or name for messages (``-`` when it has neither)."""
    for key in ("fid", "code", "编码", "编号", "id", "name", "名称", "NAME"):
        if key in row.index and not is_missing(row[key]):
            return str(row[key])
    return "-"


def reject_rows(
    gdf: gpd.GeoDataFrame, mask: np.ndarray, layer: str, field_name: str, reasons: list[Text],
    rejected: list[Rejection],
) -> gpd.GeoDataFrame:
    """Move the rows of ``gdf`` where ``mask`` holds into ``rejected``, one reason each.

    Returns
    -------
    geopandas.GeoDataFrame
        The rows kept (a copy).
    """
    idx = np.flatnonzero(mask)
    geoms = gdf.geometry.iloc[idx].to_crs(WGS84) if gdf.crs is not None else gdf.geometry.iloc[idx]
    for i, reason, geom in zip(idx, reasons, geoms, strict=True):
        row = gdf.iloc[i]
        rejected.append(Rejection(layer, str(row["_file"]), int(row["_row"]), feature_label(row),
                                  field_name, reason, geom))
    return gdf.loc[~mask].copy()


def dedupe_across_files(
    gdf: gpd.GeoDataFrame, layer: str, key: str, rejected: list[Rejection]
) -> gpd.GeoDataFrame:
    """Reject features whose ``key`` repeats one of an earlier file (the first one is kept).

    Returns
    -------
    geopandas.GeoDataFrame
        The features kept.
    """
    if gdf.empty:
        return gdf
    dup = gdf.duplicated(subset=[key], keep="first").to_numpy()
    reasons = [Text(f"编号「{v}」与其他文件重复", f"id {v!r} repeats one of another file")
               for v in gdf.loc[dup, key]]
    return reject_rows(gdf, dup, layer, key, reasons, rejected)


def accounting_table(
    counts: list[ReadCount],
    used: dict[str, gpd.GeoDataFrame],
    rejected: list[Rejection],
    repairs: list[Repair],
    *,
    check: bool = True,
) -> pd.DataFrame:
    """Count, per input file, the features read, used, repaired (of those used) and rejected.

    Parameters
    ----------
    counts
        Features read per file.
    used
        The layers as used, by layer name, with ``_file`` and ``_row`` columns.
    rejected, repairs
        Every rejection and repair so far.
    check
        Raise when read != used + rejected. A loader that stops on a fatal error writes
        the table of what it got through with ``check=False``.

    Returns
    -------
    pandas.DataFrame
        Columns ``layer, file, crs, datum, read, used, repaired, rejected`` (``crs``: the
        CRS the file was read in; ``datum``: the datum it was declared in).

    Raises
    ------
    RuntimeError
        If read != used + rejected for any file (with ``check``): a feature was lost or
        counted twice, which is a bug in the loader, never a property of the input.
    """
    rows = []
    for count in counts:
        name = count.file
        frame = used.get(count.layer)
        rows_used = (set() if frame is None or frame.empty
                     else set(frame.loc[frame["_file"] == name, "_row"].astype(int)))
        rows_rejected = [r.row for r in rejected if r.layer == count.layer and r.file == name]
        rows_repaired = {r.row for r in repairs if r.layer == count.layer and r.file == name}
        rows.append({"layer": count.layer, "file": name, "crs": count.crs,
                     "datum": count.datum, "read": count.read,
                     "used": len(rows_used), "repaired": len(rows_repaired & rows_used),
                     "rejected": len(rows_rejected)})
        lost = count.read - len(rows_used) - len(rows_rejected)
        broken = (lost or len(set(rows_rejected)) != len(rows_rejected)
                  or rows_used & set(rows_rejected))
        if check and broken:
            msg = (f"accounting mismatch for {count.layer} {name}: read {count.read}, used "
                   f"{len(rows_used)}, rejected {len(rows_rejected)} (a loader bug; please "
                   "report it)")
            raise RuntimeError(msg)
    return pd.DataFrame(rows, columns=ACCOUNTING_COLUMNS)


def rejected_frame(rejected: list[Rejection], *, lang: str = "zh") -> gpd.GeoDataFrame:
    """Return the rejections as a GeoDataFrame (geometry may be missing), sorted stably.

    Returns
    -------
    geopandas.GeoDataFrame
        Columns ``layer, file, row, feature, field, reason`` (``reason`` in ``lang``) and
        geometry in WGS-84.
    """
    data = [{"layer": r.layer, "file": r.file, "row": r.row, "feature": r.feature,
             "field": r.field, "reason": r.reason.get(lang), "geometry": r.geometry}
            for r in rejected]
    gdf = gpd.GeoDataFrame(data, columns=[*REJECTED_COLUMNS, "geometry"], geometry="geometry",
                           crs=WGS84)
    return gdf.sort_values(["layer", "file", "row"], ignore_index=True, kind="stable")


__all__ = [
    "ACCOUNTING_COLUMNS",
    "ReadCount",
    "Rejection",
    "Repair",
    "accounting_table",
    "dedupe_across_files",
    "feature_label",
    "reject_rows",
    "rejected_frame",
]
