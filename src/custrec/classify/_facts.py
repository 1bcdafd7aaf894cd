"""Facts: what is known about each customer as of a date, derived from their history.

Facts are computed for every customer in one pass over a store. A store that can aggregate
in its database says so by offering ``aggregate_history`` (the SQLite store does); otherwise
the history is streamed once through Python. Both paths feed the same :func:`derive`, so they
give identical facts, which a property test checks.

Money facts are in one currency (the template's); transactions in another currency are left
out of them and counted in ``other_currency_orders``. Cancelled transactions never count.
Spend is net of refunds.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import attrs

from custrec import config
from custrec.errors import ValidationError
from custrec.model import (
    Customer,
    FrozenMap,
    currency_exponent,
)
from custrec.store import WINDOWS, HistoryAggregates

__all__ = [
    "FACT_KINDS",
    "WINDOWS",
    "Facts",
    "cutoff_of",
    "derive",
]


class FactKind(enum.StrEnum):
    """The kind of value a fact holds."""

    NUMBER = "number"
    DATETIME = "datetime"
    TEXT = "text"


_N, _DT, _T = FactKind.NUMBER, FactKind.DATETIME, FactKind.TEXT
FACT_KINDS: Mapping[str, FactKind] = {
    "total_spend": _N,
    "order_count": _N,
    "avg_order_value": _N,
    "first_purchase": _DT,
    "last_purchase": _DT,
    "recency_days": _N,
    "previous_gap_days": _N,
    **{f"orders_{n}d": _N for n in WINDOWS},
    **{f"spend_{n}d": _N for n in WINDOWS},
    "refund_total": _N,
    "refund_count": _N,
    "other_currency_orders": _N,
    "last_contact": _DT,
    "days_since_contact": _N,
    "interaction_count": _N,
    **{f"interactions_{n}d": _N for n in WINDOWS},
    "avg_rating": _N,
    "rating_count": _N,
    "latest_nps": _N,
    "age": _N,
    "region": _T,
    "city": _T,
    "tenure_days": _N,
}
"""The built-in facts and their kinds. Every fact may also be missing (``None``)."""


@attrs.frozen
class Facts:
    """What is known about one customer as of a date.

    Attributes:
        customer: The customer record (rules may use its fields: ``company``, ``custom.x``).
        as_of: The day the facts hold for.
        values: Fact name to value (``None`` when unknown, e.g. no purchase yet).
    """

    customer: Customer
    as_of: date
    values: FrozenMap[str, Any]

    def __getitem__(self, name: str) -> Any:
        return self.values[name]

    def get(self, name: str, default: Any = None) -> Any:
        """Return a fact's value, or ``default`` when there is no such fact."""
        return self.values.get(name, default)


def cutoff_of(as_of: date) -> datetime:
    """The first instant after ``as_of`` in the configured zone: history before it counts."""
    zone = config.get().zone
    return datetime.combine(as_of + timedelta(days=1), time(), tzinfo=zone)


def _local_date(moment: datetime | None) -> date | None:
    return None if moment is None else moment.astimezone(config.get().zone).date()


def _days(later: date | None, earlier: date | None) -> int | None:
    return None if later is None or earlier is None else (later - earlier).days


def derive(
    customer: Customer,
    aggregates: HistoryAggregates | None,
    *,
    as_of: date,
    currency: str,
    windows: Sequence[int] = WINDOWS,
) -> dict[str, Any]:
    """Turn a customer's aggregates into the built-in facts (see :data:`FACT_KINDS`)."""
    agg = aggregates or HistoryAggregates()
    exponent = currency_exponent(currency)
    if exponent is None:
        raise ValidationError("currency", currency, "not an ISO 4217 currency")
    quantum = Decimal(1).scaleb(-exponent)

    def money(minor: int) -> Decimal:
        return Decimal(minor).scaleb(-exponent).quantize(quantum)

    last = _local_date(agg.last_purchase)
    address = customer.primary_address
    values: dict[str, Any] = {
        "total_spend": money(agg.spend_minor),
        "order_count": agg.order_count,
        "avg_order_value": (
            (money(agg.spend_minor) / agg.order_count).quantize(quantum, ROUND_HALF_UP)
            if agg.order_count
            else None
        ),
        "first_purchase": agg.first_purchase,
        "last_purchase": agg.last_purchase,
        "recency_days": _days(as_of, last),
        "previous_gap_days": _days(last, _local_date(agg.previous_purchase)),
        "refund_total": money(agg.refund_minor),
        "refund_count": agg.refund_count,
        "other_currency_orders": agg.other_currency_orders,
        "last_contact": agg.last_contact,
        "days_since_contact": _days(as_of, _local_date(agg.last_contact)),
        "interaction_count": agg.interaction_count,
        "avg_rating": (
            (Decimal(agg.rating_sum) / agg.rating_count).quantize(Decimal("0.01"), ROUND_HALF_UP)
            if agg.rating_count
            else None
        ),
        "rating_count": agg.rating_count,
        "latest_nps": agg.latest_nps,
        "age": customer.age(as_of),
        "region": address.province or address.city if address else None,
        "city": address.city if address else None,
        "tenure_days": _days(as_of, _local_date(customer.created_at)),
    }
    for n in windows:
        values[f"orders_{n}d"] = agg.orders_in.get(n, 0)
        values[f"spend_{n}d"] = money(agg.spend_in.get(n, 0))
        values[f"interactions_{n}d"] = agg.interactions_in.get(n, 0)
    return values
