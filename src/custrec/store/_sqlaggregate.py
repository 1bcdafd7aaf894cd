"""History aggregates computed by SQLite (SQL push-down for classification facts).

The queries behind :meth:`custrec.store._sqlite.SQLiteStore.aggregate_history` and
``aggregate_sales_rows``: SQLite computes the sums, counts and extremes over the indexed
columns, and gives exactly what :func:`custrec.store.aggregate_history` gives in Python for
the parts asked for. Refunds are summed in SQL when the last one was paid before the
cut-off; the rare sale with a refund on or after it is read back to date each refund.
:mod:`custrec.store._pgaggregate` is the PostgreSQL counterpart.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from contextlib import AbstractContextManager
from datetime import datetime, timedelta
from typing import Any

from custrec.errors import ValidationError
from custrec.model import Transaction
from custrec.store._aggregate import (
    SALES_PARTS,
    HistoryAggregates,
    SalesRow,
    refunded_before,
    wanted_parts,
    window_starts,
)
from custrec.store._sqlcompile import epoch_us, from_epoch_us

__all__ = ["aggregate_history", "aggregate_sales_rows"]

Connect = Callable[[], AbstractContextManager[sqlite3.Connection]]
"""Opens the store's connection for one use (``SQLiteStore._db``)."""
DecodeSale = Callable[[str, str], Transaction]
"""Reads a stored sale from its customer id and JSON document."""


def aggregate_history(
    db: Connect,
    decode: DecodeSale,
    cutoff: datetime,
    currency: str,
    *,
    windows: Sequence[int],
    parts: Collection[str] | None,
) -> dict[str, HistoryAggregates]:
    """Aggregate every customer's history before ``cutoff`` (see ``SQLiteStore``)."""
    wanted = wanted_parts(parts)
    windows = tuple(int(n) for n in windows)
    net, windowed, previous, sql, params = _aggregate_plan(cutoff, currency, windows, wanted)
    out: dict[str, HistoryAggregates] = {}
    with db() as conn:
        late: list[tuple[str, str]] = []
        if wanted & {"orders", "spend", "windows", "previous"}:
            unknown = _read_sales(
                conn,
                sql,
                params,
                windows if windowed else (),
                out,
                net=net,
                previous=previous,
            )
            if unknown:
                late = conn.execute(sql["late_refunds"], params).fetchall()
        _read_others(conn, sql, params, windows, out, wanted=wanted)
    starts = window_starts(cutoff, windows)
    for customer_id, doc in late:
        sale = decode(customer_id, doc)
        refund = refunded_before(sale, cutoff)
        if refund:
            within = [n for n, start in starts.items() if windowed and sale.at >= start]
            _refund(_entry(out, customer_id), refund, within)
    return out


def aggregate_sales_rows(
    db: Connect,
    decode: DecodeSale,
    cutoff: datetime,
    currency: str,
    *,
    windows: Sequence[int],
    parts: Collection[str] | None,
) -> dict[str, SalesRow]:
    """Every customer's sales aggregates before ``cutoff`` as plain numbers.

    Raises:
        ValidationError: A part is not one of the sales parts.
    """
    wanted = wanted_parts(parts) if parts is not None else SALES_PARTS
    if not wanted <= SALES_PARTS:
        raise ValidationError("parts", sorted(wanted - SALES_PARTS), "not a sales part")
    windows = tuple(int(n) for n in windows)
    net, windowed, previous, sql, params = _aggregate_plan(cutoff, currency, windows, wanted)
    starts = window_starts(cutoff, windows)
    out: dict[str, SalesRow] = {}
    unknown = 0
    with db() as conn:
        cursor = conn.execute(sql["sales"], params)
        if net or windowed or previous:
            unknown = _sales_rows(cursor, out, len(windows), net=net, windowed=windowed)
        else:  # only the orders: the query's columns are the row's first ones
            for customer_id, count, _total, first_us, last_us in cursor:
                out[customer_id] = (count, 0, 0, 0, first_us, last_us, None) + (
                    (0,) * (2 * len(windows))
                )
        late = conn.execute(sql["late_refunds"], params).fetchall() if unknown else []
    for customer_id, doc in late:
        sale = decode(customer_id, doc)
        refund = refunded_before(sale, cutoff)
        if refund:
            row = list(out[customer_id])
            row[1] -= refund
            row[2] += refund
            row[3] += 1
            for index, start in enumerate(starts.values()):
                if windowed and sale.at >= start:
                    row[8 + 2 * index] -= refund
            out[customer_id] = tuple(row)
    return out


