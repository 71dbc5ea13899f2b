"""Import pages: /imports (upload and dry run), /imports/runs/<id>, apply, column templates."""

from __future__ import annotations

from pathlib import PurePath

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.wrappers import Response

from app.auth.access import staff_required
from app.extensions import db
from app.models import ImportRun, ImportStatus, User

from . import queries, services
from .columns import PREVIEW_LIMIT
from .forms import UploadForm

bp = Blueprint("imports", __name__, url_prefix="/imports", template_folder="templates")


def _filename(raw: str | None) -> str:
    """The uploaded file's own name, for display only (never used as a path)."""
    name = PurePath((raw or "").replace("\\", "/")).name
    return "".join(ch for ch in name if ch.isprintable())[:255] or "upload"


def _load(run_id: int) -> ImportRun:
    run = queries.get_run(db.session, run_id)
    if run is None:
        abort(404)
    return run


def _user() -> User:
    return current_user._get_current_object()  # type: ignore[attr-defined, no-any-return]


@bp.route("", methods=["GET", "POST"])
@staff_required
def index() -> str:
    """Upload a file and check it (a dry run); list the earlier runs."""
    form = UploadForm()
    if form.validate_on_submit():
        data = form.file.data.read()
        kind = form.kind.data
        result = services.run_import(
            db.session,
            kind,
            _filename(form.file.data.filename),
            data,
            dry_run=True,
            user=_user(),
            remote_addr=request.remote_addr,
        )
        db.session.commit()
        if result.run.status == ImportStatus.DRY_RUN:  # kept until applied, for the apply
            services.store_upload(current_app.instance_path, data)
        return render_template(
            "imports/preview.html",
            run=result.run,
            outcome=result.outcome,
            kind=services.KINDS[kind],
            limit=PREVIEW_LIMIT,
        )
    return render_template(
        "imports/index.html",
        form=form,
        kinds=services.KINDS,
        runs=queries.recent_runs(db.session),
        counts_text=services.counts_text,
    )


@bp.route("/runs/<int:run_id>")
@staff_required
def run(run_id: int) -> str:
    """One recorded run: its counts and errors; apply it if it was a clean dry run."""
    run = _load(run_id)
    kept = services.load_upload(current_app.instance_path, run.sha256) is not None
    return render_template(
        "imports/run.html",
        run=run,
        kind=services.KINDS.get(run.kind),
        can_apply=run.status == ImportStatus.DRY_RUN and kept,
    )


@bp.post("/runs/<int:run_id>/apply")
@staff_required
def apply(run_id: int) -> Response:
    """Apply a checked file: read, check and write it again, all in one transaction."""
    checked = _load(run_id)
    data = services.load_upload(current_app.instance_path, checked.sha256)
    if checked.status != ImportStatus.DRY_RUN or data is None:
        flash(
            "Only a clean dry run whose file is still kept can be applied; upload the file again.",
            "error",
        )
        return redirect(url_for("imports.run", run_id=checked.id))
    result = services.run_import(
        db.session,
        checked.kind,
        checked.filename,
        data,
        dry_run=False,
        user=_user(),
        remote_addr=request.remote_addr,
    )
    db.session.commit()
    if result.run.status == ImportStatus.APPLIED:
        services.discard_upload(current_app.instance_path, checked.sha256)
        flash(f"Imported {checked.filename}: {services.counts_text(result.run)}.", "success")
    else:
        flash("The import was refused and nothing was written; see the errors below.", "error")
    return redirect(url_for("imports.run", run_id=result.run.id))


@bp.route("/templates/<kind>.csv")
@staff_required
def template(kind: str) -> Response:
    """A CSV file with the header row of an import kind."""
    if kind not in services.KINDS:
        abort(404)
    return Response(
        services.template_csv(kind),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="grantpath-{kind}-template.csv"'},
    )


@bp.errorhandler(RequestEntityTooLarge)
def too_large(error: RequestEntityTooLarge) -> tuple[str, int]:
    """Explain the upload limit instead of a bare 413."""
    limit = current_app.config.get("MAX_CONTENT_LENGTH") or 0
    size = f"{limit // 1048576} MB" if limit >= 1048576 else f"{limit // 1024} KB"
    message = (
        f"The file is larger than the {size} an upload may be. Split it into "
        "smaller files, or import it on the server with `grantpath import`."
    )
    return render_template("error.html", code=413, title="File too large", message=message), 413
