"""Tests for queries: Query/Order/Page, cursors, the F builder, binding and three-valued logic."""

from __future__ import annotations

import base64
import contextlib
import json
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from custrec.errors import ValidationError
from custrec.expr import (
    MAX_DEPTH,
    And,
    BoundField,
    Call,
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
    bind,
    compare,
    compile_predicate,
    compile_value,
    const,
    has_tag,
    sort_key,
)
from custrec.model import Customer, Interaction, Money, Other, Transaction
from custrec.store import Order, Page, Query, decode_cursor, encode_cursor, run_query
from custrec.testing import strategies

CST = timezone(timedelta(hours=8))
T0 = datetime(2024, 1, 1, tzinfo=UTC)


def person(ident: str, **fields: Any) -> Customer:
    return Customer(id=ident, created_at=T0, updated_at=T0, **fields)


def keeps(where: Expr, record: Any) -> bool:
    return compile_predicate(where, type(record))(record)


def value_of(where: Expr, record: Any) -> Any:
    return compile_value(where, type(record))(record)


class TestQuery:
    def test_defaults_match_everything_in_id_order_on_one_page(self) -> None:
        """A bare Query has no condition, no order, no size and no cursor."""
        query = Query()
        assert (query.where, query.order, query.size, query.cursor) == (None, (), None, None)

    def test_builder_methods_return_new_queries(self) -> None:
        """filter, order_by, limit and after return changed copies; the original is unchanged."""
        base = Query()
        built = base.filter(F("name") == "x").order_by("-created_at", "name").limit(5).after("c")
        assert base == Query()
        assert built.where == Compare("==", Field("name"), Const("x"))
        assert built.order == (Order("created_at", descending=True), Order("name"))
        assert (built.size, built.cursor) == (5, "c")

    def test_filter_adds_conditions_that_must_all_hold(self) -> None:
        """Each filter adds a condition; together they form one flat And."""
        first, second, third = F("name") == "a", F("company") == "b", has_tag("VIP")
        query = Query(first).filter(second).filter(third)
        assert query.where == And((first, second, third))

    def test_filter_in_a_loop_stays_shallow(self) -> None:
        """Many filters do not nest: a query with 200 conditions binds and runs."""
        query = Query()
        for n in range(200):
            query = query.filter(F("name") != f"x{n}")
        page = run_query([person("1", name="y"), person("2")], Customer, query)
        assert [record.id for record in page] == ["1"]

    @pytest.mark.parametrize("order", ["", "-", "--", 5, None])
    def test_a_bad_order_is_refused(self, order: Any) -> None:
        """An order is a field name, '-name' or an Order; anything else is a ValidationError."""
        with pytest.raises(ValidationError):
            Query().order_by(order)

    @pytest.mark.parametrize("size", [0, -1, 10_001, True, 2.5, "10"])
    def test_a_bad_page_size_is_refused(self, size: Any) -> None:
        """A page holds 1 to 10 000 records."""
        with pytest.raises(ValidationError):
            Query(size=size)
        with pytest.raises(ValidationError):
            Query().limit(size)

    @pytest.mark.parametrize("size", [1, 10_000])
    def test_page_sizes_at_the_limits_are_accepted(self, size: int) -> None:
        """1 and 10 000 are valid page sizes."""
        assert Query().limit(size).size == size


class TestPage:
    def test_a_page_iterates_and_counts_its_items(self) -> None:
        """A page is a sized iterable of its items; the last page has no cursor."""
        page = Page(("a", "b"))
        assert list(page) == ["a", "b"]
        assert len(page) == 2
        assert page.next_cursor is None


_CURSOR_VALUES: list[Any] = [
    None,
    True,
    False,
    0,
    -(2**63),
    2**63 - 1,
    1.5,
    -0.25,
    Decimal("12.340"),
    "",
    '张伟 O\'Brien "quoted" \n tab\t',
    "ＡＢＣ-００１",
    datetime(2024, 1, 1, 8, 0, 0, 1, tzinfo=CST),
    datetime(1970, 1, 1, tzinfo=UTC),
    datetime(2024, 6, 30, 23, 59, tzinfo=timezone(timedelta(hours=-3, minutes=-30))),
    date(1992, 2, 29),
    Money("100.00", "CNY"),
    Money("-5", "JPY"),
    Money("0.001", "BHD"),
    ("a", "b"),
    (),
]


