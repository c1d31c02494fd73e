"""Name resolution: imports, aliases, relative imports, shadowing (SPEC §3)."""

from __future__ import annotations

import ast
import textwrap

import pytest

from sessguard.extract.names import build_module_scope, local_names, resolve_relative


def scope_of(source: str, module: str = "pkg.mod", is_package: bool = False):  # type: ignore[no-untyped-def]
    return build_module_scope(ast.parse(textwrap.dedent(source)), module, is_package)


@pytest.mark.parametrize(
    ("source", "name", "expected"),
    [
        ("import flask", "flask", "flask"),
        ("import flask as f", "f", "flask"),
        ("import flask_login.utils", "flask_login", "flask_login"),
        ("import flask_login.utils as u", "u", "flask_login.utils"),
        ("from flask import session", "session", "flask.session"),
        ("from flask import session as s", "s", "flask.session"),
        ("from . import views", "views", "pkg.views"),
        ("from .security import sign_in", "sign_in", "pkg.security.sign_in"),
        ("from ..core import auth", "auth", "core.auth"),
        ("def login(): pass", "login", "pkg.mod.login"),
        ("class View: pass", "View", "pkg.mod.View"),
    ],
)
def test_module_bindings(source: str, name: str, expected: str) -> None:
    scope = scope_of(source, module="app.pkg.mod" if "..core" in source else "pkg.mod")
    if "..core" in source:
        expected = "app.core.auth"
    assert scope.resolve(name) == expected


def test_relative_import_from_a_package_init() -> None:
    assert resolve_relative("shop", True, 1, "views") == "shop.views"
    assert resolve_relative("shop.views", False, 1, None) == "shop"
    assert resolve_relative("a.b.c", False, 2, "x") == "a.x"


def test_a_module_level_value_hides_an_import() -> None:
    scope = scope_of(
        """
        from flask import session
        session = make_session()
        """
    )
    assert scope.resolve("session") is None


def test_fallback_none_keeps_the_import() -> None:
    scope = scope_of(
        """
        try:
            from flask_login import login_user
        except ImportError:
            login_user = None
        """
    )
    assert scope.resolve("login_user") == "flask_login.login_user"


def test_string_constants_are_known() -> None:
    scope = scope_of('USER_KEY = "user_id"\nOTHER = compute()')
    assert scope.constants == {"USER_KEY": "user_id"}


def test_local_names_hide_module_names() -> None:
    tree = ast.parse(
        textwrap.dedent(
            """
            def view(request):
                session = request.environ["beaker.session"]
                for user in users:
                    pass
                try:
                    pass
                except ValueError as err:
                    pass
                global CONFIG
                CONFIG = 1
                import json
            """
        )
    )
    function = tree.body[0]
    assert isinstance(function, ast.FunctionDef)
    assert local_names(function) == {"session", "user", "err", "json"}
