"""cfplan batch: many districts on a dask LocalCluster, failures isolated, unchanged reruns skipped."""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path
from urllib.parse import quote

import pandas as pd
import pytest

from cfplan import run_batch
from cfplan.analysis.plan import PLANS_DIR, load_plan
from cfplan.batch import district_fingerprint, run_district
from cfplan.cli import main
from cfplan.demo import DEMO_DIR
from cfplan.layers.errors import InputError
from cfplan.layers.fingerprint import file_digest, manifest_files
from cfplan.layers.jobs import DistrictJob, read_jobs
from cfplan.pipeline import assess

JOBS = """\
[[districts]]
name = "东区"
layers = "city/east"
plan = "jingkai"

[[districts]]
name = "西区"
layers = "city/west"          # its units.geojson is cut off
plan = "jingkai"

[[districts]]
name = "南区"
layers = "city/south"
plan = "plans/south.toml"     # a plan file beside the job file
indicators = "city/south/indicators.csv"
"""
NAMES = ("东区", "西区", "南区")
WORKERS = {"workers": 2, "processes": False, "access": False, "progress": False}


@pytest.fixture(scope="module")
def city(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("city")
    for name in ("east", "west", "south"):
        shutil.copytree(DEMO_DIR, root / "city" / name)
    units = root / "city" / "west" / "units.geojson"
    units.write_bytes(units.read_bytes()[:3000])
    (root / "plans").mkdir()
    shutil.copy(PLANS_DIR / "shangjie.toml", root / "plans" / "south.toml")
    (root / "jobs.toml").write_text(JOBS, encoding="utf-8")
    return root


def snapshot(folder: Path) -> dict[str, tuple[bytes, int]]:
    """Every file under ``folder`` with its bytes and mtime (ns)."""
    return {str(p.relative_to(folder)): (p.read_bytes(), p.stat().st_mtime_ns)
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def first(city):
    out = city / "out"
    summary = run_batch(city / "jobs.toml", out, **WORKERS)
    return summary, out, {n: snapshot(out / n) for n in NAMES}


def test_jobs_paths_are_relative_to_the_job_file(city):
    jobs = read_jobs(city / "jobs.toml")
    assert [j.name for j in jobs] == list(NAMES)
    assert jobs[0].layers == (city / "city" / "east").resolve() and jobs[0].plan == "jingkai"
    assert jobs[2].plan == str((city / "plans" / "south.toml").resolve())
    assert jobs[2].indicators == (city / "city" / "south" / "indicators.csv").resolve()


@pytest.mark.parametrize(("text", "problem", "field"), [
    ('[[districts]]\nname = "A"\nlayers = "a"\nplan = "jingkai"\nindicator = "x.csv"\n',
     "unknown key 'indicator'; did you mean indicators?", "indicator"),
    ('[[district]]\nname = "A"\nlayers = "a"\nplan = "jingkai"\n',
     "did you mean districts?", "district"),
    ('[[districts]]\nname = "上街区"\nlayers = "a"\nplan = "shangjie"\n'
     '[[districts]]\nname = "上街区"\nlayers = "b"\nplan = "shangjie"\n',
     "[[districts]] #2: name '上街区' repeats #1", "name"),
    ('[[districts]]\nname = "East"\nlayers = "a"\nplan = "p"\n'
     '[[districts]]\nname = "east"\nlayers = "b"\nplan = "p"\n', "repeats #1", "name"),
    ('[[districts]]\nname = "A"\nplan = "jingkai"\n', "has no 'layers'", "layers"),
    ('[[districts]]\nname = "../up"\nlayers = "a"\nplan = "jingkai"\n',
     "cannot be an output folder name", "name"),
    ('[[districts]]\nname = "A"\nlayers = 3\nplan = "jingkai"\n', "layers must be text", "layers"),
    ("", "no [[districts]]", "districts"),
])
def test_bad_job_files_are_fatal_with_the_reason(tmp_path, text, problem, field):
    path = tmp_path / "jobs.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputError) as info:
        read_jobs(path)
    assert info.value.file == str(path) and info.value.field == field
    assert problem in info.value.problem.en


def test_fingerprint_follows_content_not_mtime(tmp_path):
    layers = tmp_path / "d"
    shutil.copytree(DEMO_DIR, layers)
    names = {p.name for p in manifest_files(layers)}
    assert {"layers.toml", "units.geojson", "streets.osm", "indicators.csv",
            "subdistricts.shp", "subdistricts.dbf", "subdistricts.prj"} <= names
    path = layers / "units.geojson"
    before = file_digest(path)
    os.utime(path, (1, 1))
    assert file_digest(path) == before
    path.write_bytes(path.read_bytes() + b" ")
    assert file_digest(path) != before
    assert file_digest(layers / "nowhere.csv") == "missing"
    # the options are part of it: turning the school routes off reruns the district
    job = DistrictJob(name="d", layers=layers, plan="jingkai")
    digests = {routes: district_fingerprint(job, plan_path=None, lang="zh", access=False,
                                            routes=routes)["digest"] for routes in (True, False)}
    assert digests[True] != digests[False]


def test_a_district_without_routes_writes_no_routes_folder(tmp_path):
    job = DistrictJob(name="d", layers=DEMO_DIR, plan="jingkai")
    outcome = run_district(job, tmp_path / "d", access=False, routes=False)
    assert outcome["status"] == "ok"
    assert (tmp_path / "d" / "report.md").is_file()
    assert not (tmp_path / "d" / "routes").exists()


def test_each_district_runs_and_one_bad_input_fails_alone(first, city):
    summary, out, _ = first
    assert list(summary["district"]) == list(NAMES)
    assert list(summary["status"]) == ["ok", "failed", "ok"]
    assert list(summary["action"]) == ["ran", "ran", "ran"]
    # the counts equal those of the same district assessed on its own
    for name, layers, plan in (("东区", "east", "jingkai"),
                               ("南区", "south", city / "plans" / "south.toml")):
        expected = assess(city / "city" / layers, plan, access=False)
        row = summary.set_index("district").loc[name]
        for s in ("current", "planned"):
            counts = expected.headline(s)
            for k in ("met", "not_met", "unknown", "not_assessed", "total"):
                assert row[f"{k}_{s}"] == counts[k], (name, k, s)
        assert (out / name / "map.html").is_file() and (out / name / "report.md").is_file()
    # the broken district's error names its file, in the chosen language
    bad = summary.set_index("district").loc["西区"]
    broken = str((city / "city" / "west" / "units.geojson").resolve())
    assert bad["error_file"] == broken and bad["error"].startswith(broken)
    assert "文件无法解析" in bad["error"] and pd.isna(bad["met_current"])
    assert not (out / "西区" / "map.html").exists()


def test_city_summary_files(first, city):
    summary, out, _ = first
    districts = pd.read_csv(out / "districts.csv", encoding="utf-8-sig")
    targets = pd.read_csv(out / "summary.csv", encoding="utf-8-sig", dtype=str)
    assert list(districts["district"]) == list(NAMES)
    assert districts["met_current"].tolist()[::2] == summary["met_current"].tolist()[::2]
    n_east = len(load_plan("jingkai").targets)
    n_south = len(load_plan(city / "plans" / "south.toml").targets)
    assert targets["district"].value_counts().to_dict() == {"东区": n_east, "南区": n_south}
    east = targets[targets["district"] == "东区"]
    assert (east["status_current"] == "met").sum() == summary["met_current"].iloc[0]
    sheets = pd.read_excel(out / "summary.xlsx", sheet_name=None, dtype=str)
    assert set(sheets) == {"districts", "targets"} and len(sheets["targets"]) == len(targets)


def test_overview_map_links_each_district_offline(first):
    _, out, _ = first
    html = (out / "overview.html").read_text(encoding="utf-8")
    assert not re.search(r"<script[^>]+src=", html) and "L.map(" in html
    for name in ("东区", "南区"):
        link = f"{quote(name)}/map.html"
        assert link in html and (out / name / "map.html").is_file()
    assert f"{quote('西区')}/map.html" not in html  # no map to link to
    assert "未完成的区县" in html and "文件无法解析" in html
    assert "城市总览：3 个区县，2 个完成，1 个失败" in html


def test_rerun_with_unchanged_inputs_does_no_work(first, city):
    summary, out, before = first
    again = run_batch(city / "jobs.toml", out, **WORKERS)
    assert list(again["action"]) == ["skipped"] * 3
    assert list(again["status"]) == ["ok", "failed", "ok"]
    cols = [c for c in summary.columns if c not in ("action", "seconds")]
    pd.testing.assert_frame_equal(again[cols], summary[cols])
    for name in NAMES:  # not one byte or mtime changed, the record included
        assert snapshot(out / name) == before[name], name
    # a touched file (mtime only) is still unchanged
    os.utime(city / "city" / "east" / "units.geojson", (1, 1))
    assert list(run_batch(city / "jobs.toml", out, **WORKERS)["action"]) == ["skipped"] * 3


def test_changed_input_reruns_that_district_only(first, city, tmp_path):
    _, out, _ = first
    work = tmp_path / "work"
    shutil.copytree(city, work, ignore=shutil.ignore_patterns("out"))
    shutil.copytree(out, work / "out")  # a moved city folder keeps its records
    again = run_batch(work / "jobs.toml", work / "out", **WORKERS)
    assert list(again["action"]) == ["skipped"] * 3
    indicators = work / "city" / "south" / "indicators.csv"
    indicators.write_bytes(indicators.read_bytes() + b"\n")
    again = run_batch(work / "jobs.toml", work / "out", **WORKERS)
    assert list(again["action"]) == ["skipped", "skipped", "ran"]
    # fixing the broken district runs it
    shutil.copy(DEMO_DIR / "units.geojson", work / "city" / "west" / "units.geojson")
    again = run_batch(work / "jobs.toml", work / "out", **WORKERS)
    assert list(again["action"]) == ["skipped", "ran", "skipped"]
    assert list(again["status"]) == ["ok"] * 3
    assert again["met_current"].iloc[1] == again["met_current"].iloc[0]


def test_cli_force_redoes_every_district(first, city, capsys):
    _, out, before = first
    code = main(["batch", "--jobs", str(city / "jobs.toml"), "--out", str(out), "--force",
                 "--no-access", "--workers", "2"])
    assert code == 2  # one district failed
    err = capsys.readouterr().err
    for name in NAMES:
        assert re.search(rf"\[\d/3\] {name}: ", err), name
    assert "失败：" in err and "输入未变，跳过" not in err
    assert "其中 0 个因输入未变而跳过" in err
    for name in ("东区", "南区"):  # the same bytes again, the record of the run rewritten
        now = snapshot(out / name)
        assert ({k: v[0] for k, v in now.items() if k != "run.json"}
                == {k: v[0] for k, v in before[name].items() if k != "run.json"})
        assert now["run.json"][1] > before[name]["run.json"][1], name
    # the broken district never published: its failed run (and record) lies beside the folder
    assert not (out / "西区").exists()
    failed = json.loads((out / ".西区.cfplan-failed" / "run.json").read_text(encoding="utf-8"))
    assert failed["status"] == "failed" and failed["batch"]["status"] == "failed"


def test_an_existing_scheduler_by_address(first, city):
    from dask.distributed import LocalCluster

    _, out, _ = first
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                      dashboard_address=None) as cluster:
        again = run_batch(city / "jobs.toml", out, scheduler=cluster.scheduler_address,
                          access=False, progress=False)
    assert list(again["action"]) == ["skipped"] * 3
    assert list(again["status"]) == ["ok", "failed", "ok"]


def test_readme_example_job_file_reads(tmp_path):
    readme = (Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8")
    example = re.search(r"```toml\n(\[\[districts\]\].*?)```", readme, re.S).group(1)
    (tmp_path / "jobs.toml").write_text(example, encoding="utf-8")
    jobs = read_jobs(tmp_path / "jobs.toml")
    assert [j.name for j in jobs] == ["上街区", "经开区"]
    assert jobs[0].plan == "shangjie" and jobs[1].plan.endswith("plans/jingkai-2024.toml")
    assert jobs[1].indicators == (tmp_path / "reported" / "jingkai.xlsx").resolve()


def test_overview_escapes_data_strings():
    import geopandas as gpd
    from shapely.geometry import box

    from cfplan.batch import COUNT_COLUMNS
    from cfplan.maps.overview import overview_map, share_color
    from cfplan.maps.plan_map import offline_html

    evil = '<script>alert("x")</script>'
    rows = [{"district": "A&B'区", "status": "ok", "error": None, "share_met_current": 0.6,
             **dict.fromkeys(COUNT_COLUMNS, 1)},
            {"district": "坏区", "status": "failed", "error": f"units.geojson: {evil}",
             "share_met_current": None, **dict.fromkeys(COUNT_COLUMNS)}]
    table = gpd.GeoDataFrame(rows, geometry=[box(113.6, 34.7, 113.7, 34.8), None],
                             crs="EPSG:4326")
    html = offline_html(overview_map(table, lang="en"))
    # folium writes layer data as JSON with \\uXXXX escapes: read them back first
    html = re.sub(r"\\u([0-9a-f]{4})", lambda m: chr(int(m.group(1), 16)), html)
    assert evil not in html and "&lt;script&gt;alert(&quot;x&quot;)" in html
    assert "A&B'区" not in html and "<b>A&amp;B&#x27;区</b>" in html
    assert "href='" + quote("A&B'区") + "/map.html'" in html
    assert share_color(0.6) == "#fee08b" and share_color(1.0) == "#1a9850"
    assert share_color(None) == share_color(float("nan")) == "#bdbdbd"
