"""Programme pages (/programmes...) and research area pages (/areas...)."""

from __future__ import annotations

from collections.abc import Sequence

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from app.auth.access import reader_required, staff_required
from app.extensions import db
from app.models import Programme, ProgrammeKind, ResearchArea
from app.records.listing import ListParams
from app.records.routes import add_lifecycle_routes
from app.records.views import create_page, edit_page, try_write
from app.visibility import visible_levels

from . import queries, services
from .forms import AreaForm, ProgrammeForm

bp = Blueprint("programmes", __name__, url_prefix="/programmes", template_folder="templates")
areas_bp = Blueprint("areas", __name__, url_prefix="/areas", template_folder="templates")

Page = str | tuple[str, int] | Response


# --------------------------------------------------------------------------- programmes


def _load_programme(programme_id: int) -> Programme:
    programme = queries.get_programme(db.session, programme_id)
    if programme is None:
        abort(404)
    return programme


def _programme_form(programme: Programme | None = None) -> ProgrammeForm:
    form = ProgrammeForm(obj=programme)
    if programme is not None and request.method == "GET":
        form.version.data = programme.version
    return form


def _programme_data(form: ProgrammeForm) -> services.ProgrammeData:
    return services.ProgrammeData(
        name=form.name.data or "",
        kind=ProgrammeKind(form.kind.data),
        year=form.year.data,
        description=form.description.data,
    )


def _programme_url(programme: Programme) -> str:
    return url_for("programmes.detail", programme_id=programme.id)


def _programme_page(
    form: ProgrammeForm, programme: Programme | None, changes: Sequence[object] = ()
) -> str:
    return render_template(
        "programmes/form.html", form=form, programme=programme, changes=list(changes)
    )


@bp.route("")
@reader_required
def index() -> str:
    """List programmes with their grant counts and euro totals."""
    params = ListParams.from_args(
        request.args,
        queries.FILTERS,
        queries.SORTS,
        queries.DEFAULT_SORT,
        current_app.config["PAGE_SIZE"],
    )
    return render_template(
        "programmes/index.html",
        page=queries.programme_list(db.session, params, visible_levels(current_user)),
        params=params,
        kinds=ProgrammeKind.choices(),
    )


@bp.route("/new", methods=["GET", "POST"])
@staff_required
def new() -> Page:
    """Create a programme."""
    form = _programme_form()
    return create_page(
        form,
        lambda: services.create_programme(db.session, _programme_data(form)),
        message=lambda programme: f"Programme {programme.name} created.",
        then=_programme_url,
        render=lambda changes: _programme_page(form, None, changes),
    )


@bp.route("/<int:programme_id>")
@reader_required
def detail(programme_id: int) -> str:
    """Show a programme with its figures and one page of its grants."""
    programme = _load_programme(programme_id)
    levels = visible_levels(current_user)
    params = ListParams.from_args(
        request.args, (), queries.GRANT_SORTS, "award_date", current_app.config["PAGE_SIZE"]
    )
    return render_template(
        "programmes/detail.html",
        programme=programme,
        figures=queries.programme_figures(db.session, programme.id, levels),
        grants=queries.programme_grants(db.session, programme.id, params, levels),
    )


@bp.route("/<int:programme_id>/edit", methods=["GET", "POST"])
@staff_required
def edit(programme_id: int) -> Page:
    """Edit a programme; a save based on an outdated version is refused."""
    programme = _load_programme(programme_id)
    form = _programme_form(programme)
    return edit_page(
        form,
        programme,
        lambda: services.update_programme(
            db.session, programme, _programme_data(form), form.version.data
        ),
        message=lambda programme: f"Programme {programme.name} saved.",
        then=_programme_url,
        render=lambda changes: _programme_page(form, programme, changes),
    )


add_lifecycle_routes(
    bp,
    noun="programme",
    id_arg="programme_id",
    load=_load_programme,
    label=lambda programme: f"Programme {programme.name}",
    detail_endpoint="programmes.detail",
    delete=services.delete_programme,
    restore=services.restore_programme,
)


# --------------------------------------------------------------------------- research areas


def _load_area(area_id: int) -> ResearchArea:
    area = queries.get_area(db.session, area_id)
    if area is None:
        abort(404)
    return area


def _area_data(form: AreaForm) -> services.AreaData:
    return services.AreaData(name=form.name.data or "", description=form.description.data)


@areas_bp.route("", endpoint="index")
@reader_required
def area_index() -> str:
    """List research areas with the number of grants each tags."""
    areas = queries.area_list(db.session, visible_levels(current_user))
    return render_template("areas/index.html", areas=areas)


@areas_bp.route("/new", methods=["GET", "POST"], endpoint="new")
@staff_required
def new_area() -> Page:
    """Create a research area."""
    form = AreaForm()
    if form.validate_on_submit():
        area = try_write(form, lambda: services.create_area(db.session, _area_data(form)))
        if area is not None:
            flash(f"Research area {area.name} created.", "success")
            return redirect(url_for("areas.index"))
    return render_template("areas/form.html", form=form, area=None)


@areas_bp.route("/<int:area_id>/edit", methods=["GET", "POST"], endpoint="edit")
@staff_required
def edit_area(area_id: int) -> Page:
    """Edit a research area (no version column, so no optimistic locking here)."""
    area = _load_area(area_id)
    form = AreaForm(obj=area)
    if (
        form.validate_on_submit()
        and try_write(form, lambda: services.update_area(db.session, area, _area_data(form)))
        is not None
    ):
        flash(f"Research area {area.name} saved.", "success")
        return redirect(url_for("areas.index"))
    return render_template("areas/form.html", form=form, area=area)


@areas_bp.route("/<int:area_id>/delete", methods=["POST"], endpoint="delete")
@staff_required
def delete_area(area_id: int) -> Response:
    """Delete a research area that no grant uses (kept whole in the audit trail)."""
    area = _load_area(area_id)
    name = area.name
    try:
        services.delete_area(db.session, area)
    except services.AreaInUse as error:
        db.session.rollback()
        flash(str(error), "error")
        return redirect(url_for("areas.index"))
    db.session.commit()
    flash(f"Research area {name} deleted.", "success")
    return redirect(url_for("areas.index"))


@areas_bp.route("/<int:area_id>/history", endpoint="history")
@reader_required
def area_history(area_id: int) -> str:
    """Show every audited change of a research area, even after it was deleted."""
    found = queries.area_history(db.session, area_id)
    if found is None:
        abort(404)
    return render_template(
        "records/history.html",
        events=found.events,
        record_label=f"Research area {found.name}" + ("" if found.exists else " (deleted)"),
        back_url=url_for("areas.index"),
    )
