"""A restricted store shows a role only the fields it may read and refuses forbidden writes."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import attrs
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from custrec import (
    Customer,
    Email,
    Feedback,
    Interaction,
    Money,
    Phone,
    Transaction,
    ValidationError,
)
from custrec.errors import PermissionDenied
from custrec.expr import F
from custrec.model import Record
from custrec.privacy import ALWAYS_VISIBLE, REMOVED_TEXT, Access, RestrictedStore, Role
from custrec.serialize import record_type_name
from custrec.store import MemoryStore, Store, open_store
from custrec.testing import strategies

AT = datetime(2024, 3, 1, tzinfo=UTC)

SUPPORT = Role(
    "support",
    {
        "customer.*": "read",
        "customer.notes": "write",
        "customer.birth_date": "none",
        "customer.family": "none",
        "interaction.*": "write",
        "transaction.*": "read",
    },
)

STORES: dict[str, Callable[[], Store]] = {
    "memory": MemoryStore,
    "sqlite": lambda: open_store("sqlite:///:memory:"),
}


@pytest.fixture(params=sorted(STORES))
def store(request: pytest.FixtureRequest) -> Iterator[Store]:
    opened = STORES[request.param]()
    yield opened
    opened.close()


def _fill(store: Store) -> None:
    store.customers.add(
        Customer(
            id="c1",
            name="钱二",
            birth_date="1990-01-02",
            family="单身",
            notes="old",
            phones=[Phone("13800001111", region="CN")],
            emails=[Email("qian@example.cn")],
        )
    )
    store.interactions.add(Interaction("c1", AT, "phone", id="i1", content="hi"))
    store.transactions.add(Transaction("c1", AT, total=Money("10", "CNY"), id="t1"))
    store.feedback.add(Feedback("c1", AT, text="很好", id="f1"))


class TestRole:
    def test_field_beats_type(self) -> None:
        """A field's own entry wins over its type's wildcard; unnamed types get nothing."""
        assert SUPPORT.access("customer", "notes") is Access.WRITE
        assert SUPPORT.access("customer", "name") is Access.READ
        assert SUPPORT.access("customer", "family") is Access.NONE
        assert SUPPORT.access("feedback", "text") is Access.NONE
        assert SUPPORT.can_write("feedback", "id")

    @pytest.mark.parametrize(
        "fields",
        [{"customer.shoe": "read"}, {"order.*": "read"}, {"customer.name": "peek"}, {"x": "read"}],
    )
    def test_bad_rights(self, fields: dict[str, str]) -> None:
        """Unknown types, fields or access levels are refused."""
        with pytest.raises(ValidationError):
            Role("r", fields)


class TestReads:
    def test_unreadable_fields_come_back_blank(self, store: Store) -> None:
        """Fields without read access are empty; the rest are as stored."""
        _fill(store)
        guarded = RestrictedStore(store, SUPPORT)
        customer = guarded.customers.get("c1")
        assert customer.name == "钱二"
        assert customer.birth_date is None
        assert customer.family is None
        assert [c.id for c in guarded.customers] == ["c1"]
        assert guarded.customers.find(F("name") == "钱二").items == (customer,)

    def test_unreadable_type_is_blank_or_refused(self, store: Store) -> None:
        """Feedback text becomes a placeholder; unreadable amounts refuse the whole record."""
        _fill(store)
        role = Role("analyst", {"customer.*": "read", "feedback.at": "read"})
        guarded = RestrictedStore(store, role)
        assert guarded.feedback.get("f1").text == REMOVED_TEXT
        with pytest.raises(PermissionDenied, match=r"transaction\.at"):
            guarded.transactions.get("t1")
        with pytest.raises(PermissionDenied):
            guarded.history("c1")

    def test_queries_on_unreadable_fields_refused(self, store: Store) -> None:
        """Conditions, orders, lookups and projections may not use unreadable fields."""
        _fill(store)
        guarded = RestrictedStore(store, SUPPORT)
        with pytest.raises(PermissionDenied, match="family"):
            guarded.customers.find(F("family") == "单身")
        with pytest.raises(PermissionDenied):
            guarded.customers.count(F("birth_date") < datetime(2000, 1, 1, tzinfo=UTC).date())
        with pytest.raises(PermissionDenied):
            list(guarded.customers.project(["family"]))
        blind = RestrictedStore(store, Role("blind", {"customer.name": "read"}))
        with pytest.raises(PermissionDenied, match="phones"):
            blind.customers.find_by_phone("13800001111")
        assert [c.id for c in guarded.customers.find_by_phone("13800001111")] == ["c1"]

    def test_audit_values_cut(self, store: Store) -> None:
        """Audit entries keep field names but not values the role may not read."""
        _fill(store)
        stored = store.customers.get("c1")
        store.customers.update(attrs.evolve(stored, family="已婚", notes="new"))
        entry = RestrictedStore(store, SUPPORT).audit("c1")[-1]
        changes = {c.field: (c.old, c.new) for c in entry.changes}
        assert changes == {"family": (None, None), "notes": ("old", "new")}


class TestWrites:
    def test_round_trip_keeps_hidden_fields(self, store: Store) -> None:
        """Updating a record read through the role keeps the fields the role could not see."""
        _fill(store)
        guarded = RestrictedStore(store, SUPPORT)
        seen = guarded.customers.get("c1")
        guarded.customers.update(attrs.evolve(seen, notes="called back"))
        stored = store.customers.get("c1")
        assert stored.notes == "called back"
        assert stored.family == "单身"
        assert str(stored.birth_date) == "1990-01-02"

    def test_forbidden_changes_raise(self, store: Store) -> None:
        """Changing a read-only or unreadable field raises PermissionDenied and stores nothing."""
        _fill(store)
        guarded = RestrictedStore(store, SUPPORT)
        seen = guarded.customers.get("c1")
        with pytest.raises(PermissionDenied, match="name"):
            guarded.customers.update(attrs.evolve(seen, name="钱三"))
        with pytest.raises(PermissionDenied, match="family"):
            guarded.customers.update(attrs.evolve(seen, family="离异"))
        with pytest.raises(PermissionDenied):
            guarded.customers.add(Customer(id="c2", name="new"))
        with pytest.raises(PermissionDenied):
            guarded.customers.delete("c1", cascade=True)
        assert store.customers.get("c1").version == 1
        assert not store.customers.exists("c2")

    def test_hidden_field_cannot_be_probed(self, store: Store) -> None:
        """Sending a hidden field's true value is refused like any other: no guessing oracle."""
        _fill(store)
        guarded = RestrictedStore(store, SUPPORT)
        seen = guarded.customers.get("c1")
        with pytest.raises(PermissionDenied, match="family"):
            guarded.customers.update(attrs.evolve(seen, family="单身"))

    def test_writable_type(self, store: Store) -> None:
        """A role with write access to a type adds, updates and deletes it."""
        _fill(store)
        guarded = RestrictedStore(store, SUPPORT)
        added = guarded.interactions.add(Interaction("c1", AT, "email", id="i2"))
        guarded.interactions.update(attrs.evolve(added, content="done"))
        guarded.interactions.delete("i1")
        assert [i.id for i in store.interactions] == ["i2"]

    def test_cascade_needs_rights_on_history(self, store: Store) -> None:
        """Deleting a customer with its history needs write access to the history types."""
        _fill(store)
        editor = Role("editor", {"customer.*": "write", "interaction.*": "write"})
        with pytest.raises(PermissionDenied, match="transaction"):
            RestrictedStore(store, editor).customers.delete("c1", cascade=True)
        assert store.customers.exists("c1")
        owner = Role(
            "owner",
            {
                f"{kind}.*": "write"
                for kind in ("customer", "interaction", "transaction", "feedback")
            },
        )
        RestrictedStore(store, owner).customers.delete("c1", cascade=True)
        assert not store.customers.exists("c1")


