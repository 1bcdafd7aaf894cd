"""Cheap prefilters that let the built-in customer checks look only at suspect records.

Most customers pass most checks, and a check walking every record in Python spends its
time on the good ones. For the built-in customer checks a run first picks, per batch, the
*suspect* records with one cheap expression per check (a comprehension over the batch,
C-level comparisons and set look-ups), then hands only those to the check's own
:meth:`~custrec.quality.Check.check`. A prefilter keeps every record the check could find
fault with (it may keep more), and these checks judge each record on its own, so the
findings and their order are exactly those of the check over the whole batch (a property
test holds the two together). Checks with several fields (required fields, custom fields)
still give their findings field by field.

:class:`ExactDuplicates` is cross-record: the prefilter registers every key of the batch
in the check's run state (one comprehension per key kind) and hands the check only the
customers holding a key that another customer registered first; the check then records
the sharing as it would.

Only instances of exactly these classes are prefiltered (a subclass may judge
differently); any other check, or a record type other than customers, runs as usual.
"""

from __future__ import annotations

import itertools
import math
import operator
from collections.abc import Callable, Mapping, Sequence
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from custrec.model import Customer
from custrec.quality._check import Check, CheckContext
from custrec.quality._email import LOCAL_AT, MAX_ADDRESS, MAX_LOCAL_AT, ORDINARY_DOMAINS
from custrec.quality._exact import ExactDuplicates
from custrec.quality._staleness import Staleness
from custrec.quality._validity import (
    BirthDatePlausible,
    CustomFieldsValid,
    EmailValid,
    NoFutureDates,
    PhoneValid,
    RequiredFields,
    _quick_acceptor,
    _template_required,
)

__all__ = ["Prefilter", "prefilter"]

Prefilter = Callable[[Sequence[Customer]], Sequence[Customer]]
"""Picks from a batch the customers a check must look at (in batch order)."""


def prefilter(check: Check, context: CheckContext) -> Prefilter | None:
    """A prefilter for ``check`` in this run, or ``None`` when it has none.

    Args:
        check: One check of the run.
        context: The run's context (template, as-of time, per-check state).

    Returns:
        A function picking from a batch of customers a superset of those ``check`` finds
        fault with, in batch order; ``None`` for checks without one.
    """
    maker = _MAKERS.get(type(check))
    if maker is None or check.record_type is not Customer:
        return None
    return maker(check, context)


def _pick(records: Sequence[Customer], positions: Sequence[int]) -> list[Customer]:
    return [records[index] for index in sorted(set(positions))]


def _required(check: Any, context: CheckContext) -> Prefilter | None:
    fields = check.fields if check.fields is not None else _template_required(context.template)
    plain = tuple(field for field in fields if not field.startswith("custom."))
    custom = tuple(field[7:] for field in fields if field.startswith("custom."))

    if len(plain) == 1 and not custom:
        values = operator.attrgetter(plain[0])

        def one_field(records: Sequence[Customer]) -> Sequence[Customer]:
            # The records whose value is empty, picked in C (no bytecode per record).
            return list(itertools.compress(records, map(operator.not_, map(values, records))))

        return one_field

    def suspects(records: Sequence[Customer]) -> Sequence[Customer]:
        positions = [
            index
            for index, record in enumerate(records)
            if any(not getattr(record, field) for field in plain)
            or any(record.custom.get(key) is None for key in custom)
        ]
        return [records[index] for index in positions]

    return suspects


def _phones(check: Any, context: CheckContext) -> Prefilter:
    def suspects(records: Sequence[Customer]) -> Sequence[Customer]:
        positions = [
            index
            for index, record in enumerate(records)
            for phone in record.phones
            if not phone.valid
        ]
        return _pick(records, positions)

    return suspects


def _emails(check: Any, context: CheckContext) -> Prefilter:
    local_at = LOCAL_AT.match
    domains = ORDINARY_DOMAINS

    def suspects(records: Sequence[Customer]) -> Sequence[Customer]:
        # ordinary_email, inline (a call per address costs more than the test).
        positions = [
            index
            for index, record in enumerate(records)
            for email in record.emails
            if (found := local_at(address := email.address)) is None
            or (end := found.end()) > MAX_LOCAL_AT
            or len(address) > MAX_ADDRESS
            or not domains[address[end:]]
        ]
        return _pick(records, positions)

    return suspects


def _birth_dates(check: Any, context: CheckContext) -> Prefilter:
    today = context.today
    # The check's own shortcut, as a range: born from 1 January of the oldest plausible
    # year up to the youngest plausible birthday passes without a closer look.
    try:
        latest = today.replace(year=today.year - check.min_age)
    except ValueError:  # 29 February
        latest = today.replace(year=today.year - check.min_age, day=28)
    oldest_year = today.year - check.max_age
    earliest = date(oldest_year, 1, 1) if oldest_year >= date.min.year else date.min

    def suspects(records: Sequence[Customer]) -> Sequence[Customer]:
        return [
            record
            for record in records
            if (born := record.birth_date) is not None and not earliest <= born <= latest
        ]

    return suspects


