"""Output, attribution and link forms (input shapes only; rules live in services)."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from typing import Any, ClassVar

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    Field,
    HiddenField,
    IntegerField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from app.models import (
    Confidentiality,
    DatePrecision,
    EvidenceKind,
    LinkRelation,
    OutputType,
    PatentStatus,
    TrialPhase,
    TrialStatus,
)
from app.records.forms import (
    MoneyField,
    VersionField,
    no_control_characters,
    options,
    parse_amount,
)

_MONTHS = {
    name.lower(): number
    for number, names in enumerate(
        (
            ("January", "Jan", "gennaio"),
            ("February", "Feb", "febbraio"),
            ("March", "Mar", "marzo"),
            ("April", "Apr", "aprile"),
            ("May", "maggio"),
            ("June", "Jun", "giugno"),
            ("July", "Jul", "luglio"),
            ("August", "Aug", "agosto"),
            ("September", "Sep", "Sept", "settembre"),
            ("October", "Oct", "ottobre"),
            ("November", "Nov", "novembre"),
            ("December", "Dec", "dicembre"),
        ),
        start=1,
    )
    for name in names
}
_PRECISION_RANK = {DatePrecision.YEAR: 0, DatePrecision.MONTH: 1, DatePrecision.DAY: 2}


def parse_partial_date(text: str) -> tuple[date, DatePrecision] | None:
    """Parse 2017, 2017-05, May 2017, 2017-05-11, 11/05/2017 or 11 May 2017; None if not."""
    text = " ".join(text.replace(",", " ").split())
    try:
        if m := re.fullmatch(r"(\d{4})", text):
            return date(int(m[1]), 1, 1), DatePrecision.YEAR
        if m := re.fullmatch(r"(\d{4})-(\d{1,2})", text):
            return date(int(m[1]), int(m[2]), 1), DatePrecision.MONTH
        if m := re.fullmatch(r"(\d{1,2})/(\d{4})", text):
            return date(int(m[2]), int(m[1]), 1), DatePrecision.MONTH
        if (m := re.fullmatch(r"([A-Za-z]+)\.? (\d{4})", text)) and m[1].lower() in _MONTHS:
            return date(int(m[2]), _MONTHS[m[1].lower()], 1), DatePrecision.MONTH
        if m := re.fullmatch(r"(\d{4})-(\d{1,2})-(\d{1,2})", text):
            return date(int(m[1]), int(m[2]), int(m[3])), DatePrecision.DAY
        if m := re.fullmatch(r"(\d{1,2})[/.](\d{1,2})[/.](\d{4})", text):
            return date(int(m[3]), int(m[2]), int(m[1])), DatePrecision.DAY
        if (m := re.fullmatch(r"(\d{1,2}) ([A-Za-z]+)\.? (\d{4})", text)) and m[
            2
        ].lower() in _MONTHS:
            return date(int(m[3]), _MONTHS[m[2].lower()], int(m[1])), DatePrecision.DAY
    except ValueError:
        return None
    return None


class PartialDateField(StringField):
    """A date known to the year, the month or the day, typed as such."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.precision = DatePrecision.DAY

    def process_formdata(self, valuelist: list[Any]) -> None:
        self.raw = valuelist[0].strip() if valuelist else ""
        self.data = None
        if not self.raw:
            return
        parsed = parse_partial_date(self.raw)
        if parsed is None:
            raise ValueError(
                f"'{self.raw}' is not a date: type 2017, May 2017 or 2017-05-11 "
                "(day/month/year also works)"
            )
        self.data, self.precision = parsed

    def _value(self) -> str:
        if getattr(self, "raw", None) is not None and self.data is None:
            return self.raw
        if self.data is None:
            return ""
        if self.precision == DatePrecision.YEAR:
            return f"{self.data.year}"
        if self.precision == DatePrecision.MONTH:
            return f"{self.data.year}-{self.data.month:02d}"
        return self.data.isoformat()


class ShareField(StringField):
    """A share typed as a percentage (50%, 50) or a fraction (0.5); data is the fraction."""

    def process_formdata(self, valuelist: list[Any]) -> None:
        self.raw = valuelist[0].strip() if valuelist else ""
        self.data = None
        if not self.raw:
            return
        text = self.raw.rstrip("%").strip()
        value = parse_amount(text) if text else None
        if value is None:
            raise ValueError(f"'{self.raw}' is not a share: type 50% or 0.5")
        # Above 1 can only be a percentage; a trailing % says so explicitly.
        self.data = value / 100 if self.raw.endswith("%") or value > 1 else value

    def _value(self) -> str:
        if self.data is None:
            return getattr(self, "raw", "") or ""
        return f"{(Decimal(self.data) * 100).normalize():f}%"


