"""Tests for app.identifiers: canonical forms, check digits and user-facing messages."""

from __future__ import annotations

import pickle
from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.identifiers import (
    REGISTRY_LABELS,
    InvalidIdentifier,
    is_valid_codice_fiscale,
    is_valid_doi,
    is_valid_euct,
    is_valid_eudract,
    is_valid_isrctn,
    is_valid_nct,
    is_valid_orcid,
    is_valid_org_id,
    is_valid_pmcid,
    is_valid_pmid,
    is_valid_ror,
    is_valid_trial_registry_id,
    is_valid_who_utn,
    normalise_codice_fiscale,
    normalise_doi,
    normalise_euct,
    normalise_eudract,
    normalise_isrctn,
    normalise_nct,
    normalise_orcid,
    normalise_org_id,
    normalise_pmcid,
    normalise_pmid,
    normalise_ror,
    normalise_who_utn,
    parse_trial_registry_id,
)

# No example database, so the tests leave no .hypothesis directory behind.
fast = settings(database=None, max_examples=150, deadline=None)


def _error(normalise: Callable[..., object], value: object) -> InvalidIdentifier:
    with pytest.raises(InvalidIdentifier) as info:
        normalise(value)
    return info.value


# Independent reference implementations of the check digits, for property tests.
def _orcid_check(base15: str) -> str:
    total = 0
    for char in base15:
        total = (total + int(char)) * 2
    result = (12 - total % 11) % 11
    return "X" if result == 10 else str(result)


CROCKFORD = "0123456789abcdefghjkmnpqrstvwxyz"


def _ror_check(body7: str) -> str:
    number = 0
    for char in body7:
        number = number * 32 + CROCKFORD.index(char)
    return f"{98 - (number * 100) % 97:02d}"


def _cf_check(first10: str) -> str:
    total = 0
    for index, char in enumerate(first10):
        digit = int(char) * (2 if index % 2 else 1)
        total += digit - 9 if digit > 9 else digit
    return str((10 - total % 10) % 10)


def _change_one(text: str, index: int, alphabet: str, shift: int) -> str:
    """Replace text[index] with a different character of alphabet."""
    position = alphabet.index(text[index])
    replacement = alphabet[(position + 1 + shift % (len(alphabet) - 1)) % len(alphabet)]
    assert replacement != text[index]
    return text[:index] + replacement + text[index + 1 :]


# --------------------------------------------------------------------------- exception


def test_invalid_identifier_is_a_value_error_with_kind_and_value() -> None:
    error = _error(normalise_orcid, " 0000-0002-1825-0098 ")
    assert isinstance(error, ValueError)
    assert error.kind == "ORCID"
    assert error.value == " 0000-0002-1825-0098 "
    assert str(error) == "ORCID 0000-0002-1825-0098 has a wrong check digit (expected 7)"


def test_invalid_identifier_survives_pickling() -> None:
    error = _error(normalise_doi, "abc")
    copy = pickle.loads(pickle.dumps(error))
    assert (copy.kind, copy.value, str(copy)) == ("DOI", "abc", str(error))


