"""The SQL layout of records: one table per record type, and a record's column values.

Each table holds the columns that queries, indexes and aggregates need (ids, timestamps as
integer microseconds since the epoch, amounts as integer minor units) plus the whole record
as a JSON document. The per-record value functions run on every insert, so they stay plain
functions.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from types import MappingProxyType
from typing import Any

import attrs

from custrec.model import Customer, Feedback, Interaction, Transaction
from custrec.store._sqlcompile._fragments import epoch_us

__all__ = ["TABLES", "Table"]


def _opt_us(moment: datetime | None) -> int | None:
    return None if moment is None else epoch_us(moment)


@attrs.frozen
class Table:
    """Where one record type lives in an SQL store.

    Attributes:
        name: The table.
        record_type: The record class it holds.
        column_names: Its columns besides ``doc``, in insert order; ``id`` comes first.
        values: A record's values for :attr:`column_names`.
        fields: Catalog field path to the column holding it in comparable form.
        money: Catalog field path to its (minor units column, currency column).
        doc: The column holding the record's JSON document.
    """

    name: str
    record_type: type[Any]
    column_names: tuple[str, ...]
    values: Callable[[Any], tuple[Any, ...]]
    fields: Mapping[str, str]
    money: Mapping[str, tuple[str, str]] = attrs.field(factory=dict)
    doc: str = "doc"


def _customer_values(c: Customer) -> tuple[Any, ...]:
    return (
        c.id,
        c.version,
        c.name,
        c.company,
        epoch_us(c.created_at),
        epoch_us(c.updated_at),
        _opt_us(c.reviewed_at),
    )


def _interaction_values(i: Interaction) -> tuple[Any, ...]:
    return (i.id, i.customer_id, i.version, epoch_us(i.at))


def _transaction_values(t: Transaction) -> tuple[Any, ...]:
    total = t.total
    return (
        t.id,
        t.customer_id,
        t.version,
        epoch_us(t.at),
        total.minor,
        total.currency,
        str(t.status),
        t.refunded.minor,
        _opt_us(max((e.at for e in t.after_sales if e.amount is not None), default=None)),
    )


def _feedback_values(f: Feedback) -> tuple[Any, ...]:
    return (f.id, f.customer_id, f.version, epoch_us(f.at), f.rating, f.nps)


_HISTORY_FIELDS = {"id": "id", "customer_id": "customer_id", "version": "version", "at": "at_us"}

TABLES: Mapping[type[Any], Table] = MappingProxyType(
    {
        Customer: Table(
            "customers",
            Customer,
            ("id", "version", "name", "company", "created_us", "updated_us", "reviewed_us"),
            _customer_values,
            {
                "id": "id",
                "version": "version",
                "name": "name",
                "company": "company",
                "created_at": "created_us",
                "updated_at": "updated_us",
                "reviewed_at": "reviewed_us",
            },
        ),
        Interaction: Table(
            "interactions",
            Interaction,
            ("id", "customer_id", "version", "at_us"),
            _interaction_values,
            _HISTORY_FIELDS,
        ),
        Transaction: Table(
            "transactions",
            Transaction,
            (
                "id",
                "customer_id",
                "version",
                "at_us",
                "total_minor",
                "currency",
                "status",
                "refund_minor",
                "refund_last_us",
            ),
            _transaction_values,
            {**_HISTORY_FIELDS, "currency": "currency", "status": "status"},
            {"total": ("total_minor", "currency")},
        ),
        Feedback: Table(
            "feedback",
            Feedback,
            ("id", "customer_id", "version", "at_us", "rating", "nps"),
            _feedback_values,
            {**_HISTORY_FIELDS, "rating": "rating", "nps": "nps"},
        ),
    }
)
"""The table of each record type."""
