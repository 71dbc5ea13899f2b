"""Who is calling the API: a bearer token (integrations) or a logged-in browser session.

Tokens are accepted only in the ``Authorization`` header (never in the query
string, where they would end up in access logs) and only by API views; HTML
pages keep to session log-ins. A token acts as its owner: the owner's current
role decides what it may read, exactly as on the pages.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import Response, g, request
from flask_login import current_user

from app.db import writing
from app.extensions import db
from app.models import ApiToken, Confidentiality, User, utcnow
from app.visibility import visible_levels

from . import queries, services
from .errors import unauthorised
from .tokens import MAX_TOKEN_LENGTH, hash_token, refusal

# last_used_at is refreshed at most this often, so most API calls write nothing.
TOUCH_INTERVAL = timedelta(minutes=1)


def _touch(token: ApiToken, now: datetime) -> None:
    """Record the use; its own short write transaction (SQLite: BEGIN IMMEDIATE)."""
    if token.last_used_at is not None and now - token.last_used_at < TOUCH_INTERVAL:
        return
    flag = writing.set(True)
    try:
        services.touch_token(db.session, token.id, now)
        db.session.commit()
    finally:
        writing.reset(flag)


def authenticate_api_request() -> Response | None:
    """Set the API caller for this request; a 401 response if there is none."""
    header = request.headers.get("Authorization")
    if header is None:
        if current_user.is_authenticated:
            g.api_user = current_user._get_current_object()  # type: ignore[attr-defined]
            return None
        return unauthorised(
            "Authentication required: send an API token as 'Authorization: Bearer <token>'."
        )
    scheme, _, credentials = header.strip().partition(" ")
    token = credentials.strip()
    if scheme.lower() != "bearer" or not token or len(token) > MAX_TOKEN_LENGTH:
        return unauthorised(
            "Send the API token as 'Authorization: Bearer <token>'.", "invalid_request"
        )
    now = utcnow()
    found = queries.token_by_hash(db.session, hash_token(token))
    reason = refusal(found, now)
    if found is None or reason is not None:
        return unauthorised(reason or "Unknown API token.", "invalid_token")
    # End the read transaction: the touch below starts its own write transaction.
    db.session.commit()
    _touch(found, now)
    g.api_user = found.owner
    return None


def api_user() -> User:
    """The user the current API request acts as."""
    user: User = g.api_user
    return user


def api_levels() -> tuple[Confidentiality, ...]:
    """Confidentiality levels the API caller may read."""
    return visible_levels(api_user())
