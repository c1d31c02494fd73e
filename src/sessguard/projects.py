"""Files given on the command line are analysed with the project they belong to.

A login is often reached through a helper in a sibling module: `sessguard scan
app/auth/views.py` that read that file alone would miss a login done by
`app/auth/helpers.py`, and would report a login whose regeneration sits in a helper.
pre-commit passes exactly such file lists. So each file given is scanned with its
project (the nearest directory above it holding one of `PROJECT_MARKERS`; the cache makes
the rest of the project cheap), and the report is narrowed to what concerns the files
given: findings located in them or whose trace passes through them (a changed helper),
and the files' own errors. A file with no project above it is scanned alone, as are all
files with `--no-project`; directories are scanned and reported whole.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from msgspec.structs import replace

from sessguard.discover import display_path, is_within
from sessguard.model import Finding, Report

PROJECT_MARKERS = ("pyproject.toml", "setup.py", "setup.cfg", "manage.py", ".git")


def project_root(file: Path) -> Path | None:
    """The nearest directory above `file` that holds a project marker, if any."""
    for directory in Path(os.path.abspath(file)).parents:
        if any(os.path.lexists(directory / marker) for marker in PROJECT_MARKERS):
            return directory
    return None


@dataclass(frozen=True)
class Targets:
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


def narrowed(report: Report, chosen: Targets) -> Report:
    """The report on the paths given: project findings elsewhere are not the files'."""
    if not chosen.narrows:
        return report
    return replace(
        report,
        findings=tuple(f for f in report.findings if _concerns(f, chosen)),
        suppressed=tuple(s for s in report.suppressed if _concerns(s.finding, chosen)),
        fixed=tuple(e for e in report.fixed if _given(e.path, chosen)),
        errors=tuple(e for e in report.errors if _given(e.path, chosen)),
    )


def _concerns(finding: Finding, chosen: Targets) -> bool:
    return _given(finding.path, chosen) or any(step.path in chosen.files for step in finding.trace)


def _given(path: str, chosen: Targets) -> bool:
    return path in chosen.files or is_within(os.path.abspath(path), chosen.whole)