class TestCursor:
    @pytest.mark.parametrize("value", _CURSOR_VALUES, ids=repr)
    def test_every_value_kind_round_trips(self, value: Any) -> None:
        """A cursor gives back each order value exactly (kind, offset, precision) and the id."""
        order = [Order("field")]
        values, record_id = decode_cursor(encode_cursor(order, [value], "客户-001"), order)
        assert record_id == "客户-001"
        assert values == [value]
        assert type(values[0]) is type(value)
        if isinstance(value, datetime):
            assert values[0].utcoffset() == value.utcoffset()
        if isinstance(value, Decimal):
            assert str(values[0]) == str(value)

    @given(
        values=st.lists(
            st.one_of(
                st.none(),
                st.booleans(),
                st.integers(),
                st.floats(allow_nan=False, allow_infinity=False),
                st.text(),
                strategies.aware_datetimes(),
                st.dates(),
                strategies.money(),
                st.lists(st.text(), max_size=3).map(tuple),
            ),
            max_size=4,
        ),
        record_id=strategies.ids(),
    )
    def test_any_values_round_trip(self, values: list[Any], record_id: str) -> None:
        """Whatever the order values, decoding a cursor gives them back with the id."""
        order = [Order(f"f{n}", descending=n % 2 == 1) for n in range(len(values))]
        cursor = encode_cursor(order, values, record_id)
        assert cursor.isascii()
        decoded, decoded_id = decode_cursor(cursor, order)
        assert decoded_id == record_id
        assert [sort_key(value) for value in decoded] == [sort_key(value) for value in values]

    def test_a_value_that_cannot_order_is_refused(self) -> None:
        """Encoding a value with no defined order raises ValidationError."""
        with pytest.raises(ValidationError):
            encode_cursor([Order("x")], [object()], "1")
        with pytest.raises(ValidationError):
            encode_cursor([Order("x")], [("a", 1)], "1")

    @pytest.mark.parametrize(
        "order",
        [
            [Order("name", descending=True)],
            [Order("created_at")],
            [Order("name"), Order("created_at")],
            [],
        ],
    )
    def test_a_cursor_for_another_order_is_refused(self, order: list[Order]) -> None:
        """A cursor made for one order does not decode for another."""
        cursor = encode_cursor([Order("name")], ["x"], "1")
        with pytest.raises(ValidationError, match="another order"):
            decode_cursor(cursor, order)

    @staticmethod
    def _forge(payload: Any) -> str:
        raw = json.dumps(payload).encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @pytest.mark.parametrize(
        "payload",
        [
            {"o": [["name", False]], "v": [["s", "x"]]},
            {"o": [["name", False]], "id": "1"},
            {"o": [["name", False]], "v": [["?", "x"]], "id": "1"},
            {"o": [["name", False]], "v": [["i", "twelve"]], "id": "1"},
            {"o": [["name", False]], "v": [["M", "1.00", "XXX"]], "id": "1"},
            {"o": [["name", False]], "v": [["D", "2024-13-01"]], "id": "1"},
            {"o": [["name", False]], "v": [["T", "2024-01-01T08:00:00"]], "id": "1"},
            {"o": [["name", False]], "v": [[]], "id": "1"},
            {"o": [["name", False]], "v": [5], "id": "1"},
            {"o": 5, "v": [], "id": "1"},
            {"o": [["name", False]], "v": [], "id": "1"},
            {"o": [["name", False]], "v": [["s", "x"]], "id": 1},
            ["not", "an", "object"],
            "text",
        ],
    )
    def test_a_forged_cursor_is_refused(self, payload: Any) -> None:
        """A well-encoded cursor with a payload this library never makes raises ValidationError."""
        with pytest.raises(ValidationError):
            decode_cursor(self._forge(payload), [Order("name")])

    @pytest.mark.parametrize(
        "cursor", ["", "x", "not a cursor", "!!!!", "é", "eyJ", "e30", "AAAA", "_-_-"]
    )
    def test_a_damaged_cursor_is_refused(self, cursor: str) -> None:
        """Text that is not a cursor raises ValidationError, never another exception."""
        with pytest.raises(ValidationError):
            decode_cursor(cursor, [Order("name")])

    @given(st.text(max_size=60))
    def test_no_text_breaks_decoding(self, cursor: str) -> None:
        """Decoding any text either gives values or raises ValidationError."""
        with contextlib.suppress(ValidationError):
            decode_cursor(cursor, [Order("name")])

    @pytest.mark.parametrize("value", [["T", "2024-01-01T00:00:00"], ["D", "2024-01-01"]])
    def test_a_cursor_of_the_wrong_kind_is_refused_by_run_query(self, value: list[Any]) -> None:
        """A forged cursor whose value cannot be compared with the field raises ValidationError."""
        cursor = self._forge({"o": [["created_at", False]], "v": [value], "id": "1"})
        records = [person("1"), person("2")]
        with pytest.raises(ValidationError):
            run_query(records, Customer, Query().order_by("created_at").after(cursor))

    def test_a_truncated_cursor_is_refused(self) -> None:
        """Every proper prefix of a cursor is refused."""
        cursor = encode_cursor([Order("name")], ["张伟"], "001")
        for end in range(len(cursor)):
            with pytest.raises(ValidationError):
                decode_cursor(cursor[:end], [Order("name")])


