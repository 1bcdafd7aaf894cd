"""Encryption at rest: sealed fields round-trip, rotate, resist tampering and never hit disk."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, ClassVar

import attrs
import pytest
from hypothesis import HealthCheck, given, settings

from custrec.errors import DecryptionError, ValidationError
from custrec.expr import F
from custrec.model import Address, Customer, Email, Handle, Interaction, Phone
from custrec.privacy import (
    DEFAULT_SEALED,
    INDEX_NETWORK,
    SEALED_FIELD,
    EncryptedStore,
    KeyRing,
    reencrypt,
)
from custrec.store import MemoryStore, Query, Store, open_store
from custrec.testing import strategies
from custrec.testing.store_suite import (
    CrudTests,
    HistoryTests,
    LookupTests,
    StoreSuite,
    UnitOfWorkTests,
)

KEYS = KeyRing({"k1": b"\x01" * 32}, "k1")
INDEX = KeyRing({"i1": b"\x02" * 32}, "i1")
T0 = datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)
CONTACT_FIELDS = ("addresses", "emails", "family", "handles", "phones", "special_needs")


def encrypted(store: Store | None = None, **options: Any) -> EncryptedStore:
    options.setdefault("keys", KEYS)
    options.setdefault("index_keys", INDEX)
    return EncryptedStore(store or MemoryStore(), **options)


def person(ident: str = "c1", **fields: Any) -> Customer:
    values: dict[str, Any] = {
        "name": "张三丰",
        "phones": [Phone("13812345678", region="CN", primary=True)],
        "emails": [Email("Zhang.Sanfeng@Example.cn")],
        "handles": [Handle("wechat", "zsf_wudang")],
        "addresses": [Address(country="CN", city="十堰", street="武当山路 1 号")],
        "birth_date": date(1980, 5, 4),
        "family": "married, two children",
        "notes": "prefers calls after 6pm",
        "external_ids": {"erp": "E-7781"},
        "company": "Wudang Tea",
        "tags": {"vip"},
        "custom": {"level": "gold"},
        "created_at": T0,
        "updated_at": T0,
    }
    values.update(fields)
    return Customer(id=ident, **values)


class TestKeyRing:
    def test_generate_and_lookup(self) -> None:
        """A generated ring has one 32-byte primary key, found by its id."""
        ring = KeyRing.generate("main")
        assert ring.primary == "main"
        assert len(ring.primary_key) == 32
        assert ring.key("main") == ring.primary_key
        assert ring.key("other") is None

    @pytest.mark.parametrize("key", [b"short", "x" * 32, b"\x00" * 33])
    def test_keys_must_be_32_bytes_and_are_never_shown(self, key: Any) -> None:
        """A key of the wrong size or type is refused without showing it."""
        with pytest.raises(ValidationError, match="32 random bytes") as caught:
            KeyRing({"k": key}, "k")
        assert str(key) not in str(caught.value)

    @pytest.mark.parametrize("key_id", ["", "a.b", "with space", "x" * 65])
    def test_key_ids_are_plain(self, key_id: str) -> None:
        """Key ids go into every envelope, so only letters, digits, '_' and '-' are taken."""
        with pytest.raises(ValidationError, match="key id"):
            KeyRing({key_id: b"\x00" * 32}, key_id)

    def test_primary_must_be_in_the_ring(self) -> None:
        """The primary names one of the keys."""
        with pytest.raises(ValidationError, match="primary"):
            KeyRing({"a": b"\x00" * 32}, "b")

    def test_repr_hides_keys(self) -> None:
        """The keys never appear in repr, so logging a ring gives nothing away."""
        assert "\\x01" not in repr(KEYS)
        assert "k1" in repr(KEYS)

    def test_rotated_and_without(self) -> None:
        """Rotation adds a primary and keeps the old key; the old key can then be dropped."""
        ring = KEYS.rotated("k2", b"\x03" * 32)
        assert (ring.primary, sorted(ring.keys)) == ("k2", ["k1", "k2"])
        assert sorted(ring.without("k1").keys) == ["k2"]
        with pytest.raises(ValidationError, match="primary"):
            ring.without("k2")
        with pytest.raises(ValidationError, match="already"):
            ring.rotated("k1", b"\x04" * 32)

    def test_sealing_and_index_keys_must_differ(self) -> None:
        """Using one key for both envelopes and indexes is refused."""
        with pytest.raises(ValidationError, match="differ"):
            encrypted(index_keys=KeyRing({"i1": b"\x01" * 32}, "i1"))

    def test_unsealable_fields_are_refused(self) -> None:
        """Ids, times, tags, custom fields and unknown names cannot be sealed."""
        for field in ("id", "created_at", "tags", "custom", "nickname"):
            with pytest.raises(ValidationError) as caught:
                encrypted(fields=[field])
            assert caught.value.value == field


class TestRoundTrip:
    def test_add_get_update(self) -> None:
        """What goes in comes out equal; the wrapped store holds only blanks and an envelope."""
        store = encrypted()
        added = store.customers.add(person())
        assert store.customers.get("c1") == added == attrs.evolve(person(), version=1)
        inner = store.inner.customers.get("c1")
        blanks = [getattr(inner, field) for field in DEFAULT_SEALED if field != "handles"]
        assert all(value in (None, ()) or not value for value in blanks)
        assert inner.company == "Wudang Tea"
        assert inner.custom["level"] == "gold"
        assert inner.custom[SEALED_FIELD].startswith("cs1.k1.")
        assert {str(h.network) for h in inner.handles} == {INDEX_NETWORK}
        changed = store.customers.update(attrs.evolve(added, name="张君宝", notes=None))
        assert changed.version == 2
        assert store.customers.get("c1") == changed

    def test_unsealed_handles_keep_their_order_beside_the_indexes(self) -> None:
        """When handles are not sealed, they stay readable and come back without the indexes."""
        store = encrypted(fields=["phones", "name"])
        added = store.customers.add(person())
        assert store.customers.get("c1").handles == added.handles
        inner = store.inner.customers.get("c1")
        assert inner.handles[0] == added.handles[0]
        assert inner.emails == added.emails

    @settings(max_examples=40, suppress_health_check=[HealthCheck.too_slow])
    @given(record=strategies.customers())
    def test_any_customer_round_trips(self, record: Customer) -> None:
        """Whatever a customer holds, the wrapper gives back exactly what was added."""
        store = encrypted(fields=[*sorted(DEFAULT_SEALED), "company", "consents", "owner"])
        added = store.customers.add(record)
        got = store.customers.get(record.id)
        assert got == added
        assert store.customers.find(F("id") == record.id).items == (got,)

    def test_project_opens_sealed_fields(self) -> None:
        """Projections of sealed fields read the opened values; others come from the store."""
        store = encrypted()
        store.customers.add(person())
        [[row]] = list(store.customers.project(["name", "company"]))
        assert row == ("c1", "张三丰", "Wudang Tea")
        [[row]] = list(store.customers.project(["company"]))
        assert row == ("c1", "Wudang Tea")
        with pytest.raises(ValidationError):
            store.customers.project(["nickname"])

    def test_history_passes_through(self) -> None:
        """Interactions, transactions and feedback are stored as they are."""
        store = encrypted()
        store.customers.add(person())
        at = datetime(2024, 5, 1, tzinfo=UTC)
        store.interactions.add(Interaction("c1", at, "phone", id="i1", subject="order"))
        assert [r.id for r in store.history("c1")] == ["i1"]
        assert store.repository(Interaction) is store.inner.interactions
        assert store.repository(Customer) is store.customers


class TestLookups:
    @pytest.fixture
    def store(self) -> EncryptedStore:
        store = encrypted()
        store.customers.add(person("c1"))
        store.customers.add(
            person("c2", phones=[Phone("13900001111", region="CN")], emails=[], handles=[])
        )
        return store

    @pytest.mark.parametrize(
        "typed",
        [
            "13812345678",
            "138 1234 5678",
            "+86 138-1234-5678",
            "+8613812345678",
            "１３８１２３４５６７８",
        ],
    )
    def test_phone_in_any_format(self, store: EncryptedStore, typed: str) -> None:
        """A sealed phone is found however the number is typed."""
        assert [c.id for c in store.customers.find_by_phone(typed, "CN")] == ["c1"]

    @pytest.mark.parametrize(
        "typed",
        ["zhang.sanfeng@example.cn", "ZHANG.SANFENG@EXAMPLE.CN", " Zhang.Sanfeng@example.CN "],
    )
    def test_email_in_any_case(self, store: EncryptedStore, typed: str) -> None:
        """A sealed email is found whatever its case or surrounding spaces."""
        found = store.customers.find_by_email(typed)
        assert [c.id for c in found] == ["c1"]
        assert found[0].name == "张三丰"

    def test_handle_and_external_id(self, store: EncryptedStore) -> None:
        """Sealed handles and external ids are found too; nothing is found by a wrong value."""
        assert [c.id for c in store.customers.find_by_handle("微信", "ZSF_wudang")] == ["c1"]
        assert [c.id for c in store.customers.find_by_external_id("erp", "E-7781")] == ["c1", "c2"]
        assert store.customers.find_by_handle("qq", "zsf_wudang") == []
        assert store.customers.find_by_phone("13800000000", "CN") == []
        assert store.customers.find_by_phone("no number") == []

    def test_lookups_follow_updates_and_deletes(self, store: EncryptedStore) -> None:
        """A changed phone is found by its new value only; a deleted customer is gone."""
        c1 = store.customers.get("c1")
        store.customers.update(attrs.evolve(c1, phones=[Phone("13700002222", region="CN")]))
        assert store.customers.find_by_phone("13812345678", "CN") == []
        assert [c.id for c in store.customers.find_by_phone("13700002222", "CN")] == ["c1"]
        store.customers.delete("c1")
        assert store.customers.find_by_phone("13700002222", "CN") == []

    def test_the_index_network_is_reserved(self, store: EncryptedStore) -> None:
        """Nobody adds a handle on the index network or looks one up directly."""
        with pytest.raises(ValidationError, match="blind indexes"):
            store.customers.find_by_handle(INDEX_NETWORK, "00")
        with pytest.raises(ValidationError, match="blind indexes"):
            store.customers.add(Customer(id="x", handles=[Handle(INDEX_NETWORK, "ab")]))
        with pytest.raises(ValidationError, match=SEALED_FIELD):
            store.customers.add(Customer(id="x", custom={SEALED_FIELD: "cs1.k1.a.b"}))

    def test_index_keys_differ_from_plain_hashes(self, store: EncryptedStore) -> None:
        """The indexes are keyed: another index key gives other values, and finds nobody."""
        other = EncryptedStore(store.inner, keys=KEYS, index_keys=KeyRing.generate("i9"))
        assert other.customers.find_by_phone("13812345678", "CN") == []


class TestRefusedQueries:
    @pytest.fixture
    def store(self) -> EncryptedStore:
        store = encrypted()
        store.customers.add(person())
        return store

    @pytest.mark.parametrize(
        ("where", "field"),
        [
            (F("name") == "张三丰", "name"),
            (F("notes").contains("6pm"), "notes"),
            (F("birth_date") < date(2000, 1, 1), "birth_date"),
            (F("external_ids.erp") == "E-7781", "external_ids.erp"),
            ((F("company") == "x") | (F("family").is_null()), "family"),
            (F(f"custom.{SEALED_FIELD}").is_null(), f"custom.{SEALED_FIELD}"),
            (F("handles").is_null(), "handles"),
        ],
    )
    def test_conditions_on_sealed_fields(
        self, store: EncryptedStore, where: Any, field: str
    ) -> None:
        """find, count, iter_batches and project refuse, naming the field and no value."""
        calls = [
            lambda: store.customers.find(where),
            lambda: store.customers.count(where),
            lambda: store.customers.iter_batches(10, where),
            lambda: store.customers.project(["company"], where=where),
        ]
        for call in calls:
            with pytest.raises(ValidationError) as caught:
                call()
            assert (caught.value.field, caught.value.value) == ("where", field)
            assert repr(field) in str(caught.value)
            assert "张三丰" not in str(caught.value)

    def test_ordering_by_a_sealed_field(self, store: EncryptedStore) -> None:
        """An order on a sealed field is refused too; on others it works."""
        with pytest.raises(ValidationError, match="'name'"):
            store.customers.find(Query().order_by("name"))
        assert len(store.customers.find(Query(F("company") == "Wudang Tea")).items) == 1


class TestRotation:
    def test_old_key_reads_reencrypt_then_drop(self) -> None:
        """After rotation old data still reads; reencrypt moves it; the old key can go."""
        inner = MemoryStore()
        encrypted(inner).customers.add_many(person(f"c{n}") for n in range(7))
        ring = KEYS.rotated("k2", b"\x05" * 32)
        index = INDEX.rotated("i2", b"\x06" * 32)
        store = encrypted(inner, keys=ring, index_keys=index)
        assert store.customers.get("c3").name == "张三丰"
        assert len(store.customers.find_by_phone("13812345678", "CN")) == 7
        seen: list[int] = []
        assert reencrypt(store, batch_size=3, progress=seen.append, actor="ops") == 7
        assert seen == [3, 6, 7]
        assert reencrypt(store) == 0  # already current
        assert {c.custom[SEALED_FIELD].split(".")[1] for c in inner.customers} == {"k2"}
        assert inner.audit("c0")[-1].actor == "ops"
        final = encrypted(inner, keys=ring.without("k1"), index_keys=index.without("i1"))
        got = final.customers.get("c5")
        assert attrs.evolve(got, updated_at=T0) == attrs.evolve(person("c5"), version=2)
        assert len(final.customers.find_by_email("zhang.sanfeng@example.cn")) == 7
        with pytest.raises(DecryptionError):
            encrypted(inner).customers.get("c0")

    def test_reencrypt_seals_plain_records_and_new_fields(self) -> None:
        """Customers written before wrapping, or before a field was chosen, get sealed."""
        inner = MemoryStore()
        inner.customers.add(person("old"))
        store = encrypted(inner, fields=["phones"])
        assert [c.id for c in store.customers.find_by_phone("13812345678", "CN")] == ["old"]
        assert reencrypt(store) == 1
        assert inner.customers.get("old").phones == ()
        assert inner.customers.get("old").name == "张三丰"
        wider = encrypted(inner, fields=["phones", "name"])
        assert reencrypt(wider) == 1
        assert inner.customers.get("old").name is None
        assert wider.customers.get("old").name == "张三丰"
        assert [c.id for c in wider.customers.find_by_phone("13812345678", "CN")] == ["old"]

    def test_reencrypt_wants_an_encrypted_store(self) -> None:
        """Handing it a plain store is a mistake, said clearly."""
        with pytest.raises(ValidationError, match="EncryptedStore"):
            reencrypt(MemoryStore())  # type: ignore[arg-type]


class TestTampering:
    @pytest.fixture
    def store(self) -> EncryptedStore:
        store = encrypted()
        store.customers.add(person("c1"))
        store.customers.add(person("c2", name="李四"))
        return store

    def _set_envelope(self, store: EncryptedStore, ident: str, envelope: str) -> None:
        inner = store.inner.customers.get(ident)
        custom = {**inner.custom, SEALED_FIELD: envelope}
        store.inner.customers.update(attrs.evolve(inner, custom=custom))

    def _envelope(self, store: EncryptedStore, ident: str) -> str:
        envelope = store.inner.customers.get(ident).custom[SEALED_FIELD]
        assert isinstance(envelope, str)
        return envelope

    def test_a_changed_ciphertext_is_detected(self, store: EncryptedStore) -> None:
        """Flipping one character of the ciphertext makes reads fail, not return garbage."""
        envelope = self._envelope(store, "c1")
        flipped = envelope[:-5] + ("A" if envelope[-5] != "A" else "B") + envelope[-4:]
        self._set_envelope(store, "c1", flipped)
        with pytest.raises(DecryptionError) as caught:
            store.customers.get("c1")
        assert (caught.value.record_id, caught.value.key_id) == ("c1", "k1")

    def test_an_envelope_moved_to_another_customer_does_not_open(
        self, store: EncryptedStore
    ) -> None:
        """The envelope is bound to its customer id: copying c1's onto c2 is detected."""
        self._set_envelope(store, "c2", self._envelope(store, "c1"))
        with pytest.raises(DecryptionError, match="changed"):
            store.customers.get("c2")

    def test_a_wrong_key_or_an_unknown_key_id(self, store: EncryptedStore) -> None:
        """Another key under the same id fails; a key id the ring lacks is named."""
        wrong = encrypted(store.inner, keys=KeyRing({"k1": b"\x09" * 32}, "k1"))
        with pytest.raises(DecryptionError, match="wrong key"):
            wrong.customers.get("c1")
        other = encrypted(store.inner, keys=KeyRing({"k7": b"\x09" * 32}, "k7"))
        with pytest.raises(DecryptionError, match="no such key") as caught:
            other.customers.get("c1")
        assert caught.value.key_id == "k1"

    @pytest.mark.parametrize(
        "envelope", ["garbage", "cs1.k1.!!.??", "cs1.k1.AAAA.AAAA", "cs2.k1.a.b"]
    )
    def test_malformed_envelopes(self, store: EncryptedStore, envelope: str) -> None:
        """Malformed sealed data is a DecryptionError, never a crash of another kind."""
        self._set_envelope(store, "c1", envelope)
        with pytest.raises(DecryptionError):
            store.customers.get("c1")


