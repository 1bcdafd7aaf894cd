"""Shared data, record builders and assertions of the store suite, and :class:`SuiteBase`.

Every group of the suite builds its records and checks its results with these; the
:class:`SuiteBase` fixtures (``store``, ``reopen``) are what a backend's test class supplies.
"""

# ruff: noqa: S101 - a test suite states what it proves with assert

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import attrs
import pytest
from hypothesis import HealthCheck, settings

from custrec import config
from custrec.model import Channel, Customer, Feedback, Interaction, Money, Transaction
from custrec.serialize import RECORD_TYPES, to_dict
from custrec.store import Query, Repository, Store, run_query

# --- Shared data and helpers ---------------------------------------------------------------------

T0 = datetime(2024, 1, 1, tzinfo=UTC)
CST = timezone(timedelta(hours=8))
EST = timezone(timedelta(hours=-5))
KINDS = ("customer", "interaction", "transaction", "feedback")
HISTORY_KINDS: tuple[type[Any], ...] = (Interaction, Transaction, Feedback)
OWNER = "C-OWNER"

each_kind = pytest.mark.parametrize("kind", KINDS)
each_history_kind = pytest.mark.parametrize("kind", KINDS[1:])


class Abort(Exception):  # noqa: N818 - it is the signal a test sends, not an error
    """Raised inside a unit of work to make it roll back."""


@contextlib.contextmanager
def rolled_back(store: Store) -> Iterator[None]:
    """Run the block in a unit of work that then fails, so that all of it must be undone."""
    with contextlib.suppress(Abort), store.transaction():
        yield
        raise Abort


def customer(ident: str, **fields: Any) -> Customer:
    """Return a customer with fixed timestamps (so equality does not depend on the clock)."""
    fields.setdefault("created_at", T0)
    fields.setdefault("updated_at", fields["created_at"])
    return Customer(id=ident, **fields)


def interaction(ident: str, customer_id: str, at: datetime = T0, **fields: Any) -> Interaction:
    """Return a phone call with ``customer_id``."""
    return Interaction(customer_id, at, fields.pop("channel", Channel.PHONE), id=ident, **fields)


def transaction(
    ident: str, customer_id: str, total: str = "100.00", currency: str = "CNY", **fields: Any
) -> Transaction:
    """Return a sale to ``customer_id`` of ``total`` in ``currency``."""
    at = fields.pop("at", T0)
    return Transaction(customer_id, at, total=Money(total, currency), id=ident, **fields)


def feedback(ident: str, customer_id: str, at: datetime = T0, **fields: Any) -> Feedback:
    """Return feedback from ``customer_id`` (four stars unless told otherwise)."""
    fields.setdefault("rating", 4)
    return Feedback(customer_id, at, id=ident, **fields)


def repository(store: Store, kind: str) -> Repository[Any]:
    """Return the repository of records of ``kind`` (``"customer"``…)."""
    return store.repository(RECORD_TYPES[kind])


def sample(store: Store, kind: str, ident: str, customer_id: str = OWNER) -> Any:
    """Return a new record of ``kind``; for history, make sure its customer is stored first."""
    if kind == "customer":
        return customer(ident, name=f"Customer {ident}")
    if not store.customers.exists(customer_id):
        store.customers.add(customer(customer_id, name="Owner"))
    if kind == "interaction":
        return interaction(ident, customer_id, subject="first call")
    if kind == "transaction":
        return transaction(ident, customer_id, note="first sale")
    return feedback(ident, customer_id, text="good")


def _history_record(kind: str, ident: str, customer_id: str, at: datetime = T0) -> Any:
    if kind == "interaction":
        return interaction(ident, customer_id, at)
    if kind == "transaction":
        return transaction(ident, customer_id, at=at)
    return feedback(ident, customer_id, at)


_CHANGEABLE = {Customer: "name", Interaction: "subject", Transaction: "note", Feedback: "text"}


def changed(record: Any, text: str = "changed") -> Any:
    """Return a copy of ``record`` with one ordinary text field set to ``text``."""
    return attrs.evolve(record, **{_CHANGEABLE[type(record)]: text})


def ids(records: Any) -> list[str]:
    """Return the ids of records (a page, a list, any iterable), in their order."""
    return [record.id for record in records]


def assert_same(got: Any, expected: Any) -> None:
    """Assert two records are equal, down to each datetime's UTC offset."""
    assert got == expected
    assert to_dict(got) == to_dict(expected)


def wipe(store: Store) -> None:
    """Delete every record (customers with their history), for tests that reuse a store."""
    with store.transaction():
        for ident in ids(store.customers):
            store.customers.delete(ident, cascade=True)
    assert store.customers.count() == 0
    for kind in HISTORY_KINDS:
        assert store.repository(kind).count() == 0, "history left behind by a cascade"


def walk(repo: Repository[Any], query: Query, limit: int = 1000) -> list[list[str]]:
    """Return the ids of every page of ``query``, following cursors to the end."""
    pages: list[list[str]] = []
    cursor: str | None = None
    for _ in range(limit):
        page = repo.find(attrs.evolve(query, cursor=cursor))
        pages.append(ids(page.items))
        cursor = page.next_cursor
        if cursor is None:
            return pages
    pytest.fail(f"pagination did not end after {limit} pages")


def reference_pages(records: Sequence[Any], kind: type[Any], query: Query) -> list[list[str]]:
    """Return the pages :func:`custrec.store.run_query` gives for ``query``."""
    pages: list[list[str]] = []
    cursor: str | None = None
    while True:
        page = run_query(records, kind, attrs.evolve(query, cursor=cursor))
        pages.append(ids(page.items))
        cursor = page.next_cursor
        if cursor is None:
            return pages


def property_settings(max_examples: int) -> settings:
    """Hypothesis settings for a property test that reuses the function-scoped store."""
    return settings(
        max_examples=max_examples,
        deadline=None,
        suppress_health_check=[
            # The store fixture is reset by the test itself at the start of each example.
            HealthCheck.function_scoped_fixture,
            # Every backend's subclass runs the same inherited test: that is the point.
            HealthCheck.differing_executors,
            HealthCheck.too_slow,
        ],
    )


# --- Fixtures ------------------------------------------------------------------------------------


class SuiteBase:
    """The fixtures every group needs; a backend's test class overrides them."""

    @pytest.fixture
    def store(self) -> Store:
        """A fresh, empty store for one test. Backends must override this fixture."""
        raise NotImplementedError("subclass StoreSuite and supply a `store` fixture")

    @pytest.fixture
    def reopen(self) -> Callable[[], Store]:
        """A callable opening another handle on the store of the ``store`` fixture."""
        pytest.skip("the backend's test class supplies no `reopen` fixture (one store handle)")

    @pytest.fixture(autouse=True)
    def _known_settings(self) -> Iterator[None]:
        """Pin the settings the suite assumes: Chinese phone numbers, naive times in UTC."""
        with config.using(phone_region="CN", timezone="UTC"):
            yield
