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
from collections.abc import Iterable

from sessguard.analysis.project import Project
from sessguard.extract.facts import EventKind, ModuleFacts

# Substrings that every relevant construct contains (see the module docstring).
BASE_NEEDLES = (
    "session",
    "Session",
    "SESSION",
    "login",
    "remember",
    "logout",
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


def caller_needles(project: Project, relevant: frozenset[str]) -> frozenset[str]:
    """Names through which code reaches a relevant function: its own name, or for a method
    the name of its class (and of classes deriving from it, and instances of them)."""
    names: set[str] = set()
    classes: set[str] = set()
    for qualname in relevant:
        function = project.functions.get(qualname)
        if function is None:
            continue
        if function.class_qualname is None:
            names.add(function.name)
        else:
            classes.add(function.class_qualname)
    # subclasses inherit the methods: their names lead to them too
    changed = True
    while changed:
        changed = False
        for facts in project.classes.values():
            if facts.qualname in classes:
                continue
            if any(project.resolve_symbol(base) in classes for base in facts.bases):
                classes.add(facts.qualname)
                changed = True
    names.update(qualname.rsplit(".", 1)[-1] for qualname in classes)
    for module in project.modules.values():
        for name, instance_of in module.instances:
            if project.resolve_symbol(instance_of) in classes:
                names.add(name)
    return frozenset(n for n in names if not n.startswith("<"))


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
