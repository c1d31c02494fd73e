"""web.py sessions (`web.session.Session`, attribute-style).

Checked against web.py `web/session.py`: the session id comes from the cookie and is kept
for the whole request; data is saved under `session.session_id` when the request ends;
`kill()` deletes the stored record and marks the session killed, so nothing written later
in the request is saved (a broken login, not a fixation); there is no call that gives the
browser a new id. DiskStore and DBStore keep the data server-side.
"""

from __future__ import annotations

from sessguard.frameworks.base import (
    MAPPING_WRITES,
    Fix,
    Framework,
    always,
    false_friend,
    regen,
    regen_by_emptying,
)
from sessguard.model import Order, Store

FRAMEWORK = Framework(
    name="webpy",
    title="web.py",
    packages=frozenset({"web"}),
    global_sessions=frozenset({"web.config._session"}),
    session_factories=frozenset({"web.session.Session", "web.Session"}),
    attribute_style=True,
    methods={
        "kill": always(regen_by_emptying()),
        "pop": always(false_friend("removes one key; the session keeps its id")),
        **MAPPING_WRITES,
    },
    # the manual rotation: saved under the new `session_id`, sent as a new cookie
    attribute_writes={"session_id": always(regen(Order.EITHER))},
    default_store=Store.SERVER,
    default_backend="server",
    fixes={
        "*": Fix(
            "web.py has no call that gives the browser a new session id: delete the stored "
            "record and assign a new id before writing the identity (`del "
            "session.store[session.session_id]; session.session_id = "
            "session._generate_session_id()`)"
        )
    },
)
