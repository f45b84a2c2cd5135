"""Text encodings of input files: UTF-8 or GBK, guessed where nothing declares them."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pandas as pd

from cfplan.layers.files import read_text
from cfplan.layers.hidden import READ_PROBLEM
from cfplan.layers.manifest import LayerSpec
from cfplan.layers.text import Text


def guess_encoding(data: bytes) -> str | None:
    """Return ``"utf-8"`` or ``"gb18030"`` for text bytes, or ``None`` if they are plain ASCII.

    GB18030 is the superset of GBK and GB2312, so it reads every GBK file.
    """
    if data.isascii():
        return None
    for encoding in ("utf-8", "gb18030"):
        try:
            data.decode(encoding)
        except UnicodeDecodeError:
            continue
        return encoding
    return None


def dbf_text_bytes(path: Path) -> bytes:
    """Return the field names and records of a dBASE file: the bytes that hold text."""
    data = path.read_bytes()
    if len(data) < 32:
        return b""
    header_len = int.from_bytes(data[8:10], "little")
    names = b"".join(data[pos:pos + 11].split(b"\0")[0]
                     for pos in range(32, min(header_len, len(data)) - 31, 32)
                     if data[pos] != 0x0D)
    return names + data[header_len:]


def shapefile_encoding(spec: LayerSpec, warnings: list[Text]) -> str | None:
    """Return the encoding to read a Shapefile's DBF with when nothing declares it.

    A DBF with no ``.cpg`` whose text is not UTF-8 but reads as GBK is read as GB18030,
    with a warning asking for ``encoding = "GBK"`` in the manifest.
    """
    dbf = spec.path.with_suffix(".dbf")
    if spec.encoding or spec.path.with_suffix(".cpg").is_file() or not dbf.is_file():
        return spec.encoding
    if guess_encoding(dbf_text_bytes(dbf)) != "gb18030":
        return None
    name = spec.path.name
    warnings.append(Text(f'{name}：没有 .cpg 且字段不是 UTF-8，按 GBK 读取；请在清单中写 encoding = "GBK"',
                         f"{name}: no .cpg and the text is not UTF-8; read as GBK. Set "
                         'encoding = "GBK" in the manifest'))
    return "GB18030"


def csv_table(text: str) -> tuple[pd.DataFrame, dict[int, int]]:
    """Parse CSV text (comma- or, as Excel's Unicode text, tab-separated) into text cells.

    Blank lines are skipped; a row shorter than the header is padded with empty cells;
    trailing empty cells beyond the header are dropped (Excel leaves them).

    Returns
    -------
    tuple
        The table (every cell text or ``None``; repeated or blank headers made unique
        as pandas does: ``名称.1``, ``Unnamed: 3``), and ``{row position: cells}`` for the
        rows that hold more non-empty cells than the header has columns.
    """
    first = text.split("\n", 1)[0]
    delimiter = "\t" if "\t" in first and "," not in first else ","
    rows = [r for r in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter) if r]
    header = unique_names([c.strip() for c in rows[0]]) if rows else []
    width, body, long = len(header), [], {}
    for pos, row in enumerate(rows[1:]):
        while len(row) > width and not row[-1].strip():
            row = row[:-1]
        if len(row) > width:
            long[pos] = len(row)
        cells = [c if c.strip() else None for c in row[:width]]
        body.append(cells + [None] * (width - len(cells)))
    return pd.DataFrame(body, columns=header, dtype=object), long


def unique_names(names: list[str]) -> list[str]:
    """Column names made unique as pandas does: blank ``Unnamed: 3``, repeated ``名称.1``."""
    out: list[str] = []
    taken: set[str] = set()
    for i, name in enumerate(names):
        base = name or f"Unnamed: {i}"
        candidate, n = base, 0
        while candidate in taken:
            n += 1
            candidate = f"{base}.{n}"
        taken.add(candidate)
        out.append(candidate)
    return out


def read_csv_text(spec: LayerSpec, warnings: list[Text]) -> pd.DataFrame:
    """Read a CSV layer as text cells, in its declared encoding or as detected.

    A row with more cells than the header gets a ``_read_problem`` (the validator rejects
    it: a stray comma shifts every value after it).

    Returns
    -------
    pandas.DataFrame
        Every cell as text (blank cells missing).

    Raises
    ------
    InputError
        If the file is not text, or not in its declared or detected encoding.
    """
    text = read_text(spec.path, encoding=spec.encoding, warnings=warnings,
                     hint=Text('；请在清单中写 encoding = "GBK"', '. Set encoding = "GBK" in the '
                               "manifest"))
    df, long = csv_table(text)
    width = len(df.columns)
    problems: list[tuple[str, Text] | None] = [None] * len(df)
    for pos, cells in long.items():
        problems[pos] = ("-", Text(f"该行有 {cells} 个值，表头只有 {width} 列（多出的逗号？）",
                                   f"the row holds {cells} values for {width} columns (a stray "
                                   "comma?)"))
    df[READ_PROBLEM] = pd.Series(problems, index=df.index, dtype=object)
    return df


__all__ = ["csv_table", "dbf_text_bytes", "guess_encoding", "read_csv_text", "shapefile_encoding",
           "unique_names"]
