"""grantpath: trace a research foundation's grants to the trials they made possible."""

from __future__ import annotations

from typing import Any

from flask import Flask

from .db import configure_engine
from .extensions import csrf, db, login_manager


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Create and configure the Flask application."""
    app = Flask(__name__, instance_relative_config=True)
    from .config import load_config

    app.config.from_mapping(load_config(app.instance_path, config))

    db.init_app(app)
    with app.app_context():
        for engine in db.engines.values():
            configure_engine(engine)
    csrf.init_app(app)
    login_manager.init_app(app)

    from . import auth, dashboard, errors, security

    auth.init_app(app)
    dashboard.init_app(app)
    errors.init_app(app)
    security.init_app(app)

    from . import templating

    templating.init_app(app)

    from .cli import register_commands

    register_commands(app)
    return app
