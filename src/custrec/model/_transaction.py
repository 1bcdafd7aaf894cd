"""Transactions (交易历史): what a customer bought, how they paid, and after-sales."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from typing import Any, cast

import attrs

from custrec.errors import ValidationError
from custrec.model._choices import (
    AfterSalesKind,
    Other,
    PaymentMethod,
    SalesChannel,
    TransactionStatus,
    to_choice,
    to_opt_choice,
)
from custrec.model._fields import (
    Invalid,
    checked,
    invalid,
    positive_version,
    to_aware,
    to_decimal,
    to_opt_text,
    to_text,
    to_tuple,
)
from custrec.model._ids import new_id, to_id
from custrec.model._money import Money

__all__ = ["AfterSalesEvent", "LineItem", "Transaction"]


def _is_money(instance: object, attribute: attrs.Attribute[Money], value: Money) -> None:
    if not isinstance(value, Money):
        raise ValidationError(attribute.name, value, "expected Money (amount and currency)")


def _is_opt_money(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if value is not None and not isinstance(value, Money):
        raise ValidationError(attribute.name, value, "expected Money (amount and currency)")


@attrs.frozen(field_transformer=checked)
class LineItem:
    """One line of a transaction: a product, how many, at what unit price.

    Attributes:
        name: The product's name as sold.
        unit_price: Price of one unit.
        quantity: How many units; may be fractional (1.5 kg). Negative or zero values are
            kept and reported by the quality checks, not refused.
        product_id: The product's id in the business's catalogue.
    """

    name: str = attrs.field(converter=to_text)
    unit_price: Money = attrs.field(validator=_is_money)
    quantity: Decimal = attrs.field(default=Decimal(1), converter=to_decimal)
    product_id: str | None = attrs.field(default=None, converter=to_opt_text, kw_only=True)

    @property
    def amount(self) -> Money:
        """``unit_price × quantity``, rounded half up to the currency's precision."""
        return self.unit_price * self.quantity


def _to_after_sales_kind(value: AfterSalesKind | Other | str) -> AfterSalesKind | Other | Invalid:
    return to_choice(AfterSalesKind, value)


@attrs.frozen(field_transformer=checked)
class AfterSalesEvent:
    """Something that happened after a sale (售后): a repair, return, exchange or refund.

    Attributes:
        kind: What happened.
        at: When (aware).
        amount: Money paid back to the customer, if any.
        note: Free text.
        id: The event's id; generated when not given.
    """

    kind: AfterSalesKind | Other = attrs.field(converter=_to_after_sales_kind)
    at: datetime = attrs.field(converter=to_aware)
    amount: Money | None = attrs.field(default=None, validator=_is_opt_money)
    note: str | None = attrs.field(default=None, converter=to_opt_text)
    id: str = attrs.field(factory=new_id, converter=to_id, kw_only=True)


def _to_items(value: Iterable[LineItem]) -> tuple[LineItem, ...] | Invalid:
    items = to_tuple(value)
    if isinstance(items, tuple):
        for index, item in enumerate(items):
            if not isinstance(item, LineItem):
                return invalid(value, f"item {index} is a {type(item).__name__}, not a LineItem")
    return items


def _to_after_sales(value: Iterable[AfterSalesEvent]) -> tuple[AfterSalesEvent, ...] | Invalid:
    events = to_tuple(value)
    if isinstance(events, tuple):
        for index, event in enumerate(events):
            if not isinstance(event, AfterSalesEvent):
                return invalid(
                    value, f"event {index} is a {type(event).__name__}, not an AfterSalesEvent"
                )
    return events


def _to_total(value: Money | None) -> Money | None:
    # Identity: lets the constructor take None, which __attrs_post_init__ replaces by the sum.
    return value


def _to_payment(
    value: PaymentMethod | Other | str | None,
) -> PaymentMethod | Other | Invalid | None:
    return to_opt_choice(PaymentMethod, value)


