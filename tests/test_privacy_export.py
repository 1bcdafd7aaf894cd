"""A subject export holds everything the store keeps on one customer, and nothing of others."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from custrec import Customer, Feedback, Interaction, NotFoundError, from_dict
from custrec.model import Record
from custrec.privacy import (
    SUBJECT_EXPORT_FORMAT,
    erase,
    grant,
    subject_export,
    withdraw,
    write_subject_export,
)
from custrec.store import MemoryStore, Store, open_store
from custrec.testing import strategies

AT = datetime(2024, 3, 1, 9, 30, tzinfo=UTC)


@pytest.fixture(params=["memory", "sqlite"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    opened = (
        MemoryStore()
        if request.param == "memory"
        else open_store(f"sqlite:///{tmp_path / 'store.db'}")
    )
    yield opened
    opened.close()


def _fill(store: Store) -> Customer:
    customer = grant(Customer(id="c1", name="赵六"), "marketing_sms", at=AT, source="门店")
    customer = withdraw(customer, "marketing_sms", at=AT.replace(day=5), source="短信退订")
    store.customers.add(customer, actor="clerk")
    stored = store.customers.update(attrs.evolve(store.customers.get("c1"), notes="喜欢绿茶"))
    store.customers.add(Customer(id="c2", name="孙七"))
    store.interactions.add(Interaction("c1", AT, "phone", id="i1", content="回访"))
    store.interactions.add(Interaction("c2", AT, "phone", id="i2", content="孙七的回访"))
    store.feedback.add(Feedback("c1", AT, rating=5, id="f1"))
    store.collection("classify.labels").put("c1", {"value": "gold"})
    store.collection("classify.labels").put("c2", {"value": "silver"})
    store.collection("quality.merges").put("m1", {"survivor": "c1", "merged": ["c0"]})
    return stored


class TestSubjectExport:
    def test_everything_on_the_customer(self, store: Store) -> None:
        """Profile, consents in force, history, audit and documents are all there."""
        customer = _fill(store)
        bundle = subject_export(store, "c1")
        assert bundle["format"] == SUBJECT_EXPORT_FORMAT
        assert from_dict(bundle["profile"]) == customer
        assert bundle["consents"]["marketing_sms"]["granted"] is False
        assert bundle["consents"]["marketing_sms"]["source"] == "短信退订"
        assert [d["id"] for d in bundle["history"]["interactions"]] == ["i1"]
        assert [d["id"] for d in bundle["history"]["feedback"]] == ["f1"]
        assert bundle["history"]["transactions"] == []
        audited = {(e["record_type"], e["record_id"], e["action"]) for e in bundle["audit"]}
        assert audited == {
            ("customer", "c1", "add"),
            ("customer", "c1", "update"),
            ("interaction", "i1", "add"),
            ("feedback", "f1", "add"),
        }
        update = next(e for e in bundle["audit"] if e["action"] == "update")
        assert {"field": "notes", "old": None, "new": "喜欢绿茶"} in update["changes"]
        assert bundle["documents"]["classify.labels"] == {"c1": {"value": "gold"}}
        assert bundle["documents"]["quality.merges"] == {"m1": {"survivor": "c1", "merged": ["c0"]}}

    def test_nothing_of_others(self, store: Store) -> None:
        """Another customer's profile, history and documents stay out."""
        _fill(store)
        text = json.dumps(subject_export(store, "c1"), ensure_ascii=False)
        assert "孙七" not in text
        assert "silver" not in text
        assert "i2" not in text

    def test_file(self, store: Store, tmp_path: Path) -> None:
        """The file holds the same bundle as UTF-8 JSON, Chinese text unescaped."""
        _fill(store)
        path = write_subject_export(store, "c1", tmp_path / "c1.json")
        text = path.read_text(encoding="utf-8")
        assert "赵六" in text
        bundle = json.loads(text)
        assert bundle["customer_id"] == "c1"
        assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []

    def test_unknown_and_erased(self, store: Store, tmp_path: Path) -> None:
        """No bundle for an unknown or erased customer, and no file is left behind."""
        _fill(store)
        erase(store, "c1", actor="dpo", reason="request #3", purge=False)
        with pytest.raises(NotFoundError):
            subject_export(store, "c1")
        with pytest.raises(NotFoundError):
            write_subject_export(store, "c1", tmp_path / "c1.json")
        assert not (tmp_path / "c1.json").exists()


class TestSubjectExportProperties:
    @settings(suppress_health_check=[HealthCheck.too_slow])
    @given(strategies.customers(), st.data())
    def test_round_trip(self, customer: Customer, data: st.DataObject) -> None:
        """Every record in the bundle reads back equal to the stored one, after JSON."""
        store = MemoryStore()
        stored = store.customers.add(customer)
        history: list[Record] = data.draw(
            st.lists(
                st.one_of(
                    strategies.interactions(customer.id),
                    strategies.transactions(customer.id),
                    strategies.feedback(customer.id),
                ),
                max_size=4,
                unique_by=lambda record: (type(record), record.id),
            )
        )
        for record in history:
            store.repository(type(record)).add(record)
        bundle = json.loads(json.dumps(subject_export(store, customer.id), allow_nan=False))
        assert from_dict(bundle["profile"]) == stored
        documents = [d for kind in bundle["history"].values() for d in kind]
        assert sorted((from_dict(d) for d in documents), key=repr) == sorted(
            (attrs.evolve(r, version=1) for r in history), key=repr
        )
