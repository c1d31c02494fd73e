"""Phase 1 of the per-file stage: each file read once, indexed and tested against the
phase-1 needles, and, on a large cold tree, spread over the machine's cores.

Reading, indexing and extracting the files phase 1 wants is most of a cold scan. On Linux,
when there is enough of it, the files are split by size between this process and forked
workers (`fork`: a worker starts in milliseconds with everything already imported; it is
done before any other thread exists, so the fork is safe). A worker also extracts the
facts of the files it found wanted, from the bytes it just read, so a wanted file is read
once in all. Results come back in the files' order: the report never depends on how
many processes ran. A worker that fails only costs its share being done here.
"""

from __future__ import annotations

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
from sessguard.model import FileError
from sessguard.needles import Needles, words_of
from sessguard.oversized import read_oversized
from sessguard.source import read

if TYPE_CHECKING:
    from sessguard.extract.facts import ExtractOptions

# less than this to read is quicker here than with workers to start and results to ship
PARALLEL_BELOW_BYTES = 4 << 20
# chunks per process: small enough that the processes finish close together
CHUNKS_PER_PROCESS = 16

Result = ModuleFacts | FileError
Timed = tuple[Result, float]


class Read(msgspec.Struct, frozen=True):
    """What one read of a file gave: its content hash (for the cache), its word index, whether
    phase 1 wants it, and its facts when a worker extracted them on the way."""

    content: str
    words: bytes
    matched: bool
    facts: Timed | None = None
    oversized: bool = False  # over the size limit: read only to search it (`oversized`)


class Reader(msgspec.Struct, frozen=True):
    """Everything a read needs, so that a forked worker has it without being sent it."""

    first: Needles
    max_bytes: int
    file_timeout: float
    options: ExtractOptions
    tests: frozenset[str]
    digest: Callable[[bytes], str]
    # the facts a file would get from the cache (then nothing is extracted), by file and content
    cached: Callable[[SourceFile, str], bool]
    extract: bool  # extract wanted files on the way (the cold, prefiltered scan)

    def one(self, file: SourceFile) -> Read | FileError:
        data = read(str(file.path), file.display, self.max_bytes)
        oversized = isinstance(data, FileError) and data.kind == "too-large"
        if oversized:
            data = read_oversized(file)
        if isinstance(data, FileError):
            return data
        content = self.digest(data)
        words = words_of(data)
        matched = self.first.match_index(words)
        facts = None
        if (
            self.extract
            and matched
            and not oversized
            and file.module not in self.tests
            and not self.cached(file, content)
        ):
            facts = _extracted(self, file, data)
        return Read(content, words, matched, facts, oversized)

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
_FORKED: tuple[Reader, Sequence[SourceFile]] | None = None


def _in_worker(indexes: range) -> list[Read | FileError]:
    assert _FORKED is not None
    reader, files = _FORKED
    return in_deep_thread(reader.many, [files[i] for i in indexes])


def read_all(
    reader: Reader, files: Sequence[SourceFile], sizes: Sequence[int], jobs: int
) -> tuple[list[Read | FileError], int]:
    """Each file's read, in the order of `files`, and how many of them workers read.
    Wanted files are extracted on the way only when workers share the reading (otherwise
    the rounds extract them as before)."""
    chunks = (
        _chunks(sizes, jobs * CHUNKS_PER_PROCESS) if jobs > 1 and sum(sizes) >= PARALLEL_BELOW_BYTES else []
    )
    if len(chunks) < 2 or not can_fork():
        return replace(reader, extract=False).many(files), 0
    global _FORKED
    _FORKED = (reader, files)
    results: dict[int, Read | FileError] = {}
    try:
        in_workers = _read_chunks(reader, files, chunks, jobs - 1, results)
    finally:
        _FORKED = None
    return [results[i] for i in range(len(files))], in_workers


def _read_chunks(
    reader: Reader,
    files: Sequence[SourceFile],
    chunks: list[range],
    workers: int,
    results: dict[int, Read | FileError],
) -> int:
    """The workers take the chunks from the front, this process takes them from the back
    while they are still waiting (a waiting task can be cancelled): the files that phase 1
    wants cost far more than the others, and no split made before reading could know
    which those are. Whatever a worker could not do (it could not start, or died) is done
    here. Gives the number of files workers read."""
    from concurrent.futures import Future, ProcessPoolExecutor
    from multiprocessing import get_context

    def here(chunk: range) -> None:
        results.update(zip(chunk, in_deep_thread(reader.many, [files[i] for i in chunk]), strict=True))

    in_workers = 0
    futures: list[Future[list[Read | FileError]]] = []
    try:
        with ProcessPoolExecutor(workers, mp_context=get_context("fork")) as pool:
            futures = [pool.submit(_in_worker, chunk) for chunk in chunks]
            # the first chunk is always a worker's: every fork does its share
            for chunk, future in zip(reversed(chunks[1:]), reversed(futures[1:]), strict=True):
                if not future.cancel():
                    break  # a worker has it: every chunk before it is a worker's too
                here(chunk)
            for chunk, future in zip(chunks, futures, strict=True):
                if future.cancelled():
                    continue
                try:
                    results.update(zip(chunk, future.result(), strict=True))
                    in_workers += len(chunk)
                except Exception:  # noqa: BLE001 - a failed worker's chunk is read here
                    here(chunk)
    except OSError:  # no worker could be started
        pass
    for chunk in chunks:
        if len(chunk) and chunk[0] not in results:
            here(chunk)
    return in_workers


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
