"""The progress line and the statistics (issue 6)."""

from __future__ import annotations

import io

import pytest

from sessguard import monitor as monitor_module
from sessguard.monitor import Monitor


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_appears_only_after_a_second_and_is_erased(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = [100.0]
    monkeypatch.setattr(monitor_module.time, "perf_counter", lambda: clock[0])
    monkeypatch.setenv("TERM", "xterm")
    screen = Terminal()
    shown = Monitor.for_terminal(screen, quiet=False)
    shown.progress("analysing", 1, 10)
    assert screen.getvalue() == ""  # a quick scan never flickers
    clock[0] += 1.5
    shown.progress("analysing", 5, 10)
    assert "5/10 files" in screen.getvalue()
    shown.close()
    assert screen.getvalue().endswith("\r\x1b[K")


def test_quiet_or_piped_output_draws_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = [0.0]
    monkeypatch.setattr(monitor_module.time, "perf_counter", lambda: clock[0])
    piped, quiet = io.StringIO(), Terminal()
    for stream, monitor in (
        (piped, Monitor.for_terminal(piped, False)),
        (quiet, Monitor.for_terminal(quiet, True)),
    ):
        clock[0] += 5
        monitor.progress("analysing", 5, 10)
        monitor.close()
        assert stream.getvalue() == ""


def test_statistics_escape_file_names() -> None:
    stats = Monitor()
    stats.file_time("evil\x1b[2J.py", 0.5)
    text = stats.statistics()
    assert "\x1b" not in text and "evil" in text
