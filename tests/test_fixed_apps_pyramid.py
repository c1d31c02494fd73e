"""A fixed Pyramid login still works (issue 13): `request.session.invalidate()` goes
before the login, the key the view reads afterwards is carried over, and what was planted
before the login is gone. Driven through WebTest."""

from __future__ import annotations

from pathlib import Path

import pytest
from fixed_apps import load, run_fix, write_project
from webtest import TestApp

APP = """
from pyramid.config import Configurator
from pyramid.httpexceptions import HTTPSeeOther
from pyramid.session import SignedCookieSessionFactory


def start(request):
    request.session["next"] = request.params["next"]
    request.session["planted"] = "before-login"
    return {}


def login(request):
    if request.json_body.get("password") != "secret":
        return {"denied": True}
    request.session["user_id"] = request.json_body["name"]
    return HTTPSeeOther(request.session.get("next", "/"))


def me(request):
    return {"user": request.session.get("user_id"), "planted": request.session.get("planted")}


def make_app():
    with Configurator() as config:
        config.set_session_factory(SignedCookieSessionFactory("test-only"))
        for name, view in (("start", start), ("login", login), ("me", me)):
            config.add_route(name, "/" + name)
            config.add_view(view, route_name=name, renderer="json")
        return config.make_wsgi_app()
"""


def test_the_fixed_login_keeps_next_and_drops_what_was_planted(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    root = write_project(tmp_path / "site", {"requirements.txt": "pyramid>=2\n", "app.py": APP})
    run_fix(root, capsys, monkeypatch)
    assert "request.session.invalidate()" in (root / "app.py").read_text()
    client = TestApp(load(root / "app.py").make_app())
    client.get("/start", {"next": "/dashboard"})
    response = client.post_json("/login", {"name": "alice", "password": "secret"})
    assert response.status_int == 303
    assert response.headers["Location"].endswith("/dashboard")
    assert client.get("/me").json == {"user": "alice", "planted": None}
