"""The highlight form (input shapes only; rules live in services)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import IntegerField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from app.records.forms import PickerIdField, VersionField, no_control_characters


class HighlightForm(FlaskForm):
    version = VersionField()
    year = IntegerField("Year", [InputRequired(message="Give the year of the report.")])
    title = StringField("Title", [DataRequired(), Length(max=200), no_control_characters])
    body = TextAreaField(
        "Text", [DataRequired(), Length(max=8_000), no_control_characters], render_kw={"rows": 10}
    )
    output_id = PickerIdField()
    output_label = StringField("About a trial or other output", [Length(max=600)])
    grant_id = PickerIdField()
    grant_label = StringField("About a grant", [Length(max=600)])
    position = IntegerField("Order in the year", [Optional()])
