"""Which files can matter, decided from their bytes, so that most files are never parsed.

Phase 1 parses only the files that contain a name that can matter: the word session in
any spelling, or a name from the framework tables that code can write without it (a login
or logout call such as Django's `login`, a store class), or a configured function. Phase 2
then grows the set until nothing new appears:

- callers: files that mention a project function that touches a session (directly or
  through its callees), or a class with such a method, or a module-level instance of one;
- callees: the modules where a parsed file passes a session or a parameter that may hold
  one, and where its key constants and base classes are defined.

A file none of this reaches cannot change a finding: its functions neither touch a session
nor lead to one that does. Its syntax is not checked either: sessguard reports the files it
could not analyse among those that could matter.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property

from sessguard.analysis.project import NO_CONTEXT, Context, Project
from sessguard.extract.facts import EventKind, ModuleFacts, Ref, RefKind
from sessguard.frameworks import KNOWLEDGE, Knowledge

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
_WORD = re.compile(rb"[A-Za-z0-9_]")


class Needles:
    """A byte pattern: literal substrings, or whole identifiers.

    One alternation of plain literals finds candidates (Python's regex engine scans for a
    literal alternation far faster than for one guarded by look-arounds); an identifier's
    hit then counts only if it stands alone."""

    def __init__(self, substrings: Iterable[str] = (), identifiers: Iterable[str] = ()) -> None:
        self.substrings = tuple(sorted(set(substrings), key=len, reverse=True))
        self.identifiers = frozenset(identifiers)
        literals = sorted({*self.substrings, *self.identifiers}, key=len, reverse=True)
        self._literals = {s.encode() for s in self.substrings}
        self._pattern = (
            re.compile("|".join(re.escape(s) for s in literals).encode())
            if literals and len(literals) <= MAX_ALTERNATION
            else None
        )

    def match(self, data: bytes) -> bool:
        if self._pattern is None:
            return self._match_slowly(data)
        for hit in self._pattern.finditer(data):
            if hit.group() in self._literals or _alone(data, hit.start(), hit.end()):
                return True
        return False

    def _match_slowly(self, data: bytes) -> bool:
        if any(s.encode() in data for s in self.substrings):
            return True
        wanted = {name.encode() for name in self.identifiers}
        return any(token in wanted for token in _IDENTIFIER.findall(data))

    def __or__(self, other: Needles) -> Needles:
        return Needles((*self.substrings, *other.substrings), self.identifiers | other.identifiers)


def _alone(data: bytes, start: int, end: int) -> bool:
    """Whether data[start:end] is a whole identifier, not part of a longer one."""
    before = data[start - 1 : start] if start else b""
    after = data[end : end + 1]
    return not (_WORD.match(before) if before else False) and not (_WORD.match(after) if after else False)


def first_needles(configured: Iterable[str], knowledge: Knowledge = KNOWLEDGE) -> Needles:
    """Phase 1: the fixed vocabulary, the names of the framework tables that it does not
    already cover, and the project's configured functions and keys."""
    extra = {name.rsplit(".", 1)[-1] for name in configured if name}
    return Needles(BASE_NEEDLES, frozenset(extra | knowledge_identifiers(knowledge)))


def knowledge_identifiers(knowledge: Knowledge) -> frozenset[str]:
    """For each way a framework table is reached, a name that code reaching it must write.

    `cherrypy.lib.sessions.expire` cannot be reached without writing `sessions` (an import
    or an attribute path names the module), which the fixed vocabulary covers; Django's
    `django.contrib.auth.login` can, so `login` itself becomes a needle. The top package
    does not count: `import flask` then `flask.session` is the only spelling that writes
    the package, and a needle on the package would match every file that imports it."""
    base = Needles(BASE_NEEDLES)
    names = set()
    for path in knowledge.touching_paths:
        written = path[1:-1] if len(path) > 2 else ()
        if any(base.match(part.encode()) for part in (*written, path[-1])):
            continue
        names.add(path[-1])
    return frozenset(names)


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

    @cached_property
    def _encoded(self) -> tuple[frozenset[bytes], dict[bytes, frozenset[bytes]]]:
        functions = frozenset(name.encode() for name in self.functions)
        methods = {m.encode(): frozenset(o.encode() for o in owners) for m, owners in self.methods.items()}
        return functions, methods

    def match(self, data: bytes) -> bool:
        """One pass over the file's identifiers (a set of them is cheaper to build than a
        long alternation of names is to run)."""
        functions, methods = self._encoded
        present = set(_IDENTIFIER.findall(data))
        if not present.isdisjoint(functions):
            return True
        return any(method in present and not owners.isdisjoint(present) for method, owners in methods.items())

    def __sub__(self, other: CallerNeedles) -> CallerNeedles:
        methods = {
            method: owners - other.methods.get(method, frozenset()) for method, owners in self.methods.items()
        }
        return CallerNeedles(self.functions - other.functions, {m: o for m, o in methods.items() if o})

    def __bool__(self) -> bool:
        return bool(self.functions or self.methods)


