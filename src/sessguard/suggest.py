"""Naming what a user probably meant when a name they wrote is not one we know.

A configuration key, a rule id or a `[tool.X]` table spelled wrongly must never silently
turn a check off; the error (or warning) says what was written and the nearest known
name, so the fix is one edit away for the reader too.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence


def did_you_mean(name: str, known: Iterable[str]) -> str | None:
    """The known name closest to `name`, if any is close: `fail_on` and `Fail-On` find
    `fail-on`, as the spelling differences people make most are case and separators."""
    candidates = sorted(known)
    normal = {candidate.lower().replace("_", "-"): candidate for candidate in candidates}
    exact = normal.get(name.lower().replace("_", "-"))
    if exact is not None:
        return exact
    close = difflib.get_close_matches(name, candidates, n=1, cutoff=0.6)
    return close[0] if close else None


def unknown_names(kind: str, names: Sequence[str], known: Iterable[str]) -> str:
    """One message for every unknown name at once (fixing them one run at a time is
    tedious): each with its suggestion, then the known names."""
    choices = sorted(known)
    lines = [f"unknown {kind}{'s' if len(names) != 1 else ''}:"]
    for name in names:
        guess = did_you_mean(name, choices)
        hint = f" (did you mean {guess!r}?)" if guess is not None else ""
        lines.append(f"  {name!r}{hint}")
    lines.append(f"known {kind}s: {', '.join(choices)}")
    return "\n".join(lines)


def one_edit_apart(written: str, meant: str) -> bool:
    """Whether `written` differs from `meant` by exactly one insertion, deletion,
    substitution or swap of neighbours (`sesguard`, `sessguards`, `sessgaurd`)."""
    if written == meant:
        return False
    if len(written) == len(meant):
        differ = [i for i, (a, b) in enumerate(zip(written, meant, strict=True)) if a != b]
        if len(differ) == 1:
            return True
        first = differ[0]
        return (
            len(differ) == 2
            and differ[1] == first + 1
            and written[first] == meant[first + 1]
            and written[first + 1] == meant[first]
        )
    shorter, longer = sorted((written, meant), key=len)
    if len(longer) - len(shorter) != 1:
        return False
    return any(longer[:index] + longer[index + 1 :] == shorter for index in range(len(longer)))
