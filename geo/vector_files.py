"""GeoPackage and Shapefile writers for desktop GIS: deterministic bytes, atomic, short DBF names."""

from __future__ import annotations

import errno
import json
import os
import re
import shutil
import tempfile
import threading
import warnings as py_warnings
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pyogrio.errors
import pyproj
import shapely

from cfplan.geo.crs import WGS84
from cfplan.geo.io import atomic_path, check_confined, export_geometries

# GDAL writes the time of writing into GeoPackages (gpkg_contents.last_change) and DBF headers;
# both are fixed so that the same frames give the same bytes.
FIXED_TIMESTAMP = "2000-01-01T00:00:00.000Z"
FIXED_DATE = "2000-01-01"
DBF_NAME_BYTES = 10
DBF_TEXT_BYTES = 254


@dataclass(frozen=True)
class ShapefileEncoding:
    """How a Shapefile's DBF text is encoded.

    Attributes
    ----------
    gdal
        GDAL's ``ENCODING`` layer option: ``LDID/77`` writes code page 936 (GBK) into the
        DBF header, which ArcGIS reads before the ``.cpg``.
    cpg
        The text of the ``.cpg`` file (QGIS/GDAL, GeoTools and ArcGIS read it).
    codec
        The Python codec of the same encoding.
    """

    gdal: str
    cpg: str
    codec: str


SHAPEFILE_ENCODINGS: dict[str, ShapefileEncoding] = {
    "utf-8": ShapefileEncoding("UTF-8", "UTF-8", "utf-8"),
    "gbk": ShapefileEncoding("LDID/77", "GBK", "cp936"),
}

_FAMILIES = {"Point": "point", "MultiPoint": "point", "LineString": "line",
             "MultiLineString": "line", "LinearRing": "line", "Polygon": "polygon",
             "MultiPolygon": "polygon"}


# GeoPackage geometry type of each family (polygons and lines promoted to Multi*).
GPKG_TYPES = {"point": "Point", "line": "MultiLineString", "polygon": "MultiPolygon"}


def geometry_families(gdf: gpd.GeoDataFrame) -> pd.Series:
    """Return each feature's geometry family: ``point``, ``line``, ``polygon`` or None.

    Multi-part geometries belong to their part's family; missing and empty geometries
    (and collections) have none.

    Returns
    -------
    pandas.Series
        One value per row, aligned with ``gdf``.
    """
    empty = gdf.geometry.isna() | gdf.geometry.is_empty
    return gdf.geom_type.map(_FAMILIES).where(~empty, None)


def split_by_family(gdf: gpd.GeoDataFrame) -> dict[str | None, gpd.GeoDataFrame]:
    """Return the features of ``gdf`` by geometry family, in the order line, point, polygon.

    Features without a geometry are under the key None (when there are any).

    Returns
    -------
    dict
        Family (or None) → the rows of that family, in their order.
    """
    family = geometry_families(gdf)
    parts: dict[str | None, gpd.GeoDataFrame] = {
        fam: gdf[(family == fam).to_numpy()] for fam in sorted(set(family.dropna()))}
    if family.isna().any():
        parts[None] = gdf[family.isna().to_numpy()]
    return parts


# GDAL's configuration options are process-global: districts written in threads (cfplan batch)
# take turns, or one restores the options while another still writes (a GeoPackage would
# then get the time of writing and differ from run to run).
_GDAL_CONFIG = threading.RLock()


@contextmanager
def _gdal_options(options: Mapping[str, str]) -> Iterator[None]:
    """Set GDAL configuration options for the block (one thread at a time), then restore them."""
    with _GDAL_CONFIG:
        before = {k: pyogrio.get_gdal_config_option(k) for k in options}
        pyogrio.set_gdal_config_options(dict(options))
        try:
            yield
        finally:
            pyogrio.set_gdal_config_options(before)


def _precision(crs: pyproj.CRS) -> int:
    """Decimals kept for coordinates: 7 for degrees (≈ 1 cm), 2 for metres."""
    return 7 if crs.is_geographic else 2


def _cell(value: object) -> object:
    if isinstance(value, np.ndarray):
        value = value.tolist()
    if isinstance(value, list | tuple | dict):
        return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)
    return value


