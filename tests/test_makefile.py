"""The Makefile installs CJK fonts whenever they are missing, with or without Chromium (issue #13)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _tool(folder: Path, name: str, body: str) -> None:
    path = folder / name
    path.write_text(f"#!/bin/sh\n{body}\n", encoding="utf-8")
    path.chmod(0o755)


def _make(tmp_path: Path, *targets: str, fonts: str) -> list[str]:
    """Run ``make targets`` with stand-ins for fc-list, apt-get, sudo and chromium."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    log = tmp_path / "apt.log"
    log.write_text("", encoding="utf-8")
    _tool(bin_dir, "fc-list", f"printf '{fonts}'")
    _tool(bin_dir, "apt-get", f'echo "$*" >> {log}')
    _tool(bin_dir, "sudo", 'exec "$@"')
    _tool(bin_dir, "chromium", "exit 0")
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"}
    subprocess.run(["make", "-s", "-C", str(ROOT), *targets], check=True, env=env,
                   capture_output=True, text=True)
    return log.read_text(encoding="utf-8").splitlines()


def test_fonts_are_installed_when_missing_although_chromium_is_there(tmp_path):
    calls = _make(tmp_path, "chromium", "fonts", fonts="")
    assert calls == ["update -qq", "install -y -qq fontconfig fonts-noto-cjk"]


def test_nothing_is_installed_when_chinese_fonts_exist(tmp_path):
    font = "/usr/share/fonts/NotoSansCJK.ttc: Noto Sans CJK SC\\n"
    assert _make(tmp_path, "chromium", "fonts", fonts=font) == []


def test_make_test_depends_on_the_fonts():
    text = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert "fc-list :lang=zh" in text
    test_rule = next(line for line in text.splitlines() if line.startswith("test:"))
    assert "fonts" in test_rule.split()


def test_demo_needs_no_system_package():
    """`make demo` installs nothing with apt-get: the figures' font comes from PyPI."""
    text = (ROOT / "Makefile").read_text(encoding="utf-8")
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("demo:"))
    prerequisites = lines[start].split(":", 1)[1].split()
    assert "fonts" not in prerequisites and "chromium" not in prerequisites
    recipe = []
    for line in lines[start + 1:]:
        if not line.startswith("\t"):
            break
        recipe.append(line)
    assert recipe and not any("apt-get" in line for line in recipe)
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert '"noto-cjk-sans-otc>=' in pyproject
