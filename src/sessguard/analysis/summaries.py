"""Function summaries computed to a fixpoint over the cross-module call graph (SPEC §7).

A summary is keyed by the function, what its parameters are bound to (a session or a
request of some framework, or nothing), and whether the session is empty on entry (the
Flask-Session no-op rule). Functions that cannot touch a session, directly or through
their callees, get the neutral summary without being analysed.

Recursion: a call that reaches a summary still being computed sees its latest value (at
first neutral). Every look-up is recorded; when a summary changes, the summaries that
looked it up are computed again (a worklist), until nothing changes or a summary has been
computed `MAX_ROUNDS` times. Each summary is thus recomputed only when something it read
changed: recursive call graphs with many paths (a large library's) stay linear, where
recomputing every summary that saw a provisional value grows exponentially.
"""

from __future__ import annotations

from collections import deque

import msgspec

from sessguard.analysis.effects import EffectResolver, Prim
from sessguard.analysis.guards import feasible
from sessguard.analysis.paths import Summary, neutral, summarize
from sessguard.analysis.project import NO_CONTEXT, Context, Project
from sessguard.extract.facts import Event, EventKind, FunctionFacts, ModuleFacts, RefKind

Key = tuple[str, Context, bool]
MAX_ROUNDS = 8


def relevant_functions(project: Project, configured: frozenset[str] = frozenset()) -> frozenset[str]:
    """Functions that touch a session, or call one that does (a reverse-reachability).
    `configured` names the project's own auth and regeneration functions."""
    return project.reaching(lambda module, event: _may_touch(project, module, event), configured)


def _may_touch(project: Project, module: ModuleFacts, event: Event) -> bool:
    """Every session operation, except on what a call returned that is no session."""
    if event.kind is EventKind.SESSION_READ:
        return False  # a read changes no path's verdict
    ref = event.ref
    if ref is not None and ref.kind is RefKind.RESULT:
        return project.session_of(ref, module, NO_CONTEXT) is not None
    return True


class Solver(msgspec.Struct):
    project: Project
    resolver: EffectResolver
    summaries: dict[Key, Summary] = msgspec.field(default_factory=dict)
    effects_cache: dict[tuple[str, Context], list[tuple[Prim, ...]]] = msgspec.field(default_factory=dict)
    functions_cache: dict[tuple[str, Context], FunctionFacts] = msgspec.field(default_factory=dict)
    # who looked each summary up, in the order they did (a dict: a deterministic order)
    _readers: dict[Key, dict[Key, None]] = msgspec.field(default_factory=dict)
    _rounds: dict[Key, int] = msgspec.field(default_factory=dict)
    _stack: list[Key] = msgspec.field(default_factory=list)
    _dirty: deque[Key] = msgspec.field(default_factory=deque)
    _queued: set[Key] = msgspec.field(default_factory=set)

    def effects(self, qualname: str, context: Context) -> list[tuple[Prim, ...]]:
        key = (qualname, context)
        if key not in self.effects_cache:
            function = self.project.functions[qualname]
            self.effects_cache[key] = self.resolver.function_effects(function, context)
        return self.effects_cache[key]

    def function(self, qualname: str, context: Context) -> FunctionFacts:
        """The function's graph under a call context (its literal arguments prune it)."""
        key = (qualname, context)
        if key not in self.functions_cache:
            self.functions_cache[key] = feasible(self.project.functions[qualname], context)
        return self.functions_cache[key]

    def summary(self, qualname: str, context: Context, entry_empty: bool) -> Summary:
        relevant = self.resolver.relevant
        if relevant is not None and qualname not in relevant:
            return neutral(entry_empty)
        key: Key = (qualname, context, entry_empty)
        if self._stack:
            self._readers.setdefault(key, {})[self._stack[-1]] = None
        if key not in self.summaries:
            self.summaries[key] = neutral(entry_empty)  # what a recursive call sees first
            self._evaluate(key)
            if not self._stack:
                self._settle()
        return self.summaries[key]

    def _evaluate(self, key: Key) -> None:
        qualname, context, entry_empty = key
        function = self.function(qualname, context)
        effects = self.effects(qualname, context)
        self._stack.append(key)
        try:
            result = summarize(function, context, entry_empty, effects, self.summary)
        finally:
            self._stack.pop()
        rounds = self._rounds[key] = self._rounds.get(key, 0) + 1
        if result == self.summaries[key]:
            return
        self.summaries[key] = result
        if rounds >= MAX_ROUNDS:
            return
        for reader in self._readers.get(key, {}):
            if reader not in self._queued:
                self._queued.add(reader)
                self._dirty.append(reader)

    def _settle(self) -> None:
        """Recompute, until none changes, the summaries that read one that changed."""
        while self._dirty:
            key = self._dirty.popleft()
            self._queued.discard(key)
            self._evaluate(key)
