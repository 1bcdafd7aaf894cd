"""Data quality: duplicate detection, merge with survivorship, unmerge, import guard."""

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
from custrec.quality._merge import MERGES, MergeRecord, merge, merge_record, unmerge
from custrec.quality._merge_survivorship import STRATEGIES, Survivorship

__all__ = [
    "BLOCKING_PASSES",
    "MERGES",
    "NATURAL_KEYS",
    "STRATEGIES",
    "BlockingStats",
    "CandidatePair",
    "DuplicateCluster",
    "DuplicateReport",
    "DuplicateSettings",
    "FieldComparison",
    "GuardResult",
    "MatchModel",
    "MergeRecord",
    "Survivorship",
    "add_or_match",
    "find_duplicates",
    "find_duplicates_in_store",
    "find_likely_duplicates",
    "merge",
    "merge_record",
    "romanise",
    "train_model",
    "unmerge",
]
