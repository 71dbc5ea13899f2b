"""User account forms (input shapes only; rules live in services)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, EqualTo, Length, Optional

from app.models import Role
from app.records.forms import VersionField, no_control_characters, options


class NewUserForm(FlaskForm):
    email = EmailField("Email", [DataRequired(), Length(max=254), no_control_characters])
    name = StringField("Name", [Optional(), Length(max=200), no_control_characters])
    role = SelectField("Role", choices=options(Role.choices()), default=Role.STAFF.value)
    password = PasswordField("Initial password", [DataRequired(), Length(max=1000)])
    confirm = PasswordField(
        "Initial password again",
        [DataRequired(), EqualTo("password", message="The two passwords differ.")],
    )


class EditUserForm(FlaskForm):
    version = VersionField()
    name = StringField("Name", [Optional(), Length(max=200), no_control_characters])
    role = SelectField("Role", choices=options(Role.choices()))
    status = SelectField(
        "Status",
        choices=options(
            [("active", "Active: may log in"), ("inactive", "Inactive: cannot log in")]
        ),
    )


class PasswordForm(FlaskForm):
    password = PasswordField("New password", [DataRequired(), Length(max=1000)])
    confirm = PasswordField(
        "New password again",
        [DataRequired(), EqualTo("password", message="The two passwords differ.")],
    )
