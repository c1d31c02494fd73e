"""Fixed Flask logins still work (issue 13): a folder holding a cookie-session app, a
Flask-Session app and one pinned to a Flask-Session without `regenerate`, fixed in one run
of `sessguard fix`, then driven through Flask's test client."""

from __future__ import annotations

from pathlib import Path

import pytest
from fixed_apps import load, run_fix, write_project

VIEWS = """
@app.get("/start")
def start():
    session["next"] = request.args["next"]
    return "ok"


@app.get("/plant")
def plant():
    session["planted"] = "before-login"
    return "ok"


@app.post("/login")
def login():
    if request.form.get("password") != "secret":
        return "denied", 403
    session["user_id"] = request.form["name"]
    return redirect(session.get("next", "/"))


@app.get("/me")
def me():
    return {"user": session.get("user_id"), "planted": session.get("planted")}
"""

COOKIE_APP = (
    """
from flask import Flask, redirect, request, session

app = Flask(__name__)
app.secret_key = "test-only"

"""
    + VIEWS
)

SERVER_APP = (
    """
from pathlib import Path

from cachelib.file import FileSystemCache
from flask import Flask, redirect, request, session
from flask_session import Session

app = Flask(__name__)
app.config.update(
    SESSION_TYPE="cachelib",
    SESSION_CACHELIB=FileSystemCache(str(Path(__file__).parent / "store")),
)
Session(app)

"""
    + VIEWS
)


@pytest.fixture
def site(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> tuple[Path, str]:
    root = write_project(
        tmp_path / "site",
        {
            "cookie_app/requirements.txt": "flask>=3\n",
            "cookie_app/app.py": COOKIE_APP,
            "server_app/requirements.txt": "flask>=3\nFlask-Session>=0.7\n",
            "server_app/app.py": SERVER_APP,
            "legacy_app/requirements.txt": "flask>=3\nFlask-Session==0.6.0\n",
            "legacy_app/app.py": SERVER_APP,
        },
    )
    return root, run_fix(root, capsys, monkeypatch)


def login_after_planting(app: object) -> tuple[object, object]:
    client = app.test_client()  # type: ignore[attr-defined]
    client.get("/start?next=/dashboard")
    client.get("/plant")
    return client, client.post("/login", data={"name": "alice", "password": "secret"})


def test_the_cookie_app_logs_in_keeps_next_and_drops_what_was_planted(site: tuple[Path, str]) -> None:
    root, _ = site
    app = load(root / "cookie_app" / "app.py").app
    client, response = login_after_planting(app)
    assert response.status_code == 302
    assert response.headers["Location"] == "/dashboard"  # the carried value
    assert client.get("/me").get_json() == {"user": "alice", "planted": None}


def test_the_cookie_app_gets_its_own_stores_fix(site: tuple[Path, str]) -> None:
    root, _ = site
    text = (root / "cookie_app" / "app.py").read_text()
    assert "session.clear()" in text
    assert "session_interface" not in text


def test_the_flask_session_app_gets_a_new_id_and_keeps_next(site: tuple[Path, str]) -> None:
    root, _ = site
    app = load(root / "server_app" / "app.py").app
    client = app.test_client()
    client.get("/start?next=/dashboard")
    before = client.get_cookie("session").value
    response = client.post("/login", data={"name": "alice", "password": "secret"})
    assert response.status_code == 302
    assert response.headers["Location"] == "/dashboard"
    after = client.get_cookie("session").value
    assert after != before
    assert client.get("/me").get_json()["user"] == "alice"
    attacker = app.test_client()
    attacker.set_cookie("session", before)
    assert attacker.get("/me").get_json()["user"] is None  # the planted id names no login


def test_a_flask_session_pin_below_0_7_is_refused_with_upgrade_advice(site: tuple[Path, str]) -> None:
    root, output = site
    written = root / "server_app" / "app.py"
    legacy = (root / "legacy_app" / "app.py").read_text()
    assert legacy != written.read_text()  # the same app with a good pin was fixed; this one not
    assert "regenerate" not in legacy
    line = legacy.splitlines().index('    session["user_id"] = request.form["name"]') + 1
    assert f"legacy_app/app.py:{line}: no automatic fix: upgrade to Flask-Session 0.7 or later" in output
