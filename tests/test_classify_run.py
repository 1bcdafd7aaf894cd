"""Running a classification: presets over the sample data, saving, label changes, follow-ups."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from custrec import config, from_json
from custrec.classify import (
    CHANGES_COLLECTION,
    LABELS_COLLECTION,
    Classification,
    CustomerType,
    Facts,
    FollowUp,
    LabelChange,
    Rule,
    RuleDimension,
    ValueTier,
    compute_facts,
    due_follow_ups,
    label_changes,
    stored_type,
)
from custrec.errors import ValidationError
from custrec.model import Customer, FrozenMap, Interaction, Money, Transaction
from custrec.store import Collection, Store, open_store
from custrec.template import DimensionSpec, FollowUpPolicy, Template
from custrec.testing.synthetic import generate

AS_OF = date(2024, 6, 30)
SAMPLE = Path(__file__).resolve().parents[1] / "examples" / "data" / "sample.jsonl"
SAMPLE_AS_OF = date(2025, 1, 1)


@pytest.fixture(autouse=True)
def _utc() -> Iterator[None]:
    """Facts count days in the configured zone; these tests fix it to UTC."""
    with config.using(timezone="UTC"):
        yield


def fill(store: Store, records: list[Any]) -> Store:
    """Add records to a store, customers first."""
    for kind in (Customer, Interaction, Transaction):
        batch = [r for r in records if isinstance(r, kind)]
        if batch:
            store.repository(kind).add_many(batch)
    others = [r for r in records if not isinstance(r, Customer | Interaction | Transaction)]
    if others:
        store.feedback.add_many(others)
    return store


@pytest.fixture(scope="module")
def sample_store() -> Store:
    """The 1,000-customer sample in a memory store (read once per module)."""
    try:
        from custrec.testing.synthetic import load_jsonl
    except ImportError:  # pragma: no cover - older test kits without load_jsonl
        records = [from_json(line) for line in SAMPLE.read_text("utf-8").splitlines() if line]
    else:
        data = load_jsonl(SAMPLE)
        records = [*data.customers, *data.interactions, *data.transactions, *data.feedback]
    return fill(open_store("memory://"), records)


class TestPresetsOnSample:
    """Every preset classifies the sample data, and every label explains itself."""

    @pytest.mark.parametrize("name", ["retail", "hotel", "b2b"])
    def test_every_customer_every_dimension_explained(self, sample_store: Store, name: str) -> None:
        """Each customer gets one explained label per dimension, in the template's order."""
        template = Template.preset(name)
        run = Classification.from_template(template).run(sample_store, SAMPLE_AS_OF, save=False)
        dimensions = [d.name for d in template.dimensions]
        assert len(run.types) == 1000
        assert run.changes == ()
        assert list(run.types) == sorted(run.types)
        for cid, kind in run.types.items():
            assert kind.customer_id == cid
            assert kind.as_of == SAMPLE_AS_OF
            assert [label.dimension for label in kind.labels] == dimensions
            for label in kind.labels:
                assert label.label
                assert label.reason
                assert label.values, label
                assert label.explain().startswith(f"{label.dimension} = {label.label}: ")
            assert len(kind.explain().splitlines()) == len(dimensions)

    @pytest.mark.parametrize("name", ["retail", "hotel", "b2b"])
    def test_rule_labels_name_their_rule(self, sample_store: Store, name: str) -> None:
        """A label from a template rule carries that rule's text; a default carries none."""
        template = Template.preset(name)
        run = Classification.from_template(template).run(sample_store, SAMPLE_AS_OF, save=False)
        for spec in template.dimensions:
            if spec.classifier is not None:
                continue
            texts = {rule.when: rule.label for rule in spec.rules}
            for kind in run.types.values():
                label = kind.label(spec.name)
                if label.rule is None:
                    assert label.label == spec.default
                else:
                    assert texts[label.rule] == label.label

    def test_retail_spreads_customers(self, sample_store: Store) -> None:
        """On realistic data the retail dimensions use several labels, not one."""
        run = Classification.from_template(Template.preset("retail")).run(
            sample_store, SAMPLE_AS_OF, save=False
        )
        for dimension in ("value_tier", "frequency", "rfm", "lifecycle", "region"):
            counts = Counter(kind[dimension] for kind in run.types.values())
            assert len(counts) >= 3, (dimension, counts)

    def test_two_runs_are_equal(self, sample_store: Store) -> None:
        """Classifying the same data twice gives the same types and explanations."""
        classification = Classification.from_template(Template.preset("retail"))
        first = classification.run(sample_store, SAMPLE_AS_OF, save=False)
        second = Classification.from_template(Template.preset("retail")).run(
            sample_store, SAMPLE_AS_OF, save=False
        )
        assert first.types == second.types