def _enum_default(value: Any) -> str:
    return str(value.value)


class OutputForm(FlaskForm):
    """The fields every output has, plus an optional first attribution on creation."""

    TYPES: ClassVar[tuple[OutputType, ...]] = (
        OutputType.COLLABORATION,
        OutputType.NEXT_DESTINATION,
        OutputType.ENGAGEMENT,
        OutputType.POLICY_INFLUENCE,
        OutputType.RESEARCH_TOOL,
        OutputType.DATABASE_MODEL,
        OutputType.SOFTWARE,
        OutputType.SPIN_OUT,
        OutputType.AWARD,
    )
    DETAILS: ClassVar[str] = ""

    version = VersionField()
    output_type = SelectField("Type", default="")
    title = StringField("Title", [DataRequired(), Length(max=500), no_control_characters])
    output_date = PartialDateField("Date", [Optional()])
    date_precision = SelectField(
        "Date known to",
        choices=options(DatePrecision.choices(), blank="As typed"),
        default="",
    )
    description = TextAreaField(
        "Description", [Optional(), Length(max=20_000), no_control_characters]
    )
    url = StringField("Web address", [Optional(), Length(max=500), no_control_characters])
    confidentiality = SelectField(
        "Confidentiality",
        choices=options(Confidentiality.choices()),
        default=_enum_default(Confidentiality.PUBLIC),
    )
    # Only on creation: credit a grant in the same step.
    grant_id = HiddenField()
    grant_label = StringField("Grant", [Length(max=600)])
    share = ShareField("Share")
    evidence = SelectField(
        "Evidence",
        choices=options(EvidenceKind.choices()),
        default=_enum_default(EvidenceKind.ACKNOWLEDGED),
    )
    evidence_text = TextAreaField(
        "Evidence text", [Optional(), Length(max=5000), no_control_characters]
    )

    def validate_date_precision(self, field: Field) -> None:
        """A precision finer than what was typed cannot be made up."""
        if not field.data or self.output_date.data is None:
            return
        typed = self.output_date.precision
        if _PRECISION_RANK[DatePrecision(field.data)] > _PRECISION_RANK[typed]:
            raise ValidationError(
                f"You typed the date to the {typed.value} only: type the full date "
                f"or choose '{typed.label}'."
            )

    def prepare(self) -> OutputForm:
        """Fill the type select with the types this form serves."""
        self.output_type.choices = options((t.value, t.label) for t in self.TYPES)
        return self


class PublicationForm(OutputForm):
    TYPES = (OutputType.PUBLICATION,)
    DETAILS = "publication"

    doi = StringField("DOI", [Length(max=300)])
    pmid = StringField("PMID", [Length(max=60)])
    pmcid = StringField("PMCID", [Length(max=60)])
    journal = StringField("Journal", [Optional(), Length(max=300), no_control_characters])
    publication_year = IntegerField("Year", [Optional()])
    volume = StringField("Volume", [Optional(), Length(max=20), no_control_characters])
    pages = StringField("Pages", [Optional(), Length(max=30), no_control_characters])
    authors = TextAreaField("Authors", [Optional(), Length(max=20_000), no_control_characters])


class MedicalProductForm(OutputForm):
    TYPES = (OutputType.MEDICAL_PRODUCT,)
    DETAILS = "trial"

    is_trial = BooleanField("This is a clinical trial")
    acronym = StringField("Acronym", [Optional(), Length(max=40), no_control_characters])
    phase = SelectField("Phase", choices=options(TrialPhase.choices(), blank="–"), default="")
    trial_status = SelectField(
        "Status", choices=options(TrialStatus.choices(), blank="–"), default=""
    )
    enrolment_planned = IntegerField("Planned enrolment", [Optional()])
    enrolment_actual = IntegerField("Actual enrolment", [Optional()])
    condition = StringField("Condition", [Optional(), Length(max=300), no_control_characters])
    intervention = StringField("Intervention", [Optional(), Length(max=500), no_control_characters])
    sponsor_id = HiddenField()
    sponsor_label = StringField("Sponsor", [Length(max=400)])
    start_date = DateField("Start date", [Optional()])
    first_patient_date = DateField("First patient treated", [Optional()])
    completion_date = DateField("Completion date", [Optional()])
    registry_ids = TextAreaField("Registry ids", [Optional(), Length(max=2000)])


class FurtherFundingForm(OutputForm):
    TYPES = (OutputType.FURTHER_FUNDING,)
    DETAILS = "further_funding"

    funder_id = HiddenField()
    funder_label = StringField("Funder", [Length(max=400)])
    funder_name = StringField(
        "Funder name as written", [Optional(), Length(max=300), no_control_characters]
    )
    amount = MoneyField("Amount", [Optional()])
    currency = SelectField("Currency", validate_choice=False, default="EUR")


