"""The unit of work of the per-file stage's pool: a file to extract, as plain data that
pickles, and the functions a worker process runs on a batch of them."""

from __future__ import annotations

import os
import time
from collections.abc import Iterable, Iterator, Sequence

from sessguard.config import Config
from sessguard.deep import in_deep_thread
from sessguard.discover import SourceFile
from sessguard.extract.facts import ExtractOptions, ModuleFacts
from sessguard.model import FileError

Result = ModuleFacts | FileError
Timed = tuple[Result, float]  # a file's result and the seconds it took


def start_methods() -> list[str]:
    from multiprocessing import get_all_start_methods

    return get_all_start_methods()


Job = tuple[str, str, str, bool, int, float, ExtractOptions, frozenset[str]]


def job_of(file: SourceFile, config: Config, options: ExtractOptions, force: frozenset[str]) -> Job:
    return (
        str(file.path),
        file.display,
        file.module,
        file.is_package,
        config.max_file_bytes,
        config.file_timeout,
        options,
        force,
    )


def batched(jobs: Sequence[Job], size: int) -> Iterator[list[Job]]:
    for start in range(0, len(jobs), size):
        yield list(jobs[start : start + size])


def timed(job: Job) -> Timed:
    from sessguard.extract.file import extract_file

    start = time.perf_counter()
    result = extract_file(*job)
    return result, time.perf_counter() - start


def work(batch: Iterable[Job]) -> list[Timed]:
    """In a worker process: a batch of files, on a deep stack."""
    return in_deep_thread(lambda: [timed(job) for job in batch])


def available_cores() -> int:
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)
