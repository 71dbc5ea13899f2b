"""View helpers: run a domain write and turn its refusals into form errors or a conflict."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from flask import flash, redirect, request
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.wrappers import Response

from app.extensions import db

from .errors import FieldErrors, apply_to_form
from .services import Change, StaleEdit, changes_since

T = TypeVar("T")
# What a form view returns: the page, the page with a status (409), or a redirect.
FormPage = str | tuple[str, int] | Response


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


def create_page(
    form: Any,
    create: Callable[[], T | None],
    *,
    message: Callable[[T], str],
    then: Callable[[T], str],
    render: Callable[[Sequence[Change]], str],
) -> FormPage:
    """The body of a "new record" view: on a valid POST create, flash and redirect, else render.

    ``create`` calls the service; ``then`` gives the URL to go to afterwards;
    ``render(changes)`` renders the form page (changes are always empty here).
    """
    if form.validate_on_submit():
        entity = try_write(form, create)
        if entity is not None:
            flash(message(entity), "success")
            return redirect(then(entity))
    return render(())


def edit_page(
    form: Any,
    entity: T,
    update: Callable[[], Any],
    *,
    message: Callable[[T], str],
    then: Callable[[T], str],
    render: Callable[[Sequence[Change]], str],
) -> FormPage:
    """The body of an edit view: save and redirect, or show the form again.

    A save based on an outdated version re-renders with status 409 and the
    changes made meanwhile, so the user can review them and save deliberately.
    """
    if request.method == "GET" and getattr(form, "version", None) is not None:
        form.version.data = entity.version  # type: ignore[attr-defined]
    if form.validate_on_submit():
        saved, conflict = try_edit(form, entity, update)
        if saved:
            flash(message(entity), "success")
            return redirect(then(entity))
        if conflict is not None:
            return render(conflict), 409
    return render(())
