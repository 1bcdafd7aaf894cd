"""The fast paths of classification give exactly what the plain reference paths give.

- Quantile scores by one sort and one walk equal the definition (``bisect`` per value).
- ``Classification.run`` over built-in dimensions labels straight from fact values; it
  equals ``classify(compute_facts(...))`` (one :class:`Facts` per customer) on random
  histories, in a memory store, in SQLite and in PostgreSQL (where the facts come from SQL).
- A subclass of a built-in dimension is still asked through its own methods.
"""

from __future__ import annotations

import bisect
import gc
import itertools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import pgserver as pg
from custrec import config
from custrec._gcpause import without_collection as _without_collection
from custrec.classify import (
    AgeBand,
    Classification,
    Facts,
    Industry,
    Label,
    Lifecycle,
    NpsClass,
    PurchaseFrequency,
    Region,
    Rfm,
    ValueTier,
    compute_facts,
    percentile_ranks,
    quantile_scores,
)
from custrec.model import Customer, Feedback, FrozenMap, Interaction, Transaction
from custrec.store import Store, open_store
from custrec.template import DimensionSpec
from test_classify_facts import AS_OF, CREATED, histories

_stores = itertools.count()


@pytest.fixture(autouse=True)
def _utc() -> Iterator[None]:
    with config.using(timezone="UTC"):
        yield


def reference_ranks(values: list[Any]) -> list[float]:
    """The definition: the share of values strictly smaller, found by bisection."""
    ordered = sorted(values)
    return [bisect.bisect_left(ordered, v) / len(ordered) for v in values]


def reference_scores(values: list[Any], bins: int) -> list[int]:
    """The definition: ``1 + floor(rank × bins)``, at most ``bins``."""
    return [1 + min(bins - 1, int(rank * bins)) for rank in reference_ranks(values)]


_NUMBERS = (
    st.lists(st.integers(-5, 5) | st.integers(-(10**12), 10**12), max_size=60)
    | st.lists(
        st.integers(-5, 5) | st.decimals(-1000, 1000, places=2, allow_nan=False), max_size=60
    )
    | st.lists(st.integers(-3, 3) | st.floats(-10, 10, allow_nan=False), max_size=60)
)
"""Whole numbers; whole numbers and decimals (both hash-keyed); with floats (sort and walk)."""


class TestQuantilesEqualTheDefinition:
    """Ranks and scores by one sort equal the bisect-per-value definition."""

    @settings(max_examples=300)
    @given(values=_NUMBERS, bins=st.integers(1, 10))
    def test_scores_and_ranks(self, values: list[Any], bins: int) -> None:
        """Any numbers, many ties, any number of bins."""
        assert percentile_ranks(values) == reference_ranks(values)
        assert quantile_scores(values, bins) == reference_scores(values, bins)


def dimensions(method: str) -> list[Any]:
    """The built-in dimensions that label from fact values, configured as a template would."""
    options: dict[str, Any] = (
        {"method": "thresholds", "thresholds": {"high": 5000, "mid": 100}}
        if method == "thresholds"
        else {"method": "quantiles", "quantiles": {"high": 0.7, "mid": 0.3}}
    )
    return [
        ValueTier(DimensionSpec("value", classifier="value_tier", options=options)),
        Rfm(DimensionSpec("rfm", classifier="rfm")),
        Lifecycle(DimensionSpec("life", classifier="lifecycle", options={"new_days": 30})),
        PurchaseFrequency(
            DimensionSpec("freq", classifier="purchase_frequency", options={"fact": "orders_90d"})
        ),
        AgeBand(DimensionSpec("age", classifier="age_band")),
        NpsClass(DimensionSpec("nps", classifier="nps_class")),
        Region(DimensionSpec("where", classifier="region", options={"home": ["上海", "北京市"]})),
    ]


@pytest.fixture
def pg_schema() -> Iterator[str]:
    """A fresh PostgreSQL schema for one test (skips without a server)."""
    yield from pg.fresh_schema()


def store_of(url: str, records: list[Any]) -> Store:
    """A store holding the records (customers first; a PostgreSQL store is emptied first)."""
    store = open_store(url)
    if store.scheme == "postgresql":
        pg.empty(store)
    with store.transaction():
        for kind in (Customer, Interaction, Transaction, Feedback):
            store.repository(kind).add_many(r for r in records if isinstance(r, kind))
    return store


def label_tuple(label: Label) -> tuple[Any, ...]:
    """Everything a label holds, values in order (equality alone ignores their order)."""
    return (label.dimension, label.label, label.reason, label.rule, tuple(label.values.items()))


