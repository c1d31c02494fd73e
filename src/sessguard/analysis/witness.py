"""A concrete path that shows why an event is unprotected, told as trace notes.

Only findings need this, so it runs after the fixpoint, on the reported chains: the
branch that skips a regeneration, a helper that regenerates on some paths only, the
early return before a regeneration of order `either`.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence

import msgspec

from sessguard.analysis.effects import CallOf, Prim, Regen, Site
from sessguard.analysis.paths import Lookup, transfer
from sessguard.extract.facts import ENTRY, RAISE_EXIT, RETURN_EXIT, Edge, FunctionFacts, NodeKind
from sessguard.model import Order

MAX_SEARCH = 2000


class Note(msgspec.Struct, frozen=True):
    line: int
    text: str


def _regen_site(prims: Sequence[Prim], lookup: Lookup, either_only: bool) -> Site | None:
    for prim in prims:
        if isinstance(prim, Regen) and (not either_only or prim.order is Order.EITHER):
            return prim.site
        if isinstance(prim, CallOf):
            summary = lookup(prim.callee, prim.context, False)
            regenerates = summary.regen is not None or summary.regen_some
            if regenerates and (not either_only or summary.regen is Order.EITHER):
                return prim.site
    return None


def _skipped(
    function: FunctionFacts,
    effects: Sequence[Sequence[Prim]],
    lookup: Lookup,
    start: int,
    avoid: int,
    either_only: bool,
) -> Site | None:
    """The first regeneration reachable from `start` without passing `avoid`."""
    seen = {start, avoid}
    work = deque([start])
    while work and len(seen) < MAX_SEARCH:
        node = work.popleft()
        site = _regen_site(effects[node], lookup, either_only)
        if site is not None:
            return site
        for edge in function.successors[node]:
            if edge.target not in seen and not edge.exceptional:
                seen.add(edge.target)
                work.append(edge.target)
    return None


def _branch_notes(
    function: FunctionFacts,
    effects: Sequence[Sequence[Prim]],
    lookup: Lookup,
    path: list[tuple[int, Edge]],
    target: int,
    either_only: bool,
) -> list[Note]:
    notes: list[Note] = []
    for source, edge in path:
        if not edge.label:
            continue
        for other in function.successors[source]:
            if other.target == edge.target or other.exceptional:
                continue
            site = _skipped(function, effects, lookup, other.target, target, either_only)
            if site is not None:
                notes.append(
                    Note(edge.line, f"{edge.label}, so `{site.text}` (line {site.line}) does not run")
                )
                break
    return notes


def unregenerated_path(
    function: FunctionFacts,
    effects: Sequence[Sequence[Prim]],
    lookup: Lookup,
    target: int,
    entry_empty: bool,
) -> list[Note]:
    """Notes along a path from the entry to `target` that passes no regeneration."""
    start = (ENTRY, entry_empty)
    parents: dict[tuple[int, bool], tuple[tuple[int, bool], Edge] | None] = {start: None}
    work = deque([start])
    found: tuple[int, bool] | None = None
    while work:
        state = work.popleft()
        node, empty = state
        if node == target:
            found = state
            break
        outs = [
            flags[2]
            for flags, _ in transfer((False, False, empty), frozenset(), effects[node], lookup)
            if not flags[0]
        ]
        for edge in function.successors[node]:
            for next_empty in [empty] if edge.exceptional else outs:
                nxt = (edge.target, next_empty)
                if nxt not in parents:
                    parents[nxt] = (state, edge)
                    work.append(nxt)
    if found is None:
        return []
    path: list[tuple[int, Edge]] = []
    cursor: tuple[int, bool] | None = found
    while cursor is not None and parents[cursor] is not None:
        previous, edge = parents[cursor]  # type: ignore[misc]
        path.append((previous[0], edge))
        cursor = previous
    path.reverse()
    notes = _branch_notes(function, effects, lookup, path, target, either_only=False)
    for source, _ in path:
        for prim in effects[source]:
            if isinstance(prim, CallOf) and not prim.maybe:
                summary = lookup(prim.callee, prim.context, False)
                if summary.regen is None and summary.regen_some:
                    notes.append(
                        Note(
                            prim.site.line,
                            f"`{prim.site.text}` regenerates the session on some of its paths only",
                        )
                    )
            elif isinstance(prim, (Regen, CallOf)) and getattr(prim, "maybe", False):
                notes.append(Note(prim.site.line, f"`{prim.site.text}` may not run, so it does not count"))
    return notes


def early_exit(
    function: FunctionFacts,
    effects: Sequence[Sequence[Prim]],
    lookup: Lookup,
    target: int,
) -> list[Note]:
    """Where a path from `target` ends without the `either` regeneration that follows it."""
    later = _skipped(function, effects, lookup, target, -1, either_only=True)
    if later is None:
        return []
    start = (target, False)
    parents: dict[tuple[int, bool], tuple[tuple[int, bool], Edge] | None] = {start: None}
    work = deque([start])
    while work:
        state = work.popleft()
        node, _ = state
        if node in (RETURN_EXIT, RAISE_EXIT):
            break
        if node != target and _regen_site(effects[node], lookup, either_only=True) is not None:
            continue
        for edge in function.successors[node]:
            if edge.exceptional and node == target:
                continue
            nxt = (edge.target, False)
            if nxt not in parents:
                parents[nxt] = (state, edge)
                work.append(nxt)
    ends = [s for s in parents if s[0] in (RETURN_EXIT, RAISE_EXIT)]
    if not ends:
        return []
    path: list[tuple[int, Edge]] = []
    cursor: tuple[int, bool] | None = ends[0]
    while cursor is not None and parents[cursor] is not None:
        previous, edge = parents[cursor]  # type: ignore[misc]
        path.append((previous[0], edge))
        cursor = previous
    path.reverse()
    last = path[-1][0] if path else target
    kind = function.nodes[last].kind
    line = function.nodes[last].line or later.line
    verb = "raises" if kind is NodeKind.RAISE or path[-1][1].target == RAISE_EXIT else "returns"
    notes = _branch_notes(function, effects, lookup, path, -1, either_only=True)
    notes.append(
        Note(line, f"the request {verb} at line {line} before `{later.text}` (line {later.line}) runs")
    )
    return notes
