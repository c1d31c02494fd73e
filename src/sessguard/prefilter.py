"""Which files can matter, decided from their bytes, so that most files are never parsed.

Phase 1 parses only the files that contain a name that can matter: a session object or
method, a login or regeneration call, a signal, an identity policy, a store setting, a
configured function. Phase 2 then grows the set until nothing new appears:

- callers: files that mention a project function that touches a session (directly or
  through its callees), or a class with such a method, or a module-level instance of one;
- callees: the modules a parsed file passes a session or a request to, the modules of the
  key constants, base classes and instance classes it uses, and the `__init__` modules of
  every package on the way (they re-export).

A file none of this reaches cannot change a finding: its functions neither touch a session
nor lead to one that does. Its syntax is not checked either: sessguard reports the files it
could not analyse among those that could matter.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from sessguard.analysis.project import NO_CONTEXT, Project
from sessguard.extract.facts import EventKind, ModuleFacts, RefKind

# Substrings that every relevant construct contains (see the module docstring).
BASE_NEEDLES = (
    "session",
    "Session",
    "SESSION",
    "login_user",
    "login_bare",
    "remember",
    "user_logged_in",
    "user_authenticated",
    "IdentityPolicy",
    "AuthenticationHelper",
    "AuthenticationPolicy",
    "AuthTkt",
    "django_otp",
    "test_request_context",
    "rotate_token",
    "new_csrf_token",
)
MAX_ALTERNATION = 4000
_IDENTIFIER = re.compile(rb"[A-Za-z_][A-Za-z0-9_]*")


class Needles:
    """A byte pattern: literal substrings, or whole identifiers."""

    def __init__(self, substrings: Iterable[str] = (), identifiers: Iterable[str] = ()) -> None:
        self.substrings = tuple(sorted(set(substrings), key=len, reverse=True))
        self.identifiers = frozenset(identifiers)
        pattern = "|".join(re.escape(s) for s in self.substrings)
        self._substrings = re.compile(pattern.encode()) if pattern else None
        names = sorted(self.identifiers, key=len, reverse=True)
        self._identifiers: re.Pattern[bytes] | None = None
        if names and len(names) <= MAX_ALTERNATION:
            alternation = "|".join(re.escape(n) for n in names).encode()
            self._identifiers = re.compile(rb"(?<![A-Za-z0-9_])(?:" + alternation + rb")(?![A-Za-z0-9_])")

    def match(self, data: bytes) -> bool:
        if self._substrings is not None and self._substrings.search(data):
            return True
        if not self.identifiers:
            return False
        if self._identifiers is not None:
            return self._identifiers.search(data) is not None
        wanted = {name.encode() for name in self.identifiers}
        return any(token in wanted for token in _IDENTIFIER.findall(data))

    def __or__(self, other: Needles) -> Needles:
        return Needles((*self.substrings, *other.substrings), self.identifiers | other.identifiers)


def first_needles(configured: Iterable[str]) -> Needles:
    """Phase 1: the fixed vocabulary plus the project's configured functions and keys."""
    extra = {name.rsplit(".", 1)[-1] for name in configured if name}
    return Needles(BASE_NEEDLES, frozenset(extra))


def reaching_functions(project: Project) -> frozenset[str]:
    """Functions that touch a session their callers cannot see: through the module's
    session object, a request's, a known library call, or a parameter's `.session`; and
    the functions that call them. A helper acting on a session *parameter* is left out:
    its callers pass a session, so they hold the word already."""
    knowledge = project.knowledge
    direct: set[str] = set()
    callers: dict[str, set[str]] = {}
    for qualname, function in project.functions.items():
        module = project.function_module[qualname]
        for event in function.events:
            if event.kind is not EventKind.CALL:
                ref = event.ref
                if ref is None:
                    continue
                if ref.kind is RefKind.PARAM:
                    if ref.path:
                        direct.add(qualname)
                elif ref.kind is not RefKind.SYMBOL or project.session_of(ref, module, NO_CONTEXT):
                    direct.add(qualname)
                continue
            name = project.known_name(event)
            if name is not None and knowledge.is_known_callee(name):
                direct.add(qualname)
                continue
            if any(event.suffix[-len(p) :] == p for p, _, _ in knowledge.call_suffixes):
                direct.add(qualname)
                continue
            callee = project.callee(event)
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


