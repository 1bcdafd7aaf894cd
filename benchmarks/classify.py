"""Classification facts from a SQLite store against a hand-written GROUP BY and Python scoring.

Both sides read the same database file: customers and their history made by
:mod:`custrec.testing.synthetic` (fixed seed, about ten transactions per customer on average)
and bulk-added to a fresh ``sqlite:///`` store before any timing. Both work as of the day
after the generated period, in the zone of the synthetic data (``Asia/Shanghai``), so every
transaction and every refund counts.

custrec's side is what an application runs: :meth:`Classification.run` with three built-in
dimensions, value tier (thresholds high 10000 / mid 2000 on net spend), RFM and lifecycle
(their defaults), and ``save=False``. It computes the facts those dimensions read (the
store's ``aggregate_history`` in SQL, the customers' creation times, the facts derived),
then labels every customer with explanations. Nothing is saved.

The baseline is what a competent engineer writes by hand for the same three labels: one
``GROUP BY customer_id`` over ``transactions`` (count, net spend, first and last purchase),
one window query for each customer's second-latest purchase (lifecycle's "reactivated" needs
the gap before the last one), the ids of the customers created before the cut-off, then
plain Python: day numbers by integer arithmetic on the stored microseconds, the tier
thresholds, RFM quintile scores with the same tie policy (:func:`_quintiles`), the RFM grid
lookup (the same segment table, :data:`custrec.classify.RFM_SEGMENTS`), lifecycle stages.

Outside the timings, both sides' labels are compared for every customer: the same customers,
the same value tier, RFM segment (and R, F, M scores) and lifecycle stage. Set
``CUSTREC_PROFILE=1`` to also print a cProfile summary of one custrec run (on stderr).
"""

from __future__ import annotations

import bisect
import contextlib
import cProfile
import io
import os
import pstats
import sqlite3
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

from benchmarks._runner import Context, Result, benchmark, best_of, building_inputs
from custrec import config
from custrec.classify import (
    RFM_SEGMENTS,
    Classification,
    CustomerType,
    Lifecycle,
    Rfm,
    ValueTier,
    cutoff_of,
)
from custrec.model import Customer, Feedback, Interaction, Transaction
from custrec.store import Store, open_store
from custrec.template import DimensionSpec
from custrec.testing import synthetic

NAME = "classify.facts_sqlite"
SEED = 2024
CURRENCY = "CNY"
ZONE = "Asia/Shanghai"
"""The zone of the synthetic data; it has kept one UTC offset since 1991."""
BATCH_SIZE = 1_000
CUSTOMER_CHUNK = 10_000
"""Customers added at a time, each chunk before its history."""

PROFILE = synthetic.Profile(
    # Organisations (8%) buy twice as often: 9.26 × 1.08 ≈ 10 transactions per customer.
    transactions_per_customer=9.26,
    interactions_per_customer=0.5,
    feedback_per_customer=0.2,
)
AS_OF = synthetic.DEFAULT_START + timedelta(days=PROFILE.span_days)
"""The day after the generated period: all history, refunds included, is before the cut-off."""

HIGH_MINOR, MID_MINOR = 10_000 * 100, 2_000 * 100
"""The value tier thresholds, in fen."""
DAY_US = 86_400 * 1_000_000

_SALES = """SELECT customer_id, COUNT(*), SUM(total_minor) - SUM(refund_minor), MIN(at_us),
        MAX(at_us)
    FROM transactions
    WHERE at_us < ? AND status != 'cancelled' AND currency = ?
    GROUP BY customer_id"""
_PREVIOUS = """SELECT customer_id, at_us FROM (
        SELECT customer_id, at_us,
            ROW_NUMBER() OVER (PARTITION BY customer_id ORDER BY at_us DESC) AS n
        FROM transactions
        WHERE at_us < ? AND status != 'cancelled' AND currency = ?)
    WHERE n = 2"""
_CUSTOMERS = "SELECT id FROM customers WHERE created_us < ?"

Labels = tuple[str, str, str, tuple[int, int, int] | None]
"""Value tier, RFM segment, lifecycle stage, and the R, F, M scores (``None`` without purchases)."""

