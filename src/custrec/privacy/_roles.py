"""Roles: which fields of which record types a role may read and write."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import Any

import attrs

from custrec.errors import ValidationError
from custrec.model import Customer, Feedback, FrozenMap, Interaction, Transaction

__all__ = ["ALWAYS_VISIBLE", "RECORD_TYPES", "Access", "Role", "blank_value"]

RECORD_TYPES: dict[str, type[Any]] = {
    "customer": Customer,
    "interaction": Interaction,
    "transaction": Transaction,
    "feedback": Feedback,
}

ALWAYS_VISIBLE = frozenset({"id", "version", "customer_id", "created_at", "updated_at"})
"""Bookkeeping fields every role reads and writes: without them no record can be handled."""

_NO_BLANK = object()
# A transaction's total defaults to None only to be summed from the items: not an empty value.
_NEVER_BLANK = frozenset({"total"})


def blank_value(field: attrs.Attribute[Any]) -> Any:
    """The value a field shows a role that may not read it: its empty default.

    Returns a private marker for fields that have no empty default (amounts, times, kinds).
    """
    default = field.default
    if field.name not in _NEVER_BLANK and (default is None or default == ()):
        return default
    return _NO_BLANK


def has_blank(field: attrs.Attribute[Any]) -> bool:
    """Whether a field can be shown blank to a role that may not read it."""
    return blank_value(field) is not _NO_BLANK


class Access(enum.IntEnum):
    """What a role may do with a field; each level includes the one below."""

    NONE = 0
    READ = 1
    WRITE = 2


def _check_key(key: object) -> str:
    if not isinstance(key, str) or key.count(".") != 1:
        raise ValidationError("fields", key, "a key is '<record type>.<field>' or '<type>.*'")
    type_name, field = key.split(".")
    kind = RECORD_TYPES.get(type_name)
    if kind is None:
        raise ValidationError(
            "fields", key, f"{type_name!r} is not one of {', '.join(RECORD_TYPES)}"
        )
    if field != "*" and field not in attrs.fields_dict(kind):
        raise ValidationError("fields", key, f"{field!r} is not a field of a {type_name}")
    return key


def _to_access(key: str, value: object) -> Access:
    if isinstance(value, Access):
        return value
    if isinstance(value, str) and value.upper() in Access.__members__:
        return Access[value.upper()]
    raise ValidationError(key, value, "access is 'none', 'read' or 'write'")


def _to_fields(value: Mapping[str, Access | str]) -> FrozenMap[str, Access]:
    if not isinstance(value, Mapping):
        raise ValidationError("fields", value, "expected a mapping of '<type>.<field>' to access")
    return FrozenMap({_check_key(key): _to_access(key, access) for key, access in value.items()})


def _to_name(value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValidationError("name", value, "a role needs a non-blank name")
    return value.strip()


@attrs.frozen
class Role:
    """A role's rights on record fields.

    Rights are given per field (``"customer.phones": "read"``) or per record type
    (``"customer.*": "write"``); a field's own entry wins over its type's. Fields named in
    neither get no access. :data:`ALWAYS_VISIBLE` fields are always readable and writable.

    Attributes:
        name: The role's name (``"support"``, ``"analyst"``), reported in
            :class:`~custrec.errors.PermissionDenied`.
        fields: ``"<record type>.<field>"`` or ``"<record type>.*"`` to
            :class:`Access` (or ``"none"``, ``"read"``, ``"write"``).
    """

    name: str = attrs.field(converter=_to_name)
    fields: FrozenMap[str, Access] = attrs.field(factory=FrozenMap, converter=_to_fields)

    def access(self, record_type: str, field: str) -> Access:
        """Return what the role may do with ``field`` of a ``record_type``."""
        if field in ALWAYS_VISIBLE:
            return Access.WRITE
        found = self.fields.get(f"{record_type}.{field}")
        if found is None:
            found = self.fields.get(f"{record_type}.*", Access.NONE)
        return Access(found)

    def can_read(self, record_type: str, field: str) -> bool:
        """Whether the role may read ``field`` of a ``record_type``."""
        return self.access(record_type, field) >= Access.READ

    def can_write(self, record_type: str, field: str) -> bool:
        """Whether the role may write ``field`` of a ``record_type``."""
        return self.access(record_type, field) >= Access.WRITE
