"""The command line's arguments: the subcommands, their options, and the checks that
turn a bad value into a usage error (exit status 2) before anything runs (SPEC §9)."""

from __future__ import annotations

import argparse
import functools
import os
import sys
from collections.abc import Callable

import msgspec

from sessguard import __version__

EXIT_CLEAN, EXIT_FINDINGS, EXIT_USAGE, EXIT_INCOMPLETE = 0, 1, 2, 3
EXIT_BROKEN_PIPE = 128 + 13  # as a shell shows a command that SIGPIPE ended
FORMATS = ("text", "json", "sarif", "github")

EXAMPLES = """\
examples:
  sessguard scan                                   scan the current directory
  sessguard scan app/ --format json                JSON report on stdout (SPEC §9)
  sessguard scan --format text --format sarif:results.sarif
  sessguard scan src/ --fail-on high               exit 1 only for high-severity findings
  sessguard baseline write .sessguard-baseline.json && sessguard scan --baseline .sessguard-baseline.json
  sessguard explain python-session-fixation
  sessguard fix --diff                             preview the automatic fixes

exit status: 0 clean, 1 findings, 2 usage or configuration error,
             3 no findings but some files could not be analysed
             (fix --diff/--check: 1 when fixes are pending, 0 when none)
"""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"sessguard: error: {message}\n")

    def _get_formatter(self) -> argparse.HelpFormatter:
        # argparse makes a formatter for every option it adds; by default each one asks
        # `shutil` for the terminal's width, and importing shutil costs more than parsing
        return self.formatter_class(prog=self.prog, width=_terminal_width())  # type: ignore[call-arg]


@functools.cache
def _terminal_width() -> int:
    """The width help text wraps to: $COLUMNS, else the terminal's, else 80 (what
    `shutil.get_terminal_size` answers)."""
    columns = os.environ.get("COLUMNS", "")
    if columns.isdigit() and int(columns) > 0:
        return int(columns)
    stdout = sys.__stdout__
    try:
        return (os.get_terminal_size(stdout.fileno()).columns if stdout else 0) or 80
    except (ValueError, OSError):
        return 80


class Output(msgspec.Struct, frozen=True):
    """One `--format`: a report format and the file it goes to (None: standard output)."""

    format: str
    path: str | None


def _output(text: str) -> Output:
    name, _, path = text.partition(":")
    if name not in FORMATS:
        raise argparse.ArgumentTypeError(f"unknown format {name!r} (choose from {', '.join(FORMATS)})")
    return Output(name, path or None)


