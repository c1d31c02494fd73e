"""Every shell command of README.md and docs/ci.md, run as written (issue 14).

The fenced `sh` blocks are taken from the files themselves and run in document order in
one shell, as a reader would type them, in a copy of this checkout (its files as a clone
of this working tree would have them, with `../shared` beside it). Nothing is adapted:
the commands name no placeholder. pip is offline: it installs from a wheelhouse made from
this environment (`wheelhouse.py`). README's test command runs this whole suite in the
copy; there, this one test is deselected, or it would run itself without end.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from harness import SHARED
from wheelhouse import build_wheelhouse

REPO = Path(__file__).resolve().parent.parent
DOCUMENTS = ("README.md", "docs/ci.md")
MARK = "@@sessguard-docs-status"
THIS = "tests/test_documented_commands.py::test_the_documented_shell_commands_run_as_written"


def shell_commands() -> list[str]:
    """The lines of the `sh` blocks, in document order."""
    commands = []
    for name in DOCUMENTS:
        text = (REPO / name).read_text(encoding="utf-8")
        for block in re.findall(r"^```sh\n(.*?)^```", text, re.S | re.M):
            commands += [line for line in block.splitlines() if line.strip()]
    return commands


def sample_summary() -> str:
    """The last line of README's sample output of `sessguard scan examples/`."""
    sample = re.search(
        r"^```\n\$ sessguard scan examples/\n(.*?)^```", (REPO / "README.md").read_text(), re.S | re.M
    )
    assert sample, "README.md shows a sample run"
    return sample.group(1).strip().splitlines()[-1]


def _copy_of_the_checkout(target: Path) -> None:
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=REPO,
        capture_output=True,
        check=True,
    ).stdout.decode()
    for name in filter(None, listed.split("\0")):
        source = REPO / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    (target.parent / "shared").symlink_to(SHARED, target_is_directory=True)
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t"}
    env |= {"GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@t"}
    for command in (["init", "-q"], ["add", "-A"], ["commit", "-q", "-m", "copy"]):
        subprocess.run(["git", *command], cwd=target, check=True, env=env, capture_output=True)


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
def test_the_documented_shell_commands_run_as_written(tmp_path: Path) -> None:
    commands = shell_commands()
    assert any("pytest" in c for c in commands) and any("baseline write" in c for c in commands)
    checkout = tmp_path / "sessguard"
    checkout.mkdir()
    _copy_of_the_checkout(checkout)
    script = "".join(f"{command}\nprintf '\\n{MARK} {i} %d\\n' $?\n" for i, command in enumerate(commands))
    env = {
        **os.environ,
        **build_wheelhouse(tmp_path / "wheels", extras=("test",)),
        "PYTEST_ADDOPTS": f"--deselect {THIS}",
        "NO_COLOR": "1",
    }
    env.pop("VIRTUAL_ENV", None)
    run = subprocess.run(
        ["bash", "-c", script], cwd=checkout, capture_output=True, text=True, env=env, timeout=3600
    )
    output = run.stdout + run.stderr
    statuses = {int(i): int(s) for i, s in re.findall(rf"^{MARK} (\d+) (\d+)$", run.stdout, re.M)}
    assert sorted(statuses) == list(range(len(commands))), output[-4000:]
    for i, command in enumerate(commands):
        # 0 clean, 1 findings, 3 incomplete are results; 2 is a usage error, 126/127 no command
        assert statuses[i] in (0, 1, 3), f"{command!r} exited {statuses[i]}\n{output[-4000:]}"
        if "pytest" in command:
            assert statuses[i] == 0, f"{command!r} failed\n{output[-4000:]}"
        if command.endswith("sessguard scan examples/"):
            assert statuses[i] == 1 and f"\n{sample_summary()}\n" in run.stdout
        if command.startswith("sessguard scan --baseline"):
            assert statuses[i] == 0, f"{command!r}: the findings just accepted are reported\n{output[-4000:]}"
    assert "Traceback" not in output and "internal error" not in output
