"""What the command line names, checked before and after a scan: a usage error (exit 2)
for what cannot be meant, a warning on stderr for what is probably not what was meant.

A path that does not exist is a typo, not an incomplete scan (exit 3 would tell CI that
sessguard ran and met unreadable files). A scan that found no Python file at all is
usually a wrong directory or an exclude that matches everything: "0 files scanned; no
findings." alone reads as a pass.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

from sessguard.model import Report
from sessguard.render.text import inert


def missing_paths(paths: Sequence[str]) -> str | None:
    """The usage error for given paths that do not exist (a dangling link exists: the
    scan reports it, as it reports a file it cannot read)."""
    missing = [path for path in paths if not os.path.lexists(path)]
    if not missing:
        return None
    return f"no such file or directory: {', '.join(inert(path) for path in missing)}"


def no_files_warning(report: Report, paths: Sequence[str]) -> str | None:
    """The warning for a scan that met no Python file, after excludes."""
    if report.stats.files_discovered:
        return None
    where = ", ".join(inert(path) for path in paths)
    return (
        f"sessguard: warning: no Python files found in {where} "
        "(check the path and the exclude settings: `sessguard config`)"
    )