def _aggregate_plan(
    cutoff: datetime, currency: str, windows: tuple[int, ...], wanted: frozenset[str]
) -> tuple[bool, bool, bool, dict[str, str], dict[str, Any]]:
    """The aggregate queries for the parts ``wanted``, and their parameters.

    Returns whether to net refunds, to count windows and to find previous sales, then the
    statements and the parameters they take.
    """
    net, windowed = bool(wanted & {"spend", "windows"}), "windows" in wanted
    previous = "previous" in wanted
    sql = _aggregate_sql(windows, net=net, windowed=windowed, previous=previous)
    params: dict[str, Any] = {"cutoff": epoch_us(cutoff), "currency": currency}
    params.update({f"w{n}": epoch_us(start) for n, start in window_starts(cutoff, windows).items()})
    return net, windowed, previous, sql, params


def _sales_rows(
    cursor: Iterable[tuple[Any, ...]],
    out: dict[str, SalesRow],
    windows: int,
    *,
    net: bool,
    windowed: bool,
) -> int:
    """Fill ``out`` with a sales row per customer; return the refunded sales left undated."""
    unknown = 0
    empty_windows = (0,) * (2 * windows)
    first_window = 8 if net else 5
    end_window = first_window + (2 * windows if windowed else 0)
    for row in cursor:
        before = row[end_window] if len(row) > end_window else None
        refund, refunds = (row[5], row[6]) if net else (0, 0)
        if net:
            unknown += row[7]
        out[row[0]] = (
            row[1],
            row[2] - refund,
            refund,
            refunds,
            row[3],
            row[4],
            before,
            *(row[first_window:end_window] if windowed else empty_windows),
        )
    return unknown


def _entry(out: dict[str, HistoryAggregates], customer_id: str) -> HistoryAggregates:
    found = out.get(customer_id)
    if found is None:
        found = out[customer_id] = HistoryAggregates()
    return found


def _refund(agg: HistoryAggregates, refund: int, windows: Iterable[int]) -> None:
    """Take a sale's refund off the customer's spend (net of refunds) and count it."""
    agg.spend_minor -= refund
    agg.refund_minor += refund
    agg.refund_count += refund > 0
    for n in windows:
        agg.spend_in[n] -= refund


def _read_sales(
    conn: sqlite3.Connection,
    sql: Mapping[str, str],
    params: Mapping[str, Any],
    windows: Sequence[int],
    out: dict[str, HistoryAggregates],
    *,
    net: bool,
    previous: bool,
) -> int:
    """Orders, spend net of the refunds paid before the cut-off, the windows, the previous sale.

    Returns how many refunded sales the table cannot date (paid on or after the cut-off,
    or written before the refund-time column): the caller dates those by reading them.
    """
    unknown = 0
    first_window = 8 if net else 5
    # Sales are read first, so each row makes its customer's entry.
    for row in conn.execute(sql["sales"], params):
        refund, refunds = (row[5], row[6]) if net else (0, 0)
        before = row[-1] if previous else None
        agg = out[row[0]] = HistoryAggregates(
            row[1],  # order_count
            row[2] - refund,  # spend_minor, net of refunds
            refund,  # refund_minor
            refunds,  # refund_count
            0,  # other_currency_orders
            _EPOCH + _MICROSECONDS(0, 0, row[3]),  # first_purchase, as from_epoch_us
            _EPOCH + _MICROSECONDS(0, 0, row[4]),  # last_purchase
            None if before is None else _EPOCH + _MICROSECONDS(0, 0, before),  # previous
        )
        if net:
            unknown += row[7]
        for index, n in enumerate(windows):
            agg.orders_in[n] = row[first_window + 2 * index]
            agg.spend_in[n] = row[first_window + 1 + 2 * index]
    return unknown


_EPOCH = from_epoch_us(0)
_MICROSECONDS = timedelta  # timedelta(0, 0, n): n microseconds, positional (faster)


def _read_others(
    conn: sqlite3.Connection,
    sql: Mapping[str, str],
    params: Mapping[str, Any],
    windows: Sequence[int],
    out: dict[str, HistoryAggregates],
    *,
    wanted: frozenset[str],
) -> None:
    """Other-currency orders, contacts, ratings and the latest NPS, as far as wanted."""
    if "other" in wanted:
        for customer_id, count in conn.execute(sql["other"], params):
            _entry(out, customer_id).other_currency_orders = count
    if "contacts" in wanted:
        for row in conn.execute(sql["contacts"], params):
            agg = _entry(out, row[0])
            agg.interaction_count, agg.last_contact = row[1], from_epoch_us(row[2])
            for index, n in enumerate(windows):
                agg.interactions_in[n] = row[3 + index]
    if "ratings" in wanted:
        for customer_id, total, count in conn.execute(sql["ratings"], params):
            if count:
                agg = _entry(out, customer_id)
                agg.rating_sum, agg.rating_count = total, count
    if "nps" in wanted:
        for customer_id, nps, at_us, ident in conn.execute(sql["nps"], params):
            agg = _entry(out, customer_id)
            agg.latest_nps, agg.latest_nps_key = nps, (from_epoch_us(at_us), ident)


