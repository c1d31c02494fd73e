"""Session-store classification (SPEC §6) from code, settings and dependencies."""

from __future__ import annotations

from pathlib import Path

import pytest

from sessguard.analysis.stores import classify_stores
from sessguard.dependencies import Dependency, read_dependencies
from sessguard.extract.facts import Evidence, ModuleFacts
from sessguard.frameworks import KNOWLEDGE
from sessguard.model import Store


def module(*evidence: Evidence) -> ModuleFacts:
    return ModuleFacts("app.py", "app", False, (), (), (), (), (), (), (), frozenset(), evidence, (), ())


def classify(*evidence: Evidence, deps: tuple[Dependency, ...] = (), evident: frozenset[str] = frozenset()):  # type: ignore[no-untyped-def]
    return classify_stores([module(*evidence)], deps, KNOWLEDGE, evident)


def test_flask_without_signals_is_a_cookie_store() -> None:
    assert classify()["flask"].store is Store.COOKIE


def test_flask_session_call_is_a_server_store() -> None:
    info = classify(Evidence("call", "flask_session.Session", (), 7))["flask"]
    assert (info.store, info.backend) == (Store.SERVER, "flask-session")
    assert info.evidence == ("app.py:7 flask_session.Session(app)",)


@pytest.mark.parametrize(
    ("value", "store"), [("redis", Store.SERVER), ("null", Store.COOKIE), ("<dynamic>", Store.SERVER)]
)
def test_session_type(value: str, store: Store) -> None:
    assert classify(Evidence("config", "SESSION_TYPE", (("value", value),), 3))["flask"].store is store


def test_kvsession_wins_over_a_plain_flask_session_dependency() -> None:
    deps = (Dependency("flask-session", "", "requirements.txt"),)
    info = classify(Evidence("call", "flask_kvsession.KVSessionExtension", (), 1), deps=deps)["flask"]
    assert info.backend == "flask-kvsession"


@pytest.mark.parametrize(
    ("specifier", "backend"),
    [
        ("==0.6.0", "flask-session<0.7"),
        ("<0.7", "flask-session<0.7"),
        (">=0.5", "flask-session"),
        ("", "flask-session"),
        ("~=0.8", "flask-session"),
    ],
)
def test_flask_session_version_from_dependencies(specifier: str, backend: str) -> None:
    info = classify(deps=(Dependency("flask-session", specifier, "requirements.txt"),))["flask"]
    assert (info.store, info.backend) == (Store.SERVER, backend)


def test_custom_session_interface_is_server_side() -> None:
    evidence = Evidence(
        "interface", "session_interface", (("value", "app.sessions.RedisSessionInterface"),), 4
    )
    assert classify(evidence)["flask"].store is Store.SERVER
    cookie = Evidence(
        "interface", "session_interface", (("value", "flask.sessions.SecureCookieSessionInterface"),), 4
    )
    assert classify(cookie)["flask"].store is Store.COOKIE


def test_django_default_needs_django_in_the_project() -> None:
    assert classify()["django"].store is Store.UNKNOWN
    assert classify(evident=frozenset({"django"}))["django"].store is Store.SERVER


def test_django_signed_cookies() -> None:
    evidence = Evidence(
        "config", "SESSION_ENGINE", (("value", "django.contrib.sessions.backends.signed_cookies"),), 9
    )
    info = classify(evidence, evident=frozenset({"django"}))["django"]
    assert (info.store, info.backend) == (Store.COOKIE, "signed_cookies")
    cache = Evidence("config", "SESSION_ENGINE", (("value", "django.contrib.sessions.backends.cache"),), 9)
    assert classify(cache, evident=frozenset({"django"}))["django"].store is Store.SERVER


def test_starlette_middlewares() -> None:
    cookie = Evidence("middleware", "starlette.middleware.sessions.SessionMiddleware", (), 5)
    assert classify(cookie)["starlette"].store is Store.COOKIE
    redis = Evidence(
        "middleware", "starlette_session.SessionMiddleware", (("backend_type", "BackendType.redis"),), 5
    )
    assert classify(redis)["starlette"].store is Store.SERVER
    plain = Evidence("middleware", "starlette_session.SessionMiddleware", (), 5)
    assert classify(plain)["starlette"].store is Store.COOKIE
    assert classify()["starlette"].store is Store.UNKNOWN


def test_overrides_from_configuration() -> None:
    stores = classify_stores([module()], (), KNOWLEDGE, frozenset(), {"flask": Store.SERVER})
    assert stores["flask"].store is Store.SERVER


def test_dependency_files_are_read(tmp_path: Path) -> None:
    (tmp_path / "requirements-prod.txt").write_text(
        "Flask-Session==0.6.0 ; python_version>'3'\n-r base.txt\n# c\n"
    )
    (tmp_path / "pyproject.toml").write_text(
        '[project]\ndependencies = ["flask-kvsession>=0.6"]\n[tool.poetry.dependencies]\npython = "^3.10"\nDjango = "^5.0"\n'
    )
    (tmp_path / "setup.cfg").write_text("[options]\ninstall_requires =\n    starlette-session\n")
    (tmp_path / "Pipfile").write_text('[packages]\nquart-session = "==1.0.5"\n')
    deps = {(d.name, d.specifier) for d in read_dependencies(sorted(tmp_path.iterdir()))}
    assert deps == {
        ("flask-session", "==0.6.0"),
        ("flask-kvsession", ">=0.6"),
        ("django", ""),
        ("starlette-session", ""),
        ("quart-session", "==1.0.5"),
    }


def test_broken_dependency_files_are_ignored(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[project\n")
    (tmp_path / "requirements.txt").write_bytes(b"\xff\xfe not text")
    assert read_dependencies(sorted(tmp_path.iterdir())) == ()
