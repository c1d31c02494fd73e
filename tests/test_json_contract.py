"""The JSON report of SPEC §9: shape, order, paths, and stable fingerprints."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from conftest import Project
from harness import SHARED_CASES

from sessguard.pipeline import scan
from sessguard.render import json as json_render

SCHEMA = json.loads((Path(__file__).with_name("report.schema.json")).read_text())

LOGIN = """
from flask import Flask, session
from flask_login import login_user

app = Flask(__name__)

@app.post("/login")
def login(user):
    login_user(user)
    return "ok"

@app.post("/sso")
def sso(user):
    session["user_id"] = user
"""


def document(report) -> dict:  # type: ignore[no-untyped-def]
    return json.loads(json_render.render(report))


def test_report_matches_the_contract(project: Project) -> None:
    data = document(project(app=LOGIN))
    jsonschema.validate(data, SCHEMA)
    first = data["findings"][0]
    assert (first["path"], first["line"], first["column"]) == ("app.py", 8, 5)
    assert (first["end_line"], first["end_column"]) == (8, 21)
    assert first["function"] == "app.login"
    assert (first["framework"], first["session_store"], first["severity"]) == ("flask", "cookie", "low")


def test_every_conformance_report_matches_the_contract() -> None:
    for framework in ("flask", "django", "starlette"):
        for case in sorted((SHARED_CASES / framework).iterdir()):
            jsonschema.validate(document(scan([str(case)])), SCHEMA)


def test_findings_are_sorted_by_path_line_column(project: Project) -> None:
    report = project({"b.py": LOGIN, "a.py": LOGIN})
    keys = [(f.path, f.span.line, f.span.column) for f in report.findings]
    assert keys == sorted(keys)
    assert [k[0] for k in keys] == ["a.py", "a.py", "b.py", "b.py"]


def test_fingerprints_survive_lines_added_above(project: Project, tmp_path: Path) -> None:
    before = {f.function: f.fingerprint for f in project(app=LOGIN).findings}
    (tmp_path / "app.py").write_text("# a comment\nimport os\n\n" + LOGIN.lstrip("\n"))
    after = {f.function: f.fingerprint for f in scan(["."]).findings}
    assert before == after
    assert len(set(before.values())) == 2


def test_identical_statements_get_distinct_fingerprints(project: Project) -> None:
    report = project(
        app="""
        from flask import session
        def a(user, flag):
            if flag:
                session["user_id"] = user
            else:
                session["user_id"] = user
        """
    )
    assert len({f.fingerprint for f in report.findings}) == 2


def test_paths_outside_the_current_directory_are_absolute(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "app.py").write_text(LOGIN)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    report = scan([str(tmp_path / "app.py")])
    assert report.findings[0].path == (tmp_path / "app.py").as_posix()


def test_errors_are_entries_with_kind_and_position(project: Project) -> None:
    data = document(project({"ok.py": LOGIN, "broken.py": "from flask import session\ndef f(:\n    pass\n"}))
    jsonschema.validate(data, SCHEMA)
    assert data["errors"] == [
        {"path": "broken.py", "kind": "syntax", "message": "invalid syntax", "line": 2, "column": 7}
    ]
    assert data["stats"] == {"files_discovered": 2, "files_analyzed": 1, "files_skipped": 1}
    assert len(data["findings"]) == 2