def _aggregate_sql(
    windows: Sequence[int], *, net: bool, windowed: bool, previous: bool = False
) -> dict[str, str]:
    """The aggregate queries for :meth:`SQLiteStore.aggregate_history`.

    With ``net``, sales also sum the refunds known to be paid before the cut-off (``paid``)
    and count the refunded sales that cannot be dated from the table; with ``windowed``,
    sales are also counted and summed per window; with ``previous``, the last column is
    the time of the second-latest counted sale (``NULL`` with one), found by a short walk
    back along the ``(customer_id, at_us)`` index from each customer's group: much cheaper
    than ranking every sale with a window function. Only whole numbers
    (the windows, checked by the caller) are formatted into the text; every value travels
    as a named parameter.
    """
    windows = [int(n) for n in windows]
    paid = "(CASE WHEN refund_last_us < :cutoff THEN refund_minor ELSE 0 END)"
    # FILTER clauses (SQLite 3.30; the store needs 3.38) skip the many rows without refunds.
    refunds = (
        ", coalesce(SUM(refund_minor) FILTER (WHERE refund_last_us < :cutoff), 0),"
        " COUNT(*) FILTER (WHERE refund_last_us < :cutoff AND refund_minor > 0),"
        " COUNT(*) FILTER (WHERE refund_minor != 0"
        " AND (refund_last_us IS NULL OR refund_last_us >= :cutoff))"
        if net
        else ""
    )
    spent = f"total_minor - {paid}" if net else "total_minor"
    per_window = "".join(
        f", SUM(at_us >= :w{n}), SUM(CASE WHEN at_us >= :w{n} THEN {spent} ELSE 0 END)"
        for n in (windows if windowed else ())
    )
    contacts = "".join(f", SUM(at_us >= :w{n})" for n in windows)
    queries = dict(_AGGREGATES)
    before = _PREVIOUS_SALE if previous else ""
    queries["sales"] = queries["sales"].replace("<columns>", refunds + per_window + before)
    queries["contacts"] = queries["contacts"].replace("<windows>", contacts)
    return queries


_PREVIOUS_SALE = """, (SELECT earlier.at_us FROM transactions AS earlier
            WHERE earlier.customer_id = transactions.customer_id AND earlier.at_us < :cutoff
                AND earlier.status != 'cancelled' AND earlier.currency = :currency
            ORDER BY earlier.at_us DESC LIMIT 1 OFFSET 1)"""
"""Each customer's second-latest counted sale (ties count twice, as in the Python reference)."""

_AGGREGATES = {
    "sales": """SELECT customer_id, COUNT(*), SUM(total_minor), MIN(at_us), MAX(at_us)
            <columns>
        FROM transactions WHERE at_us < :cutoff AND status != 'cancelled' AND currency = :currency
        GROUP BY customer_id""",
    "late_refunds": """SELECT customer_id, doc FROM transactions
        WHERE at_us < :cutoff AND status != 'cancelled' AND currency = :currency
            AND refund_minor != 0 AND (refund_last_us IS NULL OR refund_last_us >= :cutoff)""",
    "other": """SELECT customer_id, COUNT(*) FROM transactions
        WHERE at_us < :cutoff AND status != 'cancelled' AND currency != :currency
        GROUP BY customer_id""",
    "contacts": """SELECT customer_id, COUNT(*), MAX(at_us) <windows>
        FROM interactions WHERE at_us < :cutoff GROUP BY customer_id""",
    "ratings": """SELECT customer_id, SUM(rating), COUNT(rating) FROM feedback
        WHERE at_us < :cutoff GROUP BY customer_id""",
    "nps": """SELECT customer_id, nps, at_us, id FROM (
            SELECT customer_id, nps, at_us, id, ROW_NUMBER() OVER (
                PARTITION BY customer_id ORDER BY at_us DESC, id DESC) AS n
            FROM feedback WHERE at_us < :cutoff AND nps IS NOT NULL)
        WHERE n = 1""",
}
