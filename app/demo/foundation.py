"""The curated demo foundation: "Fondazione Mielina per la Ricerca" (fictional).

The foundation, its grants, institutions, researchers, donors and almost every
output are invented and flagged ``is_fictional``. A handful of records are real
and carry real public identifiers (the verified facts of DESIGN.md section 1):
the STEMS trial and its Nature Medicine paper, two earlier Nature papers, the
MESEMS and RAM-MS trials, the MESEMS paper, and the different trial
NCT03282760. The links between those real records and the invented grants and
outputs are invented too (they belong to fictional records). Invented records
never carry a real identifier: their DOIs, PMIDs and registry ids are NULL and
their patent numbers are of the obviously fake form ``XX DEMO-0001``.

Three pathways run from early basic-research grants through publications to a
real trial: STEMS (neural precursor cells, 13 grants 1988-2015, lire and
euro), MESEMS (mesenchymal stem cells) and RAM-MS (aHSCT). Around them about 330
further grants from 1987 to 2025 make a realistic portfolio.

Rows are written with the same bulk writer as the synthetic data, so a
load takes a fraction of a second. Everything is drawn from one seeded random
generator: two loads into empty databases are identical.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy import orm as so

from app.currency import RateTable
from app.identifiers import normalise_doi, normalise_eudract, normalise_nct
from app.models import (
    Attribution,
    ClinicalTrial,
    CoFunding,
    Confidentiality,
    DatePrecision,
    Donation,
    Donor,
    DonorKind,
    EvidenceKind,
    Fund,
    FundAllocation,
    FurtherFunding,
    Grant,
    GrantInvestigator,
    GrantRelation,
    GrantStatus,
    Highlight,
    InvestigatorRole,
    LinkRelation,
    Organisation,
    OrganisationKind,
    Output,
    OutputLink,
    OutputType,
    Patent,
    PatentStatus,
    Payment,
    Person,
    Programme,
    ProgrammeKind,
    Publication,
    TrialPhase,
    TrialRegistry,
    TrialRegistryId,
    TrialStatus,
    grant_areas,
)

from .synthetic import (
    EURO_CHANGEOVER,
    REFERENCE_DATE,
    BulkWriter,
    Echo,
    as_money,
    ensure_research_areas,
    money_units,
    split_instalments,
)

FOUNDATION_NAME = "Fondazione Mielina per la Ricerca (fictional demo foundation)"
REFERENCE_PREFIX = "FMR-"
SEED = 1987

# ------------------------------------------------------------------ real, verified records

STEMS_NCT = "NCT03269071"
STEMS_EUDRACT = "2016-002020-86"
STEMS_DOI = "10.1038/s41591-022-02097-3"
PLUCHINO_2005_DOI = "10.1038/nature03889"
MESEMS_NCT = "NCT01854957"
MESEMS_EUDRACT = "2011-001295-19"
MESEMS_DOI = "10.1016/s1474-4422(21)00301-x"
RAMMS_NCT = "NCT03477500"
RAMMS_EUDRACT = "2017-001362-25"
OTHER_NSC_NCT = "NCT03282760"  # a different neural stem cell trial: not STEMS
SAN_RAFFAELE = "IRCCS Ospedale San Raffaele"

#: Trials at the end of the demo's pathways, by acronym -> NCT number.
PATHWAY_TRIALS = {"STEMS": STEMS_NCT, "MESEMS": MESEMS_NCT, "RAM-MS": RAMMS_NCT}
#: Every real DOI the demo uses (lower case); no fictional record may carry one.
REAL_DOIS = frozenset({STEMS_DOI, PLUCHINO_2005_DOI, MESEMS_DOI})
#: Every real trial registry id the demo uses.
REAL_REGISTRY_IDS = frozenset({
    STEMS_NCT, STEMS_EUDRACT, MESEMS_NCT, MESEMS_EUDRACT, RAMMS_NCT, RAMMS_EUDRACT, OTHER_NSC_NCT,
})

FICTION_NOTE = "Fictional demo record."
LINK_NOTE = "Invented link for the demo (the grant or upstream output is fictional)."


def find_trial(session: so.Session, registry_id: str) -> int | None:
    """The output id of the trial with this registry id (any scheme), if loaded."""
    return session.execute(
        sa.select(TrialRegistryId.trial_output_id).where(TrialRegistryId.value == registry_id)
    ).scalar()


def find_stems_trial(session: so.Session) -> int | None:
    """The output id of the STEMS trial (NCT03269071), if the demo is loaded."""
    return find_trial(session, STEMS_NCT)


def is_loaded(session: so.Session) -> bool:
    """Whether the demo foundation is already in the database."""
    return session.execute(
        sa.select(Organisation.id).where(Organisation.name == FOUNDATION_NAME)
    ).first() is not None


# ------------------------------------------------------------------ invented institutions

# key, name, kind, country, city
ORGANISATIONS: tuple[tuple[str, str, OrganisationKind, str, str], ...] = (
    ("univ_valdorno", "Università degli Studi di Valdorno", OrganisationKind.UNIVERSITY, "IT",
     "Valdorno"),
    ("univ_castelbruno", "Università di Castelbruno", OrganisationKind.UNIVERSITY, "IT",
     "Castelbruno"),
    ("univ_montelago", "Università degli Studi di Montelago", OrganisationKind.UNIVERSITY, "IT",
     "Montelago"),
    ("poli_portoalba", "Università Politecnica di Porto Alba", OrganisationKind.UNIVERSITY, "IT",
     "Porto Alba"),
    ("univ_roccaverde", "Università di Roccaverde", OrganisationKind.UNIVERSITY, "IT",
     "Roccaverde"),
    ("univ_torrebella", "Università degli Studi di Torrebella", OrganisationKind.UNIVERSITY, "IT",
     "Torrebella"),
    ("luiss_pieve", "Libera Università di Pieve Aurelia", OrganisationKind.UNIVERSITY, "IT",
     "Pieve Aurelia"),
    ("osp_santalivia", "Ospedale Santa Livia", OrganisationKind.HOSPITAL, "IT", "Valdorno"),
    ("ao_colleverde", "Azienda Ospedaliera di Colleverde", OrganisationKind.HOSPITAL, "IT",
     "Colleverde"),
    ("osp_castelbruno", "Ospedale Maggiore di Castelbruno", OrganisationKind.HOSPITAL, "IT",
     "Castelbruno"),
    ("poli_montelago", "Policlinico Universitario di Montelago", OrganisationKind.HOSPITAL, "IT",
     "Montelago"),
    ("osp_teodoro", "Ospedale San Teodoro", OrganisationKind.HOSPITAL, "IT", "Porto Alba"),
    ("cc_roccaverde", "Centro Clinico Sclerosi Multipla di Roccaverde",
     OrganisationKind.HOSPITAL, "IT", "Roccaverde"),
    ("irccs_valmontese", "IRCCS Istituto Neurologico Valmontese", OrganisationKind.HOSPITAL,
     "IT", "Valmonte"),
    ("osp_sanfelice", "Ospedale Civile di Sanfelice Marittima", OrganisationKind.HOSPITAL, "IT",
     "Sanfelice Marittima"),
    ("ins_valdorno", "Istituto di Neurobiologia Sperimentale di Valdorno",
     OrganisationKind.RESEARCH_INSTITUTE, "IT", "Valdorno"),
    ("crcs_castelbruno", "Centro di Ricerca sulle Cellule Staminali di Castelbruno",
     OrganisationKind.RESEARCH_INSTITUTE, "IT", "Castelbruno"),
    ("iic_torrebella", "Istituto di Immunologia Clinica di Torrebella",
     OrganisationKind.RESEARCH_INSTITUTE, "IT", "Torrebella"),
    ("neuroimm_montelago", "Istituto per le Neuroimmagini di Montelago",
     OrganisationKind.RESEARCH_INSTITUTE, "IT", "Montelago"),
    ("biotec_portoalba", "Centro di Biotecnologie di Porto Alba",
     OrganisationKind.RESEARCH_INSTITUTE, "IT", "Porto Alba"),
    ("genetica_villafranca", "Istituto di Genetica Medica di Villafranca Alta",
     OrganisationKind.RESEARCH_INSTITUTE, "IT", "Villafranca Alta"),
    ("riab_colleverde", "Laboratorio di Neuroriabilitazione di Colleverde",
     OrganisationKind.RESEARCH_INSTITUTE, "IT", "Colleverde"),
    ("epi_pieve", "Centro di Epidemiologia Neurologica di Pieve Aurelia",
     OrganisationKind.RESEARCH_INSTITUTE, "IT", "Pieve Aurelia"),
    ("cellfactory_roccaverde", "Officina Cellulare GMP di Roccaverde",
     OrganisationKind.RESEARCH_INSTITUTE, "IT", "Roccaverde"),
    ("univ_colleverde", "Università di Colleverde", OrganisationKind.UNIVERSITY, "IT",
     "Colleverde"),
    ("ins_sanfelice", "Istituto di Scienze Neurologiche di Sanfelice Marittima",
     OrganisationKind.RESEARCH_INSTITUTE, "IT", "Sanfelice Marittima"),
    ("neurosfera", "NeuroSfera Biotech S.r.l.", OrganisationKind.COMPANY, "IT", "Valdorno"),
    ("cellulaviva", "Cellula Viva Therapeutics S.p.A.", OrganisationKind.COMPANY, "IT",
     "Castelbruno"),
    ("univ_lindenbrueck", "Universität Lindenbrück", OrganisationKind.UNIVERSITY, "DE",
     "Lindenbrück"),
    ("klinikum_lindenbrueck", "Klinikum Lindenbrück", OrganisationKind.HOSPITAL, "DE",
     "Lindenbrück"),
    ("albrecht_institut", "Max-Albrecht-Institut für Neuroimmunologie",
     OrganisationKind.RESEARCH_INSTITUTE, "DE", "Lindenbrück"),
    ("univ_saintaurele", "Université de Saint-Aurèle", OrganisationKind.UNIVERSITY, "FR",
     "Saint-Aurèle"),
    ("hopital_saintaurele", "Hôpital Neurologique de Saint-Aurèle", OrganisationKind.HOSPITAL,
     "FR", "Saint-Aurèle"),
    ("institut_mercier", "Institut Mercier de Biologie Cellulaire",
     OrganisationKind.RESEARCH_INSTITUTE, "FR", "Saint-Aurèle"),
    ("univ_valmoral", "Universidad de Valmoral", OrganisationKind.UNIVERSITY, "ES", "Valmoral"),
    ("hosp_valmoral", "Hospital Universitario de Valmoral", OrganisationKind.HOSPITAL, "ES",
     "Valmoral"),
    ("rug_oosterveld", "Rijksuniversiteit Oosterveld", OrganisationKind.UNIVERSITY, "NL",
     "Oosterveld"),
    ("oosterveld_inst", "Oosterveld Instituut voor Neurowetenschappen",
     OrganisationKind.RESEARCH_INSTITUTE, "NL", "Oosterveld"),
    ("univ_ashcombe", "University of Ashcombe", OrganisationKind.UNIVERSITY, "GB", "Ashcombe"),
    ("infirmary_ashcombe", "Ashcombe Royal Infirmary", OrganisationKind.HOSPITAL, "GB",
     "Ashcombe"),
    ("univ_bergtal", "Universität Bergtal", OrganisationKind.UNIVERSITY, "CH", "Bergtal"),
    ("norrviken_hosp", "Norrvikens universitetssjukhus", OrganisationKind.HOSPITAL, "SE",
     "Norrviken"),
    ("ulb_hautval", "Université Libre de Hautval", OrganisationKind.UNIVERSITY, "BE",
     "Hautval"),
    ("mu_emmerich", "Medizinische Universität Sankt Emmerich", OrganisationKind.UNIVERSITY, "AT",
     "Sankt Emmerich"),
    ("univ_kildeby", "Kildeby Universitet", OrganisationKind.UNIVERSITY, "DK", "Kildeby"),
    ("ecnr", "European Consortium for Neural Repair", OrganisationKind.OTHER, "BE", "Hautval"),
    # Co-funders.
    ("fcr_valdorno", "Fondazione Cassa di Risparmio di Valdorno", OrganisationKind.CHARITY, "IT",
     "Valdorno"),
    ("arrb", "Agenzia Regionale per la Ricerca Biomedica", OrganisationKind.PUBLIC_BODY, "IT",
     "Valdorno"),
    ("amici_mielina", "Associazione Amici della Mielina", OrganisationKind.CHARITY, "IT",
     "Castelbruno"),
    ("dsm", "Deutsche Stiftung für Myelinforschung", OrganisationKind.CHARITY, "DE",
     "Lindenbrück"),
    ("nordic_trust", "Nordic MS Research Trust", OrganisationKind.CHARITY, "SE", "Norrviken"),
)
CO_FUNDERS = ("fcr_valdorno", "arrb", "amici_mielina", "dsm", "nordic_trust", "ecnr")
NOT_HOSTS = set(CO_FUNDERS) | {"neurosfera", "cellulaviva"}

# Researchers: people invented from common given and family names. Family names
# of well-known MS researchers are left out on purpose.
IT_GIVEN = (
    "Marco", "Giulia", "Francesca", "Luca", "Alessandro", "Chiara", "Paolo", "Elena", "Davide",
    "Sara", "Matteo", "Valentina", "Andrea", "Federica", "Stefano", "Laura", "Giorgio", "Silvia",
    "Roberto", "Anna", "Simone", "Martina", "Lorenzo", "Beatrice", "Tommaso", "Ilaria",
    "Riccardo", "Elisa", "Nicola", "Marta", "Emanuele", "Cristina", "Fabio", "Serena",
)
IT_FAMILY = (
    "Lombardini", "Casati", "Benedetti", "Santoro", "Guidotti", "Marchetti", "Pellegrini",
    "Orlandi", "Fabbri", "Valentini", "Cattaneo", "Rinaldi", "Barbieri", "Fontana", "Morelli",
    "Mariani", "Donati", "Ferri", "Gentile", "Grasso", "Longo", "Negri", "Palumbo", "Parisi",
    "Serra", "Silvestri", "Zanetti", "Basile", "Caruso", "Fumagalli", "Moretti", "Monti", "Neri",
    "Bellandi", "Tornaghi", "Vallardi", "Roveda", "Bassani", "Pozzetti", "Orsenigo", "Brambati",
    "Castellucci", "Dellavalle", "Ferraresi", "Gualtieri", "Lanfranchi", "Mazzoleni", "Pagliari",
    "Quaglia", "Sartori", "Tedeschi", "Zappalà",
)
EU_NAMES = (
    ("DE", ("Jonas", "Katrin", "Lukas", "Miriam", "Tobias"),
     ("Weber", "Brandt", "Lehmann", "Vogel", "Hartmann", "Kessler")),
    ("FR", ("Claire", "Julien", "Camille", "Antoine"),
     ("Moreau", "Girard", "Marchand", "Rousseau", "Lefèvre")),
    ("ES", ("Lucía", "Pablo", "Carmen", "Javier"), ("Navarro", "Ortega", "Delgado", "Castillo")),
    ("NL", ("Sanne", "Pieter", "Femke"), ("Visser", "Bakker", "de Wit")),
    ("GB", ("Oliver", "Hannah", "James", "Eleanor"), ("Whitfield", "Hargreaves", "Pemberton")),
    ("SE", ("Ingrid", "Erik", "Astrid"), ("Lindqvist", "Berglund", "Holm")),
    ("CH", ("Reto", "Ursula"), ("Ammann", "Brunner")),
    ("BE", ("Lotte", "Maxime"), ("Peeters", "Dubois")),
    ("AT", ("Florian", "Theresa"), ("Gruber", "Steiner")),
    ("DK", ("Mette", "Rasmus"), ("Kjær", "Lindberg")),
)

# Pathway investigators: (key, given, family, organisation key).
PATHWAY_PEOPLE = (
    ("ferraresi", "Lucia", "Ferraresi", "ins_valdorno"),
    ("lombardini", "Marco", "Lombardini", "iic_torrebella"),
    ("casati", "Giulia", "Casati", "ins_valdorno"),
    ("benedetti", "Paolo", "Benedetti", "univ_valdorno"),
    ("santoro", "Chiara", "Santoro", "crcs_castelbruno"),
    ("guidotti", "Davide", "Guidotti", "cellfactory_roccaverde"),
    ("marchetti", "Elena", "Marchetti", "crcs_castelbruno"),
    ("pellegrini", "Stefano", "Pellegrini", None),  # at the real San Raffaele (invented person)
    ("orlandi", "Sara", "Orlandi", "neuroimm_montelago"),
    ("fabbri", "Andrea", "Fabbri", "univ_torrebella"),
    ("valentini", "Federica", "Valentini", "poli_montelago"),
    ("cattaneo", "Roberto", "Cattaneo", "cellfactory_roccaverde"),
    ("rinaldi", "Laura", "Rinaldi", "osp_castelbruno"),
    ("barbieri", "Giorgio", "Barbieri", "epi_pieve"),
    ("fontana", "Silvia", "Fontana", "osp_castelbruno"),
    ("weber", "Katrin", "Weber", "univ_lindenbrueck"),
)

JOURNALS = (
    "Journal of Experimental Neuroregeneration", "European Journal of Neuroimmunology Research",
    "Acta Neurologica Transalpina", "Archives of Demyelinating Disease",
    "Multiple Sclerosis Research Letters", "Stem Cells in Neurology",
    "Neuroimaging Methods Letters", "Rehabilitation in Neurology Quarterly",
    "Journal of Neuroepidemiological Studies", "Clinical Neurogenetics Reports",
)

# Topics of the portfolio by research area (lower case, used in titles).
AREA_SUBJECTS: dict[str, tuple[str, ...]] = {
    "neural stem cells": (
        "neural precursor cell survival after transplantation", "neurosphere-derived cell fate",
        "endogenous neural stem cell niches", "precursor cell homing to lesions",
        "induced neural stem cells from skin fibroblasts", "stem-cell secreted factors"),
    "mesenchymal stem cells": (
        "mesenchymal stromal cell immunomodulation", "MSC-derived extracellular vesicles",
        "MSC dosing and persistence", "bone-marrow MSC expansion", "MSC effects on microglia",
        "adipose-derived stromal cells"),
    "aHSCT": (
        "immune reset after aHSCT", "patient selection for aHSCT",
        "late effects of immunoablation", "the T-cell repertoire after transplantation",
        "aHSCT conditioning regimens", "cost-effectiveness of aHSCT"),
    "remyelination": (
        "oligodendrocyte precursor differentiation", "remyelination failure in chronic lesions",
        "myelin debris clearance", "imaging markers of remyelination",
        "thyroid hormone analogues in remyelination", "axon-glia signalling"),
    "neuroinflammation": (
        "meningeal B-cell follicles", "microglial activation",
        "T-cell trafficking across the blood-brain barrier", "cytokine networks in relapses",
        "smouldering lesion inflammation", "astrocyte reactivity"),
    "neuroprotection": (
        "axonal energy failure", "mitochondrial dysfunction in demyelinated axons",
        "sodium channel blockade", "neurofilament release", "retinal neurodegeneration",
        "oxidative stress in lesions"),
    "rehabilitation": (
        "upper limb rehabilitation", "aerobic training", "cognitive rehabilitation",
        "fatigue management", "balance and falls", "telerehabilitation"),
    "epidemiology": (
        "MS incidence in southern Europe", "vitamin D and MS risk",
        "Epstein-Barr virus infection and MS", "pregnancy outcomes in MS",
        "mortality trends in MS", "comorbidity in MS"),
    "imaging": (
        "cortical lesions on 7T MRI", "spinal cord atrophy", "paramagnetic rim lesions",
        "optical coherence tomography of the retina", "PET imaging of microglia",
        "MRI-based prediction of disability"),
    "genetics": (
        "HLA risk alleles", "the genetics of disease severity", "familial MS",
        "polygenic risk scores", "epigenetic marks in immune cells",
        "rare variants in progressive MS"),
    "biomarkers": (
        "serum neurofilament light chain", "CSF oligoclonal bands",
        "glial fibrillary acidic protein in serum", "digital gait biomarkers",
        "kappa free light chains", "blood biomarkers of progression"),
    "progressive MS": (
        "progression independent of relapses", "trial design in progressive MS",
        "spasticity in progressive MS", "slowly expanding lesions",
        "outcome measures for progressive MS", "ageing and progression"),
    "paediatric MS": (
        "cognition in paediatric-onset MS", "school life with paediatric MS",
        "treatment of paediatric MS", "puberty and paediatric MS",
        "long-term outcome of paediatric MS", "MOG antibody disease in children"),
    "quality of life": (
        "employment and MS", "caregiver burden", "bladder dysfunction", "pain in MS",
        "sleep disorders in MS", "depression in MS"),
}
AREA_WEIGHTS = {
    "neural stem cells": 8, "mesenchymal stem cells": 5, "aHSCT": 4, "remyelination": 9,
    "neuroinflammation": 12, "neuroprotection": 7, "rehabilitation": 9, "epidemiology": 7,
    "imaging": 10, "genetics": 6, "biomarkers": 7, "progressive MS": 7, "paediatric MS": 3,
    "quality of life": 5,
}
# Title frames that read well for any subject; the "in ... multiple sclerosis"
# ones only for subjects that do not name the disease already.
GRANT_FRAMES = (
    "{S}: a longitudinal study", "{S}: a multicentre study", "{S}: a translational study",
    "New approaches to {s}", "{S}: towards clinical application",
)
GRANT_FRAMES_IN_MS = ("{S} in early multiple sclerosis", "{S} in progressive multiple sclerosis")
LAB_AREAS = ("neural stem cells", "mesenchymal stem cells", "remyelination",
             "neuroinflammation", "neuroprotection")
PUBLICATION_FRAMES_LAB = (
    "{S} in experimental demyelination", "{S}: evidence from animal models",
    "{S}: an in vitro study", "{S}: a systematic review", "Rethinking {s}",
)
PUBLICATION_FRAMES_CLINICAL = (
    "{S}: results from a cohort of {n} patients", "{S}: a cross-sectional study",
    "{S}: a prospective study", "{S}: a case-control study", "{S}: follow-up at {y} years",
    "{S}: a systematic review", "{S}: a multicentre analysis",
)
OUTPUT_FRAMES: dict[OutputType, tuple[str, ...]] = {
    OutputType.COLLABORATION: ("Collaboration with {org} on {s}",),
    OutputType.FURTHER_FUNDING: ("{funder} grant for work on {s}",),
    OutputType.NEXT_DESTINATION: ("Fellow trained in {s} appointed at {org}",
                                  "PhD student trained in {s} moved to {org}"),
    OutputType.ENGAGEMENT: ("Patient information day on {s}", "Schools outreach on {s}",
                            "Press and media coverage of work on {s}",
                            "Podcast for people with MS on {s}"),
    OutputType.POLICY_INFLUENCE: ("Contribution to national guidance on {s}",
                                  "Evidence to a regional health committee on {s}"),
    OutputType.RESEARCH_TOOL: ("Standard operating procedure for {s}",
                               "Assessment protocol for {s}",
                               "Validated measurement method for {s}"),
    OutputType.DATABASE_MODEL: ("Cohort database on {s}", "Registry dataset on {s}",
                                "Biobank of samples for {s}"),
    OutputType.INTELLECTUAL_PROPERTY: ("Patent application: method concerning {s}",),
    OutputType.MEDICAL_PRODUCT: ("Candidate intervention targeting {s}",),
    OutputType.SOFTWARE: ("Open-source analysis software for {s}",
                          "Smartphone app for monitoring {s}"),
    OutputType.SPIN_OUT: ("Spin-out company developing work on {s}",),
    OutputType.AWARD: ("Young investigator award for research on {s}",
                       "Society prize for work on {s}"),
}
# Output types of the portfolio (weights per 100; trials are placed by hand).
OUTPUT_TYPE_WEIGHTS = (
    (OutputType.PUBLICATION, 48), (OutputType.COLLABORATION, 7), (OutputType.FURTHER_FUNDING, 7),
    (OutputType.NEXT_DESTINATION, 6), (OutputType.ENGAGEMENT, 9),
    (OutputType.POLICY_INFLUENCE, 2), (OutputType.RESEARCH_TOOL, 5),
    (OutputType.DATABASE_MODEL, 4), (OutputType.INTELLECTUAL_PROPERTY, 2),
    (OutputType.MEDICAL_PRODUCT, 1), (OutputType.SOFTWARE, 3), (OutputType.SPIN_OUT, 1),
    (OutputType.AWARD, 5),
)

# Grants awarded per year (pathway grants included), 1987-2025.
AWARDS_PER_YEAR = dict(zip(range(1987, 2026), (
    3, 4, 4, 4, 5, 5, 5, 6, 6, 6, 6, 7, 7, 7, 7, 8, 8, 8, 8, 9, 9, 9, 10, 10, 10, 11, 11, 12,
    12, 12, 13, 13, 14, 13, 13, 14, 14, 15, 15,
), strict=True))

FUNDS = (
    ("general", "General research fund", False,
     "Unrestricted gifts, allocated to the best-ranked projects of each call."),
    ("cell", "Cell therapy restricted fund", True,
     "Restricted to stem-cell and other cell-therapy research."),
    ("fellowship", "Young researchers fellowship fund", True,
     "Restricted to fellowships for researchers under 35."),
    ("rehab", "Rehabilitation research fund", True,
     "Restricted to rehabilitation and quality-of-life research."),
    ("endowment", "Bequests and endowment fund", False,
     "Legacies; the income is spent like the general fund."),
)

# Donors: (name, kind, anonymous, fund key preferred, relative size)
DONORS: tuple[tuple[str, DonorKind, bool, str, int], ...] = (
    ("Maria Teresa Vallardi", DonorKind.INDIVIDUAL, False, "general", 1),
    ("Giovanni Brambati", DonorKind.INDIVIDUAL, False, "cell", 1),
    ("Carla Sartori", DonorKind.INDIVIDUAL, True, "general", 1),
    ("Enrico Lanfranchi", DonorKind.INDIVIDUAL, False, "rehab", 1),
    ("Rosanna Quaglia", DonorKind.INDIVIDUAL, True, "cell", 2),
    ("Franco Mazzoleni", DonorKind.INDIVIDUAL, False, "general", 1),
    ("Luisa Gualtieri", DonorKind.INDIVIDUAL, False, "fellowship", 1),
    ("Alberto Tedeschi", DonorKind.INDIVIDUAL, True, "general", 2),
    ("Paola Castellucci", DonorKind.INDIVIDUAL, False, "general", 1),
    ("Dario Pagliari", DonorKind.INDIVIDUAL, False, "cell", 1),
    ("Hannah Whitcombe", DonorKind.INDIVIDUAL, False, "general", 1),
    ("Sergio Dellavalle", DonorKind.INDIVIDUAL, True, "general", 3),
    ("Nadia Orsenigo", DonorKind.INDIVIDUAL, False, "rehab", 1),
    ("Walter Roveda", DonorKind.INDIVIDUAL, False, "general", 1),
    ("Gabriella Bassani", DonorKind.INDIVIDUAL, True, "cell", 1),
    ("Ottavio Zappalà", DonorKind.INDIVIDUAL, False, "general", 1),
    ("Farmaceutica Valdornese S.p.A.", DonorKind.COMPANY, False, "general", 6),
    ("Banca Popolare di Castelbruno", DonorKind.COMPANY, False, "general", 8),
    ("Tessiture Montelago S.r.l.", DonorKind.COMPANY, False, "rehab", 3),
    ("Autoservizi Roccaverde S.p.A.", DonorKind.COMPANY, False, "general", 2),
    ("Lindenbrück Chemie GmbH", DonorKind.COMPANY, False, "cell", 5),
    ("Caffè Torrebella S.r.l.", DonorKind.COMPANY, True, "general", 2),
    ("Fondazione Famiglia Bellandi", DonorKind.TRUST, False, "cell", 10),
    ("Fondazione Cassa di Risparmio di Valdorno", DonorKind.TRUST, False, "general", 12),
    ("The Ashcombe Charitable Trust", DonorKind.TRUST, False, "fellowship", 5),
    ("Fondazione Pietro e Anna Roveda", DonorKind.TRUST, False, "cell", 7),
    ("Stiftung Bergtal für Neurologie", DonorKind.TRUST, False, "general", 4),
    ("Fondo Solidale Porto Alba", DonorKind.TRUST, True, "rehab", 3),
    ("Lascito Giovanna Merlini", DonorKind.BEQUEST, False, "endowment", 25),
    ("Lascito Carlo Andreoli", DonorKind.BEQUEST, False, "cell", 20),
    ("Estate of Margaret Hollis", DonorKind.BEQUEST, False, "endowment", 15),
    ("Lascito Elvira Pozzetti", DonorKind.BEQUEST, True, "endowment", 18),
    ("Lascito Ugo Tornaghi", DonorKind.BEQUEST, False, "fellowship", 12),
    ("Lascito Rina Bassani", DonorKind.BEQUEST, False, "general", 10),
    ("Comune di Valdorno", DonorKind.PUBLIC_BODY, False, "rehab", 4),
    ("Regione Valdornese", DonorKind.PUBLIC_BODY, False, "general", 15),
    ("Provincia di Castelbruno", DonorKind.PUBLIC_BODY, False, "general", 5),
    ("Agenzia Regionale per la Ricerca Biomedica", DonorKind.PUBLIC_BODY, False, "cell", 8),
)
# (year, donor name) of the one-off gifts from bequests.
BEQUEST_YEARS = {
    "Lascito Giovanna Merlini": 1992, "Lascito Carlo Andreoli": 1999,
    "Estate of Margaret Hollis": 2006, "Lascito Elvira Pozzetti": 2011,
    "Lascito Ugo Tornaghi": 2016, "Lascito Rina Bassani": 2022,
}

EVIDENCE_TEXT = {
    EvidenceKind.ACKNOWLEDGED: "Acknowledgement: \"Supported by Fondazione Mielina per la "
                               "Ricerca, grant {ref}.\"",
    EvidenceKind.REPORTED_BY_INVESTIGATOR: "Listed by the investigator in the final report of "
                                           "{ref}.",
    EvidenceKind.STAFF_JUDGEMENT: "Grants staff linked this output to {ref} (same investigator "
                                  "and line of work).",
    EvidenceKind.REGISTRY_RECORD: "The foundation is named as funder of {ref} in the registry "
                                  "record.",
}
EVIDENCE_SOURCE = {
    EvidenceKind.ACKNOWLEDGED: "Publication acknowledgement",
    EvidenceKind.REPORTED_BY_INVESTIGATOR: "Final report",
    EvidenceKind.STAFF_JUDGEMENT: "Staff review",
    EvidenceKind.REGISTRY_RECORD: "Registry record",
}


def add_months(day: date, months: int) -> date:
    """The same day ``months`` later (clamped to the 28th to stay valid)."""
    total = day.year * 12 + day.month - 1 + months
    return date(total // 12, total % 12 + 1, min(day.day, 28))


@dataclass
class GrantInfo:
    id: int
    reference: str
    award: date
    start: date
    end: date
    currency: str
    amount: Decimal
    status: GrantStatus
    pi: int
    areas: tuple[str, ...]
    kind: ProgrammeKind
    host: int
    outputs: list[int] = field(default_factory=list)


@dataclass
class PersonInfo:
    id: int
    given: str
    family: str
    org: int

    @property
    def citation(self) -> str:
        return f"{self.family} {''.join(p[0] for p in self.given.split())}"


class _Demo:
    """Builds the demo foundation into a BulkWriter."""

    def __init__(self, session: so.Session) -> None:
        self.session = session
        self.w = BulkWriter(session)
        self.rng = random.Random(SEED)
        self.rates = RateTable.load(session)
        self.area_ids = ensure_research_areas(session, self.w.added)
        self.orgs: dict[str, int] = {}
        self.org_names: dict[int, str] = {}
        self.org_country: dict[int, str] = {}
        self.people: dict[str, PersonInfo] = {}
        self.pool: list[PersonInfo] = []  # invented researchers for the portfolio
        self.programmes: dict[str, int] = {}
        self.funds: dict[str, int] = {}
        self.grants: list[GrantInfo] = []
        self.ref_seq: Counter[int] = Counter()
        self.patent_seq = 0
        self.output_when: dict[int, date] = {}
        self.output_kind: dict[int, OutputType] = {}
        self.area_outputs: dict[str, list[int]] = {a: [] for a in AREA_SUBJECTS}
        self.linked: set[tuple[int, int]] = set()
        self.attributed: set[tuple[int, int]] = set()
        self.awarded_eur_by_year: Counter[int] = Counter()

    # ----------------------------------------------------------- money

    def eur(self, amount: Decimal | None, currency: str, on: date) -> Decimal | None:
        return self.rates.to_eur(amount, currency, on)

    @staticmethod
    def currency_on(day: date) -> str:
        return "ITL" if day < EURO_CHANGEOVER else "EUR"

    @staticmethod
    def round_award(eur: float, currency: str) -> Decimal:
        """A round award: millions of lire before 2002, thousands of euro after."""
        if currency == "ITL":
            return Decimal(max(1, round(eur * 1936.27 / 5_000_000)) * 5_000_000)
        return Decimal(max(1, round(eur / 1_000)) * 1_000)

    # ----------------------------------------------------------- parties

    def add_org(self, key: str, name: str, kind: OrganisationKind, country: str, city: str,
                fictional: bool = True, website: str | None = None) -> int:
        ident = self.w.new(Organisation.__table__, {
            "name": name, "kind": kind, "country": country, "city": city,
            "website": website, "is_fictional": fictional,
        })
        self.orgs[key] = ident
        self.org_names[ident] = name
        self.org_country[ident] = country
        return ident

    def add_person(self, given: str, family: str, org: int) -> PersonInfo:
        ident = self.w.new(Person.__table__, {
            "family_name": family, "given_names": given, "organisation_id": org,
            "is_fictional": True,
        })
        return PersonInfo(ident, given, family, org)

    def build_parties(self) -> None:
        self.add_org("foundation", FOUNDATION_NAME, OrganisationKind.CHARITY, "IT", "Valdorno")
        for key, name, kind, country, city in ORGANISATIONS:
            self.add_org(key, name, kind, country, city)
        existing = self.session.execute(
            sa.select(Organisation.id).where(Organisation.name == SAN_RAFFAELE)
        ).scalar()
        if existing is not None:
            self.orgs["san_raffaele"] = existing
            self.org_names[existing] = SAN_RAFFAELE
            self.org_country[existing] = "IT"
        else:  # a real hospital: not fictional, and no identifiers we have not verified
            self.add_org("san_raffaele", SAN_RAFFAELE, OrganisationKind.HOSPITAL, "IT", "Milan",
                         fictional=False)

        taken: set[tuple[str, str]] = set()
        for key, given, family, org_key in PATHWAY_PEOPLE:
            person = self.add_person(given, family, self.orgs[org_key or "san_raffaele"])
            self.people[key] = person
            self.pool.append(person)
            taken.add((given, family))
        rng = self.rng
        it_hosts = [self.orgs[k] for k, _, _, c, _ in ORGANISATIONS
                    if c == "IT" and k not in NOT_HOSTS]
        while len(self.pool) < 110:
            given, family = rng.choice(IT_GIVEN), rng.choice(IT_FAMILY)
            if (given, family) in taken:
                continue
            taken.add((given, family))
            self.pool.append(self.add_person(given, family, rng.choice(it_hosts)))
        for country, givens, families in EU_NAMES:
            hosts = [self.orgs[k] for k, _, _, c, _ in ORGANISATIONS
                     if c == country and k not in NOT_HOSTS]
            for family in families:
                given = rng.choice(givens)
                if (given, family) in taken:
                    continue
                taken.add((given, family))
                self.pool.append(self.add_person(given, family, rng.choice(hosts)))

    # ----------------------------------------------------------- programmes and funds

    def programme(self, kind: ProgrammeKind, year: int) -> int:
        name, year_of = {
            ProgrammeKind.ANNUAL_CALL: (f"Annual call {year}", year),
            ProgrammeKind.PILOT: (f"Pilot grants {year}", year),
            ProgrammeKind.FELLOWSHIP: (f"Fellowships {year}", year),
            ProgrammeKind.SPECIAL_PROJECT: ("Special projects", None),
        }[kind]
        ident = self.programmes.get(name)
        if ident is None:
            ident = self.session.execute(
                sa.select(Programme.id).where(Programme.name == name)
            ).scalar()
            if ident is None:
                description = {
                    ProgrammeKind.ANNUAL_CALL: "Open call: 1-, 2- and 3-year projects (caps of "
                                               "about 100k, 250k and 400k EUR).",
                    ProgrammeKind.PILOT: "One-year pilot grants of about 30k EUR.",
                    ProgrammeKind.FELLOWSHIP: "Fellowships for young researchers.",
                    ProgrammeKind.SPECIAL_PROJECT: "Larger projects funded case by case.",
                }[kind]
                ident = self.w.new(Programme.__table__, {
                    "name": name, "kind": kind, "year": year_of, "description": description,
                })
            self.programmes[name] = ident
        return ident

    def build_funds(self) -> None:
        for key, name, restricted, purpose in FUNDS:
            self.funds[key] = self.w.new(Fund.__table__, {
                "name": name, "is_restricted": restricted, "purpose": purpose,
            })

    # ----------------------------------------------------------- grants

    def grant(
        self, *, year: int, kind: ProgrammeKind, title: str, pi: PersonInfo, years: int,
        eur: float | None = None, amount: Decimal | None = None, areas: tuple[str, ...],
        host: int | None = None, previous: GrantInfo | None = None,
        relation: GrantRelation | None = None, status: GrantStatus | None = None,
        confidentiality: Confidentiality = Confidentiality.PUBLIC,
        co_investigators: tuple[PersonInfo, ...] = (), supervisor: PersonInfo | None = None,
        cofund: tuple[str, float] | None = None, award: date | None = None,
        summary: str | None = None,
    ) -> GrantInfo:
        rng = self.rng
        if award is None:
            month, day = {
                ProgrammeKind.ANNUAL_CALL: (6, rng.randint(10, 28)),
                ProgrammeKind.PILOT: (11, rng.randint(2, 27)),
                ProgrammeKind.FELLOWSHIP: (9, rng.randint(2, 27)),
                ProgrammeKind.SPECIAL_PROJECT: (rng.randint(1, 12), rng.randint(1, 28)),
                ProgrammeKind.OTHER: (3, 1),
            }[kind]
            award = date(year, month, day)
        currency = self.currency_on(award)
        if amount is None:
            assert eur is not None
            amount = self.round_award(eur, currency)
        start = add_months(award.replace(day=1), rng.randint(1, 3))
        end = add_months(start, 12 * years) - timedelta(days=1)
        today = REFERENCE_DATE
        if status is None:
            status = (GrantStatus.COMPLETED if end < today else
                      GrantStatus.ACTIVE if start <= today else GrantStatus.AWARDED)
        if status is GrantStatus.TERMINATED:
            end = max(start + timedelta(days=120), add_months(start, rng.randint(5, 12 * years - 1))
                      - timedelta(days=1))
        due = received = None
        if status in (GrantStatus.COMPLETED, GrantStatus.TERMINATED):
            due = add_months(end, 3)
            late = due.year >= 2012 and rng.random() < 0.07
            if not late and due + timedelta(days=75) < today:
                received = due + timedelta(days=rng.randint(-20, 75))
        host_id = host if host is not None else pi.org
        self.ref_seq[award.year] += 1
        reference = f"{REFERENCE_PREFIX}{award.year}-{self.ref_seq[award.year]:03d}"
        amount_eur = self.eur(amount, currency, award)
        grant_id = self.w.new(Grant.__table__, {
            "reference": reference, "title": title,
            "summary": summary or f"{title}. {FICTION_NOTE}",
            "programme_id": self.programme(kind, award.year),
            "host_organisation_id": host_id, "principal_investigator_id": pi.id,
            "status": status, "award_date": award, "start_date": start, "end_date": end,
            "amount_awarded": amount, "currency": currency, "amount_eur": amount_eur,
            "previous_grant_id": previous.id if previous else None,
            "relation_to_previous": relation if previous else None,
            "confidentiality": confidentiality,
            "outcome_report_due": due, "outcome_report_received": received,
            "is_fictional": True,
        })
        info = GrantInfo(grant_id, reference, award, start, end, currency, amount, status,
                         pi.id, areas, kind, host_id)
        self.grants.append(info)
        if status is not GrantStatus.WITHDRAWN:
            self.awarded_eur_by_year[award.year] += int(amount_eur or 0)
        for area in areas:
            self.w.add(grant_areas, {"grant_id": grant_id,
                                     "research_area_id": self.area_ids[area]})
        seen = {pi.id}
        for person in co_investigators:
            if person.id not in seen:
                seen.add(person.id)
                self.w.add(GrantInvestigator.__table__, {
                    "grant_id": grant_id, "person_id": person.id,
                    "role": InvestigatorRole.CO_INVESTIGATOR})
        if supervisor is not None and supervisor.id not in seen:
            self.w.add(GrantInvestigator.__table__, {
                "grant_id": grant_id, "person_id": supervisor.id,
                "role": InvestigatorRole.SUPERVISOR})
        if status is not GrantStatus.WITHDRAWN:
            self._payments(info)
            self._allocations(info)
        if cofund is not None:
            self._cofunding(info, *cofund)
        return info

    def _payments(self, g: GrantInfo) -> None:
        count = max(1, (g.end.year - g.start.year) + (1 if g.end.month >= g.start.month else 0))
        if g.status is GrantStatus.TERMINATED:
            count = max(2, count)
        count = min(count, 5)
        for number, part in enumerate(split_instalments(g.amount, g.currency, count)):
            due = add_months(g.start, 12 * number)
            paid = None
            note = f"Instalment {number + 1} of {count}"
            if due <= REFERENCE_DATE:
                if g.status is GrantStatus.TERMINATED and due > g.end:
                    note += "; not paid: grant terminated"
                else:
                    paid = due + timedelta(days=self.rng.randint(7, 45))
            self.w.new(Payment.__table__, {
                "grant_id": g.id, "due_date": due, "paid_date": paid, "amount": part,
                "currency": g.currency, "amount_eur": self.eur(part, g.currency, due),
                "note": note,
            })

    def _allocations(self, g: GrantInfo) -> None:
        rng = self.rng
        cell = {"neural stem cells", "mesenchymal stem cells", "aHSCT"} & set(g.areas)
        if g.kind is ProgrammeKind.FELLOWSHIP:
            primary, share = "fellowship", 100
        elif cell:
            primary, share = "cell", rng.choice((60, 75, 100, 100))
        elif "rehabilitation" in g.areas or "quality of life" in g.areas:
            primary, share = "rehab", rng.choice((50, 100))
        else:
            primary, share = ("general", 100) if rng.random() < 0.8 else ("endowment", 100)
        units = money_units(g.amount, g.currency)
        first = units * share // 100
        parts = [(primary, first)]
        if first < units:
            parts.append(("general", units - first))
        for fund, part in parts:
            amount = as_money(part, g.currency)
            self.w.new(FundAllocation.__table__, {
                "fund_id": self.funds[fund], "grant_id": g.id, "amount": amount,
                "currency": g.currency, "amount_eur": self.eur(amount, g.currency, g.award),
            })

    def _cofunding(self, g: GrantInfo, funder: str, fraction: float) -> None:
        eur = float(self.eur(g.amount, g.currency, g.award) or 0) * fraction
        if funder == "dsm" and g.award < EURO_CHANGEOVER:
            currency, amount = "DEM", Decimal(max(1, round(eur * 1.95583 / 1_000)) * 1_000)
        elif g.currency == "ITL":
            currency, amount = "ITL", self.round_award(eur, "ITL")
        else:
            currency, amount = "EUR", self.round_award(eur, "EUR")
        self.w.new(CoFunding.__table__, {
            "grant_id": g.id, "funder_organisation_id": self.orgs[funder], "amount": amount,
            "currency": currency, "amount_eur": self.eur(amount, currency, g.award),
        })

    # ----------------------------------------------------------- outputs

    def output(self, kind: OutputType, title: str, when: date | None,
               precision: DatePrecision = DatePrecision.DAY, *, fictional: bool = True,
               description: str | None = None, url: str | None = None,
               confidentiality: Confidentiality = Confidentiality.PUBLIC,
               area: str | None = None) -> int:
        if when is not None and precision is DatePrecision.YEAR:
            when = date(when.year, 1, 1)
        elif when is not None and precision is DatePrecision.MONTH:
            when = when.replace(day=1)
        ident = self.w.new(Output.__table__, {
            "type": kind, "title": title, "output_date": when, "date_precision": precision,
            "description": description if description or not fictional else FICTION_NOTE,
            "url": url, "confidentiality": confidentiality, "is_fictional": fictional,
        })
        if when is not None:
            self.output_when[ident] = when
        self.output_kind[ident] = kind
        if area is not None:
            self.area_outputs[area].append(ident)
        return ident

    def publication(self, title: str, when: date, precision: DatePrecision, *,
                    authors: str, journal: str | None = None, doi: str | None = None,
                    volume: str | None = None, pages: str | None = None,
                    fictional: bool = True, area: str | None = None,
                    description: str | None = None) -> int:
        rng = self.rng
        ident = self.output(OutputType.PUBLICATION, title, when, precision, fictional=fictional,
                            area=area, description=description,
                            url=f"https://doi.org/{doi}" if doi else None)
        if fictional:
            assert doi is None, "invented publications never get a DOI"
            journal = journal or rng.choice(JOURNALS)
            volume = volume or str(when.year - 1970 + rng.randint(0, 3))
            if pages is None:
                first = rng.randint(1, 900)
                pages = f"{first}-{first + rng.randint(4, 14)}"
        self.w.add(Publication.__table__, {
            "output_id": ident, "doi": normalise_doi(doi) if doi else None, "journal": journal,
            "year": when.year, "volume": volume, "pages": pages, "authors": authors,
        })
        return ident

    def trial(self, title: str, when: date | None, precision: DatePrecision, *,
              phase: TrialPhase, status: TrialStatus, fictional: bool = True,
              registry: tuple[tuple[TrialRegistry, str], ...] = (),
              acronym: str | None = None, planned: int | None = None,
              actual: int | None = None, condition: str | None = None,
              intervention: str | None = None, sponsor: int | None = None,
              start: date | None = None, first_patient: date | None = None,
              completion: date | None = None, description: str | None = None,
              url: str | None = None, area: str | None = None) -> int:
        assert not (fictional and registry), "invented trials never get registry ids"
        ident = self.output(OutputType.MEDICAL_PRODUCT, title, when, precision,
                            fictional=fictional, description=description, url=url, area=area)
        self.w.add(ClinicalTrial.__table__, {
            "output_id": ident, "acronym": acronym, "phase": phase, "status": status,
            "enrolment_planned": planned, "enrolment_actual": actual, "condition": condition,
            "intervention": intervention, "sponsor_organisation_id": sponsor,
            "start_date": start, "first_patient_date": first_patient,
            "completion_date": completion,
        })
        for scheme, value in registry:
            normal = {TrialRegistry.NCT: normalise_nct,
                      TrialRegistry.EUDRACT: normalise_eudract}[scheme](value)
            self.w.new(TrialRegistryId.__table__, {
                "trial_output_id": ident, "scheme": scheme, "value": normal})
        return ident

    def patent(self, title: str, when: date, precision: DatePrecision, *,
               status: PatentStatus, area: str | None = None,
               confidentiality: Confidentiality = Confidentiality.PUBLIC) -> int:
        ident = self.output(OutputType.INTELLECTUAL_PROPERTY, title, when, precision, area=area,
                            confidentiality=confidentiality)
        self.patent_seq += 1
        self.w.add(Patent.__table__, {
            "output_id": ident, "office": "XX", "number": f"DEMO-{self.patent_seq:04d}",
            "status": status,
        })
        return ident

    def further_funding(self, title: str, when: date, precision: DatePrecision, *,
                        funder: str, eur: float, area: str | None = None) -> int:
        ident = self.output(OutputType.FURTHER_FUNDING, title, when, precision, area=area)
        currency = "DEM" if funder == "dsm" and when < EURO_CHANGEOVER else self.currency_on(when)
        if currency == "DEM":
            amount = Decimal(max(1, round(eur * 1.95583 / 1_000)) * 1_000)
        else:
            amount = self.round_award(eur, currency)
        funder_id = self.orgs.get(funder)
        self.w.add(FurtherFunding.__table__, {
            "output_id": ident, "funder_organisation_id": funder_id,
            "funder_name": self.org_names[funder_id] if funder_id else funder,
            "amount": amount, "currency": currency,
            "amount_eur": self.eur(amount, currency, when),
        })
        return ident

    def attribute(self, grant: GrantInfo, output: int, evidence: EvidenceKind,
                  share: str | None = None, text: str | None = None) -> None:
        if (grant.id, output) in self.attributed:
            return
        self.attributed.add((grant.id, output))
        grant.outputs.append(output)
        self.w.new(Attribution.__table__, {
            "grant_id": grant.id, "output_id": output,
            "share": Decimal(share) if share is not None else None, "evidence": evidence,
            "evidence_text": text or EVIDENCE_TEXT[evidence].format(ref=grant.reference),
            "source": EVIDENCE_SOURCE[evidence],
        })

    def link(self, output: int, upstream: int, relation: LinkRelation = LinkRelation.BUILDS_ON,
             evidence: EvidenceKind = EvidenceKind.STAFF_JUDGEMENT,
             text: str | None = None) -> None:
        if output == upstream or (output, upstream) in self.linked:
            return
        self.linked.add((output, upstream))
        self.w.new(OutputLink.__table__, {
            "output_id": output, "upstream_output_id": upstream, "relation": relation,
            "evidence": evidence, "evidence_text": text or LINK_NOTE,
        })

    # ----------------------------------------------------------- real records

    def real_publication(self, doi: str | None, title: str, **fields: object) -> int:
        """A real paper; reuse it when a publication with the same DOI is already stored."""
        if doi is not None:
            existing = self.session.execute(
                sa.select(Publication.output_id).where(Publication.doi == normalise_doi(doi))
            ).scalar()
            if existing is not None:
                return existing
        else:
            existing = self.session.execute(
                sa.select(Output.id).where(Output.title == title,
                                           Output.type == OutputType.PUBLICATION)
            ).scalar()
            if existing is not None:
                return existing
        return self.publication(title, doi=doi, fictional=False, **fields)  # type: ignore[arg-type]

    def real_trial(self, nct: str, title: str, **fields: object) -> int:
        """A real trial; reuse it when a trial with the same NCT number is already stored."""
        existing = find_trial(self.session, nct)
        if existing is not None:
            return existing
        return self.trial(title, fictional=False, **fields)  # type: ignore[arg-type]

    # ----------------------------------------------------------- the three pathways

    def stems_pathway(self) -> None:
        p = self.people
        AK, RI, SJ, RR = (EvidenceKind.ACKNOWLEDGED, EvidenceKind.REPORTED_BY_INVESTIGATOR,
                          EvidenceKind.STAFF_JUDGEMENT, EvidenceKind.REGISTRY_RECORD)
        Y, M, D = DatePrecision.YEAR, DatePrecision.MONTH, DatePrecision.DAY
        A, P, F, S = (ProgrammeKind.ANNUAL_CALL, ProgrammeKind.PILOT, ProgrammeKind.FELLOWSHIP,
                      ProgrammeKind.SPECIAL_PROJECT)
        nsc = "neural stem cells"
        g1 = self.grant(year=1988, kind=P, years=1, amount=Decimal(45_000_000), pi=p["ferraresi"],
                        areas=(nsc,), title="Isolation and culture of neural precursor cells "
                        "from the adult rodent forebrain")
        g2 = self.grant(year=1991, kind=A, years=3, amount=Decimal(180_000_000),
                        pi=p["ferraresi"], areas=(nsc,), co_investigators=(p["casati"],),
                        title="Long-term expansion of neurospheres from the adult mouse "
                        "subventricular zone")
        g3 = self.grant(year=1993, kind=A, years=2, amount=Decimal(140_000_000),
                        pi=p["lombardini"], areas=("neuroinflammation",),
                        title="A chronic-relapsing autoimmune encephalomyelitis model in mice "
                        "for testing cell therapies")
        g4 = self.grant(year=1996, kind=A, years=3, amount=Decimal(320_000_000),
                        pi=p["ferraresi"], areas=(nsc, "remyelination"), previous=g2,
                        relation=GrantRelation.RENEWAL,
                        co_investigators=(p["lombardini"], p["weber"]),
                        title="Systemic delivery of adult neurospheres in chronic "
                        "experimental demyelination")
        g5 = self.grant(year=1999, kind=A, years=2, amount=Decimal(260_000_000),
                        pi=p["lombardini"], areas=(nsc, "neuroinflammation"),
                        co_investigators=(p["ferraresi"],), cofund=("dsm", 0.3),
                        title="Immunomodulatory properties of transplanted neural precursor "
                              "cells")
        g5s = self.grant(year=2000, kind=ProgrammeKind.SPECIAL_PROJECT, years=1,
                         amount=Decimal(40_000_000), pi=p["lombardini"], areas=(nsc,),
                         previous=g5, relation=GrantRelation.SUPPLEMENT,
                         title="Supplement: flow cytometry for the neural precursor "
                               "immunomodulation project")
        g6 = self.grant(year=2000, kind=F, years=2, amount=Decimal(110_000_000), pi=p["casati"],
                        supervisor=p["ferraresi"], areas=(nsc, "imaging"),
                        title="Fellowship: tracking transplanted precursor cells by MRI")
        g7 = self.grant(year=2004, kind=A, years=3, amount=Decimal(240_000), pi=p["benedetti"],
                        areas=(nsc, "neuroprotection"), co_investigators=(p["casati"],),
                        title="Neuroprotective mechanisms of neural precursor cells in chronic "
                              "demyelination")
        g8 = self.grant(year=2007, kind=A, years=3, amount=Decimal(390_000), pi=p["santoro"],
                        areas=(nsc,), title="Human fetal neural precursor cells: derivation, "
                        "characterisation and expansion under ethical approval")
        g9 = self.grant(year=2010, kind=S, years=3, amount=Decimal(950_000), pi=p["guidotti"],
                        areas=(nsc,), cofund=("fcr_valdorno", 0.3),
                        co_investigators=(p["santoro"],),
                        title="GMP-grade manufacturing of human neural precursor cells for "
                              "clinical use")
        g10 = self.grant(year=2012, kind=A, years=2, amount=Decimal(245_000), pi=p["marchetti"],
                         areas=(nsc,), title="Preclinical toxicology and biodistribution of "
                         "intrathecal human neural precursor cells")
        g11 = self.grant(year=2014, kind=S, years=7, amount=Decimal(1_200_000),
                         pi=p["pellegrini"], host=self.orgs["san_raffaele"],
                         areas=(nsc, "progressive MS"), co_investigators=(p["orlandi"],),
                         confidentiality=Confidentiality.TRUSTEES,
                         award=date(2014, 11, 20),
                         title="Phase 1 trial of intrathecal neural precursor cells in "
                               "progressive MS: cell manufacturing and patient follow-up")
        g12 = self.grant(year=2015, kind=A, years=2, amount=Decimal(160_000), pi=p["orlandi"],
                         areas=("imaging", "biomarkers"),
                         title="MRI and biomarker outcome measures for intrathecal cell therapy")

        def auth(*keys: str) -> str:
            return ", ".join(p[k].citation for k in keys)

        o1 = self.publication("Clonal expansion of precursor cells from the adult rodent "
                              "forebrain in serum-free culture", date(1990, 1, 1), Y,
                              authors=auth("ferraresi", "casati"), area=nsc)
        self.attribute(g1, o1, AK)
        o1b = self.output(OutputType.NEXT_DESTINATION, "PhD student trained in precursor cell "
                          "culture joined the neuroimmunology group at Universität Lindenbrück",
                          date(1990, 1, 1), Y, area=nsc)
        self.attribute(g1, o1b, RI)
        o2 = self.publication("Self-renewing neurospheres from the adult mouse subventricular "
                              "zone: long-term expansion and multipotency", date(1993, 6, 1), M,
                              authors=auth("ferraresi", "casati", "weber"), area=nsc)
        self.attribute(g2, o2, AK)
        self.link(o2, o1, LinkRelation.BUILDS_ON, AK)
        t2 = self.output(OutputType.RESEARCH_TOOL, "Standard operating procedure for adult "
                         "neurosphere culture", date(1994, 1, 1), Y, area=nsc)
        self.attribute(g2, t2, RI)
        self.link(t2, o2, LinkRelation.FOLLOW_UP_OF)
        d3 = self.output(OutputType.DATABASE_MODEL, "Chronic-relapsing EAE mouse colony and "
                         "clinical scoring database", date(1995, 1, 1), Y,
                         area="neuroinflammation")
        self.attribute(g3, d3, RI)
        o3 = self.publication("A chronic-relapsing experimental autoimmune encephalomyelitis "
                              "model for testing cell therapies", date(1996, 3, 1), M,
                              authors=auth("lombardini"), area="neuroinflammation")
        self.attribute(g3, o3, AK)
        self.link(o3, d3, LinkRelation.REPORTS_RESULTS_OF)
        c4 = self.output(OutputType.COLLABORATION, "Collaboration with Universität Lindenbrück "
                         "on the homing of transplanted neurospheres", date(1997, 1, 1), Y,
                         area=nsc)
        self.attribute(g4, c4, RI)
        o4 = self.publication("Systemic injection of adult neurospheres in chronic "
                              "experimental demyelination: a pilot study of homing and clinical "
                              "effect", date(1998, 9, 14), D,
                              authors=auth("ferraresi", "weber", "lombardini"), area=nsc)
        self.attribute(g4, o4, AK, share="0.7")
        self.attribute(g2, o4, SJ, share="0.3")
        self.link(o4, t2, LinkRelation.BUILDS_ON)
        self.link(o4, o3, LinkRelation.BUILDS_ON)
        self.link(o4, c4, LinkRelation.FOLLOW_UP_OF)
        o5 = self.publication("Neural precursor cells inhibit T-cell proliferation in vitro "
                              "through soluble factors", date(2001, 4, 2), D,
                              authors=auth("lombardini", "ferraresi"), area=nsc)
        self.attribute(g5, o5, AK, share="0.8")
        self.attribute(g5s, o5, AK, share="0.2")
        self.link(o5, o4, LinkRelation.BUILDS_ON)
        f5 = self.further_funding("Deutsche Stiftung für Myelinforschung grant for neural "
                                  "precursor immunology", date(2000, 1, 1), Y, funder="dsm",
                                  eur=90_000, area=nsc)
        self.attribute(g5, f5, RI)
        o6 = self.publication("MRI tracking of magnetically labelled neural precursor cells "
                              "after transplantation", date(2002, 10, 7), D,
                              authors=auth("casati", "ferraresi"), area="imaging")
        self.attribute(g6, o6, AK)
        self.link(o6, o4, LinkRelation.FOLLOW_UP_OF)
        n6 = self.output(OutputType.NEXT_DESTINATION, "Fellow appointed group leader at the "
                         "Istituto per le Neuroimmagini di Montelago", date(2003, 1, 1), Y)
        self.attribute(g6, n6, RI)

        # The real science of the time (no invented attribution on real papers).
        r2003 = self.real_publication(
            None, "Injection of adult neurospheres induces recovery in a chronic model of "
            "multiple sclerosis", when=date(2003, 1, 1), precision=Y,
            authors="Pluchino S, …, Martino G", journal="Nature", volume="422",
            pages="688-694", description="Real publication (verified facts of the demo).")
        r2005 = self.real_publication(
            PLUCHINO_2005_DOI, "Neurosphere-derived multipotent precursors promote "
            "neuroprotection by an immunomodulatory mechanism", when=date(2005, 1, 1),
            precision=Y, authors="Pluchino S, et al.", journal="Nature",
            description="Real publication (verified facts of the demo).")

        o7 = self.publication("Neuroprotection by transplanted neural precursor cells in "
                              "chronic demyelination depends on local immune regulation",
                              date(2006, 11, 20), D, authors=auth("benedetti", "casati"),
                              area="neuroprotection")
        self.attribute(g7, o7, AK)
        self.link(o7, o5, LinkRelation.BUILDS_ON)
        self.link(o7, o6, LinkRelation.BUILDS_ON)
        self.link(o7, r2003, LinkRelation.CITES, AK)
        self.link(o7, r2005, LinkRelation.CITES, AK)
        a7 = self.output(OutputType.AWARD, "Young investigator prize for neural precursor cell "
                         "research", date(2007, 5, 1), M, area=nsc)
        self.attribute(g7, a7, RI)
        h8 = self.output(OutputType.RESEARCH_TOOL, "Bank of human fetal neural precursor cell "
                         "lines, derived under ethical approval", date(2009, 3, 1), M, area=nsc)
        self.attribute(g8, h8, RI)
        self.link(h8, o7, LinkRelation.BUILDS_ON)
        o8 = self.publication("Human fetal neural precursor cells: expansion, karyotype "
                              "stability and immunomodulatory profile", date(2010, 2, 15), D,
                              authors=auth("santoro", "marchetti", "benedetti"), area=nsc)
        self.attribute(g8, o8, AK)
        self.link(o8, h8, LinkRelation.REPORTS_RESULTS_OF)
        gmp = self.output(OutputType.MEDICAL_PRODUCT, "GMP-grade human neural precursor cell "
                          "product and release specification", date(2012, 6, 1), M, area=nsc)
        self.attribute(g9, gmp, RI, share="0.75")
        self.attribute(g8, gmp, SJ, share="0.25")
        self.link(gmp, h8, LinkRelation.BUILDS_ON)
        self.link(gmp, o8, LinkRelation.BUILDS_ON)
        pat = self.patent("Method for the GMP expansion of human neural precursor cells",
                          date(2012, 9, 1), M, status=PatentStatus.GRANTED, area=nsc)
        self.attribute(g9, pat, RI)
        self.link(pat, gmp, LinkRelation.FOLLOW_UP_OF)
        spin = self.output(OutputType.SPIN_OUT, "NeuroSfera Biotech S.r.l. founded to develop "
                           "neural precursor cell manufacturing", date(2013, 4, 1), M, area=nsc)
        self.attribute(g9, spin, SJ)
        self.link(spin, pat, LinkRelation.BUILDS_ON)
        f9 = self.further_funding("European Consortium for Neural Repair grant for cell "
                                  "manufacturing", date(2013, 1, 1), Y, funder="ecnr",
                                  eur=1_500_000, area=nsc)
        self.attribute(g9, f9, RI)
        tox = self.publication("Toxicology and biodistribution of intrathecal human neural "
                               "precursor cells in rodents", date(2014, 5, 19), D,
                               authors=auth("marchetti", "santoro", "guidotti"), area=nsc)
        self.attribute(g10, tox, AK)
        self.link(tox, h8, LinkRelation.BUILDS_ON)  # diamond: h8 via gmp and via tox
        self.link(tox, gmp, LinkRelation.BUILDS_ON)
        mri = self.output(OutputType.DATABASE_MODEL, "Standardised MRI and cerebrospinal fluid "
                          "biomarker protocol for intrathecal cell therapy", date(2016, 9, 1), M,
                          area="imaging")
        self.attribute(g12, mri, RI)
        self.link(mri, o6, LinkRelation.BUILDS_ON)  # a second path to o6 and o4
        sw = self.output(OutputType.SOFTWARE, "Dose-escalation scheduling and safety reporting "
                         "tool for cell therapy trials", date(2016, 12, 1), M, area=nsc)
        self.attribute(g11, sw, RI)

        stems = self.real_trial(
            STEMS_NCT,
            "STEMS: intrathecal human fetal neural precursor cells in progressive multiple "
            "sclerosis",
            when=date(2017, 5, 1), precision=M, phase=TrialPhase.PHASE_1,
            status=TrialStatus.COMPLETED,
            registry=((TrialRegistry.NCT, STEMS_NCT), (TrialRegistry.EUDRACT, STEMS_EUDRACT)),
            acronym="STEMS", actual=12, condition="Progressive multiple sclerosis",
            intervention="Intrathecal human fetal neural precursor cells (0.7 to 5.7 million "
                         "cells/kg), dose escalation",
            sponsor=self.orgs["san_raffaele"], start=date(2017, 5, 1),
            first_patient=date(2017, 5, 1), completion=date(2021, 7, 1),
            url=f"https://clinicaltrials.gov/study/{STEMS_NCT}",
            description="Real trial: phase 1, open-label, dose escalation in 12 people with "
                        "progressive MS at San Raffaele Hospital, Milan (sponsor IRCCS San "
                        "Raffaele; collaborator Fondazione Italiana Sclerosi Multipla). First "
                        "patient treated May 2017, completed July 2021. Its links to the "
                        "fictional foundation's grants and outputs are invented for the demo.",
        )
        self.attribute(g11, stems, SJ, text="Demo (fictional): this special project is "
                       "assumed to have paid for cell manufacturing and patient follow-up.")
        for upstream in (r2003, r2005):
            self.link(stems, upstream, LinkRelation.BUILDS_ON, AK,
                      "The trial rests on this preclinical work.")
        for upstream in (gmp, tox, mri):
            self.link(stems, upstream, LinkRelation.BUILDS_ON)
        self.link(stems, sw, LinkRelation.BUILDS_ON)
        paper = self.real_publication(
            STEMS_DOI, "Neural stem cell transplantation in patients with progressive multiple "
            "sclerosis: an open-label, phase 1 study", when=date(2023, 1, 11), precision=D,
            authors="Genchi A, …, Martino G", journal="Nature Medicine",
            description="Real publication (verified facts of the demo); published online "
                        "11 January 2023.")
        self.link(paper, stems, LinkRelation.REPORTS_RESULTS_OF, RR,
                  "The paper reports the results of the trial.")
        eng = self.output(OutputType.ENGAGEMENT, "Public meeting on the STEMS results for "
                          "people with MS and their families", date(2023, 3, 1), M, area=nsc)
        self.attribute(g11, eng, RI)
        self.link(eng, paper, LinkRelation.FOLLOW_UP_OF)
        self.stems_outputs = {"trial": stems, "paper": paper, "meeting": eng}
        pol = self.output(OutputType.POLICY_INFLUENCE, "Contribution to regional guidance on "
                          "advanced cell therapies in progressive MS", date(2024, 1, 1), Y,
                          area="progressive MS")
        self.attribute(g11, pol, SJ)
        self.link(pol, paper, LinkRelation.CITES)

    def mesems_pathway(self) -> None:
        p = self.people
        AK, RI, SJ = (EvidenceKind.ACKNOWLEDGED, EvidenceKind.REPORTED_BY_INVESTIGATOR,
                      EvidenceKind.STAFF_JUDGEMENT)
        Y, M, D = DatePrecision.YEAR, DatePrecision.MONTH, DatePrecision.DAY
        msc = "mesenchymal stem cells"
        g1 = self.grant(year=1998, kind=ProgrammeKind.ANNUAL_CALL, years=2,
                        amount=Decimal(150_000_000), pi=p["fabbri"],
                        areas=(msc, "neuroinflammation"),
                        title="Immunosuppressive properties of bone-marrow mesenchymal stromal "
                              "cells")
        g2 = self.grant(year=2003, kind=ProgrammeKind.ANNUAL_CALL, years=3,
                        amount=Decimal(220_000), pi=p["fabbri"], areas=(msc,), previous=g1,
                        relation=GrantRelation.CONTINUATION,
                        title="Mesenchymal stem cells in chronic experimental demyelination: "
                              "neuroprotection and immune modulation")
        g3 = self.grant(year=2006, kind=ProgrammeKind.ANNUAL_CALL, years=2,
                        amount=Decimal(180_000), pi=p["valentini"], areas=(msc,),
                        title="Dose, route and safety of mesenchymal stem cells in animal "
                              "models")
        g4 = self.grant(year=2009, kind=ProgrammeKind.SPECIAL_PROJECT, years=3,
                        amount=Decimal(600_000), pi=p["cattaneo"], areas=(msc,),
                        co_investigators=(p["fabbri"], p["guidotti"]),
                        title="Harmonised manufacturing of autologous mesenchymal stem cells "
                              "across trial centres")
        g5 = self.grant(year=2012, kind=ProgrammeKind.ANNUAL_CALL, years=3,
                        amount=Decimal(200_000), pi=p["fabbri"], areas=(msc, "biomarkers"),
                        title="Monitoring and immunological endpoints in a randomised trial of "
                              "mesenchymal stem cells")
        m1 = self.publication("Bone-marrow stromal cells suppress T-cell responses to myelin "
                              "antigens in vitro", date(2000, 1, 1), Y,
                              authors=self.people["fabbri"].citation + ", et al.", area=msc)
        self.attribute(g1, m1, AK)
        m2 = self.publication("Mesenchymal stem cells ameliorate chronic experimental "
                              "demyelination through immune modulation", date(2005, 7, 11), D,
                              authors=self.people["fabbri"].citation + ", et al.", area=msc)
        self.attribute(g2, m2, AK)
        self.link(m2, m1, LinkRelation.BUILDS_ON)
        m3 = self.publication("Safety and biodistribution of intravenous mesenchymal stem cells "
                              "in rodent models", date(2008, 2, 4), D,
                              authors=self.people["valentini"].citation + ", et al.", area=msc)
        self.attribute(g3, m3, AK)
        self.link(m3, m2, LinkRelation.BUILDS_ON)
        c3 = self.output(OutputType.COLLABORATION, "Collaboration with the Hôpital Neurologique "
                         "de Saint-Aurèle on mesenchymal stem cell immunology",
                         date(2007, 1, 1), Y, area=msc)
        self.attribute(g3, c3, RI)
        m4 = self.output(OutputType.RESEARCH_TOOL, "Consensus protocol for autologous "
                         "mesenchymal stem cell manufacturing", date(2010, 10, 1), M, area=msc)
        self.attribute(g4, m4, RI)
        self.link(m4, m2, LinkRelation.BUILDS_ON)
        self.link(m4, c3, LinkRelation.FOLLOW_UP_OF)
        trial = self.real_trial(
            MESEMS_NCT, "MESEMS: mesenchymal stem cells in multiple sclerosis, phase 2 trial",
            when=date(2011, 1, 1), precision=Y, phase=TrialPhase.PHASE_2,
            status=TrialStatus.COMPLETED,
            registry=((TrialRegistry.EUDRACT, MESEMS_EUDRACT), (TrialRegistry.NCT, MESEMS_NCT)),
            acronym="MESEMS", condition="Multiple sclerosis",
            intervention="Autologous mesenchymal stem cells",
            url=f"https://clinicaltrials.gov/study/{MESEMS_NCT}",
            description="Real trial (Italian arm: EudraCT 2011-001295-19 / NCT01854957); the "
                        "date is the year of the EudraCT registration. Its links to the "
                        "fictional foundation's grants and outputs are invented for the demo.",
        )
        self.attribute(g5, trial, SJ, text="Demo (fictional): this grant is assumed to have "
                       "paid for monitoring at an Italian centre.")
        self.link(trial, m4, LinkRelation.BUILDS_ON)
        self.link(trial, m3, LinkRelation.BUILDS_ON)
        paper = self.real_publication(
            MESEMS_DOI, "MESEMS: phase 2 trial of mesenchymal stem cells in multiple sclerosis "
            "(results paper)", when=date(2021, 1, 1), precision=Y, authors=None,
            journal="The Lancet Neurology",
            description="Real publication (Lancet Neurology 2021); title abbreviated here, see "
                        "the DOI for the full citation.")
        self.link(paper, trial, LinkRelation.REPORTS_RESULTS_OF, EvidenceKind.REGISTRY_RECORD,
                  "The paper reports the results of the trial.")

    def ramms_pathway(self) -> None:
        p = self.people
        AK, RI, SJ = (EvidenceKind.ACKNOWLEDGED, EvidenceKind.REPORTED_BY_INVESTIGATOR,
                      EvidenceKind.STAFF_JUDGEMENT)
        Y, D = DatePrecision.YEAR, DatePrecision.DAY
        hsct = "aHSCT"
        g1 = self.grant(year=1997, kind=ProgrammeKind.SPECIAL_PROJECT, years=3,
                        amount=Decimal(700_000_000), pi=p["rinaldi"], areas=(hsct,),
                        title="Pilot study of intense immunoablation and autologous "
                              "haematopoietic stem cell transplantation in aggressive MS")
        g2 = self.grant(year=2005, kind=ProgrammeKind.ANNUAL_CALL, years=3,
                        amount=Decimal(300_000), pi=p["barbieri"], areas=(hsct, "epidemiology"),
                        title="National registry of long-term outcomes after aHSCT in MS")
        g3 = self.grant(year=2012, kind=ProgrammeKind.ANNUAL_CALL, years=3,
                        amount=Decimal(380_000), pi=p["fontana"],
                        areas=(hsct, "neuroinflammation"),
                        title="Immune reconstitution and late effects after aHSCT in MS")
        g4 = self.grant(year=2017, kind=ProgrammeKind.ANNUAL_CALL, years=3,
                        amount=Decimal(350_000), pi=p["rinaldi"], areas=(hsct,),
                        co_investigators=(p["fontana"],),
                        title="Italian participation in a randomised phase 3 trial of aHSCT")
        r1 = self.publication("Intense immunosuppression and autologous stem cell rescue in "
                              "aggressive MS: a pilot series", date(1999, 1, 1), Y,
                              authors=p["rinaldi"].citation + ", et al.", area=hsct)
        self.attribute(g1, r1, AK)
        r2 = self.output(OutputType.DATABASE_MODEL, "Long-term outcomes registry of aHSCT in "
                         "MS", date(2008, 1, 1), Y, area=hsct)
        self.attribute(g2, r2, RI)
        self.link(r2, r1, LinkRelation.BUILDS_ON)
        r3 = self.publication("Ten-year outcomes after aHSCT in MS: a registry analysis",
                              date(2010, 6, 21), D, authors=p["barbieri"].citation + ", et al.",
                              area=hsct)
        self.attribute(g2, r3, AK)
        self.link(r3, r2, LinkRelation.REPORTS_RESULTS_OF)
        r4 = self.publication("Immune reconstitution after aHSCT in multiple sclerosis",
                              date(2015, 3, 9), D, authors=p["fontana"].citation + ", et al.",
                              area=hsct)
        self.attribute(g3, r4, AK)
        self.link(r4, r1, LinkRelation.BUILDS_ON)
        trial = self.real_trial(
            RAMMS_NCT, "RAM-MS: autologous haematopoietic stem cell transplantation in "
            "multiple sclerosis, phase 3 trial", when=date(2017, 1, 1), precision=Y,
            phase=TrialPhase.PHASE_3, status=TrialStatus.RECRUITING,
            registry=((TrialRegistry.NCT, RAMMS_NCT), (TrialRegistry.EUDRACT, RAMMS_EUDRACT)),
            acronym="RAM-MS", condition="Multiple sclerosis",
            intervention="Autologous haematopoietic stem cell transplantation (aHSCT)",
            url=f"https://clinicaltrials.gov/study/{RAMMS_NCT}",
            description="Real trial; the date is the year of the EudraCT registration. Its "
                        "links to the fictional foundation's grants and outputs are invented "
                        "for the demo.",
        )
        self.attribute(g4, trial, SJ, text="Demo (fictional): this grant is assumed to fund "
                       "the participation of an Italian centre.")
        self.link(trial, r3, LinkRelation.BUILDS_ON)
        self.link(trial, r4, LinkRelation.BUILDS_ON)

    def other_real_trial(self) -> None:
        """A different neural stem cell trial, recorded to show it is not STEMS: no links."""
        self.real_trial(
            OTHER_NSC_NCT, "Neural stem cells by intracerebroventricular injection in secondary "
            "progressive multiple sclerosis", when=None, precision=DatePrecision.YEAR,
            phase=TrialPhase.PHASE_1, status=TrialStatus.UNKNOWN,
            registry=((TrialRegistry.NCT, OTHER_NSC_NCT),), planned=15,
            condition="Secondary progressive multiple sclerosis",
            intervention="Neural stem cells, intracerebroventricular",
            url=f"https://clinicaltrials.gov/study/{OTHER_NSC_NCT}",
            description="Real trial in 15 people with secondary progressive MS; not STEMS and "
                        "not funded by the demo foundation (no attributions, no links).",
        )

    # ----------------------------------------------------------- the rest of the portfolio

    def portfolio(self) -> None:
        rng = self.rng
        areas = list(AREA_WEIGHTS)
        weights = [AREA_WEIGHTS[a] for a in areas]
        per_year_pathway = Counter(g.award.year for g in self.grants)
        # Investigators keep a main area, so their grants form lines of work.
        main_area = {person.id: rng.choices(areas, weights)[0] for person in self.pool}
        for person in self.pool[: len(PATHWAY_PEOPLE)]:
            main_area[person.id] = "neural stem cells"
        withdrawn = {1995: 1, 2008: 1, 2019: 1}
        terminated = {1993: 1, 2003: 1, 2011: 1, 2016: 1, 2021: 1}
        for year, wanted in AWARDS_PER_YEAR.items():
            for slot in range(max(0, wanted - per_year_pathway[year])):
                roll = rng.random()
                kind = (ProgrammeKind.ANNUAL_CALL if roll < 0.64 else
                        ProgrammeKind.PILOT if roll < 0.82 else
                        ProgrammeKind.FELLOWSHIP if roll < 0.95 or year < 1995 else
                        ProgrammeKind.SPECIAL_PROJECT)
                pi = rng.choice(self.pool)
                area = main_area[pi.id] if rng.random() < 0.75 else rng.choices(areas, weights)[0]
                second = rng.choices(areas, weights)[0] if rng.random() < 0.35 else None
                grant_areas_ = (area,) if second in (None, area) else (area, second)
                era = 0.6 + 0.4 * (year - 1987) / 38
                if kind is ProgrammeKind.ANNUAL_CALL:
                    years = rng.choice((1, 2, 2, 3, 3))
                    cap = (100_000, 250_000, 400_000)[years - 1]
                    eur = cap * rng.uniform(0.5, 1.0) * era
                elif kind is ProgrammeKind.PILOT:
                    years, eur = 1, rng.uniform(22_000, 30_000) * era
                elif kind is ProgrammeKind.FELLOWSHIP:
                    years = rng.choice((1, 2, 2, 3))
                    eur = years * rng.uniform(28_000, 42_000) * era
                else:
                    years, eur = rng.choice((2, 3, 4)), rng.uniform(450_000, 1_500_000) * era
                status = None
                if slot == 0 and withdrawn.get(year):
                    status = GrantStatus.WITHDRAWN
                elif slot == 1 and terminated.get(year):
                    status = GrantStatus.TERMINATED
                subject = rng.choice(AREA_SUBJECTS[area])
                if kind is ProgrammeKind.FELLOWSHIP:
                    title = f"Fellowship: {subject}"
                elif kind is ProgrammeKind.PILOT:
                    title = f"Pilot study of {subject}"
                else:
                    frames: tuple[str, ...] = GRANT_FRAMES
                    if "MS" not in subject.split():
                        frames += GRANT_FRAMES_IN_MS
                    title = rng.choice(frames).format(s=subject, S=_cap(subject))
                roll = rng.random()
                confidentiality = (Confidentiality.PUBLIC if roll < 0.92 else
                                   Confidentiality.TRUSTEES if roll < 0.98 else
                                   Confidentiality.INTERNAL)
                co = tuple(rng.sample(self.pool, rng.choice((0, 0, 1, 1, 2))))
                supervisor = rng.choice(self.pool) if kind is ProgrammeKind.FELLOWSHIP else None
                previous = relation = None
                if rng.random() < 0.06:
                    earlier = [g for g in self.grants if g.pi == pi.id and g.award.year < year
                               and g.status is not GrantStatus.WITHDRAWN]
                    if earlier:
                        previous = earlier[-1]
                        relation = rng.choice((GrantRelation.RENEWAL, GrantRelation.CONTINUATION))
                cofund = None
                if rng.random() < 0.07:
                    funder = rng.choice(CO_FUNDERS[:5])
                    cofund = (funder, rng.choice((0.1, 0.2, 0.25, 0.5)))
                info = self.grant(year=year, kind=kind, title=title, pi=pi, years=years, eur=eur,
                                  areas=grant_areas_, status=status, previous=previous,
                                  relation=relation, confidentiality=confidentiality,
                                  co_investigators=co, supervisor=supervisor, cofund=cofund)
                self.portfolio_outputs(info, subject)

    def portfolio_outputs(self, g: GrantInfo, subject: str) -> None:
        rng = self.rng
        if g.status in (GrantStatus.WITHDRAWN, GrantStatus.AWARDED):
            return
        if g.status is GrantStatus.ACTIVE:
            count = rng.choice((0, 1, 1, 2))
        else:
            count = rng.choices((1, 2, 3, 4, 5), (8, 22, 32, 24, 14))[0]
            if g.kind is ProgrammeKind.SPECIAL_PROJECT:
                count += 2
        area = g.areas[0]
        types = [t for t, _ in OUTPUT_TYPE_WEIGHTS]
        weights = [w for _, w in OUTPUT_TYPE_WEIGHTS]
        pi = next(p for p in self.pool if p.id == g.pi)
        last = min(REFERENCE_DATE, g.end + timedelta(days=4 * 365)).toordinal()
        first = g.start.toordinal() + 120
        if first > last:
            return
        for k in range(count):
            when = date.fromordinal(rng.randint(first, last))
            if when.year < 2000:
                precision = rng.choices(
                    (DatePrecision.YEAR, DatePrecision.MONTH, DatePrecision.DAY), (6, 2, 2))[0]
            else:
                precision = rng.choices(
                    (DatePrecision.YEAR, DatePrecision.MONTH, DatePrecision.DAY), (1, 2, 7))[0]
            kind = OutputType.PUBLICATION if k == 0 else rng.choices(types, weights)[0]
            s = rng.choice(AREA_SUBJECTS[area]) if rng.random() < 0.4 else subject
            ident = self._portfolio_output(kind, g, s, when, precision, area, pi)
            self._portfolio_links(ident, kind, area, when)
            self._portfolio_attribution(g, ident, kind)

    def _portfolio_output(self, kind: OutputType, g: GrantInfo, s: str, when: date,
                          precision: DatePrecision, area: str, pi: PersonInfo) -> int:
        rng = self.rng
        if kind is OutputType.PUBLICATION:
            frames = PUBLICATION_FRAMES_LAB if area in LAB_AREAS else PUBLICATION_FRAMES_CLINICAL
            title = rng.choice(frames).format(
                s=s, S=_cap(s), n=rng.choice((24, 48, 60, 112, 240, 515, 1200)),
                y=rng.choice((2, 5, 10)))
            coauthors = rng.sample(self.pool, rng.randint(1, 4))
            names = [pi.citation] + [c.citation for c in coauthors if c.id != pi.id]
            authors = ", ".join(names) + (", et al." if rng.random() < 0.3 else "")
            return self.publication(title, when, precision, authors=authors, area=area)
        frame = rng.choice(OUTPUT_FRAMES[kind])
        other_org = self.org_names[rng.choice(
            [self.orgs[k] for k, *_ in ORGANISATIONS if k not in NOT_HOSTS])]
        funder = rng.choice(CO_FUNDERS)
        title = frame.format(s=s, S=_cap(s), org=other_org, funder=self.org_names[
            self.orgs[funder]])
        if kind is OutputType.FURTHER_FUNDING:
            return self.further_funding(title, when, precision, funder=funder,
                                        eur=rng.choice((25_000, 60_000, 150_000, 400_000)),
                                        area=area)
        if kind is OutputType.INTELLECTUAL_PROPERTY:
            status = rng.choice(tuple(PatentStatus))
            conf = (Confidentiality.INTERNAL if status is PatentStatus.FILED
                    else Confidentiality.PUBLIC)
            return self.patent(title, when, precision, status=status, area=area,
                               confidentiality=conf)
        return self.output(kind, title, when, precision, area=area)

    def _portfolio_links(self, ident: int, kind: OutputType, area: str, when: date) -> None:
        rng = self.rng
        pool = [o for o in self.area_outputs[area][-40:]
                if o != ident and self.output_when.get(o, date.max) <= when]
        roll = rng.random()
        wanted = 0 if roll < 0.4 else 1 if roll < 0.85 else 2
        for upstream in rng.sample(pool, min(wanted, len(pool))):
            relation = rng.choices(
                (LinkRelation.BUILDS_ON, LinkRelation.CITES, LinkRelation.FOLLOW_UP_OF),
                (45, 35, 20))[0]
            evidence = rng.choices(
                (EvidenceKind.ACKNOWLEDGED, EvidenceKind.STAFF_JUDGEMENT,
                 EvidenceKind.REPORTED_BY_INVESTIGATOR), (40, 35, 25))[0]
            self.link(ident, upstream, relation, evidence)

    def _portfolio_attribution(self, g: GrantInfo, ident: int, kind: OutputType) -> None:
        rng = self.rng
        if kind is OutputType.PUBLICATION:
            evidence = rng.choices((EvidenceKind.ACKNOWLEDGED, EvidenceKind.STAFF_JUDGEMENT,
                                    EvidenceKind.REPORTED_BY_INVESTIGATOR), (75, 10, 15))[0]
        elif kind is OutputType.FURTHER_FUNDING:
            evidence = rng.choice((EvidenceKind.REPORTED_BY_INVESTIGATOR,
                                   EvidenceKind.REGISTRY_RECORD))
        else:
            evidence = rng.choices((EvidenceKind.REPORTED_BY_INVESTIGATOR,
                                    EvidenceKind.STAFF_JUDGEMENT), (80, 20))[0]
        earlier = [e for e in self.grants if e.pi == g.pi and e.id != g.id
                   and e.award < g.award and e.status is not GrantStatus.WITHDRAWN]
        if earlier and rng.random() < 0.15:
            other = earlier[-1]
            split = rng.choice((("0.5", "0.5"), ("0.7", "0.3"), ("0.6667", "0.3333"), None))
            self.attribute(g, ident, evidence, share=split[0] if split else None)
            self.attribute(other, ident, EvidenceKind.STAFF_JUDGEMENT,
                           share=split[1] if split else None)
        else:
            share = "1" if rng.random() < 0.15 else None
            self.attribute(g, ident, evidence, share=share)

    def fictional_trials(self) -> None:
        """Small invented trials without registry ids, each with its grant and paper."""
        rng = self.rng
        specs = (
            ("rehabilitation", "Aerobic training in progressive MS: a pilot randomised trial",
             TrialPhase.NOT_APPLICABLE, TrialStatus.COMPLETED, 40, "Aerobic training",
             date(2012, 3, 1), date(2014, 6, 1)),
            ("rehabilitation", "Home-based computerised cognitive rehabilitation: a randomised "
             "trial", TrialPhase.NOT_APPLICABLE, TrialStatus.COMPLETED, 90,
             "Computerised cognitive training", date(2016, 9, 1), date(2019, 2, 1)),
            ("epidemiology", "Vitamin D supplementation after a first demyelinating event: a "
             "phase 2 pilot", TrialPhase.PHASE_2, TrialStatus.TERMINATED, 60,
             "Oral cholecalciferol", date(2009, 1, 1), date(2010, 12, 1)),
            ("remyelination", "Repurposed remyelinating agent in chronic optic neuritis: "
             "phase 1/2 dose finding", TrialPhase.PHASE_1_2, TrialStatus.ACTIVE_NOT_RECRUITING,
             30, "Repurposed oral remyelinating agent", date(2022, 5, 1), None),
        )
        for area, title, phase, status, enrolment, intervention, start, completion in specs:
            candidates = [g for g in self.grants if area in g.areas and g.award < start
                          and g.status is not GrantStatus.WITHDRAWN and g.outputs]
            g = candidates[-1]
            trial = self.trial(
                title, start, DatePrecision.MONTH, phase=phase, status=status, planned=enrolment,
                actual=enrolment if status is TrialStatus.COMPLETED else None,
                condition="Multiple sclerosis", intervention=intervention,
                sponsor=g.host, start=start, first_patient=start + timedelta(days=45),
                completion=completion, area=area,
                description="Fictional demo trial: no registry identifiers.")
            self.attribute(g, trial, EvidenceKind.REPORTED_BY_INVESTIGATOR)
            for upstream in g.outputs[:2]:
                if self.output_when.get(upstream, date.max) <= start:
                    self.link(trial, upstream, LinkRelation.BUILDS_ON)
            if completion is not None:
                when = completion + timedelta(days=rng.randint(200, 500))
                pi = next(p for p in self.pool if p.id == g.pi)
                paper = self.publication(f"{title}: results", when, DatePrecision.DAY,
                                         authors=pi.citation + ", et al.", area=area)
                self.attribute(g, paper, EvidenceKind.ACKNOWLEDGED)
                self.link(paper, trial, LinkRelation.REPORTS_RESULTS_OF,
                          EvidenceKind.ACKNOWLEDGED)

    # ----------------------------------------------------------- donors

    def donations(self) -> None:
        rng = self.rng
        donors = []
        for name, kind, anonymous, fund, size in DONORS:
            ident = self.w.new(Donor.__table__, {
                "name": name, "kind": kind, "is_anonymous": anonymous, "is_fictional": True,
            })
            donors.append((ident, name, kind, fund, size))
        regular = [d for d in donors if d[2] is not DonorKind.BEQUEST]
        bequests = {d[1]: d for d in donors if d[2] is DonorKind.BEQUEST}
        sequence = 0
        for year in range(1987, 2026):
            target = max(self.awarded_eur_by_year[year], 50_000) * 1.05
            gifts: list[tuple[tuple[int, str, DonorKind, str, int], float]] = []
            for name, bequest_year in BEQUEST_YEARS.items():
                if bequest_year == year:
                    gifts.append((bequests[name], target * 0.35))
            count = rng.randint(6, 12)
            chosen = rng.choices(regular, [d[4] for d in regular], k=count)
            total_weight = sum(d[4] for d in chosen)
            remaining = target - sum(a for _, a in gifts)
            for donor in chosen:
                gifts.append((donor, max(500.0, remaining * donor[4] / total_weight)))
            for (donor_id, _, _, fund, _), eur in gifts:
                received = date(year, rng.randint(1, 12), rng.randint(1, 28))
                if year == 2025:
                    received = min(received, REFERENCE_DATE)
                currency = self.currency_on(received)
                if currency == "ITL":
                    amount = Decimal(max(1, round(eur * 1936.27 / 100_000)) * 100_000)
                else:
                    amount = Decimal(max(1, round(eur / 10)) * 10)
                sequence += 1
                self.w.new(Donation.__table__, {
                    "donor_id": donor_id, "fund_id": self.funds[fund], "received_on": received,
                    "amount": amount, "currency": currency,
                    "amount_eur": self.eur(amount, currency, received),
                    "reference": f"{REFERENCE_PREFIX}DON-{year}-{sequence:04d}",
                })

    def highlights(self) -> None:
        """Stories staff would write for the annual report (the demo's role in them is invented)."""
        stories = (
            (2017, 1, "trial", "First patient treated in STEMS",
             "In May 2017 the first person with progressive multiple sclerosis received neural "
             "precursor cells in STEMS, a phase 1 trial at San Raffaele Hospital, Milan.\n\n"
             "Demo (fictional): the foundation's grants since 1988 built the science behind "
             "the trial, from mouse models to cell manufacturing."),
            (2023, 1, "paper", "STEMS results in Nature Medicine",
             "On 11 January 2023 Nature Medicine published the results of STEMS: twelve people "
             "with progressive MS treated with neural precursor cells in an open-label, dose "
             "escalation study.\n\nDemo (fictional): the STEMS pathway in this report shows "
             "which of the foundation's grants led there, and how much they awarded."),
            (2023, 2, "meeting", "Explaining the results to people with MS",
             "Demo (fictional): after the publication the researchers met people with MS and "
             "their families to explain what a phase 1 safety study can and cannot show, and "
             "what comes next."),
        )
        for year, position, output, title, body in stories:
            self.w.new(Highlight.__table__, {
                "year": year, "position": position, "title": title, "body": body,
                "output_id": self.stems_outputs[output],
            })

    def build(self) -> None:
        self.build_parties()
        self.build_funds()
        self.stems_pathway()
        self.mesems_pathway()
        self.ramms_pathway()
        self.other_real_trial()
        self.portfolio()
        self.fictional_trials()
        self.donations()
        self.highlights()


def _cap(text: str) -> str:
    return text[0].upper() + text[1:] if text else text


def load_foundation(session: so.Session, echo: Echo = print) -> Counter[str] | None:
    """Load the demo foundation unless it is there already; return rows added (or None)."""
    if is_loaded(session):
        echo(f"The demo foundation ({FOUNDATION_NAME}) is already loaded; nothing to add.")
        return None
    demo = _Demo(session)
    demo.build()
    demo.w.finish()
    return demo.w.added
