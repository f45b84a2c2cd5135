"""Many districts at once: each district's run as its own task on ``dask.distributed``.

::

    from cfplan import run_batch
    summary = run_batch("jobs.toml", "out/city")                 # a LocalCluster
    summary = run_batch("jobs.toml", "out/city", scheduler="tcp://10.0.0.5:8786")

Every district writes into ``out/<district>/`` exactly what ``cfplan run`` writes, plus a
record of its inputs' content hashes (``.cfplan-inputs.json``); a rerun skips a district
whose inputs, plan, options and cfplan version are unchanged. One district's bad input
fails that district only. The city summary (``summary.csv``, ``districts.csv``,
``summary.xlsx``) and the overview map (``overview.html``) go into ``out``.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

import cfplan
from cfplan.analysis.evaluate import STATUS_VALUES, headline
from cfplan.analysis.report import side_by_side
from cfplan.analysis.selection import SCENARIOS
from cfplan.geo.crs import WGS84
from cfplan.geo.io import confine_writes, output_path, write_csv, write_xlsx
from cfplan.layers import log
from cfplan.layers.errors import InputError
from cfplan.layers.fingerprint import input_fingerprint, run_inputs
from cfplan.layers.i18n import msg, t
from cfplan.layers.jobs import DistrictJob, read_jobs
from cfplan.layers.text import Text
from cfplan.publish import FAILED_TAG, RUN_RECORD, STAGE_TAG, locked, publishing

RECORD_VERSION = 2  # 2: the record is run.json's "batch" entry
COUNT_COLUMNS = tuple(f"{k}_{s}" for s in SCENARIOS for k in (*STATUS_VALUES, "total"))
DISTRICT_COLUMNS = ("district", "status", *COUNT_COLUMNS,
                    *(f"share_met_{s}" for s in SCENARIOS),
                    "error", "error_file", "error_row", "error_field", "map")
RUN_COLUMNS = ("action", "seconds")  # in the returned table, not in the files (reruns differ)
# Outputs whose absence makes a recorded district run again.
KEY_OUTPUTS = ("targets.csv", "report.md", "map.html", "layers/district.geojson")


def district_fingerprint(job: DistrictJob, *, plan_path: Path | None, lang: str,
                         access: bool, routes: bool = True) -> dict[str, object]:
    """Return the content fingerprint of one district's run.

    It covers every file the layer manifest names (and the manifest), the plan file,
    the indicators file, the output language, whether walking access and school routes
    are computed, and
    cfplan's version. Labels are relative to the layer folder, so a moved city folder
    keeps its fingerprints.

    Returns
    -------
    dict
        As :func:`cfplan.layers.fingerprint.input_fingerprint`.
    """
    files = run_inputs(job.layers, plan=plan_path, indicators=job.indicators)
    options = {"lang": lang, "access": access, "routes": routes, "cfplan": cfplan.__version__,
               "record": RECORD_VERSION, "plan_name": job.plan if plan_path is None else ""}
    return input_fingerprint(files, options=options)


def _read_record(path: Path) -> dict[str, object] | None:
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return record if isinstance(record, dict) else None


def _counts(results: Sequence[object]) -> dict[str, object]:
    row: dict[str, object] = {}
    for s in SCENARIOS:
        counts = headline(results, scenario=s)  # type: ignore[arg-type]
        for k in (*STATUS_VALUES, "total"):
            row[f"{k}_{s}"] = counts[k]
        assessed = counts["total"] - counts["not_assessed"]
        row[f"share_met_{s}"] = round(counts["met"] / assessed, 6) if assessed else None
    return row


def _failure(exc: BaseException, lang: str) -> dict[str, object]:
    if isinstance(exc, InputError):
        return {"error": exc.message(lang=lang), "error_file": exc.file,
                "error_row": exc.row, "error_field": exc.field}
    if isinstance(exc, OSError):
        return {"error": f"{t('err.file', lang=lang)}: {exc.filename or ''} "
                         f"{exc.strerror or exc}".strip(),
                "error_file": None if exc.filename is None else str(exc.filename),
                "error_row": None, "error_field": None}
    return {"error": f"{type(exc).__name__}: {exc}", "error_file": None, "error_row": None,
            "error_field": None}


def run_district(job: DistrictJob, out: str | Path, *, lang: str = "zh", access: bool = True,
                 routes: bool = True, force: bool = False) -> dict[str, object]:
    """Run one district into ``out`` unless its recorded inputs are unchanged: one batch task.

    The district's fingerprint (:func:`district_fingerprint`) is compared with the one
    recorded in ``out/run.json`` (a finished run), or beside ``out`` in the failed run's
    ``run.json`` (bad input); when they match (and the outputs are there) nothing is read
    or written and the recorded outcome comes back with ``action = "skipped"``. Otherwise
    :func:`cfplan.assess` runs and its outputs are published as ``out`` all at once
    (:func:`cfplan.publish.publishing`), the record inside. Bad input
    (:class:`cfplan.InputError`) is recorded with the failed run, so an unchanged broken
    district is skipped too, and ``out`` keeps its previous outputs; any other error is
    reported and not recorded (the next run retries).

    Returns
    -------
    dict
        ``district, status ("ok" | "failed"), action ("ran" | "skipped")``, the counts of
        targets by status per scenario (``met_current`` …), ``share_met_{scenario}`` (met
        over assessed targets, 0–1), ``error, error_file, error_row, error_field`` (the
        message in ``lang``), ``map`` (relative link), ``seconds`` and ``targets`` (one
        record per target, :func:`cfplan.analysis.report.side_by_side`).
    """
    from cfplan.analysis.plan import load_plan
    from cfplan.pipeline import assess

    start = time.perf_counter()
    out = Path(out)
    outcome: dict[str, object] = {"district": job.name}
    try:
        plan = load_plan(job.plan)
        plan_path: Path | None = plan.path
    except InputError as exc:
        plan, plan_path = None, None
        error: BaseException | None = exc
    else:
        error = None
    fingerprint = district_fingerprint(job, plan_path=plan_path, lang=lang, access=access,
                                       routes=routes)
    if not force:
        kept = _recorded(out, str(fingerprint["digest"]))
        if kept is not None:
            return {**kept, "action": "skipped", "seconds": time.perf_counter() - start}
    record = {"digest": fingerprint["digest"], "files": fingerprint["files"],
              "options": fingerprint["options"]}
    try:
        with publishing(out, command="batch", record={"district": job.name}) as stage:
            try:
                if error is not None:
                    raise error
                assert plan is not None  # a plan that failed to load set ``error``
                assessment = assess(job.layers, plan, indicators=job.indicators,
                                    access=access, routes=routes)
                stage.record.update(assessment.run_record())
                assessment.write_files(stage.root, lang=lang)
            except InputError as exc:  # recorded with the failed run: unchanged, it is skipped
                failed = _failed_outcome(job, exc, lang)
                stage.record["batch"] = {**record, **failed}
                raise
            counts = _counts(assessment.results)
            targets = side_by_side(assessment.plan, assessment.results, lang=lang)
            outcome |= {"status": "ok", **counts, "error": None, "error_file": None,
                        "error_row": None, "error_field": None,
                                        "map": f"{job.name}/map.html",
                        "targets": json.loads(targets.to_json(orient="records",
                                                              force_ascii=False))}
            stage.record["batch"] = {**record, **outcome}
    except Exception as exc:  # one district's failure must not stop the city
        outcome = _failed_outcome(job, exc, lang)
    return {**outcome, "action": "ran", "seconds": time.perf_counter() - start}


def _failed_outcome(job: DistrictJob, exc: BaseException, lang: str) -> dict[str, object]:
    return {"district": job.name, "status": "failed", **dict.fromkeys(COUNT_COLUMNS),
            **{f"share_met_{s}": None for s in SCENARIOS}, **_failure(exc, lang),
            "map": None, "targets": []}


def _recorded(out: Path, digest: str) -> dict[str, object] | None:
    """Return the outcome recorded for ``digest``: a published run, or a failed one beside it."""
    done = _read_record(out / RUN_RECORD)
    if done is not None and done.get("status") == "ok" and all(
            (out / f).is_file() for f in KEY_OUTPUTS):
        batch = done.get("batch")
        if isinstance(batch, dict) and batch.get("digest") == digest:
            return _outcome_of(batch)
    failed = _read_record(out.parent / f".{out.name}{FAILED_TAG}" / RUN_RECORD)
    if failed is not None:
        batch = failed.get("batch")
        if isinstance(batch, dict) and batch.get("digest") == digest:
            return _outcome_of(batch)
    return None


def _outcome_of(batch: dict[str, object]) -> dict[str, object]:
    return {k: v for k, v in batch.items() if k not in ("digest", "files", "options")}


def _crashed(job: DistrictJob, exc: BaseException, lang: str) -> dict[str, object]:
    """Return the outcome of a task that did not return (its worker died, or it was lost)."""
    return {**_failed_outcome(job, exc, lang), "action": "ran", "seconds": float("nan")}


@contextmanager
def _client(*, workers: int | None, scheduler: str | None, processes: bool,
            n_jobs: int) -> Iterator[Any]:
    """Yield a ``dask.distributed`` client of the scheduler at ``scheduler``, else a LocalCluster."""
    from dask.distributed import Client, LocalCluster

    if scheduler:
        with Client(scheduler) as client:
            yield client
        return
    n = workers or max(1, min(os.cpu_count() or 1, n_jobs))
    with LocalCluster(n_workers=n, threads_per_worker=1, processes=processes,
                      dashboard_address=None) as cluster, Client(cluster) as client:
        yield client


def _progress_line(outcome: dict[str, object], done: int, total: int) -> Text:
    head = Text.same(f"[{done}/{total}] {outcome['district']}: ")
    if outcome["status"] == "failed":
        return head + msg("batch.failed", error=outcome["error"])
    key = "batch.skipped" if outcome["action"] == "skipped" else "batch.done"
    return head + msg(key, met=outcome["met_current"], total=outcome["total_current"],
                      seconds=f"{outcome['seconds']:.1f}")


def run_batch(
    jobs: str | Path | Sequence[DistrictJob],
    out: str | Path,
    *,
    workers: int | None = None,
    scheduler: str | None = None,
    force: bool = False,
    lang: str = "zh",
    access: bool = True,
    routes: bool = True,
    processes: bool = True,
    progress: bool | None = None,
    wait: bool = False,
) -> pd.DataFrame:
    """Run every district of a job file as its own task on ``dask.distributed``.

    Parameters
    ----------
    jobs
        A job file (``jobs.toml``, see :func:`cfplan.layers.jobs.read_jobs`) or districts.
    out
        The city output folder: ``out/<district>/`` per district, the summary at the top.
    workers
        Workers of the LocalCluster (one thread each); default: one per core, at most
        one per district. Ignored with ``scheduler``.
    scheduler
        Address of a running ``dask.distributed`` scheduler (``tcp://host:8786``); its
        workers must have cfplan installed and see the same paths. Default: a LocalCluster.
    force
        Run every district again, even those whose inputs are unchanged.
    lang
        Language of the outputs and messages: ``"zh"`` or ``"en"``.
    access
        Measure walking access (needs each district's streets).
    routes
        Analyse each district's routes to school (``routes/``; needs streets and schools).
    processes
        LocalCluster workers as processes (true parallelism, the default) or threads.
    progress
        A progress bar over districts; default: when standard error is a terminal. Each
        finished district is also logged (``cfplan.layers.log``) as one line.
    wait
        Wait while another batch writes ``out`` instead of stopping.

    Each district's folder is published whole when its run succeeds; the four summary
    files are written first and then each replaces its old copy.

    Returns
    -------
    pandas.DataFrame
        One row per district in job order: :data:`DISTRICT_COLUMNS` (as in
        ``districts.csv``) plus ``action`` (``ran`` or ``skipped``) and ``seconds``.

    Raises
    ------
    cfplan.InputError
        When the job file itself is bad (a district's bad input is in its row instead).
    cfplan.publish.OutputBusyError
        When another batch writes ``out`` and ``wait`` is false.
    """
    jobs = tuple(jobs) if not isinstance(jobs, str | Path) else read_jobs(jobs)
    out = Path(out).resolve()
    with locked(out, wait=wait):
        out.mkdir(parents=True, exist_ok=True)
        return _run_jobs(jobs, out, workers=workers, scheduler=scheduler, force=force,
                         lang=lang, access=access, routes=routes, processes=processes,
                         progress=progress)


def _run_jobs(jobs: Sequence[DistrictJob], out: Path, *, workers: int | None,
              scheduler: str | None, force: bool, lang: str, access: bool, routes: bool,
              processes: bool, progress: bool | None) -> pd.DataFrame:
    from dask.distributed import as_completed

    if progress is None:
        progress = sys.stderr.isatty()
    caller = threading.get_ident()
    quiet = lambda record: record.thread == caller  # noqa: E731  (districts run in threads too)
    log.logger.addFilter(quiet)
    outcomes: dict[str, dict[str, object]] = {}
    try:
        log.info(msg("batch.start", n=len(jobs), out=str(out)), step="batch")
        with _client(workers=workers, scheduler=scheduler, processes=processes,
                     n_jobs=len(jobs)) as client:
            batch = uuid.uuid4().hex[:8]
            futures = {
                client.submit(run_district, job, output_path(out, job.name), lang=lang,
                              access=access,
                              routes=routes, force=force, key=f"cfplan-district-{batch}-{i}",
                              pure=False): job
                for i, job in enumerate(jobs)}
            bar = _bar(len(jobs)) if progress else None
            for done, future in enumerate(as_completed(futures), start=1):
                job = futures[future]
                try:
                    outcome = future.result()
                except Exception as exc:  # the worker died or the task was lost
                    outcome = _crashed(job, exc, lang)
                outcomes[job.name] = outcome
                with bar.external_write_mode(file=sys.stderr) if bar else nullcontext():
                    log.info(_progress_line(outcome, done, len(jobs)), step="batch")
                if bar is not None:
                    bar.update()
            if bar is not None:
                bar.close()
    finally:
        log.logger.removeFilter(quiet)
    ordered = [outcomes[job.name] for job in jobs]
    write_city_summary(ordered, out, lang=lang)
    table = pd.DataFrame([{k: o.get(k) for k in (*DISTRICT_COLUMNS, *RUN_COLUMNS)}
                          for o in ordered])
    failed = int((table["status"] == "failed").sum())
    log.info(msg("batch.summary", ok=len(table) - failed, failed=failed,
                 skipped=int((table["action"] == "skipped").sum()), out=str(out)), step="batch")
    return table


def _bar(total: int) -> Any:
    from tqdm import tqdm

    return tqdm(total=total, file=sys.stderr, leave=False, unit="district",
                bar_format="{l_bar}{bar}| {n_fmt}/{total_fmt} [{elapsed}<{remaining}]")


def district_table(outcomes: Sequence[dict[str, object]]) -> pd.DataFrame:
    """Return one row per district: status, counts per scenario, share met, error, map link.

    Returns
    -------
    pandas.DataFrame
        :data:`DISTRICT_COLUMNS`, as in ``districts.csv``.
    """
    df = pd.DataFrame([{k: o.get(k) for k in DISTRICT_COLUMNS} for o in outcomes],
                      columns=list(DISTRICT_COLUMNS))
    for col in (*COUNT_COLUMNS, "error_row"):  # blank, not 0, for a district that failed
        df[col] = df[col].astype("Int64")
    return df


def city_targets_table(outcomes: Sequence[dict[str, object]]) -> pd.DataFrame:
    """Return one row per district × target, both scenarios side by side.

    Returns
    -------
    pandas.DataFrame
        ``district`` then the columns of :func:`cfplan.analysis.report.side_by_side`; a
        failed district has no rows here (its error is in :func:`district_table`).
    """
    frames = [pd.DataFrame(o["targets"]).assign(district=o["district"])
              for o in outcomes if o.get("targets")]
    if not frames:
        return pd.DataFrame({"district": []})
    df = pd.concat(frames, ignore_index=True)
    return df[["district", *[c for c in df.columns if c != "district"]]]


def district_outlines(table: pd.DataFrame, out: Path) -> gpd.GeoDataFrame:
    """Return the district table with each district's outline (from its ``layers/district.geojson``).

    Returns
    -------
    geopandas.GeoDataFrame
        The rows of ``table``; geometry in WGS-84, missing for a district without outputs.
    """
    geoms: list[Any] = []
    for row in table.itertuples(index=False):
        path = out / str(row.district) / "layers" / "district.geojson"
        if row.status != "ok" or not path.is_file():
            geoms.append(None)
            continue
        shapes = gpd.read_file(path).to_crs(WGS84).geometry
        geoms.append(shapes.union_all().simplify(1e-5, preserve_topology=True))
    return gpd.GeoDataFrame(table, geometry=gpd.GeoSeries(geoms, crs=WGS84), crs=WGS84)


def write_city_summary(outcomes: Sequence[dict[str, object]], out: str | Path, *,
                       lang: str = "zh") -> list[Path]:
    """Write the city summary and overview map of a batch into ``out``.

    Files: ``summary.csv`` (one row per district × target), ``districts.csv`` (one row
    per district: status, counts of met / not met / unknown / not assessed targets per
    scenario, share met, error), ``summary.xlsx`` (sheets ``districts`` and
    ``targets``) and ``overview.html`` (:func:`cfplan.maps.overview.overview_map`).
    The same outcomes write the same bytes.

    Returns
    -------
    list of pathlib.Path
        The files written.
    """
    from cfplan.maps.overview import overview_map
    from cfplan.maps.plan_map import save_map

    out = Path(out)
    districts, targets = district_table(outcomes), city_targets_table(outcomes)
    stage = out / f".summary{STAGE_TAG}{os.getpid()}"
    shutil.rmtree(stage, ignore_errors=True)
    try:
        with confine_writes(stage):
            written = [write_csv(targets, stage / "summary.csv"),
                       write_csv(districts, stage / "districts.csv"),
                       write_xlsx({"districts": districts, "targets": targets},
                                  stage / "summary.xlsx")]
            written.append(save_map(overview_map(district_outlines(districts, out), lang=lang),
                                    stage / "overview.html"))
        for path in written:  # all four written: each replaces its old copy
            os.replace(path, out / path.name)
    finally:
        shutil.rmtree(stage, ignore_errors=True)
    return [out / path.name for path in written]


__all__ = [
    "DISTRICT_COLUMNS",
    "city_targets_table",
    "district_fingerprint",
    "district_table",
    "run_batch",
    "run_district",
    "write_city_summary",
]
