"""Storage: one protocol, several backends, chosen by URL.

>>> from custrec.store import open_store
>>> store = open_store("memory://")

``memory://`` keeps records in this process; ``sqlite:///path.db`` is the embedded default;
``postgresql://user@host/db`` is a PostgreSQL server (``pip install custrec[postgres]``).
Third-party backends register under the entry-point group ``custrec.stores`` and prove
themselves with :mod:`custrec.testing.store_suite`.
"""

from custrec.store._aggregate import (
    AGGREGATE_PARTS,
    WINDOWS,
    HistoryAggregates,
    SupportsHistoryAggregation,
    aggregate_history,
    refunded_before,
    window_starts,
)
from custrec.store._audit import AuditAction, AuditEntry, FieldChange, diff
from custrec.store._base import (
    Collection,
    CustomerRepository,
    HistoryRepository,
    Progress,
    Repository,
    Store,
    contact_keys,
)
from custrec.store._memory import MemoryStore
from custrec.store._pyquery import order_values, run_query
from custrec.store._quality import SupportsQualityPushdown, SuspectQuery
from custrec.store._query import Order, Page, Query, decode_cursor, encode_cursor
from custrec.store._registry import ENTRY_POINT_GROUP, backends, open_store, register_backend

__all__ = [
    "AGGREGATE_PARTS",
    "ENTRY_POINT_GROUP",
    "WINDOWS",
    "AuditAction",
    "AuditEntry",
    "Collection",
    "CustomerRepository",
    "FieldChange",
    "HistoryAggregates",
    "HistoryRepository",
    "MemoryStore",
    "Order",
    "Page",
    "Progress",
    "Query",
    "Repository",
    "Store",
    "SupportsHistoryAggregation",
    "SupportsQualityPushdown",
    "SuspectQuery",
    "aggregate_history",
    "backends",
    "contact_keys",
    "decode_cursor",
    "diff",
    "encode_cursor",
    "open_store",
    "order_values",
    "refunded_before",
    "register_backend",
    "run_query",
    "window_starts",
]
