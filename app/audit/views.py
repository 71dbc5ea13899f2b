"""The audit log: /audit, and restoring a deleted record from it."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from app.auth.access import staff_required
from app.extensions import db
from app.models import AuditAction, AuditEvent
from app.records.listing import ListParams

from . import queries
from .restore import RestoreRefused, label, restore_deleted

bp = Blueprint("audit", __name__, url_prefix="/audit", template_folder="templates")

# Where each kind of record is shown, when that page exists.
DETAIL_ENDPOINTS = {
    "grants": "grants.detail",
    "outputs": "outputs.detail",
    "organisations": "organisations.detail",
    "people": "people.detail",
    "programmes": "programmes.detail",
    "funds": "funds.detail",
    "donors": "donors.detail",
}


def _params() -> ListParams:
    return ListParams.from_args(
        request.args,
        queries.LOG_FILTERS,
        ["occurred_at"],
        "occurred_at",
        current_app.config["PAGE_SIZE"],
    )


def _record_url(table: str, record_id: int) -> str | None:
    """The page of a record, if its feature has one (its one URL argument gets the id)."""
    if table == "users":
        return url_for("admin.edit_user", user_id=record_id) if current_user.is_admin else None
    endpoint = DETAIL_ENDPOINTS.get(table)
    if endpoint is None or endpoint not in current_app.view_functions:
        return None
    rule = next(current_app.url_map.iter_rules(endpoint))
    if len(rule.arguments) != 1:
        return None
    values: dict[str, Any] = {next(iter(rule.arguments)): record_id}
    return url_for(endpoint, **values)


def _links(events: list[AuditEvent]) -> dict[int, str]:
    """{event id: URL of the record it is about (or of the record it belongs to)}."""
    parents = queries.parents_of(db.session, events)
    links: dict[int, str] = {}
    for event in events:
        target = parents.get(event.id) or (
            (event.entity_type, event.entity_id) if event.entity_type and event.entity_id else None
        )
        if target and (url := _record_url(*target)):
            links[event.id] = url
    return links


@bp.route("")
@staff_required
def index() -> str:
    """List every audit event, newest first, with filters and restore buttons."""
    params = _params()
    page = queries.audit_log(db.session, params)
    return render_template(
        "audit/index.html",
        page=page,
        params=params,
        links=_links(page.items),
        restorable=queries.restorable_events(db.session, page.items),
        actions=AuditAction.choices(),
        entity_types=[(t, label(t).capitalize()) for t in queries.entity_types(db.session)],
        user_email=queries.user_label(db.session, params.filter_int("user")),
        label=label,
    )


@bp.route("/<int:event_id>/restore", methods=["POST"])
@staff_required
def restore(event_id: int) -> Response:
    """Bring back the record a DELETE event removed."""
    event = db.session.get(AuditEvent, event_id)
    if event is None:
        abort(404)
    what = label(event.entity_type or "record").capitalize()
    try:
        restored = restore_deleted(db.session, event)
    except RestoreRefused as refusal:
        db.session.rollback()
        flash(str(refusal), "error")
    else:
        db.session.commit()
        flash(f"{what} #{restored.id} restored.", "success")
    return redirect(url_for("audit.index", **_params().url_args(sort=None, dir=None)))
