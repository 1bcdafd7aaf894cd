"""Staleness: records nobody reviewed or updated within the template's audit cycle."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import timedelta

from custrec.errors import ValidationError
from custrec.model import Customer
from custrec.quality._check import CheckContext, Finding, RecordCheck, Severity

__all__ = ["DEFAULT_AUDIT_CYCLE_DAYS", "Staleness"]

DEFAULT_AUDIT_CYCLE_DAYS = 365
"""The audit cycle when neither the check nor the template sets one."""


class Staleness(RecordCheck):
    """A customer was reviewed or updated within the audit cycle (定期审核).

    The later of ``reviewed_at`` and ``updated_at`` counts.

    Args:
        audit_cycle_days: Days a record stays fresh; the template's
            ``[checks.staleness] audit_cycle_days`` by default, else 365.
        severity: The severity of its findings.
        name: The check's name.

    Raises:
        ValidationError: ``audit_cycle_days`` is not a whole number from 1.
    """

    def __init__(
        self,
        *,
        audit_cycle_days: int | None = None,
        severity: Severity | str = Severity.WARNING,
        name: str = "staleness",
    ) -> None:
        super().__init__(name, severity, Customer)
        if audit_cycle_days is not None and (
            isinstance(audit_cycle_days, bool)
            or not isinstance(audit_cycle_days, int)
            or audit_cycle_days < 1
        ):
            raise ValidationError("audit_cycle_days", audit_cycle_days, "a whole number from 1")
        self.audit_cycle_days = audit_cycle_days

    def cycle_days(self, context: CheckContext) -> int:
        """The audit cycle in force for a run."""
        if self.audit_cycle_days is not None:
            return self.audit_cycle_days
        settings = context.template.checks.get("staleness") or {}
        return int(settings.get("audit_cycle_days", DEFAULT_AUDIT_CYCLE_DAYS))

    def check(self, records: Sequence[Customer], context: CheckContext) -> Iterator[Finding]:
        """Yield a finding for each customer last touched before the cycle began."""
        days = self.cycle_days(context)
        cutoff = context.as_of - timedelta(days=days)
        for record in records:
            last = record.updated_at
            reviewed = record.reviewed_at
            if reviewed is not None and reviewed > last:
                last = reviewed
            if last < cutoff:
                yield self.finding(
                    record.id,
                    "reviewed_at",
                    f"not reviewed or updated for {(context.as_of - last).days} days "
                    f"(audit cycle {days})",
                    last.date().isoformat(),
                    fix="review the record and set reviewed_at",
                )
