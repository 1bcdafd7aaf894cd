"""Tests for custrec._fastcodec: the generated fast paths behave exactly as the converter."""

from __future__ import annotations

import copy
import json
import sqlite3
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from custrec import _fastcodec, serialize
from custrec.errors import StoreError, ValidationError
from custrec.model import Customer, Feedback, Interaction, Phone, Record, Transaction
from custrec.serialize import converter, from_dict, from_json, to_dict, to_json
from custrec.store import open_store
from custrec.testing import strategies

RECORD_STRATEGIES: dict[str, Callable[[], st.SearchStrategy[Any]]] = {
    "customer": strategies.customers,
    "interaction": strategies.interactions,
    "transaction": strategies.transactions,
    "feedback": strategies.feedback,
}

# Values a document may hold that the strict path reads differently from how they are
# written: blanks, aliases, free text, case and width variants, control characters,
# repeats, wrong types. The fast path must either give up on them or agree.
TRICKY = st.sampled_from(
    [
        "",
        "   ",
        "\u3000",
        "x\x00y",
        "x\x7fy",
        "a\tb",
        "微信",
        "WeChat",
        " wechat ",
        "Telegram",
        "cn",
        "CN",
        "ZZ",
        "A@EXAMPLE.COM",
        "ａｂｃ",
        "+8613812345678",
        "not a phone",
        "2024-10-05",
        "2024-10-05T14:30:00",
        "2024-10-05T14:30:00+08:00",
        "1.005",
        "NaN",
        "1e3",
        0,
        -1,
        1,
        11,
        True,
        False,
        None,
        1.5,
        [],
        ["a", "a"],
        ["a", " "],
        [1],
        {},
        {"1bad": 1},
        {"ok": [1]},
    ]
)
JUNK = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=6) | TRICKY,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner),
    max_leaves=5,
)


def strict(document: dict[str, Any], cls: type[Any] | None = None) -> Any:
    """The strict path alone, as ``from_dict`` ran before the fast path existed."""
    return serialize._from_dict_strict(copy.deepcopy(document), cls)


def outcome(read: Callable[[], Any]) -> tuple[Any, ...]:
    """A comparable summary of a read: the record, or every problem it reported."""
    try:
        return ("record", read())
    except ValidationError as exc:
        return ("refused", [(e.field, repr(e.value), e.reason) for e in exc.errors])


def paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every path into ``value``'s containers, the root excluded."""
    items = (
        value.items()
        if isinstance(value, dict)
        else enumerate(value)
        if isinstance(value, list)
        else ()
    )
    found: list[tuple[Any, ...]] = []
    for key, item in items:
        found.append((*prefix, key))
        found.extend(paths(item, (*prefix, key)))
    return found


def same_json(left: Any, right: Any) -> bool:
    """Equal values of equal types all the way down (``1 == True`` and ``[] == ()`` are not)."""
    if type(left) is not type(right):
        return False
    if isinstance(left, dict):
        return list(left) == list(right) and all(same_json(left[k], right[k]) for k in left)
    if isinstance(left, list):
        return len(left) == len(right) and all(map(same_json, left, right))
    return bool(left == right)