_ACCESS = st.sampled_from([Access.NONE, Access.READ, Access.WRITE])


@st.composite
def roles(draw: st.DrawFn) -> Role:
    rights: dict[str, Access] = {}
    for kind in (Customer, Interaction, Transaction, Feedback):
        name = record_type_name(kind)
        if draw(st.booleans()):
            rights[f"{name}.*"] = draw(_ACCESS)
        for field in attrs.fields(kind):
            if field.name not in ALWAYS_VISIBLE and draw(st.integers(0, 3)) == 0:
                rights[f"{name}.{field.name}"] = draw(_ACCESS)
    return Role("random", rights)


@st.composite
def stocked(draw: st.DrawFn) -> tuple[Customer, list[Record]]:
    customer = draw(strategies.customers())
    history = draw(
        st.lists(
            st.one_of(
                strategies.interactions(customer.id),
                strategies.transactions(customer.id),
                strategies.feedback(customer.id),
            ),
            max_size=3,
            unique_by=lambda record: (type(record), record.id),
        )
    )
    return customer, history


def _leaks(role: Role, record: Record, stored: Record) -> list[str]:
    """Fields of a record shown to ``role`` that hold a value the role may not read."""
    kind = record_type_name(record)
    leaks = []
    for field in attrs.fields(type(record)):
        value = getattr(record, field.name)
        if role.can_read(kind, field.name):
            # Feedback whose rating and NPS are hidden shows a placeholder text at least.
            withheld = field.name == "text" and value == REMOVED_TEXT
            if value != getattr(stored, field.name) and not withheld:
                leaks.append(f"{field.name} (readable, but altered)")
            continue
        empty = value is None or value in ((), frozenset()) or value == {}
        if not (empty or (field.name == "text" and value == REMOVED_TEXT)):
            leaks.append(field.name)
    return leaks


