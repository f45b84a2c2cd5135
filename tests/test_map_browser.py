"""The map in a real headless Chromium, offline: it draws every layer with no script error."""

from __future__ import annotations

import re
import shutil
import subprocess

CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--enable-logging=stderr", "--v=0", "--virtual-time-budget=5000",
]


def _chromium() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    assert path, "Chromium is required: `make test` installs it with apt-get (see Makefile)"
    return path


def test_map_draws_offline_without_errors(demo_run, tmp_path, demo_out):
    page = demo_out / "map.html"
    proc = subprocess.run(
        [_chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'profile'}",
         "--dump-dom", page.as_uri()],
        capture_output=True, text=True, timeout=120, check=False,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    dom = proc.stdout
    console = [line for line in proc.stderr.splitlines() if "CONSOLE" in line]
    assert not [c for c in console if "Uncaught" in c or "Error" in c], console
    fac = demo_run.layers.facilities
    points = int(fac.geom_type.eq("Point").sum())
    assert len(re.findall(r"<div[^>]+class=\"leaflet-marker-icon", dom)) == points
    # Units, outlines, parks, streets and water are SVG paths.
    assert len(re.findall(r"<path[^>]+leaflet-interactive", dom)) > len(demo_run.layers.units)
    assert "leaflet-control-layers" in dom
    assert "合成数据：示范区不是真实地点" in dom
