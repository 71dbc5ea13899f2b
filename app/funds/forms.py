"""Fund, donor, donation and allocation forms (input shapes only; rules live in services)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from app.models import DonorKind
from app.records.forms import (
    MoneyField,
    PickerIdField,
    VersionField,
    no_control_characters,
    optional_int,
    options,
)


class FundForm(FlaskForm):
    version = VersionField()
    name = StringField("Name", [DataRequired(), Length(max=200), no_control_characters])
    is_restricted = BooleanField("Restricted fund")
    purpose = TextAreaField("Purpose", [Optional(), Length(max=5_000), no_control_characters])


class DonorForm(FlaskForm):
    version = VersionField()
    name = StringField("Name", [DataRequired(), Length(max=300), no_control_characters])
    kind = SelectField("Kind", choices=options(DonorKind.choices()))
    is_anonymous = BooleanField("Anonymous (never named to trustees or in reports)")


class DonationForm(FlaskForm):
    version = VersionField()
    donor_id = PickerIdField()
    donor_label = StringField("Donor", [Length(max=400)])
    fund_id = SelectField("Fund", coerce=optional_int, validate_choice=False)
    received_on = DateField("Received on", [InputRequired()])
    amount = MoneyField("Amount", [InputRequired()])
    currency = SelectField("Currency", validate_choice=False)
    reference = StringField("Reference", [Optional(), Length(max=60), no_control_characters])


class AllocationForm(FlaskForm):
    grant_id = PickerIdField()
    grant_label = StringField("Grant", [Length(max=600)])
    amount = MoneyField("Amount", [InputRequired()])
    currency = SelectField("Currency", validate_choice=False)
