"""Read queries for the user administration pages."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy import orm as so

from app.models import AuditAction, AuditEvent, Role, User, utcnow
from app.records.listing import ListParams, Page, like_pattern, paginate

FILTERS = ("role", "status")
SORTS = {
    "email": User.email,
    "name": User.name,
    "role": User.role,
    "last_login": User.last_login_at,
}
DEFAULT_SORT = "email"
STATUSES = (("active", "Active"), ("inactive", "Inactive"), ("locked", "Locked"))


@dataclass(frozen=True)
class UserRow:
    id: int
    email: str
    name: str | None
    role: Role
    is_active: bool
    locked_until: datetime | None
    last_login_at: datetime | None


def user_list(session: so.Session, params: ListParams) -> Page[UserRow]:
    """One page of user accounts, filtered and sorted as asked."""
    now = utcnow()
    query = sa.select(User)
    if params.q:
        pattern = like_pattern(params.q.lower())
        query = query.where(
            sa.or_(
                sa.func.lower(User.email).like(pattern, escape="\\"),
                sa.func.lower(User.name).like(pattern, escape="\\"),
            )
        )
    if params.filters.get("role") in Role.__members__.values():
        query = query.where(User.role == params.filters["role"])
    status = params.filters.get("status")
    if status == "active":
        query = query.where(User.is_active.is_(True))
    elif status == "inactive":
        query = query.where(User.is_active.is_(False))
    elif status == "locked":
        query = query.where(User.locked_until > now)
    column = SORTS[params.sort]
    order = column.desc() if params.descending else column.asc()
    query = query.order_by(order.nulls_last(), User.id)
    page = paginate(session, query, params)
    return Page(
        items=[
            UserRow(
                r.id,
                r.email,
                r.name,
                r.role,
                r.is_active,
                r.locked_until if r.locked_until and r.locked_until > now else None,
                r.last_login_at,
            )
            for r in page.items
        ],
        page=page.page,
        per_page=page.per_page,
        total=page.total,
    )


def get_user(session: so.Session, user_id: int) -> User | None:
    """One user account."""
    return session.get(User, user_id)


def edit_mark(session: so.Session, user_id: int) -> int:
    """The newest audited edit of an account: what an edit form was loaded after."""
    return (
        session.scalar(
            sa.select(sa.func.max(AuditEvent.id)).where(
                AuditEvent.entity_type == User.__tablename__,
                AuditEvent.entity_id == user_id,
                AuditEvent.action == AuditAction.UPDATE,
            )
        )
        or 0
    )


def edits_since(session: so.Session, user_id: int, mark: int) -> list[AuditEvent]:
    """Audited edits of an account after the given mark, oldest first."""
    return list(
        session.scalars(
            sa.select(AuditEvent)
            .where(
                AuditEvent.entity_type == User.__tablename__,
                AuditEvent.entity_id == user_id,
                AuditEvent.action == AuditAction.UPDATE,
                AuditEvent.id > mark,
            )
            .order_by(AuditEvent.id)
        )
    )


def other_active_admins(session: so.Session, user_id: int) -> int:
    """How many active admins there are besides this user (locking their rows)."""
    return len(
        session.scalars(
            sa.select(User.id)
            .where(User.role == Role.ADMIN, User.is_active.is_(True), User.id != user_id)
            .with_for_update()
        ).all()
    )
