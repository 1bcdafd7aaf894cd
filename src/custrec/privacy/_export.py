"""Subject export: everything a store holds on one customer, as one JSON-ready bundle."""

from __future__ import annotations

import json
import os
import pathlib
import tempfile
from collections.abc import Sequence
from typing import Any

from custrec.errors import NotFoundError
from custrec.model import now
from custrec.privacy._consent import consent_state
from custrec.privacy._documents import documents_about
from custrec.privacy._erase import ERASE_COLLECTIONS
from custrec.serialize import record_type_name, to_dict
from custrec.store import AuditEntry, Store

__all__ = ["SUBJECT_EXPORT_FORMAT", "subject_export", "write_subject_export"]

SUBJECT_EXPORT_FORMAT = "custrec.subject-export/1"
"""The ``format`` value of every bundle; the number changes when the layout does."""

_HISTORY_KEYS = {
    "interaction": "interactions",
    "transaction": "transactions",
    "feedback": "feedback",
}


def _audit(entries: Sequence[AuditEntry]) -> list[dict[str, Any]]:
    return [
        {
            "at": entry.at.isoformat(),
            "actor": entry.actor,
            "action": entry.action.value,
            "record_type": entry.record_type,
            "record_id": entry.record_id,
            "version": entry.version,
            "changes": [
                {"field": change.field, "old": change.old, "new": change.new}
                for change in entry.changes
            ],
        }
        for entry in entries
    ]


def subject_export(
    store: Store, customer_id: str, *, collections: Sequence[str] = ERASE_COLLECTIONS
) -> dict[str, Any]:
    """Return everything the store holds on one customer, ready for ``json.dumps``.

    The bundle has ``format`` (:data:`SUBJECT_EXPORT_FORMAT`), ``exported_at``,
    ``customer_id``; ``profile`` (the customer as :func:`custrec.to_dict` writes it);
    ``consents`` (the consent in force per purpose; the full history is in the profile);
    ``history`` (``interactions``, ``transactions``, ``feedback``, oldest first, as
    documents); ``audit`` (every audit entry of the customer and of each history record
    held now); and ``documents`` (collection name to the documents keyed by the id, by
    ``<id>/…``, or holding it as a value: classification labels and their changes, merge
    records).

    Args:
        store: The store.
        customer_id: The customer's id.
        collections: The collections to search for documents about the customer.

    Returns:
        The bundle: a dict of JSON types only.

    Raises:
        NotFoundError: No customer has this id (an erased customer has only a tombstone,
            see :func:`custrec.privacy.tombstone`).
    """
    with store.transaction():
        customer = store.customers.get_many([customer_id]).get(customer_id)
        if customer is None:
            raise NotFoundError("customer", customer_id)
        history = store.history(customer_id)
        audit = store.audit(customer_id, "customer")
        for record in history:
            audit += store.audit(record.id, record_type_name(record))
        documents: dict[str, dict[str, Any]] = {}
        for name in collections:
            found = documents_about(store, name, customer_id)
            if found:
                documents[name] = found
    records: dict[str, list[dict[str, Any]]] = {key: [] for key in _HISTORY_KEYS.values()}
    for record in history:
        records[_HISTORY_KEYS[record_type_name(record)]].append(to_dict(record))
    return {
        "format": SUBJECT_EXPORT_FORMAT,
        "exported_at": now().isoformat(),
        "customer_id": customer_id,
        "profile": to_dict(customer),
        "consents": {
            str(purpose): to_dict(event) for purpose, event in consent_state(customer).items()
        },
        "history": records,
        "audit": _audit(sorted(audit, key=lambda entry: entry.at)),
        "documents": documents,
    }


def write_subject_export(
    store: Store,
    customer_id: str,
    path: str | os.PathLike[str],
    *,
    collections: Sequence[str] = ERASE_COLLECTIONS,
) -> pathlib.Path:
    """Write :func:`subject_export`'s bundle to a UTF-8 JSON file, replacing it whole.

    The file is written beside its final name and renamed into place, so a reader never
    sees half a bundle.

    Args:
        store: The store.
        customer_id: The customer's id.
        path: The file to write.
        collections: The collections to search for documents about the customer.

    Returns:
        The path written.

    Raises:
        NotFoundError: No customer has this id.
        OSError: The file could not be written.
    """
    bundle = subject_export(store, customer_id, collections=collections)
    target = pathlib.Path(path)
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as file:
            json.dump(bundle, file, ensure_ascii=False, indent=2, allow_nan=False)
        os.replace(temporary, target)
    except BaseException:
        pathlib.Path(temporary).unlink(missing_ok=True)
        raise
    return target
