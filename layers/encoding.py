"""Text encodings of input files: UTF-8 or GBK, guessed where nothing declares them."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from cfplan.layers.errors import InputError
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


def read_csv_text(spec: LayerSpec, warnings: list[Text]) -> pd.DataFrame:
    """Read a CSV as text cells, falling back from UTF-8 to GBK with a warning.

    Returns
    -------
    pandas.DataFrame
        Every cell as text (blank cells missing).

    Raises
    ------
    InputError
        If the text is neither the declared encoding nor UTF-8/GBK.
    """
    options: dict[str, object] = {"dtype": object, "keep_default_na": False, "na_values": [""]}
    encoding = spec.encoding or "utf-8-sig"
    try:
        return pd.read_csv(spec.path, encoding=encoding, **options)
    except UnicodeDecodeError as exc:
        if spec.encoding or guess_encoding(spec.path.read_bytes()) != "gb18030":
            raise InputError(
                str(spec.path), Text(f"文本编码不是 {encoding}：{exc}",
                                     f"the text is not {encoding}: {exc}"),
                Text('在清单中写明 encoding，如 encoding = "GBK"',
                     'set the encoding in the manifest, e.g. encoding = "GBK"'),
                field="encoding",
            ) from exc
    name = spec.path.name
    warnings.append(Text(f'{name}：不是 UTF-8，按 GBK 读取；请在清单中写 encoding = "GBK"',
                         f'{name}: not UTF-8; read as GBK. Set encoding = "GBK" in the manifest'))
    return pd.read_csv(spec.path, encoding="gb18030", **options)


__all__ = ["dbf_text_bytes", "guess_encoding", "read_csv_text", "shapefile_encoding"]
