"""Feedback and ratings (反馈和评价)."""

from __future__ import annotations

from datetime import datetime

import attrs

from custrec.errors import ValidationError
from custrec.model._choices import FeedbackTopic, Other, to_opt_choice
from custrec.model._fields import (
    Invalid,
    check_int_range,
    checked,
    positive_version,
    to_aware,
    to_opt_text,
)
from custrec.model._ids import new_id, to_id

__all__ = ["Feedback", "nps_class"]


def _to_topic(value: FeedbackTopic | Other | str | None) -> FeedbackTopic | Other | Invalid | None:
    return to_opt_choice(FeedbackTopic, value)


def nps_class(score: int) -> str:
    """Return ``"promoter"`` (9–10), ``"passive"`` (7–8) or ``"detractor"`` (0–6)."""
    if score >= 9:
        return "promoter"
    return "passive" if score >= 7 else "detractor"


@attrs.frozen(field_transformer=checked)
class Feedback:
    """What a customer said about a product, a sale or a contact.

    At least one of ``rating``, ``nps`` and ``text`` must be given.

    Attributes:
        customer_id: The customer who gave it.
        at: When (aware).
        rating: Stars from 1 to 5.
        nps: Net Promoter answer from 0 to 10 ("how likely are you to recommend us").
        text: What they wrote or said.
        topic: What it is about: a product, a transaction, an interaction, the service.
        about_id: The id of the product, transaction or interaction it is about.
        id: The feedback's id; generated when not given.
        version: Optimistic-concurrency version, 1 for a new record.
    """

    customer_id: str = attrs.field(converter=to_id)
    at: datetime = attrs.field(converter=to_aware)
    rating: int | None = attrs.field(default=None, validator=check_int_range(1, 5), kw_only=True)
    nps: int | None = attrs.field(default=None, validator=check_int_range(0, 10), kw_only=True)
    text: str | None = attrs.field(default=None, converter=to_opt_text, kw_only=True)
    topic: FeedbackTopic | Other | None = attrs.field(
        default=None, converter=_to_topic, kw_only=True
    )
    about_id: str | None = attrs.field(default=None, converter=to_opt_text, kw_only=True)
    id: str = attrs.field(factory=new_id, converter=to_id, kw_only=True)
    version: int = attrs.field(default=1, validator=positive_version, kw_only=True)

    def __attrs_post_init__(self) -> None:
        if self.rating is None and self.nps is None and self.text is None:
            raise ValidationError("rating", None, "feedback needs a rating, an NPS score or text")

    @property
    def nps_class(self) -> str | None:
        """Promoter, passive or detractor for the NPS answer; ``None`` without one."""
        return None if self.nps is None else nps_class(self.nps)
