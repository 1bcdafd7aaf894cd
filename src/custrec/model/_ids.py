"""Record ids: given by the user, or generated and sortable by creation time."""

from __future__ import annotations

import os
import re
import threading
import time

from custrec.model._fields import Invalid, invalid

__all__ = ["ID_PATTERN", "new_id", "to_id"]

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_lock = threading.Lock()
_last = [0, 0]  # [millisecond timestamp, 80-bit random part] of the last id made here

ID_PATTERN = re.compile(r"[^\s\x00-\x1f\x7f]([^\x00-\x1f\x7f]{0,126}[^\s\x00-\x1f\x7f])?")
"""What an id may be: 1-128 characters, no control characters, no space at either end."""


def new_id() -> str:
    """Return a new 26-character id that sorts by creation time (the ULID layout).

    The first 10 characters encode the millisecond timestamp, the last 16 a random part.
    Ids made in the same millisecond by this process increase monotonically, so sorting by
    id is sorting by creation order.
    """
    now = time.time_ns() // 1_000_000
    with _lock:
        if now <= _last[0]:
            now = _last[0]
            rand = _last[1] + 1
        else:
            rand = int.from_bytes(os.urandom(10), "big")
        _last[0], _last[1] = now, rand
    value = (now << 80) | (rand & ((1 << 80) - 1))
    chars = []
    for _ in range(26):
        chars.append(_CROCKFORD[value & 31])
        value >>= 5
    return "".join(reversed(chars))


def to_id(value: str) -> str | Invalid:
    """Converter for id fields: text as given (leading zeros kept), never a number."""
    if isinstance(value, bool | int | float):
        return invalid(
            value, "ids are text: pass '001', not 1, so that leading zeros are never lost"
        )
    if not isinstance(value, str):
        return invalid(value, f"expected text, got {type(value).__name__}")
    if not ID_PATTERN.fullmatch(value):
        return invalid(
            value, "an id is 1-128 characters with no control characters or outer spaces"
        )
    return value
