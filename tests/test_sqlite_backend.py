"""SQLite-specific behaviour of SQLiteStore: files, schema, errors, SQL safety, and queries
that give exactly the answers of the Python reference (MemoryStore)."""

from __future__ import annotations

import hashlib
import itertools
import json
import math
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any
from unittest import mock

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from custrec.errors import (
    ConflictError,
    DuplicateIdError,
    IntegrityError,
    NotFoundError,
    StoreError,
    ValidationError,
)
from custrec.expr import (
    And,
    Arith,
    Between,
    Compare,
    Const,
    Contains,
    Expr,
    F,
    Field,
    HasTag,
    In,
    IsNull,
    Not,
    Or,
    compile_value,
)
from custrec.model import Customer, Email, Money, Phone, Transaction
from custrec.serialize import to_dict
from custrec.store import MemoryStore, Order, Query, Store, _sqlcontacts, _sqlite, open_store
from custrec.store._audit import AuditAction, AuditEntry, FieldChange
from custrec.store._base import contact_keys
from custrec.store._sqlcompile import TABLES, compile_where, list_sort_key
from custrec.store._sqlcontacts import ContactMerger, batch_contact_rows, contact_rows
from custrec.store._sqlite import (
    MIGRATIONS,
    SCHEMA_VERSION,
    SQLiteStore,
    key_hash,
    key_hash_range,
)
from custrec.testing import strategies
from custrec.testing.synthetic import iter_customers

SRC = str(Path(__file__).resolve().parents[1] / "src")


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "customers.db"


@pytest.fixture
def store(db_path: Path) -> Iterator[SQLiteStore]:
    opened = SQLiteStore(db_path)
    yield opened
    opened.close()


def _customer(ident: str, **fields: Any) -> Customer:
    return Customer(id=ident, **fields)


