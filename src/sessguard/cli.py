"""Command line: arguments in (`arguments` defines them), exit status out (SPEC §9).

sessguard scan [PATH ...]        scan and report
sessguard config [PATH ...]      the effective configuration and where it came from
sessguard rules                  the rules
sessguard explain RULE           a rule's documentation
sessguard baseline write FILE    accept today's findings; later scans report new ones
sessguard fix [PATH ...]         write the regenerations the findings need (--diff to preview,
                                 --check to test: both exit 1 while changes are pending)
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import NoReturn

from sessguard.arguments import (
    EXIT_BROKEN_PIPE,
    EXIT_CLEAN,
    EXIT_FINDINGS,
    EXIT_INCOMPLETE,
    EXIT_USAGE,
    SUBCOMMANDS,
    Output,
    build_parser,
)


class UsageError(Exception):
    """A command's arguments that cannot be run (exit status 2)."""


# -- commands -------------------------------------------------------------------------------


def _loaded_config(args: argparse.Namespace, paths: Sequence[str]):  # type: ignore[no-untyped-def]
    from sessguard.config import load_config
    from sessguard.discover import display_path

    if not all(os.path.lexists(path) for path in paths):
        from sessguard.usage import missing_paths

        raise UsageError(missing_paths(paths))
    cwd = Path(os.getcwd())
    loaded = load_config(paths, args.config, args.isolated, lambda p: display_path(p, cwd))
    if loaded.warnings:
        from sessguard.render.text import inert

        for warning in loaded.warnings:
            print(f"sessguard: warning: {inert(warning)}", file=sys.stderr)
    flags: dict[str, tuple[object, str]] = {
        "fail_on": (args.fail_on, "--fail-on"),
        "min_severity": (args.min_severity, "--min-severity"),
        "min_confidence": (args.min_confidence, "--min-confidence"),
        "max_file_bytes": (args.max_file_size, "--max-file-size"),
        "follow_symlinks": (args.follow_symlinks, "--follow-symlinks"),
        "file_timeout": (args.file_timeout, "--file-timeout"),
        "prefilter": (args.prefilter, "--no-prefilter"),
        "include_tests": (args.include_tests, "--include-tests"),
        "report_unused_suppressions": (args.report_unused, "--no-report-unused-suppressions"),
        "select": (tuple(args.select) if args.select else None, "--select"),
        "ignore": (tuple(args.ignore) if args.ignore else None, "--ignore"),
        "exclude": (tuple(args.exclude) if args.exclude else None, "--exclude"),
    }
    for attribute, (value, flag) in flags.items():
        if value is not None:
            loaded = loaded.with_flag(attribute, value, flag)
    if args.extend_exclude:
        loaded = loaded.extended("extend_exclude", tuple(args.extend_exclude), "--extend-exclude")
    return loaded


def _use_color(requested: bool | None, to_file: bool) -> bool:
    if requested is not None:
        return requested
    if to_file or os.environ.get("NO_COLOR"):
        return False
    return sys.stdout.isatty() and os.environ.get("TERM") != "dumb"


def _renderer(name: str) -> Callable[..., str]:
    if name == "json":
        from sessguard.render.json import render as json_render

        return json_render
    if name == "sarif":
        from sessguard.render.sarif import render as sarif_render

        return sarif_render
    if name == "github":
        from sessguard.render.github import render as github_render

        return github_render
    from sessguard.render.text import render as text_render

    return text_render


