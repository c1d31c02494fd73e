"""Files over --max-file-size or --file-timeout make a scan incomplete only when their
bytes say they could matter (sessguard.oversized, perfile.Stage)."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from sessguard.cli import main

LOGIN = "from flask_login import login_user\n\n\ndef sign_in(user):\n    login_user(user)\n"
DATA = "TABLE = [\n" + "".join(f"    ({i}, 'row {i}'),\n" for i in range(400)) + "]\n"
SCHEMA = json.loads((Path(__file__).parent / "report.schema.json").read_text())


def _slow(words: str) -> str:
    """Thousands of branching functions: far more than 0.1 ms of analysis."""
    body = "".join(
        f"def f{i}(x):\n    if x:\n        return {words}(x)\n    return h(x)\n\n" for i in range(3000)
    )
    return "from flask import session\n" + body if words == "session.get" else body


def _scan(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict]:  # type: ignore[type-arg]
    capsys.readouterr()
    status = main(["scan", "--no-cache", "--quiet", "--format", "json", *argv])
    report = json.loads(capsys.readouterr().out)
    jsonschema.validate(report, SCHEMA)
    return status, report


@pytest.fixture
def tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "app.py").write_text(LOGIN)
    return tmp_path


def test_a_large_file_that_cannot_matter_is_skipped_and_counted(
    tree: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tree / "data.py").write_text(DATA)
    status, report = _scan(capsys, "--max-file-size", "1000", "--fail-on", "high")
    assert status == 0 and report["errors"] == []
    assert report["stats"] == {"files_discovered": 2, "files_analyzed": 1, "files_skipped": 1}
    main(["scan", "--no-cache", "--quiet", "--max-file-size", "1000", "--statistics"])
    captured = capsys.readouterr()
    assert "1 file over --max-file-size skipped (no word in it can matter)" in captured.out
    assert "skipped: too-large" in captured.err


def test_a_large_file_that_could_matter_is_an_error(tree: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tree / "data.py").write_text("from flask import session\n" + DATA)
    status, report = _scan(capsys, "--max-file-size", "1000", "--fail-on", "high")
    assert status == 3
    assert [(e["path"], e["kind"]) for e in report["errors"]] == [("data.py", "too-large")]


def test_a_slow_file_that_cannot_matter_is_skipped_and_counted(
    tree: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tree / "generated.py").write_text(_slow("g"))
    status, report = _scan(capsys, "--no-prefilter", "--file-timeout", "0.0001", "--fail-on", "high")
    assert status == 0 and report["errors"] == []
    assert report["stats"]["files_skipped"] == 1


def test_a_slow_file_that_could_matter_is_an_error(tree: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tree / "generated.py").write_text(_slow("session.get"))
    status, report = _scan(capsys, "--file-timeout", "0.0001", "--fail-on", "high")
    assert status == 3
    assert ("generated.py", "timeout") in [(e["path"], e["kind"]) for e in report["errors"]]
