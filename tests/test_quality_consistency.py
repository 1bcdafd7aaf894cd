"""Consistency, staleness, referential integrity, outliers, consent and exact duplicates."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from custrec.errors import ValidationError
from custrec.model import (
    AfterSalesEvent,
    Consent,
    Customer,
    Email,
    Feedback,
    Interaction,
    LineItem,
    Money,
    Phone,
    Transaction,
)
from custrec.quality import (
    AfterSalesAfterSale,
    AgeMatchesBirthDate,
    Check,
    CurrencyConsistent,
    ExactDuplicates,
    Finding,
    MarketingConsent,
    Outliers,
    RefundWithinPaid,
    Severity,
    Staleness,
    TotalMatchesItems,
    UnknownCustomer,
    robust_scores,
    run_checks,
)
from custrec.template import Template

AS_OF = datetime(2025, 6, 30, 12, tzinfo=UTC)
T0 = datetime(2025, 1, 1, tzinfo=UTC)


def cny(amount: str | int) -> Money:
    return Money(str(amount), "CNY")


def customer(**fields: object) -> Customer:
    fields.setdefault("created_at", T0)
    fields.setdefault("updated_at", T0)
    return Customer(**fields)  # type: ignore[arg-type]


def sale(
    tid: str, total: str | int | None = None, *, customer_id: str = "1", **more: object
) -> Transaction:
    items = more.pop("items", [LineItem("茶", cny(50), Decimal(2))])
    return Transaction(
        customer_id,
        more.pop("at", T0),
        items,  # type: ignore[arg-type]
        total=None if total is None else Money(str(total), str(more.pop("currency", "CNY"))),
        id=tid,
        **more,  # type: ignore[arg-type]
    )


def findings(
    records: list[object], *checks: Check, template: Template | None = None
) -> list[Finding]:
    report = run_checks(records, checks=checks, template=template, as_of=AS_OF)  # type: ignore[arg-type]
    return list(report.findings)


class TestTotals:
    def test_total_must_equal_items(self) -> None:
        """A total other than the items' sum is a warning suggesting the sum."""
        found = findings([sale("a"), sale("b", 90), sale("c", 100)], TotalMatchesItems())
        assert [(f.record_id, f.field) for f in found] == [("b", "total")]
        assert found[0].fix is not None
        assert "100" in found[0].fix

    def test_tolerance(self) -> None:
        """Differences within the tolerance pass."""
        assert findings([sale("b", "99.5")], TotalMatchesItems(tolerance="0.5")) == []

    def test_refund_cannot_exceed_total(self) -> None:
        """Refunds above the total are an error; up to the total they pass."""
        full = AfterSalesEvent("refund", T0 + timedelta(days=1), cny(100))
        extra = AfterSalesEvent("refund", T0 + timedelta(days=2), cny(1))
        records = [sale("ok", after_sales=[full]), sale("bad", after_sales=[full, extra])]
        found = findings(records, RefundWithinPaid())
        assert [(f.record_id, f.severity) for f in found] == [("bad", Severity.ERROR)]

    def test_after_sales_come_after_the_sale(self) -> None:
        """An after-sales event dated before its sale is found, with its index."""
        before = AfterSalesEvent("repair", T0 - timedelta(hours=1))
        after = AfterSalesEvent("return", T0 + timedelta(hours=1))
        found = findings([sale("x", after_sales=[after, before])], AfterSalesAfterSale())
        assert [f.field for f in found] == ["after_sales[1].at"]


