"""One parsed file to its `ModuleFacts`: functions as event graphs, classes, store evidence.

This is the per-file map step: it needs nothing but the file and its module name, so it
can run in any process and its result can be cached by content hash.
"""

from __future__ import annotations

import ast
import functools
import io
import tokenize
from pathlib import PurePosixPath

from sessguard.extract.cfg import GraphBuilder
from sessguard.extract.facts import (
    ClassFacts,
    Event,
    Evidence,
    ExtractOptions,
    FunctionFacts,
    Key,
    ModuleFacts,
    Param,
    Ref,
    RefKind,
)
from sessguard.extract.lazy import Selection, select
from sessguard.extract.names import (
    ModuleScope,
    add_bindings,
    add_environment,
    assigned_names,
    dotted,
    import_bindings,
    string_value,
)
from sessguard.extract.refs import ClassContext, FunctionScope, call_arguments
from sessguard.extract.values import credential_check, find_principals, from_provider
from sessguard.extract.walk import Body, Deadline, definitions_in, local_names, own_nodes
from sessguard.frameworks import ENTRY_DECORATOR_ATTRIBUTES, KNOWLEDGE, Knowledge
from sessguard.frameworks.base import Environment
from sessguard.model import Span
from sessguard.needles import Needles, first_needles
from sessguard.source import Source

FunctionNode = ast.FunctionDef | ast.AsyncFunctionDef
CONNECT_METHODS = frozenset({"connect", "connect_via"})
PROPERTY_DECORATORS = frozenset({"property", "functools.cached_property", "cached_property"})
RECEIVER_DECORATORS = frozenset({"django.dispatch.receiver", "django.dispatch.dispatcher.receiver"})


def extract_module(
    source: Source,
    module: str,
    is_package: bool,
    knowledge: Knowledge = KNOWLEDGE,
    deadline: float | None = None,
    options: ExtractOptions | None = None,
    force: frozenset[str] = frozenset(),
) -> ModuleFacts:
    """`options.project`: the top-level packages of the scanned tree (None: unknown). A call
    into any other package that neither the knowledge tables nor the configuration name
    cannot matter, so it is not recorded; most functions then have nothing to analyse."""
    environment = _environment(source.path, knowledge)
    names, instances = (
        (dict(environment[1].names), dict(environment[1].instances)) if environment else ({}, {})
    )
    scope = ModuleScope(module, is_package, late_binding=source.tree is None)
    extractor = _Extractor(
        source, scope, frozenset(), knowledge, Deadline(deadline), options or ExtractOptions()
    )
    options = options or ExtractOptions()
    for index, tree in enumerate(source.parts()):
        add_bindings(scope, tree.body)
        add_environment(scope, names, instances)
        if options.lazy:
            needles = phase_one(options)
            extractor.select(select(tree, source.lines, module, needles, _words(scope, needles), force))
        extractor.module_body(tree, index, {environment[0]} if environment else set())
        del tree
    packages = frozenset(extractor.packages)
    lines = sorted(
        {(e.stmt.line, _shortened(source.line(e.stmt.line))) for f in extractor.functions for e in f.events}
    )
    return ModuleFacts(
        path=source.path,
        module=module,
        is_package=is_package,
        imports=tuple(sorted(scope.imported.items())),
        star_imports=tuple(scope.star_imports),
        definitions=tuple(sorted(scope.definitions.items())),
        constants=tuple(sorted(scope.constants.items())),
        instances=tuple(sorted(scope.instances.items())),
        classes=tuple(extractor.classes),
        functions=tuple(extractor.functions),
        packages=packages,
        evidence=tuple(extractor.evidence),
        connections=tuple(extractor.connections),
        lines=tuple(lines),
        session_globals=tuple(sorted(scope.session_globals.items())),
        environment=environment[0] if environment else None,
        comments=suppression_comments(source.text),
        skipped=tuple(extractor.skipped),
    )


