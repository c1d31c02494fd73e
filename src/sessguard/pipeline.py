"""The pipeline: discover → extract (per file) → link → rule → filter → Report."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from msgspec.structs import replace

from sessguard import __version__
from sessguard.collector import CollectorPause
from sessguard.config import Config
from sessguard.deep import in_deep_thread
from sessguard.dependencies import Dependency, read_dependencies
from sessguard.discover import Discovery, SourceFile, discover, display_path, is_test_path
from sessguard.extract.facts import ExtractOptions, ModuleFacts
from sessguard.extraction import UNCACHED
from sessguard.model import BaselineEntry, Finding, Order, Report, Stats
from sessguard.monitor import Monitor
from sessguard.needles import first_needles
from sessguard.perfile import Stage

if TYPE_CHECKING:  # the cache, link and rule stages are imported when a scan needs them
    from sessguard.analysis.apps import AppView, Layout
    from sessguard.analysis.effects import EffectResolver, Extensions
    from sessguard.analysis.project import Project
    from sessguard.cache import Cache


def extensions_of(config: Config) -> Extensions:
    from sessguard.analysis.effects import Extensions
    from sessguard.frameworks.identity import IdentityVocabulary

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
    keep: list[object] | None = None,
) -> Report:
    """Scan `paths`. With a cache, per-file facts are reused when a file's bytes are
    unchanged; with `jobs` > 1, files are extracted in that many worker processes. Neither
    changes the report. `keep` receives what the scan built (every file's facts and
    index): a process that ends right after the report need not free it object by object."""
    monitor = monitor or Monitor()
    config = config or Config()
    # discovery and phase 1 run on this thread: phase 1 may fork workers (`reading`), which
    # is safe only before any other thread exists
    with monitor.stage("discover"):
        found = discover(
            paths, config.exclude, config.extend_exclude, config.respect_gitignore, config.follow_symlinks
        )
    configured = [*config.auth_functions, *dict(config.regenerate_functions)]
    needle_names = [*configured, *config.identity_keys]
    belows = [_below(f) for f in found.files]  # each file's path below its scanned directory
    tests = frozenset(
        f.module
        for f, below in zip(found.files, belows, strict=True)
        if not config.include_tests and is_test_path(below)
    )
    stage = Stage(
        found.files,
        config,
        ExtractOptions(
            frozenset(f.module.split(".")[0] for f in found.files),
            frozenset(configured),
            lazy=config.prefilter,
            needle_names=frozenset(needle_names),
        ),
        cache,
        jobs,
        first_needles(needle_names),
        monitor,
        tests,
    )
    collector = CollectorPause()
    try:
        try:
            hashes = stage.prepare()
        finally:
            collector.phase_one_done()
        memo_key = _memo_key(paths, config, baseline, config_files, found, hashes) if cache else ""
        remembered: Report | None = cache.get_typed("scan", memo_key, Report) if cache else None
        if remembered is not None:
            monitor.count("whole scan from the cache")
            return remembered
        return in_deep_thread(
            _scan, stage, found, belows, config, baseline, config_files, cache, memo_key, monitor
        )
    finally:
        stage.close()  # phase 1's workers, when the report needed no later round
        collector.scan_done()
        if keep is not None:
            keep.append(stage)


def _scan(
    stage: Stage,
    found: Discovery,
    belows: Sequence[str],
    config: Config,
    baseline: Sequence[BaselineEntry] | None,
    config_files: Sequence[str],
    cache: Cache | None,
    memo_key: str,
    monitor: Monitor,
) -> Report:
    """Everything after phase 1, on a deep stack."""
    cwd = Path(os.getcwd())
    dependencies = read_dependencies(found.dependency_files, lambda p: display_path(p, cwd))
    layout = layout_of(found, dependencies, belows)
    report = _analyse_files(stage, found, dependencies, layout, config, baseline, config_files, monitor)
    if cache and not any(e.kind in UNCACHED for e in report.errors):
        cache.put("scan", memo_key, report)
    return report


def _memo_key(
    paths: Sequence[str],
    config: Config,
    baseline: Sequence[BaselineEntry] | None,
    config_files: Sequence[str],
    found: Discovery,
    hashes: Mapping[SourceFile, str],
) -> str:
    """Everything a report depends on: a scan with the same key has the same report (the
    dependency files by their bytes: they are parsed only when the report is not known)."""
    from sessguard.cache import digest, stable

    files = sorted((f.display, f.module, str(f.is_package), h) for f, h in hashes.items())
    return digest(
        "scan",
        os.getcwd(),
        stable(list(paths)),
        stable(config),
        stable(baseline),
        stable(list(config_files)),
        stable(files),
        stable(sorted(found.errors)),
        stable(sorted(found.skipped.items())),
        stable(_contents(found.dependency_files)),
    )


def _contents(paths: Sequence[Path]) -> list[tuple[str, str]]:
    """Dependency files' digests (short files: the built-in SHA-256, no OpenSSL to load)."""
    from sessguard.shorthash import sha256

    found = []
    for path in sorted(set(paths)):
        try:
            found.append((str(path), sha256(path.read_bytes()).hexdigest()))
        except OSError:
            found.append((str(path), ""))
    return found


