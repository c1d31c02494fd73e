"""Session helpers shared by the login views."""
from flask import current_app, session


def rotate_session() -> None:
    """Give the browser a new session id (Flask-Session 0.7+), keeping the data."""
    current_app.session_interface.regenerate(session)


def forget_everything() -> None:
    # On a server-side store clear() empties the data but keeps the id.
    session.clear()
