"""Output pages: /outputs, /outputs/new, /outputs/<id>, its attributions and links."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from app.auth.access import reader_required, staff_required
from app.extensions import db
from app.lookup.queries import label_for
from app.models import (
    Attribution,
    Confidentiality,
    DatePrecision,
    EvidenceKind,
    LinkRelation,
    Output,
    OutputLink,
    OutputType,
    PatentStatus,
    TrialPhase,
    TrialStatus,
)
from app.records.errors import FieldErrors
from app.records.forms import options, picked_id
from app.records.listing import ListParams
from app.records.routes import add_lifecycle_routes
from app.records.views import try_edit, try_write
from app.visibility import visible_levels

from . import queries, services
from .forms import (
    AttributionEditForm,
    AttributionForm,
    FurtherFundingForm,
    LinkForm,
    MedicalProductForm,
    OutputForm,
    PatentForm,
    PublicationForm,
    fill_from,
    form_class,
)

bp = Blueprint("outputs", __name__, url_prefix="/outputs", template_folder="templates")

T = TypeVar("T")


# --------------------------------------------------------------------------- helpers


def _load(output_id: int) -> Output:
    output = queries.get_output(db.session, output_id, visible_levels(current_user))
    if output is None:
        abort(404)
    return output


def _output_type(value: str | None) -> OutputType | None:
    return OutputType(value) if value and value in OutputType.__members__.values() else None


def _prepare(form: OutputForm) -> OutputForm:
    form.prepare()
    if isinstance(form, FurtherFundingForm):
        form.currency.choices = options((c, c) for c in services.known_currencies(db.session))
    return form


def _enum(enum: Any, value: str | None) -> Any:
    return enum(value) if value else None


def _precision(form: OutputForm, output: Output | None) -> DatePrecision:
    if form.date_precision.data:
        return DatePrecision(form.date_precision.data)
    if form.output_date.data is None and output is not None:
        # No date typed: leave the stored precision alone rather than reset it.
        return output.date_precision
    return form.output_date.precision


def _data(form: OutputForm, output: Output | None = None) -> services.OutputData:
    """Turn a submitted form into the service's input shape."""
    data = services.OutputData(
        type=OutputType(form.output_type.data),
        title=form.title.data or "",
        output_date=form.output_date.data,
        date_precision=_precision(form, output),
        description=form.description.data,
        url=form.url.data,
        confidentiality=Confidentiality(form.confidentiality.data),
    )
    if isinstance(form, PublicationForm):
        data.publication = services.PublicationData(
            doi=form.doi.data,
            pmid=form.pmid.data,
            pmcid=form.pmcid.data,
            journal=form.journal.data,
            year=form.publication_year.data,
            volume=form.volume.data,
            pages=form.pages.data,
            authors=form.authors.data,
        )
    if isinstance(form, MedicalProductForm):
        lines = (form.registry_ids.data or "").splitlines()
        if form.is_trial.data:
            data.trial = services.TrialData(
                phase=_enum(TrialPhase, form.phase.data),
                status=_enum(TrialStatus, form.trial_status.data),
                acronym=form.acronym.data,
                enrolment_planned=form.enrolment_planned.data,
                enrolment_actual=form.enrolment_actual.data,
                condition=form.condition.data,
                intervention=form.intervention.data,
                sponsor_organisation_id=picked_id(form.sponsor_id, form.sponsor_label),
                start_date=form.start_date.data,
                first_patient_date=form.first_patient_date.data,
                completion_date=form.completion_date.data,
                registry_ids=lines,
            )
        else:
            data.stray_registry_ids = lines
    if isinstance(form, FurtherFundingForm):
        data.further_funding = services.FurtherFundingData(
            funder_organisation_id=picked_id(form.funder_id, form.funder_label),
            funder_name=form.funder_name.data,
            amount=form.amount.data,
            currency=form.currency.data or "EUR",
        )
    if isinstance(form, PatentForm):
        data.patent = services.PatentData(
            number=form.patent_number.data,
            office=form.patent_office.data,
            status=_enum(PatentStatus, form.patent_status.data),
        )
    return data


