"""Command-line mistakes (issue 14): what cannot be meant is exit 2 naming the fix, what is
probably not meant is a warning on stderr, and `fix --diff`/`--check` fail while fixes
are pending."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from harness import VULNERABLE, write

from sessguard.cli import main
from sessguard.rules.catalog import BY_ID


@pytest.fixture
def tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


def reported(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, list[str]]:
    status = main(["scan", "--format", "json", "--no-cache", *args])
    return status, sorted(f["path"] for f in json.loads(capsys.readouterr().out)["findings"])


# -- unknown rule ids -------------------------------------------------------------------------


@pytest.mark.parametrize("flag", ["--select", "--ignore"])
def test_an_unknown_rule_id_on_the_command_line_is_exit_2_listing_the_known_ones(
    tree: Path, capsys: pytest.CaptureFixture[str], flag: str
) -> None:
    write(tree / "app.py", VULNERABLE)
    assert main(["scan", flag, "python-session-fixaton", flag, "no-such-rule"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert f"{flag}: unknown rule ids:" in captured.err
    assert "'python-session-fixaton' (did you mean 'python-session-fixation'?)" in captured.err
    assert "'no-such-rule'\n" in captured.err
    assert f"known rule ids: {', '.join(sorted(BY_ID))}" in captured.err


@pytest.mark.parametrize(
    ("name", "prefix"), [("pyproject.toml", "[tool.sessguard]\n"), (".sessguard.toml", "")]
)
@pytest.mark.parametrize("key", ["select", "ignore"])
def test_an_unknown_rule_id_in_the_configuration_is_exit_2(
    tree: Path, capsys: pytest.CaptureFixture[str], name: str, prefix: str, key: str
) -> None:
    write(tree / name, f'{prefix}{key} = ["python-session-fixation", "sesion-fixation"]\n')
    write(tree / "app.py", VULNERABLE)
    assert main(["scan"]) == 2
    err = capsys.readouterr().err
    assert f"{name}: {key}: unknown rule id:" in err and "'sesion-fixation'" in err
    assert "known rule ids: " in err


def test_known_rule_ids_still_select_and_ignore(tree: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(tree / "app.py", VULNERABLE)
    assert reported(capsys, "--select", "python-session-fixation") == (1, ["app.py"])
    assert reported(capsys, "--ignore", "python-session-fixation") == (0, [])


# -- paths ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "command", [["scan"], ["config"], ["fix", "--diff"], ["baseline", "write", "b.json"]]
)
def test_a_path_that_does_not_exist_is_a_usage_error(
    tree: Path, capsys: pytest.CaptureFixture[str], command: list[str]
) -> None:
    write(tree / "app.py", VULNERABLE)
    assert main([*command, "app.py", "nope", "gone\x1b[2J/"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "sessguard: error: no such file or directory: nope, gone\\x1b[2J/\n" in captured.err
    assert not (tree / "b.json").exists()


def test_a_dangling_link_is_still_a_file_that_could_not_be_read(
    tree: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    os.symlink(tree / "missing.py", tree / "link.py")
    assert main(["scan", "link.py"]) == 3
    assert "link.py: not-found: " in capsys.readouterr().out


def test_no_python_files_is_a_warning_and_the_status_stays(
    tree: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(tree / "README.md", "# no code here\n")
    assert main(["scan", "."]) == 0
    captured = capsys.readouterr()
    assert "0 files scanned; no findings." in captured.out
    assert "sessguard: warning: no Python files found in . " in captured.err
    write(tree / "app" / "views.py", VULNERABLE)
    assert main(["scan", ".", "--extend-exclude", "app/"]) == 0  # excludes count
    assert "warning: no Python files found" in capsys.readouterr().err
    assert main(["scan", "."]) == 1
    assert "warning" not in capsys.readouterr().err


# -- --exclude / --extend-exclude ---------------------------------------------------------------


def test_extend_exclude_adds_to_the_configured_patterns(
    tree: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for folder in ("app", "generated", "vendored", "build"):
        write(tree / folder / "views.py", VULNERABLE)
    write(tree / "pyproject.toml", '[tool.sessguard]\nextend-exclude = ["vendored/"]\n')
    assert reported(capsys)[1] == ["app/views.py", "generated/views.py"]  # build/: a default exclude
    assert reported(capsys, "--extend-exclude", "generated/") == (1, ["app/views.py"])
    assert reported(capsys, "--extend-exclude", "generated/", "--extend-exclude", "app/") == (0, [])
    assert main(["config", "--extend-exclude", "generated/"]) == 0
    out = capsys.readouterr().out
    assert 'extend-exclude = ["vendored/", "generated/"]  # pyproject.toml, --extend-exclude' in out


def test_exclude_replaces_the_default_excluded_directories(
    tree: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for folder in ("app", "generated", "build"):
        write(tree / folder / "views.py", VULNERABLE)
    assert reported(capsys, "--exclude", "generated/") == (1, ["app/views.py", "build/views.py"])
    both = reported(capsys, "--exclude", "generated/", "--exclude", "build/")
    assert both == (1, ["app/views.py"])
    assert main(["config", "--exclude", "generated/"]) == 0
    assert 'exclude = ["generated/"]  # --exclude\n' in capsys.readouterr().out


# -- fix --diff / --check ---------------------------------------------------------------------


def test_fix_diff_and_check_exit_1_while_fixes_are_pending(
    tree: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(tree / "app.py", VULNERABLE)
    assert main(["fix", "--diff", "--no-cache"]) == 1
    captured = capsys.readouterr()
    assert "+    session.clear()" in captured.out and "would fix 1 finding in 1 file" in captured.err
    assert main(["fix", "--check", "--no-cache"]) == 1
    assert capsys.readouterr() == ("", "")  # quiet: the status says it
    assert (tree / "app.py").read_text() == VULNERABLE  # neither writes
    assert main(["fix", "--no-cache"]) == 0
    capsys.readouterr()
    assert main(["fix", "--diff", "--no-cache"]) == 0
    assert capsys.readouterr().out == ""
    assert main(["fix", "--check", "--no-cache"]) == 0


def test_fix_diff_and_check_are_one_or_the_other(tree: Path) -> None:
    with pytest.raises(SystemExit) as raised:
        main(["fix", "--diff", "--check"])
    assert raised.value.code == 2