@dataclass(frozen=True)
class CallerNeedles:
    """How a file can reach a relevant function: by naming it (a module function), or by
    naming a relevant method together with its class, a class deriving from it, or an
    instance of one (a method name alone, `setUp`, says too little)."""

    functions: frozenset[str] = frozenset()
    methods: Mapping[str, frozenset[str]] = field(default_factory=dict)

    def names(self) -> frozenset[str]:
        return self.functions | frozenset(self.methods)

    def match(self, data: bytes) -> bool:
        if self.functions and Needles(identifiers=self.functions).match(data):
            return True
        if not self.methods:
            return False
        present = {token.decode() for token in _IDENTIFIER.findall(data)}
        return any(method in present and owners & present for method, owners in self.methods.items())

    def __sub__(self, other: CallerNeedles) -> CallerNeedles:
        methods = {
            method: owners - other.methods.get(method, frozenset()) for method, owners in self.methods.items()
        }
        return CallerNeedles(self.functions - other.functions, {m: o for m, o in methods.items() if o})

    def __bool__(self) -> bool:
        return bool(self.functions or self.methods)


def caller_needles(project: Project, relevant: frozenset[str]) -> CallerNeedles:
    functions: set[str] = set()
    owners: dict[str, set[str]] = {}  # class qualname -> names that lead to it
    methods: dict[str, set[str]] = {}  # method name -> classes defining it relevantly
    for qualname in relevant:
        function = project.functions.get(qualname)
        if function is None or function.name.startswith("<"):
            continue
        if function.class_qualname is None:
            functions.add(function.name)
        else:
            methods.setdefault(function.name, set()).add(function.class_qualname)
            owners.setdefault(function.class_qualname, {function.class_qualname.rsplit(".", 1)[-1]})
    # a subclass inherits the methods, an instance carries them: their names lead there too
    changed = True
    while changed:
        changed = False
        for facts in project.classes.values():
            bases = {project.resolve_symbol(base) for base in facts.bases}
            for cls in [c for c in owners if c in bases]:
                name = facts.qualname.rsplit(".", 1)[-1]
                if name not in owners[cls]:
                    owners[cls].add(name)
                    owners.setdefault(facts.qualname, {name})
                    changed = True
    for module in project.modules.values():
        for name, instance_of in module.instances:
            resolved = project.resolve_symbol(instance_of)
            if resolved is not None and resolved in owners:
                owners[resolved].add(name)
    return CallerNeedles(
        frozenset(functions),
        {
            method: frozenset(n for cls in classes for n in owners.get(cls, ()))
            for method, classes in methods.items()
        },
    )


def callee_modules(modules: Iterable[ModuleFacts], project: Project) -> set[str]:
    """Modules a parsed file depends on for its sessions: where it passes a session or a
    request, the key constants, base classes and instance classes it names, and the
    `__init__` of each package above it."""
    wanted: set[str] = set()
    for facts in modules:
        parts = facts.module.split(".")
        wanted.update(".".join(parts[:n]) for n in range(1, len(parts)))
        for cls in facts.classes:
            wanted.update(_module_of(base) for base in cls.bases)
        for function in facts.functions:
            for event in function.events:
                for key in event.keys:
                    if key.symbol:
                        wanted.add(_module_of(key.symbol))
                if event.kind is not EventKind.CALL:
                    continue
                if event.method_of:
                    wanted.add(_module_of(event.method_of))
                if event.args and event.target:
                    wanted.update(_prefixes(event.target))
    return {name for name in wanted if name}


def _module_of(qualname: str) -> str:
    return qualname.rpartition(".")[0]


def _prefixes(qualname: str) -> list[str]:
    parts = qualname.split(".")
    return [".".join(parts[:n]) for n in range(1, len(parts))]
