"""Excel workbooks: the one sheet meant, and formula cells as Excel last computed them."""

from __future__ import annotations

import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from cfplan.layers.encoding import unique_names
from cfplan.layers.errors import InputError
from cfplan.layers.text import Text


@dataclass
class Sheet:
    """One worksheet read as a table.

    Attributes
    ----------
    table
        Header row as columns, then one row per data row (cells as Excel stores them:
        text, numbers, booleans, dates; empty cells ``None``).
    name
        The sheet's name.
    problems
        ``{row position: (column, reason)}`` for rows with a formula cell that holds no
        computed value (or an error value such as ``#DIV/0!``).
    formulas
        How many formula cells were read as their stored results.
    """

    table: pd.DataFrame
    name: str
    problems: dict[int, tuple[str, Text]] = field(default_factory=dict)
    formulas: int = 0


def _rows(ws: object) -> list[tuple[object, ...]]:
    return [tuple(r) for r in ws.iter_rows()]  # type: ignore[attr-defined]


def _has_data(rows: list[tuple[object, ...]]) -> bool:
    return any(getattr(c, "value", None) not in (None, "") for r in rows for c in r)


def _open(path: Path, *, data_only: bool) -> object:
    import openpyxl

    try:
        return openpyxl.load_workbook(path, read_only=True, data_only=data_only)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError, TypeError) as exc:
        raise InputError(
            str(path), Text(f"不是可读的 XLSX 工作簿（{type(exc).__name__}：{exc}）",
                            f"not a readable XLSX workbook ({type(exc).__name__}: {exc})"),
            Text("在 Excel 中打开后另存为 .xlsx，或导出为 CSV",
                 "open it in Excel and save as .xlsx, or export a CSV")) from exc


def _choose(path: Path, books: dict[str, list[tuple[object, ...]]], wanted: str | None,
            prefer: str | None) -> str:
    names = list(books)
    shown = "、".join(names)
    if wanted is not None:
        if wanted not in books:
            raise InputError(str(path), Text(f"没有名为「{wanted}」的工作表（现有：{shown}）",
                                             f"no sheet named {wanted!r} (sheets: "
                                             f"{', '.join(names)})"),
                             Text("改正清单中的 sheet", "correct sheet in the manifest"),
                             field="sheet")
        return wanted
    with_data = [n for n in names if _has_data(books[n])]
    if prefer in with_data:
        return str(prefer)
    if len(with_data) > 1:
        fix = (Text(f'在清单中写 sheet = "{with_data[0]}"（或其他表名）',
                    f'write sheet = "{with_data[0]}" (or another) in the manifest')
               if prefer is None else
               Text(f"把要读的工作表命名为 {prefer}，或只保留一个含数据的工作表",
                    f"name the sheet to read {prefer}, or keep one sheet with data"))
        raise InputError(
            str(path), Text(f"工作簿有 {len(with_data)} 个含数据的工作表（{'、'.join(with_data)}），"
                            "未指定读取哪一个",
                            f"the workbook has {len(with_data)} sheets with data "
                            f"({', '.join(with_data)}) and none is named"), fix, field="sheet")
    return with_data[0] if with_data else names[0]


def _value(formula: object, cached: object) -> tuple[object, Text | None, bool]:
    """(value, problem, was a formula) of one cell from its formula and its stored result."""
    if getattr(formula, "data_type", None) != "f":
        return getattr(cached, "value", None), None, False
    value = getattr(cached, "value", None)
    text = str(getattr(formula, "value", ""))
    if value is None:
        return None, Text(f"是公式 {text}，文件中没有计算结果（在 Excel 中打开后保存，或粘贴为数值）",
                          f"holds the formula {text} with no computed value (open and save the "
                          "file in Excel, or paste the values)"), True
    if getattr(cached, "data_type", None) == "e":
        return None, Text(f"公式 {text} 的结果是错误值 {value}",
                          f"the formula {text} gives the error {value}"), True
    return value, None, True


def read_sheet(path: Path, *, sheet: str | None = None, prefer: str | None = None) -> Sheet:
    """Read one worksheet of an ``.xlsx`` workbook.

    The sheet named by ``sheet`` is read; with none named, the sheet called ``prefer``
    when it holds data, else the only sheet that holds data (empty sheets such as Excel's
    ``Sheet2`` do not count). Formula cells are read as
    the values Excel stored when it last saved the file; a formula without a stored value
    (a workbook written by a script and never opened in Excel) or with an error value is
    recorded per row, never read as empty.

    Raises
    ------
    InputError
        If the file is an old ``.xls`` or not a workbook, ``sheet`` names no sheet, or
        several sheets hold data and none is named (the message lists them).
    """
    if path.suffix.lower() == ".xls":
        raise InputError(str(path), Text("旧版 Excel（.xls）格式无法读取",
                                         "the old Excel format (.xls) cannot be read"),
                         Text("在 Excel 中另存为 .xlsx 或 CSV（UTF-8）",
                              "save it from Excel as .xlsx or CSV (UTF-8)"))
    formulas_book, values_book = _open(path, data_only=False), _open(path, data_only=True)
    try:
        books = {ws.title: _rows(ws) for ws in formulas_book.worksheets}  # type: ignore[attr-defined]
        name = _choose(path, books, sheet, prefer)
        cached = _rows(values_book[name])  # type: ignore[index]
    finally:
        formulas_book.close()  # type: ignore[attr-defined]
        values_book.close()  # type: ignore[attr-defined]
    raw = books[name]
    if not raw:
        return Sheet(pd.DataFrame(dtype=object), name)
    header = [str(getattr(c, "value", None) or "").strip() for c in raw[0]]
    problems: dict[int, tuple[str, Text]] = {}
    formulas, body = 0, []
    for pos, (frow, crow) in enumerate(zip(raw[1:], cached[1:], strict=False)):
        cells = []
        for col, (fcell, ccell) in enumerate(zip(frow, crow, strict=False)):
            value, problem, was_formula = _value(fcell, ccell)
            formulas += was_formula and problem is None
            if problem is not None and pos not in problems:
                column = header[col] if col < len(header) and header[col] else f"#{col + 1}"
                problems[pos] = (column, Text(f"「{column}」", f"{column!r} ") + problem)
            cells.append(value)
        if any(v not in (None, "") for v in cells) or pos in problems:
            body.append((pos, cells))
    table = _frame(header, [c for _, c in body])
    kept = {old: new for new, (old, _) in enumerate(body)}
    return Sheet(table, name, {kept[p]: v for p, v in problems.items() if p in kept}, formulas)


def _frame(header: list[str], rows: list[list[object]]) -> pd.DataFrame:
    """Return the rows under ``header`` (blank and repeated names made unique, as in CSV)."""
    width = len(header)
    fitted = [[None if isinstance(v, str) and not v.strip() else v for v in r[:width]]
              + [None] * (width - len(r)) for r in rows]
    return pd.DataFrame(fitted, columns=unique_names(header), dtype=object)


__all__ = ["Sheet", "read_sheet"]
