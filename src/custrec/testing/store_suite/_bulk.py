"""The store suite's bulk group: add_many in all-or-nothing batches, iter_batches."""

# ruff: noqa: S101 - a test suite states what it proves with assert

from __future__ import annotations

from typing import Any

import attrs
import pytest

from custrec.errors import DuplicateIdError, IntegrityError, ValidationError
from custrec.expr import F
from custrec.store import Store
from custrec.testing.store_suite._base import (
    SuiteBase,
    _history_record,
    customer,
    each_history_kind,
    each_kind,
    ids,
    repository,
    rolled_back,
    sample,
)


def _batch_records(store: Store, kind: str, count: int, prefix: str = "r") -> list[Any]:
    return [sample(store, kind, f"{prefix}{n:04d}") for n in range(count)]


class BulkTests(SuiteBase):
    """add_many in all-or-nothing batches with progress; iter_batches in bounded memory."""

    @each_kind
    def test_add_many_stores_every_record(self, store: Store, kind: str) -> None:
        """add_many returns how many it added; each is stored at version 1 and audited."""
        repo = repository(store, kind)
        records = [attrs.evolve(r, version=3) for r in _batch_records(store, kind, 25)]
        assert repo.add_many(iter(records), batch_size=10, actor="importer") == 25
        assert ids(repo) == ids(records)
        assert all(record.version == 1 for record in repo)
        assert store.audit("r0024", kind)[0].actor == "importer"

    @each_kind
    def test_progress_reports_running_totals(self, store: Store, kind: str) -> None:
        """The progress callback gets the number added so far after each batch."""
        calls: list[int] = []
        repo = repository(store, kind)
        repo.add_many(_batch_records(store, kind, 25), batch_size=10, progress=calls.append)
        assert calls == [10, 20, 25]
        calls.clear()
        repo.add_many(_batch_records(store, kind, 20, "s"), batch_size=10, progress=calls.append)
        assert calls == [10, 20]
        calls.clear()
        assert repo.add_many([], progress=calls.append) == 0
        assert calls == []

    @each_kind
    def test_a_failing_batch_is_stored_not_at_all(self, store: Store, kind: str) -> None:
        """A duplicate in batch 3 leaves batches 1-2 stored and nothing of batch 3 or later."""
        repo = repository(store, kind)
        repo.add(sample(store, kind, "r0025"))
        calls: list[int] = []
        with pytest.raises(DuplicateIdError):
            repo.add_many(_batch_records(store, kind, 50), batch_size=10, progress=calls.append)
        assert calls == [10, 20]
        assert ids(repo) == [f"r{n:04d}" for n in range(20)] + ["r0025"]
        assert store.audit("r0020", kind) == []

    @each_kind
    def test_a_repeat_within_a_batch_fails_the_batch(self, store: Store, kind: str) -> None:
        """An id given twice in one batch raises DuplicateIdError; that batch is not stored."""
        repo = repository(store, kind)
        records = _batch_records(store, kind, 4)
        with pytest.raises(DuplicateIdError):
            repo.add_many([*records, records[0]], batch_size=5)
        assert repo.count() == 0

    @each_history_kind
    def test_history_for_an_unknown_customer_fails_its_batch(self, store: Store, kind: str) -> None:
        """History naming an unknown customer fails its batch with IntegrityError."""
        repo = repository(store, kind)
        records = _batch_records(store, kind, 6)
        records[4] = _history_record(kind, records[4].id, "nobody")
        with pytest.raises(IntegrityError):
            repo.add_many(records, batch_size=3)
        assert ids(repo) == ids(records[:3])

    @each_kind
    def test_inside_a_transaction_add_many_is_all_or_nothing(self, store: Store, kind: str) -> None:
        """Within an enclosing block, a failing batch undoes the whole call with the block."""
        repo = repository(store, kind)
        repo.add(sample(store, kind, "r0025"))
        before = repo.count()
        with pytest.raises(DuplicateIdError), store.transaction():
            repo.add_many(_batch_records(store, kind, 50), batch_size=10)
        assert repo.count() == before
        with rolled_back(store):
            repo.add_many(_batch_records(store, kind, 20, "s"), batch_size=10)
        assert repo.count() == before

    def test_bad_batch_sizes_are_refused(self, store: Store) -> None:
        """A batch size that is not a whole number from 1 raises ValidationError."""
        for size in (0, -1, True, 2.5, "10"):
            with pytest.raises(ValidationError):
                store.customers.add_many([customer("c1")], batch_size=size)  # type: ignore[arg-type]
            with pytest.raises(ValidationError):
                list(store.customers.iter_batches(size))  # type: ignore[arg-type]
        assert store.customers.count() == 0

    @each_kind
    def test_iter_batches_gives_batches_of_the_size_asked_in_id_order(
        self, store: Store, kind: str
    ) -> None:
        """iter_batches yields full batches, then the rest, every record once, in id order."""
        repo = repository(store, kind)
        records = _batch_records(store, kind, 25)
        repo.add_many(reversed(records))
        batches = list(repo.iter_batches(10))
        assert [len(batch) for batch in batches] == [10, 10, 5]
        assert [r.id for batch in batches for r in batch] == ids(records)
        assert [len(batch) for batch in repo.iter_batches(5)] == [5] * 5
        assert [len(batch) for batch in repo.iter_batches(100)] == [25]

    @each_kind
    def test_project_yields_chosen_fields_in_id_order(self, store: Store, kind: str) -> None:
        """A projection gives (id, field values…) for every record, in id order, in batches."""
        repo = repository(store, kind)
        records = _batch_records(store, kind, 25)
        repo.add_many(reversed(records))
        stored = [repo.get(record.id) for record in records]
        batches = list(repo.project(["version", "created_at" if kind == "customer" else "at"], 10))
        assert [len(batch) for batch in batches] == [10, 10, 5]
        moment = "created_at" if kind == "customer" else "at"
        assert [row for batch in batches for row in batch] == [
            (r.id, r.version, getattr(r, moment)) for r in stored
        ]
        assert list(repo.project([], 100)) == [[(r.id,) for r in stored]]

    def test_project_with_a_condition_gives_only_matches(self, store: Store) -> None:
        """With a condition, project gives the matching records' fields, batch after batch."""
        store.customers.add_many(
            customer(f"c{n:03d}", name="even" if n % 2 == 0 else "odd") for n in range(40)
        )
        batches = list(store.customers.project(["name"], 4, where=F("name") == "even"))
        assert [len(batch) for batch in batches] == [4] * 5
        assert [row for batch in batches for row in batch] == [
            (f"c{n:03d}", "even") for n in range(0, 40, 2)
        ]
        assert list(store.customers.project([], 4, where=F("name") == "none")) == []

    def test_project_refuses_unknown_fields_and_bad_batch_sizes(self, store: Store) -> None:
        """Asking for a field the record type lacks names it; batch sizes are checked."""
        with pytest.raises(ValidationError) as caught:
            store.customers.project(["name", "nickname"])
        assert (caught.value.field, caught.value.value) == ("fields", "nickname")
        with pytest.raises(ValidationError):
            store.customers.project(["name"], 0)

    def test_iter_batches_fills_each_batch_with_matches(self, store: Store) -> None:
        """With a condition, each batch holds batch_size matching records (not fewer)."""
        store.customers.add_many(
            customer(f"c{n:03d}", name="even" if n % 2 == 0 else "odd") for n in range(40)
        )
        batches = list(store.customers.iter_batches(4, where=F("name") == "even"))
        assert [len(batch) for batch in batches] == [4] * 5
        assert [r.id for batch in batches for r in batch] == [f"c{n:03d}" for n in range(0, 40, 2)]
        assert list(store.customers.iter_batches(4, where=F("name") == "none")) == []

    def test_iter_batches_holds_one_batch_at_a_time(
        self, store: Store, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """iter_batches reads lazily: the backend returns at most batch_size records per read."""
        store.customers.add_many(customer(f"c{n:03d}") for n in range(95))
        reads: list[int] = []
        scan = store._scan

        def counting_scan(kind: Any, after: Any, limit: int, where: Any) -> Any:
            found = scan(kind, after, limit, where)
            assert len(found) <= limit
            reads.append(len(found))
            return found

        monkeypatch.setattr(store, "_scan", counting_scan)
        batches = store.customers.iter_batches(10)
        assert len(next(batches)) == 10
        assert reads == [10], "iter_batches read ahead of the first batch"
        assert sum(len(batch) for batch in batches) == 85
        assert reads == [10] * 9 + [5]
        assert ids(store.customers) == [f"c{n:03d}" for n in range(95)]
