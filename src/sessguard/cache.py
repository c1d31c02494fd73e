"""A cache of per-file facts (and of whole scans), outside the scanned tree.

Entries are JSON that msgspec writes and reads back checked against the types they decode
to (records as objects; a check in C, which an edited tree's scan does for every entry it
reuses): a corrupted, truncated or foreign entry is ignored and recomputed, never
trusted (no pickle: a cache directory another user can write to must not be a way to run
code). Keys hash the sessguard version and the stamp of its installed files (an install
from a newer commit of the same version must not reuse the older code's answers), the
options the stage depends on and the file's bytes, so an edit, an upgrade or a new
setting can never serve a stale answer. Writes are atomic (a temporary file, then a
rename), so concurrent scans at worst compute the same entry twice.
"""

from __future__ import annotations

import contextlib
import enum
import functools
import json
import os
import types
import typing
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar, Union, get_args, get_origin

import msgspec

from sessguard import __version__
from sessguard.shorthash import sha256

T = TypeVar("T")
FORMAT = 3  # 2: session reads in the facts; 3: values msgspec writes (records as objects)


def default_directory() -> Path:
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("sessguard", appauthor=False))


@functools.cache
def layout() -> str:
    """The field layout of everything the cache stores: part of every key."""
    from sessguard.extract.facts import ModuleFacts
    from sessguard.model import FileError, Report

    return schema(ModuleFacts, FileError, Report)


@functools.cache
def code_stamp() -> str:
    """The stamp of the installed package's files: an install (or an edit of a development
    checkout) changes it, a scan does not."""
    return files_stamp(Path(__file__).parent)


def files_stamp(root: Path) -> str:
    """The path, size and modification time of every code and data file under `root`,
    compiled caches left out. Stat calls only: a fraction of a millisecond."""
    parts: list[str] = []
    pending = [str(root)]
    while pending:
        with os.scandir(pending.pop()) as entries:
            for entry in entries:
                if entry.is_dir(follow_symlinks=False):
                    if entry.name != "__pycache__":
                        pending.append(entry.path)
                elif entry.name.endswith((".py", ".json", ".toml")):
                    info = entry.stat()
                    parts.append(f"{entry.path} {info.st_size} {info.st_mtime_ns}")
    return "\n".join(sorted(parts))


def stable(value: Any) -> str:
    """A text that is the same for equal values in every process (sets are sorted; `repr`
    of a set of strings changes with hash randomisation)."""
    return json.dumps(encode(value), sort_keys=True, default=repr)


def digest(*parts: str | bytes) -> str:
    hasher = sha256()  # keys are short: the built-in SHA-256, no OpenSSL to load
    for part in (__version__, str(FORMAT), layout(), code_stamp(), *parts):
        data = part.encode("utf-8", "surrogateescape") if isinstance(part, str) else part
        hasher.update(len(data).to_bytes(8, "little"))
        hasher.update(data)
    return hasher.hexdigest()


class _Entry(msgspec.Struct):
    key: str
    version: str
    value: msgspec.Raw


class _Stored(msgspec.Struct, frozen=True):
    """An entry as written: `_Entry` reads it back."""

    key: str
    version: str
    value: Any


class Cache:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.hits = 0
        self.misses = 0

    def _path(self, kind: str, key: str) -> Path:
        return self.directory / f"v{FORMAT}" / kind / key[:2] / f"{key}.json"

    def contains(self, kind: str, key: str) -> bool:
        """Whether an entry exists (it may still turn out unusable when read)."""
        return self._path(kind, key).is_file()

    def get_typed(self, kind: str, key: str, tp: Any) -> Any:
        """An entry whose value is plain JSON of type `tp`, decoded and checked in one pass
        by msgspec (the file index of a large tree is read on every warm scan)."""
        try:
            raw = self._path(kind, key).read_bytes()
            entry = msgspec.json.decode(raw, type=_Entry)
            if entry.key != key or entry.version != __version__:
                raise ValueError("foreign entry")
            value = msgspec.json.decode(entry.value, type=tp, strict=True)
        except (OSError, ValueError, msgspec.DecodeError, msgspec.ValidationError):
            value = None
        return self._counted(value)

    def _counted(self, value: T | None) -> T | None:
        if value is None:
            self.misses += 1
        else:
            self.hits += 1
        return value

    def put(self, kind: str, key: str, value: Any) -> None:
        """Store `value`: JSON's own types, or records msgspec writes in its JSON form (read
        back with `get_typed`, which checks every value's type)."""
        entry = _Stored(key, __version__, value)
        try:
            data = msgspec.json.encode(entry)
        except (TypeError, ValueError, OverflowError):
            return  # a lone surrogate in a name: that entry is computed again next time
        self._write(self._path(kind, key), data)

    def _write(self, path: Path, data: bytes) -> None:
        import tempfile  # a warm scan that writes nothing never pays for it

        temporary = None
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
            with os.fdopen(handle, "wb") as out:
                out.write(data)
            os.replace(temporary, path)
        except OSError:
            if temporary is not None:
                with contextlib.suppress(OSError):
                    os.unlink(temporary)
            # a cache that cannot be written only costs time


