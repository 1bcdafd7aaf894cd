"""The store conformance suite: the tests every :class:`~custrec.store.Store` backend passes.

Subclass :class:`StoreSuite` in your backend's test module and supply a ``store`` fixture
that gives each test a fresh, empty store; every test of the suite then runs against your
backend::

    import pytest
    from custrec.testing.store_suite import StoreSuite
    from custrec_redis import RedisStore

    class TestRedisStore(StoreSuite):
        @pytest.fixture
        def store(self, redis_url):
            with RedisStore.from_url(redis_url) as store:
                yield store

        @pytest.fixture  # optional: turns on the cross-connection tests
        def reopen(self, redis_url):
            return lambda: RedisStore.from_url(redis_url)

``reopen`` is optional: a callable returning another handle on the same underlying store
(another connection to the same file or server). Without it the tests that need two handles
are skipped, saying why. Handles made by ``reopen`` are the fixture's to close.

Collection: no class in this module has a name starting with ``Test``, so pytest collects
nothing from it, even when a test module imports :class:`StoreSuite`; a subclass named
``Test…`` is collected with every inherited test and needs nothing else (no ``__test__``
attribute). If your project's ``python_classes`` also matches ``*Tests``, import only
:class:`StoreSuite`, not the group classes.

The suite is composed of groups, each usable on its own (each carries the fixtures):
:class:`CrudTests`, :class:`LookupTests`, :class:`QueryTests`, :class:`UnitOfWorkTests`,
:class:`HistoryTests`, :class:`AuditTests`, :class:`BulkTests` and :class:`PropertyTests`.
The Python reference semantics the query tests compare with is
:func:`custrec.store.run_query`.

This module needs pytest and hypothesis (``pip install custrec[testing]``).
"""

# ruff: noqa: S101 - a test suite states what it proves with assert

from __future__ import annotations

import base64
import contextlib
import json
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from custrec import config
from custrec.errors import (
    ConflictError,
    DuplicateIdError,
    IntegrityError,
    NotFoundError,
    ValidationError,
)
from custrec.expr import And, Expr, F, Not, Or, has_tag
from custrec.model import (
    Channel,
    Customer,
    Email,
    Feedback,
    Handle,
    HistoryRecord,
    Interaction,
    Money,
    Phone,
    Transaction,
    normalize_email,
    normalize_phone,
    now,
)
from custrec.serialize import RECORD_TYPES, to_dict
from custrec.store import (
    AuditAction,
    Order,
    Query,
    Repository,
    Store,
    contact_keys,
    diff,
    run_query,
)
from custrec.testing import strategies

__all__ = [
    "AuditTests",
    "BulkTests",
    "CrudTests",
    "HistoryTests",
    "LookupTests",
    "PropertyTests",
    "QueryTests",
    "StoreSuite",
    "SuiteBase",
    "UnitOfWorkTests",
]

# --- Shared data and helpers ---------------------------------------------------------------------

T0 = datetime(2024, 1, 1, tzinfo=UTC)
CST = timezone(timedelta(hours=8))
EST = timezone(timedelta(hours=-5))
KINDS = ("customer", "interaction", "transaction", "feedback")
HISTORY_KINDS: tuple[type[Any], ...] = (Interaction, Transaction, Feedback)
OWNER = "C-OWNER"

each_kind = pytest.mark.parametrize("kind", KINDS)
each_history_kind = pytest.mark.parametrize("kind", KINDS[1:])


class Abort(Exception):  # noqa: N818 - it is the signal a test sends, not an error
    """Raised inside a unit of work to make it roll back."""


@contextlib.contextmanager
def rolled_back(store: Store) -> Iterator[None]:
    """Run the block in a unit of work that then fails, so that all of it must be undone."""
    with contextlib.suppress(Abort), store.transaction():
        yield
        raise Abort


def customer(ident: str, **fields: Any) -> Customer:
    """Return a customer with fixed timestamps (so equality does not depend on the clock)."""
    fields.setdefault("created_at", T0)
    fields.setdefault("updated_at", fields["created_at"])
    return Customer(id=ident, **fields)


def interaction(ident: str, customer_id: str, at: datetime = T0, **fields: Any) -> Interaction:
    """Return a phone call with ``customer_id``."""
    return Interaction(customer_id, at, fields.pop("channel", Channel.PHONE), id=ident, **fields)


def transaction(
    ident: str, customer_id: str, total: str = "100.00", currency: str = "CNY", **fields: Any
) -> Transaction:
    """Return a sale to ``customer_id`` of ``total`` in ``currency``."""
    at = fields.pop("at", T0)
    return Transaction(customer_id, at, total=Money(total, currency), id=ident, **fields)


def feedback(ident: str, customer_id: str, at: datetime = T0, **fields: Any) -> Feedback:
    """Return feedback from ``customer_id`` (four stars unless told otherwise)."""
    fields.setdefault("rating", 4)
    return Feedback(customer_id, at, id=ident, **fields)


def repository(store: Store, kind: str) -> Repository[Any]:
    """Return the repository of records of ``kind`` (``"customer"``…)."""
    return store.repository(RECORD_TYPES[kind])


def sample(store: Store, kind: str, ident: str, customer_id: str = OWNER) -> Any:
    """Return a new record of ``kind``; for history, make sure its customer is stored first."""
    if kind == "customer":
        return customer(ident, name=f"Customer {ident}")
    if not store.customers.exists(customer_id):
        store.customers.add(customer(customer_id, name="Owner"))
    if kind == "interaction":
        return interaction(ident, customer_id, subject="first call")
    if kind == "transaction":
        return transaction(ident, customer_id, note="first sale")
    return feedback(ident, customer_id, text="good")


_CHANGEABLE = {Customer: "name", Interaction: "subject", Transaction: "note", Feedback: "text"}


def changed(record: Any, text: str = "changed") -> Any:
    """Return a copy of ``record`` with one ordinary text field set to ``text``."""
    return attrs.evolve(record, **{_CHANGEABLE[type(record)]: text})


def ids(records: Any) -> list[str]:
    """Return the ids of records (a page, a list, any iterable), in their order."""
    return [record.id for record in records]


def assert_same(got: Any, expected: Any) -> None:
    """Assert two records are equal, down to each datetime's UTC offset."""
    assert got == expected
    assert to_dict(got) == to_dict(expected)


def wipe(store: Store) -> None:
    """Delete every record (customers with their history), for tests that reuse a store."""
    with store.transaction():
        for ident in ids(store.customers):
            store.customers.delete(ident, cascade=True)
    assert store.customers.count() == 0
    for kind in HISTORY_KINDS:
        assert store.repository(kind).count() == 0, "history left behind by a cascade"


def walk(repo: Repository[Any], query: Query, limit: int = 1000) -> list[list[str]]:
    """Return the ids of every page of ``query``, following cursors to the end."""
    pages: list[list[str]] = []
    cursor: str | None = None
    for _ in range(limit):
        page = repo.find(attrs.evolve(query, cursor=cursor))
        pages.append(ids(page.items))
        cursor = page.next_cursor
        if cursor is None:
            return pages
    pytest.fail(f"pagination did not end after {limit} pages")


def reference_pages(records: Sequence[Any], kind: type[Any], query: Query) -> list[list[str]]:
    """Return the pages :func:`custrec.store.run_query` gives for ``query``."""
    pages: list[list[str]] = []
    cursor: str | None = None
    while True:
        page = run_query(records, kind, attrs.evolve(query, cursor=cursor))
        pages.append(ids(page.items))
        cursor = page.next_cursor
        if cursor is None:
            return pages


def property_settings(max_examples: int) -> settings:
    """Hypothesis settings for a property test that reuses the function-scoped store."""
    return settings(
        max_examples=max_examples,
        deadline=None,
        suppress_health_check=[
            # The store fixture is reset by the test itself at the start of each example.
            HealthCheck.function_scoped_fixture,
            # Every backend's subclass runs the same inherited test: that is the point.
            HealthCheck.differing_executors,
            HealthCheck.too_slow,
        ],
    )


# --- Fixtures ------------------------------------------------------------------------------------


class SuiteBase:
    """The fixtures every group needs; a backend's test class overrides them."""

    @pytest.fixture
    def store(self) -> Store:
        """A fresh, empty store for one test. Backends must override this fixture."""
        raise NotImplementedError("subclass StoreSuite and supply a `store` fixture")

    @pytest.fixture
    def reopen(self) -> Callable[[], Store]:
        """A callable opening another handle on the store of the ``store`` fixture."""
        pytest.skip("the backend's test class supplies no `reopen` fixture (one store handle)")

    @pytest.fixture(autouse=True)
    def _known_settings(self) -> Iterator[None]:
        """Pin the settings the suite assumes: Chinese phone numbers, naive times in UTC."""
        with config.using(phone_region="CN", timezone="UTC"):
            yield


# --- CRUD ----------------------------------------------------------------------------------------