def _to_sales_channel(
    value: SalesChannel | Other | str | None,
) -> SalesChannel | Other | Invalid | None:
    return to_opt_choice(SalesChannel, value)


def _to_status(value: TransactionStatus | Other | str) -> TransactionStatus | Other | Invalid:
    return to_choice(TransactionStatus, value)


@attrs.frozen(field_transformer=checked)
class Transaction:
    """A sale to a customer, with its line items, payment and after-sales events.

    ``total`` is what the customer was charged. Leave it out to have it summed from the
    items; give it to record what was really charged (a discount, a rounding), and the
    quality checks compare the two. All amounts share one currency.

    Attributes:
        customer_id: The customer who bought.
        at: When the sale happened (aware).
        items: The line items, in order.
        total: The amount charged; the items' sum when not given.
        id: The transaction's id; generated when not given.
        payment_method: How it was paid (cash, card, Alipay, WeChat Pay, transfer…).
        channel: Where it was sold (in store, online…).
        status: Pending, completed, cancelled or refunded; completed by default.
        after_sales: Repairs, returns, exchanges and refunds, in order.
        note: Free text.
        version: Optimistic-concurrency version, 1 for a new record.
    """

    customer_id: str = attrs.field(converter=to_id)
    at: datetime = attrs.field(converter=to_aware)
    items: tuple[LineItem, ...] = attrs.field(default=(), converter=_to_items)
    # None until __attrs_post_init__ sums the items; a Money on every built instance.
    total: Money = attrs.field(
        default=cast(Money, None), converter=_to_total, validator=_is_opt_money
    )
    id: str = attrs.field(factory=new_id, converter=to_id, kw_only=True)
    payment_method: PaymentMethod | Other | None = attrs.field(
        default=None, converter=_to_payment, kw_only=True
    )
    channel: SalesChannel | Other | None = attrs.field(
        default=None, converter=_to_sales_channel, kw_only=True
    )
    status: TransactionStatus | Other = attrs.field(
        default=TransactionStatus.COMPLETED, converter=_to_status, kw_only=True
    )
    after_sales: tuple[AfterSalesEvent, ...] = attrs.field(
        default=(), converter=_to_after_sales, kw_only=True
    )
    note: str | None = attrs.field(default=None, converter=to_opt_text, kw_only=True)
    version: int = attrs.field(default=1, validator=positive_version, kw_only=True)

    def __attrs_post_init__(self) -> None:
        currencies = {item.unit_price.currency for item in self.items}
        if len(currencies) > 1:
            raise ValidationError("items", sorted(currencies), "line items mix currencies")
        if self.total is None:
            if not self.items:
                raise ValidationError("total", None, "a transaction needs a total or line items")
            first = self.items[0].amount
            total = sum((item.amount for item in self.items[1:]), first)
            object.__setattr__(self, "total", total)
        elif currencies and self.total.currency not in currencies:
            raise ValidationError(
                "total", str(self.total), f"currency differs from the items' {currencies.pop()}"
            )
        for index, event in enumerate(self.after_sales):
            if event.amount is not None and event.amount.currency != self.total.currency:
                raise ValidationError(
                    f"after_sales[{index}].amount",
                    str(event.amount),
                    f"currency differs from the transaction's {self.total.currency}",
                )

    @property
    def currency(self) -> str:
        """The transaction's currency."""
        return self.total.currency

    @property
    def items_total(self) -> Money:
        """The sum of the line items (zero without items)."""
        return sum((item.amount for item in self.items), Money.zero(self.currency))

    @property
    def refunded(self) -> Money:
        """Everything paid back through after-sales events."""
        amounts = (event.amount for event in self.after_sales if event.amount is not None)
        return sum(amounts, Money.zero(self.currency))

    @property
    def net(self) -> Money:
        """``total`` less :attr:`refunded`."""
        return self.total - self.refunded
