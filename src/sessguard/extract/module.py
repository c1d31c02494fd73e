"""One parsed file to its `ModuleFacts`: functions as event graphs, classes, store evidence.

This is the per-file map step: it needs nothing but the file and its module name, so it
can run in any process and its result can be cached by content hash.
"""

from __future__ import annotations

import ast
import functools
from pathlib import PurePosixPath

from sessguard.extract.bindings import (
    init_attributes,
    key_params,
    literal_defaults,
    module_session_globals,
    prepare_aliases,
    returned_ref,
)
from sessguard.extract.comments import suppression_comments
from sessguard.extract.compound import GraphBuilder
from sessguard.extract.evidence import EvidenceCollector
from sessguard.extract.facts import (
    ClassFacts,
    Evidence,
    ExtractOptions,
    FunctionFacts,
    ModuleFacts,
    Param,
)
from sessguard.extract.interfaces import flags_set, rotates_on
from sessguard.extract.lazy import Selection, select
from sessguard.extract.names import (
    ModuleScope,
    add_bindings,
    add_environment,
    import_bindings,
    string_value,
)
from sessguard.extract.refs import ClassContext, FunctionScope
from sessguard.extract.signature import annotation, decorations, decorator_callee, parameters
from sessguard.extract.values import credential_check, find_principals
from sessguard.extract.walk import Body, Deadline, definitions_in, local_names, own_nodes
from sessguard.frameworks import KNOWLEDGE, Knowledge
from sessguard.frameworks.base import Environment
from sessguard.model import Span
from sessguard.needles import Needles, first_needles
from sessguard.source import Source

FunctionNode = ast.FunctionDef | ast.AsyncFunctionDef
PROPERTY_DECORATORS = frozenset({"property", "functools.cached_property", "cached_property"})


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


class _Extractor(EvidenceCollector):
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
        module_session_globals(body, module_scope)
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
                annotated = annotation(stmt.annotation, resolver)
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
                    init_attributes(method, walked, ctx)
                decorators = {resolver.resolve_qual(decorator_callee(d)) or "" for d in method.decorator_list}
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
                    found = annotation(stmt.annotation, resolver)
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
        params = parameters(node, resolver)
        decorators = [resolver.resolve_qual(decorator_callee(d)) or "" for d in node.decorator_list]
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
            prepare_aliases(body, fscope)
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
            decorations=decorations(node.decorator_list, resolver, self.knowledge),
            walked=body,
            defaults=literal_defaults(node),
        )
        self.definitions(node.body, qualname, None, fscope, fscope)

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
        returns = returned_ref(body, walked, fscope)
        if not walked.active and returns is None:
            # no call and no store into an object: nothing here can be an event, so the
            # function is neutral wherever it is called (its class still lists it)
            return
        graph = GraphBuilder(fscope, self.source, self.deadline).build(body)
        entry, routes, receives = decorations
        line = node.lineno if node is not None else 1
        span = Span(line, (node.col_offset + 1) if node is not None else 1, line, 1)
        literal_params = sorted((graph.guarded | key_params(graph.events)) & {p.name for p in params})
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
                flags_set=flags_set(walked, params),
                rotates_on=rotates_on(walked, params),
            )
        )