# Every normaliser, with a bad value, the kind it must report and words the message
# must contain: these messages are shown to users, so they must say what is wrong.
BAD_VALUES = [
    (normalise_doi, "abc", "DOI", ["'abc' is not a DOI (expected 10.NNNN/suffix)"]),
    (normalise_doi, "10.12/abc", "DOI", ["4 to 9 digits"]),
    (normalise_doi, "10.1038", "DOI", ["suffix", "missing"]),
    (normalise_doi, "10.1038/nature 03889", "DOI", ["spaces"]),
    (normalise_doi, "   ", "DOI", ["DOI is empty"]),
    (normalise_pmid, "0123", "PMID", ["'0123' is not a PMID", "never starts with 0"]),
    (normalise_pmid, "123456789", "PMID", ["at most 8 digits"]),
    (normalise_pmid, "PMC123", "PMID", ["'PMC123' is not a PMID"]),
    (normalise_pmcid, "1234567", "PMCID", ["is not a PMCID", "add the PMC prefix"]),
    (normalise_pmcid, "PMCX12", "PMCID", ["PMC followed by digits"]),
    (normalise_orcid, "0000-0002-1825-0098", "ORCID", ["wrong check digit (expected 7)"]),
    (normalise_orcid, "0000-0002-1825", "ORCID", ["is not an ORCID iD", "NNNN-NNNN-NNNN-NNNN"]),
    (normalise_orcid, "0000-0002-1825-009Y", "ORCID", ["is not an ORCID iD"]),
    (normalise_ror, "05gq02988", "ROR", ["ROR ID 05gq02988 has a wrong checksum (expected 87)"]),
    (normalise_ror, "15gq02987", "ROR", ["always starts with 0"]),
    (normalise_ror, "05gqo2987", "ROR", ["never contains the letters i, l, o or u"]),
    (normalise_ror, "05gq0298", "ROR", ["is not a ROR ID"]),
    (normalise_nct, "NCT0326907", "NCT", ["is not an NCT number", "NCT followed by 8 digits"]),
    (normalise_nct, "03269071", "NCT", ["add the NCT prefix"]),
    (normalise_eudract, "1994-002020-86", "EudraCT", ["impossible year 1994"]),
    (normalise_eudract, "2016-02020-86", "EudraCT", ["is not a EudraCT number"]),
    (normalise_eudract, "2022-500024-30-00", "EudraCT", ["looks like an EU CT"]),
    (normalise_euct, "2016-002020-86", "EU CT", ["is not an EU CT number", "like a EudraCT"]),
    (normalise_euct, "2022-400024-30-00", "EU CT", ["must start with 5"]),
    (normalise_euct, "2016-500024-30-00", "EU CT", ["impossible year 2016"]),
    (normalise_isrctn, "12345678", "ISRCTN", ["is not an ISRCTN", "add the ISRCTN prefix"]),
    (normalise_isrctn, "ISRCTN1234567", "ISRCTN", ["ISRCTN followed by 8 digits"]),
    (normalise_who_utn, "U1112-1234-5678", "WHO UTN", ["is not a WHO UTN", "U1111-NNNN-NNNN"]),
    (normalise_org_id, "GB-CHC 1234567", "org-id", ["is not an org-id", "spaces"]),
    (normalise_org_id, "GB-CHC-", "org-id", ["XX-SCHEME-identifier"]),
    (normalise_org_id, "GBR-CHC-1234567", "org-id", ["is not an org-id"]),
    (
        normalise_org_id,
        "IT-CF-80012650159",
        "org-id",
        ["IT-CF-80012650159", "codice fiscale 80012650159 has a wrong check digit (expected 8)"],
    ),
    (
        normalise_codice_fiscale,
        "80012650159",
        "codice fiscale",
        ["codice fiscale 80012650159 has a wrong check digit (expected 8)"],
    ),
    (normalise_codice_fiscale, "8001265015", "codice fiscale", ["it has 10 digits"]),
    (normalise_codice_fiscale, "IT80012650158", "codice fiscale", ["remove the IT prefix"]),
    (
        normalise_codice_fiscale,
        "RSSMRA85T10A562T",
        "codice fiscale",
        ["RSSMRA85T10A562T has a wrong check character (expected S)"],
    ),
    (normalise_codice_fiscale, "RSSMRA85Z10A562S", "codice fiscale", ["invalid month letter"]),
    (normalise_codice_fiscale, "RSSMRA85T32A562S", "codice fiscale", ["invalid day 32"]),
    (parse_trial_registry_id, "ABC-123", "trial registry ID", ["not a recognised trial"]),
    (parse_trial_registry_id, "NCT123", "NCT", ["'NCT123' is not an NCT number"]),
]


@pytest.mark.parametrize(
    ("normalise", "value", "kind", "fragments"),
    BAD_VALUES,
    ids=[f"{case[0].__name__}-{case[1]}" for case in BAD_VALUES],
)
def test_bad_values_raise_specific_messages(
    normalise: Callable[[str], object], value: str, kind: str, fragments: list[str]
) -> None:
    error = _error(normalise, value)
    assert error.kind == kind
    assert error.value == value
    message = str(error)
    assert kind in message
    for fragment in fragments:
        assert fragment in message


