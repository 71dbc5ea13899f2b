"""Which confidentiality levels a user may see; every query filters by this."""

from __future__ import annotations

from typing import Any

from .models import Confidentiality, Role

ALL_LEVELS = (Confidentiality.PUBLIC, Confidentiality.TRUSTEES, Confidentiality.INTERNAL)


def visible_levels(user: Any) -> tuple[Confidentiality, ...]:
    """Levels the user may read: staff everything, trustees all but internal."""
    role = getattr(user, "role", None)
    if role in (Role.ADMIN, Role.STAFF):
        return ALL_LEVELS
    if role == Role.TRUSTEE:
        return (Confidentiality.PUBLIC, Confidentiality.TRUSTEES)
    return (Confidentiality.PUBLIC,)
