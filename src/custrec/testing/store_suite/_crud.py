"""The store suite's CRUD group: add, get, update, upsert, delete, count, find and iterate."""

# ruff: noqa: S101 - a test suite states what it proves with assert

from __future__ import annotations

from datetime import timedelta
from typing import Any

import attrs
import pytest

from custrec.errors import ConflictError, DuplicateIdError, NotFoundError, ValidationError
from custrec.expr import F
from custrec.model import Customer, now
from custrec.store import Query, Store
from custrec.testing.store_suite._base import (
    _CHANGEABLE,
    SuiteBase,
    assert_same,
    changed,
    customer,
    each_kind,
    ids,
    repository,
    sample,
)


class CrudTests(SuiteBase):
    """Add, get, update, upsert, delete, count, find and iterate, on all four repositories."""

    @each_kind
    def test_add_then_get_gives_the_record_back(self, store: Store, kind: str) -> None:
        """An added record is stored as given, and add returns what get returns."""
        repo = repository(store, kind)
        record = sample(store, kind, "r1")
        added = repo.add(record)
        assert_same(added, record)
        assert_same(repo.get("r1"), added)

    @each_kind
    def test_add_stores_version_1_whatever_the_record_says(self, store: Store, kind: str) -> None:
        """A new record starts at version 1, even when the copy added carries another."""
        repo = repository(store, kind)
        added = repo.add(attrs.evolve(sample(store, kind, "r1"), version=7))
        assert added.version == 1
        assert repo.get("r1").version == 1

    @each_kind
    def test_update_increments_the_version(self, store: Store, kind: str) -> None:
        """Each update stores the next version and returns the record as stored."""
        repo = repository(store, kind)
        v1 = repo.add(sample(store, kind, "r1"))
        v2 = repo.update(changed(v1, "second"))
        v3 = repo.update(changed(v2, "third"))
        assert (v1.version, v2.version, v3.version) == (1, 2, 3)
        assert_same(repo.get("r1"), v3)
        assert v3 == attrs.evolve(changed(v1, "third"), version=3, **_bookkeeping(v3))

    def test_update_of_a_customer_sets_updated_at(self, store: Store) -> None:
        """A customer update stamps updated_at with the time of the update, not created_at."""
        v1 = store.customers.add(customer("c1", name="A"))
        before = now()
        v2 = store.customers.update(changed(v1))
        assert v2.created_at == v1.created_at
        assert v2.updated_at >= before - timedelta(seconds=1)
        assert store.customers.get("c1").updated_at == v2.updated_at

    @each_kind
    def test_update_with_a_stale_version_conflicts_and_changes_nothing(
        self, store: Store, kind: str
    ) -> None:
        """An update carrying an old version raises ConflictError and leaves the store as it was."""
        repo = repository(store, kind)
        v1 = repo.add(sample(store, kind, "r1"))
        v2 = repo.update(changed(v1, "winner"))
        with pytest.raises(ConflictError) as caught:
            repo.update(changed(v1, "loser"))
        error = caught.value
        assert (error.record_type, error.record_id) == (kind, "r1")
        assert (error.expected, error.actual) == (1, 2)
        assert_same(repo.get("r1"), v2)
        assert [entry.action for entry in store.audit("r1", kind)] == ["add", "update"]

    @each_kind
    def test_update_of_a_missing_record_raises_not_found(self, store: Store, kind: str) -> None:
        """Updating a record the store does not hold raises NotFoundError and adds nothing."""
        repo = repository(store, kind)
        with pytest.raises(NotFoundError) as caught:
            repo.update(sample(store, kind, "ghost"))
        assert (caught.value.record_type, caught.value.record_id) == (kind, "ghost")
        assert not repo.exists("ghost")

    @each_kind
    def test_upsert_adds_a_new_record_at_version_1(self, store: Store, kind: str) -> None:
        """Upserting an unknown id adds the record as version 1."""
        repo = repository(store, kind)
        stored = repo.upsert(attrs.evolve(sample(store, kind, "r1"), version=5))
        assert stored.version == 1
        assert_same(repo.get("r1"), stored)

    @each_kind
    def test_upsert_replaces_whatever_the_version(self, store: Store, kind: str) -> None:
        """Upserting a known id replaces the stored record, even from a stale copy."""
        repo = repository(store, kind)
        v1 = repo.add(sample(store, kind, "r1"))
        repo.update(changed(v1, "second"))
        stored = repo.upsert(changed(v1, "incoming"))
        assert stored.version == 3
        assert stored == attrs.evolve(changed(v1, "incoming"), version=3, **_bookkeeping(stored))
        assert_same(repo.get("r1"), stored)

    @each_kind
    def test_add_with_a_taken_id_raises_duplicate_id(self, store: Store, kind: str) -> None:
        """Adding a record whose id exists raises DuplicateIdError and keeps the original."""
        repo = repository(store, kind)
        original = repo.add(sample(store, kind, "r1"))
        with pytest.raises(DuplicateIdError) as caught:
            repo.add(changed(original, "impostor"))
        assert (caught.value.record_type, caught.value.record_id) == (kind, "r1")
        assert_same(repo.get("r1"), original)
        assert [entry.action for entry in store.audit("r1", kind)] == ["add"]

    @each_kind
    def test_get_of_a_missing_id_raises_not_found(self, store: Store, kind: str) -> None:
        """A get of a missing id raises NotFoundError naming the record type and the id."""
        with pytest.raises(NotFoundError) as caught:
            repository(store, kind).get("nobody")
        assert (caught.value.record_type, caught.value.record_id) == (kind, "nobody")

    @each_kind
    def test_get_many_returns_the_existing_records_by_id(self, store: Store, kind: str) -> None:
        """get_many maps each existing id to its record and leaves missing ids out."""
        repo = repository(store, kind)
        a = repo.add(sample(store, kind, "a"))
        b = repo.add(sample(store, kind, "b"))
        found = repo.get_many(["b", "missing", "a", "a"])
        assert found == {"a": a, "b": b}
        assert repo.get_many([]) == {}
        assert repo.get_many(iter(["missing"])) == {}

    @each_kind
    def test_exists(self, store: Store, kind: str) -> None:
        """An id exists once added and no longer once deleted; others never do."""
        repo = repository(store, kind)
        repo.add(sample(store, kind, "r1"))
        assert repo.exists("r1")
        assert not repo.exists("r2")
        repo.delete("r1")
        assert not repo.exists("r1")

    @each_kind
    def test_delete_removes_the_record(self, store: Store, kind: str) -> None:
        """A deleted record is gone: get raises NotFoundError, count and iteration skip it."""
        repo = repository(store, kind)
        repo.add(sample(store, kind, "r1"))
        repo.add(sample(store, kind, "r2"))
        repo.delete("r1")
        with pytest.raises(NotFoundError):
            repo.get("r1")
        assert ids(repo) == ["r2"]
        assert repo.count() == 1

    @each_kind
    def test_delete_of_a_missing_id_raises_not_found(self, store: Store, kind: str) -> None:
        """Deleting an id the store does not hold raises NotFoundError."""
        with pytest.raises(NotFoundError):
            repository(store, kind).delete("nobody")

    @each_kind
    def test_delete_with_expected_version(self, store: Store, kind: str) -> None:
        """A delete with a stale expected_version raises ConflictError and keeps the record."""
        repo = repository(store, kind)
        v1 = repo.add(sample(store, kind, "r1"))
        v2 = repo.update(changed(v1))
        with pytest.raises(ConflictError) as caught:
            repo.delete("r1", expected_version=1)
        assert (caught.value.expected, caught.value.actual) == (1, 2)
        assert_same(repo.get("r1"), v2)
        repo.delete("r1", expected_version=2)
        assert not repo.exists("r1")

    @each_kind
    def test_count_and_len(self, store: Store, kind: str) -> None:
        """count() counts every record, count(where) the matches; len() equals count()."""
        repo = repository(store, kind)
        assert repo.count() == 0
        for ident in ("a", "b", "c"):
            repo.add(sample(store, kind, ident))
        assert repo.count() == 3
        assert len(repo) == 3
        assert repo.count(F("id").is_in(["a", "c", "zzz"])) == 2
        assert repo.count(F("id") == "zzz") == 0

    @each_kind
    def test_find_without_a_query_returns_every_record_in_id_order(
        self, store: Store, kind: str
    ) -> None:
        """find() and find(None) return all records, ordered by id, on one page."""
        repo = repository(store, kind)
        for ident in ("b", "c", "a"):
            repo.add(sample(store, kind, ident))
        for page in (repo.find(), repo.find(None), repo.find(Query())):
            assert ids(page) == ["a", "b", "c"]
            assert page.next_cursor is None
        assert ids(repo.find(F("id") == "b")) == ["b"]

    @each_kind
    def test_iteration_yields_every_record_in_id_order(self, store: Store, kind: str) -> None:
        """Iterating a repository yields each record once, by id in code-point order."""
        repo = repository(store, kind)
        made = ["010", "002", "1", "01", "A-17", "a-17", "客户001", "Ａ", "x y"]
        for ident in made:
            repo.add(sample(store, kind, ident))
        assert ids(repo) == sorted(made)

    @each_kind
    def test_ids_are_kept_exactly(self, store: Store, kind: str) -> None:
        """Ids differing only by leading zeros, case or width are different records."""
        repo = repository(store, kind)
        for ident in ("001", "1", "01", "abc", "ABC", "ＡＢＣ"):
            repo.add(changed(sample(store, kind, ident), f"record {ident}"))
        for ident in ("001", "1", "01", "abc", "ABC", "ＡＢＣ"):
            assert _text_of(repo.get(ident)) == f"record {ident}"

    @each_kind
    def test_a_repository_refuses_records_of_another_type(self, store: Store, kind: str) -> None:
        """Writing a record of the wrong type raises ValidationError and stores nothing."""
        other = "interaction" if kind == "customer" else "customer"
        wrong = sample(store, other, "r1")
        repo = repository(store, kind)
        for write in (repo.add, repo.update, repo.upsert):
            with pytest.raises(ValidationError):
                write(wrong)
        with pytest.raises(ValidationError):
            repo.add_many([wrong])
        assert not repo.exists("r1")


def _bookkeeping(stored: Any) -> dict[str, Any]:
    """The fields a store sets on a write itself (a customer's updated_at)."""
    return {"updated_at": stored.updated_at} if isinstance(stored, Customer) else {}


def _text_of(record: Any) -> Any:
    return getattr(record, _CHANGEABLE[type(record)])
