"""Text output: one line per finding, its source line and trace, inert, coloured on demand."""

from __future__ import annotations

import pytest
from conftest import Project
from msgspec.structs import replace

from sessguard.cli import main
from sessguard.render import RenderOptions
from sessguard.render.json import render as render_json
from sessguard.render.text import inert, render

CONDITIONAL = """
from flask import Flask, request, session
from flask_login import login_user

app = Flask(__name__)

@app.post("/login")
def login(user):
    if request.form.get("remember"):
        session.clear()
    login_user(user)
    return "ok"
"""


def test_finding_block(project: Project) -> None:
    text = render(project(app=CONDITIONAL))
    lines = text.splitlines()
    assert lines[0] == (
        "app.py:10:5: low python-session-fixation `login_user(user)` logs the user in without "
        "clearing the data the session carried before login."
    )
    assert lines[1] == "       10 | login_user(user)"
    assert lines[2] == "    trace:"
    assert lines[3] == (
        '      app.py:8 `if request.form.get("remember")` is false, so `session.clear()` (line 9) does not run'
    )
    assert lines[4] == "      app.py:10 `login_user(user)` logs the user in"
    assert lines[5] == "    store: nothing in the code: the default (in the cookie)"
    assert lines[6].startswith("    fix: call `session.clear()` before logging the user in")
    assert lines[-1] == "1 file scanned; 1 finding (1 low)."


def test_control_characters_are_escaped() -> None:
    assert inert("a\x1b[2Jb\rc\u202ed\x7f\x85") == "a\\x1b[2Jb\\x0dc\\u202ed\\x7f\\x85"


def test_hostile_file_names_and_snippets_stay_on_one_line(project: Project) -> None:
    report = project(
        {
            "evil\x1b[2J\nname.py": "from flask_login import login_user\ndef f(u):\n    login_user(u)  # \x1b]0;pwned\x07\n"
        }
    )
    text = render(report)
    assert "\x1b" not in text and "\x07" not in text
    first = text.splitlines()[0]
    assert first.startswith("evil\\x1b[2J\\x0aname.py:3:5: low")


def test_colour_only_when_asked_or_on_a_terminal(
    project: Project, capsys: pytest.CaptureFixture[str]
) -> None:
    report = project(app=CONDITIONAL)
    assert "\x1b[" not in render(report)
    assert "\x1b[36mlow\x1b[0m" in render(report, RenderOptions(color=True))
    main(["scan", "."])
    assert "\x1b[" not in capsys.readouterr().out  # captured output is not a terminal
    main(["scan", ".", "--color"])
    assert "\x1b[" in capsys.readouterr().out


DJANGO_SETTINGS = """
SECRET_KEY = "x"
INSTALLED_APPS = ["django.contrib.sessions"]
SESSION_ENGINE = "django.contrib.sessions.backends.cache"
"""
DJANGO_VIEW = """
def kiosk(request, member):
    request.session["member_id"] = member.pk
"""


def test_each_finding_shows_the_store_evidence_the_json_message_carries(project: Project) -> None:
    report = project(settings=DJANGO_SETTINGS, views=DJANGO_VIEW)
    (finding,) = report.findings
    lines = render(report).splitlines()
    store = [line for line in lines if line.startswith("    store: ")]
    expected = "settings.py:3 SESSION_ENGINE = 'django.contrib.sessions.backends.cache'"
    assert store == [f"    store: {expected} (server-side)"]
    assert f"(store: {expected})" in render_json(report)  # the same evidence, where JSON has it
    assert finding.store_evidence == expected


def test_the_store_line_is_inert() -> None:
    from sessguard.model import Finding, Level, Report, Span, Store

    hostile = Finding(
        "python-session-fixation",
        "app.py",
        Span(1, 1, 1, 2),
        Level.HIGH,
        Level.HIGH,
        "django",
        Store.SERVER,
        "app.f",
        "m.",
        (),
        "",
        store_evidence="evil\x1b[2J.py:3 SESSION_ENGINE = 'x'\u202e",
    )
    text = render(Report("0", (hostile,), ()))
    assert "\x1b" not in text and "\u202e" not in text
    assert "    store: evil\\x1b[2J.py:3 SESSION_ENGINE = 'x'\\u202e (server-side)" in text
    assert "store:" not in render(Report("0", (replace(hostile, rule_id="sessguard-suppression"),), ()))
