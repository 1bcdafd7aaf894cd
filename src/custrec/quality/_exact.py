"""Exact duplicates: customers sharing a normalised phone number or email address."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from custrec.errors import ValidationError
from custrec.model import Customer
from custrec.quality._check import CheckContext, Finding, RecordCheck, Severity
from custrec.quality._mask import mask

__all__ = ["ExactDuplicates"]

_KEYS = ("phone", "email")
_NAMED = 5
_FIX = "merge the customers, or correct the contact"


class ExactDuplicates(RecordCheck):
    """Customers that share a valid phone (E.164) or an email address (case ignored).

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
        # Per key kind: the first owner of each key, and (only for keys seen more than once)
        # every owner in order. Most keys are seen once and cost one dict entry.
        first_phone: dict[str, str] = state.setdefault("phones", {})
        first_email: dict[str, str] = state.setdefault("emails", {})
        shared: dict[tuple[str, str], list[str]] = state.setdefault("shared", {})
        on_phone, on_email = self.on_phone, self.on_email
        for record in records:
            record_id = record.id
            if on_phone:
                for phone in record.phones:
                    # Only valid numbers: junk such as "000" shared by many is the phone
                    # check's business, not a duplicate.
                    key = phone.e164
                    if phone.valid and key is not None:
                        owner = first_phone.setdefault(key, record_id)
                        if owner != record_id:
                            _share(shared, ("phones", key), owner, record_id)
            if on_email:
                for email in record.emails:
                    # Email.key, without its NFKC and strip: an address is stored folded.
                    key = email.address.lower()
                    owner = first_email.setdefault(key, record_id)
                    if owner != record_id:
                        _share(shared, ("emails", key), owner, record_id)
        return iter(())

    def finish(self, context: CheckContext) -> Iterator[Finding]:
        """Yield a finding for each customer sharing a key with another."""
        shared: dict[tuple[str, str], list[str]] = context.state(self).get("shared", {})
        name, kind, severity = self.name, self.type_name, self.severity
        for (field, value), owners in shared.items():
            what = "phone" if field == "phones" else "email"
            # Masked once per group, not per owner: masking a phone parses it.
            shown = mask(field, value)
            for owner in owners:
                # Five others are named; a large group would make long, quadratic messages.
                others = [other for other in owners[: _NAMED + 1] if other != owner][:_NAMED]
                more = len(owners) - 1 - len(others)
                named = ", ".join(others) + (f" and {more} more" if more else "")
                yield Finding(
                    name,
                    kind,
                    owner,
                    field,
                    severity,
                    f"same {what} as customer {named}",
                    shown,
                    _FIX,
                )


def _share(
    shared: dict[tuple[str, str], list[str]], key: tuple[str, str], owner: str, record_id: str
) -> None:
    owners = shared.get(key)
    if owners is None:
        shared[key] = [owner, record_id]
    elif record_id not in owners:
        owners.append(record_id)
