"""Two processes write byte-identical outputs: no hash order, clock or path leaks into a file.

The documents carry the run's date; ``SOURCE_DATE_EPOCH`` (the reproducible-builds
convention) fixes it, so two runs on any days write the same bytes. ``run.json`` is the one
file that records the run itself (its start and end time and where its inputs were): it is
compared without those.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import docx
from openpyxl import load_workbook

EPOCH = "1767225600"  # 2026-01-01T00:00:00Z


def _run(out: Path, seed: str) -> None:
    env = {**os.environ, "PYTHONHASHSEED": seed, "SOURCE_DATE_EPOCH": EPOCH}
    subprocess.run([sys.executable, "-m", "cfplan", "demo", "--out", str(out)], check=True,
                   env=env, capture_output=True, cwd=out.parent)


def test_two_processes_write_the_same_bytes(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    _run(a, "1")
    _run(b, "2")
    files_a = sorted(p.relative_to(a) for p in a.rglob("*") if p.is_file())
    files_b = sorted(p.relative_to(b) for p in b.rglob("*") if p.is_file())
    assert files_a == files_b
    assert {"map.html", "report.md", "report.xlsx", "targets.csv", "accounting.csv",
            "results/service_areas.geojson"} <= {str(f) for f in files_a}
    differ = [str(f) for f in files_a if str(f) != "run.json"
              and (a / f).read_bytes() != (b / f).read_bytes()]
    assert differ == []
    runs = [json.loads((x / "run.json").read_text(encoding="utf-8")) for x in (a, b)]
    for run in runs:
        assert run["status"] == "ok" and run["started"] <= run["finished"]
        del run["started"], run["finished"]
    assert runs[0] == runs[1]
    # no absolute path of this machine in any output
    for f in files_a:
        assert str(tmp_path).encode() not in (a / f).read_bytes(), f
    # ... and they carry the date SOURCE_DATE_EPOCH gives, not a fixed 2000-01-01
    core = docx.Document(a / "report.docx").core_properties
    assert (core.created.isoformat(), core.modified.isoformat()) == (
        "2026-01-01T00:00:00+00:00", "2026-01-01T00:00:00+00:00")
    assert load_workbook(a / "report.xlsx").properties.created.year == 2026
    member = zipfile.ZipFile(a / "report.docx").infolist()[0]
    assert member.date_time[:3] == (2026, 1, 1)
