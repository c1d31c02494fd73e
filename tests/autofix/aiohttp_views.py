"""aiohttp-session on Redis: the `get_session` before the write becomes `new_session`."""
import aiohttp_session
from aiohttp import web
from aiohttp_session import get_session
from aiohttp_session.redis_storage import RedisStorage

from accounts import check

routes = web.RouteTableDef()
storage = RedisStorage


@routes.post("/login")
async def login(request):
    user_id = await check(request)
    session = await get_session(request)
    session["user_id"] = user_id
    raise web.HTTPFound("/")


@routes.post("/login-qualified")
async def login_qualified(request):
    user_id = await check(request)
    session = await aiohttp_session.get_session(request)
    session["user_id"] = user_id
    raise web.HTTPFound("/")
