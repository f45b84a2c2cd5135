"""Write the bad-input corpus: one small layer folder per broken case, derived from the demo.

Run ``python tests/data/make_bad.py`` from the repository root; it rewrites
``tests/data/bad/`` byte for byte (no timestamps, no randomness). Each case folder
holds a ``layers.toml`` and a few files copied from ``cfplan/demo_data`` with one
thing broken, or a single broken file (plan, indicators, OSM). ``CASES`` says what each
case breaks: the cases are in ``bad_cases_layers.py``, ``bad_cases_osm.py`` and
``bad_cases_files.py`` (files that are not what they say, issue #17), their shared base in
``bad_base.py``; ``tests/test_bad_input.py`` asserts what the loader does with each. Named pipes, folders and looping links, which git cannot keep, are made
by :func:`make_specials` (``tests/data/.gitignore`` keeps them out).
"""

from __future__ import annotations

import shutil
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import bad_cases_files
import bad_cases_layers
import bad_cases_osm
from bad_base import (
    OUT,
    ROOT,
    Files,
    Special,
    make_special,
)


@dataclass(frozen=True)
class Case:
    """One broken input: its folder name, what is broken, and the files that make it."""

    name: str
    broken: str
    make: Callable[[], Files]


MODULES = (bad_cases_layers, bad_cases_osm, bad_cases_files)
BROKEN = {k: v for module in MODULES for k, v in module.BROKEN.items()}
CASES: tuple[Case, ...] = tuple(
    Case(name.removeprefix("case_"), BROKEN[name.removeprefix("case_")], func)
    for name, func in sorted({k: v for m in MODULES for k, v in vars(m).items()}.items())
    if name.startswith("case_") and callable(func)
)


def write_case(case: Case, out: Path) -> Path:
    """Write one case into ``out/<name>/``, replacing what was there."""
    folder = out / case.name
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    for name, data in sorted(case.make().items()):
        if isinstance(data, Special):
            make_special(folder / name, data)
        else:
            (folder / name).write_bytes(data)
    return folder


def make_specials(out: Path = OUT) -> None:
    """Make the named pipes, folders and looping links of the corpus that git cannot store."""
    for case in CASES:
        if case.name in bad_cases_files.SPECIAL_CASES and (out / case.name).is_dir():
            for name, data in case.make().items():
                if isinstance(data, Special):
                    make_special(out / case.name / name, data)


# --------------------------------------------------------------------------- the doc table

DOC = ROOT / "docs" / "bad-input.md"
DOC_START, DOC_END = "<!-- cases:start -->", "<!-- cases:end -->"


def _relative(text: str) -> str:
    return text.replace(f"{ROOT}/", "")


def _street_warnings(layers: object) -> list[str]:
    """The GCJ-02 offset check per file (points and polygons), as the pipeline runs it."""
    from cfplan.layers.streets import load_streets, street_datum_warnings

    streets = load_streets(layers)
    if streets is None:
        return []
    return street_datum_warnings(layers, streets.lines.geometry)


def _both(text: object) -> str:
    """A message in both languages for the doc table: ``中文 / English``."""
    return f"{text.zh} / {text.en}"  # type: ignore[attr-defined]


def loader_of(folder: Path) -> str:
    """Return how a case folder is read: ``assess``, ``layers``, ``plan``, ``indicators`` or
    ``streets`` (a manifest and a plan are assessed whole)."""
    def has(name: str) -> bool:
        return (folder / name).exists() or (folder / name).is_symlink()

    if has("layers.toml"):
        return "assess" if has("plan.toml") else "layers"
    return next((kind for kind, name in (("plan", "plan.toml"), ("indicators", "indicators.csv"))
                 if has(name)), "streets")


def load_case(folder: Path) -> tuple[object, list[object]]:
    """Read a case folder the way its files are read in a run: (what was read, warnings).

    Raises
    ------
    cfplan.InputError
        For a fatal case.
    """
    from cfplan.analysis.indicators import read_indicators
    from cfplan.analysis.plan import load_plan
    from cfplan.layers.load import load_layers
    from cfplan.layers.streets import load_street_network

    loader = loader_of(folder)
    if loader == "assess":
        from cfplan.pipeline import assess

        assessment = assess(folder, folder / "plan.toml")
        return assessment.layers, list(assessment.warnings)
    if loader == "layers":
        layers = load_layers(folder)
        return layers, [*layers.warnings, *_street_warnings(layers)]
    if loader == "plan":
        plan = load_plan(folder / "plan.toml")
        return plan, list(plan.warnings)
    if loader == "indicators":
        warned: list[object] = []
        return read_indicators(folder / "indicators.csv", warnings=warned), warned
    streets = next(folder.glob("streets.osm*"))
    return load_street_network(streets, crs="EPSG:4547"), []


def outcome(folder: Path) -> tuple[str, str, str]:
    """Run a case through its loader: (outcome, field, first message)."""
    import warnings

    from cfplan.layers.errors import InputError

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            read, warned = load_case(folder)
    except InputError as exc:
        return "**fatal**", exc.field or "", _relative(exc.message(lang="zh"))
    parts, fields, first = [], [], []
    for label, records, field_of, text_of in (
        ("rejected", getattr(read, "rejected", []), lambda r: r.field, lambda r: _both(r.reason)),
        ("repaired", getattr(read, "repairs", []), lambda r: r.field, lambda r: _both(r.what)),
    ):
        if records:
            parts.append(f"{label} {len(records)}")
            fields += [field_of(r) for r in records]
            first.append(f"第 {records[0].row} 条：{text_of(records[0])}")
    if warned:
        parts.append(f"warned {len(warned)}")
        first += [_both(w) for w in warned]
    return "; ".join(parts) or "used", ", ".join(dict.fromkeys(fields)), " ⏎ ".join(first)


def doc_table() -> str:
    """Return the Markdown table of every case and what the loader does with it."""
    rows = ["| case | what is broken | outcome | field | message |", "|---|---|---|---|---|"]
    make_specials()
    for case in CASES:
        result, field, message = outcome(OUT / case.name)
        cells = [f"`{case.name}`", case.broken, result, field, message]
        rows.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return "\n".join(rows) + "\n"


def write_doc_table(path: Path = DOC) -> Path:
    """Replace the table between the markers in docs/bad-input.md."""
    text = path.read_text(encoding="utf-8")
    head, rest = text.split(DOC_START, 1)
    _, tail = rest.split(DOC_END, 1)
    path.write_text(f"{head}{DOC_START}\n{doc_table()}{DOC_END}{tail}", encoding="utf-8")
    return path


def main(argv: list[str] | None = None) -> int:
    """Rewrite ``tests/data/bad/`` (or the folder given), or with ``--doc`` the doc's table."""
    args = sys.argv[1:] if argv is None else argv
    if args == ["--doc"]:
        print(write_doc_table())
        return 0
    out = Path(args[0]) if args else OUT
    out.mkdir(parents=True, exist_ok=True)
    for stale in out.iterdir():
        if stale.is_dir() and stale.name not in {c.name for c in CASES}:
            shutil.rmtree(stale)
    for case in CASES:
        write_case(case, out)
    print(f"{len(CASES)} cases in {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
