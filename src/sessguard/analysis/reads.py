"""The session keys a handler reads after a point, for fixes that empty the session.

`session.clear()`, `invalidate()` or `new_session` before a login drops everything the
session held. What the handler (or a helper it calls) reads afterwards would then be
missing, and the app would behave differently (`redirect(session.get("next", "/"))` sends
everyone to `/`). The fix carries exactly those keys over, so it needs them named: every
read reachable from the point on any path of the control-flow graph, and every read in
the project functions called there (with the call's context, so that a helper's
parameter is a session only where a session is passed). A read that does not name its key
(a dynamic key, `items()`, iteration, the session handed to code the scan cannot follow)
makes the fix refuse, with the reason.
"""

from __future__ import annotations

from collections.abc import Iterable

import msgspec

from sessguard.analysis.project import NO_CONTEXT, Context, Project
from sessguard.extract.facts import Event, EventKind, FunctionFacts, ModuleFacts, RefKind
from sessguard.extract.reads import ITERATED, PASSED, unnamed
from sessguard.model import Span


class KeysRead(msgspec.Struct, frozen=True):
    """The keys read, sorted; `refusal` says why they cannot all be named."""

    keys: tuple[str, ...] = ()
    refusal: str | None = None

    def merged(self, other: KeysRead) -> KeysRead:
        return KeysRead(tuple(sorted({*self.keys, *other.keys})), self.refusal or other.refusal)


class ReadFinder(msgspec.Struct):
    project: Project
    _memo: dict[tuple[str, Context], KeysRead] = msgspec.field(default_factory=dict)
    _active: set[tuple[str, Context]] = msgspec.field(default_factory=set)

    def after(self, root: str, anchor: Span, *, from_call: bool = False) -> KeysRead:
        """The keys `root` reads from the statement at `anchor` on (its own reads
        included), or, with `from_call`, after the call at `anchor`."""
        function = self.project.functions[root]
        starts = [
            index
            for index, node in enumerate(function.nodes)
            if node.event >= 0 and _at(function.events[node.event], anchor, from_call)
        ]
        if from_call:
            starts = [edge.target for start in starts for edge in function.successors[start]]
        reached = function.reachable(starts)
        events = [
            function.events[function.nodes[i].event] for i in sorted(reached) if function.nodes[i].event >= 0
        ]
        return self._reads(function, NO_CONTEXT, events)

    def of_function(self, qualname: str, context: Context) -> KeysRead:
        key = (qualname, context)
        if key in self._memo:
            return self._memo[key]
        if key in self._active:
            return KeysRead()  # recursion: the outer visit collects the rest
        self._active.add(key)
        function = self.project.functions[qualname]
        found = self._reads(function, context, function.events)
        self._active.discard(key)
        self._memo[key] = found
        return found

    def _reads(self, function: FunctionFacts, context: Context, events: Iterable[Event]) -> KeysRead:
        project = self.project
        module = project.function_module[function.qualname]
        found = KeysRead()
        for event in events:
            if event.kind is EventKind.CALL:
                found = found.merged(self._call(event, module, context))
            elif event.kind is EventKind.SESSION_READ:
                found = found.merged(self._read(event, module, context))
        return found

    def _read(self, event: Event, module: ModuleFacts, context: Context) -> KeysRead:
        if self.project.session_of(event.ref, module, context) is None:
            return KeysRead()
        where = f"`{event.text}` ({module.path}:{event.span.line})"
        if event.op == PASSED:
            return KeysRead(refusal=f"{where} hands the session to code the scan cannot follow")
        if event.op == ITERATED:
            return KeysRead(refusal=f"{where} iterates over the session")
        if unnamed(event) or not event.keys:
            return KeysRead(refusal=f"{where} reads the whole session")
        key = self.project.key_text(event.keys[0], context)
        if key is None:
            return KeysRead(refusal=f"{where} reads a session key that cannot be resolved")
        return KeysRead((key,))

    def _call(self, event: Event, module: ModuleFacts, context: Context) -> KeysRead:
        project = self.project
        callee = project.callee(event)
        if callee is not None:
            return self.of_function(callee, project.call_context(event, callee, module, context))
        name = project.known_name(event)
        knowledge = project.knowledge
        if (name is not None and knowledge.is_known_callee(name)) or knowledge.ends_in_call_suffix(
            event.suffix
        ):
            return KeysRead()  # a login or regeneration of the tables: it reads no key of the app's
        for arg in event.args:
            bound = project.bind(arg.ref, module, context)
            if bound is not None and bound[0] is RefKind.SESSION:
                where = f"`{event.text}` ({module.path}:{event.span.line})"
                return KeysRead(refusal=f"{where} hands the session to code the scan cannot follow")
        return KeysRead()


def _at(event: Event, anchor: Span, from_call: bool) -> bool:
    if from_call:
        return event.kind is EventKind.CALL and event.span == anchor
    return (event.stmt.line, event.stmt.column) == (anchor.line, anchor.column)
