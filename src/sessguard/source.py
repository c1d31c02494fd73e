"""Bytes to text to `ast`, as CPython would read the file, with every failure as data.

Nothing here executes or imports scanned code: `ast.parse` only builds a syntax tree.
"""

from __future__ import annotations

import ast
import codecs
import io
import re
import tokenize
import warnings
from dataclasses import dataclass

from sessguard.model import FileError

_LINE_BREAK = re.compile(r"\r\n|\r|\n")


@dataclass(frozen=True)
class Source:
    path: str
    text: str
    tree: ast.Module
    lines: tuple[str, ...]

    def line(self, number: int) -> str:
        return self.lines[number - 1] if 0 < number <= len(self.lines) else ""

    def column(self, line: int, byte_offset: int) -> int:
        """`ast` columns count UTF-8 bytes; findings count characters (1-based)."""
        text = self.line(line)
        if text.isascii():
            return byte_offset + 1
        return len(text.encode("utf-8")[:byte_offset].decode("utf-8", errors="replace")) + 1


def split_lines(text: str) -> tuple[str, ...]:
    """Split as the tokenizer does: CRLF, CR and LF end a line; form feeds do not."""
    return tuple(_LINE_BREAK.split(text))


def decode(data: bytes, path: str) -> str | FileError:
    """Decode with the BOM or PEP 263 cookie, defaulting to UTF-8."""
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    except SyntaxError as exc:
        return FileError(path, "encoding", _first_line(str(exc.msg or exc)), exc.lineno, None)
    try:
        codecs.lookup(encoding)
        return data.decode(encoding)
    except LookupError:
        return FileError(path, "encoding", f"unknown encoding {encoding!r}", 1, None)
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        return FileError(path, "encoding", f"cannot decode as {encoding}: {exc.reason}", line, column)


def parse(data: bytes, path: str) -> Source | FileError:
    text = decode(data, path)
    if isinstance(text, FileError):
        return text
    if "\0" in text:
        line = text.count("\n", 0, text.index("\0")) + 1
        return FileError(path, "syntax", "source contains a NUL byte", line, None)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tree = ast.parse(text, filename=path)
    except SyntaxError as exc:
        return FileError(
            path,
            "syntax",
            _first_line(exc.msg or "invalid syntax"),
            exc.lineno,
            exc.offset,
        )
    except RecursionError:
        return FileError(path, "too-deep", "nesting too deep to parse")
    except MemoryError:
        return FileError(path, "too-large", "not enough memory to parse")
    except ValueError as exc:
        return FileError(path, "syntax", _first_line(str(exc)))
    return Source(path, text, tree, split_lines(text))


def _first_line(message: str) -> str:
    return message.strip().splitlines()[0] if message.strip() else "unreadable"
