"""`sessguard config`: the effective configuration as TOML a user can paste into
`.sessguard.toml`, each value with where it came from as a comment.

Values come from the scanned tree's configuration files, so strings are escaped: neither
a TOML parser nor a terminal ever sees a control character from them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from sessguard.config import KEYS, LoadedConfig
from sessguard.model import Level, Order, Store
from sessguard.render.text import UNSAFE, inert


def describe(loaded: LoadedConfig) -> str:
    """`sessguard config`: every key with its effective value, as TOML a user can paste
    into `.sessguard.toml`, and where each value came from as a comment."""
    files = ", ".join(inert(f) for f in loaded.files) or "none"
    lines = [f"# configuration files: {files}"]
    for key, (attribute, _) in KEYS.items():
        value = getattr(loaded.config, attribute)
        source = inert(loaded.sources.get(key, "default"))
        if value is None and attribute == "exclude":
            value = default_exclude()
        lines.append(f"{key} = {toml_value(value)}  # {source}")
    return "\n".join(lines) + "\n"


def default_exclude() -> tuple[str, ...]:
    """The default excluded directories as the `exclude` patterns that mean the same."""
    from sessguard.discover import DEFAULT_EXCLUDED_DIRS

    return tuple(f"{name}/" for name in sorted(DEFAULT_EXCLUDED_DIRS))


def toml_value(value: Any) -> str:
    """A configuration value as TOML."""
    if isinstance(value, Level):
        return toml_string(value.label)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, (tuple, list)):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, Mapping):
        items = ", ".join(f"{toml_string(k)} = {toml_value(v)}" for k, v in value.items())
        return "{" + items + "}"
    if isinstance(value, (Order, Store)):
        return toml_string(value.value)
    return toml_string(str(value))


def toml_string(text: str) -> str:
    def escape(match: re.Match[str]) -> str:
        code = ord(match.group())
        return "\\ufffd" if 0xD800 <= code <= 0xDFFF else f"\\u{code:04x}"  # TOML has no surrogates

    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    return '"' + UNSAFE.sub(escape, escaped) + '"'