def _attribution_data(form: Any) -> services.AttributionData | None:
    """The grant credit asked for, or None if no grant was given at all."""
    if not (form.grant_id.data or (form.grant_label.data or "").strip()):
        return None
    return services.AttributionData(
        grant_id=picked_id(form.grant_id, form.grant_label),
        share=form.share.data,
        evidence=EvidenceKind(form.evidence.data),
        evidence_text=form.evidence_text.data,
        source=getattr(getattr(form, "source", None), "data", None),
    )


def _noting_clash(action: Callable[[], T], clashes: list[services.Clash]) -> Callable[[], T]:
    """Wrap a write so a duplicate-identifier refusal also reports the existing output."""

    def run() -> T:
        try:
            return action()
        except services.DuplicateOutput as duplicate:
            clashes.append(duplicate.clash)
            raise

    return run


def _render_form(form: OutputForm, output: Output | None, **extra: Any) -> str:
    context: dict[str, Any] = {"changes": [], "clash": None, **extra}
    return render_template("outputs/form.html", form=form, output=output, **context)


def _flash_errors(form: Any) -> None:
    for name, errors in form.errors.items():
        label = getattr(form, name).label.text if hasattr(form, name) else name
        for message in errors:
            flash(f"{label}: {message}", "error")


def _back(output_id: int, anchor: str) -> Response:
    return redirect(url_for("outputs.detail", output_id=output_id, _anchor=anchor))


# --------------------------------------------------------------------------- outputs


@bp.route("")
@reader_required
def index() -> str:
    """List outputs with search, filters, sort and pagination."""
    params = ListParams.from_args(
        request.args,
        queries.FILTERS,
        list(queries.SORTS),
        queries.DEFAULT_SORT,
        current_app.config["PAGE_SIZE"],
    )
    if "sort" not in request.args:
        params = ListParams(**{**params.__dict__, "descending": True})
    levels = visible_levels(current_user)
    return render_template(
        "outputs/index.html",
        page=queries.output_list(db.session, params, levels),
        params=params,
        choices=queries.filter_choices(db.session, params, levels),
    )


@bp.route("/new", methods=["GET", "POST"])
@staff_required
def new() -> str | Response:
    """Create an output of the type chosen (or ask which type)."""
    output_type = _output_type(request.args.get("type"))
    if output_type is None:
        return render_template(
            "outputs/choose_type.html", types=OutputType, grant=request.args.get("grant", "")
        )
    form = _prepare(form_class(output_type)())
    if request.method == "GET":
        form.output_type.data = output_type.value
        grant_id = request.args.get("grant", type=int)
        form.grant_id.data = grant_id
        form.grant_label.data = queries.grant_label(
            db.session, grant_id, visible_levels(current_user)
        )
    clashes: list[services.Clash] = []
    if form.validate_on_submit():
        create = _noting_clash(
            lambda: services.create_output(db.session, _data(form), _attribution_data(form)),
            clashes,
        )
        output = try_write(form, create)
        if output is not None:
            flash(f"Output “{output.title}” created.", "success")
            return redirect(url_for("outputs.detail", output_id=output.id))
    return _render_form(form, None, clash=clashes[0] if clashes else None)


@bp.route("/<int:output_id>")
@reader_required
def detail(output_id: int) -> str:
    """Show an output with its details, credited grants and links."""
    output = _load(output_id)
    levels = visible_levels(current_user)
    upstream, downstream = queries.links_of(db.session, output.id, levels)
    return render_template(
        "outputs/detail.html",
        output=output,
        attributions=queries.attributions_of(db.session, output.id, levels),
        upstream=upstream,
        downstream=downstream,
        date_text=queries.date_label(output.output_date, output.date_precision),
        identifiers=queries.identifier_links(output),
        attribution_form=AttributionForm(),
        link_form=LinkForm(),
    )