NORMALISERS = [
    normalise_doi,
    normalise_pmid,
    normalise_pmcid,
    normalise_orcid,
    normalise_ror,
    normalise_nct,
    normalise_eudract,
    normalise_euct,
    normalise_isrctn,
    normalise_who_utn,
    normalise_org_id,
    normalise_codice_fiscale,
    parse_trial_registry_id,
]


@pytest.mark.parametrize("normalise", NORMALISERS, ids=lambda f: f.__name__)
@pytest.mark.parametrize("value", ["", "  \t\n", "\u200b", None, 12345678])
def test_empty_and_non_text_values_are_refused(
    normalise: Callable[..., object], value: object
) -> None:
    error = _error(normalise, value)
    assert error.value == value
    assert error.kind in str(error)


def test_long_values_are_shortened_in_messages() -> None:
    message = str(_error(normalise_doi, "x" * 500))
    assert len(message) < 150
    assert "…" in message


# --------------------------------------------------------------------------- DOI


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("10.1038/s41591-022-02097-3", "10.1038/s41591-022-02097-3"),
        ("10.1038/nature03889", "10.1038/nature03889"),
        ("10.1016/S1474-4422(21)00301-X", "10.1016/s1474-4422(21)00301-x"),
        ("https://doi.org/10.1016/S1474-4422(21)00301-X", "10.1016/s1474-4422(21)00301-x"),
        ("http://dx.doi.org/10.1038/nature03889", "10.1038/nature03889"),
        ("HTTPS://DOI.ORG/10.1038/NATURE03889", "10.1038/nature03889"),
        ("doi:10.1038/nature03889", "10.1038/nature03889"),
        ("DOI: 10.1038/s41591-022-02097-3", "10.1038/s41591-022-02097-3"),
        ("DOI 10.1038/nature03889", "10.1038/nature03889"),
        ("  10.1038/nature03889\n", "10.1038/nature03889"),
        ("\ufeff10.1038/nature03889\u200b", "10.1038/nature03889"),
        (
            "https://doi.org/10.1016%2FS1474-4422%2821%2900301-X",
            "10.1016/s1474-4422(21)00301-x",
        ),
        ("10.1000.10/xyz", "10.1000.10/xyz"),
        ("10.123456789/abc", "10.123456789/abc"),
    ],
)
def test_normalise_doi(value: str, expected: str) -> None:
    assert normalise_doi(value) == expected
    assert is_valid_doi(value)


@pytest.mark.parametrize(
    "value",
    ["10.1038/", "10.123/abc", "10.1234567890/abc", "11.1038/nature03889", "nature03889"],
)
def test_invalid_doi(value: str) -> None:
    assert not is_valid_doi(value)


def test_dois_compare_case_insensitively() -> None:
    assert normalise_doi("10.1016/S1474-4422(21)00301-X") == normalise_doi(
        "doi:10.1016/s1474-4422(21)00301-x"
    )


# --------------------------------------------------------------------------- PubMed


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("16079797", "16079797"),
        ("1", "1"),
        ("PMID:16079797", "16079797"),
        ("pmid: 16079797", "16079797"),
        ("PMID 16079797", "16079797"),
        ("https://pubmed.ncbi.nlm.nih.gov/16079797/", "16079797"),
        (" 16079797 ", "16079797"),
    ],
)
def test_normalise_pmid(value: str, expected: str) -> None:
    assert normalise_pmid(value) == expected
    assert is_valid_pmid(value)


@pytest.mark.parametrize("value", ["0", "016079797", "123456789", "1607979a", "16079797/"])
def test_invalid_pmid(value: str) -> None:
    assert not is_valid_pmid(value)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("PMC1234567", "PMC1234567"),
        ("pmc1234567", "PMC1234567"),
        ("Pmc3", "PMC3"),
        ("PMCID: PMC1234567", "PMC1234567"),
    ],
)
def test_normalise_pmcid(value: str, expected: str) -> None:
    assert normalise_pmcid(value) == expected
    assert is_valid_pmcid(value)


