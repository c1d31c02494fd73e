"""Baselines: accept today's findings, report new ones, list the fixed ones."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sessguard.cli import main

VIEW = """from flask_login import login_user


def login(user):
    login_user(user)


def sso(user):
    login_user(user)
"""


@pytest.fixture
def tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "app.py").write_text(VIEW)
    return tmp_path


def scan_json(capsys: pytest.CaptureFixture[str], *args: str) -> dict:  # type: ignore[type-arg]
    capsys.readouterr()
    main(["scan", "--format", "json", *args])
    return json.loads(capsys.readouterr().out)  # type: ignore[no-any-return]


def test_write_then_scan_with_the_baseline(tree: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["baseline", "write", "baseline.json"]) == 0
    entries = json.loads((tree / "baseline.json").read_text())["entries"]
    assert [(e["path"], e["function"]) for e in entries] == [("app.py", "app.login"), ("app.py", "app.sso")]
    assert main(["scan", "--baseline", "baseline.json"]) == 0
    data = scan_json(capsys, "--baseline", "baseline.json")
    assert data["findings"] == [] and data["baseline"] == {"matched": 2, "fixed": []}


def test_moved_lines_and_comments_still_match(tree: Path, capsys: pytest.CaptureFixture[str]) -> None:
    main(["baseline", "write", "baseline.json"])
    (tree / "app.py").write_text(
        "# header\nimport os\n"
        + VIEW.replace("login_user(user)\n\n\ndef sso", "login_user(user)  # reviewed\n\n\ndef sso")
    )
    assert scan_json(capsys, "--baseline", "baseline.json")["findings"] == []


def test_entries_are_a_multiset(tree: Path, capsys: pytest.CaptureFixture[str]) -> None:
    main(["baseline", "write", "baseline.json"])
    (tree / "app.py").write_text(
        VIEW.replace(
            "def sso(user):\n    login_user(user)\n",
            "def login(user):\n    login_user(user)\n    login_user(user)\n",
        ).replace(
            "def login(user):\n    login_user(user)\n\n\ndef login",
            "def login(user):\n    login_user(user)\n\n\ndef other",
        )
    )
    data = scan_json(capsys, "--baseline", "baseline.json")
    # one `login_user(user)` in app.login was accepted; the second one in it is new
    assert data["baseline"]["matched"] == 1
    assert [(f["function"], f["line"]) for f in data["findings"]] == [("app.other", 9)]


def test_fixed_entries_are_listed(tree: Path, capsys: pytest.CaptureFixture[str]) -> None:
    main(["baseline", "write", "baseline.json"])
    (tree / "app.py").write_text(
        VIEW.replace("def sso(user):\n    login_user(user)\n", "def sso(user):\n    return user\n")
    )
    data = scan_json(capsys, "--baseline", "baseline.json")
    assert data["findings"] == []
    assert data["baseline"]["fixed"] == [
        {
            "rule_id": "python-session-fixation",
            "path": "app.py",
            "function": "app.sso",
            "message": data["baseline"]["fixed"][0]["message"],
        }
    ]
    main(["scan", "--baseline", "baseline.json"])
    out = capsys.readouterr().out
    assert "app.py: fixed since the baseline: app.sso" in out and "2 in the baseline" not in out


def test_new_findings_are_reported(tree: Path, capsys: pytest.CaptureFixture[str]) -> None:
    main(["baseline", "write", "baseline.json"])
    (tree / "app.py").write_text(VIEW + "\n\ndef signup(user):\n    login_user(user)\n")
    assert main(["scan", "--baseline", "baseline.json"]) == 1
    data = scan_json(capsys, "--baseline", "baseline.json")
    assert [f["function"] for f in data["findings"]] == ["app.signup"]


@pytest.mark.parametrize(
    "content",
    [
        "not json",
        '{"tool": "other", "entries": []}',
        '{"tool": "sessguard"}',
        '{"tool": "sessguard", "entries": [{"path": 1}]}',
    ],
)
def test_broken_baselines_are_usage_errors(
    tree: Path, capsys: pytest.CaptureFixture[str], content: str
) -> None:
    (tree / "baseline.json").write_text(content)
    assert main(["scan", "--baseline", "baseline.json"]) == 2
    assert "baseline" in capsys.readouterr().err


def test_a_baseline_matches_from_any_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "views.py").write_text(VIEW)
    monkeypatch.chdir(tmp_path / "app")
    assert main(["baseline", "write", "baseline.json"]) == 0
    entries = json.loads((tmp_path / "app" / "baseline.json").read_text())["entries"]
    assert {e["path"] for e in entries} == {"views.py"}  # relative to the baseline's directory
    monkeypatch.chdir(tmp_path)
    data = scan_json(capsys, "--baseline", "app/baseline.json", "app")
    assert data["findings"] == [] and data["baseline"]["matched"] == 2
    monkeypatch.chdir(tmp_path / "app")
    assert scan_json(capsys, "--baseline", "baseline.json")["baseline"]["matched"] == 2


def test_a_version_1_baseline_is_read_relative_to_the_working_directory(
    tree: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Version 1 did not record where its paths start; they were, and are, the current
    directory's."""
    (tree / "sub").mkdir()
    main(["baseline", "write", "sub/baseline.json"])
    document = json.loads((tree / "sub" / "baseline.json").read_text())
    assert {e["path"] for e in document["entries"]} == {"../app.py"}
    document["version"] = 1
    for entry in document["entries"]:
        entry["path"] = "app.py"
    (tree / "sub" / "baseline.json").write_text(json.dumps(document))
    assert scan_json(capsys, "--baseline", "sub/baseline.json")["baseline"]["matched"] == 2


def test_a_baseline_that_names_no_scanned_file_is_warned_about(
    tree: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    main(["baseline", "write", "baseline.json"])
    (tree / "other").mkdir()
    (tree / "other" / "views.py").write_text(VIEW)
    capsys.readouterr()
    assert main(["scan", "--baseline", "baseline.json", "other"]) == 1
    assert "sessguard: warning: no entry of baseline.json names a scanned file" in capsys.readouterr().err
    assert main(["scan", "--baseline", "baseline.json", "."]) == 1  # other/views.py is new
    assert "warning" not in capsys.readouterr().err
