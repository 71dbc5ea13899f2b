"""Domain writes for API tokens: validate, set, flush, audit. Never commit."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy import orm as so

from app.audit.services import record
from app.models import ApiToken, AuditAction, User, utcnow
from app.records.errors import FieldErrors
from app.records.services import update_fields

from .tokens import PREFIX_LENGTH, hash_token, new_token

MAX_LIFETIME_DAYS = 3650


@dataclass(frozen=True)
class IssuedToken:
    """A new token and its secret, which exists only in this object and the response."""

    token: ApiToken
    secret: str


def create_token(
    session: so.Session,
    name: str | None,
    owner_id: int | None,
    lifetime_days: int | None,
    issued_by: User | None = None,
) -> IssuedToken:
    """Issue a token acting as an active user, expiring after lifetime_days (None: never)."""
    errors: dict[str, str] = {}
    label = (name or "").strip()
    if not label:
        errors["name"] = "Name the token after the system that will use it."
    owner = session.get(User, owner_id) if owner_id else None
    if owner is None or not owner.is_active:
        errors["owner_id"] = "Choose an active user for the token to act as."
    if lifetime_days is not None and not 1 <= lifetime_days <= MAX_LIFETIME_DAYS:
        errors["lifetime"] = f"Choose a lifetime between 1 and {MAX_LIFETIME_DAYS} days."
    if errors or owner is None:
        raise FieldErrors(errors)
    secret = new_token()
    expires = utcnow() + timedelta(days=lifetime_days) if lifetime_days else None
    token = ApiToken(
        name=label,
        owner=owner,
        token_hash=hash_token(secret),
        prefix=secret[:PREFIX_LENGTH],
        created_by=issued_by,
        expires_at=expires,
    )
    session.add(token)
    session.flush()
    # Written out by hand: the audit trail must never hold the token or its hash.
    record(
        session,
        AuditAction.CREATE,
        entity=token,
        summary=f"API token {token.prefix}… ({label}) issued to {owner.email}",
        changes={
            "name": [None, label],
            "user_id": [None, owner.id],
            "prefix": [None, token.prefix],
            "expires_at": [None, expires.isoformat() if expires else None],
        },
    )
    return IssuedToken(token, secret)


def revoke_token(session: so.Session, token: ApiToken) -> bool:
    """Revoke a token for good; False if it already was."""
    if token.revoked_at is not None:
        return False
    update_fields(
        session,
        token,
        {"revoked_at": utcnow()},
        f"API token {token.prefix}… ({token.name}) revoked",
    )
    return True


def touch_token(session: so.Session, token_id: int, now: datetime) -> None:
    """Note when a token was last used (bookkeeping: not audited)."""
    session.execute(
        sa.update(ApiToken)
        .where(ApiToken.id == token_id)
        # updated_at kept: a use is not a change of the token.
        .values(last_used_at=now, updated_at=ApiToken.updated_at)
        .execution_options(synchronize_session=False)
    )