@pytest.mark.parametrize("value", ["1234567", "PMC", "PMC0123", "PMC12a", "PMID1234"])
def test_invalid_pmcid(value: str) -> None:
    assert not is_valid_pmcid(value)


# --------------------------------------------------------------------------- ORCID


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("0000-0002-1825-0097", "0000-0002-1825-0097"),
        ("0000-0001-5109-3700", "0000-0001-5109-3700"),
        ("0000-0002-1694-233X", "0000-0002-1694-233X"),
        ("0000-0002-1694-233x", "0000-0002-1694-233X"),
        ("000000021694233X", "0000-0002-1694-233X"),
        ("0000 0002 1825 0097", "0000-0002-1825-0097"),
        ("https://orcid.org/0000-0002-1825-0097", "0000-0002-1825-0097"),
        ("http://orcid.org/0000-0001-5109-3700/", "0000-0001-5109-3700"),
        ("HTTPS://ORCID.ORG/0000-0002-1694-233x", "0000-0002-1694-233X"),
        (" orcid.org/0000-0002-1825-0097 ", "0000-0002-1825-0097"),
    ],
)
def test_normalise_orcid(value: str, expected: str) -> None:
    assert normalise_orcid(value) == expected
    assert is_valid_orcid(value)


@pytest.mark.parametrize(
    ("value", "expected_digit"),
    [
        ("0000-0002-1825-0098", "7"),
        ("0000-0001-5109-3701", "0"),
        ("0000-0002-1694-2330", "X"),
        ("0000-0002-1825-0079", "0"),  # two digits swapped
    ],
)
def test_orcid_wrong_check_digit(value: str, expected_digit: str) -> None:
    error = _error(normalise_orcid, value)
    assert str(error) == f"ORCID {value} has a wrong check digit (expected {expected_digit})"


@pytest.mark.parametrize(
    "value", ["0000-0002-1825-009", "0000-0002-1825-00977", "X000-0002-1825-0097", "orcid"]
)
def test_invalid_orcid_format(value: str) -> None:
    assert not is_valid_orcid(value)


orcid_bodies = st.text(alphabet="0123456789", min_size=15, max_size=15)


@fast
@given(orcid_bodies)
def test_any_orcid_body_with_its_check_digit_is_valid(body: str) -> None:
    digits = body + _orcid_check(body)
    canonical = "-".join(digits[i : i + 4] for i in range(0, 16, 4))
    assert normalise_orcid(digits) == canonical
    assert normalise_orcid(f"https://orcid.org/{canonical}") == canonical
    assert normalise_orcid(canonical) == canonical  # idempotent


@fast
@given(orcid_bodies, st.integers(0, 15), st.integers(0, 100))
def test_changing_one_orcid_character_invalidates_it(body: str, index: int, shift: int) -> None:
    digits = body + _orcid_check(body)
    alphabet = "0123456789X" if index == 15 else "0123456789"
    assert not is_valid_orcid(_change_one(digits, index, alphabet, shift))


# --------------------------------------------------------------------------- ROR

REAL_RORS = ["05gq02987", "01ggx4157", "013meh722"]  # Brown, CERN, Cambridge


@pytest.mark.parametrize("ror", REAL_RORS)
@pytest.mark.parametrize("form", ["{}", "https://ror.org/{}", "http://ror.org/{}/", " {} "])
def test_normalise_real_ror_ids(ror: str, form: str) -> None:
    assert normalise_ror(form.format(ror)) == ror
    assert normalise_ror(form.format(ror).upper()) == ror
    assert is_valid_ror(form.format(ror))


@pytest.mark.parametrize(
    ("value", "expected"),
    [("05gq02988", "87"), ("01ggx4156", "57"), ("013meh712", "22"), ("013neh722", "76")],
)
def test_ror_with_changed_character_is_refused(value: str, expected: str) -> None:
    assert str(_error(normalise_ror, value)) == (
        f"ROR ID {value} has a wrong checksum (expected {expected})"
    )


ror_bodies = st.text(alphabet=CROCKFORD, min_size=6, max_size=6).map(lambda s: "0" + s)


