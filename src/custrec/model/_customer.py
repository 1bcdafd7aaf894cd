"""The customer profile (客户档案)."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import Any, TypeVar

import attrs

from custrec import config
from custrec.model._choices import CustomerKind, Gender, Other, to_choice, to_opt_choice
from custrec.model._consent import Consent
from custrec.model._contact import Address, Email, Handle, Phone, check_one_primary, primary_of
from custrec.model._fields import (
    Invalid,
    checked,
    invalid,
    positive_version,
    to_aware,
    to_opt_aware,
    to_opt_date,
    to_opt_text,
    to_text_tuple,
    to_tuple,
)
from custrec.model._frozenmap import FrozenMap
from custrec.model._ids import new_id, to_id
from custrec.model._time import now

__all__ = ["CUSTOM_KEY_PATTERN", "CustomValue", "Customer", "age_on"]

T = TypeVar("T")

CustomValue = str | int | float | bool | tuple[str, ...] | None
"""What a custom field may hold: a JSON scalar, or a list of texts (multi-choice)."""

CUSTOM_KEY_PATTERN = re.compile(r"[^\W\d]\w{0,63}")
"""Custom field keys: a letter (any script) or ``_``, then up to 63 word characters."""


# Maps are immutable, so every record without custom values or external ids can share one.
_NO_ITEMS: FrozenMap[str, Any] = FrozenMap()
_key_shape = CUSTOM_KEY_PATTERN.fullmatch


def _to_custom(value: Mapping[str, Any] | None) -> FrozenMap[str, CustomValue] | Invalid:
    if value is None:
        return _NO_ITEMS
    if type(value) is not dict and not isinstance(value, Mapping):
        return invalid(value, "expected a mapping of field key to value")
    if not value:
        return _NO_ITEMS
    out: dict[str, CustomValue] = {}
    for key, item in value.items():
        if not isinstance(key, str) or not _key_shape(key):
            return invalid(
                value, f"custom field key {key!r} must be a letter or _ then word characters"
            )
        kind = type(item)
        if kind is str or kind is int or kind is bool or item is None:  # most values
            out[key] = item
        elif isinstance(item, list | tuple):
            if not all(isinstance(part, str) for part in item):
                return invalid(value, f"custom field {key!r}: a list may hold only texts")
            out[key] = tuple(item)
        elif isinstance(item, float) and not math.isfinite(item):
            return invalid(value, f"custom field {key!r}: {item} is not a finite number")
        elif item is None or isinstance(item, str | int | float | bool):
            out[key] = item
        else:
            return invalid(
                value,
                f"custom field {key!r}: {type(item).__name__} is not a JSON scalar "
                "(text, number, true/false, null) or a list of texts",
            )
    return FrozenMap(out)


def _to_external_ids(value: Mapping[str, str] | None) -> FrozenMap[str, str] | Invalid:
    if value is None:
        return _NO_ITEMS
    if type(value) is not dict and not isinstance(value, Mapping):
        return invalid(value, "expected a mapping of system name to id")
    if not value:
        return _NO_ITEMS
    for system, ident in value.items():
        if not (isinstance(system, str) and system.strip()):
            return invalid(value, f"system name {system!r} must be non-blank text")
        if not (isinstance(ident, str) and ident.strip()):
            return invalid(value, f"external id for {system!r} must be non-blank text")
    return FrozenMap(value)


def _to_tags(value: Iterable[str] | None) -> frozenset[str] | Invalid:
    tags = to_text_tuple(value)
    return tags if not isinstance(tags, tuple) else frozenset(tags)


def _to_kind(value: CustomerKind | Other | str) -> CustomerKind | Other | Invalid:
    return to_choice(CustomerKind, value)


def _to_gender(value: Gender | Other | str | None) -> Gender | Other | Invalid | None:
    return to_opt_choice(Gender, value)


def _to_phones(value: Iterable[Phone]) -> tuple[Phone, ...] | Invalid:
    return _typed_tuple(value, Phone)


def _to_emails(value: Iterable[Email]) -> tuple[Email, ...] | Invalid:
    return _typed_tuple(value, Email)


def _to_handles(value: Iterable[Handle]) -> tuple[Handle, ...] | Invalid:
    return _typed_tuple(value, Handle)


def _to_addresses(value: Iterable[Address]) -> tuple[Address, ...] | Invalid:
    return _typed_tuple(value, Address)


def _to_consents(value: Iterable[Consent]) -> tuple[Consent, ...] | Invalid:
    return _typed_tuple(value, Consent)


def _typed_tuple(value: Iterable[Any], kind: type[T]) -> tuple[T, ...] | Invalid:
    items = to_tuple(value)
    if isinstance(items, tuple):
        for index, item in enumerate(items):
            if not isinstance(item, kind):
                return invalid(
                    value, f"item {index} is a {type(item).__name__}, expected {kind.__name__}"
                )
    return items


def age_on(birth: date, as_of: date) -> int:
    """Return full years from ``birth`` to ``as_of``.

    Someone born on 29 February turns a year older on 1 March in years without a 29
    February (the tuple comparison below), as in most legal systems.
    """
    return as_of.year - birth.year - ((as_of.month, as_of.day) < (birth.month, birth.day))


@attrs.frozen(field_transformer=checked)
class Customer:
    """A customer's profile: who they are, how to reach them, what the business knows.

    Build one with keywords; every field has a default. Change
    one with :func:`attrs.evolve` and store the result. Age is derived (:meth:`age`),
    never stored.

    Attributes:
        id: The customer's id. Give your own (``"001"``, leading zeros kept) or leave it
            out for a generated, time-sortable one.
        name: Full name of the person or the organisation.
        kind: Person or organisation.
        gender: As recorded; ``None`` when unknown.
        birth_date: Date of birth.
        occupation: What the person does (职业).
        job_title: Position held (职位).
        company: Company or employer (公司名称).
        industry: The company's industry (行业).
        phones: Phone numbers, at most one marked primary.
        emails: Email addresses, at most one marked primary.
        handles: Messaging handles (WeChat, QQ…), at most one marked primary.
        addresses: Postal addresses, at most one marked primary.
        interests: Interests and preferences (兴趣爱好), in order.
        family: Family situation (家庭情况), free text.
        special_needs: Allergies, diet, accessibility… (特殊需求).
        notes: Free notes (备注).
        tags: Labels, unordered.
        custom: Template-defined fields: key to JSON scalar or list of texts.
        external_ids: Ids of this customer in other systems: system name to id.
        consents: Consent history, oldest first.
        source: Where the customer came from (来源).
        owner: Who in the business looks after the customer.
        created_at: When the record was made (aware).
        updated_at: When it last changed (aware).
        reviewed_at: When a person last checked the record (for the audit cycle).
        version: Optimistic-concurrency version, 1 for a new record; stores bump it.
    """

    id: str = attrs.field(factory=new_id, converter=to_id, kw_only=True)
    name: str | None = attrs.field(default=None, converter=to_opt_text, kw_only=True)
    kind: CustomerKind | Other = attrs.field(
        default=CustomerKind.PERSON, converter=_to_kind, kw_only=True
    )
    gender: Gender | Other | None = attrs.field(default=None, converter=_to_gender, kw_only=True)
    birth_date: date | None = attrs.field(default=None, converter=to_opt_date, kw_only=True)
    occupation: str | None = attrs.field(default=None, converter=to_opt_text, kw_only=True)
    job_title: str | None = attrs.field(default=None, converter=to_opt_text, kw_only=True)
    company: str | None = attrs.field(default=None, converter=to_opt_text, kw_only=True)
    industry: str | None = attrs.field(default=None, converter=to_opt_text, kw_only=True)
    phones: tuple[Phone, ...] = attrs.field(default=(), converter=_to_phones, kw_only=True)
    emails: tuple[Email, ...] = attrs.field(default=(), converter=_to_emails, kw_only=True)
    handles: tuple[Handle, ...] = attrs.field(default=(), converter=_to_handles, kw_only=True)
    addresses: tuple[Address, ...] = attrs.field(default=(), converter=_to_addresses, kw_only=True)
    interests: tuple[str, ...] = attrs.field(default=(), converter=to_text_tuple, kw_only=True)
    family: str | None = attrs.field(default=None, converter=to_opt_text, kw_only=True)
    special_needs: tuple[str, ...] = attrs.field(default=(), converter=to_text_tuple, kw_only=True)
    notes: str | None = attrs.field(default=None, converter=to_opt_text, kw_only=True)
    tags: frozenset[str] = attrs.field(default=(), converter=_to_tags, kw_only=True)
    custom: FrozenMap[str, CustomValue] = attrs.field(
        default=None, converter=_to_custom, kw_only=True
    )
    external_ids: FrozenMap[str, str] = attrs.field(
        default=None, converter=_to_external_ids, kw_only=True
    )
    consents: tuple[Consent, ...] = attrs.field(default=(), converter=_to_consents, kw_only=True)
    source: str | None = attrs.field(default=None, converter=to_opt_text, kw_only=True)
    owner: str | None = attrs.field(default=None, converter=to_opt_text, kw_only=True)
    created_at: datetime = attrs.field(factory=now, converter=to_aware, kw_only=True)
    updated_at: datetime = attrs.field(factory=now, converter=to_aware, kw_only=True)
    reviewed_at: datetime | None = attrs.field(default=None, kw_only=True, converter=to_opt_aware)
    version: int = attrs.field(default=1, validator=positive_version, kw_only=True)

    def __attrs_post_init__(self) -> None:
        check_one_primary("phones", self.phones)
        check_one_primary("emails", self.emails)
        check_one_primary("handles", self.handles)
        check_one_primary("addresses", self.addresses)

    @property
    def primary_phone(self) -> Phone | None:
        """The phone marked primary, else the first, else ``None``."""
        phone: Phone | None = primary_of(self.phones)
        return phone

    @property
    def primary_email(self) -> Email | None:
        """The email marked primary, else the first, else ``None``."""
        email: Email | None = primary_of(self.emails)
        return email

    @property
    def primary_handle(self) -> Handle | None:
        """The handle marked primary, else the first, else ``None``."""
        handle: Handle | None = primary_of(self.handles)
        return handle

    @property
    def primary_address(self) -> Address | None:
        """The address marked primary, else the first, else ``None``."""
        address: Address | None = primary_of(self.addresses)
        return address

    def age(self, as_of: date | None = None) -> int | None:
        """Return the customer's age in full years on ``as_of``, or ``None`` if unknown.

        Args:
            as_of: The day to compute the age for; today in the configured zone if None.

        Returns:
            Full years since ``birth_date``; ``None`` without a birth date.
        """
        if self.birth_date is None:
            return None
        day = as_of if as_of is not None else datetime.now(config.get().zone).date()
        return age_on(self.birth_date, day)
