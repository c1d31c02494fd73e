"""Configuration (SPEC §10): found without a flag, validated, and changing the analysis."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from harness import write

from sessguard.cli import main
from sessguard.config import ConfigError, load_config
from sessguard.model import Level, Store

HELPER_LOGIN = """
from flask import session

from .models import Account


def sign_in(account):
    session["principal_ref"] = account.ref


def issue_token(account):
    return account.token()


def login(account):
    sign_in(account)
"""


@pytest.fixture
def tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


def findings(capsys: pytest.CaptureFixture[str], *args: str) -> list[tuple[str, int]]:
    main(["scan", "--format", "json", *args])
    return [(f["path"], f["line"]) for f in json.loads(capsys.readouterr().out)["findings"]]


def test_pyproject_section_is_read_without_a_flag(tree: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(tree / "pyproject.toml", '[tool.sessguard]\nfail-on = "high"\nmin-confidence = "medium"\n')
    write(tree / "src" / "app.py", "x = 1\n")
    loaded = load_config(["src"])
    assert loaded.config.fail_on is Level.HIGH and loaded.config.min_confidence is Level.MEDIUM
    assert loaded.files == ((tree / "pyproject.toml").as_posix(),)
    assert main(["config", "src"]) == 0
    out = capsys.readouterr().out
    assert 'fail-on = "high"  #' in out and "pyproject.toml" in out
    assert 'min-severity = "low"  # default' in out


def test_sessguard_toml_wins_and_flags_win_over_files(tree: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(tree / "pyproject.toml", '[tool.sessguard]\nfail-on = "high"\n')
    write(tree / "app" / ".sessguard.toml", 'fail-on = "medium"\n')
    assert load_config(["app"]).config.fail_on is Level.MEDIUM
    main(["config", "app", "--fail-on", "low"])
    assert 'fail-on = "low"  # --fail-on' in capsys.readouterr().out


def test_pyproject_without_the_section_means_defaults(tree: Path) -> None:
    write(tree / "pyproject.toml", "[tool.ruff]\nline-length = 100\n")
    loaded = load_config(["."])
    assert loaded.files == () and loaded.config.fail_on is Level.LOW


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[tool.sessguard]\nfail-onn = "high"\n', "unknown key:\n  'fail-onn' (did you mean 'fail-on'?)"),
        ("[tool.sessguard]\nfail-on = 3\n", 'fail-on: expected one of "low", "medium", "high", got int 3'),
        ('[tool.sessguard]\nauth-functions = "a.b"\n', "auth-functions: expected a list of strings"),
        (
            '[tool.sessguard]\nsession-store = {flask = "redis"}\n',
            'session-store: expected "server", "cookie" or "unknown"',
        ),
        (
            '[tool.sessguard]\nsession-store = {flaks = "server"}\n',
            "session-store: expected a known framework name",
        ),
        ("[tool.sessguard\n", "invalid TOML"),
        ("[tool.sessguard]\nx = " + "[" * 100000 + "]" * 100000 + "\n", "pyproject.toml: "),
    ],
)
def test_bad_configuration_is_exit_2_naming_file_and_key(
    tree: Path, capsys: pytest.CaptureFixture[str], text: str, message: str
) -> None:
    write(tree / "pyproject.toml", text)
    write(tree / "app.py", "x = 1\n")
    assert main(["scan"]) == 2
    err = capsys.readouterr().err
    assert message in err and "pyproject.toml" in err and "Traceback" not in err
    with pytest.raises(ConfigError):
        load_config(["."])


def test_isolated_ignores_the_trees_configuration(tree: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(tree / "pyproject.toml", '[tool.sessguard]\nignore = ["python-session-fixation"]\n')
    write(tree / "app.py", "from flask_login import login_user\ndef f(u):\n    login_user(u)\n")
    assert findings(capsys) == []
    assert findings(capsys, "--isolated") == [("app.py", 3)]


def test_explicit_config_file(tree: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(tree / "ci.toml", 'min-severity = "high"\n')
    write(tree / "app.py", "from flask_login import login_user\ndef f(u):\n    login_user(u)\n")
    assert findings(capsys, "--config", "ci.toml") == []
    assert main(["scan", "--config", "missing.toml"]) == 2


def test_report_lists_applied_configuration(tree: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(tree / ".sessguard.toml", 'fail-on = "low"\n')
    write(tree / "app.py", "x = 1\n")
    main(["scan", "--format", "json"])
    assert json.loads(capsys.readouterr().out)["config_files"] == [".sessguard.toml"]


def test_auth_functions_and_identity_keys_change_the_analysis(
    tree: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(tree / "shop" / "__init__.py", "")
    write(tree / "shop" / "models.py", "class Account: pass\n")
    write(tree / "shop" / "views.py", HELPER_LOGIN)
    assert findings(capsys) == []  # "principal_ref" is not an identity key by default
    write(tree / "pyproject.toml", '[tool.sessguard]\nidentity-keys = ["principal_ref"]\n')
    assert findings(capsys) == [("shop/views.py", 15)]
    write(
        tree / "pyproject.toml",
        '[tool.sessguard]\nidentity-keys = ["principal_ref"]\nnot-identity-keys = ["principal_ref"]\n',
    )
    assert findings(capsys) == []
    write(tree / "pyproject.toml", '[tool.sessguard]\nauth-functions = ["shop.views.issue_token"]\n')
    write(
        tree / "shop" / "api.py",
        "from .views import issue_token\n\ndef token(account):\n    return issue_token(account)\n",
    )
    assert findings(capsys) == [("shop/api.py", 4)]


def test_regenerate_functions_protect_logins(tree: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(
        tree / "app.py",
        """
        from flask_login import login_user
        from company.sessions import rotate

        def login(user):
            rotate()
            login_user(user)
        """,
    )
    assert findings(capsys) == [("app.py", 6)]
    write(
        tree / "pyproject.toml",
        '[tool.sessguard]\nregenerate-functions = {"company.sessions.rotate" = "before"}\n',
    )
    assert findings(capsys) == []


def test_session_store_override_sets_severity(tree: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(tree / "app.py", "from flask_login import login_user\ndef f(u):\n    login_user(u)\n")
    main(["scan", "--format", "json"])
    assert json.loads(capsys.readouterr().out)["findings"][0]["severity"] == "low"
    write(tree / "pyproject.toml", '[tool.sessguard]\nsession-store = {flask = "server"}\n')
    main(["scan", "--format", "json"])
    finding = json.loads(capsys.readouterr().out)["findings"][0]
    assert (finding["severity"], finding["session_store"]) == ("high", "server")
    assert load_config(["."]).config.session_store == {"flask": Store.SERVER}


def test_exclude_patterns_and_gitignore(tree: Path, capsys: pytest.CaptureFixture[str]) -> None:
    login = "from flask_login import login_user\ndef f(u):\n    login_user(u)\n"
    for name in ("app.py", "generated/a.py", "vendor/b.py", "ignored/c.py", "build/d.py"):
        write(tree / name, login)
    write(tree / ".gitignore", "ignored/\n")
    assert sorted(p for p, _ in findings(capsys)) == ["app.py", "generated/a.py", "vendor/b.py"]
    write(tree / "pyproject.toml", '[tool.sessguard]\nextend-exclude = ["generated/"]\n')
    assert sorted(p for p, _ in findings(capsys)) == ["app.py", "vendor/b.py"]
    write(tree / "pyproject.toml", '[tool.sessguard]\nexclude = ["vendor"]\nrespect-gitignore = false\n')
    assert sorted(p for p, _ in findings(capsys)) == [
        "app.py",
        "build/d.py",
        "generated/a.py",
        "ignored/c.py",
    ]
