"""Organisation and person forms (input shapes only; rules live in services)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional

from app.models import OrganisationKind
from app.records.forms import VersionField, no_control_characters, options


class OrganisationForm(FlaskForm):
    version = VersionField()
    name = StringField("Name", [DataRequired(), Length(max=300), no_control_characters])
    kind = SelectField("Kind", choices=options(OrganisationKind.choices()))
    # Choices (every ISO 3166-1 country) are set by the view; the service checks the code.
    country = SelectField("Country", [DataRequired()], validate_choice=False)
    city = StringField("City", [Optional(), Length(max=120), no_control_characters])
    ror_id = StringField("ROR ID", [Optional(), Length(max=100)])
    crossref_funder_id = StringField("Crossref Funder ID", [Optional(), Length(max=100)])
    org_id = StringField("360Giving org-id", [Optional(), Length(max=120)])
    website = StringField("Website", [Optional(), Length(max=300), no_control_characters])


class PersonForm(FlaskForm):
    version = VersionField()
    family_name = StringField(
        "Family name", [DataRequired(), Length(max=120), no_control_characters]
    )
    given_names = StringField("Given names", [Optional(), Length(max=120), no_control_characters])
    orcid = StringField("ORCID iD", [Optional(), Length(max=100)])
    email = StringField("E-mail", [Optional(), Length(max=254), no_control_characters])
    organisation_id = HiddenField()
    organisation_label = StringField("Affiliation", [Length(max=400)])
