"""The synthetic data generator and the sample file shipped with the examples."""

from __future__ import annotations

import importlib.util
import itertools
import re
from collections import Counter
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from types import ModuleType

import attrs
import pytest

from custrec import from_json, to_json
from custrec.errors import ImportRowError, ValidationError
from custrec.model import (
    Customer,
    CustomerKind,
    FeedbackTopic,
    HandleNetwork,
    HistoryRecord,
    Money,
    TransactionStatus,
)
from custrec.store import contact_keys
from custrec.testing import synthetic
from custrec.testing.synthetic import Dataset, Profile, generate, iter_customers, iter_history

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "examples" / "data" / "sample.jsonl"
MAKE_SAMPLE = ROOT / "examples" / "data" / "make_sample.py"


@pytest.fixture(scope="module")
def dataset() -> Dataset:
    return generate(400, seed=11)


@pytest.fixture(scope="module")
def big() -> Dataset:
    """Enough customers for the shares and the skew to show."""
    return generate(3000, seed=5)


def _load_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("make_sample", MAKE_SAMPLE)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class TestDeterminism:
    def test_same_seed_same_dataset(self, dataset: Dataset) -> None:
        """Same arguments give equal records, down to ids, timestamps and JSON bytes."""
        again = generate(400, seed=11)
        assert again == dataset
        assert [to_json(r) for r in again.records()] == [to_json(r) for r in dataset.records()]

    def test_different_seed_differs(self, dataset: Dataset) -> None:
        """Another seed gives other customers (the ids stay C000001…)."""
        other = generate(400, seed=12)
        assert [c.id for c in other.customers] == [c.id for c in dataset.customers]
        assert [c.name for c in other.customers] != [c.name for c in dataset.customers]
        assert other.transactions != dataset.transactions

    def test_start_moves_every_moment(self) -> None:
        """Timestamps derive from ``start``: a later start shifts the records, nothing else."""
        early = generate(30, seed=3, start=date(2020, 1, 1))
        late = generate(30, seed=3, start=date(2020, 1, 11))
        shift = timedelta(days=10)
        assert [c.created_at + shift for c in early.customers] == [
            c.created_at for c in late.customers
        ]
        assert [t.at + shift for t in early.transactions] == [t.at for t in late.transactions]

    def test_prefix_stable(self, dataset: Dataset) -> None:
        """The first k customers of n, and their history, are those of generate(k)."""
        small = generate(150, seed=11)
        assert small.customers == dataset.customers[:150]
        ids = {c.id for c in small.customers}
        assert small.transactions == tuple(t for t in dataset.transactions if t.customer_id in ids)
        assert small.feedback == tuple(f for f in dataset.feedback if f.customer_id in ids)

    def test_streams_match_generate(self, dataset: Dataset) -> None:
        """iter_customers and iter_history make exactly what generate returns."""
        customers = tuple(iter_customers(400, seed=11))
        assert customers == dataset.customers
        history = list(iter_history(customers, seed=11))
        made: list[HistoryRecord] = [
            *dataset.interactions,
            *dataset.transactions,
            *dataset.feedback,
        ]
        assert sorted(history, key=lambda r: r.id) == sorted(made, key=lambda r: r.id)

    def test_iter_history_is_lazy(self) -> None:
        """History is made customer by customer, reading the customers as it goes."""
        customers = iter_customers(1000, seed=1)
        history = iter_history(customers, seed=1)
        first = next(history)
        assert first.customer_id.startswith("C")
        assert next(customers).id < "C001000"  # most customers are still unread


class TestCounts:
    def test_counts_and_ids(self, dataset: Dataset) -> None:
        """n customers, ids C000001… zero-padded, history ids unique per kind."""
        assert len(dataset.customers) == 400
        assert [c.id for c in dataset.customers] == [f"C{i:06d}" for i in range(1, 401)]
        assert len(dataset) == sum(1 for _ in dataset.records())
        for kind, letter in (
            (dataset.interactions, "I"),
            (dataset.transactions, "T"),
            (dataset.feedback, "F"),
        ):
            ids = [r.id for r in kind]
            assert len(set(ids)) == len(ids)
            assert all(re.fullmatch(rf"{letter}\d{{8}}", ident) for ident in ids)

    def test_zero_customers(self) -> None:
        """generate(0) is an empty dataset."""
        assert len(generate(0)) == 0

    def test_history_is_skewed(self, big: Dataset) -> None:
        """Many customers have few orders, a few have many."""
        per = Counter(t.customer_id for t in big.transactions)
        counts = [per.get(c.id, 0) for c in big.customers]
        mean = sum(counts) / len(counts)
        assert 2 < mean < 5
        assert sum(1 for n in counts if n <= 1) > len(counts) / 4
        assert max(counts) > 6 * mean

    def test_profile_changes_the_mix(self) -> None:
        """Knobs do what they say: all organisations, no transactions."""
        profile = Profile(organisation_share=1.0, transactions_per_customer=0)
        data = generate(50, seed=2, profile=profile)
        assert all(c.kind is CustomerKind.ORGANISATION for c in data.customers)
        assert data.transactions == ()
        assert data.interactions


