"""Flask-Login on the cookie store: `session.clear()` goes before the login, and the
import joins the existing `from flask import ...` line."""
from flask import Flask, redirect, request
from flask_login import login_user

from accounts import check

app = Flask(__name__)


@app.post("/login")
def login():
    user = check(request.form["name"], request.form["password"])
    if user is None:
        return redirect("/login")
    # the comment above the login stays with it
    login_user(user, remember=True)  # trailing comment survives
    return redirect("/")
