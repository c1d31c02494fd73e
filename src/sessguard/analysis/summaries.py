"""Function summaries computed to a fixpoint over the cross-module call graph (SPEC §7).

A summary is keyed by the function, what its parameters are bound to (a session or a
request of some framework, or nothing), and whether the session is empty on entry (the
Flask-Session no-op rule). Functions that cannot touch a session, directly or through
their callees, get the neutral summary without being analysed.

Recursion: a call that reaches a summary still being computed sees its latest value (at
first neutral); a summary computed from such a value is not final and is recomputed until
nothing changes, within a bound.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sessguard.analysis.effects import EffectResolver, Prim
from sessguard.analysis.paths import Summary, neutral, summarize
from sessguard.analysis.project import Context, Project
from sessguard.extract.facts import EventKind

Key = tuple[str, Context, bool]
MAX_ROUNDS = 8


def relevant_functions(project: Project, configured: frozenset[str] = frozenset()) -> frozenset[str]:
    """Functions that touch a session, or call one that does (a reverse-reachability).
    `configured` names the project's own auth and regeneration functions."""
    knowledge = project.knowledge
    direct: set[str] = set()
    callers: dict[str, set[str]] = {}
    for qualname, function in project.functions.items():
        for event in function.events:
            if event.kind is not EventKind.CALL:
                direct.add(qualname)
                continue
            library = project.known_name(event)
            if library is not None and (knowledge.is_known_callee(library) or library in configured):
                direct.add(qualname)
                continue
            if any(event.suffix[-len(p) :] == p for p, _, _ in knowledge.call_suffixes):
                direct.add(qualname)
                continue
            callee = project.callee(event)
            if callee is not None:
                callers.setdefault(callee, set()).add(qualname)
    relevant = set(direct)
    work = list(direct)
    while work:
        current = work.pop()
        for caller in callers.get(current, ()):
            if caller not in relevant:
                relevant.add(caller)
                work.append(caller)
    return frozenset(relevant)


@dataclass
class Solver:
    project: Project
    resolver: EffectResolver
    summaries: dict[Key, Summary] = field(default_factory=dict)
    final: set[Key] = field(default_factory=set)
    effects_cache: dict[tuple[str, Context], list[tuple[Prim, ...]]] = field(default_factory=dict)
    _stack: list[Key] = field(default_factory=list)
    _provisional_used: set[Key] = field(default_factory=set)

    def effects(self, qualname: str, context: Context) -> list[tuple[Prim, ...]]:
        key = (qualname, context)
        if key not in self.effects_cache:
            function = self.project.functions[qualname]
            self.effects_cache[key] = self.resolver.function_effects(function, context)
        return self.effects_cache[key]

    def summary(self, qualname: str, context: Context, entry_empty: bool) -> Summary:
        relevant = self.resolver.relevant
        if relevant is not None and qualname not in relevant:
            return neutral(entry_empty)
        key: Key = (qualname, context, entry_empty)
        if key in self.final:
            return self.summaries[key]
        if key in self._stack:
            self._provisional_used.add(key)
            return self.summaries.get(key, neutral(entry_empty))
        self._stack.append(key)
        depth = len(self._stack)
        function = self.project.functions[qualname]
        effects = self.effects(qualname, context)
        result = neutral(entry_empty)
        for _ in range(MAX_ROUNDS):
            self._provisional_used.discard(key)
            result = summarize(function, context, entry_empty, effects, self.summary)
            changed = self.summaries.get(key) != result
            self.summaries[key] = result
            if key not in self._provisional_used or not changed:
                break
        self._stack.pop()
        # final unless it relied on a summary still being computed further up
        if not any(k in self._provisional_used for k in self._stack[: depth - 1]):
            self.final.add(key)
        return result
