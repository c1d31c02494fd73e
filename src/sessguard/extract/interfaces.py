"""Session classes and interfaces that issue a new id: the flags a method sets on
`self` to ask for one later, and the flags `save_session` tests before it makes one."""

from __future__ import annotations

import ast

from sessguard.extract.facts import Param
from sessguard.extract.names import dotted
from sessguard.extract.walk import Body

ID_ATTRIBUTES = frozenset({"sid", "session_id", "session_key", "id", "key"})
ID_MAKERS = ("sid", "generate", "uuid", "token")


def flags_set(walked: Body, params: tuple[Param, ...]) -> tuple[str, ...]:
    """`self.<flag> = True` in a method: a request to act on the flag later."""
    if not params:
        return ()
    me = params[0].name
    found = []
    for stmt in walked.statements:
        if isinstance(stmt, ast.Assign) and isinstance(stmt.value, ast.Constant) and stmt.value.value is True:
            for target in stmt.targets:
                if (
                    isinstance(target, ast.Attribute)
                    and isinstance(target.value, ast.Name)
                    and target.value.id == me
                ):
                    found.append(target.attr)
    return tuple(sorted(set(found)))


def rotates_on(walked: Body, params: tuple[Param, ...]) -> tuple[str, ...]:
    """Flags `if session.<flag>:` tests before giving the session a new id (an assignment
    to its `sid`, or a call that makes one) in a session interface's method."""
    names = {p.name for p in params}
    found = []
    for stmt in walked.statements:
        if not isinstance(stmt, ast.If):
            continue
        test = stmt.test
        if not (
            isinstance(test, ast.Attribute) and isinstance(test.value, ast.Name) and test.value.id in names
        ):
            continue
        for inner in (n for s in stmt.body for n in ast.walk(s)):
            if isinstance(inner, ast.Assign) and any(
                isinstance(t, ast.Attribute) and t.attr in ID_ATTRIBUTES for t in inner.targets
            ):
                found.append(test.attr)
                break
            if isinstance(inner, ast.Call):
                callee = dotted(inner.func) or []
                if callee and any(word in callee[-1].lower() for word in ID_MAKERS):
                    found.append(test.attr)
                    break
    return tuple(sorted(set(found)))
