"""Inline suppressions: named rules, reasons, multi-line statements, the line above; bare
and unused suppressions are reported; `# nosec` with the rule id is honoured."""

from __future__ import annotations

import json

import pytest
from conftest import Project
from hypothesis import given, settings
from hypothesis import strategies as st

from sessguard.cli import main
from sessguard.filters import parse_suppressions
from sessguard.model import RULE_ID, SUPPRESSION_RULE_ID

HEAD = "from flask_login import login_user\n\n\ndef login(user, remember):\n"


def lines(report) -> list[tuple[str, int]]:  # type: ignore[no-untyped-def]
    return [(f.rule_id, f.span.line) for f in report.findings]


def test_named_suppression_with_reason(project: Project) -> None:
    report = project(
        app=HEAD + "    login_user(user)  # sessguard: ignore[python-session-fixation] -- kiosk only\n"
    )
    assert lines(report) == []
    [suppressed] = report.suppressed
    assert (suppressed.kind, suppressed.reason, suppressed.finding.span.line) == ("inline", "kiosk only", 5)


@pytest.mark.parametrize("line", [0, 1, 2, 3])
def test_any_line_of_a_multiline_statement_or_the_line_above(project: Project, line: int) -> None:
    body = ["    login_user(", "        user,", "        remember=remember,", "    )"]
    comment = "  # sessguard: ignore[python-session-fixation]"
    if line == 0:
        body.insert(0, "    # sessguard: ignore[python-session-fixation]")
    else:
        body[line] += comment
    report = project(app=HEAD + "\n".join(body) + "\n")
    assert lines(report) == [] and len(report.suppressed) == 1


def test_a_comment_two_lines_above_does_not_suppress(project: Project) -> None:
    report = project(
        app=HEAD + "    # sessguard: ignore[python-session-fixation]\n    x = 1\n    login_user(user)\n"
    )
    assert lines(report) == [(SUPPRESSION_RULE_ID, 5), (RULE_ID, 7)]


def test_bare_ignore_suppresses_nothing_and_is_reported(project: Project) -> None:
    report = project(app=HEAD + "    login_user(user)  # sessguard: ignore\n")
    assert sorted(lines(report)) == [(RULE_ID, 5), (SUPPRESSION_RULE_ID, 5)]
    problem = next(f for f in report.findings if f.rule_id == SUPPRESSION_RULE_ID)
    assert problem.message.startswith("A bare `# sessguard: ignore` suppresses nothing")


def test_other_rules_do_not_match(project: Project) -> None:
    report = project(app=HEAD + "    login_user(user)  # sessguard: ignore[some-other-rule]\n")
    assert (RULE_ID, 5) in lines(report)


def test_unused_suppression_is_reported_unless_turned_off(project: Project) -> None:
    source = HEAD + "    x = 1  # sessguard: ignore[python-session-fixation]\n    return x\n"
    report = project(app=source)
    [problem] = report.findings
    assert problem.rule_id == SUPPRESSION_RULE_ID and problem.message.startswith("Unused suppression")
    assert main(["scan", "--no-report-unused-suppressions"]) == 0


def test_nosec_with_the_rule_id(project: Project) -> None:
    report = project(app=HEAD + "    login_user(user)  # nosec python-session-fixation\n")
    assert lines(report) == [] and report.suppressed[0].reason == "# nosec"
    report = project(app=HEAD + "    login_user(user)  # nosec\n")
    assert lines(report) == [(RULE_ID, 5)]  # a bare nosec is Bandit's, not a sessguard suppression


def test_show_suppressed(project: Project, capsys: pytest.CaptureFixture[str]) -> None:
    project(app=HEAD + "    login_user(user)  # sessguard: ignore[python-session-fixation] -- kiosk\n")
    assert main(["scan"]) == 0
    out = capsys.readouterr().out
    assert "login_user" not in out and "1 suppressed inline" in out
    main(["scan", "--show-suppressed"])
    assert "[suppressed: kiosk]" in capsys.readouterr().out
    main(["scan", "--show-suppressed", "--format", "json"])
    data = json.loads(capsys.readouterr().out)
    assert data["findings"] == [] and data["suppressed"][0]["suppression"] == {
        "kind": "inline",
        "reason": "kiosk",
    }


def test_comments_in_strings_are_not_suppressions(project: Project) -> None:
    report = project(app=HEAD + '    login_user(user, "# sessguard: ignore[python-session-fixation]")\n')
    assert lines(report) == [(RULE_ID, 5)]


def test_parse_forms() -> None:
    parsed = parse_suppressions(
        "a.py",
        [
            (1, "# sessguard: ignore[python-session-fixation, other] -- why not"),
            (2, "#sessguard:ignore"),
            (3, "# nosec: python-session-fixation, B602"),
        ],
    )
    assert [(s.line, s.rules, s.reason, s.kind) for s in parsed] == [
        (1, ("python-session-fixation", "other"), "why not", "sessguard"),
        (2, None, "", "sessguard"),
        (3, ("python-session-fixation", "B602"), "", "nosec"),
    ]


def _tokenized(text: str) -> tuple[tuple[int, str], ...]:
    """The comments mentioning sessguard or nosec, from the tokenizer alone."""
    import io
    import tokenize

    found = []
    try:
        for token in tokenize.generate_tokens(io.StringIO(text).readline):
            if token.type == tokenize.COMMENT and ("sessguard" in token.string or "nosec" in token.string):
                found.append((token.start[0], token.string))
    except (tokenize.TokenError, SyntaxError, ValueError):
        pass
    return tuple(found)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            [
                "x = 1",
                "# nosec",
                "  # sessguard: ignore",
                "s = '# nosec'",
                's = "sessguard"',
                '"""',
                "'''",
                "x = '''#",
                "nosec = 2  # a",
                "f(a,",
                ")  # sessguard",
                "#",
                "\\",
                "y = 'a # b'  # nosec",
            ]
        ),
        max_size=8,
    )
)
def test_comments_are_found_as_the_tokenizer_finds_them(parts: list[str]) -> None:
    """Suppression comments are looked for by the tokenizer only when a mention follows a
    `#` on its line; that shortcut never changes what is found."""
    from sessguard.extract.comments import suppression_comments

    text = "\n".join(parts) + "\n"
    assert suppression_comments(text) == _tokenized(text)
