"""What the extract stage keeps of a file: compact, picklable facts, never `ast` nodes.

A function is reduced to a small control-flow graph whose nodes carry only the events the
rule needs: calls that may matter, and operations on a session. Whether an event is an
auth event, a regeneration or a false friend is decided later, in the link stage, once the
session store and the project's own functions are known.
"""

from __future__ import annotations

import enum
from collections.abc import Collection, Iterable

from msgspec import Struct

from sessguard.model import Span


class ExtractOptions(Struct, frozen=True):
    """What the per-file stage may know of the whole scan (part of a cache entry's key)."""

    project: frozenset[str] | None = None  # the scanned tree's top-level packages
    configured: frozenset[str] = frozenset()  # auth and regeneration functions configured
    # facts only for the functions whose bytes can matter (`extract.lazy`); the names the
    # phase-1 needles are built from (configured functions and identity keys)
    lazy: bool = False
    needle_names: frozenset[str] = frozenset()


class RefKind(enum.Enum):
    """What an expression denotes, as far as sessions go."""

    SESSION = "session"  # the current request's session
    REQUEST = "request"  # a request (or something on the way from it to its session)
    PARAM = "param"  # a parameter (or a path from it): its meaning depends on the caller
    SYMBOL = "symbol"  # an imported name: a session if it names a project's session global
    RESULT = "result"  # what a project function, method or property returns (resolved at link)
    LITERAL = "literal"  # only in call contexts: a parameter that receives a literal


class Ref(Struct, frozen=True):
    """A session, a request, or a parameter that may carry either.

    `path` is the attribute/item path walked from the request or parameter, such as
    `("session",)` or `("ctx", "session")`; items are written `[name]`.
    `framework` is known for globals such as `flask.session`, and a hint elsewhere.
    """

    kind: RefKind
    framework: str | None = None
    param: str | None = None
    path: tuple[str, ...] = ()
    text: str = ""
    symbol: str | None = None  # for SYMBOL: the qualified name it was imported as
    # for RESULT: the callee, as `target` (a qualified name) or `method_of` + `method`
    method: str | None = None


class Key(Struct, frozen=True):
    """A session key as written: a literal, or what resolves to one at link time (SPEC
    §4.2): a constant's name, a class attribute (`self.user_key`), a parameter bound per
    call site, or a join of such parts."""

    literal: str | None = None
    symbol: str | None = None
    attr: str | None = None  # `self.<attr>` / `cls.<attr>` of class `owner`
    owner: str | None = None
    param: str | None = None  # a parameter of the writing function
    parts: tuple[Key, ...] = ()  # `prefix + "user_id"`, f-strings, `%`

    @property
    def display(self) -> str:
        if self.literal is not None:
            return repr(self.literal)
        if self.parts:
            return " + ".join(part.display for part in self.parts)
        if self.attr is not None:
            return f"self.{self.attr}"
        if self.param is not None:
            return self.param
        return self.symbol.rsplit(".", 1)[-1] if self.symbol else "?"

    @property
    def unresolvable(self) -> bool:
        return not (self.literal is not None or self.symbol or self.attr or self.param or self.parts)


class Arg(Struct, frozen=True):
    """A call argument that may carry a session or a request to the callee."""

    ref: Ref
    position: int | None = None
    keyword: str | None = None


class EventKind(enum.Enum):
    CALL = "call"
    SESSION_CALL = "session-call"  # session.<method>(...)
    SESSION_SET = "session-set"  # session[k] = v, session |= {...}
    SESSION_ATTR = "session-attr"  # session.<name> = v
    SESSION_DEL = "session-del"  # del session[k], del session.<name>
    SESSION_READ = "session-read"  # session.get(k), session[k], k in session (`extract.reads`)


class Event(Struct, frozen=True):
    kind: EventKind
    span: Span  # the expression
    stmt: Span  # where a finding about it is reported
    text: str  # the expression as written, shortened
    maybe: bool = False  # in a short-circuit operand, conditional expression or comprehension
    # CALL: the callee, as far as the file tells
    target: str | None = None  # qualified name ("flask_login.login_user", "shop.security.sign_in")
    method_of: str | None = None  # class qualname for self./cls./instance calls
    method: str | None = None
    super_call: bool = False
    suffix: tuple[str, ...] = ()  # trailing attribute names of the callee expression
    args: tuple[Arg, ...] = ()
    first_arg_class: str | None = None  # `f(Cls(...))`: the class of the first argument
    # SESSION_*: the session and what is done to it
    ref: Ref | None = None
    op: str = ""  # method name, "__setitem__", attribute name
    keys: tuple[Key, ...] = ()
    provider_value: bool = False  # the value written comes from an identity provider
    # literal keyword arguments of a session call: `renew(clear_session=True)`
    literals: tuple[tuple[str, str], ...] = ()
    # SESSION_* writes: per key, why its value is a principal's identity ("" when it is not);
    # a value of None, False, "" or an empty container drops its key (a logout, a reset)
    identities: tuple[str, ...] = ()
    empty_value: bool = False
    # CALL: literal arguments (position as a number, or keyword) -> repr of the value;
    # `star` when */** arguments hide what else is passed
    literal_args: tuple[tuple[str, str], ...] = ()
    star: bool = False
    arity: int = 0  # positional arguments (before any `*`)
    keywords: tuple[str, ...] = ()  # keyword arguments
    on_self: bool = False  # `self.method(...)`, `super().method(...)`: the same object
    # a method called on an instance built here (`UserSession(session).sign_in(...)`): the
    # sessions and requests its constructor received
    ctor_args: tuple[Arg, ...] = ()


