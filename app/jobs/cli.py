"""`grantpath jobs worker`: the background worker that runs jobs (Huey's consumer)."""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
import time

import click
from flask import current_app
from flask.cli import with_appcontext

from .queue import get_queue

# How often a worker started by `grantpath serve` checks that the server still runs.
PARENT_CHECK_S = 2.0


def _watch_parent(parent_pid: int) -> None:
    """Stop this worker gracefully once the process that started it is gone."""

    def watch() -> None:
        while os.getppid() == parent_pid:
            time.sleep(PARENT_CHECK_S)
        os.kill(os.getpid(), signal.SIGINT)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


@click.group("jobs")
def jobs_cli() -> None:
    """Background jobs: long report renders and list exports run by a worker."""


@jobs_cli.command("worker")
@click.option(
    "--workers",
    type=click.IntRange(1, 16),
    default=lambda: int(os.environ.get("GRANTPATH_JOBS_WORKERS", "1")),
    show_default="1",
    help="Jobs run at the same time (threads; each render takes a core while it lays out).",
)
@click.option("--parent-pid", type=int, hidden=True, help="Stop when this process is gone.")
@with_appcontext
def worker(workers: int, parent_pid: int | None) -> None:
    """Run jobs until stopped (Ctrl-C lets the job at hand finish; twice stops now)."""
    queue = get_queue()
    if queue.immediate:
        raise click.ClickException(
            "Jobs run immediately in the request here (JOBS_IMMEDIATE): no worker is needed."
        )
    if not logging.getLogger().handlers:
        logging.basicConfig(
            level=logging.INFO,
            format="%(asctime)s %(levelname)s %(name)s: %(message)s",
            stream=sys.stderr,
        )
    where = "Redis" if queue.backend == "redis" else current_app.config["JOBS_SQLITE_PATH"]
    click.echo(f"grantpath jobs worker: {workers} thread(s), queue in {where}", err=True)
    consumer = queue.consumer(workers=workers, periodic=False)
    if parent_pid:
        _watch_parent(parent_pid)
    consumer.run()
