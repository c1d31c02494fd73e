"""The repository as users meet it: versions and tags, and a test run that stays offline."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import sessguard
from sessguard.tomlfile import parser

REPO = Path(__file__).resolve().parent.parent


def _pyproject_version() -> str:
    version = parser().loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"]
    assert isinstance(version, str)
    return version


def _documented_rev() -> str:
    text = (REPO / "docs" / "ci.md").read_text(encoding="utf-8")
    found = re.search(r"repo: https://github.com/sessguard/sessguard\n\s+rev: (\S+)", text)
    assert found, "docs/ci.md shows the pre-commit configuration"
    return found.group(1)


def test_the_package_reports_the_version_of_pyproject() -> None:
    assert sessguard.__version__ == _pyproject_version()


def test_the_documented_rev_is_the_current_release_tag() -> None:
    rev = _documented_rev()
    assert rev == f"v{_pyproject_version()}"
    if shutil.which("git") is None or not (REPO / ".git").exists():
        return  # a source archive: there are no tags to look at
    tags = subprocess.run(
        ["git", "tag", "--list", "v*"], cwd=REPO, capture_output=True, text=True, check=True
    ).stdout.split()
    if tags:  # a clone without tags (CI's shallow one) cannot tell
        assert rev in tags, f"{rev} is documented but not tagged (tags: {', '.join(tags)})"


def _collected(*options: str) -> str:
    command = [sys.executable, "-m", "pytest", "--collect-only", "-p", "no:cacheprovider", *options]
    return subprocess.run(
        [*command, "tests/test_benchmark_trees.py"], cwd=REPO, capture_output=True, text=True, timeout=300
    ).stdout


@pytest.mark.parametrize(
    ("options", "expected"),
    [((), "no tests collected (2 deselected)"), (("--bench-corpus",), "2 tests collected")],
)
def test_the_benchmark_corpus_tests_run_only_when_asked(options: tuple[str, ...], expected: str) -> None:
    """Collecting never downloads (the corpus is a fixture): the default run leaves the
    corpus tests out, `--bench-corpus` (which `.ci/run` passes) takes them in."""
    assert expected in _collected(*options)


def test_ci_asks_for_the_benchmark_corpus() -> None:
    assert "pytest --bench-corpus" in (REPO / ".ci" / "run").read_text(encoding="utf-8")
