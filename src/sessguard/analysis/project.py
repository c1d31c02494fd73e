"""The whole project at once: which functions reach a session, and what a reference
denotes at a call (sessions and requests through parameters, returns and constructors).
Name resolution itself is `symbols.Symbols`, which `Project` extends.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from sessguard.analysis.symbols import NO_CONTEXT, Binding, Context, Symbols
from sessguard.extract.facts import Event, EventKind, FunctionFacts, ModuleFacts, Ref, RefKind
from sessguard.frameworks import KNOWLEDGE, Knowledge

__all__ = ["NO_CONTEXT", "Binding", "Context", "Project"]


class Project(Symbols, dict=True):
    """The project's modules with what the rounds and the rules ask of them."""

    @classmethod
    def build(
        cls,
        modules: Iterable[ModuleFacts],
        knowledge: Knowledge = KNOWLEDGE,
        dependencies: Iterable[str] = (),
    ) -> Project:
        by_name: dict[str, ModuleFacts] = {}
        for facts in sorted(modules, key=lambda m: m.path):
            by_name.setdefault(facts.module, facts)
        return cls(by_name, knowledge, frozenset(dependencies))

    def reaching(
        self, touches: Callable[[ModuleFacts, Event], bool], configured: frozenset[str] = frozenset()
    ) -> frozenset[str]:
        """Functions with an operation on a session that `touches` accepts, a call to a
        library function the knowledge tables (or `configured`) name or to a known call
        suffix; and every function that calls one of them (a reverse reachability)."""
        knowledge = self.knowledge
        direct: set[str] = set()
        callers: dict[str, set[str]] = {}
        for qualname, function in self.functions.items():
            module = self.function_module[qualname]
            if function.returns is not None and function.returns.kind is RefKind.SESSION:
                direct.add(qualname)  # its callers hold the session it returns
            for event in function.events:
                if event.kind is not EventKind.CALL:
                    if touches(module, event):
                        direct.add(qualname)
                    continue
                library = self.known_name(event)
                if library is not None and (knowledge.is_known_callee(library) or library in configured):
                    direct.add(qualname)
                    continue
                if knowledge.ends_in_call_suffix(event.suffix):
                    direct.add(qualname)
                    continue
                callee = self.callee(event)
                if callee is not None:
                    callers.setdefault(callee, set()).add(qualname)
        found = set(direct)
        work = list(direct)
        while work:
            for caller in callers.get(work.pop(), ()):
                if caller not in found:
                    found.add(caller)
                    work.append(caller)
        return frozenset(found)

    # -- sessions ----------------------------------------------------------------------

    def default_request_framework(self, module: ModuleFacts) -> str:
        """Whose `request.session` this is when nothing in the expression says."""
        preferred = self.knowledge.request_session_frameworks
        own = self.knowledge.frameworks_of_packages(module.packages)
        for candidates in (own, self.frameworks):
            for name in preferred:
                if name in candidates:
                    return name
        return preferred[0]

    def session_of(self, ref: Ref | None, module: ModuleFacts, context: Context) -> str | None:
        """The framework whose session `ref` denotes here, or None if it is not a session."""
        if ref is None:
            return None
        if ref.kind is RefKind.SESSION:
            return ref.framework or self.default_request_framework(module)
        if ref.kind is RefKind.REQUEST:
            return None
        if ref.kind is RefKind.SYMBOL:
            return self.session_global(ref.symbol) if ref.symbol else None
        if ref.kind is RefKind.RESULT:
            returned = self.returned(ref)
            if returned is None:
                return None
            kind, framework = returned
            if kind is RefKind.SESSION and not ref.path:
                return framework
            paths = self.knowledge.by_name[framework].request_session_paths
            return framework if kind is RefKind.REQUEST and ref.path in paths else None
        for binding in context:
            if binding.param != ref.param:
                continue
            if binding.kind is RefKind.SESSION and not ref.path:
                return binding.framework
            if binding.kind is RefKind.REQUEST and ref.path:
                paths = self.knowledge.by_name[binding.framework].request_session_paths
                return binding.framework if ref.path in paths else None
        return None

    def bind(self, ref: Ref, module: ModuleFacts, context: Context) -> tuple[RefKind, str] | None:
        """What an argument passes to a callee: a session or a request, of which framework."""
        if ref.kind is RefKind.SESSION:
            return RefKind.SESSION, ref.framework or self.default_request_framework(module)
        if ref.kind is RefKind.REQUEST:
            if ref.path:
                return None
            return RefKind.REQUEST, ref.framework or self.default_request_framework(module)
        if ref.kind is RefKind.SYMBOL:
            framework = self.session_global(ref.symbol) if ref.symbol else None
            return (RefKind.SESSION, framework) if framework else None
        if ref.kind is RefKind.RESULT:
            if not ref.path:
                return self.returned(ref)
            framework = self.session_of(ref, module, context)
            return (RefKind.SESSION, framework) if framework else None
        for binding in context:
            if binding.param != ref.param or binding.kind is RefKind.LITERAL:
                continue
            if not ref.path:
                return binding.kind, binding.framework
            framework = self.session_of(ref, module, context)
            return (RefKind.SESSION, framework) if framework else None
        return None

    def returned(self, ref: Ref) -> tuple[RefKind, str] | None:
        """What a project function, method or property returns, when it is a session or a
        request on every path (SPEC §3)."""
        if ref.symbol is None:
            return None
        if ref.method is not None:
            cls = self.resolve_symbol(ref.symbol)
            qualname = self.method(cls, ref.method) if cls in self.classes else None
        else:
            found = self.resolve_symbol(ref.symbol)
            qualname = found if found in self.functions else None
        function = self.functions.get(qualname) if qualname else None
        if function is None or function.returns is None:
            return None
        inner = function.returns
        module = self.function_module[function.qualname]
        if inner.kind is RefKind.SESSION:
            return RefKind.SESSION, inner.framework or self.default_request_framework(module)
        if inner.kind is RefKind.REQUEST and not inner.path:
            return RefKind.REQUEST, inner.framework or self.default_request_framework(module)
        return None

    def call_context(self, event: Event, callee: str, module: ModuleFacts, context: Context) -> Context:
        """The bindings of a callee's parameters at this call site: the sessions and
        requests it receives, the literals that decide its branches and keys (an argument,
        or the default when none is passed), and the attributes its object's constructor
        set from a session."""
        function = self.functions[callee]
        params = [p.name for p in function.params]
        if function.bound_method and (event.method_of is not None or function.name == "__init__"):
            params = params[1:]  # self or cls is bound
        bindings: set[Binding] = set()
        for arg in event.args:
            bound = self.bind(arg.ref, module, context)
            name = _parameter(arg.position, arg.keyword, params)
            if bound is not None and name is not None:
                bindings.add(Binding(name, bound[0], bound[1]))
        if function.literal_params:
            passed = {}
            for where, value in event.literal_args:
                name = _parameter(
                    int(where) if where.isdigit() else None, None if where.isdigit() else where, params
                )
                if name is not None:
                    passed[name] = value
            given = {*params[: event.arity], *event.keywords}
            defaults = dict(function.defaults)
            for name in function.literal_params:
                found = passed.get(name)
                if found is None and not event.star and name not in given:
                    found = defaults.get(name)
                if found is not None:
                    bindings.add(Binding(name, RefKind.LITERAL, "", found))
        if event.method_of is not None and function.class_qualname is not None:
            bindings |= self._object_bindings(event, function, module, context)
        return frozenset(bindings)

    def _object_bindings(
        self, event: Event, function: FunctionFacts, module: ModuleFacts, context: Context
    ) -> set[Binding]:
        """`self.<attr>` bindings for a method: from the constructor of a receiver built
        here, or carried over from the caller's own object for a call on `self`."""
        if event.ctor_args:
            init = self.method(function.class_qualname or "", "__init__")
            known = self.functions.get(init) if init else None  # a neutral one has no facts
            cls = self.classes.get(known.class_qualname or "") if known else None
            if init is None or cls is None:
                return set()
            ctor = Event(
                event.kind, event.span, event.stmt, event.text, args=event.ctor_args, method_of=cls.qualname
            )
            received = {
                b.param: b
                for b in self.call_context(ctor, init, module, context)
                if b.kind is not RefKind.LITERAL
            }
            return {
                Binding(SELF + attr, received[param].kind, received[param].framework)
                for attr, param in cls.init_params
                if param in received
            }
        if event.on_self:
            return {b for b in context if b.param.startswith(SELF)}
        return set()


SELF = "self."


def _parameter(position: int | None, keyword: str | None, params: list[str]) -> str | None:
    if keyword is not None:
        return keyword if keyword in params else None
    if position is not None and position < len(params):
        return params[position]
    return None
