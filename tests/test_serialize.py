"""Tests for custrec.serialize: records to JSON-ready dicts and back, and bad documents."""

from __future__ import annotations

import contextlib
import copy
import json
import re
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from custrec.errors import ValidationError
from custrec.model import (
    Address,
    AfterSalesEvent,
    Channel,
    Consent,
    Customer,
    Email,
    Feedback,
    Handle,
    Interaction,
    LineItem,
    Money,
    Other,
    Phone,
    Record,
    Transaction,
    currency_exponent,
)
from custrec.serialize import SCHEMA_VERSION, from_dict, from_json, to_dict, to_json
from custrec.testing import strategies

PLUS_8 = timezone(timedelta(hours=8))
AT = datetime(2024, 10, 5, 14, 30, tzinfo=PLUS_8)
TYPE_NAMES = {Customer: "customer", Interaction: "interaction", Transaction: "transaction"}
TYPE_NAMES[Feedback] = "feedback"

JSON_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=10),
)
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=6,
)
# What the fallback for an unexpected exception writes: "TypeError: ...". A reason like this
# means an error reached the user that nobody anticipated.
UNANTICIPATED = re.compile(r"^[A-Z]\w*(Error|Exception|Operation|Overflow)\b")


def sale() -> Transaction:
    """A transaction with three line items in CNY and one refund."""
    items = [
        LineItem("拿铁咖啡", Money("28.00", "CNY"), Decimal(2), product_id="SKU-1"),
        LineItem("蛋糕", Money("15.50", "CNY")),
        LineItem("ＡＢＣ牌 洗发水", Money("59.90", "CNY"), Decimal("1.5")),
    ]
    refund = AfterSalesEvent("refund", AT, Money("15.50", "CNY"), "蛋糕坏了", id="R-1")
    return Transaction("001", AT, items, id="T-1", payment_method="微信支付", after_sales=[refund])


def customer() -> Customer:
    """A customer with a birth date, a phone, tags and custom fields."""
    return Customer(
        id="001",
        name="张伟",
        birth_date=date(2000, 2, 29),
        phones=[Phone("138 1234 5678", region="CN", primary=True)],
        tags=["VIP", "老客户"],
        custom={"会员等级": "金卡", "colours": ["红", "蓝"]},
        created_at=AT,
        updated_at=AT,
    )


def refused(document: Any, cls: type | None = None) -> ValidationError:
    """Read ``document``, which must be refused, and return the error."""

    def read() -> object:
        return from_dict(document) if cls is None else from_dict(document, cls)

    with pytest.raises(ValidationError) as caught:
        read()
    return caught.value


def is_json_data(value: object) -> bool:
    """Whether ``value`` is made only of the types json.loads returns."""
    if isinstance(value, dict):
        return all(isinstance(k, str) and is_json_data(v) for k, v in value.items())
    if isinstance(value, list):
        return all(is_json_data(item) for item in value)
    return value is None or isinstance(value, str | int | float | bool)


