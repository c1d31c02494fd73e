"""The effective configuration of a scan, as one frozen value, and where it came from.

`[tool.sessguard]` in the nearest `pyproject.toml`, or a `.sessguard.toml` (top-level keys)
beside or above the scanned path, is read with no flag; `--config FILE` names one instead;
`--isolated` reads none from the scanned tree (for untrusted pull requests). Command-line
flags override files. A key we do not know, or a value of the wrong type, is an error that
names the file, the key and what was expected: a typo must never silently turn a check off.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import msgspec
from msgspec.structs import fields, replace

from sessguard.model import Level, Order, Store
from sessguard.tomlfile import parser

CONFIG_FILE = ".sessguard.toml"
PYPROJECT = "pyproject.toml"
MAX_CONFIG_BYTES = 1 << 20


class Config(msgspec.Struct, frozen=True):
    fail_on: Level = Level.LOW
    min_severity: Level = Level.LOW
    min_confidence: Level = Level.LOW
    exclude: tuple[str, ...] | None = None  # None: the default excluded directories
    extend_exclude: tuple[str, ...] = ()
    respect_gitignore: bool = True
    select: tuple[str, ...] = ()  # rule ids to report; empty: all
    ignore: tuple[str, ...] = ()
    auth_functions: tuple[str, ...] = ()
    regenerate_functions: Mapping[str, Order] = msgspec.field(default_factory=dict)
    identity_keys: tuple[str, ...] = ()
    not_identity_keys: tuple[str, ...] = ()
    session_store: Mapping[str, Store] = msgspec.field(default_factory=dict)
    report_unused_suppressions: bool = True
    max_file_bytes: int = 10 * 1024 * 1024
    file_timeout: float = 5.0  # seconds of analysis per file, after parsing
    follow_symlinks: bool = False
    prefilter: bool = True  # parse only the files that can matter (see prefilter.py)
    include_tests: bool = False  # test code as roots (SPEC §2)


class ConfigError(Exception):
    """A configuration a user wrote that cannot be used: file, key, what was expected."""

    def __init__(self, path: str, key: str | None, message: str) -> None:
        where = f"{path}: {key}: " if key else f"{path}: "
        super().__init__(where + message)
        self.path, self.key = path, key


# -- value parsers: each takes the raw TOML value and returns the Config field value ------


def _strings(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise TypeError("a list of strings")
    return tuple(value)


def _level(value: Any) -> Level:
    if not isinstance(value, str):
        raise TypeError('one of "low", "medium", "high"')
    try:
        return Level.parse(value)
    except ValueError:
        raise TypeError('one of "low", "medium", "high"') from None


def _bool(value: Any) -> bool:
    if not isinstance(value, bool):
        raise TypeError("true or false")
    return value


def _positive_int(value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise TypeError("a positive integer")
    return value


def _positive_number(value: Any) -> float:
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not 0 < value < 1e6:
        raise TypeError("a positive number of seconds")
    return float(value)


def _rule_ids(value: Any) -> tuple[str, ...]:
    ids = _strings(value)
    check_rule_ids(ids)
    return ids


def check_rule_ids(ids: Sequence[str]) -> None:
    """A ValueError naming every id that is no rule's: `select = ["no-such-rule"]` would
    report nothing, and `ignore` with a typo would report what the user meant to hide."""
    from sessguard.rules.catalog import BY_ID
    from sessguard.suggest import unknown_names

    unknown = [rule_id for rule_id in ids if rule_id not in BY_ID]
    if unknown:
        raise ValueError(unknown_names("rule id", unknown, BY_ID))


def _orders(value: Any) -> dict[str, Order]:
    if not isinstance(value, dict):
        raise TypeError('a table of qualified names to "before" or "either"')
    result: dict[str, Order] = {}
    for name, order in value.items():
        if order not in ("before", "either"):
            raise TypeError(f'"before" or "either" for {name!r}')
        result[name] = Order(order)
    return result


def _stores(value: Any) -> dict[str, Store]:
    from sessguard.frameworks import KNOWLEDGE

    if not isinstance(value, dict):
        raise TypeError('a table of framework names to "server", "cookie" or "unknown"')
    result: dict[str, Store] = {}
    for name, store in value.items():
        if name not in KNOWLEDGE.by_name:
            raise TypeError(f"a known framework name, not {name!r} ({', '.join(sorted(KNOWLEDGE.by_name))})")
        if store not in ("server", "cookie", "unknown"):
            raise TypeError(f'"server", "cookie" or "unknown" for {name!r}')
        result[name] = Store(store)
    return result


KEYS: Mapping[str, tuple[str, Callable[[Any], Any]]] = {
    "fail-on": ("fail_on", _level),
    "min-severity": ("min_severity", _level),
    "min-confidence": ("min_confidence", _level),
    "exclude": ("exclude", _strings),
    "extend-exclude": ("extend_exclude", _strings),
    "respect-gitignore": ("respect_gitignore", _bool),
    "select": ("select", _rule_ids),
    "ignore": ("ignore", _rule_ids),
    "auth-functions": ("auth_functions", _strings),
    "regenerate-functions": ("regenerate_functions", _orders),
    "identity-keys": ("identity_keys", _strings),
    "not-identity-keys": ("not_identity_keys", _strings),
    "session-store": ("session_store", _stores),
    "report-unused-suppressions": ("report_unused_suppressions", _bool),
    "max-file-size": ("max_file_bytes", _positive_int),
    "file-timeout": ("file_timeout", _positive_number),
    "follow-symlinks": ("follow_symlinks", _bool),
    "prefilter": ("prefilter", _bool),
    "include-tests": ("include_tests", _bool),
}
FIELD_KEYS = {attribute: key for key, (attribute, _) in KEYS.items()}


class LoadedConfig(msgspec.Struct, frozen=True):
    config: Config
    sources: Mapping[str, str]  # config key -> "default", a file, or a flag
    files: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()  # what was read but probably not meant (raw: render inert)

    def with_flag(self, attribute: str, value: Any, flag: str) -> LoadedConfig:
        """The configuration with a command-line flag's value, which wins over files."""
        if attribute in ("select", "ignore"):
            try:
                check_rule_ids(value)
            except ValueError as exc:
                raise ConfigError(flag, None, str(exc)) from None
        sources = dict(self.sources)
        sources[FIELD_KEYS.get(attribute, attribute)] = flag
        return replace(self, config=replace(self.config, **{attribute: value}), sources=sources)

    def extended(self, attribute: str, values: tuple[str, ...], flag: str) -> LoadedConfig:
        """The configuration with a flag's values added to a list's (`--extend-exclude`
        adds to the configured `extend-exclude`, as the key adds to `exclude`)."""
        key = FIELD_KEYS[attribute]
        before = self.sources.get(key, "default")
        sources = {**self.sources, key: flag if before == "default" else f"{before}, {flag}"}
        changes: dict[str, Any] = {attribute: (*getattr(self.config, attribute), *values)}
        config = replace(self.config, **changes)
        return replace(self, config=config, sources=sources)


