"""The store suite's audit group: every write leaves an entry with each field's change."""

# ruff: noqa: S101 - a test suite states what it proves with assert

from __future__ import annotations

from datetime import timedelta

import attrs

from custrec.model import now
from custrec.serialize import to_dict
from custrec.store import AuditAction, Store, diff
from custrec.testing.store_suite._base import (
    SuiteBase,
    changed,
    customer,
    ids,
    interaction,
    transaction,
)


class AuditTests(SuiteBase):
    """Every write leaves an audit entry: who, when, what, and each field's old and new value."""

    def test_an_add_is_audited(self, store: Store) -> None:
        """Adding records an add entry at version 1 with the actor and the time, no changes."""
        before = now()
        store.customers.add(customer("c1", name="A"), actor="alice")
        after = now()
        [entry] = store.audit("c1")
        assert entry.action == AuditAction.ADD
        assert (entry.actor, entry.record_type, entry.record_id) == ("alice", "customer", "c1")
        assert entry.version == 1
        assert entry.changes == ()
        assert entry.at.tzinfo is not None
        assert before - timedelta(seconds=1) <= entry.at <= after + timedelta(seconds=1)

    def test_an_update_records_each_changed_field(self, store: Store) -> None:
        """An update entry lists exactly the fields that changed, with old and new values."""
        v1 = store.customers.add(
            customer("c1", name="A", tags={"VIP"}, custom={"level": "gold"}, source="门店")
        )
        v2 = store.customers.update(
            attrs.evolve(v1, name="B", tags={"VIP", "老客户"}, custom={"level": "silver"})
        )
        entry = store.audit("c1")[-1]
        assert (entry.action, entry.version) == ("update", 2)
        changes = {change.field: (change.old, change.new) for change in entry.changes}
        assert changes == {
            "name": ("A", "B"),
            "tags": (["VIP"], ["VIP", "老客户"]),
            "custom": ({"level": "gold"}, {"level": "silver"}),
        }
        assert entry.changes == diff(to_dict(v1), to_dict(v2))

    def test_a_delete_keeps_the_last_values(self, store: Store) -> None:
        """A delete entry holds every field's last value, so deleting loses nothing."""
        store.customers.add(customer("c1"))
        store.transactions.add(transaction("t1", "c1", "12.50", note="gift"))
        last = store.transactions.update(changed(store.transactions.get("t1"), "wrapped"))
        store.transactions.delete("t1", actor="bob")
        entry = store.audit("t1")[-1]
        assert (entry.action, entry.version, entry.actor) == ("delete", 2, "bob")
        assert entry.changes == diff(to_dict(last), None)
        old = {change.field: change.old for change in entry.changes}
        assert old["note"] == "wrapped"
        assert old["total"] == {"amount": "12.50", "currency": "CNY"}
        assert all(change.new is None for change in entry.changes)

    def test_the_trail_is_oldest_first(self, store: Store) -> None:
        """A record's trail lists its writes in the order they happened."""
        v1 = store.customers.add(customer("c1"))
        v2 = store.customers.update(changed(v1, "two"))
        store.customers.upsert(changed(v2, "three"))
        store.customers.delete("c1")
        store.customers.upsert(customer("c1", name="again"))
        trail = store.audit("c1")
        assert [(e.action, e.version) for e in trail] == [
            ("add", 1),
            ("update", 2),
            ("update", 3),
            ("delete", 3),
            ("add", 1),
        ]
        assert [e.at for e in trail] == sorted(e.at for e in trail)

    def test_the_actor_comes_from_the_call_then_acting_as_then_the_store(
        self, store: Store
    ) -> None:
        """A write's actor is the one given, else the acting_as block's, else the store's."""
        store.customers.add(customer("nobody"))
        store.actor = "system"
        store.customers.add(customer("default"))
        with store.acting_as("carol"):
            store.customers.add(customer("block"))
            store.customers.add(customer("given"), actor="dave")
            with store.acting_as("erin"):
                store.customers.add(customer("inner"))
            store.customers.add(customer("restored"))
        store.customers.add(customer("after"))
        actors = {ident: store.audit(ident)[0].actor for ident in ids(store.customers)}
        assert actors == {
            "nobody": None,
            "default": "system",
            "block": "carol",
            "given": "dave",
            "inner": "erin",
            "restored": "carol",
            "after": "system",
        }

    def test_audit_separates_record_types(self, store: Store) -> None:
        """audit(id, record_type) picks one type's trail when ids repeat across types."""
        store.customers.add(customer("x1"))
        store.interactions.add(interaction("x1", "x1"))
        assert [e.record_type for e in store.audit("x1")] == ["customer", "interaction"]
        assert [e.record_type for e in store.audit("x1", "interaction")] == ["interaction"]
        assert store.audit("x1", "feedback") == []
        assert store.audit("nothing") == []

    def test_bulk_and_cascade_writes_are_audited_per_record(self, store: Store) -> None:
        """add_many and cascading deletes leave one entry per record, with the actor."""
        store.customers.add_many([customer("a"), customer("b")], actor="importer")
        store.interactions.add_many([interaction("i1", "a"), interaction("i2", "a")])
        store.customers.delete("a", cascade=True, actor="gdpr")
        for ident in ("a", "b"):
            assert store.audit(ident)[0].actor == "importer"
        for ident in ("i1", "i2", "a"):
            assert [(e.action, e.actor) for e in store.audit(ident)][-1] == ("delete", "gdpr")
