"""What the graph builder of `cfg` works with: dangling edges, the frames of the
statements it is inside (a loop, a `try`'s landing, a `finally` to run on the way out),
the finished graph, and what a statement's own text says about its paths (can it raise,
is its test constant, does a pattern always match).

Kept apart from `cfg` so that the builder reads as the statements it handles.
"""

from __future__ import annotations

import ast

from msgspec import Struct, field

from sessguard.extract.facts import Edge, Event, Node

CATCH_ALL = frozenset({"Exception", "BaseException"})
SUPPRESSORS = frozenset({"contextlib.suppress"})
# statements that evaluate nothing themselves (a `try`'s body is decided statement by
# statement)
CANNOT_FAIL = (ast.Pass, ast.Break, ast.Continue, ast.Try, ast.Global, ast.Nonlocal)


class Pending(Struct):
    """A dangling edge: from `node`, taken with `label`, to whatever comes next."""

    node: int
    label: str = ""
    line: int = 0
    guard: tuple[str, str, str] | None = None


Frontier = list[Pending]


class Loop(Struct):
    head: int
    breaks: Frontier = field(default_factory=list)


class Catch(Struct):
    """Exceptions raised inside the protected body land on `landing`; a `raise` statement
    that none of the handlers is sure to catch also goes on outward."""

    landing: int
    catches_all: bool = False
    handles: bool = True  # False for `try`/`finally`: its landing only leads out again


class Finally(Struct):
    body: list[ast.stmt]


Frame = Loop | Catch | Finally


class Graph(Struct, frozen=True):
    nodes: tuple[Node, ...]
    successors: tuple[tuple[Edge, ...], ...]
    events: tuple[Event, ...]
    guarded: frozenset[str] = frozenset()


def may_fail(stmt: ast.stmt) -> bool:
    """Whether running the statement's own code can raise (a loop's or a `try`'s body is
    decided statement by statement)."""
    if isinstance(stmt, (ast.While, ast.If)):
        return constant_truth(stmt.test) is None
    if isinstance(stmt, (ast.Return, ast.Expr)):
        return stmt.value is not None and not isinstance(stmt.value, ast.Constant)
    return not isinstance(stmt, CANNOT_FAIL) and type(stmt).__name__ != "TryStar"


def constant_truth(node: ast.expr) -> bool | None:
    if isinstance(node, ast.Constant):
        return bool(node.value)
    return None


def always_matches(pattern: ast.pattern) -> bool:
    if isinstance(pattern, ast.MatchAs):
        return pattern.pattern is None or always_matches(pattern.pattern)
    if isinstance(pattern, ast.MatchOr):
        return any(always_matches(p) for p in pattern.patterns)
    return False
