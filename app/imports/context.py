"""Who runs an import and whether it writes."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ImportContext:
    """Passed to every importer: apply or only check, and who to name in the audit trail."""

    apply: bool
    user_id: int | None
    actor: str
    remote_addr: str | None = None
    label: str = "import"
