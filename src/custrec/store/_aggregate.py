"""History aggregates: per-customer sums, counts and extremes of history before a moment.

They cover interactions, transactions and feedback, and are what a database computes well.
Classification derives its facts from them; a store that can compute them in its own
database offers ``aggregate_history`` (the capability :class:`SupportsHistoryAggregation`),
and :func:`aggregate_history` here is the Python reference every such store must match.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol, runtime_checkable

import attrs

from custrec.errors import ValidationError
from custrec.model import Feedback, Interaction, Transaction, TransactionStatus

__all__ = [
    "AGGREGATE_PARTS",
    "SALES_PARTS",
    "WINDOWS",
    "HistoryAggregates",
    "SupportsHistoryAggregation",
    "SupportsSalesRows",
    "aggregate_history",
    "refunded_before",
    "sales_aggregates",
    "wanted_parts",
    "window_starts",
]

WINDOWS = (30, 90, 365)
"""The default trailing windows, in days, of windowed aggregates."""

AGGREGATE_PARTS: Mapping[str, tuple[str, ...]] = {
    "orders": ("order_count", "first_purchase", "last_purchase"),
    "spend": ("spend_minor", "refund_minor", "refund_count"),
    "windows": ("orders_in", "spend_in"),
    "previous": ("previous_purchase",),
    "other": ("other_currency_orders",),
    "contacts": ("interaction_count", "last_contact", "interactions_in"),
    "ratings": ("rating_sum", "rating_count"),
    "nps": ("latest_nps", "latest_nps_key"),
}
"""The parts of :class:`HistoryAggregates` a caller can ask for, and the fields each fills.

A store asked for some parts may compute more; the fields of the parts asked for must equal
what :func:`aggregate_history` gives.
"""


@attrs.define
class HistoryAggregates:
    """Per-customer sums, counts and extremes of history: what a database computes.

    Money is in integer minor units of the facts' currency; times are aware datetimes.
    Windowed values are keyed by window length in days.
    """

    order_count: int = 0
    spend_minor: int = 0
    refund_minor: int = 0
    refund_count: int = 0
    other_currency_orders: int = 0
    first_purchase: datetime | None = None
    last_purchase: datetime | None = None
    previous_purchase: datetime | None = None
    orders_in: dict[int, int] = attrs.field(factory=dict)
    spend_in: dict[int, int] = attrs.field(factory=dict)
    interaction_count: int = 0
    last_contact: datetime | None = None
    interactions_in: dict[int, int] = attrs.field(factory=dict)
    rating_sum: int = 0
    rating_count: int = 0
    latest_nps: int | None = None
    latest_nps_key: tuple[datetime, str] | None = None


@runtime_checkable
class SupportsHistoryAggregation(Protocol):
    """A store that aggregates history in its own database (SQL push-down)."""

    def aggregate_history(
        self,
        cutoff: datetime,
        currency: str,
        windows: Sequence[int],
        parts: Collection[str] | None = None,
    ) -> Mapping[str, HistoryAggregates]:
        """Return aggregates of every customer with history before ``cutoff``, by id.

        ``parts`` names the :data:`AGGREGATE_PARTS` wanted (every part when ``None``).
        """
        ...


SALES_PARTS = frozenset({"orders", "spend", "windows", "previous"})
"""The :data:`AGGREGATE_PARTS` made from transactions alone: what sales rows hold."""

SalesRow = tuple[Any, ...]
"""One customer's sales aggregates as plain numbers, times as epoch microseconds.