class PatentForm(OutputForm):
    TYPES = (OutputType.INTELLECTUAL_PROPERTY,)
    DETAILS = "patent"

    patent_number = StringField("Patent number", [Optional(), Length(max=40)])
    patent_office = StringField("Office", [Optional(), Length(max=10)])
    patent_status = SelectField(
        "Patent status", choices=options(PatentStatus.choices(), blank="–"), default=""
    )


FORMS: dict[OutputType, type[OutputForm]] = {
    OutputType.PUBLICATION: PublicationForm,
    OutputType.MEDICAL_PRODUCT: MedicalProductForm,
    OutputType.FURTHER_FUNDING: FurtherFundingForm,
    OutputType.INTELLECTUAL_PROPERTY: PatentForm,
}


def form_class(output_type: OutputType) -> type[OutputForm]:
    """The form that edits outputs of a type."""
    return FORMS.get(output_type, OutputForm)


class AttributionForm(FlaskForm):
    grant_id = HiddenField()
    grant_label = StringField("Grant", [Length(max=600)])
    share = ShareField("Share")
    evidence = SelectField(
        "Evidence",
        choices=options(EvidenceKind.choices()),
        default=_enum_default(EvidenceKind.ACKNOWLEDGED),
    )
    evidence_text = TextAreaField(
        "Evidence text", [Optional(), Length(max=5000), no_control_characters]
    )
    source = StringField("Source", [Optional(), Length(max=500), no_control_characters])


class AttributionEditForm(FlaskForm):
    version = VersionField()
    share = ShareField("Share")
    evidence = SelectField("Evidence", choices=options(EvidenceKind.choices()))
    evidence_text = TextAreaField(
        "Evidence text", [Optional(), Length(max=5000), no_control_characters]
    )
    source = StringField("Source", [Optional(), Length(max=500), no_control_characters])


DIRECTIONS = (
    ("upstream", "This output stands on the other"),
    ("downstream", "The other output stands on this one"),
)


class LinkForm(FlaskForm):
    direction = SelectField("Direction", choices=options(DIRECTIONS), default="upstream")
    other_id = HiddenField()
    other_label = StringField("Other output", [Length(max=600)])
    relation = SelectField(
        "Relation",
        choices=options(LinkRelation.choices()),
        default=_enum_default(LinkRelation.BUILDS_ON),
    )
    evidence = SelectField(
        "Evidence",
        choices=options(EvidenceKind.choices()),
        default=_enum_default(EvidenceKind.STAFF_JUDGEMENT),
    )
    evidence_text = TextAreaField(
        "Evidence text", [Optional(), Length(max=5000), no_control_characters]
    )


def fill_from(form: OutputForm, output: Any) -> None:
    """Show an output's stored values in its edit form (GET only)."""
    form.version.data = output.version
    form.output_type.data = output.type.value
    form.date_precision.data = ""
    form.output_date.precision = output.date_precision
    if isinstance(form, PublicationForm) and output.publication is not None:
        p = output.publication
        form.doi.data, form.pmid.data, form.pmcid.data = p.doi, p.pmid, p.pmcid
        form.journal.data, form.publication_year.data = p.journal, p.year
        form.volume.data, form.pages.data, form.authors.data = p.volume, p.pages, p.authors
    if isinstance(form, MedicalProductForm):
        t = output.trial
        form.is_trial.data = t is not None
        if t is not None:
            form.acronym.data, form.condition.data = t.acronym, t.condition
            form.phase.data, form.trial_status.data = t.phase.value, t.status.value
            form.enrolment_planned.data = t.enrolment_planned
            form.enrolment_actual.data = t.enrolment_actual
            form.intervention.data = t.intervention
            form.sponsor_id.data = t.sponsor_organisation_id
            form.start_date.data = t.start_date
            form.first_patient_date.data = t.first_patient_date
            form.completion_date.data = t.completion_date
            form.registry_ids.data = "\n".join(r.value for r in t.registry_ids)
    if isinstance(form, FurtherFundingForm) and output.further_funding is not None:
        ff = output.further_funding
        form.funder_id.data = ff.funder_organisation_id
        form.funder_name.data, form.amount.data = ff.funder_name, ff.amount
        form.currency.data = ff.currency
    if isinstance(form, PatentForm) and output.patent is not None:
        form.patent_number.data = output.patent.number
        form.patent_office.data = output.patent.office
        form.patent_status.data = output.patent.status.value