class TestValidity:
    def test_every_record_is_what_the_constructors_build(self, dataset: Dataset) -> None:
        """Each record equals its validated rebuild from JSON, and writes the same JSON.

        from_json runs every converter and validator (and re-parses phone numbers), so
        this proves the generator's shortcut builds exactly what the constructors would.
        """
        for record in dataset.records():
            text = to_json(record)
            rebuilt = from_json(text)
            assert rebuilt == record, text
            assert to_json(rebuilt) == text

    def test_evolve_keeps_records_equal(self, dataset: Dataset) -> None:
        """Running the constructors over a record's own values changes nothing."""
        for record in itertools.islice(dataset.records(), 0, None, 7):
            assert attrs.evolve(record) == record

    def test_history_belongs_to_known_customers(self, dataset: Dataset) -> None:
        """Every history record names a customer of the dataset and follows its creation."""
        created = {c.id: c.created_at for c in dataset.customers}
        history: list[HistoryRecord] = [
            *dataset.interactions,
            *dataset.transactions,
            *dataset.feedback,
        ]
        for record in history:
            assert record.customer_id in created
            assert record.at >= created[record.customer_id]

    def test_feedback_points_at_real_records(self, dataset: Dataset) -> None:
        """Feedback about a transaction or interaction names one of the same customer."""
        about: list[HistoryRecord] = [*dataset.transactions, *dataset.interactions]
        owners = {r.id: r.customer_id for r in about}
        for item in dataset.feedback:
            assert item.rating is not None or item.nps is not None
            if item.topic in (FeedbackTopic.TRANSACTION, FeedbackTopic.INTERACTION):
                assert item.about_id is not None
                assert owners[item.about_id] == item.customer_id

    def test_refunds_never_exceed_totals(self, big: Dataset) -> None:
        """After-sales money is never more than the total; a full refund marks it refunded."""
        with_after_sales = [t for t in big.transactions if t.after_sales]
        assert with_after_sales
        for sale in big.transactions:
            assert sale.total == sale.items_total
            assert Money(Decimal(0), "CNY") <= sale.refunded <= sale.total
            if sale.status is TransactionStatus.REFUNDED:
                assert sale.refunded == sale.total
            for event in sale.after_sales:
                assert event.at >= sale.at

    def test_moments_are_aware_and_in_the_period(self, dataset: Dataset) -> None:
        """Every moment is +08:00 and within start .. start + span_days."""
        start = datetime(2023, 1, 1, tzinfo=synthetic.TIMEZONE)
        end = start + timedelta(days=Profile().span_days)
        for customer in dataset.customers:
            for moment in (customer.created_at, customer.updated_at, customer.reviewed_at):
                if moment is not None:
                    assert moment.utcoffset() == timedelta(hours=8)
                    assert start <= moment <= end
            assert customer.updated_at >= customer.created_at
        history: list[HistoryRecord] = [*dataset.interactions, *dataset.transactions]
        for record in history:
            assert start <= record.at <= end


class TestRealism:
    def test_names_and_kinds(self, big: Dataset) -> None:
        """About 70% of persons have Chinese names; some customers are organisations."""
        persons = [c for c in big.customers if c.kind is CustomerKind.PERSON]
        chinese = [c for c in persons if re.fullmatch(r"[\u4e00-\u9fff]{2,4}", c.name or "")]
        assert 0.62 < len(chinese) / len(persons) < 0.78
        organisations = [c for c in big.customers if c.kind is CustomerKind.ORGANISATION]
        assert 0.04 < len(organisations) / len(big.customers) < 0.12
        assert all(o.industry and o.name and "公司" in o.name for o in organisations)

    def test_phones(self, big: Dataset) -> None:
        """Valid numbers: mostly CN mobiles with real prefixes, some landlines, a few foreign."""
        phones = [p for c in big.customers for p in c.phones]
        assert all(p.valid for p in phones)
        mobiles = [p for p in phones if re.fullmatch(r"\+861[3-9]\d{9}", p.e164 or "")]
        foreign = [p for p in phones if not (p.e164 or "").startswith("+86")]
        assert len(mobiles) > 0.7 * len(phones)
        assert {p.e164[3:5] for p in mobiles} >= {"13", "15", "17", "18", "19"}  # type: ignore[index]
        assert 0 < len(foreign) < 0.08 * len(phones)
        assert len(phones) - len(mobiles) - len(foreign) > 0.05 * len(phones)

    def test_contact_points_are_unique(self, big: Dataset) -> None:
        """No two customers share a phone, email or handle (duplicates come only on purpose)."""
        owners = Counter(key for c in big.customers for key in set(contact_keys(c)))
        assert [key for key, count in owners.items() if count > 1] == []

    def test_profiles_are_filled_like_real_files(self, big: Dataset) -> None:
        """Emails, WeChat, addresses, birth dates (some missing), tags and custom fields."""
        customers = big.customers
        persons = [c for c in customers if c.kind is CustomerKind.PERSON]
        assert 0.5 < sum(bool(c.emails) for c in customers) / len(customers) < 0.95
        wechat = [c for c in customers if any(h.network is HandleNetwork.WECHAT for h in c.handles)]
        assert len(wechat) > 0.4 * len(customers)
        cn = [a for c in customers for a in c.addresses if a.country == "CN"]
        assert len({(a.province, a.city, a.district) for a in cn}) >= 25
        assert all(a.postal_code and len(a.postal_code) == 6 for a in cn)
        assert any(a.country != "CN" for c in customers for a in c.addresses)
        missing = sum(c.birth_date is None for c in persons) / len(persons)
        assert 0.05 < missing < 0.2
        ages = [c.age(c.created_at.date()) for c in persons if c.birth_date is not None]
        assert min(a for a in ages if a is not None) >= 18
        assert max(a for a in ages if a is not None) <= 81
        assert any("vip" in c.tags for c in customers)
        assert all("member_level" in c.custom for c in customers)


