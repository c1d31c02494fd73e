"""The pipeline: discover → extract (per file) → link → rule → filter → Report."""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any, TypeVar

from sessguard import __version__
from sessguard.analysis.effects import EffectResolver, Extensions
from sessguard.analysis.project import NO_CONTEXT, Project
from sessguard.analysis.roots import after_write_receivers, find_roots
from sessguard.analysis.stores import classify_stores
from sessguard.analysis.summaries import Solver, relevant_functions
from sessguard.config import Config
from sessguard.dependencies import Dependency, read_dependencies
from sessguard.discover import discover, display_path
from sessguard.extract.facts import ModuleFacts
from sessguard.extract.file import extract_file
from sessguard.filters import apply_filters
from sessguard.frameworks import KNOWLEDGE
from sessguard.frameworks.identity import IdentityVocabulary
from sessguard.model import BaselineEntry, FileError, Finding, Order, Report, Stats
from sessguard.rules.session_fixation import report


def extensions_of(config: Config) -> Extensions:
    return Extensions(
        auth_functions=frozenset(config.auth_functions),
        regenerate_functions=dict(config.regenerate_functions),
        vocabulary=IdentityVocabulary(frozenset(config.identity_keys), frozenset(config.not_identity_keys)),
    )


T = TypeVar("T")
STACK_BYTES = 256 * 1024 * 1024
RECURSION_LIMIT = 20_000


def scan(
    paths: Sequence[str] = (".",),
    config: Config | None = None,
    baseline: Sequence[BaselineEntry] | None = None,
    config_files: Sequence[str] = (),
) -> Report:
    """Scan in a thread with a deep stack: the visitors recurse as deep as the syntax tree
    that the depth check let through, and a deep call chain recurses in the fixpoint; with
    a large stack a raised recursion limit cannot overflow the C stack."""
    return in_deep_thread(_scan, paths, config or Config(), baseline, config_files)


def in_deep_thread(function: Callable[..., T], *args: Any) -> T:
    outcome: dict[str, Any] = {}

    def target() -> None:
        try:
            outcome["value"] = function(*args)
        except BaseException as exc:  # noqa: BLE001 - re-raised in the calling thread
            outcome["error"] = exc

    previous_size = threading.stack_size()
    previous_limit = sys.getrecursionlimit()
    try:
        threading.stack_size(STACK_BYTES)
        sys.setrecursionlimit(max(previous_limit, RECURSION_LIMIT))
        worker = threading.Thread(target=target, name="sessguard-scan", daemon=True)
        worker.start()
        worker.join()
    finally:
        threading.stack_size(previous_size)
        sys.setrecursionlimit(previous_limit)
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]  # type: ignore[no-any-return]


def _scan(
    paths: Sequence[str],
    config: Config,
    baseline: Sequence[BaselineEntry] | None,
    config_files: Sequence[str],
) -> Report:
    found = discover(
        paths, config.exclude, config.extend_exclude, config.respect_gitignore, config.follow_symlinks
    )
    modules: list[ModuleFacts] = []
    errors: list[FileError] = list(found.errors)
    for file in found.files:
        result = extract_file(
            str(file.path),
            file.display,
            file.module,
            file.is_package,
            config.max_file_bytes,
            config.file_timeout,
        )
        if isinstance(result, FileError):
            errors.append(result)
        else:
            modules.append(result)
    cwd = Path(os.getcwd())
    dependencies = read_dependencies(found.dependency_files, lambda p: display_path(p, cwd))
    findings = analyse(modules, dependencies, config)
    filtered = apply_filters(findings, {m.path: m.comments for m in modules if m.comments}, config, baseline)
    stats = Stats(
        files_discovered=len(found.files) + sum(found.skipped.values()),
        files_analyzed=len(modules),
        files_skipped=len(found.files) + sum(found.skipped.values()) - len(modules),
    )
    return Report(
        __version__,
        filtered.shown,
        tuple(sorted(errors)),
        stats,
        suppressed=filtered.suppressed,
        fixed=filtered.fixed,
        baseline_used=baseline is not None,
        hidden=filtered.hidden,
        config_files=tuple(config_files),
        skipped=tuple(sorted(found.skipped.items())),
    )


def analyse(modules: Sequence[ModuleFacts], deps: Sequence[Dependency], config: Config) -> list[Finding]:
    """The link and rule stages over every module of the project."""
    project = Project.build(modules, KNOWLEDGE, [d.name for d in deps])
    stores = classify_stores(
        project.modules.values(), deps, KNOWLEDGE, project.frameworks, config.session_store
    )
    extensions = extensions_of(config)
    configured = extensions.auth_functions | frozenset(extensions.regenerate_functions)
    relevant = relevant_functions(project, configured)
    resolver = EffectResolver(project, stores, extensions, relevant=relevant)
    protected = _protected_signals(project, resolver)
    if protected:
        resolver = replace(resolver, protected_signals=protected)
    solver = Solver(project, resolver)
    roots = list(find_roots(project, relevant))
    return report(project, stores, solver, roots)


def _protected_signals(project: Project, resolver: EffectResolver) -> frozenset[str]:
    """Signals whose receivers always regenerate with order `either` (SPEC §7)."""
    receivers = after_write_receivers(project)
    if not receivers:
        return frozenset()
    solver = Solver(project, resolver)
    protected: set[str] = set()
    for function, signals in receivers.items():
        known = function in project.functions
        if known and solver.summary(function, NO_CONTEXT, False).regen is Order.EITHER:
            protected.update(signals)
    return frozenset(protected)


def default_jobs() -> int:
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1)
