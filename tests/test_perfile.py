"""The per-file stage: worker processes and the cache never change a report (issue 6)."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import pytest
from harness import FIXTURES, SHARED_CASES

import sessguard.extraction
import sessguard.perfile
from sessguard.cache import Cache
from sessguard.config import Config
from sessguard.extract.facts import ModuleFacts
from sessguard.model import Report, Span
from sessguard.monitor import Monitor
from sessguard.pipeline import scan
from sessguard.render.json import render


@pytest.fixture
def tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the conformance cases and the fixtures: enough files for a process pool."""
    root = tmp_path / "tree"
    shutil.copytree(SHARED_CASES, root / "cases")
    shutil.copytree(FIXTURES, root / "fixtures")
    monkeypatch.chdir(root)
    return root


def text(report: Report) -> str:
    return render(report)


def test_same_report_for_any_number_of_processes(tree: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    everything = Config(prefilter=False)  # every file parsed: the pool gets real work
    monkeypatch.setattr(sessguard.extraction, "POOL_BELOW_BYTES", 0)
    one = text(scan(["."], everything, jobs=1))
    assert one == text(scan(["."], everything, jobs=2))
    assert one == text(scan(["."], everything, jobs=3))
    assert json.loads(one)["findings"], "the comparison must cover findings"


def test_warm_scan_reuses_the_whole_report(tree: Path, tmp_path: Path) -> None:
    cache = Cache(tmp_path / "cache")
    cold = text(scan(["."], cache=cache))
    warm_monitor = Monitor()
    warm = text(scan(["."], cache=Cache(tmp_path / "cache"), monitor=warm_monitor))
    assert warm == cold == text(scan(["."]))
    assert warm_monitor.counts == {"whole scan from the cache": 1}


def test_an_edited_file_is_parsed_again_and_the_rest_come_from_the_cache(tree: Path, tmp_path: Path) -> None:
    first = scan(["."], cache=Cache(tmp_path / "cache"))
    edited_line = ("fixtures/prefilter/helpers_far_away/shop/views.py", 20)
    assert edited_line in {(f.path, f.span.line) for f in first.findings}
    view = tree / "fixtures/prefilter/helpers_far_away/shop/views.py"
    view.write_text(view.read_text().replace('hold(session, request.form["u"])  # ruleid', "pass  # ruleid"))
    monitor = Monitor()
    edited = scan(["."], cache=Cache(tmp_path / "cache"), monitor=monitor)
    assert monitor.counts["files parsed"] == 1
    assert monitor.counts["files from the cache"] > 10
    assert text(edited) == text(scan(["."]))
    assert edited_line not in {(f.path, f.span.line) for f in edited.findings}


def test_a_touched_but_unchanged_file_keeps_the_whole_report(tree: Path, tmp_path: Path) -> None:
    scan(["."], cache=Cache(tmp_path / "cache"))
    view = tree / "fixtures/prefilter/helpers_far_away/shop/views.py"
    view.write_bytes(view.read_bytes())  # new modification time, same bytes
    monitor = Monitor()
    scan(["."], cache=Cache(tmp_path / "cache"), monitor=monitor)
    assert monitor.counts == {"whole scan from the cache": 1}


GARBAGE = [
    b"",
    b"not json at all",
    b'{"key": "other", "version": "0", "value": []}',
    b"[1, 2, 3]",
    b'{"key": "%s", "version": "%s", "value": {"kind": "facts", "data": [1]}}',
    b'{"key": "%s", "version": "%s", "value": [["a", "b"]]}',
]


@pytest.mark.parametrize("garbage", GARBAGE)
def test_corrupted_or_foreign_entries_are_ignored(tree: Path, tmp_path: Path, garbage: bytes) -> None:
    from sessguard import __version__

    scan(["."], cache=Cache(tmp_path / "cache"))
    entries = [p for p in (tmp_path / "cache").rglob("*.json")]
    assert entries
    for entry in entries:
        content = garbage.replace(b"%s", entry.stem.encode(), 1).replace(b"%s", __version__.encode(), 1)
        entry.write_bytes(content)
    monitor = Monitor()
    again = scan(["."], cache=Cache(tmp_path / "cache"), monitor=monitor)
    assert text(again) == text(scan(["."]))
    assert monitor.counts.get("files from the cache", 0) == 0


def test_a_changed_install_never_reuses_the_older_code_s_entries(tree: Path, tmp_path: Path) -> None:
    """A newer commit installed under the same version number is new code: the key of every
    entry changes with the package's files, and nothing that is cached is reused."""
    import sessguard.cache

    text(scan(["."], cache=Cache(tmp_path / "cache")))
    same = Monitor()
    text(scan(["."], cache=Cache(tmp_path / "cache"), monitor=same))
    assert same.counts == {"whole scan from the cache": 1}
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(sessguard.cache, "code_stamp", lambda: "another install")
        changed = Monitor()
        text(scan(["."], cache=Cache(tmp_path / "cache"), monitor=changed))
    assert "whole scan from the cache" not in changed.counts
    assert changed.counts["files from the cache"] == 0 and changed.counts["files parsed"] > 0


def test_the_stamp_of_the_installed_files_follows_every_code_file(tmp_path: Path) -> None:
    from sessguard.cache import files_stamp

    package = tmp_path / "pkg"
    (package / "sub" / "__pycache__").mkdir(parents=True)
    (package / "a.py").write_text("x = 1\n")
    (package / "sub" / "data.json").write_text("{}")
    first = files_stamp(package)
    (package / "sub" / "__pycache__" / "a.cpython-311.pyc").write_bytes(b"compiled")
    (package / "notes.txt").write_text("not code")
    assert files_stamp(package) == first  # compiled caches and other files do not count
    (package / "sub" / "data.json").write_text('{"a": 1}')
    assert files_stamp(package) != first


def test_an_unwritable_cache_only_costs_time(tree: Path, tmp_path: Path) -> None:
    blocker = tmp_path / "file-not-dir"
    blocker.write_text("")
    assert text(scan(["."], cache=Cache(blocker / "cache"))) == text(scan(["."]))


def test_a_cached_entry_is_checked_against_its_types(tmp_path: Path) -> None:
    cache = Cache(tmp_path / "cache")
    span = Span(3, 4, 3, 9)
    cache.put("spans", "k", span)
    assert cache.get_typed("spans", "k", Span) == span
    entry = next((tmp_path / "cache").rglob("k.json"))
    for wrong in ('["3", 4, 3, 9]', '{"line": "3"}', "[3, 4, 3]", '{"line": true}', "[]"):
        entry.write_text(
            entry.read_text().replace(
                json.dumps(json.loads(entry.read_text())["value"], separators=(",", ":")), wrong
            )
        )
        assert cache.get_typed("spans", "k", Span) is None, wrong
        cache.put("spans", "k", span)


def test_reports_survive_the_cache(tmp_path: Path) -> None:
    report = scan([str(SHARED_CASES / "flask")])
    assert report.findings
    cache = Cache(tmp_path / "cache")
    cache.put("scan", "key", report)
    assert Cache(tmp_path / "cache").get_typed("scan", "key", Report) == report


def _forked_reading(monkeypatch: pytest.MonkeyPatch) -> None:
    import sessguard.reading

    monkeypatch.setattr(sessguard.reading, "PARALLEL_BELOW_BYTES", 0)


@pytest.mark.parametrize("jobs", [2, 3])
def test_phase_one_on_forked_workers_gives_the_same_report(
    tree: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, jobs: int
) -> None:
    """Reading, indexing and the first extraction spread over forked workers: the same
    report as one process, with and without a cache, and a warm scan after it reuses it."""
    import tempfile

    alone = text(scan(["."], jobs=1))
    _forked_reading(monkeypatch)
    spool = tmp_path / "tmp"
    spool.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(spool))
    monitor = Monitor()
    assert text(scan(["."], jobs=jobs, monitor=monitor)) == alone
    assert monitor.counts["files read by workers"] > 0
    assert not list(spool.iterdir()), "the workers' spool is removed"
    cold = Monitor()
    assert text(scan(["."], cache=Cache(tmp_path / "cache"), jobs=jobs, monitor=cold)) == alone
    assert cold.counts["files read by workers"] > 0
    warm = Monitor()
    assert text(scan(["."], cache=Cache(tmp_path / "cache"), jobs=jobs, monitor=warm)) == alone
    assert warm.counts == {"whole scan from the cache": 1}
    assert json.loads(alone)["findings"], "the comparison must cover findings"


