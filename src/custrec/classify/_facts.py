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
from collections.abc import Callable, Collection, Mapping, Sequence
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from custrec import config
from custrec.errors import ValidationError
from custrec.model import (
    Address,
    Customer,
    FrozenMap,
    age_on,
    currency_exponent,
    primary_of,
)
from custrec.store import WINDOWS, HistoryAggregates
from custrec.store._aggregate import SALES_PARTS, SalesRow

__all__ = [
    "FACT_KINDS",
    "WINDOWS",
    "Deriver",
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


_NEEDS: Mapping[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "total_spend": (("orders", "spend"), ()),
    "order_count": (("orders",), ()),
    "avg_order_value": (("orders", "spend"), ()),
    "first_purchase": (("orders",), ()),
    "last_purchase": (("orders",), ()),
    "recency_days": (("orders",), ()),
    "previous_gap_days": (("orders", "previous"), ()),
    "refund_total": (("spend",), ()),
    "refund_count": (("spend",), ()),
    "other_currency_orders": (("other",), ()),
    "last_contact": (("contacts",), ()),
    "days_since_contact": (("contacts",), ()),
    "interaction_count": (("contacts",), ()),
    "avg_rating": (("ratings",), ()),
    "rating_count": (("ratings",), ()),
    "latest_nps": (("nps",), ()),
    "age": ((), ("birth_date",)),
    "region": ((), ("addresses",)),
    "city": ((), ("addresses",)),
    "tenure_days": ((), ("created_at",)),
    # The windowed facts, by their first word (orders_30d, spend_90d, interactions_365d).
    "orders": (("windows",), ()),
    "spend": (("windows",), ()),
    "interactions": (("contacts",), ()),
}
"""What each built-in fact is made of: history aggregate parts (see
:data:`custrec.store.AGGREGATE_PARTS`) and customer fields."""


class Facts:
    """What is known about one customer as of a date.

    Args:
        customer: The customer record, or only its id when the record is to be read on
            first use (rules may read its fields: ``company``, ``custom.x``).
        as_of: The day the facts hold for.
        values: Fact name to value (``None`` when unknown, e.g. no purchase yet).
        load: Reads the customer by id on first use; required when ``customer`` is an id.

    Attributes:
        customer_id: The customer's id.
        as_of: The day the facts hold for.
        values: Fact name to value.
    """

    __slots__ = ("_customer", "_load", "as_of", "customer_id", "values")

    def __init__(
        self,
        customer: Customer | str,
        as_of: date,
        values: Mapping[str, Any],
        *,
        load: Callable[[str], Customer] | None = None,
    ) -> None:
        self._customer: Customer | None
        if isinstance(customer, Customer):
            self.customer_id, self._customer = customer.id, customer
        elif load is None:
            raise ValidationError("load", None, "facts of a customer id need a way to load it")
        else:
            self.customer_id, self._customer = customer, None
        self._load = load
        self.as_of = as_of
        self.values = values if isinstance(values, FrozenMap) else FrozenMap(values)

    @property
    def customer(self) -> Customer:
        """The customer record, read on first use when the facts were made from an id."""
        if self._customer is None:
            assert self._load is not None  # noqa: S101 - the constructor makes sure
            self._customer = self._load(self.customer_id)
        return self._customer

    def __getitem__(self, name: str) -> Any:
        return self.values[name]

    def get(self, name: str, default: Any = None) -> Any:
        """Return a fact's value, or ``default`` when there is no such fact."""
        return self.values.get(name, default)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Facts):
            return NotImplemented
        return (self.customer_id, self.as_of, self.values) == (
            other.customer_id,
            other.as_of,
            other.values,
        )

    def __hash__(self) -> int:
        return hash((self.customer_id, self.as_of, self.values))

    def __repr__(self) -> str:
        return f"Facts({self.customer_id!r}, {self.as_of!r}, {self.values!r})"


