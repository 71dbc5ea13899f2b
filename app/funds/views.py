"""Fund, donor and donation pages: /funds..., /donors..., /donations..."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from werkzeug.wrappers import Response

from app.audit.queries import history_of
from app.auth.access import reader_required, staff_required
from app.extensions import db
from app.grants.services import known_currencies
from app.models import Donation, Donor, DonorKind, Fund, FundAllocation
from app.records.forms import options, picked_id
from app.records.listing import ListParams, printable
from app.records.routes import add_lifecycle_routes
from app.records.views import FormPage, create_page, edit_page, try_edit, try_write
from app.visibility import visible_levels

from . import queries, services
from .forms import AllocationForm, DonationForm, DonorForm, FundForm

funds_bp = Blueprint("funds", __name__, url_prefix="/funds", template_folder="templates")
donors_bp = Blueprint("donors", __name__, url_prefix="/donors", template_folder="templates")
donations_bp = Blueprint(
    "donations", __name__, url_prefix="/donations", template_folder="templates"
)


def _reveal() -> bool:
    """Staff see anonymous donors' names; trustees never do."""
    return bool(current_user.is_staff)


def _list_params(
    filters: Sequence[str], sorts: Sequence[str], default: str, newest_first: bool = False
) -> ListParams:
    params = ListParams.from_args(
        request.args, filters, list(sorts), default, current_app.config["PAGE_SIZE"]
    )
    if newest_first and "sort" not in request.args:
        params = ListParams(**{**params.__dict__, "descending": True})
    return params


def _currency_choices(blank: str | None = None) -> list[Any]:
    return options(((c, c) for c in known_currencies(db.session)), blank=blank)


def _flash_form_errors(form: Any) -> None:
    for name, errors in form.errors.items():
        label = getattr(form, name).label.text if hasattr(form, name) else name
        for message in errors:
            flash(f"{label}: {message}", "error")


# Funds -------------------------------------------------------------------------------


def _fund_url(fund: Fund) -> str:
    return url_for("funds.detail", fund_id=fund.id)


def _load_fund(fund_id: int) -> Fund:
    fund = queries.get_fund(db.session, fund_id)
    if fund is None:
        abort(404)
    return fund


def _fund_data(form: FundForm) -> services.FundData:
    return services.FundData(
        name=form.name.data or "",
        is_restricted=bool(form.is_restricted.data),
        purpose=form.purpose.data,
    )


def _allocation_form() -> AllocationForm:
    form = AllocationForm()
    form.currency.choices = _currency_choices(blank="Same as the grant")
    return form


@funds_bp.route("")
@reader_required
def index() -> str:
    """List funds with their totals, search, filter, sort and pagination."""
    params = _list_params(queries.FUND_FILTERS, queries.FUND_SORTS, "name")
    page = queries.fund_list(db.session, params, visible_levels(current_user))
    return render_template("funds/index.html", page=page, params=params)


@funds_bp.route("/new", methods=["GET", "POST"])
@staff_required
def new() -> FormPage:
    """Create a fund."""
    form = FundForm()
    return create_page(
        form,
        lambda: services.create_fund(db.session, _fund_data(form)),
        message=lambda fund: f"Fund {fund.name} created.",
        then=_fund_url,
        render=lambda changes: render_template(
            "funds/form.html", form=form, fund=None, changes=changes
        ),
    )


@funds_bp.route("/<int:fund_id>")
@reader_required
def detail(fund_id: int) -> str:
    """Show a fund: totals, latest donations and allocations to grants."""
    fund = _load_fund(fund_id)
    levels = visible_levels(current_user)
    return render_template(
        "funds/detail.html",
        fund=fund,
        totals=queries.fund_totals(db.session, fund.id, levels),
        donations=queries.recent_donations(db.session, _reveal(), fund_id=fund.id),
        allocations=queries.fund_allocations(db.session, fund.id, levels),
        allocation_form=_allocation_form() if current_user.is_staff else None,
    )


@funds_bp.route("/<int:fund_id>/edit", methods=["GET", "POST"])
@staff_required
def edit(fund_id: int) -> FormPage:
    """Edit a fund; a save based on an outdated version is refused."""
    fund = _load_fund(fund_id)
    form = FundForm(obj=fund)
    return edit_page(
        form,
        fund,
        lambda: services.update_fund(db.session, fund, _fund_data(form), form.version.data),
        message=lambda fund: f"Fund {fund.name} saved.",
        then=_fund_url,
        render=lambda changes: render_template(
            "funds/form.html", form=form, fund=fund, changes=changes
        ),
    )


add_lifecycle_routes(
    funds_bp,
    noun="fund",
    id_arg="fund_id",
    load=_load_fund,
    label=lambda fund: f"Fund {fund.name}",
    detail_endpoint="funds.detail",
    delete=services.delete_fund,
    restore=services.restore_fund,
)


