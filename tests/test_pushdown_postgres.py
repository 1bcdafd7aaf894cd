"""SQL push-down on PostgreSQL: history aggregates, facts and rule expressions in the database.

Each property compares what PostgreSQL computes with the Python reference over the same
random records (SQLite runs the same aggregate property, so both backends are held to it).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import pgserver as pg
from custrec import config
from custrec.classify import compute_facts, cutoff_of
from custrec.expr import parse
from custrec.model import Customer, Feedback, Interaction, Money, Transaction
from custrec.store import Order, Query, Store, aggregate_history, open_store, run_query
from custrec.testing import strategies
from test_classify_facts import AS_OF, expected_facts, histories

_PROPERTY = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.fixture(autouse=True)
def _utc() -> Iterator[None]:
    with config.using(timezone="UTC"):
        yield


def _normal(aggregates: Any) -> dict[str, dict[str, Any]]:
    """Aggregates as plain dicts, empty windows left out (SQL reports them as zero)."""
    out = {}
    for ident, agg in aggregates.items():
        values = attrs.asdict(agg)
        for name in ("orders_in", "spend_in", "interactions_in"):
            values[name] = {n: v for n, v in values[name].items() if v}
        out[ident] = values
    return out


class TestHistoryAggregatePushDown:
    """The database's aggregate_history equals the Python reference."""

    @_PROPERTY
    @given(records=histories(), currency=st.sampled_from(["CNY", "USD"]))
    def test_aggregates_equal_python_reference(
        self, sql_store: Store, records: list[Any], currency: str
    ) -> None:
        """SQLite and PostgreSQL aggregate random histories exactly as Python does."""
        pg.refill(sql_store, records)
        cutoff = cutoff_of(AS_OF)
        expected = aggregate_history(
            [r for r in records if isinstance(r, Transaction)],
            [r for r in records if isinstance(r, Interaction)],
            [r for r in records if isinstance(r, Feedback)],
            cutoff=cutoff,
            currency=currency,
        )
        got = sql_store.aggregate_history(cutoff, currency)  # type: ignore[attr-defined]
        assert _normal(got) == _normal(expected)

    def test_other_windows_and_empty_store(self, pg_store: Store) -> None:
        """Window lengths other than the defaults are counted; no history gives no entries."""
        assert pg_store.aggregate_history(cutoff_of(AS_OF), "CNY", (7, 14)) == {}  # type: ignore[attr-defined]
        records = [
            Customer(id="c1", created_at=cutoff_of(AS_OF) - timedelta(days=100)),
            Transaction("c1", cutoff_of(AS_OF) - timedelta(days=10), total=Money("5", "CNY")),
            Transaction("c1", cutoff_of(AS_OF) - timedelta(days=3), total=Money("7", "CNY")),
        ]
        pg.refill(pg_store, records)
        got = pg_store.aggregate_history(cutoff_of(AS_OF), "CNY", (7, 14))  # type: ignore[attr-defined]
        assert got["c1"].orders_in == {7: 1, 14: 2}
        assert got["c1"].spend_in == {7: 700, 14: 1200}


class TestFactsPushDown:
    """compute_facts on PostgreSQL (push-down) gives the facts worked out by hand."""

    @_PROPERTY
    @given(records=histories())
    def test_facts_equal_hand_computed_and_memory(
        self, pg_store: Store, records: list[Any]
    ) -> None:
        """Every fact of every customer equals the hand computation and the memory store's."""
        pg.refill(pg_store, records)
        population = compute_facts(pg_store, AS_OF)
        with open_store("memory://") as memory:
            pg.refill(memory, records)
            reference = {f.customer.id: dict(f.values) for f in compute_facts(memory, AS_OF)}
        assert {f.customer.id: dict(f.values) for f in population} == reference
        for facts in population:
            assert dict(facts.values) == expected_facts(facts.customer, records)


_RULES = (
    "name == '张伟'",
    "name contains 'anna' or custom.level >= 2",
    "notes contains 'ünï' or company contains 'ＡＢＣ'",
    "custom.points > 90 and not has_tag('VIP')",
    "custom.level in ('gold', 3) or custom.points is null",
    "birth_date < date('1980-01-01') or name is null",
    "custom.points / 4 > 20.5",
    "custom.points * 2 - custom.level <= 7",
    "company != 'x' and (custom.level == true or custom.points between 0 and 100)",
    "not (custom.level == 'Gold') and custom.level >= 'g'",
)
_LEVELS = st.sampled_from(["gold", "Gold", "", 1, 2, 2.5, -3, 0, True, False, None])
_POINTS = st.sampled_from([0, 1, 80, 95, 120, -1, 10**15, 95.0, 100.5, 0.1, 1e300, None])


@st.composite
def scored_customers(draw: st.DrawFn) -> Customer:
    """Random customers (any text) with the custom fields the rules read."""
    made = draw(strategies.customers())
    custom = {**made.custom, "level": draw(_LEVELS), "points": draw(_POINTS)}
    return attrs.evolve(made, custom={k: v for k, v in custom.items() if v is not None})


class TestRuleExpressionPushDown:
    """Rule texts compiled to PostgreSQL select exactly what the Python evaluator selects."""

    @_PROPERTY
    @given(
        records=st.lists(scored_customers(), max_size=6, unique_by=lambda c: c.id),
        text=st.sampled_from(_RULES),
    )
    def test_text_rules_agree_with_python(
        self, pg_store: Store, records: list[Customer], text: str
    ) -> None:
        """Any of the rules finds, on random customers, the ids run_query finds, in order."""
        pg.refill(pg_store, records)
        where = parse(text)
        expected = [
            c.id for c in run_query(records, Customer, Query(where, order=(Order("id"),))).items
        ]
        assert [c.id for c in pg_store.customers.find(where).items] == expected
        assert pg_store.customers.count(where) == len(expected)
