"""API tokens: how integrations authenticate to the read-only JSON API."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy import orm as so

from .base import Base, TimestampMixin

if TYPE_CHECKING:
    from .users import User


class ApiToken(TimestampMixin, Base):
    """A bearer token acting as its owner; only the SHA-256 of the token is stored."""

    __tablename__ = "api_tokens"
    __table_args__ = (
        sa.CheckConstraint(
            "expires_at IS NULL OR expires_at > created_at", name="expires_after_creation"
        ),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    name: so.Mapped[str] = so.mapped_column(sa.String(100))
    # The token acts with this user's role and visibility, whatever it was when issued.
    user_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    # Hex SHA-256 of the whole token: a stolen database yields no usable token.
    token_hash: so.Mapped[str] = so.mapped_column(sa.String(64), unique=True)
    # The token's first characters, shown so people can tell their tokens apart.
    prefix: so.Mapped[str] = so.mapped_column(sa.String(16))
    created_by_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )
    last_used_at: so.Mapped[datetime | None]
    expires_at: so.Mapped[datetime | None]
    revoked_at: so.Mapped[datetime | None]

    owner: so.Mapped[User] = so.relationship(foreign_keys=[user_id])
    created_by: so.Mapped[User | None] = so.relationship(foreign_keys=[created_by_id])

    def __repr__(self) -> str:
        return f"<ApiToken {self.prefix}… {self.name!r}>"
