"""Publish a run's outputs all at once: staged beside ``--out``, swapped in whole, one run at a time."""

from __future__ import annotations

import ctypes
import datetime as dt
import errno
import json
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from cfplan.geo.io import atomic_write_text, confine_writes
from cfplan.layers import log
from cfplan.layers.errors import CfplanError, InputError
from cfplan.layers.fingerprint import file_digest
from cfplan.layers.text import Text

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: runs are not locked
    fcntl = None  # type: ignore[assignment]

RUN_RECORD = "run.json"
LOCK_TAG, STAGE_TAG, FAILED_TAG, OLD_TAG = (".cfplan-lock", ".cfplan-stage-", ".cfplan-failed",
                                            ".cfplan-old-")
# Exit codes (sysexits where one fits): bad input 2, usage 64, internal error 70, output
# folder busy 75 (EX_TEMPFAIL), interrupted 130.
EXIT_OK, EXIT_INPUT, EXIT_USAGE, EXIT_INTERNAL, EXIT_BUSY, EXIT_INTERRUPTED = (
    0, 2, 64, 70, 75, 130)
# What cfplan versions before run.json wrote into an output folder: such a folder may be
# replaced; any other non-empty folder is the user's and is never touched.
LEGACY_OUTPUTS = frozenset({
    "map.html", "report.md", "report.docx", "report.xlsx", "targets.csv", "units.csv",
    "subdistricts.csv", "accounting.csv", "rejected.csv", "rejected.geojson", "cfplan.gpkg",
    "layers", "results", "figures", "routes", "shp", "sites.geojson", "siting.json",
    "siting_targets.csv", "tradeoff.csv", ".cfplan-inputs.json", "rejected.gcj02.geojson",
})
_AT_FDCWD, _RENAME_EXCHANGE = -100, 2


class OutputFolderError(CfplanError):
    """The output folder cannot take this run's outputs (it is a file, or holds other files)."""

    exit_code = EXIT_INPUT

    def __init__(self, text: Text) -> None:
        super().__init__(text.zh)
        self.text = text

    def message(self, *, lang: str = "zh") -> str:
        """Return the message in ``lang``."""
        return self.text.get(lang)


class OutputBusyError(OutputFolderError):
    """Another cfplan run is writing the same output folder."""

    exit_code = EXIT_BUSY


def exit_code(exc: BaseException) -> int:
    """Return the exit code the command line gives for ``exc``."""
    if isinstance(exc, OutputFolderError):
        return exc.exit_code
    if isinstance(exc, CfplanError | OSError):
        return EXIT_INPUT
    if isinstance(exc, KeyboardInterrupt):
        return EXIT_INTERRUPTED
    if isinstance(exc, SystemExit):
        return exc.code if isinstance(exc.code, int) else EXIT_INTERRUPTED
    return EXIT_INTERNAL


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds")


def listing(root: Path) -> list[dict[str, object]]:
    """Return every file under ``root`` (but ``run.json``) with its size and SHA-256, sorted."""
    files = sorted(p for p in root.rglob("*") if p.is_file() and p.name != RUN_RECORD)
    return [{"path": p.relative_to(root).as_posix(), "bytes": p.stat().st_size,
             "sha256": file_digest(p)} for p in files]


@dataclass
class Stage:
    """A run being written: files go under :attr:`root`, which becomes :attr:`out` on success.

    Attributes
    ----------
    out
        The output folder the run publishes to.
    root
        The staging folder beside it (``.<out>.cfplan-stage-<pid>``): write here.
    record
        What ``run.json`` records besides the listing: the caller adds ``plan``, ``options``
        and ``inputs``.
    """

    out: Path
    root: Path
    record: dict[str, object] = field(default_factory=dict)

    def final(self, path: str | os.PathLike[str]) -> Path:
        """Return where a file written under :attr:`root` lies once published."""
        return self.out / Path(path).relative_to(self.root)


def _sibling(out: Path, tag: str, suffix: str = "") -> Path:
    return out.parent / f".{out.name}{tag}{suffix}"


def _exchange(a: Path, b: Path) -> bool:
    """Swap two directory entries atomically (Linux ``renameat2``); False where unsupported."""
    libc = ctypes.CDLL(None, use_errno=True)
    renameat2 = getattr(libc, "renameat2", None)
    if renameat2 is None:
        return False
    done = renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE)
    if done == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.EPERM, errno.ENOTSUP):
        return False
    raise OSError(code, os.strerror(code), str(a), None, str(b))