@fast
@given(ror_bodies)
def test_any_ror_body_with_its_checksum_is_valid(body: str) -> None:
    ror = body + _ror_check(body)
    assert normalise_ror(f"https://ror.org/{ror.upper()}") == ror


@fast
@given(ror_bodies, st.integers(1, 8), st.integers(0, 100))
def test_changing_one_ror_character_invalidates_it(body: str, index: int, shift: int) -> None:
    ror = body + _ror_check(body)
    alphabet = "0123456789" if index >= 7 else CROCKFORD
    assert not is_valid_ror(_change_one(ror, index, alphabet, shift))


# --------------------------------------------------------------------------- trial registries


@pytest.mark.parametrize(
    ("normalise", "value", "expected"),
    [
        (normalise_nct, "NCT03269071", "NCT03269071"),
        (normalise_nct, "nct03477500", "NCT03477500"),
        (normalise_nct, " NCT 03477500 ", "NCT03477500"),
        (normalise_eudract, "2016-002020-86", "2016-002020-86"),
        (normalise_eudract, "2011-001295-19", "2011-001295-19"),
        (normalise_eudract, "EudraCT 2011-001295-19", "2011-001295-19"),
        (normalise_eudract, "EudraCT number: 2016-002020-86", "2016-002020-86"),
        (normalise_eudract, "EUCTR2016-002020-86-GB", "2016-002020-86"),
        (normalise_euct, "2022-500024-30-00", "2022-500024-30-00"),
        (normalise_euct, "EU CT 2022-500024-30-00", "2022-500024-30-00"),
        (normalise_isrctn, "ISRCTN12345678", "ISRCTN12345678"),
        (normalise_isrctn, "isrctn 12345678", "ISRCTN12345678"),
        (normalise_who_utn, "U1111-1234-5678", "U1111-1234-5678"),
        (normalise_who_utn, "u1111-1234-5678", "U1111-1234-5678"),
        (normalise_who_utn, "UTN: U1111-1234-5678", "U1111-1234-5678"),
    ],
)
def test_normalise_trial_numbers(
    normalise: Callable[[str], str], value: str, expected: str
) -> None:
    assert normalise(value) == expected
    assert normalise(expected) == expected


@pytest.mark.parametrize(
    ("is_valid", "value"),
    [
        (is_valid_nct, "NCT0326907"),
        (is_valid_nct, "NCT032690711"),
        (is_valid_nct, "03269071"),
        (is_valid_eudract, "2016-002020-8"),
        (is_valid_eudract, "2100-002020-86"),
        (is_valid_eudract, "2016002020-86"),
        (is_valid_euct, "2022-500024-30"),
        (is_valid_euct, "2022-500024-30-0"),
        (is_valid_isrctn, "ISRCTN123456789"),
        (is_valid_isrctn, "ISRCT12345678"),
        (is_valid_who_utn, "U1111-12345-678"),
        (is_valid_who_utn, "1111-1234-5678"),
    ],
)
def test_invalid_trial_numbers(is_valid: Callable[[str], bool], value: str) -> None:
    assert not is_valid(value)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("NCT03269071", ("nct", "NCT03269071")),
        ("nct03477500", ("nct", "NCT03477500")),
        ("2016-002020-86", ("eudract", "2016-002020-86")),
        ("2011-001295-19", ("eudract", "2011-001295-19")),
        ("EUCTR2011-001295-19-DE", ("eudract", "2011-001295-19")),
        ("2011-001295-19-DE", ("eudract", "2011-001295-19")),
        ("2022-500024-30-00", ("euct", "2022-500024-30-00")),
        ("EUCT 2022-500024-30-00", ("euct", "2022-500024-30-00")),
        ("ISRCTN12345678", ("isrctn", "ISRCTN12345678")),
        ("U1111-1234-5678", ("who_utn", "U1111-1234-5678")),
        ("  nct03269071\n", ("nct", "NCT03269071")),
    ],
)
def test_parse_trial_registry_id(value: str, expected: tuple[str, str]) -> None:
    assert parse_trial_registry_id(value) == expected
    assert is_valid_trial_registry_id(value)
    assert expected[0] in REGISTRY_LABELS


