"""Emptying fixes that `sessguard fix` refuses, because a read after the fix cannot be
named: each would lose data the app still reads."""
from flask import Flask, redirect, request, session

from accounts import check, render

app = Flask(__name__)


@app.post("/dynamic")
def dynamic():
    session["user_id"] = check(request.form["name"]).id
    return redirect(session.get(request.args["key"], "/"))


@app.post("/whole")
def whole():
    session["user_id"] = check(request.form["name"]).id
    return str(dict(session))


@app.post("/iterated")
def iterated():
    session["user_id"] = check(request.form["name"]).id
    return ",".join(key for key in session)


@app.post("/items")
def items():
    session["user_id"] = check(request.form["name"]).id
    return str(session.items())


@app.post("/handed-over")
def handed_over():
    session["user_id"] = check(request.form["name"]).id
    return render("home.html", session)


@app.post("/taken")
def taken():
    carried = request.form["carried"]
    session["user_id"] = check(carried).id
    return redirect(session.get("next", "/"))
