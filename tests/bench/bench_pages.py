"""Benchmark: the grant list page under load (quality bar: p95 <= 100 ms, 20 clients).

``grantpath serve`` with its defaults (gunicorn, 2 x cores + 1 sync workers) runs on the
scale database on a free loopback port; 20 clients, each with its own cookie jar, log in as a staff
user and then all at once GET filtered, sorted, paginated grant lists (a fixed,
seeded mix per client, no think time: a closed loop, so the p95 includes the
queueing of 20 clients on the server's cores). For comparison one client
first requests 30 such pages alone (``grant_list_alone_p50_ms``). Latency is
the time to the last byte of the page. A request that fails, is not a 200 or
lands on the login page is an error; the server is always stopped, and its log
tail is shown on failure.
"""

from __future__ import annotations

import http.cookiejar
import os
import random
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from flask import Flask

from tests.bench import median, percentile

CLIENTS = 20
REQUESTS_PER_CLIENT = 50
SINGLE_REQUESTS = 30
EMAIL = "bench-staff@example.org"
PASSWORD = "bench correct horse battery staple"
STATUSES = ("awarded", "active", "completed", "terminated")
SORTS = ("award_date", "reference", "title", "institution", "amount_eur", "status")
CSRF = re.compile(r'<input[^>]*name="csrf_token"[^>]*value="([^"]+)"')
TIMEOUT_S = 30


def _grantpath() -> str:
    """The console script next to this interpreter (the venv's), else the one on PATH."""
    local = Path(sys.executable).with_name("grantpath")
    return str(local) if local.exists() else "grantpath"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _server_env(url: str) -> dict[str, str]:
    return {**os.environ, "DATABASE_URL": url, "SECRET_KEY": "bench"}


def ensure_staff_user(url: str) -> None:
    """Create the benchmark's staff user with the CLI, unless an earlier run did."""
    done = subprocess.run(
        [_grantpath(), "users", "create", EMAIL, "--role", "staff", "--password-stdin"],
        input=PASSWORD + "\n",
        env=_server_env(url),
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0 and "already exists" not in done.stderr:
        raise RuntimeError(f"grantpath users create failed: {done.stderr.strip()[-500:]}")


@contextmanager
def running_server(url: str, log: Path) -> Iterator[str]:
    """``grantpath serve`` on a free loopback port; yields its base URL, always stops it."""
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    with log.open("wb") as output:
        server = subprocess.Popen(
            [_grantpath(), "serve", "--bind", f"127.0.0.1:{port}", "--no-jobs-worker"],
            env=_server_env(url),
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: the workers go with it
        )
        try:
            _wait_until_up(base, server)
            yield base
        finally:
            _stop(server)


def _wait_until_up(base: str, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"grantpath serve exited with status {server.returncode}")
        try:
            with urllib.request.urlopen(f"{base}/login", timeout=5) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.2)
    raise RuntimeError("grantpath serve did not answer within 60 s")


def _stop(server: subprocess.Popen[bytes]) -> None:
    if server.poll() is None:
        server.send_signal(signal.SIGTERM)  # gunicorn's graceful shutdown
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()


class Client:
    """One logged-in browser: its own cookie jar, plain urllib."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
        )

    def get(self, path: str) -> tuple[int, str, bytes]:
        with self.opener.open(self.base + path, timeout=TIMEOUT_S) as response:
            return response.status, response.geturl(), response.read()

    def login(self) -> None:
        status, _, body = self.get("/login")
        token = CSRF.search(body.decode("utf-8", "replace"))
        if status != 200 or token is None:
            raise RuntimeError("no log-in form with a CSRF token at /login")
        form = urllib.parse.urlencode(
            {"email": EMAIL, "password": PASSWORD, "csrf_token": token.group(1)}
        ).encode()
        with self.opener.open(f"{self.base}/login", data=form, timeout=TIMEOUT_S) as response:
            response.read()
            if "/login" in urllib.parse.urlsplit(response.geturl()).path:
                raise RuntimeError("log-in refused for the benchmark staff user")


def workload(seed: int, years: list[int], programmes: list[int]) -> list[str]:
    """A client's fixed mix of filtered, sorted, paginated grant list URLs."""
    rng = random.Random(seed)
    paths = []
    for _ in range(REQUESTS_PER_CLIENT):
        args: dict[str, Any] = {}
        kind = rng.random()
        if kind < 0.4:
            args["year"] = rng.choice(years)
        elif kind < 0.6 and programmes:
            args["programme"] = rng.choice(programmes)
        elif kind < 0.8:
            args["status"] = rng.choice(STATUSES)
            args["year"] = rng.choice(years)
        elif kind < 0.9:
            args["status"] = rng.choice(STATUSES)
        # else: the unfiltered register, as the page first opens
        if rng.random() < 0.6:
            args["sort"] = rng.choice(SORTS)
            args["dir"] = rng.choice(("asc", "desc"))
        args["page"] = rng.choice((1, 1, 1, 2, 2, 3, 5, 10))
        paths.append("/grants?" + urllib.parse.urlencode(args))
    return paths


