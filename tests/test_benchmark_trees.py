"""The prefilter on real trees: the benchmark corpus of `../shared/bench` is scanned with
and without it, and the reports must match byte for byte (issue 6).

The corpus is fetched from PyPI by the shared script (pinned releases) into `.bench/` of
this checkout, where `bench/run.py` finds it too; set SESSGUARD_BENCH_CORPUS to use another.
These tests run only with `pytest --bench-corpus` (as `.ci/run` does): the default run is
offline.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from harness import SHARED

from sessguard.config import Config
from sessguard.jobs import available_cores
from sessguard.monitor import Monitor
from sessguard.pipeline import scan
from sessguard.render.json import render

REPO = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.bench  # the default `pytest` run never downloads (conftest.py)


@pytest.fixture(scope="module")
def corpus() -> Path:
    directory = Path(os.environ.get("SESSGUARD_BENCH_CORPUS", REPO / ".bench" / "corpus"))
    subprocess.run(
        ["bash", str(SHARED / "bench" / "fetch_corpus.sh"), str(directory)],
        check=True,
        capture_output=True,
        timeout=900,
    )
    return directory


@pytest.mark.parametrize("tree", ["django", "superset"])
def test_prefilter_changes_nothing_on_a_benchmark_tree(
    corpus: Path, tree: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(corpus / tree)
    monitor = Monitor()
    jobs = available_cores()
    filtered = render(scan(["."], Config(), jobs=jobs, monitor=monitor))
    assert filtered == render(scan(["."], Config(prefilter=False), jobs=jobs))
    parsed, skipped = monitor.counts["files parsed"], monitor.counts["files never parsed"]
    assert skipped > 2 * parsed, "the prefilter must keep most files unparsed"