class TestRoundTrip:
    """Every record and value comes back from its document unchanged."""

    @given(strategies.records())
    def test_records_round_trip_through_dicts(self, record: Record) -> None:
        """Property: from_dict(to_dict(r)) == r for every record type."""
        assert from_dict(to_dict(record)) == record

    @given(strategies.records())
    def test_records_round_trip_through_json(self, record: Record) -> None:
        """Property: from_json(to_json(r)) == r, pretty-printed or compact."""
        assert from_json(to_json(record)) == record
        assert from_json(to_json(record, indent=2).encode()) == record

    @pytest.mark.parametrize(
        "strategy",
        [
            strategies.customers(),
            strategies.interactions(),
            strategies.transactions(),
            strategies.feedback(),
        ],
        ids=["customer", "interaction", "transaction", "feedback"],
    )
    @given(data=st.data())
    def test_each_record_type_round_trips_with_its_type(
        self, strategy: st.SearchStrategy[Record], data: st.DataObject
    ) -> None:
        """Property: each record type reads back as its own class, given or not."""
        record = data.draw(strategy)
        document = to_dict(record)
        assert document["type"] == TYPE_NAMES[type(record)]
        assert from_dict(document, type(record)) == record
        assert from_json(to_json(record), type(record)) == record

    @pytest.mark.parametrize(
        ("strategy", "cls"),
        [
            (strategies.money(), Money),
            (strategies.phones(), Phone),
            (strategies.emails(), Email),
            (strategies.handles(), Handle),
            (strategies.addresses(), Address),
            (strategies.consents(), Consent),
            (strategies.line_items(), LineItem),
            (strategies.after_sales_events(), AfterSalesEvent),
        ],
        ids=lambda param: getattr(param, "__name__", ""),
    )
    @given(data=st.data())
    def test_value_types_round_trip(
        self, strategy: st.SearchStrategy[Any], cls: type, data: st.DataObject
    ) -> None:
        """Property: value types round-trip when their class is given."""
        value = data.draw(strategy)
        document = to_dict(value)
        assert "type" not in document
        assert from_dict(document, cls) == value
        assert from_json(to_json(value), cls) == value

    def test_other_comes_back_as_other(self) -> None:
        """Free text outside an enumeration comes back as the same Other."""
        interaction = Interaction("001", AT, Other("Telegram"))
        assert from_dict(to_dict(interaction), Interaction).channel == Other("Telegram")

    @given(strategies.interactions())
    def test_offsets_survive_exactly(self, interaction: Interaction) -> None:
        """Property: a datetime comes back with its own UTC offset, not just the same instant."""
        back = from_dict(to_dict(interaction), Interaction)
        assert back.at.utcoffset() == interaction.at.utcoffset()
        assert back.at.isoformat() == interaction.at.isoformat()

    @given(strategies.transactions())
    def test_amounts_survive_exactly(self, transaction: Transaction) -> None:
        """Property: amounts come back with the same digits and exponent."""
        back = from_dict(to_dict(transaction), Transaction)
        assert str(back.total.amount) == str(transaction.total.amount)
        for mine, theirs in zip(back.items, transaction.items, strict=True):
            assert str(mine.quantity) == str(theirs.quantity)

    @given(strategies.phones())
    def test_phone_derived_fields_are_written_and_read_back(self, phone: Phone) -> None:
        """Property: e164 and valid are written out and read back as written (no re-parse)."""
        document = to_dict(phone)
        assert (document["e164"], document["valid"]) == (phone.e164, phone.valid)
        assert from_dict(document, Phone) == phone

    @given(strategies.phones())
    def test_phone_derived_fields_are_derived_when_absent_or_malformed(self, phone: Phone) -> None:
        """Property: a document without, or with malformed, derived fields gets them derived."""
        document = to_dict(phone)
        bare = {k: v for k, v in document.items() if k not in ("e164", "valid")}
        assert from_dict(bare, Phone) == phone
        assert from_dict({**document, "e164": "not a number"}, Phone) == phone


class TestDocumentShape:
    """What documents look like: plain JSON types, tagged with type and schema version."""

    @given(strategies.records())
    def test_documents_are_json_ready(self, record: Record) -> None:
        """Property: to_dict gives plain JSON data, dumpable without a default= hook."""
        document = to_dict(record)
        assert is_json_data(document)
        assert json.loads(json.dumps(document)) == document

    @given(strategies.records())
    def test_documents_start_with_type_and_schema_version(self, record: Record) -> None:
        """Property: "type" and "schema_version" come first and say what the document is."""
        document = to_dict(record)
        assert list(document)[:2] == ["type", "schema_version"]
        assert document["type"] == TYPE_NAMES[type(record)]
        assert document["schema_version"] == SCHEMA_VERSION

    def test_decimals_are_strings(self) -> None:
        """Amounts and quantities are written as decimal text, never as floats."""
        document = to_dict(sale())
        assert document["total"] == {"amount": "161.35", "currency": "CNY"}
        assert document["items"][0]["unit_price"] == {"amount": "28.00", "currency": "CNY"}
        assert document["items"][2]["quantity"] == "1.5"
        assert document["after_sales"][0]["amount"]["amount"] == "15.50"

    def test_datetimes_are_iso_with_offsets_and_dates_are_iso(self) -> None:
        """Datetimes are ISO 8601 with their offset; dates are YYYY-MM-DD."""
        assert to_dict(sale())["at"] == "2024-10-05T14:30:00+08:00"
        assert to_dict(customer())["birth_date"] == "2000-02-29"

    @given(strategies.records())
    def test_every_datetime_carries_an_offset(self, record: Record) -> None:
        """Property: every datetime written carries its UTC offset."""
        text = to_json(record)
        document = json.loads(text)
        stamps = [document.get(key) for key in ("at", "created_at", "updated_at")]
        for stamp in filter(None, stamps):
            assert datetime.fromisoformat(stamp).utcoffset() is not None

    def test_choices_are_plain_strings(self) -> None:
        """Members are written as their value, Other as its text."""
        assert to_dict(Interaction("c1", AT, "微信"))["channel"] == "wechat"
        assert to_dict(Interaction("c1", AT, "Telegram"))["channel"] == "Telegram"
        assert to_dict(sale())["payment_method"] == "wechat_pay"

    def test_collections(self) -> None:
        """Tags are a sorted list, custom lists are lists, phones carry e164 and valid."""
        document = to_dict(customer())
        assert document["tags"] == sorted(["VIP", "老客户"])
        assert document["custom"] == {"colours": ["红", "蓝"], "会员等级": "金卡"}
        assert document["phones"][0]["e164"] == "+8613812345678"
        assert document["phones"][0]["valid"] is True

    def test_json_keeps_chinese_characters(self) -> None:
        """JSON text holds Chinese as characters, not \\u escapes."""
        assert "张伟" in to_json(customer())


