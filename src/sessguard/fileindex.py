"""What the cache keeps of each file: what the last scan learnt from its bytes, by the
file's signature (so that a warm scan of an unchanged file never reads it), and its facts
(`StoredResult`)."""

from __future__ import annotations

import os
import stat
from typing import TYPE_CHECKING

import msgspec

from sessguard.extract.facts import ModuleFacts
from sessguard.model import FileError

if TYPE_CHECKING:
    from sessguard.cache import Cache

Signature = tuple[int, int, int, int, int]


def signature_of(path: os.PathLike[str] | str) -> Signature | None:
    try:
        info = os.stat(path, follow_symlinks=False)
    except OSError:
        return None
    if not stat.S_ISREG(info.st_mode):
        return None
    return (info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns, info.st_ctime_ns)


class FileIndex(msgspec.Struct):
    """What the last scan learnt of each file from its bytes, by the file's signature."""

    entries: dict[str, tuple[Signature, str, bool]] = msgspec.field(default_factory=dict)
    changed: bool = False

    def get(self, display: str, signature: Signature | None) -> tuple[str, bool] | None:
        entry = self.entries.get(display)
        if signature is None or entry is None or entry[0] != signature:
            return None
        return entry[1], entry[2]

    def put(self, display: str, signature: Signature, content: str, matched: bool) -> None:
        self.entries[display] = (signature, content, matched)
        self.changed = True

    @classmethod
    def load(cls, cache: Cache, key: str) -> FileIndex:
        found = cache.get_typed("index", key, dict[str, tuple[Signature, str, bool]])
        return cls(found or {})

    def save(self, cache: Cache, key: str) -> None:
        cache.put("index", key, self.entries)


class StoredResult(msgspec.Struct, frozen=True):
    """A file's result as the cache keeps it: msgspec reads it back, checking every type
    (several times quicker than a codec in Python: an edited tree reads every entry)."""

    facts: ModuleFacts | None = None
    error: FileError | None = None

    @classmethod
    def of(cls, result: ModuleFacts | FileError) -> StoredResult:
        return cls(facts=result) if isinstance(result, ModuleFacts) else cls(error=result)

    def result(self) -> ModuleFacts | FileError | None:
        return self.facts if self.facts is not None else self.error
