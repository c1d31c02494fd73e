"""What an expression denotes (a session, a request, a callee) and the events it produces.

Events come out in Python's evaluation order: a call's receiver and arguments before the
call, an assignment's value before its target. Operands that may not run (the right side
of `and`/`or`, conditional expressions, comprehensions) produce events marked `maybe`.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from sessguard.extract.facts import Arg, Event, EventKind, ExtractOptions, Key, Param, Ref, RefKind
from sessguard.extract.names import BUILTINS, ModuleScope, dotted, string_value
from sessguard.frameworks import KNOWLEDGE, REQUEST_PARAM_NAMES, Knowledge
from sessguard.frameworks.identity import PROVIDER_ATTRIBUTES, PROVIDER_CALLS, is_credential_call
from sessguard.model import Span
from sessguard.source import Source

MAX_TEXT = 80


WRITE_METHODS_WITH_KEY = frozenset({"setdefault", "aset", "asetdefault"})
WRITE_METHODS_WITH_MAPPING = frozenset({"update", "aupdate", "set_session"})


@dataclass
class ClassContext:
    qualname: str
    attribute_types: dict[str, str] = field(default_factory=dict)


@dataclass
class FunctionScope:
    """Names as one function sees them (its own, its enclosing functions', the module's)."""

    module: ModuleScope
    qualname: str
    params: dict[str, Param]
    self_name: str | None
    class_ctx: ClassContext | None
    locals: set[str]
    frameworks: frozenset[str]  # frameworks the module imports
    enclosing: FunctionScope | None = None
    local_bindings: dict[str, str] = field(default_factory=dict)
    aliases: dict[str, Ref] = field(default_factory=dict)
    instances: dict[str, str] = field(default_factory=dict)
    tainted: set[str] = field(default_factory=set)
    knowledge: Knowledge = KNOWLEDGE
    options: ExtractOptions = field(default_factory=lambda: ExtractOptions())

    def may_matter(self, qualname: str) -> bool:
        """Can a call to this name change anything: a project function, a library name the
        knowledge tables give a meaning, or one the configuration names?"""
        project = self.options.project
        if project is None or qualname.split(".")[0] in project or qualname in self.options.configured:
            return True
        return self.knowledge.is_known_callee(qualname) or self.knowledge.is_noreturn(qualname)

    # -- names -------------------------------------------------------------------------

    def resolve_name(self, name: str) -> str | None:
        scope: FunctionScope | None = self
        while scope is not None:
            if name in scope.local_bindings:
                return scope.local_bindings[name]
            if name in scope.locals or name in scope.params:
                return None
            scope = scope.enclosing
        if name in BUILTINS and name not in self.module.bindings:
            return None
        return self.module.resolve(name)

    def resolve_qual(self, node: ast.expr) -> str | None:
        names = dotted(node)
        if not names:
            return None
        head = self.resolve_name(names[0])
        if head is None:
            return None
        return ".".join([head, *names[1:]])

    def _lookup(self, name: str) -> tuple[FunctionScope, str] | None:
        """The scope that binds a local or parameter `name`, if any function does."""
        scope: FunctionScope | None = self
        while scope is not None:
            if name in scope.local_bindings:
                return None
            if name in scope.aliases or name in scope.params or name in scope.locals:
                return scope, name
            scope = scope.enclosing
        return None

    def instance_class(self, node: ast.expr) -> str | None:
        """The project class an expression is an instance of, where the code shows it."""
        if isinstance(node, ast.Name):
            found = self._lookup(node.id)
            if found is not None:
                scope, name = found
                if name in scope.instances:
                    return scope.instances[name]
                param = scope.params.get(name)
                if param is not None and param.annotation and name != scope.self_name:
                    return param.annotation
                return None
            return self.module.instances.get(node.id)
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id == self.self_name
            and self.class_ctx is not None
        ):
            return self.class_ctx.attribute_types.get(node.attr)
        return None

    # -- sessions and requests ---------------------------------------------------------

    def request_framework(self, annotation: str | None) -> str | None:
        if annotation and annotation in self.knowledge.request_types:
            return self.knowledge.request_types[annotation]
        candidates = [f for f in self.knowledge.request_session_frameworks if f in self.frameworks]
        return candidates[0] if len(candidates) == 1 else None

    def ref_of(self, node: ast.expr) -> Ref | None:
        if isinstance(node, ast.Await):
            return self.ref_of(node.value)
        if isinstance(node, ast.Name):
            return self._name_ref(node.id)
        if isinstance(node, ast.Call):
            return self._call_ref(node)
        qual = self.resolve_qual(node)
        if qual is not None:
            known = self._qualified_ref(qual, qual)
            if known is not None:
                return known
        if isinstance(node, ast.Attribute):
            if (
                isinstance(node.value, ast.Name)
                and node.value.id == self.self_name
                and node.attr == "request"
            ):
                return Ref(RefKind.REQUEST, self.request_framework(None), text="self.request")
            return self._extend(self.ref_of(node.value), node.attr)
        if isinstance(node, ast.Subscript):
            key = string_value(node.slice)
            if key is not None:
                return self._extend(self.ref_of(node.value), f"[{key}]")
        return None

    def _qualified_ref(self, qual: str, text: str) -> Ref | None:
        """A module-level session or request, by its qualified name."""
        if qual in self.knowledge.global_sessions:
            return Ref(RefKind.SESSION, self.knowledge.global_sessions[qual], text=text)
        if qual in self.knowledge.global_requests:
            return Ref(RefKind.REQUEST, self.knowledge.global_requests[qual], text=text)
        return None

    def _call_ref(self, node: ast.Call) -> Ref | None:
        """`get_session(request)` returns a session; `environ.get("beaker.session")` too."""
        qual = self.resolve_qual(node.func)
        if qual is not None and qual in self.knowledge.session_factories:
            return Ref(RefKind.SESSION, self.knowledge.session_factories[qual], text=qual)
        func = node.func
        if isinstance(func, ast.Attribute) and func.attr == "get" and node.args:
            key = string_value(node.args[0])
            if key is not None:
                return self._extend(self.ref_of(func.value), f"[{key}]")
        return None

    def symbol_ref(self, node: ast.expr) -> Ref | None:
        """An imported name that may be a session global of another project module."""
        names = dotted(node)
        if not names or self._lookup(names[0]) is not None or names[0] not in self.module.imported:
            return None
        qual = self.resolve_qual(node)
        return Ref(RefKind.SYMBOL, text=".".join(names), symbol=qual) if qual else None

    def _name_ref(self, name: str) -> Ref | None:
        found = self._lookup(name)
        if found is None:
            if name in self.module.session_globals:
                return Ref(RefKind.SESSION, self.module.session_globals[name], text=name)
            qual = self.resolve_name(name)
            return self._qualified_ref(qual, name) if qual is not None else None
        scope, name = found
        if name in scope.aliases:
            return scope.aliases[name]
        param = scope.params.get(name)
        if param is None or name == scope.self_name:
            return None
        if name in REQUEST_PARAM_NAMES or (
            param.annotation is not None and param.annotation in self.knowledge.request_types
        ):
            return Ref(RefKind.REQUEST, self.request_framework(param.annotation), param=name, text=name)
        framework = self.knowledge.request_params.get(name)
        if framework is not None and framework in self.frameworks and param.annotation is None:
            return Ref(RefKind.REQUEST, framework, param=name, text=name)
        if param.annotation is not None and "session" not in param.annotation.lower():
            return None  # typed as something else: an instance, not a session
        if scope is not self:
            return None  # a free variable naming an outer function's plain parameter
        return Ref(RefKind.PARAM, param=name, text=name)

    def _extend(self, base: Ref | None, step: str) -> Ref | None:
        if base is None or base.kind in (RefKind.SESSION, RefKind.SYMBOL):
            return None
        path = (*base.path, step)
        text = f"{base.text}{step}" if step.startswith("[") else f"{base.text}.{step}"
        known = self.knowledge.request_session_paths
        if not any(full[: len(path)] == path for full in known):
            return None
        if base.kind is RefKind.PARAM:
            return Ref(RefKind.PARAM, param=base.param, path=path, text=text)
        if path in known:
            owners = self.knowledge.session_path_owners.get(path, ())
            framework = owners[0] if len(owners) == 1 else base.framework
            return Ref(RefKind.SESSION, framework, param=base.param, path=path, text=text)
        return Ref(RefKind.REQUEST, base.framework, param=base.param, path=path, text=text)

    # -- values ------------------------------------------------------------------------

    def from_provider(self, node: ast.expr | None) -> bool:
        if node is None:
            return False
        for sub in ast.walk(node):
            if isinstance(sub, ast.Call):
                names = dotted(sub.func)
                if names and names[-1] in PROVIDER_CALLS:
                    return True
            elif isinstance(sub, ast.Attribute):
                if sub.attr in PROVIDER_ATTRIBUTES:
                    return True
            elif isinstance(sub, ast.Subscript):
                if string_value(sub.slice) in PROVIDER_ATTRIBUTES:
                    return True
            elif isinstance(sub, ast.Name) and sub.id in self.tainted:
                return True
        return False

    def key_of(self, node: ast.expr) -> Key:
        literal = string_value(node)
        if literal is not None:
            return Key(literal=literal)
        if isinstance(node, ast.Name) and node.id in self.module.constants and self._lookup(node.id) is None:
            return Key(literal=self.module.constants[node.id])
        symbol = self.resolve_qual(node)
        return Key(symbol=symbol) if symbol else Key()


def credential_check(nodes: Iterable[ast.AST]) -> bool:
    """Does the function check a credential or take an identity from a provider?"""
    for node in nodes:
        if isinstance(node, ast.Call):
            names = dotted(node.func)
            if names is None and isinstance(node.func, ast.Attribute):
                names = [node.func.attr]
            if names and is_credential_call(names[-1]):
                return True
        elif isinstance(node, ast.Attribute) and node.attr in PROVIDER_ATTRIBUTES:
            return True
    return False


class EventCollector:
    """Turns the expressions of one statement into events, in evaluation order."""

    def __init__(self, scope: FunctionScope, source: Source, stmt: Span) -> None:
        self.scope = scope
        self.source = source
        self.stmt = stmt
        self.events: list[Event] = []
        self.noreturn = False
        # the assignment being collected: a write is shown as the whole statement
        self.assignment: ast.stmt | None = None

    # -- helpers -----------------------------------------------------------------------

    def span(self, node: ast.AST) -> Span:
        line = getattr(node, "lineno", self.stmt.line)
        end_line = getattr(node, "end_lineno", None) or line
        column = self.source.column(line, getattr(node, "col_offset", 0))
        end_col = getattr(node, "end_col_offset", None)
        end_column = self.source.column(end_line, end_col) if end_col is not None else column
        return Span(line, column, end_line, end_column)

    def text(self, node: ast.AST) -> str:
        return segment(self.source, node)

    def emit(self, kind: EventKind, node: ast.AST, maybe: bool, **fields: object) -> None:
        shown = self.assignment if kind is not EventKind.CALL and self.assignment is not None else node
        self.events.append(
            Event(kind, self.span(node), self.stmt, self.text(shown), maybe, **fields)  # type: ignore[arg-type]
        )

    # -- expressions -------------------------------------------------------------------

    def expr(self, node: ast.expr | None, maybe: bool = False) -> None:
        if node is None:
            return
        if isinstance(node, ast.Call):
            self.call(node, maybe)
        elif isinstance(node, ast.BoolOp):
            self.expr(node.values[0], maybe)
            for value in node.values[1:]:
                self.expr(value, True)
        elif isinstance(node, ast.IfExp):
            self.expr(node.test, maybe)
            self.expr(node.body, True)
            self.expr(node.orelse, True)
        elif isinstance(node, (ast.ListComp, ast.SetComp, ast.GeneratorExp, ast.DictComp)):
            first, *rest = node.generators
            self.expr(first.iter, maybe)
            for gen in rest:
                self.expr(gen.iter, True)
            for gen in node.generators:
                for cond in gen.ifs:
                    self.expr(cond, True)
            if isinstance(node, ast.DictComp):
                self.expr(node.key, True)
                self.expr(node.value, True)
            else:
                self.expr(node.elt, True)
        elif isinstance(node, ast.Lambda):
            return
        elif isinstance(node, ast.NamedExpr):
            self.expr(node.value, maybe)
        else:
            for child in ast.iter_child_nodes(node):
                if isinstance(child, ast.expr):
                    self.expr(child, maybe)
                elif isinstance(child, ast.keyword):
                    self.expr(child.value, maybe)
                elif isinstance(child, ast.comprehension):
                    self.expr(child.iter, True)

    def call(self, node: ast.Call, maybe: bool) -> None:
        func = node.func
        receiver: Ref | None = None
        if isinstance(func, ast.Attribute):
            receiver = self.scope.ref_of(func.value)
            if receiver is None:
                self.expr(func.value, maybe)
        elif not isinstance(func, ast.Name):
            self.expr(func, maybe)
        for arg in node.args:
            self.expr(arg.value if isinstance(arg, ast.Starred) else arg, maybe)
        for keyword in node.keywords:
            self.expr(keyword.value, maybe)

        knowledge = self.scope.knowledge
        if isinstance(func, ast.Attribute) and receiver is not None:
            if (
                receiver.kind is RefKind.REQUEST
                and not receiver.path
                and func.attr in knowledge.request_methods
            ):
                session = Ref(
                    RefKind.SESSION, receiver.framework, receiver.param, ("session",), receiver.text
                )
                self.session_call(node, func.attr, session, maybe)
                return
            if receiver.kind is not RefKind.REQUEST and func.attr in knowledge.session_methods:
                self.session_call(node, func.attr, receiver, maybe)
                return
        elif isinstance(func, ast.Attribute) and func.attr in knowledge.session_methods:
            symbol = self.scope.symbol_ref(func.value)
            if symbol is not None:
                # an imported object: a session if it names one, else maybe a project method
                self.session_call(node, func.attr, symbol, maybe)
        self.plain_call(node, maybe)

    def session_call(self, node: ast.Call, method: str, ref: Ref, maybe: bool) -> None:
        keys: list[Key] = []
        values: list[ast.expr | None] = []
        if method in WRITE_METHODS_WITH_KEY and node.args:
            keys.append(self.scope.key_of(node.args[0]))
            values.append(node.args[1] if len(node.args) > 1 else None)
        elif method in WRITE_METHODS_WITH_MAPPING:
            for arg in node.args:
                found = self.mapping_items(arg)
                keys.extend(k for k, _ in found)
                values.extend(v for _, v in found)
            for keyword in node.keywords:
                if keyword.arg is not None:
                    keys.append(Key(literal=keyword.arg))
                    values.append(keyword.value)
        provider = any(self.scope.from_provider(v) for v in values)
        literals = tuple(
            (kw.arg, repr(kw.value.value))
            for kw in node.keywords
            if kw.arg is not None and isinstance(kw.value, ast.Constant)
        )
        self.emit(
            EventKind.SESSION_CALL,
            node,
            maybe,
            ref=ref,
            op=method,
            keys=tuple(keys),
            provider_value=provider,
            literals=literals,
        )

    def mapping_items(self, node: ast.expr) -> list[tuple[Key, ast.expr | None]]:
        if isinstance(node, ast.Dict):
            return [
                (self.scope.key_of(k), v)
                for k, v in zip(node.keys, node.values, strict=True)
                if k is not None
            ]
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "dict":
            return [(Key(literal=kw.arg), kw.value) for kw in node.keywords if kw.arg]
        return []

    def plain_call(self, node: ast.Call, maybe: bool) -> None:
        func = node.func
        target: str | None = None
        method_of: str | None = None
        method: str | None = None
        super_call = False
        suffix: tuple[str, ...] = ()
        scope = self.scope
        if isinstance(func, ast.Name):
            target = scope.resolve_name(func.id)
            if target is None and func.id in scope.module.definitions and func.id not in scope.locals:
                target = scope.module.definitions[func.id]
        elif isinstance(func, ast.Attribute):
            method = func.attr
            value = func.value
            names = dotted(func)
            suffix = tuple(names[1:]) if names else (func.attr,)
            if (
                isinstance(value, ast.Call)
                and isinstance(value.func, ast.Name)
                and value.func.id == "super"
                and scope.class_ctx is not None
            ):
                method_of, super_call = scope.class_ctx.qualname, True
            elif isinstance(value, ast.Name) and value.id == scope.self_name and scope.class_ctx:
                method_of = scope.class_ctx.qualname
            else:
                method_of = scope.instance_class(value)
                if method_of is None:
                    target = scope.resolve_qual(func)
        if target is None and method_of is None and not self.known_suffix(suffix):
            return
        named = target if target is not None else f"{method_of}.{method}"
        if not self.known_suffix(suffix) and not scope.may_matter(named):
            return
        if target is not None and scope.knowledge.is_noreturn(target):
            self.noreturn = True
        args = tuple(self.arguments(node))
        first = node.args[0] if node.args else None
        first_class = scope.resolve_qual(first.func) if isinstance(first, ast.Call) else None
        self.emit(
            EventKind.CALL,
            node,
            maybe,
            target=target,
            method_of=method_of,
            method=method if method_of else None,
            super_call=super_call,
            suffix=suffix,
            args=args,
            first_arg_class=first_class,
        )

    def known_suffix(self, suffix: tuple[str, ...]) -> bool:
        return any(suffix[-len(pattern) :] == pattern for pattern, _, _ in self.scope.knowledge.call_suffixes)

    def arguments(self, node: ast.Call) -> Iterator[Arg]:
        for position, arg in enumerate(node.args):
            if isinstance(arg, ast.Starred):
                break
            ref = self.scope.ref_of(arg) or self.scope.symbol_ref(arg)
            if ref is not None:
                yield Arg(ref, position=position)
        for keyword in node.keywords:
            if keyword.arg is None:
                continue
            ref = self.scope.ref_of(keyword.value) or self.scope.symbol_ref(keyword.value)
            if ref is not None:
                yield Arg(ref, keyword=keyword.arg)

    # -- targets -----------------------------------------------------------------------

    def store(self, target: ast.expr, value: ast.expr | None, maybe: bool = False) -> None:
        """An assignment to `target` of `value` (already evaluated)."""
        if isinstance(target, (ast.Tuple, ast.List)):
            for elt in target.elts:
                self.store(elt.value if isinstance(elt, ast.Starred) else elt, None, maybe)
            return
        if isinstance(target, ast.Subscript):
            ref = self.scope.ref_of(target.value) or self.scope.symbol_ref(target.value)
            if ref is None:
                self.expr(target.value, maybe)
            self.expr(target.slice, maybe)
            if ref is not None and ref.kind is not RefKind.REQUEST:
                self.emit(
                    EventKind.SESSION_SET,
                    target,
                    maybe,
                    ref=ref,
                    op="__setitem__",
                    keys=(self.scope.key_of(target.slice),),
                    provider_value=self.scope.from_provider(value),
                )
        elif isinstance(target, ast.Attribute):
            ref = self.scope.ref_of(target.value) or self.scope.symbol_ref(target.value)
            if ref is None:
                self.expr(target.value, maybe)
            elif ref.kind is not RefKind.REQUEST:
                self.emit(
                    EventKind.SESSION_ATTR,
                    target,
                    maybe,
                    ref=ref,
                    op=target.attr,
                    keys=(Key(literal=target.attr),),
                    provider_value=self.scope.from_provider(value),
                )

    def augmented(self, node: ast.AugAssign) -> None:
        target = node.target
        if isinstance(node.op, ast.BitOr) and isinstance(target, ast.Name):
            ref = self.scope.ref_of(target)
            if ref is not None and ref.kind is not RefKind.REQUEST:
                self.expr(node.value)
                found = self.mapping_items(node.value)
                self.emit(
                    EventKind.SESSION_SET,
                    node,
                    False,
                    ref=ref,
                    op="update",
                    keys=tuple(k for k, _ in found),
                    provider_value=any(self.scope.from_provider(v) for _, v in found),
                )
                return
        if isinstance(target, (ast.Subscript, ast.Attribute)):
            self.expr(target.value)
        self.expr(node.value)
        self.store(target, node.value)

    def delete(self, target: ast.expr) -> None:
        if isinstance(target, (ast.Tuple, ast.List)):
            for elt in target.elts:
                self.delete(elt)
            return
        if isinstance(target, (ast.Subscript, ast.Attribute)):
            ref = self.scope.ref_of(target.value)
            if ref is None or ref.kind is RefKind.REQUEST:
                self.expr(target.value)
                return
            key = (
                self.scope.key_of(target.slice)
                if isinstance(target, ast.Subscript)
                else Key(literal=target.attr)
            )
            self.emit(EventKind.SESSION_DEL, target, False, ref=ref, op="__delitem__", keys=(key,))


def segment(source: Source, node: ast.AST) -> str:
    """The source text of a node, on one line, shortened for messages."""
    line = getattr(node, "lineno", None)
    end_line = getattr(node, "end_lineno", None)
    if line is None or end_line is None:
        return ""
    start = getattr(node, "col_offset", 0)
    end = getattr(node, "end_col_offset", 0)
    raw = [source.line(n).encode("utf-8") for n in range(line, min(end_line, line + 20) + 1)]
    if not raw:
        return ""
    if len(raw) == 1:
        text = raw[0][start:end].decode("utf-8", errors="replace")
    else:
        raw[0] = raw[0][start:]
        if end_line <= line + 20:
            raw[-1] = raw[-1][:end]
        text = " ".join(part.decode("utf-8", errors="replace").strip() for part in raw)
    text = " ".join(text.split())
    return text if len(text) <= MAX_TEXT else text[: MAX_TEXT - 1] + "…"
