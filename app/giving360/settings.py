"""Who publishes: the grant-id prefix and the funder's org-id, from the app config."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import Any

from flask import current_app, has_app_context

DEFAULT_PREFIX = "360G-grantpath"
# 360Giving assigns each publisher a prefix: 360G- and a short name.
_PREFIX = re.compile(r"360G-[A-Za-z0-9][A-Za-z0-9_.-]*\Z")


class SettingsProblem(ValueError):
    """The export cannot run with these settings; the message says what to set."""


def config_defaults() -> dict[str, Any]:
    """Defaults from the environment, for keys the app config does not set."""
    return {
        "GIVING360_PREFIX": os.environ.get("GRANTPATH_GIVING360_PREFIX") or DEFAULT_PREFIX,
        "FUNDER_ORG_ID": os.environ.get("GRANTPATH_FUNDER_ORG_ID") or None,
        "FUNDER_NAME": os.environ.get("GRANTPATH_FUNDER_NAME") or None,
    }


def check_prefix(prefix: str) -> str:
    """A 360Giving grant-id prefix such as 360G-xyz; SettingsProblem if not one."""
    value = prefix.strip()
    if not _PREFIX.match(value):
        raise SettingsProblem(
            f"“{prefix}” is not a 360Giving prefix: it is 360G- followed by letters or "
            "digits (the prefix 360Giving gave you, e.g. 360G-xyz)."
        )
    return value


@dataclass(frozen=True)
class Settings:
    """The publisher's identity in 360Giving files."""

    prefix: str
    funder_org_id: str | None
    funder_name: str | None

    @classmethod
    def current(cls, **overrides: str | None) -> Settings:
        """From the app config (when there is an app), with explicit values taking over."""
        config: dict[str, Any] = (
            {**config_defaults(), **current_app.config} if has_app_context() else config_defaults()
        )
        prefix = overrides.get("prefix") or config.get("GIVING360_PREFIX") or DEFAULT_PREFIX
        funder_org_id = overrides.get("funder_org_id") or config.get("FUNDER_ORG_ID")
        funder_name = (
            overrides.get("funder_name")
            or config.get("FUNDER_NAME")
            or config.get("FOUNDATION_NAME")
            or None
        )
        return cls(check_prefix(prefix), funder_org_id or None, funder_name)

    def grant_id(self, reference: str) -> str:
        """The 360Giving id of a grant: its reference if already a 360G- id, else prefixed."""
        if reference[:5].upper() == "360G-":
            return reference
        return f"{self.prefix}-{reference}"

    def reference(self, grant_id: str) -> str:
        """The reference a 360Giving id is stored under: our own prefix comes off again."""
        own = self.prefix + "-"
        if grant_id.upper().startswith(own.upper()) and len(grant_id) > len(own):
            return grant_id[len(own) :]
        return grant_id

    def minted_org_id(self, organisation_id: int) -> str:
        """An org-id for an organisation with no registered identifier (360G-xyz-ORG-12)."""
        return f"{self.prefix}-ORG-{organisation_id}"

    def minted_org(self, org_id: str) -> int | None:
        """The organisation id inside one of our own minted org-ids, else None."""
        own = f"{self.prefix}-ORG-"
        if org_id.upper().startswith(own.upper()) and org_id[len(own) :].isdigit():
            return int(org_id[len(own) :])
        return None

    def is_funder(self, org_id: str | None) -> bool:
        """Whether an org-id is the publishing foundation's own."""
        return bool(org_id and self.funder_org_id) and (
            org_id.upper() == (self.funder_org_id or "").upper()  # type: ignore[union-attr]
        )
