"""A run publishes all its outputs or none: killed, failed, full-disk and concurrent runs."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pandas as pd
import pytest

from cfplan.cli import main
from cfplan.demo import DEMO_DIR
from cfplan.publish import EXIT_BUSY, FAILED_TAG, RUN_RECORD, STAGE_TAG

FAST = ["--no-access", "--no-routes"]


def cfplan(*args: str) -> list[str]:
    return [sys.executable, "-m", "cfplan", *args]


def run_cmd(out: Path, *extra: str, layers: Path = DEMO_DIR) -> list[str]:
    return cfplan("run", "--layers", str(layers), "--plan", "jingkai", "--out", str(out), *extra)


def files_of(folder: Path) -> dict[str, str]:
    """Every file under ``folder`` (hidden ones included) with its SHA-256."""
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def one_generation(out: Path) -> dict[str, object]:
    """Check that ``out`` holds exactly the files its run.json lists, and return the record."""
    record = json.loads((out / RUN_RECORD).read_text(encoding="utf-8"))
    assert record["status"] == "ok" and record["exit_status"] == 0
    present = files_of(out)
    present.pop(RUN_RECORD)
    assert present == {o["path"]: o["sha256"] for o in record["outputs"]}
    assert not any(part.startswith(".") for path in present for part in path.split("/"))
    return record


def leftovers(out: Path) -> list[str]:
    return sorted(p.name for p in out.parent.iterdir()
                  if p.name.startswith(f".{out.name}.cfplan-") and not p.name.endswith("lock"))


@pytest.fixture(scope="module")
def first(tmp_path_factory):
    """A finished run (Chinese): the generation every failed run must leave untouched."""
    out = tmp_path_factory.mktemp("publish") / "out"
    done = subprocess.run(run_cmd(out, *FAST), capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    one_generation(out)
    return out, files_of(out)


def _kill_when(cmd: list[str], out: Path, count: int) -> bool:
    """Start ``cmd`` and SIGKILL it once its stage holds ``count`` files; True if killed."""
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    stage = out.parent / f".{out.name}{STAGE_TAG}{proc.pid}"
    deadline = time.monotonic() + 600
    while proc.poll() is None and time.monotonic() < deadline:
        n = sum(1 for p in stage.rglob("*") if p.is_file()) if stage.is_dir() else 0
        if n >= count or (count < 0 and (stage / RUN_RECORD).is_file()):
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            return True
        time.sleep(0.005)
    proc.wait()
    return False


@pytest.mark.parametrize("count", [1, 6, 14, 20])
def test_sigkill_while_writing_leaves_the_previous_generation(first, count):
    out, before = first
    assert _kill_when(run_cmd(out, *FAST, "--lang", "en"), out, count), "the run ended first"
    assert files_of(out) == before  # not one byte of the finished run changed
    one_generation(out)
    assert leftovers(out)  # the killed run's stage stays until the next run


def test_sigkill_at_the_swap_leaves_one_generation(tmp_path):
    out = tmp_path / "out"
    assert subprocess.run(run_cmd(out, *FAST), capture_output=True).returncode == 0
    _kill_when(run_cmd(out, *FAST, "--lang", "en"), out, -1)
    one_generation(out)  # the old one or the new one, whole


def test_the_next_run_clears_what_a_killed_run_left(first, tmp_path):
    out = tmp_path / "out"
    shutil.copytree(first[0], out)
    assert _kill_when(run_cmd(out, *FAST, "--lang", "en"), out, 3)
    assert leftovers(out)
    done = subprocess.run(run_cmd(out, *FAST, "--lang", "en"), capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "interrupted" in done.stderr and leftovers(out) == []
    record = one_generation(out)
    assert record["options"]["lang"] == "en"


def test_a_failed_rerun_keeps_the_outputs_and_says_where_its_files_are(first, tmp_path):
    out = tmp_path / "out"
    shutil.copytree(first[0], out)
    before = files_of(out)
    layers = tmp_path / "layers"
    shutil.copytree(DEMO_DIR, layers)
    units = json.loads((layers / "units.geojson").read_text(encoding="utf-8"))
    for f in units["features"]:
        del f["properties"]["人口"]
    (layers / "units.geojson").write_text(json.dumps(units, ensure_ascii=False), "utf-8")
    done = subprocess.run(run_cmd(out, *FAST, layers=layers), capture_output=True, text=True)
    assert done.returncode == 2
    failed = out.parent / f".{out.name}{FAILED_TAG}"
    assert str(failed) in done.stderr and "保持上一次运行的结果" in done.stderr
    assert files_of(out) == before
    record = json.loads((failed / RUN_RECORD).read_text(encoding="utf-8"))
    assert record["status"] == "failed" and record["exit_status"] == 2
    accounting = pd.read_csv(failed / "accounting.csv", encoding="utf-8-sig")
    assert (accounting["read"] == accounting["used"] + accounting["rejected"]).all()
    assert accounting.set_index("layer").loc["units", "rejected"] == 36
    # the next good run removes the failed run's files
    assert main(["run", "--layers", str(DEMO_DIR), "--plan", "jingkai", "--out", str(out),
                 *FAST]) == 0
    assert not failed.exists() and leftovers(out) == []


def test_a_rerun_without_routes_leaves_no_routes_behind(tmp_path):
    out = tmp_path / "out"
    assert main(["run", "--layers", str(DEMO_DIR), "--plan", "jingkai", "--out", str(out),
                 "--no-access"]) == 0
    assert (out / "routes" / "routes.geojson").is_file()
    assert main(["run", "--layers", str(DEMO_DIR), "--plan", "jingkai", "--out", str(out),
                 *FAST]) == 0
    assert not (out / "routes").exists()
    one_generation(out)


def test_two_runs_into_one_folder_never_mix(tmp_path):
    out = tmp_path / "out"
    procs = [subprocess.Popen(run_cmd(out, *FAST, "--lang", lang), stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for lang in ("zh", "en")]
    results = [(p.wait(timeout=600), p.stderr.read()) for p in procs]
    codes = sorted(code for code, _ in results)
    assert codes == [0, EXIT_BUSY], results
    busy = next(err for code, err in results if code == EXIT_BUSY)
    assert str(out) in busy and "--wait" in busy
    one_generation(out)
    # with --wait the second queues behind the first, and both finish
    procs = [subprocess.Popen(run_cmd(out, *FAST, "--lang", lang, "--wait"),
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
             for lang in ("zh", "en")]
    assert [p.wait(timeout=600) for p in procs] == [0, 0]
    one_generation(out)


def test_outputs_stay_inside_out(tmp_path):
    plan = (Path(__file__).parents[1] / "analysis" / "plans" / "jingkai.toml").read_text(
        encoding="utf-8").replace('id = "jingkai"', 'id = "x/../../../escaped"', 1)
    (tmp_path / "plan.toml").write_text(plan, encoding="utf-8")
    out = tmp_path / "a" / "b" / "out"
    assert main(["template", "--plan", str(tmp_path / "plan.toml"), "--out", str(out)]) == 0
    written = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*.*")
                     if p.is_file() and p.suffix in (".csv", ".xlsx"))
    assert written == ["a/b/out/indicators_x_.._.._.._escaped.csv",
                       "a/b/out/indicators_x_.._.._.._escaped.xlsx"]


def test_a_folder_of_other_files_is_never_replaced(tmp_path, capsys, monkeypatch):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "notes.docx").write_bytes(b"my own work")
    assert main(["template", "--plan", "jingkai", "--out", str(out)]) == 2
    assert "notes.docx" in capsys.readouterr().err
    assert [p.name for p in out.iterdir()] == ["notes.docx"]
    monkeypatch.chdir(out)
    assert main(["template", "--plan", "jingkai", "--out", "."]) == 2
    assert main(["template", "--plan", "jingkai", "--out", ".."]) == 2
    assert "当前目录" in capsys.readouterr().err


def test_a_district_named_like_the_batch_files_is_refused(tmp_path, capsys):
    (tmp_path / "jobs.toml").write_text(
        f'[[districts]]\nname = "summary.csv"\nlayers = "{DEMO_DIR.as_posix()}"\n'
        'plan = "jingkai"\n', encoding="utf-8")
    assert main(["batch", "--jobs", str(tmp_path / "jobs.toml"), "--out",
                 str(tmp_path / "city")]) == 2
    assert "summary.csv" in capsys.readouterr().err


FULL_DISK = textwrap.dedent("""
    set -e
    mount -t tmpfs -o size={size}k tmpfs {root}
    {python} -m cfplan run --layers {layers} --plan jingkai --out {root}/out --no-access \\
        --no-routes > {log}/first.txt 2>&1
    {python} -c "import sys, json, hashlib, pathlib; r = pathlib.Path(sys.argv[1]); \\
