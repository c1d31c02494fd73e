"""Running work on a thread with a deep stack and a raised recursion limit.

The visitors recurse as deep as the syntax tree the depth check let through, and a long
call chain recurses in the fixpoint; on a large stack a raised recursion limit cannot
overflow the C stack.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")
STACK_BYTES = 256 * 1024 * 1024
RECURSION_LIMIT = 20_000


def in_deep_thread(function: Callable[..., T], *args: Any) -> T:
    outcome: dict[str, Any] = {}

    def target() -> None:
        try:
            outcome["value"] = function(*args)
        except BaseException as exc:  # noqa: BLE001 - re-raised in the calling thread
            outcome["error"] = exc

    previous_size = threading.stack_size()
    previous_limit = sys.getrecursionlimit()
    try:
        threading.stack_size(STACK_BYTES)
        sys.setrecursionlimit(max(previous_limit, RECURSION_LIMIT))
        worker = threading.Thread(target=target, name="sessguard-deep", daemon=True)
        worker.start()
        worker.join()
    finally:
        threading.stack_size(previous_size)
        sys.setrecursionlimit(previous_limit)
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]  # type: ignore[no-any-return]
