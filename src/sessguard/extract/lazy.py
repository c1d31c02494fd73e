"""Which functions of a parsed file get facts: those whose bytes can matter.

Building a function's graph and events is most of the per-file cost, and in a file that
mentions a session at all most functions still cannot matter. A function gets facts when

- its own code (not its docstring or comments) holds a phase-1 needle (`needles`), or
  a module-level name bound to something that does (`from flask import session as s`,
  `KEY = "beaker.session"`);
- a later prefilter round asked for it (`force`: it receives a session from a caller, or
  calls a function that turned out to be relevant), or for another method of its class;
- or it is linked by name, in the same file, to one that can be relevant: it names
  such a function (a caller: then it can be relevant too), or such a function or the
  code outside functions names it (a callee: a session may reach it as an argument).
  Methods count through their class (`__init__` and the methods named, for a class that
  is named or has a relevant method); every method of a class whose own statement a
  needle finds counts; so do the functions nested in a wanted one and those enclosing it.
  Code outside functions that can matter (`app.session_interface = ...`) leads into the
  functions it names like a relevant function.

Every other function is skipped and listed with the identifiers it names, so that a
later round can still ask for it. A skipped function is what an inactive function was
already: neutral wherever it is called (its class still lists it).
"""

from __future__ import annotations

import ast
from bisect import bisect_left
from collections.abc import Callable, Iterable, Iterator

import msgspec

from sessguard.extract.walk import COMPOUND, blocks_of, definitions_in
from sessguard.needles import Needles, identifiers

FunctionNode = ast.FunctionDef | ast.AsyncFunctionDef


class _Def(msgspec.Struct, eq=False):
    node: FunctionNode | ast.ClassDef
    qualname: str
    parent: _Def | None
    module_level: bool
    words: frozenset[bytes]
    children: list[_Def] = msgspec.field(default_factory=list)

    @property
    def is_class(self) -> bool:
        return isinstance(self.node, ast.ClassDef)


class Selection(msgspec.Struct, frozen=True):
    """The function nodes to extract, and the skipped functions with their words."""

    wanted: frozenset[int]  # id() of the function nodes that get facts
    skipped: tuple[tuple[str, tuple[str, ...]], ...]
    # id() of the classes whose body (outside methods) holds nothing that can matter and
    # none of whose methods gets facts: their body is not walked for evidence
    bare: frozenset[int] = frozenset()


def select(
    tree: ast.Module,
    lines: tuple[str, ...],
    prefix: str,
    needles: Needles,
    module_words: frozenset[str],
    force: frozenset[str],
) -> Selection:
    lines = _code_lines(tree, lines)
    defs = list(_collect(tree.body, prefix, None, lines))
    functions = [d for d in defs if not d.is_class]
    words = frozenset(w.encode() for w in module_words)
    hit = _hit_lines(lines, needles)

    def holds_needle(first: int, last: int) -> bool:
        """`needles.match` on the lines `first` to `last` (no needle spans a line)."""
        at = bisect_left(hit, first)
        return at < len(hit) and hit[at] <= last

    wanted: set[_Def] = {
        d
        for d in functions
        if d.qualname in force
        or not d.words.isdisjoint(words)
        or holds_needle(_first_line(d.node), d.node.end_lineno or d.node.lineno)
    }
    # a session that reaches one method of a class reaches the others through `self`
    forced = {c for d in wanted if d.qualname in force and (c := _class_of(d)) is not None}
    wanted.update(d for d in functions if d.parent in forced)

    # code outside functions always has facts: what it names, and the classes whose own
    # statement a needle finds (`class RedisSession(...)`), lead into functions too
    def matters(first: int, last: int) -> bool:
        return holds_needle(first, last) or not identifiers(_lines(lines, first, last)).isdisjoint(words)

    free = _free_words(tree.body, lines, matters)
    quiet: set[_Def] = set()
    for d in defs:
        if isinstance(d.node, ast.ClassDef):
            own = _free_words(d.node.body, lines, matters)
            if not own:
                quiet.add(d)
            free |= own
            first, last = _header(d.node)
            if matters(first, last):
                wanted.update(c for c in d.children if not c.is_class)
    by_name: dict[bytes, list[_Def]] = {}
    for d in defs:
        if d.module_level:
            by_name.setdefault(d.node.name.encode(), []).append(d)
    classes: dict[_Def, list[_Def]] = {}
    for d in functions:
        if d.parent is not None and d.parent.is_class:
            classes.setdefault(d.parent, []).append(d)
    core = _callers(wanted, functions)
    wanted = _callees(core, free, by_name, classes)
    skipped = tuple(
        (d.qualname, tuple(sorted(w.decode() for w in d.words))) for d in functions if d not in wanted
    )
    quiet -= {c for d in wanted if (c := _class_of(d)) is not None}
    wanted_ids = frozenset(id(d.node) for d in wanted)
    quiet_ids = frozenset(id(c.node) for c in quiet)
    _unlink(defs)
    return Selection(wanted_ids, skipped, quiet_ids)


def _unlink(defs: list[_Def]) -> None:
    """Break the parent and children links: they make cycles that hold the file's whole
    syntax tree, which reference counting then could not free once the file's facts are
    built; the tree would wait for the cycle collector, whose passes over millions of
    live nodes cost more than a tenth of a large scan."""
    for d in defs:
        d.parent = None
        d.children = []


