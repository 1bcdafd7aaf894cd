"""Consistency checks: totals, refunds, after-sales order, age, one currency per customer."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Sequence
from decimal import Decimal

from custrec.model import Customer, Transaction, age_on
from custrec.quality._check import CheckContext, Finding, RecordCheck, Severity

__all__ = [
    "AfterSalesAfterSale",
    "AgeMatchesBirthDate",
    "CurrencyConsistent",
    "RefundWithinPaid",
    "TotalMatchesItems",
]


class TotalMatchesItems(RecordCheck):
    """A transaction's total equals the sum of its line items.

    A total may legitimately differ (a discount); the finding asks someone to look.

    Args:
        tolerance: The largest difference accepted, in the currency's units.
        severity: The severity of its findings.
        name: The check's name.
    """

    def __init__(
        self,
        *,
        tolerance: Decimal | int | str = 0,
        severity: Severity | str = Severity.WARNING,
        name: str = "total_matches_items",
    ) -> None:
        super().__init__(name, severity, Transaction)
        self.tolerance = Decimal(str(tolerance))

    def check(self, records: Sequence[Transaction], context: CheckContext) -> Iterator[Finding]:
        """Yield a finding for each transaction whose total differs from its items' sum."""
        for record in records:
            if not record.items:
                continue
            items = record.items_total
            if abs(record.total.amount - items.amount) > self.tolerance:
                yield self.finding(
                    record.id,
                    "total",
                    f"total {record.total} differs from the line items' sum {items}",
                    str(record.total),
                    fix=f"set the total to {items}, or note the discount",
                )


class RefundWithinPaid(RecordCheck):
    """Refunds never exceed what was paid.

    Args:
        severity: The severity of its findings.
        name: The check's name.
    """

    def __init__(
        self, *, severity: Severity | str = Severity.ERROR, name: str = "refund_within_paid"
    ) -> None:
        super().__init__(name, severity, Transaction)

    def check(self, records: Sequence[Transaction], context: CheckContext) -> Iterator[Finding]:
        """Yield a finding for each transaction refunded more than its total."""
        for record in records:
            if not record.after_sales:
                continue
            refunded = record.refunded
            if refunded.amount > record.total.amount:
                yield self.finding(
                    record.id,
                    "after_sales",
                    f"refunds {refunded} exceed the total paid {record.total}",
                    str(refunded),
                )


class AfterSalesAfterSale(RecordCheck):
    """After-sales events (repair, return, exchange, refund) come after the sale.

    Args:
        severity: The severity of its findings.
        name: The check's name.
    """

    def __init__(
        self, *, severity: Severity | str = Severity.ERROR, name: str = "after_sales_order"
    ) -> None:
        super().__init__(name, severity, Transaction)

    def check(self, records: Sequence[Transaction], context: CheckContext) -> Iterator[Finding]:
        """Yield a finding for each after-sales event dated before its sale."""
        for record in records:
            for index, event in enumerate(record.after_sales):
                if event.at < record.at:
                    yield self.finding(
                        record.id,
                        f"after_sales[{index}].at",
                        f"{event.kind} dated before the sale ({record.at.isoformat()})",
                        event.at.isoformat(),
                    )


class AgeMatchesBirthDate(RecordCheck):
    """A recorded age (a custom field, as imports often carry one) agrees with the birth date.

    Age is derived from the birth date in custrec, never stored; this checks data that
    arrived with both.

    Args:
        field: The custom field holding a stated age.
        tolerance: Years of difference accepted (an age stated some time ago).
        severity: The severity of its findings.
        name: The check's name.
    """

    def __init__(
        self,
        *,
        field: str = "age",
        tolerance: int = 1,
        severity: Severity | str = Severity.WARNING,
        name: str = "age_matches_birth_date",
    ) -> None:
        super().__init__(name, severity, Customer)
        self.field, self.tolerance = field, tolerance

    def check(self, records: Sequence[Customer], context: CheckContext) -> Iterator[Finding]:
        """Yield a finding for each stated age that the birth date contradicts."""
        key, path = self.field, f"custom.{self.field}"
        for record in records:
            stated = record.custom.get(key)
            if stated is None or record.birth_date is None:
                continue
            try:
                years = int(str(stated))
            except ValueError:
                yield self.finding(record.id, path, "stated age is not a whole number", stated)
                continue
            age = age_on(record.birth_date, context.today)
            if abs(years - age) > self.tolerance:
                yield self.finding(
                    record.id,
                    path,
                    f"stated age {years} but the birth date gives {age}",
                    stated,
                    fix=f"set it to {age}, or correct the birth date",
                )


class CurrencyConsistent(RecordCheck):
    """Each customer pays in one currency; transactions in another are flagged.

    A customer's currency is the one most of their transactions use (ties: the template's
    currency, then alphabetical). Keeps each customer's transaction ids by currency until
    the end of the run.

    Args:
        severity: The severity of its findings.
        name: The check's name.
    """

    def __init__(
        self, *, severity: Severity | str = Severity.WARNING, name: str = "currency"
    ) -> None:
        super().__init__(name, severity, Transaction)

    def check(self, records: Sequence[Transaction], context: CheckContext) -> Iterator[Finding]:
        """Remember each transaction's currency; findings come in :meth:`finish`."""
        seen: dict[str, dict[str, list[str]]] = context.state(self).setdefault("seen", {})
        for record in records:
            by_currency = seen.setdefault(record.customer_id, {})
            by_currency.setdefault(record.total.currency, []).append(record.id)
        return iter(())

    def finish(self, context: CheckContext) -> Iterator[Finding]:
        """Yield a finding for each transaction outside its customer's usual currency."""
        seen: dict[str, dict[str, list[str]]] = context.state(self).get("seen", {})
        home = context.template.currency
        for customer_id, by_currency in seen.items():
            if len(by_currency) < 2:
                continue
            counts = Counter({currency: len(ids) for currency, ids in by_currency.items()})
            usual = min(counts, key=lambda c: (-counts[c], c != home, c))
            for currency, ids in by_currency.items():
                if currency == usual:
                    continue
                for record_id in ids:
                    yield self.finding(
                        record_id,
                        "total",
                        f"in {currency}; customer {customer_id} usually pays in {usual}",
                        currency,
                    )