class NodeKind(enum.Enum):
    ENTRY = "entry"
    RETURN_EXIT = "return-exit"
    RAISE_EXIT = "raise-exit"
    EVENT = "event"
    JOIN = "join"
    RETURN = "return"
    RAISE = "raise"


class Edge(Struct, frozen=True):
    target: int
    # an exceptional edge leaves its source before the source's event took effect
    exceptional: bool = False
    label: str = ""  # the branch taken, for traces: "`if user is None` is false"
    line: int = 0
    # taken only when a parameter's value passes a test: (parameter, test, repr of literal),
    # test one of "truthy", "falsy", "is", "is not", "==", "!="; decided per call site
    guard: tuple[str, str, str] | None = None


class Node(Struct, frozen=True):
    kind: NodeKind
    event: int = -1
    line: int = 0


ENTRY, RETURN_EXIT, RAISE_EXIT = 0, 1, 2


class Param(Struct, frozen=True):
    name: str
    annotation: str | None = None  # resolved qualified name of the annotation


class FunctionFacts(Struct, frozen=True):
    qualname: str
    name: str
    module: str
    span: Span
    class_qualname: str | None
    params: tuple[Param, ...]
    bound_method: bool  # called with self/cls bound (not a staticmethod)
    entry_point: bool  # registered as a request handler by a decorator
    route_paths: tuple[str, ...]
    credential_check: bool  # checks a password or receives a provider's identity
    nodes: tuple[Node, ...]
    successors: tuple[tuple[Edge, ...], ...]
    events: tuple[Event, ...]
    # signals this function is connected to as a receiver (qualified names)
    receives: tuple[str, ...] = ()
    # what every `return` gives back, when it is a session or a request (SPEC §3)
    returns: Ref | None = None
    # literal defaults of the parameters that decide branches or keys
    defaults: tuple[tuple[str, str], ...] = ()
    # parameters whose literal value at a call site matters (guards, keys)
    literal_params: tuple[str, ...] = ()
    # a session class's method that asks for a new id later: `self.<flag> = True`
    flags_set: tuple[str, ...] = ()
    # a session interface's `save_session` that issues a new id when `session.<flag>` is set
    rotates_on: tuple[str, ...] = ()

    def reachable(self, starts: Iterable[int], blocked: Collection[int] = ()) -> set[int]:
        """The nodes of the graph that some path from `starts` reaches (`starts` too)
        without passing through a node of `blocked`."""
        seen: set[int] = set()
        work = [node for node in starts if node not in blocked]
        while work:
            node = work.pop()
            if node not in seen:
                seen.add(node)
                work.extend(edge.target for edge in self.successors[node] if edge.target not in blocked)
        return seen


class ClassFacts(Struct, frozen=True):
    qualname: str
    bases: tuple[str, ...]
    methods: tuple[tuple[str, str], ...]  # (name, function qualname)
    attribute_types: tuple[tuple[str, str], ...]  # (attribute, class qualname)
    # attributes bound to a string: in the class body, or in `__init__` to a literal or to
    # a parameter's literal default (SPEC §4.2, resolving a key)
    constants: tuple[tuple[str, str], ...] = ()
    # attributes `__init__` sets from one of its parameters: (attribute, parameter)
    init_params: tuple[tuple[str, str], ...] = ()


class Evidence(Struct, frozen=True):
    """A fact about the session store seen in code: a call, a setting, a middleware."""

    kind: str  # "call", "config", "interface", "middleware"
    name: str
    values: tuple[tuple[str, str | None], ...]
    line: int


class ModuleFacts(Struct, frozen=True):
    path: str
    module: str
    is_package: bool
    imports: tuple[tuple[str, str], ...]  # module-level name -> qualified target
    star_imports: tuple[str, ...]
    definitions: tuple[tuple[str, str], ...]  # module-level name -> qualname of def/class
    constants: tuple[tuple[str, str], ...]  # module-level NAME = "literal"
    instances: tuple[tuple[str, str], ...]  # module-level name = Class(...)
    classes: tuple[ClassFacts, ...]
    functions: tuple[FunctionFacts, ...]
    packages: frozenset[str]  # top-level packages imported anywhere in the file
    evidence: tuple[Evidence, ...]
    # signal connections made by calls: (signal qualname, function qualname)
    connections: tuple[tuple[str, str], ...]
    lines: tuple[tuple[int, str], ...]  # source lines that events are reported on
    # module-level names bound to a session object (web.py's `session = web.session.Session(...)`)
    session_globals: tuple[tuple[str, str], ...] = ()
    # the framework whose file environment the module runs in (web2py controllers)
    environment: str | None = None
    # comments that may suppress findings: (line, text) of `# sessguard:` / `# nosec`
    comments: tuple[tuple[int, str], ...] = ()
    # functions given no facts (`extract.lazy`): (qualname, the identifiers they name)
    skipped: tuple[tuple[str, tuple[str, ...]], ...] = ()
