"""Entry standard and validity checks: required fields, phones, emails, postal codes, dates."""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from custrec.errors import ValidationError
from custrec.model import Customer, Transaction, age_on
from custrec.quality._check import CheckContext, Finding, RecordCheck, Severity
from custrec.quality._email import email_problem
from custrec.template import ENTRY_FIELDS, CustomField, Template

__all__ = [
    "POSTAL_CODES",
    "BirthDatePlausible",
    "CustomFieldsValid",
    "EmailValid",
    "NoFutureDates",
    "PhoneValid",
    "PostalCodeValid",
    "RequiredFields",
]


def _template_required(template: Template) -> tuple[str, ...]:
    custom = (f"custom.{field.key}" for field in template.custom_fields if field.required)
    return (*template.required, *custom)


def _entry_fields(fields: Sequence[str]) -> tuple[str, ...]:
    for name in fields:
        if name not in ENTRY_FIELDS and not name.startswith("custom."):
            raise ValidationError(
                "fields", name, "not a field an entry standard may require (or custom.<key>)"
            )
    return tuple(fields)


class RequiredFields(RecordCheck):
    """The entry standard: every customer has the required fields, custom fields included.

    Args:
        fields: The fields to require (``"name"``, ``"phones"``, ``"custom.member_level"``);
            by default the template's ``required`` list and its required custom fields.
        severity: The severity of its findings.
        name: The check's name.
    """

    def __init__(
        self,
        *,
        fields: Sequence[str] | None = None,
        severity: Severity | str = Severity.ERROR,
        name: str = "required",
    ) -> None:
        super().__init__(name, severity, Customer)
        self.fields = None if fields is None else _entry_fields(fields)

    def check(self, records: Sequence[Customer], context: CheckContext) -> Iterator[Finding]:
        """Yield a finding for each required field a customer leaves empty."""
        fields = self.fields if self.fields is not None else _template_required(context.template)
        for field in fields:
            if field.startswith("custom."):
                key = field[7:]
                for record in records:
                    if record.custom.get(key) is None:
                        yield self.finding(record.id, field, "required field is empty")
                continue
            for record in records:
                value = getattr(record, field)
                if not value:
                    yield self.finding(record.id, field, "required field is empty")


class PhoneValid(RecordCheck):
    """Every phone number is valid for its region (phonenumbers' judgement).

    Args:
        severity: The severity of its findings.
        name: The check's name.
    """

    def __init__(self, *, severity: Severity | str = Severity.ERROR, name: str = "phone") -> None:
        super().__init__(name, severity, Customer)

    def check(self, records: Sequence[Customer], context: CheckContext) -> Iterator[Finding]:
        """Yield a finding for each phone that is not a valid number."""
        for record in records:
            for index, phone in enumerate(record.phones):
                if not phone.valid:
                    yield self.finding(
                        record.id,
                        f"phones[{index}]",
                        f"not a valid phone number for region {phone.region}",
                        phone.raw,
                        fix="check the digits, or give the number with its country code",
                    )


class EmailValid(RecordCheck):
    """Every email address is valid in syntax (email-validator; no DNS lookups).

    Args:
        severity: The severity of its findings.
        name: The check's name.
    """

    def __init__(self, *, severity: Severity | str = Severity.ERROR, name: str = "email") -> None:
        super().__init__(name, severity, Customer)

    def check(self, records: Sequence[Customer], context: CheckContext) -> Iterator[Finding]:
        """Yield a finding for each address with bad syntax."""
        for record in records:
            for index, email in enumerate(record.emails):
                problem = email_problem(email.address)
                if problem is not None:
                    yield self.finding(record.id, f"emails[{index}]", problem, email.address)


