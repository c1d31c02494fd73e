"""sessguard: finds session fixation (CWE-384) in Python web applications.

    from sessguard import scan
    report = scan(["app/"])

This module imports nothing at import time, so that `python -m sessguard`, run from inside
a scanned tree, has dropped that tree from `sys.path` before any other import happens.
"""

from __future__ import annotations

__version__ = "0.1.0"
__all__ = ["__version__", "scan"]

TYPE_CHECKING = False
if TYPE_CHECKING:
    from sessguard.config import Config
    from sessguard.model import Report


def scan(paths: list[str] | tuple[str, ...] = (".",), config: Config | None = None) -> Report:
    """Scan files and directories and return the report (see `sessguard.model.Report`)."""
    from sessguard.pipeline import scan as run

    return run(paths, config)
