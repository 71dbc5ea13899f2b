"""The OpenAPI 3.1 document of /api/v1, written by hand and checked by schemathesis.

Enumerations and limits come from the code that enforces them, so the document
cannot drift from the validation; the response shapes mirror serialise.py and
the tests validate real responses against them.
"""

from __future__ import annotations

import enum
import functools
from typing import Any

from app.grants.queries import SORTS as GRANT_SORTS
from app.models import (
    DatePrecision,
    EvidenceKind,
    Grant,
    GrantRelation,
    GrantStatus,
    InvestigatorRole,
    LinkRelation,
    OutputType,
    PatentStatus,
    TrialPhase,
    TrialRegistry,
    TrialStatus,
)
from app.outputs.queries import SORTS as OUTPUT_SORTS

from . import params
from .queries import TRIAL_SORTS

Schema = dict[str, Any]

REFERENCE_LENGTH: int = Grant.__table__.c.reference.type.length  # type: ignore[attr-defined]
# Free text may hold anything but C0 control characters (params.text refuses them).
TEXT_PATTERN = "^[^\\u0000-\\u001F\\u007F]*$"


def _ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def _nullable(schema: Schema) -> Schema:
    """The schema or null (JSON Schema 2020-12, as OpenAPI 3.1 uses)."""
    if "$ref" in schema or "enum" in schema:
        return {"anyOf": [schema, {"type": "null"}]}
    return {**schema, "type": [schema["type"], "null"]}


def _object(properties: Schema, description: str | None = None) -> Schema:
    """An object with exactly these properties, all present (null where documented)."""
    schema: Schema = {
        "type": "object",
        "required": list(properties),
        "properties": properties,
        "additionalProperties": False,
    }
    if description:
        schema["description"] = description
    return schema


def _enum(values: type[enum.Enum]) -> Schema:
    return {"type": "string", "enum": [member.value for member in values]}


STRING: Schema = {"type": "string"}
INTEGER: Schema = {"type": "integer"}
BOOLEAN: Schema = {"type": "boolean"}
DATE: Schema = {"type": "string", "format": "date"}
URL: Schema = {"type": "string", "format": "uri"}
DECIMAL: Schema = {
    "type": "string",
    "pattern": "^-?[0-9]+(\\.[0-9]+)?$",
    "description": "An exact decimal number written as a string.",
}
CONFIDENTIALITY: Schema = {
    "type": "string",
    "enum": ["public", "trustees", "internal"],
    "description": "Who may see the record; trustees' tokens never receive internal ones.",
}


