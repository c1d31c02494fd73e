"""When is an auth event protected (SPEC §7): path states over a function's graph.

A path state says whether a regeneration has happened on the path so far (and whether one
of order `before` did, for the function's own summary), whether the session is empty with
nothing written since (a Flask-Session `regenerate()` is a no-op then), and which false
friends the path passed. States with the same flags merge, their false friends united, so
a node holds at most eight.

An event is protected when every state reaching it is regenerated (clause 1), or when at
least one path leads from it to an exit and every such path passes a regeneration of
order `either` (clause 2).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Sequence

from msgspec import Struct

from sessguard.analysis.effects import (
    Auth,
    AuthEvent,
    CallOf,
    Empty,
    FalseFriend,
    Friend,
    Prim,
    Regen,
    Site,
    Write,
)
from sessguard.analysis.project import Context
from sessguard.extract.facts import ENTRY, RAISE_EXIT, RETURN_EXIT, Event, FunctionFacts
from sessguard.model import Order


class Hop(Struct, frozen=True):
    """One level of a chain: the node of `function` through which an event is reached."""

    function: str
    context: Context
    entry_empty: bool
    node: int
    site: Site


class Exposure(Struct, frozen=True):
    """An auth event a function reaches from its entry without protection inside it.

    Two exposures of the same event at the same node are equal whatever chain and false
    friends they carry: summaries compare by what is exposed, so the fixpoint ends."""

    event: AuthEvent
    node: int
    hops: tuple[Hop, ...]
    friends: frozenset[FalseFriend]

    def __eq__(self, other: object) -> bool:
        return type(other) is Exposure and (self.event, self.node) == (other.event, other.node)

    def __hash__(self) -> int:
        return hash((self.event, self.node))


class Summary(Struct, frozen=True):
    regen: Order | None  # regenerates on every path that returns normally
    regen_some: bool  # regenerates on some path that returns normally
    exits: frozenset[bool]  # is the session empty when it returns? (each possibility)
    friends: frozenset[FalseFriend]  # false friends on its unregenerated paths
    exposed: tuple[Exposure, ...]


def neutral(entry_empty: bool) -> Summary:
    return Summary(None, False, frozenset({entry_empty}), frozenset(), ())


Lookup = Callable[[str, Context, bool], Summary]
Flags = tuple[bool, bool, bool]  # (regenerated, before seen, empty)
States = dict[Flags, frozenset[FalseFriend]]
NOOP_REASON = (
    "does nothing here, because the session is empty at this point and the store only "
    "gives a non-empty session a new id"
)


def _via(friend: FalseFriend, site: Site) -> FalseFriend:
    return FalseFriend(friend.site, friend.reason, (site, *friend.via))


def transfer(
    flags: Flags, friends: frozenset[FalseFriend], prims: Sequence[Prim], lookup: Lookup
) -> list[tuple[Flags, frozenset[FalseFriend]]]:
    """The states after a node's effects, from one state before them."""
    current = [(flags, friends)]
    for prim in prims:
        following: list[tuple[Flags, frozenset[FalseFriend]]] = []
        for (regenerated, before, empty), fr in current:
            if isinstance(prim, Regen):
                if prim.needs_data and empty:
                    following.append(
                        ((regenerated, before, empty), fr | {FalseFriend(prim.site, NOOP_REASON)})
                    )
                else:
                    following.append(((True, before or prim.order is Order.BEFORE, empty), fr))
            elif isinstance(prim, Empty):
                following.append(((regenerated, before, True), fr))
            elif isinstance(prim, (Write, Auth)):
                following.append(((regenerated, before, False), fr))
            elif isinstance(prim, Friend):
                following.append(((regenerated, before, empty), fr | {prim.friend}))
            else:
                summary = lookup(prim.callee, prim.context, empty)
                fr2 = fr | {_via(f, prim.site) for f in summary.friends}
                regen = summary.regen if not prim.maybe else None
                new_regenerated = regenerated or regen is not None
                new_before = before or regen is Order.BEFORE
                for exit_empty in summary.exits or frozenset({empty}):
                    following.append(((new_regenerated, new_before, exit_empty), fr2))
        current = following
    return current


def _add(states: States, flags: Flags, friends: frozenset[FalseFriend]) -> bool:
    old = states.get(flags)
    if old is None:
        states[flags] = friends
        return True
    if friends <= old:
        return False
    states[flags] = old | friends
    return True


def forward(
    function: FunctionFacts, effects: Sequence[Sequence[Prim]], entry_empty: bool, lookup: Lookup
) -> list[States]:
    """The states reaching each node (before its effects)."""
    states: list[States] = [{} for _ in function.nodes]
    states[ENTRY][(False, False, entry_empty)] = frozenset()
    work = deque([ENTRY])
    queued = {ENTRY}
    while work:
        node = work.popleft()
        queued.discard(node)
        before = list(states[node].items())
        after: list[tuple[Flags, frozenset[FalseFriend]]] = []
        for flags, friends in before:
            after.extend(transfer(flags, friends, effects[node], lookup))
        for edge in function.successors[node]:
            changed = False
            for flags, friends in before if edge.exceptional else after:
                changed |= _add(states[edge.target], flags, friends)
            if changed and edge.target not in queued:
                queued.add(edge.target)
                work.append(edge.target)
    return states


