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
from wheelhouse import build_wheelhouse

REPO = Path(__file__).resolve().parent.parent
LOGIN = "from flask_login import login_user\n\n\ndef sign_in(user):\n    login_user(user)\n"
HELPER = 'from flask import session\n\n\ndef remember(user):\n    session["user_id"] = user\n'


def test_hook_definition() -> None:
    [hook] = yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text())
    assert hook["id"] == "sessguard" and hook["require_serial"] is True
    assert hook["entry"] == "sessguard scan" and hook["types"] == ["python"] and hook["language"] == "python"


VIEW = "from auth.helper import remember\n\n\ndef login(user):\n    remember(user)\n"
FRESH_HELPER = HELPER.replace("    session[", "    session.clear()\n    session[")


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
def test_pre_commit_try_repo(tmp_path: Path) -> None:
    """`pre-commit try-repo` installs this repository's hook as users get it (a virtual
    environment and `pip install` of the repository, here from a wheelhouse of this
    environment: no index is asked) and runs it on what each commit stages, in a
    two-module app: a commit of the view alone reports the login its helper does; a
    commit of the helper that adds the regeneration clears it."""
    work = tmp_path / "project"
    (work / "auth").mkdir(parents=True)
    env = {
        **os.environ,
        **build_wheelhouse(tmp_path / "wheels"),
        "PRE_COMMIT_HOME": str(tmp_path / "cache"),
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@t",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@t",
    }

    def git(*argv: str) -> None:
        subprocess.run(["git", *argv], cwd=work, check=True, env=env, capture_output=True)

    def pre_commit() -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "pre_commit", "try-repo", str(REPO), "sessguard", "--verbose"]
        return subprocess.run(command, cwd=work, capture_output=True, text=True, env=env, timeout=600)

    git("init", "-q")
    (work / "auth" / "__init__.py").write_text("")
    (work / "auth" / "helper.py").write_text(HELPER)
    git("add", "auth/__init__.py", "auth/helper.py")
    git("commit", "-q", "--no-verify", "-m", "helper")
    (work / "auth" / "views.py").write_text(VIEW)
    git("add", "auth/views.py")
    view_only = pre_commit()
    assert view_only.returncode == 1, view_only.stdout + view_only.stderr
    assert "auth/views.py:5:5: low python-session-fixation" in view_only.stdout
    assert 'auth/helper.py:5 `session["user_id"] = user`' in view_only.stdout  # the helper's write
    git("commit", "-q", "--no-verify", "-m", "view")
    (work / "auth" / "helper.py").write_text(FRESH_HELPER)
    git("add", "auth/helper.py")
    helper_fixed = pre_commit()
    assert helper_fixed.returncode == 0, helper_fixed.stdout + helper_fixed.stderr
    assert "3 files scanned; no findings." in helper_fixed.stdout  # the project, not the file alone


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
