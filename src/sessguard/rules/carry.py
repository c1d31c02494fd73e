"""The named-keys form of an emptying fix (SPEC §5.1): keep what the handler reads.

Emptying the session before a login drops what an attacker planted, and also what the
app itself still needs (a `next` URL, a cart). The fix reads exactly the keys the handler
reads after it, empties the session, and writes those keys back:

    carried = {key: session[key] for key in ("next",) if key in session}
    session.clear()
    session.update(carried)

Never the whole session: that would restore the planted data too. When a read after the
fix cannot be named, or this store's fix has no way to write the keys back, the plan
refuses and says why; an app is never silently changed.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from msgspec.structs import replace

from sessguard.analysis.reads import KeysRead
from sessguard.frameworks.base import Fix
from sessguard.model import FixPlan

# the one name the fix binds; `sessguard.fix` refuses it where it already means something
CARRIED = "carried"


def kept_note(keys: Sequence[str]) -> str:
    if not keys:
        return ""
    shown = ", ".join(f"`{key}`" for key in keys)
    return f", carrying over the session key{'s' if len(keys) > 1 else ''} read after it ({shown})"


def carried_code(code: str, read: KeysRead, session: str | FixPlan, fix: Fix) -> str | FixPlan:
    """The emptying statement `code`, wrapped so that the keys in `read` survive it."""
    carrier = _carrier(read, session, fix)
    if carrier is None or isinstance(carrier, FixPlan):
        return code if carrier is None else carrier
    return "\n".join([_read_back(carrier, read.keys), code, f"{carrier}.update({CARRIED})"])


def carried_factory(plan: FixPlan, call: str, read: KeysRead, session: str | FixPlan, fix: Fix) -> FixPlan:
    """aiohttp: the `get_session` call (`call`, as written) becomes `new_session`; the keys
    read afterwards come from the old session, taken just before, and go into the new one
    just after."""
    carrier = _carrier(read, session, fix)
    if carrier is None or isinstance(carrier, FixPlan):
        return plan if carrier is None else carrier
    if "…" in call:
        return FixPlan(f"no automatic fix: the `get_session` call is too long to repeat; {fix.advice}")
    old = f"previous_{CARRIED}"
    return replace(
        plan,
        description=plan.description + kept_note(read.keys),
        prelude="\n".join([f"{old} = await {call}", _read_back(old, read.keys)]),
        postlude=f"{carrier}.update({CARRIED})",
    )


def _read_back(session: str, keys: Sequence[str]) -> str:
    # json.dumps writes a valid Python string literal, and escapes control characters
    listed = ", ".join(json.dumps(key) for key in keys) + ("," if len(keys) == 1 else "")
    return f"{CARRIED} = {{key: {session}[key] for key in ({listed}) if key in {session}}}"


def _carrier(read: KeysRead, session: str | FixPlan, fix: Fix) -> str | FixPlan | None:
    """The session to carry the keys through; None when nothing is read after the fix;
    or the plan that refuses it."""
    if read.refusal is not None:
        return FixPlan(
            f"no automatic fix: the fix empties the session, and after it {read.refusal}, so "
            f"the keys to carry over are unknown; {fix.advice}"
        )
    if not read.keys:
        return None
    if isinstance(session, FixPlan) or session:
        return session
    keys = ", ".join(f"`{key}`" for key in read.keys)
    return FixPlan(
        f"no automatic fix: the fix empties the session and the handler reads {keys} after "
        f"it, which this store's fix cannot carry over; {fix.advice}"
    )
