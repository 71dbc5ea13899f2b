"""GET /outputs/<id>/pathway (page) and /outputs/<id>/pathway.svg (its timeline)."""

from __future__ import annotations

from flask import Blueprint, Response, abort, render_template, request
from flask_login import current_user

from app.auth.access import reader_required
from app.extensions import db
from app.lineage.queries import Lineage, OutputNotFound, lineage
from app.portfolio.priceindex import lineage_real_terms, price_index_years
from app.visibility import visible_levels
from reports.pathway import pathway_timeline

bp = Blueprint("pathways", __name__, template_folder="templates")

# The SVG is shown through <img>: it cannot run script, and matplotlib's inline
# styles need 'unsafe-inline' only inside this one document.
SVG_POLICY = "default-src 'none'; style-src 'unsafe-inline'"


def _load(output_id: int) -> Lineage:
    confirmed_only = request.args.get("confirmed") == "1"
    try:
        return lineage(db.session, output_id, visible_levels(current_user), confirmed_only)
    except OutputNotFound:
        abort(404)


@bp.route("/outputs/<int:output_id>/pathway")
@reader_required
def pathway(output_id: int) -> str:
    """Show the grants, outputs and links that led to an output."""
    pathway = _load(output_id)
    years = price_index_years(db.session)
    base_year = years[-1] if years else None
    real_terms = lineage_real_terms(db.session, pathway, base_year) if base_year else None
    return render_template(
        "pathways/pathway.html", lineage=pathway, base_year=base_year, real_terms=real_terms
    )


@bp.route("/outputs/<int:output_id>/pathway.svg")
@reader_required
def timeline(output_id: int) -> Response:
    """The pathway timeline as SVG."""
    response = Response(pathway_timeline(_load(output_id)), mimetype="image/svg+xml")
    response.headers["Content-Security-Policy"] = SVG_POLICY
    response.headers["Cache-Control"] = "private, no-cache"
    return response
