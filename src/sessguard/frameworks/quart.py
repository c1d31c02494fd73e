"""Quart sessions, Quart-Session and Quart-Auth.

Checked against Quart 0.19 (`quart.sessions.SecureCookieSessionInterface`, a signed
cookie like Flask's) and Quart-Session 1.0 (`quart_session.Session(app)` with
`SESSION_TYPE`; `ServerSideSession` keeps `sid` for the whole request and the library has
no call that replaces it). Quart-Auth's `login_user(AuthUser(...))` sets its own signed
token cookie at login, so it is not an auth event here.
"""

from __future__ import annotations

from sessguard.frameworks.base import (
    MAPPING_WRITES,
    Fix,
    Framework,
    StoreSignal,
    StoreTable,
    always,
    false_friend,
    regen_by_emptying,
)
from sessguard.frameworks.flask import FRESH_REQUEST_CONTEXT, session_type_is_server
from sessguard.model import Placement, Store

COOKIE = "cookie"
QUART_SESSION = "quart-session"

FRAMEWORK = Framework(
    name="quart",
    title="Quart",
    packages=frozenset({"quart", "quart_auth", "quart_session"}),
    global_sessions=frozenset({"quart.session", "quart.globals.session"}),
    methods={
        "clear": StoreTable(
            {
                COOKIE: regen_by_emptying(),
                "*": false_friend("empties the data but keeps the session id", empties=True),
            }
        ),
        "pop": always(false_friend("removes one key; the session keeps its id")),
        **MAPPING_WRITES,
    },
    attribute_writes={
        "permanent": always(false_friend("only changes the cookie's lifetime")),
        "modified": always(false_friend("only marks the session to be saved")),
    },
    call_suffixes={("test_request_context",): FRESH_REQUEST_CONTEXT},
    store_signals=(
        StoreSignal(
            "call", "quart_session.Session", Store.SERVER, QUART_SESSION, "quart_session.Session(app)"
        ),
        StoreSignal(
            "config", "SESSION_TYPE", Store.SERVER, QUART_SESSION, "SESSION_TYPE", session_type_is_server
        ),
        StoreSignal("dependency", "quart-session", Store.SERVER, QUART_SESSION, "quart-session"),
    ),
    default_store=Store.COOKIE,
    default_backend=COOKIE,
    fixes={
        COOKIE: Fix(
            "call `session.clear()` before logging the user in (keep only what the app must carry over)",
            "{session}.clear()",
            Placement.BEFORE,
            empties=True,
            carry="{session}",
        ),
        QUART_SESSION: Fix(
            "Quart-Session has no call that issues a new session id: delete the stored "
            "record and give the session a new `sid` (for example `str(uuid4())`) before "
            "writing the identity, or move the login to a token cookie such as Quart-Auth's"
        ),
    },
)
