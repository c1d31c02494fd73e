"""Per-application stores and policies, and test code (SPEC §2, §6): each finding's
severity, message and fix come from its own application's store."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from harness import FIXTURES

from sessguard.cli import main
from sessguard.config import Config
from sessguard.model import Store
from sessguard.pipeline import scan

THREE_APPS = FIXTURES / "flask" / "three_apps"
TESTS_BESIDE = FIXTURES / "flask" / "tests_and_lookalikes"


def by_app(path: Path) -> dict[str, tuple[Store, str]]:
    report = scan([str(path)])
    found = {}
    for finding in report.findings:
        app = Path(finding.path).relative_to(os.path.relpath(path)).parts[0]
        assert finding.fix is not None
        found[app] = (finding.session_store, finding.fix.description)
    return found


def test_each_app_gets_its_own_store_and_fix() -> None:
    found = by_app(THREE_APPS)
    assert found["shop"][0] is Store.SERVER and "regenerate" in found["shop"][1]
    assert found["blog"][0] is Store.COOKIE and "session.clear()" in found["blog"][1]
    assert "regenerate" not in found["blog"][1]
    assert found["feed"][0] is Store.COOKIE


def test_a_store_in_another_app_is_not_borrowed(tmp_path: Path) -> None:
    """Without the shop, the blog's verdicts do not change; without the blog's own
    requirements, the blog falls back to the scan's evidence (the shop's Redis store)."""
    copy = tmp_path / "apps"
    shutil.copytree(THREE_APPS, copy)
    alone = scan([str(copy / "blog")]).findings
    assert [(f.span.line, f.session_store) for f in alone] == [(24, Store.COOKIE)]
    (copy / "blog" / "requirements.txt").unlink()
    (copy / "shop" / "requirements.txt").rename(copy / "requirements.txt")
    stores = {Path(f.path).parts[-3]: f.session_store for f in scan([str(copy)]).findings}
    assert stores["blog"] is Store.SERVER


def test_fix_writes_only_the_apps_own_regeneration(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    copy = tmp_path / "apps"
    shutil.copytree(THREE_APPS, copy)
    monkeypatch.chdir(tmp_path)
    main(["fix", "apps", "--no-cache"])
    blog = (copy / "blog" / "blog" / "__init__.py").read_text()
    shop = (copy / "shop" / "shop" / "__init__.py").read_text()
    assert "session_interface.regenerate" not in blog
    assert blog.count("session.clear()") == 2
    assert shop.count("session_interface.regenerate(session)") == 2
    assert not scan(["apps"]).findings


def test_test_code_is_reported_only_when_asked(capsys: pytest.CaptureFixture[str]) -> None:
    default = scan([str(TESTS_BESIDE)]).findings
    assert [(Path(f.path).name, f.span.line) for f in default] == [("testimonials.py", 11)]
    assert default[0].session_store is Store.COOKIE  # conftest's store is the tests' only
    included = scan([str(TESTS_BESIDE)], Config(include_tests=True)).findings
    in_tests = sorted((Path(f.path).name, f.span.line, f.session_store) for f in included)
    assert in_tests == [
        ("test_views.py", 10, Store.SERVER),
        ("test_views.py", 16, Store.SERVER),
        ("testimonials.py", 11, Store.COOKIE),
    ]
    assert main(["scan", str(TESTS_BESIDE), "--include-tests", "--format", "json", "--no-cache"]) == 1
    flagged = json.loads(capsys.readouterr().out)["findings"]
    assert len(flagged) == 3


def test_include_tests_in_the_configuration(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    project = tmp_path / "p"
    shutil.copytree(TESTS_BESIDE, project)
    (project / "pyproject.toml").write_text("[tool.sessguard]\ninclude-tests = true\n")
    main(["scan", str(project), "--format", "json", "--no-cache"])
    assert len(json.loads(capsys.readouterr().out)["findings"]) == 3
    (project / "pyproject.toml").write_text('[tool.sessguard]\ninclude-tests = "yes"\n')
    assert main(["scan", str(project), "--no-cache"]) == 2