class TestCorruptDocuments:
    """Bad documents are refused with the path to the problem."""

    def test_bad_nested_amount_names_its_path(self) -> None:
        """A bad amount deep inside is reported at items[2].unit_price.amount."""
        document = to_dict(sale())
        document["items"][2]["unit_price"]["amount"] = "abc"
        error = refused(document)
        assert error.field == "items[2].unit_price.amount"
        assert error.value == "abc"
        assert "number" in error.reason

    def test_bad_nested_currency_names_its_path(self) -> None:
        """A model error inside a nested value gets the nested path too."""
        document = to_dict(sale())
        document["after_sales"][0]["amount"]["currency"] = "ZZZ"
        error = refused(document)
        assert error.field == "after_sales[0].amount.currency"
        assert error.value == "ZZZ"

    def test_naive_datetime_is_refused(self) -> None:
        """A stored datetime without an offset is refused, not guessed."""
        document = to_dict(sale())
        document["at"] = "2024-10-05T14:30:00"
        error = refused(document)
        assert (error.field, error.value) == ("at", "2024-10-05T14:30:00")
        assert "offset" in error.reason

    @pytest.mark.parametrize("stamp", ["2024-10-05 下午2点", "yesterday", 1728110000, None])
    def test_non_iso_datetime_is_refused(self, stamp: object) -> None:
        """Stored datetimes are ISO 8601 text; messy forms belong to imports, not documents."""
        document = to_dict(sale())
        document["at"] = stamp
        assert refused(document).field == "at"

    def test_unknown_extra_key_is_refused(self) -> None:
        """A key the record does not have is an error, at any depth."""
        document = to_dict(sale())
        document["colour"] = "red"
        error = refused(document)
        assert error.field == "colour"
        assert "unknown" in error.reason
        document = to_dict(sale())
        document["items"][1]["colour"] = "red"
        assert refused(document).field == "items[1].colour"

    @pytest.mark.parametrize("key", ["customer_id", "at", "channel"])
    def test_missing_required_key_is_refused(self, key: str) -> None:
        """A required field left out is reported by name."""
        document = to_dict(Interaction("001", AT, "phone"))
        del document[key]
        error = refused(document)
        assert error.field == key
        assert "missing" in error.reason

    def test_missing_nested_key_is_refused(self) -> None:
        """A required field missing inside a nested value is reported with its path."""
        document = to_dict(sale())
        del document["items"][0]["unit_price"]["currency"]
        assert refused(document).field == "items[0].unit_price.currency"

    @pytest.mark.parametrize(
        ("path", "junk"),
        [
            (("name",), 42),
            (("name",), ["张伟"]),
            (("version",), "1"),
            (("version",), 1.0),
            (("version",), True),
            (("phones", 0, "primary"), "yes"),
            (("phones", 0, "primary"), 1),
            (("phones", 0, "raw"), 13812345678),
            (("birth_date",), 20000229),
            (("tags",), "VIP"),
            (("custom",), ["a"]),
        ],
    )
    def test_wrong_types_are_refused_not_coerced(self, path: tuple[Any, ...], junk: object) -> None:
        """An int where text belongs, "yes" for a bool, text for a number: all refused."""
        document = to_dict(customer())
        target: Any = document
        for step in path[:-1]:
            target = target[step]
        target[path[-1]] = junk
        error = refused(document)
        assert error.field == ".".join(str(step) for step in path).replace(".0.", "[0].")
        assert error.value == junk

    @pytest.mark.parametrize(
        ("key", "junk", "reason"),
        [
            ("phones", "138 1234 5678", "list"),
            ("phones", {"raw": "138 1234 5678"}, "list"),
            ("consents", {}, "list"),
            ("emails", [["a@b.cn"]], "object"),
            ("addresses", [None], "object"),
        ],
    )
    def test_wrong_shapes_are_refused_where_they_are(
        self, key: str, junk: object, reason: str
    ) -> None:
        """A text or object where a list belongs, or a list where an object belongs, is named."""
        document = to_dict(customer())
        document[key] = junk
        error = refused(document)
        assert error.field in {key, f"{key}[0]"}
        assert reason in error.reason

    def test_model_rules_apply_to_documents(self) -> None:
        """A document breaking a model rule is refused like a constructor call."""
        document = to_dict(Feedback("001", AT, rating=5))
        document["rating"] = 6
        assert refused(document).field == "rating"
        document = to_dict(sale())
        document["total"]["currency"] = "USD"
        assert refused(document).field == "total"

    def test_several_problems_are_all_reported(self) -> None:
        """Every problem found is listed; the first is the error's own field."""
        document = to_dict(sale())
        document["items"][0]["name"] = 1
        document["items"][2]["unit_price"]["amount"] = "abc"
        error = refused(document)
        fields = [problem.field for problem in error.errors]
        assert fields == ["items[0].name", "items[2].unit_price.amount"]
        assert error.field == "items[0].name"

    @pytest.mark.parametrize("version", [SCHEMA_VERSION + 1, 99])
    def test_newer_schema_version_is_refused(self, version: int) -> None:
        """A document from a newer custrec is refused with advice to upgrade."""
        document = to_dict(customer())
        document["schema_version"] = version
        error = refused(document)
        assert (error.field, error.value) == ("schema_version", version)
        assert "upgrade" in error.reason

    @pytest.mark.parametrize("version", ["1", 1.5, None, True, 0])
    def test_malformed_schema_version_is_refused(self, version: object) -> None:
        """The schema version is a whole number custrec knows how to read."""
        document = to_dict(customer())
        document["schema_version"] = version
        assert refused(document).field == "schema_version"

    @pytest.mark.parametrize("type_name", ["order", "Customer", "", 1, None])
    def test_wrong_type_is_refused(self, type_name: object) -> None:
        """A type that is not a record type is refused; so is a document without one."""
        document = to_dict(customer())
        document["type"] = type_name
        error = refused(document)
        assert (error.field, error.value) == ("type", type_name)

    def test_type_differing_from_the_class_asked_for_is_refused(self) -> None:
        """Reading a customer document as an interaction is refused."""
        error = refused(to_dict(customer()), Interaction)
        assert (error.field, error.value) == ("type", "customer")

    @pytest.mark.parametrize("document", [[], "customer", None, 1])
    def test_a_document_must_be_an_object(self, document: object) -> None:
        """Only a JSON object can be a document."""
        assert refused(document).field == ""

    @pytest.mark.parametrize("text", ["{", "", "not json", '{"type": "customer",}', b"\xff"])
    def test_invalid_json_is_refused(self, text: str | bytes) -> None:
        """Text that is not JSON raises ValidationError, not json.JSONDecodeError."""
        with pytest.raises(ValidationError) as caught:
            from_json(text)
        assert "JSON" in caught.value.reason

    @pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
    def test_non_finite_json_numbers_are_refused(self, constant: str) -> None:
        """NaN and Infinity, which Python's json accepts, are refused."""
        document = to_dict(customer())
        document["custom"] = {"score": "PLACEHOLDER"}
        text = to_json(document).replace('"PLACEHOLDER"', constant)
        with pytest.raises(ValidationError) as caught:
            from_json(text)
        assert caught.value.value == constant
        assert "finite" in caught.value.reason


def paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every path into ``value``'s containers, the root excluded."""
    found: list[tuple[Any, ...]] = []
    items = (
        value.items()
        if isinstance(value, dict)
        else enumerate(value)
        if isinstance(value, list)
        else ()
    )
    for key, item in items:
        found.append((*prefix, key))
        found.extend(paths(item, (*prefix, key)))
    return found


class TestFuzzedDocuments:
    """Whatever a document holds, reading it either works or raises ValidationError."""

    @given(strategies.records(), st.data(), JSON_VALUES)
    def test_replacing_any_part_gives_a_record_or_a_validation_error(
        self, record: Record, data: st.DataObject, junk: Any
    ) -> None:
        """Property: junk anywhere in a document never escapes as another exception."""
        document = to_dict(record)
        path = data.draw(st.sampled_from(paths(document)))
        target: Any = document
        for step in path[:-1]:
            target = target[step]
        target[path[-1]] = junk
        try:
            result = from_dict(copy.deepcopy(document))
        except ValidationError as exc:
            for problem in exc.errors:
                assert problem.reason
                assert not UNANTICIPATED.match(problem.reason), problem.reason
        else:
            assert isinstance(result, (Customer, Interaction, Transaction, Feedback))

    @given(st.text(max_size=50) | st.binary(max_size=50))
    def test_any_text_gives_a_record_or_a_validation_error(self, text: str | bytes) -> None:
        """Property: from_json on arbitrary text raises nothing but ValidationError."""
        with contextlib.suppress(ValidationError):
            from_json(text)


