"""aiohttp: `get_session` becomes `new_session`, and `next`, read after it, comes from the
old session into the new one."""
from aiohttp import web
from aiohttp_session import get_session

from accounts import check


async def login(request):
    form = await request.post()
    user = await check(form["name"], form["password"])
    session = await get_session(request)
    session["user_id"] = user.id
    raise web.HTTPFound(session.get("next", "/"))