def _schemas() -> dict[str, Schema]:
    links = _object(
        {
            "self": URL,
            "first": URL,
            "last": URL,
            "prev": _nullable(URL),
            "next": _nullable(URL),
        }
    )
    registry_id = _object(
        {
            "scheme": _enum(TrialRegistry),
            "value": STRING,
            "url": _nullable(URL),
        }
    )
    urls = {"url": URL, "html_url": URL}
    return {
        "Error": _object({"error": STRING}, "What went wrong, in words."),
        "Money": _object(
            {
                "amount": {
                    "type": "string",
                    "pattern": "^[0-9]+\\.[0-9]{2}$",
                    "description": "Exact amount with two decimals, as a string.",
                    "examples": ["250000.00"],
                },
                "currency": {"type": "string", "pattern": "^[A-Z]{3}$", "examples": ["EUR"]},
            },
            "An amount of money in its original currency (ITL before 2002, EUR after).",
        ),
        "Links": links,
        "RegistryId": registry_id,
        "GrantSummary": _object(
            {
                "id": INTEGER,
                "reference": STRING,
                "title": STRING,
                "status": _enum(GrantStatus),
                "programme": _nullable(STRING),
                "institution": STRING,
                "award_date": DATE,
                "amount": _ref("Money"),
                "amount_eur": _nullable(_ref("Money")),
                "confidentiality": CONFIDENTIALITY,
                "is_fictional": BOOLEAN,
                **urls,
            }
        ),
        "Grant": _object(
            {
                "id": INTEGER,
                "reference": STRING,
                "title": STRING,
                "summary": _nullable(STRING),
                "status": _enum(GrantStatus),
                "programme": _nullable(STRING),
                "programme_id": _nullable(INTEGER),
                "research_areas": {"type": "array", "items": STRING},
                "institution": _object(
                    {
                        "id": INTEGER,
                        "name": STRING,
                        "country": STRING,
                        "ror_id": _nullable(STRING),
                    }
                ),
                "principal_investigator": _nullable(
                    _object({"name": STRING, "orcid": _nullable(STRING)})
                ),
                "investigators": {
                    "type": "array",
                    "items": _object(
                        {
                            "name": STRING,
                            "orcid": _nullable(STRING),
                            "role": _enum(InvestigatorRole),
                        }
                    ),
                },
                "award_date": DATE,
                "start_date": _nullable(DATE),
                "end_date": _nullable(DATE),
                "amount": _ref("Money"),
                "amount_eur": _nullable(_ref("Money")),
                "payments": {
                    "type": "array",
                    "items": _object(
                        {
                            "due_date": DATE,
                            "paid_date": _nullable(DATE),
                            "amount": _ref("Money"),
                            "amount_eur": _nullable(_ref("Money")),
                        }
                    ),
                },
                "co_funding": {
                    "type": "array",
                    "items": _object(
                        {
                            "funder": STRING,
                            "amount": _nullable(_ref("Money")),
                            "amount_eur": _nullable(_ref("Money")),
                        }
                    ),
                },
                "previous_grant": _nullable(
                    _object(
                        {
                            "reference": STRING,
                            "relation": _nullable(_enum(GrantRelation)),
                            "url": URL,
                        }
                    )
                ),
                "continued_by": {
                    "type": "array",
                    "items": _object({"reference": STRING, "url": URL}),
                },
                "outputs": {
                    "type": "array",
                    "items": _object(
                        {
                            "id": INTEGER,
                            "title": STRING,
                            "type": _enum(OutputType),
                            "year": _nullable(INTEGER),
                            "share": _nullable(DECIMAL),
                            "evidence": _enum(EvidenceKind),
                            "confirmed": BOOLEAN,
                            "is_trial": BOOLEAN,
                            **urls,
                        }
                    ),
                },
                "trials": {
                    "type": "array",
                    "description": "Trials downstream of the grant; depth 0: attributed directly.",
                    "items": _object(
                        {
                            "id": INTEGER,
                            "title": STRING,
                            "acronym": _nullable(STRING),
                            "phase": _enum(TrialPhase),
                            "status": _enum(TrialStatus),
                            "registry_ids": {"type": "array", "items": _ref("RegistryId")},
                            "start_date": _nullable(DATE),
                            "first_patient_date": _nullable(DATE),
                            "depth": INTEGER,
                            **urls,
                        }
                    ),
                },
                "confidentiality": CONFIDENTIALITY,
                "is_fictional": BOOLEAN,
                **urls,
            }
        ),
        "OutputSummary": _object(
            {
                "id": INTEGER,
                "type": _enum(OutputType),
                "title": STRING,
                "date": _nullable(DATE),
                "date_precision": _enum(DatePrecision),
                "doi": _nullable(STRING),
                "journal": _nullable(STRING),
                "is_trial": BOOLEAN,
                "phase": _nullable(_enum(TrialPhase)),
                "registry_ids": {"type": "array", "items": STRING},
                "grant_count": INTEGER,
                "confidentiality": CONFIDENTIALITY,
                "is_fictional": BOOLEAN,
                **urls,
            }
        ),
        "OutputLink": _object(
            {
                "id": INTEGER,
                "title": STRING,
                "type": _enum(OutputType),
                "relation": _enum(LinkRelation),
                "evidence": _enum(EvidenceKind),
                "confirmed": BOOLEAN,
                "is_trial": BOOLEAN,
                **urls,
            }
        ),
        "Output": _object(
            {
                "id": INTEGER,
                "type": _enum(OutputType),
                "title": STRING,
                "date": _nullable(DATE),
                "date_precision": _enum(DatePrecision),
                "description": _nullable(STRING),
                "external_url": _nullable(STRING),
                "publication": _nullable(
                    _object(
                        {
                            "doi": _nullable(STRING),
                            "pmid": _nullable(STRING),
                            "pmcid": _nullable(STRING),
                            "journal": _nullable(STRING),
                            "year": _nullable(INTEGER),
                            "volume": _nullable(STRING),
                            "pages": _nullable(STRING),
                            "authors": _nullable(STRING),
                        }
                    )
                ),
                "trial": _nullable(
                    _object(
                        {
                            "acronym": _nullable(STRING),
                            "phase": _enum(TrialPhase),
                            "status": _enum(TrialStatus),
                            "registry_ids": {"type": "array", "items": _ref("RegistryId")},
                            "enrolment_planned": _nullable(INTEGER),
                            "enrolment_actual": _nullable(INTEGER),
                            "condition": _nullable(STRING),
                            "intervention": _nullable(STRING),
                            "sponsor": _nullable(STRING),
                            "start_date": _nullable(DATE),
                            "first_patient_date": _nullable(DATE),
                            "completion_date": _nullable(DATE),
                            "lineage_url": URL,
                        }
                    )
                ),
                "further_funding": _nullable(
                    _object(
                        {
                            "funder": _nullable(STRING),
                            "amount": _nullable(_ref("Money")),
                            "amount_eur": _nullable(_ref("Money")),
                        }
                    )
                ),
                "patent": _nullable(
                    _object({"number": STRING, "office": STRING, "status": _enum(PatentStatus)})
                ),
                "grants": {
                    "type": "array",
                    "description": "Grants credited with the output.",
                    "items": _object(
                        {
                            "reference": STRING,
                            "title": STRING,
                            "share": _nullable(DECIMAL),
                            "evidence": _enum(EvidenceKind),
                            "confirmed": BOOLEAN,
                            **urls,
                        }
                    ),
                },
                "stands_on": {
                    "type": "array",
                    "description": "Earlier outputs this one builds on.",
                    "items": _ref("OutputLink"),
                },
                "built_on_by": {
                    "type": "array",
                    "description": "Later outputs that build on this one.",
                    "items": _ref("OutputLink"),
                },
                "confidentiality": CONFIDENTIALITY,
                "is_fictional": BOOLEAN,
                **urls,
            }
        ),
        "TrialSummary": _object(
            {
                "id": INTEGER,
                "title": STRING,
                "acronym": _nullable(STRING),
                "phase": _enum(TrialPhase),
                "status": _enum(TrialStatus),
                "registry_ids": {"type": "array", "items": _ref("RegistryId")},
                "enrolment_planned": _nullable(INTEGER),
                "enrolment_actual": _nullable(INTEGER),
                "condition": _nullable(STRING),
                "intervention": _nullable(STRING),
                "sponsor": _nullable(STRING),
                "start_date": _nullable(DATE),
                "first_patient_date": _nullable(DATE),
                "completion_date": _nullable(DATE),
                "confidentiality": CONFIDENTIALITY,
                "is_fictional": BOOLEAN,
                "lineage_url": URL,
                **urls,
            }
        ),
        "Lineage": _object(
            {
                "output": _object(
                    {
                        "id": INTEGER,
                        "title": STRING,
                        "type": _enum(OutputType),
                        "date": _nullable(DATE),
                        "trial": _nullable(
                            _object(
                                {
                                    "acronym": _nullable(STRING),
                                    "phase": _enum(TrialPhase),
                                    "status": _enum(TrialStatus),
                                    "registry_ids": {
                                        "type": "array",
                                        "items": _object(
                                            {"scheme": _enum(TrialRegistry), "value": STRING}
                                        ),
                                    },
                                    "start_date": _nullable(DATE),
                                    "first_patient_date": _nullable(DATE),
                                    "completion_date": _nullable(DATE),
                                }
                            )
                        ),
                    }
                ),
                "grants": {
                    "type": "array",
                    "description": "Grants attributed to the trial or any output upstream of it.",
                    "items": _object(
                        {
                            "reference": STRING,
                            "title": STRING,
                            "award_date": DATE,
                            "amount": DECIMAL,
                            "currency": {"type": "string", "pattern": "^[A-Z]{3}$"},
                            "amount_eur": _nullable(DECIMAL),
                            "institution": STRING,
                            "investigators": {"type": "array", "items": STRING},
                            "depth": INTEGER,
                        }
                    ),
                },
                "outputs": {
                    "type": "array",
                    "description": "Outputs upstream of the trial, nearest first.",
                    "items": _object(
                        {
                            "id": INTEGER,
                            "title": STRING,
                            "type": _enum(OutputType),
                            "year": _nullable(INTEGER),
                            "depth": INTEGER,
                        }
                    ),
                },
                "summary": _object(
                    {
                        "grant_count": INTEGER,
                        "total_awarded_eur": DECIMAL,
                        "attributed_eur": _nullable(DECIMAL),
                        "first_grant_year": _nullable(INTEGER),
                        "trial_start_year": _nullable(INTEGER),
                        "years_to_trial": _nullable(INTEGER),
                        "institution_count": INTEGER,
                        "researcher_count": INTEGER,
                    }
                ),
            },
            "The same document as `grantpath lineage ID --json`.",
        ),
        "GroupFunding": _object(
            {
                "id": _nullable(INTEGER),
                "key": _nullable(STRING),
                "label": STRING,
                "grant_count": INTEGER,
                "amount": _ref("Money"),
            }
        ),
        "CountRow": _object({"key": STRING, "label": STRING, "count": INTEGER}),
        "Portfolio": _object(
            {
                "from": INTEGER,
                "to": INTEGER,
                "grant_count": INTEGER,
                "total_awarded": _ref("Money"),
                "unconverted_grant_count": INTEGER,
                "real_terms": _nullable(
                    _object(
                        {
                            "base_year": INTEGER,
                            "total": _nullable(_ref("Money")),
                            "missing_years": {"type": "array", "items": INTEGER},
                        }
                    )
                ),
                "funding_by_year": {
                    "type": "array",
                    "items": _object(
                        {"year": INTEGER, "grant_count": INTEGER, "amount": _ref("Money")}
                    ),
                },
                "by_programme": {"type": "array", "items": _ref("GroupFunding")},
                "by_area": {"type": "array", "items": _ref("GroupFunding")},
                "by_institution": {"type": "array", "items": _ref("GroupFunding")},
                "other_institutions": _nullable(_ref("GroupFunding")),
                "institution_count": INTEGER,
                "by_country": {"type": "array", "items": _ref("GroupFunding")},
                "output_count": INTEGER,
                "outputs_by_type": {"type": "array", "items": _ref("CountRow")},
                "outputs_by_year": {
                    "type": "array",
                    "items": _object({"year": INTEGER, "count": INTEGER}),
                },
                "trial_count": INTEGER,
                "trials_by_phase": {"type": "array", "items": _ref("CountRow")},
                "trials_by_status": {"type": "array", "items": _ref("CountRow")},
                "grants_with_outputs": INTEGER,
                "median_months_to_first_output": _nullable(DECIMAL),
                "mean_months_to_first_output": _nullable(DECIMAL),
                "further_funding": _ref("Money"),
                "leverage": _nullable(DECIMAL),
                "completed_grant_count": INTEGER,
                "completed_with_outputs_count": INTEGER,
                "completed_with_outputs_share": _nullable(DECIMAL),
                "overdue_report_count": INTEGER,
                "has_fictional_data": BOOLEAN,
                "method_notes": {"type": "array", "items": STRING},
            }
        ),
        **{
            f"{name}Page": _object(
                {
                    "items": {"type": "array", "items": _ref(name)},
                    "page": {"type": "integer", "minimum": 1},
                    "per_page": {"type": "integer", "minimum": 1, "maximum": params.MAX_PER_PAGE},
                    "total": {"type": "integer", "minimum": 0},
                    "pages": {"type": "integer", "minimum": 1},
                    "links": _ref("Links"),
                },
                "One page of a list; a page past the end gives the last page.",
            )
            for name in ("GrantSummary", "OutputSummary", "TrialSummary")
        },
    }


