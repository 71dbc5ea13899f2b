"""Every route, every role: walk the URL map so no new route escapes the check."""

from __future__ import annotations

import re

import pytest
from flask import Flask

from app.auth.access import ACCESS_ATTRIBUTE, LEVEL_ROLES
from app.models import Role

from .conftest import TEST_PASSWORD

# Flask's own static route serves only app/static.
BUILT_IN_PUBLIC = {"static"}


def _routes(app: Flask) -> list[tuple[str, str, str]]:
    """(endpoint, method, url) for every rule, with 1 for each URL argument."""
    routes = []
    for rule in app.url_map.iter_rules():
        url = re.sub(r"<(?:[^:>]+:)?([^>]+)>", "1", rule.rule)
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            routes.append((rule.endpoint, method, url))
    return routes


def _level(app: Flask, endpoint: str) -> str:
    if endpoint in BUILT_IN_PUBLIC:
        return "public"
    return getattr(app.view_functions[endpoint], ACCESS_ATTRIBUTE)


def test_every_view_declares_its_access_level(app: Flask) -> None:
    undeclared = [
        endpoint for endpoint, view in app.view_functions.items()
        if endpoint not in BUILT_IN_PUBLIC and not hasattr(view, ACCESS_ATTRIBUTE)
    ]
    assert undeclared == []


@pytest.mark.parametrize("role", [None, Role.TRUSTEE, Role.STAFF, Role.ADMIN],
                         ids=["anonymous", "trustee", "staff", "admin"])
def test_every_route_for_every_role(app: Flask, make_user, role: Role | None) -> None:
    client = app.test_client()
    user = make_user(role) if role else None

    def login() -> None:
        if user is not None:
            client.post("/login", data={"email": user.email, "password": TEST_PASSWORD})

    login()
    for endpoint, method, url in _routes(app):
        response = client.open(url, method=method)
        level = _level(app, endpoint)
        where = f"{method} {url} ({endpoint}, {level}) as {role or 'anonymous'}"
        assert response.status_code < 500, where
        if level == "public":
            assert response.status_code != 403, where
        elif level == "api":
            # The JSON API never redirects to the log-in page: 401 with a challenge.
            if role is None:
                assert response.status_code == 401, where
                assert response.headers["WWW-Authenticate"].startswith("Bearer"), where
                assert "error" in response.get_json(), where
            else:
                assert response.status_code in (200, 404), where
        elif role is None:
            assert response.status_code == 302, where
            assert "/login?next=" in response.headers["Location"], where
        elif role in LEVEL_ROLES[level]:
            assert response.status_code not in (401, 403), where
            assert "/login?next=" not in response.headers.get("Location", ""), where
        else:
            assert response.status_code == 403, where
        if endpoint == "auth.logout":
            login()
