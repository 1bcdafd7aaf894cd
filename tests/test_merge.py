"""Merging duplicate customers keeps everything, is one unit of work, and can be undone."""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from custrec.errors import ConflictError, NotFoundError, ValidationError
from custrec.model import Channel, Customer, HistoryRecord, Interaction, Phone
from custrec.quality import MERGES, Survivorship, merge, merge_record, unmerge
from custrec.quality._merge_survivorship import survive
from custrec.store import Store, open_store
from custrec.testing import duplicates, strategies, synthetic

BACKENDS = ("memory", "sqlite")
FIELDS = ("name", "gender", "birth_date", "company", "notes", "owner")


@contextlib.contextmanager
def fresh_store(backend: str) -> Iterator[Store]:
    """A new empty store of the given backend (SQLite in a temporary file)."""
    if backend == "memory":
        yield open_store("memory://")
        return
    with tempfile.TemporaryDirectory() as folder:
        store = open_store(f"sqlite:///{Path(folder) / 'x.db'}")
        try:
            yield store
        finally:
            store.close()


def fill(store: Store, seed: int, n: int = 6) -> list[Customer]:
    """Store ``n`` people, each with a copy (duplicates), and history for all of them."""
    corruption = duplicates.Corruption(duplicate_share=1.0, extra_copies=(1, 1))
    data = duplicates.generate(n, seed=seed, corruption=corruption)
    customers = sorted(data.customers, key=lambda c: c.id)
    store.customers.add_many(customers)
    for record in synthetic.iter_history(customers, seed=seed):
        store.repository(type(record)).add(record)
    return customers


def snapshot(store: Store) -> dict[tuple[str, str], object]:
    """Every record in the store, by (type, id)."""
    out: dict[tuple[str, str], object] = {}
    for repository in (store.customers, store.interactions, store.transactions, store.feedback):
        for record in repository:
            out[(repository.type_name, record.id)] = record
    return out


def without_bookkeeping(record: object) -> object:
    """The record with the fields the store manages itself blanked out."""
    changes: dict[str, object] = {"version": 1}
    if isinstance(record, Customer):
        changes["updated_at"] = record.created_at
    return attrs.evolve(record, **changes)  # type: ignore[misc]


def phone_keys(customer: Customer) -> set[str]:
    return {p.e164 or p.raw for p in customer.phones}


@pytest.fixture(params=BACKENDS)
def store(request: pytest.FixtureRequest) -> Iterator[Store]:
    with fresh_store(request.param) as opened:
        yield opened


class TestMergeProperties:
    @pytest.mark.parametrize("backend", BACKENDS)
    @settings(max_examples=25)
    @given(seed=st.integers(0, 10_000), data=st.data())
    def test_merge_keeps_everything_and_unmerge_restores(
        self, backend: str, seed: int, data: st.DataObject
    ) -> None:
        """Merge keeps every phone, email and history item; unmerge then is the identity.

        Identity: the same records, each equal field by field to what it was, apart from
        ``version`` (and a customer's ``updated_at``), which the store advances on writes.
        """
        with fresh_store(backend) as store:
            customers = fill(store, seed)
            ids = data.draw(
                st.lists(st.sampled_from([c.id for c in customers]), min_size=2, unique=True)
            )
            survivor = data.draw(st.one_of(st.none(), st.sampled_from(ids)))
            before = snapshot(store)
            inputs = [c for c in customers if c.id in ids]
            history: list[HistoryRecord] = [h for i in ids for h in store.history(i)]

            done = merge(store, ids, survivor=survivor, actor="tester")

            kept = store.customers.get(done.survivor)
            assert survivor in (None, done.survivor)
            assert {c.id for c in store.customers} == {c.id for c in customers} - set(done.merged)
            assert set().union(*map(phone_keys, inputs)) <= phone_keys(kept)
            assert {e.key for c in inputs for e in c.emails} <= {e.key for e in kept.emails}
            assert {(type(h), h.id) for h in store.history(kept.id)} == {
                (type(h), h.id) for h in history
            }
            assert all(e.actor == "tester" for e in store.audit(kept.id)[-1:])

            unmerge(store, done.id, actor="tester")

            after = snapshot(store)
            assert after.keys() == before.keys()
            touched = {("customer", i) for i in ids} | {
                (kind, ident) for kind, ident, _ in done.history
            }
            for key, old in before.items():
                new = after[key]
                if key in touched:
                    assert without_bookkeeping(new) == without_bookkeeping(old), key
                else:
                    assert new == old, key  # untouched records: exactly equal, version too