POSTAL_CODES: dict[str, re.Pattern[str]] = {
    "CN": re.compile(r"\d{6}"),
    "HK": re.compile(r"(?!)"),  # Hong Kong has no postal codes
    "MO": re.compile(r"(?!)"),
    "TW": re.compile(r"\d{3}(?:\d{2,3})?"),
    "SG": re.compile(r"\d{6}"),
    "JP": re.compile(r"\d{3}-?\d{4}"),
    "KR": re.compile(r"\d{5}"),
    "US": re.compile(r"\d{5}(?:-\d{4})?"),
    "CA": re.compile(r"[A-Za-z]\d[A-Za-z] ?\d[A-Za-z]\d"),
    "GB": re.compile(r"[A-Za-z]{1,2}\d[A-Za-z\d]? ?\d[A-Za-z]{2}"),
    "DE": re.compile(r"\d{5}"),
    "FR": re.compile(r"\d{5}"),
    "AU": re.compile(r"\d{4}"),
}
"""Postal code shapes by ISO country code; countries not listed are not checked."""

_COUNTRY_NAMES = {"中国": "CN", "中华人民共和国": "CN", "CHINA": "CN", "PRC": "CN"}


class PostalCodeValid(RecordCheck):
    """Postal codes have their country's shape (China: six digits).

    Args:
        default_country: The country of addresses that name none.
        patterns: Extra or replacement shapes: country code to regular expression.
        severity: The severity of its findings.
        name: The check's name.
    """

    def __init__(
        self,
        *,
        default_country: str = "CN",
        patterns: dict[str, str] | None = None,
        severity: Severity | str = Severity.WARNING,
        name: str = "postal_code",
    ) -> None:
        super().__init__(name, severity, Customer)
        self.default_country = default_country.upper()
        self.patterns = dict(POSTAL_CODES)
        for country, pattern in (patterns or {}).items():
            try:
                self.patterns[country.upper()] = re.compile(pattern)
            except re.error as exc:
                raise ValidationError(
                    "patterns", pattern, f"not a regular expression: {exc}"
                ) from None

    def check(self, records: Sequence[Customer], context: CheckContext) -> Iterator[Finding]:
        """Yield a finding for each postal code not shaped as its country's are."""
        for record in records:
            for index, address in enumerate(record.addresses):
                code = address.postal_code
                if code is None:
                    continue
                country = (address.country or self.default_country).upper()
                country = _COUNTRY_NAMES.get(country, country)
                pattern = self.patterns.get(country)
                if pattern is not None and pattern.fullmatch(code) is None:
                    yield self.finding(
                        record.id,
                        f"addresses[{index}].postal_code",
                        f"not a postal code of {country}",
                        code,
                    )


class NoFutureDates(RecordCheck):
    """Timestamps are not in the future (with a little slack for clocks).

    Customers: ``created_at``, ``updated_at``, ``reviewed_at``; history: ``at`` (and the
    times of after-sales events).

    Args:
        record_type: The record class it looks at.
        slack_minutes: How far ahead of the run's time a timestamp may be.
        severity: The severity of its findings.
        name: The check's name.
    """

    def __init__(
        self,
        *,
        record_type: type[Any] = Customer,
        slack_minutes: int = 60,
        severity: Severity | str = Severity.ERROR,
        name: str | None = None,
    ) -> None:
        super().__init__(name or "future_dates", severity, record_type)
        self.slack = timedelta(minutes=slack_minutes)
        self.fields = (
            ("created_at", "updated_at", "reviewed_at") if record_type is Customer else ("at",)
        )

    def check(self, records: Sequence[Any], context: CheckContext) -> Iterator[Finding]:
        """Yield a finding for each timestamp later than the run's time."""
        limit = context.as_of + self.slack
        for field in self.fields:
            for record in records:
                value: datetime | None = getattr(record, field)
                if value is not None and value > limit:
                    yield self.finding(record.id, field, "date is in the future", value.isoformat())
        if self.record_type is Transaction:
            for record in records:
                for index, event in enumerate(record.after_sales):
                    if event.at > limit:
                        yield self.finding(
                            record.id,
                            f"after_sales[{index}].at",
                            "date is in the future",
                            event.at.isoformat(),
                        )


