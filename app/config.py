"""Configuration from defaults and the environment."""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any


def _sqlite_url(instance_path: str) -> str:
    return f"sqlite:///{Path(instance_path) / 'grantpath.sqlite'}"


def _database_url(raw: str) -> str:
    """Use psycopg 3 for plain postgres:// URLs, as hosting platforms hand them out."""
    for prefix in ("postgres://", "postgresql://"):
        if raw.startswith(prefix):
            return "postgresql+psycopg://" + raw[len(prefix) :]
    return raw


def _secret_key(instance_path: str, environment: str) -> str:
    """SECRET_KEY from the environment, else one generated once into instance/.

    Production must set SECRET_KEY explicitly: several app servers must share
    it, and a key on a local disk would differ between them.
    """
    if key := os.environ.get("SECRET_KEY"):
        return key
    if environment == "production":
        raise RuntimeError("SECRET_KEY must be set when GRANTPATH_ENV=production")
    path = Path(instance_path) / "secret_key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_urlsafe(48))
    return path.read_text().strip()


def load_config(instance_path: str, overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """Build the app config: defaults, then environment, then explicit overrides."""
    overrides = overrides or {}
    environment = overrides.get("ENV_NAME") or os.environ.get("GRANTPATH_ENV", "development")
    database_url = overrides.get("DATABASE_URL") or _database_url(
        os.environ.get("DATABASE_URL") or _sqlite_url(instance_path)
    )
    is_production = environment == "production"
    config: dict[str, Any] = {
        "ENV_NAME": environment,
        "DATABASE_URL": database_url,
        "SQLALCHEMY_ENGINES": {"default": {"url": database_url, "pool_pre_ping": True}},
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": is_production,
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_SECURE": is_production,
        "MAX_CONTENT_LENGTH": 20 * 1024 * 1024,
        "WTF_CSRF_TIME_LIMIT": None,
        "FOUNDATION_NAME": os.environ.get("GRANTPATH_FOUNDATION_NAME", ""),
        "PAGE_SIZE": 50,
        # Reverse proxies in front of the app whose X-Forwarded-* headers are believed.
        "TRUSTED_PROXIES": int(os.environ.get("GRANTPATH_TRUSTED_PROXIES", "0")),
    }
    config.update(overrides)
    if "SECRET_KEY" not in config:
        config["SECRET_KEY"] = _secret_key(instance_path, environment)
    return config
