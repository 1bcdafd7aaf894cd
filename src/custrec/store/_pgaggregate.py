"""History aggregates computed by PostgreSQL (SQL push-down for classification facts).

The same queries as the SQLite store's, in PostgreSQL's spelling (``FILTER`` clauses,
``DISTINCT ON``); they give exactly :func:`custrec.store.aggregate_history` for the parts
asked for, and only those parts' queries run. Only the transactions with after-sales
refunds are read back, to date their refunds in Python.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from datetime import datetime
from typing import Any

import psycopg

from custrec.model import Transaction
from custrec.store._aggregate import (
    HistoryAggregates,
    refunded_before,
    wanted_parts,
    window_starts,
)
from custrec.store._sqlcompile import epoch_us, from_epoch_us

__all__ = ["aggregate_history"]

_COUNTED = (
    "at_us < %(cutoff)s AND status <> 'cancelled' AND currency {} %(currency)s"  # ' = ' or '<>'
)

_AGGREGATES = {
    "sales": """SELECT customer_id, COUNT(*), SUM(total_minor)::bigint, MIN(at_us), MAX(at_us)
            <windows>
        FROM transactions WHERE <same> GROUP BY customer_id""",
    "previous": """SELECT customer_id, at_us FROM (
            SELECT customer_id, at_us, ROW_NUMBER() OVER (
                PARTITION BY customer_id ORDER BY at_us DESC) AS n
            FROM transactions WHERE <same>) AS ranked
        WHERE n = 2""",
    "refunded": """SELECT customer_id, doc FROM transactions
        WHERE <same> AND refund_minor <> 0""",
    "other": """SELECT customer_id, COUNT(*) FROM transactions
        WHERE <other> GROUP BY customer_id""",
    "contacts": """SELECT customer_id, COUNT(*), MAX(at_us) <windows>
        FROM interactions WHERE at_us < %(cutoff)s GROUP BY customer_id""",
    "ratings": """SELECT customer_id, SUM(rating)::bigint, COUNT(rating) FROM feedback
        WHERE at_us < %(cutoff)s GROUP BY customer_id""",
    "nps": """SELECT DISTINCT ON (customer_id) customer_id, nps, at_us, id FROM feedback
        WHERE at_us < %(cutoff)s AND nps IS NOT NULL
        ORDER BY customer_id, at_us DESC, id DESC""",
}


def _queries(windows: Sequence[int]) -> dict[str, str]:
    """The aggregate queries; only whole numbers (the windows) are formatted into them."""
    windows = [int(n) for n in windows]
    sales = "".join(
        f", COUNT(*) FILTER (WHERE at_us >= %(w{n})s),"
        f" coalesce(SUM(total_minor) FILTER (WHERE at_us >= %(w{n})s), 0)::bigint"
        for n in windows
    )
    contacts = "".join(f", COUNT(*) FILTER (WHERE at_us >= %(w{n})s)" for n in windows)
    out = {}
    for name, template in _AGGREGATES.items():
        text = template.replace("<same>", _COUNTED.format("="))
        text = text.replace("<other>", _COUNTED.format("<>"))
        out[name] = text.replace("<windows>", contacts if name == "contacts" else sales)
    return out


def aggregate_history(  # noqa: PLR0912 - one loop per aggregate query, read in order
    conn: psycopg.Connection[Any],
    cutoff: datetime,
    currency: str,
    windows: Sequence[int],
    decode: Callable[[type[Any], str, Any], Any],
    *,
    parts: Collection[str] | None = None,
) -> dict[str, HistoryAggregates]:
    """Aggregate every customer's history before ``cutoff`` over ``conn``.

    Args:
        conn: A connection to the store's schema.
        cutoff: Records at or after it are left out.
        currency: The facts' currency.
        windows: Trailing windows in days.
        decode: Reads a transaction document back into a record.
        parts: The :data:`~custrec.store.AGGREGATE_PARTS` wanted (all when ``None``); only
            their queries run.

    Returns:
        The aggregates of every customer with counted history, by customer id.

    Raises:
        ValidationError: A part is unknown.
    """
    wanted = wanted_parts(parts)
    windows = tuple(int(n) for n in windows)
    sales = bool(wanted & {"orders", "spend", "windows"})
    net = bool(wanted & {"spend", "windows"})
    sql = _queries(windows)
    starts = window_starts(cutoff, windows)
    params: dict[str, Any] = {"cutoff": epoch_us(cutoff), "currency": currency}
    params.update({f"w{n}": epoch_us(start) for n, start in starts.items()})
    out: dict[str, HistoryAggregates] = {}

    def entry(customer_id: str) -> HistoryAggregates:
        found = out.get(customer_id)
        if found is None:
            found = out[customer_id] = HistoryAggregates()
        return found

    def rows(name: str) -> list[tuple[Any, ...]]:
        return conn.execute(sql[name], params).fetchall()

    for row in rows("sales") if sales else ():
        agg = entry(row[0])
        agg.order_count, agg.spend_minor = row[1], row[2]
        agg.first_purchase, agg.last_purchase = from_epoch_us(row[3]), from_epoch_us(row[4])
        for index, n in enumerate(windows):
            agg.orders_in[n] = row[5 + 2 * index]
            agg.spend_in[n] = row[6 + 2 * index]
    for customer_id, at_us in rows("previous") if "previous" in wanted else ():
        entry(customer_id).previous_purchase = from_epoch_us(at_us)
    refunded = rows("refunded") if net else []
    for customer_id, count in rows("other") if "other" in wanted else ():
        entry(customer_id).other_currency_orders = count
    for row in rows("contacts") if "contacts" in wanted else ():
        agg = entry(row[0])
        agg.interaction_count, agg.last_contact = row[1], from_epoch_us(row[2])
        for index, n in enumerate(windows):
            agg.interactions_in[n] = row[3 + index]
    for customer_id, total, count in rows("ratings") if "ratings" in wanted else ():
        if count:
            agg = entry(customer_id)
            agg.rating_sum, agg.rating_count = total, count
    for customer_id, nps, at_us, ident in rows("nps") if "nps" in wanted else ():
        agg = entry(customer_id)
        agg.latest_nps, agg.latest_nps_key = nps, (from_epoch_us(at_us), ident)
    for customer_id, doc in refunded:
        sale: Transaction = decode(Transaction, customer_id, doc)
        refund = refunded_before(sale, cutoff)
        if not refund:
            continue
        agg = entry(customer_id)
        agg.spend_minor -= refund
        agg.refund_minor += refund
        agg.refund_count += 1
        for n, start in starts.items():
            if sale.at >= start:
                agg.spend_in[n] -= refund
    return out
