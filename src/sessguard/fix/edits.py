"""A fix plan's text, worked out with the standard library only: what a scan's JSON and
SARIF `fix.edits` show, and what `sessguard fix` must write.

A scan renders the edits of every fixable finding, so this module must stay light: it
reads the file, finds the planned statement with `ast`, and inserts whole lines (or, for
a factory call and an extended import, changes a name on its line). `sessguard fix` does
the rewrite on the concrete syntax tree (`cst`) and writes it only if it is this text,
byte for byte: what a report promises is what the fix does.
"""

from __future__ import annotations

import ast
import difflib
import io
import os
import re
import tokenize
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

import msgspec
from msgspec.structs import replace

from sessguard.fix.bound import check_bound
from sessguard.fix.errors import Refused as Refused
from sessguard.model import Edit, FixPlan, Placement, Span
from sessguard.source import read

if TYPE_CHECKING:
    from sessguard.model import Report

MAX_BYTES = 10 * 1024 * 1024
_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+\Z")
_FACTORY = "get_session"


class Rendered(msgspec.Struct, frozen=True):
    """A file before and after its fixes (the text the report shows, or the tree rewrite
    that must equal it), and the bytes to write."""

    before: str
    after: str
    data: bytes

    @property
    def edits(self) -> tuple[Edit, ...]:
        return edits_between(self.before, self.after)


def with_edits(report: Report) -> Report:
    """The report with each fixable finding's concrete edits, or, where the source does
    not allow the fix after all, with the reason instead."""
    findings = []
    for finding in report.findings:
        plan = finding.fix
        if plan is not None and plan.available:
            try:
                plan = replace(plan, edits=render(read_source(finding.path), [plan]).edits)
            except Refused as exc:
                plan = FixPlan(f"no automatic fix: {exc}")
            finding = replace(finding, fix=plan)
        findings.append(finding)
    return replace(report, findings=tuple(findings))


def read_source(path: str) -> bytes:
    if os.path.islink(path):
        raise Refused("the path is a symbolic link; fixes are never written through one")
    data = read(path, path, MAX_BYTES)
    if not isinstance(data, bytes):
        raise Refused(f"cannot read the file ({data.kind}: {data.message})")
    return data


def lines_of(text: str) -> list[str]:
    """The lines as Python counts them (CR, LF or CRLF end a line; a form feed does not)."""
    return _LINE.findall(text)


