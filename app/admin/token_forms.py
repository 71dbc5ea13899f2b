"""The form issuing an API token (input shapes only; rules live in app.api.services)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import SelectField, StringField
from wtforms.validators import DataRequired, Length

from app.records.forms import no_control_characters, options

LIFETIMES = (
    ("30", "In 30 days"),
    ("90", "In 90 days"),
    ("365", "In a year"),
    ("730", "In two years"),
    ("never", "Never (revoke it by hand)"),
)


class ApiTokenForm(FlaskForm):
    name = StringField("Name", [DataRequired(), Length(max=100), no_control_characters])
    owner_id = SelectField("Acts as", [DataRequired(message="Choose the user the token acts as.")])
    lifetime = SelectField("Expires", choices=options(LIFETIMES), default="365")

    def lifetime_days(self) -> int | None:
        """The chosen lifetime in days; None: never expires."""
        return None if self.lifetime.data == "never" else int(self.lifetime.data or "365")
