"""Input files: only regular files are opened, and text is decoded as Chinese Windows saves it."""

from __future__ import annotations

import codecs
import errno
import os
import re
import stat
import tomllib
from pathlib import Path

from cfplan.layers.errors import InputError
from cfplan.layers.text import EMPTY, Text

CHECK_NAME = Text("检查清单中的文件名", "check the file name in the manifest")
EXPORT_AGAIN = Text("重新导出该文件", "export the file again")
NOT_FOUND = Text("文件不存在", "file not found")
# Files GDAL opens beside a Shapefile's .shp: without .shx and .dbf it is not a Shapefile.
SHAPEFILE_PARTS = (".shx", ".dbf")
_KINDS: tuple[tuple[int, Text], ...] = (
    (stat.S_IFDIR, Text("是文件夹，不是文件", "is a folder, not a file")),
    (stat.S_IFIFO, Text("是命名管道（FIFO），不是普通文件", "is a named pipe (FIFO), not a regular file")),
    (stat.S_IFCHR, Text("是字符设备，不是普通文件", "is a character device, not a regular file")),
    (stat.S_IFBLK, Text("是块设备，不是普通文件", "is a block device, not a regular file")),
    (stat.S_IFSOCK, Text("是套接字，不是普通文件", "is a socket, not a regular file")),
)
# Byte-order marks, longest first (a UTF-32 LE mark starts like a UTF-16 LE one).
_BOMS = ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
         (codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"),
         (codecs.BOM_UTF16_BE, "utf-16"))
# What a file that is not text usually is, by its first bytes.
_MAGIC = (
    (b"\x89PNG", Text("PNG 图片", "a PNG image")),
    (b"\xff\xd8\xff", Text("JPEG 图片", "a JPEG image")),
    (b"GIF8", Text("GIF 图片", "a GIF image")),
    (b"%PDF", Text("PDF 文档", "a PDF document")),
    (b"PK\x03\x04", Text("ZIP 压缩包（XLSX、DOCX 等）", "a ZIP archive (XLSX, DOCX, ...)")),
    (b"\xd0\xcf\x11\xe0", Text("旧版 Office 文件（XLS、DOC）", "an old Office file (XLS, DOC)")),
    (b"SQLite format 3\x00", Text("SQLite 数据库（GeoPackage 等）",
                                   "an SQLite database (GeoPackage, ...)")),
    (b"\x1f\x8b", Text("gzip 压缩文件", "a gzip file")),
)
SAVE_AS_UTF8 = Text("另存为 UTF-8 文本", "save it as UTF-8 text")

_ONLY_REGULAR = Text("cfplan 只读取普通文件：换成导出的文件", "cfplan reads regular files only: "
                     "give an exported file")


def _refuse(path: Path, problem: Text, fix: Text) -> InputError:
    return InputError(str(path), problem, fix)


def _stat(path: Path, missing: Text, not_found: Text) -> os.stat_result:
    """``os.stat`` of ``path`` (following links), or the InputError that says why not."""
    try:
        return path.stat()
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise _refuse(path, Text("符号链接循环（链接最终指向自身）",
                                     "symbolic link loop (the link leads back to itself)"),
                          Text("把链接换成真实文件", "replace the link with the real file")) from exc
        if path.is_symlink():
            target = os.readlink(path)
            raise _refuse(path, Text(f"符号链接指向不存在的文件 {target}",
                                     f"symbolic link to a missing file, {target}"),
                          Text("修复链接或换成真实文件", "fix the link or use the real file")) from exc
        if exc.errno == errno.EACCES:
            raise _refuse(path, Text("没有读取权限", "permission denied"),
                          Text("修改文件权限", "change the file's permissions")) from exc
        if exc.errno == errno.ENOTDIR:
            raise _refuse(path, Text("路径中的上级不是文件夹", "a parent in the path is not a folder"),
                          missing) from exc
        if exc.errno == errno.ENOENT:
            raise _refuse(path, not_found, missing) from exc
        raise _refuse(path, Text(f"无法打开：{exc.strerror}", f"cannot open: {exc.strerror}"),
                      missing) from exc


def _kind_problem(mode: int) -> Text | None:
    """Return what a non-regular file is (folder, pipe, device, socket); None if regular."""
    if stat.S_ISREG(mode):
        return None
    return next((text for kind, text in _KINDS if stat.S_IFMT(mode) == kind),
                Text("不是普通文件", "is not a regular file"))


