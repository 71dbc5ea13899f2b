"""`make loadtest`: the app under a mixed workload on loopback, bounded in time, per engine.

For each engine (SQLite, and PostgreSQL when ``TEST_DATABASE_URL`` names a
PostgreSQL database) the runner:

1. creates a fresh database: a SQLite file (WAL) in a temporary directory, or a
   scratch PostgreSQL database next to ``TEST_DATABASE_URL``'s, dropped afterwards;
2. fills it with the real CLI: ``grantpath db upgrade`` and ``grantpath demo
   load [--scale N]``, then creates one account per simulated user (staff and
   trustees) and a set-up staff account;
3. starts ``grantpath serve`` (gunicorn, ``--workers`` processes, and the job
   worker it starts) on a free loopback port and issues the annual report of the
   last year (``--reports N``: of N years) through the real form and job;
4. runs locust headless (``tests/load/locustfile.py``, as a subprocess: locust
   monkeypatches the standard library with gevent) for ``--duration`` seconds,
   every simulated user with its own account (``--users``, two thirds staff);
5. stops the server and reads locust's statistics and the server's log.

It prints, and writes to ``bench-results/load-<engine>.json``: requests,
failures, p50/p95/p99 per request type, overall and after the log-ins, and
whether the server log holds "database is locked", a traceback, a 5xx response
or a gunicorn worker killed. The exit status is 1 if any request failed, the log
holds any of those, or something broke (the logs are then kept next to the JSON).
"""

from __future__ import annotations

import argparse
import csv
import http.cookiejar
import json
import math
import os
import platform
import random
import re
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[2]
RESULTS = ROOT / "bench-results"
LOCUSTFILE = Path(__file__).with_name("locustfile.py")
ENGINE_LABELS = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}
PASSWORD = "load test correct horse battery staple"
SETUP_EMAIL = "load-setup@example.org"
GRANTS_PER_STAFF = 5
SAMPLE = 300
HTTP_TIMEOUT_S = 60
JOB_TIMEOUT_S = 180
# What must never appear in the server's log.
LOCKED = re.compile(r"database is locked", re.IGNORECASE)
TRACEBACK = re.compile(r"^Traceback \(most recent call last\)", re.MULTILINE)
# gunicorn's access log: ... "GET /path HTTP/1.1" 500 1234 ...
STATUS_5XX = re.compile(r'"[A-Z]+ [^"]*" (5\d\d) ')
# gunicorn killing or losing a worker (a request over its 30 s timeout, a crash).
WORKER_LOST = re.compile(r"WORKER TIMEOUT|was sent SIG(?:KILL|ABRT)|exited with code")


# ------------------------------------------------------------------------------ database


def _grantpath() -> str:
    """The console script next to this interpreter (the venv's), else the one on PATH."""
    local = Path(sys.executable).with_name("grantpath")
    return str(local) if local.exists() else "grantpath"


