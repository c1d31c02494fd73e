from flask import Flask
from flask_login import LoginManager
from flask_session import Session


def create_app() -> Flask:
    app = Flask(__name__)
    app.config.update(SECRET_KEY="change-me", SESSION_TYPE="redis")
    Session(app)
    LoginManager(app)

    from . import auth

    app.register_blueprint(auth.bp)
    return app
