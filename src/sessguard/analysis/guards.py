"""Branches a call site's literal arguments rule out (SPEC §7, literal arguments).

`set_password(user, pw, sign_in=False)` never reaches the callee's `if sign_in:` branch:
under a context that binds a parameter to a literal, the edges whose guard that value
fails are dropped from the callee's graph. Without such a binding (a root, an argument
that is not a literal) every branch stays.
"""

from __future__ import annotations

import ast

from msgspec.structs import replace

from sessguard.analysis.project import Context
from sessguard.extract.facts import FunctionFacts

Guard = tuple[str, str, str]


def feasible(function: FunctionFacts, context: Context) -> FunctionFacts:
    """The function's graph without the edges that the context's literals rule out."""
    values = {b.param: b.literal for b in context if b.literal is not None}
    if not values or not any(edge.guard for edges in function.successors for edge in edges):
        return function
    successors = tuple(
        tuple(edge for edge in edges if edge.guard is None or _holds(edge.guard, values) is not False)
        for edges in function.successors
    )
    return replace(function, successors=successors)


def _holds(guard: Guard, values: dict[str, str]) -> bool | None:
    param, test, expected = guard
    if param not in values:
        return None
    try:
        value = ast.literal_eval(values[param])
        other = ast.literal_eval(expected) if expected else None
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return None
    if test == "truthy":
        return bool(value)
    if test == "falsy":
        return not value
    if test in ("is", "is not"):
        same = value is other or (
            type(value) is type(other) and value == other and other in (True, False, None)
        )
        return same if test == "is" else not same
    if test == "==":
        return bool(value == other)
    if test == "!=":
        return bool(value != other)
    return None
