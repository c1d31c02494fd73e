"""Names across the project: how a qualified name, a method or a library name is
resolved through imports (absolute and relative, aliases, re-exports through `__init__`
and star imports), project classes and their bases, and instances whose class the code
shows; and the strings key constants stand for. What cannot be resolved is not a project
function, and a call to it is neutral.
"""

from __future__ import annotations

import ast

import msgspec

from sessguard.extract.facts import ClassFacts, Event, EventKind, FunctionFacts, Key, ModuleFacts, RefKind
from sessguard.frameworks import KNOWLEDGE, Knowledge

MAX_HOPS = 12


class Binding(msgspec.Struct, frozen=True):
    """What a parameter of the function under analysis stands for at its call site: a
    session or a request of a framework, or a literal (`kind` LITERAL, `literal` its repr).
    `self.<attr>` stands for an attribute the constructor set from a parameter."""

    param: str
    kind: RefKind  # SESSION, REQUEST or LITERAL
    framework: str
    literal: str | None = None


Context = frozenset[Binding]
NO_CONTEXT: Context = frozenset()


class Symbols(msgspec.Struct, dict=True):
    """The project's modules, functions and classes, and the resolution of names among
    them (each answer computed once: the modules never change after it is built)."""

    modules: dict[str, ModuleFacts]
    knowledge: Knowledge = KNOWLEDGE
    dependencies: frozenset[str] = frozenset()
    functions: dict[str, FunctionFacts] = msgspec.field(default_factory=dict)
    classes: dict[str, ClassFacts] = msgspec.field(default_factory=dict)
    function_module: dict[str, ModuleFacts] = msgspec.field(default_factory=dict)

    def __post_init__(self) -> None:
        # resolution results, per Project: modules never change after it is built
        self._symbols: dict[str, str | None] = {}
        self._methods: dict[tuple[str, str, bool], str | None] = {}
        self._ancestors: dict[str, tuple[str, ...]] = {}
        self._splits: dict[str, tuple[str | None, str, tuple[str, ...]]] = {}
        self._tables: dict[tuple[str, str], dict[str, str]] = {}
        for facts in self.modules.values():
            for function in facts.functions:
                self.functions.setdefault(function.qualname, function)
                self.function_module.setdefault(function.qualname, facts)
            for cls in facts.classes:
                self.classes.setdefault(cls.qualname, cls)
        self.frameworks = self._frameworks()

    def _frameworks(self) -> frozenset[str]:
        found: set[str] = set()
        for facts in self.modules.values():
            found |= self.knowledge.frameworks_of_packages(facts.packages)
            if facts.environment:
                found.add(facts.environment)
        for dist in self.dependencies:
            found |= self.knowledge.frameworks_of_packages([dist.replace("-", "_")])
        return frozenset(found)

    # -- symbols -----------------------------------------------------------------------

    def resolve_symbol(self, qualname: str, hops: int = 0) -> str | None:
        """The project function or class a qualified name denotes, through re-exports."""
        if qualname in self.functions or qualname in self.classes:
            return qualname
        if hops == 0:
            if qualname not in self._symbols:
                self._symbols[qualname] = self._resolve_symbol(qualname, 0)
            return self._symbols[qualname]
        return self._resolve_symbol(qualname, hops)

    def _resolve_symbol(self, qualname: str, hops: int) -> str | None:
        if hops > MAX_HOPS:
            return None
        module, name, rest = self._split(qualname)
        if module is None:
            return None
        facts = self.modules[module]
        if not name:
            return None
        inner = self._module_member(facts, name, hops)
        if inner is None:
            return None
        if not rest:
            return inner
        if inner in self.classes:
            return self.method(inner, rest[0]) if len(rest) == 1 else None
        return self.resolve_symbol(".".join([inner, *rest]), hops + 1)

    def _table(self, facts: ModuleFacts, name: str) -> dict[str, str]:
        """A module's bindings of one kind as a dictionary, built once."""
        key = (facts.module, name)
        if key not in self._tables:
            self._tables[key] = dict(getattr(facts, name))
        return self._tables[key]

    def module_of(self, qualname: str) -> str | None:
        """The project module a qualified name lies in (the longest prefix that is one)."""
        return self._split(qualname)[0]

    def _split(self, qualname: str) -> tuple[str | None, str, tuple[str, ...]]:
        """The longest prefix that is a project module, the name below it, and the rest
        (built once per name: the rounds ask for the same names many times)."""
        found = self._splits.get(qualname)
        if found is None:
            found = self._splits[qualname] = self._split_uncached(qualname)
        return found

    def _split_uncached(self, qualname: str) -> tuple[str | None, str, tuple[str, ...]]:
        parts = qualname.split(".")
        for cut in range(len(parts), 0, -1):
            module = ".".join(parts[:cut])
            if module in self.modules:
                rest = parts[cut:]
                return module, (rest[0] if rest else ""), tuple(rest[1:])
        return None, "", ()

    def _module_member(self, facts: ModuleFacts, name: str, hops: int) -> str | None:
        definitions = self._table(facts, "definitions")
        if name in definitions:
            return definitions[name]
        imports = self._table(facts, "imports")
        if name in imports:
            target = imports[name]
            if target in self.modules:
                return target
            return self.resolve_symbol(target, hops + 1)
        instances = self._table(facts, "instances")
        if name in instances:
            cls = self.resolve_symbol(instances[name], hops + 1)
            return f"{cls}#instance" if cls in self.classes else None
        for star in facts.star_imports:
            if star in self.modules:
                found = self._module_member(self.modules[star], name, hops + 1)
                if found is not None:
                    return found
        submodule = f"{facts.module}.{name}" if facts.module else name
        return submodule if submodule in self.modules else None

    def method(self, class_qualname: str, name: str, skip_self: bool = False) -> str | None:
        """Method lookup in a project class and its project bases (depth-first, like MRO)."""
        key = (class_qualname, name, skip_self)
        if key not in self._methods:
            self._methods[key] = self._method(class_qualname, name, skip_self)
        return self._methods[key]

    def _method(self, class_qualname: str, name: str, skip_self: bool) -> str | None:
        for index, current in enumerate(self.ancestors(class_qualname)):
            cls = self.classes.get(current)
            if cls is None or (skip_self and index == 0):
                continue
            for method_name, qualname in cls.methods:
                if method_name == name:
                    return qualname
        return None

    def ancestors(self, class_qualname: str) -> tuple[str, ...]:
        """The class and its bases, depth-first like the MRO: project classes by their
        qualified names, library bases by the names they were imported as."""
        if class_qualname not in self._ancestors:
            seen: list[str] = []
            stack = [class_qualname]
            while stack:
                current = stack.pop(0)
                if current in seen:
                    continue
                seen.append(current)
                cls = self.classes.get(current)
                if cls is not None:
                    stack.extend(
                        self.resolve_symbol(base) or self._follow(base) or base for base in cls.bases
                    )
            self._ancestors[class_qualname] = tuple(seen)
        return self._ancestors[class_qualname]

    def library_method(self, class_qualname: str, name: str) -> str | None:
        """A method that no project class on the way up defines, named after the first
        framework base the knowledge tables know it on (`LoginView.form_valid`, SPEC §7)."""
        for base in self.ancestors(class_qualname):
            if base in self.classes:
                continue
            candidate = f"{base}.{name}"
            if self.knowledge.is_known_callee(candidate):
                return candidate
        return None

    def class_constant(self, class_qualname: str, attr: str) -> str | None:
        """A string class attribute of a project class or of one of its project bases."""
        for name in self.ancestors(class_qualname):
            cls = self.classes.get(name)
            if cls is not None:
                found = self._table_of(cls, "constants").get(attr)
                if found is not None:
                    return found
        return None

    def _table_of(self, cls: ClassFacts, name: str) -> dict[str, str]:
        key = ("class " + cls.qualname, name)
        if key not in self._tables:
            self._tables[key] = dict(getattr(cls, name))
        return self._tables[key]

    def key_text(self, key: Key, context: Context) -> str | None:
        """The string a session key resolves to here, or None (SPEC §4.2)."""
        if key.literal is not None:
            return key.literal
        if key.symbol is not None:
            return self.constant(key.symbol)
        if key.attr is not None and key.owner is not None:
            return self.class_constant(key.owner, key.attr)
        if key.param is not None:
            for binding in context:
                if binding.param == key.param and binding.literal is not None:
                    value = _literal(binding.literal)
                    return value if isinstance(value, str) else None
            return None
        if key.parts:
            texts = [self.key_text(part, context) for part in key.parts]
            return None if any(t is None for t in texts) else "".join(t or "" for t in texts)
        return None

    def callee(self, event: Event) -> str | None:
        """The project function a call event reaches, if the code shows it and it has facts
        (one without facts, inactive or skipped by lazy facts, is neutral)."""
        target = self.call_target(event)
        return target if target is not None and target in self.functions else None

    def call_target(self, event: Event) -> str | None:
        """The project function or method a call event names, resolved through imports and
        the class tables, whether or not it has facts."""
        if event.kind is not EventKind.CALL:
            return None
        if event.method_of is not None and event.method is not None:
            cls = self.resolve_symbol(event.method_of)
            if cls is None or cls not in self.classes:
                return None
            return self.method(cls, event.method, skip_self=event.super_call)
        if event.target is None:
            return None
        found = self.resolve_symbol(event.target)
        if found is None:
            return None
        if found.endswith("#instance"):
            return None
        if found in self.classes:
            return self.method(found, "__init__")
        return found

    def known_name(self, event: Event) -> str | None:
        """The qualified name a call's target finally denotes, through project re-exports:
        the project's own function or class, or a library name. The knowledge tables are
        consulted with it first, so a framework's own source (Django scanned as a project)
        keeps the documented meaning of its login and regeneration calls."""
        if event.method_of is not None and event.method is not None:
            cls = self.resolve_symbol(event.method_of)
            if cls is not None and cls in self.classes:
                if self.method(cls, event.method, skip_self=event.super_call) is not None:
                    return None  # a project method: `callee()` resolves it
                return self.library_method(cls, event.method)
            library = self._follow(event.method_of)
            return f"{library}.{event.method}" if library else None
        if event.target is None:
            return None
        resolved = self.resolve_symbol(event.target)
        if resolved is not None:
            return None if resolved.endswith("#instance") else resolved
        return self._follow(event.target)

    def _follow(self, target: str) -> str | None:
        """A name through project re-exports to a library name (a library instance's
        method is named after its class: `auth.login_user` -> `gluon.tools.Auth.login_user`)."""
        for _ in range(MAX_HOPS):
            module, name, rest = self._split(target)
            if module is None or not name:
                return target
            facts = self.modules[module]
            imports = self._table(facts, "imports")
            instances = self._table(facts, "instances")
            if name in imports:
                target = ".".join([imports[name], *rest])
            elif name in instances:
                target = ".".join([instances[name], *rest])
            else:
                return None
        return None

    def session_global(self, symbol: str) -> str | None:
        """The framework of a project module's session global that `symbol` names."""
        target = symbol
        for _ in range(MAX_HOPS):
            module, name, rest = self._split(target)
            if module is None or not name or rest:
                return None
            facts = self.modules[module]
            globals_ = self._table(facts, "session_globals")
            if name in globals_:
                return globals_[name]
            imports = self._table(facts, "imports")
            if name not in imports:
                return None
            target = imports[name]
        return None

    def constant(self, symbol: str) -> str | None:
        """The string a constant name stands for: a framework's or the project's own."""
        if symbol in self.knowledge.key_constants:
            return self.knowledge.key_constants[symbol]
        target = symbol
        for _ in range(MAX_HOPS):
            module, name, rest = self._split(target)
            if module is None or rest or not name:
                library = self.knowledge.key_constants.get(target)
                return library
            facts = self.modules[module]
            constants = self._table(facts, "constants")
            if name in constants:
                return constants[name]
            imports = self._table(facts, "imports")
            if name not in imports:
                return None
            target = imports[name]
            if target in self.knowledge.key_constants:
                return self.knowledge.key_constants[target]
        return None


def _literal(text: str) -> object:
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return None