class TestArguments:
    @pytest.mark.parametrize("count", [-1, 1.5, True, synthetic.MAX_CUSTOMERS + 1])
    def test_bad_counts_are_refused_at_once(self, count: object) -> None:
        """A bad count fails when the iterator is made, not when it is first read."""
        with pytest.raises(ValidationError):
            iter_customers(count)  # type: ignore[arg-type]

    def test_bad_seed_and_start(self) -> None:
        """Seeds are whole numbers; start is a date."""
        with pytest.raises(ValidationError):
            generate(1, seed=True)
        with pytest.raises(ValidationError):
            generate(1, start=datetime(2024, 1, 1))

    @pytest.mark.parametrize(
        "change",
        [
            {"chinese_share": 1.5},
            {"organisation_share": -0.1},
            {"transactions_per_customer": float("inf")},
            {"span_days": 0},
            {"currency": "XXX"},
            {"id_prefix": " C"},
        ],
    )
    def test_profile_checks_its_knobs(self, change: dict[str, object]) -> None:
        """Shares are 0-1, means finite, the span positive, the currency real."""
        with pytest.raises(ValidationError):
            Profile(**change)  # type: ignore[arg-type]


class TestJsonLines:
    def test_write_then_load(self, dataset: Dataset, tmp_path: Path) -> None:
        """load_jsonl reads back exactly what write_jsonl wrote."""
        path = tmp_path / "data.jsonl"
        assert synthetic.write_jsonl(dataset, path) == len(dataset)
        assert synthetic.load_jsonl(path) == dataset

    def test_customers_come_first(self, dataset: Dataset, tmp_path: Path) -> None:
        """The file lists customers before any history, so it can be stored line by line."""
        path = tmp_path / "data.jsonl"
        synthetic.write_jsonl(dataset, path)
        lines = path.read_text(encoding="utf-8").splitlines()
        kinds = [line.split('"type":"')[1].split('"')[0] for line in lines]
        first_history = kinds.index("interaction")
        assert set(kinds[:first_history]) == {"customer"}
        assert "customer" not in kinds[first_history:]

    def test_bad_line_names_its_row(self, tmp_path: Path) -> None:
        """A line that is not a record raises ImportRowError with its line number."""
        path = tmp_path / "bad.jsonl"
        good = to_json(Customer(id="001", name="张三"))
        path.write_text(f'{good}\n\n{{"type": "customer", "id": 7}}\n', encoding="utf-8")
        with pytest.raises(ImportRowError) as caught:
            synthetic.load_jsonl(path)
        assert caught.value.row == 3


class TestSampleFile:
    def test_sample_loads(self) -> None:
        """The shipped sample has 1,000 customers and history that names them."""
        data = synthetic.load_jsonl(SAMPLE)
        assert len(data.customers) == 1000
        assert data.transactions
        assert data.interactions
        assert data.feedback
        ids = {c.id for c in data.customers}
        assert {t.customer_id for t in data.transactions} <= ids
        assert SAMPLE.stat().st_size < 5_000_000

    def test_script_reproduces_the_sample(self, tmp_path: Path) -> None:
        """Regenerating with the script's seed gives the shipped file, byte for byte."""
        script = _load_script()
        out = tmp_path / "sample.jsonl"
        assert script.main(["--output", str(out)]) == 0
        assert out.read_bytes() == SAMPLE.read_bytes()
