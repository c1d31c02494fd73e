"""Pyramid: `invalidate()` before the identity is written into `request.session`."""
from pyramid.view import view_config


@view_config(route_name="login")
def login(request):
    user_id = request.POST["user"]
    request.session.invalidate()
    request.session["user_id"] = user_id
    return {"ok": True}
