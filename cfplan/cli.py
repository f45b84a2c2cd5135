"""The ``cfplan`` command line: demo, run, report, template and validate."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from cfplan.layers.errors import InputError

EXIT_OK, EXIT_INPUT, EXIT_USAGE = 0, 2, 64

HELP = {
    "zh": {
        "prog": "儿童友好城市设施覆盖规划工具",
        "demo": "在内置合成示范区上运行（对照经开区方案）",
        "run": "对一个图层目录和规划文件运行全部分析，输出地图、GeoJSON 和报告",
        "report": "只输出差距报告（Markdown、XLSX、CSV）与 GeoJSON，不绘制地图",
        "template": "输出规划中所有非空间指标的填报模板（CSV 和 XLSX）",
        "validate": "检查规划文件（及图层目录），报告错误所在行",
        "layers": "图层目录（含 layers.toml）",
        "plan": "规划文件（TOML），或内置规划名 jingkai / shangjie",
        "out": "输出目录",
        "lang": "界面与报告语言：zh（默认）或 en",
        "indicators": "指标填报表（CSV/XLSX），默认取图层清单中的 indicators",
        "tiles": "可选底图：osm 或 tianditu（需联网；默认无底图）",
        "tk": "天地图 tk 密钥",
        "no_access": "跳过步行可达性计算",
        "place": "在线下载路网的地名，如 \"上街区, 郑州市\"（需联网，替代清单中的路网文件）",
        "cache": "路网缓存（GraphML）：存在则读取，否则写入",
    },
    "en": {
        "prog": "Facility-coverage planner for child-friendly cities",
        "demo": "run on the embedded synthetic demo district (against the 经开区 plan)",
        "run": "run every analysis for a layer folder and a plan: map, GeoJSON and report",
        "report": "write the gap report (Markdown, XLSX, CSV) and GeoJSON, without the map",
        "template": "write the fill-in template of every non-spatial indicator (CSV and XLSX)",
        "validate": "check a plan file (and a layer folder), naming the line of any error",
        "layers": "layer folder (with layers.toml)",
        "plan": "plan file (TOML), or a built-in plan: jingkai / shangjie",
        "out": "output folder",
        "lang": "language of messages and reports: zh (default) or en",
        "indicators": "indicators file (CSV/XLSX); default: the one named in layers.toml",
        "tiles": "optional basemap: osm or tianditu (needs internet; default none)",
        "tk": "天地图 tk key",
        "no_access": "skip walking accessibility",
        "place": "download the street network online for a place, e.g. \"上街区, 郑州市\" "
                 "(needs internet; replaces the manifest's street file)",
        "cache": "street-network cache (GraphML): read if it exists, else written",
    },
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
    h = HELP["en" if lang == "en" else "zh"]
    parser = argparse.ArgumentParser(prog="cfplan", description=h["prog"])
    sub = parser.add_subparsers(dest="command", required=True)

    def common(p: argparse.ArgumentParser, *, map_opts: bool = True) -> None:
        p.add_argument("--lang", choices=("zh", "en"), default="zh", help=h["lang"])
        p.add_argument("--indicators", help=h["indicators"])
        p.add_argument("--no-access", action="store_true", help=h["no_access"])
        p.add_argument("--place", help=h["place"])
        p.add_argument("--graph-cache", help=h["cache"])
        if map_opts:
            p.add_argument("--tiles", choices=("osm", "tianditu"), help=h["tiles"])
            p.add_argument("--tianditu-key", default="", help=h["tk"])

    p = sub.add_parser("demo", help=h["demo"], description=h["demo"])
    p.add_argument("--out", default="out/demo", help=h["out"])
    common(p)
    for name in ("run", "report"):
        p = sub.add_parser(name, help=h[name], description=h[name])
        p.add_argument("--layers", required=True, help=h["layers"])
        p.add_argument("--plan", required=True, help=h["plan"])
        p.add_argument("--out", required=True, help=h["out"])
        common(p, map_opts=name == "run")
    p = sub.add_parser("template", help=h["template"], description=h["template"])
    p.add_argument("--plan", required=True, help=h["plan"])
    p.add_argument("--out", default=".", help=h["out"])
    p.add_argument("--lang", choices=("zh", "en"), default="zh", help=h["lang"])
    p = sub.add_parser("validate", help=h["validate"], description=h["validate"])
    p.add_argument("--plan", help=h["plan"])
    p.add_argument("--layers", help=h["layers"])
    p.add_argument("--lang", choices=("zh", "en"), default="zh", help=h["lang"])
    return parser


def _echo(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    """Run the command line.

    Returns
    -------
    int
        0 on success, 2 on bad input (the message names the file, feature, field and
        fix), 64 on a usage error.
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    lang = _lang_from(argv)
    parser = build_parser(lang)
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return EXIT_OK if exc.code == 0 else EXIT_USAGE
    try:
        return _dispatch(args)
    except InputError as exc:
        label = "输入错误" if args.lang == "zh" else "Input error"
        _echo(f"✖ {label}: {exc.message(lang=args.lang)}")
        return EXIT_INPUT
    except OSError as exc:
        label = "文件错误" if args.lang == "zh" else "File error"
        _echo(f"✖ {label}: {exc.filename or ''} {exc.strerror or exc}")
        return EXIT_INPUT


def _dispatch(args: argparse.Namespace) -> int:
    from cfplan.pipeline import run, run_demo

    if args.command == "demo":
        run_demo(args.out, lang=args.lang, indicators=args.indicators, tiles=args.tiles,
                 tianditu_key=args.tianditu_key, access=not args.no_access, place=args.place,
                 graph_cache=args.graph_cache, echo=_echo)
        _print_outputs(Path(args.out), args.lang)
        return EXIT_OK
    if args.command in ("run", "report"):
        is_run = args.command == "run"
        run(args.layers, args.plan, args.out, lang=args.lang, indicators=args.indicators,
            tiles=getattr(args, "tiles", None), tianditu_key=getattr(args, "tianditu_key", ""),
            write_map=is_run, access=not args.no_access, place=args.place,
            graph_cache=args.graph_cache, echo=_echo)
        _print_outputs(Path(args.out), args.lang)
        return EXIT_OK
    if args.command == "template":
        from cfplan.analysis.indicators import write_template
        from cfplan.analysis.plan import load_plan

        for path in write_template(load_plan(args.plan), args.out):
            print(path)
        return EXIT_OK
    if args.command == "validate":
        from cfplan.analysis.plan import load_plan

        if not args.plan and not args.layers:
            _echo("cfplan validate: 需要 --plan 或 --layers / give --plan and/or --layers")
            return EXIT_USAGE

        if args.plan:
            plan = load_plan(args.plan)
            msg = (f"{plan.path}: 有效，{len(plan.targets)} 项目标" if args.lang == "zh"
                   else f"{plan.path}: valid, {len(plan.targets)} targets")
            print(msg)
        if args.layers:
            from cfplan.layers.load import load_layers

            layers = load_layers(args.layers, lang=args.lang)
            print(layers.accounting.to_string(index=False))
        return EXIT_OK
    return EXIT_USAGE  # pragma: no cover


def _print_outputs(out: Path, lang: str) -> None:
    head = "输出文件：" if lang == "zh" else "Output files:"
    print(head)
    for path in sorted(p for p in out.rglob("*") if p.is_file()):
        print(f"  {path}")


if __name__ == "__main__":
    raise SystemExit(main())
