"""JSON error bodies for the API: never an HTML page, never a stack trace."""

from __future__ import annotations

from flask import Response, jsonify
from werkzeug.exceptions import HTTPException

from app.extensions import db

REALM = "grantpath API"


class ApiError(Exception):
    """A request the API refuses, with the status and the message to send back."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def json_error(status: int, message: str) -> Response:
    """A response with body ``{"error": message}`` and the given status."""
    response = jsonify(error=message)
    response.status_code = status
    return response


def unauthorised(message: str, error: str | None = None) -> Response:
    """401 with a WWW-Authenticate challenge (RFC 6750); ``error`` names what was wrong."""
    response = json_error(401, message)
    challenge = f'Bearer realm="{REALM}"'
    if error:
        challenge += f', error="{error}"'
    response.headers["WWW-Authenticate"] = challenge
    return response


def api_error(error: ApiError) -> Response:
    """Turn a refusal raised by a view or a parameter parser into its JSON response."""
    return json_error(error.status, error.message)


def http_error(error: HTTPException) -> Response:
    """JSON for 404, 405 and the other HTTP errors raised inside the API."""
    response = json_error(error.code or 500, error.description or error.name)
    if error.code == 405 and error.response is None:
        allowed = getattr(error, "valid_methods", None)
        if allowed:
            response.headers["Allow"] = ", ".join(sorted(allowed))
    return response


def server_error(error: Exception) -> Response:
    """500 as JSON; the error itself is logged by Flask, not shown."""
    db.session.rollback()
    return json_error(500, "Internal error; nothing was changed. The error has been logged.")