class TestAudit:
    def test_audit_holds_no_plaintext_of_sealed_fields(self) -> None:
        """Adds, updates and deletes leave ciphertext and hashes in the trail, not values."""
        store = encrypted()
        added = store.customers.add(person())
        store.customers.update(
            attrs.evolve(added, name="张君宝", phones=[Phone("13955556666", region="CN")])
        )
        store.customers.delete("c1")
        trail = repr(store.audit("c1"))
        assert len(store.audit("c1")) == 3
        for secret in (
            "张三丰",
            "张君宝",
            "13812345678",
            "13955556666",
            "5556666",
            "zhang.sanfeng",
        ):
            assert secret not in trail.lower()
        assert "Wudang Tea" in trail  # unsealed fields are audited as before


def _plaintexts() -> list[bytes]:
    texts = ["张三丰", "李四海", "zhang.sanfeng@example.cn", "Zhang.Sanfeng", "li.sihai@example.cn"]
    # Each holds a character base64 never writes (space, '@', '+', CJK) or is long enough
    # that random ciphertext text cannot hold it by chance: "6pm" alone turned up in sealed
    # envelopes now and then.
    texts += ["13812345678", "+8613812345678", "13700002222", "zsf_wudang", "武当山路"]
    texts += ["calls after 6pm"]
    texts += ["E-7781", "two children"]
    out = []
    for text in texts:
        for variant in {text, text.lower()}:
            out += [variant.encode("utf-8"), variant.encode("utf-16-le")]
    return out


