"""The reads of a session that a statement makes, as events for the autofix.

An emptying fix (`session.clear()`, `invalidate()`, `new_session`) must carry over every
key that the handler reads after it, or the app changes behaviour: a login that ends with
`redirect(session.get("next", "/"))` would send everyone to `/`. So the extract stage
records where a session is read and which key: `session.get(k)`, `session[k]`, `k in
session`, `pop`/`setdefault` (they return the stored value). A read that does not name its
keys is recorded too, so that the fix can refuse instead of guessing: iterating the session,
`items()`/`keys()`/`values()`/`copy()`, or handing the session to code that is not the
project's (`dict(session)`, `render(session)`). Reads never matter to the path analysis;
whether a receiver is a session at all is decided at link time, as for every event.
"""

from __future__ import annotations

import ast

from sessguard.extract.facts import Event, EventKind, Key, Ref, RefKind
from sessguard.extract.refs import FunctionScope
from sessguard.extract.values import key_of

# methods that return the value stored under their first argument
KEYED_READ_METHODS = frozenset({"get", "aget", "pop", "apop", "setdefault", "asetdefault"})
# methods that return the whole session, or every key of it
WHOLE_READ_METHODS = frozenset(
    {"keys", "items", "values", "copy", "akeys", "aitems", "avalues", "__iter__", "to_dict"}
)
# ops of the whole-session reads recorded for iteration and for a session passed to a call
ITERATED, PASSED = "iterate", "pass"


def may_be_session(ref: Ref | None) -> bool:
    """A receiver the link stage may find to be a session (a request is not one)."""
    return ref is not None and ref.kind not in (RefKind.REQUEST, RefKind.LITERAL)


def is_read(event: Event) -> bool:
    return event.kind is EventKind.SESSION_READ


def unnamed(event: Event) -> bool:
    """A read that does not say which keys it reads (the whole session)."""
    return event.op in WHOLE_READ_METHODS or event.op in (ITERATED, PASSED)


class ReadCollector:
    """The read side of `EventCollector` (which provides `scope` and `emit`)."""

    scope: FunctionScope

    def emit(self, kind: EventKind, node: ast.AST, maybe: bool, **fields: object) -> None:
        raise NotImplementedError

    def read(self, node: ast.AST, ref: Ref, op: str, key: ast.expr | None, maybe: bool) -> None:
        keys: tuple[Key, ...] = (key_of(self.scope, key),) if key is not None else ()
        self.emit(EventKind.SESSION_READ, node, maybe, ref=ref, op=op, keys=keys)

    def method_read(self, node: ast.Call, method: str, ref: Ref, maybe: bool) -> None:
        """`session.get(k)`, `session.items()` ...; a keyed read with no key is dynamic."""
        if method in KEYED_READ_METHODS:
            key = node.args[0] if node.args and not isinstance(node.args[0], ast.Starred) else None
            self.read(node, ref, method, key if key is not None else ast.Name("?"), maybe)
        elif method in WHOLE_READ_METHODS:
            self.read(node, ref, method, None, maybe)

    def subscript_read(self, node: ast.Subscript, maybe: bool) -> bool:
        """`session[k]` as a value; False when the subscripted value is no session."""
        ref = self.scope.ref_of(node.value) or self.scope.symbol_ref(node.value)
        if not may_be_session(ref) or isinstance(node.slice, ast.Slice):
            return False
        assert ref is not None
        self.read(node, ref, "[]", node.slice, maybe)
        return True

    def membership_reads(self, node: ast.Compare, maybe: bool) -> None:
        """`k in session`, `k not in session`."""
        left = node.left
        for op, right in zip(node.ops, node.comparators, strict=True):
            if isinstance(op, (ast.In, ast.NotIn)):
                ref = self.scope.ref_of(right) or self.scope.symbol_ref(right)
                if may_be_session(ref):
                    assert ref is not None
                    self.read(node, ref, "in", left, maybe)
            left = right

    def whole_read(self, node: ast.expr, op: str, maybe: bool, shown: ast.AST | None = None) -> bool:
        """The session itself used as a value: iterated, or passed to a call (`shown`)."""
        ref = self.scope.ref_of(node) or self.scope.symbol_ref(node)
        if ref is None or not may_be_session(ref) or ref.kind is RefKind.RESULT:
            return False
        self.read(shown or node, ref, op, None, maybe)
        return True
