"""What a running scan tells the person waiting for it.

On a terminal, a scan that lasts longer than about a second draws one progress line on
standard error (files done / total), erased when the scan ends; piped, redirected or with
`--quiet` it draws nothing. With `--statistics` the scan reports the time each stage took,
how the per-file stage spent its files (parsed, from the cache, never opened by the
prefilter) and the slowest files. None of this changes what the scan finds.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TextIO

SHOW_AFTER = 1.0  # seconds before a progress line appears
REDRAW_EVERY = 0.1
SLOWEST = 10


@dataclass
class Monitor:
    stream: TextIO | None = None
    stages: dict[str, float] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    file_seconds: dict[str, float] = field(default_factory=dict)
    started: float = field(default_factory=lambda: time.perf_counter())
    _drawn_at: float = 0.0
    _visible: bool = False

    @classmethod
    def for_terminal(cls, stream: TextIO, quiet: bool) -> Monitor:
        interactive = not quiet and stream.isatty() and os.environ.get("TERM") != "dumb"
        return cls(stream if interactive else None)

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            self.stages[name] = self.stages.get(name, 0.0) + time.perf_counter() - start

    def count(self, name: str, amount: int = 1) -> None:
        self.counts[name] = self.counts.get(name, 0) + amount

    def file_time(self, display: str, seconds: float) -> None:
        self.file_seconds[display] = seconds

    def progress(self, label: str, done: int, total: int) -> None:
        if self.stream is None:
            return
        now = time.perf_counter()
        if now - self.started < SHOW_AFTER or (now - self._drawn_at < REDRAW_EVERY and done < total):
            return
        self._drawn_at = now
        width = 30
        filled = width * done // total if total else width
        bar = "#" * filled + "-" * (width - filled)
        self.stream.write(f"\r\x1b[Ksessguard: {label} [{bar}] {done}/{total} files")
        self.stream.flush()
        self._visible = True

    def close(self) -> None:
        """Erase the progress line, so the report starts on a clean line."""
        if self.stream is not None and self._visible:
            self.stream.write("\r\x1b[K")
            self.stream.flush()
            self._visible = False

    def statistics(self) -> str:
        from sessguard.render.text import inert

        total = time.perf_counter() - self.started
        lines = [f"sessguard statistics: {total:.3f} s in all"]
        lines += [f"  {name:<22} {seconds:8.3f} s" for name, seconds in self.stages.items()]
        lines += [f"  {name:<22} {count:8d}" for name, count in sorted(self.counts.items())]
        slowest = sorted(self.file_seconds.items(), key=lambda item: (-item[1], item[0]))[:SLOWEST]
        if slowest:
            lines.append("  slowest files:")
            lines += [f"  {seconds:8.3f} s  {inert(display)}" for display, seconds in slowest]
        return "\n".join(lines) + "\n"
