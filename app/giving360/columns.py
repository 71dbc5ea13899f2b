"""The 360Giving columns the import reads, for the column guide and the CSV template.

Any column title of the standard is recognised (see schema.column_paths); these
are the ones grantpath records, in the standard's spreadsheet order.
"""

from __future__ import annotations

from app.imports.columns import Column

HELP = (
    "One grant per row or package entry, matched by Identifier; recipients and funders "
    "are matched by org-id and created when new."
)

COLUMNS = (
    Column(
        "Identifier",
        True,
        ("id",),
        "The grant's 360Giving id: the key for updates (our own prefix is taken off).",
        "360G-xyz-FM-2004-017",
    ),
    Column("Title", True, (), "At most 500 characters.", "Neurospheres in chronic EAE"),
    Column(
        "Description",
        False,
        (),
        "Required by the standard; a missing one is accepted (no summary).",
        "",
    ),
    Column("Currency", True, (), "ISO 4217 code; the euro amount needs a known rate.", "GBP"),
    Column(
        "Amount Awarded",
        True,
        (),
        "A number, at most two decimals.",
        "152505.50",
    ),
    Column(
        "Award Date",
        True,
        (),
        "2014-07-24, a date-time, or 24/07/2014 (day first) in a sheet.",
        "2014-07-24",
    ),
    Column(
        "Planned Dates:Start Date",
        False,
        (),
        "A date, or a year or month (first day). Start and end give the status.",
        "2014-09-01",
    ),
    Column("Planned Dates:End Date", False, (), "A date, or a year or month (last day).", ""),
    Column(
        "Planned Dates:Duration (months)",
        False,
        (),
        "Used only to tell whether the grant is still running.",
        "36",
    ),
    Column(
        "Recipient Org:Identifier",
        False,
        (),
        "The host's org-id (GB-CHC-..., IT-CF-..., 360G-...): the key for matching.",
        "GB-CHC-1015648",
    ),
    Column("Recipient Org:Name", True, (), "The host institution.", "University of UK"),
    Column("Recipient Org:City", False, (), "Kept on a new organisation.", "Leicester"),
    Column(
        "Recipient Org:Country",
        False,
        (),
        "Name or ISO code; else taken from the org-id list or the funder's country.",
        "United Kingdom",
    ),
    Column(
        "Funding Org:Identifier",
        True,
        (),
        "The funder's org-id; other than this foundation's, it is recorded as a co-funder.",
        "GB-CHC-000000",
    ),
    Column("Funding Org:Name", True, (), "The funder's name.", "Funding Providers UK"),
    Column(
        "Grant Programme:Title",
        False,
        (),
        "A programme of this name (created if new).",
        "Awards Funding Committee",
    ),
)
