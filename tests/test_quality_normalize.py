"""Normalisers: what each fixes, that they say what they changed, idempotence, stores."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from custrec.errors import ConflictError
from custrec.model import Address, Customer, Phone
from custrec.quality import (
    NORMALISERS,
    Change,
    Normaliser,
    half_width,
    normalize,
    normalize_full_width,
    normalize_latin_names,
    normalize_phones,
    normalize_regions,
    normalize_spaces,
    normalize_store,
)
from custrec.store import Store, open_store
from custrec.testing import strategies

T0 = datetime(2025, 1, 1, tzinfo=UTC)


def customer(**fields: object) -> Customer:
    fields.setdefault("created_at", T0)
    fields.setdefault("updated_at", T0)
    return Customer(**fields)  # type: ignore[arg-type]


class TestEachNormaliser:
    def test_full_width_becomes_half_width(self) -> None:
        """Full-width letters, digits and spaces in names and phones become ASCII."""
        before = customer(
            name="Ｊｏｈｎ　Ｓｍｉｔｈ", phones=[Phone("１３８１２３４５６７８", region="CN")]
        )
        after, changes = normalize_full_width(before)
        assert after.name == "John Smith"
        assert after.phones[0].raw == "13812345678"
        assert after.phones[0].e164 == "+8613812345678"
        assert [c.field for c in changes] == ["name", "phones[0].raw"]
        assert changes[0] == Change("name", "Ｊｏｈｎ　Ｓｍｉｔｈ", "John Smith")

    def test_half_width_leaves_other_characters(self) -> None:
        """Only full-width ASCII is folded: Chinese text and circled digits stay."""
        assert half_width("张三①ＡＢ") == "张三①AB"

    def test_spaces_are_trimmed_and_collapsed(self) -> None:
        """Leading, trailing and repeated spaces go, in fields and addresses."""
        before = customer(
            name="  张  三 ", company="ABC \t Trading", addresses=[Address(city=" 北京市  ")]
        )
        after, changes = normalize_spaces(before)
        assert (after.name, after.company, after.addresses[0].city) == (
            "张 三",
            "ABC Trading",
            "北京市",
        )
        assert {c.field for c in changes} == {"name", "company", "addresses[0].city"}

    def test_phones_become_e164(self) -> None:
        """Valid numbers are rewritten in E.164, keeping label and primary; invalid ones stay."""
        good = Phone("138-1234-5678", label="手机", primary=True, region="CN")
        bad = Phone("12345", region="CN")
        after, changes = normalize_phones(customer(phones=[good, bad]))
        assert after.phones[0] == Phone("+8613812345678", label="手机", primary=True, region="CN")
        assert after.phones[1] is bad
        assert changes == [Change("phones[0].raw", "138-1234-5678", "+8613812345678")]

    @pytest.mark.parametrize(
        ("province", "city", "expected"),
        [
            ("北京", "北京", ("北京市", "北京市")),
            ("广东", "深圳", ("广东省", "深圳市")),
            ("广西", "南宁", ("广西壮族自治区", "南宁市")),
            ("吉林", "吉林", ("吉林省", "吉林市")),
            ("广东省", "深圳市", ("广东省", "深圳市")),
            ("California", "San Francisco", ("California", "San Francisco")),
        ],
    )
    def test_region_aliases(self, province: str, city: str, expected: tuple[str, str]) -> None:
        """Short province and city names become the full names; others are left."""
        after, changes = normalize_regions(
            customer(addresses=[Address(province=province, city=city)])
        )
        assert (after.addresses[0].province, after.addresses[0].city) == expected
        assert len(changes) == sum(a != b for a, b in zip((province, city), expected, strict=True))

    @pytest.mark.parametrize(
        ("name", "kind", "expected"),
        [
            ("JOHN SMITH", "person", "John Smith"),
            ("mary o'brien-jones", "person", "Mary O'Brien-Jones"),
            ("McDonald", "person", "McDonald"),
            ("IBM", "organisation", "IBM"),
            ("王小明", "person", "王小明"),
            ("JOHN 王", "person", "JOHN 王"),
        ],
    )
    def test_latin_names_title_case(self, name: str, kind: str, expected: str) -> None:
        """Single-case Latin person names get title case; mixed case and others are left."""
        after, changes = normalize_latin_names(customer(name=name, kind=kind))
        assert after.name == expected
        assert bool(changes) is (name != expected)

    def test_nothing_to_do_returns_the_same_record(self) -> None:
        """A clean record comes back as the same object with no changes."""
        clean = customer(name="张三", phones=[Phone("+8613812345678")])
        assert normalize(clean) == (clean, [])
        assert normalize(clean)[0] is clean


class TestIdempotence:
    @pytest.mark.parametrize("normaliser", NORMALISERS, ids=lambda n: n.__name__)
    @given(record=strategies.customers())
    def test_each_normaliser_is_idempotent(self, normaliser: Normaliser, record: Customer) -> None:
        """Applied to its own result a normaliser changes nothing."""
        once, _ = normaliser(record)
        twice, changes = normaliser(once)
        assert changes == []
        assert twice == once

    @given(strategies.customers())
    def test_all_together_are_idempotent(self, record: Customer) -> None:
        """The whole pipeline, applied twice, changes nothing the second time."""
        once, _ = normalize(record)
        assert normalize(once) == (once, [])

    @given(strategies.customers())
    def test_changes_describe_the_difference(self, record: Customer) -> None:
        """Each change's old value is in the input and its new one in the output."""
        after, changes = normalize(record)
        assert (after == record) is (not changes)
        assert all(change.old != change.new for change in changes)


