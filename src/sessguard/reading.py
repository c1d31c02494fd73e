"""Phase 1 of the per-file stage: each file read once, indexed and tested against the
phase-1 needles, and, on a large cold tree, spread over the machine's cores.

Reading, indexing and extracting the files phase 1 wants is most of a cold scan. On Linux,
when there is enough of it, the files are cut into chunks that forked workers and this
process share (`fork`: a worker starts in milliseconds with everything already imported;
it is done before any other thread exists, so the fork is safe). A worker also extracts
the facts of the files it found wanted, from the bytes it just read, so a wanted file is
read once in all. Results come back in the files' order: the report never depends on how
many processes ran. A worker that fails only costs its chunks being read here.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import sys
import threading
from collections.abc import Callable, Sequence
from itertools import pairwise
from typing import TYPE_CHECKING

import msgspec
from msgspec.structs import replace

from sessguard.deep import in_deep_thread
from sessguard.discover import SourceFile
from sessguard.extract.facts import ModuleFacts
from sessguard.jobs import Timed
from sessguard.model import FileError
from sessguard.needles import CallerNeedles, Needles, indexed
from sessguard.oversized import read_oversized
from sessguard.source import read

if TYPE_CHECKING:
    from concurrent.futures import Future

    from sessguard.extract.facts import ExtractOptions
    from sessguard.sharing import Workers

# less than this to read is quicker here than with workers to start and results to ship
PARALLEL_BELOW_BYTES = 4 << 20
# chunks per process: small enough that the processes finish close together
CHUNKS_PER_PROCESS = 64


class Read(msgspec.Struct, frozen=True):
    """What one read of a file gave: its content hash (for the cache), its word index (none,
    `UNINDEXED`, when phase 1 wants it by its commonest needle), whether phase 1 wants it,
    and its facts when a worker extracted them on the way."""

    content: str
    words: bytes
    matched: bool
    facts: ModuleFacts | None = None
    failed: FileError | None = None  # what extracting it on the way gave instead of facts
    seconds: float = 0.0  # the extraction's time
    oversized: bool = False  # over the size limit: read only to search it (`oversized`)

    @property
    def extracted(self) -> Timed | None:
        result = self.facts or self.failed
        return None if result is None else (result, self.seconds)


class _Sent(msgspec.Struct, frozen=True, array_like=True):
    """One file's read as a worker sends it: msgspec writes and reads it in C, many times
    quicker than pickle on nested records."""

    read: Read | None
    error: FileError | None


class Reader(msgspec.Struct, frozen=True):
    """Everything a read needs, so that a forked worker has it without being sent it."""

    first: Needles
    max_bytes: int
    file_timeout: float
    options: ExtractOptions
    digest: Callable[[bytes], str]
    # the facts a file would get from the cache (then nothing is extracted), by file and content
    cached: Callable[[SourceFile, str], bool]
    extract: bool  # extract wanted files on the way (the cold, prefiltered scan)
    # index even a file phase 1 wants (a test module read late is judged by its words)
    index_wanted: bool = False

    def one(self, file: SourceFile) -> Read | FileError:
        data = read(str(file.path), file.display, self.max_bytes)
        oversized = isinstance(data, FileError) and data.kind == "too-large"
        if oversized:
            data = read_oversized(file)
        if isinstance(data, FileError):
            return data
        content = self.digest(data)
        if not self.index_wanted and self.first.wants_at_once(data):
            # a file phase 1 wants is parsed, and later rounds match only the files that
            # are not: its index would never be looked at, so none is built
            words, matched = UNINDEXED, True
        else:
            words, present = indexed(data)
            matched = self.first.match_indexed(words, present)
        if self.extract and matched and not oversized and not self.cached(file, content):
            result, seconds = _extracted(self, file, data)
            facts, failed = (result, None) if isinstance(result, ModuleFacts) else (None, result)
            return Read(content, words, matched, facts, failed, seconds)
        return Read(content, words, matched, oversized=oversized)

    def many(self, files: Sequence[SourceFile]) -> list[Read | FileError]:
        return [self.one(file) for file in files]


def _extracted(reader: Reader, file: SourceFile, data: bytes) -> Timed:
    import time

    from sessguard.extract.file import extract_bytes

    start = time.perf_counter()
    result = extract_bytes(
        data, file.display, file.module, file.is_package, reader.file_timeout, reader.options
    )
    return result, time.perf_counter() - start


UNINDEXED = b""  # the index of a file phase 1 wants: never looked at (`Reader.one`)
UNHASHED = "-"  # without a cache nothing compares contents: the bytes are not hashed


def unhashed(data: bytes) -> str:
    return UNHASHED


def content_hash(data: bytes) -> str:
    import hashlib

    return hashlib.sha256(data).hexdigest()


def can_fork() -> bool:
    """Forked workers only where `fork` is the platform's way (Linux) and no other thread
    runs: a fork copies only the calling thread, and locks the others hold would stay held."""
    return sys.platform.startswith("linux") and threading.active_count() == 1


# the reader of the scan that forked (a worker inherits it; nothing is pickled to send it)
_FORKED: tuple[Reader, Sequence[SourceFile], str] | None = None
# in a worker: the word index of each file it read, by the file's place in phase 1's list
# (emptied before the fork, so that a worker holds only what it read itself)
_HELD: dict[int, bytes] = {}


def _in_worker(indexes: range) -> str:
    """A chunk's reads, written to a file of the scan's private spool directory: a worker
    that sent them down the pipe would wait whenever this process is busy in a long parse
    (which holds the interpreter lock, so nothing here reads the pipe)."""
    assert _FORKED is not None
    reader, files, spool = _FORKED
    reads = in_deep_thread(reader.many, [files[i] for i in indexes])
    _HELD.update((i, r.words) for i, r in zip(indexes, reads, strict=True) if isinstance(r, Read))
    name = os.path.join(spool, f"{indexes.start}{_SPOOLED}")
    # written under another name, then renamed: a file with the final name is whole
    with open(name + ".part", "wb") as out:
        out.write(spooled(reads))
    os.replace(name + ".part", name)
    return name


def spooled(reads: list[Read | FileError]) -> bytes | bytearray:
    """A chunk's reads as a worker writes them: MessagePack, read back in C many times
    quicker than a pickle; a pickle when MessagePack cannot hold them (a string literal
    with a lone surrogate, `"\\ud800"`, has no UTF-8), rather than leaving the whole chunk
    to be read again here."""
    sent = [_Sent(None, r) if isinstance(r, FileError) else _Sent(r, None) for r in reads]
    buffer = bytearray(_MSGPACK)
    try:
        _ENCODER.encode_into(sent, buffer, 1)
    except UnicodeEncodeError:
        return _PICKLE + pickle.dumps(reads, protocol=pickle.HIGHEST_PROTOCOL)
    return buffer


def unspooled(data: bytes | bytearray) -> list[Read | FileError]:
    """`spooled`'s reads back (the spool is this scan's own private directory)."""
    if data[:1] == _PICKLE:
        found = pickle.loads(data[1:])
        if not isinstance(found, list) or not all(isinstance(r, (Read, FileError)) for r in found):
            raise ValueError("a worker sent something else than reads")
        return found
    if data[:1] != _MSGPACK:
        raise ValueError("a worker sent a chunk in no known form")
    received: list[Read | FileError] = []
    for sent in msgspec.msgpack.decode(memoryview(data)[1:], type=list[_Sent]):
        if sent.read is not None:
            received.append(sent.read)
        elif sent.error is not None:
            received.append(sent.error)
        else:
            raise ValueError("a worker sent neither a read nor an error")
    return received


def _received(name: str) -> list[Read | FileError]:
    with open(name, "rb") as spool:
        return unspooled(spool.read())


_ENCODER = msgspec.msgpack.Encoder()
_SPOOLED = ".spooled"
_MSGPACK, _PICKLE = b"M", b"P"  # the first byte of a spooled chunk: its form


class Received:
    """The chunks a worker wrote to the spool, read back between this process's own chunks
    (`ready`) rather than all at its end: while this process reads them the worker takes
    more chunks, where afterwards it would wait. `take` gives a chunk's reads, read back
    then if they were not yet."""

    def __init__(self, spool: str) -> None:
        self.spool = spool
        self.early: dict[str, list[Read | FileError]] = {}

    def ready(self) -> None:
        try:
            names = [e.path for e in os.scandir(self.spool) if e.name.endswith(_SPOOLED)]
        except OSError:
            return
        for name in names:
            if name not in self.early:
                try:
                    self.early[name] = _received(name)
                except Exception:  # noqa: BLE001 - `take` meets it again, and the chunk is done here
                    continue

    def take(self, name: str) -> list[Read | FileError]:
        found = self.early.pop(name, None)
        return found if found is not None else _received(name)


class PhaseOne(msgspec.Struct):
    """Each file's read, in the order of the files; which of them workers read (by place);
    and the forked workers themselves, kept for the later rounds (None when none ran).
    Whoever receives the workers shuts them down."""

    reads: list[Read | FileError]
    by_workers: frozenset[int] = frozenset()
    workers: Workers | None = None

    @property
    def in_workers(self) -> int:
        return len(self.by_workers)


def _held_matches(task: tuple[CallerNeedles, frozenset[int]]) -> tuple[list[int], list[int]]:
    """In a worker: the places of the files whose indexes it holds (but for `skip`: those
    parsed when it was asked), and of those that the names match."""
    names, skip = task
    held = [i for i in _HELD if i not in skip]
    return held, [i for i in held if names.match_index(_HELD[i])]


class HeldMatches:
    """Every worker asked to match names against the indexes it kept from phase 1, while
    this process matches the files it read itself; `collect` then gives the places the
    answers cover and those they match. A file no answer covers (its worker died, or one
    worker took two of the questions) is matched by the caller from its own copy."""

    def __init__(self, workers: Workers, names: CallerNeedles, skip: frozenset[int]) -> None:
        self.futures: list[Future[tuple[list[int], list[int]]]] = workers.each(_held_matches, (names, skip))

    def collect(self) -> tuple[set[int], set[int]]:
        from sessguard.sharing import answers

        covered: set[int] = set()
        matched: set[int] = set()
        for held, found in answers(self.futures):
            covered.update(held)
            matched.update(found)
        return covered, matched


def read_all(reader: Reader, files: Sequence[SourceFile], sizes: Sequence[int], jobs: int) -> PhaseOne:
    """Read every file. Wanted files are extracted on the way only when workers share the
    reading (otherwise the rounds extract them as before)."""
    spread = jobs > 1 and sum(sizes) >= PARALLEL_BELOW_BYTES
    chunks = _chunks(sizes, jobs * CHUNKS_PER_PROCESS) if spread else []
    if len(chunks) < 2 or not can_fork():
        return PhaseOne(replace(reader, extract=False).many(files))
    import tempfile

    global _FORKED
    results: dict[int, Read | FileError] = {}
    try:
        spool = tempfile.mkdtemp(prefix="sessguard-")
    except OSError:  # no temporary directory to spool to: one process reads it all
        return PhaseOne(replace(reader, extract=False).many(files))
    _FORKED = (reader, files, spool)
    _HELD.clear()
    try:
        by_workers, workers = _read_chunks(reader, files, chunks, jobs - 1, results, Received(spool))
    finally:
        _FORKED = None
        _remove(spool)
    return PhaseOne([results[i] for i in range(len(files))], by_workers, workers)


def _read_chunks(
    reader: Reader,
    files: Sequence[SourceFile],
    chunks: list[range],
    workers: int,
    results: dict[int, Read | FileError],
    received: Received,
) -> tuple[frozenset[int], Workers | None]:
    """The workers take the chunks from the front, this process takes them from the back
    while they are still waiting (`sharing.shared`): the files that phase 1 wants cost far
    more than the others, and no split made before reading could know which those are.
    Whatever a worker could not do (it could not start, or died) is done here. Gives the
    places of the files workers read, and the workers when they are still sound."""

    from sessguard.sharing import fork_pool, shared

    def here(chunk: range) -> list[Read | FileError]:
        reads = reader.many([files[i] for i in chunk])
        received.ready()
        return reads

    by_workers: set[int] = set()
    pool: Workers | None = None
    try:
        pool = fork_pool(workers)
        done = in_deep_thread(shared, pool, _in_worker, chunks, here, received.take)
        for chunk, (reads, by_worker) in zip(chunks, done, strict=True):
            results.update(zip(chunk, reads, strict=True))
            if by_worker:
                by_workers.update(chunk)
    except OSError:  # no worker could be started
        pass
    except BaseException:
        if pool is not None:
            pool.shutdown()
        raise
    for chunk in chunks:
        if len(chunk) and chunk[0] not in results:
            results.update(zip(chunk, in_deep_thread(here, chunk), strict=True))
    if pool is not None and not by_workers:
        pool.shutdown()  # no worker did anything: none is sound
        pool = None
    return frozenset(by_workers), pool


def _remove(spool: str) -> None:
    with contextlib.suppress(OSError):
        for name in os.listdir(spool):
            os.unlink(os.path.join(spool, name))
        os.rmdir(spool)


def _chunks(sizes: Sequence[int], count: int) -> list[range]:
    """`sizes`' indexes in at most `count` consecutive chunks of about equal total size."""
    total = sum(sizes)
    if not sizes or count < 2:
        return [range(len(sizes))]
    bounds = [0]
    running, target = 0, total / count
    for index, size in enumerate(sizes):
        running += size
        if running >= target * len(bounds) and index + 1 < len(sizes):
            bounds.append(index + 1)
    bounds.append(len(sizes))
    return [range(a, b) for a, b in pairwise(bounds) if b > a]
