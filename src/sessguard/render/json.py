"""The JSON report of SPEC §9: the contract the conformance scorer and CI tools read."""

from __future__ import annotations

import json
from typing import Any

from sessguard.model import FileError, Finding, FixPlan, Report
from sessguard.render import PLAIN, RenderOptions


def finding_dict(finding: Finding) -> dict[str, Any]:
    return {
        "rule_id": finding.rule_id,
        "path": finding.path,
        "line": finding.span.line,
        "column": finding.span.column,
        "end_line": finding.span.end_line,
        "end_column": finding.span.end_column,
        "severity": finding.severity.label,
        "confidence": finding.confidence.label,
        "framework": finding.framework,
        "session_store": finding.session_store.value,
        "function": finding.function,
        "message": finding.message,
        "trace": [
            {"path": step.path, "line": step.line, "column": step.column, "note": step.note}
            for step in finding.trace
        ],
        "fingerprint": finding.fingerprint,
        **({"fix": fix_dict(finding.fix)} if finding.fix is not None else {}),
    }


def fix_dict(plan: FixPlan) -> dict[str, Any]:
    return {
        "available": plan.available,
        "description": plan.description,
        "edits": [
            {
                "line": e.line,
                "column": e.column,
                "end_line": e.end_line,
                "end_column": e.end_column,
                "text": e.text,
            }
            for e in plan.edits
        ],
    }


def error_dict(error: FileError) -> dict[str, Any]:
    entry: dict[str, Any] = {"path": error.path, "kind": error.kind, "message": error.message}
    if error.line is not None:
        entry["line"] = error.line
    if error.column is not None:
        entry["column"] = error.column
    return entry


def render(report: Report, options: RenderOptions = PLAIN) -> str:
    document: dict[str, Any] = {
        "tool": {"name": "sessguard", "version": report.version},
        "findings": [finding_dict(f) for f in report.findings],
        "errors": [error_dict(e) for e in report.errors],
        "stats": {
            "files_discovered": report.stats.files_discovered,
            "files_analyzed": report.stats.files_analyzed,
            "files_skipped": report.stats.files_skipped,
        },
    }
    # beyond SPEC §9, only when asked for or in use, so the default report keeps its shape
    if options.show_suppressed:
        document["suppressed"] = [
            {**finding_dict(s.finding), "suppression": {"kind": s.kind, "reason": s.reason}}
            for s in report.suppressed
        ]
    if report.baseline_used:
        document["baseline"] = {
            "matched": sum(1 for s in report.suppressed if s.kind == "baseline"),
            "fixed": [
                {"rule_id": e.rule_id, "path": e.path, "function": e.function, "message": e.message}
                for e in report.fixed
            ],
        }
    if report.config_files:
        document["config_files"] = list(report.config_files)
    return json.dumps(document, indent=2, ensure_ascii=True) + "\n"
