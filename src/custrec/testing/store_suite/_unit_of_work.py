"""The store suite's unit-of-work group: a ``store.transaction()`` keeps all or none."""

# ruff: noqa: S101 - a test suite states what it proves with assert

from __future__ import annotations

from collections.abc import Callable

import attrs
import pytest

from custrec.errors import ConflictError, DuplicateIdError, IntegrityError
from custrec.expr import F, has_tag
from custrec.model import Email, Phone
from custrec.store import Store
from custrec.testing.store_suite._base import (
    SuiteBase,
    assert_same,
    changed,
    customer,
    feedback,
    ids,
    interaction,
    rolled_back,
    transaction,
)


class UnitOfWorkTests(SuiteBase):
    """``with store.transaction():`` keeps all of its writes or none."""

    def test_commit_keeps_every_write(self, store: Store) -> None:
        """Writes inside a block that ends normally are all kept."""
        store.customers.add(customer("old", name="before"))
        with store.transaction():
            assert store.in_transaction
            store.customers.add(customer("new"))
            store.customers.update(changed(store.customers.get("old"), "after"))
            store.interactions.add(interaction("i1", "new"))
        assert not store.in_transaction
        assert store.customers.get("old").name == "after"
        assert ids(store.customers) == ["new", "old"]
        assert ids(store.interactions) == ["i1"]

    def test_reads_inside_a_block_see_its_writes(self, store: Store) -> None:
        """Inside a block, reads, queries and lookups see the block's own writes."""
        with store.transaction():
            store.customers.add(customer("c1", name="inside", emails=[Email("in@qq.com")]))
            assert store.customers.get("c1").name == "inside"
            assert store.customers.count() == 1
            assert ids(store.customers.find(F("name") == "inside")) == ["c1"]
            assert ids(store.customers.find_by_email("in@qq.com")) == ["c1"]

    def test_an_exception_undoes_everything(self, store: Store) -> None:
        """An exception leaving the block undoes all of its writes, audit and lookups included."""
        kept = store.customers.add(
            customer("kept", name="kept", emails=[Email("kept@qq.com")], tags={"VIP"})
        )
        store.interactions.add(interaction("i0", "kept"))
        with rolled_back(store):
            store.customers.add(customer("new", emails=[Email("new@qq.com")]))
            store.customers.update(
                attrs.evolve(kept, name="changed", emails=[Email("moved@qq.com")], tags=set())
            )
            store.interactions.add(interaction("i1", "new"))
            store.interactions.delete("i0")
            store.feedback.add(feedback("f1", "kept"))
        assert_same(store.customers.get("kept"), kept)
        assert ids(store.customers) == ["kept"]
        assert ids(store.interactions) == ["i0"]
        assert ids(store.feedback) == []
        assert ids(store.customers.find_by_email("kept@qq.com")) == ["kept"]
        assert store.customers.find_by_email("moved@qq.com") == []
        assert store.customers.find_by_email("new@qq.com") == []
        assert ids(store.customers.find(has_tag("VIP"))) == ["kept"]
        assert [entry.action for entry in store.audit("kept")] == ["add"]
        assert store.audit("new") == []
        assert store.audit("f1") == []
        assert [entry.action for entry in store.audit("i0")] == ["add"]

    def test_a_failed_block_undoes_deletes(self, store: Store) -> None:
        """A cascading delete inside a failed block is undone: customer, history, lookups."""
        store.customers.add(customer("c1", phones=[Phone("13812345678", region="CN")]))
        store.interactions.add(interaction("i1", "c1"))
        with rolled_back(store):
            store.customers.delete("c1", cascade=True)
            assert not store.customers.exists("c1")
        assert store.customers.exists("c1")
        assert ids(store.interactions) == ["i1"]
        assert ids(store.customers.find_by_phone("+8613812345678")) == ["c1"]

    def test_any_base_exception_undoes_the_block(self, store: Store) -> None:
        """Writes are undone even when a KeyboardInterrupt-like exception leaves the block."""

        class Stop(BaseException):
            pass

        def interrupted() -> None:
            with store.transaction():
                store.customers.add(customer("c1"))
                raise Stop

        with pytest.raises(Stop):
            interrupted()
        assert not store.customers.exists("c1")
        store.customers.add(customer("c2"))
        assert ids(store.customers) == ["c2"]

    def test_a_failed_inner_block_is_undone_alone(self, store: Store) -> None:
        """An inner block that fails is rolled back alone; the outer block goes on and commits."""
        with store.transaction():
            a = store.customers.add(customer("a", name="A"))
            with rolled_back(store):
                store.customers.add(customer("b"))
                store.customers.update(changed(a, "changed inside"))
            store.customers.add(customer("c"))
        assert ids(store.customers) == ["a", "c"]
        assert_same(store.customers.get("a"), a)
        assert [entry.action for entry in store.audit("a")] == ["add"]
        assert store.audit("b") == []

    def test_blocks_nest_deeply(self, store: Store) -> None:
        """Savepoints nest: each failed level undoes only its own writes."""
        with store.transaction():
            store.customers.add(customer("1"))
            with store.transaction():
                store.customers.add(customer("2"))
                with rolled_back(store):
                    store.customers.add(customer("3"))
                    with store.transaction():
                        store.customers.add(customer("4"))
                store.customers.add(customer("5"))
        assert ids(store.customers) == ["1", "2", "5"]

    def test_a_failed_outer_block_undoes_committed_inner_blocks(self, store: Store) -> None:
        """An inner block that ended normally is still undone when the outer block fails."""
        with rolled_back(store):
            with store.transaction():
                store.customers.add(customer("inner"))
            store.customers.add(customer("outer"))
        assert store.customers.count() == 0

    def test_a_refused_write_does_not_spoil_the_block(self, store: Store) -> None:
        """A write refused inside a block (duplicate id, conflict) leaves the block usable."""
        store.customers.add(customer("a"))
        with store.transaction():
            with pytest.raises(DuplicateIdError):
                store.customers.add(customer("a", name="impostor"))
            with pytest.raises(ConflictError):
                store.customers.update(attrs.evolve(store.customers.get("a"), version=9))
            with pytest.raises(IntegrityError):
                store.interactions.add(interaction("i1", "nobody"))
            store.customers.add(customer("b"))
        assert ids(store.customers) == ["a", "b"]
        assert store.customers.get("a").name is None
        assert [entry.action for entry in store.audit("a")] == ["add"]
        assert store.audit("i1") == []

    def test_the_store_works_after_a_rollback(self, store: Store) -> None:
        """After a failed block, later writes and blocks behave normally."""
        for _ in range(3):
            with rolled_back(store):
                store.customers.add(customer("x"))
        with store.transaction():
            store.customers.add(customer("x"))
        assert ids(store.customers) == ["x"]
        assert store.customers.get("x").version == 1

    def test_committed_writes_are_seen_by_another_handle(
        self, store: Store, reopen: Callable[[], Store]
    ) -> None:
        """Once a block commits, another handle on the same store sees every write."""
        other = reopen()
        with store.transaction():
            store.customers.add(customer("c1", emails=[Email("c1@qq.com")]))
            store.interactions.add(interaction("i1", "c1"))
        assert_same(other.customers.get("c1"), store.customers.get("c1"))
        assert ids(other.customers.find_by_email("C1@qq.com")) == ["c1"]
        assert ids(other.history("c1")) == ["i1"]
        assert [entry.action for entry in other.audit("c1")] == ["add"]

    def test_uncommitted_writes_are_not_seen_by_another_handle(
        self, store: Store, reopen: Callable[[], Store]
    ) -> None:
        """Another handle does not see a block's writes before it commits, nor after a rollback."""
        other = reopen()
        with rolled_back(store):
            store.customers.add(customer("c1"))
            assert not other.customers.exists("c1")
        assert not other.customers.exists("c1")

    def test_a_stale_update_through_another_handle_conflicts(
        self, store: Store, reopen: Callable[[], Store]
    ) -> None:
        """Two handles read version 1; the second to update gets ConflictError, no write is lost."""
        other = reopen()
        store.customers.add(customer("c1", name="start"))
        mine = store.customers.get("c1")
        theirs = other.customers.get("c1")
        store.customers.update(changed(mine, "mine"))
        with pytest.raises(ConflictError) as caught:
            other.customers.update(changed(theirs, "theirs"))
        assert (caught.value.expected, caught.value.actual) in {(1, 2), (1, None)}
        for handle in (store, other):
            got = handle.customers.get("c1")
            assert (got.name, got.version) == ("mine", 2)

    def test_data_survives_closing_the_store(
        self, store: Store, reopen: Callable[[], Store]
    ) -> None:
        """Records, lookups and audit written before close are there when the store is reopened."""
        store.customers.add(customer("c1", name="kept", emails=[Email("k@qq.com")]))
        store.transactions.add(transaction("t1", "c1"))
        expected = store.customers.get("c1")
        store.close()
        again = reopen()
        assert_same(again.customers.get("c1"), expected)
        assert ids(again.customers.find_by_email("k@qq.com")) == ["c1"]
        assert ids(again.transactions) == ["t1"]
        assert [entry.action for entry in again.audit("c1")] == ["add"]
