"""Command line: arguments in, exit status out (SPEC §9). Nothing else lives here."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from sessguard import __version__

EXIT_CLEAN, EXIT_FINDINGS, EXIT_USAGE, EXIT_INCOMPLETE = 0, 1, 2, 3

EXAMPLES = """\
examples:
  sessguard scan                      scan the current directory
  sessguard scan app/ --format json   JSON report on stdout (SPEC §9)
  sessguard scan . --output report.json --format json
  sessguard scan src/ --fail-on high  exit 1 only for high-severity findings

exit status: 0 clean, 1 findings, 2 usage or configuration error,
             3 no findings but some files could not be analysed
"""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"sessguard: error: {message}\n")


def _level(text: str) -> object:
    from sessguard.model import Level

    try:
        return Level.parse(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="sessguard",
        description="Find session fixation (CWE-384) in Python web applications.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"sessguard {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    scan = commands.add_parser(
        "scan",
        help="scan files and directories",
        description="Scan Python files for logins that keep the session id the request arrived with.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    scan.add_argument(
        "paths", nargs="*", default=["."], metavar="PATH", help="files or directories (default: .)"
    )
    scan.add_argument(
        "--format", choices=("text", "json"), default="text", help="output format (default: text)"
    )
    scan.add_argument("--output", "-o", metavar="FILE", help="write the report to FILE instead of stdout")
    scan.add_argument(
        "--fail-on",
        type=_level,
        metavar="LEVEL",
        help="lowest severity that makes the exit status 1 (default: low)",
    )
    scan.add_argument(
        "--min-severity", type=_level, metavar="LEVEL", help="hide findings below this severity"
    )
    scan.add_argument(
        "--min-confidence", type=_level, metavar="LEVEL", help="hide findings below this confidence"
    )
    scan.add_argument("--exit-zero", action="store_true", help="exit 0 even when there are findings")
    color = scan.add_mutually_exclusive_group()
    color.add_argument(
        "--color", dest="color", action="store_true", default=None, help="always colour text output"
    )
    color.add_argument("--no-color", dest="color", action="store_false", help="never colour text output")
    scan.add_argument("--debug", action="store_true", help="show tracebacks of internal errors")
    return parser


def _use_color(requested: bool | None, output: str | None) -> bool:
    if requested is not None:
        return requested
    if output or os.environ.get("NO_COLOR"):
        return False
    return sys.stdout.isatty() and os.environ.get("TERM") != "dumb"


def run_scan(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from sessguard.config import Config
    from sessguard.pipeline import scan
    from sessguard.render import RenderOptions

    config = Config()
    for field in ("fail_on", "min_severity", "min_confidence"):
        value = getattr(args, field)
        if value is not None:
            config = replace(config, **{field: value})
    report = scan(args.paths, config)
    if args.format == "json":
        from sessguard.render.json import render
    else:
        from sessguard.render.text import render
    text = render(report, RenderOptions(color=_use_color(args.color, args.output)))
    if args.output:
        try:
            with open(args.output, "w", encoding="utf-8") as handle:
                handle.write(text)
        except OSError as exc:
            print(f"sessguard: cannot write {args.output}: {exc.strerror}", file=sys.stderr)
            return EXIT_USAGE
    else:
        sys.stdout.write(text)
        sys.stdout.flush()
    if args.exit_zero:
        return EXIT_CLEAN
    if any(f.severity >= config.fail_on for f in report.findings):
        return EXIT_FINDINGS
    if report.errors:
        return EXIT_INCOMPLETE
    return EXIT_CLEAN


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return EXIT_USAGE
    try:
        return run_scan(args)
    except KeyboardInterrupt:
        return 130
    except Exception as exc:
        if getattr(args, "debug", False):
            raise
        print(f"sessguard: internal error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return EXIT_USAGE
