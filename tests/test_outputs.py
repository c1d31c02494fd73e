"""Several outputs in one run, and GitHub workflow annotations."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sessguard.cli import main
from sessguard.model import Finding, Level, Report, Span, Store, TraceStep
from sessguard.render.github import render as github

VULNERABLE = "from flask_login import login_user\n\ndef login(user):\n    login_user(user)\n"


@pytest.fixture
def tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "app.py").write_text(VULNERABLE)
    return tmp_path


def test_text_to_stdout_and_sarif_and_json_to_files(tree: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status = main(["scan", "--format", "text", "--format", "sarif:out.sarif", "--format", "json:out.json"])
    assert status == 1
    assert capsys.readouterr().out.startswith("app.py:4:5: low python-session-fixation")
    assert (
        json.loads((tree / "out.sarif").read_text())["runs"][0]["results"][0]["ruleId"]
        == "python-session-fixation"
    )
    assert json.loads((tree / "out.json").read_text())["findings"][0]["line"] == 4


def test_only_one_output_may_use_stdout(tree: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["scan", "--format", "text", "--format", "json"]) == 2
    assert "only one --format can go to standard output" in capsys.readouterr().err


def test_github_annotations(tree: Path, capsys: pytest.CaptureFixture[str]) -> None:
    main(["scan", "--format", "github"])
    line = capsys.readouterr().out.splitlines()[0]
    assert line.startswith(
        "::notice file=app.py,line=4,col=5,endLine=4,endColumn=21,title=python-session-fixation (low)::"
    )


def test_github_annotations_escape_their_syntax() -> None:
    finding = Finding(
        "python-session-fixation",
        "a,b:c.py",
        Span(1, 1, 1, 2),
        Level.HIGH,
        Level.HIGH,
        "flask",
        Store.SERVER,
        "m.f",
        "100% bad\nsecond line",
        (TraceStep("a.py", 1, 1, "x"),),
        "f",
    )
    text = github(Report("0", (finding,), ()))
    assert text == (
        "::error file=a%2Cb%3Ac.py,line=1,col=1,endLine=1,endColumn=2,"
        "title=python-session-fixation (high)::100%25 bad%0Asecond line\n"
    )
