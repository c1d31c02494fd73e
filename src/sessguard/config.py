"""The effective configuration of a scan, as one frozen value.

Defaults live here; `[tool.sessguard]` files and command-line flags produce a new value
(see `load_config`), never mutate one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from sessguard.model import Level, Order, Store


@dataclass(frozen=True)
class Config:
    fail_on: Level = Level.LOW
    min_severity: Level = Level.LOW
    min_confidence: Level = Level.LOW
    exclude: tuple[str, ...] = ()
    extend_exclude: tuple[str, ...] = ()
    auth_functions: tuple[str, ...] = ()
    regenerate_functions: Mapping[str, Order] = field(default_factory=dict)
    identity_keys: tuple[str, ...] = ()
    not_identity_keys: tuple[str, ...] = ()
    session_store: Mapping[str, Store] = field(default_factory=dict)
    max_file_bytes: int = 10 * 1024 * 1024
