"""What a finding says (SPEC §8): in words true for its store, with the false friends on
the path, what the store means, and the fix for its framework; severity and confidence."""

from __future__ import annotations

from pathlib import Path

import pytest
from harness import SHARED_CASES

from sessguard.model import Level, Store
from sessguard.pipeline import scan


def findings(case: str):  # type: ignore[no-untyped-def]
    return scan([str(SHARED_CASES / case)]).findings


def by_line(case: str, line: int):  # type: ignore[no-untyped-def]
    return next(f for f in findings(case) if f.span.line == line)


def test_server_store_wording_and_fix() -> None:
    finding = by_line("flask/server_side_store", 20)
    assert finding.headline == (
        "`login_user(client)` logs the user in on the session the request arrived with: "
        "its id is not regenerated on this path."
    )
    assert (finding.severity, finding.session_store, finding.confidence) == (
        Level.HIGH,
        Store.SERVER,
        Level.HIGH,
    )
    assert "Flask-Session keeps the data server-side" in finding.message
    assert "flask_session.Session(app)" in finding.message
    assert "Fix: call `app.session_interface.regenerate(session)` after the login writes" in finding.message


def test_cookie_store_wording_and_fix() -> None:
    finding = by_line("flask/login_user_no_regen.py", 17)
    assert finding.headline == (
        "`login_user(user)` logs the user in without clearing the data the session carried before login."
    )
    assert (finding.severity, finding.session_store) == (Level.LOW, Store.COOKIE)
    assert "no server-side id to fix" in finding.message
    assert "Fix: call `session.clear()` before logging the user in" in finding.message


def test_false_friend_in_a_called_function_is_named_with_its_chain() -> None:
    finding = by_line("flask/server_side_store", 30)
    assert (
        "`session.clear()` (" in finding.message
        and "reached through `regenerate_session()` (line 29)" in finding.message
        and "empties the data but keeps the session id" in finding.message
    )


def test_no_op_regeneration_after_clear_is_explained() -> None:
    finding = by_line("flask/server_side_store", 51)
    assert "`app.session_interface.regenerate(session)`" in finding.message
    assert "the session is empty at this point" in finding.message


def test_conditional_helper_is_named_on_the_path() -> None:
    finding = by_line("flask/cross_module", 31)
    notes = [step.note for step in finding.trace]
    assert any("regenerates the session on some of its paths only" in note for note in notes)
    assert finding.trace[-1].note == "`login_user(user, remember=remember)` logs the user in"
    assert finding.trace[-1].path.endswith("shop/security.py")


def test_early_return_before_an_either_regeneration() -> None:
    finding = by_line("flask/kvsession_store.py", 52)
    assert "the request returns at line 54 before `session.regenerate()` (line 55) runs" in finding.message


def test_django_wording_severity_and_fix() -> None:
    finding = by_line("django/manual_session_write.py", 12)
    assert finding.headline == (
        "`request.session[\"member_id\"] = member.pk` stores the identity 'member_id' in the session "
        "the request arrived with: its id is not regenerated on this path."
    )
    assert (finding.framework, finding.session_store, finding.severity) == (
        "django",
        Store.SERVER,
        Level.HIGH,
    )
    assert "request.session.cycle_key()" in finding.message


def test_django_signed_cookies_are_low() -> None:
    finding = by_line("django/signed_cookie_sessions", 39)
    assert (finding.session_store, finding.severity) == (Store.COOKIE, Level.LOW)


def test_confidence_is_medium_without_credentials_or_auth_names() -> None:
    finding = by_line("flask/kvsession_store.py", 66)
    assert finding.confidence is Level.MEDIUM
    assert by_line("flask/logged_in_flag.py", 12).confidence is Level.HIGH


def test_folded_events_are_listed_not_reported() -> None:
    report = findings("django/session_key_constant.py")
    assert len(report) == 1
    notes = [step.note for step in report[0].trace]
    assert any(note.startswith("also `request.session[BACKEND_SESSION_KEY]") for note in notes)


def test_an_unseen_identity_policy_is_reported_at_medium_confidence() -> None:
    finding = by_line("aiohttp/security_remember.py", 13)
    assert finding.confidence is Level.MEDIUM
    assert "identity policy this call delegates to is not in the scanned code" in finding.message


def test_stores_without_a_regeneration_api_say_so() -> None:
    sanic = by_line("sanic/helpdesk_redis_sessions.py", 28)
    assert "sanic-session has no call that issues a new sid" in sanic.message
    litestar = by_line("litestar/workshop_server_side_sessions.py", 33)
    assert "have no call that issues a new session id" in litestar.message


def test_settings_apply_to_their_own_web2py_application() -> None:
    """Two applications scanned together: one switches login renewal off, the other not."""
    report = scan([str(SHARED_CASES / "web2py")])
    found = sorted((f.path.split("cases/web2py/")[1], f.span.line) for f in report.findings)
    assert found == [("library/controllers/default.py", 38), ("pos_terminal/controllers/default.py", 28)]


def test_the_skipping_branch_is_named_even_after_an_earlier_condition(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two conditions in a row, the second with nothing recorded in its test: the note must
    blame the second (the first's false branch leads to both of the second's)."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "app.py").write_text(
        "from flask import abort, request, session\n"
        "from flask_session import Session\n"
        "from helpers import rotate\n"
        "def magic(token, customer):\n"
        "    if customer is None:\n"
        "        abort(404)\n"
        "    if request.args.get('remember'):\n"
        "        session.clear()\n"
        "        rotate()\n"
        "    session['customer_id'] = customer\n"
    )
    (tmp_path / "helpers.py").write_text(
        "from flask import current_app, session\n"
        "def rotate():\n"
        "    current_app.session_interface.regenerate(session)\n"
    )
    [finding] = scan(["."]).findings
    notes = [step.note for step in finding.trace]
    assert any(note.startswith("`if request.args.get('remember')` is false") for note in notes), notes
    assert not any("customer is None" in note for note in notes), notes
