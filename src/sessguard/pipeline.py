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
from sessguard.cache import Cache
from sessguard.config import Config
from sessguard.deep import in_deep_thread
from sessguard.dependencies import Dependency, read_dependencies
from sessguard.discover import discover, display_path
from sessguard.extract.exprs import ExtractOptions
from sessguard.extract.facts import ModuleFacts
from sessguard.filters import apply_filters
from sessguard.frameworks import KNOWLEDGE
from sessguard.frameworks.identity import IdentityVocabulary
from sessguard.model import BaselineEntry, Finding, Order, Report, Stats
from sessguard.monitor import Monitor
from sessguard.perfile import Stage
from sessguard.prefilter import first_needles
from sessguard.rules.session_fixation import report


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
    cache: Cache | None = None,
    jobs: int = 1,
    monitor: Monitor | None = None,
) -> Report:
    """Scan `paths`. With a cache, per-file facts are reused when a file's bytes are
    unchanged; with `jobs` > 1, files are extracted in that many worker processes. Neither
    changes the report."""
    run = monitor or Monitor()
    return in_deep_thread(_scan, paths, config or Config(), baseline, config_files, cache, jobs, run)


def _scan(
    paths: Sequence[str],
    config: Config,
    baseline: Sequence[BaselineEntry] | None,
    config_files: Sequence[str],
    cache: Cache | None,
    jobs: int,
    monitor: Monitor,
) -> Report:
    with monitor.stage("discover"):
        found = discover(
            paths, config.exclude, config.extend_exclude, config.respect_gitignore, config.follow_symlinks
        )
    cwd = Path(os.getcwd())
    dependencies = read_dependencies(found.dependency_files, lambda p: display_path(p, cwd))
    extensions = extensions_of(config)
    configured = [*extensions.auth_functions, *extensions.regenerate_functions]
    stage = Stage(
        found.files,
        config,
        ExtractOptions(frozenset(f.module.split(".")[0] for f in found.files), frozenset(configured)),
        cache,
        jobs,
        first_needles([*configured, *config.identity_keys]),
        monitor,
    )
    extracted = stage.run()
    modules = [r for r in extracted.results.values() if isinstance(r, ModuleFacts)]
    with monitor.stage("link and judge"):
        findings = analyse(modules, dependencies, config)
    with monitor.stage("filter"):
        comments = {m.path: m.comments for m in modules if m.comments}
        filtered = apply_filters(findings, comments, config, baseline)
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