def cutoff_of(as_of: date) -> datetime:
    """The first instant after ``as_of`` in the configured zone: history before it counts."""
    zone = config.get().zone
    return datetime.combine(as_of + timedelta(days=1), time(), tzinfo=zone)


def derive(
    customer: Customer,
    aggregates: HistoryAggregates | None,
    *,
    as_of: date,
    currency: str,
    windows: Sequence[int] = WINDOWS,
    facts: Collection[str] | None = None,
) -> dict[str, Any]:
    """Turn a customer's aggregates into the built-in facts (see :data:`FACT_KINDS`).

    Args:
        customer: The customer.
        aggregates: Their history's aggregates (``None``: no counted history).
        as_of: The day the facts hold for.
        currency: The currency of the money facts.
        windows: The trailing windows of the windowed facts.
        facts: The facts wanted (all when ``None``).

    Raises:
        ValidationError: The currency is not an ISO 4217 currency, or a fact is unknown.
    """
    make = Deriver(as_of=as_of, currency=currency, windows=windows, facts=facts)
    return make(aggregates, customer.created_at, customer.birth_date, customer.addresses)


class Deriver:
    """Derives chosen built-in facts, over and over, for one as-of day and currency.

    Calling it with a customer's aggregates, creation time, birth date and addresses gives
    the facts as a dict in a fixed key order.

    Attributes:
        facts: The facts it derives, in the order of its dicts' keys.
        parts: The history aggregate parts they are made of.
        fields: The customer fields they are made of.

    Raises:
        ValidationError: The currency is not an ISO 4217 currency, or a fact is unknown.
    """

    def __init__(
        self,
        *,
        as_of: date,
        currency: str,
        windows: Sequence[int] = WINDOWS,
        facts: Collection[str] | None = None,
    ) -> None:
        exponent = currency_exponent(currency)
        if exponent is None:
            raise ValidationError("currency", currency, "not an ISO 4217 currency")
        self.as_of = as_of
        self.windows = tuple(windows)
        every = [*_PLAIN, *(f"{kind}_{n}d" for n in self.windows for kind in _WINDOWED)]
        if facts is None:
            wanted = every
        else:
            known = set(every)
            for name in facts:
                if name not in known:
                    raise ValidationError("facts", name, "not a built-in fact")
            chosen = set(facts)
            wanted = [name for name in every if name in chosen]
        self.facts = tuple(sorted(wanted, key=repr))
        self._wanted = frozenset(wanted)
        needs = [_NEEDS.get(name) or _NEEDS[name.partition("_")[0]] for name in wanted]
        self.parts = frozenset(part for parts, _ in needs for part in parts)
        self.fields = frozenset(field for _, fields in needs for field in fields)
        exponent_ = -exponent
        quantum = Decimal(1).scaleb(exponent_)
        zone = config.get().zone

        def money(minor: int) -> Decimal:
            return Decimal(minor).scaleb(exponent_).quantize(quantum)

        def day(moment: datetime | None) -> date | None:
            return None if moment is None else moment.astimezone(zone).date()

        def since(moment: datetime | None) -> int | None:
            return None if moment is None else (as_of - moment.astimezone(zone).date()).days

        def average(agg: HistoryAggregates) -> Decimal | None:
            if not agg.order_count:
                return None
            return (money(agg.spend_minor) / agg.order_count).quantize(quantum, ROUND_HALF_UP)

        def previous_gap(agg: HistoryAggregates) -> int | None:
            return _days(day(agg.last_purchase), day(agg.previous_purchase))

        def rating(agg: HistoryAggregates) -> Decimal | None:
            if not agg.rating_count:
                return None
            return (Decimal(agg.rating_sum) / agg.rating_count).quantize(_CENT, ROUND_HALF_UP)

        def region(addresses: Sequence[Address]) -> str | None:
            address: Address | None = primary_of(addresses)
            return address.province or address.city if address else None

        def city(addresses: Sequence[Address]) -> str | None:
            address: Address | None = primary_of(addresses)
            return address.city if address else None

        # How to make each fact from (aggregates, created_at, birth_date, addresses).
        plain: dict[str, Step] = {
            "total_spend": lambda a, c, b, d: money(a.spend_minor),
            "order_count": lambda a, c, b, d: a.order_count,
            "avg_order_value": lambda a, c, b, d: average(a),
            "first_purchase": lambda a, c, b, d: a.first_purchase,
            "last_purchase": lambda a, c, b, d: a.last_purchase,
            "recency_days": lambda a, c, b, d: since(a.last_purchase),
            "previous_gap_days": lambda a, c, b, d: previous_gap(a),
            "refund_total": lambda a, c, b, d: money(a.refund_minor),
            "refund_count": lambda a, c, b, d: a.refund_count,
            "other_currency_orders": lambda a, c, b, d: a.other_currency_orders,
            "last_contact": lambda a, c, b, d: a.last_contact,
            "days_since_contact": lambda a, c, b, d: since(a.last_contact),
            "interaction_count": lambda a, c, b, d: a.interaction_count,
            "avg_rating": lambda a, c, b, d: rating(a),
            "rating_count": lambda a, c, b, d: a.rating_count,
            "latest_nps": lambda a, c, b, d: a.latest_nps,
            "age": lambda a, c, b, d: None if b is None else age_on(b, as_of),
            "region": lambda a, c, b, d: region(d),
            "city": lambda a, c, b, d: city(d),
            "tenure_days": lambda a, c, b, d: since(c),
        }
        for n in self.windows:
            plain.update(_window_steps(n, money))
        self._steps = [(name, plain[name]) for name in self.facts]
        self.by_rows = bool(self.parts) and self.parts <= SALES_PARTS
        self._row_steps: list[tuple[str, RowStep]] = []
        if self.by_rows:
            rows = _row_steps(as_of, self.windows, money, quantum, zone)
            self._row_steps = [
                (name, rows.get(name) or _on_nothing(plain[name])) for name in self.facts
            ]

    def __call__(
        self,
        aggregates: HistoryAggregates | None,
        created_at: datetime | None,
        birth_date: date | None,
        addresses: Sequence[Address],
    ) -> dict[str, Any]:
        """The wanted facts of one customer, keys in :attr:`facts` order."""
        agg = aggregates or _NOTHING
        return {name: make(agg, created_at, birth_date, addresses) for name, make in self._steps}

    def from_row(
        self,
        row: SalesRow | None,
        created_at: datetime | None,
        birth_date: date | None,
        addresses: Sequence[Address],
    ) -> dict[str, Any]:
        """The same facts as calling it with the aggregates a sales row stands for.

        Only when :attr:`by_rows` (every fact wanted is made of sales parts or customer
        fields). Times stay epoch microseconds until a fact is a datetime; day counts are
        whole-number arithmetic on the microseconds and the zone's offset.
        """
        if row is None:
            return self(None, created_at, birth_date, addresses)
        return {
            name: make(row, created_at, birth_date, addresses) for name, make in self._row_steps
        }


