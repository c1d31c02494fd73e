"""Helpers of the runnable-app tests (issue 13): write a small app, fix it with the CLI,
and import the fixed code so that the framework's own test client can drive it.

The scanner never imports what it scans; these tests do, on purpose, to prove that a
fixed login still works. Each app gets a module name of its own, so that apps of different
tests never meet in `sys.modules`.
"""

from __future__ import annotations

import importlib.util
import itertools
import sys
import textwrap
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType

import pytest

from sessguard.cli import main

_numbers = itertools.count()


def write_project(root: Path, files: Mapping[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"))
    return root


def run_fix(root: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> str:
    """`sessguard fix` on the project, as a user runs it; what it printed."""
    monkeypatch.chdir(root)
    capsys.readouterr()
    main(["fix", ".", "--no-cache"])
    captured = capsys.readouterr()
    return captured.out + captured.err


def load(path: Path, prefix: str = "fixed_app") -> ModuleType:
    """Import one file of a fixed app under a fresh module name."""
    name = f"{prefix}_{next(_numbers)}"
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


@contextmanager
def importable(root: Path) -> Iterator[None]:
    """The project's folder on `sys.path` (frameworks that import views by name)."""
    sys.path.insert(0, str(root))
    try:
        yield
    finally:
        sys.path.remove(str(root))