@pytest.mark.parametrize(
    ("value", "kind", "fragment"),
    [
        ("2022-400024-30-00", "EU CT", "must start with 5"),
        ("2016-002020-86-00", "EU CT", "impossible year 2016"),
        ("2016-00202-86", "EudraCT", "is not a EudraCT number"),
        ("ISRCTN1234", "ISRCTN", "ISRCTN followed by 8 digits"),
        ("U1111-1234", "WHO UTN", "U1111-NNNN-NNNN"),
        ("12345678", "trial registry ID", "NCT, EudraCT, EU CT, ISRCTN or WHO UTN"),
    ],
)
def test_parse_trial_registry_id_reports_the_closest_registry(
    value: str, kind: str, fragment: str
) -> None:
    error = _error(parse_trial_registry_id, value)
    assert error.kind == kind
    assert fragment in str(error)


def test_registry_labels() -> None:
    assert REGISTRY_LABELS == {
        "nct": "ClinicalTrials.gov",
        "eudract": "EudraCT",
        "euct": "EU CT (CTIS)",
        "isrctn": "ISRCTN",
        "who_utn": "WHO UTN",
    }


eudract_numbers = st.builds(
    "{}-{:06d}-{:02d}".format, st.integers(1995, 2099), st.integers(0, 999_999), st.integers(0, 99)
)
euct_numbers = st.builds(
    "{}-5{:05d}-{:02d}-{:02d}".format,
    st.integers(2022, 2099),
    st.integers(0, 99_999),
    st.integers(0, 99),
    st.integers(0, 99),
)


@fast
@given(eudract_numbers, euct_numbers)
def test_eudract_and_euct_are_never_confused(eudract: str, euct: str) -> None:
    assert parse_trial_registry_id(eudract) == ("eudract", eudract)
    assert parse_trial_registry_id(euct) == ("euct", euct)
    assert not is_valid_euct(eudract)
    assert not is_valid_eudract(euct)


# --------------------------------------------------------------------------- codice fiscale

# Università degli Studi di Milano, Politecnico di Milano, Sapienza Università di Roma.
REAL_CODICI_FISCALI = ["80012650158", "80057930150", "80209930587"]


@pytest.mark.parametrize("codice", REAL_CODICI_FISCALI)
def test_real_organisation_codici_fiscali(codice: str) -> None:
    assert normalise_codice_fiscale(codice) == codice
    assert normalise_codice_fiscale(f" {codice[:5]} {codice[5:]} ") == codice
    assert is_valid_codice_fiscale(codice)
    assert _cf_check(codice[:10]) == codice[10]


@pytest.mark.parametrize("codice", REAL_CODICI_FISCALI)
@pytest.mark.parametrize("index", range(11))
def test_changing_one_digit_of_a_codice_fiscale_invalidates_it(codice: str, index: int) -> None:
    changed = _change_one(codice, index, "0123456789", 4)
    error = _error(normalise_codice_fiscale, changed)
    assert f"codice fiscale {changed} has a wrong check digit" in str(error)


@fast
@given(st.text(alphabet="0123456789", min_size=10, max_size=10))
def test_any_ten_digits_with_their_check_digit_form_a_valid_codice_fiscale(first10: str) -> None:
    assert is_valid_codice_fiscale(first10 + _cf_check(first10))


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("RSSMRA85T10A562S", "RSSMRA85T10A562S"),
        ("rssmra85t10a562s", "RSSMRA85T10A562S"),
        ("RSS MRA 85T10 A562S", "RSSMRA85T10A562S"),
        # Omocodia: the last digit 2 replaced by N changes the check character.
        ("RSSMRA85T10A56NH", "RSSMRA85T10A56NH"),
        # Day + 40 for women.
        ("RSSMRA85T50A562W", "RSSMRA85T50A562W"),
    ],
)
def test_personal_codice_fiscale(value: str, expected: str) -> None:
    assert normalise_codice_fiscale(value) == expected


@pytest.mark.parametrize("index", range(16))
def test_changing_one_character_of_a_personal_codice_fiscale_invalidates_it(index: int) -> None:
    valid = "RSSMRA85T10A562S"
    alphabet = "0123456789" if valid[index].isdigit() else "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    assert not is_valid_codice_fiscale(_change_one(valid, index, alphabet, 2))