def _run(script: str, *args: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONPATH": SRC}
    return subprocess.Popen(  # noqa: S603 - our own interpreter running our own script
        [sys.executable, "-c", textwrap.dedent(script), *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


class TestUrl:
    def test_relative_url_is_relative_to_the_working_directory(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """sqlite:///name.db opens name.db in the current directory."""
        monkeypatch.chdir(tmp_path)
        with open_store("sqlite:///sub.db") as opened:
            assert isinstance(opened, SQLiteStore)
            opened.customers.add(_customer("001"))
        assert (tmp_path / "sub.db").exists()

    def test_absolute_url_has_four_slashes(self, db_path: Path) -> None:
        """sqlite:////abs/path.db opens the absolute path."""
        with open_store(f"sqlite:///{db_path}") as opened:
            assert isinstance(opened, SQLiteStore)
            assert opened.path == str(db_path)
        assert db_path.exists()

    def test_memory_url_keeps_nothing_on_disk(self, tmp_path: Path) -> None:
        """sqlite:///:memory: works and holds records for the store's lifetime."""
        with open_store("sqlite:///:memory:") as opened:
            opened.customers.add(_customer("001"))
            assert opened.customers.exists("001")

    def test_url_options_are_read(self, db_path: Path) -> None:
        """?timeout= sets the lock wait; keyword options win over the URL."""
        with SQLiteStore.from_url(f"sqlite:///{db_path}?timeout=2.5") as opened:
            assert opened.timeout == 2.5
        with SQLiteStore.from_url(f"sqlite:///{db_path}?timeout=2.5", timeout=1) as opened:
            assert opened.timeout == 1.0

    @pytest.mark.parametrize(
        "url",
        [
            "sqlite://",
            "sqlite:///",
            "sqlite://host/file.db",
            "postgresql:///x.db",
            "sqlite:///x.db?colour=red",
            "sqlite:///x.db?timeout=soon",
            "sqlite:///x.db?mode=rwc",
            "sqlite:///x.db?timeout",
        ],
    )
    def test_bad_urls_are_refused_naming_the_url(self, url: str) -> None:
        """Malformed SQLite URLs raise ValidationError whose value is the URL."""
        with pytest.raises(ValidationError) as caught:
            SQLiteStore.from_url(url)
        assert caught.value.field == "url"
        assert caught.value.value == url


class TestReadOnlyMemory:
    def test_an_in_memory_store_cannot_be_read_only(self) -> None:
        """Asking for a read-only in-memory store is refused: it would be empty forever."""
        with pytest.raises(ValidationError):
            SQLiteStore(":memory:", read_only=True)


class TestConnectionSettings:
    def test_file_is_in_wal_mode(self, store: SQLiteStore, db_path: Path) -> None:
        """The file uses write-ahead logging, so readers never wait for the writer."""
        with sqlite3.connect(db_path) as raw:
            assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"

    def test_foreign_keys_are_enforced(self, store: SQLiteStore) -> None:
        """History for a missing customer is refused by the database itself."""
        orphan = Transaction("nobody", datetime.now(UTC), total=Money("1", "CNY"), id="t1")
        with pytest.raises(IntegrityError) as caught:
            store._insert(Transaction, [orphan])
        assert caught.value.record_id == "t1"
        assert not store.transactions.exists("t1")

    def test_timeout_must_be_a_non_negative_number(self, db_path: Path) -> None:
        """A nonsensical lock wait is refused before the file is touched."""
        with pytest.raises(ValidationError):
            SQLiteStore(db_path, timeout=-1)
        assert not db_path.exists()


class TestMigrations:
    def test_fresh_file_gets_the_current_schema(self, store: SQLiteStore, db_path: Path) -> None:
        """A new file records every migration step up to the current version."""
        assert store.schema_version == SCHEMA_VERSION
        with sqlite3.connect(db_path) as raw:
            steps = [row[0] for row in raw.execute("SELECT version FROM schema_migrations")]
        assert steps == list(range(1, SCHEMA_VERSION + 1))

    def test_tables_hold_the_layout_columns(self, store: SQLiteStore, db_path: Path) -> None:
        """Every column the query compiler uses exists in the migrated schema."""
        with sqlite3.connect(db_path) as raw:
            for table in TABLES.values():
                columns = {row[1] for row in raw.execute(f"PRAGMA table_info({table.name})")}
                assert {*table.column_names, table.doc} <= columns

    def test_file_from_a_newer_custrec_is_refused(self, db_path: Path) -> None:
        """Opening a file whose schema is newer than this custrec raises StoreError."""
        SQLiteStore(db_path).close()
        with sqlite3.connect(db_path) as raw:
            raw.execute(
                "INSERT INTO schema_migrations VALUES (?, 0, 'from the future')",
                (SCHEMA_VERSION + 1,),
            )
        with pytest.raises(StoreError, match="newer custrec"):
            SQLiteStore(db_path)

    def test_reopening_keeps_the_data(self, db_path: Path) -> None:
        """Records, contact keys and the audit trail survive closing and reopening."""
        with SQLiteStore(db_path) as first:
            first.customers.add(_customer("001", name="张三", emails=[Email("Z@QQ.com")]))
        with SQLiteStore(db_path) as second:
            assert second.customers.get("001").name == "张三"
            assert [c.id for c in second.customers.find_by_email("z@qq.com")] == ["001"]
            assert len(second.audit("001")) == 1

    def test_text_contact_keys_are_migrated_to_hashes(self, db_path: Path) -> None:
        """A schema-2 file's text contact keys become hashes; every lookup still works."""
        people = [
            _customer(
                "001", name="张三", phones=[Phone("138 1234 5678")], emails=[Email("Z@QQ.com")]
            ),
            _customer("002", phones=[Phone("+86 139 0000 1111")], external_ids={"erp": "E-9"}),
        ]
        with sqlite3.connect(db_path, isolation_level=None) as raw:
            for step in MIGRATIONS[:2]:
                for statement in step.statements:
                    raw.execute(statement)
                raw.execute(
                    "INSERT INTO schema_migrations VALUES (?, 0, ?)",
                    (step.version, step.description),
                )
            layout = TABLES[Customer]
            names = ", ".join(layout.column_names)
            marks = ", ".join("?" * (len(layout.column_names) + 1))
            insert = f"INSERT INTO customers ({names}, doc) VALUES ({marks})"  # noqa: S608 - layout names only
            for person in people:
                raw.execute(
                    insert,
                    (*layout.values(person), json.dumps(to_dict(person))),
                )
                raw.executemany(
                    "INSERT INTO contacts (key, customer_id) VALUES (?, ?)",
                    [(key, person.id) for key in contact_keys(person)],
                )
        with SQLiteStore(db_path) as store:
            assert store.schema_version == SCHEMA_VERSION
            assert [c.id for c in store.customers.find_by_phone("13812345678")] == ["001"]
            assert [c.id for c in store.customers.find_by_email("z@qq.com")] == ["001"]
            assert [c.id for c in store.customers.find_by_external_id("erp", "E-9")] == ["002"]
            assert [c.id for c in store.customers.find_by_phone("+8613900001111")] == ["002"]
        with sqlite3.connect(db_path) as raw:
            stored = sorted(raw.execute("SELECT key_hash, customer_id FROM contacts"))
        expected = sorted((key_hash(k), p.id) for p in people for k in contact_keys(p))
        assert stored == expected

    def test_a_file_that_is_not_a_database_is_refused(self, db_path: Path) -> None:
        """Garbage in the file raises StoreError naming the file."""
        db_path.write_bytes(b"this is not sqlite" * 100)
        with pytest.raises(StoreError, match=str(db_path)):
            SQLiteStore(db_path)


def _stored_contacts(path: Path) -> tuple[set[tuple[int, str]], int, int]:
    """Every (hash, customer) row of both contact tables, and each table's row count."""
    with sqlite3.connect(path) as raw:
        big = list(raw.execute("SELECT key_hash, customer_id FROM contacts"))
        recent = list(raw.execute("SELECT key_hash, customer_id FROM contacts_recent"))
    return set(big) | set(recent), len(big), len(recent)


def _phone(prefix: int, n: int) -> Phone:
    return Phone(f"+86 {prefix} 0000 {n:04d}")


def _add_then_fail(store: Store, people: list[Customer]) -> None:
    with store.transaction():
        store.customers.add_many(people, batch_size=5)
        raise RuntimeError("undo")


def _expected_contacts(people: dict[str, Customer]) -> set[tuple[int, str]]:
    return {(key_hash(k), c.id) for c in people.values() for k in contact_keys(c)}


# One step of a write sequence: add a batch of n, re-number customer i's phone, delete i.
_CONTACT_STEPS = st.lists(
    st.one_of(
        st.tuples(st.just("add"), st.integers(1, 30)),
        st.tuples(st.just("renumber"), st.integers(0, 10_000)),
        st.tuples(st.just("delete"), st.integers(0, 10_000)),
    ),
    min_size=1,
    max_size=25,
)


_FILES = itertools.count()


class TestContactSideTable:
    """New contact keys go to contacts_recent and move to contacts in bulk (migration 4)."""

    @pytest.fixture(autouse=True)
    def _small_side_table(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setattr(ContactMerger, "_MIN", 10)
        monkeypatch.setattr(ContactMerger, "_SCALE", 2)

    @settings(
        max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
    )
    @given(steps=_CONTACT_STEPS)
    def test_lookups_see_both_tables_through_any_write_sequence(
        self, tmp_path: Path, steps: list[tuple[str, int]]
    ) -> None:
        """Property: after any adds, re-numberings and deletes, the two tables together hold
        exactly every live customer's keys, each once; every phone finds its customer; the
        side table stays below its merge threshold plus one write."""
        path = tmp_path / f"side-{next(_FILES)}.db"  # a new file for each example
        people: dict[str, Customer] = {}
        serial = 0
        with SQLiteStore(path) as store:
            for action, n in steps:
                if action == "add":
                    batch = []
                    for _ in range(n):
                        serial += 1
                        phone = Phone(f"+86 138 {serial:04d} {serial % 10_000:04d}")
                        batch.append(_customer(f"{serial:05d}", phones=[phone]))
                    store.customers.add_many(batch, batch_size=7)
                    people.update((c.id, c) for c in batch)
                elif people:
                    ident = sorted(people)[n % len(people)]
                    if action == "delete":
                        store.customers.delete(ident)
                        del people[ident]
                    else:
                        current = store.customers.get(ident)
                        phone = Phone(f"+86 139 {n:04d} {int(ident):04d}")
                        people[ident] = store.customers.update(
                            attrs.evolve(current, phones=[phone])
                        )
                rows, _, recent = _stored_contacts(path)
                assert rows == _expected_contacts(people)
                limit = max(ContactMerger._MIN, ContactMerger._SCALE * math.isqrt(serial))
                assert recent < limit + 7 * len(contact_keys(Customer(id="x"))) + 7
            for customer in people.values():
                found = store.customers.find_by_phone(customer.phones[0].e164)
                assert [c.id for c in found] == [customer.id]
        _, big, recent = _stored_contacts(path)
        assert big + recent == len(_expected_contacts(people))

    def test_many_adds_merge_into_the_big_table(self, db_path: Path) -> None:
        """Once the side table passes its threshold its keys move to contacts at once."""
        with SQLiteStore(db_path) as store:
            people = [_customer(f"{n:03d}", phones=[_phone(138, n)]) for n in range(200)]
            store.customers.add_many(people, batch_size=10)
            rows, big, recent = _stored_contacts(db_path)
            assert rows == _expected_contacts({c.id: c for c in people})
            assert big > 0
            assert recent < max(10, 2 * math.isqrt(200)) + 10
            assert [c.id for c in store.customers.find_by_phone("13800000123")] == ["123"]

    def test_a_shared_number_in_both_tables_finds_everyone_in_id_order(self, db_path: Path) -> None:
        """A lookup reads both tables and orders what it found by id, wherever each key is."""
        shared = Phone("+86 138 0000 0000")
        with SQLiteStore(db_path) as store:
            store.customers.add_many([_customer(i, phones=[shared]) for i in ("b", "d")])
            filler = [_customer(f"x{n:03d}", phones=[_phone(139, n)]) for n in range(100)]
            store.customers.add_many(filler, batch_size=10)  # merges b and d into contacts
            store.customers.add_many([_customer(i, phones=[shared]) for i in ("c", "a")])
            with sqlite3.connect(db_path) as raw:
                recent = {row[0] for row in raw.execute("SELECT customer_id FROM contacts_recent")}
            assert {"a", "c"} <= recent
            assert not {"b", "d"} & recent
            assert [c.id for c in store.customers.find_by_phone("13800000000")] == [
                "a",
                "b",
                "c",
                "d",
            ]

    def test_a_rolled_back_merge_leaves_both_tables_as_they_were(self, db_path: Path) -> None:
        """A merge runs only after a commit: a rolled-back unit of work moves or loses nothing."""
        with SQLiteStore(db_path) as store:
            first = [_customer(f"a{n:02d}", phones=[_phone(138, n)]) for n in range(8)]
            store.customers.add_many(first)
            before = _stored_contacts(db_path)
            more = [_customer(f"b{n:02d}", phones=[_phone(139, n)]) for n in range(50)]
            with pytest.raises(RuntimeError, match="undo"):
                _add_then_fail(store, more)
            assert _stored_contacts(db_path) == before
            store.customers.add(_customer("c", phones=[Phone("+86 137 0000 0001")]))
            rows, _, _ = _stored_contacts(db_path)
            assert rows == _expected_contacts({c.id: c for c in [*first, store.customers.get("c")]})
            assert [c.id for c in store.customers.find_by_phone("13800000003")] == ["a03"]

    def test_a_merge_leaves_foreign_keys_on(self, store: SQLiteStore) -> None:
        """The merge switches foreign keys off for its own unit of work only."""
        people = [_customer(f"{n:03d}", phones=[_phone(138, n)]) for n in range(100)]
        store.customers.add_many(people, batch_size=10)
        assert _stored_contacts(Path(store.path))[1] > 0  # merged at least once
        conn = store._conn
        assert conn is not None
        assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
        with pytest.raises(sqlite3.IntegrityError, match="FOREIGN KEY"):
            conn.execute("INSERT INTO contacts_recent VALUES (1, 'nobody')")

    def test_a_merge_inside_a_unit_of_work_waits_for_its_commit(self, db_path: Path) -> None:
        """Keys added in an enclosing transaction stay in the side table until it commits."""
        with SQLiteStore(db_path) as store:
            people = [_customer(f"{n:03d}", phones=[_phone(138, n)]) for n in range(100)]
            with store.transaction():
                store.customers.add_many(people, batch_size=10)
                with sqlite3.connect(db_path) as raw:  # sees the last commit only
                    assert raw.execute("SELECT count(*) FROM contacts_recent").fetchone() == (0,)
                assert store.customers.find_by_phone("13800000042")[0].id == "042"
            rows, big, recent = _stored_contacts(db_path)
            assert rows == _expected_contacts({c.id: c for c in people})
            assert big == len(people)
            assert recent == 0

    def test_a_failed_merge_moves_nothing_and_the_commit_stands(
        self, db_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """A merge that fails half-way is undone whole; the batch it followed stays stored,
        its keys are found, and a later commit merges them."""
        merge = _sqlcontacts.MERGE_RECENT
        broken = (merge[0], "DELETE FROM no_such_table")
        with SQLiteStore(db_path) as store:
            monkeypatch.setattr(_sqlcontacts, "MERGE_RECENT", broken)
            people = [_customer(f"{n:03d}", phones=[_phone(138, n)]) for n in range(30)]
            assert store.customers.add_many(people, batch_size=10) == 30
            rows, big, recent = _stored_contacts(db_path)
            assert (big, recent) == (0, 30)
            assert rows == _expected_contacts({c.id: c for c in people})
            assert [c.id for c in store.customers.find_by_phone("13800000007")] == ["007"]
            assert store._conn is not None
            assert store._conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
            monkeypatch.setattr(_sqlcontacts, "MERGE_RECENT", merge)
            store.customers.add(_customer("x", phones=[_phone(139, 1)]))
            people.append(store.customers.get("x"))
            rows, big, recent = _stored_contacts(db_path)
            assert (big, recent) == (31, 0)
            assert rows == _expected_contacts({c.id: c for c in people})

    def test_merged_and_deleted_keys_leave_no_bytes_behind(self, db_path: Path) -> None:
        """Emptying the side table in a merge zeroes what it held (secure_delete), so a
        deleted customer's key hash is nowhere in the file, not even in free space.

        (With ``PRAGMA secure_delete=OFF`` this file does keep the deleted hash.)"""
        people = [_customer(f"{n:03d}", phones=[_phone(138, n)]) for n in range(30)]

        def stored_hash(n: int) -> bytes:
            return key_hash(f"phone:{_phone(138, n).e164}").to_bytes(8, "big")

        with SQLiteStore(db_path) as store:
            store.customers.add_many(people, batch_size=30)
            assert _stored_contacts(db_path)[1:] == (30, 0)  # one batch, then one merge
            store.customers.delete("017")
            assert store._conn is not None
            store._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            data = db_path.read_bytes()
        assert stored_hash(16) in data  # the search would find one
        assert stored_hash(17) not in data


class TestContactKeyHashes:
    def test_hash_is_a_stable_64_bit_integer_tagged_by_kind(self) -> None:
        """Files store the hash, so it must never change between processes or versions."""
        assert key_hash("phone:+8613812345678") == key_hash("phone:+8613812345678")
        assert key_hash("") == 22125486566988442  # untagged BLAKE2b-56 of nothing
        for kind, key in [
            ("phone", "phone:+8613812345678"),
            ("email", "email:z@qq.com"),
            ("handle", "handle:wechat:zs"),
            ("ext", "ext:erp:E-1"),
        ]:
            low, high = key_hash_range(kind)
            assert low <= key_hash(key) < high < 2**63

    def test_hash_values_are_pinned(self) -> None:
        """Values computed by the first implementation: stored in files, they never change."""
        assert {
            key: key_hash(key)
            for key in (
                "phone:+8613812345678",
                "email:z@qq.com",
                "handle:wechat:zs",
                "ext:erp:E-1",
                "其他:键",
                "no colon",
            )
        } == {
            "phone:+8613812345678": 111640347703204099,
            "email:z@qq.com": 179226948417348152,
            "handle:wechat:zs": 222944782974316054,
            "ext:erp:E-1": 309980173405478202,
            "其他:键": 5289655706871622,
            "no colon": 28860911126911914,
        }

    @settings(max_examples=300, deadline=None)
    @given(
        prefix=st.sampled_from(["phone:", "email:", "handle:", "ext:", "other:", "", ":"]),
        rest=st.text(),
    )
    def test_hash_is_the_kind_then_blake2b_56_of_the_key(self, prefix: str, rest: str) -> None:
        """Property: the definition, spelled out with a BLAKE2b built for each key."""
        key = prefix + rest
        kinds = {"phone": 1, "email": 2, "handle": 3, "ext": 4}
        digest = hashlib.blake2b(key.encode(), digest_size=7).digest()
        expected = (kinds.get(key.partition(":")[0], 0) << 56) | int.from_bytes(digest, "big")
        assert key_hash(key) == expected

    @settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(st.lists(strategies.customers(), max_size=6))
    def test_a_batch_writes_each_customers_rows_once_in_order(
        self, customers: list[Customer]
    ) -> None:
        """Property: a bulk add's contact rows are every customer's contact_keys, hashed,
        each once, sorted (its own spelling of the keys matches contact_keys)."""
        expected = sorted({row for c in customers for row in contact_rows(c)})
        assert batch_contact_rows(customers) == expected
        assert expected == sorted({(key_hash(k), c.id) for c in customers for k in contact_keys(c)})

    def test_a_batch_of_synthetic_customers_writes_their_contact_keys(self) -> None:
        """The benchmark's customers (every kind of key, repeated keys) give the same rows."""
        customers = list(iter_customers(500, seed=7))
        customers.append(
            _customer(
                "dup",
                phones=[Phone("13812345678"), Phone("+86 138 1234 5678")],
                emails=[Email("A@x.com"), Email("a@X.com")],
            )
        )
        expected = sorted({row for c in customers for row in contact_rows(c)})
        assert batch_contact_rows(customers) == expected
        assert {hashed >> 56 for hashed, _ in expected} == {1, 2, 3, 4}

    def test_customers_that_only_share_a_hash_are_not_found(
        self, store: SQLiteStore, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """When every key hashes alike, a lookup still returns only the key's owners."""
        monkeypatch.setattr(_sqlcontacts, "key_hash", lambda key: 7)
        store.customers.add_many(
            [
                _customer("a", phones=[Phone("13812345678")], emails=[Email("a@x.com")]),
                _customer("b", phones=[Phone("13900001111")]),
            ]
        )
        store.customers.add(_customer("c", emails=[Email("A@x.com")]))
        assert [c.id for c in store.customers.find_by_phone("13900001111")] == ["b"]
        assert [c.id for c in store.customers.find_by_email("a@x.com")] == ["a", "c"]
        assert store.customers.find_by_phone("13700000000") == []


class TestWrites:
    def test_bulk_add_is_all_or_nothing_per_batch(self, store: SQLiteStore) -> None:
        """A duplicate id in batch 3 leaves batches 1-2 stored and nothing of batch 3."""
        customers = [_customer(f"c{n:05d}") for n in range(10_000)]
        customers[2500] = _customer("c00007")  # batch 3 repeats an id from batch 1
        with pytest.raises(DuplicateIdError) as caught:
            store.customers.add_many(customers, batch_size=1000)
        assert caught.value.record_id == "c00007"
        assert store.customers.count() == 2000
        assert not store.customers.exists("c02000")
        assert not store.audit("c02000")

    def test_duplicate_inside_one_batch_is_named(self, store: SQLiteStore) -> None:
        """An id repeated within one batch is reported and the batch is not stored."""
        with pytest.raises(DuplicateIdError) as caught:
            store.customers.add_many([_customer("a"), _customer("b"), _customer("a")])
        assert caught.value.record_id == "a"
        assert store.customers.count() == 0

    def test_insert_primitive_is_atomic_inside_a_transaction(self, store: SQLiteStore) -> None:
        """A refused _insert leaves nothing behind even when the caller carries on."""
        store.customers.add(_customer("b"))
        with store.transaction():
            with pytest.raises(DuplicateIdError):
                store._insert(Customer, [_customer("a"), _customer("b")])
            store.customers.add(_customer("c"))
        assert sorted(c.id for c in store.customers) == ["b", "c"]

    def test_stale_update_conflicts(self, store: SQLiteStore) -> None:
        """Updating from an old version raises ConflictError with both versions."""
        first = store.customers.add(_customer("001", name="a"))
        store.customers.update(Customer(id="001", name="b"))
        with pytest.raises(ConflictError) as caught:
            store.customers.update(first)
        assert (caught.value.expected, caught.value.actual) == (1, 2)

    def test_replace_primitive_reports_missing_and_stale(self, store: SQLiteStore) -> None:
        """_replace raises NotFoundError for a missing id and ConflictError for a stale one."""
        with pytest.raises(NotFoundError):
            store._replace(Customer, _customer("nobody", version=2), 1)
        store.customers.add(_customer("001"))
        with pytest.raises(ConflictError):
            store._replace(Customer, _customer("001", version=3), 2)

    def test_contact_keys_follow_updates_and_deletes(self, store: SQLiteStore) -> None:
        """Lookups see a changed phone at once and forget a deleted customer."""
        store.customers.add(_customer("001", phones=[Phone("13812345678", region="CN")]))
        changed = Customer(id="001", phones=[Phone("13900000000", region="CN")])
        store.customers.update(changed)
        assert store.customers.find_by_phone("13812345678", "CN") == []
        assert [c.id for c in store.customers.find_by_phone("139 0000 0000", "CN")] == ["001"]
        store.customers.delete("001")
        assert store.customers.find_by_phone("13900000000", "CN") == []

    def test_customer_with_history_is_not_deleted_by_the_primitive(
        self, store: SQLiteStore
    ) -> None:
        """The database refuses to orphan history even past the repository's check."""
        store.customers.add(_customer("001"))
        store.transactions.add(
            Transaction("001", datetime.now(UTC), total=Money("5", "CNY"), id="t1")
        )
        with pytest.raises(IntegrityError):
            store._remove(Customer, ["001"])
        assert store.customers.exists("001")

    def test_inner_failure_rolls_back_to_its_savepoint(self, store: SQLiteStore) -> None:
        """A failed nested block is undone alone; the outer block's writes commit."""

        def add_then_fail() -> None:
            with store.transaction():
                store.customers.add(_customer("inner"))
                raise RuntimeError

        with store.transaction():
            store.customers.add(_customer("outer"))
            with pytest.raises(RuntimeError):
                add_then_fail()
        assert [c.id for c in store.customers] == ["outer"]

    def test_audit_round_trips_changes(self, store: SQLiteStore) -> None:
        """Audit entries read back with their changed fields and values."""
        store.customers.add(_customer("001", name="a", custom={"x": ["a"], "y": 1.5}))
        store.customers.update(Customer(id="001", name="b", custom={"x": "y"}))
        update = store.audit("001", "customer")[-1]
        changed = {change.field: (change.old, change.new) for change in update.changes}
        assert changed["name"] == ("a", "b")
        assert changed["custom"] == ({"x": ["a"], "y": 1.5}, {"x": "y"})

    @settings(max_examples=60, deadline=None)
    @given(
        ids=st.lists(strategies.ids(), min_size=1, max_size=8),
        actor=st.none() | st.text(min_size=1, max_size=6),
        odd=st.sampled_from(["none", "actor", "version", "changes", "moment"]),
    )
    def test_bulk_audit_rows_are_the_rows_written_one_by_one(
        self, ids: list[str], actor: str | None, odd: str
    ) -> None:
        """Property: entries that share everything but the record id (a bulk add's) are
        written by one statement, to the very rows, in the very order, the row-by-row
        path writes; entries that differ in anything else take that path."""
        at = datetime(2024, 10, 5, 14, 30, 0, 17, tzinfo=timezone(timedelta(hours=8)))
        entries = [AuditEntry(at, actor, AuditAction.ADD, "customer", i, 1) for i in ids]
        if odd != "none":
            entries[-1] = attrs.evolve(
                entries[-1],
                actor=(actor or "") + "x" if odd == "actor" else actor,
                version=2 if odd == "version" else 1,
                changes=(FieldChange("name", None, "n"),) if odd == "changes" else (),
                at=at + timedelta(0) if odd == "moment" else at,  # equal, not the same
            )
        shared = _sqlite._shared_entry_ids(entries)
        assert (shared is not None) == (odd == "none" and len(ids) > 1)

        def written(fast: bool) -> list[tuple[Any, ...]]:
            grouped = _sqlite._shared_entry_ids if fast else (lambda entries: None)
            with SQLiteStore(":memory:") as store:
                with (
                    mock.patch.object(_sqlite, "_shared_entry_ids", grouped),
                    store.transaction(),
                ):
                    store._append_audit(entries)
                assert store._conn is not None
                return store._conn.execute("SELECT * FROM audit ORDER BY seq").fetchall()

        rows = written(fast=True)
        assert rows == written(fast=False)
        assert [row[5] for row in rows] == ids

    def test_a_bulk_add_writes_its_audit_entries_in_one_statement(self, store: SQLiteStore) -> None:
        """The entries of a batch share everything but the id, so they take the one-statement
        path, and read back as the entries of records added one at a time do."""
        calls: list[list[str] | None] = []
        real = _sqlite._shared_entry_ids

        def spy(entries: Any) -> list[str] | None:
            calls.append(real(entries))
            return calls[-1]

        with mock.patch.object(_sqlite, "_shared_entry_ids", spy):
            store.customers.add_many([_customer(f"c{n}") for n in range(5)], actor="bob")
        assert calls == [[f"c{n}" for n in range(5)]]
        store.customers.add(_customer("single"), actor="bob")
        (one,) = store.audit("c3")
        (single,) = store.audit("single")
        assert (one.actor, one.action, one.record_type, one.version, one.changes) == (
            single.actor,
            single.action,
            single.record_type,
            single.version,
            single.changes,
        )


class TestErrors:
    def test_read_only_store_reads_but_refuses_writes(self, db_path: Path) -> None:
        """mode=ro opens for reading; a write raises StoreError saying it is read-only."""
        with SQLiteStore(db_path) as writer:
            writer.customers.add(_customer("001"))
        with SQLiteStore.from_url(f"sqlite:///{db_path}?mode=ro") as reader:
            assert reader.customers.exists("001")
            with pytest.raises(StoreError, match="read-only"):
                reader.customers.add(_customer("002"))
            assert not reader.customers.exists("002")

    @pytest.mark.skipif(
        not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root ignores file modes"
    )
    def test_read_only_file_refuses_writes(self, db_path: Path) -> None:
        """A file without write permission raises StoreError, never a raw sqlite3 error."""
        SQLiteStore(db_path).close()
        db_path.chmod(0o444)
        try:
            with pytest.raises(StoreError, match=str(db_path)), SQLiteStore(db_path) as opened:
                opened.customers.add(_customer("001"))
        finally:
            db_path.chmod(0o644)

    def test_locked_database_times_out_with_store_error(self, db_path: Path) -> None:
        """Another connection's open write transaction makes a write fail after the wait."""
        SQLiteStore(db_path).close()
        holder = sqlite3.connect(db_path, isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")
        try:
            with SQLiteStore(db_path, timeout=0.1) as waiting:
                started = time.monotonic()
                with pytest.raises(StoreError, match="locked by another writer"):
                    waiting.customers.add(_customer("001"))
                assert time.monotonic() - started >= 0.1
                holder.execute("ROLLBACK")
                waiting.customers.add(_customer("001"))
                assert waiting.customers.exists("001")
        finally:
            holder.close()

    def test_missing_directory_is_a_store_error(self, tmp_path: Path) -> None:
        """A path in a directory that does not exist raises StoreError naming it."""
        missing = tmp_path / "no" / "such" / "dir.db"
        with pytest.raises(StoreError, match="cannot open"):
            SQLiteStore(missing)

    def test_closed_store_refuses_use(self, db_path: Path) -> None:
        """Every use after close() raises StoreError; closing twice is harmless."""
        opened = SQLiteStore(db_path)
        opened.close()
        opened.close()
        with pytest.raises(StoreError, match="closed"):
            opened.customers.get("001")
        with pytest.raises(StoreError, match="closed"):
            opened.customers.add(_customer("001"))

    def test_unreadable_document_is_a_store_error(self, store: SQLiteStore, db_path: Path) -> None:
        """A damaged document raises StoreError naming the record, not a decode error."""
        store.customers.add(_customer("001"))
        with sqlite3.connect(db_path) as raw:
            raw.execute('UPDATE customers SET doc = \'{"type": "customer", "id": 5}\'')
        with pytest.raises(StoreError, match="'001'"):
            store.customers.get("001")

    def test_a_projection_of_a_damaged_document_fails_like_a_read(
        self, store: SQLiteStore, db_path: Path
    ) -> None:
        """project falls back to a full read of a document it cannot use: the same error."""
        store.customers.add(_customer("001"))
        with sqlite3.connect(db_path) as raw:
            raw.execute("""UPDATE customers SET doc = json_set(doc, '$.birth_date', 'soon')""")
        with pytest.raises(StoreError, match="'001'"):
            list(store.customers.project(["birth_date"]))

    def test_a_projection_of_another_schema_version_reads_it_whole(
        self, store: SQLiteStore, db_path: Path
    ) -> None:
        """A document of another schema version goes through the full read and its checks."""
        store.customers.add(_customer("001", name="Ann"))
        with sqlite3.connect(db_path) as raw:
            raw.execute("""UPDATE customers SET doc = json_set(doc, '$.schema_version', 0)""")
        with pytest.raises(StoreError) as read:
            store.customers.get("001")
        with pytest.raises(StoreError) as projected:
            list(store.customers.project(["name"]))
        assert "schema_version" in str(read.value)
        assert str(projected.value) == str(read.value)


class TestSqlSafety:
    def test_quotes_in_constants_are_inert(self, store: SQLiteStore) -> None:
        """An injection attempt in a constant is only text to compare with."""
        hostile = "x'); DROP TABLE customers;--"
        store.customers.add_many([_customer("001", name=hostile), _customer("002", name="y")])
        found = store.customers.find(F("name") == hostile)
        assert [c.id for c in found] == ["001"]
        assert [c.id for c in store.customers.find(F("name").contains("'); drop"))] == ["001"]
        assert store.customers.find(HasTag(hostile)).items == ()
        assert store.customers.count() == 2

    def test_hostile_custom_field_name_is_refused(self, store: SQLiteStore) -> None:
        """A field name that is not a catalog name or a custom key never reaches SQL."""
        with pytest.raises(ValidationError):
            store.customers.find(F("custom.x') OR 1=1 --") == 1)
        with pytest.raises(ValidationError):
            store.customers.find(Query().order_by('custom.x"]'))

    def test_like_wildcards_are_literal_in_contains(self, store: SQLiteStore) -> None:
        """contains() matches % and _ as characters, not as LIKE wildcards."""
        store.customers.add_many([_customer("1", name="50% off"), _customer("2", name="5 off")])
        assert [c.id for c in store.customers.find(F("name").contains("0%"))] == ["1"]
        assert [c.id for c in store.customers.find(F("name").contains("_"))] == []


class TestListSortKey:
    @given(st.lists(st.text(), max_size=4), st.lists(st.text(), max_size=4))
    def test_orders_like_python_tuples(self, left: list[str], right: list[str]) -> None:
        """The bytes key of two text lists orders them as Python orders the tuples."""
        import json

        a, b = list_sort_key(json.dumps(left)), list_sort_key(json.dumps(right))
        assert a is not None
        assert b is not None
        assert (a < b) == (tuple(left) < tuple(right))
        assert (a == b) == (left == right)


class TestProcesses:
    def test_concurrent_updates_from_two_processes_lose_nothing(self, db_path: Path) -> None:
        """Two processes racing read-modify-update retry on ConflictError; no write is lost."""
        with SQLiteStore(db_path) as setup:
            setup.customers.add(_customer("counter", custom={"n": 0}))
        script = """
            import sys, attrs
            from custrec.errors import ConflictError
            from custrec.store._sqlite import SQLiteStore
            conflicts = 0
            with SQLiteStore(sys.argv[1]) as store:
                for _ in range(40):
                    while True:
                        c = store.customers.get("counter")
                        try:
                            store.customers.update(
                                attrs.evolve(c, custom={"n": c.custom["n"] + 1})
                            )
                            break
                        except ConflictError:
                            conflicts += 1
            print(conflicts)
        """
        workers = [_run(script, str(db_path)) for _ in range(2)]
        for worker in workers:
            _, err = worker.communicate(timeout=120)
            assert worker.returncode == 0, err.decode()
        with SQLiteStore(db_path) as check:
            final = check.customers.get("counter")
            assert final.custom["n"] == 80
            assert final.version == 81

    def test_sigkill_during_bulk_add_leaves_whole_batches(self, db_path: Path) -> None:
        """A writer killed mid-import leaves a sound file holding whole batches only."""
        SQLiteStore(db_path).close()
        script = """
            import sys, itertools
            from custrec.model import Customer
            from custrec.store._sqlite import SQLiteStore
            store = SQLiteStore(sys.argv[1])
            customers = (Customer(id=f"c{n:09d}", name=f"n{n}") for n in itertools.count())
            store.customers.add_many(customers, batch_size=500)
        """
        writer = _run(script, str(db_path))
        try:
            deadline = time.monotonic() + 60
            with sqlite3.connect(db_path) as watch:
                while watch.execute("SELECT count(*) FROM customers").fetchone()[0] < 3000:
                    assert time.monotonic() < deadline, "the writer made no progress"
                    time.sleep(0.02)
        finally:
            writer.send_signal(signal.SIGKILL)
            writer.communicate()
        with SQLiteStore(db_path) as reopened, sqlite3.connect(db_path) as raw:
            assert raw.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            stored = reopened.customers.count()
            assert stored >= 3000
            assert stored % 500 == 0
            assert raw.execute("SELECT count(*) FROM audit").fetchone()[0] == stored


# -- the same answers as the Python reference -----------------------------------------------

_IDS = [f"{n:03d}" for n in range(12)] + ["A-1", "a-1", "客户1"]
_NAMES = ["张三", "Zhang San", "zhang san", "ZHANG", "Li Si", "50% off", "İstanbul", "ß"]
_TAGS = ["VIP", "vip", "老客户", "wholesale"]
_KEYS = ["a", "b", "等级"]
# Stored numbers, and constants right next to them that no double holds (Decimal("0.1") is
# not the float 0.1; 2**62 + 0.5 rounds to 2**62 as a double), so exactness is tested.
_NUMBER_POOL: list[Any] = [0, 1, -1, 2, 3, 0.5, 1.0, -0.0, 2.5, 0.1, 1e300, 2**62, 2**53 + 1]
_NEIGHBOURS: list[Any] = [
    *(Decimal(repr(n)) for n in _NUMBER_POOL),
    Decimal(2**62) + Decimal("0.5"),
    Decimal(2**62) - Decimal("0.5"),
    Decimal(2**53) + Decimal("1.5"),
    Decimal("0.1000000000000000055511151231257827"),
    Decimal("1e30"),
    2**70,
    -(2**70),
]
_JSON_VALUES: list[Any] = [
    *_NUMBER_POOL,
    True,
    False,
    "",
    "a",
    "A",
    "b",
    "1",
    "北京",
    ("a",),
    ("a", "b"),
    (),
    None,
]
_OFFSETS = [UTC, timezone(timedelta(hours=8)), timezone(timedelta(hours=-5, minutes=-30))]
_INSTANTS = [datetime(2024, 1, 1, 12, tzinfo=UTC) + timedelta(hours=h) for h in range(-10, 11, 5)]


def _moments() -> st.SearchStrategy[datetime]:
    pooled = st.builds(
        lambda t, z: t.astimezone(z), st.sampled_from(_INSTANTS), st.sampled_from(_OFFSETS)
    )
    return st.one_of(pooled, strategies.aware_datetimes(min_year=2023, max_year=2025))


_DATES = st.dates(min_value=date(1990, 1, 1), max_value=date(1990, 1, 10))


@st.composite
def _query_customer(draw: st.DrawFn) -> Customer:
    custom = draw(
        st.dictionaries(st.sampled_from(_KEYS), st.sampled_from(_JSON_VALUES), max_size=3)
    )
    created = draw(_moments())
    return Customer(
        id=draw(st.sampled_from(_IDS)),
        name=draw(st.none() | st.sampled_from(_NAMES)),
        kind=draw(st.sampled_from(["person", "organisation", "个体户"])),
        gender=draw(st.none() | st.sampled_from(["female", "male", "保密"])),
        birth_date=draw(st.none() | _DATES),
        company=draw(st.none() | st.sampled_from(["ABC公司", "abc", "Acme"])),
        notes=draw(st.none() | st.sampled_from(["VIP客户，对花生过敏", "call after 6pm"])),
        tags=draw(st.frozensets(st.sampled_from(_TAGS), max_size=3)),
        custom=custom,
        external_ids=draw(st.dictionaries(st.just("erp"), st.sampled_from(["E1", "E2"]))),
        created_at=created,
        updated_at=created + timedelta(hours=draw(st.integers(0, 3))),
        reviewed_at=draw(st.none() | _moments()),
        version=draw(st.integers(1, 4)),
    )


@st.composite
def _query_transaction(draw: st.DrawFn, customer_ids: list[str]) -> Transaction:
    currency = draw(st.sampled_from(["CNY", "USD", "JPY"]))
    return Transaction(
        draw(st.sampled_from(customer_ids)),
        draw(_moments()),
        total=draw(strategies.money(currency, min_minor=-300, max_minor=300)),
        id=draw(st.sampled_from(_IDS)),
        status=draw(st.sampled_from(["completed", "refunded", "部分退款"])),
        payment_method=draw(st.none() | st.sampled_from(["cash", "alipay", "礼品卡"])),
        note=draw(st.none() | st.sampled_from(["gift wrap", "GIFT"])),
        version=draw(st.integers(1, 3)),
    )


_NUMBERS = st.sampled_from(_NUMBER_POOL) | st.sampled_from(_NEIGHBOURS)
_JSON_CONSTANTS = _NUMBERS | st.booleans()
# Arithmetic is the documented approximation (Decimal in Python, doubles in SQL): compare
# its results only with constants that no rounding difference can cross.
_ARITH_CONSTANTS = st.sampled_from([0, 1, 2, 3, -1, 0.5, 2.5, -0.0, Decimal("-7.25"), True])
_TEXTS = st.sampled_from(["", "a", "A", "b", "1", "北京", "VIP", "ZHANG", "zhang", "E1", "person"])
_CURRENCY_MONEY = st.builds(
    Money.from_minor, st.integers(-300, 300), st.sampled_from(["CNY", "USD", "JPY"])
)

# field path -> strategy of constants it may be compared with
_CUSTOMER_FIELDS: dict[str, st.SearchStrategy[Any]] = {
    "id": st.sampled_from(_IDS),
    "name": st.sampled_from(_NAMES) | _TEXTS,
    "company": st.sampled_from(["ABC公司", "abc", "Acme"]) | _TEXTS,
    "kind": st.sampled_from(["person", "organisation", "个体户", "个人"]),
    "gender": st.sampled_from(["female", "male", "保密", "女"]),
    "notes": _TEXTS,
    "external_ids.erp": st.sampled_from(["E1", "E2", "E3"]),
    "birth_date": _DATES,
    "created_at": _moments(),
    "updated_at": _moments(),
    "reviewed_at": _moments(),
    "version": _NUMBERS,
    "custom.a": _JSON_CONSTANTS | _TEXTS,
    "custom.b": _JSON_CONSTANTS | _TEXTS,
    "custom.等级": _JSON_CONSTANTS | _TEXTS,
}
_TRANSACTION_FIELDS: dict[str, st.SearchStrategy[Any]] = {
    "id": st.sampled_from(_IDS),
    "customer_id": st.sampled_from(_IDS),
    "at": _moments(),
    "total": _CURRENCY_MONEY,
    "currency": st.sampled_from(["CNY", "USD", "JPY"]),
    "status": st.sampled_from(["completed", "refunded", "部分退款", "已完成"]),
    "payment_method": st.sampled_from(["cash", "alipay", "支付宝", "礼品卡"]),
    "note": st.sampled_from(["gift wrap", "GIFT", "gift"]),
    "version": _NUMBERS,
}
_NUMERIC = {"version", "custom.a", "custom.b", "custom.等级"}


def _leaf(fields: dict[str, st.SearchStrategy[Any]], customers: bool) -> st.SearchStrategy[Expr]:
    paths = sorted(fields)
    path = st.sampled_from(paths)
    ops = st.sampled_from(["==", "!=", "<", "<=", ">", ">="])

    def compare(draw: st.DrawFn) -> Expr:
        chosen = draw(path)
        value = draw(st.none() | fields[chosen]) if draw(st.booleans()) else draw(fields[chosen])
        return Compare(draw(ops), Field(chosen), Const(value))

    def field_pair(draw: st.DrawFn) -> Expr:
        return Compare(draw(ops), Field(draw(path)), Field(draw(path)))

    def member(draw: st.DrawFn) -> Expr:
        chosen = draw(path)
        options = draw(st.lists(fields[chosen] | st.none(), max_size=4))
        return In(Field(chosen), tuple(Const(o) for o in options))

    def between(draw: st.DrawFn) -> Expr:
        chosen = draw(path)
        return Between(Field(chosen), Const(draw(fields[chosen])), Const(draw(fields[chosen])))

    def contains(draw: st.DrawFn) -> Expr:
        needle = draw(st.sampled_from(["", "a", "ZHANG", "vip", "北", "%", "İ", "ss", "1"]))
        return Contains(Field(draw(path)), Const(needle))

    def arith(draw: st.DrawFn) -> Expr:
        numeric = sorted(_NUMERIC & set(paths))
        left = Field(draw(st.sampled_from(numeric)))
        right = draw(st.sampled_from([Field(p) for p in numeric]) | _ARITH_CONSTANTS.map(Const))
        term = Arith(draw(st.sampled_from(["+", "-", "*", "/"])), left, right)
        return Compare(draw(ops), term, Const(draw(_ARITH_CONSTANTS)))

    def bare(draw: st.DrawFn) -> Expr:
        return draw(
            st.sampled_from([Const(True), Const(False), Const(1), Const(None)]) | path.map(Field)
        )

    builders = [compare, compare, compare, field_pair, member, between, contains, arith, bare]
    leaves = [st.composite(b)() for b in builders]
    leaves.append(path.map(lambda p: IsNull(Field(p))))
    if customers:
        leaves.append(st.sampled_from([*_TAGS, "none"]).map(HasTag))
    return st.one_of(leaves)


def _conditions(
    fields: dict[str, st.SearchStrategy[Any]], customers: bool
) -> st.SearchStrategy[Expr]:
    return st.recursive(
        _leaf(fields, customers),
        lambda inner: st.one_of(
            st.lists(inner, max_size=3).map(lambda items: And(tuple(items))),
            st.lists(inner, max_size=3).map(lambda items: Or(tuple(items))),
            inner.map(Not),
            inner.map(IsNull),
        ),
        max_leaves=6,
    )


def _orders(fields: dict[str, st.SearchStrategy[Any]]) -> st.SearchStrategy[tuple[Order, ...]]:
    order = st.builds(Order, st.sampled_from(sorted(fields)), st.booleans())
    return st.lists(order, max_size=3).map(tuple)


def _walk(store: Store, kind: type[Any], query: Query) -> Any:
    """Every page of a query as ids, or the error it raised; then count and batches."""
    repo = store.repository(kind)
    pages: list[list[str]] = []
    try:
        while True:
            page = repo.find(query)
            pages.append([record.id for record in page])
            if page.next_cursor is None:
                break
            query = query.after(page.next_cursor)
    except ValidationError as exc:
        pages.append([f"error: {exc}"])
    where = query.where
    return pages, repo.count(where), [[r.id for r in b] for b in repo.iter_batches(4, where)]


def _load(records: list[Any], kind: type[Any], customers: list[Customer]) -> tuple[Store, Store]:
    stores: tuple[Store, Store] = (MemoryStore(), SQLiteStore(":memory:"))
    for target in stores:
        target.customers.add_many(customers)
        if kind is not Customer:
            target.repository(kind).add_many(records)
    return stores


def _unique(records: list[Any]) -> list[Any]:
    return list({record.id: record for record in records}.values())


def _truth(value: object) -> int | None:
    """A Python condition value as SQL reports it: 1 for True, 0 for False, else NULL."""
    if value is True:
        return 1
    if value is False:
        return 0
    return None


def _truth_table(
    store: SQLiteStore, kind: type[Any], records: list[Any], condition: Expr
) -> tuple[dict[str, int | None], dict[str, int | None]]:
    """Each record's truth value of ``condition``: (from SQL, from the Python reference)."""
    table = TABLES[kind]
    where = compile_where(table, condition)
    assert store._conn is not None
    rows = store._conn.execute(f"SELECT id, {where.text} FROM {table.name}", where.params)  # noqa: S608 - compiled by the code under test, parameters bound
    evaluate = compile_value(condition, kind)
    return dict(rows.fetchall()), {r.id: _truth(evaluate(r)) for r in records}


_QUERY_SETTINGS = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


class TestConditionsMatchTheReference:
    @_QUERY_SETTINGS
    @given(
        st.lists(_query_customer(), min_size=4, max_size=14).map(_unique),
        st.lists(_conditions(_CUSTOMER_FIELDS, customers=True), min_size=1, max_size=25),
    )
    def test_customer_conditions_have_the_reference_truth_values(
        self, customers: list[Customer], conditions: list[Expr]
    ) -> None:
        """Every random condition is true, false or unknown on each customer as in Python."""
        with SQLiteStore(":memory:") as sqlite:
            sqlite.customers.add_many(customers)
            stored = list(sqlite.customers)
            for condition in conditions:
                from_sql, expected = _truth_table(sqlite, Customer, stored, condition)
                assert from_sql == expected, condition

    @_QUERY_SETTINGS
    @given(
        st.data(),
        st.lists(_query_customer(), min_size=1, max_size=4).map(_unique),
        st.lists(_conditions(_TRANSACTION_FIELDS, customers=False), min_size=1, max_size=25),
    )
    def test_transaction_conditions_have_the_reference_truth_values(
        self, data: st.DataObject, customers: list[Customer], conditions: list[Expr]
    ) -> None:
        """Money, currencies, choices and numbers are true/false/unknown as in Python."""
        ids = [c.id for c in customers]
        records = _unique(data.draw(st.lists(_query_transaction(ids), min_size=4, max_size=14)))
        with SQLiteStore(":memory:") as sqlite:
            sqlite.customers.add_many(customers)
            sqlite.transactions.add_many(records)
            stored = list(sqlite.transactions)
            for condition in conditions:
                from_sql, expected = _truth_table(sqlite, Transaction, stored, condition)
                assert from_sql == expected, condition


class TestComparisonsAreExact:
    def test_every_custom_value_against_every_constant(self) -> None:
        """Each stored custom value compared with each constant, by every operator, as Python.

        Covers numbers next to doubles (``Decimal("0.1")`` is not the float 0.1), integers
        past 2**53 and 2**63, bools as numbers, text against numbers (unknown), lists and
        missing keys (unknown), JSON null.
        """
        values = [*_JSON_VALUES, "missing"]
        customers = [
            Customer(id=f"{n:03d}", custom={} if v == "missing" else {"a": v})
            for n, v in enumerate(values)
        ]
        constants = [*_NUMBER_POOL, *_NEIGHBOURS, True, False, "", "a", "1", None]
        with SQLiteStore(":memory:") as sqlite:
            sqlite.customers.add_many(customers)
            stored = list(sqlite.customers)
            for constant in constants:
                for op in ("==", "!=", "<", "<=", ">", ">="):
                    condition = Compare(op, Field("custom.a"), Const(constant))
                    from_sql, expected = _truth_table(sqlite, Customer, stored, condition)
                    assert from_sql == expected, condition
                member = In(Field("custom.a"), (Const(constant), Const(1)))
                from_sql, expected = _truth_table(sqlite, Customer, stored, member)
                assert from_sql == expected, member

    def test_integer_column_against_inexact_constants(self) -> None:
        """An INT column compares exactly with constants between integers or beyond 64 bits."""
        customers = [Customer(id=f"{n}") for n in range(3)]
        with SQLiteStore(":memory:") as sqlite:
            sqlite.customers.add_many(customers)
            for n in range(3):  # versions 1, 2, 3
                for _ in range(n):
                    sqlite.customers.update(sqlite.customers.get(f"{n}"))
            stored = list(sqlite.customers)
            constants = [Decimal("1.5"), Decimal("2"), Decimal("-0.5"), 2**64, -(2**64), 1.5]
            for constant in constants:
                for op in ("==", "!=", "<", "<=", ">", ">="):
                    condition = Compare(op, Field("version"), Const(constant))
                    from_sql, expected = _truth_table(sqlite, Customer, stored, condition)
                    assert from_sql == expected, condition


class TestQueriesMatchTheReference:
    @_QUERY_SETTINGS
    @given(
        st.lists(_query_customer(), min_size=3, max_size=14).map(_unique),
        _conditions(_CUSTOMER_FIELDS, customers=True) | st.none(),
        st.lists(_orders(_CUSTOMER_FIELDS), min_size=1, max_size=4),
        st.none() | st.integers(1, 5),
    )
    def test_customer_queries_page_like_memory(
        self,
        customers: list[Customer],
        where: Expr | None,
        orders: list[tuple[Order, ...]],
        size: int | None,
    ) -> None:
        """Random customer queries give the same ids, order, pages and counts as memory."""
        memory, sqlite = _load(customers, Customer, customers)
        for order in orders:
            query = Query(where=where, order=order, size=size)
            assert _walk(sqlite, Customer, query) == _walk(memory, Customer, query)
        sqlite.close()

    @_QUERY_SETTINGS
    @given(
        st.data(),
        st.lists(_query_customer(), min_size=1, max_size=5).map(_unique),
        _conditions(_TRANSACTION_FIELDS, customers=False) | st.none(),
        st.lists(_orders(_TRANSACTION_FIELDS), min_size=1, max_size=4),
        st.none() | st.integers(1, 5),
    )
    def test_transaction_queries_page_like_memory(
        self,
        data: st.DataObject,
        customers: list[Customer],
        where: Expr | None,
        orders: list[tuple[Order, ...]],
        size: int | None,
    ) -> None:
        """Random transaction queries (money, currencies, choices) match memory exactly."""
        ids = [c.id for c in customers]
        records = _unique(data.draw(st.lists(_query_transaction(ids), min_size=3, max_size=14)))
        memory, sqlite = _load(records, Transaction, customers)
        for order in orders:
            query = Query(where=where, order=order, size=size)
            assert _walk(sqlite, Transaction, query) == _walk(memory, Transaction, query)
        sqlite.close()

    @settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(st.lists(strategies.customers(), max_size=8).map(_unique), _orders(_CUSTOMER_FIELDS))
    def test_generated_customers_round_trip_and_order(
        self, customers: list[Customer], order: tuple[Order, ...]
    ) -> None:
        """Customers from the shared strategies read back equal and order like memory."""
        memory, sqlite = _load(customers, Customer, customers)
        for customer in customers:
            assert sqlite.customers.get(customer.id) == memory.customers.get(customer.id)
        query = Query(order=order, size=3)
        assert _walk(sqlite, Customer, query) == _walk(memory, Customer, query)
        sqlite.close()
