"""School-route outputs: the ``routes/`` files, rounded to their meaning, in WGS-84."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from cfplan.analysis.rounding import round_by_meaning
from cfplan.analysis.routes import UNIT_METRIC_COLUMNS, SchoolRoutes
from cfplan.geo.crs import WGS84
from cfplan.geo.io import write_csv, write_geojson

__all__ = ["GPKG_LAYERS", "HOTSPOT_COLUMNS", "route_frames", "write_routes"]

HOTSPOT_COLUMNS = ("rank", "kind", "road_name", "hazard", "signalised", "maxspeed", "children",
                   "risk", "score", "schools")
"""Columns of ``routes/hotspots.csv`` and ``hotspots.geojson`` (issue #10)."""
_ROUNDING = {"minutes": 1, "risk": 2, "crossings": 2, "ratio": 3, "walkway_share": 3,
             "children": 1, "score": 1}


def _round(frame: pd.DataFrame) -> pd.DataFrame:
    """Metres to 0.1 m, minutes to 0.1, risk points and crossing counts to 0.01."""
    out = round_by_meaning(frame)
    for col in out.columns:
        if col == out.columns.name or not pd.api.types.is_float_dtype(out[col]):
            continue
        name = str(col)
        for key, decimals in _ROUNDING.items():
            if name == key or name.startswith(f"{key}_") or key in name.split("_"):
                out[col] = out[col].round(decimals)
                break
    return out


# The routes' geometry layers in cfplan.gpkg: file in routes/ -> GeoPackage layer name.
GPKG_LAYERS = {"routes.geojson": "route_lines", "hotspots.geojson": "route_hotspots",
               "planned_routes.geojson": "planned_routes_scored",
               "catchments.geojson": "school_catchments", "gates.geojson": "school_gates",
               "school_zones.geojson": "school_zones"}


def route_frames(routes: SchoolRoutes) -> dict[str, pd.DataFrame]:
    """Return every ``routes/`` table and layer by its file name, rounded.

    Returns
    -------
    dict
        ``routes.geojson`` (one line per unit × school × route), ``route_metrics.csv`` (per
        unit × school, :data:`cfplan.analysis.routes.UNIT_METRIC_COLUMNS`),
        ``schools.csv`` (per school), ``hotspots.geojson``/``hotspots.csv``
        (:data:`HOTSPOT_COLUMNS`, the csv with ``lon``/``lat`` of the point or the
        segment's middle), ``planned_routes.geojson``/``planned_routes.csv`` (planned
        routes scored beside the shortest and safe routes), ``catchments.geojson``,
        ``gates.geojson`` and ``school_zones.geojson``.
    """
    hot = routes.hotspots
    hot_geo = hot[[*HOTSPOT_COLUMNS, "geometry"]] if not hot.empty else hot
    if not hot.empty:
        geoms = hot.geometry.to_numpy()
        is_line = shapely.get_type_id(geoms) == shapely.GeometryType.LINESTRING
        mid = geoms.copy()
        mid[is_line] = shapely.line_interpolate_point(geoms[is_line], 0.5, normalized=True)
        lonlat = gpd.GeoSeries(mid, crs=hot.crs).to_crs(WGS84)
        hot_csv = pd.DataFrame(hot[list(HOTSPOT_COLUMNS)]).assign(
            lon=np.round(lonlat.x.to_numpy(), 7), lat=np.round(lonlat.y.to_numpy(), 7))
    else:
        hot_csv = pd.DataFrame(columns=[*HOTSPOT_COLUMNS, "lon", "lat"])
    planned = routes.planned
    return {
        "routes.geojson": _round(routes.routes),
        "route_metrics.csv": _round(routes.units[list(UNIT_METRIC_COLUMNS)]),
        "schools.csv": _round(routes.schools),
        "hotspots.geojson": _round(hot_geo),
        "hotspots.csv": _round(hot_csv),
        "planned_routes.geojson": _round(planned),
        "planned_routes.csv": _round(pd.DataFrame(planned.drop(columns="geometry"))),
        "catchments.geojson": _round(routes.catchments),
        "gates.geojson": routes.gates,
        "school_zones.geojson": _round(routes.zones),
    }


def write_routes(routes: SchoolRoutes, out: str | Path) -> list[Path]:
    """Write the ``routes/`` folder of ``out`` (see :func:`route_frames`), atomically.

    GeoJSON is WGS-84 (RFC 7946, 7 decimals); CSV is UTF-8 with a BOM, formulas
    neutralised. The same routes write the same bytes.

    Returns
    -------
    list of pathlib.Path
        The files written.
    """
    folder = Path(out) / "routes"
    files = []
    for name, frame in route_frames(routes).items():
        path = folder / name
        if name.endswith(".geojson"):
            files.append(write_geojson(frame, path))
        else:
            files.append(write_csv(frame, path))
    return files
