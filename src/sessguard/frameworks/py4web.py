"""py4web sessions and Auth.

Checked against py4web `py4web/core.py` (`Session`: without `storage` the session is a
signed JWT cookie; with a storage the cookie carries a `uuid` that is also the storage
key; `clear()` drops the uuid and a new one is minted) and `py4web/utils/auth.py`
(`Auth.store_user_in_session()` clears the session, so the user is stored under a new
uuid).
"""

from __future__ import annotations

from collections.abc import Mapping

from sessguard.frameworks.base import (
    MAPPING_WRITES,
    Fix,
    Framework,
    LoginCall,
    StoreSignal,
    always,
    false_friend,
    regen_by_emptying,
)
from sessguard.model import Placement, Store

COOKIE = "cookie"
SERVER = "server"


def has_storage(values: Mapping[str, str | None]) -> bool:
    return bool(values.get("storage"))


def no_storage(values: Mapping[str, str | None]) -> bool:
    return not has_storage(values)


_SELF_ROTATING = LoginCall("logs the user in", self_rotating=True)

FRAMEWORK = Framework(
    name="py4web",
    title="py4web",
    packages=frozenset({"py4web"}),
    session_factories=frozenset({"py4web.Session", "py4web.core.Session"}),
    login_calls={
        "py4web.utils.auth.Auth.store_user_in_session": _SELF_ROTATING,
        "py4web.Auth.store_user_in_session": _SELF_ROTATING,
    },
    methods={
        "clear": always(regen_by_emptying()),
        "pop": always(false_friend("removes one key; the session keeps its uuid")),
        **MAPPING_WRITES,
    },
    store_signals=(
        StoreSignal("call", "py4web.Session", Store.SERVER, SERVER, "Session(storage=...)", has_storage),
        StoreSignal("call", "py4web.core.Session", Store.SERVER, SERVER, "Session(storage=...)", has_storage),
        StoreSignal("call", "py4web.Session", Store.COOKIE, COOKIE, "Session() (a JWT cookie)", no_storage),
        StoreSignal(
            "call", "py4web.core.Session", Store.COOKIE, COOKIE, "Session() (a JWT cookie)", no_storage
        ),
    ),
    default_store=Store.COOKIE,
    default_backend=COOKIE,
    fixes={
        "*": Fix(
            "log the user in with `auth.store_user_in_session(user_id)`, which gives the "
            "session a new uuid, or call `session.clear()` before writing the identity",
            "{session}.clear()",
            Placement.BEFORE,
            empties=True,
            carry="{session}",
        )
    },
)