def _swap_in(stage: Path, out: Path) -> None:
    """Make ``stage`` the folder ``out``; the previous ``out`` is removed."""
    if not out.exists():
        os.rename(stage, out)
        return
    if _exchange(stage, out):  # now ``stage`` holds the previous outputs
        shutil.rmtree(stage, ignore_errors=True)
        return
    old = _sibling(out, OLD_TAG, str(os.getpid()))
    os.rename(out, old)  # a crash between these two renames is undone by _recover
    os.rename(stage, out)
    shutil.rmtree(old, ignore_errors=True)


def _recover(out: Path) -> None:
    """Undo what an interrupted run left beside ``out`` (the caller holds the lock)."""
    olds = sorted(out.parent.glob(f".{out.name}{OLD_TAG}*"))
    if olds and not out.exists():
        os.rename(olds[-1], out)  # a swap cut between its renames: the old outputs return
        olds = olds[:-1]
    stale = [*olds, *out.parent.glob(f".{out.name}{STAGE_TAG}*")]
    for path in stale:
        shutil.rmtree(path, ignore_errors=True)
    if stale:
        log.warn(Text(f"上次写入 {out} 的运行被中断，已清除其未完成的文件",
                      f"an earlier run into {out} was interrupted; its unfinished files "
                      "were removed"))


def _check_folder(out: Path) -> None:
    """Refuse an output folder that is a file, holds the user's files, or holds the caller."""
    here = Path.cwd().resolve()
    if out == here or out in here.parents or out == Path.home().resolve():
        raise OutputFolderError(Text(
            f"输出目录 {out} 是当前目录、其上级或主目录：cfplan 会整个替换输出目录，请另指定一个新目录，如 out/run1",
            f"the output folder {out} is the current folder, one above it, or home: cfplan "
            "replaces the whole output folder; name a new one, e.g. out/run1"))
    if out.exists() and not out.is_dir():
        raise OutputFolderError(Text(f"输出路径 {out} 已存在且不是目录：请另指定输出目录",
                                     f"the output path {out} exists and is not a folder: "
                                     "choose another output folder"))
    if not out.is_dir() or (out / RUN_RECORD).is_file():
        return
    foreign = sorted(p.name for p in out.iterdir() if p.name not in LEGACY_OUTPUTS
                     and not p.name.endswith((".gcj02.geojson",)))
    if foreign:
        shown = "、".join(foreign[:3]) + ("…" if len(foreign) > 3 else "")
        raise OutputFolderError(Text(
            f"输出目录 {out} 中有不是 cfplan 写的文件（{shown}）：cfplan 会整个替换输出目录，"
            "请指定新的或空的目录",
            f"the output folder {out} holds files cfplan did not write ({', '.join(foreign[:3])}"
            f"{'…' if len(foreign) > 3 else ''}): cfplan replaces the whole output folder; "
            "choose a new or empty one"))


@contextmanager
def locked(out: Path, *, wait: bool = False) -> Iterator[None]:
    """Hold the lock of output folder ``out`` (a ``flock`` on ``.<out>.cfplan-lock`` beside it).

    The lock dies with its process, ``kill -9`` included, so a crashed run never blocks
    the next one.

    Raises
    ------
    OutputBusyError
        If another run holds it and ``wait`` is false.
    """
    out.parent.mkdir(parents=True, exist_ok=True)
    path = _sibling(out, LOCK_TAG)
    handle: IO[str] = open(path, "a+", encoding="utf-8")  # noqa: SIM115 - held open
    try:
        if fcntl is not None:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                handle.seek(0)
                holder = handle.read().strip() or "?"
                if not wait:
                    raise OutputBusyError(Text(
                        f"另一个 cfplan 运行（{holder}）正在写入 {out}：等它结束后再运行，"
                        "或加 --wait 排队等待",
                        f"another cfplan run ({holder}) is writing {out}: run again when "
                        "it has finished, or add --wait to queue")) from None
                log.info(Text(f"等待另一个运行（{holder}）写完 {out}",
                              f"waiting for another run ({holder}) to finish {out}"))
                fcntl.flock(handle, fcntl.LOCK_EX)
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()}, {_now()}\n")
        handle.flush()
        yield
    finally:
        handle.close()  # releases the lock


