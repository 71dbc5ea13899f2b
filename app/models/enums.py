"""Controlled vocabularies of the domain model.

Each enum's value is what the database stores (a CHECK constraint allows only
these); ``label`` is what people read.
"""

from __future__ import annotations

import enum

# Human labels where "snake_case" -> "Snake case" is not good enough.
_LABELS: dict[str, dict[str, str]] = {}


def _set_labels(enum_class: type[enum.Enum], labels: dict[str, str]) -> None:
    _LABELS[enum_class.__name__] = labels


class LabelledEnum(enum.StrEnum):
    """A string enum whose members carry a human label."""

    @property
    def label(self) -> str:
        labels = _LABELS.get(type(self).__name__, {})
        return labels.get(self.value, self.value.replace("_", " ").capitalize())

    @classmethod
    def choices(cls) -> list[tuple[str, str]]:
        return [(m.value, m.label) for m in cls]


class OrganisationKind(LabelledEnum):
    UNIVERSITY = "university"
    HOSPITAL = "hospital"
    RESEARCH_INSTITUTE = "research_institute"
    COMPANY = "company"
    CHARITY = "charity"
    PUBLIC_BODY = "public_body"
    OTHER = "other"


class ProgrammeKind(LabelledEnum):
    ANNUAL_CALL = "annual_call"
    PILOT = "pilot"
    FELLOWSHIP = "fellowship"
    SPECIAL_PROJECT = "special_project"
    OTHER = "other"


class GrantStatus(LabelledEnum):
    AWARDED = "awarded"
    ACTIVE = "active"
    COMPLETED = "completed"
    TERMINATED = "terminated"
    WITHDRAWN = "withdrawn"


class GrantRelation(LabelledEnum):
    """How a grant relates to the earlier grant it continues."""

    RENEWAL = "renewal"
    CONTINUATION = "continuation"
    SUPPLEMENT = "supplement"


class Confidentiality(LabelledEnum):
    """Who may see a record: everyone, trustees and staff, or staff only."""

    PUBLIC = "public"
    TRUSTEES = "trustees"
    INTERNAL = "internal"


_set_labels(Confidentiality, {
    "public": "Public",
    "trustees": "Trustees and staff",
    "internal": "Internal (staff only)",
})


class InvestigatorRole(LabelledEnum):
    CO_INVESTIGATOR = "co_investigator"
    FELLOW = "fellow"
    SUPERVISOR = "supervisor"


_set_labels(InvestigatorRole, {"co_investigator": "Co-investigator"})


class OutputType(LabelledEnum):
    """The Researchfish common outcome types."""

    PUBLICATION = "publication"
    COLLABORATION = "collaboration"
    FURTHER_FUNDING = "further_funding"
    NEXT_DESTINATION = "next_destination"
    ENGAGEMENT = "engagement"
    POLICY_INFLUENCE = "policy_influence"
    RESEARCH_TOOL = "research_tool"
    DATABASE_MODEL = "database_model"
    INTELLECTUAL_PROPERTY = "intellectual_property"
    MEDICAL_PRODUCT = "medical_product"
    SOFTWARE = "software"
    SPIN_OUT = "spin_out"
    AWARD = "award"


_set_labels(OutputType, {
    "publication": "Publication",
    "collaboration": "Collaboration and partnership",
    "further_funding": "Further funding",
    "next_destination": "Next destination of trained people",
    "engagement": "Engagement activity",
    "policy_influence": "Influence on policy and practice",
    "research_tool": "Research tools and methods",
    "database_model": "Research databases and models",
    "intellectual_property": "Intellectual property",
    "medical_product": "Medical products, interventions and clinical trials",
    "software": "Software and technical products",
    "spin_out": "Spin-out",
    "award": "Award and recognition",
})


class DatePrecision(LabelledEnum):
    """How much of a date is known: history is often known only to the year."""

    YEAR = "year"
    MONTH = "month"
    DAY = "day"


