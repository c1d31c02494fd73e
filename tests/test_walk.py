"""The walk over a scope's own nodes, against a plain walk written with `isinstance`."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from harness import FIXTURES, SHARED_CASES

from sessguard.extract.walk import Body, own_nodes

SOURCES = sorted(
    [*SHARED_CASES.rglob("*.py"), *FIXTURES.rglob("*.py"), *Path(ast.__file__).parent.glob("[a-c]*.py")]
)


def reference(body: list[ast.stmt]) -> Body:
    """The walk as `ast` itself would describe it: every node but the bodies of nested
    scopes and comprehension targets, in source order."""
    nodes: list[ast.AST] = []
    statements: list[ast.stmt] = []
    packages: set[str] = set()
    active = False
    stack: list[ast.AST] = list(reversed(body))
    while stack:
        node = stack.pop()
        nodes.append(node)
        if isinstance(node, ast.stmt):
            statements.append(node)
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                stack.extend(reversed(node.decorator_list))
                stack.extend(reversed(node.args.defaults))
                stack.extend(d for d in reversed(node.args.kw_defaults) if d is not None)
                continue
            if isinstance(node, ast.ClassDef):
                stack.extend(reversed(node.decorator_list))
                stack.extend(reversed(node.bases))
                stack.extend(k.value for k in reversed(node.keywords))
                continue
            if isinstance(node, ast.Import):
                packages.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                packages.add(node.module.split(".")[0])
            elif isinstance(node, (ast.Delete, ast.AugAssign)):
                active = True
        elif isinstance(node, ast.Lambda):
            continue
        elif isinstance(node, ast.comprehension):
            stack.extend(reversed(node.ifs))
            stack.append(node.iter)
            continue
        elif isinstance(node, ast.Call) or (
            isinstance(node, (ast.Subscript, ast.Attribute)) and not isinstance(node.ctx, ast.Load)
        ):
            active = True
        stack.extend(reversed(list(ast.iter_child_nodes(node))))
    return Body(nodes, statements, active, packages)


def scopes(tree: ast.Module) -> list[list[ast.stmt]]:
    return [tree.body] + [
        node.body
        for node in ast.walk(tree)
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
    ]


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.name)
def test_the_walk_takes_what_a_plain_walk_takes(path: Path) -> None:
    tree = ast.parse(path.read_bytes())
    for body in scopes(tree):
        walked, expected = own_nodes(body), reference(body)
        assert [id(n) for n in walked.nodes] == [id(n) for n in expected.nodes]
        assert [id(n) for n in walked.statements] == [id(n) for n in expected.statements]
        assert (walked.active, walked.packages) == (expected.active, expected.packages)


def test_the_walk_covers_every_kind_of_statement() -> None:
    """The files above hold the statements whose handling differs (or the comparison
    would prove less than it says)."""
    kinds = {type(node) for path in SOURCES for node in ast.walk(ast.parse(path.read_bytes()))}
    wanted = {
        ast.FunctionDef,
        ast.AsyncFunctionDef,
        ast.ClassDef,
        ast.Import,
        ast.ImportFrom,
        ast.Delete,
        ast.AugAssign,
        ast.Lambda,
        ast.comprehension,
        ast.Call,
        ast.Subscript,
        ast.Attribute,
        ast.Dict,
        ast.Global,
    }
    assert wanted <= kinds
