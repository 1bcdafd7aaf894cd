"""Conformance tests for the store primitives :mod:`custrec.privacy` relies on.

A backend that wants :func:`custrec.privacy.erase` to work implements ``Store._scrub_audit``
and ``Store._purge``, then proves them by subclassing :class:`PrivacySuite` beside its
:class:`~custrec.testing.store_suite.StoreSuite` subclass, with the same ``store`` fixture::

    class TestRedisPrivacy(PrivacySuite):
        @pytest.fixture
        def store(self, redis_url):
            with RedisStore.from_url(redis_url) as store:
                yield store

As in the store suite, no class here is named ``Test…``, so pytest collects nothing from
this module itself. It needs pytest and hypothesis (``pip install custrec[testing]``).
"""

# ruff: noqa: S101 - a test suite states what it proves with assert

from __future__ import annotations

import contextlib
from datetime import UTC, datetime

import attrs
import pytest

from custrec.model import Customer, Email, Interaction, Phone
from custrec.privacy import erase, is_erased, tombstone
from custrec.store import AuditAction, Store

__all__ = ["AuditScrubTests", "ErasureTests", "PrivacySuite"]

_AT = datetime(2024, 3, 1, 9, 30, tzinfo=UTC)


class _Base:
    @pytest.fixture
    def store(self) -> Store:
        """A fresh, empty store; the backend's test class overrides this fixture."""
        raise NotImplementedError("subclass PrivacySuite and supply a `store` fixture")


def _person(ident: str = "c1") -> Customer:
    return Customer(
        id=ident,
        name="王小明",
        phones=[Phone("13912345678", region="CN")],
        emails=[Email("wangxm@example.cn")],
        notes="VIP since 2019",
    )


class AuditScrubTests(_Base):
    """``Store._scrub_audit`` blanks values and nothing else, inside the unit of work."""

    def test_blanks_values_keeps_the_rest(self, store: Store) -> None:
        """Scrubbing keeps each entry's time, actor, action, version and field names."""
        customer = store.customers.add(_person(), actor="clerk")
        store.customers.update(attrs.evolve(customer, name="王晓明"), actor="clerk")
        before = store.audit("c1")
        assert store._scrub_audit("customer", ["c1"]) == 1
        after = store.audit("c1")
        assert [(e.at, e.actor, e.action, e.version) for e in after] == [
            (e.at, e.actor, e.action, e.version) for e in before
        ]
        assert [c.field for c in after[1].changes] == [c.field for c in before[1].changes]
        assert all(c.old is None and c.new is None for e in after for c in e.changes)

    def test_other_records_untouched(self, store: Store) -> None:
        """Entries of other records, and of another type with the same id, keep their values."""
        store.customers.add(_person("c1"))
        other = store.customers.add(_person("c2"))
        store.customers.update(attrs.evolve(other, name="李四"))
        store.interactions.add(Interaction("c2", _AT, "phone", id="c1", content="x"))
        interaction = store.interactions.get("c1")
        store.interactions.update(attrs.evolve(interaction, content="y"))
        store._scrub_audit("customer", ["c1"])
        assert store.audit("c2")[-1].changes[0].new == "李四"
        assert store.audit("c1", "interaction")[-1].changes[0].new == "y"

    def test_rolls_back_with_the_unit_of_work(self, store: Store) -> None:
        """A scrub inside a failed unit of work is undone."""
        customer = store.customers.add(_person())
        store.customers.update(attrs.evolve(customer, name="王晓明"))
        with contextlib.suppress(RuntimeError), store.transaction():
            store._scrub_audit("customer", ["c1"])
            raise RuntimeError("abort")
        assert store.audit("c1")[-1].changes[0].new == "王晓明"


class ErasureTests(_Base):
    """:func:`custrec.privacy.erase` leaves no personal data readable through the store."""

    def test_erase_everywhere(self, store: Store) -> None:
        """Profile, history, audit values and documents go; a tombstone stays."""
        customer = store.customers.add(_person())
        store.customers.update(attrs.evolve(customer, notes="moved to 北京"))
        store.interactions.add(Interaction("c1", _AT, "phone", content="王小明 called"))
        store.collection("classify.labels").put("c1", {"value": "gold"})
        store.collection("classify.changes").put("c1/2024-03-01/value", {"to": "gold"})
        store.collection("quality.merges").put("m1", {"survivor": "c9", "merged": ["c1"]})
        store.collection("quality.merges").put("m2", {"survivor": "c9", "merged": ["c11"]})
        stone = erase(store, "c1", actor="dpo", reason="request #42")
        assert not store.customers.exists("c1")
        assert store.history("c1") == []
        assert store.customers.find_by_phone("13912345678") == []
        for entry in store.audit("c1"):
            assert all(c.old is None and c.new is None for c in entry.changes)
        assert store.audit("c1")[-1].action is AuditAction.DELETE
        assert store.audit("c1")[-1].actor == "dpo"
        assert store.collection("classify.labels").get("c1") is None
        assert list(store.collection("classify.changes").items()) == []
        assert store.collection("quality.merges").get("m1") is None
        assert store.collection("quality.merges").get("m2") is not None
        assert is_erased(store, "c1")
        assert tombstone(store, "c1") == stone
        assert stone.removed["interaction"] == 1
        assert "王小明" not in repr(stone.to_dict())

    def test_others_are_kept(self, store: Store) -> None:
        """Erasing one customer leaves another's profile and history alone."""
        store.customers.add(_person("c1"))
        store.customers.add(attrs.evolve(_person("c2"), phones=[], emails=[]))
        store.interactions.add(Interaction("c2", _AT, "email", content="hello"))
        erase(store, "c1", actor="dpo", reason="request #42")
        assert store.customers.exists("c2")
        assert len(store.history("c2")) == 1
        assert not is_erased(store, "c2")


class PrivacySuite(AuditScrubTests, ErasureTests):
    """Every privacy conformance test. Subclass it as ``Test<YourStore>Privacy``."""
