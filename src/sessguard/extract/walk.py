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
from dataclasses import dataclass

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


@dataclass
class Body:
    nodes: list[ast.AST]
    statements: list[ast.stmt]
    active: bool  # a call, a store into a subscript or attribute, a delete, an `x op= y`


def own_nodes(body: list[ast.stmt], deadline: Deadline = NO_DEADLINE) -> Body:
    nodes: list[ast.AST] = []
    statements: list[ast.stmt] = []
    active = False
    stack: list[ast.AST] = list(reversed(body))
    while stack:
        deadline.tick()
        node = stack.pop()
        nodes.append(node)
        if isinstance(node, ast.stmt):
            statements.append(node)
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            stack.extend(reversed(node.decorator_list))
            stack.extend(d for d in reversed(node.args.defaults))
            stack.extend(d for d in reversed(node.args.kw_defaults) if d is not None)
            continue
        if isinstance(node, ast.ClassDef):
            stack.extend(reversed(node.decorator_list))
            stack.extend(reversed(node.bases))
            stack.extend(k.value for k in reversed(node.keywords))
            continue
        if isinstance(node, ast.Lambda):
            continue
        if isinstance(node, ast.comprehension):
            stack.extend(reversed(node.ifs))
            stack.append(node.iter)
            continue
        active = active or _may_produce_an_event(node)
        children = list(ast.iter_child_nodes(node))
        stack.extend(reversed(children))
    return Body(nodes, statements, active)


def _may_produce_an_event(node: ast.AST) -> bool:
    if isinstance(node, (ast.Call, ast.Delete, ast.AugAssign)):
        return True
    return isinstance(node, (ast.Subscript, ast.Attribute)) and isinstance(node.ctx, (ast.Store, ast.Del))


def local_names(body: Body) -> set[str]:
    """Names the scope binds itself (Python makes them local to the whole function)."""
    found: set[str] = set()
    declared_global: set[str] = set()
    for node in body.nodes:
        if isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
            found.add(node.id)
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
