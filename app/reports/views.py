"""Report pages: /reports (issued reports), annual report preview, draft PDF, issuing, jobs.

Draft PDFs and issuing always run as background jobs (app.jobs): the request
queues the job and redirects to /reports/jobs/<id>, which shows its progress
and then the download. Previews are HTML and rendered in the request.
"""

from __future__ import annotations

import logging

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

from app.auth.access import reader_required, staff_required
from app.exports.responses import audited_attachment
from app.extensions import db
from app.jobs import queries as job_queries
from app.jobs import services as jobs
from app.jobs import views as job_views
from reports.annual import (
    AnnualReport,
    Period,
    annual_html,
    build_annual_report,
    default_foundation_name,
    period_from_text,
)
from reports.pdf import ASSETS_DIR

from . import issuing, queries

bp = Blueprint("reports", __name__, url_prefix="/reports", template_folder="templates")
log = logging.getLogger(__name__)
PDF = "application/pdf"


def _foundation() -> str:
    return default_foundation_name(db.session, current_app.config["FOUNDATION_NAME"])


def _period(text: str) -> Period:
    """The year or range of a URL ('2023', '2015-2024'); 404 when it is not one."""
    try:
        period = period_from_text(text)
    except ValueError:
        abort(404)
    if not (queries.is_report_year(period.start_year) and queries.is_report_year(period.end_year)):
        abort(404)
    return period


def _annual(text: str) -> AnnualReport:
    return build_annual_report(db.session, _period(text), foundation=_foundation())


def _issuable(text: str) -> Period:
    """A period staff may issue the annual report of: years from the first grant (404 otherwise)."""
    period = _period(text)
    years = queries.report_years(db.session)
    if period.start_year not in years or period.end_year not in years:
        abort(404)
    return period


def _index_page(chosen: queries.PeriodChoice | None = None, error: str | None = None) -> str:
    staff = current_user.is_staff
    years = queries.report_years(db.session) if staff else []
    return render_template(
        "reports/index.html",
        issued=queries.issued_by_year(db.session),
        years=years,
        chosen=chosen or queries.default_choice(years),
        error=error,
        jobs=job_queries.recent_jobs(db.session, current_user.id, jobs.REPORT_KINDS)
        if staff
        else [],
    )


def _start_job(kind: str, period: Period) -> BaseResponse:
    """Queue a job for a period (or find the one under way) and go to its progress page."""
    parameters = {"start_year": period.start_year, "end_year": period.end_year}
    title = f"Annual impact report {period.label}"
    job, created = job_views.start(kind, parameters, title=title)
    if not created:
        flash(f"This report was already under way (asked for by {job.requested_by}).", "info")
    return redirect(url_for("reports.job", job_id=job.id))


@bp.route("")
@reader_required
def index() -> str:
    """List issued reports by year; staff also get the annual report form and their jobs."""
    return _index_page()


@bp.route("/annual")
@staff_required
def annual_form() -> tuple[str, int] | BaseResponse:
    """Send the report form's year or range to the preview, the draft PDF or the issue page."""
    years = queries.report_years(db.session)
    choice, error = queries.parse_choice(request.args, years)
    if error is not None:
        return _index_page(choice, error), 400
    period = choice.slug
    if request.args.get("format") == "pdf":
        return redirect(url_for("reports.annual_pdf_file", period=period))
    if request.args.get("format") == "issue":
        return redirect(url_for("reports.annual_issue_form", period=period))
    return redirect(url_for("reports.annual_preview", period=period))


@bp.route("/annual/<period>/preview")
@reader_required
def annual_preview(period: str) -> str:
    """The annual report of a year or range as HTML, from the PDF's own template."""
    report = _annual(period)
    links = {"All reports": url_for("reports.index")}
    if current_user.is_staff:
        links["Download PDF"] = url_for("reports.annual_pdf_file", period=period)
        links["Issue…"] = url_for("reports.annual_issue_form", period=period)
    asset_url = url_for("reports.asset", filename="print.css").removesuffix("print.css")
    return annual_html(report, asset_url=asset_url, preview=links)


@bp.route("/annual/<period>.pdf")
@staff_required
def annual_pdf_file(period: str) -> BaseResponse:
    """Queue the draft PDF of a year or range and show its progress (the job gives the file)."""
    return _start_job(jobs.DRAFT_ANNUAL, _period(period))


@bp.route("/annual/<period>/issue")
@staff_required
def annual_issue_form(period: str) -> str:
    """Ask before issuing the annual report of a year or range, showing earlier versions."""
    chosen = _issuable(period)
    key = issuing.annual_key(chosen)
    return render_template(
        "reports/issue.html",
        period=chosen,
        slug=period,
        versions=queries.issued_versions(db.session, issuing.ANNUAL, key),
        active=job_queries.active_job(db.session, jobs.ISSUE_ANNUAL, key),
    )


@bp.route("/annual/<period>/issue", methods=["POST"])
@staff_required
def annual_issue(period: str) -> BaseResponse:
    """Queue the issuing of an annual report (once: a second click joins the same job)."""
    return _start_job(jobs.ISSUE_ANNUAL, _issuable(period))


@bp.route("/jobs/<int:job_id>")
@staff_required
def job(job_id: int) -> str:
    """A report job's progress, then its download or the report it issued, or why it failed."""
    return job_views.page(job_id, jobs.REPORT_KINDS)


@bp.route("/jobs/<int:job_id>.json")
@staff_required
def job_status(job_id: int) -> Response:
    """A report job's status and progress, for the progress page to poll."""
    return job_views.status(job_id, jobs.REPORT_KINDS)


@bp.route("/jobs/<int:job_id>/draft.pdf")
@staff_required
def job_pdf(job_id: int) -> Response:
    """Download the draft PDF a job made (audited, as every draft download)."""
    return job_views.result(job_id, (jobs.DRAFT_ANNUAL,))


@bp.route("/issued/<int:report_id>.pdf")
@reader_required
def issued_pdf(report_id: int) -> Response:
    """An issued report's PDF, byte for byte as it was issued."""
    issued = queries.issued_file(db.session, report_id)
    if issued is None:
        abort(404)
    summary = f"{issued.title}, version {issued.version} (issued PDF)"
    return audited_attachment(
        summary, issued.pdf, issued.filename, PDF, entity=issued, sha256=issued.sha256
    )


@bp.route("/issued/<int:report_id>-pdfa.pdf")
@reader_required
def issued_archive(report_id: int) -> Response:
    """The archive copy (PDF/A-3u, figures attached as CSV) of an issued report."""
    archive = issuing.archive_download(db.session, report_id)
    if archive is None:
        abort(404)
    summary = f"{archive.title}, version {archive.version} (archive copy, PDF/A-3u)"
    return audited_attachment(summary, archive.pdf, archive.filename, PDF, sha256=archive.sha256)


@bp.route("/assets/<path:filename>")
@reader_required
def asset(filename: str) -> Response:
    """The reports' stylesheet and fonts, for the HTML preview."""
    return send_from_directory(ASSETS_DIR, filename, max_age=3600)
