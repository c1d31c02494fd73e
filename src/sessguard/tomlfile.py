"""The TOML parser, imported only when a scan meets a TOML file (start-up stays light)."""

from __future__ import annotations

import sys
from types import ModuleType


def parser() -> ModuleType:
    """`tomllib` (Python 3.11+) or its backport `tomli`: `loads` and `TOMLDecodeError`."""
    if sys.version_info >= (3, 11):
        import tomllib

        return tomllib
    import tomli  # pragma: no cover - Python 3.10

    backport: ModuleType = tomli  # pragma: no cover
    return backport  # pragma: no cover
