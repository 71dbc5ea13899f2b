"""GET /lookup/<kind>?q=... -> JSON options for a typeahead picker."""

from __future__ import annotations

from flask import Blueprint, abort, jsonify, request
from flask_login import current_user
from werkzeug.wrappers import Response

from app.auth.access import reader_required
from app.extensions import db
from app.records.listing import printable
from app.visibility import visible_levels

from .queries import SEARCHES

bp = Blueprint("lookup", __name__, url_prefix="/lookup")


@bp.route("/<kind>")
@reader_required
def search(kind: str) -> Response:
    """Return up to 15 matching records as JSON."""
    if kind not in SEARCHES:
        abort(404)
    text = printable(request.args.get("q", ""))[:100]
    if len(text) < 2:
        return jsonify([])
    options = SEARCHES[kind](db.session, text, visible_levels(current_user))
    return jsonify([{"id": o.id, "label": o.label} for o in options])