class TestAgeAndCurrency:
    def test_stated_age_agrees_with_birth_date(self) -> None:
        """A stated age off by more than a year, or not a number, is found."""
        records = [
            customer(id="1", birth_date=date(1990, 1, 1), custom={"age": 35}),
            customer(id="2", birth_date=date(1990, 1, 1), custom={"age": 30}),
            customer(id="3", birth_date=date(1990, 1, 1), custom={"age": "三十"}),
            customer(id="4", custom={"age": 30}),
        ]
        found = findings(records, AgeMatchesBirthDate())
        assert [f.record_id for f in found] == ["2", "3"]

    def test_customer_currency_is_consistent(self) -> None:
        """A transaction outside the customer's usual currency is flagged."""
        records = [
            sale("a", 100),
            sale("b", 100),
            sale("c", 100, currency="USD", items=[]),
            sale("d", 5, currency="USD", items=[], customer_id="2"),
        ]
        found = findings(records, CurrencyConsistent())
        assert [(f.record_id, f.value) for f in found] == [("c", "USD")]

    def test_currency_tie_prefers_the_template_currency(self) -> None:
        """With as many transactions in each currency, the template's is the usual one."""
        records = [sale("a", 1, currency="USD", items=[]), sale("b", 1, items=[])]
        found = findings(records, CurrencyConsistent(), template=Template("t", currency="CNY"))
        assert [f.record_id for f in found] == ["a"]


class TestStaleness:
    def test_records_not_touched_within_the_cycle(self) -> None:
        """Neither reviewed nor updated within the cycle is stale; either one keeps it fresh."""
        old = AS_OF - timedelta(days=200)
        recent = AS_OF - timedelta(days=10)
        records = [
            customer(id="1", created_at=old, updated_at=old),
            customer(id="2", created_at=old, updated_at=old, reviewed_at=recent),
            customer(id="3", created_at=old, updated_at=recent),
        ]
        found = findings(records, Staleness(audit_cycle_days=180))
        assert [(f.record_id, f.field) for f in found] == [("1", "reviewed_at")]

    def test_cycle_comes_from_the_template(self) -> None:
        """Without an explicit cycle the template's ``[checks.staleness]`` applies."""
        old = AS_OF - timedelta(days=200)
        records = [customer(id="1", created_at=old, updated_at=old)]
        assert findings(records, Staleness(), template=Template.preset("retail"))  # 180 days
        assert not findings(records, Staleness(), template=Template("t"))  # 365 by default


class TestReferentialIntegrity:
    @pytest.mark.parametrize("kind", [Interaction, Transaction, Feedback])
    def test_history_of_unknown_customer(self, kind: type) -> None:
        """History pointing at a customer not in the data is an error."""
        if kind is Interaction:
            records: list[object] = [
                Interaction("1", T0, "phone", id="h1"),
                Interaction("9", T0, "phone", id="h2"),
            ]
        elif kind is Transaction:
            records = [sale("h1"), sale("h2", customer_id="9")]
        else:
            records = [Feedback("1", T0, rating=5, id="h1"), Feedback("9", T0, rating=1, id="h2")]
        found = findings([customer(id="1"), *records], UnknownCustomer(record_type=kind))
        assert [(f.record_id, f.field) for f in found] == [("h2", "customer_id")]


class TestOutliers:
    def test_negative_values(self) -> None:
        """Negative totals and non-positive quantities are errors, seen at once."""
        records = [
            sale("neg", -5, items=[]),
            sale("zero_qty", 0, items=[LineItem("x", cny(1), Decimal(0))]),
            sale("free", 0, items=[]),
        ]
        found = findings(records, Outliers())
        assert sorted((f.record_id, f.field) for f in found) == [
            ("neg", "total"),
            ("zero_qty", "items[0].quantity"),
        ]

    def test_extreme_amount_by_median_and_mad(self) -> None:
        """One total far above a spread of ordinary ones is an extreme (a warning)."""
        ordinary = [sale(f"t{i}", 50 + 7 * i, items=[]) for i in range(60)]
        typo = sale("typo", 880000, items=[])
        found = findings([*ordinary, typo], Outliers())
        assert [(f.record_id, f.severity) for f in found] == [("typo", Severity.WARNING)]

    def test_caps(self) -> None:
        """Configured caps flag values above them even without statistics."""
        records = [sale("big", 5000, items=[LineItem("x", cny(1), Decimal(2000))])]
        found = findings(records, Outliers(max_amount=1000))
        assert sorted(f.field for f in found) == ["items[0].quantity", "total"]

    def test_few_values_draw_no_statistics(self) -> None:
        """Below ``min_count`` values nothing is called extreme."""
        records = [sale("a", 10, items=[]), sale("b", 100000, items=[])]
        assert findings(records, Outliers()) == []

    @given(st.lists(st.floats(1, 1e6), min_size=3, max_size=50))
    def test_scores_are_centred_on_the_median(self, values: list[float]) -> None:
        """The median value scores 0 (when there is spread); scores keep the values' order."""
        scores = robust_scores(values)
        if scores is None:
            return
        order = sorted(range(len(values)), key=values.__getitem__)
        ranked = [scores[i] for i in order]
        assert ranked == sorted(ranked)


