"""The events of one statement, in Python's evaluation order: a call's receiver and
arguments before the call, an assignment's value before its target. Operands that may not
run (the right side of `and`/`or`, conditional expressions, comprehensions) produce events
marked `maybe`.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator

from sessguard.extract.facts import Arg, Event, EventKind, Key, Ref, RefKind
from sessguard.extract.names import dotted
from sessguard.extract.reads import ITERATED, PASSED, ReadCollector, may_be_session
from sessguard.extract.refs import FunctionScope, call_arguments
from sessguard.extract.text import literal_arguments, segment
from sessguard.extract.values import from_provider, is_empty, key_of, principal_identity
from sessguard.extract.walk import children, subclasses
from sessguard.model import Span
from sessguard.source import Source

WRITE_METHODS_WITH_KEY = frozenset({"setdefault", "aset", "asetdefault"})
WRITE_METHODS_WITH_MAPPING = frozenset({"update", "aupdate", "set_session"})
# methods of a session that only read it: no event, whatever the store's session class
READ_METHODS = frozenset({"get", "keys", "items", "values", "copy", "aget", "akeys", "aitems", "avalues"})
_EXPRESSIONS = subclasses(ast.expr)
# the expressions `EventCollector.expr` only walks into (every other one it reads itself)
_PLAIN = _EXPRESSIONS - {
    ast.Call,
    ast.BoolOp,
    ast.IfExp,
    ast.ListComp,
    ast.SetComp,
    ast.GeneratorExp,
    ast.DictComp,
    ast.Lambda,
    ast.NamedExpr,
    ast.Subscript,
    ast.Compare,
}


class EventCollector(ReadCollector):
    """Turns the expressions of one statement into events, in evaluation order."""

    def __init__(self, scope: FunctionScope, source: Source, stmt: Span) -> None:
        self.scope = scope
        self.source = source
        self.stmt = stmt
        self.events: list[Event] = []
        self.noreturn = False
        # the assignment being collected: a write is shown as the whole statement
        self.assignment: ast.stmt | None = None

    # -- helpers -----------------------------------------------------------------------

    def span(self, node: ast.AST) -> Span:
        line = getattr(node, "lineno", self.stmt.line)
        end_line = getattr(node, "end_lineno", None) or line
        column = self.source.column(line, getattr(node, "col_offset", 0))
        end_col = getattr(node, "end_col_offset", None)
        end_column = self.source.column(end_line, end_col) if end_col is not None else column
        return Span(line, column, end_line, end_column)

    def text(self, node: ast.AST) -> str:
        return segment(self.source, node)

    def emit(self, kind: EventKind, node: ast.AST, maybe: bool, **fields: object) -> None:
        shown = self.assignment if kind is not EventKind.CALL and self.assignment is not None else node
        self.events.append(
            Event(kind, self.span(node), self.stmt, self.text(shown), maybe, **fields)  # type: ignore[arg-type]
        )

    # -- expressions -------------------------------------------------------------------

    def expr(self, node: ast.expr | None, maybe: bool = False) -> None:
        if node is None:
            return
        kind = node.__class__  # tested by identity: this runs for every expression
        if kind is ast.Call:
            self.call(node, maybe)  # type: ignore[arg-type]
        elif kind in _PLAIN:
            for child in children(node):
                child_kind = child.__class__
                if child_kind in _EXPRESSIONS:
                    self.expr(child, maybe)  # type: ignore[arg-type]
                elif child_kind is ast.keyword:
                    self.expr(child.value, maybe)  # type: ignore[attr-defined]
        elif isinstance(node, ast.BoolOp):
            self.expr(node.values[0], maybe)
            for value in node.values[1:]:
                self.expr(value, True)
        elif isinstance(node, ast.IfExp):
            self.expr(node.test, maybe)
            self.expr(node.body, True)
            self.expr(node.orelse, True)
        elif isinstance(node, (ast.ListComp, ast.SetComp, ast.GeneratorExp, ast.DictComp)):
            first, *rest = node.generators
            self.iterated(first.iter, maybe)
            for gen in rest:
                self.iterated(gen.iter, True)
            for gen in node.generators:
                for cond in gen.ifs:
                    self.expr(cond, True)
            if isinstance(node, ast.DictComp):
                self.expr(node.key, True)
                self.expr(node.value, True)
            else:
                self.expr(node.elt, True)
        elif isinstance(node, ast.Lambda):
            return
        elif isinstance(node, ast.NamedExpr):
            self.expr(node.value, maybe)
        elif isinstance(node, ast.Subscript) and self.subscript_read(node, maybe):
            self.expr(node.slice, maybe)
        else:
            if isinstance(node, ast.Compare):
                self.membership_reads(node, maybe)
            for child in children(node):
                if isinstance(child, ast.expr):
                    self.expr(child, maybe)
                elif isinstance(child, ast.keyword):
                    self.expr(child.value, maybe)
                elif isinstance(child, ast.comprehension):
                    self.expr(child.iter, True)

    def call(self, node: ast.Call, maybe: bool) -> None:
        func = node.func
        receiver: Ref | None = None
        if isinstance(func, ast.Attribute):
            receiver = self.scope.ref_of(func.value)
            if receiver is None or receiver.kind is RefKind.RESULT:
                self.expr(func.value, maybe)
        elif not isinstance(func, ast.Name):
            self.expr(func, maybe)
        for arg in node.args:
            self.expr(arg.value if isinstance(arg, ast.Starred) else arg, maybe)
        for keyword in node.keywords:
            self.expr(keyword.value, maybe)
        if isinstance(func, ast.Attribute) and may_be_session(receiver):
            assert receiver is not None
            self.method_read(node, func.attr, receiver, maybe)

        knowledge = self.scope.knowledge
        if isinstance(func, ast.Attribute) and receiver is not None:
            if (
                receiver.kind is RefKind.REQUEST
                and not receiver.path
                and func.attr in knowledge.request_methods
            ):
                session = Ref(
                    RefKind.SESSION, receiver.framework, receiver.param, ("session",), receiver.text
                )
                self.session_call(node, func.attr, session, maybe)
                return
            if receiver.kind is not RefKind.REQUEST and func.attr in knowledge.session_methods:
                self.session_call(node, func.attr, receiver, maybe)
                return
            if receiver.kind is RefKind.SESSION and func.attr not in READ_METHODS:
                # a method the store's own session class may define (`session.rotate()`)
                self.session_call(node, func.attr, receiver, maybe)
                return
        elif isinstance(func, ast.Attribute) and func.attr in knowledge.session_methods:
            symbol = self.scope.symbol_ref(func.value)
            if symbol is not None:
                # an imported object: a session if it names one, else maybe a project method
                self.session_call(node, func.attr, symbol, maybe)
        names = dotted(func)
        if names is not None and self.session_writer(node, tuple(names), maybe):
            return
        if not self.plain_call(node, maybe):
            for value in [*node.args, *(k.value for k in node.keywords)]:
                self.whole_read(value.value if isinstance(value, ast.Starred) else value, PASSED, maybe, node)

    def iterated(self, node: ast.expr, maybe: bool = False) -> None:
        """The iterable of a `for` loop or a comprehension."""
        if not self.whole_read(node, ITERATED, maybe):
            self.expr(node, maybe)

    def session_writer(self, node: ast.Call, names: tuple[str, ...], maybe: bool) -> bool:
        """A library call that writes a key into the request's session
        (`strategy.session_set(name, value)`), recognised by its attribute chain."""
        for suffix, (key_at, value_at) in self.scope.knowledge.session_write_calls.items():
            if names[-len(suffix) :] != suffix or len(node.args) <= max(key_at, value_at):
                continue
            session = Ref(RefKind.SESSION, None, text=".".join(names))
            self.write(node, "__setitem__", session, [(node.args[key_at], node.args[value_at])], maybe)
            return True
        return False

    def session_call(self, node: ast.Call, method: str, ref: Ref, maybe: bool) -> None:
        pairs: list[tuple[ast.expr, ast.expr | None]] = []
        if method in WRITE_METHODS_WITH_KEY and node.args:
            pairs.append((node.args[0], node.args[1] if len(node.args) > 1 else None))
        elif method in WRITE_METHODS_WITH_MAPPING:
            for arg in node.args:
                pairs.extend(self.mapping_items(arg))
            for keyword in node.keywords:
                if keyword.arg is not None:
                    pairs.append((ast.Constant(keyword.arg), keyword.value))
        literals = tuple(
            (kw.arg, repr(kw.value.value))
            for kw in node.keywords
            if kw.arg is not None and isinstance(kw.value, ast.Constant)
        )
        self.write(node, method, ref, pairs, maybe, literals)

    def write(
        self,
        node: ast.AST,
        op: str,
        ref: Ref,
        pairs: list[tuple[ast.expr, ast.expr | None]],
        maybe: bool,
        literals: tuple[tuple[str, str], ...] = (),
        kind: EventKind = EventKind.SESSION_CALL,
    ) -> None:
        """A session event with the keys it writes; a key whose value is empty is dropped
        (writing None under `user_id` logs out), and each kept key says whether its value
        is a principal's identity."""
        line = getattr(node, "lineno", self.stmt.line)
        kept = [(key, value) for key, value in pairs if not is_empty(value)]
        self.emit(
            kind,
            node,
            maybe,
            ref=ref,
            op=op,
            keys=tuple(key_of(self.scope, key) for key, _ in kept),
            provider_value=any(from_provider(self.scope, value) for _, value in kept),
            literals=literals,
            identities=tuple(principal_identity(self.scope, value, line) for _, value in kept),
            empty_value=bool(pairs) and not kept,
        )

    def mapping_items(self, node: ast.expr) -> list[tuple[ast.expr, ast.expr | None]]:
        if isinstance(node, ast.Dict):
            return [(k, v) for k, v in zip(node.keys, node.values, strict=True) if k is not None]
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "dict":
            return [(ast.Constant(kw.arg), kw.value) for kw in node.keywords if kw.arg]
        return []

    def plain_call(self, node: ast.Call, maybe: bool) -> bool:
        """A call event when the callee may matter; False when it is left out (a library
        call the tables do not know)."""
        func = node.func
        target: str | None = None
        method_of: str | None = None
        method: str | None = None
        super_call = False
        suffix: tuple[str, ...] = ()
        ctor: tuple[Arg, ...] = ()
        on_self = False
        scope = self.scope
        if isinstance(func, ast.Name):
            target = scope.resolve_name(func.id)
            if target is None and func.id in scope.module.definitions and func.id not in scope.locals:
                target = scope.module.definitions[func.id]
        elif isinstance(func, ast.Attribute):
            method = func.attr
            value = func.value
            names = dotted(func)
            suffix = tuple(names[1:]) if names else (func.attr,)
            if (
                isinstance(value, ast.Call)
                and isinstance(value.func, ast.Name)
                and value.func.id == "super"
                and scope.class_ctx is not None
            ):
                method_of, super_call, on_self = scope.class_ctx.qualname, True, True
            elif isinstance(value, ast.Name) and value.id == scope.self_name and scope.class_ctx:
                method_of, on_self = scope.class_ctx.qualname, True
            else:
                method_of = scope.instance_class(value)
                if method_of is None:
                    target = scope.resolve_qual(func)
                else:
                    ctor = self.constructor_args(value)
        if target is None and method_of is None and not self.known_suffix(suffix):
            return False
        named = target if target is not None else f"{method_of}.{method}"
        if not self.known_suffix(suffix) and not scope.may_matter(named):
            return False
        if target is not None and scope.knowledge.is_noreturn(target):
            self.noreturn = True
        args = tuple(self.arguments(node))
        first = node.args[0] if node.args else None
        first_class = scope.resolve_qual(first.func) if isinstance(first, ast.Call) else None
        self.emit(
            EventKind.CALL,
            node,
            maybe,
            target=target,
            method_of=method_of,
            method=method if method_of else None,
            super_call=super_call,
            suffix=suffix,
            args=args,
            first_arg_class=first_class,
            literal_args=tuple(literal_arguments(node)),
            arity=next((i for i, a in enumerate(node.args) if isinstance(a, ast.Starred)), len(node.args)),
            keywords=tuple(k.arg for k in node.keywords if k.arg),
            on_self=on_self,
            star=any(isinstance(a, ast.Starred) for a in node.args)
            or any(k.arg is None for k in node.keywords),
            ctor_args=ctor,
        )
        return True

    def constructor_args(self, receiver: ast.expr) -> tuple[Arg, ...]:
        """The sessions a receiver's constructor received: built in place, or a local
        assigned once from the constructor."""
        if isinstance(receiver, ast.Call):
            return tuple(self.arguments(receiver))
        if isinstance(receiver, ast.Name):
            found = self.scope.lookup(receiver.id)
            if found is not None:
                return found[0].instance_args.get(found[1], ())
        return ()

    def known_suffix(self, suffix: tuple[str, ...]) -> bool:
        return self.scope.knowledge.ends_in_call_suffix(suffix)

    def arguments(self, node: ast.Call) -> Iterator[Arg]:
        return call_arguments(self.scope, node)

    # -- targets -----------------------------------------------------------------------

    def store(self, target: ast.expr, value: ast.expr | None, maybe: bool = False) -> None:
        """An assignment to `target` of `value` (already evaluated)."""
        if isinstance(target, (ast.Tuple, ast.List)):
            for elt in target.elts:
                self.store(elt.value if isinstance(elt, ast.Starred) else elt, None, maybe)
            return
        if isinstance(target, ast.Subscript):
            ref = self.scope.ref_of(target.value) or self.scope.symbol_ref(target.value)
            if ref is None or ref.kind is RefKind.RESULT:
                self.expr(target.value, maybe)
            self.expr(target.slice, maybe)
            if ref is not None and ref.kind is not RefKind.REQUEST:
                self.write(
                    target, "__setitem__", ref, [(target.slice, value)], maybe, kind=EventKind.SESSION_SET
                )
        elif isinstance(target, ast.Attribute):
            ref = self.scope.ref_of(target.value) or self.scope.symbol_ref(target.value)
            if ref is None or ref.kind is RefKind.RESULT:
                self.expr(target.value, maybe)
            if ref is not None and ref.kind is not RefKind.REQUEST:
                key = ast.Constant(target.attr)
                self.write(target, target.attr, ref, [(key, value)], maybe, kind=EventKind.SESSION_ATTR)

    def augmented(self, node: ast.AugAssign) -> None:
        target = node.target
        if isinstance(node.op, ast.BitOr) and isinstance(target, ast.Name):
            ref = self.scope.ref_of(target)
            if ref is not None and ref.kind is not RefKind.REQUEST:
                self.expr(node.value)
                self.write(
                    node, "update", ref, self.mapping_items(node.value), False, kind=EventKind.SESSION_SET
                )
                return
        if isinstance(target, ast.Subscript):
            if not self.subscript_read(target, False):  # `session[k] += 1` reads the key first
                self.expr(target.value)
        elif isinstance(target, ast.Attribute):
            self.expr(target.value)
        self.expr(node.value)
        self.store(target, node.value)

    def delete(self, target: ast.expr) -> None:
        if isinstance(target, (ast.Tuple, ast.List)):
            for elt in target.elts:
                self.delete(elt)
            return
        if isinstance(target, (ast.Subscript, ast.Attribute)):
            ref = self.scope.ref_of(target.value)
            if ref is None or ref.kind is RefKind.REQUEST:
                self.expr(target.value)
                return
            key = (
                key_of(self.scope, target.slice)
                if isinstance(target, ast.Subscript)
                else Key(literal=target.attr)
            )
            self.emit(EventKind.SESSION_DEL, target, False, ref=ref, op="__delitem__", keys=(key,))