class CrudTests(SuiteBase):
    """Add, get, update, upsert, delete, count, find and iterate, on all four repositories."""

    @each_kind
    def test_add_then_get_gives_the_record_back(self, store: Store, kind: str) -> None:
        """An added record is stored as given, and add returns what get returns."""
        repo = repository(store, kind)
        record = sample(store, kind, "r1")
        added = repo.add(record)
        assert_same(added, record)
        assert_same(repo.get("r1"), added)

    @each_kind
    def test_add_stores_version_1_whatever_the_record_says(self, store: Store, kind: str) -> None:
        """A new record starts at version 1, even when the copy added carries another."""
        repo = repository(store, kind)
        added = repo.add(attrs.evolve(sample(store, kind, "r1"), version=7))
        assert added.version == 1
        assert repo.get("r1").version == 1

    @each_kind
    def test_update_increments_the_version(self, store: Store, kind: str) -> None:
        """Each update stores the next version and returns the record as stored."""
        repo = repository(store, kind)
        v1 = repo.add(sample(store, kind, "r1"))
        v2 = repo.update(changed(v1, "second"))
        v3 = repo.update(changed(v2, "third"))
        assert (v1.version, v2.version, v3.version) == (1, 2, 3)
        assert_same(repo.get("r1"), v3)
        assert v3 == attrs.evolve(changed(v1, "third"), version=3, **_bookkeeping(v3))

    def test_update_of_a_customer_sets_updated_at(self, store: Store) -> None:
        """A customer update stamps updated_at with the time of the update, not created_at."""
        v1 = store.customers.add(customer("c1", name="A"))
        before = now()
        v2 = store.customers.update(changed(v1))
        assert v2.created_at == v1.created_at
        assert v2.updated_at >= before - timedelta(seconds=1)
        assert store.customers.get("c1").updated_at == v2.updated_at

    @each_kind
    def test_update_with_a_stale_version_conflicts_and_changes_nothing(
        self, store: Store, kind: str
    ) -> None:
        """An update carrying an old version raises ConflictError and leaves the store as it was."""
        repo = repository(store, kind)
        v1 = repo.add(sample(store, kind, "r1"))
        v2 = repo.update(changed(v1, "winner"))
        with pytest.raises(ConflictError) as caught:
            repo.update(changed(v1, "loser"))
        error = caught.value
        assert (error.record_type, error.record_id) == (kind, "r1")
        assert (error.expected, error.actual) == (1, 2)
        assert_same(repo.get("r1"), v2)
        assert [entry.action for entry in store.audit("r1", kind)] == ["add", "update"]

    @each_kind
    def test_update_of_a_missing_record_raises_not_found(self, store: Store, kind: str) -> None:
        """Updating a record the store does not hold raises NotFoundError and adds nothing."""
        repo = repository(store, kind)
        with pytest.raises(NotFoundError) as caught:
            repo.update(sample(store, kind, "ghost"))
        assert (caught.value.record_type, caught.value.record_id) == (kind, "ghost")
        assert not repo.exists("ghost")

    @each_kind
    def test_upsert_adds_a_new_record_at_version_1(self, store: Store, kind: str) -> None:
        """Upserting an unknown id adds the record as version 1."""
        repo = repository(store, kind)
        stored = repo.upsert(attrs.evolve(sample(store, kind, "r1"), version=5))
        assert stored.version == 1
        assert_same(repo.get("r1"), stored)

    @each_kind
    def test_upsert_replaces_whatever_the_version(self, store: Store, kind: str) -> None:
        """Upserting a known id replaces the stored record, even from a stale copy."""
        repo = repository(store, kind)
        v1 = repo.add(sample(store, kind, "r1"))
        repo.update(changed(v1, "second"))
        stored = repo.upsert(changed(v1, "incoming"))
        assert stored.version == 3
        assert stored == attrs.evolve(changed(v1, "incoming"), version=3, **_bookkeeping(stored))
        assert_same(repo.get("r1"), stored)

    @each_kind
    def test_add_with_a_taken_id_raises_duplicate_id(self, store: Store, kind: str) -> None:
        """Adding a record whose id exists raises DuplicateIdError and keeps the original."""
        repo = repository(store, kind)
        original = repo.add(sample(store, kind, "r1"))
        with pytest.raises(DuplicateIdError) as caught:
            repo.add(changed(original, "impostor"))
        assert (caught.value.record_type, caught.value.record_id) == (kind, "r1")
        assert_same(repo.get("r1"), original)
        assert [entry.action for entry in store.audit("r1", kind)] == ["add"]

    @each_kind
    def test_get_of_a_missing_id_raises_not_found(self, store: Store, kind: str) -> None:
        """A get of a missing id raises NotFoundError naming the record type and the id."""
        with pytest.raises(NotFoundError) as caught:
            repository(store, kind).get("nobody")
        assert (caught.value.record_type, caught.value.record_id) == (kind, "nobody")

    @each_kind
    def test_get_many_returns_the_existing_records_by_id(self, store: Store, kind: str) -> None:
        """get_many maps each existing id to its record and leaves missing ids out."""
        repo = repository(store, kind)
        a = repo.add(sample(store, kind, "a"))
        b = repo.add(sample(store, kind, "b"))
        found = repo.get_many(["b", "missing", "a", "a"])
        assert found == {"a": a, "b": b}
        assert repo.get_many([]) == {}
        assert repo.get_many(iter(["missing"])) == {}

    @each_kind
    def test_exists(self, store: Store, kind: str) -> None:
        """An id exists once added and no longer once deleted; others never do."""
        repo = repository(store, kind)
        repo.add(sample(store, kind, "r1"))
        assert repo.exists("r1")
        assert not repo.exists("r2")
        repo.delete("r1")
        assert not repo.exists("r1")

    @each_kind
    def test_delete_removes_the_record(self, store: Store, kind: str) -> None:
        """A deleted record is gone: get raises NotFoundError, count and iteration skip it."""
        repo = repository(store, kind)
        repo.add(sample(store, kind, "r1"))
        repo.add(sample(store, kind, "r2"))
        repo.delete("r1")
        with pytest.raises(NotFoundError):
            repo.get("r1")
        assert ids(repo) == ["r2"]
        assert repo.count() == 1

    @each_kind
    def test_delete_of_a_missing_id_raises_not_found(self, store: Store, kind: str) -> None:
        """Deleting an id the store does not hold raises NotFoundError."""
        with pytest.raises(NotFoundError):
            repository(store, kind).delete("nobody")

    @each_kind
    def test_delete_with_expected_version(self, store: Store, kind: str) -> None:
        """A delete with a stale expected_version raises ConflictError and keeps the record."""
        repo = repository(store, kind)
        v1 = repo.add(sample(store, kind, "r1"))
        v2 = repo.update(changed(v1))
        with pytest.raises(ConflictError) as caught:
            repo.delete("r1", expected_version=1)
        assert (caught.value.expected, caught.value.actual) == (1, 2)
        assert_same(repo.get("r1"), v2)
        repo.delete("r1", expected_version=2)
        assert not repo.exists("r1")

    @each_kind
    def test_count_and_len(self, store: Store, kind: str) -> None:
        """count() counts every record, count(where) the matches; len() equals count()."""
        repo = repository(store, kind)
        assert repo.count() == 0
        for ident in ("a", "b", "c"):
            repo.add(sample(store, kind, ident))
        assert repo.count() == 3
        assert len(repo) == 3
        assert repo.count(F("id").is_in(["a", "c", "zzz"])) == 2
        assert repo.count(F("id") == "zzz") == 0

    @each_kind
    def test_find_without_a_query_returns_every_record_in_id_order(
        self, store: Store, kind: str
    ) -> None:
        """find() and find(None) return all records, ordered by id, on one page."""
        repo = repository(store, kind)
        for ident in ("b", "c", "a"):
            repo.add(sample(store, kind, ident))
        for page in (repo.find(), repo.find(None), repo.find(Query())):
            assert ids(page) == ["a", "b", "c"]
            assert page.next_cursor is None
        assert ids(repo.find(F("id") == "b")) == ["b"]

    @each_kind
    def test_iteration_yields_every_record_in_id_order(self, store: Store, kind: str) -> None:
        """Iterating a repository yields each record once, by id in code-point order."""
        repo = repository(store, kind)
        made = ["010", "002", "1", "01", "A-17", "a-17", "客户001", "Ａ", "x y"]
        for ident in made:
            repo.add(sample(store, kind, ident))
        assert ids(repo) == sorted(made)

    @each_kind
    def test_ids_are_kept_exactly(self, store: Store, kind: str) -> None:
        """Ids differing only by leading zeros, case or width are different records."""
        repo = repository(store, kind)
        for ident in ("001", "1", "01", "abc", "ABC", "ＡＢＣ"):
            repo.add(changed(sample(store, kind, ident), f"record {ident}"))
        for ident in ("001", "1", "01", "abc", "ABC", "ＡＢＣ"):
            assert _text_of(repo.get(ident)) == f"record {ident}"

    @each_kind
    def test_a_repository_refuses_records_of_another_type(self, store: Store, kind: str) -> None:
        """Writing a record of the wrong type raises ValidationError and stores nothing."""
        other = "interaction" if kind == "customer" else "customer"
        wrong = sample(store, other, "r1")
        repo = repository(store, kind)
        for write in (repo.add, repo.update, repo.upsert):
            with pytest.raises(ValidationError):
                write(wrong)
        with pytest.raises(ValidationError):
            repo.add_many([wrong])
        assert not repo.exists("r1")


