"""Exact duplicates: customers sharing a normalised phone number or email address."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from custrec.errors import ValidationError
from custrec.model import Customer
from custrec.quality._check import CheckContext, Finding, RecordCheck, Severity

__all__ = ["ExactDuplicates"]

_KEYS = ("phone", "email")


class ExactDuplicates(RecordCheck):
    """Customers that share a phone (E.164) or an email address (case ignored).

    Each customer of a group gets one finding per shared key, naming the others. Fuzzy
    duplicates (similar names, typos) are another matter, with their own tools.

    Args:
        on: Which keys to compare: ``"phone"``, ``"email"`` or both.
        severity: The severity of its findings.
        name: The check's name.

    Raises:
        ValidationError: ``on`` names another key.
    """

    def __init__(
        self,
        *,
        on: Sequence[str] = _KEYS,
        severity: Severity | str = Severity.WARNING,
        name: str = "exact_duplicates",
    ) -> None:
        super().__init__(name, severity, Customer)
        for key in on:
            if key not in _KEYS:
                raise ValidationError("on", key, "compare on 'phone' or 'email'")
        self.on_phone, self.on_email = "phone" in on, "email" in on

    def check(self, records: Sequence[Customer], context: CheckContext) -> Iterator[Finding]:
        """Remember each customer's keys; findings come in :meth:`finish`."""
        state = context.state(self)
        # The first owner of each key, and (only for keys seen twice) every owner, in order.
        first: dict[str, str] = state.setdefault("first", {})
        shared: dict[str, list[str]] = state.setdefault("shared", {})
        on_phone, on_email = self.on_phone, self.on_email
        for record in records:
            if on_phone:
                for phone in record.phones:
                    if phone.e164 is not None:
                        _note("phones", phone.e164, record.id, first, shared)
            if on_email:
                for email in record.emails:
                    _note("emails", email.key, record.id, first, shared)
        return iter(())

    def finish(self, context: CheckContext) -> Iterator[Finding]:
        """Yield a finding for each customer sharing a key with another."""
        shared: dict[str, list[str]] = context.state(self).get("shared", {})
        for key, owners in shared.items():
            field, _, value = key.partition(":")
            what = "phone" if field == "phones" else "email"
            for owner in owners:
                others = [other for other in owners if other != owner]
                yield self.finding(
                    owner,
                    field,
                    f"same {what} as customer {', '.join(others)}",
                    value,
                    fix="merge the customers, or correct the contact",
                )


def _note(
    field: str, value: str, record_id: str, first: dict[str, str], shared: dict[str, list[str]]
) -> None:
    key = f"{field}:{value}"
    owner = first.setdefault(key, record_id)
    if owner == record_id:
        return
    owners = shared.get(key)
    if owners is None:
        shared[key] = [owner, record_id]
    elif record_id not in owners:
        owners.append(record_id)
