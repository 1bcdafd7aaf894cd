"""Interactions with a customer (沟通记录): calls, messages, visits."""

from __future__ import annotations

from datetime import date, datetime

import attrs

from custrec.model._choices import Channel, Direction, Other, Outcome, to_choice, to_opt_choice
from custrec.model._fields import (
    Invalid,
    checked,
    positive_version,
    to_aware,
    to_opt_date,
    to_opt_text,
)
from custrec.model._ids import new_id, to_id

__all__ = ["Interaction"]


def _to_channel(value: Channel | Other | str) -> Channel | Other | Invalid:
    return to_choice(Channel, value)


def _to_direction(value: Direction | Other | str | None) -> Direction | Other | Invalid | None:
    return to_opt_choice(Direction, value)


def _to_outcome(value: Outcome | Other | str | None) -> Outcome | Other | Invalid | None:
    return to_opt_choice(Outcome, value)


@attrs.frozen(field_transformer=checked)
class Interaction:
    """One contact with a customer: a call, a message, a visit.

    Attributes:
        customer_id: The customer it was with.
        at: When it happened (aware).
        channel: How (phone, email, WeChat, SMS, social, in person, chat, or other).
        id: The interaction's id; generated when not given.
        direction: Who started it (inbound, outbound).
        subject: A short title.
        content: What was said or written.
        outcome: How it ended (resolved, pending, no answer…).
        handled_by: Who in the business handled it.
        next_follow_up: When to contact the customer next (下次跟进).
        version: Optimistic-concurrency version, 1 for a new record.
    """

    customer_id: str = attrs.field(converter=to_id)
    at: datetime = attrs.field(converter=to_aware)
    channel: Channel | Other = attrs.field(converter=_to_channel)
    id: str = attrs.field(factory=new_id, converter=to_id, kw_only=True)
    direction: Direction | Other | None = attrs.field(
        default=None, converter=_to_direction, kw_only=True
    )
    subject: str | None = attrs.field(default=None, converter=to_opt_text, kw_only=True)
    content: str | None = attrs.field(default=None, converter=to_opt_text, kw_only=True)
    outcome: Outcome | Other | None = attrs.field(default=None, converter=_to_outcome, kw_only=True)
    handled_by: str | None = attrs.field(default=None, converter=to_opt_text, kw_only=True)
    next_follow_up: date | None = attrs.field(default=None, converter=to_opt_date, kw_only=True)
    version: int = attrs.field(default=1, validator=positive_version, kw_only=True)
