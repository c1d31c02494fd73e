"""A control-flow graph per function, over the events of its statements (SPEC §7).

Paths follow Python: both branches of `if`, every `case` of a `match` (and no case, unless
one is irrefutable), loops that may run zero times, `break`/`continue`, `return` and
`raise` ending a path, `try` bodies that may stop at their start and before any
statement that can fail (a call, any evaluation; not `pass` or `break`) into their
handlers, `finally` on every way out (built once per way out, and run by an exception
from a handler too), `with` bodies in order. Nested functions and classes are not run
where they are defined.

An edge into a handler is *exceptional*: it leaves its source before the source's event
took effect, so a regeneration that raised has not happened on the handler's path. A try
body that ran to its end does not enter the handler: nothing is left that could raise.
"""

from __future__ import annotations

import ast

from sessguard.extract.events import EventCollector
from sessguard.extract.facts import ENTRY, RAISE_EXIT, RETURN_EXIT, Edge, Event, Node, NodeKind
from sessguard.extract.flow import (
    Catch,
    Finally,
    Frame,
    Frontier,
    Graph,
    Loop,
    Pending,
    may_fail,
)
from sessguard.extract.refs import FunctionScope
from sessguard.extract.text import segment
from sessguard.extract.walk import NO_DEADLINE, Deadline
from sessguard.model import Span
from sessguard.source import Source

LABEL_TEXT = 60


