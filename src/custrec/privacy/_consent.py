"""Consent in force: derived from a customer's consent history, latest event per purpose."""

from __future__ import annotations

from datetime import datetime

import attrs

from custrec.errors import ValidationError
from custrec.model import Channel, Consent, ConsentPurpose, Customer, Other, now, parse_datetime
from custrec.model._choices import open_choice

__all__ = [
    "CHANNEL_PURPOSES",
    "consent_for",
    "consent_state",
    "grant",
    "may_contact",
    "withdraw",
]

Purpose = ConsentPurpose | Other

CHANNEL_PURPOSES: dict[Channel, ConsentPurpose] = {
    Channel.EMAIL: ConsentPurpose.MARKETING_EMAIL,
    Channel.SMS: ConsentPurpose.MARKETING_SMS,
    Channel.PHONE: ConsentPurpose.MARKETING_PHONE,
    Channel.WECHAT: ConsentPurpose.MARKETING_WECHAT,
}
"""The consent purpose that covers marketing contact over each channel that needs one."""


def _moment(at: datetime | str | None) -> datetime | None:
    return None if at is None else parse_datetime(at, field="at")


def _purpose(value: ConsentPurpose | Channel | Other | str) -> Purpose:
    if isinstance(value, ConsentPurpose | Other):
        return value
    channel = value if isinstance(value, Channel) else None
    if channel is None and isinstance(value, str):
        channel = next((c for c in Channel if c.value == value.strip().lower()), None)
    if channel is not None:
        try:
            return CHANNEL_PURPOSES[channel]
        except KeyError:
            raise ValidationError(
                "purpose", str(value), "no consent purpose covers this channel"
            ) from None
    if not isinstance(value, str):
        raise ValidationError("purpose", value, "expected a consent purpose or a channel")
    return open_choice(ConsentPurpose, value)


def consent_state(customer: Customer, at: datetime | str | None = None) -> dict[Purpose, Consent]:
    """Return the consent event in force for each purpose the customer's history names.

    The latest event per purpose wins; of events at the same moment, the later in the
    history wins. A purpose never mentioned is absent.

    Args:
        customer: The customer.
        at: The moment to look at (events after it are ignored); all events when ``None``.

    Returns:
        Purpose to the :class:`~custrec.model.Consent` in force: whether it is granted, since
        when, from which source, with what evidence.

    Raises:
        ValidationError: ``at`` is not a readable moment.
    """
    moment = _moment(at)
    state: dict[Purpose, Consent] = {}
    for event in customer.consents:
        if moment is not None and event.at > moment:
            continue
        held = state.get(event.purpose)
        if held is None or event.at >= held.at:
            state[event.purpose] = event
    return state


def consent_for(
    customer: Customer,
    purpose: ConsentPurpose | Channel | Other | str,
    at: datetime | str | None = None,
) -> Consent | None:
    """Return the consent event in force for one purpose, or ``None`` if none was recorded.

    Args:
        customer: The customer.
        purpose: A :class:`~custrec.model.ConsentPurpose` (or its text), or a
            :class:`~custrec.model.Channel` standing for its marketing purpose.
        at: The moment to look at; now (all events) when ``None``.

    Returns:
        The latest event for the purpose up to ``at``.

    Raises:
        ValidationError: ``purpose`` is a channel no purpose covers, or ``at`` is unreadable.
    """
    return consent_state(customer, at).get(_purpose(purpose))


def may_contact(
    customer: Customer,
    purpose: ConsentPurpose | Channel | Other | str,
    at: datetime | str | None = None,
) -> bool:
    """Whether the customer's consent for a purpose is granted at a moment.

    Consent is opt-in: a purpose never granted is refused.

    Args:
        customer: The customer.
        purpose: A purpose, or a channel (``Channel.SMS``, ``"email"``) meaning its
            marketing purpose (see :data:`CHANNEL_PURPOSES`).
        at: The moment to decide for; all events when ``None``.

    Returns:
        ``True`` only when the latest event for the purpose up to ``at`` grants it.

    Raises:
        ValidationError: ``purpose`` is a channel no purpose covers (in person, chat,
            social), or ``at`` is unreadable.
    """
    event = consent_for(customer, purpose, at)
    return event is not None and event.granted


def _record(
    customer: Customer,
    purpose: ConsentPurpose | Channel | Other | str,
    granted: bool,
    *,
    at: datetime | str | None,
    source: str | None,
    evidence: str | None,
) -> Customer:
    event = Consent(_purpose(purpose), granted, at if at is not None else now(), source, evidence)
    # The history stays oldest first; an event dated back goes after those not later than it.
    consents = list(customer.consents)
    index = len(consents)
    while index > 0 and consents[index - 1].at > event.at:
        index -= 1
    consents.insert(index, event)
    return attrs.evolve(customer, consents=consents)


def grant(
    customer: Customer,
    purpose: ConsentPurpose | Channel | Other | str,
    *,
    at: datetime | str | None = None,
    source: str | None = None,
    evidence: str | None = None,
) -> Customer:
    """Return the customer with a consent granted for a purpose (store it to keep it).

    Args:
        customer: The customer.
        purpose: The purpose, or a channel meaning its marketing purpose.
        at: When it was given; now when ``None``.
        source: Where it was collected (``"web form"``, ``"门店登记"``).
        evidence: A reference to the proof.

    Returns:
        A copy of the customer with the event added to its consent history.

    Raises:
        ValidationError: The purpose, time, source or evidence is not valid.
    """
    return _record(customer, purpose, True, at=at, source=source, evidence=evidence)


def withdraw(
    customer: Customer,
    purpose: ConsentPurpose | Channel | Other | str,
    *,
    at: datetime | str | None = None,
    source: str | None = None,
    evidence: str | None = None,
) -> Customer:
    """Return the customer with a consent withdrawn for a purpose (store it to keep it).

    The earlier grant stays in the history; the withdrawal is the latest event and wins.

    Args:
        customer: The customer.
        purpose: The purpose, or a channel meaning its marketing purpose.
        at: When it was withdrawn; now when ``None``.
        source: Where the withdrawal came in (``"unsubscribe link"``).
        evidence: A reference to the proof.

    Returns:
        A copy of the customer with the event added to its consent history.

    Raises:
        ValidationError: The purpose, time, source or evidence is not valid.
    """
    return _record(customer, purpose, False, at=at, source=source, evidence=evidence)
