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


def subclasses(root: type) -> frozenset[type]:
    """Every class below `root` (the parser makes instances of these only)."""
    found: set[type] = set()
    work = [root]
    while work:
        for sub in work.pop().__subclasses__():
            if sub not in found:
                found.add(sub)
                work.append(sub)
    return frozenset(found)


# every node class and every statement class: the parser makes only these, so a type test
# by set stands for `isinstance` (the walk below is the extraction's hottest loop)
_NODE_TYPES = subclasses(ast.AST)
_STATEMENTS = subclasses(ast.stmt)
# what the walk does with a node beyond taking it and its children
_DEFINITION, _CLASS, _IMPORT, _IMPORT_FROM, _ACTIVE_STATEMENT, _LAMBDA, _COMPREHENSION, _CALL, _STORE = range(
    9
)
_ACTIONS: dict[type, int] = {
    ast.FunctionDef: _DEFINITION,
    ast.AsyncFunctionDef: _DEFINITION,
    ast.ClassDef: _CLASS,
    ast.Import: _IMPORT,
    ast.ImportFrom: _IMPORT_FROM,
    ast.Delete: _ACTIVE_STATEMENT,
    ast.AugAssign: _ACTIVE_STATEMENT,
    ast.Lambda: _LAMBDA,
    ast.comprehension: _COMPREHENSION,
    ast.Call: _CALL,
    ast.Subscript: _STORE,
    ast.Attribute: _STORE,
}
_REVERSED_FIELDS: dict[type, tuple[str, ...]] = {}


def own_nodes(body: list[ast.stmt], deadline: Deadline = NO_DEADLINE) -> Body:
    nodes: list[ast.AST] = []
    statements: list[ast.stmt] = []
    packages: set[str] = set()
    active = False
    stack: list[ast.AST] = list(reversed(body))
    append, pop = stack.append, stack.pop
    node_types, actions, fields_of = _NODE_TYPES, _ACTIONS, _REVERSED_FIELDS
    while stack:
        deadline.tick()
        node = pop()
        nodes.append(node)
        kind = node.__class__
        if kind in _STATEMENTS:
            statements.append(node)  # type: ignore[arg-type]
        action = actions.get(kind)
        if action is not None:
            if action == _DEFINITION:
                function: ast.FunctionDef = node  # type: ignore[assignment]
                stack.extend(reversed(function.decorator_list))
                stack.extend(reversed(function.args.defaults))
                stack.extend(d for d in reversed(function.args.kw_defaults) if d is not None)
                continue
            if action == _CLASS:
                cls: ast.ClassDef = node  # type: ignore[assignment]
                stack.extend(reversed(cls.decorator_list))
                stack.extend(reversed(cls.bases))
                stack.extend(k.value for k in reversed(cls.keywords))
                continue
            if action == _LAMBDA:
                continue
            if action == _COMPREHENSION:
                comprehension: ast.comprehension = node  # type: ignore[assignment]
                stack.extend(reversed(comprehension.ifs))
                append(comprehension.iter)
                continue
            if action == _IMPORT:
                packages.update(alias.name.split(".")[0] for alias in node.names)  # type: ignore[attr-defined]
            elif action == _IMPORT_FROM:
                if node.level == 0 and node.module:  # type: ignore[attr-defined]
                    packages.add(node.module.split(".")[0])  # type: ignore[attr-defined]
            elif action in (_ACTIVE_STATEMENT, _CALL):
                active = True
            elif node.ctx.__class__ is not ast.Load:  # type: ignore[attr-defined]
                active = True  # a store into a subscript or an attribute, or a delete
        # the children, in source order once popped (faster than ast.iter_child_nodes)
        fields = fields_of.get(kind)
        if fields is None:
            fields = fields_of[kind] = tuple(reversed(kind._fields))
        for name in fields:
            value = getattr(node, name, None)
            if value.__class__ is list:
                for item in reversed(value):
                    if item.__class__ in node_types:
                        append(item)  # type: ignore[arg-type]
            elif value.__class__ in node_types:
                append(value)  # type: ignore[arg-type]
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
