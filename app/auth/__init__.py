"""Accounts, login and roles."""

from __future__ import annotations

import hmac

from flask import Flask

from app.extensions import db, login_manager
from app.models import User


@login_manager.user_loader
def _load_user(session_id: str) -> User | None:
    """The active user a cookie names, if its session token is still the user's."""
    user_id, _, token = session_id.partition(":")
    if not user_id.isdigit() or not token:
        return None
    user = db.session.get(User, int(user_id))
    if user is None or not user.is_active:
        return None
    return user if hmac.compare_digest(token, user.session_token) else None


def init_app(app: Flask) -> None:
    from .views import bp

    login_manager.login_view = "auth.login"
    login_manager.login_message = "Please log in to see this page."
    login_manager.login_message_category = "info"
    login_manager.session_protection = "strong"
    app.register_blueprint(bp)
