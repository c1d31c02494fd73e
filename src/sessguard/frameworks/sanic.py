"""Sanic with sanic-session (`request.ctx.session`, older `request["session"]`).

Checked against sanic-session 0.8 `sanic_session/base.py`: the sid is the uuid in the
cookie; `open()` keeps a sid the browser sends even when the store has nothing under it;
the library has no call that replaces the sid, and `clear()` empties the data under the
same sid; `save()` stores under `session.sid` and sends the cookie when that sid differs
from the browser's. Every interface (in-memory, Redis, Memcache, MongoDB) is server-side.
"""

from __future__ import annotations

from sessguard.frameworks.base import MAPPING_WRITES, Fix, Framework, always, false_friend, regen
from sessguard.model import Order, Store

FRAMEWORK = Framework(
    name="sanic",
    title="Sanic (sanic-session)",
    packages=frozenset({"sanic", "sanic_session"}),
    request_session_paths=(("ctx", "session"), ("[session]",)),
    request_types=frozenset({"sanic.Request", "sanic.request.Request"}),
    methods={
        "clear": always(false_friend("empties the data but keeps the sid", empties=True)),
        "pop": always(false_friend("removes one key; the session keeps its sid")),
        **MAPPING_WRITES,
    },
    # the manual rotation: a new `sid` is saved under and sent as a new cookie
    attribute_writes={"sid": always(regen(Order.EITHER))},
    default_store=Store.SERVER,
    default_backend="server",
    fixes={
        "*": Fix(
            "sanic-session has no call that issues a new sid: delete the stored record and "
            "give the session a new one (`request.ctx.session.sid = uuid.uuid4().hex`) when "
            "the user logs in, or keep the identity in a token cookie minted at login"
        )
    },
)
