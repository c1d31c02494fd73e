"""Flask, Flask-Login, Flask-Security-Too, Flask-Session and Flask-KVSession.

Checked against: Flask 3.1 `flask.sessions.SecureCookieSessionInterface` (no
`regenerate`); Flask-Login 0.6 `login_user` (writes `_user_id`, sends `user_logged_in`,
never regenerates); Flask-Security-Too `flask_security.utils.login_user` (calls
Flask-Login's); Flask-Session 0.7+ `ServerSideSessionInterface.regenerate(session)`
(does nothing when `bool(session)` is false, i.e. right after `clear()`), older releases
have no such method; Flask-KVSession `KVSession.regenerate()` (new id when the response is
saved) and `KVSession.destroy()` (drops the stored record and the id, so the next write
gets a new id).
"""

from __future__ import annotations

from collections.abc import Mapping

from sessguard.frameworks.base import (
    ANY_STORE,
    MAPPING_WRITES,
    NORETURN,
    Fix,
    Framework,
    LoginCall,
    Signal,
    SignalTiming,
    StoreSignal,
    StoreTable,
    always,
    false_friend,
    regen,
    regen_by_emptying,
)
from sessguard.model import Order, Placement, Store

COOKIE = "cookie"
FLASK_SESSION = "flask-session"
FLASK_SESSION_LEGACY = "flask-session<0.7"
KVSESSION = "flask-kvsession"
CUSTOM = "custom-interface"

USER_LOGGED_IN = ("flask_login.user_logged_in", "flask_login.signals.user_logged_in")
USER_AUTHENTICATED = (
    "flask_security.user_authenticated",
    "flask_security.signals.user_authenticated",
)

# Flask-Login's anonymous user has no id: logging it in stores nobody (Superset does this
# to render an embedded view), so it is not an auth event.
_ANONYMOUS = frozenset({"flask_login.AnonymousUserMixin", "flask_login.mixins.AnonymousUserMixin"})
_FLASK_LOGIN = LoginCall("logs the user in", signals=USER_LOGGED_IN, anonymous=_ANONYMOUS)
# Flask-AppBuilder 5.3 `security/views.py`: its auth views log in with Flask-Login's
# `login_user` and never regenerate; projects subclass them and call `super().login()`.
_FAB_VIEWS = "flask_appbuilder.security.views"
_FAB_LOGINS = {
    f"{_FAB_VIEWS}.{view}.{method}": _FLASK_LOGIN
    for view, method in (
        ("AuthDBView", "login"),
        ("AuthLDAPView", "login"),
        ("AuthOAuthView", "oauth_authorized"),
        ("AuthRemoteUserView", "login"),
    )
}
_FLASK_SECURITY = LoginCall(
    "logs the user in", signals=USER_LOGGED_IN + USER_AUTHENTICATED, anonymous=_ANONYMOUS
)

# `app.test_request_context()` builds a synthetic request with no cookie: the session in
# it is new, so what happens inside cannot fix anything (a login to mint cookies for a
# headless browser, as Superset's machine auth does).
FRESH_REQUEST_CONTEXT = StoreTable({ANY_STORE: regen_by_emptying()})

_KEEPS_ID = "empties the data but keeps the session id on a server-side store"


def session_type_is_server(values: Mapping[str, str | None]) -> bool:
    """`SESSION_TYPE` set to anything but "null" selects a Flask-Session backend."""
    value = values.get("value")
    return value is not None and value.lower() != "null"


COOKIE_INTERFACE = "flask.sessions.SecureCookieSessionInterface"


def _interface_is_custom(values: Mapping[str, str | None]) -> bool:
    cls = values.get("value") or ""
    return not cls.endswith("SecureCookieSessionInterface")


def _interface_is_cookie(values: Mapping[str, str | None]) -> bool:
    return not _interface_is_custom(values)


FLASK_STORE_SIGNALS: tuple[StoreSignal, ...] = (
    StoreSignal("call", "flask_session.Session", Store.SERVER, FLASK_SESSION, "flask_session.Session(app)"),
    StoreSignal(
        "call", "flask_kvsession.KVSessionExtension", Store.SERVER, KVSESSION, "KVSessionExtension(...)"
    ),
    StoreSignal(
        "call", "flaskext.kvsession.KVSessionExtension", Store.SERVER, KVSESSION, "KVSessionExtension(...)"
    ),
    StoreSignal(
        "config", "SESSION_TYPE", Store.SERVER, FLASK_SESSION, "SESSION_TYPE", session_type_is_server
    ),
    StoreSignal(
        "interface", "session_interface", Store.SERVER, CUSTOM, "app.session_interface", _interface_is_custom
    ),
    # Flask's own signed-cookie interface, or a project subclass of it (SPEC §6)
    StoreSignal(
        "interface", "session_interface", Store.COOKIE, COOKIE, "app.session_interface", _interface_is_cookie
    ),
    StoreSignal(
        "dependency",
        "flask-session",
        Store.SERVER,
        FLASK_SESSION,
        "flask-session",
        below=("0.7", FLASK_SESSION_LEGACY),
    ),
    StoreSignal("dependency", "flask-kvsession", Store.SERVER, KVSESSION, "flask-kvsession"),
    StoreSignal("dependency", "flask-kvsession-fork", Store.SERVER, KVSESSION, "flask-kvsession-fork"),
)

