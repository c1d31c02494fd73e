"""web2py: the `session` and `auth` globals of an application's models and controllers.

Checked against web2py `gluon/globals.py` (`Session.renew(clear_session=False)` gives
file and database sessions a new id and keeps the data unless `clear_session=True`;
`clear()` deletes the stored record but keeps the id; cookie sessions have no id) and
`gluon/tools.py` (`Auth.login_user()` renews the session unless
`auth.settings.renew_session_onlogin` is False; `login_bare()` logs in through it).
Models and controllers run with `session`, `auth`, `request`, `response`, `redirect` and
`HTTP` defined by the framework, without imports.
"""

from __future__ import annotations

from collections.abc import Mapping

from sessguard.frameworks.base import (
    NORETURN,
    WRITE,
    Environment,
    Fix,
    Framework,
    LoginCall,
    StoreSignal,
    always,
    false_friend,
    regen,
    regen_by_emptying,
)
from sessguard.model import Order, Placement, Store

COOKIE = "cookie"
SERVER = "server"

_LOGIN = LoginCall("logs the user in", self_rotating=True, rotation_setting="renew_session_onlogin")


def has_cookie_key(values: Mapping[str, str | None]) -> bool:
    return bool(values.get("cookie_key"))


FRAMEWORK = Framework(
    name="web2py",
    title="web2py",
    packages=frozenset({"gluon"}),
    global_sessions=frozenset({"gluon.current.session", "gluon.globals.current.session"}),
    environment=Environment(
        dirs=frozenset({"controllers", "models"}),
        names={
            "session": "gluon.current.session",
            "request": "gluon.current.request",
            "response": "gluon.current.response",
            "redirect": "gluon.http.redirect",
            "HTTP": "gluon.http.HTTP",
        },
        instances={"auth": "gluon.tools.Auth"},
    ),
    attribute_style=True,
    login_calls={"gluon.tools.Auth.login_user": _LOGIN, "gluon.tools.Auth.login_bare": _LOGIN},
    calls={"gluon.http.redirect": always(NORETURN)},
    methods={
        "renew": always(regen(Order.EITHER)),
        "renew(clear_session=True)": always(regen_by_emptying()),
        "renew(clear_session=False)": always(regen(Order.EITHER)),
        "clear": always(false_friend("deletes the stored record but keeps the session id", empties=True)),
        "forget": always(false_friend("only stops saving the session for this request")),
        "pop": always(false_friend("removes one key; the session keeps its id")),
        "__setitem__": always(WRITE),
        "update": always(WRITE),
    },
    store_signals=(
        StoreSignal(
            "call",
            "gluon.current.session.connect",
            Store.COOKIE,
            COOKIE,
            "session.connect(cookie_key=...)",
            has_cookie_key,
        ),
    ),
    default_store=Store.SERVER,
    default_backend=SERVER,
    fixes={
        "*": Fix(
            "call `session.renew()` after the login writes, or log in with `auth.login_user()` "
            "(which renews the session unless `auth.settings.renew_session_onlogin` is False)",
            "{session}.renew()",
            Placement.AFTER,
            before_ok=True,
        )
    },
)
