"""From all findings to the ones a user sees: rule selection, inline suppressions, the
baseline and the display thresholds, each dropped finding recorded with its reason.

Inline suppressions name the rule: `# sessguard: ignore[python-session-fixation] -- why`,
on any line of the reported statement or on the line above it. A bare
`# sessguard: ignore` suppresses nothing and is reported, so that no suppression hides
more than it says; `# nosec python-session-fixation` is honoured for projects that already
annotate for Bandit. A suppression that matches nothing is reported too (it may hide the
next real finding), unless `report-unused-suppressions` is off.
"""

from __future__ import annotations

import json
import os
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import msgspec

from sessguard.config import Config
from sessguard.discover import display_path, is_within
from sessguard.model import (
    SUPPRESSION_RULE_ID,
    BaselineEntry,
    Finding,
    Level,
    Span,
    Store,
    Suppressed,
    TraceStep,
    statement_hash,
)

_SESSGUARD = re.compile(
    r"#\s*sessguard\s*:\s*ignore(?:\[(?P<rules>[^\]]*)\])?(?:\s*--\s*(?P<reason>.*))?", re.I
)
_NOSEC = re.compile(r"#\s*nosec\b:?\s*(?P<rules>[\w\-, ]*)", re.I)
# version 2: entry paths are relative to the baseline file's directory (version 1: to the
# directory the baseline was written from, which the file does not record)
BASELINE_VERSION = 2


class Suppression(msgspec.Struct, frozen=True):
    path: str
    line: int
    rules: tuple[str, ...] | None  # None: a bare `# sessguard: ignore`
    reason: str
    kind: str  # "sessguard" or "nosec"


def parse_suppressions(path: str, comments: Iterable[tuple[int, str]]) -> list[Suppression]:
    found: list[Suppression] = []
    for line, text in comments:
        match = _SESSGUARD.search(text)
        if match:
            rules = match.group("rules")
            names = tuple(r.strip() for r in rules.split(",") if r.strip()) if rules is not None else None
            found.append(Suppression(path, line, names, (match.group("reason") or "").strip(), "sessguard"))
            continue
        nosec = _NOSEC.search(text)
        if nosec:
            names = tuple(r.strip() for r in re.split(r"[,\s]+", nosec.group("rules")) if r.strip())
            if names:
                found.append(Suppression(path, line, names, "", "nosec"))
    return found


class Filtered(msgspec.Struct, frozen=True):
    shown: tuple[Finding, ...]
    suppressed: tuple[Suppressed, ...]
    fixed: tuple[BaselineEntry, ...]
    hidden: int


def apply_filters(
    findings: Sequence[Finding],
    comments: Mapping[str, Sequence[tuple[int, str]]],
    config: Config,
    baseline: Sequence[BaselineEntry] | None = None,
) -> Filtered:
    selected = [f for f in findings if _selected(f.rule_id, config)]
    kept, suppressed, problems = _inline(selected, comments, config)
    kept += [p for p in problems if _selected(p.rule_id, config)]
    fixed: tuple[BaselineEntry, ...] = ()
    if baseline is not None:
        kept, baselined, fixed = _baseline(kept, baseline)
        suppressed += baselined
    shown = [f for f in kept if f.severity >= config.min_severity and f.confidence >= config.min_confidence]
    shown.sort(key=lambda f: (f.path, f.span.line, f.span.column, f.rule_id))
    return Filtered(tuple(shown), tuple(suppressed), fixed, len(kept) - len(shown))


def _selected(rule_id: str, config: Config) -> bool:
    if config.select and rule_id not in config.select:
        return False
    return rule_id not in config.ignore


def _inline(
    findings: list[Finding], comments: Mapping[str, Sequence[tuple[int, str]]], config: Config
) -> tuple[list[Finding], list[Suppressed], list[Finding]]:
    by_path = {path: parse_suppressions(path, lines) for path, lines in comments.items()}
    used: set[Suppression] = set()
    kept: list[Finding] = []
    suppressed: list[Suppressed] = []
    for finding in findings:
        lines = range(finding.span.line - 1, finding.span.end_line + 1)
        match = next(
            (
                s
                for s in by_path.get(finding.path, [])
                if s.line in lines and s.rules is not None and finding.rule_id in s.rules
            ),
            None,
        )
        if match is None:
            kept.append(finding)
            continue
        used.add(match)
        reason = match.reason or ("# nosec" if match.kind == "nosec" else "no reason given")
        suppressed.append(Suppressed(finding, "inline", reason))
    problems: list[Finding] = []
    for suppressions in by_path.values():
        for s in suppressions:
            if s.rules is None:
                problems.append(
                    _problem(
                        s,
                        "A bare `# sessguard: ignore` suppresses nothing: name the rule, as in "
                        "`# sessguard: ignore[python-session-fixation] -- why`.",
                    )
                )
            elif s.kind == "sessguard" and s not in used and config.report_unused_suppressions:
                problems.append(
                    _problem(
                        s,
                        f"Unused suppression: no {', '.join(s.rules)} finding is reported on this "
                        "statement, so the comment would hide the next one. Remove it.",
                    )
                )
    return kept, suppressed, problems


