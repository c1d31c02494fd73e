"""Roots: where findings are reported (SPEC §2, §7), and the signal receivers.

A root is a function the scanned code never calls (a view, a handler, a method the
framework calls, a public library function, a module body), or one registered as a request
handler by a decorator. Signal receivers run inside the login that sends the signal, so
they are not roots.
"""

from __future__ import annotations

from collections.abc import Iterator

from sessguard.analysis.project import Project
from sessguard.frameworks.base import SignalTiming


def receivers(project: Project) -> dict[str, tuple[str, ...]]:
    """Function -> the signals it is connected to."""
    found: dict[str, set[str]] = {}
    for qualname, function in project.functions.items():
        if function.receives:
            found.setdefault(qualname, set()).update(function.receives)
    for facts in project.modules.values():
        for signal, target in facts.connections:
            resolved = project.resolve_symbol(target)
            if resolved in project.functions:
                found.setdefault(resolved, set()).add(signal)
    return {name: tuple(sorted(signals)) for name, signals in found.items()}


def called_functions(project: Project) -> set[str]:
    called: set[str] = set()
    for function in project.functions.values():
        for event in function.events:
            callee = project.callee(event)
            if callee is not None and callee != function.qualname:
                called.add(callee)
    return called


def find_roots(project: Project, relevant: frozenset[str]) -> Iterator[str]:
    called = called_functions(project)
    connected = receivers(project)
    for qualname in sorted(relevant):
        function = project.functions[qualname]
        if qualname in connected:
            continue
        if qualname not in called or function.entry_point:
            yield qualname


def after_write_receivers(project: Project) -> dict[str, tuple[str, ...]]:
    """Receivers of signals sent after a login wrote the identity (Flask-Login's)."""
    signals = project.knowledge.signals
    return {
        name: tuple(s for s in sigs if signals[s][1].timing is SignalTiming.AFTER_WRITE)
        for name, sigs in receivers(project).items()
        if any(signals[s][1].timing is SignalTiming.AFTER_WRITE for s in sigs)
    }