def _keep_failed(stage: Stage, exc: BaseException, started: str) -> Path:
    """Move an unfinished stage to ``.<out>.cfplan-failed`` with its ``run.json``; return it."""
    failed = _sibling(stage.out, FAILED_TAG)
    with suppress(OSError):
        shutil.rmtree(failed, ignore_errors=True)
        os.rename(stage.root, failed)
        stage.root = failed
    message = exc.message(lang="zh") if isinstance(exc, CfplanError) else str(exc)
    record = {**_head(stage, started), "status": "failed", "exit_status": exit_code(exc),
              "error": f"{type(exc).__name__}: {message}",
              "outputs": listing(stage.root) if stage.root.is_dir() else []}
    with suppress(OSError):  # a full disk may refuse even this
        atomic_write_text(stage.root / RUN_RECORD, _dump(record))
    return stage.root


def _head(stage: Stage, started: str) -> dict[str, object]:
    from cfplan import __version__

    return {"generator": "cfplan", "version": __version__, **stage.record,
            "started": started, "finished": _now()}


def _dump(record: dict[str, object]) -> str:
    return json.dumps(record, ensure_ascii=False, indent=1, sort_keys=False, default=str) + "\n"


@contextmanager
def publishing(out: str | os.PathLike[str], *, command: str, wait: bool = False,
               record: dict[str, object] | None = None) -> Iterator[Stage]:
    """Write a run into a staging folder and swap it in as ``out`` only when it succeeds.

    While the block runs, this run holds ``out``'s lock (a second run stops, or waits with
    ``wait``), and every atomic write must lie in the stage
    (:func:`cfplan.geo.io.confine_writes`). On success the stage gets ``run.json`` (what
    produced the folder: version, command, plan, options, input hashes, start and end
    time, status and every output file with its SHA-256) and replaces ``out`` in one
    atomic exchange: nothing of the previous run remains. On any failure (bad input, a
    full disk, an interrupt, a bug) ``out`` keeps the previous run's outputs untouched; the
    partial files go to ``.<out>.cfplan-failed`` beside it (the exception's
    ``partial_outputs``). A run killed outright leaves its stage behind; the next run into
    ``out`` removes it.

    Parameters
    ----------
    out
        The output folder.
    command
        What is running (``run``, ``site`` …), recorded in ``run.json``.
    wait
        Wait for another run holding the folder instead of stopping.
    record
        Initial ``run.json`` entries; the block may add more through ``Stage.record``.

    Yields
    ------
    Stage
        Write under ``stage.root``.

    Raises
    ------
    OutputFolderError
        If ``out`` is a file, holds files cfplan did not write, or is the current folder.
    OutputBusyError
        If another run holds ``out`` and ``wait`` is false.
    """
    target = Path(out).expanduser().absolute()
    target = target.parent.resolve() / target.name  # symlinked parents: the real place
    if target.is_symlink():
        target = target.resolve()
    _check_folder(target)
    with locked(target, wait=wait):
        _recover(target)
        _check_folder(target)
        stage = Stage(target, _sibling(target, STAGE_TAG, str(os.getpid())),
                      {"command": command, **(record or {})})
        shutil.rmtree(stage.root, ignore_errors=True)
        stage.root.mkdir()
        started = _now()
        try:
            with confine_writes(stage.root):
                yield stage
            done = {**_head(stage, started), "status": "ok", "exit_status": EXIT_OK,
                    "outputs": listing(stage.root)}
            atomic_write_text(stage.root / RUN_RECORD, _dump(done))
            _swap_in(stage.root, target)
        except BaseException as exc:
            partial = _keep_failed(stage, exc, started)
            with suppress(AttributeError, TypeError):
                exc.partial_outputs = partial  # type: ignore[attr-defined]
            raise
        shutil.rmtree(_sibling(target, FAILED_TAG), ignore_errors=True)


def write_evidence(exc: InputError, root: Path, *, lang: str = "zh") -> list[Path]:
    """Write ``rejected.*`` and ``accounting.csv`` of what a failed load had read into ``root``.

    Returns
    -------
    list of pathlib.Path
        The files written (none when the error came before any file was read).
    """
    from cfplan.analysis.export import write_rejected
    from cfplan.geo.io import write_csv

    evidence = exc.evidence
    if evidence is None:
        return []
    files = write_rejected(evidence.rejected, root, lang=lang)  # type: ignore[attr-defined]
    files.append(write_csv(evidence.accounting, root / "accounting.csv"))  # type: ignore[attr-defined]
    return files


__all__ = ["EXIT_BUSY", "EXIT_INPUT", "EXIT_INTERNAL", "EXIT_INTERRUPTED", "EXIT_OK",
           "EXIT_USAGE", "RUN_RECORD", "OutputBusyError", "OutputFolderError", "Stage",
           "exit_code", "listing", "locked", "publishing", "write_evidence"]
