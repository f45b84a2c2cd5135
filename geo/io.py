"""File I/O: atomic writes and deterministic RFC 7946 GeoJSON."""

from __future__ import annotations

import json
import math
import os
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from cfplan.geo.crs import WGS84


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically: a temporary file in the same folder, then rename.

    Returns
    -------
    pathlib.Path
        The path written.
    """
    path = Path(path)
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


def rfc7946_geometries(
    geoms: gpd.GeoSeries, *, precision: int = 7
) -> list[dict[str, object] | None]:
    """Return GeoJSON geometry dicts in WGS-84 lon/lat, rounded, with RFC 7946 ring order.

    Parameters
    ----------
    geoms
        Geometries in any CRS known to the series.
    precision
        Decimal places kept (7 ≈ 1 cm).

    Returns
    -------
    list
        One mapping (or ``None`` for an empty or missing geometry) per geometry.
    """
    series = geoms.to_crs(WGS84) if geoms.crs is not None else geoms
    arr = shapely.orient_polygons(np.asarray(series.values), exterior_cw=False)
    arr = shapely.transform(arr, lambda c: np.round(c, precision))
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
) -> str:
    """Serialise a GeoDataFrame as deterministic RFC 7946 GeoJSON text.

    Coordinates are WGS-84 lon/lat with at most ``precision`` decimals; polygon
    exteriors are counter-clockwise; properties keep column order; NaN becomes null.
    The same frame always gives the same text.

    Returns
    -------
    str
        The FeatureCollection, one feature per line.
    """
    cols = [c for c in (columns or gdf.columns) if c != gdf.geometry.name]
    geometries = rfc7946_geometries(gdf.geometry, precision=precision)
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
) -> Path:
    """Write a GeoDataFrame to ``path`` as RFC 7946 GeoJSON, atomically and deterministically.

    Returns
    -------
    pathlib.Path
        The path written.
    """
    return atomic_write_text(
        path, geojson_text(gdf, precision=precision, columns=columns, name=Path(path).stem)
    )


def write_csv(df: pd.DataFrame, path: str | os.PathLike[str], *, bom: bool = True) -> Path:
    """Write a table as UTF-8 CSV (with a BOM by default, so Excel reads Chinese), atomically.

    Returns
    -------
    pathlib.Path
        The path written.
    """
    text = df.to_csv(index=False, lineterminator="\n")
    return atomic_write_bytes(path, (("\ufeff" if bom else "") + text).encode("utf-8"))
