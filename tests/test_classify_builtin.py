"""The built-in dimension kinds over hand-made populations: tiers, RFM, lifecycle and more."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Sequence
from datetime import UTC, date, datetime, time, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from custrec import config
from custrec.classify import (
    RFM_SEGMENTS,
    AgeBand,
    Facts,
    Industry,
    Label,
    Lifecycle,
    NpsClass,
    PurchaseFrequency,
    Region,
    Rfm,
    ValueTier,
    _registry,
    build_dimension,
    classifiers,
    percentile_ranks,
    quantile_scores,
    register_classifier,
)
from custrec.errors import ValidationError
from custrec.model import Customer, FrozenMap
from custrec.template import DimensionSpec, Template

CST = timezone(timedelta(hours=8))
AS_OF = date(2024, 6, 30)


@pytest.fixture(autouse=True)
def _utc() -> Iterator[None]:
    """Lifecycle counts days in the configured zone; these tests fix it to UTC."""
    with config.using(timezone="UTC"):
        yield


def facts(cid: str = "c", customer: Customer | None = None, **values: Any) -> Facts:
    """Facts for a customer, built directly."""
    return Facts(customer or Customer(id=cid), AS_OF, FrozenMap(values))


def spec(classifier: str, **options: Any) -> DimensionSpec:
    """A dimension spec for a built-in classifier with options."""
    return DimensionSpec(classifier, classifier=classifier, options=options)


def labels(dimension: Any, population: Sequence[Facts]) -> dict[str, str]:
    """Customer id to label."""
    return {cid: label.label for cid, label in dimension.assign(population).items()}


class TestValueTier:
    """Value tier by fixed thresholds or by quantiles of the population."""

    def test_default_thresholds(self) -> None:
        """10000 and up is high, 2000 and up mid, the rest (and no spend) low."""
        population = [
            facts("a", total_spend=Decimal("10000.00")),
            facts("b", total_spend=Decimal("9999.99")),
            facts("c", total_spend=Decimal(2000)),
            facts("d", total_spend=Decimal("1999.99")),
            facts("e", total_spend=None),
        ]
        assert labels(ValueTier(spec("value_tier")), population) == {
            "a": "high",
            "b": "mid",
            "c": "mid",
            "d": "low",
            "e": "low",
        }

    def test_own_thresholds_fact_and_default(self) -> None:
        """Thresholds, the fact and the default label come from the options."""
        tier = ValueTier(
            spec(
                "value_tier",
                fact="spend_365d",
                thresholds={"gold": 500, "silver": "100.5"},
                default="bronze",
            )
        )
        population = [
            facts("a", spend_365d=Decimal(500)),
            facts("b", spend_365d=Decimal("100.5")),
            facts("c", spend_365d=Decimal(100)),
        ]
        assert labels(tier, population) == {"a": "gold", "b": "silver", "c": "bronze"}
        label = tier.assign(population)["b"]
        assert label.reason == "spend_365d 100.5 ≥ 100.5"
        assert dict(label.values) == {"spend_365d": Decimal("100.5")}

    def test_quantiles(self) -> None:
        """With quantiles, the top 20% are high and the next 30% mid (ranks 0.8 and 0.5)."""
        population = [facts(f"c{i}", total_spend=Decimal(i)) for i in range(1, 11)]
        found = labels(ValueTier(spec("value_tier", method="quantiles")), population)
        assert [found[f"c{i}"] for i in range(1, 11)] == ["low"] * 5 + ["mid"] * 3 + ["high"] * 2
        label = ValueTier(spec("value_tier", method="quantiles")).assign(population)["c9"]
        assert label.values["rank"] == Decimal("0.8")
        assert label.values["total_spend"] == Decimal(9)

    def test_quantile_ties(self) -> None:
        """Equal spend always gets the same tier; an all-equal population is all low."""
        same = [facts(f"c{i}", total_spend=Decimal(100)) for i in range(5)]
        assert set(labels(ValueTier(spec("value_tier", method="quantiles")), same).values()) == {
            "low"
        }
        mixed = [facts(f"c{i}", total_spend=Decimal(i // 3)) for i in range(9)]
        found = labels(ValueTier(spec("value_tier", method="quantiles")), mixed)
        for i in range(9):
            assert found[f"c{i}"] == found[f"c{i // 3 * 3}"]

    @pytest.mark.parametrize(
        ("options", "field"),
        [
            ({"method": "median"}, "value_tier.options.method"),
            ({"thresholds": {}}, "value_tier.options.thresholds"),
            ({"thresholds": {"high": "lots"}}, "value_tier.options.thresholds"),
            ({"thresholds": [1, 2]}, "value_tier.options.thresholds"),
        ],
    )
    def test_bad_options(self, options: dict[str, Any], field: str) -> None:
        """Unusable options are refused when the dimension is built, naming the option."""
        with pytest.raises(ValidationError) as caught:
            ValueTier(spec("value_tier", **options))
        assert caught.value.field == field


class TestPurchaseFrequency:
    """Purchase frequency by orders in the last year."""

    def test_default_thresholds(self) -> None:
        """12+ frequent, 4+ regular, 1+ occasional, none inactive."""
        counts = {"a": 12, "b": 11, "c": 4, "d": 3, "e": 1, "f": 0, "g": None}
        population = [facts(cid, orders_365d=n) for cid, n in counts.items()]
        assert labels(PurchaseFrequency(spec("purchase_frequency")), population) == {
            "a": "frequent",
            "b": "regular",
            "c": "regular",
            "d": "occasional",
            "e": "occasional",
            "f": "inactive",
            "g": "inactive",
        }

    def test_options(self) -> None:
        """The fact, thresholds and default come from the options."""
        frequency = PurchaseFrequency(
            spec("purchase_frequency", fact="orders_90d", thresholds={"hot": 3}, default="cold")
        )
        found = frequency.assign([facts("a", orders_90d=3), facts("b", orders_90d=2)])
        assert (found["a"].label, found["b"].label) == ("hot", "cold")
        assert found["b"].reason == "orders_90d 2 below every threshold"
        assert dict(found["a"].values) == {"orders_90d": 3}


class TestQuantileScores:
    """Quintile scores and their documented tie policy."""

    def test_ranks(self) -> None:
        """A rank is the share of values strictly smaller; ties share it."""
        assert percentile_ranks([10, 20, 20, 30]) == [0.0, 0.25, 0.25, 0.75]
        assert percentile_ranks([]) == []

    def test_scores(self) -> None:
        """Ten distinct values score two per quintile."""
        assert quantile_scores(list(range(10))) == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]
        assert quantile_scores([7, 7, 7]) == [1, 1, 1]
        assert quantile_scores([1, 2], bins=3) == [1, 2]

    @given(st.lists(st.integers(-50, 50) | st.decimals(-10, 10, places=1), max_size=60))
    def test_properties(self, values: list[Any]) -> None:
        """Scores are 1..5, monotone in the value, and equal values get equal scores."""
        scores = quantile_scores(values)
        assert len(scores) == len(values)
        assert all(1 <= s <= 5 for s in scores)
        for (a, sa), (b, sb) in zip(
            sorted(zip(values, scores, strict=True)),
            sorted(zip(values, scores, strict=True))[1:],
            strict=False,
        ):
            assert sa <= sb
            if a == b:
                assert sa == sb
        if values and len(set(values)) == len(values) and len(values) >= 5:
            assert min(scores) == 1
            assert max(scores) == 5

    @given(st.lists(st.integers(0, 9), min_size=1, max_size=30), st.randoms())
    def test_order_does_not_matter(self, values: list[int], random: Any) -> None:
        """Shuffling the values shuffles the scores with them."""
        shuffled = list(values)
        random.shuffle(shuffled)
        by_value = dict(zip(values, quantile_scores(values), strict=True))
        assert dict(zip(shuffled, quantile_scores(shuffled), strict=True)) == by_value


class TestRfm:
    """RFM segments from quintile scores of recency, frequency and spend."""

    def test_segments_partition_the_grid(self) -> None:
        """Every (R, F) cell of 1-5 x 1-5 falls in exactly one row of RFM_SEGMENTS."""
        cells = Counter(
            (r, f)
            for _, rs, fs in RFM_SEGMENTS
            for r in rs
            for f in fs
            if r in "12345" and f in "12345"
        )
        assert set(cells) == {(r, f) for r in "12345" for f in "12345"}
        assert set(cells.values()) == {1}
        names = {name for name, _, _ in RFM_SEGMENTS}
        assert {"champions", "lost", "hibernating", "cant_lose", "new"} <= names

    def test_hand_made_population(self) -> None:
        """Recent frequent buyers are champions; old one-off buyers are lost."""
        population = [
            facts(f"c{i}", recency_days=r, order_count=n, total_spend=Decimal(s))
            for i, (r, n, s) in enumerate(
                [
                    (1, 20, 9000),  # most recent, most orders
                    (2, 15, 8000),
                    (50, 5, 500),
                    (200, 2, 300),
                    (400, 1, 10),  # least recent, fewest orders
                ]
            )
        ]
        found = Rfm(spec("rfm")).assign(population)
        assert found["c0"].label == "champions"
        assert found["c4"].label == "lost"
        assert dict(found["c0"].values) == {
            "recency_days": 1,
            "order_count": 20,
            "total_spend": Decimal(9000),
            "R": 5,
            "F": 5,
            "M": 5,
        }
        assert found["c0"].reason == "R5 F5 M5 falls in champions"
        assert found["c4"].values["R"] == found["c4"].values["F"] == 1

    def test_no_purchase(self) -> None:
        """Customers without a purchase get the default, and do not shift the others."""
        buyers = [
            facts(f"b{i}", recency_days=i, order_count=1, total_spend=Decimal(1)) for i in range(5)
        ]
        without = [facts("p", recency_days=None, order_count=0, total_spend=Decimal(0))]
        alone = Rfm(spec("rfm")).assign(buyers)
        together = Rfm(spec("rfm")).assign(buyers + without)
        assert together["p"].label == "no_purchase"
        assert together["p"].reason == "no purchase yet"
        assert dict(together["p"].values) == {"recency_days": None}
        assert {cid: together[cid] for cid in alone} == alone
        assert Rfm(spec("rfm", default="none")).assign(without)["p"].label == "none"

    def test_equal_customers_share_a_segment(self) -> None:
        """Customers with equal facts get the same scores and segment."""
        population = [
            facts(f"c{i}", recency_days=10, order_count=3, total_spend=Decimal(100))
            for i in range(4)
        ] + [facts("x", recency_days=300, order_count=1, total_spend=Decimal(5))]
        found = Rfm(spec("rfm")).assign(population)
        assert len({found[f"c{i}"] for i in range(4)}) == 1

    @given(
        st.lists(
            st.tuples(st.integers(0, 400), st.integers(1, 30), st.integers(1, 10_000)),
            min_size=1,
            max_size=40,
        )
    )
    def test_every_buyer_gets_a_known_segment(self, rows: list[tuple[int, int, int]]) -> None:
        """Each buyer lands in a named segment, with scores 1..5 that explain it."""
        population = [
            facts(f"c{i}", recency_days=r, order_count=n, total_spend=Decimal(s))
            for i, (r, n, s) in enumerate(rows)
        ]
        found = Rfm(spec("rfm")).assign(population)
        assert set(found) == {f.customer.id for f in population}
        table = {(r, f): name for name, rs, fs in RFM_SEGMENTS for r in rs for f in fs}
        for label in found.values():
            r, f = label.values["R"], label.values["F"]
            assert 1 <= r <= 5
            assert 1 <= f <= 5
            assert 1 <= label.values["M"] <= 5
            assert table[str(r), str(f)] == label.label


def bought(days_before: int) -> datetime:
    """Noon UTC, ``days_before`` AS_OF."""
    return datetime.combine(AS_OF - timedelta(days=days_before), time(12), UTC)


def stage(
    recency: int | None, first: int | None = None, gap: int | None = None, **options: Any
) -> str:
    """The lifecycle label for a customer who last bought ``recency`` days ago."""
    one = facts(
        recency_days=recency,
        first_purchase=None if first is None else bought(first),
        previous_gap_days=gap,
    )
    return Lifecycle(spec("lifecycle", **options)).label_for(one).label


class TestLifecycle:
    """Lifecycle stages in order: prospect, new, reactivated, active, at risk, lapsed, churned."""

    @pytest.mark.parametrize(
        ("recency", "first", "gap", "expected"),
        [
            (None, None, None, "prospect"),
            (5, 5, None, "new"),
            (10, 90, 80, "new"),  # first purchase 90 days ago is still new
            (10, 91, 81, "active"),
            (180, 500, 30, "active"),
            (10, 800, 365, "reactivated"),  # back after a year's gap
            (10, 800, 364, "active"),
            (181, 500, 30, "at_risk"),
            (365, 500, 30, "at_risk"),
            (366, 500, 30, "lapsed"),
            (730, 900, 30, "lapsed"),
            (731, 900, 30, "churned"),
        ],
    )
    def test_stages(
        self, recency: int | None, first: int | None, gap: int | None, expected: str
    ) -> None:
        """Each stage at and around its boundaries."""
        assert stage(recency, first, gap) == expected

    def test_options(self) -> None:
        """The day limits come from the options."""
        assert stage(40, 40, None, new_days=30) == "active"
        assert stage(40, 400, None, active_days=30) == "at_risk"
        assert stage(40, 400, None, active_days=30, at_risk_days=35) == "lapsed"
        assert stage(40, 400, None, active_days=30, at_risk_days=35, churned_days=39) == "churned"

    def test_explanation(self) -> None:
        """Each stage says why, with the facts it used."""
        one = facts(recency_days=10, first_purchase=bought(800), previous_gap_days=400)
        label = Lifecycle(spec("lifecycle")).label_for(one)
        assert label.reason == "bought 10 days ago after a 400-day gap"
        assert dict(label.values) == {
            "recency_days": 10,
            "previous_gap_days": 400,
            "first_purchase": bought(800),
        }

    def test_first_purchase_day_in_the_configured_zone(self) -> None:
        """The same instant gives the same stage whatever offset it carries."""
        first = datetime(2024, 4, 1, 7, 0, tzinfo=CST)  # 31 March 23:00 UTC: 91 days before
        lifecycle = Lifecycle(spec("lifecycle"))
        for moment in (first, first.astimezone(UTC)):
            one = facts(recency_days=91, first_purchase=moment, previous_gap_days=None)
            assert lifecycle.label_for(one).label == "active"


def placed(region: str | None, city: str | None) -> Facts:
    """Facts with a region and city."""
    return facts(region=region, city=city)


class TestRegion:
    """Local or remote against the home region, 北京 and 北京市 alike."""

    @pytest.mark.parametrize(
        ("home", "region", "city", "expected"),
        [
            (["北京市"], "北京", None, "local"),
            (["北京市"], "北京市", "北京市", "local"),
            (["北京"], "北京市", "北京市", "local"),
            (["北京市"], "河北省", "北京市", "local"),
            (["北京市"], "上海市", "上海市", "remote"),
            (["北京市"], None, None, "unknown"),
            (["广东省", "深圳市"], "广东省", "广州市", "local"),
            (["深圳市"], "广东省", "深圳", "local"),
            (["深圳市"], "广东省", "广州市", "remote"),
            (["河北"], "河北省", "石家庄市", "local"),
            (["上海市"], None, "上海", "local"),
            ([], "北京市", "北京市", "remote"),
        ],
    )
    def test_local_or_remote(
        self, home: list[str], region: str | None, city: str | None, expected: str
    ) -> None:
        """Provinces and cities match with or without their 省/市 suffix."""
        dimension = Region(spec("region", home=home))
        label = dimension.label_for(placed(region, city))
        assert label.label == expected
        assert dict(label.values) == {"region": region, "city": city}

    def test_home_from_template(self) -> None:
        """Without a home option, the template's home_region is home."""
        template = Template("t", home_region=["上海市"])
        dimension = Region(spec("region"), template)
        assert dimension.label_for(placed("上海", None)).label == "local"
        assert dimension.label_for(placed("北京市", None)).label == "remote"

    def test_one_place_as_text(self) -> None:
        """A single home place written as text is that place, not its characters."""
        dimension = Region(spec("region", home="北京"))
        assert dimension.label_for(placed("北京市", "北京市")).label == "local"
        assert dimension.label_for(placed("南京市", "南京市")).label == "remote"


