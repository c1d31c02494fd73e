"""SPEC §7 by brute force: list every path of a function, then read the rules off the paths.

A path is the sequence of effects it passes (auth events, regenerations) and how it ends.
Loops are unrolled a bounded number of times; that is enough here because an effect
sequence only matters up to repetition of what one iteration adds. A `while True:` path
still looping at the bound is kept as `STUCK`: it reaches the events on it, but it is
not a path to an exit.

The reading of §7 encoded here, statement by statement:

- `if`: both branches. `for`, `while <condition>`: zero or more iterations, `break`
  leaves (skipping a `for`'s `else`), `continue` goes round again. `while True:` is left
  only by `break`, `return` and `raise`.
- `return`, the end of the body, and a `raise` that leaves the function are exits.
- In the body of a `try` that has a handler, the body may stop at its start, and any
  statement that evaluates something may stop before it has run (so a regeneration that
  raises has not happened) and go to the handler: a call, a write, a `return` of a call,
  an `if` test, a `for` loop's iterable (evaluated once), a `while` test (at every
  round); not `break`, `continue` or `while True:`, which cannot fail. An explicit
  `raise` goes there too. `finally` runs on every path that leaves its `try`.
- A call of a helper is one statement: an auth event when the helper exposes an event, a
  regeneration when the helper regenerates on every path that returns normally (order
  `before` if any of those regenerations is `before`), both at once possibly; its own
  regeneration never protects the event it exposes. It never ends a path.
- Protected: every path from the entry to the event passes a regeneration, or at least
  one path goes from the event to an exit and every such path passes an `either` one.
- Folding: an unprotected event that comes after one same other unprotected event on
  every path that reaches it is not reported.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from oracle.programs import (
    Block,
    Break,
    Call,
    Continue,
    Event,
    FalseFriend,
    For,
    If,
    Neutral,
    Program,
    Raise,
    Regen,
    Return,
    Stmt,
    Try,
    While,
    WhileTrue,
)

NORMAL, BREAK, CONTINUE, RETURN, RAISE, STUCK = "normal", "break", "continue", "return", "raise", "stuck"
EXITS = frozenset({NORMAL, RETURN, RAISE})
LOOP_BOUND = 3


ORDER_CODES = {"": 0, "before": 1, "either": 2}
Effect = int  # what one statement does on a path: see `effect`


def effect(event_line: int, order: str) -> Effect:
    """An effect as one number (paths are hashed by the million): the line of the auth
    event (0 for none) and the order of the regeneration ("" for none)."""
    return event_line * 4 + ORDER_CODES[order]


def event_line(e: Effect) -> int:
    return e >> 2


def regenerates(e: Effect) -> bool:
    return e & 3 != 0


def regenerates_either(e: Effect) -> bool:
    return e & 3 == ORDER_CODES["either"]


def regenerates_before(e: Effect) -> bool:
    return e & 3 == ORDER_CODES["before"]


Path = tuple[Effect, ...]
Ending = tuple[Path, str]


@dataclass(frozen=True)
class Summary:
    exposes: bool
    order: str  # "" when the helper does not regenerate on every path that returns


class TooManyPaths(Exception):
    """The program has more paths than the enumerator is willing to list."""


WORK_LIMIT = 50_000  # endings built per function, in all


def _join(head: Path, tail: Path) -> Path:
    """Concatenate, dropping an effect that repeats the one before it: a repeat changes
    none of the rules (the same event twice in a row, or the same regeneration)."""
    if head and tail and head[-1] == tail[0]:
        tail = tail[1:]
    return head + tail


class Enumerator:
    def __init__(self, summaries: tuple[Summary, ...], reached: set[int]) -> None:
        self.summaries = summaries
        self.reached = reached  # the helpers some path calls (shared by all functions)
        self.work = 0

    def spend(self, endings: int) -> None:
        self.work += endings
        if self.work > WORK_LIMIT:
            raise TooManyPaths

    def function(self, body: Block) -> frozenset[Ending]:
        return self.block(body, False)

    @functools.cache  # noqa: B019 - one enumerator per program, dropped after
    def block(self, body: Block, catchable: bool) -> frozenset[Ending]:
        """The endings of running `body` from its start; `catchable` when a `try` around
        it (in this function) has a handler."""
        running: set[Path] = {()}
        ended: set[Ending] = set()
        for stmt in body:
            following: set[Path] = set()
            for head in running:
                for tail, how in self.stmt(stmt, catchable):
                    if how == NORMAL:
                        following.add(_join(head, tail))
                    else:
                        ended.add((_join(head, tail), how))
            running = following
            self.spend(len(running) + len(ended))
        return frozenset(ended | {(path, NORMAL) for path in running})

    @functools.cache  # noqa: B019
    def stmt(self, s: Stmt, catchable: bool) -> frozenset[Ending]:
        fails = catchable and not isinstance(s, (Break, Continue, WhileTrue, Try, While))
        stopped: set[Ending] = {((), RAISE)} if fails else set()
        return frozenset(stopped | self._runs(s, catchable))

    def _runs(self, s: Stmt, catchable: bool) -> set[Ending]:
        if isinstance(s, Event):
            return {((effect(s.line, ""),), NORMAL)}
        if isinstance(s, Regen):
            return {((effect(0, s.order),), NORMAL)}
        if isinstance(s, (FalseFriend, Neutral)):
            return {((), NORMAL)}
        if isinstance(s, Call):
            self.reached.add(s.helper)
            summary = self.summaries[s.helper]
            if not summary.exposes and not summary.order:
                return {((), NORMAL)}
            return {((effect(s.line if summary.exposes else 0, summary.order),), NORMAL)}
        if isinstance(s, Return):
            return {((), RETURN)}
        if isinstance(s, Raise):
            return {((), RAISE)}
        if isinstance(s, Break):
            return {((), BREAK)}
        if isinstance(s, Continue):
            return {((), CONTINUE)}
        if isinstance(s, If):
            return set(self.block(s.then, catchable) | self.block(s.orelse, catchable))
        if isinstance(s, (For, While)):
            return self._loop(s, catchable, exhausts=True)
        if isinstance(s, WhileTrue):
            return self._loop(s, catchable, exhausts=False)
        assert isinstance(s, Try)
        return self._try(s, catchable)

    def _loop(self, loop: For | While | WhileTrue, catchable: bool, exhausts: bool) -> set[Ending]:
        body, orelse = loop.body, loop.orelse if isinstance(loop, For) else ()
        while_test = isinstance(loop, While)
        out: set[Ending] = set()
        at_head: set[Path] = {()}
        for _ in range(LOOP_BOUND + 1):
            again: set[Path] = set()
            for head in at_head:
                if while_test and catchable:  # the test is evaluated at every round
                    out.add((head, RAISE))
                if exhausts:  # the condition is false (or the iterator is empty): leave
                    out |= {(_join(head, tail), how) for tail, how in self.block(orelse, catchable)}
                tails = self.block(body, catchable)
                self.spend(len(tails))
                for tail, how in tails:
                    path = _join(head, tail)
                    if how in (NORMAL, CONTINUE):
                        again.add(path)
                    elif how == BREAK:
                        out.add((path, NORMAL))
                    else:
                        out.add((path, how))
            at_head = again
            self.spend(len(out) + len(at_head))
        if not exhausts:
            out |= {(path, STUCK) for path in at_head}
        return out

    def _try(self, s: Try, catchable: bool) -> set[Ending]:
        body = self.block(s.body, True if s.handler is not None else catchable)
        if s.handler is not None:  # the body may stop before its first statement has run
            body |= {((), RAISE)}
        handled: set[Ending] = set()
        for path, how in body:
            if how == RAISE and s.handler is not None:
                handled |= {(_join(path, tail), then) for tail, then in self.block(s.handler, catchable)}
            else:
                handled.add((path, how))
        self.spend(len(handled))
        if s.final is None:
            return handled
        out: set[Ending] = set()
        for path, how in handled:
            if how == STUCK:
                out.add((path, how))
                continue
            for tail, then in self.block(s.final, catchable):
                out.add((_join(path, tail), how if then == NORMAL else then))
        return out


def _occurrences(endings: frozenset[Ending], line: int) -> list[tuple[Path, int, str]]:
    return [
        (path, index, how) for path, how in endings for index, e in enumerate(path) if event_line(e) == line
    ]


def unprotected(endings: frozenset[Ending]) -> set[int]:
    """The lines of the auth events that neither rule of §7 protects."""
    lines = {event_line(e) for path, _ in endings for e in path if event_line(e)}
    found = set()
    for line in lines:
        seen = _occurrences(endings, line)
        before = all(any(regenerates(e) for e in path[:index]) for path, index, _ in seen)
        to_exit = [(path, index) for path, index, how in seen if how in EXITS]
        after = bool(to_exit) and all(
            any(regenerates_either(e) for e in path[index + 1 :]) for path, index in to_exit
        )
        if not (before or after):
            found.add(line)
    return found


def reported(endings: frozenset[Ending]) -> set[int]:
    """The unprotected events left once each is folded into another unprotected event that
    comes before it on every path."""
    open_events = unprotected(endings)
    kept = set()
    for line in open_events:
        seen = _occurrences(endings, line)
        earlier = [{event_line(e) for e in path[:index]} for path, index, _ in seen]
        if not any(all(other in lines for lines in earlier) for other in open_events - {line}):
            kept.add(line)
    return kept


def summarise(body: Block, enumerator: Enumerator) -> Summary:
    endings = enumerator.function(body)
    returning = [path for path, how in endings if how in (NORMAL, RETURN)]
    regenerating = bool(returning) and all(any(regenerates(e) for e in path) for path in returning)
    order = ""
    if regenerating:
        order = "before" if any(regenerates_before(e) for path in returning for e in path) else "either"
    return Summary(bool(unprotected(endings)), order)


def verdict(program: Program) -> set[int]:
    """The lines of `program` where SPEC §7 says a finding is reported: in the view, and in
    each helper that no code calls (a root too, §2). A call that no path reaches (after a
    `return`, say) is no call: that code never calls the helper."""
    reached: set[int] = set()
    summaries: list[Summary] = []
    for body in program.helpers:
        summaries.append(summarise(body, Enumerator(tuple(summaries), reached)))
    enumerator = Enumerator(tuple(summaries), reached)
    found = reported(enumerator.function(program.view))
    for index, body in enumerate(program.helpers):
        if index not in reached:
            found |= reported(enumerator.function(body))
    return found