def edits_between(before: str, after: str) -> tuple[Edit, ...]:
    """Whole-line edits that turn `before` into `after`."""
    old, new = lines_of(before), lines_of(after)
    edits = []
    matcher = difflib.SequenceMatcher(a=old, b=new, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag != "equal":
            edits.append(Edit(i1 + 1, 1, i2 + 1, 1, "".join(new[j1:j2])))
    return tuple(edits)


def render(data: bytes, plans: Sequence[FixPlan]) -> Rendered:
    """The file's text with every plan applied, or `Refused`."""
    try:
        encoding = tokenize.detect_encoding(io.BytesIO(data).readline)[0]
        text = data.decode(encoding)
        tree = ast.parse(data)
    except (SyntaxError, UnicodeDecodeError, LookupError, ValueError, RecursionError, MemoryError):
        raise Refused("the file cannot be read as Python") from None
    source = _Source(text, tree)
    for plan in plans:
        source.place(plan)
    imports = sorted({item for plan in plans for item in plan.imports})
    source.add_imports(imports)
    after = source.text()
    try:
        ast.parse(after)
    except SyntaxError as exc:
        raise Refused(f"the fixed file would not parse ({exc.msg})") from None
    for plan in plans:
        if plan.anchor is not None:
            check_bound(tree, plan, imports)
    return Rendered(text, after, after.encode(encoding))


class _Source:
    """The file's lines and the changes planned on them, applied all at once."""

    def __init__(self, text: str, tree: ast.Module) -> None:
        self.lines = lines_of(text)
        self.tree = tree
        first = next((line for line in self.lines if line[-1:] in "\r\n"), "\n")
        self.newline = "\r\n" if first.endswith("\r\n") else first[-1:] if first[-1:] in "\r\n" else "\n"
        self.above: dict[int, list[str]] = {}  # line -> new lines inserted above it
        self.below: dict[int, list[str]] = {}  # line -> new lines inserted below it
        self.renames: dict[int, list[tuple[int, int, str]]] = {}  # line -> (start, end, text)
        self.statements = {
            (node.lineno, node.col_offset): (node, body) for body in _bodies(tree) for node in body
        }

    def line(self, number: int) -> str:
        return self.lines[number - 1] if 0 < number <= len(self.lines) else ""

    def column(self, number: int, byte_offset: int) -> int:
        """`ast` counts columns in UTF-8 bytes; the text counts characters."""
        return len(self.line(number).encode("utf-8")[:byte_offset].decode("utf-8", "replace"))

    def place(self, plan: FixPlan) -> None:
        anchor = plan.anchor
        if anchor is None or plan.placement is None:
            raise Refused("the finding has no automatic fix")
        if plan.placement is Placement.FACTORY:
            self._rename_call(plan, anchor)
            if plan.prelude or plan.postlude:
                self._around(self._holding(anchor), plan.prelude, plan.postlude)
            return
        found = self._statement(anchor)
        if found is None:
            raise Refused("the statement is not where the scan saw it")
        if plan.placement is Placement.BEFORE:
            self._around(found, plan.code, "")
        else:
            self._around(found, "", plan.code)

    def _around(self, found: tuple[ast.stmt, list[ast.stmt]], above: str, below: str) -> None:
        """New statements (one a line) above and below a statement, at its indentation."""
        node, body = found
        end = node.end_lineno or node.lineno
        if any(
            other is not node and other.lineno <= end and (other.end_lineno or other.lineno) >= node.lineno
            for other in body
        ):
            raise Refused("the statement shares its line with other statements")
        indent = self.line(node.lineno)[: self.column(node.lineno, node.col_offset)]
        if above:
            lines = [indent + code + self.newline for code in above.split("\n")]
            self.above.setdefault(self._leading(node, body), []).extend(lines)
        if below:
            self.below.setdefault(end, []).extend(indent + code + self.newline for code in below.split("\n"))

    def _holding(self, anchor: Span) -> tuple[ast.stmt, list[ast.stmt]]:
        """The simple statement that holds the call at `anchor`, as a statement of its own."""
        for (line, _offset), (node, body) in self.statements.items():
            if isinstance(getattr(node, "body", None), list):
                continue  # a compound statement: its header cannot take lines around it
            if line <= anchor.line <= (node.end_lineno or line) and _header_line(self.tree, body) != line:
                return node, body
        raise Refused("the `get_session` call is not in a statement of its own")

    def _leading(self, node: ast.stmt, body: list[ast.stmt]) -> int:
        """The first of the comment and blank lines that lead the statement: the new one
        goes above them, so that a comment stays with the statement it explains. Trailing
        comments of a block before it, indented deeper than the statement, stay with that
        block; at the top of the module they are the file's header."""
        first = _first_line(node)
        index = next(i for i, other in enumerate(body) if other is node)
        if index == 0 and body is self.tree.body:
            return first
        previous = body[index - 1] if index else None
        floor = (previous.end_lineno or previous.lineno) if previous is not None else 0
        indent = len(self.line(first)) - len(self.line(first).lstrip(" \t\f"))
        block_before = previous is not None and _ends_in_block(previous)
        start = first
        while start - 1 > floor and self.line(start - 1).strip()[:1] in ("", "#"):
            line = self.line(start - 1)
            if block_before and line.strip() and len(line) - len(line.lstrip(" \t\f")) > indent:
                break  # the last comment of the block above, and what precedes it, stay there
            start -= 1
        return start

    def _statement(self, anchor: Span) -> tuple[ast.stmt, list[ast.stmt]] | None:
        for (line, offset), found in self.statements.items():
            if line == anchor.line and self.column(line, offset) == anchor.column - 1:
                _node, body = found
                header = _header_line(self.tree, body)
                if header == line or self.line(line)[: anchor.column - 1].strip():
                    return None  # on its block's header line, or after other code
                return found
        return None

    def _rename_call(self, plan: FixPlan, anchor: Span) -> None:
        for node in ast.walk(self.tree):
            if not isinstance(node, ast.Call) or node.lineno != anchor.line:
                continue
            if self.column(node.lineno, node.col_offset) != anchor.column - 1:
                continue
            func = node.func
            if isinstance(func, ast.Name) and func.id == _FACTORY:
                start, end = func.col_offset, func.end_col_offset or func.col_offset
            elif isinstance(func, ast.Attribute) and func.attr == _FACTORY:
                end = func.end_col_offset or func.col_offset
                start = end - len(_FACTORY)
            else:
                raise Refused("the call is not a `get_session` call any more")
            line = func.end_lineno or func.lineno
            self.renames.setdefault(line, []).append(
                (self.column(line, start), self.column(line, end), plan.code)
            )
            return
        raise Refused("the statement is not where the scan saw it")

    def add_imports(self, imports: Iterable[tuple[str, str]]) -> None:
        """`from module import name` (or `import module`) after the module's last leading
        import, or after its docstring; an existing one-line `from module import ...` of
        the same module is extended instead; nothing when the module has it already."""
        body = self.tree.body
        wanted = [item for item in imports if item not in _imported(body)]
        for statement in body:
            if not wanted:
                return
            self._extend(statement, wanted)
        if not wanted:
            return
        new = [_import_text(module, name) + self.newline for module, name in wanted]
        position = _import_position(body)
        if position == 0:
            first = body[0] if body else None
            line = _first_line(first) if first is not None else len(self.lines) + 1
            self.above.setdefault(line, [])[:0] = new
        else:
            last = body[position - 1]
            self.below.setdefault(last.end_lineno or last.lineno, []).extend(new)

    def _extend(self, statement: ast.stmt, wanted: list[tuple[str, str]]) -> None:
        """`from flask import request` becomes `from flask import request, session` (one
        line, no parentheses: the layout stays simple); what it takes leaves `wanted`."""
        if not isinstance(statement, ast.ImportFrom) or statement.level or statement.module is None:
            return
        if statement.end_lineno != statement.lineno or not statement.names:
            return
        names = [name for (module, name) in wanted if module == statement.module and name]
        if not names or any(alias.name == "*" for alias in statement.names):
            return
        line = self.line(statement.lineno)
        last = statement.names[-1]
        end = self.column(statement.lineno, last.end_col_offset or 0)
        start = self.column(statement.lineno, statement.col_offset)
        if "(" in line[start:end] or self._shares_line(statement):
            return
        self.renames.setdefault(statement.lineno, []).append((end, end, "".join(f", {n}" for n in names)))
        for name in names:
            wanted.remove((statement.module, name))

    def _shares_line(self, statement: ast.stmt) -> bool:
        return any(
            other is not statement and other.lineno <= statement.lineno <= (other.end_lineno or other.lineno)
            for other in self.tree.body
        )

    def text(self) -> str:
        out: list[str] = []
        count = len(self.lines)
        for number in range(1, count + 2):
            out.extend(self.above.get(number, ()))
            if number > count:
                break
            line = self.lines[number - 1]
            for start, end, new in sorted(self.renames.get(number, ()), reverse=True):
                line = line[:start] + new + line[end:]
            below = self.below.get(number, ())
            if below and line[-1:] not in "\r\n":
                out.append(line + self.newline)
                out.extend(below)
                out[-1] = out[-1].rstrip("\r\n")  # the file had no final newline: still none
            else:
                out.append(line)
                out.extend(below)
        return "".join(out)


def _bodies(tree: ast.AST) -> Iterable[list[ast.stmt]]:
    for node in ast.walk(tree):
        for name in ("body", "orelse", "finalbody"):
            block = getattr(node, name, None)
            if isinstance(block, list) and block and isinstance(block[0], ast.stmt):
                yield block  # handlers and match cases are nodes with a body too


def _ends_in_block(statement: ast.stmt) -> bool:
    return isinstance(getattr(statement, "body", None), list)


def _header_line(tree: ast.Module, body: list[ast.stmt]) -> int | None:
    """The line of the statement (or handler, case) whose block `body` is."""
    for node in ast.walk(tree):
        for name in ("body", "orelse", "finalbody"):
            if getattr(node, name, None) is body:
                return getattr(node, "lineno", None)
    return None


def _first_line(statement: ast.stmt) -> int:
    decorators: list[ast.expr] = getattr(statement, "decorator_list", [])
    return min([statement.lineno, *(d.lineno for d in decorators)])


def _import_position(body: Sequence[ast.stmt]) -> int:
    """After the leading imports (and a docstring that comes first)."""
    position = 0
    for index, statement in enumerate(body):
        if isinstance(statement, (ast.Import, ast.ImportFrom)):
            position = index + 1
        elif index == 0 and _is_docstring(statement):
            position = 1
        elif position or index > 0:
            break
    return position


def _is_docstring(statement: ast.stmt) -> bool:
    return (
        isinstance(statement, ast.Expr)
        and isinstance(statement.value, ast.Constant)
        and isinstance(statement.value.value, str)
    )


def _import_text(module: str, name: str) -> str:
    return f"from {module} import {name}" if name else f"import {module}"


def _imported(body: Sequence[ast.stmt]) -> set[tuple[str, str]]:
    """The plain (unaliased, absolute) imports at the top level of a module."""
    found: set[tuple[str, str]] = set()
    for statement in body:
        if isinstance(statement, ast.ImportFrom) and statement.module is not None and not statement.level:
            found.update((statement.module, a.name) for a in statement.names if a.asname is None)
        elif isinstance(statement, ast.Import):
            found.update((a.name, "") for a in statement.names if a.asname is None)
    return found
