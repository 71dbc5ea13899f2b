"""Log in and log out."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_user, logout_user
from werkzeug.wrappers import Response

from app.audit.services import record
from app.db import write_transaction, writing
from app.extensions import db
from app.models import AuditAction

from .access import public, reader_required
from .forms import LoginForm
from .services import authenticate, check_password

bp = Blueprint("auth", __name__, template_folder="templates")


def _safe_next(target: str | None) -> str:
    """Only follow a ?next= that stays on this site."""
    if target and target.startswith("/") and not target.startswith("//"):
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc:
            return target
    return url_for("dashboard.home")


@bp.route("/login", methods=["GET", "POST"])
@public
def login() -> str | Response:
    """Show the log-in form and log the user in."""
    if current_user.is_authenticated:
        return redirect(url_for("dashboard.home"))
    form = LoginForm()
    if form.validate_on_submit():
        email, password = form.email.data or "", form.password.data or ""
        # The hash (~0.1 s of CPU) runs before SQLite's write lock is taken: held
        # meanwhile, every other log-in and save would queue behind it.
        token = writing.set(False)
        try:
            password_ok = check_password(db.session, email, password)
        finally:
            writing.reset(token)
        with write_transaction(db.session):
            user = authenticate(db.session, email, password, password_ok)
        if user is not None:
            session.clear()  # a fresh session on login: no fixation
            login_user(user)
            return redirect(_safe_next(request.args.get("next")))
        flash("Wrong email or password, or the account is locked.", "error")
    return render_template("auth/login.html", form=form)


@bp.route("/logout", methods=["POST"])
@reader_required
def logout() -> Response:
    """Log the user out."""
    user = current_user._get_current_object()  # type: ignore[attr-defined]
    record(db.session, AuditAction.LOGOUT, entity=user, user=user, summary="Logged out")
    user.end_sessions()  # a copy of the cookie must not outlive the log-out
    db.session.commit()
    logout_user()
    session.clear()
    flash("You are logged out.", "info")
    return redirect(url_for("auth.login"))
