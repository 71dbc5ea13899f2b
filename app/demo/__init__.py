"""The demonstration foundation (fictional, around a few real trials).

``load_foundation`` loads the curated demo; ``load_synthetic`` adds synthetic
grants for benchmarks. Report code finds the STEMS pathway from ``STEMS_NCT``
(or ``find_stems_trial``) and the other pathway trials from ``PATHWAY_TRIALS``.
"""

from .foundation import (
    FOUNDATION_NAME,
    MESEMS_DOI,
    MESEMS_EUDRACT,
    MESEMS_NCT,
    OTHER_NSC_NCT,
    PATHWAY_TRIALS,
    PLUCHINO_2005_DOI,
    RAMMS_EUDRACT,
    RAMMS_NCT,
    REAL_DOIS,
    REAL_REGISTRY_IDS,
    STEMS_DOI,
    STEMS_EUDRACT,
    STEMS_NCT,
    find_stems_trial,
    find_trial,
    is_loaded,
    load_foundation,
)
from .synthetic import SYN_PREFIX, existing_synthetic_grants, load_synthetic

__all__ = [
    "FOUNDATION_NAME", "MESEMS_DOI", "MESEMS_EUDRACT", "MESEMS_NCT", "OTHER_NSC_NCT",
    "PATHWAY_TRIALS", "PLUCHINO_2005_DOI", "RAMMS_EUDRACT", "RAMMS_NCT", "REAL_DOIS",
    "REAL_REGISTRY_IDS", "STEMS_DOI", "STEMS_EUDRACT", "STEMS_NCT", "SYN_PREFIX",
    "existing_synthetic_grants", "find_stems_trial", "find_trial", "is_loaded",
    "load_foundation", "load_synthetic",
]
