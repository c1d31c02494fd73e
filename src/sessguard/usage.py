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

from sessguard.render.text import inert


def missing_paths(paths: Sequence[str]) -> str:
    """The usage error naming the given paths that do not exist (the caller found one; a
    dangling link exists: the scan reports it, as it reports a file it cannot read)."""
    missing = [path for path in paths if not os.path.lexists(path)]
    return f"no such file or directory: {', '.join(inert(path) for path in missing)}"


def no_files_warning(paths: Sequence[str]) -> str:
    """The warning for a scan that met no Python file, after excludes."""
    where = ", ".join(inert(path) for path in paths)
    return (
        f"sessguard: warning: no Python files found in {where} "
        "(check the path and the exclude settings: `sessguard config`)"
    )