def _file_bytes(path: Path) -> bytes:
    return b"".join(
        Path(str(path) + suffix).read_bytes()
        for suffix in ("", "-wal", "-shm", "-journal")
        if Path(str(path) + suffix).exists()
    )


class TestSQLiteFile:
    def test_no_plaintext_in_the_file_or_its_wal(self, tmp_path: Path) -> None:
        """Sealed names, phones and emails never reach the SQLite file or its WAL."""
        path = tmp_path / "store.db"
        inner = open_store(f"sqlite:///{path}")
        store = encrypted(inner)
        c1 = store.customers.add(person("c1"))
        store.customers.add(
            person("c2", name="李四海", emails=[Email("li.sihai@example.cn")], phones=[])
        )
        for step in range(3):  # old versions go through the WAL and the audit trail
            c1 = store.customers.update(attrs.evolve(c1, notes=f"prefers calls after 6pm #{step}"))
        store.customers.update(attrs.evolve(c1, phones=[Phone("13700002222", region="CN")]))
        data = _file_bytes(path)  # WAL not yet checkpointed
        assert b"Wudang Tea" in data  # the scan sees what is not sealed
        assert [s for s in _plaintexts() if s in data] == []
        assert [c.id for c in store.customers.find_by_phone("137 0000 2222", "CN")] == ["c1"]
        store.close()
        data = _file_bytes(path)
        assert b"Wudang Tea" in data
        assert [s for s in _plaintexts() if s in data] == []


