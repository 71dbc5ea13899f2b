"""The 360Giving Data Standard schemas, validated locally, and their column titles.

The two schema files under ``schema/`` are copies of the standard's own
(ThreeSixtyGiving/standard 1.4.3, CC BY 4.0). The package schema points at the
grant schema by a GitHub URL; a ``referencing`` Registry serves the local copy
under that URL (and under the grant schema's own ``$id``), so validation never
touches the network.

``format`` is asserted, as the standard's own checker (CoVE) does: without it
``awardDate``'s ``oneOf`` (a date-time, or a plain date) would match a plain
date twice and refuse it. jsonschema checks ``date-time`` and ``uri`` only when
optional packages are installed, so both are implemented here: RFC 3339
date-times, and URIs as a scheme followed by text without spaces.
"""

from __future__ import annotations

import copy
import functools
import json
import re
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import jsonschema
from jsonschema.exceptions import ValidationError
from referencing import Registry
from referencing.jsonschema import DRAFT202012

from app.imports.parsing import header_key

SCHEMA_DIR = Path(__file__).resolve().parent / "schema"
PACKAGE_FILE = SCHEMA_DIR / "360-giving-package-schema.json"
GRANT_FILE = SCHEMA_DIR / "360-giving-schema.json"

_DATE_TIME = re.compile(r"\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})\Z")
_URI = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:\S+\Z")

FORMATS = jsonschema.FormatChecker(formats=())


@FORMATS.checks("date-time", raises=ValueError)
def _is_date_time(value: object) -> bool:
    if not isinstance(value, str):
        return True
    if not _DATE_TIME.match(value):
        return False
    datetime.fromisoformat(value.upper().replace("Z", "+00:00"))  # month 13 etc. raise
    return True


@FORMATS.checks("uri")
def _is_uri(value: object) -> bool:
    return not isinstance(value, str) or bool(_URI.match(value))


@functools.cache
def package_schema() -> dict[str, Any]:
    """The package schema: ``{"grants": [...]}`` and the package metadata."""
    return json.loads(PACKAGE_FILE.read_text(encoding="utf-8"))  # type: ignore[no-any-return]


@functools.cache
def grant_schema() -> dict[str, Any]:
    """The schema of one grant."""
    return json.loads(GRANT_FILE.read_text(encoding="utf-8"))  # type: ignore[no-any-return]


@functools.cache
def registry() -> Registry[Any]:
    """The grant schema under its own $id and under the URL the package schema uses."""
    grant = grant_schema()
    resource = DRAFT202012.create_resource(grant)  # its "$schema" lacks https: name the draft
    urls = {grant["$id"], package_schema()["properties"]["grants"]["items"]["$ref"]}
    return Registry().with_resources((url, resource) for url in urls)


def _validator(schema: dict[str, Any]) -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(schema, registry=registry(), format_checker=FORMATS)


@functools.cache
def package_validator() -> jsonschema.Draft202012Validator:
    """The full package schema, as published (used to check exports)."""
    return _validator(package_schema())


@functools.cache
def metadata_validator() -> jsonschema.Draft202012Validator:
    """The package schema with the grants checked only as a non-empty list.

    The import checks each grant on its own (errors per grant, and no
    quadratic ``uniqueItems`` over 100,000 grants: identifiers are checked for
    duplicates instead).
    """
    schema = copy.deepcopy(package_schema())
    schema["properties"]["grants"] = {"type": "array", "minItems": 1}
    return _validator(schema)


@functools.cache
def grant_validator() -> jsonschema.Draft202012Validator:
    """One grant against the grant schema."""
    return _validator({"$ref": grant_schema()["$id"]})


def package_errors(package: Any) -> list[ValidationError]:
    """Every way a whole package departs from the published schema (for exports)."""
    return list(package_validator().iter_errors(package))


# ------------------------------------------------------------------------------ titles


def _resolve(node: dict[str, Any]) -> dict[str, Any]:
    ref = node.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/$defs/"):
        return grant_schema()["$defs"][ref.removeprefix("#/$defs/")]  # type: ignore[no-any-return]
    return node


def field_schema(path: tuple[str | int, ...]) -> dict[str, Any]:
    """The schema node of a field, e.g. ("recipientOrganization", 0, "id")."""
    node: dict[str, Any] = grant_schema()
    for step in path:
        node = _resolve(node)
        if isinstance(step, int):
            node = node.get("items", {})
        else:
            node = node.get("properties", {}).get(step, {})
    return _resolve(node)


def _title(node: dict[str, Any], fallback: str) -> str:
    title = node.get("title") or _resolve(node).get("title")
    return str(title) if title else fallback


def _walk_titles() -> Iterator[tuple[str, tuple[str | int, ...]]]:
    """(column title, path) of every field a flattened sheet can hold in its first item.

    Titles follow the standard's spreadsheet templates: "Amount Awarded",
    "Recipient Org:Identifier", "Planned Dates:Start Date" (first item of an
    array of objects only, as the standard's "rollUp" sheets do).
    """
    for name, node in grant_schema()["properties"].items():
        title = _title(node, name)
        resolved = _resolve(node)
        if resolved.get("type") == "array" and "items" in resolved:
            item = _resolve(resolved["items"])
            if item.get("type") != "object":
                continue  # arrays of plain values have no column form here
            for sub_name, sub_node in item.get("properties", {}).items():
                sub = _resolve(sub_node)
                if sub.get("type") in ("array", "object"):
                    continue
                yield f"{title}:{_title(sub_node, sub_name)}", (name, 0, sub_name)
        elif resolved.get("type") == "object":
            for sub_name, sub_node in resolved.get("properties", {}).items():
                if _resolve(sub_node).get("type") in ("array", "object"):
                    continue
                yield f"{title}:{_title(sub_node, sub_name)}", (name, sub_name)
        else:
            yield title, (name,)


@functools.cache
def column_paths() -> dict[str, tuple[str | int, ...]]:
    """Header key (see header_key) -> field path, for titles and for JSON-path headers."""
    paths: dict[str, tuple[str | int, ...]] = {}
    for title, path in _walk_titles():
        paths.setdefault(header_key(title), path)
        # flatten-tool's other header style: recipientOrganization/0/id
        paths.setdefault(header_key("/".join(str(p) for p in path)), path)
    return paths


@functools.cache
def path_titles() -> dict[tuple[str | int, ...], str]:
    """Field path -> the standard's column title."""
    titles: dict[tuple[str | int, ...], str] = {}
    for title, path in _walk_titles():
        titles.setdefault(path, title)
    return titles


def kind_of(path: tuple[str | int, ...]) -> str:
    """How a flattened cell is read: 'number', 'date', 'date-time' or 'text'."""
    node = field_schema(path)
    types = node.get("type")
    types = types if isinstance(types, list) else [types]
    if "number" in types or "integer" in types:
        return "number"
    if node.get("format") == "date-time":
        return "date-time"
    if any(option.get("format") == "date-time" for option in node.get("oneOf", ())):
        return "date"
    return "text"
