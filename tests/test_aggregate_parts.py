"""History aggregates by part: memory, SQLite and PostgreSQL agree for every choice of parts.

A store asked for some :data:`~custrec.store.AGGREGATE_PARTS` must give, for the fields of
those parts, exactly what the Python reference gives (which is what the memory store uses).
Each backend is asked for every one of the 255 non-empty selections on the same random data.
"""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

import pgserver as pg
from custrec import config
from custrec.classify import cutoff_of
from custrec.errors import ValidationError
from custrec.model import Customer, Feedback, Interaction, Money, Transaction
from custrec.store import (
    AGGREGATE_PARTS,
    WINDOWS,
    HistoryAggregates,
    Store,
    SupportsHistoryAggregation,
    aggregate_history,
    open_store,
)
from test_classify_facts import AS_OF, histories

SELECTIONS = [
    frozenset(chosen)
    for size in range(1, len(AGGREGATE_PARTS) + 1)
    for chosen in itertools.combinations(sorted(AGGREGATE_PARTS), size)
]
"""Every non-empty selection of parts."""

_stores = itertools.count()


@pytest.fixture(autouse=True)
def _utc() -> Iterator[None]:
    with config.using(timezone="UTC"):
        yield


def fill(store: Store, records: list[Any]) -> None:
    """Empty the store, then add the records (customers first)."""
    if store.scheme == "postgresql":
        pg.empty(store)
    with store.transaction():
        for kind in (Customer, Interaction, Transaction, Feedback):
            store.repository(kind).add_many(r for r in records if isinstance(r, kind))


def projected(
    aggregates: dict[str, HistoryAggregates], parts: frozenset[str]
) -> dict[str, dict[str, Any]]:
    """The fields of ``parts`` of every customer with a non-empty value in one of them.

    Windows with nothing in them are left out (SQL reports them as zero), and customers whose
    chosen fields are all empty are left out (a store need not list them).
    """
    empty = HistoryAggregates()
    out = {}
    for ident, agg in aggregates.items():
        values: dict[str, Any] = {}
        for name in (field for part in sorted(parts) for field in AGGREGATE_PARTS[part]):
            value = getattr(agg, name)
            if isinstance(value, dict):
                value = {n: v for n, v in value.items() if v}
            values[name] = value
        blank = {
            name: {} if isinstance(value, dict) else getattr(empty, name)
            for name, value in values.items()
        }
        if values != blank:
            out[ident] = values
    return out


def reference(records: list[Any], cutoff: Any) -> dict[str, HistoryAggregates]:
    """What the memory store computes: the Python reference over its history."""
    with open_store("memory://") as memory:
        fill(memory, records)
        assert not isinstance(memory, SupportsHistoryAggregation)
        return aggregate_history(
            memory.transactions, memory.interactions, memory.feedback, cutoff=cutoff, currency="CNY"
        )


def check_every_selection(store: Store, records: list[Any]) -> None:
    """``store`` gives the reference's fields for every selection of parts."""
    cutoff = cutoff_of(AS_OF)
    expected = reference(records, cutoff)
    assert isinstance(store, SupportsHistoryAggregation)
    for parts in SELECTIONS:
        found = store.aggregate_history(cutoff, "CNY", WINDOWS, parts)
        assert (sorted(parts), projected(dict(found), parts)) == (
            sorted(parts),
            projected(expected, parts),
        )


_PROPERTY = settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


class TestEverySelectionOfParts:
    """The three backends return the same aggregates for every selection of parts."""

    @_PROPERTY
    @given(records=histories())
    def test_sqlite_equals_memory(self, tmp_path: Path, records: list[Any]) -> None:
        """SQLite, for each of the 255 selections, equals the memory store's reference."""
        with open_store(f"sqlite:///{tmp_path / f'p{next(_stores)}.db'}") as store:
            fill(store, records)
            check_every_selection(store, records)

    @_PROPERTY
    @given(records=histories())
    def test_postgresql_equals_memory(self, pg_store: Store, records: list[Any]) -> None:
        """PostgreSQL, for each of the 255 selections, equals the memory store's reference."""
        fill(pg_store, records)
        check_every_selection(pg_store, records)

    @pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
    def test_unknown_parts_are_refused(
        self, backend: str, tmp_path: Path, request: pytest.FixtureRequest
    ) -> None:
        """Both SQL stores name an aggregate part that does not exist."""
        if backend == "sqlite":
            store = open_store(f"sqlite:///{tmp_path / 'u.db'}")
        else:
            store = request.getfixturevalue("pg_store")
        assert isinstance(store, SupportsHistoryAggregation)
        with contextlib.ExitStack() as stack:
            if backend == "sqlite":
                stack.enter_context(contextlib.closing(store))  # type: ignore[arg-type]
            with pytest.raises(ValidationError) as caught:
                store.aggregate_history(cutoff_of(AS_OF), "CNY", WINDOWS, ["orders", "mood"])
        assert caught.value.value == ["mood"]

    @pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
    def test_parts_not_asked_for_are_not_computed(
        self, backend: str, tmp_path: Path, request: pytest.FixtureRequest
    ) -> None:
        """Asking for contacts only runs no sales query: order fields stay at their defaults."""
        records = [
            Customer(id="c1", created_at=cutoff_of(AS_OF) - timedelta(days=100)),
            Transaction("c1", cutoff_of(AS_OF) - timedelta(days=9), total=Money("5", "CNY")),
            Interaction("c1", cutoff_of(AS_OF) - timedelta(days=3), "phone"),
        ]
        if backend == "sqlite":
            store = open_store(f"sqlite:///{tmp_path / 'n.db'}")
        else:
            store = request.getfixturevalue("pg_store")
        try:
            fill(store, records)
            assert isinstance(store, SupportsHistoryAggregation)
            found = store.aggregate_history(cutoff_of(AS_OF), "CNY", WINDOWS, {"contacts"})
        finally:
            if backend == "sqlite":
                store.close()
        assert found["c1"].interaction_count == 1
        assert (found["c1"].order_count, found["c1"].last_purchase) == (0, None)
