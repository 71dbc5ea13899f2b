"""People who log in."""

from __future__ import annotations

import secrets
from datetime import datetime

import sqlalchemy as sa
from flask_login import UserMixin
from sqlalchemy import orm as so

from .base import Base, TimestampMixin, VersionedMixin, str_enum
from .enums import Role


def new_session_token() -> str:
    """A random token for User.session_token."""
    return secrets.token_urlsafe(32)


class User(UserMixin, TimestampMixin, VersionedMixin, Base):
    """An admin, staff member or trustee."""

    __tablename__ = "users"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    email: so.Mapped[str] = so.mapped_column(sa.String(254), unique=True)
    name: so.Mapped[str | None] = so.mapped_column(sa.String(200))
    password_hash: so.Mapped[str] = so.mapped_column(sa.String(255))
    role: so.Mapped[Role] = so.mapped_column(str_enum(Role, "user_role"))
    is_active: so.Mapped[bool] = so.mapped_column(default=True)  # type: ignore[assignment]
    failed_login_count: so.Mapped[int] = so.mapped_column(default=0)
    locked_until: so.Mapped[datetime | None]
    last_login_at: so.Mapped[datetime | None]
    # Part of the id in the signed session cookie: a new token (log-out, password
    # reset) makes every cookie issued before it worthless.
    session_token: so.Mapped[str] = so.mapped_column(sa.String(64), default=new_session_token)

    def get_id(self) -> str:
        """What Flask-Login keeps in the session and remember cookies."""
        return f"{self.id}:{self.session_token}"

    def end_sessions(self) -> None:
        """Invalidate every session and remember cookie of this user, on every device."""
        self.session_token = new_session_token()

    @property
    def is_staff(self) -> bool:
        return self.role in (Role.STAFF, Role.ADMIN)

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN

    def __repr__(self) -> str:
        return f"<User {self.email} {self.role}>"