def caller_needles(project: Project, relevant: frozenset[str]) -> CallerNeedles:
    knowledge = project.knowledge
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
        # a re-export under another name: importers of `pkg.sign_in` write only that name
        for name, target in module.imports:
            resolved = project.resolve_symbol(target)
            known = knowledge.is_known_callee(target) and not knowledge.is_noreturn(target)
            if known or (resolved is not None and resolved in relevant):
                functions.add(name)
    return CallerNeedles(
        frozenset(functions),
        {
            method: frozenset(n for cls in classes for n in owners.get(cls, ()))
            for method, classes in methods.items()
        },
    )


def callee_modules(project: Project, relevant: frozenset[str]) -> set[str]:
    """Modules the parsed files depend on in ways their words cannot show: the callees a
    session is passed to (a helper acting on its parameter need not write `session`, nor
    need the helpers it passes the parameter on to); where key constants are defined; and
    every class on the way up from a class in which a method that is relevant somewhere is
    looked up (a base that was not parsed could hide that method, or lead to it). Names are
    resolved through the modules parsed so far, so chains of re-exports, bases and helpers
    are followed a round at a time."""
    methods = {
        function.name
        for function in (project.functions.get(q) for q in relevant)
        if function is not None and function.class_qualname is not None
    }
    wanted = _session_callees(project)
    lookups: set[str] = set()
    for facts in project.modules.values():
        for function in facts.functions:
            for event in function.events:
                for key in event.keys:
                    if key.symbol:
                        wanted.update(_defining(project, key.symbol))
                if event.kind is not EventKind.CALL:
                    continue
                if event.method_of is not None:
                    if event.method in methods:
                        lookups.add(event.method_of)
                elif event.target is not None:
                    lookups.update(_looked_up(event.target, methods))
    wanted.update(_class_chains(project, lookups))
    return wanted


def _session_callees(project: Project) -> set[str]:
    """Follow sessions through calls: from every function, into each callee a session
    reaches as an argument, with the parameters it arrives in; a callee not parsed yet
    names the modules to parse next."""
    wanted: set[str] = set()
    work: list[tuple[str, Context]] = [(name, NO_CONTEXT) for name in project.functions]
    seen = set(work)
    while work:
        qualname, context = work.pop()
        module = project.function_module[qualname]
        for event in project.functions[qualname].events:
            if event.kind is not EventKind.CALL or not event.args:
                continue
            if not any(_carries_session(project, module, arg.ref, context) for arg in event.args):
                continue
            callee = project.callee(event)
            if callee is None:
                for name in (event.target, event.method_of):
                    if name:
                        wanted.update(_defining(project, name))
                continue
            bindings = project.call_context(event, callee, module, context)
            inner = frozenset(b for b in bindings if b.kind is RefKind.SESSION)
            if (callee, inner) not in seen:
                seen.add((callee, inner))
                work.append((callee, inner))
    return wanted


def _carries_session(project: Project, module: ModuleFacts, ref: Ref, context: Context) -> bool:
    if ref.kind is RefKind.PARAM and ref.path in project.knowledge.request_session_paths:
        return True  # `r.session` of a parameter that holds a request, whoever calls
    bound = project.bind(ref, module, context)
    return bound is not None and bound[0] is RefKind.SESSION


def _looked_up(target: str, methods: set[str]) -> list[str]:
    """Classes a call to `target` looks a relevant method up in: `Cls.method(...)`, and
    `Cls(...)` when some relevant class defines `__init__` (a name that starts with a
    capital is taken for a class until its module says otherwise)."""
    head, _, last = target.rpartition(".")
    found = [head] if head and last in methods else []
    if "__init__" in methods and last[:1].isupper():
        found.append(target)
    return found


def _class_chains(project: Project, lookups: set[str]) -> set[str]:
    """The modules still needed to walk each looked-up class and its bases to the top."""
    wanted: set[str] = set()
    seen: set[str] = set()
    work = list(lookups)
    while work:
        name = work.pop()
        if name in seen:
            continue
        seen.add(name)
        resolved = project.resolve_symbol(name)
        if resolved is None:
            wanted.update(_prefixes(name))
            continue
        cls = project.classes.get(resolved)
        if cls is not None:
            work.extend(cls.bases)
    return wanted


def _defining(project: Project, qualname: str) -> list[str]:
    """The modules that may define `qualname`: those above its resolved name, or above the
    name as written while the resolution is not known yet."""
    resolved = project.resolve_symbol(qualname)
    return _prefixes(resolved if resolved is not None else qualname)


def _prefixes(qualname: str) -> list[str]:
    parts = qualname.split(".")
    return [".".join(parts[:n]) for n in range(1, len(parts))]