_GRID = {
    (r, f): segment for segment, rs, fs in RFM_SEGMENTS for r in map(int, rs) for f in map(int, fs)
}
"""RFM segment by (R score, F score)."""


def _classification() -> Classification:
    return Classification(
        [
            ValueTier(
                DimensionSpec(
                    "value_tier",
                    classifier="value_tier",
                    options={"method": "thresholds", "thresholds": {"high": 10000, "mid": 2000}},
                )
            ),
            Rfm(DimensionSpec("rfm", classifier="rfm")),
            Lifecycle(DimensionSpec("lifecycle", classifier="lifecycle")),
        ],
        currency=CURRENCY,
    )


@benchmark(NAME)
def facts_sqlite(ctx: Context) -> Iterator[Result]:
    """Facts and three labels for every customer of a SQLite store, in seconds.

    custrec: ``Classification.run(store, as_of, save=False)`` (value tier, RFM, lifecycle).
    Baseline: ``SQL GROUP BY + Python scoring`` of the same three labels
    (see the module docstring).
    """
    count = ctx.size(100_000, full=1_000_000, smoke=2_000)
    path = ctx.workdir / "classify.db"
    with building_inputs():
        store = open_store(f"sqlite:///{path}")
        _fill(ctx, store, count)
    with contextlib.closing(store), config.using(timezone=ZONE):
        classification = _classification()
        ours: list[dict[str, CustomerType]] = []
        theirs: list[dict[str, Labels]] = []

        def with_custrec() -> None:
            run = classification.run(store, AS_OF, save=False)
            ours[:] = [dict(run.types)]

        conn = sqlite3.connect(path)
        with contextlib.closing(conn):

            def by_hand() -> None:
                theirs[:] = [_baseline(conn, AS_OF)]

            ctx.progress(f"{NAME}: custrec Classification.run, best of {ctx.repeat}")
            custrec = best_of(ctx.repeat, with_custrec)
            ctx.progress(f"{NAME}: custrec {custrec:.2f} s; baseline next")
            baseline = best_of(ctx.repeat, by_hand)
            ctx.progress(f"{NAME}: baseline {baseline:.2f} s; comparing labels")
        _check(ours[0], theirs[0])
        if os.environ.get("CUSTREC_PROFILE") == "1":
            _profile(ctx, with_custrec)
    yield Result(NAME, custrec, "s", "SQL GROUP BY + Python scoring", baseline)


def _fill(ctx: Context, store: Store, count: int) -> None:
    """Add ``count`` synthetic customers and their history, a chunk of customers at a time."""
    added = {"customers": 0}

    def customers() -> Iterator[Customer]:
        chunk: list[Customer] = []
        for customer in synthetic.iter_customers(count, seed=SEED, profile=PROFILE):
            chunk.append(customer)
            if len(chunk) == CUSTOMER_CHUNK:
                yield from _added(store, chunk, added)
                chunk = []
        yield from _added(store, chunk, added)

    ctx.progress(f"{NAME}: generating and adding {count:,} customers and their history")
    buffers: dict[type[Any], list[Any]] = {Interaction: [], Transaction: [], Feedback: []}
    repositories: dict[type[Any], Any] = {
        Interaction: store.interactions,
        Transaction: store.transactions,
        Feedback: store.feedback,
    }
    sales = 0
    for record in synthetic.iter_history(customers(), seed=SEED, profile=PROFILE):
        buffer = buffers[type(record)]
        buffer.append(record)
        if len(buffer) == BATCH_SIZE:
            repositories[type(record)].add_many(buffer, batch_size=BATCH_SIZE)
            buffer.clear()
            if type(record) is Transaction:
                sales += BATCH_SIZE
                if sales % 200_000 == 0:
                    ctx.progress(f"{NAME}: {added['customers']:,} customers, {sales:,} sales")
    for kind, buffer in buffers.items():
        repositories[kind].add_many(buffer, batch_size=BATCH_SIZE)
        if kind is Transaction:
            sales += len(buffer)
    ctx.progress(f"{NAME}: {added['customers']:,} customers, {sales:,} transactions stored")