def protected_after(
    function: FunctionFacts,
    effects: Sequence[Sequence[Prim]],
    starts: Iterable[tuple[int, bool]],
    lookup: Lookup,
) -> bool:
    """Clause 2: some path leads from the event to an exit, and every one passes an `either`
    regeneration. `starts` holds each node that carries the event (a `finally` block is
    built once per way out) with whether the session is empty after it. The node's own
    effects (a callee's regeneration) do not count."""
    seen: set[tuple[int, bool, bool]] = set()
    work: deque[tuple[int, bool, bool]] = deque()
    for node, empty in set(starts):
        for edge in function.successors[node]:
            if not edge.exceptional:
                work.append((edge.target, False, empty))
    reached_exit = False
    while work:
        item = work.popleft()
        if item in seen:
            continue
        seen.add(item)
        current, either, empty = item
        if current in (RETURN_EXIT, RAISE_EXIT):
            if not either:
                return False
            reached_exit = True
            continue
        outcomes = _either_transfer(either, empty, effects[current], lookup)
        for edge in function.successors[current]:
            if edge.exceptional:
                work.append((edge.target, either, empty))
            else:
                work.extend((edge.target, e, m) for e, m in outcomes)
    return reached_exit


def _either_transfer(
    either: bool, empty: bool, prims: Sequence[Prim], lookup: Lookup
) -> list[tuple[bool, bool]]:
    current = [(either, empty)]
    for prim in prims:
        following: list[tuple[bool, bool]] = []
        for e, m in current:
            if isinstance(prim, Regen):
                counts = prim.order is Order.EITHER and not (prim.needs_data and m)
                following.append((e or counts, m))
            elif isinstance(prim, Empty):
                following.append((e, True))
            elif isinstance(prim, (Write, Auth)):
                following.append((e, False))
            elif isinstance(prim, CallOf):
                summary = lookup(prim.callee, prim.context, m)
                counts = summary.regen is Order.EITHER and not prim.maybe
                for exit_empty in summary.exits or frozenset({m}):
                    following.append((e or counts, exit_empty))
            else:
                following.append((e, m))
        current = following
    return current


def summarize(
    function: FunctionFacts,
    context: Context,
    entry_empty: bool,
    effects: Sequence[Sequence[Prim]],
    lookup: Lookup,
) -> Summary:
    """Regeneration, exits, false friends and exposed auth events of one function."""
    states = forward(function, effects, entry_empty, lookup)
    exits = states[RETURN_EXIT]
    regenerated = [flags for flags in exits if flags[0]]
    regen: Order | None = None
    if exits and len(regenerated) == len(exits):
        regen = Order.BEFORE if any(flags[1] for flags in exits) else Order.EITHER
    friends: frozenset[FalseFriend] = frozenset().union(*(fr for flags, fr in exits.items() if not flags[0]))
    exposed: dict[tuple[AuthEvent, int], Exposure] = {}
    for nodes in statements(function, effects).values():
        open_nodes = [node for node in nodes if any(not flags[0] for flags in states[node])]
        if not open_nodes:
            continue  # clause 1: every path to the statement, through any copy, regenerated
        starts = [
            (node, flags[2])
            for node in nodes
            for before_flags, fr in states[node].items()
            for flags, _ in transfer(before_flags, fr, effects[node], lookup)
        ]
        if protected_after(function, effects, starts, lookup):
            continue
        for node in open_nodes:
            _expose(function, context, entry_empty, node, effects[node], states[node], lookup, exposed)
    return Summary(
        regen,
        bool(regenerated),
        frozenset(flags[2] for flags in exits),
        friends,
        tuple(exposed.values()),
    )


def statements(function: FunctionFacts, effects: Sequence[Sequence[Prim]]) -> dict[Event, list[int]]:
    """The nodes of each statement that is an auth event or a project call. A `finally`
    block is built once per way out of its `try`; its copies carry equal events, and
    SPEC §7 decides the statement once, over the paths through all of them."""
    grouped: dict[Event, list[int]] = {}
    for node, prims in enumerate(effects):
        if any(isinstance(p, (Auth, CallOf)) for p in prims):
            grouped.setdefault(function.events[function.nodes[node].event], []).append(node)
    return grouped


def _expose(
    function: FunctionFacts,
    context: Context,
    entry_empty: bool,
    node: int,
    prims: Sequence[Prim],
    states: States,
    lookup: Lookup,
    exposed: dict[tuple[AuthEvent, int], Exposure],
) -> None:
    """Record what an unprotected node exposes: its own auth events, and what the project
    functions it calls expose, each with the chain that leads there."""
    open_states = [(flags, fr) for flags, fr in states.items() if not flags[0]]
    for prim in prims:
        if isinstance(prim, Auth):
            hop = Hop(function.qualname, context, entry_empty, node, prim.event.site)
            path_friends = frozenset().union(*(fr for _, fr in open_states))
            exposed.setdefault((prim.event, node), Exposure(prim.event, node, (hop,), path_friends))
        elif isinstance(prim, CallOf):
            for (_, _, empty), fr in open_states:
                callee = lookup(prim.callee, prim.context, empty)
                for inner in callee.exposed:
                    hop = Hop(function.qualname, context, entry_empty, node, prim.site)
                    exposure = Exposure(
                        inner.event,
                        node,
                        (hop, *inner.hops),
                        fr | {_via(f, prim.site) for f in inner.friends},
                    )
                    exposed.setdefault((inner.event, node), exposure)
