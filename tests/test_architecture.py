"""The package's shape: one import name, imports flowing one way, no cycles, a clean wheel."""

from __future__ import annotations

import ast
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# Import layers, lowest first: a module may import its own layer or lower ones only.
LAYERS = ("geo", "layers", "analysis", "maps", "cfplan")
FOLDERS = {"geo": "cfplan.geo", "layers": "cfplan.layers", "analysis": "cfplan.analysis",
           "maps": "cfplan.maps", "cfplan": "cfplan"}


def _modules() -> dict[str, Path]:
    """Every module of the package, by dotted name (``cfplan.geo.crs`` for ``geo/crs.py``)."""
    out = {}
    for folder, package in FOLDERS.items():
        for path in sorted((ROOT / folder).rglob("*.py")):
            rel = path.relative_to(ROOT / folder).with_suffix("")
            parts = [p for p in rel.parts if p != "__init__"]
            out[".".join([package, *parts])] = path
    return out


MODULES = _modules()


def _layer(module: str) -> str:
    for folder, package in FOLDERS.items():
        if folder != "cfplan" and (module == package or module.startswith(package + ".")):
            return folder
    return "cfplan"


def _imports(path: Path, module: str) -> list[tuple[int, str, bool]]:
    """(line, imported module, at module level) for every cfplan import in a file."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    top = {id(node) for node in tree.body}
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    found = []
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")
                base = ".".join(parent[: len(parent) - node.level + 1] + ([base] if base else []))
            names = [base] if node.module or node.level else []
            names += [f"{base}.{a.name}" for a in node.names if f"{base}.{a.name}" in MODULES]
        for name in names:
            if name == "cfplan" or name.startswith("cfplan.") or name.split(".")[0] in FOLDERS:
                found.append((node.lineno, name, id(node) in top))
    return found


def test_every_import_uses_the_cfplan_name():
    bare = [(str(p.relative_to(ROOT)), line, name) for m, p in MODULES.items()
            for line, name, _ in _imports(p, m)
            if name.split(".")[0] in ("geo", "layers", "analysis", "maps")]
    assert bare == []


def _upward(module: str, path: Path) -> list[tuple[int, str]]:
    """Imports of ``module`` that run up the stack (or import the package root from below)."""
    here = LAYERS.index(_layer(module))
    out = []
    for line, name, _ in _imports(path, module):
        root_from_below = name == "cfplan" and _layer(module) != "cfplan"
        if root_from_below or LAYERS.index(_layer(name)) > here:
            out.append((line, name))
    return out


def test_imports_flow_one_way():
    """geo <- layers <- analysis <- maps <- cfplan, for imports anywhere in a file."""
    up = [(str(p.relative_to(ROOT)), *hit) for m, p in MODULES.items() for hit in _upward(m, p)]
    assert up == [], "imports up the stack geo <- layers <- analysis <- maps <- cfplan"


def test_no_import_cycles_between_modules():
    graph: dict[str, set[str]] = {m: set() for m in MODULES}
    for module, path in MODULES.items():
        for _, name, _ in _imports(path, module):
            target = name if name in MODULES else name.rsplit(".", 1)[0]
            if target in MODULES and target != module and target != "cfplan":
                graph[module].add(target)
    cycles, state = [], {}

    def visit(node: str, stack: list[str]) -> None:
        state[node] = "open"
        for nxt in sorted(graph[node]):
            if state.get(nxt) == "open":
                cycles.append([*stack[stack.index(nxt):], nxt])
            elif nxt not in state:
                visit(nxt, [*stack, nxt])
        state[node] = "done"

    for m in sorted(graph):
        if m not in state:
            visit(m, [m])
    assert cycles == []


def test_the_checks_catch_a_violation(tmp_path):
    """The import reader is not vacuous: it sees an upward import hidden in a function."""
    bad = tmp_path / "bad.py"
    bad.write_text("def f():\n    from cfplan.maps.plan_map import esc\n    return esc\n",
                   encoding="utf-8")
    assert (2, "cfplan.maps.plan_map", False) in _imports(bad, "cfplan.geo.bad")
    assert _upward("cfplan.geo.bad", bad) == [(2, "cfplan.maps.plan_map")]
    assert _upward("cfplan.maps.bad", bad) == []


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                    "--quiet", "-w", str(out), str(ROOT)], check=True, capture_output=True)
    return next(out.glob("cfplan-*.whl"))


def test_the_wheel_installs_one_top_level_name(wheel):
    with zipfile.ZipFile(wheel) as zf:
        names = zf.namelist()
        top = next(n for n in names if n.endswith(".dist-info/top_level.txt"))
        assert zf.read(top).decode().split() == ["cfplan"]
    roots = {n.split("/")[0] for n in names if not n.split("/")[0].endswith(".dist-info")}
    assert roots == {"cfplan"}
    for needed in ("cfplan/geo/crs.py", "cfplan/layers/load.py", "cfplan/analysis/plan.py",
                   "cfplan/maps/plan_map.py", "cfplan/maps/static/leaflet.js",
                   "cfplan/analysis/plans/jingkai.toml",
                   "cfplan/analysis/plans/sources/001_b8979a95de264490.txt",
                   "cfplan/demo_data/layers.toml", "cfplan/py.typed"):
        assert needed in names, needed


def test_importing_a_lower_layer_stays_light():
    """``import cfplan.geo.crs`` does not pull in the map or the pipeline."""
    code = ("import sys, cfplan.geo.crs; "
            "print(any(m.startswith(('folium', 'cfplan.maps', 'cfplan.pipeline')) "
            "for m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True,
                         text=True)
    assert out.stdout.strip() == "False"


def _template_engines(path: Path) -> list[str]:
    """Places in a file that compile template source: ``jinja2.Template`` or ``Environment``
    without ``autoescape=True``."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("jinja2"):
            found += [f"{path.name}:{node.lineno} imports jinja2.{a.name}" for a in node.names
                      if a.name in ("Template", "from_string")]
        if isinstance(node, ast.Call):
            name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
            escaped = any(k.arg == "autoescape" and isinstance(k.value, ast.Constant)
                          and k.value.value is True for k in node.keywords)
            if name == "Environment" and not escaped:
                found.append(f"{path.name}:{node.lineno} Environment without autoescape=True")
            if name in ("Element", "Template", "from_string") and getattr(
                    node.func, "id", "") != "RawHtml" and node.args and not isinstance(
                    node.args[0], ast.Constant):
                found.append(f"{path.name}:{node.lineno} {name}(…) of computed text")
    return found


def test_no_template_is_compiled_from_computed_text():
    """Data never becomes template source: no jinja2.Template, no branca Element(text) built
    from computed text (use cfplan.maps.safe_render.RawHtml), Jinja only with autoescape."""
    found = [hit for path in MODULES.values() for hit in _template_engines(path)]
    assert found == []


def test_the_template_check_catches_a_violation(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("from jinja2 import Template, Environment\nfrom branca.element import Element\n"
                   "Environment()\nElement(f'<b>{name}</b>')\nElement('<meta>')\n",
                   encoding="utf-8")
    assert len(_template_engines(bad)) == 3
