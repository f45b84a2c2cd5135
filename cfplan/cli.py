"""The ``cfplan`` command line, a thin layer over the Python API."""

from __future__ import annotations

import argparse
import errno
import logging
import math
import os
import signal
import sys
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from cfplan.layers.errors import CfplanError, InputError
from cfplan.layers.i18n import msg, t
from cfplan.layers.log import logger, text_of_record
from cfplan.layers.text import Text
from cfplan.maps.basemaps import TILE_CHOICES, tianditu_key
from cfplan.publish import (
    EXIT_INPUT,
    EXIT_INTERNAL,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_USAGE,
    RUN_RECORD,
    exit_code,
    publishing,
)

HELP: dict[str, Text] = {
    "prog": Text("儿童友好城市设施覆盖规划工具", "Facility-coverage planner for child-friendly cities"),
    "version": Text("显示版本号并退出", "show the version and exit"),
    "demo": Text("在内置合成示范区上运行（对照经开区方案）",
                 "run on the embedded synthetic demo district (against the 经开区 plan)"),
    "run": Text("对一个图层目录和规划文件运行全部分析，输出地图、GeoJSON 和报告",
                "run every analysis for a layer folder and a plan: map, GeoJSON and report"),
    "report": Text("只输出差距报告（Word、Markdown、XLSX、CSV）与 GeoJSON，不绘制地图",
                   "write the gap report (Word, Markdown, XLSX, CSV) and GeoJSON, without the "
                   "map"),
    "template": Text("输出规划中所有非空间指标的填报模板（CSV 和 XLSX）",
                     "write the fill-in template of every non-spatial indicator (CSV and XLSX)"),
    "validate": Text("检查规划文件、图层目录与指标填报表（不做分析），列出全部警告，报告错误所在",
                     "check a plan file, a layer folder and its indicators without analysing "
                     "them: every warning, and where any error lies"),
    # cfplan site
    "site": Text("选址：为未达标目标求解最少新建设施及其位置（默认示范区对照经开区方案）",
                 "siting: the fewest new facilities, and where, that meet the not-met targets "
                 "(default: the demo district against the 经开区 plan)"),
    "scenario": Text("从哪一情景出发：planned（规划项目建成后，默认：只建议仍缺的）或 current（现状）",
                     "where the advice starts: planned (default: projects under construction "
                     "and planned are done, only what is still missing is proposed) or "
                     "current (today's facilities)"),
    "budget": Text("每项国家标准列出的优先选址数（默认 10）",
                   "new sites ranked for each national standard (default 10)"),
    "centre_places": Text("新建托育机构的托位数（默认 60）", "places of a new 托育 centre (default 60)"),
    "expand_share": Text("现有托育机构至多可增加其托位的比例（默认 0.25）",
                         "share of its stated places an existing 托育 centre may add "
                         "(default 0.25)"),
    "apply_sites": Text("按建议建成后重新评估全部目标（siting_check.csv）",
                        "evaluate every target again with the proposed sites built "
                        "(siting_check.csv)"),
    "kind": Text("只对这一类设施运行一个模型（配合 --model）", "run one model for this kind (with --model)"),
    "model": Text("模型：lscp（最少设施全覆盖）、mclp（k 处覆盖最多）、pmedian（k 处步行总距离最短）",
                  "model: lscp (fewest sites for full coverage), mclp (k sites covering the "
                  "most), pmedian (k sites minimising the total walk)"),
    "k": Text("mclp / pmedian 的新建数量", "new sites for mclp / pmedian"),
    "radius": Text("覆盖半径（米，步行），默认取该类设施的标准半径", "coverage radius (m, walking); default: "
                   "the kind's standard radius"),
    "spacing": Text("生成候选点的最小间距（米，默认 100）", "spacing of generated candidates (m, default 100)"),
    "time_limit": Text("每个模型的求解时限（秒，默认 60）", "time limit per model (s, default 60)"),
    "no_map": Text("不输出地图", "do not write the map"),
    # cfplan batch
    "batch": Text("在 Dask 上批量运行多个区县（jobs.toml），输出城市汇总与总览地图",
                  "run many districts (jobs.toml) on Dask: a city summary and overview map"),
    "jobs": Text("批量任务文件：每个区县一个 [[districts]]（name、layers、plan、indicators）",
                 "job file: one [[districts]] per district (name, layers, plan, indicators)"),
    "workers": Text("本地集群的工作进程数（默认每核一个）",
                    "workers of the local cluster (default: one per core)"),
    "scheduler": Text("已运行的 dask.distributed 调度器地址，如 tcp://10.0.0.5:8786",
                      "address of a running dask.distributed scheduler, e.g. tcp://10.0.0.5:8786"),
    "force": Text("输入未变的区县也重新运行", "run districts again even when their inputs are unchanged"),
    # cfplan serve
    "serve": Text("规划工作台：在本机启动网页，试加、移动、删除设施，即时看到每项目标的变化"
                  "（默认示范区对照经开区方案）",
                  "the planner's workbench: a local web page to add, move or remove facilities "
                  "and see every target change at once (default: the demo district against the "
                  "经开区 plan)"),
    "host": Text("监听地址（默认 127.0.0.1，仅本机）；其他地址必须使用令牌",
                 "address to listen on (default 127.0.0.1, this machine only); any other "
                 "needs a token"),
    "port": Text("端口（默认 8765）", "port (default 8765)"),
    "token": Text("访问令牌（非本机地址时未给出则自动生成并打印）",
                  "access token (generated and printed when not given on a non-loopback host)"),
    "read_only": Text("只读：供审阅者查看，不能编辑", "read-only: for reviewers, edits disabled"),
    "base": Text("编辑基于哪一情景：current（现状，默认）或 planned（规划完成后）",
                 "the scenario edits apply to: current (default) or planned"),
    "scenario_file": Text("工作台保存的情景文件（*.scenario）：先把其中的编辑应用到图层",
                          "a scenario file saved by the workbench (*.scenario): its edits are "
                          "made to the layers first"),
    "compare": Text("并排比较两个已保存情景的每项目标", "compare two saved scenarios target by target"),
    "scenarios": Text("两个情景文件", "two scenario files"),
    "compare_out": Text("比较结果 CSV（默认只打印）", "write the comparison as CSV (default: print it)"),
    "wait": Text("输出目录正被另一个 cfplan 运行写入时排队等待（默认立即停止并说明）",
                 "wait while another cfplan run writes the output folder (default: stop and "
                 "say so)"),
    "layers": Text("图层目录（含 layers.toml）", "layer folder (with layers.toml)"),
    "plan": Text("规划文件（TOML），或内置规划名 jingkai / shangjie",
                 "plan file (TOML), or a built-in plan: jingkai / shangjie"),
    "out": Text("输出目录", "output folder"),
    "lang": Text("界面与报告语言：zh（默认）或 en",
                 "language of messages and reports: zh (default) or en"),
    "indicators": Text("指标填报表（CSV/XLSX），默认取图层清单中的 indicators",
                       "indicators file (CSV/XLSX); default: the one named in layers.toml"),
    "tiles": Text("底图：none（默认）、osm、tianditu（天地图矢量+注记）、tianditu-img（影像+注记）、"
                  "amap（高德，GCJ-02：地图上各图层显示时偏移，导出数据不变）；需联网",
                  "basemap: none (default), osm, tianditu (vector + labels), tianditu-img "
                  "(imagery + labels), amap (AMap, GCJ-02: the map's layers are shifted for "
                  "display, exports are not); needs internet"),
    "tk": Text("天地图 tk 密钥（默认取环境变量 TIANDITU_KEY）",
               "天地图 (Tianditu) tk key (default: the TIANDITU_KEY environment variable)"),
    "no_access": Text("跳过步行可达性计算", "skip walking accessibility"),
    "no_routes": Text("跳过上下学路径分析（不输出 routes/）",
                      "skip the school-route analysis (no routes/ folder)"),
    "routes": Text("只分析上下学路径：学区、最短与安全路线、路线指标、隐患点（输出 routes/）",
                   "analyse the routes to school only: catchments, shortest and safe routes, "
                   "route metrics, hotspots (writes routes/)"),
    "place": Text('在线下载路网的地名，如 "上街区, 郑州市"（需联网，替代清单中的路网文件）',
                  'download the street network online for a place, e.g. "上街区, 郑州市" '
                  "(needs internet; replaces the manifest's street file)"),
    "cache": Text("路网缓存：.npz 等数组缓存（同一路网文件与坐标系时读取，否则重建写入）"
                  "或 .graphml（存在则读取，否则写入）",
                  "street-network cache: an array cache such as streets.npz (read when built "
                  "from the same street file and CRS, else rebuilt and written) or a .graphml "
                  "file (read if it exists, else written)"),
    "shp": Text("另输出 Shapefile（shp/ 下，含 .cpg 与字段对照 fields.csv），文本编码 utf-8 或 gbk",
                "also write Shapefiles (under shp/, with .cpg and the field table fields.csv), "
                "text encoded utf-8 or gbk"),
    "export_datum": Text("gcj02：另为每个 GeoJSON 输出一份 GCJ-02 坐标副本（*.gcj02.geojson，供高德等系统）；"
                         "默认 wgs84 文件不偏移",
                         "gcj02: also write a GCJ-02 copy of every GeoJSON (*.gcj02.geojson, for "
                         "AMap-based systems); the default WGS-84 files never shift"),
}


