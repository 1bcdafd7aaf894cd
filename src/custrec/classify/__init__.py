"""Classification (客户类型): facts, rules, dimensions, explained labels, follow-ups.

- **Facts** are what is known about each customer as of a day (:data:`FACTS`), computed from
  the store in one pass; add your own with :func:`fact`.
- **Rules** are conditions over facts, as text (``"total_spend >= 10000"``), expressions or
  Python functions; a :class:`RuleDimension` takes the first that matches.
- **Dimensions** give each customer one label; built-in kinds (value tier, purchase
  frequency, RFM, lifecycle, region, industry, age band, NPS class) are configured in
  templates; add your own with :func:`classifier`.
- A :class:`Classification` runs them all; every label explains itself.
"""

from custrec.classify._builtin import (
    RFM_SEGMENTS,
    AgeBand,
    Industry,
    Lifecycle,
    NpsClass,
    PurchaseFrequency,
    Region,
    Rfm,
    ValueTier,
    percentile_ranks,
    quantile_scores,
)
from custrec.classify._classify import (
    CHANGES_COLLECTION,
    LABELS_COLLECTION,
    Classification,
    ClassificationRun,
    CustomerType,
    LabelChange,
    build_dimension,
    compute_facts,
    label_changes,
    stored_type,
)
from custrec.classify._dimension import Dimension, Label, Rule, RuleDimension, fields_in
from custrec.classify._facts import FACT_KINDS, FactKind, Facts, cutoff_of, derive
from custrec.classify._followup import FollowUp, due_follow_ups
from custrec.classify._registry import (
    CLASSIFIER_GROUP,
    FACT_GROUP,
    FactDef,
    classifier,
    classifiers,
    fact,
    register_classifier,
    register_fact,
    user_facts,
)
from custrec.classify._schema import FactSchema

FACTS = FACT_KINDS
"""The built-in facts and their kinds."""

__all__ = [
    "CHANGES_COLLECTION",
    "CLASSIFIER_GROUP",
    "FACTS",
    "FACT_GROUP",
    "FACT_KINDS",
    "LABELS_COLLECTION",
    "RFM_SEGMENTS",
    "AgeBand",
    "Classification",
    "ClassificationRun",
    "CustomerType",
    "Dimension",
    "FactDef",
    "FactKind",
    "FactSchema",
    "Facts",
    "FollowUp",
    "Industry",
    "Label",
    "LabelChange",
    "Lifecycle",
    "NpsClass",
    "PurchaseFrequency",
    "Region",
    "Rfm",
    "Rule",
    "RuleDimension",
    "ValueTier",
    "build_dimension",
    "classifier",
    "classifiers",
    "compute_facts",
    "cutoff_of",
    "derive",
    "due_follow_ups",
    "fact",
    "fields_in",
    "label_changes",
    "percentile_ranks",
    "quantile_scores",
    "register_classifier",
    "register_fact",
    "stored_type",
    "user_facts",
]
