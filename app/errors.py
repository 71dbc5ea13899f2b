"""Friendly error pages; users never see a stack trace."""

from __future__ import annotations

from flask import Flask, render_template
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from .extensions import db


def _http_error(error: HTTPException) -> tuple[str, int]:
    code = error.code or 500
    return render_template("error.html", code=code, title=error.name,
                           message=error.description), code


def _csrf_error(error: CSRFError) -> tuple[str, int]:
    message = "The form expired or was sent from elsewhere. Go back, reload the page and try again."
    return render_template("error.html", code=400, title="Form expired", message=message), 400


def _server_error(error: Exception) -> tuple[str, int]:
    db.session.rollback()
    message = "Something went wrong on our side. Nothing was saved. The error has been logged."
    return render_template("error.html", code=500, title="Server error", message=message), 500


def init_app(app: Flask) -> None:
    app.register_error_handler(CSRFError, _csrf_error)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(500, _server_error)
