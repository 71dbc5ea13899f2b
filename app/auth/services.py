"""Creating users and checking log-ins, with lockout after repeated failures."""

from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy import orm as so

from app.audit.services import record
from app.models import AuditAction, Role, User, utcnow

from .passwords import DUMMY_HASH, MIN_PASSWORD_LENGTH, hash_password, verify_password

MAX_FAILED_LOGINS = 5
LOCKOUT = timedelta(minutes=15)


class UserError(ValueError):
    """A user could not be created as asked."""


def normalise_email(email: str) -> str:
    return email.strip().lower()


def create_user(
    session: so.Session, email: str, password: str, role: Role, name: str | None = None
) -> User:
    """Create a user after checking the email is new and the password long enough."""
    email = normalise_email(email)
    if "@" not in email or len(email) > 254:
        raise UserError(f"'{email}' is not an email address")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise UserError(f"the password must have at least {MIN_PASSWORD_LENGTH} characters")
    if session.scalar(sa.select(User.id).where(User.email == email)) is not None:
        raise UserError(f"a user with email {email} already exists")
    user = User(email=email, name=name, role=role, password_hash=hash_password(password))
    session.add(user)
    session.flush()
    record(
        session,
        AuditAction.CREATE,
        entity=user,
        summary=f"User {email} ({role.value})",
        changes={"email": [None, email], "name": [None, name], "role": [None, role.value]},
    )
    return user


def check_password(session: so.Session, email: str, password: str) -> bool:
    """Whether the password is the user's (reads only: run it before taking a write lock)."""
    user = session.scalar(sa.select(User).where(User.email == normalise_email(email)))
    if user is None:
        verify_password(DUMMY_HASH, password)
        return False
    return verify_password(user.password_hash, password)


def authenticate(
    session: so.Session, email: str, password: str, password_ok: bool | None = None
) -> User | None:
    """Return the user if the password is right and the account not locked.

    Every failure is counted and audited; after MAX_FAILED_LOGINS the account is
    locked for LOCKOUT, whatever password is tried meanwhile. ``password_ok``:
    check_password's answer, when the hash was checked before.
    """
    email = normalise_email(email)
    user = session.scalar(sa.select(User).where(User.email == email))
    now = utcnow()
    if user is None:
        if password_ok is None:
            verify_password(DUMMY_HASH, password)
        record(session, AuditAction.LOGIN_FAILED, actor=email, summary="Unknown email")
        return None
    if user.locked_until is not None and user.locked_until > now:
        record(
            session,
            AuditAction.LOGIN_FAILED,
            entity=user,
            user=user,
            summary="Account locked after repeated failures",
        )
        return None
    if password_ok is None:
        password_ok = verify_password(user.password_hash, password)
    if not user.is_active or not password_ok:
        user.failed_login_count += 1
        summary = "Wrong password" if user.is_active else "Account disabled"
        if user.failed_login_count >= MAX_FAILED_LOGINS:
            user.locked_until = now + LOCKOUT
            user.failed_login_count = 0
            summary += f"; account locked for {int(LOCKOUT.total_seconds() // 60)} minutes"
        record(session, AuditAction.LOGIN_FAILED, entity=user, user=user, summary=summary)
        return None
    user.failed_login_count = 0
    user.locked_until = None
    user.last_login_at = now
    record(session, AuditAction.LOGIN, entity=user, user=user, summary="Logged in")
    return user


def first_admin_password(session: so.Session, email: str, password_file: Path) -> bool:
    """Create an admin with a random password saved (0600) to password_file, if none exists."""
    if session.scalar(sa.select(User.id).where(User.role == Role.ADMIN).limit(1)) is not None:
        return False
    password = secrets.token_urlsafe(12)
    create_user(session, email, password, Role.ADMIN, name="First administrator")
    password_file.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(password_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(password + "\n")
    return True
