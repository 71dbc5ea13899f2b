"""Validation and normalisation of research identifiers.

Every ``normalise_<kind>`` function accepts what people paste into forms and
spreadsheets (surrounding whitespace, resolver URLs, ``doi:``-style prefixes,
odd letter case), checks the format and, where the scheme has one, the check
digit, and returns the canonical form that grantpath stores and compares.
Anything else raises :class:`InvalidIdentifier`, whose message is written to be
shown to the person who typed the value.

Standard library only: this module must not import from the rest of the app.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from urllib.parse import unquote

__all__ = [
    "REGISTRY_LABELS",
    "InvalidIdentifier",
    "is_valid_codice_fiscale",
    "is_valid_doi",
    "is_valid_euct",
    "is_valid_eudract",
    "is_valid_isrctn",
    "is_valid_nct",
    "is_valid_orcid",
    "is_valid_org_id",
    "is_valid_pmcid",
    "is_valid_pmid",
    "is_valid_ror",
    "is_valid_trial_registry_id",
    "is_valid_who_utn",
    "normalise_codice_fiscale",
    "normalise_doi",
    "normalise_euct",
    "normalise_eudract",
    "normalise_isrctn",
    "normalise_nct",
    "normalise_orcid",
    "normalise_org_id",
    "normalise_pmcid",
    "normalise_pmid",
    "normalise_ror",
    "normalise_who_utn",
    "parse_trial_registry_id",
]

REGISTRY_LABELS: dict[str, str] = {
    "nct": "ClinicalTrials.gov",
    "eudract": "EudraCT",
    "euct": "EU CT (CTIS)",
    "isrctn": "ISRCTN",
    "who_utn": "WHO UTN",
}


class InvalidIdentifier(ValueError):
    """A value that is not a valid identifier of the given kind."""

    def __init__(self, kind: str, value: object, message: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.value = value
        self.message = message

    def __reduce__(self) -> tuple[type[InvalidIdentifier], tuple[str, object, str]]:
        # Keep the exception picklable (e.g. when raised inside a task queue).
        return (type(self), (self.kind, self.value, self.message))


# --------------------------------------------------------------------------- helpers

# Invisible characters that ride along with copy-and-paste from PDFs and web pages.
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"))
_MAX_SHOWN = 60


def _show(value: str) -> str:
    """Quote a raw value for an error message, shortening very long ones."""
    if len(value) > _MAX_SHOWN:
        value = value[: _MAX_SHOWN - 1] + "…"
    return repr(value)


def _clean(value: object, kind: str, noun: str, expected: str) -> str:
    """Return ``value`` without invisible characters and surrounding whitespace."""
    if not isinstance(value, str):
        raise InvalidIdentifier(
            kind, value, f"{noun[0].upper()}{noun[1:]} must be text, not {type(value).__name__}"
        )
    text = value.translate(_INVISIBLE).strip()
    if not text:
        raise InvalidIdentifier(kind, value, f"{kind} is empty (expected {expected})")
    return text


def _strip_prefix(text: str, prefixes: tuple[str, ...]) -> str:
    """Remove the first matching prefix (any case) and any whitespace after it."""
    lowered = text.lower()
    for prefix in prefixes:
        if lowered.startswith(prefix):
            return text[len(prefix) :].lstrip()
    return text


def _not_a(kind: str, noun: str, expected: str, value: str, hint: str = "") -> InvalidIdentifier:
    """Build the standard "'x' is not a <noun> (expected ...)" error."""
    message = f"{_show(value)} is not {noun} (expected {expected})"
    if hint:
        message += f"; {hint}"
    return InvalidIdentifier(kind, value, message)


def _is_valid(normalise: Callable[..., object], value: object) -> bool:
    try:
        normalise(value)
    except InvalidIdentifier:
        return False
    return True


# --------------------------------------------------------------------------- DOI

_DOI_EXPECTED = "10.NNNN/suffix"
_DOI_PREFIXES = (
    "https://doi.org/",
    "http://doi.org/",
    "https://dx.doi.org/",
    "http://dx.doi.org/",
    "doi.org/",
    "dx.doi.org/",
    "urn:doi:",
    "doi:",
    "doi ",
)
_DOI_RE = re.compile(r"10\.\d{4,9}(?:\.\d+)*/[^\s\x00-\x1f\x7f]+")


def normalise_doi(value: str) -> str:
    """Return the canonical (lower-case, prefix-free) form of a DOI."""
    text = _clean(value, "DOI", "a DOI", _DOI_EXPECTED)
    text = unquote(_strip_prefix(text, _DOI_PREFIXES))
    if not _DOI_RE.fullmatch(text):
        hint = ""
        if re.search(r"\s", text):
            hint = "it must not contain spaces"
        elif re.fullmatch(r"10\.\d+(?:\.\d+)*/.+", text):
            hint = "the registrant code after '10.' must have 4 to 9 digits"
        elif re.fullmatch(r"10\.[\d.]+/?", text):
            hint = "the suffix after '/' is missing"
        raise _not_a("DOI", "a DOI", _DOI_EXPECTED, value, hint)
    return text.lower()


def is_valid_doi(value: str) -> bool:
    """Return whether ``value`` is a DOI that :func:`normalise_doi` accepts."""
    return _is_valid(normalise_doi, value)


# --------------------------------------------------------------------------- PubMed

_PMID_EXPECTED = "1 to 8 digits without a leading zero, e.g. 12345678"
_PUBMED_URLS = (
    "https://pubmed.ncbi.nlm.nih.gov/",
    "http://pubmed.ncbi.nlm.nih.gov/",
    "pubmed.ncbi.nlm.nih.gov/",
)
_PMID_RE = re.compile(r"[1-9]\d{0,7}")


def normalise_pmid(value: str) -> str:
    """Return the canonical (digits only) form of a PubMed ID."""
    text = _clean(value, "PMID", "a PMID", _PMID_EXPECTED)
    without_url = _strip_prefix(text, _PUBMED_URLS)
    if without_url != text:
        text = without_url.rstrip("/")
    text = _strip_prefix(text, ("pmid:", "pmid"))
    if not _PMID_RE.fullmatch(text):
        hint = ""
        if text.isdigit() and text.startswith("0"):
            hint = "a PMID never starts with 0"
        elif text.isdigit():
            hint = "a PMID has at most 8 digits"
        raise _not_a("PMID", "a PMID", _PMID_EXPECTED, value, hint)
    return text


def is_valid_pmid(value: str) -> bool:
    """Return whether ``value`` is a PMID that :func:`normalise_pmid` accepts."""
    return _is_valid(normalise_pmid, value)


_PMCID_EXPECTED = "PMC followed by digits, e.g. PMC1234567"
_PMCID_RE = re.compile(r"PMC([1-9]\d{0,8})", re.IGNORECASE)


def normalise_pmcid(value: str) -> str:
    """Return the canonical form (``PMC`` + digits) of a PubMed Central ID."""
    text = _clean(value, "PMCID", "a PMCID", _PMCID_EXPECTED)
    text = _strip_prefix(text, ("pmcid:",))
    match = _PMCID_RE.fullmatch(text)
    if not match:
        hint = "add the PMC prefix" if _PMID_RE.fullmatch(text) else ""
        raise _not_a("PMCID", "a PMCID", _PMCID_EXPECTED, value, hint)
    return "PMC" + match.group(1)


def is_valid_pmcid(value: str) -> bool:
    """Return whether ``value`` is a PMCID that :func:`normalise_pmcid` accepts."""
    return _is_valid(normalise_pmcid, value)


# --------------------------------------------------------------------------- ORCID

_ORCID_EXPECTED = "NNNN-NNNN-NNNN-NNNN, the last character a digit or X"
_ORCID_PREFIXES = (
    "https://orcid.org/",
    "http://orcid.org/",
    "https://www.orcid.org/",
    "http://www.orcid.org/",
    "orcid.org/",
    "orcid:",
)
_ORCID_RE = re.compile(r"(\d{4})[- ]?(\d{4})[- ]?(\d{4})[- ]?(\d{3}[\dX])", re.IGNORECASE)


def _orcid_check_digit(base: str) -> str:
    """ISO 7064 MOD 11-2 check character for the first 15 digits of an ORCID iD."""
    total = 0
    for char in base:
        total = (total + int(char)) * 2
    result = (12 - total % 11) % 11
    return "X" if result == 10 else str(result)


def normalise_orcid(value: str) -> str:
    """Return the canonical ``NNNN-NNNN-NNNN-NNNN`` form of an ORCID iD."""
    text = _clean(value, "ORCID", "an ORCID iD", _ORCID_EXPECTED)
    text = _strip_prefix(text, _ORCID_PREFIXES).rstrip("/")
    match = _ORCID_RE.fullmatch(text)
    if not match:
        raise _not_a("ORCID", "an ORCID iD", _ORCID_EXPECTED, value)
    canonical = "-".join(match.groups()).upper()
    digits = canonical.replace("-", "")
    expected = _orcid_check_digit(digits[:15])
    if digits[15] != expected:
        raise InvalidIdentifier(
            "ORCID", value, f"ORCID {canonical} has a wrong check digit (expected {expected})"
        )
    return canonical


def is_valid_orcid(value: str) -> bool:
    """Return whether ``value`` is an ORCID iD that :func:`normalise_orcid` accepts."""
    return _is_valid(normalise_orcid, value)


# --------------------------------------------------------------------------- ROR

_ROR_EXPECTED = "0 + 6 letters/digits + 2 check digits, e.g. 05gq02987"
_ROR_PREFIXES = ("https://ror.org/", "http://ror.org/", "ror.org/", "ror:")
_CROCKFORD = "0123456789abcdefghjkmnpqrstvwxyz"
_ROR_RE = re.compile(r"0[0-9a-hjkmnp-tv-z]{6}\d{2}")


def _ror_checksum(body: str) -> str:
    """Two-digit ROR checksum of the 7 base32 characters (leading 0 included)."""
    number = 0
    for char in body:
        number = number * 32 + _CROCKFORD.index(char)
    return f"{98 - (number * 100) % 97:02d}"


def normalise_ror(value: str) -> str:
    """Return the canonical 9-character lower-case form of a ROR ID."""
    text = _clean(value, "ROR", "a ROR ID", _ROR_EXPECTED)
    text = _strip_prefix(text, _ROR_PREFIXES).rstrip("/").lower()
    if not _ROR_RE.fullmatch(text):
        hint = ""
        if len(text) == 9 and not text.startswith("0"):
            hint = "a ROR ID always starts with 0"
        elif len(text) == 9 and re.search(r"[ilou]", text[1:7]):
            hint = "a ROR ID never contains the letters i, l, o or u"
        raise _not_a("ROR", "a ROR ID", _ROR_EXPECTED, value, hint)
    expected = _ror_checksum(text[:7])
    if text[7:] != expected:
        raise InvalidIdentifier(
            "ROR", value, f"ROR ID {text} has a wrong checksum (expected {expected})"
        )
    return text


def is_valid_ror(value: str) -> bool:
    """Return whether ``value`` is a ROR ID that :func:`normalise_ror` accepts."""
    return _is_valid(normalise_ror, value)


# --------------------------------------------------------------------------- trial registries

_NCT_EXPECTED = "NCT followed by 8 digits, e.g. NCT03269071"
_NCT_RE = re.compile(r"NCT[\s:]*(\d{8})", re.IGNORECASE)


def normalise_nct(value: str) -> str:
    """Return the canonical ``NCTNNNNNNNN`` form of a ClinicalTrials.gov number."""
    text = _clean(value, "NCT", "an NCT number", _NCT_EXPECTED)
    match = _NCT_RE.fullmatch(text)
    if not match:
        hint = "add the NCT prefix" if re.fullmatch(r"\d{8}", text) else ""
        raise _not_a("NCT", "an NCT number", _NCT_EXPECTED, value, hint)
    return "NCT" + match.group(1)


def is_valid_nct(value: str) -> bool:
    """Return whether ``value`` is an NCT number that :func:`normalise_nct` accepts."""
    return _is_valid(normalise_nct, value)


_EUDRACT_EXPECTED = "YYYY-NNNNNN-CC, e.g. 2016-002020-86"
# EUCTR2016-002020-86-GB is how the EU Clinical Trials Register (and WHO ICTRP)
# writes a EudraCT number for one country's part of the trial.
_EUDRACT_RE = re.compile(
    r"(?:EudraCT(?:\s*(?:number|no\.?))?[\s:]*|EUCTR\s*)?"
    r"(\d{4})-(\d{6})-(\d{2})(?:-[A-Z]{2}|-3RD)?",
    re.IGNORECASE,
)
_EUCT_SHAPE = re.compile(r"\d{4}-\d{6}-\d{2}-\d{2}")


def normalise_eudract(value: str) -> str:
    """Return the canonical ``YYYY-NNNNNN-CC`` form of a EudraCT number."""
    text = _clean(value, "EudraCT", "a EudraCT number", _EUDRACT_EXPECTED)
    match = _EUDRACT_RE.fullmatch(text)
    if not match:
        hint = "it looks like an EU CT (CTIS) number" if _EUCT_SHAPE.fullmatch(text) else ""
        raise _not_a("EudraCT", "a EudraCT number", _EUDRACT_EXPECTED, value, hint)
    year = int(match.group(1))
    if not 1995 <= year <= 2099:
        raise InvalidIdentifier(
            "EudraCT",
            value,
            f"EudraCT number {'-'.join(match.groups())} has an impossible year {year} "
            "(expected 1995 to 2099)",
        )
    return "-".join(match.groups())


def is_valid_eudract(value: str) -> bool:
    """Return whether ``value`` is a EudraCT number that :func:`normalise_eudract` accepts."""
    return _is_valid(normalise_eudract, value)


_EUCT_EXPECTED = "YYYY-5NNNNN-NN-NN, e.g. 2022-500024-30-00"
_EUCT_RE = re.compile(
    r"(?:EU\s?CT(?:\s*(?:number|no\.?))?[\s:]*)?(\d{4})-(\d{6})-(\d{2})-(\d{2})",
    re.IGNORECASE,
)
_EUDRACT_SHAPE = re.compile(r"\d{4}-\d{6}-\d{2}")


def normalise_euct(value: str) -> str:
    """Return the canonical ``YYYY-5NNNNN-NN-NN`` form of an EU CT (CTIS) number."""
    text = _clean(value, "EU CT", "an EU CT number", _EUCT_EXPECTED)
    match = _EUCT_RE.fullmatch(text)
    if not match:
        hint = "it looks like a EudraCT number" if _EUDRACT_SHAPE.fullmatch(text) else ""
        raise _not_a("EU CT", "an EU CT number", _EUCT_EXPECTED, value, hint)
    canonical = "-".join(match.groups())
    year = int(match.group(1))
    if not 2022 <= year <= 2099:
        raise InvalidIdentifier(
            "EU CT",
            value,
            f"EU CT number {canonical} has an impossible year {year} (CTIS numbers start in 2022)",
        )
    if not match.group(2).startswith("5"):
        raise InvalidIdentifier(
            "EU CT",
            value,
            f"EU CT number {canonical} is malformed (the second part must start with 5)",
        )
    return canonical


def is_valid_euct(value: str) -> bool:
    """Return whether ``value`` is an EU CT number that :func:`normalise_euct` accepts."""
    return _is_valid(normalise_euct, value)


_ISRCTN_EXPECTED = "ISRCTN followed by 8 digits, e.g. ISRCTN12345678"
_ISRCTN_RE = re.compile(r"ISRCTN[\s:]*(\d{8})", re.IGNORECASE)


def normalise_isrctn(value: str) -> str:
    """Return the canonical ``ISRCTNNNNNNNNN`` form of an ISRCTN registration."""
    text = _clean(value, "ISRCTN", "an ISRCTN", _ISRCTN_EXPECTED)
    match = _ISRCTN_RE.fullmatch(text)
    if not match:
        hint = "add the ISRCTN prefix" if re.fullmatch(r"\d{8}", text) else ""
        raise _not_a("ISRCTN", "an ISRCTN", _ISRCTN_EXPECTED, value, hint)
    return "ISRCTN" + match.group(1)


def is_valid_isrctn(value: str) -> bool:
    """Return whether ``value`` is an ISRCTN that :func:`normalise_isrctn` accepts."""
    return _is_valid(normalise_isrctn, value)


_WHO_UTN_EXPECTED = "U1111-NNNN-NNNN, e.g. U1111-1234-5678"
_WHO_UTN_RE = re.compile(r"(?:UTN[\s:]*)?U1111-(\d{4})-(\d{4})", re.IGNORECASE)


def normalise_who_utn(value: str) -> str:
    """Return the canonical ``U1111-NNNN-NNNN`` form of a WHO Universal Trial Number."""
    text = _clean(value, "WHO UTN", "a WHO UTN", _WHO_UTN_EXPECTED)
    match = _WHO_UTN_RE.fullmatch(text)
    if not match:
        raise _not_a("WHO UTN", "a WHO UTN", _WHO_UTN_EXPECTED, value)
    return f"U1111-{match.group(1)}-{match.group(2)}"


def is_valid_who_utn(value: str) -> bool:
    """Return whether ``value`` is a WHO UTN that :func:`normalise_who_utn` accepts."""
    return _is_valid(normalise_who_utn, value)


_TRIAL_EXPECTED = (
    "an NCT, EudraCT, EU CT, ISRCTN or WHO UTN number, e.g. NCT03269071 or 2016-002020-86"
)
# (registry, "looks like" pattern, normaliser): the first registry whose pattern
# matches decides, so a near miss gets that registry's specific error message.
_TRIAL_REGISTRIES: tuple[tuple[str, re.Pattern[str], Callable[[str], str]], ...] = (
    ("nct", re.compile(r"NCT", re.IGNORECASE), normalise_nct),
    ("isrctn", re.compile(r"ISRCTN", re.IGNORECASE), normalise_isrctn),
    ("who_utn", re.compile(r"UTN|U\d{4}-", re.IGNORECASE), normalise_who_utn),
    ("eudract", re.compile(r"EudraCT|EUCTR", re.IGNORECASE), normalise_eudract),
    ("euct", re.compile(r"EU\s?CT|\d{4}-\d+-\d+-\d+$", re.IGNORECASE), normalise_euct),
    ("eudract", re.compile(r"\d{4}-\d+-\d+(?:-[A-Za-z0-9]+)?$"), normalise_eudract),
)


def parse_trial_registry_id(value: str) -> tuple[str, str]:
    """Recognise a trial registration number; return ``(registry, canonical)``."""
    text = _clean(value, "trial registry ID", "a trial registry ID", _TRIAL_EXPECTED)
    for registry, looks_like, normalise in _TRIAL_REGISTRIES:
        if looks_like.match(text):
            return registry, normalise(value)
    raise _not_a("trial registry ID", "a recognised trial registry ID", _TRIAL_EXPECTED, value)


def is_valid_trial_registry_id(value: str) -> bool:
    """Return whether :func:`parse_trial_registry_id` accepts ``value``."""
    return _is_valid(parse_trial_registry_id, value)


# --------------------------------------------------------------------------- codice fiscale

_CF_EXPECTED = "11 digits for an organisation or 16 letters/digits for a person"
# Value of each character in an odd (1st, 3rd, ...) position of a personal codice fiscale.
_CF_ODD = dict(
    zip(
        "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ",
        (1, 0, 5, 7, 9, 13, 15, 17, 19, 21)
        + (1, 0, 5, 7, 9, 13, 15, 17, 19, 21, 2, 4, 18, 20, 11, 3, 6, 8, 12, 14, 16, 10, 22, 25)
        + (24, 23),
        strict=True,
    )
)
# Digits in a personal codice fiscale may be replaced by these letters (omocodia).
_CF_OMOCODE = "LMNPQRSTUV"
_CF_MONTHS = "ABCDEHLMPRST"
_D = f"[0-9{_CF_OMOCODE}]"
_CF_PERSON_RE = re.compile(rf"[A-Z]{{6}}{_D}{{2}}[A-Z]{_D}{{2}}[A-Z]{_D}{{3}}[A-Z]")


def _cf_numeric_check_digit(first_ten: str) -> str:
    """Check digit of an 11-digit (organisation) codice fiscale / partita IVA."""
    total = 0
    for position, char in enumerate(first_ten, start=1):
        digit = int(char)
        if position % 2 == 0:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return str((10 - total % 10) % 10)


def _cf_personal_check_char(first_fifteen: str) -> str:
    """Check letter of a 16-character (personal) codice fiscale."""
    total = 0
    for position, char in enumerate(first_fifteen, start=1):
        if position % 2 == 1:
            total += _CF_ODD[char]
        else:
            total += int(char) if char.isdigit() else ord(char) - ord("A")
    return chr(ord("A") + total % 26)


def _cf_digits(part: str) -> int:
    return int("".join(str(_CF_OMOCODE.index(c)) if c in _CF_OMOCODE else c for c in part))


def normalise_codice_fiscale(value: str) -> str:
    """Return the canonical (upper-case, no spaces) form of an Italian codice fiscale."""
    text = _clean(value, "codice fiscale", "a codice fiscale", _CF_EXPECTED)
    text = re.sub(r"\s+", "", text).upper()
    if text.isdigit() and len(text) == 11:
        expected = _cf_numeric_check_digit(text[:10])
        if text[10] != expected:
            raise InvalidIdentifier(
                "codice fiscale",
                value,
                f"codice fiscale {text} has a wrong check digit (expected {expected})",
            )
        return text
    if len(text) == 16 and _CF_PERSON_RE.fullmatch(text):
        if text[8] not in _CF_MONTHS:
            raise InvalidIdentifier(
                "codice fiscale",
                value,
                f"codice fiscale {text} has an invalid month letter {text[8]!r} "
                f"(expected one of {_CF_MONTHS})",
            )
        day = _cf_digits(text[9:11])
        if not (1 <= day <= 31 or 41 <= day <= 71):
            raise InvalidIdentifier(
                "codice fiscale",
                value,
                f"codice fiscale {text} has an invalid day {text[9:11]} "
                "(expected 01-31, or 41-71 for women)",
            )
        expected = _cf_personal_check_char(text[:15])
        if text[15] != expected:
            raise InvalidIdentifier(
                "codice fiscale",
                value,
                f"codice fiscale {text} has a wrong check character (expected {expected})",
            )
        return text
    hint = ""
    if text.isdigit():
        hint = f"it has {len(text)} digits"
    elif len(text) == 13 and text.startswith("IT") and text[2:].isdigit():
        hint = "remove the IT prefix of the VAT number"
    raise _not_a("codice fiscale", "a codice fiscale", _CF_EXPECTED, value, hint)


def is_valid_codice_fiscale(value: str) -> bool:
    """Return whether ``value`` is a codice fiscale :func:`normalise_codice_fiscale` accepts."""
    return _is_valid(normalise_codice_fiscale, value)


# --------------------------------------------------------------------------- 360Giving org-id

_ORG_ID_EXPECTED = "XX-SCHEME-identifier, e.g. GB-CHC-1234567"
# Country code and list, or 360G and a publisher prefix: 360Giving's own ids for
# organisations without a registered number (360G-ALWF-1234).
_ORG_ID_RE = re.compile(r"([A-Za-z]{2}|360[Gg])-([A-Za-z0-9]+)-(\S+)")


def normalise_org_id(value: str) -> str:
    """Return the canonical form of a 360Giving / org-id.guide organisation identifier."""
    text = _clean(value, "org-id", "an org-id", _ORG_ID_EXPECTED)
    match = _ORG_ID_RE.fullmatch(text)
    if not match:
        hint = "it must not contain spaces" if re.search(r"\s", text) else ""
        raise _not_a("org-id", "an org-id", _ORG_ID_EXPECTED, value, hint)
    prefix = f"{match.group(1)}-{match.group(2)}".upper()
    identifier = match.group(3)
    if prefix == "IT-CF":
        try:
            identifier = normalise_codice_fiscale(identifier)
        except InvalidIdentifier as error:
            raise InvalidIdentifier(
                "org-id", value, f"org-id {prefix}-{identifier} is invalid: {error}"
            ) from error
    return f"{prefix}-{identifier}"


def is_valid_org_id(value: str) -> bool:
    """Return whether ``value`` is an org-id that :func:`normalise_org_id` accepts."""
    return _is_valid(normalise_org_id, value)