def _filter_values(app: Flask) -> tuple[list[int], list[int]]:
    from app.extensions import db
    from app.grants.queries import filter_choices

    with app.app_context():
        choices = filter_choices(db.session)
        db.session.rollback()
    return choices.years, [programme_id for programme_id, _ in choices.programmes]


def bench_grant_list(app: Flask, url: str) -> dict[str, Any]:
    """p50/p95 latency of grant list pages, 20 concurrent logged-in clients."""
    years, programmes = _filter_values(app)
    if not years:
        raise RuntimeError("no grants in the benchmark database")
    ensure_staff_user(url)
    log = Path(tempfile.mkstemp(prefix="grantpath-bench-serve-", suffix=".log")[1])
    latencies: list[float] = []
    alone: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    try:
        with running_server(url, log) as base:
            clients = [Client(base) for _ in range(CLIENTS)]
            # One after the other: concurrent log-ins on SQLite can fail with "database
            # is locked" (each one reads, hashes, then writes the user row and an audit
            # event), and this benchmark measures the grant list, not log-ins.
            for client in clients:
                client.login()
            # One client alone first: the page's own cost, without queueing behind others.
            for path in workload(CLIENTS, years, programmes)[:SINGLE_REQUESTS]:
                began = time.perf_counter()
                clients[0].get(path)
                alone.append((time.perf_counter() - began) * 1000)
            start = threading.Barrier(CLIENTS + 1)

            def run(index: int, client: Client) -> None:
                paths = workload(index, years, programmes)
                start.wait()
                for path in paths:
                    began = time.perf_counter()
                    try:
                        status, final, _ = client.get(path)
                        problem = (
                            f"HTTP {status}"
                            if status != 200
                            else "sent to log-in"
                            if "/login" in final
                            else None
                        )
                    except Exception as error:  # any failure is an error of the run
                        problem = f"{type(error).__name__}: {error}"
                    elapsed = (time.perf_counter() - began) * 1000
                    with lock:
                        if problem:
                            errors.append(f"{path}: {problem}")
                        else:
                            latencies.append(elapsed)

            threads = [
                threading.Thread(target=run, args=(i, c), daemon=True)
                for i, c in enumerate(clients)
            ]
            for thread in threads:
                thread.start()
            start.wait()
            began = time.perf_counter()
            for thread in threads:
                thread.join()
            wall = time.perf_counter() - began
    except Exception as error:
        tail = log.read_text(errors="replace")[-1500:] if log.exists() else ""
        raise RuntimeError(f"{error}\n--- server log tail ---\n{tail}") from error
    finally:
        log.unlink(missing_ok=True)
    if errors:
        print(f"  grant list: {len(errors)} errors, first: {errors[0]}", file=sys.stderr)
    if not latencies:
        raise RuntimeError(f"every request failed, first: {errors[0] if errors else '?'}")
    return {
        "grant_list_alone_p50_ms": round(median(alone), 1),
        "grant_list_p50_ms": round(median(latencies), 1),
        "grant_list_p95_ms": round(percentile(latencies, 0.95), 1),
        "grant_list_requests_per_s": round((len(latencies) + len(errors)) / wall, 1),
        "grant_list_errors": len(errors),
    }
