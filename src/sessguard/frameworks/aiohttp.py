"""aiohttp with aiohttp-session and aiohttp-security.

Checked against aiohttp-session (`get_session(request)` returns the request's session,
`new_session(request)` (2.5+) replaces it with a new, empty one that is saved under a new
identity; `Session.invalidate()` empties the mapping but the storage saves under the same
key; Redis/Memcached storages keep the key in the cookie) and aiohttp-security
(`remember()` delegates to the identity policy: `SessionIdentityPolicy.remember` writes the
identity into `await get_session(request)` under `AIOHTTP_SECURITY`;
`CookiesIdentityPolicy` and `JWTIdentityPolicy` set a cookie or token of their own).
"""

from __future__ import annotations

from sessguard.frameworks.base import (
    MAPPING_WRITES,
    Fix,
    Framework,
    LoginCall,
    StoreSignal,
    StoreTable,
    always,
    false_friend,
    regen_by_emptying,
)
from sessguard.model import Placement, Store

COOKIE = "cookie"
SERVER = "server"

_POLICIES = {
    "aiohttp_security.SessionIdentityPolicy": True,
    "aiohttp_security.session_identity.SessionIdentityPolicy": True,
    "aiohttp_security.CookiesIdentityPolicy": False,
    "aiohttp_security.cookies_identity.CookiesIdentityPolicy": False,
    "aiohttp_security.JWTIdentityPolicy": False,
    "aiohttp_security.jwt_identity.JWTIdentityPolicy": False,
}
_REMEMBER = LoginCall("remembers the identity", policies=_POLICIES)
_EMPTIES = StoreTable(
    {
        COOKIE: regen_by_emptying(),
        "*": false_friend("empties the data but the storage keeps the key", empties=True),
    }
)


def _storage(name: str, store: Store, backend: str) -> tuple[StoreSignal, ...]:
    return tuple(
        StoreSignal("call", f"aiohttp_session.{module}{name}", store, backend, f"{name}(...)")
        for module in ("", _STORAGE_MODULES[name] + ".")
    )


_STORAGE_MODULES = {
    "RedisStorage": "redis_storage",
    "MemcachedStorage": "memcached_storage",
    "EncryptedCookieStorage": "cookie_storage",
    "SimpleCookieStorage": "cookie_storage",
    "NaClCookieStorage": "nacl_storage",
}

FRAMEWORK = Framework(
    name="aiohttp",
    title="aiohttp (aiohttp-session)",
    packages=frozenset({"aiohttp", "aiohttp_session", "aiohttp_security"}),
    session_factories=frozenset({"aiohttp_session.get_session", "aiohttp_session.new_session"}),
    login_calls={"aiohttp_security.remember": _REMEMBER, "aiohttp_security.api.remember": _REMEMBER},
    calls={"aiohttp_session.new_session": always(regen_by_emptying())},
    methods={
        "invalidate": _EMPTIES,
        "clear": _EMPTIES,
        "set_new_identity": always(
            false_friend("only renames the key a storage saves under; the browser keeps its cookie")
        ),
        "pop": always(false_friend("removes one key; the session keeps its key")),
        **MAPPING_WRITES,
    },
    store_signals=(
        *_storage("RedisStorage", Store.SERVER, SERVER),
        *_storage("MemcachedStorage", Store.SERVER, SERVER),
        *_storage("EncryptedCookieStorage", Store.COOKIE, COOKIE),
        *_storage("SimpleCookieStorage", Store.COOKIE, COOKIE),
        *_storage("NaClCookieStorage", Store.COOKIE, COOKIE),
    ),
    default_store=Store.UNKNOWN,
    default_backend="unknown",
    fixes={
        "*": Fix(
            "call `session = await new_session(request)` before writing the identity, and "
            "write to the session it returns (aiohttp-session 2.5 or later)",
            "new_session",
            Placement.FACTORY,
            empties=True,
            carry="{session}",
        )
    },
)
