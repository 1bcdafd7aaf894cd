"""Normalisers: mechanical fixes to customer records, each saying what it changed.

Each normaliser takes a customer and returns the normalised customer and its
:class:`Change` list (empty when nothing changed). Every normaliser is idempotent: applied
to its own result it changes nothing.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import attrs

from custrec.model import Address, Customer, CustomerKind, Phone
from custrec.quality._regions import CITY_NAMES, PROVINCE_NAMES
from custrec.store import Progress, Store

__all__ = [
    "NORMALISERS",
    "Change",
    "Normaliser",
    "half_width",
    "normalize",
    "normalize_full_width",
    "normalize_latin_names",
    "normalize_phones",
    "normalize_regions",
    "normalize_spaces",
    "normalize_store",
]


@attrs.frozen
class Change:
    """One value a normaliser changed.

    Attributes:
        field: The field's path (``"name"``, ``"phones[0].raw"``, ``"addresses[1].city"``).
        old: The value before.
        new: The value after.
    """

    field: str
    old: str | None
    new: str | None


Normaliser = Callable[[Customer], tuple[Customer, list[Change]]]
"""A normaliser: ``customer -> (normalised customer, changes)``."""

# Full-width ASCII (U+FF01–U+FF5E) and the ideographic space, to their ASCII forms. Only
# these: NFKC would also fold other characters (㈱, ①, ｶ) that are not full-width ASCII.
_HALF_WIDTH = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)} | {0x3000: 0x20}


def half_width(text: str) -> str:
    """Turn full-width ASCII letters, digits, punctuation and spaces into half-width."""
    return text.translate(_HALF_WIDTH)


_SPACES = re.compile(r"\s+")


def _collapse(text: str) -> str:
    return _SPACES.sub(" ", text).strip()


_NAME_FIELDS = ("name", "company", "job_title", "occupation", "industry")
_TEXT_FIELDS = (*_NAME_FIELDS, "source", "owner")
_ADDRESS_FIELDS = ("country", "province", "city", "district", "street", "postal_code")


def _fix_fields(
    customer: Customer, fields: Iterable[str], fix: Callable[[str], str]
) -> tuple[dict[str, Any], list[Change]]:
    updates: dict[str, Any] = {}
    changes: list[Change] = []
    for field in fields:
        value = getattr(customer, field)
        if value is None:
            continue
        fixed = fix(value)
        if fixed != value:
            updates[field] = fixed
            changes.append(Change(field, value, fixed))
    return updates, changes


def _fix_addresses(
    customer: Customer, fix: Callable[[str, str], str]
) -> tuple[dict[str, Any], list[Change]]:
    addresses: list[Address] = []
    changes: list[Change] = []
    for index, address in enumerate(customer.addresses):
        updates: dict[str, Any] = {}
        for field in _ADDRESS_FIELDS:
            value = getattr(address, field)
            if value is None:
                continue
            fixed = fix(field, value)
            if fixed != value:
                updates[field] = fixed
                changes.append(Change(f"addresses[{index}].{field}", value, fixed))
        addresses.append(attrs.evolve(address, **updates) if updates else address)
    return ({"addresses": tuple(addresses)} if changes else {}), changes


def _done(
    customer: Customer, updates: dict[str, Any], changes: list[Change]
) -> tuple[Customer, list[Change]]:
    return (attrs.evolve(customer, **updates) if updates else customer), changes


def _rewritten(phone: Phone, raw: str) -> Phone:
    return Phone(raw, label=phone.label, primary=phone.primary, region=phone.region)


def normalize_full_width(customer: Customer) -> tuple[Customer, list[Change]]:
    """Full-width ASCII becomes half-width in names, company, titles and phone numbers.

    ``Ｊｏｈｎ　Ｓｍｉｔｈ`` becomes ``John Smith`` and ``１３８１２３４５６７８`` becomes
    ``13812345678``. Email addresses need no normaliser: the model folds them (NFKC) and
    lower-cases their domains when they are built.
    """
    updates, changes = _fix_fields(customer, _NAME_FIELDS, half_width)
    phones = []
    for index, phone in enumerate(customer.phones):
        raw = half_width(phone.raw)
        if raw == phone.raw:
            phones.append(phone)
            continue
        changes.append(Change(f"phones[{index}].raw", phone.raw, raw))
        phones.append(_rewritten(phone, raw))
    if any(c.field.startswith("phones") for c in changes):
        updates["phones"] = tuple(phones)
    return _done(customer, updates, changes)


def normalize_spaces(customer: Customer) -> tuple[Customer, list[Change]]:
    """Spaces are trimmed and runs of spaces collapsed to one, in text and address fields."""
    updates, changes = _fix_fields(customer, _TEXT_FIELDS, _collapse)
    more, address_changes = _fix_addresses(customer, lambda _field, value: _collapse(value))
    return _done(customer, updates | more, changes + address_changes)


def normalize_phones(customer: Customer) -> tuple[Customer, list[Change]]:
    """Valid phone numbers are written in E.164 (``+8613812345678``); others are left."""
    phones = []
    changes = []
    for index, phone in enumerate(customer.phones):
        if phone.valid and phone.e164 is not None and phone.raw != phone.e164:
            changes.append(Change(f"phones[{index}].raw", phone.raw, phone.e164))
            phones.append(_rewritten(phone, phone.e164))
        else:
            phones.append(phone)
    return _done(customer, {"phones": tuple(phones)} if changes else {}, changes)


def _full_region(field: str, value: str) -> str:
    if field == "province":
        return PROVINCE_NAMES.get(value, value)
    if field == "city":
        return CITY_NAMES.get(value, value)
    return value


def normalize_regions(customer: Customer) -> tuple[Customer, list[Change]]:
    """Chinese province and city aliases become the full names (北京 → 北京市, 广东 → 广东省)."""
    more, changes = _fix_addresses(customer, _full_region)
    return _done(customer, more, changes)


_LATIN_NAME = re.compile(r"[A-Za-z]+(?:[ '\-.]+[A-Za-z]+)*\.?")
_WORD = re.compile(r"[A-Za-z]+")


def _title(name: str) -> str:
    return _WORD.sub(lambda word: word.group().capitalize(), name)


def normalize_latin_names(customer: Customer) -> tuple[Customer, list[Change]]:
    """A person's Latin name written all in upper or all in lower case gets title case.

    ``JOHN SMITH`` and ``john o'brien`` become ``John Smith`` and ``John O'Brien``. Names in
    mixed case (``McDonald``, ``van der Berg``) are taken as written on purpose and left;
    organisations keep their names (``IBM``).
    """
    name = customer.name
    if (
        name is None
        or customer.kind != CustomerKind.PERSON
        or not (name.isupper() or name.islower())
        or _LATIN_NAME.fullmatch(name) is None
    ):
        return customer, []
    titled = _title(name)
    if titled == name:
        return customer, []
    return attrs.evolve(customer, name=titled), [Change("name", name, titled)]


NORMALISERS: tuple[Normaliser, ...] = (
    normalize_full_width,
    normalize_spaces,
    normalize_phones,
    normalize_regions,
    normalize_latin_names,
)
"""The built-in normalisers, in the order :func:`normalize` applies them."""


def normalize(
    customer: Customer, normalisers: Sequence[Normaliser] = NORMALISERS
) -> tuple[Customer, list[Change]]:
    """Apply normalisers in order; return the customer and every change they made.

    Args:
        customer: The customer.
        normalisers: Which to apply; all built-ins by default.

    Returns:
        The normalised customer (the same object when nothing changed) and the changes.
    """
    changes: list[Change] = []
    for normaliser in normalisers:
        customer, made = normaliser(customer)
        changes.extend(made)
    return customer, changes


def normalize_store(
    store: Store,
    normalisers: Sequence[Normaliser] = NORMALISERS,
    *,
    actor: str | None = None,
    dry_run: bool = False,
    batch_size: int = 1000,
    progress: Progress | None = None,
) -> dict[str, list[Change]]:
    """Normalise every customer of a store, as one unit of work, recorded in the audit trail.

    Each changed customer is stored with :meth:`~custrec.store.Repository.update` (a new
    version and an audit entry naming ``actor``); all of it commits together or, on any
    error, none of it does.

    Args:
        store: The store.
        normalisers: Which to apply; all built-ins by default.
        actor: Who is normalising, for the audit trail (the store's actor when ``None``).
        dry_run: Work out the changes but store nothing.
        batch_size: Customers read at a time.
        progress: Called after each batch with the number of customers looked at so far.

    Returns:
        The changes made (or, in a dry run, that would be made), by customer id; customers
        left unchanged are absent.

    Raises:
        ConflictError: A customer changed in the store while it was being normalised.
    """
    made: dict[str, list[Change]] = {}
    seen = 0
    with store.transaction():
        for batch in store.customers.iter_batches(batch_size):
            for customer in batch:
                fixed, changes = normalize(customer, normalisers)
                if changes:
                    made[customer.id] = changes
                    if not dry_run:
                        store.customers.update(fixed, actor=actor)
            seen += len(batch)
            if progress is not None:
                progress(seen)
    return made
