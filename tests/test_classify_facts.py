"""Facts: what is known about each customer as of a day, from hand-built and random history."""

from __future__ import annotations

import contextlib
import itertools
import sqlite3
from collections.abc import Iterator, Sequence
from datetime import UTC, date, datetime, time, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from types import MappingProxyType
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from custrec import config
from custrec.classify import (
    FACT_KINDS,
    FactKind,
    Facts,
    Rule,
    RuleDimension,
    _registry,
    compute_facts,
    cutoff_of,
    derive,
    fact,
    register_fact,
    user_facts,
)
from custrec.errors import RuleSyntaxError, ValidationError
from custrec.model import (
    Address,
    AfterSalesEvent,
    Customer,
    Feedback,
    Interaction,
    Money,
    Transaction,
)
from custrec.store import (
    AGGREGATE_PARTS,
    WINDOWS,
    HistoryAggregates,
    Store,
    SupportsHistoryAggregation,
    aggregate_history,
    open_store,
)

CST = timezone(timedelta(hours=8))
AS_OF = date(2024, 6, 30)
CREATED = datetime(2023, 1, 1, 9, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _utc() -> Iterator[None]:
    """Facts count days in the configured zone; these tests fix it to UTC."""
    with config.using(timezone="UTC"):
        yield


@pytest.fixture
def fresh_registry(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """An empty user-fact registry for one test (registering mutates module state)."""
    registry: dict[str, Any] = {}
    monkeypatch.setattr(_registry, "_facts", registry)
    monkeypatch.setattr(_registry, "_loaded_groups", set())
    return registry


def at(days_before: int, hour: int = 12, minute: int = 0, *, tz: timezone = UTC) -> datetime:
    """A moment ``days_before`` AS_OF, at a wall-clock time in ``tz``."""
    return datetime.combine(AS_OF - timedelta(days=days_before), time(hour, minute), tzinfo=tz)


def sale(
    cid: str,
    when: datetime,
    amount: str,
    *,
    currency: str = "CNY",
    status: str = "completed",
    refunds: Sequence[str] = (),
    tid: str | None = None,
) -> Transaction:
    """A transaction with a given total and refund events."""
    events = [AfterSalesEvent("refund", when, Money(r, currency)) for r in refunds]
    extra = {"id": tid} if tid else {}
    return Transaction(
        cid, when, total=Money(amount, currency), status=status, after_sales=events, **extra
    )


def contact(cid: str, when: datetime) -> Interaction:
    """A phone call."""
    return Interaction(cid, when, "phone")


def store_with(*records: Any, url: str = "memory://") -> Store:
    """A store holding the records (customers first)."""
    store = open_store(url)
    for record in sorted(records, key=lambda r: not isinstance(r, Customer)):
        store.repository(type(record)).add(record)
    return store


def facts_of(*records: Any, as_of: date = AS_OF, **kwargs: Any) -> dict[str, Facts]:
    """compute_facts over a memory store holding the records, by customer id."""
    return {f.customer.id: f for f in compute_facts(store_with(*records), as_of, **kwargs)}


class TestKnownAnswers:
    """Every built-in fact on a hand-built history with known answers."""

    @pytest.fixture
    def facts(self) -> Facts:
        """One customer with purchases, refunds, other currencies, contacts and feedback."""
        customer = Customer(
            id="c1",
            name="张三",
            birth_date=date(1990, 7, 1),
            addresses=[
                Address(province="上海市", city="上海市"),
                Address(province="北京市", city="北京市", district="朝阳区", primary=True),
            ],
            created_at=CREATED,
        )
        history = [
            sale("c1", at(400), "100.00"),
            sale("c1", at(200), "250.50", refunds=["30.00", "20.00"]),
            sale("c1", at(10), "1000.00"),
            sale("c1", at(5), "9999.00", status="cancelled"),
            sale("c1", at(3), "20.00", currency="USD"),
            sale("c1", at(-1, 0), "500.00"),  # the day after as_of
            contact("c1", at(100)),
            contact("c1", at(20)),
            contact("c1", at(-1, 0)),
            Feedback("c1", at(60), rating=4, nps=9, id="F1"),
            Feedback("c1", at(40), rating=5, id="F2"),
            Feedback("c1", at(50), rating=4, nps=6, id="F0"),
            Feedback("c1", at(-2), rating=1, nps=10, id="F9"),
        ]
        return facts_of(customer, *history)["c1"]

    def test_has_every_fact(self, facts: Facts) -> None:
        """Facts hold exactly the built-in facts."""
        assert set(facts.values) == set(FACT_KINDS)

    def test_money(self, facts: Facts) -> None:
        """Spend is net of refunds, in CNY, leaving out cancelled, later and USD orders."""
        assert facts["total_spend"] == Decimal("1300.50")
        assert facts["order_count"] == 3
        assert facts["avg_order_value"] == Decimal("433.50")
        assert facts["refund_total"] == Decimal("50.00")
        assert facts["refund_count"] == 1
        assert facts["other_currency_orders"] == 1

    def test_purchase_times(self, facts: Facts) -> None:
        """First and last purchase, recency and the gap before the last purchase."""
        assert facts["first_purchase"] == at(400)
        assert facts["last_purchase"] == at(10)
        assert facts["recency_days"] == 10
        assert facts["previous_gap_days"] == 190

    def test_windows(self, facts: Facts) -> None:
        """Orders and spend in the trailing windows."""
        assert (facts["orders_30d"], facts["orders_90d"], facts["orders_365d"]) == (1, 1, 2)
        assert facts["spend_30d"] == Decimal("1000.00")
        assert facts["spend_90d"] == Decimal("1000.00")
        assert facts["spend_365d"] == Decimal("1200.50")

    def test_contacts(self, facts: Facts) -> None:
        """Last contact and interaction counts leave out what came after as_of."""
        assert facts["last_contact"] == at(20)
        assert facts["days_since_contact"] == 20
        assert facts["interaction_count"] == 2
        assert (facts["interactions_30d"], facts["interactions_90d"]) == (1, 1)
        assert facts["interactions_365d"] == 2

    def test_feedback(self, facts: Facts) -> None:
        """Average rating to two places; the latest NPS answer before as_of."""
        assert facts["avg_rating"] == Decimal("4.33")
        assert facts["rating_count"] == 3
        assert facts["latest_nps"] == 6

    def test_person(self, facts: Facts) -> None:
        """Age on as_of, region and city from the primary address, tenure in days."""
        assert facts["age"] == 33
        assert (facts["region"], facts["city"]) == ("北京市", "北京市")
        assert facts["tenure_days"] == (AS_OF - CREATED.date()).days == 546
        assert facts.as_of == AS_OF
        assert facts.customer.id == "c1"

    def test_age_turns_on_birthday(self) -> None:
        """The age counts full years on the as-of day itself."""
        customer = Customer(id="c", birth_date=date(1990, 7, 1), created_at=CREATED)
        store = store_with(customer)
        assert compute_facts(store, date(2024, 6, 30))[0]["age"] == 33
        assert compute_facts(store, date(2024, 7, 1))[0]["age"] == 34


class TestBoundaries:
    """The as-of cut-off and the window edges, to the microsecond."""

    def test_window_edges(self) -> None:
        """A window of N days is as_of and the N-1 days before it, in the configured zone."""
        moments = [
            datetime.combine(AS_OF, time.max, tzinfo=UTC),  # in every window
            at(29, 0),  # first instant of the 30-day window
            at(30, 23, 59),  # just before it
            at(89, 0),
            at(90, 23, 59),
            at(364, 0),
            at(365, 23, 59),  # before every window
            at(-1, 0),  # after as_of: never counts
        ]
        customer = Customer(id="c", created_at=at(800))
        history = [sale("c", m, "1.00") for m in moments] + [contact("c", m) for m in moments]
        facts = facts_of(customer, *history)["c"]
        assert facts["order_count"] == 7
        assert (facts["orders_30d"], facts["orders_90d"], facts["orders_365d"]) == (2, 4, 6)
        assert (facts["spend_30d"], facts["spend_90d"]) == (Decimal("2.00"), Decimal("4.00"))
        counts = (facts["interactions_30d"], facts["interactions_90d"], facts["interactions_365d"])
        assert counts == (2, 4, 6)
        assert facts["recency_days"] == 0
        assert facts["days_since_contact"] == 0

    def test_cutoff_follows_the_zone(self) -> None:
        """The as-of day ends at midnight in the configured zone."""
        customer = Customer(id="c", created_at=CREATED)
        late = datetime(2024, 6, 30, 20, 0, tzinfo=UTC)  # 1 July 04:00 in Shanghai
        records = (customer, sale("c", late, "10.00"))
        assert facts_of(*records)["c"]["order_count"] == 1
        with config.using(timezone="Asia/Shanghai"):
            assert cutoff_of(AS_OF) == datetime(2024, 7, 1, tzinfo=CST)
            assert facts_of(*records)["c"]["order_count"] == 0
            assert facts_of(*records, as_of=date(2024, 7, 1))["c"]["recency_days"] == 0

    def test_days_count_in_the_zone(self) -> None:
        """Recency counts calendar days where the configured zone is, whatever the offset."""
        customer = Customer(id="c", created_at=CREATED)
        # 23:30 on 19 June in Shanghai is 15:30 UTC: the same day either way.
        evening = datetime(2024, 6, 19, 23, 30, tzinfo=CST)
        # 07:00 on 20 June in Shanghai is 23:00 UTC on 19 June.
        morning = datetime(2024, 6, 20, 7, 0, tzinfo=CST)
        assert facts_of(customer, sale("c", evening, "1"))["c"]["recency_days"] == 11
        assert facts_of(customer, sale("c", morning, "1"))["c"]["recency_days"] == 11
        with config.using(timezone="Asia/Shanghai"):
            assert facts_of(customer, sale("c", morning, "1"))["c"]["recency_days"] == 10

    def test_customers_created_later_are_left_out(self) -> None:
        """Customers created after as_of have no facts; created on as_of, they do."""
        early = Customer(id="early", created_at=CREATED)
        same_day = Customer(id="same", created_at=datetime.combine(AS_OF, time(23), UTC))
        later = Customer(id="later", created_at=at(-1, 0))
        assert set(facts_of(early, same_day, later)) == {"early", "same"}

    def test_previous_gap(self) -> None:
        """The gap is in days between the last two purchases; none with one purchase."""
        customer = Customer(id="c", created_at=CREATED)
        one = facts_of(customer, sale("c", at(3), "1"))["c"]
        assert one["previous_gap_days"] is None
        same_day = facts_of(customer, sale("c", at(3, 9), "1"), sale("c", at(3, 18), "1"))["c"]
        assert same_day["previous_gap_days"] == 0
        # Order of arrival does not matter: the two latest purchases count.
        shuffled = [sale("c", at(d), "1", tid=f"T{i}") for i, d in enumerate([30, 100, 5, 60])]
        assert facts_of(customer, *shuffled)["c"]["previous_gap_days"] == 25


class TestEdges:
    """Customers with no history, other currencies, rounding, addresses."""

    def test_no_history(self) -> None:
        """Without history counts are zero, money is zero and everything else is missing."""
        facts = facts_of(Customer(id="c", created_at=CREATED))["c"]
        assert facts["total_spend"] == Decimal("0.00")
        assert facts["order_count"] == facts["interaction_count"] == facts["rating_count"] == 0
        assert facts["spend_30d"] == Decimal("0.00")
        assert facts["orders_365d"] == 0
        for name in (
            "avg_order_value",
            "first_purchase",
            "last_purchase",
            "recency_days",
            "previous_gap_days",
            "last_contact",
            "days_since_contact",
            "avg_rating",
            "latest_nps",
            "age",
            "region",
            "city",
        ):
            assert facts[name] is None, name

    def test_other_currency_only(self) -> None:
        """Orders only in another currency leave the money facts empty and are counted."""
        customer = Customer(id="c", created_at=CREATED)
        facts = facts_of(customer, sale("c", at(1), "9.99", currency="USD"))["c"]
        assert facts["order_count"] == 0
        assert facts["other_currency_orders"] == 1
        assert facts["last_purchase"] is None

    def test_facts_currency(self) -> None:
        """Money facts are in the currency asked for, at its precision."""
        customer = Customer(id="c", created_at=CREATED)
        records = (customer, sale("c", at(1), "1000", currency="JPY"), sale("c", at(2), "5.00"))
        facts = facts_of(*records, currency="JPY")["c"]
        assert facts["total_spend"] == Decimal(1000)
        assert str(facts["total_spend"]) == "1000"
        assert facts["other_currency_orders"] == 1

    def test_average_rounds_half_up(self) -> None:
        """The average order value rounds half up to the currency's precision."""
        customer = Customer(id="c", created_at=CREATED)
        sales = [sale("c", at(d), a) for d, a in ((1, "0.01"), (2, "0.00"), (3, "0.00"))]
        assert facts_of(customer, *sales[:2])["c"]["avg_order_value"] == Decimal("0.01")
        assert facts_of(customer, *sales)["c"]["avg_order_value"] == Decimal("0.00")

    def test_refund_nets_out_and_can_exceed_nothing(self) -> None:
        """A fully refunded order counts as an order with zero net spend."""
        customer = Customer(id="c", created_at=CREATED)
        facts = facts_of(customer, sale("c", at(1), "80.00", refunds=["80.00"]))["c"]
        assert facts["order_count"] == 1
        assert facts["total_spend"] == Decimal("0.00")
        assert facts["refund_total"] == Decimal("80.00")

    def test_refunds_after_the_as_of_day_do_not_count(self) -> None:
        """A refund made after the as-of day leaves that day's spend untouched."""
        customer = Customer(id="c", created_at=CREATED)
        later = AfterSalesEvent("refund", at(10), Money("30.00", "CNY"))
        bought = Transaction("c", at(60), total=Money("80.00", "CNY"), after_sales=[later])
        before = facts_of(customer, bought, as_of=at(30).date())["c"]
        after = facts_of(customer, bought)["c"]
        assert (before["total_spend"], before["refund_total"]) == (Decimal("80.00"), 0)
        assert (after["total_spend"], after["refund_total"]) == (Decimal("50.00"), 30)

    def test_region_falls_back_to_city(self) -> None:
        """Without a province the region is the city; with no primary, the first address counts."""
        customer = Customer(
            id="c",
            created_at=CREATED,
            addresses=[Address(city="深圳市"), Address(province="广东省", city="广州市")],
        )
        facts = facts_of(customer)["c"]
        assert (facts["region"], facts["city"]) == ("深圳市", "深圳市")

    def test_latest_nps_ties_break_by_id(self) -> None:
        """Two NPS answers at the same moment: the one with the greater id is the latest."""
        customer = Customer(id="c", created_at=CREATED)
        answers = [Feedback("c", at(1), nps=3, id="F2"), Feedback("c", at(1), nps=8, id="F1")]
        assert facts_of(customer, *answers)["c"]["latest_nps"] == 3

    def test_other_windows(self) -> None:
        """compute_facts takes other windows and names facts after them."""
        customer = Customer(id="c", created_at=CREATED)
        facts = facts_of(customer, sale("c", at(6), "1"), sale("c", at(7), "1"), windows=(7,))
        assert facts["c"]["orders_7d"] == 1
        assert "orders_30d" not in facts["c"].values

    def test_progress_and_batches(self) -> None:
        """Progress is reported after each batch with the customers done so far."""
        customers = [Customer(id=f"c{i}", created_at=CREATED) for i in range(5)]
        seen: list[int] = []
        population = compute_facts(
            store_with(*customers), AS_OF, batch_size=2, progress=seen.append
        )
        assert seen == [2, 4, 5]
        assert [f.customer.id for f in population] == [f"c{i}" for i in range(5)]

    def test_unknown_currency(self) -> None:
        """derive refuses a currency that is not ISO 4217."""
        with pytest.raises(ValidationError, match="ISO 4217"):
            derive(Customer(id="c"), None, as_of=AS_OF, currency="XYZ1")


# --- random histories ---------------------------------------------------------------------

_OFFSETS = st.sampled_from([UTC, CST, timezone(timedelta(hours=-5))])


@st.composite
def moments(draw: st.DrawFn) -> datetime:
    """Moments around AS_OF: two years before to a month after, often on the same minute."""
    minutes = draw(
        st.one_of(
            st.integers(-800 * 24 * 60, 30 * 24 * 60),
            st.sampled_from([0, -1, -29 * 24 * 60, -365 * 24 * 60]),
        )
    )
    cutoff = datetime.combine(AS_OF + timedelta(days=1), time(), UTC)
    return (cutoff + timedelta(minutes=minutes)).astimezone(draw(_OFFSETS))


@st.composite
def histories(draw: st.DrawFn) -> list[Any]:
    """A few customers and their transactions, interactions and feedback."""
    ids = [f"c{i}" for i in range(draw(st.integers(1, 4)))]
    records: list[Any] = []
    for cid in ids:
        addresses = draw(
            st.sampled_from(
                [[], [Address(province="北京市", city="北京市")], [Address(city="深圳市")]]
            )
        )
        birth = draw(st.none() | st.dates(date(1940, 1, 1), date(2010, 12, 31)))
        records.append(
            Customer(id=cid, created_at=draw(moments()), addresses=addresses, birth_date=birth)
        )
    people = st.sampled_from(ids)
    for index in range(draw(st.integers(0, 8))):
        total = draw(st.integers(0, 1_000_000))
        currency = draw(st.sampled_from(["CNY", "CNY", "USD"]))
        refunds = draw(st.lists(st.integers(0, total // 2 + 1), max_size=2))
        when = draw(moments())
        # Refunds are paid the same day or up to a few weeks later: some after the cut-off.
        later = [timedelta(days=draw(st.sampled_from([0, 0, 3, 40]))) for _ in refunds]
        records.append(
            Transaction(
                draw(people),
                when,
                total=Money.from_minor(total, currency),
                status=draw(st.sampled_from(["completed", "pending", "cancelled", "refunded"])),
                after_sales=[
                    AfterSalesEvent("refund", when + delay, Money.from_minor(r, currency))
                    for r, delay in zip(refunds, later, strict=True)
                ],
                id=f"T{index}",
            )
        )
    for index in range(draw(st.integers(0, 5))):
        records.append(Interaction(draw(people), draw(moments()), "wechat", id=f"I{index}"))
    for index in range(draw(st.integers(0, 5))):
        rating = draw(st.none() | st.integers(1, 5))
        nps = draw(st.integers(0, 10) if rating is None else st.none() | st.integers(0, 10))
        records.append(
            Feedback(draw(people), draw(moments()), rating=rating, nps=nps, id=f"F{index}")
        )
    return records


def _minor(amount: Decimal) -> Decimal:
    return amount.quantize(Decimal("0.01"))


def expected_facts(customer: Customer, records: list[Any]) -> dict[str, Any]:
    """The built-in facts computed the slow, obvious way, independently of custrec."""
    cutoff = datetime.combine(AS_OF + timedelta(days=1), time(), UTC)
    mine = [r for r in records if getattr(r, "customer_id", None) == customer.id and r.at < cutoff]
    sales = [r for r in mine if isinstance(r, Transaction) and r.status != "cancelled"]
    cny = [s for s in sales if s.total.currency == "CNY"]
    contacts = [r for r in mine if isinstance(r, Interaction)]
    said = [r for r in mine if isinstance(r, Feedback)]

    def refunded(s: Transaction) -> Decimal:
        paid = (e.amount.amount for e in s.after_sales if e.amount and e.at < cutoff)
        return sum(paid, Decimal(0))

    def net(s: Transaction) -> Decimal:
        return s.total.amount - refunded(s)

    def day(moment: datetime) -> date:
        return moment.astimezone(UTC).date()

    spend = sum((net(s) for s in cny), Decimal(0))
    times = sorted((s.at for s in cny), reverse=True)
    ratings = [f.rating for f in said if f.rating is not None]
    answers = sorted((f.at, f.id, f.nps) for f in said if f.nps is not None)
    refunds = [refunded(s) for s in cny]
    address = customer.primary_address
    values: dict[str, Any] = {
        "total_spend": _minor(spend),
        "order_count": len(cny),
        "avg_order_value": (
            (spend / len(cny)).quantize(Decimal("0.01"), ROUND_HALF_UP) if cny else None
        ),
        "first_purchase": times[-1] if times else None,
        "last_purchase": times[0] if times else None,
        "recency_days": (AS_OF - day(times[0])).days if times else None,
        "previous_gap_days": (day(times[0]) - day(times[1])).days if len(times) > 1 else None,
        "refund_total": _minor(sum(refunds, Decimal(0))),
        "refund_count": sum(1 for r in refunds if r > 0),
        "other_currency_orders": len(sales) - len(cny),
        "last_contact": max((c.at for c in contacts), default=None),
        "days_since_contact": (
            (AS_OF - day(max(c.at for c in contacts))).days if contacts else None
        ),
        "interaction_count": len(contacts),
        "avg_rating": (
            (Decimal(sum(ratings)) / len(ratings)).quantize(Decimal("0.01"), ROUND_HALF_UP)
            if ratings
            else None
        ),
        "rating_count": len(ratings),
        "latest_nps": answers[-1][2] if answers else None,
        "age": customer.age(AS_OF),
        "region": (address.province or address.city) if address else None,
        "city": address.city if address else None,
        "tenure_days": (AS_OF - day(customer.created_at)).days,
    }
    for n in WINDOWS:
        start = cutoff - timedelta(days=n)
        values[f"orders_{n}d"] = sum(1 for s in cny if s.at >= start)
        values[f"spend_{n}d"] = _minor(sum((net(s) for s in cny if s.at >= start), Decimal(0)))
        values[f"interactions_{n}d"] = sum(1 for c in contacts if c.at >= start)
    return values


_stores = itertools.count()


class TestComputeFactsMatchesByHand:
    """Facts from a store equal facts worked out by hand from the same records."""

    @pytest.mark.parametrize("url", ["memory://", "sqlite:///{tmp_path}/s.db"])
    @settings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(records=histories())
    def test_store_facts_equal_hand_computed(
        self, url: str, tmp_path: Path, records: list[Any]
    ) -> None:
        """Memory and SQLite stores (SQL push-down or Python) give the hand-computed facts."""
        target = url.format(tmp_path=tmp_path).replace("s.db", f"s{next(_stores)}.db")
        store = store_with(*records, url=target)
        try:
            population = compute_facts(store, AS_OF)
        finally:
            store.close()
        customers = {r.id: r for r in records if isinstance(r, Customer)}
        cutoff = cutoff_of(AS_OF)
        kept = sorted(c.id for c in customers.values() if c.created_at < cutoff)
        assert [f.customer_id for f in population] == kept
        for facts in population:
            assert dict(facts.values) == expected_facts(customers[facts.customer_id], records)

    @settings(max_examples=40)
    @given(records=histories())
    def test_compute_facts_is_aggregate_then_derive(self, records: list[Any]) -> None:
        """compute_facts on a memory store is aggregate_history then derive, per customer."""
        population = compute_facts(store_with(*records), AS_OF)
        aggregates = aggregate_history(
            [r for r in records if isinstance(r, Transaction)],
            [r for r in records if isinstance(r, Interaction)],
            [r for r in records if isinstance(r, Feedback)],
            cutoff=cutoff_of(AS_OF),
            currency="CNY",
        )
        for facts in population:
            by_hand = derive(
                facts.customer, aggregates.get(facts.customer.id), as_of=AS_OF, currency="CNY"
            )
            assert dict(facts.values) == by_hand

    @settings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(
        records=histories(),
        parts=st.sets(st.sampled_from(sorted(AGGREGATE_PARTS)), min_size=1),
        legacy=st.booleans(),
    )
    def test_sql_aggregates_of_any_parts_equal_the_reference(
        self, tmp_path: Path, records: list[Any], parts: set[str], legacy: bool
    ) -> None:
        """SQLite's aggregates of the parts asked for equal the Python reference's.

        ``legacy`` blanks the refund-time column, as in files written before it existed:
        every refund is then dated by reading its sale back.
        """
        path = tmp_path / f"a{next(_stores)}.db"
        store = store_with(*records, url=f"sqlite:///{path}")
        try:
            if legacy:
                with sqlite3.connect(path) as raw:
                    raw.execute("UPDATE transactions SET refund_last_us = NULL")
            cutoff = cutoff_of(AS_OF)
            assert isinstance(store, SupportsHistoryAggregation)
            found = store.aggregate_history(cutoff, "CNY", WINDOWS, parts)
        finally:
            store.close()
        reference = aggregate_history(
            [r for r in records if isinstance(r, Transaction)],
            [r for r in records if isinstance(r, Interaction)],
            [r for r in records if isinstance(r, Feedback)],
            cutoff=cutoff,
            currency="CNY",
        )
        fields = [name for part in parts for name in AGGREGATE_PARTS[part]]
        empty = HistoryAggregates()
        for customer_id in set(found) | set(reference):
            mine, theirs = found.get(customer_id, empty), reference.get(customer_id, empty)
            for name in fields:
                ours, expected = getattr(mine, name), getattr(theirs, name)
                if isinstance(expected, dict):  # windows with nothing in them may be absent
                    ours = {n: v for n, v in ours.items() if v}
                    expected = {n: v for n, v in expected.items() if v}
                assert (customer_id, name, ours) == (customer_id, name, expected)

    def test_unknown_parts_are_refused(self, tmp_path: Path) -> None:
        """Asking SQLite for an aggregate part that does not exist names it."""
        store = open_store(f"sqlite:///{tmp_path}/p.db")
        with contextlib.closing(store), pytest.raises(ValidationError) as caught:
            store.aggregate_history(cutoff_of(AS_OF), "CNY", WINDOWS, ["orders", "mood"])  # type: ignore[attr-defined]
        assert caught.value.value == ["mood"]

    @settings(max_examples=30)
    @given(records=histories())
    def test_no_aggregates_for_customers_without_counted_history(self, records: list[Any]) -> None:
        """aggregate_history has an entry exactly for customers with a counted record."""
        cutoff = cutoff_of(AS_OF)
        found = aggregate_history(
            [r for r in records if isinstance(r, Transaction)],
            [r for r in records if isinstance(r, Interaction)],
            [r for r in records if isinstance(r, Feedback)],
            cutoff=cutoff,
            currency="CNY",
        )
        counted = {
            r.customer_id
            for r in records
            if not isinstance(r, Customer)
            and r.at < cutoff
            and not (isinstance(r, Transaction) and r.status == "cancelled")
        }
        assert set(found) == counted
        assert all(isinstance(a, HistoryAggregates) for a in found.values())


class TestUserFacts:
    """Users add facts with @fact or register_fact; rules and compute_facts see them."""

    def test_decorator_registers_and_computes(self, fresh_registry: dict[str, Any]) -> None:
        """A @fact function is computed from the built-in facts of each customer."""

        @fact()
        def spend_per_order(facts: Facts) -> Decimal | None:
            """Spend divided by orders."""
            count = facts["order_count"]
            return facts["total_spend"] / count if count else None

        assert set(user_facts()) == {"spend_per_order"}
        assert user_facts()["spend_per_order"].description == "Spend divided by orders."
        customer = Customer(id="c", created_at=CREATED)
        facts = facts_of(customer, sale("c", at(1), "30.00"), sale("c", at(2), "10.00"))["c"]
        assert facts["spend_per_order"] == Decimal(20)
        assert facts_of(Customer(id="d", created_at=CREATED))["d"]["spend_per_order"] is None

    def test_register_with_kind_and_use_in_rules(self, fresh_registry: dict[str, Any]) -> None:
        """A text fact registered by name is usable in text rules, compared with text."""
        register_fact(
            "tier_code", lambda f: "A" if f["total_spend"] > 100 else "B", kind=FactKind.TEXT
        )
        customers = [
            Customer(id="big", created_at=CREATED),
            Customer(id="small", created_at=CREATED),
        ]
        population = compute_facts(
            store_with(*customers, sale("big", at(1), "500.00")), AS_OF + timedelta(days=400)
        )
        dimension = RuleDimension("code", [Rule("a", "tier_code = 'A'")], "b")
        labels = dimension.assign(population)
        assert labels["big"].label == "a"
        assert labels["big"].values == {"tier_code": "A"}
        assert labels["small"].label == "b"
        with pytest.raises(RuleSyntaxError):
            RuleDimension("code", [Rule("a", "tier_code > 5")], "b")

    def test_named_decorator(self, fresh_registry: dict[str, Any]) -> None:
        """@fact("name") registers under the name given."""

        @fact("loyal_years", kind="number")
        def years(facts: Facts) -> int:
            return facts["tenure_days"] // 365

        assert set(user_facts()) == {"loyal_years"}
        assert facts_of(Customer(id="c", created_at=CREATED))["c"]["loyal_years"] == 1

    @pytest.mark.parametrize("name", ["total_spend", "region", "_private", "two words", "1st", 3])
    def test_bad_names(self, fresh_registry: dict[str, Any], name: Any) -> None:
        """Built-in fact names, private names and non-identifiers are refused."""
        with pytest.raises(ValidationError):
            register_fact(name, lambda f: 1)
        assert fresh_registry == {}

    def test_registry_is_read_only(self, fresh_registry: dict[str, Any]) -> None:
        """user_facts() is a read-only snapshot."""
        register_fact("x1", lambda f: 1)
        snapshot = user_facts()
        assert isinstance(snapshot, MappingProxyType)
        with pytest.raises(TypeError):
            snapshot["x2"] = snapshot["x1"]  # type: ignore[index]

    def test_unregistered_name_in_rule(self, fresh_registry: dict[str, Any]) -> None:
        """A rule naming a fact nobody registered is refused with its position."""
        with pytest.raises(RuleSyntaxError) as caught:
            RuleDimension("d", [Rule("a", "order_count > 1 and loyalty > 2")], "b")
        assert caught.value.position == 20

    def test_registry_restored(self) -> None:
        """Facts registered by other tests do not leak (the fixture restores the registry)."""
        assert "spend_per_order" not in user_facts()
        assert "tier_code" not in user_facts()
