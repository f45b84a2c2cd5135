"""A district outside China, on a real OSM extract; fatal errors still leave their evidence."""

from __future__ import annotations

import csv
import io
import json
import shutil
from pathlib import Path

import pyrosm
import pytest
from shapely.geometry import box, mapping

import cfplan
from cfplan.cli import main
from cfplan.demo import DEMO_DIR

# pyrosm's wheel ships a real, clipped OSM extract: 2 × 2 km of Kouvola, Finland.
EXTRACT = Path(pyrosm.get_data("test_pbf"))
X0, Y0, STEP = 26.935, 60.523, 0.0075


def _fc(features: list[tuple[dict, object]]) -> str:
    return json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": p, "geometry": mapping(g)} for p, g in features]},
        ensure_ascii=False)


@pytest.fixture(scope="module")
def finnish_district(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("kouvola")
    units = []
    for i in range(2):
        for j in range(2):
            cell = box(X0 + i * 2 * STEP, Y0 + j * STEP, X0 + (i + 1) * 2 * STEP,
                       Y0 + (j + 1) * STEP)
            units.append(({"code": f"K{i}{j}", "name": f"Kouvola {i}{j}", "unit_type": "community",
                           "population": 1500 + 100 * i + 10 * j, "children": 300}, cell))
    (folder / "units.geojson").write_text(_fc(units), encoding="utf-8")
    centre = units[0][1].centroid
    facilities = [({"fid": "KG1", "name": "Päiväkoti", "kind": "kindergarten",
                    "status": "existing"}, centre),
                  ({"fid": "CH1", "name": "Lasten talo", "kind": "children_home",
                    "status": "existing"},
                   units[3][1].centroid)]
    (folder / "facilities.geojson").write_text(_fc(facilities), encoding="utf-8")
    shutil.copy(EXTRACT, folder / "streets.osm.pbf")
    (folder / "layers.toml").write_text(
        '[district]\nname = "Kouvola"\n\n[layers.units]\nfile = "units.geojson"\n\n'
        '[[facilities]]\nfile = "facilities.geojson"\n\n[streets]\nfile = "streets.osm.pbf"\n',
        encoding="utf-8")
    return folder


def test_a_district_in_finland_is_analysed_in_utm(finnish_district):
    result = cfplan.assess(finnish_district, "jingkai")
    layers = result.layers
    assert layers.crs.to_epsg() == 32635 and not layers.in_china
    assert layers.accounting["rejected"].sum() == 0
    assert layers.accounting.set_index("layer").loc["units", "used"] == 4
    assert len(layers.units) == 4 and len(layers.facilities) == 2
    # walking access runs on the real, clipped street network
    cov = result.coverage
    row = cov[(cov["kind"] == "kindergarten") & (cov["level"] == "overall")
              & (cov["scenario"] == "current")].iloc[0]
    assert 0 < row["share_population"] < 1
    # China-only checks stay quiet outside China
    assert not any("GCJ-02" in w.en for w in result.warnings)
    home = {(r.target.id, r.scenario): r for r in result.results}[("29", "current")]
    assert home.status == "not_met" and home.value == pytest.approx(0.25)


def test_a_fatal_error_leaves_rejected_and_accounting(tmp_path, capsys):
    layers = tmp_path / "layers"
    shutil.copytree(DEMO_DIR, layers)
    units = json.loads((layers / "units.geojson").read_text(encoding="utf-8"))
    for f in units["features"]:
        f["properties"]["人口"] = "很多"  # every unit rejected: no usable units is fatal
    (layers / "units.geojson").write_text(json.dumps(units, ensure_ascii=False), encoding="utf-8")
    out = tmp_path / "out"
    assert main(["run", "--layers", str(layers), "--plan", "jingkai", "--out", str(out),
                 "--no-access"]) == 2
    err = capsys.readouterr().err
    failed = tmp_path / ".out.cfplan-failed"  # the run's partial outputs; out is not made
    assert "没有可用的社区/村要素" in err and "rejected.csv" in err and str(failed) in err
    assert not out.exists()
    out = failed
    rejected = list(csv.DictReader(io.StringIO(
        (out / "rejected.csv").read_text(encoding="utf-8-sig"))))
    assert len(rejected) == 36 and {r["field"] for r in rejected} == {"人口"}
    accounting = {r["file"]: r for r in csv.DictReader(io.StringIO(
        (out / "accounting.csv").read_text(encoding="utf-8-sig")))}
    assert accounting["units.geojson"]["read"] == "36"
    assert accounting["units.geojson"]["rejected"] == "36"
    assert (out / "rejected.geojson").is_file()