@functools.cache
def phase_one(options: ExtractOptions) -> Needles:
    return first_needles(options.needle_names)


def _words(scope: ModuleScope, needles: Needles) -> frozenset[str]:
    """Module-level names bound to something a needle finds: a function that writes only
    the alias (`from flask import session as s`, `KEY = "beaker.session"`) can matter."""
    found = set(scope.session_globals)
    for table in (scope.imported, scope.constants, scope.instances):
        # one search of all the values first (whatever a needle finds in one value it finds
        # in them all): most modules have none that a needle finds
        if table and needles.match("\n".join(table.values()).encode("utf-8", "replace")):
            found.update(
                name for name, value in table.items() if needles.match(value.encode("utf-8", "replace"))
            )
    return frozenset(found)


def suppression_comments(text: str) -> tuple[tuple[int, str], ...]:
    """Comments that mention sessguard or nosec, found by the tokenizer (never in strings).
    The tokenizer runs only when a mention has a `#` before it on its line: a comment
    never spans lines, so any other mention is in code or a string."""
    if not any(_after_hash(text, word) for word in ("sessguard", "nosec")):
        return ()
    found: list[tuple[int, str]] = []
    try:
        for token in tokenize.generate_tokens(io.StringIO(text).readline):
            if token.type == tokenize.COMMENT and ("sessguard" in token.string or "nosec" in token.string):
                found.append((token.start[0], token.string))
    except (tokenize.TokenError, SyntaxError, ValueError):
        return tuple(found)
    return tuple(found)


def _after_hash(text: str, word: str) -> bool:
    """Whether some mention of `word` follows a `#` on its own line."""
    at = text.find(word)
    while at >= 0:
        if text.rfind("#", text.rfind("\n", 0, at) + 1, at) >= 0:
            return True
        at = text.find(word, at + 1)
    return False


MAX_LINE = 200


def _shortened(line: str) -> str:
    """A source line for display, never the whole of a 5 MB one."""
    return line if len(line) <= MAX_LINE else line[: MAX_LINE - 1] + "…"


def _environment(path: str, knowledge: Knowledge) -> tuple[str, Environment] | None:
    """The framework environment a file runs in, by the directory it sits in."""
    parents = set(PurePosixPath(path).parts[:-1])
    for name, environment in knowledge.environments:
        if parents & environment.dirs:
            return name, environment
    return None


