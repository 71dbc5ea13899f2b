"""Background jobs (Huey): long report renders and large list exports run outside the request,
with their progress shown."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Attach the job queue (made on first use) to the app and register the job pages."""
    from .queue import init_queue
    from .views import bp

    init_queue(app)
    app.register_blueprint(bp)
