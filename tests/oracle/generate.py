"""Hypothesis strategies for the programs of `oracle.programs`.

Blocks are short and nesting shallow: the interesting interactions (a regeneration in one
branch, a `break` after it, a handler that skips it, a helper that regenerates on some
paths only) need few statements, and short programs keep the path count small enough to
list every path. `break`/`continue` appear only inside loops, `return`/`break` never in a
`finally` (Python warns about both), and helper `i` calls only helpers below `i`.
"""

from __future__ import annotations

import functools

from hypothesis import strategies as st

from oracle.programs import (
    Block,
    Break,
    Call,
    Continue,
    Dialect,
    Event,
    FalseFriend,
    For,
    If,
    Neutral,
    Program,
    Raise,
    Regen,
    Return,
    Stmt,
    Try,
    While,
    WhileTrue,
)

MAX_HELPERS = 2


@functools.cache
def block(
    orders: tuple[str, ...], depth: int, helpers: int, in_loop: bool, in_finally: bool
) -> st.SearchStrategy[Block]:
    events: list[st.SearchStrategy[Stmt]] = [st.builds(Event, st.integers(0, 1))] * 2
    atoms: list[st.SearchStrategy[Stmt]] = [
        *events,
        st.sampled_from(orders).map(Regen),
        st.sampled_from(orders).map(Regen),
        st.builds(FalseFriend, st.integers(0, 2)),
        st.just(Neutral()),
        st.just(Raise()),
    ]
    if helpers:
        atoms.append(st.integers(0, helpers - 1).map(Call))
    if not in_finally:
        atoms.append(st.just(Return()))
        if in_loop:
            atoms += [st.just(Break()), st.just(Continue())]
    choices = list(atoms)
    if depth > 0:
        inner = block(orders, depth - 1, helpers, in_loop, in_finally)
        looped = block(orders, depth - 1, helpers, True, in_finally)
        final = block(orders, depth - 1, helpers, False, True)
        maybe = st.one_of(st.just(()), inner)
        choices += [
            st.builds(If, inner, inner),
            st.builds(For, looped, maybe),
            st.builds(While, looped),
            # a retry loop: whatever the body does, the last statement leaves
            looped.map(lambda body: WhileTrue((*body, Break()))),
            looped.map(WhileTrue),
            st.builds(Try, inner, inner, st.one_of(st.none(), final)),
            st.builds(Try, inner, st.none(), final),
        ]
    return st.lists(st.one_of(*choices), min_size=1, max_size=3).map(tuple)


@st.composite
def programs(draw: st.DrawFn, dialect: Dialect) -> Program:
    orders = tuple(sorted(dialect.regenerations))
    count = draw(st.integers(0, MAX_HELPERS))
    helpers = tuple(draw(block(orders, 2, index, False, False)) for index in range(count))
    return Program(helpers, draw(block(orders, 3, count, False, False)))