def check_input_file(path: str | Path, *, fix_missing: Text = CHECK_NAME,
                     fix_empty: Text | None = EXPORT_AGAIN,
                     not_found: Text = NOT_FOUND) -> Path:
    """Return ``path`` if it is a regular, readable, non-empty file; else raise naming it.

    Only regular files are opened: a folder, a named pipe (which would block a reader
    for ever), a device or a socket is refused, and so is a link that loops or leads
    nowhere. Files a reader opens beside this one (a Shapefile's ``.shx``/``.dbf``/``.prj``/
    ``.cpg``, a GeoPackage's ``-wal``) must be regular files too, and a Shapefile needs
    its ``.shx`` and ``.dbf``.

    Parameters
    ----------
    path
        The input file.
    fix_missing
        How to fix a missing file (default: check its name in the manifest).
    fix_empty
        How to fix an empty file; ``None`` accepts an empty file.
    not_found
        What a missing file is called (default: file not found).

    Returns
    -------
    pathlib.Path
        ``path``.

    Raises
    ------
    InputError
        Naming the file and what it is instead (one line, with the fix).
    """
    path = Path(path)
    info = _stat(path, fix_missing, not_found)
    problem = _kind_problem(info.st_mode)
    if problem is not None:
        fix = (Text("清单中应写文件名，而不是文件夹", "name a file in the manifest, not a folder")
               if stat.S_ISDIR(info.st_mode) else _ONLY_REGULAR)
        raise _refuse(path, problem, fix)
    if not os.access(path, os.R_OK):
        raise _refuse(path, Text("没有读取权限", "permission denied"),
                      Text("修改文件权限", "change the file's permissions"))
    if fix_empty is not None and info.st_size == 0:
        raise _refuse(path, Text("文件为空", "the file is empty"), fix_empty)
    _check_companions(path)
    return path


def _check_companions(path: Path) -> None:
    """Refuse special files beside ``path`` that a reader would open, and a partial Shapefile."""
    stem, name = path.stem.lower(), path.name.lower()
    found: set[str] = set()
    try:
        entries = list(os.scandir(path.parent))
    except OSError:
        return
    for entry in entries:
        lower = entry.name.lower()
        if lower == name or not (lower.startswith(f"{stem}.") or lower.startswith(f"{name}-")):
            continue
        try:
            mode = os.stat(entry.path).st_mode
        except OSError:
            continue  # a broken companion link: the reader does without it or says so
        problem = _kind_problem(mode)
        if problem is not None:
            raise _refuse(Path(entry.path), problem, _ONLY_REGULAR)
        found.add(lower.removeprefix(stem))
    if path.suffix.lower() != ".shp":
        return
    for part in SHAPEFILE_PARTS:
        if part not in found:
            what = {".dbf": Text("属性表", "attribute table"),
                    ".shx": Text("索引", "index")}[part]
            raise _refuse(path, Text(f"Shapefile 缺少{what.zh} {path.stem}{part}",
                                     f"the Shapefile has no {what.en}, {path.stem}{part}"),
                          Text("复制 Shapefile 时带上同名的 .shp、.shx、.dbf、.prj（及 .cpg）",
                               "copy a Shapefile with all its parts: .shp, .shx, .dbf, .prj "
                               "(and .cpg)"))


def _position(data: bytes, exc: UnicodeDecodeError) -> Text:
    """Where a decoding error lies: ``第 3 行`` / ``line 3``."""
    line = data[:exc.start].count(b"\n") + 1
    return Text(f"第 {line} 行", f"line {line}")


def binary_kind(data: bytes) -> Text | None:
    """Return what bytes that are not text look like (``a PNG image``), or None for text."""
    for magic, kind in _MAGIC:
        if data.startswith(magic):
            return kind
    head = data[:4096]
    if head.count(0) * 100 <= len(head):  # a stray NUL in text: the sanitiser notes it
        return None
    if _utf16_without_bom(head):
        return Text("没有 BOM 的 UTF-16 文本", "UTF-16 text without a byte-order mark")
    return Text("二进制数据（含 NUL 字节）", "binary data (it holds NUL bytes)")