def _write_outputs(args: argparse.Namespace, report) -> int:  # type: ignore[no-untyped-def]
    from sessguard.render import RenderOptions

    if any(f.fix is not None and f.fix.available for f in report.findings):
        from sessguard.fix.edits import with_edits

        report = with_edits(report)
    outputs: list[Output] = list(args.formats or [Output("text", None)])
    if args.output:
        unnamed = [o for o in outputs if o.path is None]
        if len(unnamed) != 1:
            raise UsageError("--output names the file of exactly one --format without a :PATH")
        outputs = [Output(o.format, args.output) if o.path is None else o for o in outputs]
    if sum(1 for o in outputs if o.path is None) > 1:
        raise UsageError("only one --format can go to standard output; give the others a :PATH")
    for output in outputs:
        options = RenderOptions(
            color=output.format == "text" and _use_color(args.color, output.path is not None),
            show_suppressed=args.show_suppressed,
        )
        text = _renderer(output.format)(report, options)
        if output.path is None:
            sys.stdout.write(text)
            sys.stdout.flush()
            continue
        try:
            with open(output.path, "w", encoding="utf-8") as handle:
                handle.write(text)
        except OSError as exc:
            print(f"sessguard: cannot write {output.path}: {exc.strerror}", file=sys.stderr)
            return EXIT_USAGE
    return EXIT_CLEAN


def _exit_status(args: argparse.Namespace, report, fail_on) -> int:  # type: ignore[no-untyped-def]
    if args.exit_zero:
        return EXIT_CLEAN
    if any(f.severity >= fail_on for f in report.findings):
        return EXIT_FINDINGS
    if report.errors:
        return EXIT_INCOMPLETE
    return EXIT_CLEAN


def _cache(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    """The cache the command line asks for: none with --no-cache, else --cache-dir, else
    $SESSGUARD_CACHE_DIR, else the user cache directory (never inside the scanned tree)."""
    if args.no_cache:
        return None
    from sessguard.cache import Cache, default_directory

    chosen = args.cache_dir or os.environ.get("SESSGUARD_CACHE_DIR")
    return Cache(Path(chosen) if chosen else default_directory())


def _run(args: argparse.Namespace, paths: Sequence[str], loaded, baseline):  # type: ignore[no-untyped-def]
    from sessguard.jobs import available_cores
    from sessguard.monitor import Monitor
    from sessguard.pipeline import scan

    monitor = Monitor.for_terminal(sys.stderr, quiet=args.quiet)
    try:
        report = scan(
            paths,
            loaded.config,
            baseline,
            loaded.files,
            cache=_cache(args),
            jobs=args.jobs or available_cores(),
            monitor=monitor,
            keep=_LEFT_TO_EXIT,
        )
    finally:
        monitor.close()
    if args.statistics:
        sys.stderr.write(monitor.statistics())
    if not report.stats.files_discovered:
        from sessguard.usage import no_files_warning

        print(no_files_warning(paths), file=sys.stderr)
    return report


def run_scan(args: argparse.Namespace) -> int:
    from sessguard.filters import covers_none, read_baseline

    loaded = _loaded_config(args, args.paths)
    baseline = read_baseline(Path(args.baseline)) if args.baseline else None
    given_files = args.with_projects and any(os.path.isfile(path) for path in args.paths)
    if given_files:  # each file is analysed with its project (`sessguard.projects`)
        from sessguard.projects import narrowed, targets

        chosen = targets(args.paths, Path(os.getcwd()))
        scanned: Sequence[str] = chosen.scanned
    else:
        scanned = args.paths
    if baseline and covers_none(baseline, scanned):
        print(f"sessguard: warning: no entry of {args.baseline} names a scanned file", file=sys.stderr)
    report = _run(args, scanned, loaded, baseline)
    if given_files:
        report = narrowed(report, chosen, loaded.config.max_file_bytes)
    status = _write_outputs(args, report)
    return status if status else _exit_status(args, report, loaded.config.fail_on)


def run_fix(args: argparse.Namespace) -> int:
    """Exit 0 when no finding is left, 1 when some could not be fixed, 3 when the scan was
    incomplete. With --diff or --check nothing is written, and 1 says that fixes are
    pending (as Ruff's --diff: a CI job fails until they are applied)."""
    from sessguard.fix.apply import apply, inert_diff, plan_changes, summary

    loaded = _loaded_config(args, args.paths)
    report = _run(args, args.paths, loaded, None)
    outcome = plan_changes(report)
    if args.diff or args.check:
        if args.diff:
            sys.stdout.write(inert_diff(outcome.diff()))
            sys.stderr.write(summary(outcome, applied=False))
        if outcome.changes:
            return EXIT_FINDINGS
        return EXIT_INCOMPLETE if report.errors else EXIT_CLEAN
    if outcome.changes:
        problem = apply(outcome, report, lambda: _run(args, args.paths, loaded, None))
        if problem is not None:
            print(f"sessguard: no fix applied: {problem}", file=sys.stderr)
            return EXIT_FINDINGS
    sys.stderr.write(summary(outcome, applied=True))
    if outcome.left:
        return EXIT_FINDINGS
    return EXIT_INCOMPLETE if report.errors else EXIT_CLEAN


def run_config(args: argparse.Namespace) -> int:
    from sessguard.render.config import describe

    sys.stdout.write(describe(_loaded_config(args, args.paths)))
    return EXIT_CLEAN


def run_rules(args: argparse.Namespace) -> int:
    from sessguard.rules.catalog import RULES

    for rule in RULES:
        print(f"{rule.id:28} {rule.level.label:7} {rule.short}")
    return EXIT_CLEAN


def run_explain(args: argparse.Namespace) -> int:
    from sessguard.rules.catalog import BY_ID

    rule = BY_ID.get(args.rule)
    if rule is None:
        raise UsageError(f"unknown rule {args.rule!r} (see `sessguard rules`)")
    sys.stdout.write(rule.doc)
    return EXIT_CLEAN


def run_baseline(args: argparse.Namespace) -> int:
    from sessguard.filters import write_baseline

    loaded = _loaded_config(args, args.paths)
    report = _run(args, args.paths, loaded, None)
    count = write_baseline(Path(args.file), report.findings)
    print(f"sessguard: wrote {count} finding{'s' if count != 1 else ''} to {args.file}", file=sys.stderr)
    return EXIT_INCOMPLETE if report.errors else EXIT_CLEAN


COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "scan": run_scan,
    "fix": run_fix,
    "config": run_config,
    "rules": run_rules,
    "explain": run_explain,
    "baseline": run_baseline,
}


