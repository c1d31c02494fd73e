"""The pipeline: discover → extract (per file) → link → rule → filter → Report."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from sessguard import __version__
from sessguard.analysis.effects import EffectResolver, Extensions
from sessguard.analysis.project import NO_CONTEXT, Project
from sessguard.analysis.roots import after_write_receivers, find_roots
from sessguard.analysis.stores import classify_stores
from sessguard.analysis.summaries import Solver, relevant_functions
from sessguard.config import Config
from sessguard.dependencies import Dependency, read_dependencies
from sessguard.discover import SourceFile, discover, display_path
from sessguard.extract.facts import ModuleFacts
from sessguard.extract.module import extract_module
from sessguard.filters import apply_filters
from sessguard.frameworks import KNOWLEDGE
from sessguard.frameworks.identity import IdentityVocabulary
from sessguard.model import BaselineEntry, FileError, Finding, Order, Report, Stats
from sessguard.rules.session_fixation import report
from sessguard.source import parse


def extract_file(file: SourceFile, max_bytes: int) -> ModuleFacts | FileError:
    """Read, decode, parse and reduce one file; every failure becomes a FileError."""
    try:
        with open(file.path, "rb") as handle:
            data = handle.read(max_bytes + 1)
    except OSError as exc:
        kind = "permission" if isinstance(exc, PermissionError) else "unreadable"
        return FileError(file.display, kind, exc.strerror or str(exc))
    if len(data) > max_bytes:
        return FileError(file.display, "too-large", f"larger than {max_bytes} bytes")
    source = parse(data, file.display)
    if isinstance(source, FileError):
        return source
    try:
        return extract_module(source, file.module, file.is_package)
    except RecursionError:
        return FileError(file.display, "too-deep", "nesting too deep to analyse")
    except Exception as exc:
        return FileError(file.display, "internal", f"{type(exc).__name__}: {exc}")


def extensions_of(config: Config) -> Extensions:
    return Extensions(
        auth_functions=frozenset(config.auth_functions),
        regenerate_functions=dict(config.regenerate_functions),
        vocabulary=IdentityVocabulary(frozenset(config.identity_keys), frozenset(config.not_identity_keys)),
    )


def scan(
    paths: Sequence[str] = (".",),
    config: Config | None = None,
    baseline: Sequence[BaselineEntry] | None = None,
    config_files: Sequence[str] = (),
) -> Report:
    config = config or Config()
    found = discover(paths, config.exclude, config.extend_exclude, config.respect_gitignore)
    modules: list[ModuleFacts] = []
    errors: list[FileError] = list(found.errors)
    for file in found.files:
        result = extract_file(file, config.max_file_bytes)
        if isinstance(result, FileError):
            errors.append(result)
        else:
            modules.append(result)
    cwd = Path(os.getcwd())
    dependencies = read_dependencies(found.dependency_files, lambda p: display_path(p, cwd))
    findings = analyse(modules, dependencies, config)
    filtered = apply_filters(findings, {m.path: m.comments for m in modules if m.comments}, config, baseline)
    stats = Stats(
        files_discovered=len(found.files) + found.skipped,
        files_analyzed=len(modules),
        files_skipped=len(found.files) + found.skipped - len(modules),
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