# -- the stable form of a value, for keys ------------------------------------------------
#
# A record is written as the list of its fields in order, sets sorted: equal values give
# the same text in every process. The field layout of every class involved is part of each
# key (`schema`), so a changed class can never be read from an older entry.

Codec = Callable[[Any], Any]
_ENCODERS: dict[Any, Codec | None] = {}


def encode(value: Any) -> Any:
    encoder = _encoder(type(value))
    return value if encoder is None else encoder(value)


def schema(*types: Any) -> str:
    """The field layout of `types` and of every record they contain."""
    seen: dict[str, str] = {}

    def visit(tp: Any) -> None:
        for arg in get_args(tp):
            visit(arg)
        if _is_record(tp):
            name = f"{tp.__module__}.{tp.__qualname__}"
            if name in seen:
                return
            hints = _hints(tp)
            seen[name] = repr([(f, repr(hints[f])) for f in _field_names(tp)])
            for f in _field_names(tp):
                visit(hints[f])
        elif isinstance(tp, type) and issubclass(tp, enum.Enum):
            seen[f"{tp.__module__}.{tp.__qualname__}"] = repr([m.value for m in tp])

    for tp in types:
        visit(tp)
    return repr(sorted(seen.items()))


def _is_record(tp: Any) -> bool:
    """The package's records are all `msgspec.Struct`s."""
    return isinstance(tp, type) and issubclass(tp, msgspec.Struct)


def _field_names(tp: type[msgspec.Struct]) -> list[str]:
    return list(tp.__struct_fields__)


def _hints(tp: type) -> dict[str, Any]:
    return typing.get_type_hints(tp)


def _encoder(tp: Any) -> Codec | None:
    """None for types JSON holds as they are."""
    if tp in _ENCODERS:
        return _ENCODERS[tp]
    _ENCODERS[tp] = None  # a recursive type refers to itself while being built
    built = _build_encoder(tp)
    _ENCODERS[tp] = built
    return built


def _build_encoder(tp: Any) -> Codec | None:
    origin = get_origin(tp)
    if tp in (str, int, bool, float, type(None)) or tp is Any:
        return None
    if origin in (Union, types.UnionType):
        return encode
    if origin is tuple or origin is list:
        args = get_args(tp)
        inner = [_encoder(a) for a in args if a is not Ellipsis]
        if all(i is None for i in inner):
            return list
        if len(args) == 2 and args[1] is Ellipsis:
            one = inner[0]
            assert one is not None
            return lambda value: [one(v) for v in value]
        return lambda value: [v if e is None else e(v) for e, v in zip(inner, value, strict=True)]
    if origin in (frozenset, set):
        inner_one = _encoder(get_args(tp)[0])
        return lambda value: sorted((v if inner_one is None else inner_one(v) for v in value), key=repr)
    if origin is dict or _is_mapping(origin):
        key_type, value_type = get_args(tp)
        k, v = _encoder(key_type), _encoder(value_type)
        return lambda value: [[a if k is None else k(a), b if v is None else v(b)] for a, b in value.items()]
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        return lambda value: value.value
    if _is_record(tp):
        return _record_encoder(tp)
    if tp in (list, tuple):
        return lambda value: [encode(v) for v in value]
    if tp in (set, frozenset):
        return lambda value: sorted((encode(v) for v in value), key=repr)
    if tp is dict:
        return lambda value: [[encode(a), encode(b)] for a, b in value.items()]
    raise TypeError(f"cannot encode {tp}")


def _record_encoder(tp: type[msgspec.Struct]) -> Codec:
    """Fields in order; each field's encoder is looked up on first use, since classes may
    refer to each other."""
    names = _field_names(tp)
    parts: list[tuple[str, Codec | None]] = []

    def encode_instance(value: Any) -> Any:
        if not parts:
            hints = _hints(tp)
            parts.extend((name, _encoder(hints[name])) for name in names)
        return [getattr(value, name) if part is None else part(getattr(value, name)) for name, part in parts]

    return encode_instance


def _is_mapping(origin: Any) -> bool:
    import collections.abc

    return origin is collections.abc.Mapping or origin is typing.Mapping
