"""sessguard's benchmark: whole-process time, CPU and peak memory against the floor and Semgrep.

    python bench/run.py [--runs 5] [--trees django,superset,mega,small,security] [--corpus DIR]

Builds (or reuses) the corpus of `../shared/bench` with its `fetch_corpus.sh`, installs
Semgrep into `.bench/tools` if it is not there, then for each tree runs every command once
to warm up and `--runs` more times, alternating the commands so that a machine that slows
down mid-run slows all of them alike. Prints the median wall and CPU time, the largest peak
RSS, and each wall time as a ratio to the `ast.parse` floor (`bench/floor.py`) and to
Semgrep with `bench/semgrep-session-fixation.yml`.

Commands, per tree:
  floor        python bench/floor.py TREE (read and ast.parse every file, nothing else)
  cold         sessguard scan TREE --no-cache
  warm         sessguard scan TREE with a filled cache, tree unchanged
  edit one     sessguard scan TREE with a filled cache after one relevant file's bytes changed
  semgrep      semgrep scan --metrics=off --config bench/semgrep-session-fixation.yml TREE

`mega` (2.4 M lines) runs Semgrep only with `--mega-semgrep`. `small` is the four-file
project with a finding of the conformance cases (`../shared/cases/flask/cross_module`), the
pre-commit case: floor, cold and warm. `security` (a 3,764-line part of Superset: its
security manager) runs floor and cold. The package's bytecode is compiled first, as an
installed package has it (pip compiles it at install time): start-up is then measured as
users meet it, also where PYTHONDONTWRITEBYTECODE is set. The last table checks the
targets of the speed issue.
"""

from __future__ import annotations

import argparse
import ctypes
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
SHARED = REPO.parent / "shared"
RULE = HERE / "semgrep-session-fixation.yml"
SEMGREP_VERSION = "semgrep>=1.100,<2"
PR_SET_CHILD_SUBREAPER = 36

# one relevant file per tree whose bytes the "edit one" command changes (and restores)
EDITED = {
    "django": "django/contrib/auth/__init__.py",
    "superset": "superset/security/manager.py",
    "mega": "django/django/contrib/auth/__init__.py",
}
SECURITY = ("superset", "superset/security")
SMALL = SHARED / "cases" / "flask" / "cross_module"
# (tree, command, most × floor, most peak MB): the speed issue's targets
TARGETS = (
    ("small", "cold", 4.0, None),
    ("django", "cold", 0.25, None),
    ("django", "warm", 0.08, None),
    ("django", "edit one", 0.15, None),
    ("mega", "cold", 0.25, 150.0),
)


@dataclass
class Sample:
    wall: float
    cpu: float
    rss_mb: float


@dataclass
class Command:
    name: str
    argv: list[str]
    before: Callable[[int], None] = field(default=lambda run: None)
    samples: list[Sample] = field(default_factory=list)

    @property
    def wall(self) -> float:
        return statistics.median(s.wall for s in self.samples)

    @property
    def cpu(self) -> float:
        return statistics.median(s.cpu for s in self.samples)

    @property
    def rss(self) -> float:
        return max(s.rss_mb for s in self.samples)


def adopt_orphans() -> None:
    """Become the subreaper of every process the commands start (Linux), so that worker
    processes that outlive their parent (a process pool's server) are waited for here and
    their CPU time and memory are counted."""
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)


