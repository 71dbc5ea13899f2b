"""Grant, payment and co-funding forms (input shapes only; rules live in services)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (
    DateField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from app.models import Confidentiality, GrantRelation, GrantStatus
from app.records.forms import (
    MoneyField,
    PickerIdField,
    VersionField,
    no_control_characters,
    optional_int,
    options,
)


class CheckboxListField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class GrantForm(FlaskForm):
    version = VersionField()
    reference = StringField("Reference", [DataRequired(), Length(max=120), no_control_characters])
    title = StringField("Title", [DataRequired(), Length(max=500), no_control_characters])
    summary = TextAreaField("Summary", [Optional(), Length(max=20_000), no_control_characters])
    programme_id = SelectField("Programme", coerce=optional_int, validate_choice=False)
    host_id = PickerIdField()
    host_label = StringField("Host institution", [Length(max=400)])
    pi_id = PickerIdField()
    pi_label = StringField("Principal investigator", [Length(max=300)])
    area_ids = CheckboxListField("Research areas", coerce=int, validate_choice=False)
    status = SelectField("Status", choices=options(GrantStatus.choices()))
    award_date = DateField("Award date", [InputRequired()])
    start_date = DateField("Start date", [Optional()])
    end_date = DateField("End date", [Optional()])
    amount_awarded = MoneyField("Amount awarded", [InputRequired()])
    currency = SelectField("Currency", validate_choice=False)
    previous_id = PickerIdField()
    previous_label = StringField("Continues grant", [Length(max=600)])
    relation_to_previous = SelectField(
        "Relation to that grant", choices=options(GrantRelation.choices(), blank="–")
    )
    confidentiality = SelectField("Confidentiality", choices=options(Confidentiality.choices()))
    outcome_report_due = DateField("Outcome report due", [Optional()])
    outcome_report_received = DateField("Outcome report received", [Optional()])


class PaymentForm(FlaskForm):
    due_date = DateField("Due", [InputRequired()])
    paid_date = DateField("Paid on", [Optional()])
    amount = MoneyField("Amount", [InputRequired()])
    note = StringField("Note", [Optional(), Length(max=300), no_control_characters])


class CoFundingForm(FlaskForm):
    funder_id = PickerIdField()
    funder_label = StringField("Co-funder", [Length(max=400)])
    amount = MoneyField("Amount", [Optional()])
    currency = SelectField("Currency", validate_choice=False)
