"""Report pages: /reports (issued reports), annual report preview, draft PDF, issuing, downloads."""

from __future__ import annotations

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_from_directory,
    url_for,
)
from flask_login import current_user
from werkzeug.wrappers import Response as BaseResponse

from app.audit.services import record
from app.auth.access import reader_required, staff_required
from app.extensions import db
from app.models import AuditAction
from reports.annual import (
    AnnualReport,
    Period,
    annual_html,
    annual_pdf,
    build_annual_report,
    default_foundation_name,
)
from reports.pdf import ASSETS_DIR

from . import issuing, queries

bp = Blueprint("reports", __name__, url_prefix="/reports", template_folder="templates")


def _foundation() -> str:
    return default_foundation_name(db.session, current_app.config["FOUNDATION_NAME"])


def _annual(year: int) -> AnnualReport:
    if not queries.is_report_year(year):
        abort(404)
    return build_annual_report(db.session, Period(year, year), foundation=_foundation())


def _issuable(year: int) -> Period:
    """The period of a year staff may issue the annual report of (404 otherwise)."""
    if year not in queries.report_years(db.session):
        abort(404)
    return Period(year, year)


@bp.route("")
@reader_required
def index() -> str:
    """List issued reports by year; staff also get the annual report form."""
    years = queries.report_years(db.session) if current_user.is_staff else []
    return render_template(
        "reports/index.html",
        issued=queries.issued_by_year(db.session),
        years=years,
        chosen=queries.default_year(years),
        error=None,
    )


@bp.route("/annual")
@staff_required
def annual_form() -> tuple[str, int] | BaseResponse:
    """Send the report form's choice to the preview or the PDF."""
    years = queries.report_years(db.session)
    year = request.args.get("year", type=int)
    if year not in years:
        error = "Choose a year between the first grant and this year."
        issued = queries.issued_by_year(db.session)
        page = render_template(
            "reports/index.html", issued=issued, years=years, chosen=None, error=error
        )
        return page, 400
    if request.args.get("format") == "pdf":
        return redirect(url_for("reports.annual_pdf_file", year=year))
    if request.args.get("format") == "issue":
        return redirect(url_for("reports.annual_issue_form", year=year))
    return redirect(url_for("reports.annual_preview", year=year))


@bp.route("/annual/<int:year>/preview")
@reader_required
def annual_preview(year: int) -> str:
    """The annual report of a year as HTML, from the PDF's own template."""
    links = {"All reports": url_for("reports.index")}
    if current_user.is_staff:
        links["Download PDF"] = url_for("reports.annual_pdf_file", year=year)
        links["Issue…"] = url_for("reports.annual_issue_form", year=year)
    asset_url = url_for("reports.asset", filename="print.css").removesuffix("print.css")
    return annual_html(_annual(year), asset_url=asset_url, preview=links)


@bp.route("/annual/<int:year>.pdf")
@staff_required
def annual_pdf_file(year: int) -> Response:
    """The annual report of a year as a draft PDF (rendered synchronously for now)."""
    pdf = annual_pdf(_annual(year))
    record(db.session, AuditAction.DOWNLOAD, summary=f"Draft annual report {year} (PDF)")
    db.session.commit()
    response = Response(pdf, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'inline; filename="annual-report-{year}.pdf"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.route("/annual/<int:year>/issue")
@staff_required
def annual_issue_form(year: int) -> str:
    """Ask before issuing the annual report of a year, showing the versions already issued."""
    key = issuing.annual_key(_issuable(year))
    versions = queries.issued_versions(db.session, issuing.ANNUAL, key)
    return render_template("reports/issue.html", year=year, versions=versions)


@bp.route("/annual/<int:year>/issue", methods=["POST"])
@staff_required
def annual_issue(year: int) -> BaseResponse:
    """Issue the annual report of a year: render it without the draft mark and store the PDF."""
    issued = issuing.issue_annual_report(
        db.session,
        _issuable(year),
        foundation=_foundation(),
        user=current_user._get_current_object(),  # type: ignore[attr-defined]
    )
    db.session.commit()
    flash(f"{issued.title} issued as version {issued.version}.", "success")
    return redirect(url_for("reports.index", _anchor=f"issued-{issued.year}"))


@bp.route("/issued/<int:report_id>.pdf")
@reader_required
def issued_pdf(report_id: int) -> BaseResponse:
    """An issued report's PDF, byte for byte as it was issued."""
    issued = queries.issued_file(db.session, report_id)
    if issued is None:
        abort(404)
    summary = f"{issued.title}, version {issued.version} (issued PDF)"
    record(db.session, AuditAction.DOWNLOAD, entity=issued, summary=summary)
    db.session.commit()
    response = Response(issued.pdf, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'attachment; filename="{issued.filename}"'
    response.headers["Cache-Control"] = "private"
    response.set_etag(issued.sha256)
    return response.make_conditional(request)


@bp.route("/assets/<path:filename>")
@reader_required
def asset(filename: str) -> Response:
    """The reports' stylesheet and fonts, for the HTML preview."""
    return send_from_directory(ASSETS_DIR, filename, max_age=3600)
