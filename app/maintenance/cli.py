"""`grantpath backup FILE` and `grantpath restore FILE`."""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from .services import MaintenanceError, backup, restore, shown_url

pg_bin_option = click.option(
    "--pg-bin",
    envvar="GRANTPATH_PG_BIN",
    metavar="DIR",
    help="Folder of pg_dump/pg_restore (PostgreSQL only; default: PATH, then "
    "/usr/lib/postgresql/*/bin). Env: GRANTPATH_PG_BIN.",
)


def _size(size_bytes: int) -> str:
    if size_bytes >= 1024 * 1024:
        return f"{size_bytes / (1024 * 1024):,.1f} MB"
    return f"{size_bytes / 1024:,.0f} KB"


@click.command("backup")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@pg_bin_option
@with_appcontext
def backup_command(file: Path, pg_bin: str | None) -> None:
    """Write a consistent snapshot of the whole database to FILE while the app runs.

    SQLite: a copy by SQLite's online backup API (a database file). PostgreSQL:
    pg_dump --format=custom. FILE is replaced only once the new backup is complete.
    """
    url = current_app.config["DATABASE_URL"]
    try:
        result = backup(url, file, pg_bin=pg_bin)
    except MaintenanceError as error:
        raise click.ClickException(str(error)) from None
    click.echo(
        f"Backed up {shown_url(url)} to {result.path}: {_size(result.size_bytes)}, "
        f"{result.tables} tables, in {result.seconds:.1f} s."
    )


@click.command("restore")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@pg_bin_option
@with_appcontext
def restore_command(file: Path, pg_bin: str | None) -> None:
    """Load FILE, made by `grantpath backup`, into the empty database of DATABASE_URL.

    A database that already has tables is refused (exit status 1): create a new
    one and point DATABASE_URL at it. PostgreSQL: pg_restore in one transaction.
    """
    url = current_app.config["DATABASE_URL"]
    try:
        result = restore(url, file, pg_bin=pg_bin)
    except MaintenanceError as error:
        raise click.ClickException(str(error)) from None
    for warning in result.warnings:
        click.echo(f"Warning: {warning}", err=True)
    click.echo(
        f"Restored {file} into {shown_url(url)}: {result.tables} tables, in {result.seconds:.1f} s."
    )
