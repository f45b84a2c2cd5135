"""GCJ-02 and BD-09 against published reference values, and the metric CRS anywhere on Earth."""

from __future__ import annotations

import numpy as np
import pytest

from cfplan.geo.crs import (
    bd09_to_gcj02,
    choose_metric_crs,
    gcj02_to_bd09,
    gcj02_to_wgs84,
    to_wgs84,
    wgs84_to_gcj02,
)

# The reference implementation's own test (wandergis/coordtransform, test/app.js): each
# transform applied to (116.404, 39.915), with the results it prints.
POINT = (116.404, 39.915)
REFERENCE = {
    "wgs84_to_gcj02": (116.41024449916938, 39.91640428150164),
    "gcj02_to_bd09": (116.41036949371029, 39.92133699351021),
    "bd09_to_gcj02": (116.39762729119315, 39.90865673957631),
    # coordtransform inverts GCJ-02 in one step (2·gcj − f(gcj)); cfplan iterates to < 1 mm.
    "gcj02_to_wgs84_one_step": (116.39775550083061, 39.91359571849836),
}


@pytest.mark.parametrize("name,func", [("wgs84_to_gcj02", wgs84_to_gcj02),
                                       ("gcj02_to_bd09", gcj02_to_bd09),
                                       ("bd09_to_gcj02", bd09_to_gcj02)])
def test_forward_transforms_equal_the_reference(name, func):
    lon, lat = func(*POINT)
    assert float(lon) == pytest.approx(REFERENCE[name][0], abs=1e-12)
    assert float(lat) == pytest.approx(REFERENCE[name][1], abs=1e-12)


def test_inverse_is_exact_where_the_one_step_inverse_is_not():
    lon, lat = gcj02_to_wgs84(*POINT)
    one_step = REFERENCE["gcj02_to_wgs84_one_step"]
    # within 2 m of the one-step value, and a true inverse: back to the input below 1e-9°
    assert abs(float(lon) - one_step[0]) < 2e-5 and abs(float(lat) - one_step[1]) < 2e-5
    back = wgs84_to_gcj02(lon, lat)
    assert np.allclose(back, POINT, atol=1e-9)


def test_bd09_to_wgs84_goes_through_gcj02():
    lon, lat = to_wgs84(*REFERENCE["gcj02_to_bd09"], datum="bd09")
    gcj = wgs84_to_gcj02(lon, lat)
    assert np.allclose(gcj, POINT, atol=1e-8)


def test_outside_china_nothing_shifts():
    for lon, lat in ((24.94, 60.17), (-122.27, 37.80), (151.21, -33.87)):
        assert np.allclose(wgs84_to_gcj02(lon, lat), (lon, lat))
        assert np.allclose(gcj02_to_wgs84(lon, lat), (lon, lat))


@pytest.mark.parametrize("lon,lat,epsg", [
    (113.75, 34.75, 4547),    # Zhengzhou: CGCS2000 3-degree Gauss-Krüger, CM 114°E
    (87.6, 43.8, 4538),       # Ürümqi, CM 87°E
    (24.94, 60.17, 32635),    # Helsinki: UTM 35N
    (-122.27, 37.80, 32610),  # Oakland: UTM 10N
    (151.21, -33.87, 32756),  # Sydney: UTM 56S
])
def test_metric_crs_is_chosen_from_the_data(lon, lat, epsg):
    crs = choose_metric_crs(lon, lat)
    assert crs.to_epsg() == epsg and crs.is_projected
    if epsg < 5000:
        assert f"CM {round(lon / 3) * 3}E" in crs.name
