"""API tokens themselves: making one, hashing it, and whether one may be used."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime

from app.models import ApiToken

TOKEN_PREFIX = "gpt_"
# What is stored and shown of a token: "gpt_" and its first eight random characters.
PREFIX_LENGTH = len(TOKEN_PREFIX) + 8
MAX_TOKEN_LENGTH = 200


def new_token() -> str:
    """A fresh random token: ``gpt_`` and 43 URL-safe characters (256 bits)."""
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    """The hex SHA-256 stored in place of the token."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def refusal(token: ApiToken | None, now: datetime) -> str | None:
    """Why a token may not be used now, or None if it may."""
    if token is None:
        return "Unknown API token."
    if token.revoked_at is not None:
        return "This API token has been revoked."
    if token.expires_at is not None and token.expires_at <= now:
        return "This API token has expired."
    if not token.owner.is_active:
        return "The owner of this API token can no longer log in."
    return None


def status(token: ApiToken, now: datetime) -> str:
    """active, expired, revoked or owner inactive: for the admin list."""
    if token.revoked_at is not None:
        return "revoked"
    if token.expires_at is not None and token.expires_at <= now:
        return "expired"
    if not token.owner.is_active:
        return "owner inactive"
    return "active"
