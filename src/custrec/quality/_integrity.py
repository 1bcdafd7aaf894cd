"""Checks of history against its customer: the customer exists, and consented to marketing."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from typing import Any

from custrec.errors import RuleSyntaxError, ValidationError
from custrec.expr import Expr, compile_predicate, parse
from custrec.model import (
    Channel,
    ConsentPurpose,
    Customer,
    Direction,
    Feedback,
    Interaction,
    Transaction,
)
from custrec.quality._check import CheckContext, Finding, RecordCheck, Severity

__all__ = ["MARKETING_KEYWORDS", "MarketingConsent", "UnknownCustomer"]

_HISTORY = (Interaction, Transaction, Feedback)


class UnknownCustomer(RecordCheck):
    """Referential integrity: history points at a customer that exists.

    Args:
        record_type: ``Interaction``, ``Transaction`` or ``Feedback``.
        severity: The severity of its findings.
        name: The check's name; ``unknown_customer.<type>`` by default.

    Raises:
        ValidationError: ``record_type`` is not a history record type.
    """

    def __init__(
        self,
        *,
        record_type: type[Any] = Transaction,
        severity: Severity | str = Severity.ERROR,
        name: str | None = None,
    ) -> None:
        if record_type not in _HISTORY:
            raise ValidationError("record_type", record_type, "not a history record type")
        super().__init__(name or "unknown_customer", severity, record_type)

    def check(self, records: Sequence[Any], context: CheckContext) -> Iterator[Finding]:
        """Yield a finding for each record whose customer is unknown."""
        known = context.customers(record.customer_id for record in records)
        for record in records:
            if record.customer_id not in known:
                yield self.finding(
                    record.id,
                    "customer_id",
                    f"points at unknown customer {record.customer_id}",
                    record.customer_id,
                    fix="attach it to an existing customer, or restore the customer",
                )


MARKETING_KEYWORDS = (
    "促销",
    "优惠",
    "营销",
    "推广",
    "新品推荐",
    "活动邀请",
    "promotion",
    "offer",
    "campaign",
    "marketing",
    "newsletter",
)
"""Words in an outbound interaction's subject that make it marketing, by default."""

_PURPOSES = {
    Channel.EMAIL: ConsentPurpose.MARKETING_EMAIL,
    Channel.SMS: ConsentPurpose.MARKETING_SMS,
    Channel.PHONE: ConsentPurpose.MARKETING_PHONE,
    Channel.WECHAT: ConsentPurpose.MARKETING_WECHAT,
}


def consent_in_force(customer: Customer, purpose: str, at: datetime) -> bool:
    """Whether the customer's latest consent event for ``purpose`` up to ``at`` grants it.

    Args:
        customer: The customer, with their consent history.
        purpose: The purpose (``"marketing_sms"``…).
        at: The moment of the contact (aware).

    Returns:
        ``True`` when the latest event for the purpose at or before ``at`` is a grant;
        ``False`` when it is a withdrawal or there is none.
    """
    granted = False
    latest: datetime | None = None
    for consent in customer.consents:
        in_time = consent.at <= at
        if consent.purpose == purpose and in_time and (latest is None or consent.at >= latest):
            latest, granted = consent.at, consent.granted
    return granted


class MarketingConsent(RecordCheck):
    """Marketing contact only with the customer's consent for that channel's purpose.

    An interaction counts as marketing when it is outbound and its subject holds one of
    ``keywords`` (case ignored), or, when given, when ``marketing_when`` is true. The
    consent for the channel's purpose (email, SMS, phone, WeChat) must be in force at the
    interaction's time: the latest consent event before it grants it.

    Args:
        keywords: Subject words that mark marketing.
        marketing_when: A condition over the interaction instead of the keywords.
        severity: The severity of its findings.
        name: The check's name.

    Raises:
        ValidationError: ``marketing_when`` cannot be parsed or names unknown fields.
    """

    def __init__(
        self,
        *,
        keywords: Sequence[str] = MARKETING_KEYWORDS,
        marketing_when: str | Expr | None = None,
        severity: Severity | str = Severity.ERROR,
        name: str = "consent",
    ) -> None:
        super().__init__(name, severity, Interaction)
        self.keywords = tuple(word.lower() for word in keywords)
        self._is_marketing: Callable[[Interaction], bool]
        if marketing_when is not None:
            try:
                expr = parse(marketing_when) if isinstance(marketing_when, str) else marketing_when
            except RuleSyntaxError as exc:
                reason = f"{exc.reason} at position {exc.position}"
                raise ValidationError("marketing_when", marketing_when, reason) from None
            self._is_marketing = compile_predicate(expr, Interaction)
        else:
            self._is_marketing = self._by_keyword

    def _by_keyword(self, record: Interaction) -> bool:
        if record.direction != Direction.OUTBOUND or not record.subject:
            return False
        subject = record.subject.lower()
        return any(word in subject for word in self.keywords)

    def check(self, records: Sequence[Interaction], context: CheckContext) -> Iterator[Finding]:
        """Yield a finding for each marketing contact made without consent."""
        marketing = [
            record
            for record in records
            if record.channel in _PURPOSES and self._is_marketing(record)
        ]
        if not marketing:
            return
        customers = context.customers(record.customer_id for record in marketing)
        for record in marketing:
            customer = customers.get(record.customer_id)
            if customer is None:
                continue  # the unknown_customer check reports it
            purpose = _PURPOSES[record.channel]  # type: ignore[index]
            if not consent_in_force(customer, purpose, record.at):
                yield self.finding(
                    record.id,
                    "channel",
                    f"marketing by {record.channel} without {purpose} consent in force",
                    str(record.channel),
                    fix="record the customer's consent, or stop marketing on this channel",
                )
