"""Consent: what a customer agreed to, or withdrew from, and when."""

from __future__ import annotations

from datetime import datetime

import attrs

from custrec.model._choices import ConsentPurpose, Other, to_choice
from custrec.model._fields import Invalid, check_bool, checked, to_aware, to_opt_text

__all__ = ["Consent"]


def _to_purpose(value: ConsentPurpose | Other | str) -> ConsentPurpose | Other | Invalid:
    return to_choice(ConsentPurpose, value)


@attrs.frozen(field_transformer=checked)
class Consent:
    """One consent event: a purpose granted or withdrawn at a moment, from a source.

    A customer's consents are a history; the latest event per purpose is the one in force.

    Attributes:
        purpose: What the consent covers (marketing by SMS, profiling…).
        granted: ``True`` when given, ``False`` when withdrawn or refused.
        at: When it was given or withdrawn (aware).
        source: Where it was collected (``"web form"``, ``"门店登记"``…).
        evidence: A reference to the proof (form id, recording, signed paper).
    """

    purpose: ConsentPurpose | Other = attrs.field(converter=_to_purpose)
    granted: bool = attrs.field(validator=check_bool)
    at: datetime = attrs.field(converter=to_aware)
    source: str | None = attrs.field(default=None, converter=to_opt_text)
    evidence: str | None = attrs.field(default=None, converter=to_opt_text)
