"""What extraction leaves behind: nothing the cycle collector has to find.

A syntax tree caught in a reference cycle outlives its file until a collection runs, and
the scan sets the collector's thresholds high (`cli.GC_THRESHOLDS`) on the strength of
this: every tree is freed by reference counting as soon as its file's facts are built."""

from __future__ import annotations

import ast
import gc
from collections.abc import Iterator

import pytest
from harness import FIXTURES, SHARED_CASES

from sessguard.extract.facts import ExtractOptions
from sessguard.extract.file import extract_bytes
from sessguard.extract.lazy import _Def

SOURCES = sorted([*SHARED_CASES.rglob("*.py"), *FIXTURES.rglob("*.py")])


def _cyclic_garbage(run: Iterator[None]) -> list[object]:
    """The objects only the cycle collector would free after `run` has run."""
    gc.collect()
    flags = gc.get_debug()
    gc.disable()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        for _ in run:
            pass
        gc.collect()
        return list(gc.garbage)
    finally:
        gc.garbage.clear()
        gc.set_debug(flags)
        gc.enable()


@pytest.mark.parametrize("lazy", [True, False], ids=["lazy", "whole"])
def test_extraction_leaves_no_syntax_tree_to_the_cycle_collector(lazy: bool) -> None:
    options = ExtractOptions(frozenset({"app"}), frozenset(), lazy=lazy)

    def extract_all() -> Iterator[None]:
        for path in SOURCES:
            facts = extract_bytes(path.read_bytes(), path.name, path.stem, False, 100.0, options)
            del facts
            yield

    garbage = _cyclic_garbage(extract_all())
    assert not [o for o in garbage if isinstance(o, (ast.AST, _Def))]


def test_the_check_sees_a_tree_held_by_a_cycle() -> None:
    """The check itself: a tree kept in a cycle is reported."""

    def leak() -> Iterator[None]:
        holder: list[object] = [ast.parse("x = 1")]
        holder.append(holder)
        del holder
        yield

    assert any(isinstance(o, ast.Module) for o in _cyclic_garbage(leak()))
