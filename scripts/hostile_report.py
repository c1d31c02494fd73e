#!/usr/bin/env python3
"""Run sessguard over the hostile-input corpus and print one table row per case.

    python scripts/hostile_report.py [--skip-big] [--corpus DIR]

Builds the corpus with ../shared/hostile/make_hostile.py (or reuses DIR), then scans each
case directory in a fresh process, as an untrusted pull request would be scanned
(`--isolated`), and checks: exit status, wall time (10 s, 30 s for the 50 MB file), peak
memory (512 MB), no traceback, valid JSON with control.py's finding, no control byte in
the text output, and nothing written to the corpus's _markers/ directory (which would mean
scanned code ran). Permission bits do not apply to root, so as root the `unreadable` case
is scanned again with the capabilities that bypass them dropped (CAP_DAC_OVERRIDE,
CAP_DAC_READ_SEARCH), wherever the checkout lives; the `pyproject_config` case is scanned
again without `--isolated` and must stop with a configuration error, cleanly.
"""

from __future__ import annotations

import argparse
import atexit
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
# the scans use (and so exercise) the cache, in a directory of their own, writable by all
# (the `unreadable` case runs again without the capability to read any file)
CACHE_ENV = {"SESSGUARD_CACHE_DIR": tempfile.mkdtemp(prefix="sessguard-hostile-cache-")}
os.chmod(CACHE_ENV["SESSGUARD_CACHE_DIR"], 0o777)
atexit.register(shutil.rmtree, CACHE_ENV["SESSGUARD_CACHE_DIR"], True)
MAKE_HOSTILE = HERE.parent.parent / "shared" / "hostile" / "make_hostile.py"
CONTROL = ("control.py", 8)
CONTROL_BYTES = {chr(c) for c in range(0x20) if chr(c) not in "\n\t"} | {"\x7f"}
MEMORY_MB = 512


@dataclass
class Outcome:
    case: str
    status: int
    seconds: float
    peak_mb: float
    kinds: list[str]
    problems: list[str] = field(default_factory=list)


def build(corpus: Path, skip_big: bool) -> None:
    command = [sys.executable, str(MAKE_HOSTILE), str(corpus), "--force"]
    if skip_big:
        command.append("--skip-big")
    subprocess.run(command, check=True, capture_output=True)


def run(command: list[str], cwd: Path, prefix: list[str] | None = None) -> tuple[int, float, float, str, str]:
    """Exit status, seconds, peak resident memory (MB), stdout, stderr of one process."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.monotonic()
        process = subprocess.Popen(
            [*(prefix or []), *command], cwd=cwd, stdout=out, stderr=err, env={**os.environ, **CACHE_ENV}
        )
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.monotonic() - start
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return (
            process.returncode,
            seconds,
            usage.ru_maxrss / 1024,
            out.read().decode("utf-8", "replace"),
            err.read().decode("utf-8", "replace"),
        )


def scan_case(case: Path, markers: Path, text_file: Path, prefix: list[str] | None = None) -> Outcome:
    command = [
        sys.executable,
        "-m",
        "sessguard",
        "scan",
        ".",
        "--isolated",
        "--format",
        "json",
        "--format",
        f"text:{text_file}",
    ]
    status, seconds, peak, stdout, stderr = run(command, case, prefix)
    outcome = Outcome(case.name, status, seconds, peak, [])
    limit = 30.0 if case.name == "big_50mb" else 10.0
    if seconds > limit:
        outcome.problems.append(f"took {seconds:.1f} s (limit {limit:g})")
    if peak > MEMORY_MB:
        outcome.problems.append(f"peak {peak:.0f} MB")
    if "Traceback" in stderr:
        outcome.problems.append("traceback")
    try:
        report = json.loads(stdout)
    except json.JSONDecodeError:
        outcome.problems.append(f"no JSON (exit {status}): {stderr[-200:]!r}")
        return outcome
    outcome.kinds = sorted({e["kind"] for e in report["errors"]})
    if not any((f["path"], f["line"]) == CONTROL for f in report["findings"]):
        outcome.problems.append("control.py's finding missing")
    if status not in (1, 3) or (status == 3 and report["findings"]):
        outcome.problems.append(f"exit status {status}")
    text = text_file.read_text(encoding="utf-8", errors="replace") if text_file.exists() else ""
    if not text or CONTROL_BYTES & set(text):
        outcome.problems.append("control bytes in text output" if text else "no text output")
    if markers.exists() and any(markers.iterdir()):
        outcome.problems.append(f"scanned code ran: {sorted(p.name for p in markers.iterdir())}")
    return outcome


def special_runs(corpus: Path, work: Path) -> list[Outcome]:
    outcomes = []
    config_case = corpus / "cases" / "pyproject_config"
    if config_case.is_dir():
        status, seconds, peak, _, stderr = run([sys.executable, "-m", "sessguard", "scan", "."], config_case)
        outcome = Outcome("pyproject_config (config read)", status, seconds, peak, ["config"])
        if status != 2 or "pyproject.toml" not in stderr or "Traceback" in stderr:
            outcome.problems.append(f"expected a clean configuration error, got {status}: {stderr[-200:]!r}")
        outcomes.append(outcome)
    unreadable = corpus / "cases" / "unreadable"
    setpriv = shutil.which("setpriv")
    if unreadable.is_dir() and os.geteuid() == 0 and setpriv:
        text_file = work / "unreadable-nobody.txt"
        # root without the capabilities that let it read any file: the permission bits
        # apply, while the interpreter and the package stay readable wherever the
        # checkout lives (a private, mode-700 directory included)
        dropped = "-dac_override,-dac_read_search"
        prefix = [setpriv, f"--inh-caps={dropped}", f"--bounding-set={dropped}"]
        outcome = scan_case(unreadable, corpus / "_markers", text_file, prefix)
        outcome.case = "unreadable (root without read capabilities)"
        if "permission" not in outcome.kinds:
            outcome.problems.append("no permission error")
        outcomes.append(outcome)
    return outcomes


def report(corpus: Path) -> list[Outcome]:
    markers = corpus / "_markers"
    outcomes = []
    with tempfile.TemporaryDirectory() as scratch:
        work = Path(scratch)
        for case in sorted((corpus / "cases").iterdir()):
            outcomes.append(scan_case(case, markers, work / f"{case.name}.txt"))
        outcomes.extend(special_runs(corpus, work))
    return outcomes


def table(outcomes: list[Outcome]) -> str:
    lines = ["| case | exit | seconds | peak MB | error kinds | result |", "|---|---:|---:|---:|---|---|"]
    for o in outcomes:
        result = "ok" if not o.problems else "; ".join(o.problems)
        kinds = ", ".join(o.kinds) or "—"
        lines.append(f"| {o.case} | {o.status} | {o.seconds:.2f} | {o.peak_mb:.0f} | {kinds} | {result} |")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, help="build into (or reuse) this directory")
    parser.add_argument("--skip-big", action="store_true", help="omit the 50 MB and 5M-character-line files")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        corpus = args.corpus or Path(scratch) / "hostile"
        if not (corpus / "cases").is_dir():
            build(corpus, args.skip_big)
        outcomes = report(corpus)
    print(table(outcomes))
    return 0 if all(not o.problems for o in outcomes) else 1


if __name__ == "__main__":
    sys.exit(main())
