"""A fixed aiohttp login still works (issue 13): `get_session` becomes `new_session`, the
key the handler reads after it is carried from the old session into the new one, what was
planted before the login is gone, and the server-side id changes."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from aiohttp import ClientSession, DummyCookieJar
from aiohttp.test_utils import TestClient, TestServer
from fixed_apps import load, run_fix, write_project

APP = """
import uuid

from aiohttp import web
from aiohttp_session import AbstractStorage, Session, get_session, setup

RECORDS = {}


class MemoryStorage(AbstractStorage):
    \"\"\"RedisStorage's logic over a dict: the cookie holds only the record's id.\"\"\"

    async def load_session(self, request):
        key = self.load_cookie(request)
        if key is None or key not in RECORDS:
            return Session(None, data=None, new=True, max_age=self.max_age)
        return Session(key, data=RECORDS[key], new=False, max_age=self.max_age)

    async def save_session(self, request, response, session):
        key = session.identity or uuid.uuid4().hex
        self.save_cookie(response, key, max_age=session.max_age)
        RECORDS[key] = self._get_session_data(session)


async def start(request):
    session = await get_session(request)
    session["next"] = request.query["next"]
    session["planted"] = "before-login"
    return web.json_response({})


async def login(request):
    data = await request.json()
    session = await get_session(request)
    session["user_id"] = data["name"]
    raise web.HTTPSeeOther(session.get("next", "/"))


async def me(request):
    session = await get_session(request)
    return web.json_response({"user": session.get("user_id"), "planted": session.get("planted")})


def make_app():
    app = web.Application()
    setup(app, MemoryStorage(cookie_name="sid"))
    app.add_routes([web.get("/start", start), web.post("/login", login), web.get("/me", me)])
    return app
"""


async def drive(module: object) -> None:
    async with TestClient(TestServer(module.make_app())) as client:  # type: ignore[attr-defined]
        await client.get("/start", params={"next": "/dashboard"})
        before = client.session.cookie_jar.filter_cookies(client.make_url("/"))["sid"].value
        response = await client.post("/login", json={"name": "alice"}, allow_redirects=False)
        assert response.status == 303
        assert response.headers["Location"] == "/dashboard"
        after = client.session.cookie_jar.filter_cookies(client.make_url("/"))["sid"].value
        assert after != before
        assert await (await client.get("/me")).json() == {"user": "alice", "planted": None}
        async with ClientSession(cookie_jar=DummyCookieJar()) as attacker:
            planted = await attacker.get(client.make_url("/me"), headers={"Cookie": f"sid={before}"})
            assert await planted.json() == {"user": None, "planted": "before-login"}  # not logged in


def test_the_fixed_login_carries_next_into_the_new_session(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    root = write_project(tmp_path / "site", {"requirements.txt": "aiohttp-session>=2.5\n", "app.py": APP})
    run_fix(root, capsys, monkeypatch)
    assert "await new_session(request)" in (root / "app.py").read_text()
    asyncio.run(drive(load(root / "app.py")))
