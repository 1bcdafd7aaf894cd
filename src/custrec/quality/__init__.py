"""Data quality (数据质量): checks, findings, the quality report and normalisers.

- A :class:`Check` looks at records of one type and yields :class:`Finding` objects (record,
  field, severity, message, masked value, suggested fix). Built-ins cover the entry
  standard, validity, consistency, staleness, referential integrity, outliers, consent
  and exact duplicates; write your own with :func:`check` or :class:`ExpressionCheck`, or
  ship them under the entry-point group ``custrec.checks``.
- :func:`run_checks` runs them over a store (in batches, with progress) or records in
  memory, configured by a template, and returns a :class:`QualityReport` with counts,
  scores and JSON / CSV / text exports.
- Normalisers (:func:`normalize`, :func:`normalize_store`) fix what can be fixed
  mechanically and say what they changed.
- Duplicates: :func:`find_duplicates` scores candidate pairs (blocking, fuzzy comparison, a
  Fellegi–Sunter model) and clusters them; :func:`merge` joins customers with survivorship
  rules and :func:`unmerge` undoes it; :func:`add_or_match` guards imports.
"""

from custrec.quality._check import Check, CheckContext, Finding, RecordCheck, Severity, to_severity
from custrec.quality._consistency import (
    AfterSalesAfterSale,
    AgeMatchesBirthDate,
    CurrencyConsistent,
    RefundWithinPaid,
    TotalMatchesItems,
)
from custrec.quality._dedupe import (
    CandidatePair,
    DuplicateCluster,
    DuplicateReport,
    FieldComparison,
    find_duplicates,
    find_duplicates_in_store,
    train_model,
)
from custrec.quality._dedupe_blocking import BLOCKING_PASSES, BlockingStats
from custrec.quality._dedupe_guard import (
    NATURAL_KEYS,
    GuardResult,
    add_or_match,
    find_likely_duplicates,
)
from custrec.quality._dedupe_model import MatchModel
from custrec.quality._dedupe_prepare import romanise
from custrec.quality._dedupe_settings import DuplicateSettings
from custrec.quality._email import email_problem
from custrec.quality._exact import ExactDuplicates
from custrec.quality._integrity import (
    MARKETING_KEYWORDS,
    MarketingConsent,
    UnknownCustomer,
    consent_in_force,
)
from custrec.quality._mask import (
    PERSONAL_FIELDS,
    mask,
    mask_email,
    mask_name,
    mask_phone,
    mask_text,
)
from custrec.quality._merge import MERGES, MergeRecord, merge, merge_record, unmerge
from custrec.quality._merge_survivorship import STRATEGIES, Survivorship
from custrec.quality._normalize import (
    NORMALISERS,
    Change,
    Normaliser,
    half_width,
    normalize,
    normalize_full_width,
    normalize_latin_names,
    normalize_phones,
    normalize_regions,
    normalize_spaces,
    normalize_store,
)
from custrec.quality._outliers import Outliers, robust_scores, robust_z
from custrec.quality._regions import CITY_NAMES, PROVINCE_NAMES
from custrec.quality._registry import (
    CHECK_GROUP,
    CheckFactory,
    build_checks,
    check_factories,
    register_check,
)
from custrec.quality._report import PENALTIES, QualityReport, record_score
from custrec.quality._run import run_checks
from custrec.quality._staleness import DEFAULT_AUDIT_CYCLE_DAYS, Staleness
from custrec.quality._user import ExpressionCheck, FunctionCheck, check
from custrec.quality._validity import (
    POSTAL_CODES,
    BirthDatePlausible,
    CustomFieldsValid,
    EmailValid,
    NoFutureDates,
    PhoneValid,
    PostalCodeValid,
    RequiredFields,
)

__all__ = [
    "BLOCKING_PASSES",
    "CHECK_GROUP",
    "CITY_NAMES",
    "DEFAULT_AUDIT_CYCLE_DAYS",
    "MARKETING_KEYWORDS",
    "MERGES",
    "NATURAL_KEYS",
    "NORMALISERS",
    "PENALTIES",
    "PERSONAL_FIELDS",
    "POSTAL_CODES",
    "PROVINCE_NAMES",
    "STRATEGIES",
    "AfterSalesAfterSale",
    "AgeMatchesBirthDate",
    "BirthDatePlausible",
    "BlockingStats",
    "CandidatePair",
    "Change",
    "Check",
    "CheckContext",
    "CheckFactory",
    "CurrencyConsistent",
    "CustomFieldsValid",
    "DuplicateCluster",
    "DuplicateReport",
    "DuplicateSettings",
    "EmailValid",
    "ExactDuplicates",
    "ExpressionCheck",
    "FieldComparison",
    "Finding",
    "FunctionCheck",
    "GuardResult",
    "MarketingConsent",
    "MatchModel",
    "MergeRecord",
    "NoFutureDates",
    "Normaliser",
    "Outliers",
    "PhoneValid",
    "PostalCodeValid",
    "QualityReport",
    "RecordCheck",
    "RefundWithinPaid",
    "RequiredFields",
    "Severity",
    "Staleness",
    "Survivorship",
    "TotalMatchesItems",
    "UnknownCustomer",
    "add_or_match",
    "build_checks",
    "check",
    "check_factories",
    "consent_in_force",
    "email_problem",
    "find_duplicates",
    "find_duplicates_in_store",
    "find_likely_duplicates",
    "half_width",
    "mask",
    "mask_email",
    "mask_name",
    "mask_phone",
    "mask_text",
    "merge",
    "merge_record",
    "normalize",
    "normalize_full_width",
    "normalize_latin_names",
    "normalize_phones",
    "normalize_regions",
    "normalize_spaces",
    "normalize_store",
    "record_score",
    "register_check",
    "robust_scores",
    "robust_z",
    "romanise",
    "run_checks",
    "to_severity",
    "train_model",
    "unmerge",
]
