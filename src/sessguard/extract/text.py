"""Source text for messages: a node's text on one line, shortened, and the arguments a
call writes as literals (by position or keyword, as the rules compare them)."""

from __future__ import annotations

import ast
from collections.abc import Iterator

from sessguard.source import Source

MAX_TEXT = 80


def literal_arguments(node: ast.Call) -> Iterator[tuple[str, str]]:
    """Arguments written as literals, by position (until a `*` argument) or keyword."""
    for position, arg in enumerate(node.args):
        if isinstance(arg, ast.Starred):
            break
        if isinstance(arg, ast.Constant):
            yield str(position), repr(arg.value)
    for keyword in node.keywords:
        if keyword.arg is not None and isinstance(keyword.value, ast.Constant):
            yield keyword.arg, repr(keyword.value.value)


def segment(source: Source, node: ast.AST) -> str:
    """The source text of a node, on one line, shortened for messages."""
    line = getattr(node, "lineno", None)
    end_line = getattr(node, "end_lineno", None)
    if line is None or end_line is None:
        return ""
    start = getattr(node, "col_offset", 0)
    end = getattr(node, "end_col_offset", 0)
    raw = [source.line(n).encode("utf-8") for n in range(line, min(end_line, line + 20) + 1)]
    if not raw:
        return ""
    if len(raw) == 1:
        text = raw[0][start:end].decode("utf-8", errors="replace")
    else:
        raw[0] = raw[0][start:]
        if end_line <= line + 20:
            raw[-1] = raw[-1][:end]
        text = " ".join(part.decode("utf-8", errors="replace").strip() for part in raw)
    text = " ".join(text.split())
    return text if len(text) <= MAX_TEXT else text[: MAX_TEXT - 1] + "…"
