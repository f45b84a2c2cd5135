"""File I/O: atomic writes, deterministic RFC 7946 GeoJSON, and CSV/XLSX safe from formulas."""

from __future__ import annotations

import io
import json
import math
import os
import re
import shutil
import tempfile
import unicodedata
import zipfile
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, date, datetime
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from cfplan.geo.crs import WGS84, geometries_to_gcj02

# Datums a GeoJSON export can be written in: WGS-84 (RFC 7946) or GCJ-02 for AMap-based systems.
EXPORT_DATUMS = ("wgs84", "gcj02")


# The folder every output file of the current run must lie in (set by ``confine_writes``).
_WRITE_ROOT: ContextVar[Path | None] = ContextVar("cfplan_write_root", default=None)
# Characters no file name may hold on Linux, macOS or Windows, and Windows' device names.
_UNSAFE_CHARS = re.compile(r'[\x00-\x1f\x7f/\\:*?"<>|]')
_DEVICE_NAMES = re.compile(r"^(con|prn|aux|nul|com[0-9]|lpt[0-9])(\..*)?$", re.IGNORECASE)
FILE_NAME_BYTES = 120


class OutsideOutputError(ValueError):
    """A file was about to be written outside the run's output folder (a bug, never input)."""


def safe_name(text: object, *, max_bytes: int = FILE_NAME_BYTES) -> str:
    """Return ``text`` as one safe file-name component, readable (Chinese kept).

    Path separators, control characters and ``: * ? " < > |`` become ``_``; leading dots
    and spaces, trailing dots and spaces go (so ``..`` or ``.hidden`` cannot result);
    Windows device names get a leading ``_``; the name is cut to ``max_bytes`` of UTF-8.

    Returns
    -------
    str
        A non-empty name that stays inside the folder it is joined to.
    """
    name = _UNSAFE_CHARS.sub("_", unicodedata.normalize("NFC", str(text)))
    name = name.lstrip(". ").rstrip(". ")
    if _DEVICE_NAMES.match(name):
        name = f"_{name}"
    while len(name.encode("utf-8")) > max_bytes:
        name = name[:-1]
    return name.rstrip(". ") or "_"


def output_path(root: str | os.PathLike[str], *parts: object) -> Path:
    """Return ``root/part/...`` with each part made a safe name (:func:`safe_name`).

    Raises
    ------
    OutsideOutputError
        If the result still resolves outside ``root`` (a symlink inside it, say).
    """
    base = Path(root)
    path = base.joinpath(*(safe_name(p) for p in parts))
    _check_inside(path, base)
    return path


def _check_inside(path: Path, root: Path) -> None:
    real, top = path.resolve(), root.resolve()
    if real != top and not real.is_relative_to(top):
        raise OutsideOutputError(f"{path} lies outside the output folder {root}")


@contextmanager
def confine_writes(root: str | os.PathLike[str]) -> Iterator[Path]:
    """Make every atomic write in this context refuse a path outside ``root``.

    Yields
    ------
    pathlib.Path
        ``root``.
    """
    token = _WRITE_ROOT.set(Path(root))
    try:
        yield Path(root)
    finally:
        _WRITE_ROOT.reset(token)


