"""Friendly error pages; users never see a stack trace."""

from __future__ import annotations

from flask import Flask, current_app, jsonify, render_template, request
from flask.typing import ResponseReturnValue
from flask_wtf.csrf import CSRFError
from markupsafe import escape
from sqlalchemy.exc import OperationalError, SQLAlchemyError
from werkzeug.exceptions import HTTPException

from .extensions import db

# Seconds a client is asked to wait after the database was unavailable.
RETRY_AFTER_S = 5
# When even the page frame cannot be drawn (it shows the logged-in user, who is
# loaded from the database that just failed).
BARE_PAGE = (
    '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{title} · grantpath'
    "</title></head><body><main><p>{code}</p><h1>{title}</h1><p>{message}</p></main></body></html>"
)


def _rollback() -> None:
    """Undo the request's writes; a connection that is gone has nothing left to undo."""
    try:
        db.session.rollback()
    except SQLAlchemyError:
        current_app.logger.exception("Rollback failed")


def _page(code: int, title: str, message: str) -> str:
    """The error page, or a bare one when the page frame itself fails."""
    try:
        return render_template("error.html", code=code, title=title, message=message)
    except Exception:
        current_app.logger.exception("The error page could not be drawn")
        _rollback()
        return BARE_PAGE.format(code=code, title=escape(title), message=escape(message))


def _http_error(error: HTTPException) -> tuple[str, int]:
    code = error.code or 500
    return _page(code, error.name, error.description or ""), code


def _csrf_error(error: CSRFError) -> tuple[str, int]:
    message = "The form expired or was sent from elsewhere. Go back, reload the page and try again."
    return _page(400, "Form expired", message), 400


def _wants_json() -> bool:
    """API calls and clients that ask for JSON get their errors as JSON."""
    if (request.blueprint or "").partition(".")[0] == "api":
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json"


def _database_unavailable(error: OperationalError) -> ResponseReturnValue:
    """The database is down, locked for too long or out of space: a retryable 503."""
    _rollback()
    current_app.logger.error("Database unavailable: %s", error.orig, exc_info=error)
    message = (
        "The database did not answer in time or is unavailable, so nothing was saved. "
        "Try again in a moment; if it keeps happening, tell your administrator."
    )
    headers = {"Retry-After": str(RETRY_AFTER_S)}
    if _wants_json():
        return jsonify(error=message), 503, headers
    return _page(503, "Try again shortly", message), 503, headers


def _server_error(error: Exception) -> tuple[str, int]:
    _rollback()
    message = "Something went wrong on our side. Nothing was saved. The error has been logged."
    return _page(500, "Server error", message), 500


def init_app(app: Flask) -> None:
    app.register_error_handler(CSRFError, _csrf_error)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(OperationalError, _database_unavailable)
    app.register_error_handler(500, _server_error)
