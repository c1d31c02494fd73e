"""The path analysis against an independent oracle (SPEC §7).

Hypothesis builds small views and helpers from the statements that matter (auth events,
regenerations of each order, false friends, branches, loops, `while True` with `break`,
`try`/`except`/`finally`, `return`/`raise`, helper calls), renders them into a Django and
a Flask-Session project, and scans them in-process like any other test. For every view
and every uncalled helper, the lines sessguard reports must be exactly those the
brute-force enumerator of `tests/oracle/verdicts.py` says SPEC §7 reports. The two share
no code: the enumerator is written from the spec alone.

Each example is a module of several programs (their functions never call each other's),
so that one scan decides many programs; a failure shrinks to the program that differs.
The examples are derandomized and no database is kept: every CI run checks the same
programs, and a failure is reproduced by running the test again.

Auth events and helper calls in `finally` blocks are generated too. The engine builds a
`finally` once per way out of its `try`; each disagreement the oracle found there is kept
below as a program of its own (`FINALLY_DISAGREEMENTS`), checked on every run.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from oracle.generate import programs
from oracle.programs import (
    DIALECTS,
    DJANGO,
    Break,
    Call,
    Continue,
    Dialect,
    Event,
    If,
    Neutral,
    Program,
    Raise,
    Regen,
    Try,
    WhileTrue,
    layout,
)
from oracle.verdicts import TooManyPaths, verdict

from sessguard.pipeline import scan

EXAMPLES = 650  # modules per framework, about 4.5 programs each: some 3,000 programs


def engine_lines(dialect: Dialect, source: str) -> tuple[set[int], list[str]]:
    with tempfile.TemporaryDirectory() as directory:
        for name, text in dialect.files.items():
            Path(directory, name).write_text(text, encoding="utf-8")
        Path(directory, dialect.module).write_text(source, encoding="utf-8")
        report = scan([directory])
    return {f.span.line for f in report.findings}, [f"{e.kind}: {e.message}" for e in report.errors]


def oracle_lines(batch: list[Program], dialect: Dialect) -> tuple[str, set[int]]:
    """The module of the batch's programs and the lines the oracle reports in it. A program
    with too many paths to list is left out of the module."""
    while True:
        rendered = layout(tuple(batch), dialect)
        found: set[int] = set()
        for index, one in enumerate(rendered):
            try:
                found |= verdict(one.program)
            except TooManyPaths:
                batch = batch[:index] + batch[index + 1 :]
                break
        else:
            return rendered[0].source, found


def disagreement(source: str, engine: set[int], oracle: set[int]) -> str:
    lines = source.splitlines()
    parts = [source]
    for line in sorted(engine ^ oracle):
        who = "sessguard reports it, the oracle does not" if line in engine else "only the oracle reports it"
        parts.append(f"line {line}: {lines[line - 1].strip()}  <- {who}")
    return "\n".join(parts)


@pytest.mark.parametrize("dialect", DIALECTS, ids=lambda d: d.name)
def test_the_engine_decides_every_auth_event_as_the_oracle_does(dialect: Dialect) -> None:
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )
    @given(st.lists(programs(dialect), min_size=1, max_size=12))
    def agree(batch: list[Program]) -> None:
        source, expected = oracle_lines(batch, dialect)
        got, errors = engine_lines(dialect, source)
        assert not errors, errors
        assert got == expected, disagreement(source, got, expected)

    agree()


# Programs on which the engine once disagreed with the oracle: each judged a statement of a
# `finally` block copy by copy, where SPEC §7 judges it once, over the paths of all copies.
FINALLY_DISAGREEMENTS = {
    # the normal way out reaches the write after an unprotected login, the exceptional way
    # out after the handler's regeneration; clause 1 fails through the first copy, clause 2
    # through the first copy's path to the end: the write is reported
    "unprotected through one copy only": Program(
        (), (Try((Try((Event(1),), None, (Event(0),)),), (Regen("either"),), None),)
    ),
    # the exceptional copy lands in a handler that never ends; the normal copy's only path to
    # an exit regenerates: clause 2 holds for the statement, which is protected
    "one copy reaches no exit": Program(
        (), (Try((Try((Neutral(),), None, (Event(0),)),), (WhileTrue((Continue(),)),), None), Regen("either"))
    ),
    # the write follows one unprotected login on the normal way out and another on the way
    # out by `raise`: no single event comes before it on every path, so it is not folded
    "folded into different events per copy": Program(
        (),
        (Try((If((Event(0),), (Event(0), Raise())),), None, (Event(0),)),),
    ),
    # the same, with the second login replaced by a regeneration: the write still follows
    # no unprotected event on the way out by `raise`, so it is reported beside the login
    "one copy after a regeneration": Program(
        (),
        (Try((If((Event(0),), (Regen("either"), Raise())),), None, (Event(0),)),),
    ),
}


@pytest.mark.parametrize("dialect", DIALECTS, ids=lambda d: d.name)
@pytest.mark.parametrize("name", FINALLY_DISAGREEMENTS)
def test_a_statement_in_a_finally_block_is_decided_once(dialect: Dialect, name: str) -> None:
    source, expected = oracle_lines([FINALLY_DISAGREEMENTS[name]], dialect)
    got, errors = engine_lines(dialect, source)
    assert not errors, errors
    assert got == expected, disagreement(source, got, expected)


# -- the oracle itself, on programs whose answer SPEC §7 states outright -------------------


def decided(*programs_: Program) -> set[int]:
    return oracle_lines(list(programs_), DJANGO)[1]


def event_lines(program: Program) -> list[int]:
    rendered = layout((program,), DJANGO)[0]
    source = rendered.source.splitlines()
    return [n for n, text in enumerate(source, 1) if "otp_login(request" in text or '["user_id"]' in text]


def test_the_oracle_reports_a_bare_login_and_not_one_after_a_regeneration() -> None:
    bare = Program((), (Event(1),))
    assert decided(bare) == set(event_lines(bare))
    assert decided(Program((), (Regen("before"), Event(1)))) == set()
    assert decided(Program((), (Event(1), Regen("either")))) == set()
    # a `before` regeneration does not protect what precedes it
    late = Program((), (Event(1), Regen("before")))
    assert decided(late) == set(event_lines(late))


def test_the_oracle_follows_a_branch_that_skips_the_regeneration() -> None:
    one_branch = Program((), (If((Regen("either"),), (Neutral(),)), Event(0)))
    assert decided(one_branch) == set(event_lines(one_branch))
    both = Program((), (If((Regen("either"),), (Regen("before"),)), Event(0)))
    assert decided(both) == set()


def test_the_oracle_leaves_a_retry_loop_only_by_its_break() -> None:
    retry = Program((), (Event(0), WhileTrue((Regen("either"), Break()))))
    assert decided(retry) == set()


def test_the_oracle_lets_a_failed_regeneration_reach_the_handler() -> None:
    guarded = Program((), (Try((Regen("before"),), (Neutral(),), None), Event(0)))
    assert decided(guarded) == set(event_lines(guarded))
    reraised = Program((), (Try((Regen("before"),), (Raise(),), None), Event(0)))
    assert decided(reraised) == set()


def test_the_oracle_reports_a_helper_login_at_the_call_and_folds_what_follows() -> None:
    helper_login = Program(((Event(0),),), (Call(0), Event(1)))
    lines = event_lines(helper_login)  # the helper's event, then the view's
    source = layout((helper_login,), DJANGO)[0].source.splitlines()
    call = next(n for n, text in enumerate(source, 1) if text.strip().startswith("helper_0_0("))
    assert lines[0] < call < lines[1]
    assert decided(helper_login) == {call}  # the view's own login is folded into the call


@pytest.mark.parametrize("dialect", DIALECTS, ids=lambda d: d.name)
def test_the_generated_projects_keep_their_sessions_on_the_server(dialect: Dialect) -> None:
    """The oracle's reading of each call (SPEC §5.1/§5.2) holds for a server store only: on
    a cookie store `clear()` would be a regeneration, not a false friend."""
    source = layout((Program((), (Event(0),)),), dialect)[0].source
    with tempfile.TemporaryDirectory() as directory:
        for name, text in dialect.files.items():
            Path(directory, name).write_text(text, encoding="utf-8")
        Path(directory, dialect.module).write_text(source, encoding="utf-8")
        report = scan([directory])
    assert [f.session_store.value for f in report.findings] == ["server"]