def server_env(url: str, secret: str, folder: Path) -> dict[str, str]:
    """The environment of the CLI and the server: this run's database and job queue only."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("GRANTPATH_JOBS_REDIS_URL", "GRANTPATH_JOBS_IMMEDIATE")
    }
    # The job queue's file would otherwise be the shared instance/jobs.sqlite.
    return {
        **env,
        "DATABASE_URL": url,
        "SECRET_KEY": secret,
        "GRANTPATH_JOBS_SQLITE": str(folder / "jobs.sqlite"),
    }


def cli(env: dict[str, str], *args: str, timeout: float = 300) -> float:
    """Run ``grantpath ARGS`` in an environment; the seconds it took."""
    started = time.perf_counter()
    done = subprocess.run(
        [_grantpath(), *args],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
        timeout=timeout,
    )
    if done.returncode != 0:
        output = (done.stdout + done.stderr).strip()[-2000:]
        raise RuntimeError(f"grantpath {' '.join(args)} failed ({done.returncode}):\n{output}")
    return time.perf_counter() - started


@contextmanager
def scratch_database(engine: str, folder: Path, base_url: str | None) -> Iterator[str]:
    """A new empty database: a SQLite file in ``folder``, or one next to ``base_url``'s.

    The PostgreSQL database is dropped afterwards, whatever happened.
    """
    if engine == "sqlite":
        yield f"sqlite:///{folder / 'load.sqlite'}"
        return
    if not base_url:
        raise RuntimeError("PostgreSQL needs TEST_DATABASE_URL")
    base = sa.make_url(base_url)
    name = f"{(base.database or 'grantpath')[:40]}_load_{secrets.token_hex(4)}"
    admin = sa.create_engine(base, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    try:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
        try:
            yield base.set(database=name).render_as_string(hide_password=False)
        finally:
            with admin.connect() as connection:
                connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        admin.dispose()


def create_accounts(url: str, staff: int, trustees: int, seed: int) -> dict[str, Any]:
    """One account per simulated user, and the ids the workload visits (the plan)."""
    from app.auth.services import create_user
    from app.db import create_configured_engine
    from app.models import ClinicalTrial, Confidentiality, Grant, Output, Programme, Role

    rng = random.Random(seed)
    engine = create_configured_engine(url, poolclass=sa.pool.NullPool)
    try:
        with sa.orm.Session(engine) as session:
            live = Grant.deleted_at.is_(None)
            public_grant = sa.and_(live, Grant.confidentiality == Confidentiality.PUBLIC)
            public_output = sa.and_(
                Output.deleted_at.is_(None), Output.confidentiality == Confidentiality.PUBLIC
            )
            grant_ids = list(session.scalars(sa.select(Grant.id).where(live).order_by(Grant.id)))
            public_ids = list(session.scalars(sa.select(Grant.id).where(public_grant)))
            output_ids = list(session.scalars(sa.select(Output.id).where(public_output)))
            trial_ids = list(
                session.scalars(
                    sa.select(ClinicalTrial.output_id)
                    .join(Output, Output.id == ClinicalTrial.output_id)
                    .where(public_output)
                )
            )
            first, last = session.execute(
                sa.select(sa.func.min(Grant.award_date), sa.func.max(Grant.award_date)).where(
                    public_grant
                )
            ).one()
            programmes = list(
                session.scalars(sa.select(Programme.id).where(Programme.deleted_at.is_(None)))
            )
            if len(grant_ids) < staff * GRANTS_PER_STAFF or not trial_ids or first is None:
                raise RuntimeError("the demo database has too few grants, outputs or trials")
            # Every staff user gets grants of its own: no two users ever edit the same one.
            rng.shuffle(grant_ids)
            per_staff = GRANTS_PER_STAFF
            plan: dict[str, Any] = {
                "seed": seed,
                "password": PASSWORD,
                "staff": [
                    {
                        "email": f"load-staff-{i:02d}@example.org",
                        "grants": sorted(grant_ids[i * per_staff : (i + 1) * per_staff]),
                    }
                    for i in range(staff)
                ],
                "trustees": [
                    {"email": f"load-trustee-{i:02d}@example.org"} for i in range(trustees)
                ],
                "grants": sorted(rng.sample(public_ids, min(SAMPLE, len(public_ids)))),
                "outputs": sorted(rng.sample(output_ids, min(SAMPLE, len(output_ids)))),
                "trials": sorted(trial_ids),
                "years": list(range(max(first.year, last.year - 15), last.year + 1)),
                "programmes": sorted(programmes),
                "last_year": last.year,
            }
            accounts = [(SETUP_EMAIL, Role.STAFF)]
            accounts += [(person["email"], Role.STAFF) for person in plan["staff"]]
            accounts += [(person["email"], Role.TRUSTEE) for person in plan["trustees"]]
            for email, role in accounts:
                create_user(session, email, PASSWORD, role)
            session.commit()
    finally:
        engine.dispose()
    return plan


def database_facts(url: str) -> dict[str, Any]:
    """The journal mode (SQLite: must be WAL) or the server version (PostgreSQL)."""
    from app.db import create_configured_engine

    engine = create_configured_engine(url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as connection:
            if engine.dialect.name == "sqlite":
                mode = connection.exec_driver_sql("PRAGMA journal_mode").scalar()
                return {
                    "journal_mode": mode,
                    "sqlite": connection.exec_driver_sql("SELECT sqlite_version()").scalar(),
                }
            return {"server_version": connection.exec_driver_sql("SHOW server_version").scalar()}
    finally:
        engine.dispose()


# -------------------------------------------------------------------------------- server


def free_port() -> int:
    """A loopback port nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def running_server(
    env: dict[str, str], workers: int, threads: int | None, log: Path
) -> Iterator[str]:
    """``grantpath serve`` on a free loopback port; yields its base URL, always stops it."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    command = [_grantpath(), "serve", "--bind", f"127.0.0.1:{port}", "--workers", str(workers)]
    if threads:
        command += ["--threads", str(threads)]
    with log.open("wb") as output:
        server = subprocess.Popen(
            command,
            env=env,
            cwd=ROOT,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: the workers go with it
        )
        try:
            _wait_until_up(base, server)
            yield base
        finally:
            stop(server)


def _wait_until_up(base: str, server: subprocess.Popen[bytes], limit: float = 90) -> None:
    deadline = time.monotonic() + limit
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
    raise RuntimeError(f"grantpath serve did not answer within {limit:.0f} s")


def stop(process: subprocess.Popen[bytes], grace: float = 20) -> None:
    """SIGTERM (gunicorn's graceful shutdown), then SIGKILL its whole process group."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        with suppress(subprocess.TimeoutExpired):
            process.wait(timeout=grace)
    with suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)  # stray workers, if any
    process.wait()