def _bookkeeping(stored: Any) -> dict[str, Any]:
    """The fields a store sets on a write itself (a customer's updated_at)."""
    return {"updated_at": stored.updated_at} if isinstance(stored, Customer) else {}


def _text_of(record: Any) -> Any:
    return getattr(record, _CHANGEABLE[type(record)])


# --- Contact lookups -----------------------------------------------------------------------------

PHONE_WRITINGS = (
    "138 1234 5678",
    "+86-13812345678",
    "８６１３８１２３４５６７８",
    "0086 138 1234 5678",
    "13812345678",
    "(+86) 138-1234-5678",
)


class LookupTests(SuiteBase):
    """Customers found by phone (in any writing), email, messaging handle and external id."""

    @pytest.mark.parametrize("typed", PHONE_WRITINGS)
    def test_phone_lookup_in_any_writing(self, store: Store, typed: str) -> None:
        """A customer stored with 13812345678 is found by the number written any usual way."""
        store.customers.add(customer("p1", phones=[Phone("13812345678", region="CN")]))
        store.customers.add(customer("p2", phones=[Phone("13900001111", region="CN")]))
        assert ids(store.customers.find_by_phone(typed)) == ["p1"]

    @pytest.mark.parametrize("stored", PHONE_WRITINGS)
    def test_phone_lookup_whatever_the_stored_writing(self, store: Store, stored: str) -> None:
        """A number stored in any writing is found by its plain digits."""
        store.customers.add(customer("p1", phones=[Phone(stored, region="CN")]))
        assert ids(store.customers.find_by_phone("13812345678")) == ["p1"]

    def test_phone_lookup_finds_every_customer_sharing_a_number(self, store: Store) -> None:
        """Customers sharing a number (a family, a switchboard) are all found, in id order."""
        shared = Phone("010-6552 9988", region="CN")
        store.customers.add(customer("b", phones=[shared]))
        store.customers.add(customer("a", phones=[Phone("13812345678", region="CN"), shared]))
        assert ids(store.customers.find_by_phone("+86 10 6552 9988")) == ["a", "b"]
        assert ids(store.customers.find_by_phone("13812345678")) == ["a"]

    def test_phone_lookup_of_unreadable_text_finds_nobody(self, store: Store) -> None:
        """Text that holds no phone number finds nobody rather than failing."""
        store.customers.add(customer("p1", phones=[Phone("13812345678", region="CN")]))
        assert store.customers.find_by_phone("call after 6pm") == []
        assert store.customers.find_by_phone("") == []
        assert store.customers.find_by_phone("13900001111") == []

    @pytest.mark.parametrize(
        "typed",
        [
            "zhang.san@qq.com",
            "ZHANG.SAN@QQ.COM",
            " Zhang.San@qq.com ",
            "ｚｈａｎｇ.ｓａｎ@ｑｑ.ｃｏｍ",
        ],
    )
    def test_email_lookup_ignores_case(self, store: Store, typed: str) -> None:
        """An email address is found whatever its case, width or surrounding spaces."""
        store.customers.add(customer("e1", emails=[Email("Zhang.San@QQ.com")]))
        store.customers.add(customer("e2", emails=[Email("li.si@qq.com")]))
        assert ids(store.customers.find_by_email(typed)) == ["e1"]
        assert store.customers.find_by_email("zhang.san@163.com") == []

    def test_handle_lookup(self, store: Store) -> None:
        """A handle is found on its network (named or aliased), ignoring the handle's case."""
        store.customers.add(customer("h1", handles=[Handle("wechat", "Zhang_San88")]))
        assert ids(store.customers.find_by_handle("wechat", "zhang_san88")) == ["h1"]
        assert ids(store.customers.find_by_handle("微信", "ZHANG_SAN88")) == ["h1"]
        assert store.customers.find_by_handle("qq", "zhang_san88") == []
        assert store.customers.find_by_handle("wechat", "zhang_san") == []

    def test_external_id_lookup(self, store: Store) -> None:
        """A customer is found by its id in another system, and only in that system."""
        store.customers.add(customer("x1", external_ids={"erp": "E-001", "有赞": "YZ-9"}))
        assert ids(store.customers.find_by_external_id("erp", "E-001")) == ["x1"]
        assert ids(store.customers.find_by_external_id("有赞", "YZ-9")) == ["x1"]
        assert store.customers.find_by_external_id("crm", "E-001") == []
        assert store.customers.find_by_external_id("erp", "E-002") == []

    def test_lookups_follow_updates(self, store: Store) -> None:
        """After an update the old contact points find nobody and the new ones find the customer."""
        v1 = store.customers.add(
            customer(
                "u1",
                phones=[Phone("13812345678", region="CN")],
                emails=[Email("old@qq.com")],
                handles=[Handle("qq", "10001")],
                external_ids={"erp": "E-1"},
            )
        )
        v2 = store.customers.update(
            attrs.evolve(
                v1,
                name="renamed",
                phones=[Phone("13900001111", region="CN")],
                emails=[Email("new@qq.com")],
                handles=[Handle("qq", "10002")],
                external_ids={"erp": "E-2"},
            )
        )
        customers = store.customers
        assert customers.find_by_phone("13812345678") == []
        assert customers.find_by_email("old@qq.com") == []
        assert customers.find_by_handle("qq", "10001") == []
        assert customers.find_by_external_id("erp", "E-1") == []
        for found in (
            customers.find_by_phone("139 0000 1111"),
            customers.find_by_email("NEW@qq.com"),
            customers.find_by_handle("qq", "10002"),
            customers.find_by_external_id("erp", "E-2"),
        ):
            assert found == [v2]

    def test_lookups_follow_deletes(self, store: Store) -> None:
        """A deleted customer is found by none of its contact points."""
        store.customers.add(
            customer("d1", phones=[Phone("13812345678", region="CN")], emails=[Email("d@qq.com")])
        )
        store.customers.add(customer("d2", phones=[Phone("13812345678", region="CN")]))
        store.customers.delete("d1")
        assert ids(store.customers.find_by_phone("13812345678")) == ["d2"]
        assert store.customers.find_by_email("d@qq.com") == []

    def test_a_customer_is_found_by_each_of_its_contact_points(self, store: Store) -> None:
        """Every phone and email of a customer finds it, not only the primary one."""
        store.customers.add(
            customer(
                "m1",
                phones=[Phone("13812345678", region="CN"), Phone("+44 20 7946 0018", primary=True)],
                emails=[Email("a@qq.com"), Email("b@163.com", primary=True)],
            )
        )
        assert ids(store.customers.find_by_phone("13812345678")) == ["m1"]
        assert ids(store.customers.find_by_phone("+442079460018")) == ["m1"]
        assert ids(store.customers.find_by_email("a@qq.com")) == ["m1"]
        assert ids(store.customers.find_by_email("B@163.COM")) == ["m1"]


# --- Queries -------------------------------------------------------------------------------------


def query_customers() -> list[Customer]:
    """Five customers whose fields exercise equality, text search, ranges and ordering.

    c01 and c05 were created at the same instant written in different offsets; c02 was
    created at 20:00 on 31 December in New York, which is *after* c03's 00:30 UTC.
    """
    return [
        customer(
            "c01",
            name="张伟",
            company="ABC公司",
            gender="male",
            birth_date=date(1980, 5, 1),
            created_at=datetime(2024, 1, 1, 8, 0, tzinfo=CST),
            tags={"VIP"},
            custom={"level": "gold", "points": 120},
            notes="VIP客户，对花生过敏",
            source="门店",
            external_ids={"erp": "E-1"},
        ),
        customer(
            "c02",
            name="Anna Müller",
            company="Müller & Söhne GmbH",
            gender="female",
            birth_date=date(1992, 2, 29),
            created_at=datetime(2023, 12, 31, 20, 0, tzinfo=EST),
            tags={"VIP", "wholesale"},
            custom={"level": "silver", "points": 80},
            notes="Prefers e-mail; 50% discount agreed",
            source="website",
        ),
        customer(
            "c03",
            name="anna smith",
            company="Acme Ltd.",
            created_at=datetime(2024, 1, 1, 0, 30, tzinfo=UTC),
            tags={"老客户"},
            custom={"level": 3},
            notes="500 units to the axb warehouse",
        ),
        customer(
            "c04",
            kind="organisation",
            created_at=datetime(2024, 1, 2, tzinfo=UTC),
        ),
        customer(
            "c05",
            name="张伟",
            company="acme trading",
            birth_date=date(1975, 1, 1),
            created_at=datetime(2024, 1, 1, 9, 0, tzinfo=timezone(timedelta(hours=9))),
            custom={"level": "gold", "points": 95},
            notes="a_b c",
        ),
    ]


