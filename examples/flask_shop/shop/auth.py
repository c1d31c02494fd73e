from flask import Blueprint, abort, redirect, request, session
from flask_login import login_user
from werkzeug.security import check_password_hash

from .models import Customer, oauth
from .sessions import forget_everything, rotate_session

bp = Blueprint("auth", __name__)


@bp.post("/login")
def password_login():
    customer = Customer.by_email(request.form["email"])
    if customer is None or not check_password_hash(customer.password_hash, request.form["password"]):
        abort(401)
    forget_everything()  # looks like a fix, is not one on Redis
    login_user(customer)  # VULNERABLE: the id the browser arrived with stays valid
    return redirect("/account")


@bp.get("/magic/<token>")
def magic_link_login(token: str):
    customer = Customer.from_magic_link(token)
    if customer is None:
        abort(404)
    if request.args.get("remember"):
        rotate_session()
    session["customer_id"] = customer.id  # VULNERABLE on the path without "remember"
    return redirect("/account")


@bp.get("/oauth/callback")
def oauth_callback():
    token = oauth.shop_idp.authorize_access_token()
    session["customer_id"] = token["userinfo"]["sub"]
    rotate_session()  # fixed: a new id after the identity is written
    return redirect("/account")


@bp.post("/signup")
def signup():
    customer = Customer.create(request.form["email"], request.form["password"])
    rotate_session()
    login_user(customer)  # fixed
    return redirect("/welcome")
