"""Control-flow graphs: the paths of SPEC §7, checked on the graph itself."""

from __future__ import annotations

import textwrap
from collections import deque

from sessguard.extract.facts import ENTRY, RAISE_EXIT, RETURN_EXIT, FunctionFacts, NodeKind
from sessguard.extract.module import extract_module
from sessguard.source import Source, parse


def function(source: str, name: str = "view") -> FunctionFacts:
    parsed = parse(textwrap.dedent(source).encode(), "m.py")
    assert isinstance(parsed, Source)
    facts = extract_module(parsed, "m", False)
    return next(f for f in facts.functions if f.name == name)


def node_of(fn: FunctionFacts, text: str, nth: int = 0) -> int:
    found = [i for i, n in enumerate(fn.nodes) if n.event >= 0 and fn.events[n.event].text == text]
    return found[nth]


def reachable(fn: FunctionFacts, start: int, avoid: set[int] = frozenset()) -> set[int]:  # type: ignore[assignment]
    seen = {start}
    work = deque([start])
    while work:
        node = work.popleft()
        for edge in fn.successors[node]:
            if edge.target not in seen and edge.target not in avoid:
                seen.add(edge.target)
                work.append(edge.target)
    return seen


PRELUDE = "from flask import session\nfrom flask_login import login_user\n"


def test_events_come_in_evaluation_order() -> None:
    fn = function(PRELUDE + "def view(u):\n    session['uid'] = login_user(u)\n")
    assert [e.text for e in fn.events] == ["login_user(u)", "session['uid'] = login_user(u)"]


def test_both_branches_of_if_reach_the_join() -> None:
    fn = function(PRELUDE + "def view(u):\n    if u:\n        session.clear()\n    login_user(u)\n")
    clear, login = node_of(fn, "session.clear()"), node_of(fn, "login_user(u)")
    assert login in reachable(fn, ENTRY, avoid={clear})
    labels = {edge.label for edges in fn.successors for edge in edges if edge.label}
    assert labels == {"`if u` is true", "`if u` is false"}


def test_a_for_loop_may_run_zero_times() -> None:
    fn = function(PRELUDE + "def view(u):\n    for p in u.p:\n        session.clear()\n    login_user(u)\n")
    assert node_of(fn, "login_user(u)") in reachable(fn, ENTRY, avoid={node_of(fn, "session.clear()")})


def test_while_true_only_leaves_by_break() -> None:
    fn = function(
        PRELUDE + "def view(u):\n    while True:\n        session.clear()\n        break\n    login_user(u)\n"
    )
    assert node_of(fn, "login_user(u)") not in reachable(fn, ENTRY, avoid={node_of(fn, "session.clear()")})


def test_try_body_events_have_exceptional_edges_to_the_handler() -> None:
    fn = function(
        PRELUDE
        + "def view(u):\n    try:\n        session.clear()\n    except Exception:\n        pass\n    login_user(u)\n"
    )
    clear = node_of(fn, "session.clear()")
    assert any(edge.exceptional for edge in fn.successors[clear])
    # the handler is reached from before the clear took effect
    assert node_of(fn, "login_user(u)") in reachable(fn, ENTRY, avoid={clear})


def test_finally_runs_on_every_way_out() -> None:
    fn = function(
        PRELUDE
        + "def view(u):\n    try:\n        if u:\n            return 1\n        raise ValueError\n    finally:\n        session.clear()\n"
    )
    copies = [
        i for i, n in enumerate(fn.nodes) if n.event >= 0 and fn.events[n.event].text == "session.clear()"
    ]
    assert len(copies) == 2  # once after the return, once after the raise (no normal way out)
    for exit_node in (RETURN_EXIT, RAISE_EXIT):
        assert exit_node not in reachable(fn, ENTRY, avoid=set(copies))


def test_match_without_irrefutable_case_has_a_no_match_path() -> None:
    fn = function(
        PRELUDE
        + "def view(u):\n    match u:\n        case 1:\n            session.clear()\n    login_user(u)\n"
    )
    assert node_of(fn, "login_user(u)") in reachable(fn, ENTRY, avoid={node_of(fn, "session.clear()")})
    fn = function(
        PRELUDE
        + "def view(u):\n    match u:\n        case _:\n            session.clear()\n    login_user(u)\n"
    )
    assert node_of(fn, "login_user(u)") not in reachable(fn, ENTRY, avoid={node_of(fn, "session.clear()")})


def test_short_circuit_operands_are_maybe() -> None:
    fn = function(PRELUDE + "def view(u):\n    u and session.clear()\n    x = session.clear() if u else 0\n")
    assert [e.maybe for e in fn.events] == [True, True]


def test_nested_functions_and_lambdas_are_not_run_where_defined() -> None:
    source = (
        PRELUDE
        + "def view(u):\n    def inner():\n        session.clear()\n    f = lambda: session.clear()\n    return f\n"
    )
    parsed = parse(source.encode(), "m.py")
    assert isinstance(parsed, Source)
    functions = {f.name: f for f in extract_module(parsed, "m", False).functions}
    # `view` itself runs no call and stores into nothing: it gets no graph at all
    assert "view" not in functions
    assert [e.text for e in functions["inner"].events] == ["session.clear()"]


def test_abort_ends_the_path_like_raise() -> None:
    fn = function("from flask import abort, session\ndef view(u):\n    abort(403)\n    session.clear()\n")
    assert [e.text for e in fn.events] == ["abort(403)"]  # what follows is unreachable
    assert any(n.kind is NodeKind.RAISE for n in fn.nodes)
    assert RAISE_EXIT in reachable(fn, ENTRY)
    assert RETURN_EXIT not in reachable(fn, ENTRY)


def test_return_reaches_the_return_exit() -> None:
    fn = function("from flask import session\ndef view(u):\n    session.clear()\n    return u\n")
    assert RETURN_EXIT in reachable(fn, ENTRY)
    assert RAISE_EXIT not in reachable(fn, ENTRY)
