"""Report pages: /reports (issued reports), annual report preview (HTML) and PDF."""

from __future__ import annotations

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
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

from . import queries

bp = Blueprint("reports", __name__, url_prefix="/reports", template_folder="templates")


def _annual(year: int) -> AnnualReport:
    if not queries.is_report_year(year):
        abort(404)
    foundation = default_foundation_name(db.session, current_app.config["FOUNDATION_NAME"])
    return build_annual_report(db.session, Period(year, year), foundation=foundation)


@bp.route("")
@reader_required
def index() -> str:
    """List issued reports by year; staff also get the annual report form."""
    years = queries.report_years(db.session) if current_user.is_staff else []
    return render_template(
        "reports/index.html",
        issued=queries.issued_reports(db.session),
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
        issued = queries.issued_reports(db.session)
        page = render_template(
            "reports/index.html", issued=issued, years=years, chosen=None, error=error
        )
        return page, 400
    if request.args.get("format") == "pdf":
        return redirect(url_for("reports.annual_pdf_file", year=year))
    return redirect(url_for("reports.annual_preview", year=year))


@bp.route("/annual/<int:year>/preview")
@reader_required
def annual_preview(year: int) -> str:
    """The annual report of a year as HTML, from the PDF's own template."""
    links = {"All reports": url_for("reports.index")}
    if current_user.is_staff:
        links["Download PDF"] = url_for("reports.annual_pdf_file", year=year)
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


@bp.route("/assets/<path:filename>")
@reader_required
def asset(filename: str) -> Response:
    """The reports' stylesheet and fonts, for the HTML preview."""
    return send_from_directory(ASSETS_DIR, filename, max_age=3600)
