"""Grant pages: /grants, /grants/new, /grants/<id>, /grants/<id>/edit, ..."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from app.auth.access import reader_required, staff_required
from app.extensions import db
from app.lineage.queries import downstream_trials
from app.lookup.queries import label_for
from app.models import CoFunding, Confidentiality, Grant, GrantRelation, GrantStatus, Payment
from app.records.forms import options, picked_id
from app.records.listing import ListParams
from app.records.routes import add_lifecycle_routes
from app.records.views import try_edit, try_write
from app.visibility import visible_levels

from . import queries, services
from .forms import CoFundingForm, GrantForm, PaymentForm

bp = Blueprint("grants", __name__, url_prefix="/grants", template_folder="templates")


def _load(grant_id: int) -> Grant:
    grant = queries.get_grant(db.session, grant_id, visible_levels(current_user))
    if grant is None:
        abort(404)
    return grant


def _prepare_form(form: GrantForm) -> GrantForm:
    choices = queries.filter_choices(db.session)
    form.programme_id.choices = options(choices.programmes, blank="–")
    form.area_ids.choices = options(choices.areas)
    form.currency.choices = options((c, c) for c in services.known_currencies(db.session))
    return form


def _form_from(grant: Grant) -> GrantForm:
    form = GrantForm(obj=grant)
    if request.method == "GET":
        form.version.data = grant.version
        form.host_id.data = grant.host_organisation_id
        form.host_label.data = label_for(db.session, "organisations", grant.host_organisation_id)
        form.pi_id.data = grant.principal_investigator_id
        form.pi_label.data = label_for(db.session, "people", grant.principal_investigator_id)
        form.previous_id.data = grant.previous_grant_id
        form.previous_label.data = label_for(db.session, "grants", grant.previous_grant_id)
        form.area_ids.data = [a.id for a in grant.areas]
        form.relation_to_previous.data = grant.relation_to_previous or ""
    return _prepare_form(form)


def _data(form: GrantForm) -> services.GrantData:
    return services.GrantData(
        reference=form.reference.data or "",
        title=form.title.data or "",
        summary=form.summary.data,
        programme_id=form.programme_id.data,
        host_organisation_id=picked_id(form.host_id, form.host_label),
        principal_investigator_id=picked_id(form.pi_id, form.pi_label),
        area_ids=list(form.area_ids.data or []),
        status=GrantStatus(form.status.data),
        award_date=form.award_date.data,
        start_date=form.start_date.data,
        end_date=form.end_date.data,
        amount_awarded=form.amount_awarded.data,
        currency=form.currency.data or "EUR",
        previous_grant_id=picked_id(form.previous_id, form.previous_label),
        relation_to_previous=GrantRelation(form.relation_to_previous.data)
        if form.relation_to_previous.data
        else None,
        confidentiality=Confidentiality(form.confidentiality.data),
        outcome_report_due=form.outcome_report_due.data,
        outcome_report_received=form.outcome_report_received.data,
    )


@bp.route("")
@reader_required
def index() -> str:
    """List grants with search, filters, sort and pagination."""
    params = ListParams.from_args(
        request.args,
        queries.FILTERS,
        list(queries.SORTS),
        queries.DEFAULT_SORT,
        current_app.config["PAGE_SIZE"],
    )
    if "sort" not in request.args:
        params = ListParams(**{**params.__dict__, "descending": True})
    page = queries.grant_list(db.session, params, visible_levels(current_user))
    return render_template(
        "grants/index.html",
        page=page,
        params=params,
        choices=queries.filter_choices(db.session),
        statuses=GrantStatus.choices(),
    )


@bp.route("/new", methods=["GET", "POST"])
@staff_required
def new() -> str | Response:
    """Create a grant."""
    form = _prepare_form(GrantForm())
    if request.method == "GET":
        form.currency.data = "EUR"
    if form.validate_on_submit():
        grant = try_write(form, lambda: services.create_grant(db.session, _data(form)))
        if grant is not None:
            flash(f"Grant {grant.reference} created.", "success")
            return redirect(url_for("grants.detail", grant_id=grant.id))
    return render_template("grants/form.html", form=form, grant=None, changes=[])


@bp.route("/<int:grant_id>")
@reader_required
def detail(grant_id: int) -> str:
    """Show a grant with its payments, funding, outputs and downstream trials."""
    grant = _load(grant_id)
    levels = visible_levels(current_user)
    outputs = queries.attributed_outputs(db.session, grant.id, levels)
    trials = downstream_trials(db.session, [grant.id], levels)
    previous, continuations = queries.related_grants(grant, levels)
    return render_template(
        "grants/detail.html",
        grant=grant,
        previous=previous,
        continuations=continuations,
        outputs=outputs,
        trials=trials,
        payment_form=PaymentForm(),
        co_funding_form=_co_funding_form(),
    )


def _co_funding_form() -> CoFundingForm:
    form = CoFundingForm()
    form.currency.choices = options((c, c) for c in services.known_currencies(db.session))
    return form


@bp.route("/<int:grant_id>/edit", methods=["GET", "POST"])
@staff_required
def edit(grant_id: int) -> tuple[str, int] | str | Response:
    """Edit a grant; a save based on an outdated version is refused."""
    grant = _load(grant_id)
    form = _form_from(grant)
    if form.validate_on_submit():
        saved, conflict = try_edit(
            form,
            grant,
            lambda: services.update_grant(db.session, grant, _data(form), form.version.data),
        )
        if saved:
            flash(f"Grant {grant.reference} saved.", "success")
            return redirect(url_for("grants.detail", grant_id=grant.id))
        if conflict is not None:
            return render_template(
                "grants/form.html", form=form, grant=grant, changes=conflict
            ), 409
    return render_template("grants/form.html", form=form, grant=grant, changes=[])


add_lifecycle_routes(
    bp,
    noun="grant",
    id_arg="grant_id",
    load=_load,
    label=lambda grant: f"Grant {grant.reference}",
    detail_endpoint="grants.detail",
    delete=services.delete_grant,
    restore=services.restore_grant,
)


def _redirect_with_errors(grant: Grant, form: Any, anchor: str) -> Response:
    for name, errors in form.errors.items():
        label = getattr(form, name).label.text if hasattr(form, name) else name
        for message in errors:
            flash(f"{label}: {message}", "error")
    return redirect(url_for("grants.detail", grant_id=grant.id, _anchor=anchor))


@bp.route("/<int:grant_id>/payments", methods=["POST"])
@staff_required
def add_payment(grant_id: int) -> Response:
    """Add an instalment."""
    grant = _load(grant_id)
    form = PaymentForm()
    if form.validate_on_submit() and try_write(
        form,
        lambda: services.add_payment(
            db.session,
            grant,
            form.due_date.data,
            form.amount.data,
            form.paid_date.data,
            form.note.data,
        ),
    ):
        flash("Payment added.", "success")
        return redirect(url_for("grants.detail", grant_id=grant.id, _anchor="payments"))
    return _redirect_with_errors(grant, form, "payments")


@bp.route("/<int:grant_id>/payments/<int:payment_id>/delete", methods=["POST"])
@staff_required
def delete_payment(grant_id: int, payment_id: int) -> Response:
    """Remove an instalment (kept in the audit trail)."""
    grant = _load(grant_id)
    payment = db.session.get(Payment, payment_id)
    if payment is None or payment.grant_id != grant.id:
        abort(404)
    services.delete_payment(db.session, payment)
    db.session.commit()
    flash("Payment removed.", "success")
    return redirect(url_for("grants.detail", grant_id=grant.id, _anchor="payments"))


@bp.route("/<int:grant_id>/co-funding", methods=["POST"])
@staff_required
def add_co_funding(grant_id: int) -> Response:
    """Record a co-funder."""
    grant = _load(grant_id)
    form = _co_funding_form()
    if form.validate_on_submit() and try_write(
        form,
        lambda: services.add_co_funding(
            db.session,
            grant,
            picked_id(form.funder_id, form.funder_label),
            form.amount.data,
            form.currency.data or "EUR",
        ),
    ):
        flash("Co-funder added.", "success")
        return redirect(url_for("grants.detail", grant_id=grant.id, _anchor="co-funding"))
    return _redirect_with_errors(grant, form, "co-funding")


@bp.route("/<int:grant_id>/co-funding/<int:co_funding_id>/delete", methods=["POST"])
@staff_required
def delete_co_funding(grant_id: int, co_funding_id: int) -> Response:
    """Remove a co-funder (kept in the audit trail)."""
    grant = _load(grant_id)
    co = db.session.get(CoFunding, co_funding_id)
    if co is None or co.grant_id != grant.id:
        abort(404)
    services.delete_co_funding(db.session, co)
    db.session.commit()
    flash("Co-funder removed.", "success")
    return redirect(url_for("grants.detail", grant_id=grant.id, _anchor="co-funding"))
