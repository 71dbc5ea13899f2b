"""Machinery shared by every editable record: listing, history, soft delete, locking."""

from __future__ import annotations

from flask import Blueprint, Flask

# Only to expose records/templates (history page) to every feature.
bp = Blueprint("records", __name__, template_folder="templates")


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
