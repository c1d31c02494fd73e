"""What a running scan tells the person waiting for it.

On a terminal, a scan that lasts longer than about a second draws one progress line on
standard error (files done / total, per phase and per prefilter round, so that a total
never grows while it is counted), erased when the scan ends; piped, redirected or with
`--quiet` it draws nothing. With `--statistics` the scan reports the time each stage took,
how the per-file stage spent its files (parsed, from the cache, never opened by the
prefilter) and the slowest files. None of this changes what the scan finds.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TextIO

import msgspec

SHOW_AFTER = 1.0  # seconds before a progress line appears
REDRAW_EVERY = 0.1
SLOWEST = 10


class Phase(msgspec.Struct, frozen=True):
    """What the progress line counts: a label, its round, and the running count at which
    the round began and at which it will end."""

    label: str
    round: int
    start: int
    total: int

    def next(self, label: str, total: int) -> Phase:
        """The phase a progress report belongs to: this one, a new round of it (the same
        label with a larger total), or a new phase."""
        if label != self.label or total < self.total:
            return Phase(label, 1, 0, total)
        if total > self.total:
            return Phase(label, self.round + 1, self.total, total)
        return self


class Monitor(msgspec.Struct):
    stream: TextIO | None = None
    stages: dict[str, float] = msgspec.field(default_factory=dict)
    counts: dict[str, int] = msgspec.field(default_factory=dict)
    file_seconds: dict[str, float] = msgspec.field(default_factory=dict)
    started: float = msgspec.field(default_factory=lambda: time.perf_counter())
    _drawn_at: float = 0.0
    _visible: bool = False
    _phase: Phase = msgspec.field(default_factory=lambda: Phase("", 0, 0, 0))

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
        """Draw `done` of `total` files of a phase. The per-file stage reports its rounds
        with one running count whose total grows as each round adds the files the last
        one asked for; each round is shown as a phase of its own, whose total is known
        when it starts and never moves."""
        if self.stream is None:
            return
        phase = self._phase.next(label, total)
        self._phase = phase
        now = time.perf_counter()
        if now - self.started < SHOW_AFTER or (now - self._drawn_at < REDRAW_EVERY and done < total):
            return
        self._drawn_at = now
        done, total = done - phase.start, total - phase.start
        width = 30
        filled = width * done // total if total else width
        bar = "#" * filled + "-" * (width - filled)
        name = label if phase.round == 1 else f"{label}, round {phase.round}"
        self.stream.write(f"\r\x1b[Ksessguard: {name} [{bar}] {done}/{total} files")
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