class TestConsent:
    def _interaction(self, iid: str, channel: str, subject: str, at: datetime) -> Interaction:
        return Interaction("1", at, channel, id=iid, direction="outbound", subject=subject)

    def test_marketing_needs_consent_in_force(self) -> None:
        """Outbound marketing needs the channel's consent granted before it and not withdrawn."""
        granted = Consent("marketing_sms", True, T0)
        withdrawn = Consent("marketing_sms", False, T0 + timedelta(days=30))
        person = customer(id="1", consents=[granted, withdrawn])
        records = [
            person,
            self._interaction("ok", "sms", "促销短信", T0 + timedelta(days=1)),
            self._interaction("late", "sms", "促销短信", T0 + timedelta(days=31)),
            self._interaction("early", "sms", "Spring promotion", T0 - timedelta(days=1)),
            self._interaction("email", "email", "新品推荐", T0 + timedelta(days=1)),
            self._interaction("service", "sms", "物流通知", T0 + timedelta(days=31)),
        ]
        found = findings(records, MarketingConsent())
        assert sorted(f.record_id for f in found) == ["early", "email", "late"]

    def test_inbound_is_not_marketing(self) -> None:
        """A customer writing in about a promotion needs no consent."""
        inbound = Interaction("1", T0, "sms", id="i", direction="inbound", subject="促销")
        assert findings([customer(id="1"), inbound], MarketingConsent()) == []

    def test_marketing_condition(self) -> None:
        """``marketing_when`` decides what marketing is instead of the keywords."""
        touch = Interaction("1", T0, "phone", id="i", direction="outbound", subject="回访")
        found = findings(
            [customer(id="1"), touch], MarketingConsent(marketing_when="subject == '回访'")
        )
        assert [f.record_id for f in found] == ["i"]

    def test_bad_marketing_condition_is_refused(self) -> None:
        """A marketing condition that does not parse is refused, naming the option."""
        with pytest.raises(ValidationError) as info:
            MarketingConsent(marketing_when="subject ==")
        assert info.value.field == "marketing_when"


class TestExactDuplicates:
    def test_same_phone_or_email(self) -> None:
        """Customers sharing a normalised phone or email are each flagged, naming the others."""
        records = [
            customer(id="1", phones=[Phone("138 1234 5678", region="CN")]),
            customer(id="2", phones=[Phone("+86 13812345678")], emails=[Email("A@QQ.com")]),
            customer(id="3", emails=[Email("a@qq.COM")]),
            customer(id="4", phones=[Phone("13900000000", region="CN")]),
        ]
        found = findings(records, ExactDuplicates())
        pairs = sorted((f.record_id, f.field) for f in found)
        assert pairs == [("1", "phones"), ("2", "emails"), ("2", "phones"), ("3", "emails")]
        message = next(f.message for f in found if f.record_id == "1")
        assert "2" in message
        assert all("13812345678" not in (f.value or "") for f in found)

    def test_own_repeats_are_not_duplicates(self) -> None:
        """A customer listing the same number twice is not a duplicate of itself."""
        one = customer(id="1", phones=[Phone("13812345678"), Phone("138-1234-5678")])
        assert findings([one], ExactDuplicates()) == []

    def test_only_email(self) -> None:
        """``on=["email"]`` ignores shared phones."""
        records = [customer(id=str(i), phones=[Phone("13812345678")]) for i in range(2)]
        assert findings(records, ExactDuplicates(on=["email"])) == []
