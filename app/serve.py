"""`grantpath serve`: the production server (gunicorn) for this app, and its job worker."""

from __future__ import annotations

import gc
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import click
from flask import Flask
from flask.cli import ScriptInfo
from gunicorn.app.base import BaseApplication

# A worker stopping gracefully finishes the job at hand; past this it is stopped anyway.
WORKER_STOP_TIMEOUT_S = 30


class _Gunicorn(BaseApplication):  # type: ignore[misc]
    def __init__(self, options: dict[str, Any]) -> None:
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Flask:
        from app import create_app

        app = create_app()
        # What the app loaded lives as long as the worker: out of the collector's sight,
        # full collections stay short (they paused a worker ~110 ms every few hundred pages).
        gc.freeze()
        return app


def default_workers() -> int:
    """gunicorn's rule of thumb: two workers per core, and one more."""
    return 2 * (os.cpu_count() or 1) + 1


def _grantpath() -> list[str]:
    """How to run the `grantpath` command: its script beside this Python, else through -c."""
    script = Path(sys.executable).with_name("grantpath")
    if script.is_file():
        return [str(script)]  # also what Huey re-runs when a worker is told to restart
    return [sys.executable, "-c", "from app.cli import main; main()"]


def start_job_worker() -> subprocess.Popen[bytes]:
    """Start `grantpath jobs worker` beside the server; it stops when this process is gone."""
    command = [*_grantpath(), "jobs", "worker", "--parent-pid", str(os.getpid())]
    # Its own session: Ctrl-C in the terminal reaches gunicorn only, which then stops
    # the worker once (a second SIGINT would interrupt the job at hand).
    return subprocess.Popen(command, start_new_session=True)


def stop_job_worker(worker: subprocess.Popen[bytes]) -> None:
    """Ask the worker to finish its job and stop; kill it if it takes too long."""
    if worker.poll() is not None:
        return
    worker.send_signal(signal.SIGINT)
    try:
        worker.wait(timeout=WORKER_STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        worker.kill()
        worker.wait()


@click.command("serve")
@click.option(
    "--bind",
    default=lambda: os.environ.get("GRANTPATH_BIND", "127.0.0.1:5000"),
    show_default="127.0.0.1:5000",
)
@click.option(
    "--workers",
    type=int,
    default=lambda: int(os.environ.get("GRANTPATH_WORKERS", str(default_workers()))),
    show_default="2 x cores + 1",
    help="gunicorn worker processes: as many requests are served at once.",
)
@click.option(
    "--threads",
    type=int,
    default=lambda: int(os.environ.get("GRANTPATH_THREADS", "1")),
    show_default="1",
    help="Threads per worker. 1: gunicorn's sync workers, each serving one request at a "
    "time (put a proxy that buffers slow clients in front). More: threaded workers, for a "
    "database far enough away that requests mostly wait on it.",
)
@click.option(
    "--jobs-worker/--no-jobs-worker",
    default=True,
    show_default=True,
    help="Also run the background job worker (leave it out when it runs elsewhere, "
    "e.g. as its own service with a Redis queue).",
)
def serve_command(bind: str, workers: int, threads: int, jobs_worker: bool) -> None:
    """Serve the app with gunicorn (each worker builds its own app), and the job worker.

    Pages are CPU-bound Python: threads in one worker take turns on its interpreter lock,
    and a page that waits behind three others' slices has a long tail (grant list, 20
    clients, 2 cores: p95 140 ms with 4 workers x 4 threads, 70 ms with 4 sync workers).
    Separate processes queue requests in the kernel, first come first served. Anything
    longer than a couple of seconds runs as a background job, never in a worker.
    """
    from app.jobs.queue import get_queue

    # The CLI's app, for its settings only: no app context stays pushed in the master.
    app = click.get_current_context().ensure_object(ScriptInfo).load_app()
    worker = None
    if jobs_worker and not get_queue(app).immediate:
        worker = start_job_worker()
    click.echo(
        f"grantpath serving on http://{bind}/ with {workers} workers"
        + (", and a job worker" if worker else "")
    )
    try:
        _Gunicorn(
            {
                "bind": bind,
                "workers": workers,
                "threads": threads,
                "timeout": 30,
                "accesslog": "-",
                "preload_app": False,
            }
        ).run()
    finally:
        if worker is not None:
            stop_job_worker(worker)