def defaults() -> LoadedConfig:
    return LoadedConfig(Config(), {key: "default" for key in KEYS})


def find_config(start: Path) -> tuple[Path, bool] | None:
    """The nearest `.sessguard.toml`, or the nearest `pyproject.toml` (the project root),
    from `start` upwards. The flag says whether keys sit under `[tool.sessguard]`."""
    directory = start if _is(start, "dir") else start.parent
    directory = Path(os.path.abspath(directory))
    for candidate in (directory, *directory.parents):
        if _is(candidate / CONFIG_FILE, "file"):
            return candidate / CONFIG_FILE, False
        if _is(candidate / PYPROJECT, "file"):
            return candidate / PYPROJECT, True
    return None


def _is(path: Path, kind: str) -> bool:
    """`is_file()`/`is_dir()` that treat a directory we may not read as absent."""
    try:
        return path.is_file() if kind == "file" else path.is_dir()
    except OSError:
        return False


def read_table(
    path: Path, in_tool_section: bool, shown: str
) -> tuple[dict[str, Any] | None, tuple[str, ...]]:
    """The file's sessguard table (None: a pyproject.toml without one) and the warnings
    its other tables call for."""
    tomllib = parser()
    try:
        if path.stat().st_size > MAX_CONFIG_BYTES:
            raise ConfigError(shown, None, "configuration file larger than 1 MiB")
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(shown, None, f"cannot read: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise ConfigError(shown, None, "not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(shown, None, f"invalid TOML: {exc}") from None
    except RecursionError:
        raise ConfigError(shown, None, "invalid TOML: nested too deeply") from None
    tool = data.get("tool")
    warnings = _misspelled_tables(tool, shown) if isinstance(tool, dict) else ()
    if not in_tool_section:
        table = tool.get("sessguard", data) if isinstance(tool, dict) else data
    else:
        table = tool.get("sessguard") if isinstance(tool, dict) else None
        if table is None:
            return None, warnings  # a pyproject.toml without our section: defaults
    if not isinstance(table, dict):
        raise ConfigError(shown, "tool.sessguard", "expected a table")
    return table, warnings


def _misspelled_tables(tool: Mapping[str, Any], shown: str) -> tuple[str, ...]:
    """`[tool.sesguard]` is read by no tool: without a word, its settings would be ignored."""
    from sessguard.suggest import one_edit_apart

    return tuple(
        f"{shown}: [tool.{name}] is not read by sessguard: did you mean [tool.sessguard]?"
        for name in tool
        if name != "sessguard" and (name.lower() == "sessguard" or one_edit_apart(name.lower(), "sessguard"))
    )


def parse_table(table: Mapping[str, Any], shown: str, base: LoadedConfig) -> LoadedConfig:
    unknown = [key for key in table if key not in KEYS]
    if unknown:
        from sessguard.suggest import unknown_names

        raise ConfigError(shown, None, unknown_names("key", unknown, KEYS))
    config = base.config
    sources = dict(base.sources)
    for key, value in table.items():
        attribute, parser = KEYS[key]
        try:
            config = replace(config, **{attribute: parser(value)})
        except TypeError as exc:
            raise ConfigError(shown, key, f"expected {exc}, got {type(value).__name__} {value!r}") from None
        except ValueError as exc:
            raise ConfigError(shown, key, str(exc)) from None
        sources[key] = shown
    return replace(base, config=config, sources=sources, files=(*base.files, shown))


def load_config(
    paths: Sequence[str],
    explicit: str | None = None,
    isolated: bool = False,
    display: Callable[[Path], str] = Path.as_posix,
) -> LoadedConfig:
    """The configuration for scanning `paths`: an explicit file, else the nearest one."""
    loaded = defaults()
    if explicit is not None:
        path = Path(explicit)
        if not _is(path, "file"):
            raise ConfigError(explicit, None, "no such configuration file")
        table, warnings = read_table(path, path.name == PYPROJECT, display(path))
        return parse_table(table or {}, display(path), replace(loaded, warnings=warnings))
    if isolated:
        return loaded
    found = find_config(Path(paths[0]) if paths else Path("."))
    if found is None:
        return loaded
    path, in_tool = found
    table, warnings = read_table(path, in_tool, display(path))
    loaded = replace(loaded, warnings=warnings)
    return loaded if table is None else parse_table(table, display(path), loaded)


CONFIG_FIELDS = tuple(f.name for f in fields(Config))
