"""Rule push-down on SQLite: a RuleDimension decided by SQL against the Python path.

Not a row of the benchmark suite: a script for docs/scaling.md. It fills a SQLite store with
the suite's synthetic customers (the ``classify.facts_sqlite`` profile and seed), then runs
``Classification([dimension]).run(store, as_of, save=False, pushdown=...)`` with push-down on
and off, alternately, and prints the CPU time (``time.process_time``: SQLite runs in this
process) and the wall time of each, best of the repeats. Both runs' labels and explanations
are compared before any figure is printed.

    nice .venv/bin/python -m benchmarks.rules_pushdown 100000 3
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from benchmarks.classify import AS_OF, CURRENCY, PROFILE, SEED, ZONE
from custrec import config
from custrec.classify import Classification, Rule, RuleDimension
from custrec.model import Feedback, Interaction, Transaction
from custrec.store import open_store
from custrec.testing import synthetic

RULES = [
    Rule("vip", "total_spend >= 10000 and recency_days <= 90"),
    Rule("active", "orders_90d >= 2 or spend_30d > 500"),
    Rule("lapsed", "recency_days > 365 or last_purchase is null"),
    Rule("new", "tenure_days <= 30"),
]


def main(count: int, repeat: int) -> None:
    """Fill a store with ``count`` customers, then time both paths ``repeat`` times each."""
    with tempfile.TemporaryDirectory() as folder, config.using(timezone=ZONE):
        store = open_store(f"sqlite:///{Path(folder) / 'rules.db'}")
        customers = list(synthetic.iter_customers(count, seed=SEED, profile=PROFILE))
        store.customers.add_many(customers, batch_size=1_000)
        history: dict[type, list[object]] = {Interaction: [], Transaction: [], Feedback: []}
        for record in synthetic.iter_history(customers, seed=SEED, profile=PROFILE):
            history[type(record)].append(record)
        for kind, records in history.items():
            store.repository(kind).add_many(records, batch_size=1_000)
        print(f"{count:,} customers, {len(history[Transaction]):,} transactions", flush=True)
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
        store.close()
    for pushdown, (cpu, wall) in best.items():
        name = "push-down" if pushdown else "python   "
        print(f"{name}: cpu {cpu:.2f} s, wall {wall:.2f} s (best of {repeat})")


if __name__ == "__main__":
    main(
        int(sys.argv[1]) if len(sys.argv) > 1 else 100_000,
        int(sys.argv[2]) if len(sys.argv) > 2 else 3,
    )
