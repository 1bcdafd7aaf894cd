"""The store suite's property group: a dict model of random writes, random queries.

Holds the Hypothesis strategies (customers, history records, writes, queries and sales),
the write model they drive, and :class:`PropertyTests`, which compares a backend with
the model and with :func:`custrec.store.run_query`.
"""

# ruff: noqa: S101 - a test suite states what it proves with assert

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from custrec.errors import ConflictError, DuplicateIdError, IntegrityError, NotFoundError
from custrec.expr import And, Expr, F, Not, Or, has_tag
from custrec.model import (
    Customer,
    Feedback,
    Handle,
    HistoryRecord,
    Interaction,
    Money,
    Transaction,
    normalize_email,
    normalize_phone,
)
from custrec.store import Order, Query, Store, contact_keys
from custrec.testing import strategies
from custrec.testing.store_suite._base import (
    CST,
    EST,
    HISTORY_KINDS,
    SuiteBase,
    assert_same,
    customer,
    ids,
    property_settings,
    reference_pages,
    rolled_back,
    walk,
    wipe,
)

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
