"""The command line: exit statuses, output files, errors, help (SPEC §9)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from harness import SAFE, VULNERABLE

from sessguard import __version__
from sessguard.cli import main


@pytest.fixture
def tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "sessguard", *args], capture_output=True, text=True, cwd=cwd, timeout=120
    )


def test_clean_scan_exits_0(tree: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tree / "app.py").write_text(SAFE)
    assert main(["scan"]) == 0
    assert "no findings" in capsys.readouterr().out


def test_findings_exit_1(tree: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tree / "app.py").write_text(VULNERABLE)
    assert main(["scan", "app.py"]) == 1
    out = capsys.readouterr().out
    assert out.startswith("app.py:4:5: low python-session-fixation `login_user(user)` logs the user in")


def test_usage_errors_exit_2(tree: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as raised:
        main(["scan", "--format", "xml"])
    assert raised.value.code == 2
    assert "unknown format 'xml'" in capsys.readouterr().err
    with pytest.raises(SystemExit) as raised:
        main(["scan", "--fail-on", "severe"])
    assert raised.value.code == 2


def test_incomplete_scan_without_findings_exits_3(tree: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tree / "app.py").write_text(SAFE)
    (tree / "broken.py").write_text("from flask import session\ndef f(:\n")
    assert main(["scan"]) == 3
    out = capsys.readouterr().out
    assert "broken.py: syntax: invalid syntax [2:7]" in out
    assert "1 file could not be analysed (1 syntax)" in out


def test_findings_win_over_incompleteness(tree: Path) -> None:
    (tree / "app.py").write_text(VULNERABLE)
    (tree / "broken.py").write_text("from flask import session\ndef f(:\n")
    assert main(["scan"]) == 1


def test_fail_on_and_exit_zero(tree: Path) -> None:
    (tree / "app.py").write_text(VULNERABLE)  # a cookie store: low severity
    assert main(["scan", "--fail-on", "high"]) == 0
    assert main(["scan", "--fail-on", "low"]) == 1
    assert main(["scan", "--exit-zero"]) == 0


def test_min_severity_hides_findings(tree: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tree / "app.py").write_text(VULNERABLE)
    assert main(["scan", "--min-severity", "medium", "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["findings"] == []


def test_output_file(tree: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tree / "app.py").write_text(VULNERABLE)
    assert main(["scan", "--format", "json", "--output", "report.json"]) == 1
    assert capsys.readouterr().out == ""
    assert json.loads((tree / "report.json").read_text())["findings"][0]["line"] == 4


def test_unwritable_output_is_a_usage_error(tree: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tree / "app.py").write_text(SAFE)
    assert main(["scan", "--output", str(tree / "missing" / "r.json")]) == 2
    assert "cannot write" in capsys.readouterr().err


def test_missing_path_is_a_usage_error_not_a_crash(tree: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["scan", "nope"]) == 2
    assert "sessguard: error: no such file or directory: nope" in capsys.readouterr().err


def test_version_and_help() -> None:
    result = run("--version")
    assert result.returncode == 0 and result.stdout.strip() == f"sessguard {__version__}"
    result = run("scan", "--help")
    assert result.returncode == 0
    assert "examples:" in result.stdout and "--format" in result.stdout
    result = run()
    assert result.returncode == 2


def test_python_dash_m_from_a_hostile_tree(tmp_path: Path) -> None:
    """A scanned tree's look-alike modules are never imported (nor executed)."""
    marker = tmp_path / "imported"
    for name in ("ast", "re", "json", "argparse", "typing"):
        (tmp_path / f"{name}.py").write_text(f"open({str(marker)!r}, 'w').write('{name}')\n")
    (tmp_path / "app.py").write_text(VULNERABLE)
    result = run("scan", ".", "--format", "json", cwd=tmp_path)
    assert result.returncode == 1, result.stderr
    assert not marker.exists()
    assert json.loads(result.stdout)["findings"][0]["path"] == "app.py"


