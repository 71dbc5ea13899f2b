"""Who may call a view. Every view declares one level; a test walks the URL map.

- ``public``: anyone (log-in page, static files).
- ``reader``: any logged-in user (trustees included); read-only pages.
- ``staff``: staff and admins; every write.
- ``admin``: admins only; users and settings.
- ``api``: the JSON API: a bearer token or any logged-in user; anyone else gets a
  401 JSON answer, never a redirect to the log-in page.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from flask import abort
from flask_login import current_user, login_required

from app.api.auth import authenticate_api_request
from app.models import Role

F = TypeVar("F", bound=Callable[..., Any])

ACCESS_ATTRIBUTE = "grantpath_access"
LEVEL_ROLES: dict[str, tuple[Role, ...]] = {
    "reader": (Role.TRUSTEE, Role.STAFF, Role.ADMIN),
    "staff": (Role.STAFF, Role.ADMIN),
    "admin": (Role.ADMIN,),
    "api": (Role.TRUSTEE, Role.STAFF, Role.ADMIN),
}


def public(view: F) -> F:
    """Mark a view as open to anonymous users."""
    setattr(view, ACCESS_ATTRIBUTE, "public")
    return view


def _requires(level: str) -> Callable[[F], F]:
    roles = LEVEL_ROLES[level]

    def decorator(view: F) -> F:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        guarded = login_required(wrapper)
        setattr(guarded, ACCESS_ATTRIBUTE, level)
        return guarded  # type: ignore[return-value]

    return decorator


reader_required = _requires("reader")
staff_required = _requires("staff")
admin_required = _requires("admin")


def api_required(view: F) -> F:
    """Mark an API view: a bearer token or a logged-in session, else 401 JSON."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        refused = authenticate_api_request()
        if refused is not None:
            return refused
        return view(*args, **kwargs)

    setattr(wrapper, ACCESS_ATTRIBUTE, "api")
    return wrapper  # type: ignore[return-value]
