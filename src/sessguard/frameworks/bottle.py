"""Bottle with Beaker sessions (`request.environ["beaker.session"]`).

Checked against Beaker 1.12 `beaker/session.py`: `regenerate_id()` creates a new session
id and keeps the data; `invalidate()` discards the session and starts a new one;
`clear()`/`delete()` keep the id; the session type defaults to "memory" (or "file" with a
data_dir), and only `session.type = "cookie"` keeps the data in the cookie. Bottle's
`redirect()` and `abort()` raise.
"""

from __future__ import annotations

from collections.abc import Mapping

from sessguard.frameworks.base import (
    MAPPING_WRITES,
    NORETURN,
    Fix,
    Framework,
    StoreSignal,
    StoreTable,
    always,
    false_friend,
    regen,
    regen_by_emptying,
)
from sessguard.model import Order, Placement, Store

COOKIE = "cookie"
SERVER = "server"


def type_is_cookie(values: Mapping[str, str | None]) -> bool:
    return (values.get("value") or "").lower() == "cookie"


def type_is_server(values: Mapping[str, str | None]) -> bool:
    return not type_is_cookie(values)


FRAMEWORK = Framework(
    name="bottle",
    title="Bottle + Beaker",
    packages=frozenset({"bottle", "beaker"}),
    global_requests=frozenset({"bottle.request"}),
    request_session_paths=(("environ", "[beaker.session]"),),
    calls={"bottle.redirect": always(NORETURN), "bottle.abort": always(NORETURN)},
    methods={
        "regenerate_id": always(regen(Order.EITHER)),
        "invalidate": always(regen_by_emptying()),
        "clear": StoreTable(
            {
                COOKIE: regen_by_emptying(),
                "*": false_friend("empties the data but keeps the session id", empties=True),
            }
        ),
        "delete": always(false_friend("deletes the stored data but keeps the session id", empties=True)),
        "pop": always(false_friend("removes one key; the session keeps its id")),
        **MAPPING_WRITES,
    },
    store_signals=(
        StoreSignal("config", "session.type", Store.COOKIE, COOKIE, "session.type", type_is_cookie),
        StoreSignal("config", "session.type", Store.SERVER, SERVER, "session.type", type_is_server),
        StoreSignal(
            "config", "beaker.session.type", Store.COOKIE, COOKIE, "beaker.session.type", type_is_cookie
        ),
        StoreSignal(
            "config", "beaker.session.type", Store.SERVER, SERVER, "beaker.session.type", type_is_server
        ),
    ),
    default_store=Store.UNKNOWN,
    default_backend="unknown",
    evident_store=Store.SERVER,
    evident_backend=SERVER,
    fixes={
        COOKIE: Fix(
            "call `session.invalidate()` before writing the identity",
            "{session}.invalidate()",
            Placement.BEFORE,
            empties=True,
            carry="{session}",
        ),
        "*": Fix(
            "call `session.regenerate_id()` after the login writes (or `session.invalidate()` before them)",
            "{session}.regenerate_id()",
            Placement.AFTER,
            before_ok=True,
        ),
    },
)
