"""The import guard: look for the customer before adding it again.

An import that adds every row as a new customer creates the duplicates this package
then has to find. :func:`add_or_match` first looks the incoming customer up by its
natural keys — phone numbers, email addresses, external ids, messaging handles, each an
indexed lookup in the store — and updates the one customer it finds instead of adding a
second. When the keys point to several customers, it adds nothing and says so: choosing
one would be a guess.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import attrs

from custrec.errors import ValidationError
from custrec.model import Customer, now
from custrec.quality._merge_survivorship import Survivorship, survive
from custrec.store import Store

__all__ = ["NATURAL_KEYS", "GuardResult", "add_or_match", "find_likely_duplicates"]

NATURAL_KEYS = ("phone", "email", "external_id", "handle")
"""The keys :func:`find_likely_duplicates` can look customers up by."""


def _check_keys(keys: Sequence[str]) -> None:
    for key in keys:
        if key not in NATURAL_KEYS:
            raise ValidationError("keys", key, f"natural keys: {', '.join(NATURAL_KEYS)}")


def find_likely_duplicates(
    store: Store, customer: Customer, keys: Sequence[str] = NATURAL_KEYS
) -> list[Customer]:
    """Return the stored customers sharing a natural key with ``customer`` (not itself).

    Args:
        store: Where to look.
        customer: The customer about to be added (or any customer).
        keys: Which keys to look up: ``"phone"``, ``"email"``, ``"external_id"``,
            ``"handle"``.

    Returns:
        The matching customers, by id.

    Raises:
        ValidationError: A key is unknown.
    """
    _check_keys(keys)
    found: dict[str, Customer] = {}
    repository = store.customers
    if "phone" in keys:
        for phone in customer.phones:
            if phone.e164:
                found.update((c.id, c) for c in repository.find_by_phone(phone.e164))
    if "email" in keys:
        for email in customer.emails:
            found.update((c.id, c) for c in repository.find_by_email(email.address))
    if "external_id" in keys:
        for system, ident in customer.external_ids.items():
            found.update((c.id, c) for c in repository.find_by_external_id(system, ident))
    if "handle" in keys:
        for handle in customer.handles:
            found.update(
                (c.id, c) for c in repository.find_by_handle(str(handle.network), handle.handle)
            )
    found.pop(customer.id, None)
    return [found[ident] for ident in sorted(found)]


@attrs.frozen
class GuardResult:
    """What :func:`add_or_match` did.

    Attributes:
        status: ``"added"`` (no match: stored as new), ``"updated"`` (one match: the
            incoming values were merged into it) or ``"ambiguous"`` (several matches:
            nothing stored).
        customer: The stored customer (added or updated), or the incoming one when
            ambiguous.
        matches: The ids of the customers the keys found.
    """

    status: Literal["added", "updated", "ambiguous"]
    customer: Customer
    matches: tuple[str, ...]


def add_or_match(
    store: Store,
    customer: Customer,
    *,
    keys: Sequence[str] = NATURAL_KEYS,
    survivorship: Survivorship | None = None,
    actor: str | None = None,
) -> GuardResult:
    """Add ``customer``, unless the store holds it already under a natural key.

    With one match, the match is updated: the incoming values win where given (they are
    the most recent), contact points, tags and interests are united, and the stored id
    stays. Pass ``survivorship`` to decide otherwise field by field.

    Args:
        store: The store.
        customer: The incoming customer.
        keys: Natural keys to look up (see :func:`find_likely_duplicates`).
        survivorship: Strategies for combining with a match; defaults as for a merge.
        actor: Who is writing.

    Returns:
        What was done.

    Raises:
        ValidationError: A key is unknown.
    """
    with store.transaction():
        matches = find_likely_duplicates(store, customer, keys)
        ids = tuple(c.id for c in matches)
        if not matches:
            return GuardResult("added", store.customers.add(customer, actor=actor), ids)
        if len(matches) > 1:
            return GuardResult("ambiguous", customer, ids)
        (stored,) = matches
        incoming = attrs.evolve(customer, id=stored.id, updated_at=now())
        combined = survive([stored, incoming], stored, survivorship or Survivorship())
        updated = store.customers.update(combined, actor=actor)
        return GuardResult("updated", updated, ids)
