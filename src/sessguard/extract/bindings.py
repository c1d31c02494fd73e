"""What a scope's names stand for: local aliases of a session, a request or an instance;
module-level session objects; what `__init__` binds on `self`; literal defaults; and what
a function returns on every path (SPEC §3)."""

from __future__ import annotations

import ast

from sessguard.extract.facts import Event, Key, Ref, RefKind
from sessguard.extract.names import assigned_names, string_value
from sessguard.extract.refs import ClassContext, FunctionScope, call_arguments
from sessguard.extract.values import from_provider
from sessguard.extract.walk import Body

FunctionNode = ast.FunctionDef | ast.AsyncFunctionDef


# the nodes `prepare_aliases` looks at
_BINDING_NODES = frozenset(
    {ast.Assign, ast.AnnAssign, ast.NamedExpr, ast.For, ast.AsyncFor, ast.With, ast.AsyncWith}
)


def prepare_aliases(body: Body, scope: FunctionScope) -> None:
    """Local names that stand for a session, a request or an instance (flow-insensitive).

    A name is an alias only when every assignment to it gives the same kind of value;
    any other binding of it (a loop variable, an `except` name) makes it a plain local.
    """
    assignments: dict[str, list[ast.expr | None]] = {}
    for node in body.nodes:
        if node.__class__ not in _BINDING_NODES:
            continue
        if isinstance(node, ast.Assign):
            for target in node.targets:
                plain = isinstance(target, ast.Name)
                for name in assigned_names(target):
                    assignments.setdefault(name, []).append(node.value if plain else None)
        elif isinstance(node, (ast.AnnAssign, ast.NamedExpr)) and isinstance(node.target, ast.Name):
            assignments.setdefault(node.target.id, []).append(node.value)
        elif isinstance(node, (ast.For, ast.AsyncFor)):
            for name in assigned_names(node.target):
                assignments.setdefault(name, []).append(None)
        elif isinstance(node, (ast.With, ast.AsyncWith)):
            for item in node.items:
                if item.optional_vars is not None:
                    for name in assigned_names(item.optional_vars):
                        assignments.setdefault(name, []).append(None)
    for _ in range(2):  # twice, so that `s = request.session; t = s` settles
        for name, values in assignments.items():
            if name in scope.params and name != scope.self_name:
                continue
            refs: list[Ref | None] = [scope.ref_of(v) if v is not None else None for v in values]
            first = refs[0]
            if first is not None and all(r == first for r in refs):
                scope.aliases[name] = first
            else:
                scope.aliases.pop(name, None)
            classes = {instance_of(v, scope) for v in values}
            if len(classes) == 1 and None not in classes:
                scope.instances[name] = classes.pop()  # type: ignore[assignment]
                built = values[0]
                built = built.value if isinstance(built, ast.Await) else built
                if len(values) == 1 and isinstance(built, ast.Call):
                    scope.instance_args[name] = tuple(call_arguments(scope, built))
            if len(values) == 1 and string_value(values[0]) is not None and name not in scope.params:
                scope.local_constants[name] = string_value(values[0])  # type: ignore[assignment]
            if any(v is not None and from_provider(scope, v) for v in values):
                scope.tainted.add(name)


def module_session_globals(body: Body, scope: FunctionScope) -> None:
    """Module-level names every assignment of which is a session object."""
    values: dict[str, list[ast.expr | None]] = {}
    for stmt in body.statements:
        if isinstance(stmt, (ast.Assign, ast.AnnAssign)):
            targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
            for target in targets:
                plain = isinstance(target, ast.Name)
                for name in assigned_names(target):
                    values.setdefault(name, []).append(stmt.value if plain else None)
    module = scope.module
    for name, assigned in values.items():
        refs = [scope.ref_of(v) if v is not None else None for v in assigned]
        frameworks = {r.framework for r in refs if r is not None and r.kind is RefKind.SESSION}
        if len(frameworks) == 1 and all(r is not None and r.kind is RefKind.SESSION for r in refs):
            framework = frameworks.pop()
            if framework:
                module.session_globals[name] = framework


def init_attributes(method: FunctionNode, walked: Body, ctx: ClassContext) -> None:
    """What `__init__` binds: `self.X = "literal"`, `self.X = param` (a session it stores,
    or a key with the parameter's literal default)."""
    defaults = literal_defaults(method)
    params = {a.arg for a in [*method.args.posonlyargs, *method.args.args, *method.args.kwonlyargs]}
    self_name = method.args.args[0].arg if method.args.args else "self"
    for stmt in walked.statements:
        if not isinstance(stmt, ast.Assign) or len(stmt.targets) != 1:
            continue
        target = stmt.targets[0]
        if not (isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name)):
            continue
        if target.value.id != self_name:
            continue
        literal = string_value(stmt.value)
        if literal is not None:
            ctx.constants.setdefault(target.attr, literal)
        elif isinstance(stmt.value, ast.Name) and stmt.value.id in params:
            ctx.init_params.setdefault(target.attr, stmt.value.id)
            default = defaults.get(stmt.value.id)
            if default is not None and isinstance(ast.literal_eval(default), str):
                ctx.constants.setdefault(target.attr, ast.literal_eval(default))


def literal_defaults(node: FunctionNode) -> dict[str, str]:
    """Parameters with a literal default -> repr of the default."""
    args = node.args
    positional = [*args.posonlyargs, *args.args]
    found: dict[str, str] = {}
    for arg, default in zip(positional[len(positional) - len(args.defaults) :], args.defaults, strict=True):
        if isinstance(default, ast.Constant):
            found[arg.arg] = repr(default.value)
    for arg, kw_default in zip(args.kwonlyargs, args.kw_defaults, strict=True):
        if isinstance(kw_default, ast.Constant):
            found[arg.arg] = repr(kw_default.value)
    return found


def returned_ref(body: list[ast.stmt], walked: Body, scope: FunctionScope) -> Ref | None:
    """The session or request every `return` gives back, when the body cannot fall off its
    end (SPEC §3: a helper that returns the session is the session at its call sites)."""
    if not body or not isinstance(body[-1], (ast.Return, ast.Raise)):
        return None
    refs = [
        scope.ref_of(node.value) if node.value is not None else None
        for node in walked.nodes
        if isinstance(node, ast.Return)
    ]
    first = refs[0] if refs else None
    if first is None or first.kind not in (RefKind.SESSION, RefKind.REQUEST) or any(r != first for r in refs):
        return None
    return first


def key_params(events: tuple[Event, ...]) -> set[str]:
    """The parameters a key of the events is built from (they decide which key is written)."""

    def params(key: Key) -> set[str]:
        return {key.param} if key.param else {p for part in key.parts for p in params(part)}

    return {name for event in events for key in event.keys for name in params(key)}


def instance_of(value: ast.expr | None, scope: FunctionScope) -> str | None:
    """The class a value is an instance of, when the code builds it in place."""
    if isinstance(value, ast.Await):
        value = value.value
    if isinstance(value, ast.Call) and not isinstance(value.func, ast.Call):
        return scope.resolve_qual(value.func)
    return None