def test_no_traceback_on_internal_errors(
    tree: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    (tree / "app.py").write_text(SAFE)

    def explode(*args: object, **kwargs: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr("sessguard.pipeline.scan", explode)
    assert main(["scan"]) == 2
    err = capsys.readouterr().err
    assert "internal error: RuntimeError: boom" in err and "Traceback" not in err


def test_min_confidence_hides_and_fail_on_is_separate(tree: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # a write with no credential check nor auth-ish name: medium confidence
    (tree / "app.py").write_text("from flask import session\n\ndef pick(team):\n    session['role'] = team\n")
    assert main(["scan", "--format", "json"]) == 1
    assert json.loads(capsys.readouterr().out)["findings"][0]["confidence"] == "medium"
    assert main(["scan", "--min-confidence", "high"]) == 0
    assert "1 below --min-severity/--min-confidence" in capsys.readouterr().out
    assert main(["scan", "--fail-on", "medium"]) == 0  # low severity (cookie store) does not fail
    assert main(["scan", "--fail-on", "low", "--min-severity", "low"]) == 1


@pytest.mark.parametrize("jobs", ["0", "-1", "many"])
def test_jobs_must_be_a_positive_number(tree: Path, jobs: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stop:
        main(["scan", "--jobs", jobs])
    assert stop.value.code == 2
    assert "--jobs" in capsys.readouterr().err


def test_cache_goes_where_asked_and_nowhere_with_no_cache(
    tree: Path, monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory
) -> None:
    (tree / "app.py").write_text(VULNERABLE)
    default = tmp_path_factory.mktemp("default-cache")
    chosen = tmp_path_factory.mktemp("chosen-cache")
    monkeypatch.setenv("SESSGUARD_CACHE_DIR", str(default))
    assert main(["scan", "--no-cache"]) == 1
    assert not any(default.rglob("*.json"))
    assert main(["scan"]) == 1
    assert any(default.rglob("*.json"))
    assert main(["scan", "--cache-dir", str(chosen)]) == 1
    assert any(chosen.rglob("*.json"))
    assert not any(tree.rglob("*.json")), "the cache never lands in the scanned tree"


def test_statistics_name_the_stages_and_files(tree: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tree / "app.py").write_text(VULNERABLE)
    (tree / "maths.py").write_text("def add(a, b):\n    return a + b\n")
    assert main(["scan", "--statistics", "--no-cache"]) == 1
    err = capsys.readouterr().err
    assert "parse and extract" in err and "link and judge" in err
    assert "files parsed                  1" in err
    assert "files never parsed            1" in err
    assert "app.py" in err.split("slowest files:")[1]


def test_no_progress_line_when_stderr_is_not_a_terminal(tree: Path) -> None:
    (tree / "app.py").write_text(VULNERABLE)
    result = run("scan", "--no-cache", cwd=tree)
    assert result.returncode == 1
    assert "\r" not in result.stderr and "\x1b" not in result.stderr


@pytest.mark.parametrize("output", ["json", "text", "sarif"])
def test_a_small_scan_imports_only_what_it_uses(tree: Path, output: str) -> None:
    """Start-up is most of a small scan: no process pool for a handful of files, and
    nothing heavy that the run does not use. A finding with an automatic fix is rendered
    from its plan: the scan never imports libcst (only `sessguard fix` does). Without a
    cache nothing loads the cache module or OpenSSL (fingerprints use the interpreter's own
    SHA-256), and parsing the arguments never asks `shutil` for the terminal's width. No
    record is a dataclass (each costs a third of a millisecond to create at import)."""
    (tree / "app.py").write_text(VULNERABLE)
    probe = (
        "import sys\n"
        "from sessguard.cli import main\n"
        f"status = main(['scan', '--no-cache', '--format', '{output}', '--output', 'out'])\n"
        "print(status, ' '.join(sorted(sys.modules)))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=tree, capture_output=True, text=True, timeout=120
    )
    status, *names = result.stdout.split()
    modules = set(names)
    assert status == "1" and "sessguard.pipeline" in modules
    shown = {
        "json": '"edits": [',
        "text": "autofix: `sessguard fix` can insert",
        "sarif": '"insertedContent"',
    }
    assert shown[output] in (tree / "out").read_text()
    heavy = ["multiprocessing", "concurrent.futures", "libcst", "rich", "sessguard.fix.cst"]
    heavy += ["sessguard.cache", "hashlib", "tempfile", "shutil", "dataclasses"]
    heavy += ["sessguard.projects", "sessguard.usage"]  # a directory, which exists and holds files
    if output != "sarif":
        heavy.append("sessguard.render.sarif")
    for name in heavy:
        assert name not in modules, name


@pytest.mark.parametrize(
    "arguments",
    [
        ["scan", "src", "--fail-on", "high", "--format", "sarif:out.sarif", "-q"],
        ["fix", "--diff", "app.py"],
        ["baseline", "write", "b.json", "src", "--no-cache"],
        ["config", "--isolated"],
        ["explain", "python-session-fixation"],
        ["rules"],
        ["scan", "a.py", "--no-project", "--exit-zero"],
    ],
)
def test_a_command_parses_alone_as_in_the_whole_parser(arguments: list[str]) -> None:
    """`main` builds only the parser of the command it is given: the result must be what
    the parser with every command gives."""
    from sessguard.cli import build_parser

    assert vars(build_parser(arguments[0]).parse_args(arguments)) == vars(
        build_parser().parse_args(arguments)
    )


def test_short_hashes_are_sha256() -> None:
    """Fingerprints and statement hashes must stay SHA-256 whatever module computes them
    (baselines and SARIF fingerprints written by earlier versions match on them)."""
    import hashlib

    from sessguard.shorthash import sha256_hex

    for text in ["", "login_user(user)", "session['ü'] = 1\0x", "a" * 5000]:
        assert sha256_hex(text) == hashlib.sha256(text.encode()).hexdigest()


def test_a_command_runs_with_fewer_full_collections_then_restores_them(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import gc

    import sessguard.cli

    seen: list[tuple[int, ...]] = []

    def command(args: object) -> int:
        seen.append(gc.get_threshold())
        raise RuntimeError("a command that fails")

    monkeypatch.setitem(sessguard.cli.COMMANDS, "rules", command)
    before = gc.get_threshold()
    assert sessguard.cli.main(["rules"]) == sessguard.cli.EXIT_USAGE
    assert seen == [sessguard.cli.GC_THRESHOLDS] != [before]
    assert gc.get_threshold() == before


def test_the_command_leaves_the_scan_s_facts_to_the_end_of_the_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`run` ends the process at once: what the scan built is handed over to stay alive
    until then, rather than freed object by object before the report is out. `main`, as
    a library or a test calls it, keeps nothing."""
    import sessguard.cli
    from sessguard.extract.facts import ModuleFacts

    (tmp_path / "app.py").write_text("from flask import session\n\ndef theme(t):\n    session['theme'] = t\n")
    monkeypatch.chdir(tmp_path)
    assert sessguard.cli._LEFT_TO_EXIT is None
    assert sessguard.cli.main(["scan", "--no-cache", "-q", "."]) == 0
    kept: list[object] = []
    monkeypatch.setattr(sessguard.cli, "_LEFT_TO_EXIT", kept)
    assert sessguard.cli.main(["scan", "--no-cache", "-q", "."]) == 0
    (stage,) = kept
    facts = [r for r in stage.out.results.values() if isinstance(r, ModuleFacts)]  # type: ignore[attr-defined]
    assert [f.path for f in facts] == ["app.py"]


def _buffered() -> dict[str, str]:
    """The environment without `PYTHONUNBUFFERED`: output to a pipe is buffered, as on a
    user's machine, so that what is not flushed before the end would be lost."""
    import os

    return {name: value for name, value in os.environ.items() if name != "PYTHONUNBUFFERED"}


def _many_logins(root: Path) -> None:
    """300 one-file logins: a report far over a pipe's buffer."""
    for index in range(300):
        (root / f"login_{index}.py").write_text(VULNERABLE, encoding="utf-8")


def test_the_command_ends_at_once_with_its_whole_output_and_status(tmp_path: Path) -> None:
    """`sessguard` leaves without tearing the interpreter down: what it printed must all be
    out first (a report far over a pipe's buffer), with the exit status of `main`."""
    _many_logins(tmp_path)
    done = subprocess.run(
        [sys.executable, "-m", "sessguard", "scan", str(tmp_path), "--format", "json", "--no-cache"],
        capture_output=True,
        text=True,
        check=False,
        env=_buffered(),
    )
    assert done.returncode == 1, done.stderr
    assert len(json.loads(done.stdout)["findings"]) == 300
    assert done.stderr == ""


def test_a_reader_that_stops_early_gets_no_traceback(tmp_path: Path) -> None:
    _many_logins(tmp_path)
    process = subprocess.Popen(
        [sys.executable, "-m", "sessguard", "scan", str(tmp_path), "--no-cache"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=_buffered(),
    )
    assert process.stdout is not None and process.stderr is not None
    process.stdout.read(100)
    process.stdout.close()  # as `| head -c 100` does
    error = process.stderr.read().decode()
    assert process.wait(timeout=60) == 141  # as a shell shows a command that SIGPIPE ended
    assert error == ""


@pytest.mark.parametrize("command", [["rules"], ["config"], ["explain", "python-session-fixation"]])
def test_what_a_command_prints_is_all_out_before_it_ends(
    command: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    main(command)
    expected = capsys.readouterr().out
    done = subprocess.run(
        [sys.executable, "-m", "sessguard", *command],
        capture_output=True,
        text=True,
        check=False,
        cwd=tmp_path,
        env=_buffered(),
    )
    assert expected and done.stdout == expected, done.stderr
