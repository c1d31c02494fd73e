"""The shape of framework knowledge: rows a reviewer can check against a framework's docs.

A framework module fills in one :class:`Framework`. The analysis never names a framework;
it asks these tables what a call or a session operation does on the store the project
uses. Each operation maps to a :class:`StoreTable`: effects per store backend, so that
`session.clear()` can be a regeneration on a cookie store and a false friend on a server
store without any `if framework == ...` in the analysis.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping

from msgspec import Struct, field

from sessguard.model import Order, Placement, Store


class EffectKind(enum.Enum):
    """Primitive effects the path analysis understands."""

    REGEN = "regen"  # gives the browser a new session id (or a fresh session)
    EMPTY = "empty"  # removes the session's data
    WRITE = "write"  # stores something in the session (ends an "emptied" state)
    FALSE_FRIEND = "false-friend"  # looks like a regeneration, is not one
    NORETURN = "noreturn"  # the call always raises (abort(), bottle's redirect())


class Effect(Struct, frozen=True):
    kind: EffectKind
    order: Order | None = None
    needs_data: bool = False  # a regeneration that does nothing on an empty session
    reason: str = ""  # for a false friend: why it does not regenerate


Effects = tuple[Effect, ...]


def regen(order: Order, *, needs_data: bool = False) -> Effects:
    return (Effect(EffectKind.REGEN, order=order, needs_data=needs_data),)


def regen_by_emptying() -> Effects:
    """Emptying a cookie session: nothing planted before login survives it."""
    return (Effect(EffectKind.REGEN, order=Order.BEFORE), Effect(EffectKind.EMPTY))


def false_friend(reason: str, *, empties: bool = False) -> Effects:
    effects = (Effect(EffectKind.FALSE_FRIEND, reason=reason),)
    return effects + ((Effect(EffectKind.EMPTY),) if empties else ())


WRITE: Effects = (Effect(EffectKind.WRITE),)
NORETURN: Effects = (Effect(EffectKind.NORETURN),)
NEUTRAL: Effects = ()

ANY_STORE = "*"


class StoreTable(Struct, frozen=True):
    """Effects of one operation by store: a backend name, a `Store` value, or `*`."""

    rows: Mapping[str, Effects]

    def effects(self, backend: str, store: Store) -> Effects:
        for key in (backend, store.value, ANY_STORE):
            if key in self.rows:
                return self.rows[key]
        return NEUTRAL


def always(effects: Effects) -> StoreTable:
    return StoreTable({ANY_STORE: effects})


# the writes every dict-like session has: one table, spread into each framework's methods
MAPPING_WRITES: Mapping[str, StoreTable] = {
    "__setitem__": always(WRITE),
    "update": always(WRITE),
    "setdefault": always(WRITE),
}


class LoginCall(Struct, frozen=True):
    """A library call that logs a user in (SPEC §4.1 and §5.3)."""

    what: str  # completes "`call(...)` ..." e.g. "logs the user in"
    self_rotating: bool = False
    # signals the library sends while logging in; a receiver may make it safe (SPEC §7)
    signals: tuple[str, ...] = ()
    privilege: bool = False  # a second factor or elevation rather than a first login
    # classes whose instance, passed as the first argument, logs in nobody
    anonymous: frozenset[str] = frozenset()
    # identity policies the call delegates to: class -> does it write into the session?
    # With none of them in the project the call is reported at medium confidence.
    policies: Mapping[str, bool] = field(default_factory=dict)
    # a setting that, set to False in the project, switches the self-rotation off
    rotation_setting: str | None = None


class SignalTiming(enum.Enum):
    AFTER_WRITE = "after-write"  # receivers run after the identity was written (Flask-Login)
    AFTER_ROTATION = "after-rotation"  # receivers run after the key was cycled (Django)


class Signal(Struct, frozen=True):
    timing: SignalTiming


class StoreSignal(Struct, frozen=True):
    """Evidence about the session store found in code, settings or dependencies.

    `kind` is what is matched: `call` (a resolved callee), `config` (a settings key set to
    a string), `dependency` (a distribution name in requirements/pyproject), `interface`
    (an assignment to `app.session_interface`), `middleware` (a class registered as
    middleware, with its keyword arguments).
    """

    kind: str
    name: str
    store: Store
    backend: str
    describe: str
    # for config values and middleware keywords: does this value mean this store?
    accepts: Callable[[Mapping[str, str | None]], bool] | None = None
    # for dependencies: (version, backend) — a requirement that admits no release at or
    # above `version` means `backend` (Flask-Session below 0.7 has no regenerate())
    below: tuple[str, str] | None = None


class Fix(Struct, frozen=True):
    """How to fix a finding on one backend: in one sentence, and (when an automatic fix
    exists) the statement `sessguard fix` writes and where. The statement is a template:
    `{session}`, `{request}`, `{app}` and `{cherrypy}` become the names in scope at the
    reported statement. An `after` fix that also works before the statement (an `either`
    regeneration that does not need data) says so with `before_ok`, for statements after
    which nothing runs (`return ...`).

    A fix that `empties` the session must keep what the handler reads after it, or the
    app changes behaviour. `carry` names the session it empties (a template like `code`):
    the keys read after the fix are read from it before and written back after (SPEC
    §5.1's named-keys form). An emptying fix without `carry` is written only when nothing
    is read after it. `requires` names the release the call needs, when older ones lack it."""

    advice: str
    code: str = ""
    placement: Placement | None = None
    before_ok: bool = False
    empties: bool = False
    carry: str = ""
    requires: str = ""


class Environment(Struct, frozen=True):
    """Names a framework puts into the globals of its own files, with no import.

    web2py runs `models/` and `controllers/` with `session`, `auth`, `redirect` ...
    already defined. A file under one of `dirs` gets these bindings for the names it
    leaves unbound: `names` as qualified names, `instances` as instances of a class.
    """

    dirs: frozenset[str]
    names: Mapping[str, str] = field(default_factory=dict)
    instances: Mapping[str, str] = field(default_factory=dict)


class Framework(Struct, frozen=True):
    name: str
    title: str
    # top-level import names whose presence means the project uses this framework
    packages: frozenset[str]
    # qualified names that denote the current request's session (flask.session)
    global_sessions: frozenset[str] = frozenset()
    # attribute paths from a request to its session: ("session",), ("ctx", "session")
    request_session_paths: tuple[tuple[str, ...], ...] = ()
    # request classes an annotation may name (`request: Request`)
    request_types: frozenset[str] = frozenset()
    # parameter names that hold a request in this framework's handlers (ASGI's `scope`)
    request_params: frozenset[str] = frozenset()
    # module-level requests (`bottle.request`)
    global_requests: frozenset[str] = frozenset()
    # calls whose result is this framework's session (`await get_session(request)`)
    session_factories: frozenset[str] = frozenset()
    # request methods that act on the session: name -> the session method they amount to
    # (Litestar's `request.set_session(...)` is an update, `clear_session()` a clear)
    request_methods: Mapping[str, str] = field(default_factory=dict)
    environment: Environment | None = None
    login_calls: Mapping[str, LoginCall] = field(default_factory=dict)
    calls: Mapping[str, StoreTable] = field(default_factory=dict)
    # session methods; `name(keyword=literal)` rows match a call with that literal argument
    methods: Mapping[str, StoreTable] = field(default_factory=dict)
    attribute_writes: Mapping[str, StoreTable] = field(default_factory=dict)
    # calls recognised by the tail of their attribute chain, receiver unresolved:
    # ("session_interface", "regenerate") matches `current_app.session_interface.regenerate`
    call_suffixes: Mapping[tuple[str, ...], StoreTable] = field(default_factory=dict)
    signals: Mapping[str, Signal] = field(default_factory=dict)
    # library calls that write a key into the request's session, by the tail of their
    # attribute chain: suffix -> (position of the key, position of the value)
    session_write_calls: Mapping[tuple[str, ...], tuple[int, int]] = field(default_factory=dict)
    # constants a session key may be written with (django.contrib.auth.SESSION_KEY)
    key_constants: Mapping[str, str] = field(default_factory=dict)
    store_signals: tuple[StoreSignal, ...] = ()
    # which backend wins when the project shows several server-side ones
    backend_precedence: tuple[str, ...] = ()
    default_store: Store = Store.UNKNOWN
    default_backend: str = "unknown"
    # a store with none of the signals when the framework is evident in the project
    # (`Store.UNKNOWN` keeps the default even then)
    evident_store: Store | None = None
    evident_backend: str = ""
    # session objects that are attribute-style (web.py): attribute writes store data
    attribute_style: bool = False
    fixes: Mapping[str, Fix] = field(default_factory=dict)
    # what the store means for the risk, by backend (falls back to the Store value)
    store_notes: Mapping[str, str] = field(default_factory=dict)
    # the name of the emptying call on this framework's session, for fix messages
    session_name: str = "session"

    def fix_for(self, backend: str, store: Store) -> Fix:
        for key in (backend, store.value, ANY_STORE):
            if key in self.fixes:
                return self.fixes[key]
        return Fix("regenerate the session id before the identity is stored")

    def store_note(self, backend: str, store: Store) -> str:
        for key in (backend, store.value):
            if key in self.store_notes:
                return self.store_notes[key]
        return DEFAULT_STORE_NOTES[store]


DEFAULT_STORE_NOTES: Mapping[Store, str] = {
    Store.SERVER: (
        "The session data lives on the server under the id in the cookie, so an attacker "
        "who plants that id before the login shares the logged-in session."
    ),
    Store.COOKIE: (
        "The whole session travels in a signed cookie, so there is no server-side id to "
        "fix; what remains is data planted before login (a CSRF token, say) surviving "
        "into the authenticated session."
    ),
    Store.UNKNOWN: (
        "The session store could not be determined from the code or the dependencies; "
        "if it keeps data on the server, an attacker who plants a session id before the "
        "login shares the logged-in session."
    ),
}
