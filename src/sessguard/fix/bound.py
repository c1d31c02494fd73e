"""Whether the statements a fix inserts can run where they go: every name they use is
bound there, and every name they bind is new, so nothing of the app's is overwritten.
Shared by the text edits (`edits`) and the tree rewrite (`cst`), which must agree.
"""

from __future__ import annotations

import ast
import builtins
from collections.abc import Sequence

from sessguard.fix.errors import Refused
from sessguard.model import FixPlan, Placement


def check_bound(tree: ast.Module, plan: FixPlan, imports: Sequence[tuple[str, str]]) -> None:
    """Every name the new statements use must mean something where they go: a parameter,
    a name assigned earlier in the function, one bound in the module, or one they bind
    themselves; and a name they bind must be new to the function, so that nothing of the
    app's is overwritten."""
    anchor = plan.anchor
    assert anchor is not None
    if plan.placement is Placement.FACTORY:
        pieces = [(plan.prelude, anchor.line), (plan.postlude, anchor.end_line + 1)]
    else:
        pieces = [(plan.code, anchor.line)]
    introduced: set[str] = set()
    for code, line in pieces:
        if not code:
            continue
        snippet = ast.parse(code)
        binds = {
            t.id
            for stmt in snippet.body
            if isinstance(stmt, ast.Assign)
            for t in stmt.targets
            if isinstance(t, ast.Name)
        }
        local = {n.id for n in ast.walk(snippet) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
        for name in sorted(binds - introduced):
            _check_new(tree, line, name)
        introduced |= binds
        used = {n.id for n in ast.walk(snippet) if isinstance(n, ast.Name)} - local - introduced
        for name in sorted(used):
            if name not in plan.provided:
                _check_name(tree, line, name, imports)


def _check_new(tree: ast.Module, line: int, name: str) -> None:
    function = _enclosing(tree, line)
    scope: ast.AST = function if function is not None else tree
    if name in dir(builtins) or any(isinstance(n, ast.Name) and n.id == name for n in ast.walk(scope)):
        raise Refused(f"`{name}` already means something here; the fix would overwrite it")
    if name in _bound_names(tree.body, None):
        raise Refused(f"`{name}` already means something here; the fix would overwrite it")


def _check_name(tree: ast.Module, line: int, name: str, imports: Sequence[tuple[str, str]]) -> None:
    if name in dir(builtins):
        raise Refused(f"`{name}` would be a builtin here")
    module_names = _bound_names(tree.body, None)
    module_names |= {n or m.split(".")[0] for m, n in imports}
    function = _enclosing(tree, line)
    if function is None:
        if name not in module_names:
            raise Refused(f"`{name}` is not defined where the fix would go")
        return
    arguments = function.args
    params = {a.arg for a in [*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs]}
    params |= {a.arg for a in (arguments.vararg, arguments.kwarg) if a is not None}
    local = _bound_names(function.body, line)
    assigned_anywhere = _bound_names(function.body, None)
    if name in params or name in local:
        return
    if name in assigned_anywhere:
        raise Refused(f"`{name}` is assigned only later in the function")
    if name not in module_names:
        raise Refused(f"`{name}` is not defined where the fix would go")


def _enclosing(tree: ast.Module, line: int) -> ast.FunctionDef | ast.AsyncFunctionDef | None:
    found = None
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            end = node.end_lineno or node.lineno
            if node.lineno <= line <= end and (found is None or node.lineno >= found.lineno):
                found = node
    return found


def _bound_names(body: Sequence[ast.stmt], before_line: int | None) -> set[str]:
    """Names a block binds (assignments, imports, definitions, loop and with targets),
    only before `before_line` when given; nested functions and classes are not entered."""
    names: set[str] = set()
    work: list[ast.AST] = list(body)
    while work:
        node = work.pop()
        if before_line is not None and getattr(node, "lineno", 0) >= before_line:
            continue
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
            continue
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update((a.asname or a.name).split(".")[0] for a in node.names)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        work.extend(ast.iter_child_nodes(node))
    return names
