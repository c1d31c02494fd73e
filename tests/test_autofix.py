"""`sessguard fix` (issue 7): the right regeneration in the right place, nothing else
touched, proven by a new scan, and idempotent."""

from __future__ import annotations

import hashlib
import json
import shutil
import stat
from pathlib import Path

import jsonschema
import pytest
from harness import SHARED, SHARED_CASES, expectations, projects
from msgspec.structs import replace

from sessguard.cli import main
from sessguard.fix.apply import apply, plan_changes
from sessguard.fix.cst import rewrite
from sessguard.fix.edits import Refused, render
from sessguard.model import FixPlan, Placement, Span
from sessguard.pipeline import scan

HERE = Path(__file__).resolve().parent
CASES = HERE / "autofix"
EXPECTED = sorted(
    p for p in CASES.glob("*.py") if not p.name.endswith(".fixed.py") and not p.name.startswith("refused")
)


def digest(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def copy_case(case: Path, into: Path) -> Path:
    target = into / case.name
    if case.is_dir():
        shutil.copytree(case, target)
    else:
        shutil.copy2(case, target)
    return target


@pytest.mark.parametrize("case", projects(SHARED_CASES), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_fix_then_rescan_over_the_conformance_cases(
    case: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Every fixable finding is fixed and the new scan is clean of it; what is left has no
    automatic fix and says why; `ok`-only projects are not touched; a second run changes
    nothing."""
    monkeypatch.chdir(tmp_path)
    target = copy_case(case, tmp_path)
    before = digest(tmp_path)
    findings = scan([target.name]).findings
    main(["fix", target.name, "--no-cache"])
    left = scan([target.name]).findings
    assert all(f.fix is not None and not f.fix.available for f in left), [
        (f.path, f.span.line, f.fix) for f in left
    ]
    assert all(f.fix.description.startswith("no automatic fix") for f in left if f.fix)
    if not expectations(case).must:
        assert digest(tmp_path) == before, "a project without findings was changed"
    if any(f.fix and f.fix.available for f in findings):
        assert digest(tmp_path) != before
    once = digest(tmp_path)
    main(["fix", target.name, "--no-cache"])
    assert digest(tmp_path) == once, "a second run changed something"
    capsys.readouterr()


@pytest.mark.parametrize("case", EXPECTED, ids=lambda p: p.stem)
def test_fix_writes_exactly_the_expected_file(
    case: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    target = copy_case(case, tmp_path)
    assert main(["fix", ".", "--no-cache"]) == 0
    assert target.read_bytes() == case.with_name(case.stem + ".fixed.py").read_bytes()


@pytest.mark.parametrize("bom", [b"", b"\xef\xbb\xbf"])
def test_crlf_and_bom_survive(bom: bytes, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    source = (CASES / "flask_cookie.py").read_text()
    expected = (CASES / "flask_cookie.fixed.py").read_text()
    (tmp_path / "app.py").write_bytes(bom + source.replace("\n", "\r\n").encode())
    assert main(["fix", ".", "--no-cache"]) == 0
    assert (tmp_path / "app.py").read_bytes() == bom + expected.replace("\n", "\r\n").encode()


def test_a_file_libcst_cannot_reproduce_is_not_touched(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Old Mac line endings (a lone CR) do not come back byte for byte through libcst."""
    monkeypatch.chdir(tmp_path)
    data = (CASES / "flask_cookie.py").read_text().replace("\n", "\r").encode()
    (tmp_path / "app.py").write_bytes(data)
    assert main(["fix", ".", "--no-cache"]) == 1
    assert (tmp_path / "app.py").read_bytes() == data
    assert "does not come back byte for byte through libcst" in capsys.readouterr().err


def test_tabs_and_an_encoding_cookie_survive(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    source = "# -*- coding: latin-1 -*-\n" + (CASES / "django_views.py").read_text().replace("    ", "\t")
    expected = "# -*- coding: latin-1 -*-\n" + (CASES / "django_views.fixed.py").read_text().replace(
        "    ", "\t"
    )
    (tmp_path / "views.py").write_bytes(source.replace("Django:", "Django é:").encode("latin-1"))
    assert main(["fix", ".", "--no-cache"]) == 0
    assert (tmp_path / "views.py").read_bytes() == expected.replace("Django:", "Django é:").encode("latin-1")


def test_refusals_leave_the_file_and_say_why(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    target = copy_case(CASES / "refused.py", tmp_path)
    assert main(["fix", ".", "--no-cache"]) == 1
    assert target.read_bytes() == (CASES / "refused.py").read_bytes()
    err = capsys.readouterr().err
    assert "refused.py:12: no automatic fix: the statement shares its line with other code" in err
    assert "refused.py:19: not fixed: `session` is assigned only later in the function" in err


def test_diff_changes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    target = copy_case(CASES / "flask_cookie.py", tmp_path)
    assert main(["fix", "--diff", ".", "--no-cache"]) == 1  # fixes pending
    assert target.read_bytes() == (CASES / "flask_cookie.py").read_bytes()
    out = capsys.readouterr().out
    assert "+    session.clear()" in out and "+from flask import Flask, redirect, request, session" in out


def test_mode_is_kept_and_links_are_not_written_through(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    real = copy_case(CASES / "pyramid_views.py", tmp_path)
    real.chmod(0o640)
    assert main(["fix", ".", "--no-cache"]) == 0
    assert stat.S_IMODE(real.stat().st_mode) == 0o640
    linked_dir = tmp_path / "linked"
    linked_dir.mkdir()
    original = copy_case(CASES / "flask_cookie.py", linked_dir)
    (tmp_path / "app_link.py").symlink_to(original)
    before = original.read_bytes()
    main(["fix", "app_link.py", "--follow-symlinks", "--no-cache"])
    assert original.read_bytes() == before
    assert (tmp_path / "app_link.py").is_symlink()


def test_fixes_that_do_not_remove_their_finding_are_rolled_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    target = copy_case(CASES / "flask_cookie.py", tmp_path)
    report = scan(["."])
    outcome = plan_changes(report)
    assert outcome.changes
    problem = apply(outcome, report, lambda: report)  # the finding is "still there"
    assert problem is not None and "still reported" in problem
    assert target.read_bytes() == (CASES / "flask_cookie.py").read_bytes()


def test_a_plan_that_does_not_match_the_source_is_refused() -> None:
    data = b"def login(request):\n    request.session['uid'] = 1\n"
    wrong = FixPlan("insert", Placement.AFTER, "request.session.cycle_key()", Span(2, 9, 2, 20))
    with pytest.raises(Refused):
        rewrite(data, [wrong])
    right = replace(wrong, anchor=Span(2, 5, 2, 31))
    assert rewrite(data, [right]).after.endswith("    request.session.cycle_key()\n")


def test_json_and_sarif_carry_the_edits(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    copy_case(CASES / "flask_cookie.py", tmp_path)
    assert main(["scan", "--no-cache", "--format", "json:r.json", "--format", "sarif:r.sarif"]) == 1
    document = json.loads((tmp_path / "r.json").read_text())
    jsonschema.validate(document, json.loads((HERE / "report.schema.json").read_text()))
    fix = document["findings"][0]["fix"]
    assert fix["available"] is True
    assert {"line": 16, "column": 1, "end_line": 16, "end_column": 1, "text": "    session.clear()\n"} in fix[
        "edits"
    ]
    sarif = json.loads((tmp_path / "r.sarif").read_text())
    jsonschema.Draft4Validator(
        json.loads((SHARED / "schemas" / "sarif-schema-2.1.0.json").read_text())
    ).validate(sarif)
    [change] = sarif["runs"][0]["results"][0]["fixes"][0]["artifactChanges"]
    assert {
        "deletedRegion": {"startLine": 16, "startColumn": 1, "endLine": 16, "endColumn": 1},
        "insertedContent": {"text": "    session.clear()\n"},
    } in change["replacements"]


def test_text_says_whether_a_fix_is_available(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    copy_case(CASES / "refused.py", tmp_path)
    copy_case(CASES / "pyramid_views.py", tmp_path)
    main(["scan", "--no-cache", "--no-color"])
    out = capsys.readouterr().out
    assert "autofix: `sessguard fix` can insert `request.session.invalidate()` before line 8" in out
    assert "autofix: no automatic fix: the statement shares its line with other code" in out
    assert "autofix: no automatic fix: `session` is assigned only later in the function" in out


def test_stores_without_an_api_explain_instead(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    target = copy_case(SHARED_CASES / "webpy" / "wiki", tmp_path)
    [first, *_] = scan([target.name]).findings
    assert first.fix is not None and not first.fix.available
    assert "web.py has no call that gives the browser a new session id" in first.fix.description


def _fixable(root: Path) -> list[tuple[bytes, FixPlan]]:
    report = scan([str(root)])
    return [
        (Path(f.path).read_bytes(), f.fix) for f in report.findings if f.fix is not None and f.fix.available
    ]


@pytest.mark.parametrize(
    "root",
    [*projects(SHARED_CASES), *projects(HERE / "fixtures"), *EXPECTED],
    ids=lambda p: f"{p.parent.name}/{p.name}",
)
def test_the_edits_a_scan_shows_are_what_fix_writes(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The scan renders a plan with the standard library (no libcst on the scan path);
    `sessguard fix` rewrites the syntax tree. Both must give the same bytes."""
    monkeypatch.chdir(root.parent)
    for data, plan in _fixable(root):
        try:
            expected = rewrite(data, [plan])
        except Refused:
            with pytest.raises(Refused):
                render(data, [plan])
            continue
        assert render(data, [plan]).data == expected.data


LAYOUTS = {
    "comments lead the login": (
        "from flask import Flask, request  # the app\n\napp = Flask(__name__)\n\n\n"
        "@app.post('/login')\ndef login():\n    user = request.form['user']\n\n    # sign in\n"
        "    # (both lines)\n    login_user(user)\n    return 'ok'\n"
    ),
    "the comment of a block above stays there": (
        "from flask import request\n\ndef login():\n    if request.form:\n        pass\n"
        "        # end of the if\n\n    # about the login\n    login_user(request.form['u'])\n"
    ),
    "first in its block, tabs, no final newline": (
        '"""Doc."""\n\ndef login(user):\n\t# first\n\tlogin_user(user)'
    ),
    "no imports, decorated first statement": (
        "@decorate\ndef login(user):\n    login_user(user)\n    return 1\n"
    ),
    "parenthesised import is not extended": (
        "from flask import (\n    request,\n)\n\ndef login():\n    login_user(request.form['u'])\n"
    ),
}


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
@pytest.mark.parametrize("name", sorted(LAYOUTS))
def test_the_text_edits_follow_the_syntax_tree_on_awkward_layouts(
    name: str, newline: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    source = "from flask_login import login_user\n" + LAYOUTS[name]
    (tmp_path / "app.py").write_bytes(source.replace("\n", newline).encode())
    fixable = _fixable(tmp_path / "app.py")
    assert fixable, "the layout must give a fixable finding"
    for data, plan in fixable:
        assert render(data, [plan]).data == rewrite(data, [plan]).data