def measure(argv: Sequence[str], cwd: Path) -> Sample:
    """One whole process tree: wall clock to the command's exit, user+system CPU of every
    process it started, and the largest peak resident set among them (`wait4`)."""
    start = time.perf_counter()
    process = subprocess.Popen(
        list(argv), cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    assert process.stderr is not None
    error_output = process.stderr.read()
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - start
    cpu = usage.ru_utime + usage.ru_stime
    peak = usage.ru_maxrss
    while True:  # adopted descendants, once they exit
        try:
            _, _, orphan = os.wait4(-1, 0)
        except ChildProcessError:
            break
        cpu += orphan.ru_utime + orphan.ru_stime
        peak = max(peak, orphan.ru_maxrss)
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode not in (0, 1, 3):  # findings (1) and unanalysable files (3) are results
        raise SystemExit(f"{' '.join(argv)} failed ({process.returncode}):\n{error_output[-2000:]}")
    return Sample(wall, cpu, peak / 1024)


def sessguard(*args: str) -> list[str]:
    script = Path(sys.executable).with_name("sessguard")
    head = [str(script)] if script.exists() else [sys.executable, "-m", "sessguard"]
    return [*head, "scan", *args, "--format", "json", "--output", os.devnull, "--quiet"]


def ensure_corpus(directory: Path) -> None:
    subprocess.run(["bash", str(SHARED / "bench" / "fetch_corpus.sh"), str(directory)], check=True)


def ensure_semgrep(tools: Path) -> Path:
    found = shutil.which("semgrep")
    if found:
        return Path(found)
    binary = tools / "bin" / "semgrep"
    if not binary.exists():
        subprocess.run([sys.executable, "-m", "venv", str(tools)], check=True)
        subprocess.run([str(tools / "bin" / "pip"), "install", "--quiet", SEMGREP_VERSION], check=True)
    return binary


def semgrep(binary: Path, tree: Path) -> list[str]:
    """Semgrep over every file, as sessguard and the floor: by default it skips test
    directories and files over 1 MB, and inside a git checkout lists only tracked files
    (the corpus lies in this repository's ignored `.bench/`), so an empty `.semgrepignore`
    at the tree's root and three flags make it look at the same files."""
    ignore = tree / ".semgrepignore"
    if not ignore.exists():
        ignore.write_text("# the benchmark: every file, as sessguard and the floor read them\n")
    return [
        str(binary),
        "scan",
        "--metrics=off",
        "--disable-version-check",
        "--no-git-ignore",
        f"--project-root={tree}",
        "--max-target-bytes=0",
        "--quiet",
        "--config",
        str(RULE),
        "--json",
        "--output",
        os.devnull,
        str(tree),
    ]


def count_lines(tree: Path) -> int:
    output = subprocess.run(
        [sys.executable, str(HERE / "floor.py"), str(tree)], check=True, capture_output=True, text=True
    ).stdout
    match = re.search(r"\((\d+) lines\)", output)
    return int(match.group(1)) if match else 0


def editor(path: Path) -> tuple[Callable[[int], None], Callable[[], None]]:
    """Change the file's bytes before each run (a new trailing comment), and put them back."""
    original = path.read_bytes()

    def edit(run: int) -> None:
        path.write_bytes(original + f"\n# sessguard benchmark edit {run} {time.time_ns()}\n".encode())

    def restore() -> None:
        path.write_bytes(original)

    return edit, restore


def commands_for(name: str, tree: Path, semgrep_binary: Path | None, cache: Path) -> list[Command]:
    floor = Command("floor", [sys.executable, str(HERE / "floor.py"), str(tree)])
    cold = Command("cold", sessguard(str(tree), "--no-cache"))
    if name == "security":
        return [floor, cold]
    warm = Command("warm", sessguard(str(tree), "--cache-dir", str(cache)))
    found = [floor, cold, warm]
    if name == "small":
        return found
    if name in EDITED:
        edit, _ = editor(tree / EDITED[name])
        found.append(Command("edit one", sessguard(str(tree), "--cache-dir", str(cache)), edit))
    if semgrep_binary is not None:
        found.append(Command("semgrep", semgrep(semgrep_binary, tree)))
    return found


def _nothing() -> None:
    return None


def run_tree(name: str, tree: Path, runs: int, semgrep_binary: Path | None) -> list[Command]:
    restore = editor(tree / EDITED[name])[1] if name in EDITED else _nothing
    with tempfile.TemporaryDirectory(prefix="sessguard-bench-cache-") as cache:
        commands = commands_for(name, tree, semgrep_binary, Path(cache))
        try:
            for run in range(runs + 1):  # run 0 warms up (and fills the cache)
                for command in commands:
                    command.before(run)
                    sample = measure(command.argv, REPO)
                    if run:
                        command.samples.append(sample)
                    print(f"  {name:8} {command.name:9} run {run}: {sample.wall:7.3f} s", file=sys.stderr)
        finally:
            restore()
    return commands


def table(name: str, lines: int, commands: list[Command]) -> str:
    by_name = {c.name: c for c in commands}
    floor = by_name["floor"].wall
    peer = by_name["semgrep"].wall if "semgrep" in by_name else None
    rows = [
        f"{name} ({lines:,} lines)",
        f"  {'command':10} {'wall s':>8} {'CPU s':>8} {'peak MB':>8} {'× floor':>8} {'× semgrep':>10}",
    ]
    for command in commands:
        versus_peer = f"{command.wall / peer:10.3f}" if peer else f"{'-':>10}"
        rows.append(
            f"  {command.name:10} {command.wall:8.3f} {command.cpu:8.3f} {command.rss:8.1f}"
            f" {command.wall / floor:8.3f} {versus_peer}"
        )
    if peer:
        cold = by_name["cold"].wall
        rows.append(f"  sessguard cold is {peer / cold:.1f} × faster than Semgrep")
    return "\n".join(rows)


def compile_package() -> None:
    """Bytecode for the installed package, as pip writes it at install time."""
    import sessguard

    package = Path(sessguard.__file__).parent
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(package)], check=True)


