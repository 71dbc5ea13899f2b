"""grantpath: trace a research foundation's grants to the trials they made possible."""

from __future__ import annotations

from importlib import import_module
from typing import Any

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from .db import configure_engine
from .extensions import csrf, db, login_manager

# Each feature package has init_app(app); order matters only for error handlers.
FEATURES = (
    "templating",
    "security",
    "errors",
    "records",
    "auth",
    "dashboard",
    "portfolio",
    "lookup",
    "grants",
    "outputs",
    "pathways",
    "organisations",
    "programmes",
    "funds",
    "admin",
    "audit",
    "reports",
    "impact",
    "imports",
    "exports",
    "highlights",
    "jobs",
    "giving360",
    "api",
)


def _drop_async_session_teardown(app: Flask) -> None:
    """Remove flask-sqlalchemy-lite's teardown for async sessions, which we never use.

    Flask runs that coroutine through asgiref on every app context: a thread and
    an event loop per request (0.35 ms measured), and an error wherever an event
    loop is already running (the Playwright tests).
    """
    app.teardown_appcontext_funcs[:] = [
        func for func in app.teardown_appcontext_funcs if func.__name__ != "_close_async_sessions"
    ]


def _mark_writing_requests(app: Flask) -> None:
    """Requests other than GET/HEAD/OPTIONS open SQLite transactions with BEGIN IMMEDIATE."""
    from flask import request

    from .db import writing

    @app.before_request
    def _set() -> None:
        writing.set(request.method not in ("GET", "HEAD", "OPTIONS"))


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Create and configure the Flask application."""
    app = Flask(__name__, instance_relative_config=True)
    from .config import load_config

    app.config.from_mapping(load_config(app.instance_path, config))
    if hops := app.config["TRUSTED_PROXIES"]:
        # The client's address, scheme and host as the proxy saw them (audit log, URLs).
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops
        )

    db.init_app(app)
    _drop_async_session_teardown(app)
    with app.app_context():
        for engine in db.engines.values():
            configure_engine(engine)
    _mark_writing_requests(app)
    csrf.init_app(app)
    login_manager.init_app(app)

    for feature in FEATURES:
        import_module(f"{__name__}.{feature}").init_app(app)

    from .cli import register_commands

    register_commands(app)
    return app
