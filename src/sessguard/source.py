"""Bytes to text to `ast`, as CPython would read the file, with every failure as data.

Nothing here executes or imports scanned code: `ast.parse` only builds a syntax tree.
"""

from __future__ import annotations

import ast
import codecs
import errno
import io
import os
import re
import stat
import sys
import tokenize
import warnings
from array import array
from collections.abc import Iterator, Sequence
from itertools import accumulate

import msgspec

from sessguard.model import FileError

_LINE_BREAK = re.compile(r"\r\n|\r|\n")


class Source(msgspec.Struct, frozen=True):
    """A decoded file. `tree` is None for a file parsed in parts (see `parts`)."""

    path: str
    text: str
    tree: ast.Module | None
    lines: tuple[str, ...]

    def parts(self) -> Iterator[ast.Module]:
        """The syntax tree, or for a very large file one top-level part at a time, so that
        the trees of a generated 10 MB module never sit in memory together."""
        if self.tree is not None:
            yield self.tree
            return
        yield from _parse_parts(self.lines, self.path)

    def line(self, number: int) -> str:
        return self.lines[number - 1] if 0 < number <= len(self.lines) else ""

    def column(self, line: int, byte_offset: int) -> int:
        """`ast` columns count UTF-8 bytes; findings count characters (1-based)."""
        text = self.line(line)
        if text.isascii():
            return byte_offset + 1
        return len(text.encode("utf-8")[:byte_offset].decode("utf-8", errors="replace")) + 1


