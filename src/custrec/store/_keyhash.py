"""Hashes of contact keys, as the SQLite ``contacts`` table stores them."""

from __future__ import annotations

import hashlib

__all__ = ["key_hash", "key_hash_range"]

_KEY_KINDS = {"phone": 1, "email": 2, "handle": 3, "ext": 4}
_KIND_SHIFT = 56
# A fresh BLAKE2b-56 state: copying it is about twice as fast as building one from keyword
# arguments, and gives the same digest (a bulk add hashes every contact key it writes).
_BLAKE2B_56 = hashlib.blake2b(digest_size=7)


def key_hash(key: str) -> int:
    """The ``contacts`` table's 64-bit hash of a contact key (see :func:`contact_keys`).

    The key's kind (phone, email, handle, external id) in the top byte, then the first 7
    bytes of the key's BLAKE2b digest: stable across processes and versions, since files
    store it, and the keys of one kind sort together (see :func:`key_hash_range`).
    Distinct keys may share a hash, so a lookup checks each customer it finds against the
    key itself.
    """
    kind = _KEY_KINDS.get(key.partition(":")[0], 0)
    state = _BLAKE2B_56.copy()
    state.update(key.encode())
    return (kind << _KIND_SHIFT) | int.from_bytes(state.digest(), "big")


def key_hash_range(kind: str) -> tuple[int, int]:
    """The hashes of one kind of contact key (``"phone"``, ``"email"``…): [low, high)."""
    code = _KEY_KINDS[kind]
    return code << _KIND_SHIFT, (code + 1) << _KIND_SHIFT
