"""Django and Django REST framework sessions, django.contrib.auth, django-otp.

Checked against Django 5.2 (`django/contrib/auth/__init__.py`,
`django/contrib/sessions/backends/base.py`): `login()`/`alogin()` cycle the key (or flush
for another user) before writing `SESSION_KEY`, then send `user_logged_in`;
`update_session_auth_hash()` cycles the key; `logout()` flushes; `SessionBase.clear()`
empties the data and keeps the key; `cycle_key()` keeps the data under a new key;
`flush()` drops both; `LoginView.form_valid` and `PasswordResetConfirmView.form_valid`
(with `post_reset_login`) call `login()`, `PasswordChangeView.form_valid` calls
`update_session_auth_hash()`. The async twins (`aset`, `aupdate`, `asetdefault`, `apop`,
`acycle_key`, `aflush`, `aset_expiry`) arrived in Django 5.0. django-otp's `login()` writes
`otp_device_id` without cycling the key.
"""

from __future__ import annotations

from collections.abc import Mapping

from sessguard.frameworks.base import (
    MAPPING_WRITES,
    WRITE,
    Effect,
    EffectKind,
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

SIGNED_COOKIES = "signed_cookies"
DATABASE = "server"


def engine_is_signed_cookies(values: Mapping[str, str | None]) -> bool:
    return (values.get("value") or "").endswith("signed_cookies")


def engine_is_server(values: Mapping[str, str | None]) -> bool:
    value = values.get("value")
    return value is not None and not value.endswith("signed_cookies")


_SELF_ROTATING = LoginCall("logs the user in", self_rotating=True)
_ROTATES_THEN_WRITES = (*regen(Order.EITHER), Effect(EffectKind.WRITE))
_FLUSH = regen_by_emptying()
_KEEPS_KEY = "empties the data but keeps the session key"

DJANGO_METHODS: Mapping[str, StoreTable] = {
    "cycle_key": always(regen(Order.EITHER)),
    "acycle_key": always(regen(Order.EITHER)),
    "flush": always(_FLUSH),
    "aflush": always(_FLUSH),
    "clear": StoreTable({SIGNED_COOKIES: _FLUSH, "*": false_friend(_KEEPS_KEY, empties=True)}),
    "set_expiry": always(false_friend("only changes when the session expires")),
    "aset_expiry": always(false_friend("only changes when the session expires")),
    "pop": always(false_friend("removes one key; the session keeps its key")),
    "apop": always(false_friend("removes one key; the session keeps its key")),
    "delete": always(false_friend("deletes the stored record; the request keeps its key")),
    **MAPPING_WRITES,
    "aset": always(WRITE),
    "aupdate": always(WRITE),
    "asetdefault": always(WRITE),
}

DJANGO_ATTRIBUTE_WRITES: Mapping[str, StoreTable] = {
    "modified": always(false_friend("only marks the session to be saved")),
    "accessed": always(false_friend("only marks the session as read")),
}

FRAMEWORK = Framework(
    name="django",
    title="Django",
    packages=frozenset({"django", "rest_framework", "django_otp"}),
    request_session_paths=(("session",), ("_request", "session")),
    request_types=frozenset(
        {
            "django.http.HttpRequest",
            "django.http.request.HttpRequest",
            "django.core.handlers.wsgi.WSGIRequest",
            "django.core.handlers.asgi.ASGIRequest",
            "rest_framework.request.Request",
        }
    ),
    login_calls={
        "django.contrib.auth.login": _SELF_ROTATING,
        "django.contrib.auth.alogin": _SELF_ROTATING,
        # framework bases a project subclasses and reaches with `super()` (SPEC §7)
        "django.contrib.auth.views.LoginView.form_valid": _SELF_ROTATING,
        "django.contrib.auth.views.PasswordResetConfirmView.form_valid": _SELF_ROTATING,
        "django_otp.login": LoginCall("marks the session as verified by a second factor", privilege=True),
    },
    calls={
        "django.contrib.auth.update_session_auth_hash": always(_ROTATES_THEN_WRITES),
        "django.contrib.auth.aupdate_session_auth_hash": always(_ROTATES_THEN_WRITES),
        "django.contrib.auth.views.PasswordChangeView.form_valid": always(_ROTATES_THEN_WRITES),
        "django.contrib.auth.logout": always(_FLUSH),
        "django.contrib.auth.alogout": always(_FLUSH),
        "django.middleware.csrf.rotate_token": always(
            false_friend("rotates the CSRF token, not the session key")
        ),
    },
    methods=DJANGO_METHODS,
    attribute_writes=DJANGO_ATTRIBUTE_WRITES,
    # python-social-auth's strategies (social-auth-app-django 8.0 `DjangoStrategy.session_set`
    # writes `self.session[name] = value`); the session is the request's
    session_write_calls={("strategy", "session_set"): (0, 1)},
    signals={
        "django.contrib.auth.signals.user_logged_in": Signal(SignalTiming.AFTER_ROTATION),
        "django.contrib.auth.user_logged_in": Signal(SignalTiming.AFTER_ROTATION),
    },
    key_constants={
        "django.contrib.auth.SESSION_KEY": "_auth_user_id",
        "django.contrib.auth.BACKEND_SESSION_KEY": "_auth_user_backend",
        "django.contrib.auth.HASH_SESSION_KEY": "_auth_user_hash",
        "django_otp.DEVICE_ID_SESSION_KEY": "otp_device_id",
    },
    store_signals=(
        StoreSignal("config", "SESSION_ENGINE", Store.SERVER, DATABASE, "SESSION_ENGINE", engine_is_server),
        StoreSignal(
            "config",
            "SESSION_ENGINE",
            Store.COOKIE,
            SIGNED_COOKIES,
            "SESSION_ENGINE",
            engine_is_signed_cookies,
        ),
    ),
    default_store=Store.UNKNOWN,
    default_backend="unknown",
    evident_store=Store.SERVER,
    evident_backend=DATABASE,
    fixes={
        "*": Fix(
            "log the user in with `django.contrib.auth.login(request, user)`, or call "
            "`request.session.cycle_key()` before the identity writes",
            "{request}.session.cycle_key()",
            Placement.AFTER,
            before_ok=True,
        ),
    },
    store_notes={
        DATABASE: (
            "Django keeps the session data on the server (SESSION_ENGINE is not "
            "signed_cookies) under the key in the cookie, so an attacker who plants that key "
            "before the login shares the logged-in session."
        ),
        SIGNED_COOKIES: (
            "With the signed_cookies engine the whole session travels in the cookie, so "
            "there is no server-side key to fix; what remains is data planted before login "
            "surviving into the authenticated session."
        ),
    },
)
