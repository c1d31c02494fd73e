"""The pre-commit hook and the GitHub Actions workflow of docs/ci.md, run for real."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
import yaml
from harness import SHARED

from sessguard.cli import main

REPO = Path(__file__).resolve().parent.parent
LOGIN = "from flask_login import login_user\n\n\ndef sign_in(user):\n    login_user(user)\n"
HELPER = "from flask import session\n\n\ndef remember(user):\n    session['user_id'] = user\n"
CALLER = "from helper import remember\n\n\ndef login(user):\n    remember(user)\n"


def test_hook_definition() -> None:
    [hook] = yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text())
    assert hook["id"] == "sessguard" and hook["require_serial"] is True
    assert hook["entry"] == "sessguard hook" and hook["types"] == ["python"] and hook["language"] == "python"


def test_hook_analyses_the_project_and_reports_only_the_given_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "helper.py").write_text(HELPER)
    (tmp_path / "views.py").write_text(CALLER)
    (tmp_path / "other.py").write_text(LOGIN)
    # views.py is reported through helper.py, which is not among the files given
    assert main(["hook", "views.py"]) == 1
    out = capsys.readouterr().out
    assert "views.py:5:5" in out and "other.py" not in out
    assert main(["hook", "helper.py"]) == 0


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
def test_pre_commit_try_repo(tmp_path: Path) -> None:
    """`pre-commit try-repo` installs this repository's hook and runs it on a commit."""
    work = tmp_path / "project"
    work.mkdir()
    env = {
        **os.environ,
        "PRE_COMMIT_HOME": str(tmp_path / "cache"),
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@t",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@t",
    }
    subprocess.run(["git", "init", "-q"], cwd=work, check=True, env=env)
    (work / "app.py").write_text(LOGIN)
    (work / "safe.py").write_text("x = 1\n")
    subprocess.run(["git", "add", "."], cwd=work, check=True, env=env)
    pre_commit = [sys.executable, "-m", "pre_commit", "try-repo", str(REPO), "sessguard", "--verbose"]
    failing = subprocess.run(
        [*pre_commit, "--files", "app.py"], cwd=work, capture_output=True, text=True, env=env, timeout=600
    )
    assert failing.returncode == 1, failing.stdout + failing.stderr
    assert "app.py:5:5: low python-session-fixation" in failing.stdout
    passing = subprocess.run(
        [*pre_commit, "--files", "safe.py"], cwd=work, capture_output=True, text=True, env=env, timeout=600
    )
    assert passing.returncode == 0, passing.stdout + passing.stderr


def test_the_documented_workflow_runs_and_uploads_valid_sarif(tmp_path: Path) -> None:
    text = (REPO / "docs" / "ci.md").read_text()
    workflow = yaml.safe_load(re.search(r"```yaml\n(name: sessguard.*?)```", text, re.S).group(1))  # type: ignore[union-attr]
    steps = workflow["jobs"]["sessguard"]["steps"]
    upload = next(s for s in steps if s.get("uses", "").startswith("github/codeql-action/upload-sarif"))
    assert workflow["permissions"]["security-events"] == "write"
    command = next(s["run"] for s in steps if "sessguard scan" in s.get("run", ""))
    (tmp_path / "app.py").write_text(LOGIN)
    bin_dir = Path(sys.executable).parent
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"}
    result = subprocess.run(
        ["bash", "-c", command], cwd=tmp_path, capture_output=True, text=True, env=env, timeout=120
    )
    assert result.returncode == 1, result.stderr
    assert "::notice file=app.py,line=5" in result.stdout  # the annotations, printed to the log
    sarif = json.loads((tmp_path / upload["with"]["sarif_file"]).read_text())
    schema = json.loads((SHARED / "schemas" / "sarif-schema-2.1.0.json").read_text())
    jsonschema.Draft4Validator(schema).validate(sarif)
    assert sarif["runs"][0]["results"][0]["ruleId"] == "python-session-fixation"