class StatementGraph:
    """The graph's primitives and the statements that do not branch (`compound` adds
    those that do: `GraphBuilder`)."""

    def __init__(self, scope: FunctionScope, source: Source, deadline: Deadline = NO_DEADLINE) -> None:
        self.scope = scope
        self.source = source
        self.deadline = deadline
        self.nodes: list[Node] = [
            Node(NodeKind.ENTRY),
            Node(NodeKind.RETURN_EXIT),
            Node(NodeKind.RAISE_EXIT),
        ]
        self.succ: list[list[Edge]] = [[], [], []]
        self.events: list[Event] = []
        self.frames: list[Frame] = []
        self.guarded: set[str] = set()  # parameters some branch tests

    # -- graph primitives --------------------------------------------------------------

    def node(self, kind: NodeKind, line: int = 0, event: int = -1) -> int:
        self.deadline.tick()
        self.nodes.append(Node(kind, event, line))
        self.succ.append([])
        index = len(self.nodes) - 1
        catch = self.innermost_catch()
        if catch is not None and kind is NodeKind.EVENT:
            self.succ[index].append(Edge(catch.landing, exceptional=True))
        return index

    def connect(self, frontier: Frontier, target: int) -> None:
        for pending in frontier:
            edge = Edge(target, label=pending.label, line=pending.line, guard=pending.guard)
            if edge not in self.succ[pending.node]:
                self.succ[pending.node].append(edge)

    def settled(self, frontier: Frontier, line: int) -> Frontier:
        """The frontier with its pending labels kept on one join, so that the branches of
        the next condition all leave from there (two joins would each carry the earlier
        label, and a witness would blame the wrong condition)."""
        if any(p.label or p.guard for p in frontier):
            join = self.node(NodeKind.JOIN, line)
            self.connect(frontier, join)
            return [Pending(join)]
        return frontier

    def relabel(
        self, frontier: Frontier, label: str, line: int, guard: tuple[str, str, str] | None = None
    ) -> Frontier:
        """The same frontier, taken because of `label` (earlier labels kept on a join), and
        only when `guard` holds of the parameter it tests."""
        return [Pending(p.node, label, line, guard) for p in self.settled(frontier, line)]

    def innermost_catch(self) -> Catch | None:
        for frame in reversed(self.frames):
            if isinstance(frame, Catch):
                return frame
        return None

    def handled_outside(self) -> bool:
        """Whether an exception raised here can reach a handler of this function (with none,
        an unexpected exception ends its path at no exit, whatever `finally` blocks it runs)."""
        return any(isinstance(frame, Catch) and frame.handles for frame in self.frames)

    def label(self, node: ast.AST) -> str:
        text = segment(self.source, node)
        return text if len(text) <= LABEL_TEXT else text[: LABEL_TEXT - 1] + "…"

    def span(self, node: ast.AST) -> Span:
        line = node.lineno  # type: ignore[attr-defined]
        end_line = node.end_lineno or line  # type: ignore[attr-defined]
        return Span(
            line,
            self.source.column(line, node.col_offset),  # type: ignore[attr-defined]
            end_line,
            self.source.column(end_line, node.end_col_offset or 0),  # type: ignore[attr-defined]
        )

    # -- entry point -------------------------------------------------------------------

    def build(self, body: list[ast.stmt]) -> Graph:
        end = self.block(body, [Pending(ENTRY)])
        self.connect(end, RETURN_EXIT)
        return Graph(
            tuple(self.nodes),
            tuple(tuple(edges) for edges in self.succ),
            tuple(self.events),
            frozenset(self.guarded),
        )

    def block(self, body: list[ast.stmt], frontier: Frontier) -> Frontier:
        for stmt in body:
            if not frontier:
                break  # unreachable code after return/raise/break
            frontier = self.statement(stmt, frontier)
        return frontier

    # -- events ------------------------------------------------------------------------

    def may_stop(self, frontier: Frontier) -> None:
        """An exception may stop the code here, before what comes next has run (SPEC §7: a
        `try` body may stop at any statement). Events carry such an edge themselves; this
        one is for the statements and loop tests around them that can fail too (any call,
        any attribute or item access), so that what a try body did before its last event
        is not all that its handler can follow."""
        catch = self.innermost_catch()
        if catch is not None:
            self.connect(frontier, catch.landing)

    def run(self, collector: EventCollector, frontier: Frontier) -> Frontier:
        for event in collector.events:
            self.events.append(event)
            index = self.node(NodeKind.EVENT, event.span.line, len(self.events) - 1)
            self.connect(frontier, index)
            frontier = [Pending(index)]
        if collector.noreturn:
            self.raise_from(frontier, collector.stmt.line)
            return []
        return frontier

    def collector(self, stmt_span: Span) -> EventCollector:
        return EventCollector(self.scope, self.source, stmt_span)

    def expression(self, node: ast.expr | None, frontier: Frontier, maybe: bool = False) -> Frontier:
        if node is None:
            return frontier
        collector = self.collector(self.span(node))
        collector.expr(node, maybe)
        return self.run(collector, frontier)

    # -- jumps -------------------------------------------------------------------------

    def unwind(self, frontier: Frontier, stop: type | None) -> tuple[Frontier, Frame | None]:
        """Run the `finally` blocks between here and the first frame of type `stop`."""
        saved = self.frames
        index = len(saved) - 1
        while index >= 0 and frontier:
            frame = saved[index]
            if stop is not None and isinstance(frame, stop):
                return frontier, frame
            if isinstance(frame, Finally):
                self.frames = saved[:index]
                frontier = self.block(frame.body, frontier)
                self.frames = saved
            index -= 1
        return frontier, None

    def return_from(self, frontier: Frontier) -> None:
        frontier, _ = self.unwind(frontier, None)
        self.connect(frontier, RETURN_EXIT)

    def raise_from(self, frontier: Frontier, line: int, implicit: bool = False) -> None:
        """A raise, through the `finally` blocks, to the innermost handler or out of the
        function. An `implicit` one (a statement of a `try` body failing unexpectedly, an
        exception the handlers do not name) that no handler catches ends its path without
        reaching an exit: it is a server error, not a way the request completes (SPEC §7
        counts `raise` statements that leave the function)."""
        node = self.node(NodeKind.RAISE, line)
        self.connect(frontier, node)
        saved = self.frames
        index = len(saved) - 1
        current: Frontier = [Pending(node)]
        while index >= 0 and current:
            frame = saved[index]
            if isinstance(frame, Catch) and (implicit or frame.handles):
                self.connect(current, frame.landing)
                if implicit or frame.catches_all:
                    return
            if isinstance(frame, Finally):
                self.frames = saved[:index]
                current = self.block(frame.body, current)
                self.frames = saved
            index -= 1
        if not implicit:
            self.connect(current, RAISE_EXIT)

    # -- statements --------------------------------------------------------------------

    def statement(self, stmt: ast.stmt, frontier: Frontier) -> Frontier:
        if may_fail(stmt):
            self.may_stop(frontier)
        handler = getattr(self, "stmt_" + type(stmt).__name__, None)
        if handler is not None:
            result: Frontier = handler(stmt, frontier)
            return result
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            return frontier
        return self.simple(stmt, frontier)

    def simple(self, stmt: ast.stmt, frontier: Frontier) -> Frontier:
        collector = self.collector(self.span(stmt))
        if isinstance(stmt, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            collector.assignment = stmt
        if isinstance(stmt, ast.Expr):
            collector.expr(stmt.value)
        elif isinstance(stmt, ast.Assign):
            collector.expr(stmt.value)
            for target in stmt.targets:
                collector.store(target, stmt.value)
        elif isinstance(stmt, ast.AnnAssign):
            if stmt.value is not None:
                collector.expr(stmt.value)
                collector.store(stmt.target, stmt.value)
        elif isinstance(stmt, ast.AugAssign):
            collector.augmented(stmt)
        elif isinstance(stmt, ast.Delete):
            for target in stmt.targets:
                collector.delete(target)
        return self.run(collector, frontier)

    def stmt_Return(self, stmt: ast.Return, frontier: Frontier) -> Frontier:
        collector = self.collector(self.span(stmt))
        collector.expr(stmt.value)
        frontier = self.run(collector, frontier)
        if frontier:
            node = self.node(NodeKind.RETURN, stmt.lineno)
            self.connect(frontier, node)
            self.return_from([Pending(node)])
        return []

    def stmt_Raise(self, stmt: ast.Raise, frontier: Frontier) -> Frontier:
        collector = self.collector(self.span(stmt))
        collector.expr(stmt.exc)
        collector.expr(stmt.cause)
        frontier = self.run(collector, frontier)
        if frontier:
            self.raise_from(frontier, stmt.lineno)
        return []

    def stmt_Assert(self, stmt: ast.Assert, frontier: Frontier) -> Frontier:
        frontier = self.expression(stmt.test, frontier)
        if not frontier:
            return []
        text = self.label(stmt.test)
        frontier = self.settled(frontier, stmt.lineno)
        self.raise_from(self.relabel(frontier, f"`assert {text}` fails", stmt.lineno), stmt.lineno)
        return self.relabel(frontier, f"`assert {text}` holds", stmt.lineno)

    def stmt_Break(self, stmt: ast.Break, frontier: Frontier) -> Frontier:
        frontier, loop = self.unwind(frontier, Loop)
        if isinstance(loop, Loop):
            loop.breaks.extend(frontier)
        return []

    def stmt_Continue(self, stmt: ast.Continue, frontier: Frontier) -> Frontier:
        frontier, loop = self.unwind(frontier, Loop)
        if isinstance(loop, Loop):
            self.connect(frontier, loop.head)
        return []
