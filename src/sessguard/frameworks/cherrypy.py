"""CherryPy sessions (`tools.sessions`).

Checked against CherryPy 18 `cherrypy/lib/sessions.py`: `Session.regenerate()` replaces
the session id (the data is saved under the new id when the request ends);
`clear()` and `delete()` keep the id; `lib.sessions.expire()` only expires the cookie in
the browser. Every CherryPy storage (ram, file, memcached) keeps the data server-side.
"""

from __future__ import annotations

from sessguard.frameworks.base import MAPPING_WRITES, Fix, Framework, always, false_friend, regen
from sessguard.model import Order, Placement, Store

FRAMEWORK = Framework(
    name="cherrypy",
    title="CherryPy",
    packages=frozenset({"cherrypy"}),
    global_sessions=frozenset({"cherrypy.session", "cherrypy.serving.session"}),
    calls={
        "cherrypy.lib.sessions.expire": always(
            false_friend("only expires the cookie in the browser; the server keeps the session")
        ),
    },
    methods={
        "regenerate": always(regen(Order.EITHER)),
        "clear": always(false_friend("empties the data but keeps the session id", empties=True)),
        "delete": always(false_friend("deletes the stored data but keeps the session id", empties=True)),
        "pop": always(false_friend("removes one key; the session keeps its id")),
        **MAPPING_WRITES,
    },
    default_store=Store.SERVER,
    default_backend="server",
    fixes={
        "*": Fix(
            "call `cherrypy.session.regenerate()` after the login writes",
            "{cherrypy}.session.regenerate()",
            Placement.AFTER,
            before_ok=True,
        )
    },
)
