"""View helpers: run a domain write and turn its refusals into form errors or a conflict."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import flash
from sqlalchemy.orm.exc import StaleDataError

from app.extensions import db

from .errors import FieldErrors, apply_to_form
from .services import Change, StaleEdit, changes_since

T = TypeVar("T")


def try_write(form: Any, action: Callable[[], T]) -> T | None:
    """Run a service call and commit; on domain errors roll back and mark the form."""
    try:
        result = action()
    except FieldErrors as error:
        db.session.rollback()
        apply_to_form(form, error)
        return None
    db.session.commit()
    return result


def try_edit(form: Any, entity: Any, action: Callable[[], Any]) -> tuple[bool, list[Change] | None]:
    """Like try_write for edits: (saved, changes made meanwhile if the edit was stale)."""
    version = form.version.data
    try:
        action()
        db.session.commit()
    except StaleEdit as error:
        db.session.rollback()
        flash(str(error), "error")
        # Having seen what changed, the user may deliberately save over it.
        form.version.data = entity.version
        return False, error.changes
    except StaleDataError:
        # Someone committed between our version check and our UPDATE.
        db.session.rollback()
        flash(
            "Someone saved this record at the same moment; nothing was saved. "
            "Review what changed and edit again.",
            "error",
        )
        form.version.data = entity.version
        return False, changes_since(db.session, entity, version or 0)
    except FieldErrors as error:
        db.session.rollback()
        apply_to_form(form, error)
        return False, None
    return True, None
