"""360Giving download: GET /exports/360giving.json (staff), the public grants as a package."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, stream_with_context, url_for
from werkzeug.wrappers import Response

from app.auth.access import staff_required
from app.extensions import db
from app.models import Confidentiality, utcnow

from . import export, queries
from .settings import Settings, SettingsProblem

bp = Blueprint("giving360", __name__)

PUBLIC = (Confidentiality.PUBLIC,)


@bp.route("/exports/360giving.json")
@staff_required
def export_package() -> Response:
    """Download the public grants as a 360Giving JSON package (streamed)."""
    try:
        who = export.publisher(db.session, Settings.current())
    except SettingsProblem as problem:
        flash(f"The 360Giving file cannot be made yet. {problem}", "error")
        return redirect(url_for("grants.index"))
    if not queries.exportable_count(db.session, PUBLIC):
        flash("There are no public grants to put in a 360Giving file.", "error")
        return redirect(url_for("grants.index"))
    name = f"{who.settings.prefix}-{utcnow().date().isoformat()}.json"
    chunks = export.package_chunks(db.session, who, PUBLIC)
    return Response(
        stream_with_context(chunks),
        mimetype="application/json",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
