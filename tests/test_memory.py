"""What extraction leaves behind: nothing the cycle collector has to find; and the
collector during a scan (`sessguard.collector`).

A syntax tree caught in a reference cycle outlives its file until a collection runs, and
the scan sets the collector's thresholds high (`cli.GC_THRESHOLDS`) on the strength of
this: every tree is freed by reference counting as soon as its file's facts are built."""

from __future__ import annotations

import ast
import gc
from collections.abc import Callable
from pathlib import Path

import pytest
from harness import FIXTURES, SHARED_CASES

from sessguard.extract.facts import ExtractOptions
from sessguard.extract.file import extract_bytes
from sessguard.extract.lazy import _Def

SOURCES = sorted([*SHARED_CASES.rglob("*.py"), *FIXTURES.rglob("*.py")])


def _cyclic_garbage(run: Callable[[], None]) -> list[object]:
    """The objects only the cycle collector would free after `run` has run."""
    gc.collect()
    flags = gc.get_debug()
    gc.disable()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        run()
        gc.collect()
        return list(gc.garbage)
    finally:
        gc.garbage.clear()
        gc.set_debug(flags)
        gc.enable()


@pytest.mark.parametrize("lazy", [True, False], ids=["lazy", "whole"])
def test_extraction_leaves_no_syntax_tree_to_the_cycle_collector(lazy: bool) -> None:
    options = ExtractOptions(frozenset({"app"}), frozenset(), lazy=lazy)

    def extract_all() -> None:
        for path in SOURCES:
            extract_bytes(path.read_bytes(), path.name, path.stem, False, 100.0, options)

    garbage = _cyclic_garbage(extract_all)
    assert not [o for o in garbage if isinstance(o, (ast.AST, _Def))]


def test_the_check_sees_a_tree_held_by_a_cycle() -> None:
    """The check itself: a tree kept in a cycle is reported."""

    def leak() -> None:
        holder: list[object] = [ast.parse("x = 1")]
        holder.append(holder)

    assert any(isinstance(o, ast.Module) for o in _cyclic_garbage(leak))


def test_phase_one_runs_with_the_collector_off_and_the_scan_gives_it_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Off while phase 1 reads (and a forked worker would start); what phase 1 built is
    frozen through the rounds; after the scan, as before it, nothing is frozen."""
    import sessguard.perfile
    from sessguard.config import Config
    from sessguard.pipeline import scan

    seen: list[tuple[str, bool, bool]] = []
    prepare, run = sessguard.perfile.Stage.prepare, sessguard.perfile.Stage.run

    def watched_prepare(self: sessguard.perfile.Stage) -> object:
        seen.append(("phase 1", gc.isenabled(), gc.get_freeze_count() > 0))
        return prepare(self)

    def watched_run(self: sessguard.perfile.Stage) -> object:
        seen.append(("rounds", gc.isenabled(), gc.get_freeze_count() > 0))
        return run(self)

    monkeypatch.setattr(sessguard.perfile.Stage, "prepare", watched_prepare)
    monkeypatch.setattr(sessguard.perfile.Stage, "run", watched_run)
    (tmp_path / "app.py").write_text("from flask import session\n\ndef theme(t):\n    session['theme'] = t\n")
    assert gc.isenabled() and gc.get_freeze_count() == 0
    scan([str(tmp_path)], Config())
    assert seen == [("phase 1", False, False), ("rounds", True, True)]
    assert gc.isenabled() and gc.get_freeze_count() == 0


def test_a_failing_phase_one_gives_the_collector_back(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import sessguard.perfile
    from sessguard.config import Config
    from sessguard.pipeline import scan

    def failing(self: sessguard.perfile.Stage) -> object:
        raise OSError("the disk went away")

    monkeypatch.setattr(sessguard.perfile.Stage, "prepare", failing)
    (tmp_path / "app.py").write_text("x = 1\n")
    with pytest.raises(OSError):
        scan([str(tmp_path)], Config())
    assert gc.isenabled() and gc.get_freeze_count() == 0


def test_the_collector_is_left_alone_beside_other_threads_or_someone_else_s_freeze() -> None:
    import threading

    from sessguard.collector import CollectorPause

    gc.freeze()
    try:
        frozen = gc.get_freeze_count()
        pause = CollectorPause()
        assert gc.isenabled()
        pause.scan_done()
        assert gc.get_freeze_count() == frozen  # theirs stays frozen
    finally:
        gc.unfreeze()
    stop = threading.Event()
    other = threading.Thread(target=stop.wait)
    other.start()
    try:
        pause = CollectorPause()
        assert gc.isenabled()
        pause.phase_one_done()
        assert gc.get_freeze_count() == 0
    finally:
        stop.set()
        other.join()
