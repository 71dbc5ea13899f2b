"""Impact pages: /programmes/<id>/impact, /organisations/<id>/impact, /funds/<id>/impact,
/donors/<id>/impact."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, render_template, url_for
from flask_login import current_user

from app.auth.access import reader_required
from app.extensions import db
from app.visibility import visible_levels

from .queries import GRANT_CAP, DonorImpact, Impact, SubjectNotFound, donor_impact, impact_of

bp = Blueprint("impact", __name__, template_folder="templates")

# kind -> (list endpoint, list label, detail endpoint, its id argument, noun on the page)
_PLACES = {
    "programme": (
        "programmes.index",
        "Programmes",
        "programmes.detail",
        "programme_id",
        "programme",
    ),
    "institution": (
        "organisations.index",
        "Organisations",
        "organisations.detail",
        "organisation_id",
        "institution",
    ),
    "fund": ("funds.index", "Funds", "funds.detail", "fund_id", "fund"),
    "donor": ("donors.index", "Donors", "donors.detail", "donor_id", "donor"),
}


def _crumbs(kind: str, subject_id: int, name: str) -> list[tuple[str, str]]:
    index, label, detail, argument, _ = _PLACES[kind]
    arguments: dict[str, Any] = {argument: subject_id}
    return [(label, url_for(index)), (name, url_for(detail, **arguments))]


def _render(kind: str, subject_id: int) -> str:
    levels = visible_levels(current_user)
    impact: Impact | DonorImpact
    try:
        if kind == "donor":
            impact = donor_impact(db.session, subject_id, levels, reveal=current_user.is_staff)
        else:
            impact = impact_of(db.session, kind, subject_id, levels)
    except SubjectNotFound:
        abort(404)
    return render_template(
        "impact/donor.html" if kind == "donor" else "impact/impact.html",
        impact=impact,
        noun=_PLACES[kind][4],
        crumbs=_crumbs(kind, subject_id, impact.subject.name),
        grant_cap=GRANT_CAP,
    )


@bp.route("/programmes/<int:programme_id>/impact")
@reader_required
def programme(programme_id: int) -> str:
    """Show the outputs and trials downstream of a programme's grants."""
    return _render("programme", programme_id)


@bp.route("/organisations/<int:organisation_id>/impact")
@reader_required
def institution(organisation_id: int) -> str:
    """Show the outputs and trials downstream of the grants an institution hosted."""
    return _render("institution", organisation_id)


@bp.route("/funds/<int:fund_id>/impact")
@reader_required
def fund(fund_id: int) -> str:
    """Show what a fund's allocations reached: grants, outputs and trials downstream."""
    return _render("fund", fund_id)


@bp.route("/donors/<int:donor_id>/impact")
@reader_required
def donor(donor_id: int) -> str:
    """Show what a donor's money reached, pro rata (anonymous donors unnamed to trustees)."""
    return _render("donor", donor_id)
