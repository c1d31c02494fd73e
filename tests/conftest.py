from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import os
import textwrap
from collections.abc import Callable

import pytest

from sessguard.model import Report
from sessguard.pipeline import scan

Project = Callable[..., Report]
BENCH_OPTION = "--bench-corpus"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        BENCH_OPTION,
        action="store_true",
        help="also run the tests marked `bench`, which fetch the benchmark corpus (~356 MB, from PyPI)",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", f"bench: needs the benchmark corpus; runs only with {BENCH_OPTION}")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The default run stays offline: the corpus tests are deselected (not skipped: they
    are not part of that run at all) unless the option asks for them, as `.ci/run` does."""
    if config.getoption(BENCH_OPTION):
        return
    deselected = [item for item in items if item.get_closest_marker("bench")]
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = [item for item in items if not item.get_closest_marker("bench")]


@pytest.fixture(autouse=True, scope="session")
def private_cache(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Scans run from the command line cache by default: keep the tests' cache out of the
    user's cache directory (subprocesses inherit the variable)."""
    os.environ["SESSGUARD_CACHE_DIR"] = str(tmp_path_factory.mktemp("sessguard-cache"))


def write_tree(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Project:
    """Write a small project into a temporary directory and scan it from there."""
    monkeypatch.chdir(tmp_path)

    def build(files: dict[str, str] | None = None, **named: str) -> Report:
        write_tree(tmp_path, {**(files or {}), **{k.replace("__", "/") + ".py": v for k, v in named.items()}})
        return scan(["."])

    return build


@pytest.fixture
def lines() -> Callable[[Report], list[tuple[str, int]]]:
    def found(report: Report) -> list[tuple[str, int]]:
        return [(f.path, f.span.line) for f in report.findings]

    return found


__all__ = ["os", "write_tree"]