class _Extractor:
    def __init__(
        self,
        source: Source,
        scope: ModuleScope,
        frameworks: frozenset[str],
        knowledge: Knowledge,
        deadline: Deadline,
        options: ExtractOptions,
    ) -> None:
        self.source = source
        self.deadline = deadline
        self.options = options
        self.packages: set[str] = set()
        self.bodies: dict[int, Body] = {}  # method bodies walked ahead by their class
        self.scope = scope
        self.frameworks = frameworks
        self.knowledge = knowledge
        self.functions: list[FunctionFacts] = []
        self.classes: list[ClassFacts] = []
        self.evidence: list[Evidence] = []
        self.connections: list[tuple[str, str]] = []
        self.class_contexts: dict[str, ClassContext] = {}
        self.wanted: set[int] | None = None  # with lazy facts: the function nodes to extract
        self.skipped: list[tuple[str, tuple[str, ...]]] = []
        self.bare: set[int] = set()

    def select(self, selection: Selection) -> None:
        self.wanted = (self.wanted or set()) | selection.wanted
        self.skipped.extend(selection.skipped)
        self.bare |= selection.bare

    def wants(self, node: FunctionNode) -> bool:
        return self.wanted is None or id(node) in self.wanted

    # -- scopes ------------------------------------------------------------------------

    def module_body(self, tree: ast.Module, part: int = 0, environment: set[str] | None = None) -> None:
        """A module's top-level code and definitions (or those of one part of it)."""
        name = "<module>" if part == 0 else f"<module:{tree.body[0].lineno if tree.body else part}>"
        body = own_nodes(tree.body, self.deadline)
        self.packages |= body.packages
        self.frameworks = self.knowledge.frameworks_of_packages(self.packages) | (environment or set())
        module_scope = FunctionScope(
            module=self.scope,
            qualname=self.scope.qualify(name),
            params={},
            self_name=None,
            class_ctx=None,
            locals=set(),
            frameworks=self.frameworks,
            knowledge=self.knowledge,
            options=self.options,
        )
        _module_session_globals(body, module_scope)
        self.collect_evidence(body, module_scope, module_level=True)
        self.add_function(
            name=name,
            qualname=module_scope.qualname,
            node=None,
            body=tree.body,
            fscope=module_scope,
            walked=body,
        )
        self.definitions(tree.body, self.scope.module, None, None, module_scope)

    def definitions(
        self,
        body: list[ast.stmt],
        prefix: str,
        class_ctx: ClassContext | None,
        enclosing: FunctionScope | None,
        resolver: FunctionScope,
    ) -> None:
        for stmt in definitions_in(body):
            qualname = f"{prefix}.{stmt.name}" if prefix else stmt.name
            if isinstance(stmt, ast.ClassDef):
                self.class_def(stmt, qualname, enclosing, resolver)
            else:
                self.function_def(stmt, qualname, class_ctx, enclosing, resolver)

    def class_def(
        self, node: ast.ClassDef, qualname: str, enclosing: FunctionScope | None, resolver: FunctionScope
    ) -> None:
        bases = tuple(b for b in (resolver.resolve_qual(base) for base in node.bases) if b)
        ctx = ClassContext(qualname)
        self.class_contexts[qualname] = ctx
        for stmt in node.body:
            if isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name):
                annotated = self.annotation(stmt.annotation, resolver)
                if annotated:
                    ctx.attribute_types[stmt.target.id] = annotated
            elif (
                isinstance(stmt, ast.Assign)
                and len(stmt.targets) == 1
                and isinstance(stmt.targets[0], ast.Name)
            ):
                name = stmt.targets[0].id
                literal = string_value(stmt.value)
                if literal is not None:
                    ctx.constants[name] = literal
                elif isinstance(stmt.value, (ast.Name, ast.Attribute)):
                    named = resolver.resolve_qual(stmt.value)
                    if named:
                        ctx.attribute_types.setdefault(name, named)  # `session_class = RotatingSession`
        for method in node.body:
            if isinstance(method, (ast.FunctionDef, ast.AsyncFunctionDef)) and self.wants(method):
                walked = own_nodes(method.body, self.deadline)
                self.bodies[id(method)] = walked
                for inner in walked.nodes:
                    if isinstance(inner, (ast.Assign, ast.AnnAssign)):
                        self.self_attribute_type(inner, ctx, resolver)
                if method.name == "__init__":
                    _init_attributes(method, walked, ctx)
                decorators = {
                    resolver.resolve_qual(_decorator_callee(d)) or "" for d in method.decorator_list
                }
                if decorators & PROPERTY_DECORATORS or any(
                    d.endswith(".cached_property") for d in decorators
                ):
                    ctx.properties.add(method.name)
        if id(node) not in self.bare:
            class_body = own_nodes(node.body, self.deadline)
            self.packages |= class_body.packages
            self.collect_evidence(class_body, resolver, module_level=True)
        methods = tuple(
            (s.name, f"{qualname}.{s.name}")
            for s in definitions_in(node.body)
            if not isinstance(s, ast.ClassDef)
        )
        self.definitions(node.body, qualname, ctx, enclosing, resolver)
        self.classes.append(
            ClassFacts(
                qualname,
                bases,
                methods,
                tuple(sorted(ctx.attribute_types.items())),
                tuple(sorted(ctx.constants.items())),
                tuple(sorted(ctx.init_params.items())),
            )
        )

    def self_attribute_type(
        self, stmt: ast.Assign | ast.AnnAssign, ctx: ClassContext, resolver: FunctionScope
    ) -> None:
        targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
        for target in targets:
            if (
                isinstance(target, ast.Attribute)
                and isinstance(target.value, ast.Name)
                and target.value.id in ("self", "cls")
            ):
                if isinstance(stmt, ast.AnnAssign):
                    found = self.annotation(stmt.annotation, resolver)
                elif isinstance(stmt.value, ast.Call):
                    found = resolver.resolve_qual(stmt.value.func)
                else:
                    found = None
                if found:
                    ctx.attribute_types.setdefault(target.attr, found)

    def function_def(
        self,
        node: FunctionNode,
        qualname: str,
        class_ctx: ClassContext | None,
        enclosing: FunctionScope | None,
        resolver: FunctionScope,
    ) -> None:
        if not self.wants(node):
            return
        params = self.parameters(node, resolver)
        decorators = [resolver.resolve_qual(_decorator_callee(d)) or "" for d in node.decorator_list]
        static = any(d.endswith("staticmethod") for d in decorators)
        self_name = params[0].name if class_ctx is not None and params and not static else None
        body = self.bodies.pop(id(node), None) or own_nodes(node.body, self.deadline)
        self.packages |= body.packages
        fscope = FunctionScope(
            module=self.scope,
            qualname=qualname,
            params={p.name: p for p in params},
            self_name=self_name,
            class_ctx=class_ctx,
            locals=local_names(body) - {p.name for p in params},
            frameworks=self.frameworks,
            enclosing=enclosing,
            knowledge=self.knowledge,
            options=self.options,
        )
        fscope.reassigned = local_names(body) & set(fscope.params)
        self.local_bindings(body, fscope, qualname)
        if body.active:
            _prepare_aliases(body, fscope)
            find_principals(fscope, body.nodes)
        self.collect_evidence(body, fscope, module_level=False)
        self.add_function(
            name=node.name,
            qualname=qualname,
            node=node,
            body=node.body,
            fscope=fscope,
            params=tuple(params),
            bound=self_name is not None,
            class_qualname=class_ctx.qualname if class_ctx else None,
            decorations=self.decorations(node.decorator_list, resolver),
            walked=body,
            defaults=_literal_defaults(node),
        )
        self.definitions(node.body, qualname, None, fscope, fscope)

    def parameters(self, node: FunctionNode, resolver: FunctionScope) -> list[Param]:
        args = node.args
        every = [*args.posonlyargs, *args.args]
        if args.vararg:
            every.append(args.vararg)
        every.extend(args.kwonlyargs)
        if args.kwarg:
            every.append(args.kwarg)
        return [Param(a.arg, self.annotation(a.annotation, resolver)) for a in every]

    def annotation(self, node: ast.expr | None, resolver: FunctionScope) -> str | None:
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

    def local_bindings(self, body: Body, fscope: FunctionScope, qualname: str) -> None:
        for stmt in body.statements:
            if isinstance(stmt, (ast.Import, ast.ImportFrom)):
                for name, target in import_bindings(stmt, self.scope.module, self.scope.is_package):
                    fscope.local_bindings[name] = target
            elif isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                fscope.local_bindings[stmt.name] = f"{qualname}.{stmt.name}"

    def add_function(
        self,
        *,
        name: str,
        qualname: str,
        node: FunctionNode | None,
        body: list[ast.stmt],
        fscope: FunctionScope,
        params: tuple[Param, ...] = (),
        bound: bool = False,
        class_qualname: str | None = None,
        decorations: tuple[bool, tuple[str, ...], tuple[str, ...]] = (False, (), ()),
        walked: Body | None = None,
        defaults: dict[str, str] | None = None,
    ) -> None:
        walked = walked or own_nodes(body, self.deadline)
        returns = _returned_ref(body, walked, fscope)
        if not walked.active and returns is None:
            # no call and no store into an object: nothing here can be an event, so the
            # function is neutral wherever it is called (its class still lists it)
            return
        graph = GraphBuilder(fscope, self.source, self.deadline).build(body)
        entry, routes, receives = decorations
        line = node.lineno if node is not None else 1
        span = Span(line, (node.col_offset + 1) if node is not None else 1, line, 1)
        literal_params = sorted((graph.guarded | _key_params(graph.events)) & {p.name for p in params})
        self.functions.append(
            FunctionFacts(
                qualname=qualname,
                name=name,
                module=self.scope.module,
                span=span,
                class_qualname=class_qualname,
                params=params,
                bound_method=bound,
                entry_point=entry,
                route_paths=routes,
                credential_check=credential_check(walked.nodes),
                nodes=graph.nodes,
                successors=graph.successors,
                events=graph.events,
                receives=receives,
                returns=returns,
                defaults=tuple((p, (defaults or {})[p]) for p in literal_params if p in (defaults or {})),
                literal_params=tuple(literal_params),
                flags_set=_flags_set(walked, params),
                rotates_on=_rotates_on(walked, params),
            )
        )

    def decorations(
        self, decorators: list[ast.expr], resolver: FunctionScope
    ) -> tuple[bool, tuple[str, ...], tuple[str, ...]]:
        """Is the function a request handler (and on which routes), a signal receiver?"""
        entry = False
        routes: list[str] = []
        receives: list[str] = []
        for decorator in decorators:
            callee = _decorator_callee(decorator)
            names = dotted(callee) or []
            qual = resolver.resolve_qual(callee) or ""
            if names and names[-1] in ENTRY_DECORATOR_ATTRIBUTES:
                entry = True
                if isinstance(decorator, ast.Call):
                    routes.extend(s for s in (string_value(a) for a in decorator.args) if s)
            if names and names[-1] in CONNECT_METHODS and len(names) > 1:
                signal = resolver.resolve_qual(_strip_last(callee))
                if signal and signal in self.knowledge.signals:
                    receives.append(signal)
            if qual in RECEIVER_DECORATORS and isinstance(decorator, ast.Call) and decorator.args:
                first = decorator.args[0]
                for item in first.elts if isinstance(first, (ast.List, ast.Tuple)) else [first]:
                    signal = resolver.resolve_qual(item)
                    if signal and signal in self.knowledge.signals:
                        receives.append(signal)
        return entry, tuple(routes), tuple(receives)

    # -- store evidence and signal connections -----------------------------------------

    def collect_evidence(self, body: Body, fscope: FunctionScope, module_level: bool) -> None:
        for node in body.nodes:
            kind = node.__class__
            if kind not in _EVIDENCE_NODES:
                continue  # most nodes: one type test, not a chain of them
            if isinstance(node, ast.Call):
                self.call_evidence(node, fscope)
            elif isinstance(node, ast.Dict):
                for key, value in zip(node.keys, node.values, strict=True):
                    name = string_value(key) if key is not None else None
                    if name in self.knowledge.config_keys:
                        self.config(name, value, node.lineno)
            elif isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value is not None:
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                for target in targets:
                    self.assignment_evidence(target, node.value, fscope, module_level)

    def call_evidence(self, node: ast.Call, fscope: FunctionScope) -> None:
        callee = fscope.resolve_qual(node.func)
        kwargs = tuple((kw.arg, _value_text(kw.value)) for kw in node.keywords if kw.arg)
        if callee and callee in self.knowledge.evidence_names:
            self.evidence.append(Evidence("call", callee, kwargs, node.lineno))
        if node.args:
            first = fscope.resolve_qual(node.args[0])
            if first and first in self.knowledge.evidence_names:
                self.evidence.append(Evidence("middleware", first, kwargs, node.lineno))
        for kw in node.keywords:
            if kw.arg in self.knowledge.config_keys:
                self.config(kw.arg, kw.value, node.lineno)
        names = dotted(node.func)
        if names and names[-1] in CONNECT_METHODS and len(names) > 1 and node.args:
            signal = fscope.resolve_qual(_strip_last(node.func))
            receiver = fscope.resolve_qual(node.args[0])
            if signal is not None and signal in self.knowledge.signals and receiver:
                self.connections.append((signal, receiver))

    def assignment_evidence(
        self, target: ast.expr, value: ast.expr, fscope: FunctionScope, module_level: bool
    ) -> None:
        if isinstance(target, ast.Subscript):
            key = string_value(target.slice)
            if key in self.knowledge.config_keys:
                self.config(key, value, target.lineno)
        elif isinstance(target, ast.Name) and module_level and target.id in self.knowledge.config_keys:
            self.config(target.id, value, target.lineno)
        elif isinstance(target, ast.Attribute):
            if target.attr in self.knowledge.config_keys:
                self.config(target.attr, value, target.lineno)
            elif target.attr == "session_interface":
                self.interface(value, fscope, target.lineno)
        elif isinstance(target, ast.Name) and module_level and target.id == "session_interface":
            # an app class's body: `class PortalFlask(Flask): session_interface = ...` (SPEC §6)
            self.interface(value, fscope, target.lineno)

    def interface(self, value: ast.expr, fscope: FunctionScope, line: int) -> None:
        callee = value.func if isinstance(value, ast.Call) else value
        cls = fscope.resolve_qual(callee) or _value_text(callee)
        self.evidence.append(Evidence("interface", "session_interface", (("value", cls),), line))

    def config(self, key: str, value: ast.expr, line: int) -> None:
        self.evidence.append(Evidence("config", key, (("value", _value_text(value)),), line))