class TestFastRead:
    """Documents custrec writes are read by the generated path, into equal records."""

    @pytest.mark.parametrize("name", sorted(RECORD_STRATEGIES))
    @given(data=st.data())
    def test_fast_path_equals_strict_path(self, name: str, data: st.DataObject) -> None:
        """Property: for every record type, the fast read takes the document and agrees."""
        record = data.draw(RECORD_STRATEGIES[name]())
        document = to_dict(record)
        fast = serialize._fast.read(copy.deepcopy(document), type(record))
        assert fast is not None, "the fast path gave up on a document custrec wrote"
        assert fast == strict(document) == record
        assert same_json(to_dict(fast), document)

    @given(strategies.records(), st.data(), JUNK)
    def test_a_changed_document_reads_as_strictly(
        self, record: Record, data: st.DataObject, junk: Any
    ) -> None:
        """Property: with anything anywhere, from_dict gives what the strict path gives.

        The same record, or the same problems (field, value and reason) in the same order.
        """
        document = to_dict(record)
        path = data.draw(st.sampled_from(paths(document)))
        target: Any = document
        for step in path[:-1]:
            target = target[step]
        target[path[-1]] = junk
        expected = outcome(lambda: strict(document))
        assert outcome(lambda: from_dict(copy.deepcopy(document))) == expected
        assert outcome(lambda: from_json(json.dumps(document))) == expected

    @given(strategies.records(), st.sampled_from(["extra", "missing"]))
    def test_extra_and_missing_keys_are_refused_as_strictly(
        self, record: Record, change: str
    ) -> None:
        """Property: an unknown key or a missing required one is refused with its name."""
        document = to_dict(record)
        if change == "extra":
            document["surprise"] = 1
        else:
            del document["id"]
        expected = outcome(lambda: strict(document))
        assert expected[0] == "refused"
        assert outcome(lambda: from_dict(copy.deepcopy(document))) == expected

    def test_wrong_types_name_the_field(self) -> None:
        """A text where a bool belongs, deep inside, is refused naming the path."""
        document = to_dict(Customer(id="001", phones=[Phone("13812345678")]))
        document["phones"][0]["primary"] = "yes"
        with pytest.raises(ValidationError) as caught:
            from_dict(document)
        assert caught.value.field == "phones[0].primary"
        assert caught.value.value == "yes"

    def test_older_schema_versions_take_the_strict_path(self) -> None:
        """A document of another schema version is never read by the fast path."""
        document = to_dict(Customer(id="001"))
        document["schema_version"] = 0
        assert serialize._fast.read(document, Customer) is None
        with pytest.raises(ValidationError) as caught:
            from_dict(document)
        assert caught.value.field == "schema_version"

    def test_switched_off_validators_take_the_strict_path(self) -> None:
        """With attrs validators switched off, the fast path leaves reading to cattrs."""
        record = Customer(id="001")
        document = to_dict(record)
        with attrs.validators.disabled():
            assert serialize._fast.read(document, Customer) is None
            assert from_dict(document) == record

    @pytest.mark.parametrize("cls", [Customer, Interaction, Transaction, Feedback])
    def test_a_document_of_another_type_is_refused(self, cls: type[Any]) -> None:
        """Asking for one record type with another's document is refused, as strictly."""
        document = to_dict(Customer(id="001"))
        if cls is Customer:
            assert from_dict(document, cls) == strict(document, cls)
        else:
            expected = outcome(lambda: strict(document, cls))
            assert outcome(lambda: from_dict(document, cls)) == expected


# Text that JSON escapes or might: quotes, backslash, non-BMP and CJK characters (control
# characters never reach a record: text fields refuse them).
TEXTS_TO_ESCAPE = ['"', "\\", "\U0001f600", "<script>", "客户", 'a\\"b']


