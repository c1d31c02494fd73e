"""Starlette and FastAPI sessions: Starlette's SessionMiddleware and starlette-session.

Checked against Starlette 0.4x `starlette.middleware.sessions.SessionMiddleware` (the whole
session is a signed cookie; `clear()` empties it) and starlette-session 0.4
(`starlette_session.SessionMiddleware`: with `backend_type` redis/aioRedis/memcache or a
`custom_session_backend` the cookie holds a key that is reused for whatever the session
holds next; it has no call that issues a new key; without a backend it is a cookie).
"""

from __future__ import annotations

from collections.abc import Mapping

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
from sessguard.model import Placement, Store

COOKIE = "cookie"
STARLETTE_SESSION = "starlette-session"
STARLETTE_SESSION_COOKIE = "starlette-session-cookie"


def has_server_backend(values: Mapping[str, str | None]) -> bool:
    backend = values.get("backend_type") or ""
    return bool(values.get("custom_session_backend")) or (bool(backend) and not backend.endswith("cookie"))


def has_cookie_backend(values: Mapping[str, str | None]) -> bool:
    return not has_server_backend(values)


FRAMEWORK = Framework(
    name="starlette",
    title="Starlette/FastAPI",
    packages=frozenset({"starlette", "fastapi", "starlette_session"}),
    request_session_paths=(("session",), ("[session]",)),
    request_params=frozenset({"scope", "websocket"}),
    request_types=frozenset(
        {
            "starlette.requests.Request",
            "starlette.requests.HTTPConnection",
            "starlette.websockets.WebSocket",
            "fastapi.Request",
            "fastapi.WebSocket",
            "fastapi.requests.Request",
            "fastapi.requests.HTTPConnection",
            "fastapi.websockets.WebSocket",
        }
    ),
    methods={
        "clear": StoreTable(
            {
                COOKIE: regen_by_emptying(),
                STARLETTE_SESSION_COOKIE: regen_by_emptying(),
                # no middleware in view: Starlette's own (a cookie) is by far the usual one,
                # and a server backend must be configured in code that would show it
                Store.UNKNOWN.value: regen_by_emptying(),
                "*": false_friend("empties the data but keeps the key the cookie carries", empties=True),
            }
        ),
        "pop": always(false_friend("removes one key; the session keeps its key")),
        **MAPPING_WRITES,
    },
    store_signals=(
        StoreSignal(
            "middleware",
            "starlette.middleware.sessions.SessionMiddleware",
            Store.COOKIE,
            COOKIE,
            "SessionMiddleware",
        ),
        StoreSignal(
            "middleware",
            "starlette_session.SessionMiddleware",
            Store.SERVER,
            STARLETTE_SESSION,
            "starlette_session.SessionMiddleware with a server backend",
            has_server_backend,
        ),
        StoreSignal(
            "middleware",
            "starlette_session.SessionMiddleware",
            Store.COOKIE,
            STARLETTE_SESSION_COOKIE,
            "starlette_session.SessionMiddleware (cookie backend)",
            has_cookie_backend,
        ),
    ),
    default_store=Store.UNKNOWN,
    default_backend="unknown",
    fixes={
        STARLETTE_SESSION: Fix(
            "starlette-session has no call that issues a new session key: keep the "
            "identity out of the server-side session (a token cookie minted at login), or "
            "switch to a session middleware that can rotate the key"
        ),
        "*": Fix(
            "call `request.session.clear()` before storing the identity (keep only what "
            "the app must carry over)",
            "{request}.session.clear()",
            Placement.BEFORE,
            empties=True,
            carry="{request}.session",
        ),
    },
    store_notes={
        STARLETTE_SESSION: (
            "starlette-session keeps the data in a server-side backend under the key in the "
            "cookie and reuses that key, so an attacker who plants it before the login "
            "shares the logged-in session."
        ),
    },
)
