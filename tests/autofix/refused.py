"""Where `sessguard fix` writes nothing, and says why."""
from flask import Flask, request
from flask_login import login_user

from accounts import check, db

app = Flask(__name__)


@app.post("/one-line")
def one_line():
    user = check(request.form["name"]); login_user(user)
    return "ok"


@app.post("/shadowed")
def shadowed():
    user = check(request.form["name"])
    login_user(user)
    session = db.session
    session.commit()
    return "ok"
