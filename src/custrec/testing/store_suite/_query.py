"""The store suite's query group: find, count and iter_batches on fixed customers and sales."""

# ruff: noqa: S101 - a test suite states what it proves with assert

from __future__ import annotations

import base64
import json
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest

from custrec.errors import ValidationError
from custrec.expr import And, Expr, F, Not, Or, has_tag
from custrec.model import Customer, Money, Transaction
from custrec.store import Order, Query, Store
from custrec.testing.store_suite._base import (
    CST,
    EST,
    T0,
    SuiteBase,
    customer,
    feedback,
    ids,
    interaction,
    transaction,
    walk,
)


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