def _callers(seeds: set[_Def], functions: list[_Def]) -> set[_Def]:
    """The functions that can be relevant: the seeds and, transitively, the functions
    that name one (a module-level function by its name, a method by its class's name, or
    by its own name from a method of the same class), with those that enclose them."""
    core = set(seeds)
    while True:
        named = {d.node.name.encode() for d in core if d.module_level}
        named |= {c.node.name.encode() for d in core if (c := _class_of(d)) is not None}
        own: dict[_Def, set[bytes]] = {}
        for d in core:
            if (c := _class_of(d)) is not None:
                own.setdefault(c, set()).add(d.node.name.encode())
        new = {
            d
            for d in functions
            if d not in core
            and (not d.words.isdisjoint(named) or (d.parent in own and not d.words.isdisjoint(own[d.parent])))
        }
        new |= {p for d in core for p in _enclosing(d)} - core
        if not new:
            return core
        core |= new


def _callees(
    core: set[_Def], free: set[bytes], by_name: dict[bytes, list[_Def]], classes: dict[_Def, list[_Def]]
) -> set[_Def]:
    """What the relevant functions (and the code outside functions) lead into: the
    module-level functions they name; for a class they name or one of whose methods is
    relevant, its `__init__` and the methods they name; nested functions; transitively."""
    wanted = set(core)
    while True:
        mentioned = set(free).union(*(d.words for d in wanted))
        touched = {c for d in wanted if (c := _class_of(d)) is not None}
        grown: set[_Def] = set()
        for name in mentioned:
            for target in by_name.get(name, ()):
                if target.is_class:
                    touched.add(target)
                else:
                    grown.add(target)
        for cls in touched:
            grown.update(
                m
                for m in classes.get(cls, ())
                if m.node.name == "__init__" or m.node.name.encode() in mentioned
            )
        for d in list(wanted | grown):
            grown.update(c for c in _nested(d) if not c.is_class)
            grown.update(_enclosing(d))
        new = grown - wanted
        if not new:
            return wanted
        wanted |= new


def _class_of(d: _Def) -> _Def | None:
    """The class a method belongs to; None for a function."""
    return d.parent if d.parent is not None and d.parent.is_class else None


def _enclosing(d: _Def) -> Iterator[_Def]:
    parent = d.parent
    while parent is not None:
        if not parent.is_class:
            yield parent
        parent = parent.parent


def _collect(
    body: list[ast.stmt], prefix: str, parent: _Def | None, lines: tuple[str, ...]
) -> Iterator[_Def]:
    for node in definitions_in(body):
        qualname = f"{prefix}.{node.name}" if prefix else node.name
        words = frozenset() if isinstance(node, ast.ClassDef) else identifiers(_segment(node, lines))
        found = _Def(node, qualname, parent, parent is None, words)
        if parent is not None:
            parent.children.append(found)
        yield found
        yield from _collect(node.body, qualname, found, lines)


def _code_lines(tree: ast.Module, lines: tuple[str, ...]) -> tuple[str, ...]:
    """The lines with docstrings and comments blanked: a word there is no code. A `#`
    counts as a comment only when no quote precedes it on its line (else it may sit in a
    string, and the line is kept whole); a line inside a longer string may lose its
    tail, which is string text either way."""
    blank: set[int] = set()
    work: list[ast.AST] = [tree]
    while work:
        node = work.pop()
        body = getattr(node, "body", None)
        if not isinstance(body, list) or not body:
            continue
        first = body[0]
        if (
            isinstance(first, ast.Expr)
            and isinstance(first.value, ast.Constant)
            and isinstance(first.value.value, str)
        ):
            blank.update(range(first.lineno, (first.end_lineno or first.lineno) + 1))
        work.extend(definitions_in(body))
    code = []
    for number, line in enumerate(lines, 1):
        hash_at = line.find("#")
        if number in blank:
            line = ""
        elif hash_at >= 0:
            head = line[:hash_at]
            if not head.strip():
                line = ""  # a comment line
            elif "'" not in head and '"' not in head:
                line = head
        code.append(line)
    return tuple(code)


def _free_words(
    body: list[ast.stmt], lines: tuple[str, ...], matters: Callable[[int, int], bool]
) -> set[bytes]:
    """The identifiers of those statements of a block that are not definitions (nor in
    them) and that can matter themselves."""
    found: set[bytes] = set()
    for stmt in body:
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            continue
        blocks = blocks_of(stmt) if type(stmt) in COMPOUND else []
        last = stmt.lineno if blocks else stmt.end_lineno or stmt.lineno
        for block in blocks:
            found |= _free_words(block, lines, matters)
        if matters(stmt.lineno, last):
            found |= identifiers(_lines(lines, stmt.lineno, last))
    return found


def _header(node: ast.ClassDef) -> tuple[int, int]:
    """The lines of a class statement, decorators to the colon."""
    last = max(node.lineno, node.body[0].lineno - 1) if node.body else node.lineno
    return _first_line(node), last


def _hit_lines(lines: tuple[str, ...], needles: Needles) -> list[int]:
    """The lines (sorted) where a needle is found, from one search of the whole text."""
    return needles.hit_lines("\n".join(lines).encode("utf-8", "replace"))


def _lines(lines: tuple[str, ...], first: int, last: int) -> bytes:
    return "\n".join(lines[first - 1 : last]).encode("utf-8", "replace")


def _nested(d: _Def) -> Iterable[_Def]:
    for child in d.children:
        yield child
        yield from _nested(child)


def _segment(node: FunctionNode | ast.ClassDef, lines: tuple[str, ...]) -> bytes:
    return _lines(lines, _first_line(node), node.end_lineno or node.lineno)


def _first_line(node: FunctionNode | ast.ClassDef) -> int:
    """Where a definition starts: its first decorator, if it has any."""
    return min([node.lineno, *(d.lineno for d in node.decorator_list)])
