"""Beaker (`regenerate_id()` after, on the local name) and CherryPy (after)."""
import cherrypy
from bottle import post, request


@post("/login")
def login():
    session = request.environ.get("beaker.session")
    session["user"] = request.forms.get("user")
    return "ok"


class Root:
    @cherrypy.expose
    def login(self, user):
        cherrypy.session["user"] = user
        return "ok"