class TestIndustry:
    """The customer's industry, optionally grouped."""

    def test_grouping(self) -> None:
        """Grouped industries take the group's label; others keep their own; none is unknown."""
        dimension = Industry(
            spec("industry", groups={"tech": ["信息技术", "软件"], "food": ["餐饮", "食品"]})
        )
        population = [
            facts("a", Customer(id="a", industry="软件")),
            facts("b", Customer(id="b", industry="餐饮")),
            facts("c", Customer(id="c", industry="教育")),
            facts("d", Customer(id="d")),
        ]
        assert labels(dimension, population) == {
            "a": "tech",
            "b": "food",
            "c": "教育",
            "d": "unknown",
        }
        assert dimension.assign(population)["a"].reason == "industry is 软件"

    def test_default(self) -> None:
        """The label for no industry comes from the options."""
        dimension = Industry(spec("industry", default="未填写"))
        assert dimension.label_for(facts("d")).label == "未填写"


class TestAgeBand:
    """Age bands from the age on the as-of day."""

    @pytest.mark.parametrize(
        ("age", "band"),
        [
            (0, "<18"),
            (17, "<18"),
            (18, "18-29"),
            (29, "18-29"),
            (30, "30-39"),
            (49, "40-49"),
            (59, "50-59"),
            (60, "60+"),
            (99, "60+"),
            (None, "unknown"),
        ],
    )
    def test_default_bands(self, age: int | None, band: str) -> None:
        """The default bands split at 18, 30, 40, 50 and 60."""
        label = AgeBand(spec("age_band")).label_for(facts(age=age))
        assert label.label == band
        assert dict(label.values) == {"age": age}

    def test_own_bands(self) -> None:
        """Bands come from the options, in any order."""
        dimension = AgeBand(spec("age_band", bands=[65, 25]))
        assert [dimension.label_for(facts(age=a)).label for a in (24, 25, 64, 65)] == [
            "<25",
            "25-64",
            "25-64",
            "65+",
        ]


