"""Highlight pages: /highlights, /highlights/new, /highlights/<id>, /highlights/<id>/edit, ..."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from flask import Blueprint, abort, current_app, render_template, request, url_for
from flask_login import current_user

from app.auth.access import reader_required, staff_required
from app.extensions import db
from app.lookup.queries import label_for
from app.models import Highlight
from app.records.forms import picked_id
from app.records.listing import ListParams
from app.records.routes import add_lifecycle_routes
from app.records.views import FormPage, create_page, edit_page
from app.visibility import visible_levels

from . import queries, services
from .forms import HighlightForm

bp = Blueprint("highlights", __name__, url_prefix="/highlights", template_folder="templates")


def _load(highlight_id: int) -> Highlight:
    highlight = queries.get_highlight(db.session, highlight_id)
    if highlight is None:
        abort(404)
    return highlight


def _label(highlight: Highlight) -> str:
    return f"Highlight “{highlight.title}”"


def _form(highlight: Highlight | None = None) -> HighlightForm:
    form = HighlightForm(obj=highlight)
    if request.method == "GET":
        if highlight is None:
            # Usually written early in the year for the report of the year just ended.
            form.year.data = request.args.get("year", date.today().year - 1, type=int)
        else:
            form.output_label.data = label_for(db.session, "outputs", highlight.output_id)
            form.grant_label.data = label_for(db.session, "grants", highlight.grant_id)
    return form


def _data(form: HighlightForm) -> services.HighlightData:
    return services.HighlightData(
        year=form.year.data or 0,
        title=form.title.data or "",
        body=form.body.data or "",
        output_id=picked_id(form.output_id, form.output_label),
        grant_id=picked_id(form.grant_id, form.grant_label),
        position=form.position.data,
        author_id=current_user.id,
    )


def _detail_url(highlight: Highlight) -> str:
    return url_for("highlights.detail", highlight_id=highlight.id)


def _page(form: HighlightForm, highlight: Highlight | None, changes: Sequence[object]) -> str:
    return render_template(
        "highlights/form.html", form=form, highlight=highlight, changes=list(changes)
    )


@bp.route("")
@reader_required
def index() -> str:
    """List highlights by year, in their order within each year."""
    params = ListParams.from_args(
        request.args,
        queries.FILTERS,
        queries.SORTS,
        queries.DEFAULT_SORT,
        current_app.config["PAGE_SIZE"],
    )
    return render_template(
        "highlights/index.html",
        page=queries.highlight_list(db.session, params, visible_levels(current_user)),
        params=params,
        years=queries.highlight_years(db.session),
    )


@bp.route("/new", methods=["GET", "POST"])
@staff_required
def new() -> FormPage:
    """Write a highlight for the annual report of a year."""
    form = _form()
    return create_page(
        form,
        lambda: services.create_highlight(db.session, _data(form)),
        message=lambda highlight: f"{_label(highlight)} created.",
        then=_detail_url,
        render=lambda changes: _page(form, None, changes),
    )


@bp.route("/<int:highlight_id>")
@reader_required
def detail(highlight_id: int) -> str:
    """Show a highlight as the report will print it."""
    row = queries.highlight_row(db.session, highlight_id, visible_levels(current_user))
    if row is None:
        abort(404)
    return render_template("highlights/detail.html", highlight=row)


@bp.route("/<int:highlight_id>/edit", methods=["GET", "POST"])
@staff_required
def edit(highlight_id: int) -> FormPage:
    """Edit a highlight; a save based on an outdated version is refused."""
    highlight = _load(highlight_id)
    form = _form(highlight)
    return edit_page(
        form,
        highlight,
        lambda: services.update_highlight(db.session, highlight, _data(form), form.version.data),
        message=lambda highlight: f"{_label(highlight)} saved.",
        then=_detail_url,
        render=lambda changes: _page(form, highlight, changes),
    )


add_lifecycle_routes(
    bp,
    noun="highlight",
    id_arg="highlight_id",
    load=_load,
    label=_label,
    detail_endpoint="highlights.detail",
    delete=services.delete_highlight,
    restore=services.restore_highlight,
)