def _lang_from(argv: list[str]) -> str:
    for i, a in enumerate(argv):
        if a == "--lang" and i + 1 < len(argv):
            return argv[i + 1]
        if a.startswith("--lang="):
            return a.split("=", 1)[1]
    return "zh"


def build_parser(lang: str = "zh") -> argparse.ArgumentParser:
    """Return the argument parser, with help text in ``lang``."""
    def h(key: str) -> str:
        return HELP[key].get(lang)

    from cfplan import __version__

    parser = argparse.ArgumentParser(prog="cfplan", description=h("prog"))
    parser.add_argument("--version", action="version", version=f"cfplan {__version__}",
                        help=h("version"))
    sub = parser.add_subparsers(dest="command", required=True)

    def common(p: argparse.ArgumentParser, *, map_opts: bool = True) -> None:
        p.add_argument("--lang", choices=("zh", "en"), default="zh", help=h("lang"))
        p.add_argument("--indicators", help=h("indicators"))
        p.add_argument("--no-access", action="store_true", help=h("no_access"))
        p.add_argument("--no-routes", action="store_true", help=h("no_routes"))
        p.add_argument("--place", help=h("place"))
        p.add_argument("--graph-cache", help=h("cache"))
        p.add_argument("--scenario-file", help=h("scenario_file"))
        if map_opts:
            p.add_argument("--tiles", choices=TILE_CHOICES, default="none", help=h("tiles"))
            p.add_argument("--tianditu-key", default="", help=h("tk"))
        export_options(p)

    def export_options(p: argparse.ArgumentParser) -> None:
        p.add_argument("--shp", choices=("utf-8", "gbk"), type=str.lower, help=h("shp"))
        p.add_argument("--export-datum", choices=("wgs84", "gcj02"), default="wgs84",
                       type=str.lower, help=h("export_datum"))

    p = sub.add_parser("demo", help=h("demo"), description=h("demo"))
    p.add_argument("--out", default="out/demo", help=h("out"))
    p.add_argument("--wait", action="store_true", help=h("wait"))
    common(p)
    for name in ("run", "report"):
        p = sub.add_parser(name, help=h(name), description=h(name))
        p.add_argument("--layers", required=True, help=h("layers"))
        p.add_argument("--plan", required=True, help=h("plan"))
        p.add_argument("--out", required=True, help=h("out"))
        p.add_argument("--wait", action="store_true", help=h("wait"))
        common(p, map_opts=name == "run")
    p = sub.add_parser("site", help=h("site"), description=h("site"))
    p.add_argument("--layers", help=h("layers"))
    p.add_argument("--plan", help=h("plan"))
    p.add_argument("--out", required=True, help=h("out"))
    p.add_argument("--wait", action="store_true", help=h("wait"))
    p.add_argument("--scenario", choices=("current", "planned"), default="planned",
                   help=h("scenario"))
    p.add_argument("--budget", type=int, default=10, help=h("budget"))
    p.add_argument("--centre-places", type=float, default=60.0, help=h("centre_places"))
    p.add_argument("--expand-share", type=float, default=0.25, help=h("expand_share"))
    p.add_argument("--apply-sites", action="store_true", help=h("apply_sites"))
    p.add_argument("--kind", help=h("kind"))
    p.add_argument("--model", choices=("lscp", "mclp", "pmedian"), help=h("model"))
    p.add_argument("--k", type=int, help=h("k"))
    p.add_argument("--radius", type=float, help=h("radius"))
    p.add_argument("--spacing", type=float, default=100.0, help=h("spacing"))
    p.add_argument("--time-limit", type=float, default=60.0, help=h("time_limit"))
    p.add_argument("--graph-cache", help=h("cache"))
    p.add_argument("--no-map", action="store_true", help=h("no_map"))
    p.add_argument("--lang", choices=("zh", "en"), default="zh", help=h("lang"))
    p = sub.add_parser("routes", help=h("routes"), description=h("routes"))
    p.add_argument("--layers", required=True, help=h("layers"))
    p.add_argument("--out", required=True, help=h("out"))
    p.add_argument("--wait", action="store_true", help=h("wait"))
    p.add_argument("--lang", choices=("zh", "en"), default="zh", help=h("lang"))
    p.add_argument("--place", help=h("place"))
    p.add_argument("--graph-cache", help=h("cache"))
    p = sub.add_parser("batch", help=h("batch"), description=h("batch"))
    p.add_argument("--jobs", required=True, help=h("jobs"))
    p.add_argument("--out", required=True, help=h("out"))
    p.add_argument("--wait", action="store_true", help=h("wait"))
    p.add_argument("--workers", type=int, help=h("workers"))
    p.add_argument("--scheduler", help=h("scheduler"))
    p.add_argument("--force", action="store_true", help=h("force"))
    p.add_argument("--no-access", action="store_true", help=h("no_access"))
    p.add_argument("--no-routes", action="store_true", help=h("no_routes"))
    p.add_argument("--lang", choices=("zh", "en"), default="zh", help=h("lang"))
    p = sub.add_parser("serve", help=h("serve"), description=h("serve"))
    p.add_argument("--layers", help=h("layers"))
    p.add_argument("--plan", help=h("plan"))
    p.add_argument("--host", default="127.0.0.1", help=h("host"))
    p.add_argument("--port", type=int, default=8765, help=h("port"))
    p.add_argument("--token", help=h("token"))
    p.add_argument("--read-only", action="store_true", help=h("read_only"))
    p.add_argument("--base", choices=("current", "planned"), default="current", help=h("base"))
    p.add_argument("--scenario-file", help=h("scenario_file"))
    p.add_argument("--graph-cache", help=h("cache"))
    p.add_argument("--lang", choices=("zh", "en"), default="zh", help=h("lang"))
    p = sub.add_parser("compare", help=h("compare"), description=h("compare"))
    p.add_argument("scenarios", nargs=2, help=h("scenarios"))
    p.add_argument("--layers", help=h("layers"))
    p.add_argument("--plan", help=h("plan"))
    p.add_argument("--out", help=h("compare_out"))
    p.add_argument("--lang", choices=("zh", "en"), default="zh", help=h("lang"))
    p = sub.add_parser("template", help=h("template"), description=h("template"))
    p.add_argument("--plan", required=True, help=h("plan"))
    p.add_argument("--out", default="out/template", help=h("out"))
    p.add_argument("--wait", action="store_true", help=h("wait"))
    p.add_argument("--lang", choices=("zh", "en"), default="zh", help=h("lang"))
    p = sub.add_parser("validate", help=h("validate"), description=h("validate"))
    p.add_argument("--plan", help=h("plan"))
    p.add_argument("--layers", help=h("layers"))
    p.add_argument("--indicators", help=h("indicators"))
    p.add_argument("--lang", choices=("zh", "en"), default="zh", help=h("lang"))
    return parser