# --- The conformance suite, through the wrapper --------------------------------------------------


class _Deviations:
    """The two suite tests whose premise the wrapper changes on purpose."""

    def test_an_update_records_each_changed_field(self) -> None:
        pytest.skip("by design the trail holds the envelope and indexes, not the values")

    def test_iter_batches_holds_one_batch_at_a_time(self) -> None:
        pytest.skip("patches the backend's private _scan, which the wrapper does not offer")


class TestEncryptedMemoryStore(_Deviations, StoreSuite):
    """Every conformance test through the wrapper on memory, contact fields sealed.

    The suite queries names, notes and external ids, so those stay unsealed here; the
    class below seals them and runs the groups that do not query.
    """

    @pytest.fixture
    def store(self) -> Store:
        return encrypted(fields=CONTACT_FIELDS)  # type: ignore[return-value]


class TestFullySealedMemoryStore(CrudTests, LookupTests, UnitOfWorkTests, HistoryTests):
    """CRUD, lookups, units of work and history with the default fields sealed."""

    @pytest.fixture
    def store(self) -> Store:
        return encrypted()  # type: ignore[return-value]

    def test_reads_inside_a_block_see_its_writes(self) -> None:
        pytest.skip("queries the name, which is sealed here (TestEncryptedMemoryStore runs it)")


