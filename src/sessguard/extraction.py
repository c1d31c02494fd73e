"""The extraction side of the per-file stage: each file's facts from the cache, from phase
1's forked workers, from a pool of worker processes, or from this process for small
batches. Which files to extract is `perfile.Stage`'s question; the answer never depends
on which of these gave the facts.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING

import msgspec

from sessguard.config import Config
from sessguard.discover import SourceFile
from sessguard.extract.facts import ExtractOptions
from sessguard.fileindex import StoredResult
from sessguard.jobs import Job, Result, Timed, batched, job_of, start_methods, timed, work
from sessguard.model import FileError
from sessguard.monitor import Monitor
from sessguard.needles import Needles, first_needles

if TYPE_CHECKING:
    from concurrent.futures import Executor
    from multiprocessing.context import BaseContext

    from sessguard.cache import Cache
    from sessguard.sharing import Workers

# errors raised before a file's bytes could be searched: always reported
UNJUDGED = frozenset({"too-large", "not-regular", "permission", "unreadable", "not-found", "symlink-loop"})
# results that depend on the moment, not on the bytes: never cached
UNCACHED = frozenset({"timeout", "internal"}) | UNJUDGED
# errors of files whose bytes show they cannot matter: skipped and counted, never errors
# (a too-large file's bytes are read for that, up to `oversized.JUDGED_UP_TO`)
SKIPPABLE = frozenset({"too-large", "timeout"})
# less source than this is quicker to extract here than to ship to worker processes
# (starting them costs about as much as extracting half a megabyte of matched files)
POOL_BELOW_BYTES = 1 << 20
BATCH = 16


class Extracted(msgspec.Struct):
    """The per-file stage's results: each file's facts or error, and the counts reported."""

    results: dict[SourceFile, Result] = msgspec.field(default_factory=dict)
    errors: list[FileError] = msgspec.field(default_factory=list)
    hashes: dict[SourceFile, str] = msgspec.field(default_factory=dict)
    parsed: int = 0
    from_cache: int = 0
    skipped: Counter[str] = msgspec.field(default_factory=Counter)  # by error kind (SKIPPABLE)


class Extraction(msgspec.Struct, dict=True):
    """What extracting needs and keeps: the files and options, the cache, the processes,
    and the functions each round asked for."""

    files: Sequence[SourceFile]
    config: Config
    options: ExtractOptions
    cache: Cache | None = None
    jobs: int = 1
    first: Needles = msgspec.field(default_factory=lambda: first_needles(()))
    monitor: Monitor = msgspec.field(default_factory=Monitor)
    # test modules (SPEC §2): never roots, so parsed only when code that can matter
    # imports from them
    tests: frozenset[str] = frozenset()
    out: Extracted = msgspec.field(default_factory=Extracted)
    # functions a round asked for that the file's facts skipped (`extract.lazy`)
    force: dict[SourceFile, frozenset[str]] = msgspec.field(default_factory=dict)
    sizes: dict[SourceFile, int] = msgspec.field(default_factory=dict)
    _pool: Executor | None = None
    # phase 1's forked workers, when they ran: they start nothing and have everything loaded
    _forked: Workers | None = None
    # facts phase 1 extracted from the bytes it read (`reading`), taken by the first round
    _early: dict[SourceFile, Timed] = msgspec.field(default_factory=dict)

    def _key(self, file: SourceFile, content: str) -> str:
        from sessguard.cache import digest, stable

        config = self.config
        return digest(
            content,
            file.display,
            file.module,
            str(file.is_package),
            stable(self.options),
            str(config.max_file_bytes),
            str(config.file_timeout),
            stable(sorted(self.force.get(file, ()))),
        )

    def _extract(self, files: Sequence[SourceFile], out: Extracted) -> None:
        todo = []
        early: list[tuple[SourceFile, Timed]] = []
        for file in files:
            content = out.hashes.get(file, "")
            cached: Result | None = None
            if file in self._early and not self.force.get(file):
                early.append((file, self._early.pop(file)))
                continue
            if self.cache and content:
                stored = self.cache.get_typed("facts", self._key(file, content), StoredResult)
                cached = stored.result() if stored is not None else None
            if cached is not None:
                out.results[file] = cached
                out.from_cache += 1
            else:
                todo.append(file)
        total = out.parsed + len(early) + len(todo)
        for file, (result, seconds) in [*early, *zip(todo, self._compute(todo), strict=True)]:
            out.results[file] = result
            out.parsed += 1
            self.monitor.file_time(file.display, seconds)
            self.monitor.progress("analysing", out.parsed, total)
            content = out.hashes.get(file, "")
            if self.cache and content and not (isinstance(result, FileError) and result.kind in UNCACHED):
                self.cache.put("facts", self._key(file, content), StoredResult.of(result))

    def _compute(self, files: Sequence[SourceFile]) -> Iterator[Timed]:
        """Each file's result and the seconds it took, in the order of `files`."""
        jobs = [job_of(f, self.config, self.options, self.force.get(f, frozenset())) for f in files]
        if self._forked is not None and len(jobs) > 1:
            # phase 1's forked workers are still there: they share the round with this process
            from sessguard.sharing import shared

            for result, _ in shared(self._forked, work, [[job] for job in jobs], _here, _first):
                yield result
            return
        size = sum(self.sizes.get(f, 0) for f in files)
        if self.jobs <= 1 or (self._pool is None and size < POOL_BELOW_BYTES):
            yield from map(timed, jobs)
            return
        for batch in self._workers().map(work, batched(jobs, BATCH)):
            yield from batch

    def _workers(self) -> Executor:
        """One pool for all the rounds of a scan: starting workers costs more than a round."""
        if self._pool is None:
            from concurrent.futures import ProcessPoolExecutor
            from multiprocessing import get_context

            context: BaseContext
            if "forkserver" in start_methods():
                server = get_context("forkserver")
                server.set_forkserver_preload(["sessguard.jobs", "sessguard.extract.file"])
                context = server
            else:
                context = get_context("spawn")
            self._pool = ProcessPoolExecutor(max_workers=self.jobs, mp_context=context)
        return self._pool

    def close(self) -> None:
        """Stop the workers (idempotent; a scan whose report came from the cache after
        phase 1 calls it too)."""
        if self._pool is not None:
            self._pool.shutdown(cancel_futures=True)
        if self._forked is not None:
            self._forked.shutdown()
        self._pool = self._forked = None


def _here(batch: list[Job]) -> Timed:
    return timed(batch[0])


def _first(results: list[Timed]) -> Timed:
    return results[0]
