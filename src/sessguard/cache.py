"""A cache of per-file facts (and of whole scans), outside the scanned tree.

Entries are JSON, checked against the types they decode to: a corrupted, truncated or
foreign entry is ignored and recomputed, never trusted (no pickle: a cache directory
another user can write to must not be a way to run code). Keys hash the sessguard version,
the options the stage depends on and the file's bytes, so an edit, an upgrade or a new
setting can never serve a stale answer. Writes are atomic (a temporary file, then a
rename), so concurrent scans at worst compute the same entry twice.
"""

from __future__ import annotations

import contextlib
import dataclasses
import enum
import functools
import hashlib
import json
import os
import tempfile
import types
import typing
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar, Union, get_args, get_origin

import msgspec

from sessguard import __version__

T = TypeVar("T")
FORMAT = 2


def default_directory() -> Path:
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("sessguard", appauthor=False))


@functools.cache
def layout() -> str:
    """The field layout of everything the cache stores: part of every key."""
    from sessguard.extract.facts import ModuleFacts
    from sessguard.model import FileError, Report

    return schema(ModuleFacts, FileError, Report)


def stable(value: Any) -> str:
    """A text that is the same for equal values in every process (sets are sorted; `repr`
    of a set of strings changes with hash randomisation)."""
    return json.dumps(encode(value), sort_keys=True, default=repr)


def digest(*parts: str | bytes) -> str:
    hasher = hashlib.sha256()
    for part in (__version__, str(FORMAT), layout(), *parts):
        data = part.encode("utf-8", "surrogateescape") if isinstance(part, str) else part
        hasher.update(len(data).to_bytes(8, "little"))
        hasher.update(data)
    return hasher.hexdigest()


class _Entry(msgspec.Struct):
    key: str
    version: str
    value: msgspec.Raw


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
        return self._counted(value)

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
        """Store `value`, already in JSON's terms (see `encode`)."""
        path = self._path(kind, key)
        entry = {"key": key, "version": __version__, "value": value}
        text = json.dumps(entry, separators=(",", ":"))
        temporary = None
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                out.write(text)
            os.replace(temporary, path)
        except OSError:
            if temporary is not None:
                with contextlib.suppress(OSError):
                    os.unlink(temporary)
            # a cache that cannot be written only costs time


# -- a JSON codec for the package's frozen dataclasses, checked against their types ---------
#
# A dataclass is written as the list of its fields in order (no names: entries are smaller
# and quicker to read). Each type's encoder and decoder is built once from its hints; the
# decoder checks every value's type, so an entry can only ever produce well-typed facts.
# The field layout of every class involved is part of each key (`schema`), so a changed
# class can never be read from an older entry.

Codec = Callable[[Any], Any]
_ENCODERS: dict[Any, Codec | None] = {}
_DECODERS: dict[Any, Codec] = {}


def encode(value: Any) -> Any:
    encoder = _encoder(type(value))
    return value if encoder is None else encoder(value)


def decode(cls: type[T] | Any, data: Any) -> T:
    """Rebuild a value of type `cls`; any mismatch raises TypeError or ValueError."""
    return typing.cast(T, _decoder(cls)(data))


def schema(*types: Any) -> str:
    """The field layout of `types` and of every dataclass they contain."""
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
    """A dataclass, or a `msgspec.Struct` (the facts and the report: quick to create)."""
    return isinstance(tp, type) and (dataclasses.is_dataclass(tp) or hasattr(tp, "__struct_fields__"))


def _field_names(tp: type) -> list[str]:
    struct_fields: tuple[str, ...] | None = getattr(tp, "__struct_fields__", None)
    if struct_fields is not None:
        return list(struct_fields)
    return [f.name for f in dataclasses.fields(tp)]


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
        return _dataclass_encoder(tp)
    if tp in (list, tuple):
        return lambda value: [encode(v) for v in value]
    if tp in (set, frozenset):
        return lambda value: sorted((encode(v) for v in value), key=repr)
    if tp is dict:
        return lambda value: [[encode(a), encode(b)] for a, b in value.items()]
    raise TypeError(f"cannot encode {tp}")


def _dataclass_encoder(tp: type) -> Codec:
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


