"""Rule push-down on SQLite: a RuleDimension decided by SQL against the Python path.

Not a row of the benchmark suite: a script for docs/scaling.md. It fills a SQLite store with
the suite's synthetic customers (the ``classify.facts_sqlite`` profile and seed), then runs
``Classification([dimension]).run(store, as_of, save=False, pushdown=...)`` with push-down on
and off, alternately, and prints the CPU time (``time.process_time``: SQLite runs in this
process) and the wall time of each, best of the repeats. Both runs' labels and explanations
are compared before any figure is printed.

    nice .venv/bin/python -m benchmarks.rules_pushdown 100000 3
    nice .venv/bin/python -m benchmarks.rules_pushdown 100000 3 'postgresql://…?schema=s'

With a store URL (an empty store, or one this script filled with as many customers) it runs
there instead of a temporary SQLite file. It then
prints the database's plan of the push-down statement (``EXPLAIN QUERY PLAN`` on SQLite,
``EXPLAIN (ANALYZE, BUFFERS)`` on PostgreSQL).
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path
from typing import cast

from benchmarks.classify import AS_OF, CURRENCY, PROFILE, SEED, ZONE
from custrec import config
from custrec.classify import Classification, Rule, RuleDimension, cutoff_of
from custrec.classify._pushdown import rule_query
from custrec.model import Feedback, Interaction, Transaction
from custrec.store import Store, open_store
from custrec.store._sqlrules import match_rules_sql
from custrec.testing import synthetic

RULES = [
    Rule("vip", "total_spend >= 10000 and recency_days <= 90"),
    Rule("active", "orders_90d >= 2 or spend_30d > 500"),
    Rule("lapsed", "recency_days > 365 or last_purchase is null"),
    Rule("new", "tenure_days <= 30"),
]


def main(count: int, repeat: int, url: str | None = None) -> None:
    """Fill a store with ``count`` customers, then time both paths ``repeat`` times each."""
    with tempfile.TemporaryDirectory() as folder, config.using(timezone=ZONE):
        store = open_store(url or f"sqlite:///{Path(folder) / 'rules.db'}")
        if store.customers.count() != count:  # a store URL may name one filled before
            customers = list(synthetic.iter_customers(count, seed=SEED, profile=PROFILE))
            store.customers.add_many(customers, batch_size=1_000)
            history: dict[type, list[object]] = {Interaction: [], Transaction: [], Feedback: []}
            for record in synthetic.iter_history(customers, seed=SEED, profile=PROFILE):
                history[type(record)].append(record)
            for kind, records in history.items():
                store.repository(kind).add_many(records, batch_size=1_000)
        print(f"{count:,} customers, {store.transactions.count():,} transactions", flush=True)
        classification = Classification(
            [RuleDimension("segment", RULES, "regular")], currency=CURRENCY
        )
        best = {True: (float("inf"), float("inf")), False: (float("inf"), float("inf"))}
        answers = {}
        for _ in range(repeat):
            for pushdown in (True, False):
                cpu, wall = time.process_time(), time.perf_counter()
                run = classification.run(store, AS_OF, save=False, pushdown=pushdown)
                took = (time.process_time() - cpu, time.perf_counter() - wall)
                best[pushdown] = min(best[pushdown], took)
                answers[pushdown] = [kind.explain() for kind in run.types.values()]
        if answers[True] != answers[False]:
            raise SystemExit("push-down changed a label or an explanation")
        _plan(store, classification)
        store.close()
    for pushdown, (cpu, wall) in best.items():
        name = "push-down" if pushdown else "python   "
        print(f"{name}: cpu {cpu:.2f} s, wall {wall:.2f} s (best of {repeat})")


def _plan(store: Store, classification: Classification) -> None:
    """Print the database's plan of the push-down statement."""
    dimension = cast("RuleDimension", classification.dimensions[0])
    query = rule_query(
        dimension.conditions,
        dimension.schema,
        as_of=AS_OF,
        currency=CURRENCY,
        windows=classification.windows,
        cutoff=cutoff_of(AS_OF),
    )
    assert query is not None  # noqa: S101 - the rules above all have an SQL form
    dialect = store.scheme
    sql, params = match_rules_sql(query, dialect)
    explain = "EXPLAIN QUERY PLAN " if dialect == "sqlite" else "EXPLAIN (ANALYZE, BUFFERS) "
    with store._db() as conn:  # type: ignore[attr-defined]
        for row in conn.execute(explain + sql, params).fetchall():
            print(row[-1])


if __name__ == "__main__":
    main(
        int(sys.argv[1]) if len(sys.argv) > 1 else 100_000,
        int(sys.argv[2]) if len(sys.argv) > 2 else 3,
        sys.argv[3] if len(sys.argv) > 3 else None,
    )
