"""Our own annotated cases (tests/fixtures): one for each decision the shared suite leaves open."""

from __future__ import annotations

from pathlib import Path

import pytest
from harness import FIXTURES, expectations, projects, score

FIXTURE_PROJECTS = projects(FIXTURES)


def test_every_fixture_is_annotated() -> None:
    """A fixture with no annotation checks nothing: each must pin at least one line."""
    for project in FIXTURE_PROJECTS:
        expected = expectations(project)
        assert expected.must or expected.safe, f"{project} has no ruleid/ok annotation"


@pytest.mark.parametrize("project", FIXTURE_PROJECTS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_fixture_scores_clean(project: Path) -> None:
    result = score(project)
    assert result.clean, "\n".join(result.missed + result.false + result.stale_todo)
