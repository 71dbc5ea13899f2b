"""360Giving Data Standard: import of packages and flattened files, validated export.

Import (``grantpath import 360giving FILE``, or Imports › 360Giving) reads a
JSON package or a CSV/XLSX sheet with the standard's column titles, checks
every grant against the standard's schema (local copies under ``schema/``, no
network), then upserts all grants in one transaction or none. How a 360Giving
grant becomes a grantpath grant:

- **Reference** = the grant's 360Giving ``id`` (up to 120 characters). Our own
  prefix (GIVING360_PREFIX + "-") is taken off, so an export imported again
  updates the grants it came from; other publishers' ids are kept whole.
  Re-importing a file changes nothing (same reference, same values).
- **Title**, **summary** = ``title``, ``description``. The standard requires a
  description; a grant without one is still imported (no summary) and the run
  says how many lacked it. The export writes the title again when a grant has
  no summary, so a description equal to the title is read as no summary.
- **Amount** = ``amountAwarded`` in the grant's ``currency``, kept to the cent
  (float noise such as 41133.770000000004 is rounded; real third decimals are
  refused). The euro amount comes from the exchange-rate table and is left
  empty when no rate is known (e.g. GBP), never guessed.
- **Award date** = the date of ``awardDate`` as written. **Start/end** = the
  first ``plannedDates`` entry (a year or month counts as its first/last day);
  a duration alone sets no dates.
- **Status** from the planned dates as of today: completed once the end (or
  start/award date + duration) has passed, awarded if the start is in the
  future or no dates are known, else active. An update keeps the stored status
  when the file gives no planned dates, or when it was set to terminated or
  withdrawn by hand.
- **Host institution** = the first ``recipientOrganization``, matched by org-id
  (also XI-ROR-<ror> against ROR ids, and our own 360G-…-ORG-<n>), else created
  with its org-id, name, city and country. The country is the organisation's
  location or address country, else the org-id list's country (GB-CHC -> GB),
  else the funder's. A recipient without an id (accepted, though the standard
  requires one) is matched by exact name and country or created without an
  org-id. ``360G-`` org-ids are kept as written. Grants to individuals are
  refused (every grant has a host institution).
- **Funders**: ``fundingOrganization`` entries other than this foundation
  (FUNDER_ORG_ID) are matched or created like recipients and recorded as
  co-funders with no amount (360Giving does not say how much each gave).
- **Programme** = the first ``grantProgramme`` title, matched by name or
  created. New grants are public. Other fields are not stored.

Export (``grantpath export 360giving``, GET /exports/360giving.json): live
grants (public only unless the CLI is told otherwise), ids as above, amounts in
the grant's currency, planned dates, the host as recipient (org-id, else
XI-ROR-<ror>, else a 360G-…-ORG-<n> id of our own), the foundation
(FUNDER_ORG_ID, FUNDER_NAME) and any co-funders as funding organisations.
"""

from __future__ import annotations

from flask import Flask

from .settings import config_defaults


def init_app(app: Flask) -> None:
    """Settle the 360Giving settings and register the download."""
    for key, value in config_defaults().items():
        app.config.setdefault(key, value)
    from .views import bp

    app.register_blueprint(bp)
