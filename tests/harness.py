"""The conformance harness: annotated cases in, missed and false findings out.

Same semantics as `../shared/tools/score_cases.py`: each immediate child of a framework
folder is one project, scanned on its own; a line ending in `# ruleid: <rule>` must get a
finding of that rule, and no other line may get one. `# todoruleid:` and `# todook:` mark a
known miss or a known false alarm: the harness expects the scanner to be wrong there, and
fails when it becomes right, so the marker cannot outlive the bug.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from sessguard.model import RULE_ID
from sessguard.pipeline import scan

ANNOTATION = re.compile(r"#\s*(ruleid|ok|todoruleid|todook)\s*:\s*([\w.\-]+)")
HERE = Path(__file__).resolve().parent
SHARED = HERE.parent.parent / "shared"
SHARED_CASES = SHARED / "cases"
FIXTURES = HERE / "fixtures"


def projects(root: Path) -> list[Path]:
    """Every project under a cases root: the children of its framework folders."""
    found = []
    for framework in sorted(p for p in root.iterdir() if p.is_dir()):
        for child in sorted(framework.iterdir()):
            if child.name.startswith((".", "_")) or child.name == "README.md":
                continue
            if child.suffix == ".py" or child.is_dir():
                found.append(child)
    return found


@dataclass
class Expected:
    must: set[tuple[str, int]] = field(default_factory=set)
    safe: set[tuple[str, int]] = field(default_factory=set)
    todo_miss: set[tuple[str, int]] = field(default_factory=set)
    todo_false: set[tuple[str, int]] = field(default_factory=set)


def expectations(project: Path) -> Expected:
    expected = Expected()
    files = [project] if project.is_file() else sorted(project.rglob("*.py"))
    for path in files:
        for number, text in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            match = ANNOTATION.search(text)
            if not match or match.group(2) != RULE_ID:
                continue
            key = (os.path.realpath(path), number)
            {
                "ruleid": expected.must,
                "ok": expected.safe,
                "todoruleid": expected.todo_miss,
                "todook": expected.todo_false,
            }[match.group(1)].add(key)
    return expected


@dataclass
class Score:
    missed: list[str]
    false: list[str]
    stale_todo: list[str]

    @property
    def clean(self) -> bool:
        return not (self.missed or self.false or self.stale_todo)


def score(project: Path) -> Score:
    expected = expectations(project)
    report = scan([str(project)])
    got = {
        (os.path.realpath(os.path.join(os.getcwd(), f.path)), f.span.line)
        for f in report.findings
        if f.rule_id == RULE_ID
    }
    must = expected.must | expected.todo_false
    missed = sorted(must - got - expected.todo_miss)
    false = sorted(got - must - expected.todo_miss)
    stale = sorted((expected.todo_miss & got) | (expected.todo_false - got))
    return Score(
        [f"MISSED {p}:{n}" for p, n in missed],
        [f"FALSE {p}:{n}" + (" (ok line)" if (p, n) in expected.safe else "") for p, n in false],
        [f"STALE TODO {p}:{n}" for p, n in stale],
    )


# a one-file login and a session use that is not one, for the command-line tests
VULNERABLE = "from flask_login import login_user\n\ndef login(user):\n    login_user(user)\n"
SAFE = "from flask import session\n\ndef prefs(theme):\n    session['theme'] = theme\n"


def write(path: Path, text: str) -> None:
    """Write dedented `text` to `path`, making its directories."""
    import textwrap

    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
