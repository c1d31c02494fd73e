"""Pyramid sessions and security policies.

Checked against Pyramid 2.0: `request.session.invalidate()` is the session interface's
documented way to start over (a new session for the rest of the request);
`pyramid.security.remember()` delegates to the security policy:
`SessionAuthenticationHelper.remember` (and 1.x's `SessionAuthenticationPolicy`) stores the
userid in `request.session` under `auth.userid`, while `AuthTktCookieHelper` /
`AuthTktAuthenticationPolicy` mint a new signed ticket cookie. `SignedCookieSessionFactory`
keeps the session in a cookie; pyramid_beaker and the Redis session packages keep it on
the server.
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
    "pyramid.authentication.SessionAuthenticationHelper": True,
    "pyramid.authentication.SessionAuthenticationPolicy": True,
    "pyramid.authentication.AuthTktCookieHelper": False,
    "pyramid.authentication.AuthTktAuthenticationPolicy": False,
}
_REMEMBER = LoginCall("remembers the user", policies=_POLICIES)


def _signal(name: str, store: Store, backend: str, describe: str) -> StoreSignal:
    return StoreSignal("call", name, store, backend, describe)


FRAMEWORK = Framework(
    name="pyramid",
    title="Pyramid",
    packages=frozenset({"pyramid", "pyramid_beaker", "pyramid_redis_sessions", "pyramid_session_redis"}),
    request_session_paths=(("session",),),
    request_types=frozenset({"pyramid.request.Request"}),
    login_calls={"pyramid.security.remember": _REMEMBER},
    calls={
        "pyramid.csrf.new_csrf_token": always(false_friend("rotates the CSRF token, not the session")),
    },
    methods={
        "invalidate": always(regen_by_emptying()),
        "clear": StoreTable(
            {
                COOKIE: regen_by_emptying(),
                "*": false_friend("empties the data but keeps the session id", empties=True),
            }
        ),
        "new_csrf_token": always(false_friend("rotates the CSRF token, not the session")),
        "pop": always(false_friend("removes one key; the session keeps its id")),
        **MAPPING_WRITES,
    },
    store_signals=(
        _signal(
            "pyramid.session.SignedCookieSessionFactory", Store.COOKIE, COOKIE, "SignedCookieSessionFactory"
        ),
        _signal("pyramid.session.BaseCookieSessionFactory", Store.COOKIE, COOKIE, "BaseCookieSessionFactory"),
        _signal("pyramid_beaker.session_factory_from_settings", Store.SERVER, SERVER, "pyramid_beaker"),
        _signal("pyramid_beaker.BeakerSessionFactoryConfig", Store.SERVER, SERVER, "pyramid_beaker"),
        _signal(
            "pyramid_redis_sessions.session_factory_from_settings",
            Store.SERVER,
            SERVER,
            "pyramid_redis_sessions",
        ),
        _signal("pyramid_redis_sessions.RedisSessionFactory", Store.SERVER, SERVER, "pyramid_redis_sessions"),
        _signal(
            "pyramid_session_redis.session_factory_from_settings",
            Store.SERVER,
            SERVER,
            "pyramid_session_redis",
        ),
        _signal("pyramid_session_redis.RedisSessionFactory", Store.SERVER, SERVER, "pyramid_session_redis"),
        StoreSignal("dependency", "pyramid-beaker", Store.SERVER, SERVER, "pyramid_beaker"),
        StoreSignal("dependency", "pyramid-redis-sessions", Store.SERVER, SERVER, "pyramid_redis_sessions"),
        StoreSignal("dependency", "pyramid-session-redis", Store.SERVER, SERVER, "pyramid_session_redis"),
    ),
    default_store=Store.UNKNOWN,
    default_backend="unknown",
    fixes={
        "*": Fix(
            "call `request.session.invalidate()` before `remember()` and before writing the identity",
            "{request}.session.invalidate()",
            Placement.BEFORE,
            empties=True,
            carry="{request}.session",
        )
    },
)