def writable(df: pd.DataFrame) -> pd.DataFrame:
    """Return ``df`` with column types every GDAL driver writes.

    Text columns stay text; columns of booleans with gaps become nullable booleans;
    lists, arrays and mappings become JSON text.

    Returns
    -------
    pandas.DataFrame
        A copy (a GeoDataFrame stays one).
    """
    out = df.copy()
    geometry = out.geometry.name if isinstance(out, gpd.GeoDataFrame) else None
    for col in out.columns:
        if col == geometry or out[col].dtype != object:
            continue
        values = [v for v in out[col] if v is not None and not (isinstance(v, float) and v != v)]
        if values and all(isinstance(v, bool | np.bool_) for v in values):
            out[col] = out[col].astype("boolean")
        elif any(isinstance(v, list | tuple | dict | np.ndarray) for v in values):
            out[col] = out[col].map(_cell)
    return out


def _prepared(df: pd.DataFrame, crs: pyproj.CRS) -> pd.DataFrame:
    """Reproject and round a frame's geometries (polygon exteriors counter-clockwise)."""
    out = writable(df)
    if not isinstance(out, gpd.GeoDataFrame):
        return out
    arr = export_geometries(out.geometry, crs=crs, precision=_precision(crs))
    arr = np.array([None if g is None or shapely.is_empty(g) else g for g in arr], dtype=object)
    return out.set_geometry(gpd.GeoSeries(arr, index=out.index, crs=crs))


def write_geopackage(
    frames: Mapping[str, pd.DataFrame], path: str | os.PathLike[str], *,
    crs: str | pyproj.CRS = WGS84, families: Mapping[str, str] | None = None,
) -> Path:
    """Write frames as the named layers of one GeoPackage, atomically and deterministically.

    Parameters
    ----------
    frames
        Layer name → frame. A GeoDataFrame becomes a vector layer: of its family's type
        (``Point``, ``MultiLineString``, ``MultiPolygon``) when its geometries are of one
        family (missing ones allowed), else ``Unknown``; a plain DataFrame an attribute
        table.
    path
        The ``.gpkg`` file; replaced whole.
    crs
        CRS of every vector layer; EPSG:4326 (WGS-84 lon/lat) by default. Coordinates are
        rounded to 7 decimals in degrees, 2 in metres.
    families
        Layer name → family (``point``, ``line``, ``polygon``) of layers whose type is
        declared rather than read from the data (an empty layer still gets its type).

    Returns
    -------
    pathlib.Path
        The path written. The same frames give the same bytes (``last_change`` fixed).
    """
    crs = pyproj.CRS.from_user_input(crs)
    with atomic_path(path) as tmp, _gdal_options({"OGR_CURRENT_DATE": FIXED_TIMESTAMP}):
        for name, df in frames.items():
            data = _prepared(df, crs)
            options: dict[str, object] = {"driver": "GPKG", "layer": name}
            if any(str(c).lower() == "fid" for c in data.columns):
                # GeoPackage's own key is called fid; a column of that name (facility ids)
                # keeps its name and the key becomes ogc_fid.
                options["layer_options"] = {"FID": "ogc_fid"}
            if isinstance(data, gpd.GeoDataFrame):
                found = set(geometry_families(data).dropna())
                declared = (families or {}).get(name)
                family = declared or (found.pop() if len(found) == 1 else None)
                if family is None or (declared and found - {declared}):
                    options["geometry_type"] = "Unknown"
                else:
                    multi = data.geom_type.str.startswith("Multi").any()
                    options["geometry_type"] = ("MultiPoint" if family == "point" and multi
                                                else GPKG_TYPES[family])
                    options["promote_to_multi"] = family != "point" or bool(multi)
            with py_warnings.catch_warnings():
                py_warnings.simplefilter("ignore", RuntimeWarning)
                gdal_write(data, tmp, **options)
    return Path(path)


def gdal_write(data: pd.DataFrame, path: Path, **options: object) -> None:
    """Write a layer with ``pyogrio.write_dataframe``; GDAL's write failures as ``OSError``.

    A GDAL failure while writing (a full disk makes SQLite's commit fail) is raised as
    ``OSError`` naming the file (``ENOSPC`` when the disk has no room left), so that it
    reads as a file problem, not as a bug.

    Raises
    ------
    OSError
        If GDAL cannot write the file.
    """
    try:
        pyogrio.write_dataframe(data, path, **options)
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError) as exc:
        stats = os.statvfs(path.parent)
        full = stats.f_bavail * stats.f_frsize < 1 << 20
        code = errno.ENOSPC if full else errno.EIO
        raise OSError(code, os.strerror(code) if full else str(exc), str(path)) from exc


