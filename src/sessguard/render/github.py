"""GitHub Actions workflow commands: one annotation per finding on the pull request."""

from __future__ import annotations

from sessguard.model import Level, Report
from sessguard.render import PLAIN, RenderOptions

COMMANDS = {Level.HIGH: "error", Level.MEDIUM: "warning", Level.LOW: "notice"}


def _data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _property(text: str) -> str:
    return _data(text).replace(":", "%3A").replace(",", "%2C")


def render(report: Report, options: RenderOptions = PLAIN) -> str:
    lines = []
    for f in report.findings:
        properties = ",".join(
            [
                f"file={_property(f.path)}",
                f"line={f.span.line}",
                f"col={f.span.column}",
                f"endLine={f.span.end_line}",
                f"endColumn={f.span.end_column}",
                f"title={_property(f'{f.rule_id} ({f.severity.label})')}",
            ]
        )
        lines.append(f"::{COMMANDS[f.severity]} {properties}::{_data(f.message)}")
    for e in report.errors:
        where = f"file={_property(e.path)}" + (f",line={e.line}" if e.line else "")
        title = "title=sessguard could not analyse this file"
        lines.append(f"::warning {where},{title}::{_data(e.kind + ': ' + e.message)}")
    return "\n".join(lines) + ("\n" if lines else "")