def _analyse_files(
    stage: Stage,
    found: Discovery,
    dependencies: Sequence[Dependency],
    layout: Layout,
    config: Config,
    baseline: Sequence[BaselineEntry] | None,
    config_files: Sequence[str],
    monitor: Monitor,
) -> Report:
    from sessguard.filters import apply_filters

    extracted = stage.run()
    modules = [r for r in extracted.results.values() if isinstance(r, ModuleFacts)]
    with monitor.stage("link and judge"):
        findings = analyse(modules, dependencies, config, layout)
    with monitor.stage("filter"):
        comments = {m.path: m.comments for m in modules if m.comments}
        filtered = apply_filters(findings, comments, config, baseline)
    errors = [*found.errors, *extracted.errors]
    analysed = len(found.files) - len(extracted.errors) - extracted.skipped.total()
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
        skipped=tuple(sorted((found.skipped + extracted.skipped).items())),
    )


def layout_of(found: Discovery, dependencies: Sequence[Dependency], belows: Sequence[str]) -> Layout:
    """Which files are test code and where each application's home is (SPEC §2, §6).
    `belows`: each file's path below the directory it was found under (`_below`)."""
    from sessguard.analysis.apps import build_layout

    cwd = Path(os.getcwd())
    files = [(f.module, f.display, below) for f, below in zip(found.files, belows, strict=True)]
    return build_layout(files, dependencies, [display_path(p, cwd) for p in found.dependency_files])


def _below(file: SourceFile) -> str:
    """The file's path below the directory it was found under (its name, if given alone)."""
    path = str(file.path)
    if file.root is not None:
        root = os.path.join(str(file.root), "")
        if path.startswith(root):  # both absolute: plain text is enough (and quick)
            return path[len(root) :].replace(os.sep, "/")
        try:
            return file.path.relative_to(file.root).as_posix()
        except ValueError:
            pass
    return os.path.basename(path)


def analyse(
    modules: Sequence[ModuleFacts],
    deps: Sequence[Dependency],
    config: Config,
    layout: Layout | None = None,
) -> list[Finding]:
    """The link and rule stages over every module of the project: each root is judged
    with its own application's stores and identity policies (SPEC §6)."""
    from sessguard.analysis.apps import Applications, Layout
    from sessguard.analysis.effects import EffectResolver
    from sessguard.analysis.project import Project
    from sessguard.analysis.roots import find_roots
    from sessguard.analysis.summaries import Solver, relevant_functions
    from sessguard.frameworks import KNOWLEDGE
    from sessguard.rules.session_fixation import fingerprinted, report

    layout = layout or Layout()
    project = Project.build(modules, KNOWLEDGE, [d.name for d in deps])
    applications = Applications(project, deps, layout, config.session_store)
    extensions = extensions_of(config)
    configured = extensions.auth_functions | frozenset(extensions.regenerate_functions)
    relevant = relevant_functions(project, configured)
    by_view: dict[tuple[object, ...], tuple[AppView, list[str]]] = {}
    for root in find_roots(project, relevant):
        module = project.function_module[root].module
        if module in layout.tests and not config.include_tests:
            continue  # no browser reaches a test (SPEC §2)
        view = applications.view(module)
        by_view.setdefault(view.key, (view, []))[1].append(root)
    findings: list[Finding] = []
    for view, roots in by_view.values():
        resolver = EffectResolver(
            project,
            view.stores,
            extensions,
            relevant=relevant,
            evidence_calls=view.evidence_calls,
            session_class=view.session_class,
        )
        protected = _protected_signals(project, resolver)
        if protected:
            resolver = replace(resolver, protected_signals=protected)
        findings += report(project, view.stores, Solver(project, resolver), roots)
    return fingerprinted(findings)


def _protected_signals(project: Project, resolver: EffectResolver) -> frozenset[str]:
    """Signals whose receivers always regenerate with order `either` (SPEC §7)."""
    from sessguard.analysis.project import NO_CONTEXT
    from sessguard.analysis.roots import after_write_receivers
    from sessguard.analysis.summaries import Solver

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
