"""`cfplan demo` on a machine with no Chinese font: the figures draw Chinese from the packaged font.

The demo runs in a child process in its own mount namespace, where empty folders are
mounted over the system's font folders and fontconfig's cache, with a fresh home and
matplotlib cache: the process sees no system font at all. It must still write every output,
log no missing glyph, and draw the same pixels as this process, which has the system's
CJK fonts (``make test`` installs them).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

from cfplan.geo.io import run_date

FONT_DIRS = ("/usr/share/fonts", "/usr/local/share/fonts", "/var/cache/fontconfig")

PROBE = textwrap.dedent('''
    import json, logging, subprocess, sys, warnings
    import numpy as np

    out = sys.argv[1]
    logs = []

    class Catch(logging.Handler):
        def emit(self, record):
            logs.append(record.getMessage())

    logging.getLogger("matplotlib").addHandler(Catch())
    warnings.simplefilter("always")
    caught = []
    warnings.showwarning = lambda m, *a, **k: caught.append(str(m))

    from matplotlib import font_manager
    system = font_manager.findSystemFonts()
    try:
        fc = subprocess.run(["fc-list", ":lang=zh"], capture_output=True, text=True).stdout
    except FileNotFoundError:
        fc = ""

    from cfplan.cli import main
    code = main(["demo", "--out", out])

    from matplotlib.font_manager import FontProperties, findfont
    from cfplan.maps import figures
    family = figures.cjk_font()
    path = findfont(FontProperties(family=family))

    def draw(text):
        import matplotlib.pyplot as plt
        with figures._style():
            fig = plt.figure(figsize=(1, 1), dpi=100)
            fig.text(0.5, 0.5, text, ha="center", va="center", fontsize=40)
            fig.canvas.draw()
            image = np.asarray(fig.canvas.buffer_rgba())[..., 0].copy()
            plt.close(fig)
        return image

    def missing():
        return [m for m in logs + caught if "missing from font" in m.lower()]

    chars = "儿童之家"
    drawn = [draw(c) for c in chars]
    before = missing()
    tofu = draw("\\U0010fffd")  # a code point no font has: the missing-glyph box
    print(json.dumps({
        "code": code, "system_fonts": len(system),
        "system_cjk": [f for f in system if "cjk" in f.lower() or "wqy" in f.lower()],
        "fc_zh": fc.strip(), "family": family, "path": str(path),
        "face_index": getattr(path, "face_index", 0),
        "inked": [int((d < 128).sum()) for d in drawn],
        "tofu_like": [bool((d == tofu).all()) for d in drawn],
        "distinct": len({d.tobytes() for d in drawn}),
        "missing_glyphs": before, "tofu_logged": len(missing()) > len(before),
    }))
''')


def _namespace_command(tmp: Path, *argv: str) -> list[str]:
    """Run ``argv`` in a mount namespace where the system's font folders are empty."""
    empty = tmp / "empty"
    empty.mkdir()
    mounts = " && ".join(f"mount --bind {empty} {d}" for d in FONT_DIRS if Path(d).is_dir())
    script = f"{mounts} && exec \"$@\""
    unshare = ["unshare", "--mount", "--propagation", "private"]
    if os.geteuid() != 0:
        unshare.insert(1, "--map-root-user")
    return [*unshare, "sh", "-c", script, "sh", *argv]


def test_demo_draws_chinese_with_no_system_font(tmp_path, demo_out):
    assert shutil.which("unshare"), "util-linux unshare is needed to hide the system fonts"
    probe = tmp_path / "probe.py"
    probe.write_text(PROBE, encoding="utf-8")
    home = tmp_path / "home"
    home.mkdir()
    env = {**os.environ, "HOME": str(home), "MPLCONFIGDIR": str(tmp_path / "mpl"),
           "XDG_DATA_HOME": str(home / "data"), "XDG_CACHE_HOME": str(home / "cache"),
           "SOURCE_DATE_EPOCH": str(int(run_date().timestamp()))}  # the fixture's date
    out = tmp_path / "demo"
    done = subprocess.run(_namespace_command(tmp_path, sys.executable, str(probe), str(out)),
                          env=env, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    # the child saw no system font
    assert result["fc_zh"] == "" and result["system_cjk"] == [], result
    assert result["system_fonts"] == 0, result
    # ... and still wrote everything: map, report, every figure
    assert result["code"] == 0
    for name in ("map.html", "report.docx", "report.xlsx", "report.md", "cfplan.gpkg"):
        assert (out / name).is_file(), name
    figures = sorted(p.name for p in (out / "figures").iterdir())
    assert figures == sorted(p.name for p in (demo_out / "figures").iterdir())
    # Chinese was drawn with the packaged font's Simplified Chinese face, not as boxes
    assert "noto_cjk_sans_otc" in result["path"] and result["face_index"] == 2, result
    assert result["missing_glyphs"] == []
    assert result["tofu_logged"]  # a missing glyph is logged: the check above can fail
    assert all(n > 50 for n in result["inked"]) and result["tofu_like"] == [False] * 4
    assert result["distinct"] == 4
    # the same pixels as this process draws, which has the system's CJK fonts
    for name in figures:
        assert (out / "figures" / name).read_bytes() == (
            demo_out / "figures" / name).read_bytes(), name