_NOTHING = HistoryAggregates()
_CENT = Decimal("0.01")
_WINDOWED = ("orders", "spend", "interactions")
_PLAIN = [name for name in FACT_KINDS if not name.startswith(tuple(f"{w}_" for w in _WINDOWED))]


Step = Callable[[HistoryAggregates, Any, Any, Any], Any]


RowStep = Callable[[SalesRow, Any, Any, Any], Any]


def _on_nothing(step: Step) -> RowStep:
    """A step made of customer fields alone, called with no aggregates (as for no history)."""
    return lambda r, c, b, d: step(_NOTHING, c, b, d)


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_EPOCH_DAY = _EPOCH.date().toordinal()
_DAY_US = 86_400_000_000
_HOUR_US = 3_600_000_000
_MICROSECOND = timedelta(microseconds=1)
_VARIES = 1 << 62
"""Stands for an hour whose offset changes (no real offset is that many microseconds)."""


def local_day(zone: tzinfo) -> Callable[[int], int]:
    """The ordinal of the day in ``zone`` of an instant given in epoch microseconds.

    Equals ``from_epoch_us(us).astimezone(zone).date().toordinal()``. The zone's offset is
    found once per UTC hour: where it is the same at the hour's first and last microsecond
    (every hour but those holding an offset change, as no zone changes twice within an
    hour), the day is ``(us + offset) // day``; otherwise each instant is converted.
    """
    offsets: dict[int, int] = {}

    def day(us: int) -> int:
        hour = us // _HOUR_US
        offset = offsets.get(hour)
        if offset is None:
            start = _EPOCH + timedelta(0, 0, hour * _HOUR_US)
            first = start.astimezone(zone).utcoffset()
            last = (start + timedelta(0, 0, _HOUR_US - 1)).astimezone(zone).utcoffset()
            offset = offsets[hour] = (
                first // _MICROSECOND if first is not None and first == last else _VARIES
            )
        if offset is _VARIES:
            return (_EPOCH + timedelta(0, 0, us)).astimezone(zone).date().toordinal()
        return (us + offset) // _DAY_US + _EPOCH_DAY

    return day