def _dbf_bytes(name: str, codec: str) -> int:
    return len(name.encode(codec, errors="replace"))


def _cut(text: str, limit: int, codec: str) -> str:
    """Cut ``text`` to at most ``limit`` bytes in ``codec``, never inside a character."""
    data = text.encode(codec, errors="replace")
    return data[:limit].decode(codec, errors="ignore") if len(data) > limit else text


def abbreviate(name: str, *, limit: int = DBF_NAME_BYTES, codec: str = "utf-8") -> str:
    """Return a short form of a snake_case name: the first 3 letters of each word, then cut.

    ``covered_population`` → ``cov_pop``; a name that already fits is returned as it is.
    """
    if _dbf_bytes(name, codec) <= limit:
        return name
    words = [w for w in re.split(r"_+", name) if w]
    short = "_".join(w[:3] for w in words) if len(words) > 1 else name
    return _cut(short, limit, codec)


def shapefile_field_names(
    columns: Iterable[str], *, preferred: Mapping[str, str] | None = None,
    encoding: str = "utf-8",
) -> dict[str, str]:
    """Return a DBF field name of at most 10 bytes for each column, unique and deterministic.

    Parameters
    ----------
    columns
        Column names in their order.
    preferred
        Curated short names (``has_children_home_planned`` → ``hch_plan``); they win.
    encoding
        A key of :data:`SHAPEFILE_ENCODINGS`: field names are counted in its bytes.

    Returns
    -------
    dict
        Column → field name. Names that fit are kept; longer ones take their curated name
        or :func:`abbreviate`; a collision (case-insensitive, as in dBASE) is numbered
        ``_2``, ``_3`` … in column order.
    """
    codec = SHAPEFILE_ENCODINGS[encoding].codec
    preferred = dict(preferred or {})
    cols = list(dict.fromkeys(columns))
    wanted = {c: preferred.get(c) or abbreviate(c, codec=codec) for c in cols}
    taken: set[str] = set()
    out: dict[str, str] = {}
    # Curated names and names that already fit are placed first, so that they never move.
    order = sorted(range(len(cols)), key=lambda i: (cols[i] not in preferred
                                                     and wanted[cols[i]] != cols[i], i))
    for i in order:
        col = cols[i]
        name = wanted[col]
        n = 1
        while name.lower() in taken:
            n += 1
            suffix = f"_{n}"
            name = _cut(wanted[col], DBF_NAME_BYTES - len(suffix), codec) + suffix
        taken.add(name.lower())
        out[col] = name
    return {c: out[c] for c in cols}


@dataclass
class ShapefileReport:
    """What :func:`write_shapefiles` wrote and what it had to change.

    Attributes
    ----------
    files
        Every file written (``.shp``, ``.shx``, ``.dbf``, ``.prj``, ``.cpg`` per layer).
    fields
        One row per layer and column: ``layer, shapefile, field, shp_field``.
    replaced
        ``(layer, field) → n`` text cells with characters the encoding lacks (written ``?``).
    truncated
        ``(layer, field) → n`` text cells longer than a DBF holds (254 bytes), cut.
    skipped
        ``layer → n`` features without a geometry (a Shapefile cannot hold them).
    """

    files: list[Path] = field(default_factory=list)
    fields: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(
        columns=["layer", "shapefile", "field", "shp_field"]))
    replaced: dict[tuple[str, str], int] = field(default_factory=dict)
    truncated: dict[tuple[str, str], int] = field(default_factory=dict)
    skipped: dict[str, int] = field(default_factory=dict)


