"""SARIF 2.1.0 for GitHub code scanning and other SARIF consumers.

Paths are repo-relative URIs under `%SRCROOT%` (percent-encoded, so any file name stays a
valid URI); every result has all four region fields, a `primaryLocationLineHash` that does
not change when unrelated lines move (it hashes the statement, not its line), the trace as
a code flow and as related locations; suppressed and baselined results keep their state.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any
from urllib.parse import quote

from sessguard.model import Finding, Level, Report, Suppressed, TraceStep, statement_hash
from sessguard.render import PLAIN, RenderOptions
from sessguard.rules.catalog import HOMEPAGE, RULES

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
LEVELS = {Level.HIGH: "error", Level.MEDIUM: "warning", Level.LOW: "note"}
RULE_INDEX = {rule.id: index for index, rule in enumerate(RULES)}


def _uri(path: str) -> dict[str, str]:
    """A percent-encoded URI for any path, including bytes that are not UTF-8."""
    raw = path.encode("utf-8", "surrogateescape")
    if path.startswith("/"):
        return {"uri": "file://" + quote(raw, safe="/")}
    return {"uri": quote(raw, safe="/"), "uriBaseId": "%SRCROOT%"}


def _location(
    path: str, line: int, column: int, end_line: int | None = None, end_column: int | None = None
) -> dict[str, Any]:
    region = {
        "startLine": line,
        "startColumn": column,
        "endLine": end_line if end_line is not None else line,
        "endColumn": end_column if end_column is not None else column + 1,
    }
    return {"physicalLocation": {"artifactLocation": _uri(path), "region": region}}


def _step(step: TraceStep) -> dict[str, Any]:
    return _location(step.path, step.line, step.column)


def rule_dict(rule: Any) -> dict[str, Any]:
    return {
        "id": rule.id,
        "name": rule.name,
        "shortDescription": {"text": rule.short},
        "fullDescription": {"text": rule.full},
        "help": {"text": rule.doc, "markdown": rule.doc},
        "helpUri": rule.help_uri,
        "defaultConfiguration": {"level": LEVELS[rule.level]},
        "properties": {
            "tags": list(rule.tags),
            "precision": rule.precision,
            "security-severity": rule.security_severity,
        },
    }


def _result(
    finding: Finding, occurrence: int, suppressed: Suppressed | None, baseline: bool
) -> dict[str, Any]:
    span = finding.span
    location = _location(finding.path, span.line, span.column, span.end_line, span.end_column)
    if finding.snippet:
        location["physicalLocation"]["region"]["snippet"] = {"text": finding.snippet}
    result: dict[str, Any] = {
        "ruleId": finding.rule_id,
        "ruleIndex": RULE_INDEX[finding.rule_id],
        "level": LEVELS[finding.severity],
        "message": {"text": finding.message},
        "locations": [location],
        "partialFingerprints": {
            "primaryLocationLineHash": f"{statement_hash(finding.statement or finding.message)}:{occurrence}",
            "sessguard/v1": finding.fingerprint,
        },
        "properties": {
            "severity": finding.severity.label,
            "confidence": finding.confidence.label,
            "framework": finding.framework,
            "session_store": finding.session_store.value,
            "function": finding.function,
        },
    }
    if finding.trace:
        flow = [
            {"location": {**_step(step), "message": {"text": step.note}}, "nestingLevel": 0}
            for step in finding.trace
        ]
        result["codeFlows"] = [{"threadFlows": [{"locations": flow}]}]
        result["relatedLocations"] = [
            {"id": index, **_step(step), "message": {"text": step.note}}
            for index, step in enumerate(finding.trace, 1)
        ]
    if finding.fix is not None and finding.fix.edits:
        result["fixes"] = [_fix(finding)]
    if suppressed is not None:
        kind = "inSource" if suppressed.kind == "inline" else "external"
        result["suppressions"] = [{"kind": kind, "justification": suppressed.reason}]
    if baseline:
        result["baselineState"] = (
            "unchanged" if suppressed is not None and suppressed.kind == "baseline" else "new"
        )
    return result


def _fix(finding: Finding) -> dict[str, Any]:
    assert finding.fix is not None
    return {
        "description": {"text": finding.fix.description},
        "artifactChanges": [
            {
                "artifactLocation": _uri(finding.path),
                "replacements": [
                    {
                        "deletedRegion": {
                            "startLine": e.line,
                            "startColumn": e.column,
                            "endLine": e.end_line,
                            "endColumn": e.end_column,
                        },
                        "insertedContent": {"text": e.text},
                    }
                    for e in finding.fix.edits
                ],
            }
        ],
    }


def _notification(error: Any) -> dict[str, Any]:
    notification: dict[str, Any] = {
        "level": "error",
        "message": {"text": f"{error.kind}: {error.message}"},
        "descriptor": {"id": error.kind},
    }
    notification["locations"] = [_location(error.path, error.line or 1, error.column or 1)]
    return notification


def render(report: Report, options: RenderOptions = PLAIN) -> str:
    seen: dict[tuple[str, str, str], int] = {}
    results = []
    entries: list[tuple[Finding, Suppressed | None]] = [(f, None) for f in report.findings]
    entries += [(s.finding, s) for s in report.suppressed]
    entries.sort(key=lambda item: (item[0].path, item[0].span.line, item[0].span.column, item[0].rule_id))
    for finding, suppressed in entries:
        key = (finding.rule_id, finding.path, statement_hash(finding.statement or finding.message))
        occurrence = seen.get(key, 0) + 1
        seen[key] = occurrence
        results.append(_result(finding, occurrence, suppressed, report.baseline_used))
    run: dict[str, Any] = {
        "tool": {
            "driver": {
                "name": "sessguard",
                "version": report.version,
                "semanticVersion": report.version,
                "informationUri": HOMEPAGE,
                "rules": [rule_dict(rule) for rule in RULES],
            }
        },
        "columnKind": "unicodeCodePoints",
        "originalUriBaseIds": {"%SRCROOT%": {"uri": Path(os.getcwd()).as_uri() + "/"}},
        "invocations": [
            {
                "executionSuccessful": not report.errors,
                "toolExecutionNotifications": [_notification(e) for e in report.errors],
            }
        ],
        "results": results,
    }
    document = {"$schema": SCHEMA, "version": "2.1.0", "runs": [run]}
    return json.dumps(document, indent=2, ensure_ascii=True) + "\n"
