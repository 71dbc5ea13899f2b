"""`make bench`: build the benchmark databases, run every benchmark, print one table.

Databases: the demo foundation (``grantpath db upgrade`` + ``grantpath demo
load``) and the demo plus ``--scale 100000`` synthetic grants, built with the
real CLI in fresh databases on SQLite under ``bench-results/cache/`` and, when
``TEST_DATABASE_URL`` names a PostgreSQL database, in two more databases created
on the same server. They are reused while the code that generates them (demo
generators, models, migrations) and the scale are unchanged; ``--rebuild``
forces a new build.

Benchmarks: every function named ``bench_*`` in ``tests/bench/bench_*.py``,
called once per engine with the keyword arguments it asks for by name:

``session`` / ``demo_session``
    a SQLAlchemy session on the scale / demo database, inside an app context;
``app`` / ``demo_app``
    the Flask apps (``create_app({"DATABASE_URL": url, "SECRET_KEY": "bench"})``);
``url`` / ``demo_url``
    the database URLs; ``engine_name``: ``"sqlite"`` or ``"postgresql"``;
``build``
    the build figures (``demo_load_s``, ``demo_scale_load_s``, ``reused``);
``scratch_url``
    a new, empty database on the engine (a SQLite file in a temporary folder, or
    a PostgreSQL database next to TEST_DATABASE_URL's), made for that one call
    and dropped after it: for benchmarks that write.

The shared databases are built only if a selected benchmark asks for one of
the first seven (``--only import`` needs none). Each benchmark returns a dict
of figure name -> number (medians; other values are kept in the JSON only);
figure names start with the benchmark's subject (``import_rows_per_s``) so
they never collide. A benchmark that raises is reported and the others still
run. The table has one row per figure, the engines side by side, and the
target; the JSON (``bench-results/bench-<UTC time>.json`` and
``bench-results/latest.json``) holds the same figures, keyed by name, so runs
can be compared: ``--compare FILE`` prints the change against an earlier run,
``--compare OLD --against NEW`` compares two saved runs without running.
Missed targets are reported, not failed: the exit status is 0 unless a build
or a benchmark broke.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib
import inspect
import json
import os
import platform
import secrets
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property
from pathlib import Path
from typing import Any

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[2]
RESULTS = ROOT / "bench-results"
CACHE = RESULTS / "cache"
SCALE = 100_000
ENGINES = ("sqlite", "postgresql")
ENGINE_LABELS = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}
# What the benchmark databases are made from: a change to any of these rebuilds them.
KEY_SOURCES = ("app/demo/*.py", "app/models/*.py", "migrations/versions/*.py")
BUILD_ENV = {"SECRET_KEY": "bench"}
# The runner's parameters that need the shared benchmark databases built.
DATABASE_PARAMETERS = ("session", "demo_session", "app", "demo_app", "url", "demo_url", "build")
# Changes smaller than this (in either direction) are shown as noise by --compare.
NOISE = 0.10
JSON_SCHEMA = 2

# Quality bars of DESIGN.md section 6: figure -> (comparison, limit).
TARGETS: dict[str, tuple[str, float]] = {
    "lineage_ms": ("<=", 20),
    "portfolio_ms": ("<=", 200),
    "grant_list_p95_ms": ("<=", 100),
    "grant_list_errors": ("<=", 0),
    "import_rows_per_s": (">=", 20_000),
    "export_360giving_s": ("<=", 30),
    "report_render_s": ("<=", 3),
    "report_peak_mb": ("<=", 300),
    "report_overhead_ratio": ("<=", 0.15),
    "redownload_ms": ("<=", 50),
    "demo_scale_load_s": ("<=", 120),
}
UNITS: tuple[tuple[str, str], ...] = (
    ("_ms", "ms"),
    ("_s", "s"),
    ("_mb", "MB"),
    ("_ratio", "ratio"),
    ("_errors", "count"),
    ("_count", "count"),
)


# ------------------------------------------------------------------------------ building


@dataclass
class Setup:
    """The two benchmark databases of one engine and how long they took to load.

    ``demo_url`` and ``scale_url`` are None when no selected benchmark needs
    them (nothing was built); ``server_url`` is where PostgreSQL scratch
    databases are created (None for SQLite).
    """

    engine: str
    demo_url: str | None
    scale_url: str | None
    build: dict[str, Any]
    server_url: str | None = None


def cache_key(scale: int) -> str:
    """A short hash of the files the databases are generated from, and the scale."""
    digest = hashlib.sha256(f"scale={scale}\n".encode())
    for pattern in KEY_SOURCES:
        for path in sorted(ROOT.glob(pattern)):
            digest.update(str(path.relative_to(ROOT)).encode() + b"\0")
            digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def _grantpath() -> str:
    local = Path(sys.executable).with_name("grantpath")
    return str(local) if local.exists() else "grantpath"


def cli(url: str, *args: str) -> float:
    """Run ``grantpath ARGS`` on a database; the wall-clock seconds it took."""
    started = time.perf_counter()
    done = subprocess.run(
        [_grantpath(), *args],
        env={**os.environ, **BUILD_ENV, "DATABASE_URL": url},
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
    )
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        output = (done.stdout + done.stderr).strip()[-2000:]
        raise RuntimeError(f"grantpath {' '.join(args)} failed ({done.returncode}):\n{output}")
    return seconds


def load_database(url: str, label: str, scale: int) -> float:
    """Migrate an empty database and load the demo into it; seconds of the demo load."""
    print(f"  building the {label} database ...", end="", flush=True)
    cli(url, "db", "upgrade")
    seconds = cli(url, "demo", "load", *(["--scale", str(scale)] if scale else []))
    print(f" demo load took {seconds:.1f} s", flush=True)
    return seconds


def _build_figures(key: str, scale: int, demo_url: str, scale_url: str) -> dict[str, Any]:
    return {
        "key": key,
        "scale": scale,
        "built_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "demo_load_s": load_database(demo_url, "demo", 0),
        "demo_scale_load_s": load_database(scale_url, f"demo + --scale {scale}", scale),
    }


def _read_marker(marker: Path, key: str) -> dict[str, Any] | None:
    try:
        build: dict[str, Any] = json.loads(marker.read_text())
    except (OSError, ValueError):
        return None
    return build if build.get("key") == key else None


def sqlite_setup(key: str, scale: int, rebuild: bool) -> Setup:
    """The SQLite databases under bench-results/cache/, built unless already there."""
    CACHE.mkdir(parents=True, exist_ok=True)
    demo = CACHE / f"demo-{key}.sqlite"
    scaled = CACHE / f"scale{scale}-{key}.sqlite"
    marker = CACHE / f"sqlite-{key}.json"
    for stale in CACHE.glob("*.sqlite*"):
        if key not in stale.name:  # an older code version's databases
            stale.unlink()
    for stale in CACHE.glob("sqlite-*.json"):
        if stale != marker:
            stale.unlink()
    demo_url, scale_url = f"sqlite:///{demo}", f"sqlite:///{scaled}"
    build = None if rebuild else _read_marker(marker, key)
    if build is not None and demo.exists() and scaled.exists():
        print(f"SQLite: reusing the databases built {build['built_at']} ({CACHE})")
        return Setup("sqlite", demo_url, scale_url, {**build, "reused": True})
    print("SQLite: building the benchmark databases")
    marker.unlink(missing_ok=True)
    for path in (*CACHE.glob(f"demo-{key}.sqlite*"), *CACHE.glob(f"scale{scale}-{key}.sqlite*")):
        path.unlink()
    build = _build_figures(key, scale, demo_url, scale_url)
    marker.write_text(json.dumps(build, indent=2))
    return Setup("sqlite", demo_url, scale_url, {**build, "reused": False})


def postgresql_setup(base_url: str, key: str, scale: int, rebuild: bool) -> Setup:
    """Two databases next to TEST_DATABASE_URL's, built unless already there."""
    base = sa.make_url(base_url)
    prefix = f"{(base.database or 'grantpath')[:30]}_bench"
    names = {"demo": f"{prefix}_demo_{key}", "scale": f"{prefix}_scale_{key}"}
    server = hashlib.sha256(f"{base.host}:{base.port}".encode()).hexdigest()[:8]
    CACHE.mkdir(parents=True, exist_ok=True)
    marker = CACHE / f"postgresql-{server}-{prefix}-{key}.json"
    for stale in CACHE.glob(f"postgresql-{server}-{prefix}-*.json"):
        if stale != marker:
            stale.unlink()
    urls = {
        label: base.set(database=name).render_as_string(hide_password=False)
        for label, name in names.items()
    }
    admin = sa.create_engine(base_url, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    try:
        with admin.connect() as connection:
            existing = set(connection.exec_driver_sql("SELECT datname FROM pg_database").scalars())
            for name in existing:  # an older code version's databases
                ours = name.startswith((f"{prefix}_demo_", f"{prefix}_scale_"))
                if ours and name not in names.values():
                    connection.exec_driver_sql(f'DROP DATABASE "{name}" WITH (FORCE)')
            build = None if rebuild else _read_marker(marker, key)
            if build is not None and set(names.values()) <= existing:
                print(f"PostgreSQL: reusing the databases built {build['built_at']}")
                reused = {**build, "reused": True}
                return Setup("postgresql", urls["demo"], urls["scale"], reused, base_url)
            print(f"PostgreSQL: building the benchmark databases on {base.host}:{base.port}")
            marker.unlink(missing_ok=True)
            for name in names.values():
                connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    finally:
        admin.dispose()
    build = _build_figures(key, scale, urls["demo"], urls["scale"])
    build["vacuum_analyze_s"] = sum(vacuum_analyze(url) for url in urls.values())
    marker.write_text(json.dumps(build, indent=2))
    return Setup("postgresql", urls["demo"], urls["scale"], {**build, "reused": False}, base_url)


def vacuum_analyze(url: str) -> float:
    """VACUUM ANALYZE a freshly loaded PostgreSQL database; the seconds it took.

    Autovacuum does this within a minute or so of a bulk load; until it has,
    the planner has no statistics and picks plans that can be a hundred times
    slower (seen: lineage 300-550 ms instead of 4 ms), which would make the
    figures depend on when autovacuum happened to run.
    """
    engine = sa.create_engine(url, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    try:
        started = time.perf_counter()
        with engine.connect() as connection:
            connection.exec_driver_sql("VACUUM ANALYZE")
        seconds = time.perf_counter() - started
    finally:
        engine.dispose()
    print(f"  VACUUM ANALYZE {sa.make_url(url).database}: {seconds:.1f} s", flush=True)
    return seconds


@contextmanager
def scratch_database(setup: Setup) -> Iterator[str]:
    """A new empty database on the setup's engine for one benchmark call; dropped afterwards."""
    if setup.engine == "sqlite":
        with tempfile.TemporaryDirectory(prefix="grantpath-bench-scratch-") as folder:
            yield f"sqlite:///{Path(folder) / 'scratch.sqlite'}"
        return
    if setup.server_url is None:
        raise RuntimeError("no PostgreSQL server to create a scratch database on")
    base = sa.make_url(setup.server_url)
    name = f"{(base.database or 'grantpath')[:30]}_bench_scratch_{secrets.token_hex(4)}"
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


# ---------------------------------------------------------------------------- benchmarks


@dataclass
class Outcome:
    """What one benchmark function gave on one engine."""

    name: str
    seconds: float
    result: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    trace: str | None = None


def discover(only: list[str]) -> list[tuple[str, Callable[..., Any] | Exception]]:
    """Every bench_* function of every bench_*.py module, in file then source order.

    A module that fails to import shows up as one failing entry.
    """
    found: list[tuple[str, Callable[..., Any] | Exception]] = []
    for path in sorted(Path(__file__).parent.glob("bench_*.py")):
        module_name = f"tests.bench.{path.stem}"
        try:
            module = importlib.import_module(module_name)
        except Exception as error:
            found.append((path.stem, error))
            continue
        functions = [
            (function.__code__.co_firstlineno, name, function)
            for name, function in inspect.getmembers(module, inspect.isfunction)
            if name.startswith("bench_") and function.__module__ == module_name
        ]
        found.extend((name, function) for _, name, function in sorted(functions))
    if only:
        found = [(name, f) for name, f in found if any(word in name for word in only)]
    return found


def parameters_of(function: Callable[..., Any]) -> list[str]:
    """The runner's parameters a benchmark asks for; TypeError for any it cannot provide."""
    wanted = []
    for parameter in inspect.signature(function).parameters.values():
        if parameter.name in Context.PARAMETERS:
            wanted.append(parameter.name)
        elif parameter.default is inspect.Parameter.empty and parameter.kind not in (
            inspect.Parameter.VAR_POSITIONAL,
            inspect.Parameter.VAR_KEYWORD,
        ):
            raise TypeError(f"the runner cannot provide the parameter {parameter.name!r}")
    return wanted


def needs_databases(benchmarks: list[tuple[str, Callable[..., Any] | Exception]]) -> bool:
    """Whether any selected benchmark asks for the shared databases (or cannot be read)."""
    for _, function in benchmarks:
        if isinstance(function, Exception):
            continue
        try:
            if set(parameters_of(function)) & set(DATABASE_PARAMETERS):
                return True
        except TypeError:
            continue  # reported when it runs
    return False


class Context:
    """The apps and values benchmarks may ask for, on one engine."""

    PARAMETERS = (*DATABASE_PARAMETERS, "engine_name", "scratch_url")

    def __init__(self, setup: Setup) -> None:
        self.setup = setup

    @staticmethod
    def _app(url: str | None) -> Any:
        from app import create_app

        if url is None:
            raise RuntimeError("the benchmark databases were not built")
        return create_app({"DATABASE_URL": url, "SECRET_KEY": "bench"})

    @cached_property
    def app(self) -> Any:
        """The app on the scale database, made when first asked for."""
        return self._app(self.setup.scale_url)

    @cached_property
    def demo_app(self) -> Any:
        """The app on the demo database, made when first asked for."""
        return self._app(self.setup.demo_url)

    def close(self) -> None:
        from app.extensions import db

        for name in ("app", "demo_app"):
            if name in self.__dict__:  # only the apps that were made
                with self.__dict__[name].app_context():
                    for engine in db.engines.values():
                        engine.dispose()

    @contextmanager
    def arguments(self, function: Callable[..., Any]) -> Iterator[dict[str, Any]]:
        """The keyword arguments ``function`` asks for, inside the right app context.

        The app context is the scale app's unless only demo values are asked
        for; the session of that app is its ``db.session``, the other one a
        fresh session of the other app. Sessions are rolled back afterwards.
        A benchmark that asks for none of the shared databases' values runs
        without an app context (and the apps are not made for it).
        """
        from app.extensions import db

        wanted = parameters_of(function)
        values: dict[str, Any] = {"engine_name": self.setup.engine}
        with ExitStack() as stack:
            if "scratch_url" in wanted:
                values["scratch_url"] = stack.enter_context(scratch_database(self.setup))
            if not set(wanted) & set(DATABASE_PARAMETERS):
                yield {name: values[name] for name in wanted}
                return
            demo_only = all(
                name.startswith("demo_")
                for name in wanted
                if name not in ("engine_name", "build", "scratch_url")
            )
            primary = self.demo_app if demo_only else self.app
            stack.enter_context(primary.app_context())
            sessions: dict[str, Any] = {}
            for name in ("session", "demo_session"):
                if name in wanted:
                    app = self.demo_app if name == "demo_session" else self.app
                    if app is primary:
                        session = db.session
                    else:
                        with app.app_context():
                            session = db.sessionmaker()
                        stack.callback(session.close)
                    stack.callback(session.rollback)
                    sessions[name] = session
            values.update(sessions)
            lazy = {
                "app": lambda: self.app,
                "demo_app": lambda: self.demo_app,
                "url": lambda: self.setup.scale_url,
                "demo_url": lambda: self.setup.demo_url,
                "build": lambda: self.setup.build,
            }
            values.update({name: lazy[name]() for name in wanted if name in lazy})
            yield {name: values[name] for name in wanted}


def run_benchmarks(
    setup: Setup, benchmarks: list[tuple[str, Callable[..., Any] | Exception]]
) -> list[Outcome]:
    """Call every benchmark on one engine; a failure is recorded, the rest still run."""
    print(f"\n{ENGINE_LABELS[setup.engine]}: running {len(benchmarks)} benchmarks", flush=True)
    context = Context(setup)
    outcomes = []
    try:
        for name, function in benchmarks:
            print(f"  {name} ...", end="", flush=True)
            started = time.perf_counter()
            outcome = Outcome(name, 0.0)
            try:
                if isinstance(function, Exception):
                    raise function
                with context.arguments(function) as kwargs:
                    result = function(**kwargs)
                if not isinstance(result, dict):
                    raise TypeError(f"{name} returned {type(result).__name__}, not a dict")
                outcome.result = result
            except Exception as error:
                outcome.error = f"{type(error).__name__}: {error}"
                outcome.trace = traceback.format_exc()
            outcome.seconds = time.perf_counter() - started
            status = "ERROR" if outcome.error else "ok"
            print(f" {status} ({outcome.seconds:.1f} s)", flush=True)
            outcomes.append(outcome)
    finally:
        context.close()
    return outcomes


def figures_of(outcomes: list[Outcome]) -> dict[str, float]:
    """The numeric results (the table's figures) of all benchmarks on one engine."""
    figures: dict[str, float] = {}
    for outcome in outcomes:
        for key, value in outcome.result.items():
            if isinstance(value, int | float) and not isinstance(value, bool):
                figures[key] = value
    return figures


# ------------------------------------------------------------------------------ the table


def unit_of(figure: str) -> str:
    """The unit, read from the figure's name suffix ("rows_per_s" -> "rows/s")."""
    if "_per_" in figure:
        quantity, per = figure.rsplit("_per_", 1)
        return f"{quantity.rsplit('_', 1)[-1]}/{per.replace('_', ' ')}"
    for suffix, unit in UNITS:
        if figure.endswith(suffix):
            return unit
    return ""


def fmt(value: float) -> str:
    """A figure as the table shows it."""
    if isinstance(value, int):
        return f"{value:,}"
    magnitude = abs(value)
    digits = 3 if magnitude < 1 else 2 if magnitude < 100 else 1 if magnitude < 10_000 else 0
    return f"{value:,.{digits}f}"


def meets(figure: str, value: float) -> bool | None:
    """Whether a value meets its target; None when the figure has no target."""
    if figure not in TARGETS:
        return None
    comparison, limit = TARGETS[figure]
    return value <= limit if comparison == "<=" else value >= limit


def build_rows(results: dict[str, list[Outcome]]) -> list[dict[str, Any]]:
    """One row per figure (in the order benchmarks produced them), one per failing benchmark."""
    per_engine = {engine: figures_of(outcomes) for engine, outcomes in results.items()}
    order: list[str] = []
    for figures in per_engine.values():
        order.extend(name for name in figures if name not in order)
    rows: list[dict[str, Any]] = []
    for figure in order:
        values = {engine: per_engine.get(engine, {}).get(figure) for engine in ENGINES}
        missed = [
            engine
            for engine, value in values.items()
            if value is not None and meets(figure, value) is False
        ]
        target = TARGETS.get(figure)
        status = (
            ""
            if target is None
            else f"MISSED ({', '.join(ENGINE_LABELS[e] for e in missed)})"
            if missed
            else "ok"
        )
        rows.append(
            {
                "figure": figure,
                "unit": unit_of(figure),
                **values,
                "target": f"{target[0]} {fmt(target[1])}" if target else "",
                "result": status,
            }
        )
    names = [name for outcomes in results.values() for name in (o.name for o in outcomes)]
    for name in dict.fromkeys(names):
        errors = {
            engine: next((o.error for o in outcomes if o.name == name and o.error), None)
            for engine, outcomes in results.items()
        }
        if any(errors.values()):
            rows.append(
                {
                    "figure": name,
                    "unit": "",
                    **{engine: "ERROR" if errors.get(engine) else None for engine in ENGINES},
                    "target": "",
                    "result": "ERROR",
                    "errors": {engine: error for engine, error in errors.items() if error},
                }
            )
    return rows


def render_table(rows: list[dict[str, Any]]) -> str:
    """The rows as an aligned text table."""
    header = ("figure", "unit", "SQLite", "PostgreSQL", "target", "result")

    def cell(value: Any) -> str:
        return "–" if value is None else value if isinstance(value, str) else fmt(value)

    lines = [
        (
            row["figure"],
            row["unit"],
            cell(row["sqlite"]),
            cell(row["postgresql"]),
            row["target"],
            row["result"],
        )
        for row in rows
    ]
    widths = [max(len(text) for text in column) for column in zip(header, *lines, strict=False)]
    right = (False, False, True, True, False, False)

    def line(cells: tuple[str, ...]) -> str:
        return "  ".join(
            text.rjust(width) if align else text.ljust(width)
            for text, width, align in zip(cells, widths, right, strict=True)
        ).rstrip()

    rule = "  ".join("-" * width for width in widths)
    return "\n".join([line(header), rule, *(line(cells) for cells in lines)])


# ------------------------------------------------------------------------------- machine


def git_commit() -> str | None:
    """The checked-out commit, read from .git without running git."""
    git = ROOT / ".git"
    try:
        if git.is_file():  # a worktree: "gitdir: <path>"
            git = (ROOT / git.read_text().split(":", 1)[1].strip()).resolve()
        head = (git / "HEAD").read_text().strip()
        if not head.startswith("ref:"):
            return head
        ref = head.split(":", 1)[1].strip()
        common = git
        if (git / "commondir").is_file():  # a worktree keeps its branches in the main .git
            common = (git / (git / "commondir").read_text().strip()).resolve()
        for folder in (git, common):
            if (folder / ref).is_file():
                return (folder / ref).read_text().strip()
            packed = folder / "packed-refs"
            if packed.is_file():
                for line in packed.read_text().splitlines():
                    if line.endswith(" " + ref):
                        return line.split(" ", 1)[0]
    except OSError:
        return None
    return None


def machine(setups: list[Setup]) -> dict[str, Any]:
    """What the figures were measured on."""
    info: dict[str, Any] = {
        "cores": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "sqlalchemy": sa.__version__,
        "sqlite": sqlite3.sqlite_version,
        "git_commit": git_commit(),
        "load_average": [round(load, 2) for load in os.getloadavg()],
    }
    for setup in setups:
        url = setup.server_url or setup.demo_url
        if setup.engine == "postgresql" and url:
            engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
            try:
                with engine.connect() as connection:
                    info["postgresql"] = connection.exec_driver_sql("SHOW server_version").scalar()
            finally:
                engine.dispose()
    return info


def _safe_url(url: str) -> str:
    return sa.make_url(url).render_as_string(hide_password=True)


# ------------------------------------------------------------------------------ comparing


def better_direction(figure: str) -> str:
    """ "higher" or "lower": which way a figure improves (its target's, else its unit's)."""
    if figure in TARGETS:
        return "higher" if TARGETS[figure][0] == ">=" else "lower"
    return "higher" if "_per_" in figure else "lower"


def figures_table(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The JSON's comparable form: figure -> unit, target, direction and a value per engine."""
    return {
        row["figure"]: {
            "unit": row["unit"],
            "target": row["target"],
            "better": better_direction(row["figure"]),
            **{engine: row[engine] for engine in ENGINES},
        }
        for row in rows
        if row["result"] != "ERROR"
    }


def engine_figures(report: dict[str, Any]) -> dict[str, dict[str, float]]:
    """engine -> figure -> value of a saved run (older runs' JSON included)."""
    return {
        engine: {
            name: value
            for name, value in (data.get("figures") or {}).items()
            if isinstance(value, int | float) and not isinstance(value, bool)
        }
        for engine, data in (report.get("engines") or {}).items()
    }


def render_comparison(old: dict[str, Any], new: dict[str, Any]) -> str:
    """The change of every figure both runs have, per engine, as an aligned table."""
    before, after = engine_figures(old), engine_figures(new)
    names: list[str] = []
    for figures in after.values():
        names.extend(name for name in figures if name not in names)
    earlier_only = sorted({name for figures in before.values() for name in figures} - set(names))
    lines = []
    for name in names:
        cells = []
        verdicts = []
        for engine in ENGINES:
            was, now = before.get(engine, {}).get(name), after.get(engine, {}).get(name)
            if was is None or now is None:
                cells.append(
                    "–" if was is None and now is None else "new" if was is None else "gone"
                )
                continue
            change = (now - was) / was if was else 0.0
            cells.append(f"{fmt(was)} -> {fmt(now)} ({change:+.0%})")
            if abs(change) >= NOISE:
                improved = (change > 0) == (better_direction(name) == "higher")
                verdicts.append(f"{'better' if improved else 'worse'} ({ENGINE_LABELS[engine]})")
        lines.append((name, unit_of(name), *cells, ", ".join(verdicts)))
    header = ("figure", "unit", "SQLite", "PostgreSQL", f"beyond ±{NOISE:.0%}")
    widths = [max(len(text) for text in column) for column in zip(header, *lines, strict=False)]

    def line(cells: tuple[str, ...]) -> str:
        return "  ".join(text.ljust(width) for text, width in zip(cells, widths, strict=True))

    rule = "  ".join("-" * width for width in widths)
    table = [line(header).rstrip(), rule, *(line(cells).rstrip() for cells in lines)]
    if earlier_only:
        table.append(f"Not measured in the newer run: {', '.join(earlier_only)}")
    return "\n".join(table)


def print_comparison(old_path: Path, old: dict[str, Any], new: dict[str, Any]) -> None:
    """Print the change against an earlier run, with what differs between the two runs."""
    commit = (old.get("machine") or {}).get("git_commit") or "?"
    print(f"\nChange against {old_path} ({old.get('timestamp', '?')}, commit {commit[:10]}):\n")
    notes = []
    if old.get("scale") != new.get("scale"):
        notes.append(f"the scale differs ({old.get('scale')} then, {new.get('scale')} now)")
    for when, report in (("then", old), ("now", new)):
        load = (report.get("machine") or {}).get("load_average_at_start")
        cores = (report.get("machine") or {}).get("cores") or 1
        if load is not None and load > cores:
            notes.append(f"the machine was busy {when} (load average {load})")
    print(render_comparison(old, new))
    for note in notes:
        print(f"Note: {note}.")


def _read_report(path: Path) -> dict[str, Any]:
    try:
        report: dict[str, Any] = json.loads(path.read_text())
    except (OSError, ValueError) as error:
        raise SystemExit(f"cannot read {path}: {error}") from error
    return report


# ---------------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    """Build, run, print and save; the exit status is 1 only if something broke."""
    parser = argparse.ArgumentParser(
        prog="python -m tests.bench.run",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--rebuild",
        action="store_true",
        help="build the databases again even if the cached ones are current",
    )
    parser.add_argument(
        "--scale",
        type=int,
        default=SCALE,
        help=f"synthetic grants in the scale database (default {SCALE:,})",
    )
    parser.add_argument(
        "--only",
        action="append",
        default=[],
        metavar="WORD",
        help="run only benchmarks whose function name contains WORD (repeatable)",
    )
    parser.add_argument(
        "--compare",
        type=Path,
        metavar="FILE",
        help="print the change of every figure against an earlier run's JSON",
    )
    parser.add_argument(
        "--against",
        type=Path,
        metavar="FILE",
        help="with --compare: compare with this saved run instead of running the benchmarks",
    )
    args = parser.parse_args(argv)
    if args.against:
        if not args.compare:
            parser.error("--against needs --compare")
        print_comparison(args.compare, _read_report(args.compare), _read_report(args.against))
        return 0
    earlier = _read_report(args.compare) if args.compare else None
    started = datetime.now(UTC)
    began = time.perf_counter()
    key = cache_key(args.scale)
    load_before = os.getloadavg()[0]
    if load_before > (os.cpu_count() or 1):
        print(
            f"Note: the machine is busy (load average {load_before:.1f} on "
            f"{os.cpu_count()} cores): the figures will be pessimistic."
        )
    benchmarks = discover(args.only)
    build = needs_databases(benchmarks)

    setups: list[Setup] = []
    results: dict[str, list[Outcome]] = {}
    build_errors: dict[str, str] = {}
    base_url = os.environ.get("TEST_DATABASE_URL", "")
    engines = ["sqlite"] + (["postgresql"] if base_url.startswith("postgresql") else [])
    for engine in engines:
        if not build:  # the selected benchmarks use scratch databases only
            setups.append(Setup(engine, None, None, {}, base_url if engine != "sqlite" else None))
            continue
        try:
            setup = (
                sqlite_setup(key, args.scale, args.rebuild)
                if engine == "sqlite"
                else postgresql_setup(base_url, key, args.scale, args.rebuild)
            )
        except Exception as error:
            print(f"\n{ENGINE_LABELS[engine]}: the build failed: {error}", flush=True)
            build_errors[engine] = f"{type(error).__name__}: {error}"
            continue
        setups.append(setup)
    for setup in setups:
        results[setup.engine] = run_benchmarks(setup, benchmarks)

    rows = build_rows(results)
    table = render_table(rows)
    missed = [
        f"{row['figure']} on {ENGINE_LABELS[engine]}: {fmt(row[engine])} {row['unit']} "
        f"(target {row['target']})"
        for row in rows
        if row["result"].startswith("MISSED")
        for engine in ENGINES
        if row[engine] is not None and meets(row["figure"], row[engine]) is False
    ]
    errors = [
        f"{outcome.name} on {ENGINE_LABELS[engine]}: {outcome.error}"
        for engine, outcomes in results.items()
        for outcome in outcomes
        if outcome.error
    ] + [f"build on {ENGINE_LABELS[engine]}: {error}" for engine, error in build_errors.items()]

    for engine, outcomes in results.items():
        for outcome in outcomes:
            if outcome.trace:
                print(
                    f"\n--- {outcome.name} on {ENGINE_LABELS[engine]} ---\n{outcome.trace}",
                    file=sys.stderr,
                )
    elapsed = time.perf_counter() - began
    load_after = os.getloadavg()[0]
    scope = f"only {', '.join(args.only)}; " if args.only else ""
    print(
        f"\nBenchmarks, medians ({scope}{args.scale:,} synthetic grants; {os.cpu_count()} cores; "
        f"load average {load_before:.1f} at the start, {load_after:.1f} at the end; "
        f"{elapsed:.0f} s in all)\n"
    )
    print(table)
    for setup in setups:
        if setup.build.get("reused"):
            print(
                f"\n{ENGINE_LABELS[setup.engine]}: databases reused from the build of "
                f"{setup.build['built_at']}; the load times are from then (--rebuild to "
                "measure them again)."
            )
    if missed:
        print("\nMISSED targets:\n" + "\n".join(f"  MISSED {line}" for line in missed))
    else:
        print("\nAll measured figures meet their targets.")
    if errors:
        print("\nERRORS:\n" + "\n".join(f"  {line}" for line in errors))

    report = {
        "schema": JSON_SCHEMA,
        "timestamp": started.isoformat(timespec="seconds"),
        "seconds": round(elapsed, 1),
        "scale": args.scale,
        "only": args.only,
        "cache_key": key,
        "machine": {**machine(setups), "load_average_at_start": round(load_before, 2)},
        "targets": {name: list(target) for name, target in TARGETS.items()},
        # The figures, keyed by name: what --compare reads (with engines.*.figures).
        "figures": figures_table(rows),
        "engines": {
            setup.engine: {
                "databases": {
                    "demo": _safe_url(setup.demo_url) if setup.demo_url else None,
                    "scale": _safe_url(setup.scale_url) if setup.scale_url else None,
                },
                "build": setup.build,
                "figures": figures_of(results[setup.engine]),
                "benchmarks": {
                    outcome.name: {
                        "seconds": round(outcome.seconds, 2),
                        "result": outcome.result,
                        "error": outcome.error,
                        "traceback": outcome.trace,
                    }
                    for outcome in results[setup.engine]
                },
            }
            for setup in setups
        },
        "rows": rows,
        "missed": missed,
        "errors": errors,
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    text = json.dumps(report, indent=2, default=str)
    path = RESULTS / f"bench-{started.strftime('%Y%m%dT%H%M%SZ')}.json"
    path.write_text(text)
    (RESULTS / "latest.json").write_text(text)
    print(f"\nWritten: {path.relative_to(ROOT)} and bench-results/latest.json")
    if earlier is not None:
        print_comparison(args.compare, earlier, json.loads(text))
    return 1 if errors else 0


if __name__ == "__main__":
    # A SIGTERM still runs the clean-up (scratch databases dropped, server stopped).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    sys.exit(main())