def query_transactions() -> list[Transaction]:
    """Six transactions of one customer (``T-OWNER``) in CNY, USD and JPY."""
    return [
        transaction("t1", "T-OWNER", "100.00", at=datetime(2024, 3, 1, 10, tzinfo=CST)),
        transaction("t2", "T-OWNER", "99.99", at=datetime(2024, 3, 1, 1, 59, tzinfo=UTC)),
        transaction("t3", "T-OWNER", "500.00", "USD", at=datetime(2024, 3, 2, tzinfo=UTC)),
        transaction("t4", "T-OWNER", "1000.00", at=datetime(2024, 2, 28, tzinfo=UTC)),
        transaction("t5", "T-OWNER", "100", "JPY", at=datetime(2024, 3, 5, tzinfo=UTC)),
        transaction("t6", "T-OWNER", "-5.00", at=datetime(2024, 3, 1, 2, 1, tzinfo=UTC)),
    ]


class QueryTests(SuiteBase):
    """find, count and iter_batches with conditions, orders, limits and cursors."""

    @pytest.fixture
    def people(self, store: Store) -> Store:
        """The store holding :func:`query_customers`."""
        store.customers.add_many(query_customers())
        return store

    @pytest.fixture
    def sales(self, store: Store) -> Store:
        """The store holding :func:`query_transactions`."""
        store.customers.add(customer("T-OWNER"))
        store.transactions.add_many(query_transactions())
        return store

    def _finds(self, store: Store, where: Expr, expected: list[str]) -> None:
        assert ids(store.customers.find(where)) == expected
        assert store.customers.count(where) == len(expected)
        assert ids(store.customers.find(Query(where).order_by("-id"))) == expected[::-1]

    @pytest.mark.parametrize(
        ("where", "expected"),
        [
            (F("name") == "张伟", ["c01", "c05"]),
            (F("kind") == "organisation", ["c04"]),
            (F("kind") == "企业", ["c04"]),
            (F("gender") == "女", ["c02"]),
            (F("source") == "门店", ["c01"]),
            (F("id") == "c03", ["c03"]),
            (F("external_ids.erp") == "E-1", ["c01"]),
            (F("source").is_in(["门店", "website", "trade fair"]), ["c01", "c02"]),
            (F("name") == "张", []),
            (F("name") == "ANNA SMITH", []),
        ],
    )
    def test_equality_on_fields(self, people: Store, where: Expr, expected: list[str]) -> None:
        """Equality compares whole values exactly; choice fields read their aliases."""
        self._finds(people, where, expected)

    def test_tags(self, people: Store) -> None:
        """has_tag finds the customers carrying a tag; its negation the others."""
        self._finds(people, has_tag("VIP"), ["c01", "c02"])
        self._finds(people, has_tag("老客户") | has_tag("wholesale"), ["c02", "c03"])
        self._finds(people, ~has_tag("VIP"), ["c03", "c04", "c05"])
        self._finds(people, has_tag("vip"), [])

    @pytest.mark.parametrize(
        ("where", "expected"),
        [
            (F("custom.level") == "gold", ["c01", "c05"]),
            (F("custom.points") > 90, ["c01", "c05"]),
            (F("custom.points") <= 95.0, ["c02", "c05"]),
            (F("custom.level") > 2, ["c03"]),
            (F("custom.level") == 3.0, ["c03"]),
            (F("custom.level").is_in(["gold", 3]), ["c01", "c03", "c05"]),
            (F("custom.points").is_null(), ["c03", "c04"]),
            (F("custom.level") != "gold", ["c02"]),
            (F("custom.nothing") == 1, []),
        ],
    )
    def test_custom_fields(self, people: Store, where: Expr, expected: list[str]) -> None:
        """Custom fields compare by kind: numbers with numbers, text with text, else unknown."""
        self._finds(people, where, expected)

    @pytest.mark.parametrize(
        ("where", "expected"),
        [
            (F("name").contains("ANNA"), ["c02", "c03"]),
            (F("name").contains("müller"), ["c02"]),
            (F("company").contains("MÜLLER"), ["c02"]),
            (F("company").contains("acme"), ["c03", "c05"]),
            (F("company").contains("公司"), ["c01"]),
            (F("notes").contains("vip"), ["c01"]),
            (F("notes").contains("50%"), ["c02"]),
            (F("notes").contains("a_b"), ["c05"]),
            (F("notes").contains(""), ["c01", "c02", "c03", "c05"]),
            (~F("notes").contains("vip"), ["c02", "c03", "c05"]),
        ],
    )
    def test_contains_ignores_case(self, people: Store, where: Expr, expected: list[str]) -> None:
        """Contains matches part of the text ignoring case; % and _ are ordinary characters."""
        self._finds(people, where, expected)

    @pytest.mark.parametrize(
        ("where", "expected"),
        [
            (F("created_at") < datetime(2024, 1, 1, 0, 45, tzinfo=UTC), ["c01", "c03", "c05"]),
            (F("created_at") == datetime(2024, 1, 1, tzinfo=UTC), ["c01", "c05"]),
            (F("created_at") > datetime(2024, 1, 1, 8, 30, tzinfo=CST), ["c02", "c04"]),
            (
                F("created_at").between(
                    datetime(2024, 1, 1, 8, 0, tzinfo=CST), datetime(2024, 1, 1, 1, tzinfo=UTC)
                ),
                ["c01", "c02", "c03", "c05"],
            ),
            (F("birth_date") < date(1990, 1, 1), ["c01", "c05"]),
            (F("birth_date") >= date(1992, 2, 29), ["c02"]),
            (F("birth_date").between(date(1975, 1, 1), date(1980, 5, 1)), ["c01", "c05"]),
            (F("birth_date").is_null(), ["c03", "c04"]),
        ],
    )
    def test_date_ranges(self, people: Store, where: Expr, expected: list[str]) -> None:
        """Datetimes compare as instants whatever their offsets; dates as days; bounds inclusive."""
        self._finds(people, where, expected)

    @pytest.mark.parametrize(
        ("where", "expected"),
        [
            (F("total") >= Money("100", "CNY"), ["t1", "t4"]),
            (F("total") < Money("100", "CNY"), ["t2", "t6"]),
            (~(F("total") >= Money("100", "CNY")), ["t2", "t6"]),
            (F("total").between(Money("0", "CNY"), Money("100", "CNY")), ["t1", "t2"]),
            (F("total") > Money("100", "USD"), ["t3"]),
            (F("total") == Money("100", "JPY"), ["t5"]),
            (F("total") != Money("100", "CNY"), ["t2", "t4", "t6"]),
            (F("currency") == "USD", ["t3"]),
            (F("at") >= datetime(2024, 3, 1, 10, 0, tzinfo=CST), ["t1", "t3", "t5", "t6"]),
            (F("at") < datetime(2024, 3, 1, tzinfo=UTC), ["t4"]),
        ],
    )
    def test_amount_and_time_ranges_on_transactions(
        self, sales: Store, where: Expr, expected: list[str]
    ) -> None:
        """Money compares within its currency only; other currencies are unknown, never matched."""
        assert ids(sales.transactions.find(where)) == expected
        assert sales.transactions.count(where) == len(expected)

    def test_history_fields(self, store: Store) -> None:
        """Interactions and feedback are queried by their own fields, aliases included."""
        store.customers.add(customer("h"))
        store.interactions.add_many(
            [
                interaction("i1", "h", channel="wechat", next_follow_up=date(2024, 2, 1)),
                interaction("i2", "h", channel="email", outcome="resolved"),
                interaction("i3", "h", channel="微信", at=T0 + timedelta(days=1)),
            ]
        )
        store.feedback.add_many(
            [feedback("f1", "h", rating=5, nps=10), feedback("f2", "h", rating=2, nps=3)]
        )
        assert ids(store.interactions.find(F("channel") == "微信")) == ["i1", "i3"]
        assert ids(store.interactions.find(F("outcome") == "已解决")) == ["i2"]
        assert ids(store.interactions.find(F("next_follow_up") <= date(2024, 2, 1))) == ["i1"]
        assert ids(store.interactions.find(F("at") > T0)) == ["i3"]
        assert ids(store.feedback.find(F("rating") >= 4.0)) == ["f1"]
        assert ids(store.feedback.find(F("nps") < 7)) == ["f2"]
        assert ids(store.feedback.find(F("customer_id") == "h")) == ["f1", "f2"]

    @pytest.mark.parametrize(
        ("where", "expected"),
        [
            (Not(F("name") == "张伟"), ["c02", "c03"]),
            (F("name") != "张伟", ["c02", "c03"]),
            (F("company").is_null(), ["c04"]),
            (F("company").not_null(), ["c01", "c02", "c03", "c05"]),
            (Or((F("name") == "张伟", F("birth_date") > date(2000, 1, 1))), ["c01", "c05"]),
            (Or((F("name") == "张伟", F("kind") == "organisation")), ["c01", "c04", "c05"]),
            (Not(Or((F("name") == "张伟", F("birth_date") > date(2000, 1, 1)))), ["c02"]),
            (And((has_tag("VIP"), F("custom.points") > 100)), ["c01"]),
            (Not(And((F("name") == "x", F("company") == "y"))), ["c01", "c02", "c03", "c05"]),
            (And(()), ["c01", "c02", "c03", "c04", "c05"]),
            (Or(()), []),
            (F("name") == F("name"), ["c01", "c02", "c03", "c05"]),
        ],
    )
    def test_three_valued_logic(self, people: Store, where: Expr, expected: list[str]) -> None:
        """A condition on a missing value is unknown: neither it nor its negation matches."""
        self._finds(people, where, expected)

    @pytest.mark.parametrize(
        ("order", "expected"),
        [
            (("name",), ["c04", "c02", "c03", "c01", "c05"]),
            (("-name",), ["c01", "c05", "c03", "c02", "c04"]),
            (("created_at",), ["c01", "c05", "c03", "c02", "c04"]),
            (("-created_at",), ["c04", "c02", "c03", "c01", "c05"]),
            (("birth_date",), ["c03", "c04", "c05", "c01", "c02"]),
            (("-birth_date",), ["c02", "c01", "c05", "c03", "c04"]),
            (("custom.level", "-created_at"), ["c04", "c03", "c01", "c05", "c02"]),
            (("-custom.points",), ["c01", "c05", "c02", "c03", "c04"]),
            (("name", "-id"), ["c04", "c02", "c03", "c05", "c01"]),
            ((Order("kind", descending=True), "name"), ["c02", "c03", "c01", "c05", "c04"]),
        ],
    )
    def test_ordering(self, people: Store, order: tuple[Any, ...], expected: list[str]) -> None:
        """Records sort by each field (missing first, descending reverses), ties by id ascending."""
        assert ids(people.customers.find(Query().order_by(*order))) == expected

    def test_ordering_by_amount(self, sales: Store) -> None:
        """Money orders by currency, then amount; descending reverses both."""
        assert ids(sales.transactions.find(Query().order_by("total"))) == [
            "t6",
            "t2",
            "t1",
            "t4",
            "t5",
            "t3",
        ]
        assert ids(sales.transactions.find(Query().order_by("-total"))) == [
            "t3",
            "t5",
            "t4",
            "t1",
            "t2",
            "t6",
        ]
        assert ids(sales.transactions.find(Query().order_by("at"))) == [
            "t4",
            "t2",
            "t1",
            "t6",
            "t3",
            "t5",
        ]

    def test_limit_and_cursor_walk_every_page(self, store: Store) -> None:
        """Following next_cursor visits every match once, in order, page by page, then stops."""
        names = ["li", "wang", "zhang"]
        made = [
            customer(
                f"{n:02d}",
                name=names[n % 3] if n % 7 else None,
                created_at=T0 + timedelta(minutes=n // 4),
                custom={"points": n % 5},
            )
            for n in range(23)
        ]
        store.customers.add_many(made)
        for order in (("name",), ("-name",), ("created_at",), ("-custom.points", "name"), ()):
            query = Query(F("id") != "05").order_by(*order)
            expected = ids(store.customers.find(query))
            assert len(expected) == 22
            for size in (1, 5, 11, 22, 100):
                pages = walk(store.customers, query.limit(size))
                assert [record for page in pages for record in page] == expected
                assert [len(page) for page in pages[:-1]] == [size] * (len(pages) - 1)
                assert 1 <= len(pages[-1]) <= size

    def test_the_last_full_page_has_no_cursor(self, people: Store) -> None:
        """When the matches fill the last page exactly, it says so: next_cursor is None."""
        first = people.customers.find(Query().order_by("name").limit(3))
        second = people.customers.find(Query().order_by("name").limit(2).after(first.next_cursor))
        assert len(first) == 3
        assert ids(second) == ["c01", "c05"]
        assert second.next_cursor is None
        assert people.customers.find(Query().limit(5)).next_cursor is None

    def test_cursor_pagination_while_records_are_added_and_removed(self, store: Store) -> None:
        """Records present throughout a paged walk appear once, whatever changes meanwhile."""
        originals = [customer(f"o{n:02d}", name=f"n{n:02d}") for n in range(0, 24, 2)]
        store.customers.add_many(originals)
        query = Query().order_by("name").limit(4)
        seen: list[str] = []
        cursor: str | None = None
        added_behind: list[str] = []
        added_ahead: list[str] = []
        for step in range(20):
            page = store.customers.find(query.after(cursor))
            seen.extend(ids(page))
            cursor = page.next_cursor
            if cursor is None:
                break
            last = page.items[-1].name
            assert last is not None
            position = int(last[1:])
            # One new record sorts before the cursor, one after it; the page's last record goes.
            behind = store.customers.add(customer(f"b{step:02d}", name=f"n{position - 1:02d}x"))
            ahead = store.customers.add(customer(f"a{step:02d}", name=f"n{position + 1:02d}"))
            added_behind.append(behind.id)
            added_ahead.append(ahead.id)
            store.customers.delete(page.items[-1].id)
        else:
            pytest.fail("the paged walk did not end")
        assert len(seen) == len(set(seen)), "a record appeared twice"
        assert set(ids(originals)) <= set(seen)
        assert not set(added_behind) & set(seen)
        assert set(added_ahead) <= set(seen)

    def test_a_cursor_from_a_query_with_another_order_is_refused(self, people: Store) -> None:
        """A cursor only continues a query with the same order; others raise ValidationError."""
        cursor = people.customers.find(Query().order_by("name").limit(2)).next_cursor
        assert cursor is not None
        for order in (("-name",), ("created_at",), ("name", "created_at"), ()):
            with pytest.raises(ValidationError):
                people.customers.find(Query().order_by(*order).limit(2).after(cursor))
        other = people.customers.find(Query(F("name").not_null()).order_by("name").after(cursor))
        assert ids(other) == ["c03", "c01", "c05"]

    @pytest.mark.parametrize("cursor", ["", "not a cursor", "eyJ4IjoxfQ", "!!!!", "6K+3"])
    def test_a_damaged_cursor_is_refused(self, people: Store, cursor: str) -> None:
        """A cursor this library did not make raises ValidationError."""
        with pytest.raises(ValidationError):
            people.customers.find(Query().order_by("name").limit(2).after(cursor))

    def test_a_truncated_cursor_is_refused(self, people: Store) -> None:
        """A cursor cut short raises ValidationError."""
        cursor = people.customers.find(Query().order_by("name").limit(2)).next_cursor
        assert cursor is not None
        with pytest.raises(ValidationError):
            people.customers.find(Query().order_by("name").limit(2).after(cursor[:-6]))

    @pytest.mark.parametrize(
        "value", [["T", "2024-01-01T00:00:00"], ["D", "2024-01-01"], ["s", "x"], ["n"]]
    )
    def test_a_cursor_whose_values_do_not_fit_is_refused_or_placed(
        self, people: Store, value: list[Any]
    ) -> None:
        """A forged cursor with values of another kind raises ValidationError, or pages on."""
        raw = json.dumps({"o": [["created_at", False]], "v": [value], "id": "c01"})
        cursor = base64.urlsafe_b64encode(raw.encode()).decode()
        try:
            page = people.customers.find(Query().order_by("created_at").after(cursor))
        except ValidationError:
            return
        assert set(ids(page)) <= {"c01", "c02", "c03", "c04", "c05"}

    @pytest.mark.parametrize(
        "where",
        [
            F("nope") == 1,
            F("custom") == "x",
            F("custom.") == "x",
            F("birth_date") == "1980-05-01",
            F("created_at") > date(2024, 1, 1),
            F("name") == 3,
            F("version") == "1",
            F("tags") == "VIP",
            F("customer_id") == "x",
        ],
    )
    def test_a_bad_condition_is_refused(self, people: Store, where: Expr) -> None:
        """Unknown fields and constants of the wrong kind raise ValidationError everywhere."""
        with pytest.raises(ValidationError):
            people.customers.find(where)
        with pytest.raises(ValidationError):
            people.customers.count(where)
        with pytest.raises(ValidationError):
            list(people.customers.iter_batches(10, where=where))

    @pytest.mark.parametrize("order", ["nope", "tags", "custom", "-"])
    def test_a_bad_order_is_refused(self, people: Store, order: str) -> None:
        """Ordering by an unknown or unorderable field raises ValidationError."""
        with pytest.raises(ValidationError):
            people.customers.find(Query().order_by(order))

    def test_conditions_fit_their_record_type(self, store: Store) -> None:
        """Fields of one record type are refused on another; only customers carry tags."""
        with pytest.raises(ValidationError):
            store.interactions.find(has_tag("VIP"))
        with pytest.raises(ValidationError):
            store.transactions.find(F("name") == "x")
        with pytest.raises(ValidationError):
            store.transactions.find(F("total") > 100)
        with pytest.raises(ValidationError):
            store.feedback.find(F("rating") == "5")


# --- Unit of work --------------------------------------------------------------------------------


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


# --- History -------------------------------------------------------------------------------------


def _history_record(kind: str, ident: str, customer_id: str, at: datetime = T0) -> Any:
    if kind == "interaction":
        return interaction(ident, customer_id, at)
    if kind == "transaction":
        return transaction(ident, customer_id, at=at)
    return feedback(ident, customer_id, at)


class HistoryTests(SuiteBase):
    """Interactions, transactions and feedback always belong to a stored customer."""

    @each_history_kind
    def test_history_for_an_unknown_customer_is_refused(self, store: Store, kind: str) -> None:
        """Adding or upserting history whose customer_id names no customer raises IntegrityError."""
        repo = repository(store, kind)
        with pytest.raises(IntegrityError) as caught:
            repo.add(_history_record(kind, "h1", "nobody"))
        assert (caught.value.record_type, caught.value.record_id) == (kind, "h1")
        with pytest.raises(IntegrityError):
            repo.upsert(_history_record(kind, "h1", "nobody"))
        with pytest.raises(IntegrityError):
            repo.add_many([_history_record(kind, "h1", "nobody")])
        assert repo.count() == 0
        assert store.audit("h1") == []

    @each_history_kind
    def test_history_cannot_be_moved_to_an_unknown_customer(self, store: Store, kind: str) -> None:
        """Updating history to a customer_id that names no customer raises IntegrityError."""
        store.customers.add(customer("c1"))
        repo = repository(store, kind)
        stored = repo.add(_history_record(kind, "h1", "c1"))
        with pytest.raises(IntegrityError):
            repo.update(attrs.evolve(stored, customer_id="nobody"))
        with pytest.raises(IntegrityError):
            repo.upsert(attrs.evolve(stored, customer_id="nobody"))
        assert_same(repo.get("h1"), stored)

    def test_deleting_a_customer_with_history_is_refused(self, store: Store) -> None:
        """A customer with history is not deleted without cascade; nothing changes."""
        store.customers.add(customer("c1"))
        store.interactions.add(interaction("i1", "c1"))
        store.transactions.add(transaction("t1", "c1"))
        with pytest.raises(IntegrityError) as caught:
            store.customers.delete("c1")
        assert (caught.value.record_type, caught.value.record_id) == ("customer", "c1")
        assert store.customers.exists("c1")
        assert ids(store.history("c1")) == ["i1", "t1"]
        assert [entry.action for entry in store.audit("c1")] == ["add"]

    def test_a_customer_without_history_is_deleted(self, store: Store) -> None:
        """A customer whose history was deleted first can be deleted plainly."""
        store.customers.add(customer("c1"))
        store.feedback.add(feedback("f1", "c1"))
        store.feedback.delete("f1")
        store.customers.delete("c1")
        assert not store.customers.exists("c1")

    def test_cascade_deletes_the_history_too(self, store: Store) -> None:
        """cascade=True deletes the customer and all its history, and only its history."""
        for ident in ("c1", "c2"):
            store.customers.add(customer(ident))
            store.interactions.add(interaction(f"i-{ident}", ident))
            store.transactions.add(transaction(f"t-{ident}", ident))
            store.feedback.add(feedback(f"f-{ident}", ident))
        store.customers.delete("c1", cascade=True)
        assert ids(store.customers) == ["c2"]
        assert ids(store.interactions) == ["i-c2"]
        assert ids(store.transactions) == ["t-c2"]
        assert ids(store.feedback) == ["f-c2"]
        assert store.history("c1") == []
        for ident in ("i-c1", "t-c1", "f-c1", "c1"):
            assert [entry.action for entry in store.audit(ident)] == ["add", "delete"]
        self._no_orphans(store)

    def test_a_refused_cascade_deletes_nothing(self, store: Store) -> None:
        """A cascading delete with a stale expected_version deletes neither customer nor history."""
        v1 = store.customers.add(customer("c1"))
        store.customers.update(changed(v1))
        store.interactions.add(interaction("i1", "c1"))
        with pytest.raises(ConflictError):
            store.customers.delete("c1", expected_version=1, cascade=True)
        assert store.customers.exists("c1")
        assert ids(store.interactions) == ["i1"]
        store.customers.delete("c1", expected_version=2, cascade=True)
        assert store.customers.count() == store.interactions.count() == 0

    def test_history_comes_in_time_order_across_the_three_types(self, store: Store) -> None:
        """history() merges the three types by instant; at equal instants by type, then by id."""
        store.customers.add(customer("h"))
        store.customers.add(customer("other"))
        one = datetime(2024, 1, 1, 1, tzinfo=UTC)
        store.feedback.add(feedback("f-late", "h", datetime(2024, 1, 1, 11, tzinfo=CST)))
        store.interactions.add(interaction("i-9", "h", datetime(2024, 1, 1, 10, tzinfo=CST)))
        store.feedback.add(feedback("f-same", "h", datetime(2024, 1, 1, 9, tzinfo=CST)))
        store.transactions.add(transaction("t-same", "h", at=one))
        store.interactions.add(interaction("i-b", "h", one))
        store.interactions.add(interaction("i-a", "h", datetime(2023, 12, 31, 20, tzinfo=EST)))
        store.transactions.add(transaction("t-first", "h", at=datetime(2023, 6, 1, tzinfo=CST)))
        store.interactions.add(interaction("i-other", "other", one))
        assert ids(store.history("h")) == [
            "t-first",
            "i-a",
            "i-b",
            "t-same",
            "f-same",
            "i-9",
            "f-late",
        ]
        assert ids(store.interactions.for_customer("h")) == ["i-a", "i-b", "i-9"]
        assert ids(store.history("other")) == ["i-other"]
        assert store.history("nobody") == []

    @staticmethod
    def _no_orphans(store: Store) -> None:
        for kind in HISTORY_KINDS:
            for record in store.repository(kind):
                assert store.customers.exists(record.customer_id), f"orphan {record.id}"


# --- Audit ---------------------------------------------------------------------------------------


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


# --- Bulk ----------------------------------------------------------------------------------------


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


# --- Properties ----------------------------------------------------------------------------------
#
# Strategies are built once, here: Hypothesis validates each new strategy object, and building
# them inside tests (once per draw) would cost more than the stores being tested.

_MODEL_IDS = ("001", "01", "A-17", "客户001")
_MODEL_HISTORY_IDS = ("h1", "h2", "h3")
_TAGS = ("VIP", "老客户", "wholesale", "vip")

_model_customers = st.builds(
    Customer,
    id=st.just("placeholder"),
    name=st.one_of(st.none(), strategies.names()),
    phones=st.lists(strategies.phones(), max_size=2),
    emails=st.lists(strategies.emails(), max_size=2),
    handles=st.lists(strategies.handles(), max_size=1),
    external_ids=st.dictionaries(st.sampled_from(("erp", "有赞")), strategies.ids(), max_size=1),
    tags=st.frozensets(st.sampled_from(_TAGS), max_size=2),
    custom=strategies.custom_fields(),
    created_at=strategies.aware_datetimes(),
    updated_at=strategies.aware_datetimes(),
)
"""Customers with contact points and custom fields: lighter to draw than any customer."""

_history_records: dict[type[Any], st.SearchStrategy[Any]] = {
    Interaction: strategies.interactions("placeholder"),
    Transaction: strategies.transactions("placeholder"),
    Feedback: strategies.feedback("placeholder"),
}
"""History records of each type, for a customer id set after drawing."""

_WRITES = (
    "add_customer",
    "update_customer",
    "upsert_customer",
    "delete_customer",
    "add_customers",
    "add_history",
    "update_history",
    "delete_history",
    "failed_block",
)
_pick = {
    "write": st.sampled_from(_WRITES),
    "id": st.sampled_from(_MODEL_IDS),
    "ids": st.lists(st.sampled_from(_MODEL_IDS), min_size=1, max_size=5),
    "history id": st.sampled_from(_MODEL_HISTORY_IDS),
    "kind": st.sampled_from(HISTORY_KINDS),
    "flag": st.booleans(),
    "expected version": st.sampled_from(("none", "current", "stale")),
    "writes in the block": st.integers(1, 3),
}


class _WriteModel:
    """A plain-dict model of a store, and random writes applied to both.

    Each write states what the store must do (store it, or refuse with which error) from
    the model alone; :meth:`check` then compares the whole store with the model.
    """

    def __init__(self, store: Store, data: st.DataObject) -> None:
        self.store = store
        self.data = data
        self.customers: dict[str, Customer] = {}
        self.history: dict[tuple[type[Any], str], HistoryRecord] = {}

    def pick(self, what: str) -> Any:
        return self.data.draw(_pick[what], label=what)

    def customer(self, ident: str) -> Customer:
        made: Customer = attrs.evolve(self.data.draw(_model_customers, label=ident), id=ident)
        return made

    def step(self) -> None:
        getattr(self, self.pick("write"))()

    def add_customer(self) -> None:
        record = self.customer(self.pick("id"))
        if record.id in self.customers:
            with pytest.raises(DuplicateIdError):
                self.store.customers.add(record)
            return
        stored = self.store.customers.add(record)
        assert stored == attrs.evolve(record, version=1)
        self.customers[record.id] = stored

    def add_customers(self) -> None:
        records = [self.customer(ident) for ident in self.pick("ids")]
        refused = False
        for start in range(0, len(records), 2):
            batch = [record.id for record in records[start : start + 2]]
            if len(set(batch)) < len(batch) or set(batch) & set(self.customers):
                refused = True
                break
            for record in records[start : start + 2]:
                self.customers[record.id] = attrs.evolve(record, version=1)
        if refused:
            with pytest.raises(DuplicateIdError):
                self.store.customers.add_many(records, batch_size=2)
        else:
            assert self.store.customers.add_many(records, batch_size=2) == len(records)

    def update_customer(self) -> None:
        ident = self.pick("id")
        current = self.customers.get(ident)
        incoming = self.customer(ident)
        if current is None:
            with pytest.raises(NotFoundError):
                self.store.customers.update(incoming)
            return
        if self.pick("flag"):
            wrong = current.version - 1 if current.version > 1 else current.version + 1
            with pytest.raises(ConflictError):
                self.store.customers.update(attrs.evolve(incoming, version=wrong))
            return
        stored = self.store.customers.update(attrs.evolve(incoming, version=current.version))
        expected = attrs.evolve(incoming, version=current.version + 1)
        assert stored == attrs.evolve(expected, updated_at=stored.updated_at)
        self.customers[ident] = stored

    def upsert_customer(self) -> None:
        ident = self.pick("id")
        current = self.customers.get(ident)
        incoming = self.customer(ident)
        stored = self.store.customers.upsert(incoming)
        version = 1 if current is None else current.version + 1
        assert stored == attrs.evolve(incoming, version=version, updated_at=stored.updated_at)
        self.customers[ident] = stored

    def delete_customer(self) -> None:
        ident, cascade, how = self.pick("id"), self.pick("flag"), self.pick("expected version")
        current = self.customers.get(ident)
        delete = self.store.customers.delete
        if current is None:
            with pytest.raises(NotFoundError):
                delete(ident, cascade=cascade)
            return
        expected = {"none": None, "current": current.version, "stale": current.version + 1}[how]
        has_history = any(r.customer_id == ident for r in self.history.values())
        if how == "stale":
            with pytest.raises(ConflictError):
                delete(ident, expected_version=expected, cascade=cascade)
        elif has_history and not cascade:
            with pytest.raises(IntegrityError):
                delete(ident, expected_version=expected)
        else:
            delete(ident, expected_version=expected, cascade=cascade)
            del self.customers[ident]
            for key, record in list(self.history.items()):
                if record.customer_id == ident:
                    del self.history[key]

    def _history_write(self) -> tuple[type[Any], str, Any]:
        kind, ident, customer_id = self.pick("kind"), self.pick("history id"), self.pick("id")
        record = self.data.draw(_history_records[kind], label=f"{kind.__name__} {ident}")
        return kind, ident, attrs.evolve(record, id=ident, customer_id=customer_id)

    def add_history(self) -> None:
        kind, ident, record = self._history_write()
        repo = self.store.repository(kind)
        if record.customer_id not in self.customers:
            with pytest.raises(IntegrityError):
                repo.add(record)
        elif (kind, ident) in self.history:
            with pytest.raises(DuplicateIdError):
                repo.add(record)
        else:
            stored = repo.add(record)
            assert stored == attrs.evolve(record, version=1)
            self.history[kind, ident] = stored

    def update_history(self) -> None:
        kind, ident, record = self._history_write()
        repo = self.store.repository(kind)
        current = self.history.get((kind, ident))
        if current is None:
            with pytest.raises(NotFoundError):
                repo.update(record)
            return
        record = attrs.evolve(record, version=current.version)
        if record.customer_id not in self.customers:
            with pytest.raises(IntegrityError):
                repo.update(record)
            return
        stored = repo.update(record)
        assert stored == attrs.evolve(record, version=current.version + 1)
        self.history[kind, ident] = stored

    def delete_history(self) -> None:
        kind, ident = self.pick("kind"), self.pick("history id")
        repo = self.store.repository(kind)
        if (kind, ident) not in self.history:
            with pytest.raises(NotFoundError):
                repo.delete(ident)
            return
        repo.delete(ident)
        del self.history[kind, ident]

    def failed_block(self) -> None:
        customers, history = dict(self.customers), dict(self.history)
        with rolled_back(self.store):
            for _ in range(self.pick("writes in the block")):
                self.step()
        self.customers, self.history = customers, history

    def check(self) -> None:
        """The store holds exactly the model's records, and no history without its customer."""
        store = self.store
        assert {record.id: record for record in store.customers} == self.customers
        assert store.customers.count() == len(self.customers)
        for kind in HISTORY_KINDS:
            expected = {i: r for (k, i), r in self.history.items() if k is kind}
            got = {record.id: record for record in store.repository(kind)}
            assert got == expected
            assert all(record.customer_id in self.customers for record in got.values())

    def check_lookups(self) -> None:
        """Each contact point of the model's customers finds exactly the customers having it."""
        customers = self.store.customers
        holders: dict[str, set[str]] = {}
        for record in self.customers.values():
            for key in contact_keys(record):
                holders.setdefault(key, set()).add(record.id)

        def having(key: str) -> list[str]:
            return sorted(holders.get(key, ()))

        for record in self.customers.values():
            for phone in record.phones:
                e164 = normalize_phone(phone.raw, phone.region)
                found = customers.find_by_phone(phone.raw, phone.region)
                assert ids(found) == (having(f"phone:{e164}") if e164 else [])
            for email in record.emails:
                found = customers.find_by_email(email.address)
                assert ids(found) == having(f"email:{normalize_email(email.address)}")
            for handle in record.handles:
                network = str(handle.network)
                found = customers.find_by_handle(network, handle.handle)
                assert ids(found) == having(f"handle:{Handle(network, handle.handle).key}")
            for system, ident in record.external_ids.items():
                found = customers.find_by_external_id(system, ident)
                assert ids(found) == having(f"ext:{system}:{ident}")


# Customers for query properties: few distinct values per field, so that conditions match
# often and orders have ties; offsets vary, custom values mix kinds (lists of texts too).
_Q_IDS = ("001", "002", "010", "1", "A-17", "a-17", "客户001", "Ｃ-9", "z")
_Q_NOTES = ("VIP客户，对花生过敏", "50% discount", "500 units", "axb", "素食\t不吃辣", "Ünïcode")
_Q_INSTANTS = (
    datetime(2024, 1, 1, tzinfo=UTC),
    datetime(2024, 1, 1, 8, tzinfo=CST),
    datetime(2023, 12, 31, 19, tzinfo=EST),
    datetime(2024, 1, 1, 0, 30, tzinfo=UTC),
    datetime(2024, 1, 1, 8, 29, 59, 999_999, tzinfo=CST),
    datetime(2024, 6, 30, 23, 59, tzinfo=timezone(timedelta(hours=-12))),
)
_Q_VALUES: dict[str, tuple[Any, ...]] = {
    "id": _Q_IDS,
    "name": ("张伟", "Anna Müller", "anna smith", "ANNA", "O'Brien", "ＡＢＣ公司", "50% off"),
    "company": ("ABC公司", "acme ltd", "Acme Ltd.", "a_b", "Müller & Söhne GmbH"),
    "notes": _Q_NOTES,
    "kind": ("person", "organisation", "government", "企业"),
    "gender": ("female", "male", "保密", "女"),
    "source": ("门店", "website", "Website"),
    "birth_date": (date(1975, 1, 1), date(1980, 5, 1), date(1992, 2, 29), date(2000, 12, 31)),
    "created_at": _Q_INSTANTS,
    "custom.level": ("gold", "silver", "Gold", "", 1, 2, 2.5, -3, 0, True, False),
    "custom.points": (0, 1, 80, 95, 120, -1, 10**15, 95.0, 100.5),
    "external_ids.erp": ("E-1", "e-1", "E-3"),
    "version": (1, 2),
}
_q_value = {path: st.sampled_from(values) for path, values in _Q_VALUES.items()}
_ABSENT = object()


def _maybe(path: str) -> st.SearchStrategy[Any]:
    return st.one_of(st.none(), _q_value[path])


def _custom(level: Any, points: Any) -> dict[str, Any]:
    pairs = (("level", level), ("points", points))
    return {key: value for key, value in pairs if value is not _ABSENT}


_query_customers = st.lists(
    st.builds(
        customer,
        _q_value["id"],
        name=_maybe("name"),
        company=_maybe("company"),
        notes=_maybe("notes"),
        kind=st.sampled_from(("person", "organisation", "government")),
        gender=_maybe("gender"),
        source=_maybe("source"),
        birth_date=_maybe("birth_date"),
        created_at=_q_value["created_at"],
        tags=st.frozensets(st.sampled_from(_TAGS), max_size=3),
        custom=st.builds(
            _custom,
            st.sampled_from((_ABSENT, None, *_Q_VALUES["custom.level"], ("a", "b"), ("a",), ())),
            st.one_of(st.just(_ABSENT), _q_value["custom.points"]),
        ),
        external_ids=st.one_of(st.just({}), st.builds(dict, erp=_q_value["external_ids.erp"])),
    ),
    unique_by=lambda made: made.id,
)

_OPS: tuple[Callable[[F, Any], Expr], ...] = (
    lambda f, v: f == v,
    lambda f, v: f != v,
    lambda f, v: f < v,
    lambda f, v: f <= v,
    lambda f, v: f > v,
    lambda f, v: f >= v,
)
_NEEDLES = ("", "a", "ANNA", "公司", "%", "_", "50%", "a_b", "müller", "ünï", "ＡＢＣ", "vip")


def _conditions(
    values: dict[str, st.SearchStrategy[Any]], text_fields: Sequence[str]
) -> st.SearchStrategy[Expr]:
    """Random conditions over fields with the given constants, nested a few levels deep."""
    paths = st.sampled_from(sorted(values))
    options = {path: st.lists(strategy, max_size=3) for path, strategy in values.items()}
    ops = st.sampled_from(_OPS)

    @st.composite
    def compare(draw: st.DrawFn) -> Expr:
        path = draw(paths)
        op: Callable[[F, Any], Expr] = draw(ops)
        return op(F(path), draw(values[path]))

    @st.composite
    def member(draw: st.DrawFn) -> Expr:
        path = draw(paths)
        return F(path).is_in(draw(options[path]))

    @st.composite
    def between(draw: st.DrawFn) -> Expr:
        path = draw(paths)
        return F(path).between(draw(values[path]), draw(values[path]))

    @st.composite
    def null(draw: st.DrawFn) -> Expr:
        field = F(draw(paths))
        return field.is_null() if draw(st.booleans()) else field.not_null()

    atoms = [compare(), compare(), member(), between(), null()]
    if text_fields:
        atoms.append(
            st.builds(
                lambda path, needle: F(path).contains(needle),
                st.sampled_from(text_fields),
                st.sampled_from(_NEEDLES),
            )
        )
        atoms.append(st.sampled_from(_TAGS).map(has_tag))
    return st.recursive(
        st.one_of(atoms),
        lambda inner: st.one_of(
            st.lists(inner, max_size=3).map(lambda items: And(tuple(items))),
            st.lists(inner, max_size=3).map(lambda items: Or(tuple(items))),
            inner.map(Not),
        ),
        max_leaves=6,
    )


def _queries(
    where: st.SearchStrategy[Expr], order_fields: Sequence[str], max_size: int
) -> st.SearchStrategy[Query]:
    return st.builds(
        Query,
        where=st.one_of(st.none(), where),
        order=st.lists(
            st.builds(Order, st.sampled_from(order_fields), st.booleans()),
            max_size=3,
            unique_by=lambda order: order.path,
        ),
        size=st.one_of(st.none(), st.integers(1, max_size)),
    )


_customer_queries = _queries(
    _conditions(_q_value, ("name", "company", "notes", "source", "id")),
    (
        "id",
        "name",
        "company",
        "kind",
        "gender",
        "birth_date",
        "created_at",
        "custom.level",
        "custom.points",
        "external_ids.erp",
    ),
    4,
)

_AMOUNTS = tuple(
    Money.from_minor(minor, currency)
    for currency in ("CNY", "USD", "JPY")
    for minor in (-500, 0, 1, 9_999, 10_000, 10_001, 50_000)
)
_sale_value = {
    "total": st.sampled_from(_AMOUNTS),
    "at": st.sampled_from(_Q_INSTANTS),
    "currency": st.sampled_from(("CNY", "JPY", "EUR")),
    "status": st.sampled_from(("completed", "退款", "refunded")),
    "note": st.sampled_from(_Q_NOTES),
}


def _sale(ident: str, at: datetime, total: Money, status: str, note: str | None) -> Transaction:
    return Transaction("T-OWNER", at, total=total, id=ident, status=status, note=note)


_sales = st.lists(
    st.builds(
        _sale,
        st.sampled_from(_Q_IDS),
        _sale_value["at"],
        _sale_value["total"],
        st.sampled_from(("completed", "refunded", "pending")),
        st.one_of(st.none(), _sale_value["note"]),
    ),
    unique_by=lambda made: made.id,
)
_sale_queries = _queries(_conditions(_sale_value, ()), ("total", "at", "status", "note"), 3)


class PropertyTests(SuiteBase):
    """Hypothesis properties: round trips, a dict model of writes, queries against run_query."""

    @property_settings(max_examples=30)
    @given(record=strategies.customers())
    def test_any_customer_added_is_got_back_equal(self, store: Store, record: Customer) -> None:
        """Whatever a customer holds, get returns exactly what add stored."""
        wipe(store)
        added = store.customers.add(record)
        assert_same(added, attrs.evolve(record, version=1))
        assert_same(store.customers.get(record.id), added)
        assert_same(next(iter(store.customers)), added)
        assert_same(store.customers.find(F("id") == record.id).items[0], added)

    @property_settings(max_examples=30)
    @given(record=strategies.customers())
    def test_any_customer_projects_to_its_own_field_values(
        self, store: Store, record: Customer
    ) -> None:
        """A projection reads every field of any customer exactly as get returns it."""
        wipe(store)
        added = store.customers.get(store.customers.add(record).id)
        names = [field.name for field in attrs.fields(Customer)]
        [[row]] = list(store.customers.project(names))
        assert row[0] == added.id
        for name, value in zip(names, row[1:], strict=True):
            expected = getattr(added, name)
            assert (name, value) == (name, expected)
            if isinstance(expected, datetime):  # == does not compare UTC offsets
                assert value.utcoffset() == expected.utcoffset()

    @property_settings(max_examples=30)
    @given(
        owner=strategies.ids(),
        record=st.one_of(list(_history_records.values())),
    )
    def test_any_history_record_added_is_got_back_equal(
        self, store: Store, owner: str, record: Any
    ) -> None:
        """Whatever an interaction, transaction or feedback holds, get returns it unchanged."""
        wipe(store)
        store.customers.add(customer(owner))
        record = attrs.evolve(record, customer_id=owner)
        repo = store.repository(type(record))
        added = repo.add(record)
        assert_same(added, attrs.evolve(record, version=1))
        assert_same(repo.get(record.id), added)
        assert_same(store.history(owner)[0], added)

    @property_settings(max_examples=40)
    @given(data=st.data())
    def test_random_writes_agree_with_a_dict_model(self, store: Store, data: st.DataObject) -> None:
        """Any sequence of writes and failed blocks leaves the store agreeing with a dict model."""
        wipe(store)
        model = _WriteModel(store, data)
        for _ in range(data.draw(st.integers(1, 12), label="steps")):
            model.step()
            model.check()
        model.check_lookups()

    @property_settings(max_examples=60)
    @given(records=_query_customers, query=_customer_queries)
    def test_random_queries_agree_with_run_query(
        self, store: Store, records: list[Customer], query: Query
    ) -> None:
        """Any customer query, page by page, gives what run_query gives over the same records."""
        wipe(store)
        store.customers.add_many(records)
        expected = reference_pages(records, Customer, query)
        assert walk(store.customers, query, limit=len(records) + 2) == expected
        matching = [ident for page in expected for ident in page]
        assert store.customers.count(query.where) == len(matching)
        batches = store.customers.iter_batches(3, where=query.where)
        assert [r.id for batch in batches for r in batch] == sorted(matching)

    @property_settings(max_examples=40)
    @given(sales=_sales, query=_sale_queries)
    def test_random_transaction_queries_agree_with_run_query(
        self, store: Store, sales: list[Transaction], query: Query
    ) -> None:
        """Any transaction query over amounts in several currencies agrees with run_query."""
        wipe(store)
        store.customers.add(customer("T-OWNER"))
        store.transactions.add_many(sales)
        expected = reference_pages(sales, Transaction, query)
        assert walk(store.transactions, query, limit=len(sales) + 2) == expected
        assert store.transactions.count(query.where) == sum(map(len, expected))


# --- The suite -----------------------------------------------------------------------------------


class StoreSuite(
    CrudTests,
    LookupTests,
    QueryTests,
    UnitOfWorkTests,
    HistoryTests,
    AuditTests,
    BulkTests,
    PropertyTests,
):
    """Every conformance test. Subclass it as ``Test<YourStore>`` and supply ``store``.

    Supply ``reopen`` too when your backend can open a second handle on the same data.
    """