# A scan allocates millions of syntax-tree nodes and keeps the facts of every file it read
# until the end; with the interpreter's default thresholds, the collections, each walking
# the young objects alive (a tree being extracted, the facts just built), cost a tenth of a
# large cold scan. Extraction leaves no cycle behind (`tests/test_memory.py`): each tree is
# freed by reference counting when its file is done, so collecting ten times less often
# costs no memory.
GC_THRESHOLDS = (50000, 20, 100)


def main(argv: Sequence[str] | None = None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    named = arguments[0] if arguments and arguments[0] in SUBCOMMANDS else None
    parser = build_parser(named)
    args = parser.parse_args(arguments)
    if args.command is None:
        parser.print_help()
        return EXIT_USAGE
    from sessguard.config import ConfigError
    from sessguard.filters import BaselineError

    previous = gc.get_threshold()
    gc.set_threshold(*GC_THRESHOLDS)
    try:
        return COMMANDS[args.command](args)
    except (UsageError, ConfigError, BaselineError) as exc:
        print(f"sessguard: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # the reader went away (`| head`): nothing to say, nowhere to say it
        return EXIT_BROKEN_PIPE
    except Exception as exc:
        if getattr(args, "debug", False):
            raise
        print(f"sessguard: internal error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return EXIT_USAGE
    finally:
        gc.set_threshold(*previous)


# what a scan built, when the process ends at once after it (`run`): freeing a large
# scan's facts object by object, as the scan returns, costs a hundredth of a second per
# million lines scanned, before the report is out
_LEFT_TO_EXIT: list[object] | None = None


def run() -> NoReturn:
    """The `sessguard` command: `main`, then out at once. The output is flushed and the
    process ends without tearing the interpreter down: freeing a large scan's facts object
    by object took a tenth of a second after the report was out, and nothing is left to
    do (the workers are stopped, every file written is closed)."""
    global _LEFT_TO_EXIT
    _LEFT_TO_EXIT = []
    code = main()
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError):  # a reader that went away (`| head`), a closed stream
        pass
    os._exit(code)