def _added(store: Store, chunk: list[Customer], added: dict[str, int]) -> list[Customer]:
    """Add a chunk of customers (before any of their history is made) and return it."""
    added["customers"] += store.customers.add_many(chunk, batch_size=BATCH_SIZE)
    return chunk


# -- the baseline ----------------------------------------------------------------------------


def _quintiles(values: list[Any]) -> list[int]:
    """Scores 1-5: ``1 + floor(5 × share of values strictly smaller)``; ties share a score."""
    ordered = sorted(values)
    n = len(ordered)
    return [1 + min(4, int(bisect.bisect_left(ordered, v) / n * 5)) for v in values]


def _baseline(conn: sqlite3.Connection, as_of: date) -> dict[str, Labels]:
    """The labels of every customer created before the cut-off."""
    cutoff = cutoff_of(as_of)
    cutoff_us = int(cutoff.timestamp()) * 1_000_000
    offset_us = int(cutoff.utcoffset().total_seconds()) * 1_000_000  # type: ignore[union-attr]
    today = (cutoff_us + offset_us) // DAY_US - 1  # as_of, as a day number

    sales = conn.execute(_SALES, (cutoff_us, CURRENCY)).fetchall()
    previous = dict(conn.execute(_PREVIOUS, (cutoff_us, CURRENCY)).fetchall())
    ids = [row[0] for row in conn.execute(_CUSTOMERS, (cutoff_us,))]

    known = set(ids)
    buyers = [row for row in sales if row[0] in known]
    recency = [today - (row[4] + offset_us) // DAY_US for row in buyers]
    r_scores = _quintiles([-days for days in recency])
    f_scores = _quintiles([row[1] for row in buyers])
    m_scores = _quintiles([row[2] for row in buyers])

    labels: dict[str, Labels] = {}
    for row, days, r, f, m in zip(buyers, recency, r_scores, f_scores, m_scores, strict=True):
        customer_id, _orders, spend, first_us, last_us = row
        tier = "high" if spend >= HIGH_MINOR else "mid" if spend >= MID_MINOR else "low"
        before = previous.get(customer_id)
        if today - (first_us + offset_us) // DAY_US <= 90:
            stage = "new"
        elif days <= 180:
            last_day = (last_us + offset_us) // DAY_US
            gap = None if before is None else last_day - (before + offset_us) // DAY_US
            stage = "reactivated" if gap is not None and gap >= 365 else "active"
        elif days <= 365:
            stage = "at_risk"
        elif days <= 730:
            stage = "lapsed"
        else:
            stage = "churned"
        labels[customer_id] = (tier, _GRID[r, f], stage, (r, f, m))
    for customer_id in ids:
        if customer_id not in labels:
            labels[customer_id] = ("low", "no_purchase", "prospect", None)
    return labels


# -- checks and profile ----------------------------------------------------------------------


def _check(ours: dict[str, CustomerType], theirs: dict[str, Labels]) -> None:
    """Both sides labelled the same customers the same way (else the comparison would lie)."""
    if len(ours) != len(theirs) or ours.keys() != theirs.keys():
        raise AssertionError(
            f"custrec labelled {len(ours):,} customers, the baseline {len(theirs):,}"
        )
    for customer_id, kind in ours.items():
        rfm = kind.label("rfm").values
        scores = (rfm["R"], rfm["F"], rfm["M"]) if "R" in rfm else None
        mine = (kind["value_tier"], kind["rfm"], kind["lifecycle"], scores)
        if mine != theirs[customer_id]:
            raise AssertionError(f"{customer_id}: custrec {mine}, baseline {theirs[customer_id]}")


def _profile(ctx: Context, step: Any) -> None:
    ctx.progress(f"{NAME}: profiling one custrec run (CUSTREC_PROFILE=1)")
    profiler = cProfile.Profile()
    profiler.runcall(step)
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("cumulative").print_stats(30)
    stats.sort_stats("tottime").print_stats(20)
    ctx.progress(out.getvalue())
