"""The domain model. Import models from here: ``from app.models import Grant``."""

from .api import ApiToken as ApiToken
from .audit import AuditEvent, ImportRun
from .base import Base, utcnow
from .changes import ChangeCounter as ChangeCounter
from .enums import (
    AuditAction,
    Confidentiality,
    DatePrecision,
    DonorKind,
    EvidenceKind,
    GrantRelation,
    GrantStatus,
    ImportStatus,
    InvestigatorRole,
    LinkRelation,
    OrganisationKind,
    OutputType,
    PatentStatus,
    ProgrammeKind,
    Role,
    TrialPhase,
    TrialRegistry,
    TrialStatus,
)
from .funds import Donation, Donor, Fund, FundAllocation
from .grants import (
    CoFunding,
    Grant,
    GrantInvestigator,
    Payment,
    Programme,
    ResearchArea,
    grant_areas,
)
from .highlights import Highlight as Highlight
from .jobs import Job as Job
from .jobs import JobStatus as JobStatus
from .money import ExchangeRate, PriceIndex
from .organisations import Organisation, Person
from .outputs import (
    Attribution,
    ClinicalTrial,
    FurtherFunding,
    Output,
    OutputLink,
    Patent,
    Publication,
    TrialRegistryId,
)
from .reports import IssuedReport
from .users import User

__all__ = [
    "Attribution", "AuditAction", "AuditEvent", "Base", "ClinicalTrial", "CoFunding",
    "Confidentiality", "DatePrecision", "Donation", "Donor", "DonorKind", "EvidenceKind",
    "ExchangeRate", "Fund", "FundAllocation", "FurtherFunding", "Grant", "GrantInvestigator",
    "GrantRelation", "GrantStatus", "ImportRun", "ImportStatus", "InvestigatorRole",
    "IssuedReport", "LinkRelation", "Organisation", "OrganisationKind", "Output", "OutputLink",
    "OutputType", "Patent", "PatentStatus", "Payment", "Person", "PriceIndex", "Programme",
    "ProgrammeKind", "Publication", "ResearchArea", "Role", "TrialPhase", "TrialRegistry",
    "TrialRegistryId", "TrialStatus", "User", "grant_areas", "utcnow",
]
