"""Per-record report documents: the grant dossier and the donor and fund impact statements.

/reports/grant/<id>/preview and .pdf, /reports/donor/<id>/..., /reports/fund/<id>/...
Previews are for every reader (at the reader's confidentiality levels: trustees
see anonymous donors unnamed); PDFs are staff drafts, rendered synchronously
(about a second for the demo's largest) and their download audited.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from flask import Blueprint, Response, abort, current_app, url_for
from flask_login import current_user

from app.audit.services import record
from app.auth.access import reader_required, staff_required
from app.db import write_transaction
from app.extensions import db
from app.models import AuditAction
from app.visibility import visible_levels
from reports.annual import default_foundation_name
from reports.document_parts import DocumentNotFound
from reports.dossier import GrantDossier, build_dossier, dossier_html, dossier_pdf
from reports.statement import (
    ImpactStatement,
    build_donor_statement,
    build_fund_statement,
    statement_html,
    statement_pdf,
)

bp = Blueprint("report_documents", __name__, url_prefix="/reports")

D = TypeVar("D")


@dataclass(frozen=True)
class DocumentKind(Generic[D]):
    """What differs between the per-record documents; the views below share the rest."""

    build: Callable[..., D]  # (session, record id, foundation=, levels=) -> plain data
    html: Callable[..., str]  # (data, asset_url=, preview=) -> the template rendered
    pdf: Callable[[D], bytes]
    back: tuple[str, str]  # the preview bar's link back: label, record page endpoint
    id_arg: str  # the URL argument naming the record, in both endpoints
    pdf_endpoint: str
    # The download's file name and its audit summary, from the data and the record id.
    filename: Callable[[D, int], str]
    summary: Callable[[D, int], str]


GRANT_DOSSIER = DocumentKind[GrantDossier](
    build=build_dossier,
    html=dossier_html,
    pdf=dossier_pdf,
    back=("Back to the grant", "grants.detail"),
    id_arg="grant_id",
    pdf_endpoint="report_documents.grant_pdf",
    filename=lambda dossier, _: f"grant-dossier-{dossier.grant.reference}.pdf",
    summary=lambda dossier, _: f"Draft grant dossier {dossier.grant.reference} (PDF)",
)
# The id, not the name: the audit trail must not name an anonymous donor.
DONOR_STATEMENT = DocumentKind[ImpactStatement](
    build=build_donor_statement,
    html=statement_html,
    pdf=statement_pdf,
    back=("Back to the donor", "donors.detail"),
    id_arg="donor_id",
    pdf_endpoint="report_documents.donor_pdf",
    filename=lambda _, donor_id: f"donor-statement-{donor_id}.pdf",
    summary=lambda _, donor_id: f"Draft impact statement of donor {donor_id} (PDF)",
)
FUND_STATEMENT = DocumentKind[ImpactStatement](
    build=build_fund_statement,
    html=statement_html,
    pdf=statement_pdf,
    back=("Back to the fund", "funds.detail"),
    id_arg="fund_id",
    pdf_endpoint="report_documents.fund_pdf",
    filename=lambda _, fund_id: f"fund-statement-{fund_id}.pdf",
    summary=lambda statement, _: f"Draft impact statement of fund {statement.name} (PDF)",
)


def _build(kind: DocumentKind[D], record_id: int) -> D:
    """Build a document at the viewer's levels; 404 when missing, deleted or not visible."""
    foundation = default_foundation_name(db.session, current_app.config["FOUNDATION_NAME"])
    try:
        return kind.build(
            db.session, record_id, foundation=foundation, levels=visible_levels(current_user)
        )
    except DocumentNotFound:
        abort(404)


def _preview(kind: DocumentKind[D], record_id: int) -> str:
    """The preview page: the PDF's own template, with a bar back to the record and all reports."""
    document = _build(kind, record_id)
    label, endpoint = kind.back
    record_args: dict[str, Any] = {kind.id_arg: record_id}
    links = {label: url_for(endpoint, **record_args), "All reports": url_for("reports.index")}
    if current_user.is_staff:
        links["Download PDF"] = url_for(kind.pdf_endpoint, **record_args)
    asset_url = url_for("reports.asset", filename="print.css").removesuffix("print.css")
    return kind.html(document, asset_url=asset_url, preview=links)


def _download(kind: DocumentKind[D], record_id: int) -> Response:
    """Send a draft PDF inline and audit the download."""
    document = _build(kind, record_id)
    pdf = kind.pdf(document)
    with write_transaction(db.session):
        record(db.session, AuditAction.DOWNLOAD, summary=kind.summary(document, record_id))
    response = Response(pdf, mimetype="application/pdf")
    safe = re.sub(r"[^A-Za-z0-9._-]+", "-", kind.filename(document, record_id))
    response.headers["Content-Disposition"] = f'inline; filename="{safe}"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.route("/grant/<int:grant_id>/preview")
@reader_required
def grant_preview(grant_id: int) -> str:
    """Show the dossier of a grant as HTML, from the PDF's own template."""
    return _preview(GRANT_DOSSIER, grant_id)


@bp.route("/grant/<int:grant_id>.pdf")
@staff_required
def grant_pdf(grant_id: int) -> Response:
    """Download the dossier of a grant as a draft PDF."""
    return _download(GRANT_DOSSIER, grant_id)


@bp.route("/donor/<int:donor_id>/preview")
@reader_required
def donor_preview(donor_id: int) -> str:
    """Show a donor's impact statement as HTML (anonymous donors unnamed to trustees)."""
    return _preview(DONOR_STATEMENT, donor_id)


@bp.route("/donor/<int:donor_id>.pdf")
@staff_required
def donor_pdf(donor_id: int) -> Response:
    """Download a donor's impact statement as a draft PDF, addressed to the donor."""
    return _download(DONOR_STATEMENT, donor_id)


@bp.route("/fund/<int:fund_id>/preview")
@reader_required
def fund_preview(fund_id: int) -> str:
    """Show a fund's impact statement as HTML, from the PDF's own template."""
    return _preview(FUND_STATEMENT, fund_id)


@bp.route("/fund/<int:fund_id>.pdf")
@staff_required
def fund_pdf(fund_id: int) -> Response:
    """Download a fund's impact statement as a draft PDF."""
    return _download(FUND_STATEMENT, fund_id)