def _echo(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


class TerminalHandler(logging.Handler):
    """Print cfplan's log records on the terminal in one language; warnings marked ⚠.

    On an interactive terminal a progress bar (tqdm) follows the pipeline's steps.
    """

    def __init__(self, lang: str, *, steps: tuple[str, ...] = ()) -> None:
        super().__init__(logging.INFO)
        self.lang = lang
        self.bar = None
        if steps and sys.stderr.isatty():
            from tqdm import tqdm

            self.bar = tqdm(total=len(steps), file=sys.stderr, leave=False,
                            bar_format="{l_bar}{bar}| {n_fmt}/{total_fmt}")
        self.steps = steps

    def emit(self, record: logging.LogRecord) -> None:
        """Print one record (in the handler's language) and advance the bar on a new step."""
        text = text_of_record(record, self.lang)
        if record.levelno >= logging.WARNING:
            text = f"  ⚠ {t('warn', lang=self.lang)}: {text}"
        step = getattr(record, "cfplan_step", None)
        if self.bar is not None:
            self.bar.write(text, file=sys.stderr)
            if step in self.steps:
                self.bar.n = self.steps.index(step) + 1
                self.bar.set_description(text.strip()[:30])
                self.bar.refresh()
        else:
            _echo(text)

    def close(self) -> None:
        """Close the progress bar."""
        if self.bar is not None:
            self.bar.close()
        super().close()


@contextmanager
def _terminal(lang: str, *, steps: tuple[str, ...] = ()) -> Iterator[None]:
    handler = TerminalHandler(lang, steps=steps)
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
        handler.close()


def main(argv: list[str] | None = None) -> int:
    """Run the command line.

    Returns
    -------
    int
        0 on success, 2 on bad input (the message names the file, feature, field and
        fix), 64 on a usage error, 70 on an internal error (a bug: the message says so),
        75 when another run is writing the same output folder, 130 when interrupted.
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    lang = _lang_from(argv)
    parser = build_parser(lang)
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return EXIT_OK if exc.code == 0 else EXIT_USAGE
    previous = _on_sigterm()
    try:
        return _dispatch(args)
    except InputError as exc:
        _echo(f"✖ {t('err.input', lang=args.lang)}: {exc.message(lang=args.lang)}")
        _partial(exc, args.lang)
        return EXIT_INPUT
    except CfplanError as exc:  # an output folder in use, no CJK font …
        _echo(f"✖ {exc.message(lang=args.lang)}")
        _partial(exc, args.lang)
        return exit_code(exc)
    except OSError as exc:
        _echo(f"✖ {_os_error(exc, args.lang)}")
        _partial(exc, args.lang)
        return EXIT_INPUT
    except KeyboardInterrupt as exc:
        _echo("✖ " + Text("已中断", "interrupted").get(args.lang))
        _partial(exc, args.lang)
        return EXIT_INTERRUPTED
    except Exception as exc:  # a bug: said as one, never a bare traceback
        _echo("✖ " + Text(f"cfplan 内部错误（请报告此问题）：{type(exc).__name__}: {exc}",
                          f"cfplan internal error (please report it): {type(exc).__name__}: "
                          f"{exc}").get(args.lang))
        if os.environ.get("CFPLAN_DEBUG"):
            traceback.print_exc()
        _partial(exc, args.lang)
        return EXIT_INTERNAL
    finally:
        signal.signal(signal.SIGTERM, previous)


def _on_sigterm() -> Any:
    """Turn SIGTERM into an interrupt, so that a stopped run keeps the previous outputs."""
    def stop(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    try:
        return signal.signal(signal.SIGTERM, stop)
    except ValueError:  # not the main thread
        return signal.getsignal(signal.SIGTERM)


def _os_error(exc: OSError, lang: str) -> str:
    """Return a file error in ``lang``: the file, and what the system said."""
    if exc.errno == errno.ENOSPC:
        name = Path(exc.filename).name if exc.filename else ""
        return Text(f"磁盘空间不足，写入 {name} 时失败：释放空间后重新运行",
                    f"the disk is full (writing {name}): free some space and run again"
                    ).get(lang)
    return f"{t('err.file', lang=lang)}: {exc.filename or ''} {exc.strerror or exc}"


def _partial(exc: BaseException, lang: str) -> None:
    """Say that the output folder kept the previous run, and where this run's files are."""
    partial = getattr(exc, "partial_outputs", None)
    if partial is not None:
        _echo("  " + t("err.partial", lang=lang, partial=str(partial)))


def _dispatch(args: argparse.Namespace) -> int:
    from cfplan.geo.io import run_date
    from cfplan.pipeline import STEPS, run, run_demo

    try:
        run_date()
    except ValueError as exc:  # a malformed SOURCE_DATE_EPOCH
        _echo(f"cfplan: {exc}")
        return EXIT_USAGE
    if args.command in ("demo", "run", "report"):
        tiles = getattr(args, "tiles", "none")
        if tiles.startswith("tianditu") and not tianditu_key(getattr(args, "tianditu_key", "")):
            _echo(f"cfplan {args.command}: " + Text(
                "天地图底图需要密钥：--tianditu-key KEY 或环境变量 TIANDITU_KEY",
                "the 天地图 basemap needs a key: --tianditu-key KEY or TIANDITU_KEY").get(args.lang))
            return EXIT_USAGE
        options = {"lang": args.lang, "indicators": args.indicators,
                   "access": not args.no_access, "routes": not args.no_routes,
                   "place": args.place,
                   "graph_cache": args.graph_cache, "shp": args.shp,
                   "scenario": args.scenario_file,
                   "export_datum": args.export_datum, "wait": args.wait}
        with _terminal(args.lang, steps=STEPS):
            if args.command == "demo":
                run_demo(args.out, tiles=tiles, tianditu_key=args.tianditu_key,
                         command="demo", **options)
            else:
                run(args.layers, args.plan, args.out, write_map=args.command == "run",
                    tiles=tiles, command=args.command,
                    tianditu_key=getattr(args, "tianditu_key", ""), **options)
        _print_outputs(Path(args.out), args.lang)
        return EXIT_OK
    if args.command == "site":
        return _site(args)
    if args.command == "routes":
        from cfplan.pipeline import run_routes

        with _terminal(args.lang):
            run_routes(args.layers, args.out, place=args.place, graph_cache=args.graph_cache,
                       wait=args.wait)
        _print_outputs(Path(args.out) / "routes", args.lang)
        return EXIT_OK
    if args.command == "batch":
        from cfplan.batch import run_batch

        with _terminal(args.lang):
            summary = run_batch(args.jobs, args.out, workers=args.workers,
                                scheduler=args.scheduler, force=args.force, lang=args.lang,
                                access=not args.no_access, routes=not args.no_routes,
                                wait=args.wait)
        for name in ("overview.html", "summary.csv", "districts.csv", "summary.xlsx"):
            print(Path(args.out) / name)
        return EXIT_INPUT if (summary["status"] == "failed").any() else EXIT_OK
    if args.command == "serve":
        return _serve(args)
    if args.command == "compare":
        return _compare(args)
    if args.command == "template":
        from cfplan.analysis.indicators import write_template
        from cfplan.analysis.plan import load_plan

        plan = load_plan(args.plan)
        with publishing(args.out, command="template", wait=args.wait,
                        record={"plan": {"id": plan.id, "file": str(plan.path)}}) as stage:
            files = write_template(plan, stage.root)
        for path in files:
            print(stage.final(path))
        return EXIT_OK
    if args.command == "validate":
        return _validate(args)
    return EXIT_USAGE  # pragma: no cover


def _site(args: argparse.Namespace) -> int:
    """Plan-driven siting (every not-met target), or one model with --kind and --model."""
    from cfplan.demo import DEMO_DIR
    from cfplan.pipeline import assess

    def usage(zh: str, en: str) -> int:
        _echo("cfplan site: " + Text(zh, en).get(args.lang))
        return EXIT_USAGE

    if (args.layers is None) != (args.plan is None):
        return usage("--layers 与 --plan 须同时给出（都不给则用示范区）",
                     "give both --layers and --plan (or neither, for the demo)")
    if (args.kind is None) != (args.model is None):
        return usage("--kind 与 --model 须同时给出", "give both --kind and --model")
    if args.model in ("mclp", "pmedian") and args.k is None:
        return usage(f"--model {args.model} 需要 --k", f"--model {args.model} needs --k")
    from cfplan.analysis.siting.inputs import option_problem

    problem = option_problem(k=args.k, radius_m=args.radius, spacing_m=args.spacing,
                             time_limit=args.time_limit)
    if problem is not None:
        return usage(problem.zh, problem.en)
    if not (args.budget >= 1 and math.isfinite(args.centre_places) and args.centre_places > 0
            and math.isfinite(args.expand_share) and 0 <= args.expand_share <= 1):
        return usage("--budget 须 ≥ 1，--centre-places 须 > 0，--expand-share 须在 0–1 之间",
                     "--budget must be >= 1, --centre-places > 0, --expand-share within 0..1")
    if args.kind is not None:
        from cfplan.layers.kinds import FACILITY_KINDS

        if args.kind not in FACILITY_KINDS:
            return usage(f"未知设施类别「{args.kind}」", f"unknown kind {args.kind!r}")
    written: list[Path] = []
    with _terminal(args.lang, steps=("load", "streets", "access", "evaluate", "siting",
                                     "export", "map")), publishing(
            args.out, command="site", wait=args.wait,
            record={"options": {"scenario": args.scenario, "kind": args.kind,
                                "model": args.model, "k": args.k, "radius": args.radius,
                                "spacing": args.spacing, "time_limit": args.time_limit,
                                "budget": args.budget, "centre_places": args.centre_places,
                                "expand_share": args.expand_share,
                                "apply_sites": args.apply_sites, "lang": args.lang}}) as stage:
        out = stage.root
        result = assess(args.layers or DEMO_DIR, args.plan or "jingkai",
                        graph_cache=args.graph_cache)
        stage.record.update(result.run_record())
        if args.kind is not None:
            import json

            from cfplan.analysis.siting.plan_sites import SITE_COLUMNS
            from cfplan.analysis.siting.runs import run_record
            from cfplan.geo.io import atomic_write_text, write_geojson

            solved, sites = result.site_model(args.kind, args.model, k=args.k,
                                              radius_m=args.radius, scenario=args.scenario,
                                              spacing_m=args.spacing,
                                              time_limit=args.time_limit)
            record = {"scenario": args.scenario, "runs": [run_record(args.kind, solved)]}
            written += [
                write_geojson(sites, out / "sites.geojson", columns=list(SITE_COLUMNS)),
                atomic_write_text(out / "siting.json", json.dumps(
                    record, ensure_ascii=False, indent=1, allow_nan=False) + "\n")]
            _echo(Text(f"{solved.model}：{solved.status}，目标值 {solved.objective:g}，界 "
                       f"{solved.bound:g}，间隙 {solved.gap:.2%}，新建 {len(sites)} 处",
                       f"{solved.model}: {solved.status}, objective {solved.objective:g}, "
                       f"bound {solved.bound:g}, gap {solved.gap:.2%}, {len(sites)} new "
                       "sites").get(args.lang))
        else:
            from cfplan.analysis.siting.export import advice_sections

            siting = result.site(scenario=args.scenario, spacing_m=args.spacing,
                                 time_limit=args.time_limit, budget=args.budget,
                                 centre_places=args.centre_places,
                                 expand_share=args.expand_share, check=args.apply_sites)
            written += result.write_files(out, lang=args.lang, map=not args.no_map)
            colon = "：" if args.lang == "zh" else ": "
            for (heading, _), items in advice_sections(siting, result.plan, lang=args.lang):
                _echo(heading)
                for target, text in items:
                    _echo(f"  {target}{colon}{text}")
            if siting.applied is not None:
                done = siting.outcomes[siting.outcomes["status_applied"].notna()
                                       & siting.outcomes["sited"].astype(bool)
                                       & (siting.outcomes["origin"] != "standard")]
                met = int((done["status_applied"] == "met").sum())
                _echo(Text(f"建成后重新评估：所建议的 {len(done)} 项目标中 {met} 项达成",
                           f"evaluated again with the sites built: {met} of the {len(done)} "
                           "targets they were proposed for are met").get(args.lang))
    # every file written, where it was published, in a stable order (the siting files first)
    published = [stage.final(p) for p in dict.fromkeys(written)] + [stage.out / RUN_RECORD]
    lead = ("sites.geojson", "siting.json", "siting_targets.csv", "tradeoff.csv",
            "siting_check.csv")
    for path in sorted(published, key=lambda p: (
            p.name not in lead, lead.index(p.name) if p.name in lead else 0, str(p))):
        print(path)
    return EXIT_OK


def _serve(args: argparse.Namespace) -> int:
    """Assess once, then serve the workbench until interrupted."""
    from cfplan.serve.run import ServeOptions, serve

    if (args.layers is None) != (args.plan is None):
        _echo("cfplan serve: " + Text("--layers 与 --plan 须同时给出（都不给则用示范区）",
                                      "give both --layers and --plan (or neither, for the "
                                      "demo)").get(args.lang))
        return EXIT_USAGE
    if not 0 < args.port < 65536:
        _echo("cfplan serve: " + Text("端口应在 1 到 65535 之间", "the port must lie between 1 "
                                      "and 65535").get(args.lang))
        return EXIT_USAGE
    options = ServeOptions(layers=args.layers, plan=args.plan, host=args.host, port=args.port,
                           token=args.token, read_only=args.read_only, lang=args.lang,
                           base=args.base, scenario_file=args.scenario_file,
                           graph_cache=args.graph_cache)
    with _terminal(args.lang):
        serve(options)  # uvicorn stops on Ctrl+C
    return EXIT_OK


def _compare(args: argparse.Namespace) -> int:
    """Print (or write) two saved scenarios side by side, target by target."""
    from cfplan.analysis.workbench import read_scenario
    from cfplan.demo import DEMO_DIR
    from cfplan.geo.io import write_csv
    from cfplan.scenarios import compare_scenarios

    if (args.layers is None) != (args.plan is None):
        _echo("cfplan compare: " + Text("--layers 与 --plan 须同时给出（都不给则取情景文件中的）",
                                        "give both --layers and --plan (or neither: the "
                                        "scenarios' own)").get(args.lang))
        return EXIT_USAGE
    header, _ = read_scenario(args.scenarios[0])
    layers = args.layers or (DEMO_DIR if header.layers == "demo" else header.layers)
    with _terminal(args.lang):
        table = compare_scenarios(layers, args.plan or header.plan, *args.scenarios,
                                  lang=args.lang)
    if args.out:
        write_csv(table, Path(args.out))
        print(args.out)
    else:
        print(table.to_string(index=False))
    return EXIT_OK


def _validate(args: argparse.Namespace) -> int:
    """Check a plan, a layer folder and its indicators as a run would, short of analysing."""
    from cfplan.inputs import validate

    if not args.plan and not args.layers:
        _echo("cfplan validate: " + Text("需要 --plan 或 --layers", "give --plan and/or --layers")
              .get(args.lang))
        return EXIT_USAGE
    checked = validate(args.layers, args.plan, indicators=args.indicators)
    if checked.plan is not None:
        print(Text(f"{checked.plan.path}：有效，{len(checked.plan.targets)} 项目标",
                   f"{checked.plan.path}: valid, {len(checked.plan.targets)} targets")
              .get(args.lang))
    layers = checked.layers
    if layers is not None:
        print(msg("progress.crs", epsg=layers.crs.to_epsg(), name=layers.crs.name).get(args.lang))
        print(layers.accounting.to_string(index=False))
    if checked.indicators is not None:
        print(Text(f"{checked.indicators_path}：{len(checked.indicators)} 行",
                   f"{checked.indicators_path}: {len(checked.indicators)} rows").get(args.lang))
    for w in checked.warnings:
        print(f"⚠ {t('warn', lang=args.lang)}: {w.get(args.lang)}")
    if layers is not None:
        print(Text(f"图层有效：{len(layers.units)} 个社区/村，{len(layers.facilities)} 处设施，"
                   f"{len(checked.warnings)} 条警告",
                   f"layers valid: {len(layers.units)} units, {len(layers.facilities)} "
                   f"facilities, {len(checked.warnings)} warnings").get(args.lang))
    return EXIT_OK


def _print_outputs(out: Path, lang: str) -> None:
    print(t("progress.outputs", lang=lang))
    for path in sorted(p for p in out.rglob("*") if p.is_file()):
        print(f"  {path}")


if __name__ == "__main__":
    raise SystemExit(main())