def _level(text: str) -> object:
    from sessguard.model import Level

    try:
        return Level.parse(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _size(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError("expected a number of bytes") from None
    if value <= 0:
        raise argparse.ArgumentTypeError("expected a positive number of bytes")
    return value


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError("expected a number of seconds") from None
    if not 0 < value < 1e6:
        raise argparse.ArgumentTypeError("expected a positive number of seconds")
    return value


def _jobs(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError("expected a whole number of processes") from None
    if not 1 <= value <= 512:
        raise argparse.ArgumentTypeError("expected between 1 and 512 processes")
    return value


def _scan_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "paths", nargs="*", default=["."], metavar="PATH", help="files or directories (default: .)"
    )
    config = parser.add_argument_group("configuration")
    config.add_argument(
        "--config", metavar="FILE", help="read this configuration file instead of the nearest one"
    )
    config.add_argument(
        "--isolated", action="store_true", help="ignore configuration files in the scanned tree"
    )
    config.add_argument("--select", action="append", metavar="RULE", help="report only these rules")
    config.add_argument("--ignore", action="append", metavar="RULE", help="do not report these rules")
    config.add_argument(
        "--exclude",
        action="append",
        metavar="PATTERN",
        help="skip paths matching this gitignore pattern, instead of the default excluded directories",
    )
    config.add_argument(
        "--extend-exclude",
        action="append",
        metavar="PATTERN",
        help="skip paths matching this gitignore pattern too",
    )
    config.add_argument(
        "--fail-on",
        type=_level,
        metavar="LEVEL",
        help="lowest severity that makes the exit status 1 (default: low)",
    )
    config.add_argument(
        "--min-severity", type=_level, metavar="LEVEL", help="hide findings below this severity"
    )
    config.add_argument(
        "--min-confidence", type=_level, metavar="LEVEL", help="hide findings below this confidence"
    )
    config.add_argument(
        "--max-file-size", type=_size, metavar="BYTES", help="skip larger files, reported as too-large"
    )
    config.add_argument(
        "--file-timeout", type=_seconds, metavar="SECONDS", help="analysis time per file (default: 5)"
    )
    config.add_argument(
        "--no-prefilter",
        dest="prefilter",
        action="store_false",
        default=None,
        help="parse every file, not only those that can matter (slower; same findings)",
    )
    config.add_argument(
        "--include-tests",
        action="store_true",
        default=None,
        help="report logins in test code too (tests are no entry point a browser reaches)",
    )
    config.add_argument(
        "--follow-symlinks",
        action="store_true",
        default=None,
        help="follow symbolic links whose target stays inside the scanned tree",
    )
    run = parser.add_argument_group("running")
    run.add_argument(
        "--jobs", "-j", type=_jobs, metavar="N", help="worker processes (default: available cores)"
    )
    run.add_argument(
        "--cache-dir",
        metavar="DIR",
        help="where per-file facts are cached (default: $SESSGUARD_CACHE_DIR or the user cache directory)",
    )
    run.add_argument("--no-cache", action="store_true", help="neither read nor write the cache")
    run.add_argument("--quiet", "-q", action="store_true", help="no progress bar")
    run.add_argument(
        "--statistics", action="store_true", help="print time per stage and the slowest files to stderr"
    )
    config.add_argument(
        "--no-report-unused-suppressions",
        dest="report_unused",
        action="store_false",
        default=None,
        help="do not report suppression comments that match no finding",
    )


def _output_options(parser: argparse.ArgumentParser) -> None:
    out = parser.add_argument_group("output")
    out.add_argument(
        "--format",
        dest="formats",
        action="append",
        type=_output,
        metavar="FMT[:PATH]",
        help=f"output format, one of {', '.join(FORMATS)}; repeat for several outputs (default: text)",
    )
    out.add_argument(
        "--output", "-o", metavar="FILE", help="write the (single) report to FILE instead of stdout"
    )
    out.add_argument(
        "--show-suppressed", action="store_true", help="also show suppressed and baselined findings"
    )
    out.add_argument("--exit-zero", action="store_true", help="exit 0 even when there are findings")
    color = out.add_mutually_exclusive_group()
    color.add_argument(
        "--color", dest="color", action="store_true", default=None, help="always colour text output"
    )
    color.add_argument("--no-color", dest="color", action="store_false", help="never colour text output")
    parser.add_argument("--debug", action="store_true", help="show tracebacks of internal errors")


def _add_scan(commands: argparse._SubParsersAction[_Parser]) -> None:
    scan = commands.add_parser(
        "scan",
        help="scan files and directories",
        description="Scan Python files for logins that keep the session id the request arrived with.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _scan_options(scan)
    scan.add_argument("--baseline", metavar="FILE", help="report only findings not in this baseline")
    scan.add_argument(
        "--no-project",
        dest="with_projects",
        action="store_false",
        help="analyse each FILE alone, not with the project it belongs to (see sessguard.projects)",
    )
    _output_options(scan)


def _add_config(commands: argparse._SubParsersAction[_Parser]) -> None:
    config = commands.add_parser(
        "config", help="print the effective configuration and where each value came from"
    )
    _scan_options(config)


def _add_rules(commands: argparse._SubParsersAction[_Parser]) -> None:
    commands.add_parser("rules", help="list the rules")


def _add_explain(commands: argparse._SubParsersAction[_Parser]) -> None:
    explain = commands.add_parser("explain", help="print a rule's documentation")
    explain.add_argument("rule", metavar="RULE")


def _add_baseline(commands: argparse._SubParsersAction[_Parser]) -> None:
    baseline = commands.add_parser("baseline", help="manage a baseline of accepted findings")
    actions = baseline.add_subparsers(dest="action", metavar="ACTION", parser_class=_Parser, required=True)
    write = actions.add_parser("write", help="write today's findings to FILE")
    write.add_argument("file", metavar="FILE")
    _scan_options(write)


def _add_fix(commands: argparse._SubParsersAction[_Parser]) -> None:
    fix = commands.add_parser(
        "fix",
        help="write the framework's regeneration where each finding needs it",
        description="Apply the automatic fixes: each is checked on the syntax tree, and kept only "
        "if a new scan shows its finding gone and nothing new.",
    )
    _scan_options(fix)
    preview = fix.add_mutually_exclusive_group()
    preview.add_argument(
        "--diff", action="store_true", help="print a unified diff, change nothing; exit 1 if any"
    )
    preview.add_argument(
        "--check", action="store_true", help="change nothing, print nothing; exit 1 if fixes are pending"
    )


SUBCOMMANDS: dict[str, Callable[[argparse._SubParsersAction[_Parser]], None]] = {
    "scan": _add_scan,
    "config": _add_config,
    "rules": _add_rules,
    "explain": _add_explain,
    "baseline": _add_baseline,
    "fix": _add_fix,
}


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The parser; with `only`, just that subcommand's (the one the arguments name): each
    subcommand's options cost start-up time, and a run parses one."""
    parser = _Parser(
        prog="sessguard",
        description="Find session fixation (CWE-384) in Python web applications.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"sessguard {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name, add in SUBCOMMANDS.items():
        if only is None or name == only:
            add(commands)
    return parser
