"""The progress line and the statistics (issue 6)."""

from __future__ import annotations

import io
import itertools
from pathlib import Path

import pytest

from sessguard import monitor as monitor_module
from sessguard.monitor import Monitor
from sessguard.pipeline import scan


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


def drawn(screen: io.StringIO) -> list[str]:
    return [line for line in screen.getvalue().split("\r\x1b[K") if line]


def test_each_prefilter_round_is_a_phase_whose_total_never_moves(monkeypatch: pytest.MonkeyPatch) -> None:
    """The per-file stage counts on across rounds (1..3 of 3, then 4..5 of 5): the line
    shows each round with its own fixed total instead of a total that grows."""
    clock = [100.0]
    monkeypatch.setattr(monitor_module.time, "perf_counter", lambda: clock[0])
    screen = Terminal()
    shown = Monitor(screen)
    clock[0] += 5
    for done, total in [(1, 3), (2, 3), (3, 3), (4, 5), (5, 5)]:
        clock[0] += 1
        shown.progress("analysing", done, total)
    counts = [line.rsplit(" ", 2)[-2] for line in drawn(screen)]
    assert counts == ["1/3", "2/3", "3/3", "1/2", "2/2"]
    assert [line.startswith("sessguard: analysing, round 2 ") for line in drawn(screen)] == [
        False,
        False,
        False,
        True,
        True,
    ]


def test_a_real_scan_never_draws_a_growing_total(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A tree the prefilter reads in two rounds: the view calls a helper that touches the
    session, and names neither a session nor a login itself."""
    clock = itertools.count(1000.0, 1.0)
    monkeypatch.setattr(monitor_module.time, "perf_counter", lambda: next(clock))
    monkeypatch.chdir(tmp_path)
    (tmp_path / "helpers.py").write_text(
        'from flask import session\n\ndef note_visitor(uid):\n    session["user_id"] = uid\n'
    )
    (tmp_path / "views.py").write_text(
        "from helpers import note_visitor\n\ndef enter(uid):\n    note_visitor(uid)\n"
    )
    (tmp_path / "unrelated.py").write_text("X = 1\n")
    screen = Terminal()
    monitor = Monitor(screen)
    report = scan(["."], monitor=monitor)
    assert len(report.findings) == 1
    phases: dict[str, set[str]] = {}
    for line in drawn(screen):
        label, _, rest = line.partition(" [")
        phases.setdefault(label, set()).add(rest.rsplit(" ", 2)[-2].split("/")[1])
    assert "sessguard: analysing, round 2" in phases  # views.py came in the second round
    assert all(len(totals) == 1 for totals in phases.values()), phases
