"""`grantpath demo load`."""

from __future__ import annotations

import click


@click.group("demo")
def demo_cli() -> None:
    """Demonstration data."""
