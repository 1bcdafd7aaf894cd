"""What a check is: the :class:`Check` protocol, its :class:`Finding` and :class:`Severity`.

A check looks at records of one type, a batch at a time, and yields findings. Checks that
need the whole dataset (duplicates, outliers) keep what they saw in the run's
:class:`CheckContext` and give their findings in :meth:`Check.finish`, so a run over a store
in batches finds exactly what a run over the same records in memory finds.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date, datetime
from typing import Any, Protocol, runtime_checkable

import attrs

from custrec.errors import ValidationError
from custrec.model import Customer
from custrec.quality._mask import mask
from custrec.serialize import record_type_name
from custrec.template import Template

__all__ = [
    "Check",
    "CheckContext",
    "Finding",
    "RecordCheck",
    "Severity",
    "to_severity",
]


class Severity(enum.StrEnum):
    """How bad a finding is: ``info`` < ``warning`` < ``error``."""

    INFO = "info"
    WARNING = "warning"
    ERROR = "error"

    @property
    def rank(self) -> int:
        """0 for info, 1 for warning, 2 for error."""
        return _RANKS[self]


_RANKS = {Severity.INFO: 0, Severity.WARNING: 1, Severity.ERROR: 2}


def to_severity(value: Severity | str) -> Severity:
    """Return ``value`` as a :class:`Severity`.

    Raises:
        ValidationError: ``value`` names no severity.
    """
    try:
        return Severity(str(value).lower())
    except ValueError:
        raise ValidationError(
            "severity", value, "not a severity; use info, warning or error"
        ) from None


@attrs.frozen
class Finding:
    """One problem a check found in one record.

    Attributes:
        check: The name of the check that found it.
        record_type: ``"customer"``, ``"interaction"``, ``"transaction"`` or ``"feedback"``.
        record_id: The record's id.
        field: The field at fault (``"phones[0]"``, ``"custom.member_level"``, ``"total"``).
        severity: How bad it is.
        message: What is wrong, for people.
        value: The offending value as text, masked when it is personal data.
        fix: A suggested fix when one is known (often the corrected value).
    """

    check: str
    record_type: str
    record_id: str
    field: str
    severity: Severity
    message: str
    value: str | None = None
    fix: str | None = None

    def to_dict(self) -> dict[str, str | None]:
        """The finding as plain data (for JSON and CSV)."""
        return {
            "check": self.check,
            "record_type": self.record_type,
            "record_id": self.record_id,
            "field": self.field,
            "severity": self.severity.value,
            "message": self.message,
            "value": self.value,
            "fix": self.fix,
        }


class CheckContext:
    """What a run gives its checks: the day, the template, customers and per-check state.

    Args:
        template: The template configuring the run (entry standard, custom fields).
        as_of: The moment "now" means for staleness and future dates (aware).
        customers: Looks customers up by id (for history checks); returns those found.
    """

    def __init__(
        self,
        template: Template,
        as_of: datetime,
        customers: Callable[[Sequence[str]], Mapping[str, Customer]],
    ) -> None:
        self.template = template
        self.as_of = as_of
        self.today: date = as_of.date()
        self._customers = customers
        self._state: dict[int, dict[str, Any]] = {}

    def customers(self, ids: Iterable[str]) -> Mapping[str, Customer]:
        """Return the customers with these ids that exist (missing ones are left out)."""
        return self._customers(list(dict.fromkeys(ids)))

    def state(self, check: object) -> dict[str, Any]:
        """Return a dictionary this run keeps for ``check`` (empty at first)."""
        return self._state.setdefault(id(check), {})


@runtime_checkable
class Check(Protocol):
    """A data-quality check over records of one type.

    Implement it directly, subclass :class:`RecordCheck`, or use :func:`check` (a Python
    function) or :class:`ExpressionCheck` (a condition in the expression language).
    """

    @property
    def name(self) -> str:
        """The check's name, unique in a run (``"phone_valid"``)."""

    @property
    def severity(self) -> Severity:
        """The severity of its findings."""

    @property
    def record_type(self) -> type[Any]:
        """The record class it looks at (``Customer``, ``Transaction``…)."""

    def check(self, records: Sequence[Any], context: CheckContext) -> Iterable[Finding]:
        """Yield the findings in one batch of records of :attr:`record_type`."""

    def finish(self, context: CheckContext) -> Iterable[Finding]:
        """Yield the findings that need every record seen (after the last batch)."""


class RecordCheck:
    """A convenient base for checks: name, severity, record type and :meth:`finding`.

    Subclasses implement :meth:`check`; :meth:`finish` yields nothing unless overridden.

    Args:
        name: The check's name.
        severity: The severity of its findings.
        record_type: The record class it looks at.
    """

    def __init__(self, name: str, severity: Severity | str, record_type: type[Any]) -> None:
        self.name = name
        self.severity = to_severity(severity)
        self.record_type = record_type
        self.type_name = record_type_name(record_type)

    def check(self, records: Sequence[Any], context: CheckContext) -> Iterable[Finding]:
        """Yield the findings in one batch of records."""
        raise NotImplementedError

    def finish(self, context: CheckContext) -> Iterable[Finding]:
        """Yield nothing: a record check has no findings that need every record."""
        return ()

    def finding(
        self,
        record_id: str,
        field: str,
        message: str,
        value: object = None,
        *,
        fix: str | None = None,
        severity: Severity | None = None,
    ) -> Finding:
        """Build a finding of this check; ``value`` is masked when ``field`` is personal.

        Args:
            record_id: The record's id.
            field: The field at fault.
            message: What is wrong.
            value: The offending value (shown as text, masked for personal fields).
            fix: A suggested fix; keep personal data out of it.
            severity: Instead of the check's severity, for this finding.

        Returns:
            The finding.
        """
        return Finding(
            self.name,
            self.type_name,
            record_id,
            field,
            self.severity if severity is None else severity,
            message,
            mask(field, value),
            fix,
        )

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r})"
