"""The batch job file (``jobs.toml``): one ``[[districts]]`` table per district of a city."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from pathlib import Path

from cfplan.layers.errors import InputError
from cfplan.layers.files import check_input_file, read_toml
from cfplan.layers.manifest import suggest
from cfplan.layers.text import Text

JOB_SECTIONS = ("districts",)
DISTRICT_KEYS = ("name", "layers", "plan", "indicators")
REQUIRED_KEYS = ("name", "layers", "plan")
# Characters a folder name cannot hold on one of the systems a bureau may use.
_BAD_NAME_CHARS = set('<>:"/\\|?*')
# The batch's own files in DIR: a district of one of these names would overwrite them.
RESERVED_NAMES = ("summary.csv", "districts.csv", "summary.xlsx", "overview.html", "run.json")


@dataclass(frozen=True)
class DistrictJob:
    """One district of a batch: its layers, its plan, and where its outputs go.

    Attributes
    ----------
    name
        The district's name in the batch: its output folder ``DIR/<name>/`` and its
        rows in the city summary.
    layers
        The district's layer folder (with ``layers.toml``), absolute.
    plan
        An absolute plan file path, or a built-in plan name (``"jingkai"``).
    indicators
        A bureau-reported indicators file overriding the manifest's, absolute; or ``None``.
    """

    name: str
    layers: Path
    plan: str
    indicators: Path | None = None


def _fail(jobs: Path, problem: Text, fix: Text, *, field: str | None = None) -> InputError:
    return InputError(str(jobs), problem, fix, field=field)


def _check_name(name: str, where: str, jobs: Path) -> None:
    """Raise unless ``name`` can be a folder name on Linux, macOS and Windows alike."""
    bad = sorted({c for c in name if c in _BAD_NAME_CHARS
                  or unicodedata.category(c).startswith("C")})
    if name in (".", "..") or name.startswith(".") or name != name.strip() or bad:
        shown = "".join(bad) if bad else name
        raise _fail(jobs, Text(f"{where} 的 name「{name}」不能作输出目录名（{shown!r}）",
                               f"{where}: name {name!r} cannot be an output folder name "
                               f"({shown!r})"),
                    Text('用区县名，不含 / \\ : * ? " < > |，不以 . 开头，如 name = "上街区"',
                         'use the district\'s name, without / \\ : * ? " < > | and not starting '
                         'with ".", e.g. name = "上街区"'), field="name")
    if name.casefold() in RESERVED_NAMES or name.rstrip(". ").casefold() != name.casefold():
        raise _fail(jobs, Text(f"{where} 的 name「{name}」与批量运行自己的输出文件同名，或以点、空格结尾",
                               f"{where}: name {name!r} is the name of one of the batch's own "
                               "files, or ends in a dot or space"),
                    Text(f"换一个区县名（保留的名字：{', '.join(RESERVED_NAMES)}）",
                         f"use another name (reserved: {', '.join(RESERVED_NAMES)})"),
                    field="name")


def _resolve_plan(value: str, folder: Path) -> str:
    """Return a plan file relative to the job file as an absolute path, else a built-in name."""
    candidate = folder / value
    looks_like_path = "/" in value or "\\" in value or value.lower().endswith(".toml")
    if looks_like_path or candidate.exists():
        return str(candidate.resolve())
    return value


def read_jobs(path: str | Path) -> tuple[DistrictJob, ...]:
    """Read a batch job file.

    Every key is checked as in the layer manifest: a misspelt one is fatal, with the
    nearest valid key suggested. Paths are relative to the job file's folder. Whether the
    layer folders and plans exist is not checked here: a district whose input is missing
    or bad fails on its own when it runs, and the other districts finish.

    Parameters
    ----------
    path
        The job file, e.g. ``jobs.toml``.

    Returns
    -------
    tuple of DistrictJob
        The districts in file order.

    Raises
    ------
    InputError
        If the file is missing or not TOML, has no ``[[districts]]``, a table lacks
        ``name``, ``layers`` or ``plan``, has an unknown key or a value that is not
        text, or two districts share a name (compared case-insensitively, as folders).
    """
    path = check_input_file(path, fix_missing=Text(
        "给出 jobs.toml 的路径（见 README 的 cfplan batch）",
        "give the path of a jobs.toml (see cfplan batch in the README)"), fix_empty=None,
        not_found=Text("找不到批量任务文件", "job file not found"))
    data, _ = read_toml(path)
    for key in sorted(data):
        if key not in JOB_SECTIONS:
            raise _fail(path, Text(f"「{key}」不是已知的节", f"{key!r} is not a known section")
                        + suggest(key, JOB_SECTIONS),
                        Text("每个区县写一个 [[districts]] 表", "write one [[districts]] per district"),
                        field=key)
    tables = data.get("districts")
    if not isinstance(tables, list) or not tables or not all(isinstance(t, dict) for t in tables):
        raise _fail(path, Text("没有 [[districts]] 表数组", "no [[districts]] array of tables"),
                    Text('每个区县写一个 [[districts]]，含 name、layers、plan',
                         "write one [[districts]] per district with name, layers and plan"),
                    field="districts")
    folder = path.parent
    jobs: list[DistrictJob] = []
    seen: dict[str, int] = {}
    for i, table in enumerate(tables, start=1):
        where = f"[[districts]] #{i}"
        unknown = sorted(set(table) - set(DISTRICT_KEYS))
        if unknown:
            raise _fail(path, Text(f"{where} 有未知键「{unknown[0]}」",
                                   f"{where} has an unknown key {unknown[0]!r}")
                        + suggest(unknown[0], DISTRICT_KEYS),
                        Text(f"可用键：{', '.join(DISTRICT_KEYS)}",
                             f"allowed keys: {', '.join(DISTRICT_KEYS)}"), field=unknown[0])
        for key in DISTRICT_KEYS:
            value = table.get(key)
            if value is None and key in REQUIRED_KEYS:
                raise _fail(path, Text(f"{where} 缺少 {key}", f"{where} has no {key!r}"),
                            Text(f'写明 {key}，如 {key} = "..."', f'add {key} = "..."'), field=key)
            if value is not None and not (isinstance(value, str) and value.strip()):
                raise _fail(path, Text(f"{where} 的 {key} 应为文本", f"{where}: {key} must be text"),
                            Text(f'如 {key} = "..."', f'e.g. {key} = "..."'), field=key)
        name = str(table["name"])
        _check_name(name, where, path)
        folded = name.casefold()
        if folded in seen:
            raise _fail(path, Text(f"{where} 的 name「{name}」与 #{seen[folded]} 重复",
                                   f"{where}: name {name!r} repeats #{seen[folded]}"),
                        Text("每个区县用不同的名称（它也是输出目录名）",
                             "give each district its own name (it is also its output folder)"),
                        field="name")
        seen[folded] = i
        indicators = table.get("indicators")
        jobs.append(DistrictJob(
            name=name, layers=(folder / str(table["layers"])).resolve(),
            plan=_resolve_plan(str(table["plan"]), folder),
            indicators=(folder / str(indicators)).resolve() if indicators else None))
    return tuple(jobs)


__all__ = ["DISTRICT_KEYS", "DistrictJob", "read_jobs"]
