"""Running a query in Python over records: the reference semantics every backend matches.

The memory store uses it directly; a backend without a query engine of its own can too.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from typing import Any, TypeVar

from custrec.errors import ValidationError
from custrec.expr import compile_predicate, field_spec, read_field, sort_key
from custrec.store._query import Order, Page, Query, decode_cursor, encode_cursor

__all__ = ["order_values", "run_query"]

R = TypeVar("R")


def order_values(record: Any, order: Sequence[Order]) -> list[Any]:
    """Return a record's values for the fields a query orders by."""
    kind = type(record)
    return [read_field(record, field_spec(kind, item.path)) for item in order]


def _compare_keys(
    left: tuple[list[Any], str], right: tuple[list[Any], str], order: Sequence[Order]
) -> int:
    for a, b, item in zip(left[0], right[0], order, strict=True):
        ka, kb = sort_key(a), sort_key(b)
        if ka != kb:
            result = -1 if ka < kb else 1
            return -result if item.descending else result
    if left[1] == right[1]:
        return 0
    return -1 if left[1] < right[1] else 1


def run_query(records: Iterable[R], kind: type[Any], query: Query) -> Page[R]:
    """Filter, order and page ``records`` as ``query`` says.

    Records are ordered by the query's fields (missing values first, then numbers, then
    text; descending reverses each field) and then by id ascending, so the order is total
    and a cursor marks an exact position.
    """
    keep = compile_predicate(query.where, kind)
    keyed: list[tuple[tuple[list[Any], str], R]] = [
        ((order_values(record, query.order), record.id), record)  # type: ignore[attr-defined]
        for record in records
        if keep(record)
    ]
    cmp = functools.partial(_compare_keys, order=query.order)

    def by_key(a: tuple[tuple[list[Any], str], R], b: tuple[tuple[list[Any], str], R]) -> int:
        return cmp(a[0], b[0])

    keyed.sort(key=functools.cmp_to_key(by_key))
    if query.cursor is not None:
        position = decode_cursor(query.cursor, query.order)
        try:
            keyed = [item for item in keyed if cmp(item[0], position) > 0]
        except TypeError:  # a forged cursor: a naive datetime, a date for a datetime…
            raise ValidationError(
                "cursor", query.cursor, "the cursor's values do not fit this query's fields"
            ) from None
    if query.size is None or len(keyed) <= query.size:
        return Page(tuple(record for _, record in keyed))
    page = keyed[: query.size]
    (values, last_id), _ = page[-1]
    return Page(tuple(record for _, record in page), encode_cursor(query.order, values, last_id))
