"""Text for a person at a terminal: one line per finding, its source line, its trace.

Everything taken from scanned files (paths, snippets, names in messages) passes through
`inert()`: control characters, DEL and bidirectional overrides are shown escaped, so a
file cannot move the cursor, clear the screen or reorder what the reader sees.
"""

from __future__ import annotations

import re
from collections import Counter

from sessguard.model import RULE_ID, FileError, Finding, Level, Report, Store
from sessguard.render import PLAIN, RenderOptions

MAX_SNIPPET = 160
# C0, DEL, C1, bidi controls, line/paragraph separators, and the lone surrogates that stand
# for undecodable bytes in file names
UNSAFE = re.compile(
    "[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029\ud800-\udfff]"
)
_COLORS = {Level.HIGH: "\x1b[1;31m", Level.MEDIUM: "\x1b[33m", Level.LOW: "\x1b[36m"}
_STORE_KINDS = {Store.SERVER: "server-side", Store.COOKIE: "in the cookie", Store.UNKNOWN: "unknown"}
_BOLD, _DIM, _RESET = "\x1b[1m", "\x1b[2m", "\x1b[0m"


# files over a limit whose bytes show they cannot matter (sessguard.oversized)
SKIPPED_BEYOND = {"too-large": "over --max-file-size", "timeout": "over --file-timeout"}


def inert(text: str) -> str:
    def escape(match: re.Match[str]) -> str:
        char = match.group()
        return f"\\x{ord(char):02x}" if ord(char) < 0x100 else f"\\u{ord(char):04x}"

    return UNSAFE.sub(escape, text)


class _Style:
    def __init__(self, color: bool) -> None:
        self.color = color

    def __call__(self, code: str, text: str) -> str:
        return f"{code}{text}{_RESET}" if self.color else text


def _finding(finding: Finding, style: _Style) -> list[str]:
    where = f"{inert(finding.path)}:{finding.span.line}:{finding.span.column}"
    severity = style(_COLORS[finding.severity], finding.severity.label)
    lines = [f"{style(_BOLD, where)}: {severity} {finding.rule_id} {inert(finding.headline)}"]
    snippet = inert(finding.snippet)
    if len(snippet) > MAX_SNIPPET:
        snippet = snippet[: MAX_SNIPPET - 1] + "…"
    if snippet:
        lines.append(style(_DIM, f"    {finding.span.line:>5} | {snippet}"))
    if finding.trace:
        lines.append("    trace:")
        for step in finding.trace:
            lines.append(f"      {inert(step.path)}:{step.line} {inert(step.note)}")
    if finding.rule_id == RULE_ID:
        lines.append(f"    store: {_store(finding)}")
    fix = finding.message.rfind("Fix: ")
    if fix >= 0:
        lines.append(f"    fix: {inert(finding.message[fix + 5 :])}")
    if finding.fix is not None:
        plan = finding.fix
        where = f"`sessguard fix` can {plan.description}" if plan.available else plan.description
        lines.append(f"    autofix: {inert(where)}")
    return lines


def _store(finding: Finding) -> str:
    """What the session store was classified from and what it is: the line that tells a
    reader why the finding is high (server-side) or low (in the cookie)."""
    seen = inert(finding.store_evidence) if finding.store_evidence else "nothing in the code: the default"
    return f"{seen} ({_STORE_KINDS[finding.session_store]})"


def _error(error: FileError) -> str:
    """`path: kind: message [line:col]`, one line whatever the path holds."""
    position = ""
    if error.line is not None:
        position = f" [{error.line}:{error.column}]" if error.column is not None else f" [{error.line}]"
    return f"{inert(error.path)}: {error.kind}: {inert(error.message)}{position}"


def summary_line(report: Report) -> str:
    counts = Counter(f.severity for f in report.findings)
    total = len(report.findings)
    parts = [f"{report.stats.files_analyzed} file{'s' if report.stats.files_analyzed != 1 else ''} scanned"]
    if total:
        by = ", ".join(
            f"{counts[level]} {level.label}"
            for level in (Level.HIGH, Level.MEDIUM, Level.LOW)
            if counts[level]
        )
        parts.append(f"{total} finding{'s' if total != 1 else ''} ({by})")
    else:
        parts.append("no findings")
    inline = sum(1 for s in report.suppressed if s.kind == "inline")
    baselined = len(report.suppressed) - inline
    if inline:
        parts.append(f"{inline} suppressed inline")
    if report.baseline_used:
        parts.append(f"{baselined} in the baseline, {len(report.fixed)} fixed since")
    if report.hidden:
        parts.append(f"{report.hidden} below --min-severity/--min-confidence")
    for kind, count in report.skipped:
        plural = "s" if count != 1 else ""
        if kind == "symlink":
            parts.append(f"{count} symbolic link{plural} not followed (--follow-symlinks)")
        elif kind in SKIPPED_BEYOND:
            where = "it" if count == 1 else "them"
            limit = SKIPPED_BEYOND[kind]
            parts.append(f"{count} file{plural} {limit} skipped (no word in {where} can matter)")
    if report.errors:
        kinds = Counter(e.kind for e in report.errors)
        detail = ", ".join(f"{n} {k}" for k, n in sorted(kinds.items()))
        plural = "s" if len(report.errors) != 1 else ""
        parts.append(f"{len(report.errors)} file{plural} could not be analysed ({detail})")
    return "; ".join(parts) + "."


def render(report: Report, options: RenderOptions = PLAIN) -> str:
    style = _Style(options.color)
    out: list[str] = []
    for finding in report.findings:
        out.extend(_finding(finding, style))
        out.append("")
    if options.show_suppressed:
        for suppressed in report.suppressed:
            block = _finding(suppressed.finding, style)
            why = "in the baseline" if suppressed.kind == "baseline" else f"suppressed: {suppressed.reason}"
            block[0] += f" [{inert(why)}]"
            out.extend(block)
            out.append("")
    for entry in report.fixed:
        out.append(
            f"{inert(entry.path)}: fixed since the baseline: {inert(entry.function)}: {inert(entry.message)}"
        )
    if report.fixed:
        out.append("")
    for error in report.errors:
        out.append(_error(error))
    if report.errors:
        out.append("")
    out.append(summary_line(report))
    return "\n".join(out) + "\n"


__all__ = ["RULE_ID", "inert", "render", "summary_line"]
