"""One pass over a scope's own nodes, shared by every later step of the extraction.

A function's own nodes are everything in its body except the bodies of nested functions,
classes and lambdas (those are scopes of their own), and except comprehension variables
(scoped to their comprehension). Collecting them once, iteratively, keeps the extraction
linear and free of recursion limits; a function with no call and no store into an object
cannot produce an event, so its graph is not built at all.
"""

from __future__ import annotations

import ast
import time
from collections.abc import Iterator

import msgspec

Scope = ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef | ast.Lambda


class Timeout(Exception):
    """The per-file time budget ran out."""


class Deadline:
    """A cheap, cooperative time check for long loops over one file."""

    def __init__(self, at: float | None) -> None:
        self.at = at
        self.count = 0

    def tick(self) -> None:
        self.count += 1
        if self.at is not None and self.count % 4096 == 0 and time.monotonic() > self.at:
            raise Timeout


NO_DEADLINE = Deadline(None)


class Body(msgspec.Struct):
    nodes: list[ast.AST]
    statements: list[ast.stmt]
    active: bool  # a call, a store into a subscript or attribute, a delete, an `x op= y`
    packages: set[str]  # top-level packages the scope imports


def own_nodes(body: list[ast.stmt], deadline: Deadline = NO_DEADLINE) -> Body:
    nodes: list[ast.AST] = []
    statements: list[ast.stmt] = []
    packages: set[str] = set()
    active = False
    stack: list[ast.AST] = list(reversed(body))
    append, pop = stack.append, stack.pop
    while stack:
        deadline.tick()
        node = pop()
        nodes.append(node)
        if isinstance(node, ast.stmt):
            statements.append(node)
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                stack.extend(reversed(node.decorator_list))
                stack.extend(reversed(node.args.defaults))
                stack.extend(d for d in reversed(node.args.kw_defaults) if d is not None)
                continue
            if isinstance(node, ast.ClassDef):
                stack.extend(reversed(node.decorator_list))
                stack.extend(reversed(node.bases))
                stack.extend(k.value for k in reversed(node.keywords))
                continue
            if isinstance(node, ast.Import):
                packages.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                packages.add(node.module.split(".")[0])
            elif isinstance(node, (ast.Delete, ast.AugAssign)):
                active = True
        elif isinstance(node, ast.Lambda):
            continue
        elif isinstance(node, ast.comprehension):
            stack.extend(reversed(node.ifs))
            append(node.iter)
            continue
        elif isinstance(node, ast.Call) or (
            isinstance(node, (ast.Subscript, ast.Attribute)) and not isinstance(node.ctx, ast.Load)
        ):
            active = True
        # the children, in source order once popped (faster than ast.iter_child_nodes)
        for name in reversed(node._fields):
            value = getattr(node, name, None)
            if isinstance(value, ast.AST):
                append(value)
            elif isinstance(value, list):
                for item in reversed(value):
                    if isinstance(item, ast.AST):
                        append(item)
    return Body(nodes, statements, active, packages)


def children(node: ast.AST) -> Iterator[ast.AST]:
    """`ast.iter_child_nodes`, in the same order, reading the fields directly (it is the
    inner loop of the extraction)."""
    for name in node._fields:
        value = getattr(node, name, None)
        if isinstance(value, ast.AST):
            yield value
        elif isinstance(value, list):
            for item in value:
                if isinstance(item, ast.AST):
                    yield item


def subtree(node: ast.AST) -> Iterator[ast.AST]:
    """Every node of the tree under `node`, itself included, in no particular order
    (`ast.walk` for tests that any node passes)."""
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(children(current))


def local_names(body: Body) -> set[str]:
    """Names the scope binds itself (Python makes them local to the whole function)."""
    found: set[str] = set()
    declared_global: set[str] = set()
    name, load = ast.Name, ast.Load
    for node in body.nodes:
        kind = type(node)
        if kind is name:
            if type(node.ctx) is not load:  # type: ignore[attr-defined]
                found.add(node.id)  # type: ignore[attr-defined]
        elif kind not in _BINDERS:
            continue  # most nodes: one type test, not a chain of them
        elif isinstance(node, (ast.Global, ast.Nonlocal)):
            declared_global.update(node.names)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            found.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            found.update(a.asname or a.name.split(".")[0] for a in node.names if a.name != "*")
        elif isinstance(node, (ast.ExceptHandler, ast.MatchAs, ast.MatchStar)) and node.name:
            found.add(node.name)
        elif isinstance(node, ast.MatchMapping) and node.rest:
            found.add(node.rest)
    return found - declared_global


# the nodes `local_names` looks at besides names (every other node binds nothing)
_BINDERS = frozenset(
    {
        ast.Global,
        ast.Nonlocal,
        ast.FunctionDef,
        ast.AsyncFunctionDef,
        ast.ClassDef,
        ast.Import,
        ast.ImportFrom,
        ast.ExceptHandler,
        ast.MatchAs,
        ast.MatchStar,
        ast.MatchMapping,
    }
)
_DEFINITIONS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
# the statements that hold blocks (a simple statement holds no definition)
COMPOUND = frozenset(
    {ast.If, ast.For, ast.AsyncFor, ast.While, ast.With, ast.AsyncWith, ast.Try, ast.Match}
    | ({ast.TryStar} if hasattr(ast, "TryStar") else set())
)


def definitions_in(
    body: list[ast.stmt],
) -> Iterator[ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef]:
    """The functions and classes a block defines, also inside its `if`, `try`, `with`,
    loop and `match` blocks (not inside the definitions themselves)."""
    for stmt in body:
        if isinstance(stmt, _DEFINITIONS):
            yield stmt
        elif type(stmt) in COMPOUND:
            for block in blocks_of(stmt):
                yield from definitions_in(block)


def blocks_of(stmt: ast.stmt) -> list[list[ast.stmt]]:
    """The statement blocks a compound statement holds: its body, `else` and `finally`
    blocks, its `except` handlers' and `match` cases' bodies ([] for a simple one)."""
    blocks = [
        block
        for name in ("body", "orelse", "finalbody")
        for block in [getattr(stmt, name, None)]
        if isinstance(block, list) and block and isinstance(block[0], ast.stmt)
    ]
    blocks += [handler.body for handler in getattr(stmt, "handlers", []) or []]
    blocks += [case.body for case in getattr(stmt, "cases", []) or []]
    return blocks