class TestNpsClass:
    """NPS class from the latest answer: 0-6 detractor, 7-8 passive, 9-10 promoter."""

    @pytest.mark.parametrize(
        ("score", "expected"),
        [
            (0, "detractor"),
            (6, "detractor"),
            (7, "passive"),
            (8, "passive"),
            (9, "promoter"),
            (10, "promoter"),
            (None, "unknown"),
        ],
    )
    def test_boundaries(self, score: int | None, expected: str) -> None:
        """Each score falls in its class."""
        label = NpsClass(spec("nps_class")).label_for(facts(latest_nps=score))
        assert label.label == expected
        assert dict(label.values) == {"latest_nps": score}


class TestRegistry:
    """Classifiers are found by name; users add their own."""

    def test_builtins_are_registered(self) -> None:
        """Every built-in kind is registered under its template name."""
        assert {
            "value_tier",
            "purchase_frequency",
            "rfm",
            "lifecycle",
            "region",
            "industry",
            "age_band",
            "nps_class",
        } <= set(classifiers())

    def test_build_dimension(self) -> None:
        """build_dimension builds a registered classifier from its spec."""
        built = build_dimension(spec("nps_class"))
        assert isinstance(built, NpsClass)
        assert built.name == "nps_class"

    def test_unknown_classifier(self) -> None:
        """An unknown classifier is refused with the known ones listed."""
        with pytest.raises(ValidationError) as caught:
            build_dimension(DimensionSpec("d", classifier="crystal_ball"))
        assert caught.value.field == "dimensions.d.classifier"
        assert "rfm" in caught.value.reason

    def test_register_own(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """A registered factory builds dimensions for templates naming it."""
        monkeypatch.setattr(_registry, "_classifiers", dict(_registry._classifiers))

        class Everyone:
            def __init__(self, spec: DimensionSpec, template: Template | None) -> None:
                self.name = spec.name
                self.label = spec.options.get("label", "all")

            def assign(self, population: Sequence[Facts]) -> dict[str, Label]:
                return {f.customer.id: Label(self.name, self.label, "everyone") for f in population}

        register_classifier("everyone", Everyone)
        built = build_dimension(DimensionSpec("e", classifier="everyone", options={"label": "x"}))
        assert labels(built, [facts("a")]) == {"a": "x"}
        with pytest.raises(ValidationError):
            register_classifier("not a name", Everyone)

    def test_registration_restored(self) -> None:
        """Classifiers registered by other tests do not leak."""
        assert "everyone" not in classifiers()
