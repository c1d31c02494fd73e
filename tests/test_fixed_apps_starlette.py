"""Fixed Starlette and FastAPI logins still work (issue 13): on the cookie session of
`SessionMiddleware` the fix empties the session before the login, carrying over exactly
the key the handler reads afterwards; what was planted before the login is gone."""

from __future__ import annotations

from pathlib import Path

import pytest
from fixed_apps import load, run_fix, write_project
from starlette.testclient import TestClient

STARLETTE_APP = """
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.responses import JSONResponse, RedirectResponse
from starlette.routing import Route


async def start(request):
    request.session["next"] = request.query_params["next"]
    request.session["planted"] = "before-login"
    return JSONResponse({})


async def login(request):
    data = await request.json()
    if data.get("password") != "secret":
        return JSONResponse({}, status_code=403)
    request.session["user_id"] = data["name"]
    return RedirectResponse(request.session.get("next", "/"), status_code=303)


async def me(request):
    return JSONResponse({"user": request.session.get("user_id"), "planted": request.session.get("planted")})


app = Starlette(
    routes=[Route("/start", start), Route("/login", login, methods=["POST"]), Route("/me", me)],
    middleware=[Middleware(SessionMiddleware, secret_key="test-only")],
)
"""

FASTAPI_APP = """
from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse
from starlette.middleware.sessions import SessionMiddleware

app = FastAPI()
app.add_middleware(SessionMiddleware, secret_key="test-only")


@app.get("/start")
async def start(request: Request, next: str):
    request.session["next"] = next
    request.session["planted"] = "before-login"
    return {}


@app.post("/login")
async def login(request: Request):
    data = await request.json()
    request.session["user_id"] = data["name"]
    return RedirectResponse(request.session.get("next", "/"), status_code=303)


@app.get("/me")
async def me(request: Request):
    return {"user": request.session.get("user_id"), "planted": request.session.get("planted")}
"""

APPS = {"starlette": STARLETTE_APP, "fastapi": FASTAPI_APP}


@pytest.mark.parametrize("framework", sorted(APPS))
def test_the_fixed_login_keeps_next_and_drops_what_was_planted(
    framework: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    root = write_project(tmp_path / "site", {"requirements.txt": f"{framework}\n", "app.py": APPS[framework]})
    run_fix(root, capsys, monkeypatch)
    assert "request.session.clear()" in (root / "app.py").read_text()
    client = TestClient(load(root / "app.py").app)
    client.get("/start", params={"next": "/dashboard"})
    response = client.post("/login", json={"name": "alice", "password": "secret"}, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/dashboard"
    assert client.get("/me").json() == {"user": "alice", "planted": None}