class TestRunEqualsTheFactsPath:
    """Classification.run (from fact values) equals classify(compute_facts(...))."""

    @pytest.mark.parametrize("backend", ["memory", "sqlite", "postgresql"])
    @settings(
        max_examples=40,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(records=histories(), method=st.sampled_from(["thresholds", "quantiles"]))
    def test_same_types_on_random_histories(
        self,
        backend: str,
        tmp_path: Path,
        request: pytest.FixtureRequest,
        records: list[Any],
        method: str,
    ) -> None:
        """Same customers, same labels, reasons and shown values, in the same order."""
        if backend == "postgresql":
            url = pg.store_url(request.getfixturevalue("pg_schema"))
        elif backend == "sqlite":
            url = f"sqlite:///{tmp_path}/f{next(_stores)}.db"
        else:
            url = "memory://"
        classification = Classification(dimensions(method))
        assert classification._by_values()
        with store_of(url, records) as store:
            fast = classification.run(store, AS_OF, save=False).types
            population = compute_facts(store, AS_OF, facts=classification.facts, customers=False)
            reference = classification.classify(population)
        assert list(fast) == list(reference)
        for customer_id, kind in fast.items():
            expected = reference[customer_id]
            assert kind == expected
            assert [label_tuple(x) for x in kind.labels] == [
                label_tuple(x) for x in expected.labels
            ]
            assert kind.explain() == expected.explain()

    @given(records=histories())
    @settings(max_examples=20, deadline=None)
    def test_each_dimension_assign_equals_label_by_label(self, records: list[Any]) -> None:
        """assign (through fact values) equals labelling each customer on its own facts.

        Lifecycle labels one customer at a time; its label_for is the reference.
        """
        with store_of("memory://", records) as store:
            population = compute_facts(store, AS_OF)
        lifecycle = dimensions("thresholds")[2]
        assigned = lifecycle.assign(population)
        for facts in population:
            assert label_tuple(assigned[facts.customer_id]) == label_tuple(
                lifecycle.label_for(facts)
            )


class TestOnlyBuiltInClassesTakeTheFastPath:
    """A subclass, a rule or another dimension keeps the facts path."""

    def test_subclass_label_for_is_used(self) -> None:
        """A Lifecycle subclass with its own label_for is asked through it."""

        class Everyone(Lifecycle):
            def label_for(self, facts: Facts, zone: Any = None) -> Label:
                return Label(self.name, "everyone", "mine")

        store = open_store("memory://")
        store.customers.add(Customer(id="c1", created_at=CREATED))
        dimension = Everyone(DimensionSpec("life", classifier="lifecycle"))
        classification = Classification([dimension])
        assert not classification._by_values()
        types = classification.run(store, AS_OF, save=False).types
        assert types["c1"]["life"] == "everyone"
        assert dimension.assign(compute_facts(store, AS_OF))["c1"].label == "everyone"

    def test_other_dimensions_keep_the_facts_path(self) -> None:
        """A dimension without assign_values (industry) keeps the facts path."""
        industry = Industry(DimensionSpec("i", classifier="industry"))
        assert not Classification([*dimensions("thresholds"), industry])._by_values()

    @pytest.mark.parametrize("kind", [PurchaseFrequency, AgeBand, NpsClass, Region])
    def test_subclass_of_a_simple_dimension_is_asked(self, kind: Any) -> None:
        """A subclass's own label_for decides, on both paths."""

        class Mine(kind):  # type: ignore[misc,valid-type]
            def label_for(self, facts: Facts) -> Label:
                return Label(self.name, "mine", "mine")

        store = open_store("memory://")
        store.customers.add(Customer(id="c1", created_at=CREATED))
        dimension = Mine(DimensionSpec("d", classifier="age_band"))
        assert not Classification([dimension])._by_values()
        assert Classification([dimension]).run(store, AS_OF, save=False).types["c1"]["d"] == "mine"
        assert dimension.assign(compute_facts(store, AS_OF))["c1"].label == "mine"

    def test_no_customers_no_types(self) -> None:
        """An empty store gives no types on the fast path."""
        assert (
            Classification(dimensions("quantiles")).run(open_store("memory://"), AS_OF).types == {}
        )

    def test_no_dimensions(self) -> None:
        """Without dimensions every customer still gets a type, with no labels."""
        store = open_store("memory://")
        store.customers.add(Customer(id="c1", created_at=CREATED))
        types = Classification([]).run(store, AS_OF, save=False).types
        assert [(cid, kind.labels) for cid, kind in types.items()] == [("c1", ())]


class TestMadeObjects:
    """Labels and types built field by field equal the constructors' own."""

    @given(
        label=st.text(max_size=5),
        rule=st.none() | st.text(max_size=5),
        values=st.dictionaries(st.sampled_from(["a", "b", "total_spend"]), st.integers()),
    )
    def test_label_made_equals_label(
        self, label: str, rule: str | None, values: dict[str, int]
    ) -> None:
        """Same fields, equality, hash, repr and explanation."""
        built = Label("d", label, "why", rule, values)
        made = Label.made("d", label, "why", rule, FrozenMap(values))
        assert type(made) is Label
        assert (made, hash(made), repr(made), made.explain()) == (
            built,
            hash(built),
            repr(built),
            built.explain(),
        )
        with pytest.raises(attrs.exceptions.FrozenInstanceError):
            made.label = "other"  # type: ignore[misc]


class TestCollectorPause:
    """A run pauses the cyclic garbage collector and leaves it as it found it."""

    def test_on_stays_on_off_stays_off(self) -> None:
        """After a run (or a failing one) the collector is as it was, and off during it."""
        store = open_store("memory://")
        store.customers.add(Customer(id="c1", created_at=CREATED))
        seen: list[bool] = []
        classification = Classification(dimensions("thresholds"))
        was = gc.isenabled()
        try:
            for enabled in (True, False):
                (gc.enable if enabled else gc.disable)()
                classification.run(
                    store, AS_OF, save=False, progress=lambda _: seen.append(gc.isenabled())
                )
                assert gc.isenabled() is enabled

                def fail(_: int) -> None:
                    raise RuntimeError("stop")

                with pytest.raises(RuntimeError):
                    classification.run(store, AS_OF, save=False, progress=fail)
                assert gc.isenabled() is enabled
        finally:
            (gc.enable if was else gc.disable)()
        assert seen
        assert not any(seen)

    def test_overlapping_pauses_end_with_the_collector_on(self) -> None:
        """Two pauses, ended in either order, turn the collector back on once both end."""
        was = gc.isenabled()
        gc.enable()
        try:
            first, second = _without_collection(), _without_collection()
            first.__enter__()
            second.__enter__()
            first.__exit__(None, None, None)
            assert not gc.isenabled()
            second.__exit__(None, None, None)
            assert gc.isenabled()
        finally:
            (gc.enable if was else gc.disable)()
