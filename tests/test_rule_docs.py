"""Rule documentation: listed, explained, rendered to docs/, and its examples run."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import Project

from sessguard.cli import main
from sessguard.model import RULE_ID
from sessguard.rules.catalog import RULES, rendered_doc

HEADINGS = (
    "What it does",
    "Why is this bad?",
    "Example",
    "Use instead",
    "Framework notes",
    "Fix safety",
    "References",
)
DOCS = Path(__file__).resolve().parent.parent / "docs" / "rules"


def test_rules_lists_every_rule(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["rules"]) == 0
    out = capsys.readouterr().out
    assert [line.split()[0] for line in out.splitlines()] == [rule.id for rule in RULES]


def test_explain_prints_the_doc_with_its_fixed_headings(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["explain", RULE_ID]) == 0
    out = capsys.readouterr().out
    positions = [out.index(f"## {heading}\n") for heading in HEADINGS]
    assert positions == sorted(positions)
    assert main(["explain", "no-such-rule"]) == 2


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.id)
def test_example_fires_and_use_instead_does_not(project: Project, rule) -> None:  # type: ignore[no-untyped-def]
    example, fixed = rule.code_block("Example"), rule.code_block("Use instead")
    assert example and fixed
    assert any(f.rule_id == rule.id for f in project(example=example).findings)
    assert not any(f.rule_id == rule.id for f in project(example=fixed).findings)


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.id)
def test_rendered_docs_are_current(rule) -> None:  # type: ignore[no-untyped-def]
    path = DOCS / f"{rule.id}.md"
    assert path.read_text(encoding="utf-8") == rendered_doc(rule), (
        f"{path} is stale: regenerate it with "
        "`python -c 'from sessguard.rules.catalog import *; ...'` (see tests/test_rule_docs.py)"
    )