@pytest.fixture(params=["memory", "sqlite"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    url = "memory://" if request.param == "memory" else f"sqlite:///{tmp_path / 'n.db'}"
    opened = open_store(url)
    opened.customers.add_many(
        [
            customer(id="1", name=" JOHN  SMITH ", phones=[Phone("138 1234 5678", region="CN")]),
            customer(id="2", name="张三", addresses=[Address(province="北京", city="北京")]),
            customer(id="3", name="李四", phones=[Phone("+8613900000000")]),
        ]
    )
    yield opened
    opened.close()


class TestStore:
    def test_applies_changes_with_audit_entries(self, store: Store) -> None:
        """Changed customers are updated (new version) with an audit entry naming the actor."""
        seen: list[int] = []
        made = normalize_store(store, actor="cleaner", batch_size=2, progress=seen.append)
        assert sorted(made) == ["1", "2"]
        one = store.customers.get("1")
        assert (one.name, one.phones[0].raw, one.version) == ("John Smith", "+8613812345678", 2)
        assert store.customers.get("3").version == 1
        entry = store.audit("1")[-1]
        assert entry.actor == "cleaner"
        assert {change.field for change in entry.changes} >= {"name", "phones"}
        assert seen == [2, 3]
        assert normalize_store(store) == {}  # idempotent on a store too

    def test_dry_run_stores_nothing(self, store: Store) -> None:
        """A dry run reports the changes and leaves the store as it was."""
        made = normalize_store(store, dry_run=True)
        assert sorted(made) == ["1", "2"]
        assert store.customers.get("1").version == 1

    def test_all_or_nothing(self, store: Store) -> None:
        """When one update fails, none of the changes is stored."""

        def clash(record: Customer) -> tuple[Customer, list[Change]]:
            if record.id == "2":
                store.customers.update(attrs.evolve(store.customers.get("2"), notes="meanwhile"))
            return normalize(record)

        with pytest.raises(ConflictError):
            normalize_store(store, [clash])
        assert store.customers.get("1").version == 1
        assert store.customers.get("2").notes is None


@given(st.text(max_size=20))
def test_half_width_is_idempotent(text: str) -> None:
    """Folding full-width text twice gives what folding once gives."""
    assert half_width(half_width(text)) == half_width(text)
