"""Two processes write byte-identical outputs: no hash order, clock or path leaks into a file.

``run.json`` is the one file that records the run itself (its start and end time and where
its inputs were): it is compared without those.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path


def _run(out: Path, seed: str) -> None:
    env = {**os.environ, "PYTHONHASHSEED": seed}
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
