"""The command line names its version, and `cfplan site` lists every file it writes."""

from __future__ import annotations

from cfplan import __version__
from cfplan.cli import main


def test_version(capsys):
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"cfplan {__version__}"


def test_site_lists_every_file_it_writes(tmp_path, capsys):
    out = tmp_path / "site"
    assert main(["site", "--out", str(out)]) == 0
    listed = [line.strip() for line in capsys.readouterr().out.splitlines() if line.strip()]
    on_disk = sorted(str(p) for p in out.rglob("*") if p.is_file())
    assert sorted(listed) == on_disk
    assert len(listed) == len(set(listed))
    assert listed[:4] == [str(out / n) for n in ("sites.geojson", "siting.json",
                                                 "siting_targets.csv", "tradeoff.csv")]
    assert {str(out / "map.html"), str(out / "report.docx"), str(out / "cfplan.gpkg"),
            str(out / "figures" / "tradeoff.png"), str(out / "run.json")} <= set(listed)


def test_site_with_one_model_lists_its_files(tmp_path, capsys):
    out = tmp_path / "one"
    assert main(["site", "--out", str(out), "--kind", "children_home", "--model", "mclp",
                 "--k", "2"]) == 0
    listed = [line.strip() for line in capsys.readouterr().out.splitlines() if line.strip()]
    assert listed == [str(out / "sites.geojson"), str(out / "siting.json"),
                      str(out / "run.json")]
    assert sorted(str(p) for p in out.rglob("*") if p.is_file()) == sorted(listed)
