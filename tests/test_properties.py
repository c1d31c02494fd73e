"""Property tests of the per-file stage: any bytes, any program shape, never an exception,
always the same answer."""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sessguard.extract.file import extract_file
from sessguard.pipeline import scan

SETTINGS = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)

ATOMS = [
    "session.clear()",
    "login_user(user)",
    "session['user_id'] = user",
    "session.update(user_id=user)",
    "del session['x']",
    "helper(session, user)",
    "x = session if user else None",
    "user and session.clear()",
    "[session.clear() for _ in user]",
    "abort(403)",
    "current_app.session_interface.regenerate(session)",
    "pass",
    "y = lambda: login_user(user)",
]


def block(depth: int) -> st.SearchStrategy[list[str]]:
    simple = st.sampled_from(ATOMS).map(lambda s: [s])
    if depth <= 0:
        return st.lists(simple, min_size=1, max_size=3).map(lambda parts: [line for p in parts for line in p])
    inner = block(depth - 1)

    def indent(lines: list[str]) -> list[str]:
        return ["    " + line for line in lines]

    compound = st.one_of(
        st.tuples(inner, inner).map(lambda b: ["if user:", *indent(b[0]), "else:", *indent(b[1])]),
        inner.map(lambda b: ["while user.next():", *indent(b), "    break"]),
        st.tuples(inner, inner).map(lambda b: ["for item in user:", *indent(b[0]), "else:", *indent(b[1])]),
        st.tuples(inner, inner, inner).map(
            lambda b: ["try:", *indent(b[0]), "except ValueError:", *indent(b[1]), "finally:", *indent(b[2])]
        ),
        inner.map(lambda b: ["with lock:", *indent(b)]),
        st.tuples(inner, inner).map(
            lambda b: [
                "match user:",
                "    case 1:",
                *indent(indent(b[0])),
                "    case _:",
                *indent(indent(b[1])),
            ]
        ),
        inner.map(lambda b: ["def nested():", *indent(b)]),
        st.just(["return 1"]),
        st.just(["raise ValueError"]),
    )
    part = st.one_of(simple, compound)
    return st.lists(part, min_size=1, max_size=4).map(lambda parts: [line for p in parts for line in p])


PRELUDE = (
    "from flask import abort, current_app, session\n"
    "from flask_login import login_user\n\n\n"
    "def helper(s, user):\n    s['user_id'] = user\n\n\n"
)


def program(lines: list[str]) -> str:
    return PRELUDE + "def view(user, lock):\n" + "\n".join("    " + line for line in lines) + "\n"


@SETTINGS
@given(data=st.binary(max_size=4000))
def test_any_bytes_never_raise_and_give_one_answer(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "any.py"
    path.write_bytes(data)
    first = extract_file(str(path), "any.py", "any", False, 1 << 20, 5.0)
    second = extract_file(str(path), "any.py", "any", False, 1 << 20, 5.0)
    assert first == second


@SETTINGS
@given(lines=block(3))
def test_any_program_shape_never_raises_and_gives_one_answer(tmp_path: Path, lines: list[str]) -> None:
    source = program(lines)
    path = tmp_path / "view.py"
    path.write_text(source)
    first = scan([str(path)])
    assert not [e for e in first.errors if e.kind == "internal"], (source, first.errors)
    second = scan([str(path)])
    assert [(f.span, f.message, f.fingerprint) for f in first.findings] == [
        (f.span, f.message, f.fingerprint) for f in second.findings
    ]


@SETTINGS
@given(lines=block(2))
def test_clearing_first_always_protects(tmp_path: Path, lines: list[str]) -> None:
    """Whatever follows, a view that empties its cookie session first and never clears
    into a false friend reports nothing that comes after the clear on every path."""
    source = (
        PRELUDE
        + "def view(user, lock):\n    session.clear()\n    login_user(user)\n"
        + "\n".join("    " + line for line in lines)
        + "\n"
    )
    path = tmp_path / "view.py"
    path.write_text(source)
    report = scan([str(path)])
    assert all(f.span.line != 12 for f in report.findings), source
