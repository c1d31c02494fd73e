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

from sessguard.extract.events import EventCollector, segment
from sessguard.extract.facts import ENTRY, RAISE_EXIT, RETURN_EXIT, Edge, Event, Node, NodeKind
from sessguard.extract.flow import (
    CATCH_ALL,
    SUPPRESSORS,
    Catch,
    Finally,
    Frame,
    Frontier,
    Graph,
    Loop,
    Pending,
    always_matches,
    constant_truth,
    may_fail,
)
from sessguard.extract.refs import FunctionScope
from sessguard.extract.walk import NO_DEADLINE, Deadline
from sessguard.model import Span
from sessguard.source import Source

LABEL_TEXT = 60


class GraphBuilder:
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

    def stmt_If(self, stmt: ast.If, frontier: Frontier) -> Frontier:
        frontier = self.expression(stmt.test, frontier)
        if not frontier:
            return []
        constant = constant_truth(stmt.test)
        text = self.label(stmt.test)
        frontier = self.settled(frontier, stmt.lineno)
        when_true, when_false = self.guards(stmt.test)
        result: Frontier = []
        if constant is not False:
            taken = self.relabel(frontier, f"`if {text}` is true", stmt.lineno, when_true)
            result += self.block(stmt.body, taken)
        if constant is not True:
            otherwise = self.relabel(frontier, f"`if {text}` is false", stmt.lineno, when_false)
            result += self.block(stmt.orelse, otherwise) if stmt.orelse else otherwise
        return result

    def guards(self, test: ast.expr) -> tuple[tuple[str, str, str] | None, tuple[str, str, str] | None]:
        """What a test of a parameter requires of its value on each branch (SPEC §7,
        literal arguments): `if sign_in:`, `if not sign_in:`, `if mode is None:`,
        `if mode == "admin":`."""
        negate = False
        while isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
            negate, test = not negate, test.operand
        found: tuple[tuple[str, str, str], tuple[str, str, str]] | None = None
        if isinstance(test, ast.Name) and self.scope.own_param(test.id):
            found = (test.id, "truthy", ""), (test.id, "falsy", "")
        elif (
            isinstance(test, ast.Compare)
            and len(test.ops) == 1
            and isinstance(test.left, ast.Name)
            and self.scope.own_param(test.left.id)
            and isinstance(test.comparators[0], ast.Constant)
        ):
            value = repr(test.comparators[0].value)
            pairs = {
                ast.Is: ("is", "is not"),
                ast.IsNot: ("is not", "is"),
                ast.Eq: ("==", "!="),
                ast.NotEq: ("!=", "=="),
            }
            ops = pairs.get(type(test.ops[0]))
            if ops is not None:
                found = (test.left.id, ops[0], value), (test.left.id, ops[1], value)
        if found is None:
            return None, None
        self.guarded.add(found[0][0])
        return (found[1], found[0]) if negate else found

    def stmt_While(self, stmt: ast.While, frontier: Frontier) -> Frontier:
        head = self.node(NodeKind.JOIN, stmt.lineno)
        self.connect(frontier, head)
        if constant_truth(stmt.test) is None:
            self.may_stop([Pending(head)])  # the test runs again at every round
        tested = self.settled(self.expression(stmt.test, [Pending(head)]), stmt.lineno)
        loop = Loop(head)
        self.frames.append(loop)
        text = self.label(stmt.test)
        body_end = self.block(stmt.body, self.relabel(tested, f"`while {text}` runs its body", stmt.lineno))
        self.frames.pop()
        self.connect(body_end, head)
        exits: Frontier = []
        if constant_truth(stmt.test) is not True:
            done = self.relabel(tested, f"`while {text}` stops (its body may not run)", stmt.lineno)
            exits = self.block(stmt.orelse, done) if stmt.orelse else done
        return exits + loop.breaks

    def stmt_For(self, stmt: ast.For | ast.AsyncFor, frontier: Frontier) -> Frontier:
        collector = self.collector(self.span(stmt.iter))
        collector.iterated(stmt.iter)
        frontier = self.run(collector, frontier)
        if not frontier:
            return []
        head = self.node(NodeKind.JOIN, stmt.lineno)
        self.connect(frontier, head)
        loop = Loop(head)
        self.frames.append(loop)
        text = self.label(stmt.iter)
        body_end = self.block(
            stmt.body, [Pending(head, f"the `for` loop over `{text}` runs its body", stmt.lineno)]
        )
        self.frames.pop()
        self.connect(body_end, head)
        done = [Pending(head, f"the `for` loop over `{text}` ends (it may run zero times)", stmt.lineno)]
        exits = self.block(stmt.orelse, done) if stmt.orelse else done
        return exits + loop.breaks

    stmt_AsyncFor = stmt_For

    def stmt_With(self, stmt: ast.With | ast.AsyncWith, frontier: Frontier) -> Frontier:
        suppress = False
        for item in stmt.items:
            frontier = self.expression(item.context_expr, frontier)
            if isinstance(item.context_expr, ast.Call):
                suppress |= self.scope.resolve_qual(item.context_expr.func) in SUPPRESSORS
        if not frontier:
            return []
        if not suppress:
            return self.block(stmt.body, frontier)
        landing = self.node(NodeKind.JOIN, stmt.lineno)
        self.frames.append(Catch(landing))
        self.connect(frontier, landing)
        end = self.block(stmt.body, frontier)
        self.frames.pop()
        return [*end, Pending(landing, "an exception is suppressed by the `with` block", stmt.lineno)]

    stmt_AsyncWith = stmt_With

    def stmt_Try(self, stmt: ast.Try, frontier: Frontier) -> Frontier:
        handlers = stmt.handlers
        if stmt.finalbody:
            self.frames.append(Finally(stmt.finalbody))
        landing = -1
        if handlers or stmt.finalbody:
            landing = self.node(NodeKind.JOIN, stmt.lineno)
            catches_all = any(h.type is None or self._catches_all(h.type) for h in handlers)
            self.frames.append(Catch(landing, catches_all, bool(handlers)))
            self.connect(frontier, landing)
        body_end = self.block(stmt.body, frontier)
        if landing >= 0:
            self.frames.pop()
        # An exception from the `else` block or a handler still runs this `finally` before
        # it reaches an outer handler: give them a landing of their own that leads there
        # through the `finally` (an event's exceptional edge goes to the innermost landing).
        after_body = -1
        if handlers and stmt.finalbody:
            after_body = self.node(NodeKind.JOIN, stmt.lineno)
            self.frames.append(Catch(after_body, handles=False))
        normal = self.block(stmt.orelse, body_end) if stmt.orelse else body_end
        if handlers:
            caught_all = False
            for handler in handlers:
                name = self.label(handler.type) if handler.type is not None else ""
                caught_all |= handler.type is None or self._catches_all(handler.type)
                label = (
                    f"`except {name}` (line {handler.lineno}) catches an exception from the try body"
                    if name
                    else f"`except` (line {handler.lineno}) catches an exception from the try body"
                )
                normal += self.block(handler.body, [Pending(landing, label, handler.lineno)])
            if after_body >= 0:
                self.frames.pop()
                if self.handled_outside():
                    self.raise_from([Pending(after_body)], stmt.lineno, implicit=True)
            if not caught_all and self.handled_outside():
                # an exception no handler names goes on outward (with no outer handler
                # the path ends there, at no exit)
                uncaught = [Pending(landing, "the exception is not caught", stmt.lineno)]
                self.raise_from(uncaught, stmt.lineno, implicit=True)
        elif stmt.finalbody and self.handled_outside():
            # try/finally: an exception runs the finally block (still on the frame stack),
            # then leaves to an outer handler
            self.raise_from([Pending(landing)], stmt.lineno, implicit=True)
        if stmt.finalbody:
            self.frames.pop()
            normal = self.block(stmt.finalbody, normal)
        return normal

    stmt_TryStar = stmt_Try

    def _catches_all(self, node: ast.expr) -> bool:
        names = [node] if not isinstance(node, ast.Tuple) else list(node.elts)
        return any(isinstance(n, ast.Name) and n.id in CATCH_ALL for n in names)

    def stmt_Match(self, stmt: ast.Match, frontier: Frontier) -> Frontier:
        frontier = self.expression(stmt.subject, frontier)
        if not frontier:
            return []
        frontier = self.settled(frontier, stmt.lineno)
        result: Frontier = []
        irrefutable = False
        for case in stmt.cases:
            pattern = self.label(case.pattern)
            taken = self.relabel(frontier, f"`case {pattern}` matches", case.pattern.lineno)
            if case.guard is not None:
                taken = self.expression(case.guard, taken, maybe=True)
            result += self.block(case.body, taken)
            irrefutable |= case.guard is None and always_matches(case.pattern)
        if not irrefutable:
            result += self.relabel(
                frontier, f"no `case` of the `match` at line {stmt.lineno} matches", stmt.lineno
            )
        return result