def _row_steps(
    as_of: date,
    windows: Sequence[int],
    money: Callable[[int], Decimal],
    quantum: Decimal,
    zone: tzinfo,
) -> dict[str, RowStep]:
    """How to make each sales fact from a :data:`~custrec.store._aggregate.SalesRow`."""
    today = as_of.toordinal()
    day = local_day(zone)
    epoch = _EPOCH
    micro = timedelta

    def average(r: SalesRow) -> Decimal | None:
        if not r[0]:
            return None
        count: int = r[0]
        return (money(r[1]) / count).quantize(quantum, ROUND_HALF_UP)

    def previous_gap(r: SalesRow) -> int | None:
        return None if r[6] is None else day(r[5]) - day(r[6])

    steps: dict[str, RowStep] = {
        "total_spend": lambda r, c, b, d: money(r[1]),
        "order_count": lambda r, c, b, d: r[0],
        "avg_order_value": lambda r, c, b, d: average(r),
        "first_purchase": lambda r, c, b, d: epoch + micro(0, 0, r[4]),
        "last_purchase": lambda r, c, b, d: epoch + micro(0, 0, r[5]),
        "recency_days": lambda r, c, b, d: today - day(r[5]),
        "previous_gap_days": lambda r, c, b, d: previous_gap(r),
        "refund_total": lambda r, c, b, d: money(r[2]),
        "refund_count": lambda r, c, b, d: r[3],
    }
    for index, n in enumerate(windows):
        steps.update(_row_window_steps(n, 7 + 2 * index, money))
    return steps


def _row_window_steps(n: int, at: int, money: Callable[[int], Decimal]) -> dict[str, RowStep]:
    """How to make the sales facts of the ``n``-day window, held at ``at`` in a row."""

    def orders(r: SalesRow, *_: Any) -> int:
        return int(r[at])

    def spend(r: SalesRow, *_: Any) -> Decimal:
        return money(r[at + 1])

    return {f"orders_{n}d": orders, f"spend_{n}d": spend}


def _window_steps(n: int, money: Callable[[int], Decimal]) -> dict[str, Step]:
    """How to make the facts of the ``n``-day window."""

    def orders(a: HistoryAggregates, *_: Any) -> int:
        return a.orders_in.get(n, 0)

    def spend(a: HistoryAggregates, *_: Any) -> Decimal:
        return money(a.spend_in.get(n, 0))

    def interactions(a: HistoryAggregates, *_: Any) -> int:
        return a.interactions_in.get(n, 0)

    return {f"orders_{n}d": orders, f"spend_{n}d": spend, f"interactions_{n}d": interactions}


def _days(later: date | None, earlier: date | None) -> int | None:
    return None if later is None or earlier is None else (later - earlier).days
