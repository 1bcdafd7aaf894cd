"""Erasure: remove a customer's personal data everywhere the store keeps it, leave a tombstone."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import attrs

from custrec.errors import NotFoundError, ValidationError
from custrec.model import Customer, FrozenMap, now, parse_datetime
from custrec.privacy._documents import documents_about
from custrec.privacy._mask import mask_text
from custrec.serialize import record_type_name
from custrec.store import Store

__all__ = [
    "ERASE_COLLECTIONS",
    "TOMBSTONES",
    "Tombstone",
    "erase",
    "is_erased",
    "purge",
    "tombstone",
]

TOMBSTONES = "privacy.erased"
"""The collection holding one :class:`Tombstone` per erased customer, keyed by customer id."""

ERASE_COLLECTIONS = ("classify.labels", "classify.changes", "quality.merges")
"""Collections searched by :func:`erase`: labels, label changes and merge records."""

_MIN_SECRET = 3  # shorter values (a one-letter name) would match any reason by chance


def _to_counts(value: Mapping[str, int]) -> FrozenMap[str, int]:
    return FrozenMap(value)


@attrs.frozen
class Tombstone:
    """What is left of an erased customer: that they were erased, when, by whom and why.

    It holds no personal data: the customer's id (so a re-import can be refused) and counts
    of what was removed.

    Attributes:
        customer_id: The erased customer's id.
        erased_at: When (aware).
        actor: Who erased them.
        reason: Why (a request reference, a legal ground), as given.
        removed: How many records and documents were removed, by kind
            (``"interaction"``, ``"collection:classify.labels"``…), plus ``"audit_entries"``,
            the number of audit entries whose values were blanked.
    """

    customer_id: str
    erased_at: datetime
    actor: str
    reason: str
    removed: FrozenMap[str, int] = attrs.field(factory=FrozenMap, converter=_to_counts)

    def to_dict(self) -> dict[str, Any]:
        """Return the tombstone as a JSON-ready dict."""
        return {
            "customer_id": self.customer_id,
            "erased_at": self.erased_at.isoformat(),
            "actor": self.actor,
            "reason": self.reason,
            "removed": dict(self.removed),
        }

    @classmethod
    def from_dict(cls, document: dict[str, Any]) -> Tombstone:
        """Build a tombstone from :meth:`to_dict`'s output.

        Raises:
            ValidationError: A key is missing or a value unreadable.
        """
        try:
            return cls(
                customer_id=str(document["customer_id"]),
                erased_at=parse_datetime(document["erased_at"], field="erased_at"),
                actor=str(document["actor"]),
                reason=str(document["reason"]),
                removed={str(k): int(v) for k, v in dict(document["removed"]).items()},
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ValidationError("tombstone", document, f"not a tombstone: {exc}") from None


def _text(field: str, value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValidationError(field, value, "required: non-blank text")
    return value.strip()


def _secrets(customer: Customer) -> list[str]:
    values = [customer.name or ""]
    values += [p.raw.strip() for p in customer.phones] + [p.e164 or "" for p in customer.phones]
    values += [e.address for e in customer.emails]
    return [v.lower() for v in values if len(v) >= _MIN_SECRET]


def _erase_documents(store: Store, collection: str, ident: str) -> int:
    doomed = documents_about(store, collection, ident)
    docs = store.collection(collection)
    for key in doomed:
        docs.delete(key)
    return len(doomed)


def tombstone(store: Store, customer_id: str) -> Tombstone | None:
    """Return the tombstone of an erased customer, or ``None`` if they were never erased."""
    document = store.collection(TOMBSTONES).get(customer_id)
    return None if document is None else Tombstone.from_dict(document)


def is_erased(store: Store, customer_id: str) -> bool:
    """Whether a customer with this id was erased: importers should refuse to re-add them."""
    return store.collection(TOMBSTONES).get(customer_id) is not None


def purge(store: Store) -> None:
    """Make data deleted so far unrecoverable from the store's files.

    :func:`erase` calls this unless told not to; call it once after erasing many customers
    with ``purge=False``. On SQLite it rebuilds the file (``VACUUM``) and empties the
    write-ahead log, which takes time proportional to the file's size.

    Args:
        store: The store, outside any unit of work.

    Raises:
        StoreError: Another connection kept old pages alive; purge again later.
        NotImplementedError: The backend cannot purge.
    """
    store._purge()


def erase(
    store: Store,
    customer_id: str,
    *,
    actor: str,
    reason: str,
    collections: Sequence[str] = ERASE_COLLECTIONS,
    purge: bool = True,
) -> Tombstone:
    """Erase a customer: their profile, history, audit values and derived documents.

    In one unit of work: the customer and all their interactions, transactions and
    feedback are deleted (amounts included: nothing is kept de-identified); every audit
    entry of those records keeps its times, actors and field names but loses its values;
    documents in ``collections`` keyed by the id (``<id>`` or ``<id>/…``) or holding it as
    a value are deleted; and a :class:`Tombstone` is stored in :data:`TOMBSTONES`. Then,
    with ``purge``, the store's files are cleaned of the deleted bytes (:func:`purge`).

    Erasing a customer already erased (and not re-added) returns their tombstone.

    Args:
        store: The store.
        customer_id: The customer's id.
        actor: Who erases (recorded in the audit trail and the tombstone).
        reason: Why: a request reference or legal ground. It must not hold the customer's
            name, phone numbers or email addresses.
        collections: The collections to search for documents about the customer.
        purge: Clean the files afterwards; pass ``False`` inside an open unit of work or
            when erasing many customers, then call :func:`purge` once.

    Returns:
        The tombstone.

    Raises:
        NotFoundError: No customer has this id, and none was erased.
        ValidationError: ``actor`` or ``reason`` is blank, ``reason`` holds the customer's
            personal data, or ``purge`` was asked for inside an open unit of work.
        StoreError: The store failed; nothing was erased (or, raised by the purge, the
            erasure is committed but the files still hold old bytes).
    """
    actor = _text("actor", actor)
    reason = _text("reason", reason)
    if purge and store.in_transaction:
        raise ValidationError(
            "purge", purge, "cannot purge inside a unit of work; pass purge=False, then purge()"
        )
    with store.transaction():
        customer = store.customers.get_many([customer_id]).get(customer_id)
        if customer is None:
            found = tombstone(store, customer_id)
            if found is None:
                raise NotFoundError("customer", customer_id)
            return found
        lowered = reason.lower()
        if any(secret in lowered for secret in _secrets(customer)):
            raise ValidationError(
                "reason", mask_text(reason), "must not hold the customer's name, phone or email"
            )
        history = store.history(customer_id)
        store.customers.delete(customer_id, cascade=True, actor=actor)
        removed: dict[str, int] = {"customer": 1}
        by_type: dict[str, list[str]] = {}
        for record in history:
            by_type.setdefault(record_type_name(record), []).append(record.id)
        scrubbed = store._scrub_audit("customer", [customer_id])
        for type_name, ids in by_type.items():
            removed[type_name] = len(ids)
            scrubbed += store._scrub_audit(type_name, ids)
        removed["audit_entries"] = scrubbed
        for name in collections:
            removed[f"collection:{name}"] = _erase_documents(store, name, customer_id)
        stone = Tombstone(customer_id, now(), actor, reason, removed)
        store.collection(TOMBSTONES).put(customer_id, stone.to_dict())
    if purge:
        store._purge()
    return stone
