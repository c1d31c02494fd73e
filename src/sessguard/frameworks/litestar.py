"""Litestar sessions (`request.session`, `request.set_session()`, `request.clear_session()`).

Checked against Litestar 2.x `litestar/middleware/session/`: with `ServerSideSessionConfig`
the store key is the session id the cookie carries, reused as it arrives, and nothing in
the API issues a new one (`clear_session()` followed by `set_session()` stores the new
data under the old key); with `CookieBackendConfig` the whole session is the cookie.
"""

from __future__ import annotations

from sessguard.frameworks.base import (
    MAPPING_WRITES,
    WRITE,
    Fix,
    Framework,
    StoreSignal,
    StoreTable,
    always,
    false_friend,
    regen_by_emptying,
)
from sessguard.model import Placement, Store

COOKIE = "cookie"
SERVER = "server"

_CLEAR = StoreTable(
    {
        COOKIE: regen_by_emptying(),
        "*": false_friend("empties the data, but the server-side store keeps the session id", empties=True),
    }
)

FRAMEWORK = Framework(
    name="litestar",
    title="Litestar",
    packages=frozenset({"litestar"}),
    request_session_paths=(("session",),),
    request_types=frozenset(
        {
            "litestar.Request",
            "litestar.connection.Request",
            "litestar.connection.ASGIConnection",
            "litestar.connection.base.ASGIConnection",
        }
    ),
    request_methods={"set_session": "set_session", "clear_session": "clear_session"},
    methods={
        "set_session": always(WRITE),
        "clear_session": _CLEAR,
        "clear": _CLEAR,
        "pop": always(false_friend("removes one key; the session keeps its id")),
        **MAPPING_WRITES,
    },
    store_signals=(
        StoreSignal(
            "call",
            "litestar.middleware.session.server_side.ServerSideSessionConfig",
            Store.SERVER,
            SERVER,
            "ServerSideSessionConfig",
        ),
        StoreSignal(
            "call",
            "litestar.middleware.session.client_side.CookieBackendConfig",
            Store.COOKIE,
            COOKIE,
            "CookieBackendConfig",
        ),
    ),
    default_store=Store.UNKNOWN,
    default_backend="unknown",
    fixes={
        COOKIE: Fix(
            "call `request.clear_session()` before `request.set_session(...)`",
            "{request}.clear_session()",
            Placement.BEFORE,
            empties=True,
        ),
        "*": Fix(
            "Litestar's server-side sessions have no call that issues a new session id: keep "
            "the identity out of the server-side session (a signed token cookie minted at "
            "login), or use `CookieBackendConfig` and clear the session before the login"
        ),
    },
)
