"""Cross-references between layers: 校门 and 学区 name a school, entrances name a facility."""

from __future__ import annotations

import geopandas as gpd
import numpy as np

from cfplan.layers.accounting import Rejection, reject_rows
from cfplan.layers.kinds import SCHOOL_KINDS, kind_label
from cfplan.layers.text import Text


def reject_unknown_references(
    frame: gpd.GeoDataFrame, layer: str, field_name: str, facilities: gpd.GeoDataFrame,
    rejected: list[Rejection], *, kinds: tuple[str, ...] | None = None,
) -> gpd.GeoDataFrame:
    """Reject the features whose ``field_name`` names no facility used (of ``kinds``).

    A 校门 or 学区 whose 学校编号 names no school, or a park entrance whose 设施编号 names
    no facility, would otherwise be dropped without a word by the analysis that joins
    them; here each goes to ``rejected`` with its reason and counts as read.

    Parameters
    ----------
    frame
        The referring layer (``gates``, ``school_districts``, ``entrances``).
    layer, field_name
        Its layer name and the field holding the facility id (``school``, ``facility``).
    facilities
        The facilities used (both scenarios), with ``fid`` and ``kind``.
    kinds
        The kinds the facility must be (schools), or ``None`` for any.

    Returns
    -------
    geopandas.GeoDataFrame
        The features kept.
    """
    if frame.empty or field_name not in frame.columns:
        return frame
    kind_of = dict(zip(facilities["fid"].astype(str), facilities["kind"].astype(str),
                       strict=True)) if not facilities.empty else {}
    wanted = Text("学校", "school") if kinds == SCHOOL_KINDS else Text("设施", "facility")
    mask = np.zeros(len(frame), dtype=bool)
    reasons: list[Text] = []
    for pos, value in enumerate(frame[field_name].astype(str)):
        kind = kind_of.get(value)
        if kind is None:
            reason = Text(f"设施图层中没有编号为「{value}」的{wanted.zh}（不存在，或已被剔除）",
                          f"no {wanted.en} with id {value!r} among the facilities used "
                          "(none has it, or it was rejected)")
        elif kinds is not None and kind not in kinds:
            reason = Text(f"「{value}」是{kind_label(kind)}，不是{wanted.zh}",
                          f"{value!r} is a {kind_label(kind, lang='en').lower()}, not a "
                          f"{wanted.en}")
        else:
            continue
        mask[pos] = True
        reasons.append(reason)
    return reject_rows(frame, mask, layer, field_name, reasons, rejected)


__all__ = ["reject_unknown_references"]
