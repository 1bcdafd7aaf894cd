"""Erasure removes a customer's personal data from the store, its audit trail and its files."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import attrs
import pytest

import pgserver as pg
from custrec import (
    Customer,
    Email,
    Feedback,
    Interaction,
    NotFoundError,
    Phone,
    StoreError,
    ValidationError,
)
from custrec.model import LineItem, Money, Transaction
from custrec.privacy import erase, is_erased, purge, tombstone
from custrec.store import MemoryStore, Store, open_store
from custrec.testing.privacy_suite import PrivacySuite

AT = datetime(2024, 3, 1, 9, 30, tzinfo=UTC)


class TestMemoryPrivacy(PrivacySuite):
    """The privacy conformance suite on the memory store."""

    @pytest.fixture
    def store(self) -> Store:
        return MemoryStore()


class TestSQLitePrivacy(PrivacySuite):
    """The privacy conformance suite on an SQLite file."""

    @pytest.fixture
    def store(self, tmp_path: Path) -> Iterator[Store]:
        store = open_store(f"sqlite:///{tmp_path / 'store.db'}")
        yield store
        store.close()


def _victim() -> Customer:
    return Customer(
        id="v1",
        name="欧阳娜娜",
        phones=[Phone("13698765432", region="CN"), Phone("+44 20 7946 0018", region="GB")],
        emails=[Email("ouyang.nana@example.cn")],
        notes="欧阳娜娜 likes jasmine tea",
    )


class TestPostgresPrivacy(PrivacySuite):
    """The PostgreSQL store passes the privacy conformance suite (fresh schema per test)."""

    @pytest.fixture
    def store(self) -> Iterator[Store]:
        for schema in pg.fresh_schema():
            opened = open_store(pg.store_url(schema))
            yield opened
            opened.close()


class TestErase:
    def test_refuses_blank_actor_and_reason(self) -> None:
        """Who and why are required."""
        store = MemoryStore()
        store.customers.add(_victim())
        with pytest.raises(ValidationError, match="actor"):
            erase(store, "v1", actor=" ", reason="request")
        with pytest.raises(ValidationError, match="reason"):
            erase(store, "v1", actor="dpo", reason="")
        assert store.customers.exists("v1")

    def test_reason_must_not_hold_personal_data(self) -> None:
        """A reason naming the customer is refused, and the error does not repeat it."""
        store = MemoryStore()
        store.customers.add(_victim())
        with pytest.raises(ValidationError, match="must not hold") as caught:
            erase(store, "v1", actor="dpo", reason="asked by 欧阳娜娜 on the phone")
        assert "欧阳娜娜" not in str(caught.value)
        assert store.customers.exists("v1")

    def test_unknown_customer(self) -> None:
        """Erasing an id that never existed is an error."""
        with pytest.raises(NotFoundError):
            erase(MemoryStore(), "nobody", actor="dpo", reason="request")

    def test_again_returns_the_tombstone(self) -> None:
        """Erasing twice is harmless: the second call returns the first tombstone."""
        store = MemoryStore()
        store.customers.add(_victim())
        first = erase(store, "v1", actor="dpo", reason="request #1")
        assert erase(store, "v1", actor="someone", reason="again") == first

    def test_all_or_nothing(self) -> None:
        """When a step fails, nothing is erased and no tombstone is left."""
        store = MemoryStore()
        store.customers.add(_victim())
        store.interactions.add(Interaction("v1", AT, "phone", content="hi"))
        with pytest.raises(ValidationError):
            erase(store, "v1", actor="dpo", reason="request", collections=["bad name!"])
        assert store.customers.exists("v1")
        assert len(store.history("v1")) == 1
        assert not is_erased(store, "v1")

    def test_purge_refused_inside_a_unit_of_work(self) -> None:
        """Purging needs the unit of work closed; purge=False works inside one."""
        store = MemoryStore()
        store.customers.add(_victim())
        with store.transaction():
            with pytest.raises(ValidationError, match="purge"):
                erase(store, "v1", actor="dpo", reason="request")
            erase(store, "v1", actor="dpo", reason="request", purge=False)
        purge(store)
        assert tombstone(store, "v1") is not None


def _secrets() -> list[bytes]:
    victim = _victim()
    texts = [victim.name or "", "ouyang.nana@example.cn", "13698765432", "+8613698765432"]
    texts += ["7946 0018", "+442079460018", "jasmine"]
    out = []
    for text in texts:
        out += [text.encode("utf-8"), text.encode("utf-16-le")]
    return out


def _file_bytes(path: Path) -> bytes:
    data = b""
    for suffix in ("", "-wal", "-shm", "-journal"):
        part = Path(str(path) + suffix)
        if part.exists():
            data += part.read_bytes()
    return data


class TestSQLiteFileHoldsNothing:
    def _fill(self, path: Path) -> Store:
        store = open_store(f"sqlite:///{path}")
        for index in range(50):
            store.customers.add(Customer(id=f"o{index:03}", name=f"Other {index}", notes="x" * 300))
        customer = store.customers.add(_victim())
        # Old versions of the record go through the WAL and free pages.
        for step in range(5):
            customer = store.customers.update(attrs.evolve(customer, notes=f"欧阳娜娜 v{step}"))
        store.interactions.add(Interaction("v1", AT, "phone", content="欧阳娜娜 13698765432"))
        store.transactions.add(
            Transaction("v1", AT, [LineItem("tea", Money("9.50", "CNY"))], note="jasmine")
        )
        store.feedback.add(Feedback("v1", AT + timedelta(days=1), text="ouyang.nana@example.cn"))
        store.collection("classify.labels").put("v1", {"name": "欧阳娜娜"})
        return store

    def test_raw_bytes(self, tmp_path: Path) -> None:
        """After erase and close, the db file, its WAL and shm hold no trace of the person."""
        path = tmp_path / "store.db"
        store = self._fill(path)
        assert any(secret in _file_bytes(path) for secret in _secrets())  # the scan can see
        erase(store, "v1", actor="dpo", reason="request #7")
        assert store.customers.count() == 50
        store.close()
        data = _file_bytes(path)
        assert data
        found = [secret for secret in _secrets() if secret in data]
        assert found == []
        reopened = open_store(f"sqlite:///{path}")
        assert is_erased(reopened, "v1")
        assert reopened.customers.get("o007").name == "Other 7"
        reopened.close()

    def test_purge_waits_for_readers(self, tmp_path: Path) -> None:
        """With another connection reading, purge says so; once it is gone, purge cleans."""
        path = tmp_path / "store.db"
        self._fill(path).close()
        store = open_store(f"sqlite:///{path}?timeout=0.1")
        erase(store, "v1", actor="dpo", reason="request #7", purge=False)
        assert [s for s in _secrets() if s in _file_bytes(path)] != []
        reader = open_store(f"sqlite:///{path}")
        with reader.transaction():
            reader.customers.get("o001")
            with pytest.raises(StoreError, match="purge again"):
                purge(store)
        reader.close()
        purge(store)
        store.close()
        assert [s for s in _secrets() if s in _file_bytes(path)] == []
