"""`grantpath serve`: the production server (gunicorn) for this app."""

from __future__ import annotations

import os
from typing import Any

import click
from flask import Flask
from gunicorn.app.base import BaseApplication


class _Gunicorn(BaseApplication):  # type: ignore[misc]
    def __init__(self, options: dict[str, Any]) -> None:
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Flask:
        from app import create_app

        return create_app()


@click.command("serve")
@click.option("--bind", default=lambda: os.environ.get("GRANTPATH_BIND", "127.0.0.1:5000"),
              show_default="127.0.0.1:5000")
@click.option("--workers", type=int,
              default=lambda: int(os.environ.get("GRANTPATH_WORKERS", "2")), show_default="2")
@click.option("--threads", type=int, default=4, show_default=True)
def serve_command(bind: str, workers: int, threads: int) -> None:
    """Serve the app with gunicorn (each worker builds its own app)."""
    click.echo(f"grantpath serving on http://{bind}/ with {workers} workers")
    _Gunicorn({
        "bind": bind,
        "workers": workers,
        "threads": threads,
        "timeout": 30,
        "accesslog": "-",
        "preload_app": False,
    }).run()