def targets(results: dict[str, tuple[int, list[Command]]]) -> str:
    rows = ["targets (median wall time × floor; peak MB)"]
    for tree, name, most, most_mb in TARGETS:
        if tree not in results:
            continue
        by_name = {c.name: c for c in results[tree][1]}
        if name not in by_name:
            continue
        ratio = by_name[name].wall / by_name["floor"].wall
        met = ratio <= most and (most_mb is None or by_name[name].rss <= most_mb)
        memory = f", {by_name[name].rss:.0f} MB (at most {most_mb:.0f})" if most_mb else ""
        rows.append(
            f"  {tree:8} {name:9} {ratio:6.3f} × (at most {most:g}){memory}  {'met' if met else 'NOT MET'}"
        )
    return "\n".join(rows)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=5, help="measured runs per command (default 5)")
    parser.add_argument(
        "--trees", default="django,superset,mega,small,security", help="comma-separated trees"
    )
    parser.add_argument("--corpus", type=Path, default=REPO / ".bench" / "corpus")
    parser.add_argument("--no-semgrep", action="store_true", help="skip Semgrep")
    parser.add_argument("--mega-semgrep", action="store_true", help="also run Semgrep on mega (slow)")
    args = parser.parse_args(argv)
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    ensure_corpus(args.corpus)
    compile_package()
    adopt_orphans()
    semgrep_binary = None if args.no_semgrep else ensure_semgrep(REPO / ".bench" / "tools")
    from sessguard import __version__

    print(
        f"sessguard {__version__}, Python {platform.python_version()}, {os.cpu_count()} CPUs,"
        f" median of {args.runs} runs after a warm-up"
    )
    results: dict[str, tuple[int, list[Command]]] = {}
    for name in args.trees.split(","):
        special = {"small": SMALL, "security": args.corpus / SECURITY[0] / SECURITY[1]}
        tree = special.get(name, args.corpus / name)
        with_semgrep = semgrep_binary if (name != "mega" or args.mega_semgrep) else None
        commands = run_tree(name, tree, args.runs, with_semgrep)
        results[name] = (count_lines(tree), commands)
        print(table(name, *results[name]))
        sys.stdout.flush()
    print(targets(results))
    if "django" in results and "mega" in results:
        print("scaling (cold wall time per 100,000 lines)")
        for name in ("django", "mega"):
            lines, commands = results[name]
            cold = next(c for c in commands if c.name == "cold")
            floor = next(c for c in commands if c.name == "floor")
            per_line = cold.wall / lines * 1e5
            print(f"  {name:8} sessguard {per_line:6.3f} s   floor {floor.wall / lines * 1e5:6.3f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
