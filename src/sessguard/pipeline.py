"""The pipeline: discover → extract (per file) → link → rule → filter → Report."""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
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
from sessguard.discover import SourceFile, discover, display_path
from sessguard.extract.exprs import ExtractOptions
from sessguard.extract.facts import ModuleFacts
from sessguard.extract.file import extract_file
from sessguard.filters import apply_filters
from sessguard.frameworks import KNOWLEDGE
from sessguard.frameworks.identity import IdentityVocabulary
from sessguard.model import BaselineEntry, FileError, Finding, Order, Report, Stats
from sessguard.prefilter import (
    CallerNeedles,
    Needles,
    callee_modules,
    caller_needles,
    first_needles,
    reaching_functions,
)
from sessguard.rules.session_fixation import report
from sessguard.source import read


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
    cwd = Path(os.getcwd())
    dependencies = read_dependencies(found.dependency_files, lambda p: display_path(p, cwd))
    extracted = _extract(found.files, config)
    modules = [r for r in extracted.results.values() if isinstance(r, ModuleFacts)]
    findings = analyse(modules, dependencies, config)
    filtered = apply_filters(findings, {m.path: m.comments for m in modules if m.comments}, config, baseline)
    errors = [*found.errors, *extracted.errors]
    analysed = len(found.files) - len(extracted.errors)
    stats = Stats(
        files_discovered=len(found.files) + sum(found.skipped.values()),
        files_analyzed=analysed,
        files_skipped=len(found.files) + sum(found.skipped.values()) - analysed,
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


@dataclass
class _Extracted:
    results: dict[SourceFile, ModuleFacts | FileError] = field(default_factory=dict)
    errors: list[FileError] = field(default_factory=list)
    parsed: int = 0


def _extract(files: Sequence[SourceFile], config: Config) -> _Extracted:
    """The per-file stage, over the files that can matter (see `prefilter`), or over all
    of them with `prefilter = false`. Either way, a file that could not be analysed is
    reported only when it could matter: when its bytes hold a name that can."""
    extensions = extensions_of(config)
    configured = [*extensions.auth_functions, *extensions.regenerate_functions, *config.identity_keys]
    first = first_needles(configured)
    by_module = {f.module: f for f in files}
    options = ExtractOptions(
        frozenset(f.module.split(".")[0] for f in files),
        frozenset([*extensions.auth_functions, *extensions.regenerate_functions]),
    )
    out = _Extracted()
    pending = [f for f in files if _matches(f, first, config)] if config.prefilter else list(files)
    searched = CallerNeedles()
    names = CallerNeedles()
    while pending:
        out.results.update(_extract_many(pending, config, options))
        out.parsed += len(pending)
        project = Project.build([r for r in out.results.values() if isinstance(r, ModuleFacts)], KNOWLEDGE)
        names = caller_needles(project, reaching_functions(project))
        if not config.prefilter:
            break
        fresh = [r for r in (out.results[f] for f in pending) if isinstance(r, ModuleFacts)]
        wanted = {by_module[m] for m in callee_modules(fresh, project) if m in by_module}
        new_names = names - searched
        searched = names
        if new_names:
            wanted.update(f for f in files if f not in out.results and _matches(f, new_names, config))
        pending = sorted((f for f in wanted if f not in out.results), key=lambda f: f.display)
    # errors of the files that could matter, decided the same way with or without the prefilter
    for file, result in out.results.items():
        if isinstance(result, FileError) and (
            result.kind in UNJUDGED or _matches(file, first, config) or _matches(file, names, config)
        ):
            out.errors.append(result)
    return out


# errors raised before a file's bytes could be searched: always reported
UNJUDGED = frozenset({"too-large", "not-regular", "permission", "unreadable", "not-found", "symlink-loop"})


def _matches(file: SourceFile, needles: Needles | CallerNeedles, config: Config) -> bool:
    data = read(str(file.path), file.display, config.max_file_bytes)
    return True if isinstance(data, FileError) else needles.match(data)


def _extract_many(
    files: Sequence[SourceFile], config: Config, options: ExtractOptions
) -> dict[SourceFile, ModuleFacts | FileError]:
    return {
        file: extract_file(
            str(file.path),
            file.display,
            file.module,
            file.is_package,
            config.max_file_bytes,
            config.file_timeout,
            options,
        )
        for file in files
    }


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