def _problem(suppression: Suppression, message: str) -> Finding:
    span = Span(suppression.line, 1, suppression.line, 1)
    return Finding(
        rule_id=SUPPRESSION_RULE_ID,
        path=suppression.path,
        span=span,
        severity=Level.LOW,
        confidence=Level.HIGH,
        framework="sessguard",
        session_store=Store.UNKNOWN,
        function="",
        message=message,
        trace=(TraceStep(suppression.path, suppression.line, 1, message.split(":")[0]),),
        fingerprint=statement_hash(f"{suppression.path}:{suppression.line}:{message}"),
    )


# -- baseline ------------------------------------------------------------------------------


def baseline_entry(finding: Finding) -> BaselineEntry:
    return BaselineEntry(
        finding.rule_id, finding.path, finding.function, statement_hash(finding.statement), finding.headline
    )


def _baseline(
    findings: list[Finding], entries: Sequence[BaselineEntry]
) -> tuple[list[Finding], list[Suppressed], tuple[BaselineEntry, ...]]:
    """Entries absorb findings as a multiset: three entries absorb three findings, not more."""
    budget = Counter(entry.key for entry in entries)
    kept: list[Finding] = []
    baselined: list[Suppressed] = []
    for finding in findings:
        key = baseline_entry(finding).key
        if budget[key] > 0:
            budget[key] -= 1
            baselined.append(Suppressed(finding, "baseline", "in the baseline"))
        else:
            kept.append(finding)
    fixed: list[BaselineEntry] = []
    for entry in entries:
        if budget[entry.key] > 0:
            budget[entry.key] -= 1
            fixed.append(entry)
    return kept, baselined, tuple(fixed)


class BaselineError(Exception):
    pass


def write_baseline(path: Path, findings: Iterable[Finding]) -> int:
    """Entry paths are written relative to the baseline's directory, so that the baseline
    matches whatever directory a later scan runs from."""
    home = os.path.dirname(os.path.abspath(path))
    entries = [baseline_entry(f) for f in findings]
    document = {
        "tool": "sessguard",
        "version": BASELINE_VERSION,
        "entries": [
            {
                "rule_id": e.rule_id,
                "path": Path(os.path.relpath(os.path.abspath(e.path), home)).as_posix(),
                "function": e.function,
                "statement_hash": e.statement_hash,
                "message": e.message,
            }
            for e in entries
        ],
    }
    path.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    return len(entries)


def read_baseline(path: Path) -> list[BaselineEntry]:
    """The entries with their paths as findings show them (relative to the current
    directory when under it). A version-1 baseline does not say where its paths start;
    they are read, as they always were, relative to the current directory."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise BaselineError(f"{path}: cannot read the baseline: {exc.strerror}") from None
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise BaselineError(f"{path}: not a sessguard baseline ({exc})") from None
    if not isinstance(document, dict) or document.get("tool") != "sessguard":
        raise BaselineError(f"{path}: not a sessguard baseline")
    entries = document.get("entries")
    if not isinstance(entries, list):
        raise BaselineError(f"{path}: the baseline has no entries list")
    version = document.get("version", 1)
    if version not in (1, BASELINE_VERSION):
        raise BaselineError(f"{path}: baseline version {version!r} is not one this sessguard reads")
    cwd = Path(os.getcwd())
    home = Path(os.path.dirname(os.path.abspath(path))) if version == BASELINE_VERSION else cwd
    result = []
    for raw in entries:
        if not isinstance(raw, dict) or not all(
            isinstance(raw.get(k), str) for k in ("rule_id", "path", "function", "statement_hash")
        ):
            raise BaselineError(f"{path}: a baseline entry lacks rule_id, path, function or statement_hash")
        result.append(
            BaselineEntry(
                raw["rule_id"],
                display_path(home / raw["path"], cwd),
                raw["function"],
                raw["statement_hash"],
                str(raw.get("message", "")),
            )
        )
    return result


def covers_none(entries: Sequence[BaselineEntry], scanned: Sequence[str]) -> bool:
    """Whether no entry names a file under the scanned paths: a baseline written for
    another tree (or read from the wrong place) would silently accept nothing."""
    roots = [os.path.abspath(p) for p in scanned]
    named = (os.path.abspath(entry.path) for entry in entries)
    return bool(entries) and not any(is_within(a, roots) and os.path.isfile(a) for a in named)
