"""A cache of per-file facts (and of whole scans), outside the scanned tree.

Entries are JSON, checked against the types they decode to: a corrupted, truncated or
foreign entry is ignored and recomputed, never trusted (no pickle: a cache directory
another user can write to must not be a way to run code). Keys hash the sessguard version,
the options the stage depends on and the file's bytes, so an edit, an upgrade or a new
setting can never serve a stale answer. Writes are atomic (a temporary file, then a
rename), so concurrent scans at worst compute the same entry twice.
"""

from __future__ import annotations

import dataclasses
import enum
import hashlib
import json
import os
import tempfile
import types
import typing
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar, Union, get_args, get_origin

from sessguard import __version__

T = TypeVar("T")
FORMAT = 1


def default_directory() -> Path:
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("sessguard", appauthor=False))


def digest(*parts: str | bytes) -> str:
    hasher = hashlib.sha256()
    for part in (__version__, str(FORMAT), *parts):
        data = part.encode("utf-8", "surrogateescape") if isinstance(part, str) else part
        hasher.update(len(data).to_bytes(8, "little"))
        hasher.update(data)
    return hasher.hexdigest()


class Cache:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.hits = 0
        self.misses = 0

    def _path(self, kind: str, key: str) -> Path:
        return self.directory / f"v{FORMAT}" / kind / key[:2] / f"{key}.json"

    def get(self, kind: str, key: str, decode: Callable[[Any], T]) -> T | None:
        try:
            raw = self._path(kind, key).read_bytes()
            entry = json.loads(raw)
            if not isinstance(entry, dict) or entry.get("key") != key or entry.get("version") != __version__:
                raise ValueError("foreign entry")
            value = decode(entry.get("value"))
        except (OSError, ValueError, TypeError, KeyError, RecursionError):
            value = None
        if value is None:
            self.misses += 1
        else:
            self.hits += 1
        return value

    def put(self, kind: str, key: str, value: Any) -> None:
        path = self._path(kind, key)
        entry = {"key": key, "version": __version__, "value": encode(value)}
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                json.dump(entry, out, separators=(",", ":"))
            os.replace(temporary, path)
        except OSError:
            return  # a cache that cannot be written only costs time


# -- a JSON codec for the package's frozen dataclasses, checked against their types ---------


def encode(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: encode(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, (tuple, list)):
        return [encode(v) for v in value]
    if isinstance(value, (set, frozenset)):
        return sorted((encode(v) for v in value), key=repr)
    if isinstance(value, dict):
        return [[encode(k), encode(v)] for k, v in value.items()]
    return value


_HINTS: dict[type, dict[str, Any]] = {}


def decode(cls: type[T], data: Any) -> T:
    """Rebuild a value of type `cls`; any mismatch raises TypeError or ValueError."""
    return typing.cast(T, _decode(cls, data))


def _decode(tp: Any, data: Any) -> Any:
    origin = get_origin(tp)
    if origin in (Union, types.UnionType):
        options = get_args(tp)
        if data is None and type(None) in options:
            return None
        for option in options:
            if option is type(None):
                continue
            try:
                return _decode(option, data)
            except (TypeError, ValueError, KeyError):
                continue
        raise TypeError(f"no type of {tp} fits {data!r:.60}")
    if origin is tuple:
        if not isinstance(data, list):
            raise TypeError("expected a list")
        args = get_args(tp)
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_decode(args[0], item) for item in data)
        if len(args) != len(data):
            raise TypeError("tuple of the wrong length")
        return tuple(_decode(a, item) for a, item in zip(args, data, strict=True))
    if origin is frozenset:
        if not isinstance(data, list):
            raise TypeError("expected a list")
        return frozenset(_decode(get_args(tp)[0], item) for item in data)
    if origin is dict or origin is typing.Mapping or _is_mapping(origin):
        key_type, value_type = get_args(tp)
        if not isinstance(data, list):
            raise TypeError("expected a list of pairs")
        return {_decode(key_type, k): _decode(value_type, v) for k, v in data}
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        return tp(data)
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        if not isinstance(data, dict):
            raise TypeError(f"expected an object for {tp.__name__}")
        hints = _HINTS.get(tp)
        if hints is None:
            hints = _HINTS[tp] = typing.get_type_hints(tp)
        fields = {f.name for f in dataclasses.fields(tp) if f.init}
        if set(data) != fields:
            raise TypeError(f"fields of {tp.__name__} differ")
        return tp(**{name: _decode(hints[name], data[name]) for name in fields})
    if tp is Any:
        return data
    if tp is float and isinstance(data, (int, float)) and not isinstance(data, bool):
        return float(data)
    if isinstance(tp, type) and isinstance(data, tp) and not (tp is int and isinstance(data, bool)):
        return data
    raise TypeError(f"expected {tp}, got {type(data).__name__}")


def _is_mapping(origin: Any) -> bool:
    import collections.abc

    return origin is collections.abc.Mapping
