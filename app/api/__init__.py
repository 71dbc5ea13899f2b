"""Read-only JSON API under /api/v1 for integrations, with token authentication."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Nothing registered yet."""
