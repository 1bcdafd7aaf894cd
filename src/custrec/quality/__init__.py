"""Data quality: duplicate detection, merge with survivorship, unmerge."""

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
from custrec.quality._dedupe_model import MatchModel
from custrec.quality._dedupe_settings import DuplicateSettings

__all__ = [
    "BLOCKING_PASSES",
    "BlockingStats",
    "CandidatePair",
    "DuplicateCluster",
    "DuplicateReport",
    "DuplicateSettings",
    "FieldComparison",
    "MatchModel",
    "find_duplicates",
    "find_duplicates_in_store",
    "train_model",
]
