"""Per-record report documents: the grant dossier and the donor and fund impact statements.

/reports/grant/<id>/preview and .pdf, /reports/donor/<id>/..., /reports/fund/<id>/...
Previews are for every reader (at the reader's confidentiality levels: trustees
see anonymous donors unnamed); PDFs are staff drafts, rendered synchronously
(about a second for the demo's largest) and their download audited.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from flask import Blueprint, Response, abort, current_app, url_for
from flask_login import current_user

from app.audit.services import record
from app.auth.access import reader_required, staff_required
from app.db import write_transaction
from app.extensions import db
from app.models import AuditAction
from app.visibility import visible_levels
from reports.annual import default_foundation_name
from reports.dossier import GrantDossier, GrantNotFound, build_dossier, dossier_html, dossier_pdf
from reports.statement import (
    ImpactStatement,
    StatementNotFound,
    build_donor_statement,
    build_fund_statement,
    statement_html,
    statement_pdf,
)

bp = Blueprint("report_documents", __name__, url_prefix="/reports")


def _build(builder: Callable[..., Any], record_id: int) -> Any:
    """Build a document at the viewer's levels; 404 when missing, deleted or not visible."""
    foundation = default_foundation_name(db.session, current_app.config["FOUNDATION_NAME"])
    try:
        return builder(
            db.session, record_id, foundation=foundation, levels=visible_levels(current_user)
        )
    except (GrantNotFound, StatementNotFound):
        abort(404)


def _links(back: tuple[str, str], pdf_url: str) -> dict[str, str]:
    """The preview bar: back to the record, all reports, and the PDF for staff."""
    links = {back[0]: back[1], "All reports": url_for("reports.index")}
    if current_user.is_staff:
        links["Download PDF"] = pdf_url
    return links


def _asset_url() -> str:
    return url_for("reports.asset", filename="print.css").removesuffix("print.css")


def _pdf(pdf: bytes, filename: str, summary: str) -> Response:
    """Send a draft PDF inline and audit the download."""
    with write_transaction(db.session):
        record(db.session, AuditAction.DOWNLOAD, summary=summary)
    response = Response(pdf, mimetype="application/pdf")
    safe = re.sub(r"[^A-Za-z0-9._-]+", "-", filename)
    response.headers["Content-Disposition"] = f'inline; filename="{safe}"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.route("/grant/<int:grant_id>/preview")
@reader_required
def grant_preview(grant_id: int) -> str:
    """Show the dossier of a grant as HTML, from the PDF's own template."""
    dossier: GrantDossier = _build(build_dossier, grant_id)
    back = ("Back to the grant", url_for("grants.detail", grant_id=grant_id))
    pdf_url = url_for("report_documents.grant_pdf", grant_id=grant_id)
    return dossier_html(dossier, asset_url=_asset_url(), preview=_links(back, pdf_url))


@bp.route("/grant/<int:grant_id>.pdf")
@staff_required
def grant_pdf(grant_id: int) -> Response:
    """Download the dossier of a grant as a draft PDF."""
    dossier: GrantDossier = _build(build_dossier, grant_id)
    reference = dossier.grant.reference
    return _pdf(
        dossier_pdf(dossier),
        f"grant-dossier-{reference}.pdf",
        f"Draft grant dossier {reference} (PDF)",
    )


@bp.route("/donor/<int:donor_id>/preview")
@reader_required
def donor_preview(donor_id: int) -> str:
    """Show a donor's impact statement as HTML (anonymous donors unnamed to trustees)."""
    statement: ImpactStatement = _build(build_donor_statement, donor_id)
    back = ("Back to the donor", url_for("donors.detail", donor_id=donor_id))
    pdf_url = url_for("report_documents.donor_pdf", donor_id=donor_id)
    return statement_html(statement, asset_url=_asset_url(), preview=_links(back, pdf_url))


@bp.route("/donor/<int:donor_id>.pdf")
@staff_required
def donor_pdf(donor_id: int) -> Response:
    """Download a donor's impact statement as a draft PDF, addressed to the donor."""
    statement: ImpactStatement = _build(build_donor_statement, donor_id)
    # The id, not the name: the audit trail must not name an anonymous donor.
    return _pdf(
        statement_pdf(statement),
        f"donor-statement-{donor_id}.pdf",
        f"Draft impact statement of donor {donor_id} (PDF)",
    )


@bp.route("/fund/<int:fund_id>/preview")
@reader_required
def fund_preview(fund_id: int) -> str:
    """Show a fund's impact statement as HTML, from the PDF's own template."""
    statement: ImpactStatement = _build(build_fund_statement, fund_id)
    back = ("Back to the fund", url_for("funds.detail", fund_id=fund_id))
    pdf_url = url_for("report_documents.fund_pdf", fund_id=fund_id)
    return statement_html(statement, asset_url=_asset_url(), preview=_links(back, pdf_url))


@bp.route("/fund/<int:fund_id>.pdf")
@staff_required
def fund_pdf(fund_id: int) -> Response:
    """Download a fund's impact statement as a draft PDF."""
    statement: ImpactStatement = _build(build_fund_statement, fund_id)
    return _pdf(
        statement_pdf(statement),
        f"fund-statement-{fund_id}.pdf",
        f"Draft impact statement of fund {statement.name} (PDF)",
    )
