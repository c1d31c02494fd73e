"""The identity-key vocabulary of SPEC §4.2."""

from __future__ import annotations

import pytest

from sessguard.frameworks.identity import IdentityVocabulary, is_credential_call, key_words

VOCABULARY = IdentityVocabulary()


@pytest.mark.parametrize(
    "key",
    [
        "user",
        "user_id",
        "current_user",
        "userinfo",
        "member_id",
        "staff_id",
        "logged_in",
        "userId",
        "currentUserID",
        "_auth_user_id",
        "_user_id",
        "AIOHTTP_SECURITY",
        "auth.userid",
        "otp_device_id",
        "role",
        "is_admin",
        "sudo_mode",
        "username",
        "email",
        "account-id",
        "admin user",
        "mfa_verified",
        "impersonator",
        # namespaced: one leading word before an identity key
        "portal_username",
        "_app_user_id",
        "simple_logged_in",
        "_cp_username",
        "async_user_id",
    ],
)
def test_identity_keys(key: str) -> None:
    assert VOCABULARY.is_identity_key(key)


@pytest.mark.parametrize(
    "key",
    [
        "user_theme",
        "user_prefs",
        "cart",
        "lang",
        "next",
        "csrf_token",
        "oauth_state",
        "client_id",
        "pending_user_id",
        "team_id",
        "login_attempts",
        "sign_in_method",
        "django_language",
        "",
        "_",
        "async_pending_user_id",
        # pending state: a word anywhere marks it, or a library's row says so
        "pending_login",
        "tf_user_id",
        "login_challenge",
        "stashed_user",
        "account_login",
        "last_user_id",
        "impersonated_user_id",
        # one namespace word only, and the rest must be an identity key
        "shop_cart_user",
        "google_id",
    ],
)
def test_not_identity_keys(key: str) -> None:
    assert not VOCABULARY.is_identity_key(key)


def test_configuration_extends_and_narrows() -> None:
    vocabulary = IdentityVocabulary(frozenset({"tenant"}), frozenset({"user_id"}))
    assert vocabulary.is_identity_key("tenant")
    assert not vocabulary.is_identity_key("user_id")
    assert vocabulary.is_identity_key("member_id")


def test_key_words_split_camel_case_and_separators() -> None:
    assert key_words("currentUserID") == ["current", "user", "id"]
    assert key_words("auth.user-id name") == ["auth", "user", "id", "name"]


@pytest.mark.parametrize(
    "name",
    [
        "check_password",
        "check_password_hash",
        "verify_password",
        "authenticate",
        "compare_digest",
        "authorize_access_token",
    ],
)
def test_credential_calls(name: str) -> None:
    assert is_credential_call(name)


def test_plain_calls_are_not_credential_checks() -> None:
    assert not is_credential_call("get_user")
