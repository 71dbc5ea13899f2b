"""Accounts, login and roles."""

from __future__ import annotations

from flask import Flask

from app.extensions import db, login_manager
from app.models import User


@login_manager.user_loader
def _load_user(user_id: str) -> User | None:
    user = db.session.get(User, int(user_id))
    return user if user is not None and user.is_active else None


def init_app(app: Flask) -> None:
    from .views import bp

    login_manager.login_view = "auth.login"
    login_manager.login_message = "Please log in to see this page."
    login_manager.login_message_category = "info"
    login_manager.session_protection = "strong"
    app.register_blueprint(bp)