# --------------------------------------------------------------------------- org-id


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("GB-CHC-1234567", "GB-CHC-1234567"),
        ("gb-coh-SC123456", "GB-COH-SC123456"),
        ("GB-COH-sc123456", "GB-COH-sc123456"),  # the identifier part is kept as given
        ("XI-ROR-05gq02987", "XI-ROR-05gq02987"),
        ("xm-dac-41114", "XM-DAC-41114"),
        ("US-EIN-12-3456789", "US-EIN-12-3456789"),
        (" GB-SC-SC012345 ", "GB-SC-SC012345"),
        ("IT-CF-80012650158", "IT-CF-80012650158"),
        ("it-cf-80057930150", "IT-CF-80057930150"),
        ("IT-CF-80209930587", "IT-CF-80209930587"),
        ("IT-CF-rssmra85t10a562s", "IT-CF-RSSMRA85T10A562S"),
        ("360G-ALWF-org-1234", "360G-ALWF-org-1234"),
        ("360g-alwf-X1", "360G-ALWF-X1"),
    ],
)
def test_normalise_org_id(value: str, expected: str) -> None:
    assert normalise_org_id(value) == expected
    assert normalise_org_id(expected) == expected
    assert is_valid_org_id(value)


@pytest.mark.parametrize(
    "value",
    [
        "GB-CHC",
        "GB--123",
        "G-CHC-1",
        "12-CHC-1",
        "GB-CH C-1",
        "IT-CF-80057930151",
        "IT-CF-123",
        "360G-ALWF",
        "360X-ALWF-1",
    ],
)
def test_invalid_org_id(value: str) -> None:
    assert not is_valid_org_id(value)


# --------------------------------------------------------------------------- is_valid_* contract

VALID_AND_NORMALISER = [
    (normalise_doi, is_valid_doi, "10.1038/nature03889"),
    (normalise_pmid, is_valid_pmid, "16079797"),
    (normalise_pmcid, is_valid_pmcid, "PMC1234567"),
    (normalise_orcid, is_valid_orcid, "0000-0002-1825-0097"),
    (normalise_ror, is_valid_ror, "05gq02987"),
    (normalise_nct, is_valid_nct, "NCT03269071"),
    (normalise_eudract, is_valid_eudract, "2016-002020-86"),
    (normalise_euct, is_valid_euct, "2022-500024-30-00"),
    (normalise_isrctn, is_valid_isrctn, "ISRCTN12345678"),
    (normalise_who_utn, is_valid_who_utn, "U1111-1234-5678"),
    (normalise_org_id, is_valid_org_id, "GB-CHC-1234567"),
    (normalise_codice_fiscale, is_valid_codice_fiscale, "80012650158"),
]


@pytest.mark.parametrize(
    ("normalise", "is_valid", "canonical"),
    VALID_AND_NORMALISER,
    ids=[case[0].__name__ for case in VALID_AND_NORMALISER],
)
def test_is_valid_matches_normalise(
    normalise: Callable[[str], str], is_valid: Callable[[object], bool], canonical: str
) -> None:
    assert normalise(canonical) == canonical
    assert is_valid(canonical) is True
    for bad in ("", "not an identifier", None):
        assert is_valid(bad) is False


# Characters that identifiers and their usual decorations are made of, plus some noise.
IDENTIFIER_ISH = "0123456789abcdefghijklmnopqrstuvwxyzCDIMNPRTUX-./:%() \t\u00a0\u200b\u00e9\u00df"


@fast
@given(st.text(alphabet=IDENTIFIER_ISH, max_size=40))
def test_normalisers_raise_only_invalid_identifier_and_are_idempotent(text: str) -> None:
    for normalise, is_valid, _ in VALID_AND_NORMALISER:
        try:
            canonical = normalise(text)
        except InvalidIdentifier as error:
            assert error.kind in str(error)
            assert not is_valid(text)
        else:
            assert is_valid(text)
            assert normalise(canonical) == canonical
