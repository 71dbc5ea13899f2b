"""Domain writes for user accounts: validate, set, flush, audit. Never commit."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy import orm as so

from app.audit.services import record
from app.auth.passwords import MIN_PASSWORD_LENGTH, hash_password
from app.auth.services import UserError, create_user, normalise_email
from app.models import AuditAction, Role, User
from app.records.errors import FieldErrors
from app.records.services import Change, StaleEdit, update_fields

from . import queries

# What the edit form changes; edits of anything else (password, lock) never clash with it.
EDITABLE = ("name", "role", "is_active")


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise FieldErrors({"password": f"Use at least {MIN_PASSWORD_LENGTH} characters."})


def create_account(
    session: so.Session, email: str, name: str | None, role: Role, password: str
) -> User:
    """Create a user who can log in with the given password."""
    errors: dict[str, str] = {}
    address = normalise_email(email)
    if "@" not in address.strip("@"):
        errors["email"] = "Enter an email address, e.g. name@example.org."
    elif session.scalar(sa.select(User.id).where(User.email == address)) is not None:
        errors["email"] = f"A user with email {address} already exists."
    if len(password) < MIN_PASSWORD_LENGTH:
        errors["password"] = f"Use at least {MIN_PASSWORD_LENGTH} characters."
    if errors:
        raise FieldErrors(errors)
    try:
        return create_user(session, address, password, role, name=(name or "").strip() or None)
    except UserError as error:
        raise FieldErrors({"email": str(error).capitalize() + "."}) from error


def _check_unchanged(session: so.Session, user: User, mark: int | None) -> None:
    """Refuse an edit if someone edited the account after the form was loaded."""
    events = queries.edits_since(session, user.id, mark or 0)
    changes = [
        Change(field, values[0], values[1], event.actor, event.occurred_at)
        for event in events
        for field, values in (event.changes or {}).items()
        if field in EDITABLE and isinstance(values, list) and len(values) == 2
    ]
    if mark is None or changes:
        raise StaleEdit(f"User {user.email}", changes)


def _keep_an_admin(session: so.Session, user: User, role: Role, is_active: bool) -> None:
    """Refuse to leave the foundation without an active admin."""
    if user.role != Role.ADMIN or not user.is_active:
        return
    if role == Role.ADMIN and is_active:
        return
    if queries.other_active_admins(session, user.id) == 0:
        field = "role" if role != Role.ADMIN else "status"
        raise FieldErrors(
            {
                field: f"{user.email} is the last active admin: make another user an admin "
                "first, so that someone can still manage users."
            }
        )


def update_account(
    session: so.Session, user: User, name: str | None, role: Role, is_active: bool, mark: int | None
) -> dict[str, list[Any]]:
    """Change an account's name, role or active flag; audit what changed."""
    _check_unchanged(session, user, mark)
    _keep_an_admin(session, user, role, is_active)
    return update_fields(
        session,
        user,
        {"name": (name or "").strip() or None, "role": role, "is_active": is_active},
        f"User {user.email} edited",
    )


def reset_password(session: so.Session, user: User, password: str) -> User:
    """Set a new password; the audit says it was reset, never what to."""
    _check_password(password)
    user.password_hash = hash_password(password)
    user.end_sessions()  # whoever knew the old password is logged out
    session.flush()
    record(session, AuditAction.UPDATE, entity=user, summary=f"Password of {user.email} reset")
    return user


def unlock(session: so.Session, user: User) -> dict[str, list[Any]]:
    """Lift a lockout after repeated failed log-ins."""
    return update_fields(
        session,
        user,
        {"locked_until": None, "failed_login_count": 0},
        f"User {user.email} unlocked",
    )
