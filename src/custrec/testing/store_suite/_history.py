"""The store suite's history group: history records always belong to a stored customer."""

# ruff: noqa: S101 - a test suite states what it proves with assert

from __future__ import annotations

from datetime import UTC, datetime

import attrs
import pytest

from custrec.errors import ConflictError, IntegrityError
from custrec.store import Store
from custrec.testing.store_suite._base import (
    CST,
    EST,
    HISTORY_KINDS,
    SuiteBase,
    _history_record,
    assert_same,
    changed,
    customer,
    each_history_kind,
    feedback,
    ids,
    interaction,
    repository,
    transaction,
)


class HistoryTests(SuiteBase):
    """Interactions, transactions and feedback always belong to a stored customer."""

    @each_history_kind
    def test_history_for_an_unknown_customer_is_refused(self, store: Store, kind: str) -> None:
        """Adding or upserting history whose customer_id names no customer raises IntegrityError."""
        repo = repository(store, kind)
        with pytest.raises(IntegrityError) as caught:
            repo.add(_history_record(kind, "h1", "nobody"))
        assert (caught.value.record_type, caught.value.record_id) == (kind, "h1")
        with pytest.raises(IntegrityError):
            repo.upsert(_history_record(kind, "h1", "nobody"))
        with pytest.raises(IntegrityError):
            repo.add_many([_history_record(kind, "h1", "nobody")])
        assert repo.count() == 0
        assert store.audit("h1") == []

    @each_history_kind
    def test_history_cannot_be_moved_to_an_unknown_customer(self, store: Store, kind: str) -> None:
        """Updating history to a customer_id that names no customer raises IntegrityError."""
        store.customers.add(customer("c1"))
        repo = repository(store, kind)
        stored = repo.add(_history_record(kind, "h1", "c1"))
        with pytest.raises(IntegrityError):
            repo.update(attrs.evolve(stored, customer_id="nobody"))
        with pytest.raises(IntegrityError):
            repo.upsert(attrs.evolve(stored, customer_id="nobody"))
        assert_same(repo.get("h1"), stored)

    def test_deleting_a_customer_with_history_is_refused(self, store: Store) -> None:
        """A customer with history is not deleted without cascade; nothing changes."""
        store.customers.add(customer("c1"))
        store.interactions.add(interaction("i1", "c1"))
        store.transactions.add(transaction("t1", "c1"))
        with pytest.raises(IntegrityError) as caught:
            store.customers.delete("c1")
        assert (caught.value.record_type, caught.value.record_id) == ("customer", "c1")
        assert store.customers.exists("c1")
        assert ids(store.history("c1")) == ["i1", "t1"]
        assert [entry.action for entry in store.audit("c1")] == ["add"]

    def test_a_customer_without_history_is_deleted(self, store: Store) -> None:
        """A customer whose history was deleted first can be deleted plainly."""
        store.customers.add(customer("c1"))
        store.feedback.add(feedback("f1", "c1"))
        store.feedback.delete("f1")
        store.customers.delete("c1")
        assert not store.customers.exists("c1")

    def test_cascade_deletes_the_history_too(self, store: Store) -> None:
        """cascade=True deletes the customer and all its history, and only its history."""
        for ident in ("c1", "c2"):
            store.customers.add(customer(ident))
            store.interactions.add(interaction(f"i-{ident}", ident))
            store.transactions.add(transaction(f"t-{ident}", ident))
            store.feedback.add(feedback(f"f-{ident}", ident))
        store.customers.delete("c1", cascade=True)
        assert ids(store.customers) == ["c2"]
        assert ids(store.interactions) == ["i-c2"]
        assert ids(store.transactions) == ["t-c2"]
        assert ids(store.feedback) == ["f-c2"]
        assert store.history("c1") == []
        for ident in ("i-c1", "t-c1", "f-c1", "c1"):
            assert [entry.action for entry in store.audit(ident)] == ["add", "delete"]
        self._no_orphans(store)

    def test_a_refused_cascade_deletes_nothing(self, store: Store) -> None:
        """A cascading delete with a stale expected_version deletes neither customer nor history."""
        v1 = store.customers.add(customer("c1"))
        store.customers.update(changed(v1))
        store.interactions.add(interaction("i1", "c1"))
        with pytest.raises(ConflictError):
            store.customers.delete("c1", expected_version=1, cascade=True)
        assert store.customers.exists("c1")
        assert ids(store.interactions) == ["i1"]
        store.customers.delete("c1", expected_version=2, cascade=True)
        assert store.customers.count() == store.interactions.count() == 0

    def test_history_comes_in_time_order_across_the_three_types(self, store: Store) -> None:
        """history() merges the three types by instant; at equal instants by type, then by id."""
        store.customers.add(customer("h"))
        store.customers.add(customer("other"))
        one = datetime(2024, 1, 1, 1, tzinfo=UTC)
        store.feedback.add(feedback("f-late", "h", datetime(2024, 1, 1, 11, tzinfo=CST)))
        store.interactions.add(interaction("i-9", "h", datetime(2024, 1, 1, 10, tzinfo=CST)))
        store.feedback.add(feedback("f-same", "h", datetime(2024, 1, 1, 9, tzinfo=CST)))
        store.transactions.add(transaction("t-same", "h", at=one))
        store.interactions.add(interaction("i-b", "h", one))
        store.interactions.add(interaction("i-a", "h", datetime(2023, 12, 31, 20, tzinfo=EST)))
        store.transactions.add(transaction("t-first", "h", at=datetime(2023, 6, 1, tzinfo=CST)))
        store.interactions.add(interaction("i-other", "other", one))
        assert ids(store.history("h")) == [
            "t-first",
            "i-a",
            "i-b",
            "t-same",
            "f-same",
            "i-9",
            "f-late",
        ]
        assert ids(store.interactions.for_customer("h")) == ["i-a", "i-b", "i-9"]
        assert ids(store.history("other")) == ["i-other"]
        assert store.history("nobody") == []

    @staticmethod
    def _no_orphans(store: Store) -> None:
        for kind in HISTORY_KINDS:
            for record in store.repository(kind):
                assert store.customers.exists(record.customer_id), f"orphan {record.id}"