@bp.route("/<int:output_id>/edit", methods=["GET", "POST"])
@staff_required
def edit(output_id: int) -> tuple[str, int] | str | Response:
    """Edit an output; a save based on an outdated version is refused."""
    output = _load(output_id)
    form = _prepare(form_class(output.type)(obj=output))
    if request.method == "GET":
        _fill(form, output)
    clashes: list[services.Clash] = []
    if form.validate_on_submit():
        save = _noting_clash(
            lambda: services.update_output(
                db.session, output, _data(form, output), form.version.data
            ),
            clashes,
        )
        saved, conflict = try_edit(form, output, save)
        if saved:
            flash(f"Output “{output.title}” saved.", "success")
            return redirect(url_for("outputs.detail", output_id=output.id))
        if conflict is not None:
            return _render_form(form, output, changes=conflict), 409
    return _render_form(form, output, clash=clashes[0] if clashes else None)


def _fill(form: OutputForm, output: Output) -> None:
    fill_from(form, output)
    if isinstance(form, MedicalProductForm) and output.trial is not None:
        sponsor = output.trial.sponsor_organisation_id
        form.sponsor_label.data = label_for(db.session, "organisations", sponsor)
    if isinstance(form, FurtherFundingForm) and output.further_funding is not None:
        funder = output.further_funding.funder_organisation_id
        form.funder_label.data = label_for(db.session, "organisations", funder)


# The history page below also lists attribution and link events, so it stays the feature's own.
add_lifecycle_routes(
    bp,
    noun="output",
    id_arg="output_id",
    load=_load,
    label=lambda output: f"Output “{output.title}”",
    detail_endpoint="outputs.detail",
    delete=services.delete_output,
    restore=services.restore_output,
    history=None,
)


@bp.route("/<int:output_id>/history")
@reader_required
def history(output_id: int) -> str:
    """Show every audited change of an output, its attributions and its links."""
    output = _load(output_id)
    return render_template(
        "records/history.html",
        events=queries.output_history(db.session, output, with_related=current_user.is_staff),
        record_label=f"Output #{output.id} {output.title}",
        back_url=url_for("outputs.detail", output_id=output.id),
    )


@bp.route("/<int:output_id>/merge-into/<int:other_id>", methods=["POST"])
@staff_required
def merge_into(output_id: int, other_id: int) -> Response:
    """Move this output's attributions and links onto another output and delete this one."""
    source, target = _load(output_id), _load(other_id)
    try:
        result = services.merge_output(db.session, source, target)
    except FieldErrors as error:
        db.session.rollback()
        for message in error.errors.values():
            flash(message, "error")
        return redirect(url_for("outputs.detail", output_id=output_id))
    db.session.commit()
    flash(
        f"Merged #{output_id} into this output: {result.moved} attributions and links moved, "
        f"{result.dropped} duplicates dropped.",
        "success",
    )
    return redirect(url_for("outputs.detail", output_id=other_id))


# --------------------------------------------------------------------------- attributions


def _attribution(output: Output, attribution_id: int) -> Attribution:
    attribution = queries.get_attribution(db.session, output.id, attribution_id)
    if attribution is None:
        abort(404)
    return attribution


@bp.route("/<int:output_id>/attributions", methods=["POST"])
@staff_required
def add_attribution(output_id: int) -> Response:
    """Credit a grant with this output."""
    output = _load(output_id)
    form = AttributionForm()
    if form.validate_on_submit():
        data = _attribution_data(form) or services.AttributionData(grant_id=None)
        if try_write(form, lambda: services.add_attribution(db.session, output, data)):
            flash("Grant credited with this output.", "success")
            return _back(output.id, "grants")
    _flash_errors(form)
    return _back(output.id, "grants")