class TestF:
    @pytest.mark.parametrize(
        ("built", "op"),
        [
            (F("rating") == 5, "=="),
            (F("rating") != 5, "!="),
            (F("rating") < 5, "<"),
            (F("rating") <= 5, "<="),
            (F("rating") > 5, ">"),
            (F("rating") >= 5, ">="),
        ],
    )
    def test_operators_build_comparisons(self, built: Expr, op: str) -> None:
        """Each Python comparison builds the Compare node of the same operator."""
        assert built == Compare(op, Field("rating"), Const(5))  # type: ignore[arg-type]

    def test_fields_compare_with_fields(self) -> None:
        """F on both sides compares two fields."""
        assert (F("created_at") < F("updated_at")) == Compare(
            "<", Field("created_at"), Field("updated_at")
        )

    def test_helpers(self) -> None:
        """is_in, between, contains, is_null and not_null build their nodes."""
        assert F("x").is_in(["a", "b"]) == In(Field("x"), (Const("a"), Const("b")))
        assert F("x").between(1, 2).low == Const(1)  # type: ignore[attr-defined]
        assert F("x").contains("a") == Contains(Field("x"), Const("a"))
        assert F("x").is_null() == IsNull(Field("x"))
        assert F("x").not_null() == Not(IsNull(Field("x")))
        assert has_tag("VIP") == HasTag("VIP")

    def test_combinators(self) -> None:
        """&, | and ~ build And, Or and Not; chains stay flat."""
        a, b, c = F("a") == 1, F("b") == 2, F("c") == 3
        assert a & b == And((a, b))
        assert a & b & c == And((a, b, c))
        assert a | b | c == Or((a, b, c))
        assert (a & b) | c == Or((And((a, b)), c))
        assert ~a == Not(a)

    def test_f_is_not_a_value(self) -> None:
        """F overloads ==, so it is unhashable rather than silently wrong in sets and dicts."""
        with pytest.raises(TypeError):
            hash(F("name"))

    def test_const_wraps_python_values(self) -> None:
        """const() wraps values, passes nodes through, and reads Other as its text."""
        node = F("x") == 1
        assert const(node) is node
        assert const(Other("Telegram")) == Const("Telegram")
        assert const(Money("1", "CNY")) == Const(Money("1", "CNY"))

    @pytest.mark.parametrize(
        "value",
        [float("nan"), float("inf"), Decimal("Infinity"), datetime(2024, 1, 1), [1], {"a": 1}],
    )
    def test_unusable_constants_are_refused(self, value: Any) -> None:
        """Non-finite numbers, naive datetimes and containers are not constants."""
        with pytest.raises(ValidationError):
            Const(value)


