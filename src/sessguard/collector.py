"""The cycle collector during a scan.

Phase 1 builds most of what a scan keeps, every wanted file's facts, and it builds no
cycle: each syntax tree is freed by reference counting once its file is done
(`tests/test_memory.py`). A collection during phase 1 could then only walk live objects,
and one after it would walk them again as they age. So the collector is off during
phase 1 (the forked workers, which live only for the scan, inherit that), and what phase 1
built is frozen afterwards: moved out of the collector's generations, so that no later
collection walks it. The scan's end gives it back, and a process that goes on (a library
user, the test suite) collects as before.

Nothing is done in a process with other threads (they may rely on the collector meanwhile)
or one that froze objects itself (giving ours back would give its own back too).
"""

from __future__ import annotations

import gc
import threading


class CollectorPause:
    """Off from its creation to `phase_one_done`; what was built by then is frozen until
    `scan_done`. Both are safe to call in any case, and more than once."""

    def __init__(self) -> None:
        self._paused = gc.isenabled() and gc.get_freeze_count() == 0 and threading.active_count() == 1
        self._frozen = False
        if self._paused:
            gc.disable()

    def phase_one_done(self) -> None:
        if self._paused:
            gc.freeze()
            gc.enable()
            self._paused, self._frozen = False, True

    def scan_done(self) -> None:
        self.phase_one_done()
        if self._frozen:
            gc.unfreeze()
            self._frozen = False
