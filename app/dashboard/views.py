"""Home page."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import current_user

from app.auth.access import reader_required
from app.extensions import db
from app.visibility import visible_levels

from . import queries

bp = Blueprint("dashboard", __name__, template_folder="templates")


@bp.route("/")
@reader_required
def home() -> str:
    """Show the portfolio at a glance."""
    overview = queries.overview(db.session, visible_levels(current_user))
    return render_template("dashboard/home.html", overview=overview)
