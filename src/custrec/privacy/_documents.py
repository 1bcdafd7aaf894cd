"""Finding the documents in a store's collections that are about one customer."""

from __future__ import annotations

from typing import Any

from custrec.store import Store

__all__ = ["documents_about"]


def _mentions(value: Any, ident: str) -> bool:
    if isinstance(value, str):
        return value == ident
    if isinstance(value, dict):
        return any(key == ident or _mentions(item, ident) for key, item in value.items())
    if isinstance(value, list):
        return any(_mentions(item, ident) for item in value)
    return False


def documents_about(store: Store, collection: str, ident: str) -> dict[str, dict[str, Any]]:
    """Return the documents of a collection keyed by ``ident`` or ``ident/…``, or holding it.

    "Holding it" means a key or a text value anywhere in the document equal to ``ident``
    (a merge record listing the id among the merged customers).
    """
    return {
        key: document
        for key, document in store.collection(collection).items()
        if key == ident or key.startswith(f"{ident}/") or _mentions(document, ident)
    }
