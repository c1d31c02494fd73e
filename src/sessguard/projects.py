"""Files given on the command line are analysed with the project they belong to.

A login is often reached through a helper in a sibling module: `sessguard scan
app/auth/views.py` that read that file alone would miss a login done by
`app/auth/helpers.py`, and would report a login whose regeneration sits in a helper.
pre-commit passes exactly such file lists. So each file given is scanned with its
project (the nearest directory above it holding one of `PROJECT_MARKERS`; the cache makes
the rest of the project cheap), and the report is narrowed to what concerns the files
given: findings located in them or whose trace passes through them (a changed helper),
the files' own errors, and the errors of the modules they import (a helper that could not
be analysed leaves the files' analysis incomplete). A file with no project above it is
scanned alone, as are all files with `--no-project`; directories are scanned and reported
whole.
"""

from __future__ import annotations

import ast
import os
from collections.abc import Iterator, Sequence
from pathlib import Path

import msgspec
from msgspec.structs import replace

from sessguard.discover import display_path, is_within
from sessguard.model import FileError, Finding, Report
from sessguard.source import read

PROJECT_MARKERS = ("pyproject.toml", "setup.py", "setup.cfg", "manage.py", ".git")


def project_root(file: Path) -> Path | None:
    """The nearest directory above `file` that holds a project marker, if any."""
    for directory in Path(os.path.abspath(file)).parents:
        if any(os.path.lexists(directory / marker) for marker in PROJECT_MARKERS):
            return directory
    return None


class Targets(msgspec.Struct, frozen=True):
    """What the pipeline reads (`scanned`) and what the report may speak of: the files
    given whose project is read instead (`files`, display paths), and the paths reported
    whole (`whole`: directories, files scanned alone, paths that are neither)."""

    scanned: tuple[str, ...]
    files: frozenset[str]
    whole: tuple[str, ...]

    @property
    def narrows(self) -> bool:
        return bool(self.files)


def targets(paths: Sequence[str], cwd: Path, with_projects: bool = True) -> Targets:
    scanned: list[str] = []
    files: set[str] = set()
    whole: list[str] = []
    for raw in paths:
        path = Path(raw)
        root = project_root(path) if with_projects and path.is_file() else None
        if root is None:
            scanned.append(raw)
            whole.append(os.path.abspath(raw))
            continue
        files.add(display_path(path, cwd))
        shown = display_path(root, cwd)
        if shown not in scanned:
            scanned.append(shown)
    return Targets(tuple(scanned), frozenset(files), tuple(whole))


def narrowed(report: Report, chosen: Targets, max_bytes: int) -> Report:
    """The report on the paths given: project findings elsewhere are not the files'."""
    if not chosen.narrows:
        return report
    imported = {m for f in chosen.files for m in _imported_modules(f, max_bytes)}
    return replace(
        report,
        findings=tuple(f for f in report.findings if _concerns(f, chosen)),
        suppressed=tuple(s for s in report.suppressed if _concerns(s.finding, chosen)),
        fixed=tuple(e for e in report.fixed if _given(e.path, chosen)),
        errors=tuple(e for e in report.errors if _given(e.path, chosen) or _module_of(e.path) in imported),
    )


def _concerns(finding: Finding, chosen: Targets) -> bool:
    return _given(finding.path, chosen) or any(step.path in chosen.files for step in finding.trace)


def _given(path: str, chosen: Targets) -> bool:
    return path in chosen.files or is_within(os.path.abspath(path), chosen.whole)


def _module_of(path: str) -> str:
    """The dotted name of the module at `path`, from the `__init__.py` files above it."""
    absolute = Path(os.path.abspath(path))
    names = [] if absolute.name == "__init__.py" else [absolute.stem]
    directory = absolute.parent
    while (directory / "__init__.py").is_file() and directory.parent != directory:
        names.insert(0, directory.name)
        directory = directory.parent
    return ".".join(names)


def _imported_modules(path: str, max_bytes: int) -> set[str]:
    """The modules whose code runs when the file is imported: each module it imports,
    the packages above them, and `from m import x` also as the submodule `m.x`."""
    data = read(path, path, max_bytes)
    if isinstance(data, FileError):
        return set()
    try:
        tree = ast.parse(data)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return set()  # the file's own error is reported
    own = _module_of(path)
    package = own if os.path.basename(path) == "__init__.py" else own.rpartition(".")[0]
    found: set[str] = set()
    for name in _import_names(tree, package):
        parts = name.split(".")
        found.update(".".join(parts[: i + 1]) for i in range(len(parts)))
    return found


def _import_names(tree: ast.Module, package: str) -> Iterator[str]:
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # `from .. import x` in a.b.c is from a
                packages = package.split(".") if package else []
                above = packages[: len(packages) - node.level + 1]
                base = ".".join([*above, base] if base else above)
            if base:
                yield base
            yield from (f"{base}.{alias.name}" if base else alias.name for alias in node.names)
