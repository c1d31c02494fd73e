"""What a name or an expression denotes as far as sessions go: a session, a request, a
parameter that may carry either, or what a project function returns.

A function's scope knows its parameters, its locals (which hide module names), its own
imports, the locals that alias a session or a request, the instances whose class the code
shows, and the attributes its class sets from a constructor's parameters (a session kept
in `self._storage` is the session the constructor received, SPEC §3).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator

import msgspec

from sessguard.extract.facts import Arg, ExtractOptions, Param, Ref, RefKind
from sessguard.extract.names import BUILTINS, ModuleScope, dotted, string_value
from sessguard.frameworks import KNOWLEDGE, REQUEST_PARAM_NAMES, Knowledge

SELF_PREFIX = "self."  # a pseudo-parameter: an attribute set from a constructor parameter


class ClassContext(msgspec.Struct):
    qualname: str
    attribute_types: dict[str, str] = msgspec.field(default_factory=dict)
    constants: dict[str, str] = msgspec.field(default_factory=dict)  # attribute -> string
    init_params: dict[str, str] = msgspec.field(default_factory=dict)  # attribute -> __init__ parameter
    properties: set[str] = msgspec.field(default_factory=set)


class FunctionScope(msgspec.Struct):
    """Names as one function sees them (its own, its enclosing functions', the module's)."""

    module: ModuleScope
    qualname: str
    params: dict[str, Param]
    self_name: str | None
    class_ctx: ClassContext | None
    locals: set[str]
    frameworks: frozenset[str]  # frameworks the module imports
    enclosing: FunctionScope | None = None
    local_bindings: dict[str, str] = msgspec.field(default_factory=dict)
    aliases: dict[str, Ref] = msgspec.field(default_factory=dict)
    instances: dict[str, str] = msgspec.field(default_factory=dict)
    # sessions and requests the constructor of an instance local received
    instance_args: dict[str, tuple[Arg, ...]] = msgspec.field(default_factory=dict)
    tainted: set[str] = msgspec.field(default_factory=set)
    # locals bound once, to a string
    local_constants: dict[str, str] = msgspec.field(default_factory=dict)
    # principals (SPEC §4.2): local name -> (line, why it is one)
    principals: dict[str, tuple[int, str]] = msgspec.field(default_factory=dict)
    reassigned: set[str] = msgspec.field(default_factory=set)  # parameters the body assigns
    knowledge: Knowledge = KNOWLEDGE
    options: ExtractOptions = msgspec.field(default_factory=lambda: ExtractOptions())

    def may_matter(self, qualname: str) -> bool:
        """Can a call to this name change anything: a project function, a library name the
        knowledge tables give a meaning, or one the configuration names?"""
        project = self.options.project
        if project is None or qualname.split(".")[0] in project or qualname in self.options.configured:
            return True
        return self.knowledge.is_known_callee(qualname) or self.knowledge.is_noreturn(qualname)

    def is_project(self, qualname: str) -> bool:
        project = self.options.project
        return project is None or qualname.split(".")[0] in project

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

    def lookup(self, name: str) -> tuple[FunctionScope, str] | None:
        """The scope that binds a local or parameter `name`, if any function does."""
        scope: FunctionScope | None = self
        while scope is not None:
            if name in scope.local_bindings:
                return None
            if name in scope.aliases or name in scope.params or name in scope.locals:
                return scope, name
            scope = scope.enclosing
        return None

    def is_self(self, node: ast.expr) -> bool:
        return isinstance(node, ast.Name) and node.id == self.self_name and self.class_ctx is not None

    def own_param(self, name: str) -> bool:
        """A parameter of this function that the body never rebinds."""
        return name in self.params and name != self.self_name and name not in self.reassigned

    def instance_class(self, node: ast.expr) -> str | None:
        """The project class an expression is an instance of, where the code shows it."""
        if isinstance(node, ast.Name):
            found = self.lookup(node.id)
            if found is not None:
                scope, name = found
                if name in scope.instances:
                    return scope.instances[name]
                param = scope.params.get(name)
                if param is not None and param.annotation and name != scope.self_name:
                    return param.annotation
                return None
            return self.module.instances.get(node.id)
        if isinstance(node, ast.Attribute) and self.is_self(node.value) and self.class_ctx is not None:
            return self.class_ctx.attribute_types.get(node.attr)
        if isinstance(node, ast.Call) and not isinstance(node.func, ast.Call):
            built = self.resolve_qual(node.func)
            if built is not None and built.rsplit(".", 1)[-1][:1].isupper() and self.is_project(built):
                return built  # a receiver built in place: `UserSession(session).sign_in(uid)`
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
            if self.is_self(node.value):
                own = self._self_attribute_ref(node.attr)
                if own is not None:
                    return own
            return self._extend(self.ref_of(node.value), node.attr)
        if isinstance(node, ast.Subscript):
            key = self.literal_key(node.slice)
            if key is not None:
                return self._extend(self.ref_of(node.value), f"[{key}]")
        return None

    def _self_attribute_ref(self, attr: str) -> Ref | None:
        """`self.request`, an attribute set from a constructor parameter, a property."""
        ctx = self.class_ctx
        assert ctx is not None
        text = f"{self.self_name}.{attr}"
        if attr == "request":
            return Ref(RefKind.REQUEST, self.request_framework(None), text=text)
        if attr in ctx.init_params:
            return Ref(RefKind.PARAM, param=SELF_PREFIX + attr, text=text)
        if attr in ctx.properties:
            return Ref(RefKind.RESULT, symbol=ctx.qualname, method=attr, text=text)
        return None

    def literal_key(self, node: ast.expr) -> str | None:
        """A key this scope alone resolves: a literal, a local or module constant, a class
        attribute of its own class."""
        literal = string_value(node)
        if literal is not None:
            return literal
        if isinstance(node, ast.Name):
            found = self.lookup(node.id)
            if found is None:
                return self.module.constants.get(node.id)
            scope, name = found
            return scope.local_constants.get(name)
        if isinstance(node, ast.Attribute) and self.is_self(node.value) and self.class_ctx is not None:
            return self.class_ctx.constants.get(node.attr)
        return None

    def _qualified_ref(self, qual: str, text: str) -> Ref | None:
        """A module-level session or request, by its qualified name."""
        if qual in self.knowledge.global_sessions:
            return Ref(RefKind.SESSION, self.knowledge.global_sessions[qual], text=text)
        if qual in self.knowledge.global_requests:
            return Ref(RefKind.REQUEST, self.knowledge.global_requests[qual], text=text)
        return None

    def _call_ref(self, node: ast.Call) -> Ref | None:
        """`get_session(request)` returns a session; `environ.get("beaker.session")` too; a
        project function's result is whatever it returns (decided at link time)."""
        qual = self.resolve_qual(node.func)
        if qual is not None and qual in self.knowledge.session_factories:
            return Ref(RefKind.SESSION, self.knowledge.session_factories[qual], text=qual)
        func = node.func
        if isinstance(func, ast.Attribute) and func.attr == "get" and node.args:
            key = self.literal_key(node.args[0])
            if key is not None:
                found = self._extend(self.ref_of(func.value), f"[{key}]")
                if found is not None:
                    return found
        if node.args or node.keywords:
            return None  # a helper that returns a session takes none of the caller's values
        text = segment_text(node)
        if isinstance(func, ast.Attribute) and self.is_self(func.value) and self.class_ctx is not None:
            return Ref(RefKind.RESULT, symbol=self.class_ctx.qualname, method=func.attr, text=text)
        if qual is not None and self.is_project(qual) and self.may_matter(qual):
            return Ref(RefKind.RESULT, symbol=qual, text=text)
        return None

    def symbol_ref(self, node: ast.expr) -> Ref | None:
        """An imported name that may be a session global of another project module."""
        names = dotted(node)
        if not names or self.lookup(names[0]) is not None or names[0] not in self.module.imported:
            return None
        qual = self.resolve_qual(node)
        return Ref(RefKind.SYMBOL, text=".".join(names), symbol=qual) if qual else None

    def _name_ref(self, name: str) -> Ref | None:
        found = self.lookup(name)
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
        if base.kind in (RefKind.PARAM, RefKind.RESULT):
            return Ref(
                base.kind, param=base.param, path=path, text=text, symbol=base.symbol, method=base.method
            )
        if path in known:
            owners = self.knowledge.session_path_owners.get(path, ())
            framework = owners[0] if len(owners) == 1 else base.framework
            return Ref(RefKind.SESSION, framework, param=base.param, path=path, text=text)
        return Ref(RefKind.REQUEST, base.framework, param=base.param, path=path, text=text)


def call_arguments(scope: FunctionScope, node: ast.Call) -> Iterator[Arg]:
    """The arguments of a call that may carry a session or a request to the callee, by
    position (until a `*` argument) or keyword."""
    for position, arg in enumerate(node.args):
        if isinstance(arg, ast.Starred):
            break
        ref = scope.ref_of(arg) or scope.symbol_ref(arg)
        if ref is not None:
            yield Arg(ref, position=position)
    for keyword in node.keywords:
        if keyword.arg is None:
            continue
        ref = scope.ref_of(keyword.value) or scope.symbol_ref(keyword.value)
        if ref is not None:
            yield Arg(ref, keyword=keyword.arg)


def segment_text(node: ast.expr) -> str:
    """A call written without arguments, for messages (`current_session()`)."""
    names = dotted(node.func) if isinstance(node, ast.Call) else dotted(node)
    return (".".join(names) + "()") if names else "…"