class Browser:
    """A logged-in browser for the set-up steps: its own cookie jar, plain urllib."""

    def __init__(self, base: str, email: str) -> None:
        from tests.load.forms import csrf_token

        self.base = base
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
        )
        token = csrf_token(self.get("/login"))
        final = self.post(
            "/login", [("email", email), ("password", PASSWORD), ("csrf_token", token)]
        )
        if final == "/login":
            raise RuntimeError(f"log-in refused for {email}")

    def get(self, path: str) -> str:
        """GET a page's text."""
        with self.opener.open(self.base + path, timeout=HTTP_TIMEOUT_S) as response:
            return str(response.read().decode("utf-8", "replace"))

    def post(self, path: str, fields: list[tuple[str, str]]) -> str:
        """POST a form; the path it ended on after redirects."""
        data = urllib.parse.urlencode(fields).encode()
        with self.opener.open(self.base + path, data=data, timeout=HTTP_TIMEOUT_S) as response:
            response.read()
            return urllib.parse.urlsplit(response.geturl()).path


def issue_reports(base: str, url: str, last_year: int, count: int) -> list[dict[str, Any]]:
    """Issue the annual reports of the last ``count`` years through the real form.

    Issuing is a background job (run by the job worker ``grantpath serve``
    starts): its progress page is polled as the browser does, until it is done.
    """
    from app.db import create_configured_engine
    from app.models import IssuedReport
    from tests.load.forms import form_fields

    browser = Browser(base, SETUP_EMAIL)
    for year in range(last_year, last_year - count, -1):
        path = f"/reports/annual/{year}/issue"
        progress = browser.post(path, form_fields(browser.get(path), path))
        if not re.fullmatch(r"/reports/jobs/\d+", progress):
            raise RuntimeError(f"issuing {year} led to {progress}, not to a job's progress")
        deadline = time.monotonic() + JOB_TIMEOUT_S
        while True:
            status = json.loads(browser.get(f"{progress}.json"))
            if status["finished"]:
                break
            if time.monotonic() > deadline:
                raise RuntimeError(f"issuing {year} did not finish in {JOB_TIMEOUT_S} s: {status}")
            time.sleep(0.5)
        if status["status"] != "done":
            raise RuntimeError(f"issuing {year} failed: {status}")
    engine = create_configured_engine(url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                sa.select(IssuedReport.id, IssuedReport.sha256).order_by(IssuedReport.id)
            ).all()
    finally:
        engine.dispose()
    if len(rows) != count:
        raise RuntimeError(f"issued {len(rows)} reports instead of {count}")
    return [
        {"id": row.id, "url": f"/reports/issued/{row.id}.pdf", "sha256": row.sha256} for row in rows
    ]


