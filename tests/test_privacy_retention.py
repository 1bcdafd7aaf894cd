"""Retention lists old records without touching them, then deletes exactly those."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import attrs
import pytest

from custrec import Customer, Feedback, Interaction, ValidationError
from custrec.expr import F
from custrec.privacy import RETENTION_RUNS, RetentionRule, apply_retention, retention_plan
from custrec.store import MemoryStore, Store, open_store

NOW = datetime(2025, 6, 1, tzinfo=UTC)
OLD = NOW - timedelta(days=4 * 365)
RECENT = NOW - timedelta(days=30)
THREE_YEARS = timedelta(days=3 * 365)


@pytest.fixture(params=["memory", "sqlite"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    opened = (
        MemoryStore()
        if request.param == "memory"
        else open_store(f"sqlite:///{tmp_path / 'store.db'}")
    )
    yield opened
    opened.close()


def _fill(store: Store) -> None:
    store.customers.add(Customer(id="c1", name="周八", created_at=OLD, updated_at=OLD))
    store.customers.add(Customer(id="c2", name="吴九", created_at=OLD, updated_at=OLD))
    store.customers.add(Customer(id="c3", name="郑十", created_at=OLD, updated_at=OLD))
    store.interactions.add(Interaction("c1", OLD, "phone", id="i-old", content="周八 说"))
    store.interactions.add(Interaction("c1", RECENT, "phone", id="i-new"))
    store.interactions.add(Interaction("c2", OLD, "sms", id="i-old2", outcome="resolved"))
    store.feedback.add(Feedback("c2", OLD, rating=2, id="f-old"))


class TestRetention:
    def test_plan_is_a_dry_run(self, store: Store) -> None:
        """The plan lists old interactions and changes nothing."""
        _fill(store)
        plan = retention_plan(store, [RetentionRule("interaction", THREE_YEARS)], as_of=NOW)
        assert plan.counts() == {"interaction": 2}
        assert [ident for ident, _ in plan.records["interaction"]] == ["i-old", "i-old2"]
        assert store.interactions.count() == 3

    def test_apply_deletes_and_blanks_audit(self, store: Store) -> None:
        """Applying deletes the planned records, blanks their audit values, records the run."""
        _fill(store)
        interaction = store.interactions.get("i-old")
        store.interactions.update(attrs.evolve(interaction, content="周八 又说"))
        plan = retention_plan(store, [RetentionRule("interaction", THREE_YEARS)], as_of=NOW)
        done = apply_retention(store, plan, actor="retention-job")
        assert done == {"skipped": 0, "interaction": 2}
        assert {i.id for i in store.interactions} == {"i-new"}
        entries = store.audit("i-old")
        assert entries[-1].actor == "retention-job"
        assert all(c.old is None and c.new is None for e in entries for c in e.changes)
        runs = list(store.collection(RETENTION_RUNS).items())
        assert runs[0][1]["actor"] == "retention-job"
        assert runs[0][1]["deleted"]["interaction"] == 2

    def test_condition_narrows(self, store: Store) -> None:
        """A rule's condition limits it to some records."""
        _fill(store)
        rule = RetentionRule("interaction", THREE_YEARS, where=F("channel") == "sms")
        assert retention_plan(store, [rule], as_of=NOW).counts() == {"interaction": 1}

    def test_customers_with_recent_history_stay(self, store: Store) -> None:
        """An old customer goes, with their old history, only when no history is recent."""
        _fill(store)
        plan = retention_plan(store, [RetentionRule("customer", THREE_YEARS)], as_of=NOW)
        assert [ident for ident, _ in plan.records["customer"]] == ["c2", "c3"]
        store.collection("classify.labels").put("c2", {"value": "low"})
        done = apply_retention(store, plan, actor="job")
        assert done["customer"] == 2
        assert done["interaction"] == 1
        assert done["feedback"] == 1
        assert {c.id for c in store.customers} == {"c1"}
        assert store.collection("classify.labels").get("c2") is None

    def test_changed_since_the_plan_is_skipped(self, store: Store) -> None:
        """A record updated or given new history after planning is not deleted."""
        _fill(store)
        plan = retention_plan(
            store,
            [RetentionRule("interaction", THREE_YEARS), RetentionRule("customer", THREE_YEARS)],
            as_of=NOW,
        )
        store.interactions.update(attrs.evolve(store.interactions.get("i-old"), subject="x"))
        store.interactions.add(Interaction("c3", NOW, "phone", id="i-c3"))
        done = apply_retention(store, plan, actor="job")
        assert store.interactions.exists("i-old")
        assert store.customers.exists("c3")
        assert done["skipped"] == 2

    def test_all_or_nothing(self, store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
        """A run failing half-way (here: blanking the audit) leaves every record in place."""
        _fill(store)
        plan = retention_plan(store, [RetentionRule("customer", THREE_YEARS)], as_of=NOW)

        def fail(record_type: str, record_ids: object) -> int:
            raise RuntimeError("disk on fire")

        monkeypatch.setattr(store, "_scrub_audit", fail)
        with pytest.raises(RuntimeError):
            apply_retention(store, plan, actor="job")
        assert store.interactions.count() == 3
        assert store.customers.count() == 3
        assert list(store.collection(RETENTION_RUNS).items()) == []

    def test_bad_collection_refused_first(self, store: Store) -> None:
        """A bad collection name is refused before anything is deleted."""
        _fill(store)
        plan = retention_plan(store, [RetentionRule("interaction", THREE_YEARS)], as_of=NOW)
        with pytest.raises(ValidationError):
            apply_retention(store, plan, actor="job", collections=["bad name!"])
        assert store.interactions.count() == 3

    @pytest.mark.parametrize(
        ("args", "field"),
        [
            (("order", THREE_YEARS), "record_type"),
            (("interaction", timedelta(0)), "keep_for"),
            (("interaction", 30), "keep_for"),
        ],
    )
    def test_bad_rules(self, args: tuple[object, object], field: str) -> None:
        """Rules refuse unknown types and non-positive durations."""
        with pytest.raises(ValidationError, match=field):
            RetentionRule(*args)  # type: ignore[arg-type]

    def test_condition_must_fit_the_type(self) -> None:
        """A condition naming a field the record type lacks is refused when the rule is made."""
        with pytest.raises(ValidationError):
            RetentionRule("feedback", THREE_YEARS, where=F("channel") == "sms")
