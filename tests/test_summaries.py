"""Function summaries across modules, computed to a fixpoint (SPEC §7)."""

from __future__ import annotations

import textwrap
from typing import Any

import pytest

from sessguard.analysis.effects import EffectResolver
from sessguard.analysis.paths import Summary
from sessguard.analysis.project import NO_CONTEXT, Binding, Project
from sessguard.analysis.roots import find_roots
from sessguard.analysis.stores import classify_stores
from sessguard.analysis.summaries import Solver, relevant_functions
from sessguard.extract.facts import ModuleFacts, RefKind
from sessguard.extract.module import extract_module
from sessguard.frameworks import KNOWLEDGE
from sessguard.model import Order
from sessguard.source import Source, parse


def build(**sources: str) -> tuple[Project, Solver]:
    modules: list[ModuleFacts] = []
    for name, text in sources.items():
        parsed = parse(textwrap.dedent(text).encode(), f"{name}.py")
        assert isinstance(parsed, Source)
        modules.append(extract_module(parsed, name.replace("__", "."), False))
    project = Project.build(modules)
    stores = classify_stores(project.modules.values(), (), KNOWLEDGE, project.frameworks)
    resolver = EffectResolver(project, stores, relevant=relevant_functions(project))
    return project, Solver(project, resolver)


def summary(solver: Solver, name: str, entry_empty: bool = False) -> Summary:
    return solver.summary(name, NO_CONTEXT, entry_empty)


HELPERS = """
from flask import session, current_app

def keep_and_clear():
    data = dict(session)
    session.clear()
    session.update(data)

def maybe_clear(flag):
    if flag:
        session.clear()

def always_raises():
    raise NotImplementedError

def interface_rotation():
    current_app.session_interface.regenerate(session)

def loops_forever():
    while True:
        session.clear()
"""


def test_a_helper_that_always_clears_is_a_before_regeneration() -> None:
    _, solver = build(helpers=HELPERS)
    result = summary(solver, "helpers.keep_and_clear")
    assert result.regen is Order.BEFORE
    assert result.exits == frozenset({False})  # update() wrote after the clear


def test_a_conditional_helper_regenerates_on_some_paths_only() -> None:
    _, solver = build(helpers=HELPERS)
    result = summary(solver, "helpers.maybe_clear")
    assert result.regen is None
    assert result.regen_some
    assert result.exits == frozenset({False, True})


def test_a_function_that_never_returns_is_not_a_regeneration() -> None:
    _, solver = build(helpers=HELPERS)
    assert summary(solver, "helpers.always_raises").regen is None
    assert summary(solver, "helpers.loops_forever").regen is None


def test_functions_that_touch_no_session_are_not_analysed() -> None:
    project, solver = build(helpers=HELPERS)
    assert "helpers.always_raises" not in solver.resolver.relevant  # type: ignore[operator]
    assert "helpers.keep_and_clear" in relevant_functions(project)


def test_exposed_events_carry_the_call_chain_across_modules() -> None:
    _, solver = build(
        auth="""
        from flask_login import login_user

        def sign_in(user):
            login_user(user)
        """,
        views="""
        from auth import sign_in

        def login(user):
            sign_in(user)
        """,
    )
    result = summary(solver, "views.login")
    assert len(result.exposed) == 1
    exposure = result.exposed[0]
    assert [hop.function for hop in exposure.hops] == ["views.login", "auth.sign_in"]
    assert exposure.event.site.text == "login_user(user)"


def test_an_event_stays_exposed_even_if_its_function_regenerates_elsewhere() -> None:
    _, solver = build(
        auth="""
        from flask import session
        from flask_login import login_user

        def sign_in(user, early):
            if early:
                login_user(user)
                return
            session.clear()
        """
    )
    result = summary(solver, "auth.sign_in")
    assert result.regen is None
    assert len(result.exposed) == 1


def test_parameters_bind_to_sessions_at_call_sites() -> None:
    _, solver = build(
        helpers="""
        def store(sess, user):
            sess["user_id"] = user
        """,
        views="""
        from flask import session
        from helpers import store

        def login(user):
            store(session, user)

        def cache(user):
            store({}, user)
        """,
    )
    bound = frozenset({Binding("sess", RefKind.SESSION, "flask")})
    assert summary(solver, "helpers.store").exposed == ()
    assert len(solver.summary("helpers.store", bound, False).exposed) == 1
    assert len(summary(solver, "views.login").exposed) == 1
    assert summary(solver, "views.cache").exposed == ()


def test_recursion_terminates_and_keeps_exposures() -> None:
    _, solver = build(
        loop="""
        from flask import session

        def ping(user, n):
            if n:
                pong(user, n - 1)
            else:
                session["user_id"] = user

        def pong(user, n):
            ping(user, n)

        def entry(user):
            ping(user, 3)
        """
    )
    assert len(summary(solver, "loop.entry").exposed) == 1


def test_flask_session_regenerate_is_a_no_op_on_an_empty_session() -> None:
    _, solver = build(helpers=HELPERS)
    # Flask is a cookie store here, where the interface has no regenerate(): a false friend
    assert summary(solver, "helpers.interface_rotation").regen is None
    _, solver = build(
        app="""
        from flask import Flask
        from flask_session import Session
        app = Flask(__name__)
        Session(app)
        """,
        helpers=HELPERS,
    )
    assert summary(solver, "helpers.interface_rotation", entry_empty=False).regen is Order.EITHER
    assert summary(solver, "helpers.interface_rotation", entry_empty=True).regen is None


def test_roots_are_uncalled_or_registered_functions() -> None:
    project, _ = build(
        views="""
        from flask import Flask, session
        app = Flask(__name__)

        def helper():
            session["user_id"] = 1

        @app.route("/a")
        def a():
            helper()

        @app.route("/b")
        def b():
            a()
        """
    )
    roots = set(find_roots(project, relevant_functions(project)))
    assert roots == {"views.a", "views.b"}


def test_recursive_call_graph_with_many_paths_is_summarised_in_linear_work(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Forty functions, each calling the next twice and the first once (a library's
    mutual recursion), the last one reaching a login: recomputing every summary that saw
    a provisional value does about 2**40 summaries; recomputing only the readers of a
    changed summary does a few per function."""
    import sessguard.analysis.summaries as summaries_module

    size = 40
    lines = ["from flask import session", "", "def sink(x):", "    session['user_id'] = x", ""]
    for i in range(size):
        following = f"f{i + 1}" if i + 1 < size else "sink"
        lines += [f"def f{i}(x):", f"    {following}(x)", f"    {following}(x)", "    f0(x)", ""]
    _project, solver = build(app="\n".join(lines))
    calls = [0]
    real = summaries_module.summarize

    def counting(*args: Any, **kwargs: Any) -> Summary:
        calls[0] += 1
        assert calls[0] < 20 * size, "summaries recomputed far more often than their inputs changed"
        return real(*args, **kwargs)

    monkeypatch.setattr(summaries_module, "summarize", counting)
    result = summary(solver, "app.f0")
    assert result.exposed, "the identity written at the bottom is exposed to f0's callers"