def _utf16_without_bom(head: bytes) -> bool:
    """Whether bytes read as UTF-16 text: every NUL on one side of its pair, and printable."""
    even = head[0::2].count(0)
    odd = head[1::2].count(0)
    if even and odd:
        return False
    try:
        text = head[: len(head) // 2 * 2].decode("utf-16-le" if odd else "utf-16-be")
    except UnicodeDecodeError:
        return False
    return all(c.isprintable() or c in "\t\r\n" for c in text)


def decode_text(data: bytes, path: Path, *, encoding: str | None = None,
                warnings: list[Text] | None = None, hint: Text = EMPTY,
                fix: Text = SAVE_AS_UTF8) -> str:
    """Return the text of a file as Excel and Notepad save it on Chinese Windows.

    A declared ``encoding`` is used as it is (a UTF-8 byte-order mark is dropped). Else a
    byte-order mark decides (UTF-8, UTF-16 or UTF-32, as Excel's "Unicode text" saves);
    else UTF-8; else GB18030 (which reads every GBK and GB2312 file), with a warning
    ``name: not UTF-8; read as GBK`` followed by ``hint``.

    Raises
    ------
    InputError
        Naming the file when the bytes are not text (an image, an archive, a database:
        said which, with ``fix``), or not in the declared or detected encoding (the line).
    """
    name = path.name
    codec = encoding
    if codec is None:
        codec = next((c for bom, c in _BOMS if data.startswith(bom)), None)
    elif codecs.lookup(codec).name == "utf-8":
        codec = "utf-8-sig"
    if codec is not None:
        try:
            return data.decode(codec)
        except UnicodeDecodeError as exc:
            where = _position(data, exc)
            if encoding:
                raise InputError(str(path), Text(f"{where.zh}不是清单写明的编码 {encoding}",
                                                 f"{where.en} is not in the declared encoding "
                                                 f"{encoding}"),
                                 Text('在清单中写明正确的 encoding，如 encoding = "GBK"',
                                      'set the right encoding in the manifest, e.g. '
                                      'encoding = "GBK"'), field="encoding") from exc
            shown = codec.removesuffix("-sig").upper()
            raise InputError(str(path), Text(f"{where.zh}不是文件开头的字节顺序标记（BOM）所示的 {shown}",
                                             f"{where.en} is not in {shown}, the encoding its "
                                             "byte-order mark names"), SAVE_AS_UTF8) from exc
    kind = binary_kind(data)
    if kind is not None:
        raise InputError(str(path), Text(f"不是文本文件（看起来是 {kind.zh}）",
                                         f"not a text file (it looks like {kind.en})"), fix)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        text = data.decode("gb18030")
    except UnicodeDecodeError as exc:
        where = _position(data, exc)
        raise InputError(str(path), Text(f"文本既不是 UTF-8 也不是 GBK（{where.zh}）",
                                         f"the text is neither UTF-8 nor GBK ({where.en})"),
                         SAVE_AS_UTF8) from exc
    if warnings is not None:
        warnings.append(Text(f"{name}：不是 UTF-8，按 GBK 读取", f"{name}: not UTF-8; read as GBK")
                        + hint)
    return text


def read_text(path: Path, *, encoding: str | None = None, warnings: list[Text] | None = None,
              hint: Text = EMPTY, fix: Text = SAVE_AS_UTF8) -> str:
    """Return the text of the file ``path`` (see :func:`decode_text`)."""
    return decode_text(path.read_bytes(), path, encoding=encoding, warnings=warnings,
                       hint=hint, fix=fix)


MAX_TOML_DEPTH = 16  # a manifest or plan nests 4 deep; a job list 3
TOML_FIX = Text("按提示的行修正语法（字符串加引号，表名成对方括号）",
                "fix the syntax at that line (quote strings, close table headers)")


def read_toml(path: Path, *, warnings: list[Text] | None = None, fix: Text = TOML_FIX
              ) -> tuple[dict[str, object], str]:
    """Parse a TOML file (a manifest, plan or job list) as Notepad saves it.

    The text is read by :func:`read_text` (a byte-order mark is dropped; GBK is read with
    a warning).

    Returns
    -------
    tuple
        The parsed tables and the text (for line numbers).

    Raises
    ------
    InputError
        Naming the file: not text, not TOML (the line), or nested too deeply to read.
    """
    text = read_text(path, warnings=warnings, hint=Text("；另存为 UTF-8 可免此警告",
                                                        "; save it as UTF-8 to silence this"),
                     fix=Text("这里需要 TOML 文本文件：检查给出的文件", "a TOML text file is needed here: "
                              "check the file given"))
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        # "Invalid value (at line 3, column 7)": the place in the language of the message
        found = re.search(r"\s*\(at line (\d+), column (\d+)\)", str(exc))
        detail = str(exc).replace(found.group(0), "") if found else str(exc)
        line, col = found.groups() if found else ("?", "?")
        raise InputError(str(path), Text(f"不是有效的 TOML：第 {line} 行第 {col} 列：{detail}",
                                         f"not valid TOML: line {line}, column {col}: {detail}"),
                         fix) from exc
    except RecursionError as exc:
        raise InputError(str(path), Text("不是可读的 TOML：表或数组嵌套过深",
                                         "not readable TOML: tables or arrays nested too deeply"),
                         fix) from exc
    if _depth(data) > MAX_TOML_DEPTH:  # dotted keys nest without limit: [a.a.a.a ...]
        raise InputError(str(path), Text(f"不是可读的 TOML：表或数组嵌套超过 {MAX_TOML_DEPTH} 层",
                                         "not readable TOML: tables or arrays nested more than "
                                         f"{MAX_TOML_DEPTH} deep"), fix)
    return data, text


def _depth(value: object) -> int:
    """Return how deep tables and arrays nest in ``value`` (without recursion)."""
    deepest, stack = 0, [(value, 0)]
    while stack:
        item, depth = stack.pop()
        deepest = max(deepest, depth)
        if isinstance(item, dict):
            stack += [(v, depth + 1) for v in item.values()]
        elif isinstance(item, list):
            stack += [(v, depth + 1) for v in item]
    return deepest


__all__ = [
    "CHECK_NAME",
    "EXPORT_AGAIN",
    "SAVE_AS_UTF8",
    "TOML_FIX",
    "binary_kind",
    "check_input_file",
    "decode_text",
    "read_text",
    "read_toml",
]