class _OverURL:
    """The wrapper over a store opened from the class's ``url`` fixture, handles closed."""

    sealing: ClassVar[dict[str, Any]] = {}  # EncryptedStore options: which fields to seal

    @pytest.fixture
    def store(self, url: str) -> Iterator[Store]:
        store = encrypted(open_store(url), **self.sealing)
        yield store  # type: ignore[misc]
        store.close()

    @pytest.fixture
    def reopen(self, url: str) -> Iterator[Any]:
        opened: list[EncryptedStore] = []

        def another() -> EncryptedStore:
            opened.append(encrypted(open_store(url), **self.sealing))
            return opened[-1]

        yield another
        for handle in opened:
            handle.close()


class TestEncryptedSQLiteStore(_OverURL, _Deviations, StoreSuite):
    """Every conformance test through the wrapper on SQLite, across handles too."""

    @pytest.fixture
    def url(self, tmp_path: Path) -> str:
        return f"sqlite:///{tmp_path / 'store.db'}"

    sealing: ClassVar[dict[str, Any]] = {"fields": CONTACT_FIELDS}


class TestEncryptedPostgresStore(
    _OverURL, _Deviations, CrudTests, LookupTests, UnitOfWorkTests, HistoryTests
):
    """CRUD, lookups, units of work and history through the wrapper on PostgreSQL, when present.

    Each test gets a fresh schema on the test server (skipped without one, see ``pgserver``).
    """

    @pytest.fixture
    def url(self) -> Iterator[str]:
        import pgserver as pg

        for schema in pg.fresh_schema():
            yield pg.store_url(schema)

    def test_reads_inside_a_block_see_its_writes(self) -> None:
        pytest.skip("queries the name, which is sealed here (TestEncryptedMemoryStore runs it)")