print(json.dumps({{p.relative_to(r).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest() \\
for p in sorted(r.rglob('*')) if p.is_file()}}))" {root}/out > {log}/before.json
    set +e
    {python} -m cfplan run --layers {layers} --plan jingkai --out {root}/out --no-access \\
        --no-routes --lang en > {log}/second.txt 2>&1
    echo $? > {log}/code.txt
    {python} -c "import sys, json, hashlib, pathlib; r = pathlib.Path(sys.argv[1]); \\
print(json.dumps({{p.relative_to(r).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest() \\
for p in sorted(r.rglob('*')) if p.is_file()}}))" {root}/out > {log}/after.json
""")


def test_a_full_disk_leaves_the_previous_generation(first, tmp_path):
    """A small tmpfs (in a mount namespace) holds one generation and a half."""
    root, log = tmp_path / "fs", tmp_path / "log"
    root.mkdir()
    log.mkdir()
    size = 1.5 * sum(p.stat().st_size for p in first[0].rglob("*") if p.is_file()) / 1024
    script = FULL_DISK.format(size=int(size), root=root, log=log, layers=DEMO_DIR,
                              python=sys.executable)
    prefix = [] if os.geteuid() == 0 else ["unshare", "--user", "--map-root-user"]
    done = subprocess.run([*prefix, "unshare", "--mount", "sh", "-c", script],
                          capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, (done.stdout, done.stderr,
                                  (log / "first.txt").read_text() if (log / "first.txt").exists()
                                  else "")
    second = (log / "second.txt").read_text(encoding="utf-8")
    assert (log / "code.txt").read_text().strip() == "2", second
    assert "disk is full" in second and "previous run's outputs" in second
    assert json.loads((log / "after.json").read_text()) == json.loads(
        (log / "before.json").read_text())
