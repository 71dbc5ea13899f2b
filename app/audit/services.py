"""Writing audit events."""

from __future__ import annotations

from typing import Any

from flask import has_request_context, request
from flask_login import current_user
from sqlalchemy import orm as so

from app.models import AuditAction, AuditEvent, User


def _strip_controls(text: str | None) -> str | None:
    """Drop CR/LF and other control characters so a value cannot forge log lines."""
    if text is None:
        return None
    return "".join(ch if ch.isprintable() else " " for ch in text)


def record(
    session: so.Session,
    action: AuditAction,
    *,
    entity: Any = None,
    summary: str | None = None,
    changes: dict[str, Any] | None = None,
    user: User | None = None,
    actor: str | None = None,
) -> AuditEvent:
    """Add an audit event for an action, by the given or the logged-in user."""
    if user is None and has_request_context() and current_user.is_authenticated:
        user = current_user._get_current_object()  # type: ignore[attr-defined]
    event = AuditEvent(
        action=action,
        user_id=user.id if user else None,
        actor=_strip_controls(actor or (user.email if user else "system")),
        entity_type=type(entity).__tablename__ if entity is not None else None,
        entity_id=getattr(entity, "id", None) if entity is not None else None,
        entity_version=getattr(entity, "version", None) if entity is not None else None,
        summary=(_strip_controls(summary) or "")[:500] or None,
        changes=changes,
        remote_addr=request.remote_addr if has_request_context() else None,
    )
    session.add(event)
    return event
