"""The `grantpath` console script: a Flask CLI group with our commands."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import FlaskGroup


def register_commands(app: Flask) -> None:
    """Attach every feature's commands to the app's CLI."""
    from .auth.cli import users_cli
    from .demo.cli import demo_cli
    from .exports.cli import export_cli
    from .imports.cli import import_cli
    from .jobs.cli import jobs_cli
    from .lineage.cli import lineage_command
    from .maintenance.cli import backup_command, restore_command
    from .migrate import db_cli
    from .portfolio.cli import priceindex_cli
    from .reports.cli import report_cli
    from .serve import serve_command

    commands = (db_cli, users_cli, demo_cli, export_cli, import_cli, lineage_command,
                priceindex_cli, report_cli, serve_command, jobs_cli, backup_command,
                restore_command)
    for group in commands:
        app.cli.add_command(group)


def _create_app() -> Flask:
    from . import create_app

    return create_app()


@click.group(cls=FlaskGroup, create_app=_create_app, add_default_commands=False,
             help="grantpath: grants, outputs and the pathways to clinical trials.")
def main() -> None:
    """Entry point of the console script."""