# the nodes `collect_evidence` and `_prepare_aliases` look at
_EVIDENCE_NODES = frozenset({ast.Call, ast.Dict, ast.Assign, ast.AnnAssign})
_BINDING_NODES = frozenset(
    {ast.Assign, ast.AnnAssign, ast.NamedExpr, ast.For, ast.AsyncFor, ast.With, ast.AsyncWith}
)


def _prepare_aliases(body: Body, scope: FunctionScope) -> None:
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
            classes = {_instance_of(v, scope) for v in values}
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


def _module_session_globals(body: Body, scope: FunctionScope) -> None:
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


def _init_attributes(method: FunctionNode, walked: Body, ctx: ClassContext) -> None:
    """What `__init__` binds: `self.X = "literal"`, `self.X = param` (a session it stores,
    or a key with the parameter's literal default)."""
    defaults = _literal_defaults(method)
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


def _literal_defaults(node: FunctionNode) -> dict[str, str]:
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


def _returned_ref(body: list[ast.stmt], walked: Body, scope: FunctionScope) -> Ref | None:
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


ID_ATTRIBUTES = frozenset({"sid", "session_id", "session_key", "id", "key"})
ID_MAKERS = ("sid", "generate", "uuid", "token")


def _flags_set(walked: Body, params: tuple[Param, ...]) -> tuple[str, ...]:
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


def _rotates_on(walked: Body, params: tuple[Param, ...]) -> tuple[str, ...]:
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


def _key_params(events: tuple[Event, ...]) -> set[str]:
    def params(key: Key) -> set[str]:
        return {key.param} if key.param else {p for part in key.parts for p in params(part)}

    return {name for event in events for key in event.keys for name in params(key)}


def _instance_of(value: ast.expr | None, scope: FunctionScope) -> str | None:
    if isinstance(value, ast.Await):
        value = value.value
    if isinstance(value, ast.Call) and not isinstance(value.func, ast.Call):
        return scope.resolve_qual(value.func)
    return None


def _decorator_callee(decorator: ast.expr) -> ast.expr:
    return decorator.func if isinstance(decorator, ast.Call) else decorator


def _strip_last(node: ast.expr) -> ast.expr:
    return node.value if isinstance(node, ast.Attribute) else node


def _value_text(node: ast.expr) -> str | None:
    if isinstance(node, ast.Constant):
        return None if node.value is None else str(node.value)
    names = dotted(node)
    if names:
        return ".".join(names)
    return "<dynamic>"