# -------------------------------------------------------------------------------- locust


def run_locust(
    base: str, plan: Path, users: int, spawn_rate: float, duration: int, prefix: Path, log: Path
) -> int:
    """Locust headless against ``base`` for ``duration`` seconds; its exit status."""
    command = [
        sys.executable,
        "-m",
        "locust",
        "-f",
        str(LOCUSTFILE),
        "--headless",
        "--host",
        base,
        "--users",
        str(users),
        "--spawn-rate",
        str(spawn_rate),
        "--run-time",
        f"{duration}s",
        "--stop-timeout",
        "10",
        "--csv",
        str(prefix),
        "--only-summary",
        "--exit-code-on-error",
        "1",
    ]
    env = {
        **os.environ,
        "GRANTPATH_LOAD_PLAN": str(plan),
        "GRANTPATH_LOAD_TIMINGS": f"{prefix}_timings.json",
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
    }
    with log.open("wb") as output:
        process = subprocess.Popen(
            command,
            env=env,
            cwd=ROOT,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            return process.wait(timeout=duration + 90)
        except subprocess.TimeoutExpired as error:
            raise RuntimeError("locust did not stop in time") from error
        finally:
            stop(process, grace=5)


def percentile(histogram: dict[int, int], fraction: float) -> float | None:
    """Nearest-rank percentile of a locust histogram (response time ms -> count)."""
    total = sum(histogram.values())
    if not total:
        return None
    rank, seen = max(1, math.ceil(fraction * total)), 0
    for value in sorted(histogram):
        seen += histogram[value]
        if seen >= rank:
            return float(value)
    return float(max(histogram))


def _figures(entries: list[dict[str, Any]], seconds: float) -> dict[str, Any]:
    """Counts and latency percentiles of some request types taken together."""
    histogram: Counter[int] = Counter()
    for entry in entries:
        histogram.update({int(ms): count for ms, count in entry["response_times"].items()})
    requests = sum(entry["requests"] for entry in entries)
    total_ms = sum(entry["total_ms"] for entry in entries)
    return {
        "requests": requests,
        "failures": sum(entry["failures"] for entry in entries),
        "requests_per_s": round(requests / seconds, 1) if seconds else None,
        "p50_ms": percentile(histogram, 0.50),
        "p95_ms": percentile(histogram, 0.95),
        "p99_ms": percentile(histogram, 0.99),
        "average_ms": round(total_ms / requests, 1) if requests else None,
        "max_ms": round(max((e["max_ms"] or 0 for e in entries), default=0), 1),
    }


def read_stats(prefix: Path, seconds: float) -> dict[str, Any]:
    """Per request type, overall and after log-in (from the locustfile's timings); failures.

    The log-ins all come at the start (every user at once, each an argon2 hash):
    ``after_login`` is the steady mix of browsing, saving and downloading.
    """
    timings = Path(f"{prefix}_timings.json")
    if not timings.exists():
        raise RuntimeError("locust wrote no timings")
    entries = sorted(
        json.loads(timings.read_text()), key=lambda entry: (entry["name"], entry["method"])
    )
    failures: list[dict[str, Any]] = []
    failures_file = Path(f"{prefix}_failures.csv")
    if failures_file.exists():
        with failures_file.open(newline="") as handle:
            failures = [
                {
                    "method": row["Method"],
                    "name": row["Name"],
                    "error": row["Error"],
                    "occurrences": int(row["Occurrences"]),
                }
                for row in csv.DictReader(handle)
            ]
    exceptions: list[str] = []
    exceptions_file = Path(f"{prefix}_exceptions.csv")
    if exceptions_file.exists():
        with exceptions_file.open(newline="") as handle:
            exceptions = [f"{row['Count']}x {row['Message']}" for row in csv.DictReader(handle)]
    return {
        "overall": _figures(entries, seconds),
        "after_login": _figures([e for e in entries if e["name"] != "/login"], seconds),
        "by_request": [
            {"method": entry["method"], "name": entry["name"], **_figures([entry], seconds)}
            for entry in entries
        ],
        "failure_details": failures,
        "exceptions": exceptions,
    }


def read_server_log(log: Path) -> dict[str, Any]:
    """What the server's log says: lock errors, tracebacks, 5xx responses."""
    text = log.read_text(errors="replace") if log.exists() else ""
    locked = [line for line in text.splitlines() if LOCKED.search(line)]
    statuses = STATUS_5XX.findall(text)
    tracebacks = len(TRACEBACK.findall(text))
    lost = WORKER_LOST.findall(text)
    excerpt = ""
    found = [
        match.start()
        for pattern in (LOCKED, TRACEBACK, STATUS_5XX, WORKER_LOST)
        if (match := pattern.search(text))
    ]
    if found:
        excerpt = text[max(0, min(found) - 2000) : min(found) + 3000]
    return {
        "database_is_locked": len(locked),
        "tracebacks": tracebacks,
        "http_5xx": len(statuses),
        "workers_lost": len(lost),
        "excerpt": excerpt,
    }


# ---------------------------------------------------------------------------------- main


def run_engine(engine: str, args: argparse.Namespace, work: Path) -> dict[str, Any]:
    """Set up, serve, load and read the results on one engine (never raises)."""
    started = datetime.now(UTC)
    began = time.perf_counter()
    staff = max(1, round(args.users * args.staff_share))
    trustees = args.users - staff
    result: dict[str, Any] = {
        "engine": engine,
        "timestamp": started.isoformat(timespec="seconds"),
        "settings": {
            "duration_s": args.duration,
            "users": args.users,
            "staff_users": staff,
            "trustee_users": trustees,
            "spawn_rate": args.spawn_rate,
            "workers": args.workers,
            "threads": args.threads or "grantpath serve's default",
            "scale": args.scale,
            "reports": args.reports,
        },
        "setup_s": {},
        "problems": [],
    }
    folder = work / engine
    folder.mkdir(parents=True, exist_ok=True)
    server_log, locust_log = folder / "server.log", folder / "locust.log"
    label = ENGINE_LABELS[engine]
    try:
        with scratch_database(engine, folder, os.environ.get("TEST_DATABASE_URL")) as url:
            result["database"] = sa.make_url(url).render_as_string(hide_password=True)
            print(f"{label}: setting up {result['database']}", flush=True)
            env = server_env(url, secrets.token_urlsafe(32), folder)
            setup = result["setup_s"]
            # "heads": the same as the default "head" unless parallel branches of
            # migrations await re-chaining, when it still builds the whole schema.
            setup["db_upgrade"] = round(cli(env, "db", "upgrade", "heads"), 1)
            scale = ["--scale", str(args.scale)] if args.scale else []
            setup["demo_load"] = round(cli(env, "demo", "load", *scale), 1)
            tick = time.perf_counter()
            plan = create_accounts(url, staff, trustees, args.seed)
            setup["accounts"] = round(time.perf_counter() - tick, 1)
            result["database_facts"] = database_facts(url)
            if engine == "sqlite" and result["database_facts"]["journal_mode"] != "wal":
                result["problems"].append("SQLite is not in WAL mode")
            tick = time.perf_counter()
            with running_server(env, args.workers, args.threads, server_log) as base:
                setup["server_start"] = round(time.perf_counter() - tick, 1)
                tick = time.perf_counter()
                plan["reports"] = issue_reports(base, url, plan["last_year"], args.reports)
                setup["issue_reports"] = round(time.perf_counter() - tick, 1)
                plan_file = folder / "plan.json"
                plan_file.write_text(json.dumps(plan))
                print(
                    f"{label}: {staff} staff + {trustees} trustees for {args.duration} s on "
                    f"{base} ({args.workers} workers; set-up {sum(setup.values()):.0f} s)",
                    flush=True,
                )
                before = os.getloadavg()[0]
                status = run_locust(
                    base,
                    plan_file,
                    args.users,
                    args.spawn_rate,
                    args.duration,
                    folder / "locust",
                    locust_log,
                )
                # The 1-minute load average of the machine (other work included) at both ends.
                result["load_average"] = [round(before, 2), round(os.getloadavg()[0], 2)]
            result["locust_exit_status"] = status
            result.update(read_stats(folder / "locust", args.duration))
    except Exception as error:
        result["problems"].append(f"{type(error).__name__}: {error}")
    result["server_log"] = read_server_log(server_log)
    overall = result.get("overall") or {}
    result["requests"] = overall.get("requests", 0)
    result["failures"] = overall.get("failures", 0)
    log = result["server_log"]
    if "overall" in result:
        if not result["requests"]:
            result["problems"].append("no requests were made")
        if result["failures"]:
            result["problems"].append(f"{result['failures']} requests failed")
        if result.get("exceptions"):
            result["problems"].append(f"locust users raised: {result['exceptions'][:3]}")
        if result.get("locust_exit_status") and not result["failures"]:
            result["problems"].append(f"locust exited with {result['locust_exit_status']}")
    for key, what in (
        ("database_is_locked", '"database is locked" lines'),
        ("tracebacks", "tracebacks"),
        ("http_5xx", "5xx responses"),
        ("workers_lost", "gunicorn workers killed or lost"),
    ):
        if log[key]:
            result["problems"].append(f"the server log holds {log[key]} {what}")
    if result["problems"]:  # keep the logs for a look
        for log_file in (server_log, locust_log):
            if log_file.exists():
                kept = args.out / f"load-{engine}-{log_file.name}"
                kept.write_bytes(log_file.read_bytes())
                result.setdefault("logs", []).append(str(kept))
    result["seconds"] = round(time.perf_counter() - began, 1)
    result["ok"] = not result["problems"]
    return result


def _cell(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:,.0f}" if value >= 100 else f"{value:,.1f}"
    return f"{value:,}" if isinstance(value, int) else str(value)


def render(result: dict[str, Any]) -> str:
    """One engine's figures as an aligned table, per request type then overall."""
    header = ("request", "requests", "failures", "p50 ms", "p95 ms", "p99 ms", "max ms")
    keys = ("requests", "failures", "p50_ms", "p95_ms", "p99_ms", "max_ms")
    lines = [
        (f"{row['method']} {row['name']}", *(_cell(row[key]) for key in keys))
        for row in result.get("by_request", [])
    ]
    totals = [
        (label, *(_cell(result[part][key]) for key in keys))
        for label, part in (("all but log-in", "after_login"), ("all requests", "overall"))
        if result.get(part)
    ]
    widths = [
        max(len(text) for text in column) for column in zip(header, *lines, *totals, strict=False)
    ]

    def line(cells: tuple[str, ...]) -> str:
        return "  ".join(
            text.ljust(width) if i == 0 else text.rjust(width)
            for i, (text, width) in enumerate(zip(cells, widths, strict=True))
        )

    rule = "  ".join("-" * width for width in widths)
    return "\n".join(
        [line(header), rule, *(line(cells) for cells in lines), rule, *map(line, totals)]
    )


def summary(results: list[dict[str, Any]]) -> str:
    """The engines side by side: requests, failures, overall percentiles, log checks."""
    lines = []
    for result in results:
        overall = result.get("overall") or {}
        steady = result.get("after_login") or {}
        log = result["server_log"]
        lines.append(
            f"  {ENGINE_LABELS[result['engine']]:<10}  {_cell(result['requests']):>6} requests  "
            f"{_cell(result['failures']):>3} failures  p50/p95/p99 {_cell(overall.get('p50_ms'))}/"
            f"{_cell(overall.get('p95_ms'))}/{_cell(overall.get('p99_ms'))} ms (after log-in "
            f"{_cell(steady.get('p50_ms'))}/{_cell(steady.get('p95_ms'))}/"
            f"{_cell(steady.get('p99_ms'))})  locked {log['database_is_locked']}  "
            f"tracebacks {log['tracebacks']}  5xx {log['http_5xx']}  "
            f"{'ok' if result['ok'] else 'FAILED'}  (load average "
            f"{' -> '.join(f'{x:.1f}' for x in result.get('load_average', []))})"
        )
    return "\n".join(lines)


def machine() -> dict[str, Any]:
    """What the figures were measured on."""
    from importlib.metadata import version

    import gunicorn

    from tests.bench.run import git_commit

    return {
        "cores": os.cpu_count(),
        "load_average": [round(load, 2) for load in os.getloadavg()],
        "platform": platform.platform(),
        "python": platform.python_version(),
        "gunicorn": gunicorn.__version__,
        "locust": version("locust"),
        "git_commit": git_commit(),
    }


def main(argv: list[str] | None = None) -> int:
    """Run the load test on each engine; 0 only if every engine had no error at all."""
    parser = argparse.ArgumentParser(
        prog="python -m tests.load.run",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--engine",
        action="append",
        choices=sorted(ENGINE_LABELS),
        help="sqlite and/or postgresql (default: sqlite, and postgresql when "
        "TEST_DATABASE_URL names one)",
    )
    parser.add_argument("--duration", type=int, default=60, help="seconds of load (default 60)")
    parser.add_argument("--users", type=int, default=24, help="simulated users (default 24)")
    parser.add_argument(
        "--staff-share",
        type=float,
        default=2 / 3,
        help="share of them that are staff; the rest are trustees (default 2/3)",
    )
    parser.add_argument(
        "--spawn-rate", type=float, default=24.0, help="users started per second (default 24)"
    )
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers (default 4)")
    parser.add_argument(
        "--threads", type=int, default=None, help="threads per worker (default: grantpath serve's)"
    )
    parser.add_argument(
        "--scale",
        type=int,
        default=10_000,
        help="synthetic grants added to the demo (default 10,000; 0: none)",
    )
    parser.add_argument(
        "--reports", type=int, default=1, help="annual reports issued before the load (default 1)"
    )
    parser.add_argument("--seed", type=int, default=7, help="seed of the workload's choices")
    parser.add_argument(
        "--out",
        type=Path,
        default=RESULTS,
        help="folder for load-<engine>.json (default bench-results/)",
    )
    args = parser.parse_args(argv)
    if args.users < 1 or args.duration < 1 or args.reports < 1:
        parser.error("--users, --duration and --reports must be at least 1")
    base_url = os.environ.get("TEST_DATABASE_URL", "")
    engines = args.engine or ["sqlite"] + (
        ["postgresql"] if base_url.startswith("postgresql") else []
    )
    if "postgresql" in engines and not base_url.startswith("postgresql"):
        parser.error("--engine postgresql needs TEST_DATABASE_URL=postgresql+psycopg://...")
    about = machine()
    results = []
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="grantpath-load-") as work:
        for engine in engines:
            result = run_engine(engine, args, Path(work))
            result["machine"] = about
            results.append(result)
            label = ENGINE_LABELS[engine]
            print(f"\n{label}: {args.duration} s, {args.users} users\n")
            print(render(result))
            if result["problems"]:
                print(f"\n{label}: FAILED")
                for problem in result["problems"]:
                    print(f"  - {problem}")
                for failure in result.get("failure_details", []):
                    print(
                        f"  - {failure['occurrences']}x {failure['method']} {failure['name']}: "
                        f"{failure['error']}"
                    )
                if result["server_log"]["excerpt"]:
                    print(f"\n--- server log ---\n{result['server_log']['excerpt']}\n---")
            path = args.out / f"load-{engine}.json"
            path.write_text(json.dumps(result, indent=2, default=str))
            print(f"\nWritten: {path}", flush=True)
    print(f"\nLoad test (loopback, {os.cpu_count()} cores):\n{summary(results)}")
    return 0 if all(result["ok"] for result in results) else 1


if __name__ == "__main__":
    # A SIGTERM (timeout, CI cancel) still runs the clean-up: server stopped, database dropped.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    sys.exit(main())