@pytest.fixture(scope="module")
def population() -> list[Facts]:
    """Facts of 80 generated customers."""
    data = generate(80, seed=11)
    records = [*data.customers, *data.interactions, *data.transactions, *data.feedback]
    with config.using(timezone="UTC"):
        return compute_facts(fill(open_store("memory://"), records), SAMPLE_AS_OF)


class TestDeterminism:
    """The order customers come in never changes their types."""

    @settings(max_examples=15)
    @given(order=st.randoms())
    def test_shuffled_population(self, population: list[Facts], order: Any) -> None:
        """Classifying a shuffled population gives every customer the same type."""
        templates = [Template.preset("retail"), Template.preset("hotel")]
        shuffled = list(population)
        order.shuffle(shuffled)
        for template in templates:
            classification = Classification.from_template(template)
            assert classification.classify(shuffled) == classification.classify(population)


# --- saving and changes -------------------------------------------------------------------

CREATED = datetime(2023, 1, 1, tzinfo=UTC)


def moment(days_before: int, on: date = AS_OF) -> datetime:
    """Noon UTC, ``days_before`` the day ``on``."""
    return datetime.combine(on - timedelta(days=days_before), time(12), UTC)


def spend(cid: str, amount: str, days_before: int = 5) -> Transaction:
    """A CNY sale."""
    return Transaction(cid, moment(days_before), total=Money(amount, "CNY"))


def tiers() -> Classification:
    """Value tier by thresholds, and vip by tag."""
    return Classification(
        [
            ValueTier(DimensionSpec("value_tier", classifier="value_tier")),
            RuleDimension("vip", [Rule("yes", "has_tag('vip')")], "no"),
        ]
    )


@pytest.fixture
def shop() -> Store:
    """Three customers: a big spender, a vip, and one with a small order."""
    return fill(
        open_store("memory://"),
        [
            Customer(id="a", name="A", created_at=CREATED),
            Customer(id="b", name="B", tags=["vip"], created_at=CREATED),
            Customer(id="c", name="C", created_at=CREATED),
            spend("a", "12000.00"),
            spend("c", "100.00"),
        ],
    )