def read(path: str | os.PathLike[str], shown: str, max_bytes: int) -> bytes | FileError:
    """The bytes of a regular file, at most `max_bytes` of them.

    Opened without following a symbolic link and without blocking (a FIFO named `x.py`
    must not hang the scan), then checked to be a regular file before anything is read;
    a device such as /dev/zero is never read."""
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    try:
        descriptor = os.open(path, flags)
    except OSError as exc:
        return FileError(shown, _os_error_kind(exc), exc.strerror or str(exc))
    try:
        info = os.fstat(descriptor)
        if not stat.S_ISREG(info.st_mode):
            return FileError(shown, "not-regular", "not a regular file")
        if info.st_size > max_bytes:
            return FileError(shown, "too-large", f"{info.st_size} bytes, more than the limit of {max_bytes}")
        chunks: list[bytes] = []
        size = 0
        # first the size the file says, and a byte more (a buffer of that size, not of a
        # megabyte, for every file); then on, should it have grown meanwhile
        want = info.st_size + 1
        while size <= max_bytes:
            chunk = os.read(descriptor, min(want, max_bytes + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
            want = 1 << 20
        if size > max_bytes:
            return FileError(shown, "too-large", f"more than the limit of {max_bytes} bytes")
        return b"".join(chunks)
    except OSError as exc:
        return FileError(shown, _os_error_kind(exc), exc.strerror or str(exc))
    finally:
        os.close(descriptor)


def _os_error_kind(exc: OSError) -> str:
    if isinstance(exc, PermissionError):
        return "permission"
    if exc.errno == errno.ELOOP:
        return "symlink-loop"
    if isinstance(exc, FileNotFoundError):
        return "not-found"
    return "unreadable"


def split_lines(text: str) -> tuple[str, ...]:
    """Split as the tokenizer does: CRLF, CR and LF end a line; form feeds do not."""
    if text.isascii() and not any(other in text for other in _OTHER_BREAKS):
        # `str.splitlines` breaks at nothing else here, and is several times quicker; it
        # only leaves out the empty line after a final line break
        lines = text.splitlines()
        if not text or text[-1] in "\r\n":
            lines.append("")
        return tuple(lines)
    return tuple(_LINE_BREAK.split(text))


# what `str.splitlines` breaks at in ASCII text besides CR and LF
_OTHER_BREAKS = ("\v", "\f", "\x1c", "\x1d", "\x1e")


def decode(data: bytes, path: str) -> tuple[str, str] | FileError:
    """Decode with the BOM or PEP 263 cookie, defaulting to UTF-8: the text, and the
    encoding it was decoded with."""
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    except SyntaxError as exc:
        return FileError(path, "encoding", _first_line(str(exc.msg or exc)), exc.lineno, None)
    try:
        codecs.lookup(encoding)
        return data.decode(encoding), encoding
    except LookupError:
        return FileError(path, "encoding", f"unknown encoding {encoding!r}", 1, None)
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        return FileError(path, "encoding", f"cannot decode as {encoding}: {exc.reason}", line, column)


def parse(data: bytes, path: str) -> Source | FileError:
    decoded = decode(data, path)
    if isinstance(decoded, FileError):
        return decoded
    text, encoding = decoded
    if "\0" in text:
        line = text.count("\n", 0, text.index("\0")) + 1
        return FileError(path, "syntax", "source contains a NUL byte", line, None)
    # in UTF-8 a bracket byte is a bracket; in other encodings (Shift JIS) a bracket byte
    # can end a two-byte character
    lines = split_lines(text)
    too_deep = depth_check(text, path, data if encoding in ("utf-8", "utf-8-sig") else None, lines)
    if too_deep is not None:
        return too_deep
    if len(text) > PARTS_ABOVE:
        return Source(path, text, None, lines)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tree = ast.parse(text, filename=path)
    except SyntaxError as exc:
        newer = _newer_syntax(exc, text)
        if newer is not None:
            return FileError(path, "unsupported-syntax", newer, exc.lineno, exc.offset)
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
    return Source(path, text, tree, lines)


# Syntax a newer Python accepts, recognised on the line the running parser rejects.
_NEWER_SYNTAX: tuple[tuple[re.Pattern[str], tuple[int, int], str], ...] = (
    (re.compile(r"^\s*type\s+\w+\s*[\[=]"), (3, 12), "a `type` alias statement (PEP 695)"),
    (re.compile(r"^\s*(async\s+)?def\s+\w+\s*\["), (3, 12), "type parameters on a function (PEP 695)"),
    (re.compile(r"^\s*class\s+\w+\s*\["), (3, 12), "type parameters on a class (PEP 695)"),
    (re.compile(r"^\s*except\s*\*"), (3, 11), "`except*` (PEP 654)"),
)


def _newer_syntax(error: SyntaxError, text: str) -> str | None:
    """Name the Python version a rejected construct needs, when that is the reason."""
    running = sys.version_info[:2]
    lines = split_lines(text)
    line = lines[error.lineno - 1] if error.lineno and 0 < error.lineno <= len(lines) else ""
    for pattern, version, what in _NEWER_SYNTAX:
        if running < version and pattern.search(line):
            return _needs(version, what)
    if running < (3, 12) and (error.msg or "").startswith("f-string"):
        return _needs((3, 12), "an f-string that nests quotes, comments or backslashes (PEP 701)")
    return None


def _needs(version: tuple[int, int], what: str) -> str:
    running = ".".join(map(str, sys.version_info[:2]))
    return f"needs Python {version[0]}.{version[1]} for {what}; sessguard runs on Python {running}"


# -- nesting, refused before the parser sees it -----------------------------------------------

MAX_BRACKETS = 200  # CPython's own tokenizer limit
MAX_CHAIN = 1500  # operators in one chain (a + b + ...) or unary run: AST depth
# over-estimates, each a single scan in C: a run of unary operators (a hyphen rule in a
# docstring counts too), and brackets kept alone then summed as +1/-1 (`array` reads the
# byte 0xff as -1)
_UNARY_RUNS = (re.compile(r"[-+~](?:\s*[-+~]){199}"), re.compile(r"not\s+(?:not\s+){199}"))
_BRACKETS_ONLY = {ord(c): None for c in map(chr, range(128)) if c not in "()[]{}"}
_NOT_BRACKET_BYTES = bytes(b for b in range(256) if b not in b"()[]{}")
_BRACKET_STEPS = bytes.maketrans(b"([{)]}", b"\x01\x01\x01\xff\xff\xff")
_CHAIN_OPERATORS = frozenset(
    {
        "+",
        "-",
        "*",
        "/",
        "//",
        "%",
        "@",
        "**",
        "<<",
        ">>",
        "&",
        "|",
        "^",
        "~",
        ".",
        "<",
        ">",
        "<=",
        ">=",
        "==",
        "!=",
    }
)
_CHAIN_WORDS = frozenset({"if", "else", "and", "or", "not", "lambda", "await", "in", "is"})
_SEPARATORS = frozenset({",", ";", ":", "=", ":="})


def depth_check(text: str, path: str, utf8: bytes | None, lines: Sequence[str]) -> FileError | None:
    """Refuse input nested deeper than the parser and our visitors can take, before parsing.

    Cheap C-speed estimates first (they over-count: brackets and operators inside strings
    count too); only a file they flag is tokenized to measure exactly, so ordinary files
    pay almost nothing. `utf8`, the text's bytes when they are UTF-8, makes the bracket
    estimate quicker. `lines`: the text's lines as `split_lines` gives them (never shorter
    than those of `str.splitlines`, so the line-length estimate still over-counts)."""
    if not _suspicious(text, utf8, lines):
        return None
    try:
        return _measure(text, path)
    except (tokenize.TokenError, SyntaxError, IndentationError, ValueError):
        return None  # the parser will report what is wrong with it


def _suspicious(text: str, utf8: bytes | None, lines: Sequence[str]) -> bool:
    if any(run.search(text) for run in _UNARY_RUNS):
        return True
    if max(map(len, lines), default=0) > 4 * MAX_CHAIN:
        return True
    if text.count("(") + text.count("[") + text.count("{") <= MAX_BRACKETS // 2:
        return False
    if utf8 is not None:
        brackets = utf8.translate(None, _NOT_BRACKET_BYTES)
    else:
        brackets = text.translate(_BRACKETS_ONLY).encode("ascii", "ignore")
    steps = array("b", brackets.translate(_BRACKET_STEPS))
    return max(accumulate(steps), default=0) > MAX_BRACKETS // 2


def _measure(text: str, path: str) -> FileError | None:
    depth = 0
    chains = [0]  # operators since the last separator, per bracket level
    unary = 0
    previous = ""
    for token in tokenize.generate_tokens(io.StringIO(text).readline):
        kind, value = token.type, token.string
        line, column = token.start[0], token.start[1] + 1
        if kind == tokenize.OP and value in "([{":
            depth += 1
            chains.append(0)
            if depth > MAX_BRACKETS:
                return FileError(path, "too-deep", f"more than {MAX_BRACKETS} nested brackets", line, column)
        elif kind == tokenize.OP and value in ")]}":
            depth = max(0, depth - 1)
            if len(chains) > 1:
                chains.pop()
        elif kind in (tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT) or value in _SEPARATORS:
            chains[-1] = 0
        elif value in _CHAIN_OPERATORS or (kind == tokenize.NAME and value in _CHAIN_WORDS):
            chains[-1] += 1
            after_operator = previous in _CHAIN_OPERATORS or previous in _CHAIN_WORDS
            is_unary = value in ("-", "+", "~", "not") and (
                after_operator or previous in "([{,;:=" or not previous
            )
            unary = unary + 1 if is_unary else 0
            if chains[-1] > MAX_CHAIN or unary > MAX_CHAIN:
                return FileError(
                    path, "too-deep", f"an expression more than {MAX_CHAIN} operators deep", line, column
                )
        else:
            unary = 0
        if kind not in (tokenize.NL, tokenize.COMMENT):
            previous = value
    return None


# -- very large files, parsed in parts ----------------------------------------------------

PARTS_ABOVE = 1 << 20  # characters
PART_SIZE = 128 * 1024
MAX_MERGES = 8
# a line that may start a top-level statement: at column 0, not a clause of the previous
# compound statement (else/elif/except/finally), not a closing bracket or a comment
_TOP_LEVEL_START = re.compile(r"(?!(?:else|elif|except|finally)\b)[A-Za-z_@]")


class PartError(Exception):
    """A part of a large file that does not parse: carries the file's error."""

    def __init__(self, error: FileError) -> None:
        super().__init__(error.message)
        self.error = error


def _boundaries(lines: tuple[str, ...]) -> list[int]:
    """Line indexes where a top-level definition (or its first decorator) starts."""
    found: list[int] = []
    previous_decorator = previous_continued = False
    for index, line in enumerate(lines):
        starts = bool(_TOP_LEVEL_START.match(line))
        if starts and not previous_decorator and not previous_continued:
            found.append(index)
        if line.strip():
            previous_decorator = line.startswith("@")
            previous_continued = line.rstrip().endswith("\\")
    return found


def _parse_parts(lines: tuple[str, ...], path: str) -> Iterator[ast.Module]:
    cuts = [0]
    size = 0
    boundaries = set(_boundaries(lines))
    for index, line in enumerate(lines):
        if size >= PART_SIZE and index in boundaries:
            cuts.append(index)
            size = 0
        size += len(line) + 1
    cuts.append(len(lines))
    start = 0
    position = 1
    while position < len(cuts):
        end = cuts[position]
        for merges in range(MAX_MERGES + 1):
            # leading newlines keep the line numbers of the whole file
            text = "\n" * start + "\n".join(lines[start:end]) + "\n"
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    tree = ast.parse(text, filename=path)
                break
            except SyntaxError as exc:
                if position + 1 >= len(cuts):
                    message = _first_line(exc.msg or "invalid syntax")
                    raise PartError(FileError(path, "syntax", message, exc.lineno, exc.offset)) from None
                # a boundary inside a string: take the next part too; after a few, the rest
                position = position + 1 if merges < MAX_MERGES - 1 else len(cuts) - 1
                end = cuts[position]
            except (RecursionError, MemoryError):
                raise PartError(FileError(path, "too-deep", "nesting too deep to parse")) from None
        yield tree
        start = end
        position += 1


def _first_line(message: str) -> str:
    return message.strip().splitlines()[0] if message.strip() else "unreadable"