class TrialPhase(LabelledEnum):
    """ClinicalTrials.gov phase vocabulary."""

    EARLY_PHASE_1 = "early_phase_1"
    PHASE_1 = "phase_1"
    PHASE_1_2 = "phase_1_2"
    PHASE_2 = "phase_2"
    PHASE_2_3 = "phase_2_3"
    PHASE_3 = "phase_3"
    PHASE_4 = "phase_4"
    NOT_APPLICABLE = "not_applicable"


_set_labels(TrialPhase, {
    "early_phase_1": "Early Phase 1",
    "phase_1": "Phase 1",
    "phase_1_2": "Phase 1/2",
    "phase_2": "Phase 2",
    "phase_2_3": "Phase 2/3",
    "phase_3": "Phase 3",
    "phase_4": "Phase 4",
    "not_applicable": "N/A",
})


class TrialStatus(LabelledEnum):
    """ClinicalTrials.gov overall recruitment status."""

    NOT_YET_RECRUITING = "not_yet_recruiting"
    RECRUITING = "recruiting"
    ENROLLING_BY_INVITATION = "enrolling_by_invitation"
    ACTIVE_NOT_RECRUITING = "active_not_recruiting"
    SUSPENDED = "suspended"
    TERMINATED = "terminated"
    COMPLETED = "completed"
    WITHDRAWN = "withdrawn"
    UNKNOWN = "unknown"


_set_labels(TrialStatus, {"active_not_recruiting": "Active, not recruiting"})


class TrialRegistry(LabelledEnum):
    NCT = "nct"
    EUDRACT = "eudract"
    EUCT = "euct"
    ISRCTN = "isrctn"
    WHO_UTN = "who_utn"


_set_labels(TrialRegistry, {
    "nct": "ClinicalTrials.gov",
    "eudract": "EudraCT",
    "euct": "EU CT (CTIS)",
    "isrctn": "ISRCTN",
    "who_utn": "WHO UTN",
})


class PatentStatus(LabelledEnum):
    FILED = "filed"
    PUBLISHED = "published"
    GRANTED = "granted"
    LAPSED = "lapsed"
    WITHDRAWN = "withdrawn"
    LICENSED = "licensed"


class EvidenceKind(LabelledEnum):
    """Why we believe a grant contributed to an output, firmest first."""

    ACKNOWLEDGED = "acknowledged"
    REGISTRY_RECORD = "registry_record"
    REPORTED_BY_INVESTIGATOR = "reported_by_investigator"
    STAFF_JUDGEMENT = "staff_judgement"


_set_labels(EvidenceKind, {
    "acknowledged": "Acknowledged in the output",
    "registry_record": "Registry record",
    "reported_by_investigator": "Reported by the investigator",
    "staff_judgement": "Staff judgement",
})


class LinkRelation(LabelledEnum):
    """How an output relates to the earlier output it stands on."""

    BUILDS_ON = "builds_on"
    REPORTS_RESULTS_OF = "reports_results_of"
    FOLLOW_UP_OF = "follow_up_of"
    CITES = "cites"


class DonorKind(LabelledEnum):
    INDIVIDUAL = "individual"
    COMPANY = "company"
    TRUST = "trust"
    BEQUEST = "bequest"
    PUBLIC_BODY = "public_body"


class Role(LabelledEnum):
    ADMIN = "admin"
    STAFF = "staff"
    TRUSTEE = "trustee"


class AuditAction(LabelledEnum):
    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"
    RESTORE = "restore"
    LOGIN = "login"
    LOGIN_FAILED = "login_failed"
    LOGOUT = "logout"
    IMPORT = "import"
    DOWNLOAD = "download"
    ISSUE = "issue"


class ImportStatus(LabelledEnum):
    RUNNING = "running"
    DRY_RUN = "dry_run"
    APPLIED = "applied"
    FAILED = "failed"
