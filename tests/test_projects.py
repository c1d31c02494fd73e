"""Files given on the command line are analysed with their project (sessguard.projects)."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import write_tree
from harness import SHARED_CASES, projects

from sessguard.cli import main
from sessguard.projects import PROJECT_MARKERS, project_root, targets

HELPER = """
from flask import session


def remember(user):
    session["user_id"] = user
"""
VIEW = """
from auth.helper import remember


def login(user):
    remember(user)
"""
OTHER = """
from flask_login import login_user


def sign_in(user):
    login_user(user)
"""
FRESH_HELPER = """
from flask import session


def fresh_session():
    session.clear()
"""
SAFE_VIEW = """
from flask_login import login_user

from auth.helper import fresh_session


def login(user):
    fresh_session()
    login_user(user)
"""


def _app(root: Path, helper: str, view: str, marker: str = "pyproject.toml") -> None:
    write_tree(root, {marker: "", "auth/__init__.py": "", "auth/helper.py": helper, "auth/views.py": view})


@pytest.fixture
def app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A project whose view logs in through its helper, scanned from its root."""
    _app(tmp_path, HELPER, VIEW)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _scan(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    status = main(["scan", "--no-cache", "--quiet", *argv])
    return status, capsys.readouterr().out


@pytest.mark.parametrize("marker", PROJECT_MARKERS)
def test_a_file_is_analysed_with_its_project(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], marker: str
) -> None:
    _app(tmp_path, HELPER, VIEW, marker)
    write_tree(tmp_path, {"other.py": OTHER})
    monkeypatch.chdir(tmp_path / "auth")  # the root is above the working directory
    status, out = _scan(capsys, "views.py")
    assert status == 1
    assert "views.py:5:5" in out and "helper.py:5" in out  # the helper's write, seen through the call
    assert "other.py" not in out  # a finding of the project, not of the file given


def test_a_safe_view_whose_helper_regenerates_is_not_reported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _app(tmp_path, FRESH_HELPER, SAFE_VIEW)
    monkeypatch.chdir(tmp_path)
    assert _scan(capsys, "auth/views.py") == (0, "3 files scanned; no findings.\n")
    status, out = _scan(capsys, "--no-project", "auth/views.py")  # alone, the helper is unknown
    assert status == 1 and "auth/views.py:8:5" in out


def test_a_changed_helper_reports_the_logins_whose_trace_passes_through_it(
    app: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out = _scan(capsys, "auth/helper.py")
    assert status == 1 and "auth/views.py:5:5" in out


def test_no_project_analyses_the_file_alone(app: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _scan(capsys, "--no-project", "auth/views.py") == (0, "1 file scanned; no findings.\n")


def test_directories_are_reported_whole(app: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_tree(app, {"other.py": OTHER})
    status, out = _scan(capsys, ".")
    assert status == 1 and "auth/views.py:5:5" in out and "other.py:5:5" in out


def test_only_the_given_files_errors_are_reported(app: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (app / "broken.py").write_text("from flask import session\ndef f(:\n")
    status, out = _scan(capsys, "auth/views.py")
    assert status == 1 and "broken.py" not in out
    status, out = _scan(capsys, "broken.py")
    assert status == 3 and "broken.py" in out


def test_a_file_without_a_project_above_is_analysed_alone(tmp_path: Path) -> None:
    write_tree(tmp_path, {"a/views.py": VIEW, "a/helper.py": HELPER})
    assert project_root(tmp_path) is None, "the temporary directory must lie outside any project"
    chosen = targets([str(tmp_path / "a" / "views.py")], tmp_path)
    assert not chosen.narrows and chosen.scanned == (str(tmp_path / "a" / "views.py"),)


def test_conformance_cases_have_no_project_above_them() -> None:
    """The single-file cases sit side by side: scanned as files, each must be alone."""
    single = [case for case in projects(SHARED_CASES) if case.is_file()]
    assert single and all(project_root(case) is None for case in single)


@pytest.mark.parametrize("imports", ["from auth.helper import remember", "from .helper import remember"])
def test_the_errors_of_the_modules_a_given_file_imports_are_reported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], imports: str
) -> None:
    """A helper that could not be analysed leaves the view's analysis incomplete."""
    _app(
        tmp_path,
        "from flask import session\ndef remember(:\n",
        VIEW.replace("from auth.helper import remember", imports),
    )
    write_tree(tmp_path, {"broken.py": "from flask import session\ndef f(:\n"})
    monkeypatch.chdir(tmp_path)
    status, out = _scan(capsys, "auth/views.py")
    assert status == 3 and "auth/helper.py: syntax" in out and "broken.py" not in out