def _decoder(tp: Any) -> Codec:
    found = _DECODERS.get(tp)
    if found is None:
        holder: list[Codec] = []
        _DECODERS[tp] = lambda data: holder[0](data)  # recursion while building
        built = _build_decoder(tp)
        holder.append(built)
        _DECODERS[tp] = found = built
    return found


def _exact(tp: type) -> Codec:
    def check(data: Any) -> Any:
        if type(data) is not tp:
            raise TypeError(f"expected {tp.__name__}, got {type(data).__name__}")
        return data

    return check


def _build_decoder(tp: Any) -> Codec:
    origin = get_origin(tp)
    if tp is Any:
        return lambda data: data
    if tp is float:
        return lambda data: float(_number(data))
    if tp in (str, int, bool):
        return _exact(tp)
    if tp is type(None):
        return _none
    if origin in (Union, types.UnionType):
        return _union_decoder(get_args(tp))
    if origin is tuple:
        args = get_args(tp)
        if len(args) == 2 and args[1] is Ellipsis:
            one = _decoder(args[0])
            return lambda data: tuple(one(item) for item in _list(data))
        many = [_decoder(a) for a in args]

        def fixed(data: Any) -> Any:
            items = _list(data)
            if len(items) != len(many):
                raise TypeError("tuple of the wrong length")
            return tuple(d(item) for d, item in zip(many, items, strict=True))

        return fixed
    if origin in (frozenset, set):
        one = _decoder(get_args(tp)[0])
        return lambda data: frozenset(one(item) for item in _list(data))
    if origin is dict or _is_mapping(origin):
        key_type, value_type = get_args(tp)
        k, v = _decoder(key_type), _decoder(value_type)
        return lambda data: {k(pair[0]): v(pair[1]) for pair in (_pair(p) for p in _list(data))}
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        return tp
    if _is_record(tp):
        return _dataclass_decoder(tp)
    raise TypeError(f"cannot decode {tp}")


def _dataclass_decoder(tp: type) -> Codec:
    """Fields in order, each checked. An instance without slots is filled in directly
    (quicker than its `__init__`); these classes have no `__post_init__` that reading back
    would need to run (asserted here)."""
    if hasattr(tp, "__post_init__"):
        raise TypeError(f"{tp.__name__} cannot be rebuilt field by field")
    slotted = hasattr(tp, "__slots__")
    hints = _hints(tp)
    names = _field_names(tp)
    plain = {str, int, bool}
    parts: list[tuple[str, type | None, Codec]] = [
        (name, hints[name] if hints[name] in plain else None, _decoder(hints[name])) for name in names
    ]
    size = len(parts)

    def build(data: Any) -> Any:
        if type(data) is not list or len(data) != size:
            raise TypeError(f"expected the {size} fields of {tp.__name__}")
        values = {}
        for (name, exact, part), item in zip(parts, data, strict=True):
            if exact is None:
                values[name] = part(item)
            elif type(item) is exact:
                values[name] = item
            else:
                raise TypeError(f"{tp.__name__}.{name}: expected {exact.__name__}")
        if slotted:
            return tp(**values)
        instance: Any = object.__new__(tp)
        instance.__dict__.update(values)
        return instance

    return build


def _union_decoder(options: tuple[Any, ...]) -> Codec:
    real = [o for o in options if o is not type(None)]
    nullable = len(real) != len(options)
    decoders = [_decoder(o) for o in real]

    def pick(data: Any) -> Any:
        if data is None and nullable:
            return None
        for decoder in decoders:
            try:
                return decoder(data)
            except (TypeError, ValueError, KeyError, IndexError):
                continue
        raise TypeError(f"no type of {options} fits")

    return pick


def _none(data: Any) -> None:
    if data is not None:
        raise TypeError("expected null")


def _number(data: Any) -> int | float:
    if type(data) not in (int, float):
        raise TypeError("expected a number")
    return typing.cast(int | float, data)


def _list(data: Any) -> list[Any]:
    if type(data) is not list:
        raise TypeError("expected a list")
    return data


def _pair(data: Any) -> list[Any]:
    items = _list(data)
    if len(items) != 2:
        raise TypeError("expected a pair")
    return items


def _is_mapping(origin: Any) -> bool:
    import collections.abc

    return origin is collections.abc.Mapping or origin is typing.Mapping
