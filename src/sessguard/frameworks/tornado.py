"""Tornado: no server-side session; `set_secure_cookie`/`set_signed_cookie` mint a fresh
signed value at login, so nothing here is an auth event (SPEC §4.1). The module exists so
that Tornado projects are recognised and reported as such, never guessed at."""

from __future__ import annotations

from sessguard.frameworks.base import Framework
from sessguard.model import Store

FRAMEWORK = Framework(
    name="tornado",
    title="Tornado",
    packages=frozenset({"tornado"}),
    default_store=Store.COOKIE,
    default_backend="signed-cookie",
)
