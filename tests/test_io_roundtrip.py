"""Export followed by import gives back equal records (property tests).

JSON Lines carries whole records. CSV and ``.xlsx`` carry what a spreadsheet row holds;
:func:`spreadsheet_view` says exactly what that is, and customers drawn from
:mod:`custrec.testing.strategies` come back equal to their spreadsheet view.
"""

from __future__ import annotations

import io
import re

import attrs
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from custrec.io import export_customers, export_history, import_customers, import_history
from custrec.io._export import _text
from custrec.model import (
    Customer,
    CustomerKind,
    Email,
    Feedback,
    Handle,
    Interaction,
    Phone,
    Transaction,
)
from custrec.store import open_store
from custrec.testing import strategies

SEPARATORS = re.compile(r"[,，;；、/|\n／｜]")
ROUND_TRIP = settings(max_examples=40, suppress_health_check=[HealthCheck.too_slow], deadline=None)


def _plain(text: str) -> bool:
    return not SEPARATORS.search(text) and text.strip() == text


def _items(values: tuple[str, ...] | frozenset[str]) -> list[str]:
    return [value for value in values if _plain(value)]


def spreadsheet_view(customer: Customer) -> Customer:
    """What one spreadsheet row keeps of a customer.

    Phones (raw text, in the configured region), emails, handles, list items and external
    ids are joined in one cell each, so an entry is kept when it holds no separator; labels,
    primary marks, consents and all but the first address are not written; custom values
    read back as text; the version is the store's own.
    """
    address = customer.primary_address
    parts = ("country", "province", "city", "district", "street", "postal_code")
    if address is not None and not any(getattr(address, part) for part in parts):
        address = None  # an address with no part filled leaves every cell blank
    phones = [p for p in customer.phones if p.region == "CN" and _plain(p.raw)]
    handles = [
        h
        for h in customer.handles
        if _plain(h.handle) and _plain(str(h.network)) and ":" not in str(h.network)
    ]
    external = {
        s: i for s, i in customer.external_ids.items() if _plain(s) and _plain(i) and ":" not in s
    }
    return attrs.evolve(
        customer,
        phones=[Phone(p.raw, region="CN") for p in phones],
        emails=[Email(e.address) for e in customer.emails if _plain(e.address)],
        handles=[Handle(h.network, h.handle) for h in handles],
        addresses=[attrs.evolve(address, label=None, primary=False)] if address else [],
        interests=_items(customer.interests),
        special_needs=_items(customer.special_needs),
        tags=_items(customer.tags),
        external_ids=external,
        custom={k: _text(v) for k, v in customer.custom.items() if _text(v).strip()},
        consents=[],
        version=1,
    )


def _spreadsheet_customers() -> st.SearchStrategy[Customer]:
    return strategies.customers().map(spreadsheet_view)


def _by_id(records: object) -> dict[str, object]:
    return {record.id: record for record in records}  # type: ignore[attr-defined]


