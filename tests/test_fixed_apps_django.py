"""A fixed Django login still works (issue 13): the fix cycles the session key, the
value the login reads after logging in survives, and the key the browser held before the
login no longer names the logged-in session."""

from __future__ import annotations

import sys
from pathlib import Path

import django
import pytest
from django.conf import settings
from fixed_apps import importable, load, run_fix, write_project

SETTINGS = """
SECRET_KEY = "test-only"
ALLOWED_HOSTS = ["testserver"]
INSTALLED_APPS = ["django.contrib.sessions"]
MIDDLEWARE = ["django.contrib.sessions.middleware.SessionMiddleware"]
SESSION_ENGINE = "django.contrib.sessions.backends.cache"
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
ROOT_URLCONF = "accounts.views"
"""

VIEWS = """
from django.http import HttpResponseRedirect, JsonResponse
from django.urls import path


def start(request):
    request.session["next"] = request.GET["next"]
    return JsonResponse({})


def login_view(request):
    if request.POST.get("password") != "secret":
        return JsonResponse({}, status=403)
    request.session["user_id"] = request.POST["name"]
    return HttpResponseRedirect(request.session.get("next", "/"))


def me(request):
    return JsonResponse({"user": request.session.get("user_id")})


urlpatterns = [path("start", start), path("login", login_view), path("me", me)]
"""


def test_the_fixed_login_cycles_the_key_and_keeps_next(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    root = write_project(
        tmp_path / "site",
        {
            "requirements.txt": "django>=4.2\n",
            "manage.py": "import os\nos.environ.setdefault('DJANGO_SETTINGS_MODULE', 'site_settings')\n",
            "site_settings.py": SETTINGS,
            "accounts/__init__.py": "",
            "accounts/views.py": VIEWS,
        },
    )
    run_fix(root, capsys, monkeypatch)
    assert "cycle_key()" in (root / "accounts" / "views.py").read_text()
    values = vars(load(root / "site_settings.py"))
    if not settings.configured:
        settings.configure(**{k: v for k, v in values.items() if k.isupper()})
        django.setup()
    monkeypatch.setattr(settings, "ROOT_URLCONF", "accounts.views")
    with importable(root):
        from django.test import Client

        client = Client()
        client.get("/start", {"next": "/dashboard"})
        before = client.cookies["sessionid"].value
        response = client.post("/login", {"name": "alice", "password": "secret"})
        assert response.status_code == 302
        assert response["Location"] == "/dashboard"
        after = client.cookies["sessionid"].value
        assert after != before
        assert client.get("/me").json() == {"user": "alice"}
        attacker = Client()
        attacker.cookies["sessionid"] = before
        assert attacker.get("/me").json() == {"user": None}
    for name in [n for n in sys.modules if n == "accounts" or n.startswith("accounts.")]:
        del sys.modules[name]
