"""Register the delete, restore and history pages that every soft-deletable record has."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from flask import Blueprint, flash, redirect, render_template, url_for
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from app.audit.queries import history_of
from app.auth.access import reader_required, staff_required
from app.extensions import db

R = TypeVar("R")


def add_lifecycle_routes(
    bp: Blueprint,
    *,
    noun: str,
    id_arg: str,
    load: Callable[[int], R],
    label: Callable[[R], str],
    detail_endpoint: str,
    delete: Callable[[Session, R], object] | None,
    restore: Callable[[Session, R], object] | None,
    history: Callable[[Session, R], Sequence[Any]] | None = history_of,
    deleted_note: str = "You can restore it from its page.",
) -> None:
    """Add POST <id>/delete, POST <id>/restore and GET <id>/history views to a blueprint.

    The endpoints are ``<bp>.delete``, ``<bp>.restore`` and ``<bp>.history``; passing
    ``None`` for an action leaves its route out, so a feature whose view does more keeps
    its own. ``load`` aborts with 404 for unknown (or invisible) ids, ``label`` names the
    record in flash messages and on the history page, ``noun`` goes into the docstrings.
    """
    article = "an" if noun[:1] in "aeiou" else "a"

    def add(action: str, view: Callable[..., Any], doc: str, methods: list[str]) -> None:
        # Named and documented like the hand-written views they replace.
        view.__name__ = view.__qualname__ = action
        view.__module__ = bp.import_name
        view.__doc__ = doc
        guard = reader_required if action == "history" else staff_required
        bp.add_url_rule(f"/<int:{id_arg}>/{action}", action, guard(view), methods=methods)

    def write(
        service: Callable[[Session, R], object], done: Callable[[R], str]
    ) -> Callable[..., Response]:
        def view(**values: Any) -> Response:
            record = load(values[id_arg])
            service(db.session, record)
            db.session.commit()
            flash(done(record), "success")
            return redirect(url_for(detail_endpoint, **values))

        return view

    def show(events_of: Callable[[Session, R], Sequence[Any]]) -> Callable[..., str]:
        def view(**values: Any) -> str:
            record = load(values[id_arg])
            return render_template(
                "records/history.html",
                events=events_of(db.session, record),
                record_label=label(record),
                back_url=url_for(detail_endpoint, **values),
            )

        return view

    if delete is not None:
        deleted = write(delete, lambda record: f"{label(record)} deleted. {deleted_note}")
        add("delete", deleted, f"Soft-delete {article} {noun}.", ["POST"])
    if restore is not None:
        restored = write(restore, lambda record: f"{label(record)} restored.")
        add("restore", restored, f"Restore a soft-deleted {noun}.", ["POST"])
    if history is not None:
        add("history", show(history), f"Show every audited change of {article} {noun}.", ["GET"])