class TestSaving:
    """Types are stored with their as-of date; label changes are recorded and reported."""

    def test_first_run_reports_every_label_as_new(self, shop: Store) -> None:
        """A first run records old=None for every customer and dimension, and tells subscribers."""
        classification = tiers()
        heard: list[LabelChange] = []
        classification.on_change(heard.append)
        run = classification.run(shop, AS_OF)
        expected = [
            LabelChange("a", "value_tier", None, "high", AS_OF),
            LabelChange("a", "vip", None, "no", AS_OF),
            LabelChange("b", "value_tier", None, "low", AS_OF),
            LabelChange("b", "vip", None, "yes", AS_OF),
            LabelChange("c", "value_tier", None, "low", AS_OF),
            LabelChange("c", "vip", None, "no", AS_OF),
        ]
        assert list(run.changes) == expected
        assert heard == expected
        assert label_changes(shop, "b") == expected[2:4]

    def test_stored_type(self, shop: Store) -> None:
        """stored_type returns what was saved, with its as-of date."""
        run = tiers().run(shop, AS_OF)
        for cid in "abc":
            stored = stored_type(shop, cid)
            assert stored is not None
            assert stored.as_of == AS_OF
            assert stored.to_dict() == run.types[cid].to_dict()
            assert stored.key == run.types[cid].key
        assert stored_type(shop, "nobody") is None
        assert label_changes(shop, "nobody") == []

    def test_unchanged_rerun_reports_nothing(self, shop: Store) -> None:
        """Classifying unchanged data again records no change and calls nobody."""
        classification = tiers()
        classification.run(shop, AS_OF)
        heard: list[LabelChange] = []
        classification.on_change(heard.append)
        later = AS_OF + timedelta(days=1)
        run = classification.run(shop, later)
        assert run.changes == ()
        assert heard == []
        stored = stored_type(shop, "a")
        assert stored is not None
        assert stored.as_of == later

    def test_change_is_recorded_and_reported_once(self, shop: Store) -> None:
        """A customer moving tier is one LabelChange, stored and reported exactly once."""
        classification = tiers()
        classification.run(shop, AS_OF)
        shop.transactions.add(spend("c", "20000.00", days_before=1))
        heard: list[LabelChange] = []

        @classification.on_change
        def listen(change: LabelChange) -> None:
            heard.append(change)

        later = AS_OF + timedelta(days=7)
        run = classification.run(shop, later)
        change = LabelChange("c", "value_tier", "low", "high", later)
        assert run.changes == (change,)
        assert heard == [change]
        assert label_changes(shop, "c") == [
            LabelChange("c", "value_tier", None, "low", AS_OF),
            LabelChange("c", "vip", None, "no", AS_OF),
            change,
        ]
        assert stored_type(shop, "c")["value_tier"] == "high"  # type: ignore[index]

    def test_save_false_stores_nothing(self, shop: Store) -> None:
        """run(save=False) classifies without storing or reporting."""
        classification = tiers()
        heard: list[LabelChange] = []
        classification.on_change(heard.append)
        run = classification.run(shop, AS_OF, save=False)
        assert len(run.types) == 3
        assert run.changes == ()
        assert heard == []
        assert stored_type(shop, "a") is None
        assert list(shop.collection(CHANGES_COLLECTION).items()) == []

    def test_subscriber_error_keeps_saved_labels(self, shop: Store) -> None:
        """A failing callback stops the run; batches stored before it stay stored."""
        classification = tiers()

        def explode(change: LabelChange) -> None:
            raise RuntimeError(change.customer_id)

        classification.on_change(explode)
        with pytest.raises(RuntimeError, match="a"):
            classification.run(shop, AS_OF, batch_size=1)
        assert stored_type(shop, "a") is not None
        assert stored_type(shop, "b") is None
        assert stored_type(shop, "c") is None
        rerun = tiers().run(shop, AS_OF)
        assert {change.customer_id for change in rerun.changes} == {"b", "c"}

    def test_failed_batch_is_not_half_saved(
        self, shop: Store, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """A batch whose saving fails leaves nothing of itself behind (one unit of work)."""
        real_put = Collection.put
        calls = iter(range(100))

        def failing_put(self: Collection, key: str, document: Any) -> None:
            if next(calls) == 4:
                raise OSError("disk full")
            real_put(self, key, document)

        monkeypatch.setattr(Collection, "put", failing_put)
        with pytest.raises(OSError, match="disk full"):
            tiers().run(shop, AS_OF)
        assert [stored_type(shop, cid) for cid in "abc"] == [None, None, None]
        assert list(shop.collection(CHANGES_COLLECTION).items()) == []
        assert list(shop.collection(LABELS_COLLECTION).items()) == []

    def test_ids_with_slashes(self) -> None:
        """Label changes of customer 'A' never include those of 'A/B' or 'A/20240101'."""
        store = fill(
            open_store("memory://"),
            [
                Customer(id="A", created_at=CREATED),
                Customer(id="A/B", created_at=CREATED),
                Customer(id="A/20240101", created_at=CREATED),  # a compact ISO date
            ],
        )
        Classification([RuleDimension("vip/tier", [Rule("y", "has_tag('v')")], "n")]).run(
            store, AS_OF
        )
        assert label_changes(store, "A") == [LabelChange("A", "vip/tier", None, "n", AS_OF)]
        assert label_changes(store, "A/B") == [LabelChange("A/B", "vip/tier", None, "n", AS_OF)]

    def test_progress(self, shop: Store) -> None:
        """Progress is reported for facts, then for saving."""
        seen: list[int] = []
        tiers().run(shop, AS_OF, batch_size=2, progress=seen.append)
        assert seen == [2, 3, 2, 3]

    def test_customers_created_later_are_not_classified(self, shop: Store) -> None:
        """A customer created after as_of has no type as of that day."""
        shop.customers.add(Customer(id="z", created_at=moment(-3)))
        run = tiers().run(shop, AS_OF)
        assert set(run.types) == {"a", "b", "c"}


class TestClassification:
    """The Classification object and the types it gives."""

    def test_dimension_names_unique(self) -> None:
        """Two dimensions with one name are refused."""
        with pytest.raises(ValidationError, match="share a name"):
            Classification([RuleDimension("d", [], "x"), RuleDimension("d", [], "y")])

    def test_one_as_of_per_population(self) -> None:
        """A population mixing as-of dates is refused; an empty one gives nothing."""
        customer = Customer(id="c")
        mixed = [
            Facts(customer, AS_OF, FrozenMap()),
            Facts(Customer(id="d"), AS_OF + timedelta(days=1), FrozenMap()),
        ]
        with pytest.raises(ValidationError, match="one as-of date"):
            tiers().classify(mixed)
        assert tiers().classify([]) == {}

    def test_customer_type(self, shop: Store) -> None:
        """A type reads by dimension, lists its segments, and survives to_dict/from_dict."""
        kind = tiers().run(shop, AS_OF, save=False).types["a"]
        assert kind["value_tier"] == "high"
        assert kind.key == "value_tier=high, vip=no"
        assert kind.segments == {"value_tier:high", "vip:no"}
        with pytest.raises(KeyError):
            kind.label("nope")
        again = CustomerType.from_dict(kind.to_dict())
        assert again.key == kind.key
        assert again.as_of == kind.as_of
        assert again.label("value_tier").values == {"total_spend": "12000.00"}

    def test_from_template_uses_its_currency(self) -> None:
        """A template's currency is the currency its money facts count."""
        template = Template(
            "t", currency="USD", dimensions=[DimensionSpec("v", classifier="value_tier")]
        )
        store = fill(
            open_store("memory://"),
            [
                Customer(id="c", created_at=CREATED),
                Transaction("c", moment(1), total=Money("12000", "USD")),
            ],
        )
        run = Classification.from_template(template).run(store, AS_OF, save=False)
        assert run.types["c"]["v"] == "high"
        assert Classification.from_template(Template.preset("retail")).currency == "CNY"


# --- follow-ups ---------------------------------------------------------------------------


def call(cid: str, days_before: int) -> Interaction:
    """A phone call ``days_before`` AS_OF."""
    return Interaction(cid, moment(days_before), "phone")


POLICY = FollowUpPolicy(90, {"vip:yes": 30, "risk:yes": 7})


def segments() -> Classification:
    """vip and risk by tag."""
    return Classification(
        [
            RuleDimension("vip", [Rule("yes", "has_tag('vip')")], "no"),
            RuleDimension("risk", [Rule("yes", "has_tag('risk')")], "no"),
        ]
    )


@pytest.fixture
def book() -> Store:
    """Customers contacted at various times, classified as of AS_OF."""
    store = fill(
        open_store("memory://"),
        [
            Customer(id="v1", name="V1", tags=["vip"], created_at=CREATED),
            Customer(id="v2", tags=["vip"], created_at=CREATED),
            Customer(id="r1", created_at=CREATED),
            Customer(id="r2", created_at=CREATED),
            Customer(id="r3", created_at=moment(200)),
            Customer(id="r4", created_at=CREATED),
            Customer(id="r5", created_at=CREATED),
            Customer(id="both", tags=["vip", "risk"], created_at=CREATED),
            call("v1", 40),
            call("v2", 20),
            call("r1", 40),
            call("r2", 100),
            call("r2", 300),
            call("r4", 90),
            call("r5", 89),
            call("r5", -5),  # after as_of: does not count
            call("both", 8),
        ],
    )
    segments().run(store, AS_OF)
    return store


class TestFollowUps:
    """due_follow_ups lists who is due for contact, most overdue first."""

    def test_order_and_cadences(self, book: Store) -> None:
        """Most overdue first; segments beat default; shortest wins; never called: created."""
        due = due_follow_ups(book, AS_OF, policy=POLICY)
        assert [(f.customer_id, f.overdue_days) for f in due] == [
            ("r3", 110),
            ("r2", 10),
            ("v1", 10),
            ("both", 1),
            ("r4", 0),
        ]
        first = due[0]
        assert first == FollowUp("r3", None, 90, (), None, AS_OF - timedelta(days=110), 110)
        v1 = next(f for f in due if f.customer_id == "v1")
        assert (v1.name, v1.cadence_days, v1.segments) == ("V1", 30, ("vip:yes",))
        assert v1.last_contact == moment(40)
        assert v1.due == AS_OF - timedelta(days=10)
        both = next(f for f in due if f.customer_id == "both")
        assert (both.cadence_days, both.segments) == (7, ("risk:yes",))

    def test_equal_cadences_name_every_segment(self, book: Store) -> None:
        """When two segments set the same shortest cadence, both are named."""
        policy = FollowUpPolicy(None, {"vip:yes": 5, "risk:yes": 5})
        due = due_follow_ups(book, AS_OF, policy=policy)
        both = next(f for f in due if f.customer_id == "both")
        assert both.segments == ("risk:yes", "vip:yes")

    def test_no_default_skips_customers_without_segments(self, book: Store) -> None:
        """Without a default cadence, only customers in a segment with a cadence are listed."""
        due = due_follow_ups(book, AS_OF, policy=FollowUpPolicy(None, POLICY.segments))
        assert [f.customer_id for f in due] == ["v1", "both"]

    def test_policy_from_template(self, book: Store) -> None:
        """A template supplies the policy."""
        template = Template("t", follow_up=POLICY)
        assert due_follow_ups(book, AS_OF, template=template) == due_follow_ups(
            book, AS_OF, policy=POLICY
        )

    def test_no_policy_no_follow_ups(self, book: Store) -> None:
        """Without any policy nobody is due."""
        assert due_follow_ups(book, AS_OF) == []

    def test_unclassified_customers_get_the_default(self) -> None:
        """Customers with no stored type follow the default cadence."""
        store = fill(
            open_store("memory://"),
            [Customer(id="x", tags=["vip"], created_at=CREATED), call("x", 40)],
        )
        assert due_follow_ups(store, AS_OF, policy=POLICY) == []
        assert [f.customer_id for f in due_follow_ups(store, AS_OF, policy=FollowUpPolicy(30))] == [
            "x"
        ]

    def test_later_day_more_overdue(self, book: Store) -> None:
        """Two weeks later the due are 14 days more overdue; contacts made meanwhile count."""
        now = due_follow_ups(book, AS_OF, policy=POLICY)
        later = due_follow_ups(book, AS_OF + timedelta(days=14), policy=POLICY)
        overdue = {f.customer_id: f.overdue_days for f in later}
        for item in now:
            assert overdue[item.customer_id] == item.overdue_days + 14
        assert overdue["v2"] == 4
        assert "r5" not in overdue  # called five days after AS_OF