class TestMerge:
    def test_survivor_defaults_to_oldest_and_losers_leave(self, store: Store) -> None:
        """Without a survivor the first-created record lives on; the others are removed."""
        customers = fill(store, seed=3)
        ids = [customers[0].id, customers[1].id]
        oldest = min(customers[:2], key=lambda c: (c.created_at, c.id))
        done = merge(store, ids)
        assert done.survivor == oldest.id
        assert not store.customers.exists(next(i for i in ids if i != oldest.id))

    def test_unlimited_number_of_records(self, store: Store) -> None:
        """A dozen and more records merge into one (Odoo stops at 3, Twenty at 9)."""
        customers = fill(store, seed=5, n=7)
        ids = [c.id for c in customers]
        assert len(ids) >= 12
        done = merge(store, ids)
        assert store.customers.count() == 1
        assert len(done.merged) == len(ids) - 1

    def test_merge_record_is_persisted_and_audited(self, store: Store) -> None:
        """The merge record holds every input and moved history; the audit names the actor."""
        customers = fill(store, seed=8)
        ids = [customers[0].id, customers[1].id]
        moved = {h.id for i in ids[1:] for h in store.history(i)}
        done = merge(store, ids, survivor=ids[0], actor="alice")
        stored = merge_record(store, done.id)
        assert stored == done
        assert {c.id for c in stored.inputs} == set(ids)
        assert {entry[1] for entry in stored.history} == moved
        assert store.collection(MERGES).get(done.id) is not None
        assert stored.actor == "alice"
        deleted = store.audit(ids[1], "customer")[-1]
        assert (deleted.action.value, deleted.actor) == ("delete", "alice")

    def test_survivorship_strategies(self, store: Store) -> None:
        """Per-field strategies pick from the chosen record, the oldest or the most recent."""
        a = Customer(id="A", name="Old Name", notes="from A", phones=[Phone("13800000001")])
        b = Customer(id="B", name="New Name", notes="from B", phones=[Phone("13800000002")])
        store.customers.add(a)
        store.customers.add(b)
        rules = Survivorship({"name": "oldest", "notes": "record:B"})
        done = merge(store, ["A", "B"], survivor="A", survivorship=rules)
        kept = store.customers.get(done.survivor)
        first = min((a, b), key=lambda c: (c.created_at, c.id))
        assert kept.name == first.name
        assert kept.notes == "from B"
        assert {p.e164 for p in kept.phones} == {"+8613800000001", "+8613800000002"}
        assert sum(p.primary for p in kept.phones) <= 1

    def test_failure_changes_nothing(self, store: Store) -> None:
        """A merge naming an unknown id writes nothing at all."""
        customers = fill(store, seed=2)
        before = snapshot(store)
        with pytest.raises(NotFoundError):
            merge(store, [customers[0].id, customers[1].id, "nobody"])
        assert snapshot(store) == before
        assert list(store.collection(MERGES).items()) == []

    def test_bad_arguments(self, store: Store) -> None:
        """One id, or a survivor outside the ids, or an unknown strategy is refused."""
        fill(store, seed=1)
        with pytest.raises(ValidationError):
            merge(store, ["C000001", "C000001"])
        with pytest.raises(ValidationError):
            merge(store, ["C000001", "C000002"], survivor="C000003")
        with pytest.raises(ValidationError):
            Survivorship({"name": "union"})
        with pytest.raises(ValidationError):
            Survivorship({"nonsense": "oldest"})


class TestUnmerge:
    def test_refused_when_survivor_changed(self, store: Store) -> None:
        """Undoing would drop a later change to the survivor, so it is refused."""
        customers = fill(store, seed=4)
        done = merge(store, [customers[0].id, customers[1].id])
        kept = store.customers.get(done.survivor)
        store.customers.update(attrs.evolve(kept, notes="changed later"))
        with pytest.raises(ConflictError):
            unmerge(store, done.id)

    def test_twice_is_refused_and_unknown_is_not_found(self, store: Store) -> None:
        """A merge is undone once; an unknown merge id is NotFoundError."""
        customers = fill(store, seed=6)
        done = merge(store, [customers[0].id, customers[1].id])
        undone = unmerge(store, done.id)
        assert undone.undone_at is not None
        with pytest.raises(ValidationError):
            unmerge(store, done.id)
        with pytest.raises(NotFoundError):
            unmerge(store, "no-such-merge")

    def test_later_history_stays_with_survivor(self, store: Store) -> None:
        """History added to the survivor after the merge stays with it after unmerge."""
        customers = fill(store, seed=9)
        done = merge(store, [customers[0].id, customers[1].id])
        later = Interaction(done.survivor, datetime(2025, 1, 1, tzinfo=UTC), Channel.PHONE, id="L")
        store.interactions.add(later)
        unmerge(store, done.id)
        assert store.interactions.get("L").customer_id == done.survivor


class TestSurvivorshipProperties:
    @settings(max_examples=50)
    @given(records=st.lists(strategies.customers(), min_size=2, max_size=5), data=st.data())
    def test_union_keeps_every_contact_point(
        self, records: list[Customer], data: st.DataObject
    ) -> None:
        """Whatever the records, the merged one has every phone, email, handle, tag, interest."""
        survivor = data.draw(st.sampled_from(records))
        merged = survive(records, survivor, Survivorship())
        assert merged.id == survivor.id
        assert set().union(*map(phone_keys, records)) <= phone_keys(merged)
        assert {e.key for c in records for e in c.emails} <= {e.key for e in merged.emails}
        assert {h.key for c in records for h in c.handles} <= {h.key for h in merged.handles}
        assert frozenset().union(*(c.tags for c in records)) == merged.tags
        assert {i for c in records for i in c.interests} <= set(merged.interests)
        assert sum(p.primary for p in merged.phones) <= 1
        assert merged.created_at == min(c.created_at for c in records)

    @settings(max_examples=50)
    @given(records=st.lists(strategies.customers(), min_size=2, max_size=4), data=st.data())
    def test_single_value_strategies_pick_an_input_value(
        self, records: list[Customer], data: st.DataObject
    ) -> None:
        """Every single-value strategy takes its value from one of the inputs."""
        strategy = data.draw(st.sampled_from(["most_recent", "most_complete", "oldest"]))
        merged = survive(records, records[0], Survivorship(dict.fromkeys(FIELDS, strategy)))
        for field in FIELDS:
            assert getattr(merged, field) in [getattr(c, field) for c in records]
