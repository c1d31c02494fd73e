"""The statements that branch, loop or catch, over `cfg.StatementGraph`'s primitives:
`if`, `while`, `for`, `with`, `try` and `match` (their paths are described in `cfg`)."""

from __future__ import annotations

import ast

from sessguard.extract.cfg import StatementGraph
from sessguard.extract.facts import NodeKind
from sessguard.extract.flow import (
    CATCH_ALL,
    SUPPRESSORS,
    Catch,
    Finally,
    Frontier,
    Loop,
    Pending,
    always_matches,
    constant_truth,
)


class GraphBuilder(StatementGraph):
    """A function's control-flow graph, statement by statement (SPEC §7)."""

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
