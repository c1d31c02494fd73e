"""SARIF 2.1.0 as GitHub code scanning consumes it, validated against the official schema."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from conftest import Project
from harness import SHARED, SHARED_CASES, projects

from sessguard.filters import read_baseline, write_baseline
from sessguard.model import RULE_ID
from sessguard.pipeline import scan
from sessguard.render import RenderOptions
from sessguard.render import sarif as sarif_render

SCHEMA = json.loads((SHARED / "schemas" / "sarif-schema-2.1.0.json").read_text())
VALIDATOR = jsonschema.Draft4Validator(SCHEMA)

LOGIN = """
from flask import Flask
from flask_login import login_user

app = Flask(__name__)


@app.post("/login")
def login(user):
    login_user(user)
    return "ok"
"""


def sarif(report: Any, **options: bool) -> dict[str, Any]:
    document = json.loads(sarif_render.render(report, RenderOptions(**options)))
    errors = sorted(VALIDATOR.iter_errors(document), key=str)
    assert not errors, errors[0]
    return document


@pytest.mark.parametrize("case", projects(SHARED_CASES), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_conformance_case_gives_valid_sarif(case: Path) -> None:
    document = sarif(scan([str(case)]))
    run = document["runs"][0]
    for result in run["results"]:
        assert run["tool"]["driver"]["rules"][result["ruleIndex"]]["id"] == result["ruleId"]


def test_driver_and_rules_as_github_wants_them(project: Project) -> None:
    document = sarif(project(app=LOGIN))
    assert document["$schema"].endswith("sarif-2.1.0.json") and document["version"] == "2.1.0"
    driver = document["runs"][0]["tool"]["driver"]
    assert (
        driver["name"] == "sessguard"
        and driver["semanticVersion"]
        and driver["informationUri"].startswith("https://")
    )
    ids = [rule["id"] for rule in driver["rules"]]
    assert len(ids) == len(set(ids)) and RULE_ID in ids
    for rule in driver["rules"]:
        for key in ("shortDescription", "fullDescription"):
            assert rule[key]["text"]
        assert rule["help"]["text"] and rule["help"]["markdown"].startswith(f"# {rule['id']}")
        assert rule["helpUri"].startswith("https://")
        assert rule["defaultConfiguration"]["level"] in ("error", "warning", "note")
        severity = rule["properties"]["security-severity"]
        assert isinstance(severity, str) and 0 < float(severity) <= 10
        assert rule["properties"]["precision"]
    fixation = driver["rules"][ids.index(RULE_ID)]
    assert {"security", "external/cwe/cwe-384"} <= set(fixation["properties"]["tags"])


def test_result_fields(project: Project) -> None:
    result = sarif(project(app=LOGIN))["runs"][0]["results"][0]
    assert result["ruleId"] == RULE_ID and result["level"] == "note"  # a cookie store: low
    assert result["message"]["text"].startswith("`login_user(user)` logs the user in")
    location = result["locations"][0]["physicalLocation"]
    assert location["artifactLocation"] == {"uri": "app.py", "uriBaseId": "%SRCROOT%"}
    assert location["region"] == {
        "startLine": 9,
        "startColumn": 5,
        "endLine": 9,
        "endColumn": 21,
        "snippet": {"text": "login_user(user)"},
    }
    assert result["partialFingerprints"]["primaryLocationLineHash"].endswith(":1")
    flow = result["codeFlows"][0]["threadFlows"][0]["locations"]
    assert flow[-1]["location"]["message"]["text"] == "`login_user(user)` logs the user in"
    assert result["relatedLocations"][0]["id"] == 1


def test_line_hash_is_stable_when_unrelated_lines_move(project: Project, tmp_path: Path) -> None:
    before = sarif(project(app=LOGIN))["runs"][0]["results"][0]["partialFingerprints"]
    (tmp_path / "app.py").write_text('"""Docs."""\n\nimport os\n' + LOGIN)
    after = sarif(scan(["."]))["runs"][0]["results"][0]
    assert after["locations"][0]["physicalLocation"]["region"]["startLine"] == 13
    assert after["partialFingerprints"] == before


def test_unanalysable_files_are_notifications(project: Project) -> None:
    run = sarif(project({"app.py": LOGIN, "broken.py": "from flask_login import login_user\ndef f(:\n"}))[
        "runs"
    ][0]
    invocation = run["invocations"][0]
    assert invocation["executionSuccessful"] is False
    [notification] = invocation["toolExecutionNotifications"]
    assert notification["message"]["text"].startswith("syntax: ")
    assert notification["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "broken.py"


def test_suppressed_and_baselined_results(project: Project, tmp_path: Path) -> None:
    report = project(
        app=LOGIN.replace(
            "login_user(user)\n", "login_user(user)  # sessguard: ignore[python-session-fixation] -- kiosk\n"
        )
    )
    [result] = sarif(report)["runs"][0]["results"]
    assert result["suppressions"] == [{"kind": "inSource", "justification": "kiosk"}]
    (tmp_path / "app.py").write_text(LOGIN)
    write_baseline(tmp_path / "b.json", scan(["."]).findings)
    (tmp_path / "app.py").write_text(LOGIN + '\n\n@app.post("/sso")\ndef sso(user):\n    login_user(user)\n')
    results = sarif(scan(["."], baseline=read_baseline(tmp_path / "b.json")))["runs"][0]["results"]
    assert sorted(r["baselineState"] for r in results) == ["new", "unchanged"]
    assert [r["suppressions"][0]["kind"] for r in results if "suppressions" in r] == ["external"]


def test_hostile_file_names_stay_valid_uris(project: Project) -> None:
    report = project({"weird name #1%.py": LOGIN, "ünïcode/é.py": LOGIN})
    uris = sorted(
        r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        for r in sarif(report)["runs"][0]["results"]
    )
    assert uris == ["%C3%BCn%C3%AFcode/%C3%A9.py", "weird%20name%20%231%25.py"]
