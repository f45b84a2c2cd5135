"""Exports bureaus load directly: one GeoPackage, and Shapefiles with a field-name table."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import geopandas as gpd
import pandas as pd

from cfplan.analysis.rounding import round_by_meaning
from cfplan.geo.crs import WGS84
from cfplan.geo.io import write_csv
from cfplan.geo.vector_files import (
    SHAPEFILE_ENCODINGS,
    split_by_family,
    write_geopackage,
    write_shapefiles,
)
from cfplan.layers.text import Text

GEOPACKAGE_NAME = "cfplan.gpkg"
SHAPEFILE_DIR = "shp"
FIELDS_FILE = "fields.csv"
# The CRS of the GeoPackage and the Shapefiles: WGS-84 lon/lat, as the GeoJSON. QGIS and
# ArcGIS reproject it on the fly (CGCS2000 equals WGS-84 at planning accuracy).
EXPORT_CRS = WGS84

# Curated DBF names (at most 10 characters) for the exported columns longer than that.
# docs/exports.md tables them; other long names are abbreviated (geo.vector_files.abbreviate).
SHP_FIELD_NAMES: dict[str, str] = {
    "subdistrict": "subdist",
    "subdistrict_type": "subd_type",
    "child_friendly": "child_fr",
    "child_toilet": "child_wc",
    "safe_campus": "safe_camp",
    "counselling_room": "counsel",
    "has_children_home": "hch",
    "has_children_home_planned": "hch_plan",
    "has_parent_school": "hps",
    "has_parent_school_planned": "hps_plan",
    "has_childcare": "hcc",
    "has_childcare_planned": "hcc_plan",
    "childcare_places": "cc_places",
    "fails_current": "fails_cur",
    "fails_planned": "fails_plan",
    "covered_population": "cov_pop",
    "covered_children": "cov_child",
    "outside_population": "out_pop",
    "outside_children": "out_child",
    "share_population": "sh_pop",
    "share_children": "sh_child",
    "failing_units": "fail_units",
    "mean_walk_m": "mean_walk",
    "max_walk_m": "max_walk",
}


# Layers that hold features of several geometry families: in the GeoPackage, one layer per
# family (``facilities_point``, ``facilities_polygon``), always written under these names so
# that a GIS model finds them in every district's file (empty when a district has none).
SPLIT_LAYERS: dict[str, tuple[str, ...]] = {
    "facilities": ("point", "polygon"),
    "route_hotspots": ("point", "line"),
    "rejected": ("point", "line", "polygon"),
}
NO_GEOMETRY = "nogeometry"


def layer_name(key: str) -> str:
    """Return the GeoPackage layer / Shapefile name of an export path (``layers/units`` → ``units``)."""
    return key.rsplit("/", 1)[-1]


def _named(frames: Mapping[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    out: dict[str, pd.DataFrame] = {}
    for key, df in frames.items():
        name = layer_name(key)
        if name in out:
            msg = f"two exports share the layer name {name!r}: rename one of them"
            raise ValueError(msg)
        out[name] = df
    return out


def geopackage_layers(
    frames: Mapping[str, pd.DataFrame],
) -> tuple[dict[str, pd.DataFrame], dict[str, str]]:
    """Return the GeoPackage's layers, one geometry type each, and each vector layer's family.

    A layer of :data:`SPLIT_LAYERS`, or any layer whose features are of several geometry
    families, becomes ``<name>_point``, ``<name>_line``, ``<name>_polygon``; its features
    without a geometry go to the attribute table ``<name>_nogeometry``, except for
    ``rejected``, which stays whole as an attribute table (every rejected feature, as
    ``rejected.csv``) beside its ``rejected_<family>`` layers. Other layers keep their name.

    Returns
    -------
    tuple
        Layer name → frame (GeoDataFrames for vector layers), and vector layer name →
        family (``point``, ``line``, ``polygon``).
    """
    layers: dict[str, pd.DataFrame] = {}
    families: dict[str, str] = {}
    for name, df in _named(frames).items():
        if not isinstance(df, gpd.GeoDataFrame):
            layers[name] = df
            continue
        parts = split_by_family(df)
        found = [f for f in parts if f is not None]
        if name not in SPLIT_LAYERS and len(found) <= 1:
            layers[name] = df
            if found:
                families[name] = str(found[0])
            continue
        if name == "rejected":
            layers[name] = pd.DataFrame(df.drop(columns=df.geometry.name))
        wanted = dict.fromkeys([*SPLIT_LAYERS.get(name, ()), *sorted(str(f) for f in found)])
        for family in wanted:
            part = parts.get(family, df.iloc[:0])
            layers[f"{name}_{family}"] = part
            families[f"{name}_{family}"] = family
        if None in parts and name != "rejected":
            none = parts[None]
            layers[f"{name}_{NO_GEOMETRY}"] = pd.DataFrame(none.drop(columns=none.geometry.name))
    return layers, families


def write_gis_geopackage(
    frames: Mapping[str, pd.DataFrame], out: str | Path, *,
    tables: Mapping[str, pd.DataFrame] | None = None,
) -> Path:
    """Write ``cfplan.gpkg`` into ``out``: every export frame as a named layer.

    Parameters
    ----------
    frames
        :func:`cfplan.analysis.export.export_frames`: layers become ``district``,
        ``subdistricts``, ``units``, ``facilities_point`` and ``facilities_polygon`` …,
        ``units_coverage``, ``gaps``, ``service_areas`` …, ``rejected`` (every rejected
        feature, a table) and ``rejected_<family>`` (those with a geometry); one geometry
        type per layer (:func:`geopackage_layers`).
    out
        The output folder.
    tables
        Attribute tables to add (``access_coverage``, ``access_units``), numbers rounded.

    Returns
    -------
    pathlib.Path
        The GeoPackage: EPSG:4326, coordinates to 7 decimals; same run, same bytes.
    """
    layers, families = geopackage_layers(frames)
    for name, df in (tables or {}).items():
        if name in layers:
            msg = f"the table {name!r} has the name of a layer"
            raise ValueError(msg)
        layers[name] = round_by_meaning(df)
    return write_geopackage(layers, Path(out) / GEOPACKAGE_NAME, crs=EXPORT_CRS,
                            families=families)


def write_gis_shapefiles(
    frames: Mapping[str, gpd.GeoDataFrame], out: str | Path, *, encoding: str = "utf-8",
) -> tuple[list[Path], list[Text]]:
    """Write every export frame as a Shapefile under ``out/shp/``, with ``fields.csv``.

    Field names are cut to 10 characters through :data:`SHP_FIELD_NAMES` (then
    abbreviated, numbered on collision); ``fields.csv`` lists, per layer, each column
    and its Shapefile field. A layer of mixed geometry types is split
    (``facilities_point.shp``, ``facilities_polygon.shp``).

    Parameters
    ----------
    frames
        :func:`cfplan.analysis.export.export_frames`.
    out
        The output folder.
    encoding
        ``"utf-8"`` or ``"gbk"`` (the DBF text; each Shapefile gets its ``.cpg``).

    Returns
    -------
    tuple
        The files written, and a warning per column whose text had to change (characters
        GBK lacks written as ``?``, text over 254 bytes cut) and per layer whose features
        without geometry were left out.
    """
    if encoding not in SHAPEFILE_ENCODINGS:
        msg = f"unknown Shapefile encoding {encoding!r}: use {', '.join(SHAPEFILE_ENCODINGS)}"
        raise ValueError(msg)
    folder = Path(out) / SHAPEFILE_DIR
    report = write_shapefiles(_named(frames), folder, encoding=encoding,
                              preferred=SHP_FIELD_NAMES, crs=EXPORT_CRS)
    files = [*report.files, write_csv(report.fields, folder / FIELDS_FILE)]
    warnings = []
    for (layer, col), n in sorted(report.replaced.items()):
        warnings.append(Text(f"Shapefile {layer}.{col}：{n} 个值含 {encoding.upper()} 无法表示的字符，已写为“?”；"
                             f"完整文本见 {GEOPACKAGE_NAME}",
                             f"Shapefile {layer}.{col}: {n} values hold characters "
                             f"{encoding.upper()} cannot encode, written as '?'; the full text is "
                             f"in {GEOPACKAGE_NAME}"))
    for (layer, col), n in sorted(report.truncated.items()):
        warnings.append(Text(f"Shapefile {layer}.{col}：{n} 个值超过 254 字节，已截断；完整文本见 "
                             f"{GEOPACKAGE_NAME}",
                             f"Shapefile {layer}.{col}: {n} values are longer than 254 bytes "
                             f"and were cut; the full text is in {GEOPACKAGE_NAME}"))
    for layer, n in sorted(report.skipped.items()):
        if layer == "rejected":  # rejected.csv lists them all
            continue
        warnings.append(Text(f"Shapefile {layer}：{n} 个要素没有几何，未写入（见 {GEOPACKAGE_NAME}）",
                             f"Shapefile {layer}: {n} features have no geometry and were left "
                             f"out (see {GEOPACKAGE_NAME})"))
    return files, warnings


__all__ = [
    "EXPORT_CRS",
    "FIELDS_FILE",
    "GEOPACKAGE_NAME",
    "SHAPEFILE_DIR",
    "SHP_FIELD_NAMES",
    "SPLIT_LAYERS",
    "geopackage_layers",
    "layer_name",
    "write_gis_geopackage",
    "write_gis_shapefiles",
]
