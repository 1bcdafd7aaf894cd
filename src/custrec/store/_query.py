"""Queries over a repository: a condition, an order, a page size and a cursor."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterator, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Generic, TypeVar

import attrs

from custrec.errors import ValidationError
from custrec.expr import Expr
from custrec.model import Money

__all__ = ["Order", "Page", "Query", "decode_cursor", "encode_cursor"]

R = TypeVar("R")

MAX_PAGE = 10_000
"""Largest page a query may ask for; iterate with a cursor for more."""


def _to_order(value: Order | str) -> Order:
    if isinstance(value, Order):
        return value
    if isinstance(value, str) and value.strip("-"):
        return Order(value.lstrip("-"), descending=value.startswith("-"))
    raise ValidationError("order", value, "expected a field name, '-name' for descending")


@attrs.frozen
class Order:
    """Sort by one field.

    Attributes:
        path: The field's path.
        descending: Largest first when true.
    """

    path: str
    descending: bool = False


def _to_orders(value: Sequence[Order | str]) -> tuple[Order, ...]:
    return tuple(_to_order(item) for item in value)


def _check_size(instance: Query, attribute: attrs.Attribute[int | None], value: object) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_PAGE:
        raise ValidationError("limit", value, f"a page holds 1 to {MAX_PAGE} records")


@attrs.frozen
class Query:
    """What to find: a condition, the order, how many, and where to continue.

    Build with methods, each returning a new query::

        Query(F("city") == "北京").order_by("-created_at").limit(50)

    Records are ordered by :attr:`order` and then by id, so the order is total and paging
    with :meth:`after` never repeats or skips a record that existed throughout.

    Attributes:
        where: The condition; ``None`` matches every record.
        order: Sort fields; ids break ties.
        size: Page size; ``None`` returns every match.
        cursor: Continue after the record this cursor (from :attr:`Page.next_cursor`) marks.
    """

    where: Expr | None = None
    order: tuple[Order, ...] = attrs.field(default=(), converter=_to_orders)
    size: int | None = attrs.field(default=None, validator=_check_size)
    cursor: str | None = None

    def filter(self, condition: Expr) -> Query:
        """Return this query with ``condition`` added (both must hold)."""
        where = condition if self.where is None else self.where & condition
        return attrs.evolve(self, where=where)

    def order_by(self, *fields: Order | str) -> Query:
        """Return this query sorted by ``fields`` (``"-name"`` for descending)."""
        return attrs.evolve(self, order=fields)

    def limit(self, size: int) -> Query:
        """Return this query returning at most ``size`` records a page."""
        return attrs.evolve(self, size=size)

    def after(self, cursor: str | None) -> Query:
        """Return this query continuing after ``cursor``."""
        return attrs.evolve(self, cursor=cursor)


@attrs.frozen
class Page(Generic[R]):
    """One page of a query's results.

    Attributes:
        items: The records, in order.
        next_cursor: Pass to :meth:`Query.after` for the next page; ``None`` on the last.
    """

    items: tuple[R, ...]
    next_cursor: str | None = None

    def __iter__(self) -> Iterator[R]:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)


def _tag(value: Any) -> list[Any]:
    if value is None:
        return ["n"]
    if isinstance(value, bool):
        return ["b", value]
    if isinstance(value, int):
        return ["i", value]
    if isinstance(value, float):
        return ["f", value]
    if isinstance(value, Decimal):
        return ["d", str(value)]
    if isinstance(value, str):
        return ["s", value]
    if isinstance(value, datetime):
        return ["T", value.isoformat()]
    if isinstance(value, date):
        return ["D", value.isoformat()]
    if isinstance(value, Money):
        return ["M", str(value.amount), value.currency]
    if isinstance(value, tuple) and all(isinstance(item, str) for item in value):
        return ["L", list(value)]  # a multi-choice custom field's texts
    raise ValidationError("order", value, "this value cannot be used to order a query")


def _aware(moment: datetime) -> datetime:
    if moment.tzinfo is None:  # encode_cursor only writes aware datetimes
        raise ValueError("a cursor's datetime carries its offset")
    return moment


def _untag(item: Any) -> Any:
    tag, *rest = item
    readers: dict[str, Any] = {
        "n": lambda: None,
        "b": lambda: bool(rest[0]),
        "i": lambda: int(rest[0]),
        "f": lambda: float(rest[0]),
        "d": lambda: Decimal(rest[0]),
        "s": lambda: str(rest[0]),
        "T": lambda: _aware(datetime.fromisoformat(rest[0])),
        "D": lambda: date.fromisoformat(rest[0]),
        "M": lambda: Money(rest[0], rest[1]),
        "L": lambda: tuple(str(item) for item in rest[0]),
    }
    return readers[tag]()


def encode_cursor(order: Sequence[Order], values: Sequence[Any], record_id: str) -> str:
    """Encode the position after a record: its order values and id, with the order used."""
    payload = {
        "o": [[o.path, o.descending] for o in order],
        "v": [_tag(value) for value in values],
        "id": record_id,
    }
    raw = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, order: Sequence[Order]) -> tuple[list[Any], str]:
    """Decode a cursor made by :func:`encode_cursor` for the same order.

    Returns:
        The order values and the id of the record the cursor points after.

    Raises:
        ValidationError: The cursor is damaged or was made for a different order.
    """
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        payload = json.loads(raw)
        made_for = [Order(path, bool(desc)) for path, desc in payload["o"]]
        values = [_untag(item) for item in payload["v"]]
        record_id = payload["id"]
    except (ValueError, KeyError, TypeError, IndexError, binascii.Error, ArithmeticError):
        raise ValidationError("cursor", cursor, "not a cursor this library made") from None
    if made_for != list(order) or len(values) != len(order) or not isinstance(record_id, str):
        raise ValidationError("cursor", cursor, "the cursor belongs to a query with another order")
    return values, record_id
