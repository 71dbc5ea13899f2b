"""Background jobs (Huey): long report renders run outside the request, with progress."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Attach the job queue (made on first use) to the app."""
    from .queue import init_queue

    init_queue(app)
