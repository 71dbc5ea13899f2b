"""360Giving Data Standard: import of packages and flattened files, validated export."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Nothing registered yet."""
