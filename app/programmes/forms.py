"""Programme and research area forms (input shapes only; rules live in services)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from app.models import ProgrammeKind
from app.records.forms import VersionField, no_control_characters, options


class ProgrammeForm(FlaskForm):
    version = VersionField()
    name = StringField("Name", [DataRequired(), Length(max=200), no_control_characters])
    kind = SelectField("Kind", choices=options(ProgrammeKind.choices()))
    year = IntegerField("Year", [Optional()])
    description = TextAreaField(
        "Description", [Optional(), Length(max=20_000), no_control_characters]
    )


class AreaForm(FlaskForm):
    name = StringField("Name", [DataRequired(), Length(max=120), no_control_characters])
    description = TextAreaField(
        "Description", [Optional(), Length(max=20_000), no_control_characters]
    )
