"""Work shared between forked workers and this process, each item done exactly once.

Each worker is sent the items once and works through them from the front; this process
takes them from the back while no worker has started them. Who does an item is settled by
a claim: a byte per item in memory the fork shares, set under a lock the fork shares too.
A worker claims its next item itself, so it never waits for this process to hand it one
(a submission per item did: the pool's feeding thread needs the interpreter lock, which
this process holds through each long parse, and the worker sat idle meanwhile). No future
is ever cancelled: on Python 3.11 and earlier, a pool whose worker dies sets an exception
on every pending future and fails with a traceback on one that was cancelled (fixed in
3.12).
"""

from __future__ import annotations

import mmap
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from concurrent.futures import Executor, Future
    from multiprocessing.synchronize import Lock

A = TypeVar("A")
R = TypeVar("R")
L = TypeVar("L")

CAPACITY = 1 << 16  # items per call; more than that are all done here


class Claims:
    """One byte per item of the current call: 0 free, 1 taken (by a worker or by this
    process). Made before the workers are forked, so that they share it."""

    def __init__(self, capacity: int = CAPACITY) -> None:
        from multiprocessing import get_context

        self.capacity = capacity
        self.flags = mmap.mmap(-1, capacity)  # anonymous and shared with the forks
        self.lock: Lock = get_context("fork").Lock()

    def claim(self, slot: int) -> bool:
        with self.lock:
            if self.flags[slot]:
                return False
            self.flags[slot] = 1
            return True

    def reset(self, count: int) -> None:
        self.flags[:count] = bytes(count)


# the claims of the pool being forked (a worker inherits them; nothing is pickled)
_FORKED_CLAIMS: Claims | None = None


class Workers:
    """Forked workers and the claims they share with this process."""

    def __init__(self, pool: Executor, claims: Claims, size: int) -> None:
        self.pool = pool
        self.claims = claims
        self.size = size  # how many workers: each is sent the items once

    def shutdown(self) -> None:
        self.pool.shutdown()

    def each(self, function: Callable[[A], R], task: A) -> list[Future[R]]:
        """`function(task)` submitted once per worker (fewer if the pool breaks on the way:
        what no worker answers, the caller does itself)."""
        futures: list[Future[R]] = []
        for _ in range(self.size):
            try:
                futures.append(self.pool.submit(function, task))
            except Exception:  # noqa: BLE001 - a broken pool takes nothing more
                break
        return futures


def answers(futures: Sequence[Future[R]]) -> Iterator[R]:
    """The results of the futures that have one (a worker that died answers nothing)."""
    for future in futures:
        try:
            yield future.result()
        except Exception:  # noqa: BLE001 - its items are done by the caller
            continue


def fork_pool(workers: int) -> Workers:
    """A pool of forked workers (they fork at the first submission) sharing new claims."""
    from concurrent.futures import ProcessPoolExecutor
    from multiprocessing import get_context

    global _FORKED_CLAIMS
    claims = Claims()
    _FORKED_CLAIMS = claims
    return Workers(ProcessPoolExecutor(workers, mp_context=get_context("fork")), claims, workers)


def _drained(task: tuple[Callable[[Any], Any], Sequence[Any]]) -> list[tuple[int, Any]]:
    """In a worker: every item not claimed yet, claimed and done in order from the front,
    as (slot, answer) pairs; the answer is None for an item the work failed on."""
    remote, items = task
    assert _FORKED_CLAIMS is not None
    done: list[tuple[int, Any]] = []
    for slot, item in enumerate(items):
        if _FORKED_CLAIMS.claim(slot):
            try:
                done.append((slot, remote(item)))
            except Exception:  # noqa: BLE001 - this process does it again
                done.append((slot, None))
    return done


def shared(
    workers: Workers,
    remote: Callable[[A], R],
    items: Sequence[A],
    local: Callable[[A], L],
    unpack: Callable[[R], L],
) -> list[tuple[L, bool]]:
    """`local` of each item, in order (`unpack` of `remote`'s answer when a worker did it),
    and whether a worker gave it. An item a worker failed on, or that no worker reported
    (it died, or the pool is broken), is done here. The first item is always left to the
    workers, so that each does its share."""
    claims = workers.claims
    if len(items) > claims.capacity:
        return [(local(item), False) for item in items]
    claims.reset(len(items))
    futures: list[Future[list[tuple[int, R | None]]]] = workers.each(_drained, (remote, items))
    taken: dict[int, L] = {}
    for slot in range(len(items) - 1, 0, -1):
        if not claims.claim(slot):
            break  # a worker has it: the workers have or will have every item before it
        taken[slot] = local(items[slot])
    given: dict[int, R | None] = {}
    for done in answers(futures):
        given.update(done)
    out: list[tuple[L, bool]] = []
    for slot, item in enumerate(items):
        if slot in taken:
            out.append((taken[slot], False))
            continue
        answer = given.get(slot)
        if answer is not None:
            try:
                out.append((unpack(answer), True))
                continue
            except Exception:  # noqa: BLE001 - an answer that cannot be read back is done here
                pass
        out.append((local(item), False))
    return out
