"""Concurrent and interrupted runs (issue 13): a shared cache and `sessguard fix` survive them.

Eight scans at once share one cache directory; scans and fixes are killed with SIGKILL
in the middle of writing. The kills land where they are meant to without any timing: the
killed process runs a small driver (`KILLER`) that wraps the standard library calls the
cache and the fixer write with (`os.fdopen`, `os.replace`) and kills itself at the n-th
call, half-way through the bytes or just before the rename, and n runs over every write
of the run. One test also kills a scan from outside, as soon as its cache directory
starts to fill.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from harness import FIXTURES, SHARED_CASES

CONCURRENT = 8
TIMEOUT = 300

KILLER = """
import os, signal, sys

point, due = sys.argv[1], int(sys.argv[2])
calls = 0


def now():
    global calls
    calls += 1
    return calls == due


def die():
    os.kill(os.getpid(), signal.SIGKILL)


real_fdopen, real_replace = os.fdopen, os.replace


class HalfWritten:
    def __init__(self, handle):
        self.handle = handle

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return self.handle.__exit__(*exc)

    def write(self, data):
        self.handle.write(data[: len(data) // 2])
        self.handle.flush()
        die()


def fdopen(fd, *args, **kwargs):
    handle = real_fdopen(fd, *args, **kwargs)
    return HalfWritten(handle) if point == "write" and now() else handle


def replace(source, target):
    if point == "replace" and now():
        die()
    return real_replace(source, target)


os.fdopen, os.replace = fdopen, replace

import sessguard.pipeline

real_scan = sessguard.pipeline.scan


def scan(*args, **kwargs):
    if point == "scan" and now():
        die()
    return real_scan(*args, **kwargs)


sessguard.pipeline.scan = scan

from sessguard.cli import main

sys.exit(main(sys.argv[3:]))
"""


def sessguard(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "sessguard", *args], cwd=cwd, capture_output=True, text=True, timeout=TIMEOUT
    )


def killed_at(point: str, due: int, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run `sessguard *args`, killed by SIGKILL at the `due`-th call of `point`."""
    return subprocess.run(
        [sys.executable, "-c", KILLER, point, str(due), *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )


def scan_args(cache: Path, *extra: str) -> list[str]:
    return ["scan", ".", "--format", "json", "--jobs", "1", "--quiet", "--cache-dir", str(cache), *extra]


def counts(statistics: str) -> dict[str, int]:
    """The counters of `--statistics` (`files from the cache`, `whole scan from the cache`, …)."""
    return {name: int(n) for name, n in re.findall(r"^  (\D+?)\s+(\d+)$", statistics, re.MULTILINE)}


def entries(cache: Path) -> list[Path]:
    return sorted(p for p in cache.rglob("*") if p.is_file())


def assert_every_entry_whole(cache: Path, killed: bool = False) -> None:
    """Every entry in the cache is complete, under its own key. Only a killed run may leave
    a temporary file behind: a hidden `.tmp-*` file beside the entries, never read as one."""
    files = entries(cache)
    assert killed or any(p.suffix == ".json" for p in files)
    for path in files:
        if killed and path.name.startswith(".tmp-") and path.suffix != ".json":
            continue
        assert path.suffix == ".json" and not path.name.startswith("."), f"leftover {path}"
        entry = json.loads(path.read_bytes())
        assert entry["key"] == path.stem, path


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "tree"
    shutil.copytree(SHARED_CASES, root / "cases")
    shutil.copytree(FIXTURES / "flask", root / "fixtures")
    return root


@pytest.fixture
def reference(tree: Path) -> str:
    """The report of an uncached scan: what every run must print."""
    result = sessguard("scan", ".", "--format", "json", "--jobs", "1", "--quiet", "--no-cache", cwd=tree)
    assert result.returncode == 1, result.stderr
    assert json.loads(result.stdout)["findings"], "the comparison must cover findings"
    return result.stdout


def test_the_report_does_not_depend_on_the_process(tree: Path, reference: str) -> None:
    """Concurrent scans can only agree if every process prints the same bytes: no set's
    iteration order (it changes with the hash seed) may reach the report."""
    for seed in ("1", "2", "3"):
        result = subprocess.run(
            [sys.executable, "-m", "sessguard", "scan", ".", "--format", "json", "--quiet", "--no-cache"],
            cwd=tree,
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
            env={**os.environ, "PYTHONHASHSEED": seed},
        )
        assert result.stdout == reference, f"PYTHONHASHSEED={seed}"


def test_eight_scans_at_once_share_one_cache(tree: Path, tmp_path: Path, reference: str) -> None:
    cache = tmp_path / "cache"
    command = [sys.executable, "-m", "sessguard", *scan_args(cache)]
    running = [
        subprocess.Popen(command, cwd=tree, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(CONCURRENT)
    ]
    results = [process.communicate(timeout=TIMEOUT) for process in running]
    assert [process.returncode for process in running] == [1] * CONCURRENT, [err for _, err in results]
    assert all(out == reference for out, _ in results)
    assert_every_entry_whole(cache)

    warm = sessguard(*scan_args(cache, "--statistics"), cwd=tree)
    assert warm.stdout == reference
    assert counts(warm.stderr).get("whole scan from the cache") == 1, warm.stderr
    # an edited file changes the whole-scan key: every other file's facts come from the cache
    edited = next(p for p in sorted(tree.rglob("*.py")) if "session" in p.read_text(encoding="utf-8"))
    edited.write_text(edited.read_text(encoding="utf-8") + "# edited\n", encoding="utf-8")
    grown = sessguard(*scan_args(cache, "--statistics"), cwd=tree)
    assert json.loads(grown.stdout)["findings"] == json.loads(reference)["findings"]
    assert counts(grown.stderr).get("files from the cache", 0) > 50, grown.stderr
    assert_every_entry_whole(cache)


def cold_writes(tree: Path, tmp_path: Path) -> int:
    """How many cache entries a cold scan of the tree writes."""
    cache = tmp_path / "count"
    assert sessguard(*scan_args(cache), cwd=tree).returncode == 1
    return len(entries(cache))


@pytest.mark.parametrize("point", ["write", "replace"])
def test_a_scan_killed_while_writing_the_cache_leaves_one_the_next_scan_uses(
    tree: Path, tmp_path: Path, reference: str, point: str
) -> None:
    total = cold_writes(tree, tmp_path)
    assert total > 20
    for due in sorted({1, 2, total // 2, total - 1, total}):
        cache = tmp_path / f"cache-{point}-{due}"
        killed = killed_at(point, due, *scan_args(cache), cwd=tree)
        assert killed.returncode == -signal.SIGKILL, (due, killed.stderr)
        assert_every_entry_whole(cache, killed=True)  # before a later scan could repair one
        after = sessguard(*scan_args(cache, "--statistics"), cwd=tree)
        assert after.stdout == reference, due
        if due > 2:  # the entries written before the kill are used
            assert counts(after.stderr).get("files from the cache", 0) >= 1, (due, after.stderr)
        assert_every_entry_whole(cache, killed=True)
        assert any(p.suffix == ".json" for p in entries(cache))
        again = sessguard(*scan_args(cache, "--statistics"), cwd=tree)
        assert again.stdout == reference
        assert counts(again.stderr).get("whole scan from the cache") == 1, (due, again.stderr)


def test_a_scan_killed_from_outside_as_its_cache_fills_leaves_one_the_next_scan_uses(
    tree: Path, tmp_path: Path, reference: str
) -> None:
    cache = tmp_path / "cache"
    command = [sys.executable, "-m", "sessguard", *scan_args(cache, "--no-prefilter")]
    process = subprocess.Popen(command, cwd=tree, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while process.poll() is None and not (cache.exists() and any(cache.rglob("*.json"))):
            pass  # poll until the first entry lands; then kill at once
        process.send_signal(signal.SIGKILL)
    finally:
        process.wait(timeout=TIMEOUT)
    assert process.returncode == -signal.SIGKILL, "the scan ended before the kill: nothing was tested"
    after = sessguard(*scan_args(cache), cwd=tree)
    assert after.stdout == reference


# -- sessguard fix ---------------------------------------------------------------------------

LOGIN = """\
from django.contrib.auth import authenticate
from django.http import HttpResponse


def {name}(request):
    user = authenticate(request, username=request.POST["u"], password=request.POST["p"])
    request.session["user_id"] = user.pk
    return HttpResponse("ok")
"""
VIEWS = {f"shop/views_{n}.py": LOGIN.format(name=f"sign_in_{n}") for n in range(4)}


def write_shop(root: Path) -> dict[str, bytes]:
    for name, text in VIEWS.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, encoding="utf-8")
    return {name: (root / name).read_bytes() for name in VIEWS}


def files_of(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


@pytest.fixture
def fixed(tmp_path: Path) -> dict[str, bytes]:
    """What each file holds once `sessguard fix` has run to its end."""
    root = tmp_path / "fixed"
    original = write_shop(root)
    result = sessguard("fix", ".", "--no-cache", "--jobs", "1", "--quiet", cwd=root)
    assert result.returncode == 0, result.stderr
    after = files_of(root)
    assert set(after) == set(original) and all(after[n] != original[n] for n in original)
    return after


KILL_POINTS = [
    *[("write", n) for n in range(1, len(VIEWS) + 1)],
    *[("replace", n) for n in range(1, len(VIEWS) + 1)],
    ("scan", 2),  # every file written, the check scan not yet run
]


@pytest.mark.parametrize(("point", "due"), KILL_POINTS, ids=[f"{p}-{n}" for p, n in KILL_POINTS])
def test_a_killed_fix_leaves_each_file_as_it_was_or_fully_fixed(
    tmp_path: Path, fixed: dict[str, bytes], point: str, due: int
) -> None:
    root = tmp_path / "shop-copy"
    original = write_shop(root)
    killed = killed_at(point, due, "fix", ".", "--no-cache", "--jobs", "1", "--quiet", cwd=root)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    everything = files_of(root)
    now = {name: data for name, data in everything.items() if not Path(name).name.startswith(".")}
    assert set(now) == set(original)
    # what a kill mid-write leaves is a hidden temporary file, never a module a scan reads
    leftovers = [Path(name).name for name in set(everything) - set(now)]
    assert all(n.startswith(".sessguard-fix-") and not n.endswith(".py") for n in leftovers), leftovers
    for name, data in now.items():
        assert data in (original[name], fixed[name]), f"{name} is neither as it was nor fully fixed"
    if point == "scan":
        assert now == fixed
    # and a fix run to its end finishes the job
    assert sessguard("fix", ".", "--no-cache", "--jobs", "1", "--quiet", cwd=root).returncode == 0
    assert {n: d for n, d in files_of(root).items() if n in original} == fixed
