"""What a function's signature and decorators say: its parameters with the classes their
annotations name, and whether it handles requests (on which routes) or receives signals."""

from __future__ import annotations

import ast

from sessguard.extract.evidence import CONNECT_METHODS, strip_last
from sessguard.extract.facts import Param
from sessguard.extract.names import dotted, string_value
from sessguard.extract.refs import FunctionScope
from sessguard.frameworks import ENTRY_DECORATOR_ATTRIBUTES, Knowledge

FunctionNode = ast.FunctionDef | ast.AsyncFunctionDef
RECEIVER_DECORATORS = frozenset({"django.dispatch.receiver", "django.dispatch.dispatcher.receiver"})


def parameters(node: FunctionNode, resolver: FunctionScope) -> list[Param]:
    """Every parameter in order, with the class its annotation names (if any)."""
    args = node.args
    every = [*args.posonlyargs, *args.args]
    if args.vararg:
        every.append(args.vararg)
    every.extend(args.kwonlyargs)
    if args.kwarg:
        every.append(args.kwarg)
    return [Param(a.arg, annotation(a.annotation, resolver)) for a in every]


def annotation(node: ast.expr | None, resolver: FunctionScope) -> str | None:
    """The class an annotation names: through a string, `Optional[...]`, `Annotated[...]`
    and `X | None`."""
    if node is None:
        return None
    literal = string_value(node)
    if literal is not None:
        try:
            parsed = ast.parse(literal, mode="eval").body
        except SyntaxError:
            return None
        node = parsed
    if isinstance(node, ast.Subscript):  # Optional[Request], Annotated[Request, ...]
        inner = node.slice
        node = inner.elts[0] if isinstance(inner, ast.Tuple) and inner.elts else inner
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):  # Request | None
        node = node.left
    return resolver.resolve_qual(node)


def decorations(
    decorators: list[ast.expr], resolver: FunctionScope, knowledge: Knowledge
) -> tuple[bool, tuple[str, ...], tuple[str, ...]]:
    """Is the function a request handler (and on which routes), a signal receiver?"""
    entry = False
    routes: list[str] = []
    receives: list[str] = []
    for decorator in decorators:
        callee = decorator_callee(decorator)
        names = dotted(callee) or []
        qual = resolver.resolve_qual(callee) or ""
        if names and names[-1] in ENTRY_DECORATOR_ATTRIBUTES:
            entry = True
            if isinstance(decorator, ast.Call):
                routes.extend(s for s in (string_value(a) for a in decorator.args) if s)
        if names and names[-1] in CONNECT_METHODS and len(names) > 1:
            signal = resolver.resolve_qual(strip_last(callee))
            if signal and signal in knowledge.signals:
                receives.append(signal)
        if qual in RECEIVER_DECORATORS and isinstance(decorator, ast.Call) and decorator.args:
            first = decorator.args[0]
            for item in first.elts if isinstance(first, (ast.List, ast.Tuple)) else [first]:
                signal = resolver.resolve_qual(item)
                if signal and signal in knowledge.signals:
                    receives.append(signal)
    return entry, tuple(routes), tuple(receives)


def decorator_callee(decorator: ast.expr) -> ast.expr:
    """What a decorator calls: `app.route` of `@app.route("/")`."""
    return decorator.func if isinstance(decorator, ast.Call) else decorator