class TestBind:
    def test_an_unknown_field_is_named(self) -> None:
        """Binding an unknown field raises ValidationError naming it and the known fields."""
        with pytest.raises(ValidationError) as caught:
            bind(F("nmae") == "x", Customer)
        assert caught.value.value == "nmae"
        assert "name" in caught.value.reason

    @pytest.mark.parametrize(
        ("where", "kind"),
        [
            (F("total") > 100, Transaction),
            (F("total") > Decimal("100"), Transaction),
            (F("rating") > Money("1", "CNY"), Interaction),
            (F("version") == Money("1", "CNY"), Customer),
            (F("total").between(1, 2), Transaction),
            (F("total").is_in([100]), Transaction),
        ],
    )
    def test_money_and_numbers_do_not_mix(self, where: Expr, kind: type[Any]) -> None:
        """Money is compared with Money only, and numbers with numbers."""
        with pytest.raises(ValidationError):
            bind(where, kind)

    @pytest.mark.parametrize(
        "where",
        [F("tags") == "VIP", F("tags") != "VIP", F("tags").is_in(["VIP"]), F("x") == F("tags")],
    )
    def test_tags_are_not_compared_directly(self, where: Expr) -> None:
        """Tags are a set: comparing them raises ValidationError pointing at has_tag."""
        with pytest.raises(ValidationError):
            bind(where, Customer)

    def test_only_customers_carry_tags(self) -> None:
        """has_tag on another record type raises ValidationError."""
        with pytest.raises(ValidationError):
            bind(has_tag("VIP"), Interaction)

    @pytest.mark.parametrize(
        "where",
        [
            F("birth_date") == "1990-01-01",
            F("birth_date") == datetime(1990, 1, 1, tzinfo=UTC),
            F("created_at") == date(2024, 1, 1),
            F("name") == 1,
            F("rating") == "5",
            F("custom.level") == date(2024, 1, 1),
            F("custom.level") == Money("1", "CNY"),
        ],
    )
    def test_constants_must_fit_their_field(self, where: Expr) -> None:
        """A constant of the wrong kind for its field raises ValidationError."""
        kind = Interaction if "rating" in repr(where) else Customer
        with pytest.raises(ValidationError):
            bind(where, kind)

    def test_constants_are_normalised(self) -> None:
        """Choice text is read through aliases; whole floats become ints."""
        assert bind(F("channel") == "微信", Interaction) == Compare(
            "==",
            BoundField(bind(F("channel") == "x", Interaction).left.spec),
            Const("wechat"),  # type: ignore[attr-defined]
        )
        bound = bind(F("custom.points") > 5.0, Customer)
        assert bound.right == Const(5)  # type: ignore[attr-defined]
        assert type(bound.right.value) is int  # type: ignore[attr-defined]

    def test_nesting_is_bounded(self) -> None:
        """A tree deeper than MAX_DEPTH raises ValidationError, however deep it is."""
        shallow: Expr = F("name") == "x"
        for _ in range(MAX_DEPTH // 2):
            shallow = Not(shallow)
        bind(shallow, Customer)
        for depth in (MAX_DEPTH + 2, 10_000):
            deep: Expr = F("name") == "x"
            for _ in range(depth):
                deep = Not(deep)
            with pytest.raises(ValidationError, match="deeper"):
                bind(deep, Customer)

    def test_store_queries_call_no_functions(self) -> None:
        """Function calls are not available in store queries."""
        with pytest.raises(ValidationError):
            bind(Call("lower", (Field("name"),)) == "x", Customer)

    def test_contains_looks_for_text(self) -> None:
        """contains() needs a text constant."""
        with pytest.raises(ValidationError):
            bind(Contains(Field("name"), Const(5)), Customer)


class TestThreeValuedLogic:
    def test_a_negated_comparison_excludes_missing_values(self) -> None:
        """Not(name == 'x') keeps neither 'x' nor customers without a name."""
        where = Not(F("name") == "x")
        assert keeps(where, person("1", name="y"))
        assert not keeps(where, person("2", name="x"))
        assert not keeps(where, person("3"))
        assert value_of(where, person("3")) is None

    @pytest.mark.parametrize(
        "where",
        [
            F("custom.level") > 3,
            F("custom.level") == 3,
            F("custom.level") != 3,
            F("custom.level").between(1, 5),
            F("custom.level").is_in([1, 2]),
            F("custom.tags").contains("a"),
            F("custom.points").contains("1"),
        ],
    )
    def test_incomparable_kinds_are_unknown(self, where: Expr) -> None:
        """Text against a number (or a list against anything) is unknown, and so is its negation."""
        record = person("1", custom={"level": "gold", "tags": ["a", "b"], "points": 12})
        assert value_of(where, record) is None
        assert value_of(Not(where), record) is None
        assert not keeps(where, record)
        assert not keeps(Not(where), record)

    def test_money_in_another_currency_is_unknown(self) -> None:
        """Comparing Money in two currencies is unknown, never an error or a guess."""
        sale = Transaction("c", T0, total=Money("100", "USD"))
        for where in (F("total") > Money("1", "CNY"), F("total") == Money("100", "CNY")):
            assert value_of(where, sale) is None
        assert value_of(F("total") == Money("100", "USD"), sale) is True

    @pytest.mark.parametrize(
        ("where", "expected"),
        [
            (And((F("name") == "x", F("company") == "y")), None),
            (And((F("name") == "x", F("kind") == "organisation")), False),
            (And((F("name").is_null(), F("kind") == "person")), True),
            (Or((F("name") == "x", F("kind") == "person")), True),
            (Or((F("name") == "x", F("kind") == "organisation")), None),
            (Or((F("name").not_null(), F("kind") == "organisation")), False),
            (And(()), True),
            (Or(()), False),
            (F("name").is_null(), True),
            (F("name") == F("company"), None),
            (F("kind").is_in(["organisation", "person"]), True),
            (F("name").is_in(["x"]), None),
            (F("name").is_in([]), False),
        ],
    )
    def test_and_or_follow_sql(self, where: Expr, expected: bool | None) -> None:
        """And is false if any part is false; Or true if any is true; otherwise unknown."""
        assert value_of(where, person("1")) is expected

    def test_compare(self) -> None:
        """compare() is unknown for missing values and different kinds; bools are numbers."""
        assert compare("==", None, None) is None
        assert compare("<", 1, "a") is None
        assert compare("<", date(2024, 1, 1), datetime(2024, 1, 1, tzinfo=UTC)) is None
        assert compare("==", True, 1) is True
        assert compare("<", 1, 2.5) is True
        assert compare(">=", Money("1", "CNY"), Money("1.00", "CNY")) is True

    def test_contains_ignores_case_and_wildcards(self) -> None:
        """Contains folds case and treats % and _ as themselves."""
        record = person("1", notes="Prefers E-MAIL; 50% off")
        assert keeps(F("notes").contains("e-mail"), record)
        assert keeps(F("notes").contains("50%"), record)
        assert not keeps(F("notes").contains("5_%"), record)


class TestSortKey:
    def test_missing_values_come_first_then_numbers_then_text(self) -> None:
        """sort_key ranks None < numbers < text < Money < the rest."""
        values = ["a", 2, None, Money("1", "CNY"), 1.5, ("a",), True]
        ranked = sorted(values, key=sort_key)
        assert ranked == [None, True, 1.5, 2, "a", Money("1", "CNY"), ("a",)]

    def test_run_query_breaks_ties_by_id_ascending_in_both_directions(self) -> None:
        """Equal order values fall back to ascending ids, descending order or not."""
        records = [person(ident, name="same") for ident in ("b", "c", "a")]
        for order in ("name", "-name"):
            page = run_query(records, Customer, Query().order_by(order))
            assert [record.id for record in page] == ["a", "b", "c"]

    def test_run_query_pages_with_cursors(self) -> None:
        """run_query pages by size and continues after a cursor."""
        records = [person(f"{n:02d}", name=str(n % 3)) for n in range(10)]
        query = Query().order_by("-name").limit(4)
        seen: list[str] = []
        cursor = None
        while True:
            page = run_query(records, Customer, query.after(cursor))
            seen.extend(record.id for record in page)
            cursor = page.next_cursor
            if cursor is None:
                break
        expected = run_query(records, Customer, attrs.evolve(query, size=None))
        assert seen == [record.id for record in expected]
        assert len(seen) == 10


class TestMoneyArithmetic:
    """Money in arithmetic follows the same rules in Python as in SQL."""

    def test_money_times_a_bool_counts_it_as_a_number(self) -> None:
        """Money × true is Money × 1 (bools are numbers in arithmetic), not a TypeError."""
        from custrec.expr import Arith, Const, compile_value
        from custrec.model import Customer, Money

        times = Arith("*", Const(Money("2.50", "CNY")), Const(True))
        assert compile_value(times, Customer)(Customer()) == Money("2.50", "CNY")