def _query(name: str, schema: Schema, description: str) -> Schema:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "schema": schema,
        "description": description,
    }


def _year(name: str, low: int, high: int, description: str) -> Schema:
    return _query(name, {"type": "integer", "minimum": low, "maximum": high}, description)


def _list_parameters(sorts: Any, default_sort: str) -> list[Schema]:
    return [
        _query("page", {"type": "integer", "minimum": 1, "maximum": params.MAX_ID}, "Page number."),
        _query(
            "per_page",
            {
                "type": "integer",
                "minimum": 1,
                "maximum": params.MAX_PER_PAGE,
                "default": params.DEFAULT_PER_PAGE,
            },
            "Items per page.",
        ),
        _query(
            "q",
            {"type": "string", "maxLength": params.MAX_TEXT, "pattern": TEXT_PATTERN},
            "Search text.",
        ),
        _query(
            "sort",
            {"type": "string", "enum": list(sorts), "default": default_sort},
            "Sort key.",
        ),
        _query("dir", {"type": "string", "enum": ["asc", "desc"], "default": "asc"}, "Direction."),
    ]


def _responses(ok: Schema, description: str, *codes: int) -> Schema:
    responses: Schema = {
        "200": {"description": description, "content": {"application/json": {"schema": ok}}},
        "401": {
            "description": "No, an unknown, an expired or a revoked token.",
            "headers": {
                "WWW-Authenticate": {
                    "required": True,
                    "schema": {"type": "string"},
                    "description": "Bearer challenge (RFC 6750).",
                }
            },
            "content": {"application/json": {"schema": _ref("Error")}},
        },
    }
    texts = {400: "A query parameter is malformed.", 404: "Not found, or not visible to you."}
    for code in codes:
        responses[str(code)] = {
            "description": texts[code],
            "content": {"application/json": {"schema": _ref("Error")}},
        }
    return responses


