"""Which session keys carry an identity or a privilege (SPEC §4.2), and credential checks.

The vocabulary is data: a key is split into lower-case words, and it is an identity key
when it names a subject (`user`, `member`, ...) qualified only by identity words (`id`,
`name`, ...), or when it is one of the known flags and grants, or when one namespace word
stands before such a key (`portal_username`). A key with a word that marks a pending or
earlier state (`pending_login`, `tf_user_id`) is never an identity: the step that
completes the login is the auth event. Projects extend or narrow the vocabulary through
configuration (`identity-keys`, `not-identity-keys`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import msgspec

FRAMEWORK_KEYS = frozenset(
    {
        "_user_id",
        "_auth_user_id",
        "_auth_user_backend",
        "_auth_user_hash",
        "auth.userid",
        "AIOHTTP_SECURITY",
        "otp_device_id",
    }
)

SUBJECT_WORDS = frozenset(
    {
        "user",
        "username",
        "userid",
        "userinfo",
        "uid",
        "account",
        "member",
        "customer",
        "principal",
        "identity",
        "admin",
        "staff",
        "employee",
        "owner",
        "operator",
        "person",
        "login",
        "email",
    }
)

QUALIFIER_WORDS = frozenset(
    {
        "id",
        "pk",
        "uuid",
        "key",
        "name",
        "email",
        "info",
        "data",
        "obj",
        "object",
        "record",
        "profile",
        "current",
        "auth",
        "authenticated",
        "logged",
        "in",
        "is",
    }
)

FLAG_KEYS = frozenset(
    {
        "logged_in",
        "is_logged_in",
        "authenticated",
        "is_authenticated",
        "authorized",
        "is_admin",
        "is_staff",
        "is_superuser",
        "role",
        "roles",
        "permissions",
        "auth",
        "access_token",
        "id_token",
        "oauth_token",
        "sudo",
        "sudo_mode",
        "impersonator",
        "impersonating",
        "otp_verified",
        "mfa_verified",
        "mfa_passed",
        "two_factor_verified",
        "is_supervisor",
        "is_manager",
        "is_moderator",
        "is_owner",
    }
)

# Words that mark a login parked for a later stage, or an earlier or borrowed identity.
PENDING_WORDS = frozenset(
    {
        "pending",
        "partial",
        "pre",
        "tmp",
        "temp",
        "unverified",
        "unconfirmed",
        "tf",
        "twofa",
        "mfa",
        "otp",
        "challenge",
        "stash",
        "stashed",
        "next",
        "last",
        "prev",
        "previous",
        "old",
        "original",
        "impersonated",
        "invited",
        "remembered",
    }
)

# Pending-state keys of widely used auth libraries whose words do not say so, each checked
# against the library's source (docs/frameworks.md): the key -> where it is written.
LIBRARY_PENDING_KEYS: dict[str, str] = {
    # django-allauth 65.22.1 `allauth/account/internal/stagekit.py`: LOGIN_SESSION_KEY, the
    # stashed login waiting for a code, a second factor or an e-mail verification
    "account_login": "django-allauth stashed login (stagekit.LOGIN_SESSION_KEY)",
}

# Flask-Security-Too 5.9 keeps a half-finished two-factor login under `tf_*` keys
# (`tf_user_id`, `tf_state`, `tf_primary_method`, `tf_remember_login`, `tf_select`): the
# word `tf` marks them pending, so no row is needed; they are listed in docs/frameworks.md.

# Calls whose value comes from an identity provider (SPEC §4.2, last paragraph).
PROVIDER_CALLS = frozenset({"authorize_access_token", "fetch_token", "parse_id_token", "verify_oauth2_token"})
PROVIDER_ATTRIBUTES = frozenset({"userinfo", "identity_url"})

# What of a principal is its identity (SPEC §4.2, identity from the value).
PRINCIPAL_ATTRIBUTES = frozenset({"id", "pk", "uuid", "username", "email", "name"})
PRINCIPAL_METHODS = frozenset({"get_id"})
AUTHENTICATE_CALLS = frozenset({"authenticate", "aauthenticate"})

# Calls that check credentials in the function that writes the identity (SPEC §4.3).
CREDENTIAL_CALL_PREFIXES = ("check_password",)
CREDENTIAL_CALLS = frozenset(
    {"verify_password", "authenticate", "aauthenticate", "verify", "checkpw", "compare_digest"}
)
AUTH_NAME_WORDS = (
    "login",
    "signin",
    "sign_in",
    "logon",
    "auth",
    "sso",
    "oauth",
    "callback",
    "register",
    "signup",
    "verify",
    "2fa",
    "otp",
    "mfa",
    "sudo",
    "impersonat",
)

_WORD_BREAK = re.compile(r"[_\-.\s]+|(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")


def key_words(key: str) -> list[str]:
    """Split a key into lower-case words on `_ - .`, spaces and camelCase."""
    return [word.lower() for word in _WORD_BREAK.split(key) if word]


class IdentityVocabulary(msgspec.Struct, frozen=True):
    """The identity-key test, with a project's own additions and exclusions."""

    extra_identity: frozenset[str] = frozenset()
    not_identity: frozenset[str] = frozenset()

    def is_identity_key(self, key: str) -> bool:
        if key in self.not_identity:
            return False
        if key in self.extra_identity or key in FRAMEWORK_KEYS:
            return True
        if "_".join(key_words(key)) in FLAG_KEYS:
            return True  # a completed step (`mfa_verified`), though its words say `mfa`
        if is_pending_key(key):
            return False
        words = key_words(key)
        return _plain_identity(words) or (len(words) > 1 and _plain_identity(words[1:]))


def _plain_identity(words: list[str]) -> bool:
    """A subject qualified only by identity words, or a known flag or grant."""
    if not words:
        return False
    if "_".join(words) in FLAG_KEYS:
        return True
    if not any(word in SUBJECT_WORDS for word in words):
        return False
    return all(word in SUBJECT_WORDS or word in QUALIFIER_WORDS for word in words)


def is_pending_key(key: str) -> bool:
    """A login parked for a later stage, or an earlier state: never an identity."""
    return key in LIBRARY_PENDING_KEYS or any(word in PENDING_WORDS for word in key_words(key))


def is_credential_call(name: str) -> bool:
    """Does a call's last name check a credential (or receive one from a provider)?"""
    return name.startswith(CREDENTIAL_CALL_PREFIXES) or name in CREDENTIAL_CALLS or name in PROVIDER_CALLS


def names_auth_step(names: Iterable[str]) -> bool:
    """Does a function, class or route name say that it authenticates?"""
    return any(word in name.lower() for name in names for word in AUTH_NAME_WORDS)
