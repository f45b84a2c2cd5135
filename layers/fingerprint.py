"""Content hashes of a district's inputs, so that a rerun can tell what changed."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from pathlib import Path

from cfplan.layers.errors import InputError
from cfplan.layers.manifest import MANIFEST_NAME, read_manifest

MISSING = "missing"
# Files a Shapefile reader opens beside the .shp it is given.
SHAPEFILE_SIDECARS = (".shx", ".dbf", ".prj", ".cpg")


def file_digest(path: str | Path) -> str:
    """Return the SHA-256 of a file's bytes (its content, never its mtime), or ``"missing"``.

    Returns
    -------
    str
        64 hexadecimal digits, or ``"missing"`` when there is no such file.
    """
    path = Path(path)
    if not path.is_file():
        return MISSING
    with path.open("rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def manifest_files(folder: str | Path) -> list[Path]:
    """Return every file a run of the layer folder reads: the manifest and what it names.

    Shapefiles bring their ``.shx``/``.dbf``/``.prj``/``.cpg`` sidecars. When the manifest
    cannot be read, only the manifest itself is returned (the run will fail on it, and
    the failure is keyed on its bytes).

    Returns
    -------
    list of pathlib.Path
        In manifest order, without repeats; files named but absent are included.
    """
    folder = Path(folder)
    files = [folder / MANIFEST_NAME]
    try:
        manifest = read_manifest(folder)
    except InputError:
        return files
    named = [s.path for s in manifest.specs] + [manifest.streets, manifest.indicators]
    for path in named:
        if path is None:
            continue
        files.append(path)
        if path.suffix.lower() == ".shp":
            files += [path.with_suffix(ext) for ext in SHAPEFILE_SIDECARS
                      if path.with_suffix(ext).exists()]
    return list(dict.fromkeys(files))


def run_inputs(folder: str | Path, *, plan: Path | None = None,
               indicators: Path | None = None) -> list[tuple[str, Path | None]]:
    """Return every input of a run as ``(label, path)``: the layer files, plan and indicators.

    Labels of layer files are relative to the layer folder (``layers/units.geojson``), so
    that a moved folder keeps them; the plan and the indicators file are labelled so.

    Returns
    -------
    list of tuple
        ``(label, path)``; ``path`` is ``None`` for an input not given.
    """
    folder = Path(folder).resolve()
    files: list[tuple[str, Path | None]] = []
    for path in manifest_files(folder):
        try:
            label = "layers/" + path.resolve().relative_to(folder).as_posix()
        except ValueError:
            label = str(path.resolve())
        files.append((label, path))
    files.append(("plan", plan))
    files.append(("indicators", indicators))
    return files


def input_fingerprint(files: Mapping[str, Path | None] | Iterable[tuple[str, Path | None]],
                      *, options: Mapping[str, object]) -> dict[str, object]:
    """Return the fingerprint of a set of input files and the options of a run.

    Parameters
    ----------
    files
        ``{label: path}``: a label that does not depend on where the folder lies (so
        that a moved folder keeps its fingerprint) and the file; ``None`` for none.
    options
        JSON-serialisable settings that change the outputs (language, cfplan's version …).

    Returns
    -------
    dict
        ``{"digest": hex, "files": {label: sha256 or "missing"}, "options": {...}}``; the
        digest covers every label, file hash and option.
    """
    items = files.items() if isinstance(files, Mapping) else files
    digests = {label: (file_digest(p) if p is not None else MISSING) for label, p in items}
    body = json.dumps({"files": digests, "options": dict(options)}, sort_keys=True,
                      ensure_ascii=False)
    return {"digest": hashlib.sha256(body.encode("utf-8")).hexdigest(), "files": digests,
            "options": dict(options)}


__all__ = ["MISSING", "file_digest", "input_fingerprint", "manifest_files", "run_inputs"]