@funds_bp.route("/<int:fund_id>/allocations", methods=["POST"])
@staff_required
def add_allocation(fund_id: int) -> Response:
    """Record that the fund pays part of a grant (warns if the grant is over-allocated)."""
    fund = _load_fund(fund_id)
    form = _allocation_form()
    result = form.validate_on_submit() and try_write(
        form,
        lambda: services.add_allocation(
            db.session,
            fund,
            picked_id(form.grant_id, form.grant_label),
            form.amount.data,
            form.currency.data or None,
        ),
    )
    if result:
        flash("Allocation added.", "success")
        if result.warning:
            flash(result.warning, "warning")
    else:
        _flash_form_errors(form)
    return redirect(url_for("funds.detail", fund_id=fund.id, _anchor="allocations"))


@funds_bp.route("/<int:fund_id>/allocations/<int:allocation_id>/delete", methods=["POST"])
@staff_required
def delete_allocation(fund_id: int, allocation_id: int) -> Response:
    """Remove an allocation (kept whole in the audit trail)."""
    fund = _load_fund(fund_id)
    allocation = db.session.get(FundAllocation, allocation_id)
    if allocation is None or allocation.fund_id != fund.id:
        abort(404)
    services.delete_allocation(db.session, allocation)
    db.session.commit()
    flash("Allocation removed.", "success")
    return redirect(url_for("funds.detail", fund_id=fund.id, _anchor="allocations"))


# Donors ------------------------------------------------------------------------------


def _donor_url(donor: Donor) -> str:
    return url_for("donors.detail", donor_id=donor.id)


def _load_donor(donor_id: int) -> Donor:
    donor = queries.get_donor(db.session, donor_id)
    if donor is None:
        abort(404)
    return donor


def _donor_data(form: DonorForm) -> services.DonorData:
    return services.DonorData(
        name=form.name.data or "",
        kind=DonorKind(form.kind.data),
        is_anonymous=bool(form.is_anonymous.data),
    )


@donors_bp.route("", endpoint="index")
@reader_required
def donors_index() -> str:
    """List donors with what they gave; search, filters, sort and pagination."""
    params = _list_params(queries.DONOR_FILTERS, queries.DONOR_SORTS, "name")
    return render_template(
        "donors/index.html",
        page=queries.donor_list(db.session, params, _reveal()),
        params=params,
        kinds=DonorKind.choices(),
    )


@donors_bp.route("/lookup")
@staff_required
def lookup() -> Response:
    """Return up to 15 donors matching ?q= as JSON for the donation form's picker."""
    text = printable(request.args.get("q", ""))[:100]
    if len(text) < 2:
        return jsonify([])
    return jsonify(
        [{"id": o.id, "label": o.label} for o in queries.donor_options(db.session, text)]
    )


@donors_bp.route("/new", methods=["GET", "POST"], endpoint="new")
@staff_required
def donors_new() -> FormPage:
    """Create a donor."""
    form = DonorForm()
    return create_page(
        form,
        lambda: services.create_donor(db.session, _donor_data(form)),
        message=lambda donor: "Donor created.",
        then=_donor_url,
        render=lambda changes: render_template(
            "donors/form.html", form=form, donor=None, changes=changes
        ),
    )


@donors_bp.route("/<int:donor_id>", endpoint="detail")
@reader_required
def donors_detail(donor_id: int) -> str:
    """Show a donor with totals and latest donations (anonymous to trustees)."""
    donor = _load_donor(donor_id)
    return render_template(
        "donors/detail.html",
        donor=queries.donor_view(donor, _reveal()),
        version=donor.version,
        totals=queries.donor_totals(db.session, donor.id),
        donations=queries.recent_donations(db.session, _reveal(), donor_id=donor.id),
    )


@donors_bp.route("/<int:donor_id>/edit", methods=["GET", "POST"], endpoint="edit")
@staff_required
def donors_edit(donor_id: int) -> FormPage:
    """Edit a donor; a save based on an outdated version is refused."""
    donor = _load_donor(donor_id)
    form = DonorForm(obj=donor)
    return edit_page(
        form,
        donor,
        lambda: services.update_donor(db.session, donor, _donor_data(form), form.version.data),
        message=lambda donor: "Donor saved.",
        then=_donor_url,
        render=lambda changes: render_template(
            "donors/form.html", form=form, donor=donor, changes=changes
        ),
    )


# Donor names may be hidden from trustees, so the history page below is the feature's own.
add_lifecycle_routes(
    donors_bp,
    noun="donor",
    id_arg="donor_id",
    load=_load_donor,
    label=lambda donor: "Donor",
    detail_endpoint="donors.detail",
    delete=services.delete_donor,
    restore=services.restore_donor,
    history=None,
)


@donors_bp.route("/<int:donor_id>/history", endpoint="history")
@reader_required
def donors_history(donor_id: int) -> str:
    """Show every audited change of a donor (names hidden from trustees if anonymous)."""
    donor = _load_donor(donor_id)
    view = queries.donor_view(donor, _reveal())
    return render_template(
        "records/history.html",
        events=queries.donor_history(db.session, donor, _reveal()),
        record_label=f"Donor {view.name}",
        back_url=url_for("donors.detail", donor_id=donor.id),
    )