class TestCustomers:
    @ROUND_TRIP
    @given(st.lists(strategies.customers(), max_size=5, unique_by=lambda c: c.id))
    def test_json_lines_keep_everything(self, customers: list[Customer]) -> None:
        """JSON Lines export then import gives every record back equal (version reset)."""
        out = io.BytesIO()
        export_customers(customers, out, format="jsonl")
        store = open_store("memory://")
        report = import_customers(store, io.BytesIO(out.getvalue()), format="jsonl")
        assert report.stored == len(customers)
        expected = {c.id: attrs.evolve(c, version=1) for c in customers}
        assert _by_id(store.customers) == expected

    @ROUND_TRIP
    @given(
        st.lists(_spreadsheet_customers(), max_size=5, unique_by=lambda c: c.id),
        st.sampled_from(["en", "zh"]),
        st.sampled_from(["utf-8-sig", "utf-8", "utf-16"]),
    )
    def test_csv(self, customers: list[Customer], language: str, encoding: str) -> None:
        """CSV export then import, headers in English or Chinese, gives equal records."""
        out = io.BytesIO()
        export_customers(customers, out, format="csv", language=language, encoding=encoding)
        store = open_store("memory://")
        report = import_customers(store, io.BytesIO(out.getvalue()), format="csv")
        assert (report.stored, report.rejected) == (len(customers), 0), report.summary()
        assert _by_id(store.customers) == _by_id(customers)

    @ROUND_TRIP
    @given(st.lists(_spreadsheet_customers(), max_size=4, unique_by=lambda c: c.id))
    def test_xlsx(self, customers: list[Customer]) -> None:
        """.xlsx export then import gives equal records."""
        out = io.BytesIO()
        export_customers(customers, out, format="xlsx", language="zh")
        store = open_store("memory://")
        report = import_customers(store, io.BytesIO(out.getvalue()), format="xlsx")
        assert (report.stored, report.rejected) == (len(customers), 0), report.summary()
        assert _by_id(store.customers) == _by_id(customers)

    @ROUND_TRIP
    @given(st.lists(strategies.customers(), max_size=4, unique_by=lambda c: c.id))
    def test_from_a_store_twice_changes_nothing(self, customers: list[Customer]) -> None:
        """Exporting a store and importing the file into it again updates nothing."""
        store = open_store("memory://")
        store.customers.add_many(customers)
        before = _by_id(store.customers)
        out = io.BytesIO()
        export_customers(store, out, format="jsonl")
        report = import_customers(store, io.BytesIO(out.getvalue()), format="jsonl")
        assert (report.stored, report.updated, report.skipped) == (0, 0, len(customers))
        assert _by_id(store.customers) == before


def _single_item(transaction: Transaction) -> Transaction:
    return Transaction(
        transaction.customer_id,
        transaction.at,
        transaction.items[:1],
        id=transaction.id,
        payment_method=transaction.payment_method,
        channel=transaction.channel,
        status=transaction.status,
        note=transaction.note,
    )


class TestHistory:
    @ROUND_TRIP
    @given(
        st.lists(strategies.interactions("C1"), max_size=4, unique_by=lambda r: r.id),
        st.lists(strategies.feedback("C1"), max_size=4, unique_by=lambda r: r.id),
        st.lists(
            strategies.transactions("C1").filter(lambda t: t.items).map(_single_item),
            max_size=4,
            unique_by=lambda r: r.id,
        ),
        st.sampled_from(["csv", "xlsx", "jsonl"]),
    )
    def test_history_round_trip(
        self,
        interactions: list[Interaction],
        feedback: list[Feedback],
        transactions: list[Transaction],
        kind: str,
    ) -> None:
        """Interactions, feedback and one-item transactions come back equal, by customer id."""
        store = open_store("memory://")
        store.customers.add(Customer(id="C1"))
        for record_type, records in (
            (Interaction, interactions),
            (Feedback, feedback),
            (Transaction, transactions),
        ):
            out = io.BytesIO()
            export_history(records, out, record_type, format=kind, language="zh")
            report = import_history(store, io.BytesIO(out.getvalue()), record_type, format=kind)
            assert (report.stored, report.rejected) == (len(records), 0), report.summary()
            stored = _by_id(store.repository(record_type))
            assert stored == {r.id: attrs.evolve(r, version=1) for r in records}


class TestKinds:
    def test_organisation_round_trip(self) -> None:
        """An organisation keeps its kind through CSV."""
        customer = Customer(id="K1", name="ABC公司", kind=CustomerKind.ORGANISATION)
        out = io.BytesIO()
        export_customers([customer], out, format="csv")
        store = open_store("memory://")
        import_customers(store, io.BytesIO(out.getvalue()), format="csv")
        assert store.customers.get("K1") == customer


def test_xlsx_header_keeps_a_literal_underscore_x() -> None:
    """A custom field named ``_x`` survives .xlsx, whose headers escape "_x" like cells."""
    customer = Customer(id="0", custom={"_x": "false", "a_x0041_": "1"})
    out = io.BytesIO()
    export_customers([customer], out, format="xlsx", language="zh")
    store = open_store("memory://")
    import_customers(store, io.BytesIO(out.getvalue()), format="xlsx")
    assert store.customers.get("0").custom == customer.custom