_CLEAR = StoreTable({COOKIE: regen_by_emptying(), "*": false_friend(_KEEPS_ID, empties=True)})
_POP = always(false_friend("removes one key; the session keeps its id"))

FLASK_SESSION_METHODS: Mapping[str, StoreTable] = {
    "clear": _CLEAR,
    "regenerate": StoreTable(
        {
            KVSESSION: regen(Order.EITHER),
            "*": false_friend(
                "only Flask-KVSession sessions have regenerate(); on this store the call "
                "raises AttributeError"
            ),
        }
    ),
    "destroy": StoreTable(
        {
            KVSESSION: regen_by_emptying(),
            "*": false_friend("only Flask-KVSession sessions have destroy()"),
        }
    ),
    "pop": _POP,
    **MAPPING_WRITES,
}

FLASK_ATTRIBUTE_WRITES: Mapping[str, StoreTable] = {
    "permanent": always(false_friend("only changes the cookie's lifetime")),
    "modified": always(false_friend("only marks the session to be saved")),
}

FLASK_FIXES: Mapping[str, Fix] = {
    FLASK_SESSION: Fix(
        "call `app.session_interface.regenerate(session)` after the login writes "
        "(Flask-Session 0.7 or later)",
        "{app}.session_interface.regenerate({session})",
        Placement.AFTER,
        requires="Flask-Session 0.7 or later; older releases have no `session_interface.regenerate`",
    ),
    FLASK_SESSION_LEGACY: Fix(
        "upgrade to Flask-Session 0.7 or later (older releases keep the id and accept "
        "any id a browser sends) and call `app.session_interface.regenerate(session)` "
        "after the login writes",
    ),
    KVSESSION: Fix(
        "call `session.regenerate()` after the login writes",
        "{session}.regenerate()",
        Placement.AFTER,
        before_ok=True,
    ),
    CUSTOM: Fix(
        "give the browser a new session id in the custom session interface at login, "
        "or clear the session and have the interface issue a new id"
    ),
    COOKIE: Fix(
        "call `session.clear()` before logging the user in (keep only what the app must carry over)",
        "{session}.clear()",
        Placement.BEFORE,
        empties=True,
        carry="{session}",
    ),
}

FLASK_STORE_NOTES: Mapping[str, str] = {
    FLASK_SESSION_LEGACY: (
        "Flask-Session below 0.7 keeps the session id across the login and accepts any "
        "id a browser presents, so an attacker can plant one; upgrading is the first step."
    ),
    KVSESSION: (
        "Flask-KVSession keeps the data server-side under the id in the cookie, so an "
        "attacker who plants that id before the login shares the logged-in session."
    ),
    FLASK_SESSION: (
        "Flask-Session keeps the data server-side under the id in the cookie, so an "
        "attacker who plants that id before the login shares the logged-in session."
    ),
}

FLASK_INTERFACE_REGENERATE = StoreTable(
    {
        FLASK_SESSION: regen(Order.EITHER, needs_data=True),
        FLASK_SESSION_LEGACY: false_friend(
            "Flask-Session below 0.7 has no session_interface.regenerate(); the call raises AttributeError"
        ),
        KVSESSION: false_friend(
            "Flask-KVSession's session interface has no regenerate(); use session.regenerate()"
        ),
        COOKIE: false_friend(
            "Flask's default cookie session interface has no regenerate(); the call raises AttributeError"
        ),
    }
)

FRAMEWORK = Framework(
    name="flask",
    title="Flask",
    packages=frozenset(
        {"flask", "flask_login", "flask_security", "flask_session", "flask_kvsession", "flaskext"}
    ),
    global_sessions=frozenset({"flask.session", "flask.globals.session"}),
    login_calls={
        "flask_login.login_user": _FLASK_LOGIN,
        "flask_login.utils.login_user": _FLASK_LOGIN,
        "flask_security.login_user": _FLASK_SECURITY,
        "flask_security.utils.login_user": _FLASK_SECURITY,
        **_FAB_LOGINS,
    },
    calls={
        "flask_login.logout_user": always(
            false_friend("removes Flask-Login's keys; the session keeps its id")
        ),
        "flask_login.utils.logout_user": always(
            false_friend("removes Flask-Login's keys; the session keeps its id")
        ),
        "flask_security.logout_user": always(
            false_friend("removes Flask-Security's keys; the session keeps its id")
        ),
        "flask_security.utils.logout_user": always(
            false_friend("removes Flask-Security's keys; the session keeps its id")
        ),
        "flask.abort": always(NORETURN),
        "flask.helpers.abort": always(NORETURN),
        "werkzeug.exceptions.abort": always(NORETURN),
    },
    methods=FLASK_SESSION_METHODS,
    attribute_writes=FLASK_ATTRIBUTE_WRITES,
    call_suffixes={
        ("session_interface", "regenerate"): FLASK_INTERFACE_REGENERATE,
        ("test_request_context",): FRESH_REQUEST_CONTEXT,
    },
    signals={name: Signal(SignalTiming.AFTER_WRITE) for name in USER_LOGGED_IN + USER_AUTHENTICATED},
    store_signals=FLASK_STORE_SIGNALS,
    backend_precedence=(FLASK_SESSION_LEGACY, KVSESSION, FLASK_SESSION, CUSTOM),
    default_store=Store.COOKIE,
    default_backend=COOKIE,
    fixes=FLASK_FIXES,
    store_notes=FLASK_STORE_NOTES,
)
