"""Reports in the web app: the list of issued reports, previews and PDFs."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from .documents import bp as documents_bp
    from .views import bp

    app.register_blueprint(bp)
    app.register_blueprint(documents_bp)