class TestInvalidNeverAccepted:
    """Values outside the rules are refused by constructors and documents alike."""

    @given(st.integers(max_value=0) | st.integers(min_value=6))
    def test_ratings_outside_one_to_five(self, rating: int) -> None:
        """Property: any whole number outside 1..5 is refused as a rating."""
        with pytest.raises(ValidationError) as caught:
            Feedback("001", AT, rating=rating)
        assert caught.value.field == "rating"
        document = to_dict(Feedback("001", AT, rating=3))
        document["rating"] = rating
        assert refused(document).field == "rating"

    @given(st.integers(max_value=-1) | st.integers(min_value=11))
    def test_nps_outside_zero_to_ten(self, nps: int) -> None:
        """Property: any whole number outside 0..10 is refused as an NPS answer."""
        with pytest.raises(ValidationError) as caught:
            Feedback("001", AT, nps=nps)
        assert caught.value.field == "nps"

    @given(st.text(max_size=5).filter(lambda code: currency_exponent(code.strip().upper()) is None))
    def test_non_iso_currency_codes(self, code: str) -> None:
        """Property: codes ISO 4217 does not list with minor units are refused everywhere."""
        with pytest.raises(ValidationError) as caught:
            Money("1", code)
        assert caught.value.field == "currency"
        document = to_dict(sale())
        document["total"]["currency"] = code
        assert refused(document).field == "total.currency"

    @given(st.floats())
    def test_float_amounts(self, amount: float) -> None:
        """Property: a float is never an amount, in a constructor or in a document."""
        with pytest.raises(ValidationError) as caught:
            Money(amount, "CNY")  # type: ignore[arg-type]
        assert caught.value.field == "amount"
        document = to_dict(sale())
        document["total"]["amount"] = amount
        assert refused(document).field == "total.amount"

    @given(st.text(max_size=20))
    def test_texts_with_control_characters(self, text: str) -> None:
        """Property: text is accepted exactly when it holds no control characters."""
        control = any((c < " " and c not in "\t\n\r") or c == "\x7f" for c in text)
        if control:
            with pytest.raises(ValidationError) as caught:
                Interaction("001", AT, Channel.PHONE, subject=text)
            assert (caught.value.field, caught.value.value) == ("subject", text)
        else:
            Interaction("001", AT, Channel.PHONE, subject=text)

    @given(strategies.feedback())
    def test_feedback_emptied_is_refused(self, feedback: Feedback) -> None:
        """Property: removing rating, NPS and text from any feedback makes it invalid."""
        document = to_dict(feedback)
        document.update(rating=None, nps=None, text=None)
        assert refused(document).field == "rating"

    @given(
        strategies.transactions(currency="CNY"),
        strategies.currencies().filter(lambda code: code != "CNY"),
    )
    def test_after_sales_in_another_currency(self, transaction: Transaction, code: str) -> None:
        """Property: a refund in a currency other than the sale's is always refused."""
        event = AfterSalesEvent("refund", AT, Money("1", code))
        with pytest.raises(ValidationError) as caught:
            Transaction(
                transaction.customer_id,
                transaction.at,
                transaction.items,
                transaction.total,
                after_sales=[*transaction.after_sales, event],
            )
        assert caught.value.field == f"after_sales[{len(transaction.after_sales)}].amount"


class TestRequiredKeys:
    """A stored record's identity is never invented while reading it."""

    @pytest.mark.parametrize("key", ["id", "version", "created_at", "updated_at"])
    def test_customer_document_without_identity_is_refused(self, key: str) -> None:
        """Dropping id, version or a timestamp from a customer document is an error."""
        document = to_dict(Customer(id="001", name="张三"))
        del document[key]
        with pytest.raises(ValidationError) as caught:
            from_dict(document)
        assert caught.value.field == key
