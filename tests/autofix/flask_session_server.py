"""Flask-Session: `regenerate(session)` goes after the login writes, through the app."""
from flask import Flask, request, session
from flask_login import login_user
from flask_session import Session

from accounts import check

app = Flask(__name__)
app.config["SESSION_TYPE"] = "redis"
Session(app)


@app.post("/login")
def login():
    user = check(request.form["name"], request.form["password"])
    login_user(user)
    return "ok"
