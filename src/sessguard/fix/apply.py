"""`sessguard fix`: write each finding's regeneration, and prove it worked.

Per file, every fixable finding's plan is applied on the syntax tree (`cst.rewrite`). With
`--diff` nothing is written. Otherwise the files are replaced atomically (a temporary file
in the same directory, the original mode, then a rename; never through a symbolic link),
the project is scanned again, and unless every fixed finding is gone and no new one has
appeared, every file is put back as it was. A second run finds nothing left to fix.
"""

from __future__ import annotations

import contextlib
import difflib
import os
import stat
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

import msgspec

from sessguard.fix.cst import rewrite
from sessguard.fix.edits import Refused, read_source, render
from sessguard.model import Finding, FixPlan, Report
from sessguard.render.text import inert


class Outcome(msgspec.Struct):
    """What a fix run did: the new bytes per file, the findings fixed, those left and why."""

    changes: dict[str, tuple[bytes, bytes]] = msgspec.field(default_factory=dict)  # path -> (old, new)
    fixed: list[Finding] = msgspec.field(default_factory=list)
    left: list[tuple[Finding, str]] = msgspec.field(default_factory=list)

    def diff(self) -> str:
        parts: list[str] = []
        for path, (old, new) in sorted(self.changes.items()):
            parts.extend(
                difflib.unified_diff(
                    old.decode("utf-8", "replace").splitlines(keepends=True),
                    new.decode("utf-8", "replace").splitlines(keepends=True),
                    f"a/{path}",
                    f"b/{path}",
                )
            )
        return "".join(parts)


def plan_changes(report: Report) -> Outcome:
    """The new contents of every file with a fixable finding (nothing is written)."""
    outcome = Outcome()
    by_path: dict[str, list[Finding]] = {}
    for finding in report.findings:
        if finding.fix is None or not finding.fix.available:
            reason = finding.fix.description if finding.fix else "no automatic fix for this finding"
            outcome.left.append((finding, reason))
        else:
            by_path.setdefault(finding.path, []).append(finding)
    for path, findings in sorted(by_path.items()):
        try:
            data = read_source(path)
        except Refused as exc:
            outcome.left.extend((finding, f"not fixed: {exc}") for finding in findings)
            continue
        taken: list[Finding] = []
        for finding in findings:  # one by one, so that one refusal does not block the rest
            assert finding.fix is not None
            try:
                checked(data, [f.fix for f in [*taken, finding] if f.fix is not None])
            except Refused as exc:
                outcome.left.append((finding, f"not fixed: {exc}"))
                continue
            taken.append(finding)
        if taken:
            outcome.changes[path] = (data, checked(data, [f.fix for f in taken if f.fix is not None]))
            outcome.fixed.extend(taken)
    return outcome


def checked(data: bytes, plans: Sequence[FixPlan]) -> bytes:
    """The rewrite on the syntax tree, kept only if it is exactly the text the scan's
    report showed for these plans."""
    rewritten = rewrite(data, plans)
    if rewritten.data != render(data, plans).data:
        raise Refused("the rewrite differs from the edits the report shows")
    return rewritten.data


def apply(outcome: Outcome, before: Report, rescan: Callable[[], Report]) -> str | None:
    """Write the changes; scan again; put everything back unless the fixed findings are
    gone and nothing new appeared. None when the fixes stand, else why they do not."""
    written: dict[str, bytes] = {}
    try:
        for path, (old, new) in sorted(outcome.changes.items()):
            _write(path, new)
            written[path] = old
        after = rescan()
        problem = _verify(outcome.fixed, before, after)
    except (OSError, Refused) as exc:
        problem = f"could not write the fixes ({exc})"
    if problem is not None:
        for path, old in written.items():
            with contextlib.suppress(OSError):
                _write(path, old)
    return problem


def _verify(fixed: Sequence[Finding], before: Report, after: Report) -> str | None:
    now = {f.fingerprint for f in after.findings}
    still = [f for f in fixed if f.fingerprint in now]
    if still:
        return f"{still[0].path}:{still[0].span.line} is still reported after its fix"
    known = {f.fingerprint for f in before.findings}
    new = [f for f in after.findings if f.fingerprint not in known]
    if new:
        return f"the fixes would add a finding at {new[0].path}:{new[0].span.line}"
    return None


def _write(path: str, data: bytes) -> None:
    """Replace the file atomically, keeping its mode; refuse a symbolic link."""
    target = Path(path)
    info = os.lstat(target)
    if stat.S_ISLNK(info.st_mode) or not stat.S_ISREG(info.st_mode):
        raise Refused(f"{path} is not a regular file")
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=".sessguard-fix-")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.chmod(temporary, stat.S_IMODE(info.st_mode))
        os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


def summary(outcome: Outcome, applied: bool) -> str:
    verb = "fixed" if applied else "would fix"
    files = len(outcome.changes)
    lines = [
        f"sessguard: {verb} {len(outcome.fixed)} finding{'s' if len(outcome.fixed) != 1 else ''}"
        f" in {files} file{'s' if files != 1 else ''}"
    ]
    lines += [f"  {inert(f.path)}:{f.span.line}: {inert(reason)}" for f, reason in outcome.left]
    return "\n".join(lines) + "\n"


def inert_diff(text: str) -> str:
    """A diff safe for a terminal: each line escaped as text output escapes it."""
    return "".join(inert(line.rstrip("\n")) + "\n" for line in text.splitlines(keepends=True))