class TestFastWrite:
    """The generated writer gives exactly the converter's documents."""

    @pytest.mark.parametrize("name", sorted(RECORD_STRATEGIES))
    @given(data=st.data())
    def test_fast_write_equals_converter(self, name: str, data: st.DataObject) -> None:
        """Property: same keys in the same order, same values of the same types."""
        record = data.draw(RECORD_STRATEGIES[name]())
        fast = serialize._fast.write(record)
        assert fast is not None
        expected = {"type": name, "schema_version": 1, **converter.unstructure(record)}
        assert same_json(fast, expected)
        assert same_json(to_dict(record), expected)

    @pytest.mark.parametrize("name", sorted(RECORD_STRATEGIES))
    @given(data=st.data())
    def test_json_text_equals_json_dumps_of_the_document(
        self, name: str, data: st.DataObject
    ) -> None:
        """Property: the generated JSON encoder writes json.dumps' text, character for character."""
        record = data.draw(RECORD_STRATEGIES[name]())
        fast = serialize._fast.dumps(record)
        assert fast is not None
        expected = json.dumps(to_dict(record), ensure_ascii=False, separators=(",", ":"))
        assert fast == expected
        assert to_json(record) == expected
        assert from_json(fast) == record

    @given(strategies.customers(), st.sampled_from(TEXTS_TO_ESCAPE))
    def test_json_text_escapes_as_json_dumps(self, customer: Customer, text: str) -> None:
        """Quotes, backslashes and characters beyond ASCII come out as json.dumps writes them."""
        record = attrs.evolve(customer, notes=f"a{text}b", tags=frozenset({text, "t"}))
        expected = json.dumps(to_dict(record), ensure_ascii=False, separators=(",", ":"))
        assert to_json(record) == expected

    @given(
        st.recursive(
            st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
            lambda inner: (
                st.lists(inner, max_size=3).map(tuple)
                | st.lists(inner, max_size=3)
                | st.dictionaries(st.text(max_size=5) | st.integers(), inner, max_size=3)
            ),
            max_leaves=8,
        )
    )
    def test_map_encoder_writes_what_json_dumps_writes(self, value: Any) -> None:
        """Property: the encoder made once for maps writes json.dumps' text of any JSON
        value, tuples as lists (the converter's lists), as the standard encoder does."""
        assert _fastcodec._ENCODE_CHUNKS is not None
        expected = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
        assert "".join(_fastcodec._ENCODE_CHUNKS({"k": value}, 0)) == f'{{"k":{expected}}}'

    @pytest.mark.parametrize(
        "custom",
        [
            {},
            {"a": 1, "b": True, "c": None, "d": 1.25, "e": '客户"\\', "f": ["x", "y"]},
            {"tags": [], "n": -(2**70), "z": 1e300},
        ],
    )
    @pytest.mark.parametrize("external_ids", [{}, {"erp": "E-1", "客户系统": "\U0001f600"}])
    def test_custom_values_and_external_ids_as_json_dumps(
        self, custom: dict[str, Any], external_ids: dict[str, str]
    ) -> None:
        """Maps are written from their own dict: same text as json.dumps of the document."""
        record = Customer(id="001", custom=custom, external_ids=external_ids)
        fast = serialize._fast.dumps(record)
        assert fast == json.dumps(to_dict(record), ensure_ascii=False, separators=(",", ":"))
        assert from_json(fast) == record

    def test_a_map_that_is_not_a_frozenmap_takes_the_converters_path(self) -> None:
        """A record whose map was swapped for a dict behind attrs' back is still written
        as json.dumps writes its document (the fast encoder gives up on it)."""
        record = Customer(id="001")
        object.__setattr__(record, "custom", {"a": ("x",)})
        assert serialize._fast.dumps(record) is None
        expected = json.dumps(to_dict(record), ensure_ascii=False, separators=(",", ":"))
        assert to_json(record) == expected
        assert '"custom":{"a":["x"]}' in expected

    @pytest.mark.parametrize("same", ["object", "equal", "different"])
    def test_times_shared_by_fields_are_written_for_each(self, same: str) -> None:
        """created_at and updated_at as one object, as equal objects, or different: each
        field gets its own time's text (one object's text is made once)."""
        created = datetime(2024, 10, 5, 14, 30, 0, 123, tzinfo=timezone(timedelta(hours=8)))
        updated = {
            "object": created,
            "equal": created.astimezone(UTC),
            "different": created + timedelta(seconds=1),
        }[same]
        record = Customer(id="001", created_at=created, updated_at=updated)
        assert (record.updated_at is record.created_at) == (same == "object")
        fast = serialize._fast.dumps(record)
        assert fast == json.dumps(to_dict(record), ensure_ascii=False, separators=(",", ":"))
        assert f'"updated_at":"{updated.isoformat()}"' in fast

    def test_a_subclass_is_written_by_the_converter(self) -> None:
        """Only the record classes themselves get the generated writer."""

        @attrs.frozen
        class Special(Customer):
            pass

        assert serialize._fast.write(Special(id="001")) is None
        assert serialize._fast.dumps(Special(id="001")) is None


class TestCorruptedStore:
    """A damaged document in an SQLite file gives a clear error, never a wrong record."""

    @pytest.mark.parametrize(
        ("change", "field"),
        [
            ("json_set(doc, '$.phones[0].primary', 'yes')", "phones[0].primary"),
            ("json_set(doc, '$.version', '2')", "version"),
            ("json_set(doc, '$.created_at', '2024-10-05T14:30:00')", "created_at"),
            ("json_set(doc, '$.name', 42)", "name"),
            ("json_set(doc, '$.tags', json('[1]'))", "tags"),
            ("json_set(doc, '$.phones[0].e164', 5)", "phones[0].e164"),
            ("json_set(doc, '$.surprise', 1)", "surprise"),
            ("json_remove(doc, '$.updated_at')", "updated_at"),
            ("json_set(doc, '$.schema_version', 99)", "schema_version"),
        ],
    )
    def test_get_and_lookups_name_the_bad_field(
        self, tmp_path: Path, change: str, field: str
    ) -> None:
        """Reading a corrupted customer raises StoreError naming the record and the field."""
        path = tmp_path / "corrupt.db"
        with open_store(f"sqlite:///{path}") as store:
            store.customers.add(Customer(id="001", phones=[Phone("13812345678")]))
        with sqlite3.connect(path) as conn:
            conn.execute(f"UPDATE customers SET doc = {change} WHERE id = '001'")  # noqa: S608 - fixed test SQL
        with open_store(f"sqlite:///{path}") as store:
            for read in (
                lambda: store.customers.get("001"),
                lambda: store.customers.find_by_phone("13812345678"),
                lambda: list(store.customers),
            ):
                with pytest.raises(StoreError) as caught:
                    read()
                assert "'001'" in str(caught.value)
                cause = caught.value.__cause__
                assert isinstance(cause, ValidationError)
                assert cause.field == field
