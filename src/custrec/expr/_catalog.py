"""Which fields of each record type expressions may use, and what kind of value each holds.

Stores map these names to columns or document paths; the evaluator reads them from records.
A name outside the catalog is refused before any query runs, so user text can never name an
arbitrary column.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any, Protocol

import attrs

from custrec.errors import ValidationError
from custrec.model import (
    CUSTOM_KEY_PATTERN,
    Channel,
    Customer,
    CustomerKind,
    Direction,
    Feedback,
    FeedbackTopic,
    Gender,
    Interaction,
    Other,
    Outcome,
    PaymentMethod,
    SalesChannel,
    Transaction,
    TransactionStatus,
)

__all__ = [
    "FieldKind",
    "FieldSpec",
    "RecordSchema",
    "Schema",
    "field_spec",
    "fields_of",
    "read_field",
    "schema_of",
]


class FieldKind(enum.StrEnum):
    """The kind of value a field holds, which decides how it compares."""

    TEXT = "text"
    CHOICE = "choice"  # an open enumeration, compared as its text value
    INT = "int"
    NUMBER = "number"  # an int or a Decimal (facts such as total_spend)
    DATE = "date"
    DATETIME = "datetime"
    MONEY = "money"
    TAGS = "tags"
    JSON = "json"  # a custom field: any JSON scalar


@attrs.frozen
class FieldSpec:
    """A usable field.

    Attributes:
        path: Its dotted path (``"custom.level"``).
        kind: The kind of value it holds.
        attribute: The record attribute it reads; for ``custom.x`` and ``external_ids.x``,
            the mapping attribute, with :attr:`key` the entry.
        key: The entry of a mapping attribute, or ``None``.
        choices: For a choice field, its enumeration (text constants are read through
            its aliases, so ``"微信"`` matches ``"wechat"``).
        reader: How to read the value from what expressions run over, when that is not
            ``getattr(thing, attribute)`` (facts, for instance).
    """

    path: str
    kind: FieldKind
    attribute: str
    key: str | None = None
    choices: type[enum.StrEnum] | None = None
    reader: Callable[[Any], Any] | None = attrs.field(default=None, eq=False, repr=False)


def _specs(
    kinds: Mapping[str, FieldKind | type[enum.StrEnum]],
) -> Mapping[str, FieldSpec]:
    specs = {}
    for name, kind in kinds.items():
        if isinstance(kind, FieldKind):
            specs[name] = FieldSpec(name, kind, name)
        else:
            specs[name] = FieldSpec(name, FieldKind.CHOICE, name, choices=kind)
    return MappingProxyType(specs)


_T, _I, _D, _DT = FieldKind.TEXT, FieldKind.INT, FieldKind.DATE, FieldKind.DATETIME
_CATALOG: Mapping[type[Any], Mapping[str, FieldSpec]] = {
    Customer: _specs(
        {
            "id": _T,
            "name": _T,
            "kind": CustomerKind,
            "gender": Gender,
            "birth_date": _D,
            "occupation": _T,
            "job_title": _T,
            "company": _T,
            "industry": _T,
            "family": _T,
            "notes": _T,
            "source": _T,
            "owner": _T,
            "created_at": _DT,
            "updated_at": _DT,
            "reviewed_at": _DT,
            "version": _I,
            "tags": FieldKind.TAGS,
        }
    ),
    Interaction: _specs(
        {
            "id": _T,
            "customer_id": _T,
            "at": _DT,
            "channel": Channel,
            "direction": Direction,
            "subject": _T,
            "content": _T,
            "outcome": Outcome,
            "handled_by": _T,
            "next_follow_up": _D,
            "version": _I,
        }
    ),
    Transaction: _specs(
        {
            "id": _T,
            "customer_id": _T,
            "at": _DT,
            "total": FieldKind.MONEY,
            "currency": _T,
            "payment_method": PaymentMethod,
            "channel": SalesChannel,
            "status": TransactionStatus,
            "note": _T,
            "version": _I,
        }
    ),
    Feedback: _specs(
        {
            "id": _T,
            "customer_id": _T,
            "at": _DT,
            "rating": _I,
            "nps": _I,
            "text": _T,
            "topic": FeedbackTopic,
            "about_id": _T,
            "version": _I,
        }
    ),
}


def fields_of(record_type: type[Any]) -> Mapping[str, FieldSpec]:
    """Return the fixed fields expressions may use on ``record_type``.

    Customers also take ``custom.<key>`` and ``external_ids.<system>`` (see
    :func:`field_spec`).
    """
    return _CATALOG[record_type]


def field_spec(record_type: type[Any], path: str) -> FieldSpec:
    """Return the spec of ``path`` on ``record_type``.

    Raises:
        ValidationError: The field does not exist or cannot be used in expressions.
    """
    if record_type not in _CATALOG:
        raise ValidationError("record_type", record_type, "not a custrec record type")
    spec = _CATALOG[record_type].get(path)
    if spec is not None:
        return spec
    head, dot, key = path.partition(".")
    if record_type is Customer and dot and CUSTOM_KEY_PATTERN.fullmatch(key):
        if head == "custom":
            return FieldSpec(path, FieldKind.JSON, "custom", key)
        if head == "external_ids":
            return FieldSpec(path, FieldKind.TEXT, "external_ids", key)
    known = ", ".join(sorted(_CATALOG[record_type]))
    extra = ", custom.<key>, external_ids.<system>" if record_type is Customer else ""
    raise ValidationError(
        "field", path, f"not a field of {record_type.__name__} (known: {known}{extra})"
    )


def read_field(record: Any, spec: FieldSpec) -> Any:
    """Read a field's value from a record, as expressions see it.

    Choices read as their text, tags as a frozenset, custom fields as stored.
    """
    if spec.reader is not None:
        value = spec.reader(record)
    else:
        value = getattr(record, spec.attribute)
        if spec.key is not None:
            value = value.get(spec.key)
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, Other):
        return value.text
    return value


class Schema(Protocol):
    """What an expression may name and call, for one kind of thing it runs over.

    Record types have one (:func:`schema_of`); classification has another, over facts.
    """

    @property
    def name(self) -> str:
        """What the expressions run over, for messages (``"Customer"``, ``"facts"``)."""
        ...

    @property
    def functions(self) -> frozenset[str]:
        """The functions expressions may call (see ``custrec.expr.FUNCTIONS``)."""
        ...

    def field(self, path: str) -> FieldSpec:
        """Return the spec of ``path``, or raise ValidationError naming it."""
        ...


@attrs.frozen
class RecordSchema:
    """The schema of a record type: its catalog fields, and no functions.

    Attributes:
        record_type: Customer, Interaction, Transaction or Feedback.
    """

    record_type: type[Any]
    functions: frozenset[str] = frozenset()

    @property
    def name(self) -> str:
        """The record type's name."""
        return self.record_type.__name__

    def field(self, path: str) -> FieldSpec:
        """Return the spec of ``path`` on the record type."""
        return field_spec(self.record_type, path)


def schema_of(target: type[Any] | Schema) -> Schema:
    """Return the schema for a record type, or ``target`` itself if it is a schema."""
    return RecordSchema(target) if isinstance(target, type) else target