def _encode_text(df: pd.DataFrame, layer: str, codec: str, report: ShapefileReport
                 ) -> pd.DataFrame:
    """Make every text cell encodable in ``codec`` and at most 254 bytes, counting changes."""
    out = df.copy()
    geometry = out.geometry.name if isinstance(out, gpd.GeoDataFrame) else None
    for col in out.columns:
        if col == geometry or not (out[col].dtype == object
                                   or pd.api.types.is_string_dtype(out[col])):
            continue
        replaced = truncated = 0
        cells = []
        for value in out[col]:
            if isinstance(value, str):
                try:
                    data = value.encode(codec)
                except UnicodeEncodeError:
                    data = value.encode(codec, errors="replace")
                    value = data.decode(codec)
                    replaced += 1
                if len(data) > DBF_TEXT_BYTES:
                    value = _cut(value, DBF_TEXT_BYTES, codec)
                    truncated += 1
            cells.append(value)
        out[col] = pd.Series(cells, index=out.index, dtype=object)
        if replaced:
            report.replaced[(layer, str(col))] = replaced
        if truncated:
            report.truncated[(layer, str(col))] = truncated
    return out


def write_shapefiles(
    frames: Mapping[str, gpd.GeoDataFrame], folder: str | os.PathLike[str], *,
    encoding: str = "utf-8", preferred: Mapping[str, str] | None = None,
    crs: str | pyproj.CRS = WGS84,
) -> ShapefileReport:
    """Write each frame as a Shapefile in ``folder``, with its ``.cpg``, atomically per file.

    Parameters
    ----------
    frames
        Layer name → GeoDataFrame. A layer holding points and polygons (say) is split into
        ``<layer>_point``, ``<layer>_line``, ``<layer>_polygon``; features without a
        geometry and empty layers are left out (counted in ``skipped``).
    folder
        Output folder (created).
    encoding
        ``"utf-8"`` or ``"gbk"`` (code page 936 in the DBF header, ``.cpg`` ``GBK``).
    preferred
        Curated field names for :func:`shapefile_field_names`.
    crs
        CRS of the files (``.prj``), EPSG:4326 by default; coordinates rounded as in
        :func:`write_geopackage`.

    Returns
    -------
    ShapefileReport
        Files, the field-name table, and the text cells that had to change.
    """
    enc = SHAPEFILE_ENCODINGS[encoding]
    crs = pyproj.CRS.from_user_input(crs)
    folder = Path(folder)
    check_confined(folder)
    folder.mkdir(parents=True, exist_ok=True)
    report = ShapefileReport()
    rows = []
    stage = Path(tempfile.mkdtemp(prefix=".shp.", dir=folder))
    try:
        for layer, gdf in frames.items():
            data = _prepared(gdf, crs)
            has = data.geometry.notna().to_numpy()
            if (~has).any():
                report.skipped[layer] = int((~has).sum())
            data = data[has]
            if data.empty:
                continue
            names = shapefile_field_names([c for c in data.columns if c != data.geometry.name],
                                          preferred=preferred, encoding=encoding)
            data = _encode_text(data, layer, enc.codec, report).rename(columns=names)
            groups = split_by_family(data)
            for fam, part in groups.items():
                stem = layer if len(groups) == 1 else f"{layer}_{fam}"
                with py_warnings.catch_warnings():
                    py_warnings.simplefilter("ignore", RuntimeWarning)
                    gdal_write(
                        part, stage / f"{stem}.shp", driver="ESRI Shapefile",
                        encoding=enc.gdal, promote_to_multi=True if fam != "point" else None,
                        layer_options={"DBF_DATE_LAST_UPDATE": FIXED_DATE})
                (stage / f"{stem}.cpg").write_text(enc.cpg, encoding="ascii")
                rows += [{"layer": layer, "shapefile": f"{stem}.shp", "field": col,
                          "shp_field": short} for col, short in names.items()]
        for tmp in sorted(stage.iterdir()):  # each file replaced atomically
            os.replace(tmp, folder / tmp.name)
            report.files.append(folder / tmp.name)
    finally:
        shutil.rmtree(stage, ignore_errors=True)
    report.fields = pd.DataFrame(rows, columns=["layer", "shapefile", "field", "shp_field"])
    return report


__all__ = [
    "DBF_NAME_BYTES",
    "DBF_TEXT_BYTES",
    "GPKG_TYPES",
    "SHAPEFILE_ENCODINGS",
    "ShapefileEncoding",
    "ShapefileReport",
    "abbreviate",
    "geometry_families",
    "shapefile_field_names",
    "split_by_family",
    "writable",
    "write_geopackage",
    "write_shapefiles",
]
