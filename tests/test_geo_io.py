"""CRS choice, GCJ-02/BD-09 conversion, and RFC 7946 GeoJSON that parses back."""

from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import pyproj
import pytest
from shapely.geometry import Point, Polygon

from cfplan.geo.crs import (
    bd09_to_gcj02,
    choose_metric_crs,
    gauss_kruger_epsg,
    gcj02_to_bd09,
    gcj02_to_wgs84,
    to_wgs84,
    wgs84_to_gcj02,
)
from cfplan.geo.io import geojson_text, write_geojson


def test_gauss_kruger_zones():
    assert gauss_kruger_epsg(113.7) == 4547
    assert gauss_kruger_epsg(114.0) == 4547
    assert gauss_kruger_epsg(116.4) == 4548  # Beijing
    assert choose_metric_crs(113.7, 34.7).to_epsg() == 4547
    assert choose_metric_crs(2.35, 48.85).to_epsg() == 32631  # UTM outside China
    with pytest.raises(ValueError):
        gauss_kruger_epsg(10.0)


def test_gcj02_shift_in_zhengzhou_and_round_trip():
    lon, lat = np.array([113.62, 113.78]), np.array([34.75, 34.70])
    glon, glat = wgs84_to_gcj02(lon, lat)
    t = pyproj.Transformer.from_crs(4326, 4547, always_xy=True)
    a, b = np.array(t.transform(lon, lat)), np.array(t.transform(glon, glat))
    shift = np.hypot(*(b - a))
    assert ((shift > 550) & (shift < 620)).all()  # standards.md: about 570–590 m
    back = gcj02_to_wgs84(glon, glat)
    assert np.allclose(back, (lon, lat), atol=1e-8)  # < 1 mm
    blon, blat = gcj02_to_bd09(glon, glat)
    assert np.allclose(bd09_to_gcj02(blon, blat), (glon, glat), atol=1e-6)
    assert np.allclose(to_wgs84(blon, blat, datum="bd09"), (lon, lat), atol=1e-6)
    # Outside China nothing moves.
    assert wgs84_to_gcj02(2.35, 48.85) == (2.35, 48.85)


def test_geojson_is_rfc7946(tmp_path):
    square = Polygon([(0, 0), (0, 100), (100, 100), (100, 0)])  # clockwise on purpose
    gdf = gpd.GeoDataFrame({"名称": ["甲"], "v": [np.nan], "n": [np.int64(3)]},
                           geometry=[square], crs="EPSG:4547")
    gdf = gdf.set_geometry(gdf.geometry.translate(482000, 3840000))
    path = write_geojson(gdf, tmp_path / "a.geojson")
    data = json.loads(path.read_text(encoding="utf-8"))
    assert "crs" not in data
    feat = data["features"][0]
    assert feat["properties"] == {"名称": "甲", "v": None, "n": 3}
    ring = np.array(feat["geometry"]["coordinates"][0])
    assert 113 < ring[:, 0].min() < 114 and 34 < ring[:, 1].min() < 35  # lon, lat order
    signed = np.sum((ring[1:, 0] - ring[:-1, 0]) * (ring[1:, 1] + ring[:-1, 1]))
    assert signed < 0  # counter-clockwise exterior
    decimals = {len(str(c).split(".")[1]) for c in ring.ravel() if "." in str(c)}
    assert max(decimals) <= 7
    back = gpd.read_file(path)
    assert back.crs.to_epsg() == 4326
    assert back.to_crs(4547).area.iloc[0] == pytest.approx(10000, rel=1e-4)
    assert geojson_text(gdf) == geojson_text(gdf)


def test_empty_geometry_becomes_null():
    gdf = gpd.GeoDataFrame({"a": [1, 2]}, geometry=[Point(113.7, 34.7), None], crs="EPSG:4326")
    data = json.loads(geojson_text(gdf))
    assert data["features"][1]["geometry"] is None
