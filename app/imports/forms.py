"""The upload form (input shape only; the rules live in the importers)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import SelectField

from app.records.forms import options

from .services import KINDS


class UploadForm(FlaskForm):
    kind = SelectField(
        "What the file holds", choices=options((kind.name, kind.label) for kind in KINDS.values())
    )
    file = FileField(
        "CSV, Excel (.xlsx) or 360Giving JSON file", [FileRequired("Choose a file to import.")]
    )