def test_a_failed_worker_costs_only_its_share_being_read_here(
    tree: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sessguard.reading

    alone = text(scan(["."], jobs=1))
    _forked_reading(monkeypatch)

    def broken(indexes: list[int]) -> list[object]:
        raise RuntimeError("a worker that fails")

    monkeypatch.setattr(sessguard.reading, "_in_worker", broken)
    monitor = Monitor()
    assert text(scan(["."], jobs=2, monitor=monitor)) == alone
    assert "files read by workers" not in monitor.counts


@pytest.mark.parametrize("jobs", [2, 3])
def test_later_rounds_share_phase_one_s_workers(
    tree: Path, monkeypatch: pytest.MonkeyPatch, jobs: int
) -> None:
    """The files a later round asks for are extracted by phase 1's forked workers and this
    process together; the report is the one of a single process, and no worker outlives
    the scan."""
    import multiprocessing

    alone = text(scan(["."], jobs=1))
    _forked_reading(monkeypatch)
    rounds = _later_rounds(monkeypatch)
    assert text(scan(["."], jobs=jobs)) == alone
    assert any(len(r) > 1 for r in rounds), "a later round with several files"
    assert all(r[0] for r in rounds), "a worker takes the first file of each round"
    assert multiprocessing.active_children() == []


def _later_rounds(monkeypatch: pytest.MonkeyPatch) -> list[list[bool]]:
    """Records, for each later round shared with phase 1's workers, which files a worker
    gave (phase 1's own sharing, of chunks, is left out)."""
    import sessguard.reading
    import sessguard.sharing

    rounds: list[list[bool]] = []
    original = sessguard.sharing.shared

    def recording(*args: Any) -> Any:
        out = original(*args)
        if args[1] is not sessguard.reading._in_worker:
            rounds.append([by_worker for _, by_worker in out])
        return out

    monkeypatch.setattr(sessguard.sharing, "shared", recording)
    return rounds


def _failing_work(batch: object) -> object:
    raise RuntimeError("a worker that fails in a later round")


def test_a_later_round_a_worker_fails_is_done_here(tree: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import multiprocessing

    import sessguard.perfile

    alone = text(scan(["."], jobs=1))
    _forked_reading(monkeypatch)
    monkeypatch.setattr(sessguard.extraction, "work", _failing_work)
    monitor = Monitor()
    assert text(scan(["."], jobs=2, monitor=monitor)) == alone
    assert monitor.counts["files read by workers"] > 0  # phase 1 went to the workers
    assert multiprocessing.active_children() == []


def _crashes(monkeypatch: pytest.MonkeyPatch) -> list[BaseException | None]:
    """What reaches `threading.excepthook` during the test: a pool thread that fails there
    would put a traceback in front of a user."""
    import threading

    crashed: list[BaseException | None] = []
    monkeypatch.setattr(threading, "excepthook", lambda args: crashed.append(args.exc_value))
    return crashed


def _scan_where_a_worker_dies(alone: str, monkeypatch: pytest.MonkeyPatch) -> Monitor:
    """A scan on two processes in which a worker dies: the report of one process, nothing
    on the way to the user, and no worker left after it."""
    import multiprocessing

    crashed = _crashes(monkeypatch)
    monitor = Monitor()
    assert text(scan(["."], jobs=2, monitor=monitor)) == alone
    assert crashed == [], "no thread of the pool fails (a traceback would reach the user)"
    assert multiprocessing.active_children() == []
    return monitor


def _dying_after_its_first_chunk(indexes: range) -> str:
    import sessguard.reading

    if indexes.start > 0:
        os._exit(1)  # the worker dies: the pool is broken for the rest of the scan
    return sessguard.reading.__dict__["_real_in_worker"](indexes)


def test_a_worker_that_dies_leaves_its_work_and_the_later_rounds_here(
    tree: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A worker that dies after its first chunk breaks the pool: a worker reports its
    chunks when it has claimed all it can, so phase 1 reads what the dead one took here
    again, and the later rounds, with no sound worker left, extract their files here."""
    import sessguard.reading

    alone = text(scan(["."], jobs=1))
    _forked_reading(monkeypatch)
    monkeypatch.setattr(sessguard.reading, "_real_in_worker", sessguard.reading._in_worker, raising=False)
    monkeypatch.setattr(sessguard.reading, "_in_worker", _dying_after_its_first_chunk)
    rounds = _later_rounds(monkeypatch)
    monitor = _scan_where_a_worker_dies(alone, monkeypatch)
    assert "files read by workers" not in monitor.counts  # its first chunk was read again
    assert not any(any(r) for r in rounds), "a broken pool does no later work"


def _dying_work(batch: object) -> object:
    os._exit(1)  # the worker dies in a later round: the pool breaks there


def test_a_worker_that_dies_in_a_later_round_leaves_the_round_here(
    tree: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Phase 1 went to the workers; a worker dies in the first later round, and that
    round and the next are done here, with nothing on the way to the user."""
    alone = text(scan(["."], jobs=1))
    _forked_reading(monkeypatch)
    monkeypatch.setattr(sessguard.extraction, "work", _dying_work)
    rounds = _later_rounds(monkeypatch)
    monitor = _scan_where_a_worker_dies(alone, monkeypatch)
    assert monitor.counts["files read by workers"] > 0  # phase 1 went to the workers
    assert rounds and not any(any(r) for r in rounds), "a broken pool does no later work"


def test_no_worker_is_forked_beside_another_thread(tree: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A fork copies only the calling thread: with another thread running, phase 1 stays
    in this process (and gives the same report)."""
    import threading

    alone = text(scan(["."], jobs=1))
    _forked_reading(monkeypatch)
    release = threading.Event()
    other = threading.Thread(target=release.wait)
    other.start()
    try:
        monitor = Monitor()
        assert text(scan(["."], jobs=2, monitor=monitor)) == alone
    finally:
        release.set()
        other.join()
    assert "files read by workers" not in monitor.counts


def _tagged(item: int) -> tuple[int, int]:
    return item, os.getpid()


@pytest.mark.parametrize("size", [1, 2])
def test_shared_work_is_done_once_per_item_in_order_by_workers_and_here(size: int) -> None:
    """Each worker is sent the items once and claims them itself (one submission per
    worker, not one per item, so no worker waits for this process to feed it)."""
    from sessguard.sharing import fork_pool, shared

    workers = fork_pool(size)
    submitted: list[object] = []
    original = workers.pool.submit

    def counting(*args: Any) -> Any:
        submitted.append(args[0])
        return original(*args)

    workers.pool.submit = counting  # type: ignore[method-assign]
    try:
        items = list(range(400))
        out = shared(workers, _tagged, items, lambda i: (i, os.getpid()), lambda answer: answer)
        again = shared(workers, _tagged, items[:50], lambda i: (i, os.getpid()), lambda answer: answer)
    finally:
        workers.shutdown()
    assert len(submitted) == 2 * size
    assert [item for (item, _), _ in out] == items
    assert [item for (item, _), _ in again] == items[:50]
    by_worker = {pid for (_, pid), remote in out if remote}
    here = {pid for (_, pid), remote in out if not remote}
    assert out[0][1], "the first item is a worker's"
    assert by_worker and os.getpid() not in by_worker
    assert here <= {os.getpid()}


def test_an_answer_that_cannot_be_read_back_is_done_here() -> None:
    from sessguard.sharing import fork_pool, shared

    def unreadable(answer: tuple[int, int]) -> tuple[int, int]:
        raise ValueError("a spool file that cannot be read")

    workers = fork_pool(1)
    try:
        out = shared(workers, _tagged, list(range(50)), lambda i: (i, os.getpid()), unreadable)
    finally:
        workers.shutdown()
    assert [item for (item, _), _ in out] == list(range(50))
    assert not any(by_worker for _, by_worker in out)


def _caller_tree(root: Path) -> None:
    """`a_view.py` (the first file, so the first chunk: always a worker's) holds no
    phase-1 needle; only the name of `z_helpers.sign_in`, which writes a session, leads a
    later round to it."""
    (root / "a_view.py").write_text("from z_helpers import sign_in\n\n\ndef view(user):\n    sign_in(user)\n")
    for i in range(40):
        (root / f"m{i:02}.py").write_text(f"def f{i}(x):\n    return x + {i}\n" * 50)
    (root / "z_helpers.py").write_text(
        "from flask import session\n\n\ndef sign_in(user):\n    session['user_id'] = user.id\n"
    )


def test_a_later_round_matches_names_in_the_worker_that_read_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file a worker read in phase 1 is matched against a later round's names there,
    from the index the worker kept, while this process matches the others: the file is
    parsed, and this process never matched it itself."""
    monkeypatch.chdir(tmp_path)
    _caller_tree(tmp_path)
    _forked_reading(monkeypatch)
    here: list[str] = []
    original = sessguard.perfile.Stage._matches

    def matches(self: sessguard.perfile.Stage, file: Any, needles: Any) -> bool:
        here.append(file.display)
        return original(self, file, needles)

    monkeypatch.setattr(sessguard.perfile.Stage, "_matches", matches)
    monitor = Monitor()
    scan(["."], jobs=2, monitor=monitor)
    assert "a_view.py" in monitor.file_seconds, "the caller was found and parsed"
    assert monitor.counts["indexes matched by workers"] > 0
    assert "a_view.py" not in here


def test_several_workers_match_what_each_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """With two workers each is asked; one may take both questions (the pool hands a
    task to whichever is free), and what the other read is then matched here: the same
    files are parsed either way."""
    monkeypatch.chdir(tmp_path)
    _caller_tree(tmp_path)
    alone = Monitor()
    expected = text(scan(["."], jobs=1, monitor=alone))
    _forked_reading(monkeypatch)
    monitor = Monitor()
    assert text(scan(["."], jobs=3, monitor=monitor)) == expected
    assert set(monitor.file_seconds) == set(alone.file_seconds)
    assert "a_view.py" in monitor.file_seconds
    assert monitor.counts["indexes matched by workers"] > 0


def _dying_match(task: object) -> object:
    os._exit(1)


def test_names_a_dead_worker_cannot_match_are_matched_here(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:

    import sessguard.reading

    monkeypatch.chdir(tmp_path)
    _caller_tree(tmp_path)
    _forked_reading(monkeypatch)
    monkeypatch.setattr(sessguard.reading, "_held_matches", _dying_match)
    crashed = _crashes(monkeypatch)
    monitor = Monitor()
    scan(["."], jobs=2, monitor=monitor)
    assert "a_view.py" in monitor.file_seconds
    assert monitor.counts.get("indexes matched by workers", 0) == 0
    assert crashed == []


def test_a_chunk_messagepack_cannot_hold_is_spooled_as_a_pickle(tmp_path: Path) -> None:
    """A string literal with a lone surrogate (in a regular expression's class, say) has
    no UTF-8: such facts come back as a pickle, where the whole chunk used to be read
    again here. Ordinary chunks stay MessagePack."""
    from sessguard.extract.facts import ExtractOptions
    from sessguard.extract.file import extract_bytes
    from sessguard.reading import Read, spooled, unspooled

    def read_of(source: str) -> Read:
        facts = extract_bytes(
            source.encode(), "app.py", "app", False, 100.0, ExtractOptions(frozenset({"app"}))
        )
        assert isinstance(facts, ModuleFacts)
        return Read("-", b" x ", True, facts)

    plain = [read_of("from flask import session\nKEY = 'user'\n\ndef f(u):\n    session[KEY] = u\n")]
    odd = [read_of("from flask import session\nKEY = '\\ud800-\\udbff'\n\ndef f(u):\n    session[KEY] = u\n")]
    assert odd[0].facts is not None and odd[0].facts.constants == (("KEY", "\ud800-\udbff"),)
    assert bytes(spooled(plain))[:1] == b"M" and unspooled(spooled(plain)) == plain
    for chunk in (odd, [*plain, *odd]):
        data = spooled(chunk)
        assert bytes(data)[:1] == b"P" and unspooled(data) == chunk
    with pytest.raises(ValueError):
        unspooled(b"Z" + bytes(spooled(plain))[1:])


def test_a_worker_s_finished_chunks_are_read_back_between_this_process_s_chunks(tmp_path: Path) -> None:
    """`Received.ready` takes every chunk whose file is whole (a `.part` is being written),
    so that `take` has it without reading the file again."""
    from sessguard.model import FileError
    from sessguard.reading import Read, Received, spooled

    chunk: list[Read | FileError] = [FileError("a.py", "syntax", "invalid syntax")]
    whole = tmp_path / "0.spooled"
    whole.write_bytes(bytes(spooled(chunk)))
    (tmp_path / "64.spooled.part").write_bytes(b"M\x91")
    (tmp_path / "128.spooled").write_bytes(b"neither form")
    received = Received(str(tmp_path))
    received.ready()
    assert list(received.early) == [str(whole)]
    whole.unlink()  # read already: `take` needs no file
    assert received.take(str(whole)) == chunk
    with pytest.raises(ValueError):
        received.take(str(tmp_path / "128.spooled"))
