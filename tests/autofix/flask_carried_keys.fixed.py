"""The cookie store's `session.clear()` carries exactly the keys read after it: `next`
read in the return, `cart` read by a helper, `theme` read on one branch. `lang`, read only
before the login, and `csrf`, read only on the path that leaves before it, are not carried.
The second login reads nothing afterwards: a plain `session.clear()`."""
from flask import Flask, redirect, request, session

from accounts import check

app = Flask(__name__)


def cart_size():
    return len(session.get("cart", []))


@app.post("/login")
def login():
    if session.get("lang") == "fr":
        request.form = request.form.copy()
    user = check(request.form["name"], request.form["password"])
    if user is None:
        return redirect("/login?csrf=" + session.get("csrf", ""))
    carried = {key: session[key] for key in ("cart", "next", "theme") if key in session}
    session.clear()
    session.update(carried)
    session["user_id"] = user.id
    if request.args.get("remember"):
        print(session["theme"])
    return redirect(session.get("next", "/") + f"?items={cart_size()}")


@app.post("/quick-login")
def quick_login():
    user = check(request.form["name"], request.form["password"])
    session.clear()
    session["user_id"] = user.id
    return redirect("/")