def _custom_fields(check: Any, context: CheckContext) -> Prefilter:
    template = context.template
    declared = check._declared(template)
    tests = [(field, _quick_acceptor(field)) for field in declared]
    known = (
        frozenset(field.key for field in template.custom_fields)
        if check.fields is None and not template.allow_undeclared
        else None
    )

    shared = context.state(_custom_values)

    def suspects(records: Sequence[Customer]) -> Sequence[Customer]:
        customs = _custom_values(records, shared)
        positions: list[int] = []
        for field, accepts in tests:
            key = field.key
            if field.type == "choice":
                choices = frozenset(field.choices)
                positions += [
                    index
                    for index, values in enumerate(customs)
                    if (value := values.get(key)) is not None and value not in choices
                ]
            elif field.type == "integer" and field.max is None:
                low = _bound(field.min, -math.inf)
                positions += [
                    index
                    for index, values in enumerate(customs)
                    if (value := values.get(key)) is not None
                    and (type(value) is not int or value < low)
                ]
            elif field.type == "integer":
                low, high = _bound(field.min, -math.inf), _bound(field.max, math.inf)
                positions += [
                    index
                    for index, values in enumerate(customs)
                    if (value := values.get(key)) is not None
                    and (type(value) is not int or not low <= value <= high)
                ]
            elif accepts is None:
                positions += [
                    index for index, values in enumerate(customs) if values.get(key) is not None
                ]
            else:
                positions += [
                    index
                    for index, values in enumerate(customs)
                    if (value := values.get(key)) is not None and not accepts(value)
                ]
        if known is not None:
            positions += [
                index for index, values in enumerate(customs) if not known.issuperset(values)
            ]
        return _pick(records, positions)

    return suspects


def _custom_values(records: Sequence[Customer], shared: dict[str, Any]) -> list[Mapping[str, Any]]:
    """The batch's custom values, gathered once for every custom field check of a run."""
    if shared.get("batch") is not records:
        # FrozenMap's own dicts: its get() is a Python call, a dict's is not.
        shared["values"] = [record.custom._data for record in records]
        shared["batch"] = records
    values: list[Mapping[str, Any]] = shared["values"]
    return values


def _bound(value: object, default: float) -> float | int | Decimal:
    """A bound of an integer field, as an int when whole (ints compare faster with ints)."""
    if not isinstance(value, Decimal):
        return default
    return int(value) if value == value.to_integral_value() else value


def _staleness(check: Any, context: CheckContext) -> Prefilter:
    cutoff = context.as_of - timedelta(days=check.cycle_days(context))

    def suspects(records: Sequence[Customer]) -> Sequence[Customer]:
        # The later of updated_at and reviewed_at before the cutoff: both are.
        return [
            record
            for record in records
            if record.updated_at < cutoff
            and ((reviewed := record.reviewed_at) is None or reviewed < cutoff)
        ]

    return suspects


def _future_dates(check: Any, context: CheckContext) -> Prefilter:
    limit = context.as_of + check.slack
    fields = tuple(check.fields)

    def suspects(records: Sequence[Customer]) -> Sequence[Customer]:
        return [
            record
            for record in records
            if any(
                (value := getattr(record, field)) is not None and value > limit for field in fields
            )
        ]

    return suspects


def _duplicates(check: Any, context: CheckContext) -> Prefilter:
    state = context.state(check)
    first_phone: dict[str, str] = state.setdefault("phones", {})
    first_email: dict[str, str] = state.setdefault("emails", {})
    state.setdefault("shared", {})
    on_phone, on_email = check.on_phone, check.on_email

    def suspects(records: Sequence[Customer]) -> Sequence[Customer]:
        # Register every key's first owner; suspects hold a key another registered first.
        # Phones and emails have separate registers, so one pass each finds the same.
        positions: list[int] = []
        if on_phone:
            phone_owner = first_phone.setdefault
            positions += [
                index
                for index, record in enumerate(records)
                for phone in record.phones
                if phone.valid
                and (key := phone.e164) is not None
                and phone_owner(key, record.id) != record.id
            ]
        if on_email:
            email_owner = first_email.setdefault
            positions += [
                index
                for index, record in enumerate(records)
                for email in record.emails
                if email_owner(email.address.lower(), record.id) != record.id
            ]
        return _pick(records, positions)

    return suspects


_MAKERS: dict[type[Any], Callable[[Any, CheckContext], Prefilter | None]] = {
    RequiredFields: _required,
    PhoneValid: _phones,
    EmailValid: _emails,
    BirthDatePlausible: _birth_dates,
    CustomFieldsValid: _custom_fields,
    Staleness: _staleness,
    NoFutureDates: _future_dates,
    ExactDuplicates: _duplicates,
}
