"""`grantpath users ...`."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask.cli import with_appcontext

from app.extensions import db
from app.models import Role

from .services import UserError, create_user


@click.group("users")
def users_cli() -> None:
    """Manage user accounts."""


@users_cli.command("create")
@click.argument("email")
@click.option("--role", type=click.Choice([r.value for r in Role]), required=True)
@click.option("--name", default=None, help="Full name shown in the audit trail.")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@with_appcontext
def create(email: str, role: str, name: str | None, password_stdin: bool) -> None:
    """Create a user who can log in at /login."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        user = create_user(db.session, email, password, Role(role), name=name)
    except UserError as error:
        raise click.ClickException(str(error)) from error
    db.session.commit()
    click.echo(f"Created {user.role.value} {user.email}.")


@users_cli.command("ensure-admin")
@click.option("--email", default="admin@grantpath.local", show_default=True)
@with_appcontext
def ensure_admin(email: str) -> None:
    """Create a first admin if there is none, and say how to log in."""
    from flask import current_app

    from .services import first_admin_password

    password_file = Path(current_app.instance_path) / "initial-admin-password"
    created = first_admin_password(db.session, email, password_file)
    db.session.commit()
    if created:
        click.echo(f"Created admin {email}.")
    if password_file.exists():
        click.echo(
            f"Log in at http://127.0.0.1:5000/login as {email} with the password in "
            f"{password_file}: {password_file.read_text().strip()}"
        )
    else:
        click.echo("An admin already exists; log in with your own account.")