def check_confined(path: str | os.PathLike[str]) -> None:
    """Raise :class:`OutsideOutputError` if ``path`` lies outside the :func:`confine_writes` folder."""
    root = _WRITE_ROOT.get()
    if root is not None:
        _check_inside(Path(path), root)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes, *,
                       confined: bool = True) -> Path:
    """Write ``data`` to ``path`` atomically: a temporary file in the same folder, then rename.

    Inside :func:`confine_writes` the path must lie in its folder (``confined=False``:
    a cache beside the inputs, not an output).

    Returns
    -------
    pathlib.Path
        The path written.

    Raises
    ------
    OutsideOutputError
        If ``path`` lies outside the confining folder.
    """
    path = Path(path)
    if confined:
        check_confined(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


@contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success it replaces ``path`` atomically.

    For writers that need a file name rather than bytes (GDAL, SQLite): they write to the
    temporary path, which is renamed over ``path`` only when the block ends without an
    error; on an error it is removed and ``path`` is left as it was.

    Yields
    ------
    pathlib.Path
        A path in a fresh hidden folder in the same directory (same file system).
    """
    path = Path(path)
    check_confined(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp_dir = Path(tempfile.mkdtemp(prefix=f".{path.name}.", dir=path.parent))
    try:
        tmp = tmp_dir / path.name
        yield tmp
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    finally:
        shutil.rmtree(tmp_dir, ignore_errors=True)


def atomic_write_text(path: str | os.PathLike[str], text: str) -> Path:
    """Write UTF-8 ``text`` to ``path`` atomically (LF line ends).

    Returns
    -------
    pathlib.Path
        The path written.
    """
    return atomic_write_bytes(path, text.encode("utf-8"))


def _json_value(value: object) -> object:
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float | np.floating):
        f = float(value)
        if math.isnan(f) or math.isinf(f):
            return None
        return int(f) if f.is_integer() and abs(f) < 2**53 else round(f, 6)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [_json_value(v) for v in value]
    if isinstance(value, np.ndarray):
        return [_json_value(v) for v in value.tolist()]
    if isinstance(value, Mapping):
        return {str(k): _json_value(v) for k, v in value.items()}
    return value


def export_geometries(
    geoms: gpd.GeoSeries, *, crs: object = WGS84, precision: int = 7, datum: str = "wgs84"
) -> np.ndarray:
    """Return shapely geometries as exported: in ``crs``, rounded, exteriors counter-clockwise.

    Parameters
    ----------
    geoms
        Geometries in any CRS known to the series (none: taken as already in ``crs``).
    crs
        Target CRS; WGS-84 lon/lat by default.
    precision
        Decimal places kept (7 ≈ 1 cm in degrees).
    datum
        ``"wgs84"`` (default) or ``"gcj02"`` (WGS-84 ``crs`` only): the rounded WGS-84
        coordinates shifted to GCJ-02 (AMap/Tencent) and rounded again, so that a GCJ-02
        export equals the conversion of the WGS-84 one.

    Returns
    -------
    numpy.ndarray
        One shapely geometry (or ``None``) per input geometry.
    """
    if datum not in EXPORT_DATUMS:
        msg = f"unknown export datum {datum!r}: use one of {', '.join(EXPORT_DATUMS)}"
        raise ValueError(msg)
    series = geoms.to_crs(crs) if geoms.crs is not None else geoms
    arr = shapely.orient_polygons(np.asarray(series.values), exterior_cw=False)
    arr = shapely.transform(arr, lambda c: np.round(c, precision))
    if datum == "gcj02":
        arr = shapely.transform(geometries_to_gcj02(arr), lambda c: np.round(c, precision))
    return arr


def rfc7946_geometries(
    geoms: gpd.GeoSeries, *, precision: int = 7, datum: str = "wgs84"
) -> list[dict[str, object] | None]:
    """Return GeoJSON geometry dicts in WGS-84 lon/lat, rounded, with RFC 7946 ring order.

    ``precision`` decimals are kept; ``datum="gcj02"`` shifts them as
    :func:`export_geometries` does.

    Returns
    -------
    list
        One mapping (or ``None`` for an empty or missing geometry) per geometry.
    """
    arr = export_geometries(geoms, precision=precision, datum=datum)
    out: list[dict[str, object] | None] = []
    for geom in arr:
        if geom is None or geom.is_empty:
            out.append(None)
        else:
            out.append(json.loads(shapely.to_geojson(geom)))
    return out


def geojson_text(
    gdf: gpd.GeoDataFrame,
    *,
    precision: int = 7,
    columns: Iterable[str] | None = None,
    name: str | None = None,
    datum: str = "wgs84",
) -> str:
    """Serialise a GeoDataFrame as deterministic RFC 7946 GeoJSON text.

    Coordinates are WGS-84 lon/lat with at most ``precision`` decimals (GCJ-02 lon/lat
    with ``datum="gcj02"``, for AMap-based systems: not RFC 7946); polygon exteriors are
    counter-clockwise; properties keep column order; NaN becomes null. The same frame
    always gives the same text.

    Returns
    -------
    str
        The FeatureCollection, one feature per line.
    """
    cols = [c for c in (columns or gdf.columns) if c != gdf.geometry.name]
    geometries = rfc7946_geometries(gdf.geometry, precision=precision, datum=datum)
    records = gdf[cols].to_dict(orient="records") if cols else [{} for _ in range(len(gdf))]
    lines = []
    for props, geom in zip(records, geometries, strict=True):
        feature = {
            "type": "Feature",
            "properties": {str(k): _json_value(v) for k, v in props.items()},
            "geometry": geom,
        }
        lines.append(json.dumps(feature, ensure_ascii=False, separators=(",", ":")))
    head = {"type": "FeatureCollection"}
    if name:
        head["name"] = name
    opening = json.dumps(head, ensure_ascii=False)[:-1] + ',"features":[\n'
    return opening + ",\n".join(lines) + "\n]}\n"


def write_geojson(
    gdf: gpd.GeoDataFrame,
    path: str | os.PathLike[str],
    *,
    precision: int = 7,
    columns: Iterable[str] | None = None,
    datum: str = "wgs84",
) -> Path:
    """Write a GeoDataFrame to ``path`` as RFC 7946 GeoJSON, atomically and deterministically.

    ``datum="gcj02"`` writes GCJ-02 lon/lat instead (see :func:`geojson_text`).

    Returns
    -------
    pathlib.Path
        The path written.
    """
    return atomic_write_text(
        path, geojson_text(gdf, precision=precision, columns=columns, name=Path(path).stem,
                           datum=datum)
    )


# OWASP CSV injection: a cell starting with one of these is a formula in a spreadsheet.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def is_formula_like(value: object) -> bool:
    """Return True for text a spreadsheet would run as a formula (``=1+1``, ``@SUM(..)``, …)."""
    return isinstance(value, str) and value.startswith(FORMULA_PREFIXES)


def neutralise_formulas(df: pd.DataFrame) -> pd.DataFrame:
    """Return ``df`` with every formula-like text cell prefixed by ``'`` (numbers untouched).

    Returns
    -------
    pandas.DataFrame
        A copy; only text cells that start with ``= + - @``, a tab or a carriage return
        change, as OWASP's CSV-injection guidance recommends.
    """
    out = df.copy()
    for col in out.columns:
        if out[col].dtype == object or pd.api.types.is_string_dtype(out[col]):
            out[col] = out[col].map(lambda v: f"'{v}" if is_formula_like(v) else v)
    return out


def write_csv(df: pd.DataFrame, path: str | os.PathLike[str], *, bom: bool = True) -> Path:
    """Write a table as UTF-8 CSV (with a BOM by default, so Excel reads Chinese), atomically.

    Text cells a spreadsheet would run as formulas are neutralised with a leading ``'``.

    Returns
    -------
    pathlib.Path
        The path written.
    """
    text = neutralise_formulas(df).to_csv(index=False, lineterminator="\n")
    return atomic_write_bytes(path, (("\ufeff" if bom else "") + text).encode("utf-8"))


def _xlsx_cell(value: object) -> object:
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, np.generic):
        return value.item()
    return value


def package_version() -> str:
    """Return cfplan's installed version (``dev`` when it is not installed)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("cfplan")
    except PackageNotFoundError:
        return "dev"


def run_date() -> datetime:
    """Return the date a run puts on its documents (UTC, aware).

    ``SOURCE_DATE_EPOCH`` (seconds since 1970, the reproducible-builds convention) fixes
    it, so that reruns are byte-identical on any day; otherwise it is today's date (local
    calendar day) at 00:00, so that reruns on the same day are byte-identical too.

    Raises
    ------
    ValueError
        When ``SOURCE_DATE_EPOCH`` is set but is not a whole number of seconds from 1980 on
        (a zip file cannot hold an earlier date).
    """
    raw = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if not raw:
        today = date.today()
        return datetime(today.year, today.month, today.day, tzinfo=UTC)
    if not raw.isdigit() or int(raw) < _ZIP_EPOCH:
        msg = (f"SOURCE_DATE_EPOCH={raw!r}: give whole seconds since 1970-01-01 UTC, from "
               "1980 on (e.g. $(date +%s))")
        raise ValueError(msg)
    return datetime.fromtimestamp(int(raw), tz=UTC)


_ZIP_EPOCH = 315532800  # 1980-01-01T00:00:00Z, the earliest date a zip member can carry


def write_xlsx(sheets: Mapping[str, pd.DataFrame], path: str | os.PathLike[str], *,
               style: object = None, when: datetime | None = None) -> Path:
    """Write tables as sheets of one XLSX file, atomically and deterministically.

    Numbers stay numbers. Every text cell is stored as text, never as a formula (a name
    such as ``=1+1`` stays the text ``=1+1``), and formula-like text is marked
    ``quotePrefix`` so that editing the cell in Excel keeps it text. The created and
    modified dates are ``when`` (default :func:`run_date`), so the same tables give the
    same bytes.

    Parameters
    ----------
    sheets
        Sheet name (cut to 31 characters) → table.
    path
        The file to write.
    style
        Optional callable ``style(worksheet, name, df)`` applied to each sheet before saving
        (header fonts, freezing, filters, colours, number formats, print set-up).
    when
        The documents' date.

    Returns
    -------
    pathlib.Path
        The path written.
    """
    from openpyxl import Workbook

    when = when or run_date()
    wb = Workbook()
    wb.remove(wb.active)
    for name, df in sheets.items():
        ws = wb.create_sheet(title=name[:31])
        ws.append([str(c) for c in df.columns])
        for r, row in enumerate(df.itertuples(index=False), start=2):
            for c, value in enumerate(row, start=1):
                cell = ws.cell(row=r, column=c)
                value = _xlsx_cell(value)
                if isinstance(value, str):
                    cell.value = value
                    cell.data_type = "s"  # never a formula
                    if is_formula_like(value):
                        cell.quotePrefix = True
                else:
                    cell.value = value
        for header in ws[1]:
            if is_formula_like(header.value):
                header.data_type = "s"
                header.quotePrefix = True
        for col in ws.columns:
            width = max(len(str(c.value or "")) for c in col)
            ws.column_dimensions[col[0].column_letter].width = min(60, max(8, width * 1.6))
        if callable(style):
            style(ws, name, df)
    naive = when.astimezone(UTC).replace(tzinfo=None)
    wb.properties.created = naive
    wb.properties.modified = naive
    wb.properties.creator = "cfplan"
    buf = io.BytesIO()
    wb.save(buf)
    return atomic_write_bytes(path, fixed_zip(buf.getvalue(), when=when))


def fixed_zip(data: bytes, *, when: datetime | None = None) -> bytes:
    """Return an Office (OOXML) zip with fixed timestamps, so the same content gives the same bytes.

    Members are sorted by name and dated ``when`` (default :func:`run_date`); the created
    and modified dates in ``docProps/core.xml`` are set to it too (XLSX and DOCX alike).

    Returns
    -------
    bytes
        The rewritten zip.
    """
    when = (when or run_date()).astimezone(UTC)
    stamp = when.strftime("%Y-%m-%dT%H:%M:%SZ").encode()
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in sorted(src.infolist(), key=lambda i: i.filename):
            member = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                for tag in (rb"dcterms:modified", rb"dcterms:created"):
                    member = re.sub(rb"(<" + tag + rb"[^>]*>)[^<]*", rb"\g<1>" + stamp, member)
            zi = zipfile.ZipInfo(info.filename, date_time=when.timetuple()[:6])
            zi.compress_type = zipfile.ZIP_DEFLATED
            dst.writestr(zi, member)
    return out.getvalue()