def _get(
    operation_id: str, summary: str, parameters: list[Schema], responses: Schema, tag: str
) -> Schema:
    return {
        "get": {
            "operationId": operation_id,
            "summary": summary,
            "tags": [tag],
            "parameters": parameters,
            "responses": responses,
        }
    }


DESCRIPTION = """\
Read-only access to the foundation's grants, their outputs, the clinical trials
they led to (with the pathway of grants behind each trial) and portfolio figures.

Authenticate with a token an administrator issued at /admin/api-tokens:
`Authorization: Bearer <token>`. A token reads what its owner may read on the
pages (trustees: public and trustee-level records; staff and admins: all).
A logged-in browser session may read the API too.

Money is an object with the exact amount as a string and its currency. Lists
are paginated with `page` and `per_page` (at most 100); `links` give the
neighbouring pages. Records marked `is_fictional` are invented demo data.
"""


@functools.cache
def openapi_document() -> dict[str, Any]:
    """The OpenAPI 3.1 document of the API (paths relative to the server /api/v1)."""
    reference = {
        "name": "reference",
        "in": "path",
        "required": True,
        "schema": {"type": "string", "minLength": 1, "maxLength": REFERENCE_LENGTH},
        "description": "The grant reference, e.g. FISM-2004-017.",
    }
    output_id = {
        "name": "output_id",
        "in": "path",
        "required": True,
        "schema": {"type": "integer", "minimum": 1, "maximum": params.MAX_ID},
    }
    identifier = {
        "name": "identifier",
        "in": "path",
        "required": True,
        "schema": {"type": "string", "minLength": 1, "maxLength": 40},
        "description": "An output id, or a registry id (NCT, EudraCT, EU CT, ISRCTN, WHO UTN).",
        "examples": {"nct": {"value": "NCT03269071"}},
    }
    return {
        "openapi": "3.1.0",
        "info": {"title": "grantpath API", "version": "1.0.0", "description": DESCRIPTION},
        "servers": [{"url": "/api/v1"}],
        "security": [{"bearerAuth": []}],
        "tags": [
            {"name": "grants"},
            {"name": "outputs"},
            {"name": "trials"},
            {"name": "portfolio"},
            {"name": "meta"},
        ],
        "paths": {
            "/grants": _get(
                "listGrants",
                "List grants",
                [
                    *_list_parameters(GRANT_SORTS, "award_date"),
                    _query("status", _enum(GrantStatus), "Grant status."),
                    _query(
                        "programme",
                        {"type": "integer", "minimum": 1, "maximum": params.MAX_ID},
                        "Programme id.",
                    ),
                    _year("year", params.FIRST_YEAR, params.LAST_YEAR, "Award year."),
                ],
                _responses(_ref("GrantSummaryPage"), "A page of grants.", 400),
                "grants",
            ),
            "/grants/{reference}": _get(
                "getGrant",
                "One grant with its outputs and downstream trials",
                [reference],
                _responses(_ref("Grant"), "The grant.", 404),
                "grants",
            ),
            "/outputs": _get(
                "listOutputs",
                "List outputs",
                [
                    *_list_parameters(OUTPUT_SORTS, "date"),
                    _query("type", _enum(OutputType), "Output type (Researchfish)."),
                    _year("year", params.FIRST_YEAR, params.LAST_YEAR, "Year of the output."),
                ],
                _responses(_ref("OutputSummaryPage"), "A page of outputs.", 400),
                "outputs",
            ),
            "/outputs/{output_id}": _get(
                "getOutput",
                "One output with its details, grants and links",
                [output_id],
                _responses(_ref("Output"), "The output.", 404),
                "outputs",
            ),
            "/trials": _get(
                "listTrials",
                "List clinical trials with their registry ids",
                [
                    *_list_parameters(TRIAL_SORTS, "start_date"),
                    _query("phase", _enum(TrialPhase), "Trial phase."),
                    _query("status", _enum(TrialStatus), "Trial status."),
                ],
                _responses(_ref("TrialSummaryPage"), "A page of trials.", 400),
                "trials",
            ),
            "/trials/{identifier}/lineage": _get(
                "getTrialLineage",
                "The grants and outputs behind a trial",
                [identifier],
                _responses(_ref("Lineage"), "The pathway to the trial.", 404),
                "trials",
            ),
            "/portfolio": _get(
                "getPortfolio",
                "Portfolio figures for a period of years",
                [
                    _year(
                        "from",
                        params.PORTFOLIO_FIRST,
                        params.PORTFOLIO_LAST,
                        "First year (default: `to`, else last year).",
                    ),
                    _year(
                        "to",
                        params.PORTFOLIO_FIRST,
                        params.PORTFOLIO_LAST,
                        "Last year (default: `from`); the two may come in either order.",
                    ),
                    _year(
                        "base",
                        params.PORTFOLIO_FIRST,
                        params.PORTFOLIO_LAST,
                        "Base year for a real-terms total (needs the price index).",
                    ),
                ],
                _responses(_ref("Portfolio"), "The figures.", 400),
                "portfolio",
            ),
            "/openapi.json": {
                "get": {
                    "operationId": "getOpenApi",
                    "summary": "This document",
                    "tags": ["meta"],
                    "security": [],
                    "responses": {
                        "200": {
                            "description": "The OpenAPI document.",
                            "content": {"application/json": {"schema": {"type": "object"}}},
                        }
                    },
                }
            },
        },
        "components": {
            "securitySchemes": {
                "bearerAuth": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "A token issued by an administrator at /admin/api-tokens.",
                }
            },
            "schemas": _schemas(),
        },
    }