In order: ``order_count``, ``spend_minor`` (net of refunds), ``refund_minor``,
``refund_count``, ``first_us``, ``last_us``, ``previous_us`` (``None`` with one sale), then
for each window in the order asked for, its order count and its spend. Fields of parts not
asked for are zero (``None`` for ``previous_us``).
"""


@runtime_checkable
class SupportsSalesRows(Protocol):
    """A store that hands out sales aggregates as plain numbers (no datetimes, no objects)."""

    def aggregate_sales_rows(
        self,
        cutoff: datetime,
        currency: str,
        windows: Sequence[int],
        parts: Collection[str] | None = None,
    ) -> Mapping[str, SalesRow]:
        """Return the :data:`SalesRow` of every customer with a counted sale, by id.

        ``parts`` names the :data:`SALES_PARTS` wanted (all of them when ``None``); the
        fields of those parts equal what :func:`aggregate_history` gives, through
        :func:`sales_aggregates`.
        """
        ...


def sales_aggregates(row: SalesRow, windows: Sequence[int]) -> HistoryAggregates:
    """The :class:`HistoryAggregates` a :data:`SalesRow` stands for (sales fields only)."""
    count, spend, refund, refunds, first_us, last_us, previous_us = row[:7]
    agg = HistoryAggregates(
        order_count=count,
        spend_minor=spend,
        refund_minor=refund,
        refund_count=refunds,
        first_purchase=_from_us(first_us),
        last_purchase=_from_us(last_us),
        previous_purchase=_from_us(previous_us),
    )
    for index, n in enumerate(windows):
        agg.orders_in[n] = row[7 + 2 * index]
        agg.spend_in[n] = row[8 + 2 * index]
    return agg


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _from_us(microseconds: int | None) -> datetime | None:
    return None if microseconds is None else _EPOCH + timedelta(microseconds=microseconds)


def wanted_parts(parts: Collection[str] | None) -> frozenset[str]:
    """The :data:`AGGREGATE_PARTS` a caller asks for: every part when ``None``.

    Raises:
        ValidationError: A part is not one of :data:`AGGREGATE_PARTS`.
    """
    if parts is None:
        return frozenset(AGGREGATE_PARTS)
    wanted = frozenset(parts)
    unknown = wanted - AGGREGATE_PARTS.keys()
    if unknown:
        raise ValidationError("parts", sorted(unknown), f"use {', '.join(AGGREGATE_PARTS)}")
    return wanted


def window_starts(cutoff: datetime, windows: Sequence[int]) -> dict[int, datetime]:
    """The first instant of each trailing window ending at ``cutoff``."""
    return {n: cutoff - timedelta(days=n) for n in windows}


def refunded_before(sale: Transaction, cutoff: datetime) -> int:
    """Minor units paid back on ``sale`` through after-sales events before ``cutoff``."""
    return sum(
        event.amount.minor
        for event in sale.after_sales
        if event.amount is not None and event.at < cutoff
    )


def aggregate_history(  # noqa: PLR0912 - one pass over three streams, kept together
    transactions: Iterable[Transaction],
    interactions: Iterable[Interaction],
    feedback: Iterable[Feedback],
    *,
    cutoff: datetime,
    currency: str,
    windows: Sequence[int] = WINDOWS,
) -> dict[str, HistoryAggregates]:
    """Aggregate history in Python, one pass over each stream: the reference semantics.

    Records at or after ``cutoff`` are left out, and so are after-sales refunds made at or
    after it. Cancelled transactions never count; transactions in another currency only
    count in ``other_currency_orders``. Spend is net of refunds. The result has an entry for
    every customer with at least one counted record.
    """
    starts = window_starts(cutoff, windows)
    out: dict[str, HistoryAggregates] = {}
    for sale in transactions:
        if sale.at >= cutoff or sale.status == TransactionStatus.CANCELLED:
            continue
        agg = out.setdefault(sale.customer_id, HistoryAggregates())
        if sale.currency != currency:
            agg.other_currency_orders += 1
            continue
        agg.order_count += 1
        refund = refunded_before(sale, cutoff)
        net = sale.total.minor - refund
        agg.spend_minor += net
        agg.refund_minor += refund
        agg.refund_count += refund > 0
        if agg.first_purchase is None or sale.at < agg.first_purchase:
            agg.first_purchase = sale.at
        if agg.last_purchase is None or sale.at > agg.last_purchase:
            agg.previous_purchase = agg.last_purchase
            agg.last_purchase = sale.at
        elif agg.previous_purchase is None or sale.at > agg.previous_purchase:
            agg.previous_purchase = sale.at
        for n, start in starts.items():
            if sale.at >= start:
                agg.orders_in[n] = agg.orders_in.get(n, 0) + 1
                agg.spend_in[n] = agg.spend_in.get(n, 0) + net
    for contact in interactions:
        if contact.at >= cutoff:
            continue
        agg = out.setdefault(contact.customer_id, HistoryAggregates())
        agg.interaction_count += 1
        if agg.last_contact is None or contact.at > agg.last_contact:
            agg.last_contact = contact.at
        for n, start in starts.items():
            if contact.at >= start:
                agg.interactions_in[n] = agg.interactions_in.get(n, 0) + 1
    for item in feedback:
        if item.at >= cutoff:
            continue
        agg = out.setdefault(item.customer_id, HistoryAggregates())
        if item.rating is not None:
            agg.rating_sum += item.rating
            agg.rating_count += 1
        if item.nps is not None:
            key = (item.at, item.id)
            if agg.latest_nps_key is None or key > agg.latest_nps_key:
                agg.latest_nps_key = key
                agg.latest_nps = item.nps
    return out
