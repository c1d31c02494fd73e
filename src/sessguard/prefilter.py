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

from sessguard.analysis.project import NO_CONTEXT, Context, Project
from sessguard.extract.facts import Event, EventKind, ModuleFacts, Ref, RefKind
from sessguard.needles import CallerNeedles


def reaching_functions(project: Project) -> frozenset[str]:
    """Functions that touch a session their callers cannot see: through the module's
    session object, a request's, a known library call, or a parameter's `.session`; and
    the functions that call them. A helper acting on a session *parameter* is left out:
    its callers pass a session, so they hold the word already."""
    return project.reaching(lambda module, event: _visible_to_callers(project, module, event))


def _visible_to_callers(project: Project, module: ModuleFacts, event: Event) -> bool:
    ref = event.ref
    if ref is None or event.kind is EventKind.SESSION_READ:
        return False  # a read changes no finding; the fix reads only its root's callees
    if ref.kind is RefKind.PARAM:
        return bool(ref.path)
    if ref.kind in (RefKind.SYMBOL, RefKind.RESULT):
        return project.session_of(ref, module, NO_CONTEXT) is not None
    return True


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
    # a subclass inherits the methods (however far down), an instance carries them: their
    # names lead there too
    subclasses: dict[str, set[str]] = {}
    for facts in project.classes.values():
        for base in facts.bases:
            resolved = project.resolve_symbol(base)
            if resolved is not None:
                subclasses.setdefault(resolved, set()).add(facts.qualname)
    for cls in list(owners):
        work, seen = [cls], {cls}
        while work:
            for child in subclasses.get(work.pop(), ()):
                if child not in seen:
                    seen.add(child)
                    name = child.rsplit(".", 1)[-1]
                    owners[cls].add(name)
                    owners.setdefault(child, {name})
                    work.append(child)
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
    class_names = {qualname.rsplit(".", 1)[-1] for qualname in owners}
    constructed = {n for cls in methods.get("__init__", ()) for n in owners.get(cls, ())}
    return CallerNeedles(
        frozenset(functions),
        {
            method: frozenset(n for cls in classes for n in owners.get(cls, ()))
            for method, classes in methods.items()
        },
        frozenset(constructed),
        frozenset(class_names),
    )


def callee_modules(project: Project, relevant: frozenset[str]) -> tuple[set[str], set[str]]:
    """Modules the parsed files depend on in ways their words cannot show: the callees a
    session is passed to (a helper acting on its parameter need not write `session`, nor
    need the helpers it passes the parameter on to); where key constants are defined; and
    every class on the way up from a class in which a method that is relevant somewhere is
    looked up (a base that was not parsed could hide that method, or lead to it). Names are
    resolved through the modules parsed so far, so chains of re-exports, bases and helpers
    are followed a round at a time. Also: the functions such a session reaches that a
    parsed module gave no facts (`extract.lazy`), by qualified name (`call_target`)."""
    methods = {
        function.name
        for function in (project.functions.get(q) for q in relevant)
        if function is not None and function.class_qualname is not None
    }
    wanted, functions = _session_callees(project)
    lookups: set[str] = set()
    for facts in project.modules.values():
        for function in facts.functions:
            for event in function.events:
                # a read's key constant is not worth a parse: findings never depend on
                # reads, and a fix whose read key does not resolve refuses (`analysis.reads`)
                for key in () if event.kind is EventKind.SESSION_READ else event.keys:
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
    return wanted, functions


def _session_callees(project: Project) -> tuple[set[str], set[str]]:
    """Follow sessions through calls: from every function, into each callee a session
    reaches as an argument, with the parameters it arrives in; a callee not parsed yet
    names the modules to parse next."""
    wanted: set[str] = set()
    functions: set[str] = set()
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
                target = project.call_target(event)
                if target is not None:
                    functions.add(target)  # a function of a parsed module given no facts yet
                continue
            bindings = project.call_context(event, callee, module, context)
            inner = frozenset(b for b in bindings if b.kind is RefKind.SESSION)
            if (callee, inner) not in seen:
                seen.add((callee, inner))
                work.append((callee, inner))
    return wanted, functions


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


TestImports = dict[str, tuple[ModuleFacts, frozenset[str]]]


def imported_tests(project: Project, tests: frozenset[str], known: TestImports | None = None) -> set[str]:
    """The test modules that a parsed module imports from: a test module matters only
    through the code that uses it (SPEC §2). `known` keeps each module's answer from one
    round to the next (it depends on the module's own imports alone)."""
    if not tests:
        return set()
    known = {} if known is None else known
    wanted: set[str] = set()
    for name, facts in project.modules.items():
        if name in tests:
            continue  # what a test module imports matters only through what it defines
        found = known.get(name)
        if found is None or found[0] is not facts:
            found = known[name] = (facts, _tests_imported(facts, tests))
        wanted |= found[1]
    return wanted - set(project.modules)


def _tests_imported(facts: ModuleFacts, tests: frozenset[str]) -> frozenset[str]:
    return frozenset(
        prefix for _, target in facts.imports for prefix in [*_prefixes(target), target] if prefix in tests
    )
