"""What the configuration tells its writer (issue 14): every unknown key with a "did you
mean", a misspelled `[tool.sessguard]` table, and `sessguard config` as TOML that parses
back to the same configuration."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import pytest
from msgspec.structs import fields

from sessguard.cli import main
from sessguard.config import KEYS, Config, load_config
from sessguard.discover import DEFAULT_EXCLUDED_DIRS
from sessguard.render.config import default_exclude
from sessguard.suggest import did_you_mean, one_edit_apart
from sessguard.tomlfile import parser


@pytest.fixture
def tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "app.py").write_text("x = 1\n")
    return tmp_path


def write(path: Path, text: str) -> None:
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")


# -- unknown keys -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "prefix"), [("pyproject.toml", "[tool.sessguard]\n"), (".sessguard.toml", "")]
)
def test_every_unknown_key_is_listed_each_with_a_suggestion(
    tree: Path, capsys: pytest.CaptureFixture[str], name: str, prefix: str
) -> None:
    write(tree / name, prefix + 'exlude = ["a/"]\nfail_on = "high"\nfail-on = "high"\ncolour = true\n')
    assert main(["scan"]) == 2
    err = capsys.readouterr().err
    assert f"sessguard: error: {name}: unknown keys:\n" in err
    assert "  'exlude' (did you mean 'exclude'?)\n" in err
    assert "  'fail_on' (did you mean 'fail-on'?)\n" in err
    assert "  'colour'\n" in err  # nothing close: no guess
    assert f"known keys: {', '.join(sorted(KEYS))}" in err


def test_suggestions_prefer_a_spelling_difference_of_case_or_separator() -> None:
    assert did_you_mean("Max_File_Size", KEYS) == "max-file-size"
    assert did_you_mean("extend-exlude", KEYS) == "extend-exclude"
    assert did_you_mean("zzz", KEYS) is None


# -- misspelled [tool.sessguard] --------------------------------------------------------------


@pytest.mark.parametrize("table", ["sesguard", "sessgaurd", "sessguards", "Sessguard", "ssessguard"])
def test_a_tool_table_one_edit_from_sessguard_is_a_warning(
    tree: Path, capsys: pytest.CaptureFixture[str], table: str
) -> None:
    write(tree / "pyproject.toml", f'[tool.{table}]\nfail-on = "high"\n[tool.ruff]\nline-length = 100\n')
    assert main(["scan"]) == 0
    err = capsys.readouterr().err
    assert err.splitlines() == [
        f"sessguard: warning: pyproject.toml: [tool.{table}] is not read by sessguard: "
        "did you mean [tool.sessguard]?"
    ]


def test_the_warning_also_comes_beside_a_real_table_and_never_for_other_tools(
    tree: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(tree / "pyproject.toml", '[tool.sessguard]\nfail-on = "high"\n[tool.sesguard]\nx = 1\n')
    assert main(["scan"]) == 0
    assert "[tool.sesguard] is not read" in capsys.readouterr().err
    write(tree / "pyproject.toml", "[tool.sessguard]\n[tool.ruff]\n[tool.bandit]\n[tool.sess]\n")
    assert main(["scan"]) == 0
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("sesguard", True),
        ("sessgaurd", True),
        ("sessguards", True),
        ("sessguarx", True),
        ("sessguard", False),
        ("sesgaurd", False),
        ("guardsess", False),
        ("sessguardss", False),
    ],
)
def test_one_edit_apart(written: str, expected: bool) -> None:
    assert one_edit_apart(written, "sessguard") is expected
    assert one_edit_apart("sessguard", written) is expected


# -- sessguard config ---------------------------------------------------------------------------


def printed(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[str, dict[str, Any]]:
    assert main(["config", *args]) == 0
    out = capsys.readouterr().out
    return out, parser().loads(out)


def test_config_prints_toml_with_every_default_value(tree: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out, values = printed(capsys)
    assert set(values) == set(KEYS)
    assert values["exclude"] == [f"{name}/" for name in sorted(DEFAULT_EXCLUDED_DIRS)]
    assert "(default)" not in out
    lines = {line.split(" = ", 1)[0]: line for line in out.splitlines()[1:]}
    defaults = Config()
    for key, (attribute, _) in KEYS.items():
        assert lines[key].endswith("  # default"), lines[key]
        if attribute == "exclude":
            continue
        value = getattr(defaults, attribute)
        expected = value.label if hasattr(value, "label") else value
        assert values[key] == (list(expected) if isinstance(expected, tuple) else expected), key


def test_config_output_reads_back_as_the_same_configuration(
    tree: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(
        tree / "pyproject.toml",
        """
        [tool.sessguard]
        fail-on = "medium"
        auth-functions = ["app.auth.sign_in", "quote\\"and\\\\back"]
        regenerate-functions = {"app.auth.fresh" = "before", "b.c" = "either"}
        session-store = {flask = "server"}
        file-timeout = 2.5
        identity-keys = ["bell\\u0007", "rtl\\u202e"]
        """,
    )
    out, values = printed(capsys, "--select", "python-session-fixation", "--no-prefilter")
    assert "\x07" not in out and "\u202e" not in out  # escaped for the terminal, and for TOML
    assert 'fail-on = "medium"  # pyproject.toml\n' in out
    assert 'select = ["python-session-fixation"]  # --select\n' in out
    assert "prefilter = false  # --no-prefilter\n" in out
    (tree / ".sessguard.toml").write_text(out, encoding="utf-8")
    original = load_config(["."], explicit="pyproject.toml").config
    reread = load_config(["."], explicit=".sessguard.toml").config
    for field in fields(Config):
        if field.name in ("select", "prefilter"):
            continue  # from the flags
        mine = getattr(original, field.name)
        if field.name == "exclude":
            assert mine is None and reread.exclude == default_exclude()
        else:
            assert getattr(reread, field.name) == mine, field.name
    assert reread.select == ("python-session-fixation",) and reread.prefilter is False
    assert values["identity-keys"] == ["bell\x07", "rtl\u202e"]


def test_the_table_warning_is_inert(tree: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(tree / "pyproject.toml", '[tool."sessguar\\u001b"]\nx = 1\n')
    assert main(["scan"]) == 0
    err = capsys.readouterr().err
    assert "\x1b" not in err and "[tool.sessguar\\x1b] is not read" in err
