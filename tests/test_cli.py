"""The command line: demo, run, report, template, validate; exit codes and languages."""

from __future__ import annotations

import shutil

import pandas as pd

from cfplan.cli import main
from cfplan.demo import DEMO_DIR


def test_run_writes_everything_and_is_deterministic(tmp_path, capsys):
    a, b = tmp_path / "a", tmp_path / "b"
    assert main(["run", "--layers", str(DEMO_DIR), "--plan", "shangjie", "--out", str(a),
                 "--no-access"]) == 0
    err = capsys.readouterr().err
    assert "读取图层" in err and "units.geojson" in err and "完成" in err
    assert main(["run", "--layers", str(DEMO_DIR), "--plan", "shangjie", "--out", str(b),
                 "--no-access"]) == 0
    files = sorted(p.relative_to(a) for p in a.rglob("*") if p.is_file() and p.name != "run.json")
    assert {"map.html", "report.md", "report.xlsx", "targets.csv", "accounting.csv",
            "rejected.csv"} <= {str(f) for f in files}
    for f in files:
        assert (a / f).read_bytes() == (b / f).read_bytes(), f


def test_report_in_english(tmp_path):
    out = tmp_path / "en"
    assert main(["report", "--layers", str(DEMO_DIR), "--plan", "jingkai", "--out", str(out),
                 "--lang", "en", "--no-access"]) == 0
    assert not (out / "map.html").exists()
    md = (out / "report.md").read_text(encoding="utf-8")
    assert "# Child-friendly city gap report" in md and "Synthetic data" in md
    targets = pd.read_csv(out / "targets.csv", encoding="utf-8-sig")
    row = targets[(targets["item"] == "29") & (targets["scenario"] == "current")].iloc[0]
    assert row["shortfall"].startswith("4 without a Children's home")


def test_template_lists_every_indicator(tmp_path, jingkai):
    assert main(["template", "--plan", "jingkai", "--out", str(tmp_path)]) == 0
    csv = pd.read_csv(tmp_path / "indicators_jingkai.csv", encoding="utf-8-sig", dtype=str)
    xlsx = pd.read_excel(tmp_path / "indicators_jingkai.xlsx", dtype=str)
    ids = [t.id for t in jingkai.targets if t.metric == "indicator" or t.reported]
    assert list(csv["id"]) == ids == list(xlsx["id"])
    assert {"30", "24b"} <= set(ids)  # spatial targets whose reported value is cross-checked
    assert csv["value"].isna().all()


def test_bad_input_exits_non_zero_with_a_clear_message(tmp_path, capsys):
    layers = tmp_path / "layers"
    shutil.copytree(DEMO_DIR, layers)
    (layers / "units.geojson").write_text('{"type": "FeatureCollection", "features": [',
                                          encoding="utf-8")
    code = main(["run", "--layers", str(layers), "--plan", "jingkai", "--out",
                 str(tmp_path / "o")])
    assert code == 2
    err = capsys.readouterr().err
    assert "units.geojson" in err and "输入错误" in err
    code = main(["run", "--layers", str(tmp_path / "nowhere"), "--plan", "jingkai", "--out",
                 str(tmp_path / "o"), "--lang", "en"])
    assert code == 2
    assert "layers.toml" in capsys.readouterr().err


def test_validate_and_usage(tmp_path, capsys, shangjie):
    assert main(["validate", "--plan", "shangjie"]) == 0
    assert f"有效，{len(shangjie.targets)} 项目标" in capsys.readouterr().out
    assert main(["validate", "--plan", str(tmp_path / "missing.toml")]) == 2
    assert main(["frobnicate"]) == 64


def test_graph_cache_round_trip(tmp_path, capsys):
    cache = tmp_path / "streets.graphml"
    out1, out2 = tmp_path / "o1", tmp_path / "o2"
    args = ["report", "--layers", str(DEMO_DIR), "--plan", "jingkai", "--graph-cache", str(cache)]
    assert main([*args, "--out", str(out1)]) == 0
    assert cache.is_file()
    assert main([*args, "--out", str(out2)]) == 0
    assert "streets.graphml" in capsys.readouterr().err  # the second run read the cache
    for name in ("targets.csv", "results/access_coverage.csv"):
        assert (out1 / name).read_bytes() == (out2 / name).read_bytes()


def test_more_bad_invocations(tmp_path, capsys):
    missing = tmp_path / "nope.csv"
    assert main(["report", "--layers", str(DEMO_DIR), "--plan", "jingkai", "--out",
                 str(tmp_path / "o"), "--indicators", str(missing), "--no-access"]) == 2
    assert "nope.csv" in capsys.readouterr().err
    assert main(["validate"]) == 64
    blocker = tmp_path / "file"
    blocker.write_text("x", encoding="utf-8")
    assert main(["template", "--plan", "jingkai", "--out", str(blocker / "sub")]) == 2
    assert "文件错误" in capsys.readouterr().err
    # A mistyped plan fails at once, before any layer is read.
    assert main(["run", "--layers", str(DEMO_DIR), "--plan", "jingkia", "--out",
                 str(tmp_path / "o2")]) == 2
    err = capsys.readouterr().err
    assert "jingkia" in err and "读取图层" not in err