# Donations ---------------------------------------------------------------------------


def _load_donation(donation_id: int) -> Donation:
    donation = queries.get_donation(db.session, donation_id)
    if donation is None:
        abort(404)
    return donation


def _prepare_donation_form(form: DonationForm, keep_fund_id: int | None = None) -> DonationForm:
    form.fund_id.choices = options(queries.active_funds(db.session, keep_fund_id), blank="–")
    form.currency.choices = _currency_choices()
    return form


def _donation_data(form: DonationForm) -> services.DonationData:
    return services.DonationData(
        donor_id=picked_id(form.donor_id, form.donor_label),
        fund_id=form.fund_id.data,
        received_on=form.received_on.data,
        amount=form.amount.data,
        currency=form.currency.data or "EUR",
        reference=form.reference.data,
    )


def _warn_without_rate(donation: Donation) -> None:
    if donation.amount_eur is None:
        flash(
            f"No {donation.currency} rate is known for {donation.received_on:%-d %b %Y}: "
            "the donation has no euro value and is left out of the totals.",
            "warning",
        )


@donations_bp.route("", endpoint="index")
@reader_required
def donations_index() -> str:
    """List donations with filters (year, fund, donor kind), sort and pagination."""
    params = _list_params(
        queries.DONATION_FILTERS,
        list(queries.DONATION_SORTS),
        queries.DEFAULT_DONATION_SORT,
        newest_first=True,
    )
    donor_id = params.filter_int("donor")
    donor = db.session.get(Donor, donor_id) if donor_id is not None else None
    return render_template(
        "donations/index.html",
        page=queries.donation_list(db.session, params, _reveal()),
        total_eur=queries.donation_list_total(db.session, params),
        params=params,
        choices=queries.donation_filter_choices(db.session),
        donor=queries.donor_view(donor, _reveal()) if donor else None,
    )


@donations_bp.route("/new", methods=["GET", "POST"], endpoint="new")
@staff_required
def donations_new() -> str | Response:
    """Record a donation."""
    form = _prepare_donation_form(DonationForm())
    if request.method == "GET":
        form.currency.data = "EUR"
        form.fund_id.data = request.args.get("fund", type=int)
        if (donor := db.session.get(Donor, request.args.get("donor", 0, type=int))) is not None:
            form.donor_id.data, form.donor_label.data = donor.id, queries.donor_label(donor)
    if form.validate_on_submit():
        donation = try_write(
            form, lambda: services.create_donation(db.session, _donation_data(form))
        )
        if donation is not None:
            flash("Donation recorded.", "success")
            _warn_without_rate(donation)
            return redirect(url_for("funds.detail", fund_id=donation.fund_id, _anchor="donations"))
    return render_template("donations/form.html", form=form, donation=None, changes=[])


@donations_bp.route("/<int:donation_id>/edit", methods=["GET", "POST"], endpoint="edit")
@staff_required
def donations_edit(donation_id: int) -> tuple[str, int] | str | Response:
    """Edit a donation; a save based on an outdated version is refused."""
    donation = _load_donation(donation_id)
    form = _prepare_donation_form(DonationForm(obj=donation), donation.fund_id)
    if request.method == "GET":
        form.version.data = donation.version
        form.donor_label.data = queries.donor_label(donation.donor)
    if form.validate_on_submit():
        saved, conflict = try_edit(
            form,
            donation,
            lambda: services.update_donation(
                db.session, donation, _donation_data(form), form.version.data
            ),
        )
        if saved:
            flash("Donation saved.", "success")
            _warn_without_rate(donation)
            return redirect(url_for("donations.index", fund=donation.fund_id))
        if conflict is not None:
            return render_template(
                "donations/form.html", form=form, donation=donation, changes=conflict
            ), 409
    return render_template("donations/form.html", form=form, donation=donation, changes=[])


@donations_bp.route("/<int:donation_id>/delete", methods=["POST"], endpoint="delete")
@staff_required
def donations_delete(donation_id: int) -> Response:
    """Remove a donation (kept whole in the audit trail)."""
    donation = _load_donation(donation_id)
    fund_id = donation.fund_id
    services.delete_donation(db.session, donation)
    db.session.commit()
    flash("Donation removed.", "success")
    return redirect(url_for("donations.index", fund=fund_id))


@donations_bp.route("/<int:donation_id>/history", endpoint="history")
@reader_required
def donations_history(donation_id: int) -> str:
    """Show every audited change of a donation."""
    donation = _load_donation(donation_id)
    return render_template(
        "records/history.html",
        events=history_of(db.session, donation),
        record_label=f"Donation #{donation.id}",
        back_url=url_for("donations.index", fund=donation.fund_id),
    )