class BirthDatePlausible(RecordCheck):
    """A birth date gives an age from ``min_age`` to ``max_age`` (0–120) on the run's day.

    Args:
        min_age: The least plausible age.
        max_age: The greatest plausible age.
        severity: The severity of its findings.
        name: The check's name.
    """

    def __init__(
        self,
        *,
        min_age: int = 0,
        max_age: int = 120,
        severity: Severity | str = Severity.ERROR,
        name: str = "birth_date",
    ) -> None:
        super().__init__(name, severity, Customer)
        self.min_age, self.max_age = min_age, max_age

    def check(self, records: Sequence[Customer], context: CheckContext) -> Iterator[Finding]:
        """Yield a finding for each birth date giving an implausible age."""
        today = context.today
        # Born on or before `latest` and after `earliest` is plausible, checked without
        # computing each age; only the records outside are looked at closely.
        try:
            latest = today.replace(year=today.year - self.min_age)
        except ValueError:  # 29 February
            latest = today.replace(year=today.year - self.min_age, day=28)
        for record in records:
            birth = record.birth_date
            if birth is None or (birth <= latest and today.year - birth.year <= self.max_age):
                continue
            age = age_on(birth, today)
            if self.min_age <= age <= self.max_age:
                continue
            why = "in the future" if birth > today else f"gives age {age}"
            yield self.finding(
                record.id,
                "birth_date",
                f"birth date {why}, outside {self.min_age}–{self.max_age}",
                birth.isoformat(),
            )


def _quick_acceptor(field: CustomField) -> Callable[[object], bool] | None:
    """A cheap test that accepts most good values of common fields (None: no shortcut).

    Values it does not accept go to :meth:`CustomField.check`, which gives the reason.
    """
    if field.type == "choice":
        return frozenset(field.choices).__contains__
    if field.type == "integer":
        low = -math.inf if not isinstance(field.min, Decimal) else field.min
        high = math.inf if not isinstance(field.max, Decimal) else field.max
        return lambda value: type(value) is int and low <= value <= high
    if field.type == "text" and field.pattern is None and field.min is None and field.max is None:
        return lambda value: type(value) is str
    return None


class CustomFieldsValid(RecordCheck):
    """Custom field values fit the template: type, choices, pattern, bounds; none undeclared.

    Args:
        fields: Only these custom field keys; every declared field by default.
        severity: The severity of its findings.
        name: The check's name.
    """

    def __init__(
        self,
        *,
        fields: Sequence[str] | None = None,
        severity: Severity | str = Severity.WARNING,
        name: str = "custom_fields",
    ) -> None:
        super().__init__(name, severity, Customer)
        self.fields = None if fields is None else tuple(fields)

    def _declared(self, template: Template) -> list[CustomField]:
        if self.fields is None:
            return list(template.custom_fields)
        found = []
        for key in self.fields:
            try:
                found.append(template.custom_field(key))
            except KeyError:
                raise ValidationError(
                    "fields", key, "the template has no such custom field"
                ) from None
        return found

    def check(self, records: Sequence[Customer], context: CheckContext) -> Iterator[Finding]:
        """Yield a finding for each custom value the template does not accept."""
        template = context.template
        for field in self._declared(template):
            key, path = field.key, f"custom.{field.key}"
            accepts = _quick_acceptor(field)
            for record in records:
                value = record.custom.get(key)
                if value is None or (accepts is not None and accepts(value)):
                    continue
                reason = field.check(value)
                if reason is not None:
                    yield self.finding(record.id, path, reason, value)
        if self.fields is None and not template.allow_undeclared:
            declared = {field.key for field in template.custom_fields}
            for record in records:
                for key, value in record.custom.items():
                    if key not in declared:
                        yield self.finding(
                            record.id,
                            f"custom.{key}",
                            "not a field of the template",
                            value,
                            severity=Severity.INFO,
                        )
