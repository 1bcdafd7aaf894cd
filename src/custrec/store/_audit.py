"""The audit trail: who changed which record, when, and what each field was and became."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import attrs

__all__ = ["AuditAction", "AuditEntry", "FieldChange", "diff"]


class AuditAction(enum.StrEnum):
    """What happened to a record."""

    ADD = "add"
    UPDATE = "update"
    DELETE = "delete"


@attrs.frozen
class FieldChange:
    """One field's value before and after a change, as JSON-ready values.

    Attributes:
        field: The top-level field name.
        old: Its value before (``None`` for an added record).
        new: Its value after (``None`` for a deleted record).
    """

    field: str
    old: Any
    new: Any


@attrs.frozen
class AuditEntry:
    """One change to one record.

    An ``add`` entry lists no changes: the record's first version is the record as added,
    and every later entry says what changed from there. A ``delete`` entry lists every
    field's last value, so nothing is lost by deleting.

    Attributes:
        at: When (aware, UTC).
        actor: Who, as given by the caller or set on the store; ``None`` if nobody said.
        action: Add, update or delete.
        record_type: ``"customer"``, ``"interaction"``, ``"transaction"`` or ``"feedback"``.
        record_id: The record's id.
        version: The record's version after the change (before it, for a delete).
        changes: The fields that changed.
    """

    at: datetime
    actor: str | None
    action: AuditAction
    record_type: str
    record_id: str
    version: int
    changes: tuple[FieldChange, ...] = ()


_IGNORED = frozenset({"type", "schema_version", "version", "updated_at"})


def diff(old: Mapping[str, Any] | None, new: Mapping[str, Any] | None) -> tuple[FieldChange, ...]:
    """Return the fields whose values differ between two record documents.

    Bookkeeping fields (``version``, ``updated_at``) are left out: the entry itself says
    when and which version.
    """
    before = old or {}
    after = new or {}
    changes = []
    for name in dict.fromkeys([*before, *after]):
        if name in _IGNORED:
            continue
        if before.get(name) != after.get(name):
            changes.append(FieldChange(name, before.get(name), after.get(name)))
    return tuple(changes)
