"""Organisation pages (/organisations...) and people pages (/people...)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

from flask import Blueprint, abort, current_app, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from app.auth.access import reader_required, staff_required
from app.extensions import db
from app.lookup.queries import label_for
from app.models import Organisation, OrganisationKind, Person
from app.records.forms import options, picked_id
from app.records.listing import ListParams
from app.records.routes import add_lifecycle_routes
from app.records.views import create_page, edit_page
from app.visibility import visible_levels

from . import queries, services
from .forms import OrganisationForm, PersonForm

bp = Blueprint("organisations", __name__, url_prefix="/organisations", template_folder="templates")
people_bp = Blueprint("people", __name__, url_prefix="/people", template_folder="templates")

T = TypeVar("T")
Page = str | tuple[str, int] | Response


def _params(filters: Sequence[str], sorts: Sequence[str], default_sort: str) -> ListParams:
    return ListParams.from_args(
        request.args, filters, sorts, default_sort, current_app.config["PAGE_SIZE"]
    )


def _noting_others(others: dict[str, services.Other], action: Callable[[], T]) -> Callable[[], T]:
    """Wrap a write so the records an identifier clash points at can be linked on the form."""

    def run() -> T:
        try:
            return action()
        except services.RecordErrors as error:
            others.update(error.others)
            raise

    return run


# --------------------------------------------------------------------------- organisations


def _load_organisation(organisation_id: int) -> Organisation:
    organisation = queries.get_organisation(db.session, organisation_id)
    if organisation is None:
        abort(404)
    return organisation


def _organisation_form(organisation: Organisation | None = None) -> OrganisationForm:
    form = OrganisationForm(obj=organisation)
    form.country.choices = options(
        ((code, f"{name} ({code})") for code, name in services.COUNTRIES.items()), blank="–"
    )
    if organisation is not None and request.method == "GET":
        form.version.data = organisation.version
    return form


def _organisation_data(form: OrganisationForm) -> services.OrganisationData:
    return services.OrganisationData(
        name=form.name.data or "",
        kind=OrganisationKind(form.kind.data),
        country=form.country.data or "",
        city=form.city.data,
        ror_id=form.ror_id.data,
        crossref_funder_id=form.crossref_funder_id.data,
        org_id=form.org_id.data,
        website=form.website.data,
    )


def _organisation_url(organisation: Organisation) -> str:
    return url_for("organisations.detail", organisation_id=organisation.id)


def _person_url(person: Person) -> str:
    return url_for("people.detail", person_id=person.id)


def _organisation_page(
    form: OrganisationForm,
    organisation: Organisation | None,
    others: dict[str, services.Other],
    changes: Sequence[object] = (),
) -> str:
    return render_template(
        "organisations/form.html",
        form=form,
        organisation=organisation,
        others=others,
        changes=list(changes),
    )


@bp.route("")
@reader_required
def index() -> str:
    """List organisations with search, filters, sort and pagination."""
    params = _params(
        queries.ORGANISATION_FILTERS,
        queries.ORGANISATION_SORTS,
        queries.ORGANISATION_DEFAULT_SORT,
    )
    return render_template(
        "organisations/index.html",
        page=queries.organisation_list(db.session, params, visible_levels(current_user)),
        params=params,
        kinds=OrganisationKind.choices(),
        countries=services.COUNTRIES,
        countries_in_use=queries.countries_in_use(db.session),
    )


@bp.route("/new", methods=["GET", "POST"])
@staff_required
def new() -> Page:
    """Create an organisation."""
    form = _organisation_form()
    others: dict[str, services.Other] = {}
    return create_page(
        form,
        _noting_others(
            others, lambda: services.create_organisation(db.session, _organisation_data(form))
        ),
        message=lambda organisation: f"Organisation {organisation.name} created.",
        then=_organisation_url,
        render=lambda changes: _organisation_page(form, None, others, changes),
    )


@bp.route("/<int:organisation_id>")
@reader_required
def detail(organisation_id: int) -> str:
    """Show an organisation: identifiers, hosted grants and the people affiliated."""
    organisation = _load_organisation(organisation_id)
    return render_template(
        "organisations/detail.html",
        organisation=organisation,
        figures=queries.organisation_figures(
            db.session, organisation.id, visible_levels(current_user)
        ),
        country_name=services.COUNTRIES.get(organisation.country, organisation.country),
        website=services.http_url(organisation.website),
    )


@bp.route("/<int:organisation_id>/edit", methods=["GET", "POST"])
@staff_required
def edit(organisation_id: int) -> Page:
    """Edit an organisation; a save based on an outdated version is refused."""
    organisation = _load_organisation(organisation_id)
    form = _organisation_form(organisation)
    others: dict[str, services.Other] = {}
    return edit_page(
        form,
        organisation,
        _noting_others(
            others,
            lambda: services.update_organisation(
                db.session, organisation, _organisation_data(form), form.version.data
            ),
        ),
        message=lambda organisation: f"Organisation {organisation.name} saved.",
        then=_organisation_url,
        render=lambda changes: _organisation_page(form, organisation, others, changes),
    )


add_lifecycle_routes(
    bp,
    noun="organisation",
    id_arg="organisation_id",
    load=_load_organisation,
    label=lambda organisation: f"Organisation {organisation.name}",
    detail_endpoint="organisations.detail",
    delete=services.delete_organisation,
    restore=services.restore_organisation,
)


# --------------------------------------------------------------------------- people


def _load_person(person_id: int) -> Person:
    person = queries.get_person(db.session, person_id)
    if person is None:
        abort(404)
    return person


def _person_form(person: Person | None = None) -> PersonForm:
    form = PersonForm(obj=person)
    if person is not None and request.method == "GET":
        form.version.data = person.version
        form.organisation_id.data = person.organisation_id
        form.organisation_label.data = label_for(
            db.session, "organisations", person.organisation_id
        )
    return form


def _person_data(form: PersonForm) -> services.PersonData:
    return services.PersonData(
        family_name=form.family_name.data or "",
        given_names=form.given_names.data or "",
        orcid=form.orcid.data,
        email=form.email.data,
        organisation_id=picked_id(form.organisation_id, form.organisation_label),
        organisation_text=form.organisation_label.data or "",
    )


def _person_page(
    form: PersonForm,
    person: Person | None,
    others: dict[str, services.Other],
    changes: Sequence[object] = (),
) -> str:
    return render_template(
        "people/form.html", form=form, person=person, others=others, changes=list(changes)
    )


@people_bp.route("", endpoint="index")
@reader_required
def people_index() -> str:
    """List people with search (name or ORCID), organisation filter, sort and pagination."""
    params = _params(queries.PEOPLE_FILTERS, queries.PEOPLE_SORTS, queries.PEOPLE_DEFAULT_SORT)
    return render_template(
        "people/index.html",
        page=queries.people_list(db.session, params, visible_levels(current_user)),
        params=params,
        organisation_name=queries.organisation_name(db.session, params.filter_int("organisation")),
    )


@people_bp.route("/new", methods=["GET", "POST"], endpoint="new")
@staff_required
def new_person() -> Page:
    """Create a person."""
    form = _person_form()
    others: dict[str, services.Other] = {}
    return create_page(
        form,
        _noting_others(others, lambda: services.create_person(db.session, _person_data(form))),
        message=lambda person: f"{person.name} added.",
        then=_person_url,
        render=lambda changes: _person_page(form, None, others, changes),
    )


@people_bp.route("/<int:person_id>", endpoint="detail")
@reader_required
def person_detail(person_id: int) -> str:
    """Show a person with the grants they led and co-investigated."""
    person = _load_person(person_id)
    return render_template(
        "people/detail.html",
        person=person,
        grants=queries.person_grants(db.session, person.id, visible_levels(current_user)),
    )


@people_bp.route("/<int:person_id>/edit", methods=["GET", "POST"], endpoint="edit")
@staff_required
def edit_person(person_id: int) -> Page:
    """Edit a person; a save based on an outdated version is refused."""
    person = _load_person(person_id)
    form = _person_form(person)
    others: dict[str, services.Other] = {}
    return edit_page(
        form,
        person,
        _noting_others(
            others,
            lambda: services.update_person(
                db.session, person, _person_data(form), form.version.data
            ),
        ),
        message=lambda person: f"{person.name} saved.",
        then=_person_url,
        render=lambda changes: _person_page(form, person, others, changes),
    )


add_lifecycle_routes(
    people_bp,
    noun="person",
    id_arg="person_id",
    load=_load_person,
    label=lambda person: person.name,
    detail_endpoint="people.detail",
    delete=services.delete_person,
    restore=services.restore_person,
    deleted_note="You can restore them from their page.",
)
