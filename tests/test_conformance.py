"""The shared conformance suite (../shared/cases), scored exactly, project by project."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from harness import SHARED, SHARED_CASES, projects, score

CASES = projects(SHARED_CASES) if SHARED_CASES.is_dir() else []
FRAMEWORKS = sorted({p.parent.name for p in CASES})


def test_shared_cases_are_present() -> None:
    assert SHARED_CASES.is_dir(), f"the conformance suite must be beside the repo at {SHARED_CASES}"
    assert len(CASES) >= 45 and len(FRAMEWORKS) >= 14


@pytest.mark.parametrize("project", CASES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_case_scores_clean(project: Path) -> None:
    result = score(project)
    assert result.clean, "\n".join(result.missed + result.false + result.stale_todo)


def test_shared_scorer_agrees() -> None:
    """The project's own scorer, run on the installed CLI, reports 0 missed and 0 false."""
    command = f"{sys.executable} -m sessguard scan --format json"
    for framework in FRAMEWORKS:
        proc = subprocess.run(
            [
                sys.executable,
                str(SHARED / "tools" / "score_cases.py"),
                "--cmd",
                command,
                "--only",
                f"{os.sep}cases{os.sep}{framework}{os.sep}",
                str(SHARED_CASES),
            ],
            capture_output=True,
            text=True,
            timeout=600,
        )
        last = proc.stdout.strip().splitlines()[-1]
        assert proc.returncode == 0, proc.stdout + proc.stderr
        assert " 0 missed, 0 false" in last, last