_SETTINGS = settings(suppress_health_check=[HealthCheck.too_slow], max_examples=60)


class TestAccessProperties:
    @pytest.mark.parametrize("backend", sorted(STORES))
    @_SETTINGS
    @given(roles(), stocked())
    def test_no_unreadable_field_leaves(
        self, backend: str, role: Role, data: tuple[Customer, list[Record]]
    ) -> None:
        """Whatever the role, every read path returns only what the role may read."""
        customer, history = data
        store = STORES[backend]()
        try:
            store.customers.add(customer)
            for record in history:
                store.repository(type(record)).add(record)
            stored = {(type(r), r.id): r for r in [customer, *history]}
            stored = {key: store.repository(key[0]).get(key[1]) for key in stored}
            guarded = RestrictedStore(store, role)
            reads: list[Callable[[], list[Record]]] = [
                lambda: [guarded.customers.get(customer.id)],
                lambda: list(guarded.customers),
                lambda: list(guarded.customers.find().items),
                lambda: list(guarded.history(customer.id)),
                lambda: list(guarded.interactions),
                lambda: list(guarded.transactions),
                lambda: list(guarded.feedback.find().items),
            ]
            for read in reads:
                try:
                    shown = read()
                except PermissionDenied as denied:
                    kind, field = denied.field.split(".")
                    assert not role.can_read(kind, field)
                    continue
                for record in shown:
                    assert _leaks(role, record, stored[(type(record), record.id)]) == []
            for entry in guarded.audit(customer.id, "customer"):
                for change in entry.changes:
                    if not role.can_read("customer", change.field):
                        assert (change.old, change.new) == (None, None)
        finally:
            store.close()

    @_SETTINGS
    @given(roles(), strategies.customers(), strategies.customers(), st.data())
    def test_write_needs_write_access(
        self, role: Role, customer: Customer, other: Customer, data: st.DataObject
    ) -> None:
        """Changing one field through the role succeeds exactly when the role may write it."""
        store = MemoryStore()
        store.customers.add(customer)
        guarded = RestrictedStore(store, role)
        try:
            seen = guarded.customers.get(customer.id)
        except PermissionDenied:
            assume(False)
        names = [f.name for f in attrs.fields(Customer) if f.name not in ALWAYS_VISIBLE]
        name = data.draw(st.sampled_from(names))
        value = getattr(other, name)
        assume(value != getattr(seen, name))
        try:
            changed = attrs.evolve(seen, **{name: value})
        except ValidationError:
            assume(False)
        before = store.customers.get(customer.id)
        if role.can_write("customer", name):
            guarded.customers.update(changed)
            assert getattr(store.customers.get(customer.id), name) == value
        else:
            with pytest.raises(PermissionDenied):
                guarded.customers.update(changed)
            assert store.customers.get(customer.id) == before
