"""Emptying fixes keep what the handler reads, or refuse (issue 13); a fix uses only the
API of the installed Flask-Session."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from sessguard.cli import main
from sessguard.pipeline import scan

HERE = Path(__file__).resolve().parent
REFUSED = HERE / "autofix" / "refused_reads.py"


def plans(root: Path) -> list[tuple[int, bool, str, str]]:
    return [
        (f.span.line, f.fix.available, f.fix.code, f.fix.description)
        for f in scan([str(root)]).findings
        if f.fix is not None
    ]


def test_refusals_for_reads_that_cannot_be_named_leave_the_file_and_say_why(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    target = tmp_path / REFUSED.name
    target.write_bytes(REFUSED.read_bytes())
    assert main(["fix", ".", "--no-cache"]) == 1
    assert target.read_bytes() == REFUSED.read_bytes()
    err = capsys.readouterr().err
    for line, why in [
        (
            12,
            '`session.get(request.args["key"], "/")` (refused_reads.py:13) reads a session key that cannot be resolved',
        ),
        (18, "`dict(session)` (refused_reads.py:19) hands the session to code the scan cannot follow"),
        (24, "`session` (refused_reads.py:25) iterates over the session"),
        (30, "`session.items()` (refused_reads.py:31) reads the whole session"),
        (
            36,
            '`render("home.html", session)` (refused_reads.py:37) hands the session to code the scan cannot follow',
        ),
    ]:
        assert (
            f"refused_reads.py:{line}: no automatic fix: the fix empties the session, and after it {why}"
            in err
        )
    assert "refused_reads.py:43: not fixed: `carried` already means something here" in err


def test_the_reason_shows_in_json(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / REFUSED.name).write_bytes(REFUSED.read_bytes())
    main(["scan", "--no-cache", "--format", "json:r.json"])
    fixes = {f["line"]: f["fix"] for f in json.loads((tmp_path / "r.json").read_text())["findings"]}
    assert fixes[12]["available"] is False
    assert "reads a session key that cannot be resolved" in fixes[12]["description"]
    assert fixes[12]["edits"] == []


HELPERS = """
from flask import Flask, redirect, request, session

app = Flask(__name__)


def chosen(store, name):
    return store.get(name)


def target(data):
    return data.get("goto")


@app.post("/login")
def login():
    session["user_id"] = request.form["name"]
    return redirect(chosen(session, "next") or target(request.args) or "/")
"""


def test_a_helper_reads_a_key_only_where_it_receives_the_session(tmp_path: Path) -> None:
    """`chosen(session, "next")` reads `next` of the session (the key comes from the call
    site); `target(request.args)` reads `goto` of something else: not carried."""
    (tmp_path / "app.py").write_text(textwrap.dedent(HELPERS))
    [(_line, available, code, description)] = plans(tmp_path)
    assert available
    assert code.splitlines()[0] == 'carried = {key: session[key] for key in ("next",) if key in session}'
    assert description.endswith("carrying over the session key read after it (`next`)")


SERVER_APP = """
from flask import Flask, request, session
from flask_session import Session

app = Flask(__name__)
app.config["SESSION_TYPE"] = "filesystem"
Session(app)


@app.post("/login")
def login():
    session["user_id"] = request.form["name"]
    return session.get("next", "/")
"""


@pytest.mark.parametrize(
    ("requirements", "available"),
    [
        ("Flask-Session==0.6.0\n", False),
        ("Flask-Session<0.7\n", False),
        ("Flask-Session>=0.7\n", True),
        ("", True),
    ],
)
def test_the_fix_uses_only_the_installed_flask_sessions_api(
    requirements: str, available: bool, tmp_path: Path
) -> None:
    (tmp_path / "app.py").write_text(textwrap.dedent(SERVER_APP))
    if requirements:
        (tmp_path / "requirements.txt").write_text("flask\n" + requirements)
    [(_line, got, code, description)] = plans(tmp_path)
    assert got is available
    if available:  # data-keeping: nothing to carry, and the release it needs is named
        assert code == "app.session_interface.regenerate(session)"
        assert "(needs Flask-Session 0.7 or later" in description
    else:
        assert description.startswith("no automatic fix: upgrade to Flask-Session 0.7 or later")