@bp.route("/<int:output_id>/attributions/<int:attribution_id>/edit", methods=["GET", "POST"])
@staff_required
def edit_attribution(output_id: int, attribution_id: int) -> tuple[str, int] | str | Response:
    """Change an attribution's share or evidence."""
    output = _load(output_id)
    attribution = _attribution(output, attribution_id)
    form = AttributionEditForm(obj=attribution)
    if form.validate_on_submit():
        data = services.AttributionData(
            grant_id=attribution.grant_id,
            share=form.share.data,
            evidence=EvidenceKind(form.evidence.data),
            evidence_text=form.evidence_text.data,
            source=form.source.data,
        )
        saved, conflict = try_edit(
            form,
            attribution,
            lambda: services.update_attribution(db.session, attribution, data, form.version.data),
        )
        if saved:
            flash("Attribution saved.", "success")
            return _back(output.id, "grants")
        if conflict is not None:
            return render_template(
                "outputs/attribution_form.html",
                form=form,
                output=output,
                attribution=attribution,
                changes=conflict,
            ), 409
    return render_template(
        "outputs/attribution_form.html",
        form=form,
        output=output,
        attribution=attribution,
        changes=[],
    )


@bp.route("/<int:output_id>/attributions/<int:attribution_id>/confirm", methods=["POST"])
@staff_required
def confirm_attribution(output_id: int, attribution_id: int) -> Response:
    """Confirm an attribution as the current user."""
    attribution = _attribution(_load(output_id), attribution_id)
    if services.confirm_attribution(db.session, attribution, current_user.id):
        db.session.commit()
        flash("Attribution confirmed.", "success")
    return _back(output_id, "grants")


@bp.route("/<int:output_id>/attributions/<int:attribution_id>/delete", methods=["POST"])
@staff_required
def delete_attribution(output_id: int, attribution_id: int) -> Response:
    """Remove an attribution (kept in the audit trail)."""
    attribution = _attribution(_load(output_id), attribution_id)
    services.delete_attribution(db.session, attribution)
    db.session.commit()
    flash("Attribution removed.", "success")
    return _back(output_id, "grants")


# --------------------------------------------------------------------------- links


def _link(output: Output, link_id: int) -> OutputLink:
    link = queries.get_link(db.session, output.id, link_id)
    if link is None:
        abort(404)
    return link


@bp.route("/<int:output_id>/links", methods=["POST"])
@staff_required
def add_link(output_id: int) -> Response:
    """Link this output to another, in either direction."""
    output = _load(output_id)
    form = LinkForm()
    if form.validate_on_submit():
        data = services.LinkData(
            other_id=picked_id(form.other_id, form.other_label),
            direction=form.direction.data or "upstream",
            relation=LinkRelation(form.relation.data),
            evidence=EvidenceKind(form.evidence.data),
            evidence_text=form.evidence_text.data,
        )
        if try_write(form, lambda: services.add_link(db.session, output, data)):
            flash("Link added.", "success")
            return _back(output.id, "links")
    _flash_errors(form)
    return _back(output.id, "links")


@bp.route("/<int:output_id>/links/<int:link_id>/confirm", methods=["POST"])
@staff_required
def confirm_link(output_id: int, link_id: int) -> Response:
    """Confirm a link as the current user."""
    link = _link(_load(output_id), link_id)
    if services.confirm_link(db.session, link, current_user.id):
        db.session.commit()
        flash("Link confirmed.", "success")
    return _back(output_id, "links")


@bp.route("/<int:output_id>/links/<int:link_id>/delete", methods=["POST"])
@staff_required
def delete_link(output_id: int, link_id: int) -> Response:
    """Remove a link (kept in the audit trail)."""
    link = _link(_load(output_id), link_id)
    services.delete_link(db.session, link)
    db.session.commit()
    flash("Link removed.", "success")
    return _back(output_id, "links")
