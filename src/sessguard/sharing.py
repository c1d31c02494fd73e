"""Work shared between forked workers and this process, each item done exactly once.

Every item is submitted to the workers, which take them from the front; this process takes
them from the back while no worker has started them. Who does an item is settled by a
claim: a byte per item in memory the fork shares, set under a lock the fork shares too. A
worker that finds its item claimed returns at once. No future is ever cancelled: on
Python 3.11 and earlier, a pool whose worker dies sets an exception on every pending
future and fails with a traceback on one that was cancelled (fixed in 3.12).
"""

from __future__ import annotations

import contextlib
import mmap
from collections.abc import Callable, Sequence
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

    def __init__(self, pool: Executor, claims: Claims) -> None:
        self.pool = pool
        self.claims = claims

    def shutdown(self) -> None:
        self.pool.shutdown()


def fork_pool(workers: int) -> Workers:
    """A pool of forked workers (they fork at the first submission) sharing new claims."""
    from concurrent.futures import ProcessPoolExecutor
    from multiprocessing import get_context

    global _FORKED_CLAIMS
    claims = Claims()
    _FORKED_CLAIMS = claims
    return Workers(ProcessPoolExecutor(workers, mp_context=get_context("fork")), claims)


def _claimed(task: tuple[int, Callable[[Any], Any], Any]) -> Any:
    """In a worker: the item's work, unless this process claimed it first (then None)."""
    slot, remote, item = task
    assert _FORKED_CLAIMS is not None
    if not _FORKED_CLAIMS.claim(slot):
        return None
    return remote(item)


def shared(
    workers: Workers,
    remote: Callable[[A], R],
    items: Sequence[A],
    local: Callable[[A], L],
    unpack: Callable[[R], L],
) -> list[tuple[L, bool]]:
    """`local` of each item, in order (`unpack` of `remote`'s answer when a worker did it),
    and whether a worker gave it. An item a worker failed on, or that could not be
    submitted (a worker died and the pool is broken), is done here. The first item is
    always left to the workers, so that each does its share."""
    claims = workers.claims
    if len(items) > claims.capacity:
        return [(local(item), False) for item in items]
    claims.reset(len(items))
    futures: list[Future[R | None] | None] = []
    for slot, item in enumerate(items):
        try:
            futures.append(workers.pool.submit(_claimed, (slot, remote, item)))
        except Exception:  # noqa: BLE001 - a broken pool takes nothing more
            futures.append(None)
    taken: dict[int, L] = {}
    for slot in range(len(items) - 1, 0, -1):
        if not claims.claim(slot):
            break  # a worker has it: the workers have or will have every item before it
        taken[slot] = local(items[slot])
    out: list[tuple[L, bool]] = []
    for slot, (item, future) in enumerate(zip(items, futures, strict=True)):
        if slot in taken:
            out.append((taken[slot], False))
            continue
        try:
            answer = future.result() if future is not None else None
            if answer is not None:
                out.append((unpack(answer), True))
                continue
        except Exception:  # noqa: BLE001 - what a worker failed on (or sent unreadably) is done here
            pass
        out.append((local(item), False))
    for slot in taken:  # let the workers pass over what this process took, before the next call
        future = futures[slot]
        if future is not None:
            with contextlib.suppress(Exception):
                future.result()
    return out
