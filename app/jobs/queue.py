"""The job queue: Huey with SQLite storage by default, Redis in production, immediate in tests.

Configuration (app config, else environment):
- ``JOBS_REDIS_URL`` / ``GRANTPATH_JOBS_REDIS_URL``: use Redis (RedisHuey), for
  several app servers or when the instance folder is not shared;
- ``JOBS_SQLITE_PATH`` / ``GRANTPATH_JOBS_SQLITE``: the embedded queue's file
  (default ``instance/jobs.sqlite``);
- ``JOBS_IMMEDIATE`` / ``GRANTPATH_JOBS_IMMEDIATE``: run jobs at once inside the
  request (default only when testing).
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any

from flask import Flask, current_app
from huey import MemoryHuey, RedisHuey, SqliteHuey
from huey.api import Huey
from huey.consumer import Consumer
from huey.signals import SIGNAL_INTERRUPTED

REDIS_ENV = "GRANTPATH_JOBS_REDIS_URL"
SQLITE_ENV = "GRANTPATH_JOBS_SQLITE"
IMMEDIATE_ENV = "GRANTPATH_JOBS_IMMEDIATE"
EXTENSION = "grantpath_jobs"
QUEUE_NAME = "grantpath"
TASK_NAME = "job"
POLL_MAX_S = 1.0


def _flag(text: str | None) -> bool | None:
    if text is None or not text.strip():
        return None
    return text.strip().lower() in ("1", "true", "yes", "on")


def configure(app: Flask) -> None:
    """Fill the jobs settings from the environment where the app config does not set them."""
    app.config.setdefault("JOBS_REDIS_URL", os.environ.get(REDIS_ENV) or None)
    app.config.setdefault(
        "JOBS_SQLITE_PATH",
        os.environ.get(SQLITE_ENV) or str(Path(app.instance_path) / "jobs.sqlite"),
    )
    if app.config.get("JOBS_IMMEDIATE") is None:
        from_env = _flag(os.environ.get(IMMEDIATE_ENV))
        app.config["JOBS_IMMEDIATE"] = app.testing if from_env is None else from_env


class JobQueue:
    """The app's Huey instance, made on first use (no file or connection before that)."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self._huey: Huey | None = None
        self._task: Any = None
        self._lock = threading.Lock()

    @property
    def immediate(self) -> bool:
        return bool(self.app.config["JOBS_IMMEDIATE"])

    @property
    def backend(self) -> str:
        """'immediate', 'redis' or 'sqlite', for messages and the worker's banner."""
        if self.immediate:
            return "immediate"
        return "redis" if self.app.config["JOBS_REDIS_URL"] else "sqlite"

    @property
    def huey(self) -> Huey:
        with self._lock:
            if self._huey is None:
                self._huey = self._make()
            return self._huey

    def _make(self) -> Huey:
        config = self.app.config
        huey: Huey
        if self.immediate:
            huey = MemoryHuey(QUEUE_NAME, immediate=True, results=False)
        elif config["JOBS_REDIS_URL"]:
            huey = RedisHuey(QUEUE_NAME, url=config["JOBS_REDIS_URL"], results=False)
        else:
            path = Path(config["JOBS_SQLITE_PATH"])
            path.parent.mkdir(parents=True, exist_ok=True)
            huey = SqliteHuey(QUEUE_NAME, filename=str(path), results=False)
        app = self.app

        def job(job_id: int) -> None:
            from .tasks import run_job

            with app.app_context():
                run_job(job_id)

        def interrupted(signal: str, task: Any, *args: Any) -> None:
            from .tasks import job_interrupted

            if task.name == TASK_NAME and task.args:
                with app.app_context():
                    job_interrupted(int(task.args[0]))

        self._task = huey.task(name=TASK_NAME)(job)
        huey.signal(SIGNAL_INTERRUPTED)(interrupted)
        return huey

    def enqueue(self, job_id: int) -> None:
        """Hand a job to the worker (in immediate mode: run it now, in this thread)."""
        self.huey  # noqa: B018 -- makes the task
        self._task(job_id)

    def consumer(self, workers: int = 1, **options: Any) -> Consumer:
        """A Huey consumer running this app's jobs in worker threads."""
        # An idle worker polls the SQLite queue at most a second apart (Huey's default
        # backs off to 10 s): a job starts within a second, and a stop is as quick.
        options.setdefault("max_delay", POLL_MAX_S)
        return self.huey.create_consumer(workers=workers, worker_type="thread", **options)


def init_queue(app: Flask) -> JobQueue:
    """Configure the queue and attach it to the app."""
    configure(app)
    queue = JobQueue(app)
    app.extensions[EXTENSION] = queue
    return queue


def get_queue(app: Flask | None = None) -> JobQueue:
    """The job queue of the given or current app."""
    return (app or current_app).extensions[EXTENSION]  # type: ignore[no-any-return]
