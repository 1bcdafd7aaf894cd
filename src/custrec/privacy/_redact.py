"""Redaction: a copy of a record fit for logs and exports, personal data masked or removed."""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import attrs

from custrec.errors import ValidationError
from custrec.model import (
    AfterSalesEvent,
    Customer,
    Feedback,
    FrozenMap,
    Interaction,
    Record,
    Transaction,
)
from custrec.privacy._mask import (
    mask_address,
    mask_email_value,
    mask_handle,
    mask_name,
    mask_phone_value,
    mask_text,
)
from custrec.serialize import record_type_name, to_dict

__all__ = ["REMOVED_TEXT", "RedactionPolicy", "Treatment", "redact", "redact_dict"]

R = TypeVar("R", bound=Record)

REMOVED_TEXT = "[removed]"
"""What stands in for removed feedback text when the feedback has nothing else to hold."""

_TYPES: dict[str, type[Any]] = {
    "customer": Customer,
    "interaction": Interaction,
    "transaction": Transaction,
    "feedback": Feedback,
}


class Treatment(enum.StrEnum):
    """What redaction does with a field."""

    KEEP = "keep"
    """Leave the value as it is."""
    MASK = "mask"
    """Replace it by a masked form (``138****5678``, ``z***@abc.com``, ``张*``, city only)."""
    REMOVE = "remove"
    """Drop it: the field gets its empty default (``None``, an empty list)."""


def _drop_after_sales_notes(events: tuple[AfterSalesEvent, ...]) -> tuple[AfterSalesEvent, ...]:
    return tuple(attrs.evolve(event, note=None) for event in events)


def _mask_opt_text(value: str | None) -> str | None:
    return None if value is None else mask_text(value)


def _mask_opt_name(value: str | None) -> str | None:
    return None if value is None else mask_name(value)


# How each field is masked; a field not listed here cannot be masked, only kept or removed.
_MASKERS: dict[str, Callable[[Any], Any]] = {
    "customer.name": _mask_opt_name,
    "customer.owner": _mask_opt_name,
    "customer.phones": lambda phones: tuple(mask_phone_value(p) for p in phones),
    "customer.emails": lambda emails: tuple(mask_email_value(e) for e in emails),
    "customer.handles": lambda handles: tuple(mask_handle(h) for h in handles),
    "customer.addresses": lambda addresses: tuple(mask_address(a) for a in addresses),
    "customer.external_ids": lambda ids: FrozenMap({k: mask_text(v) for k, v in ids.items()}),
    "customer.company": _mask_opt_text,
    "customer.occupation": _mask_opt_text,
    "customer.job_title": _mask_opt_text,
    "customer.source": _mask_opt_text,
    "interaction.handled_by": _mask_opt_name,
    "interaction.subject": _mask_opt_text,
    "transaction.after_sales": _drop_after_sales_notes,
}

_STANDARD: dict[str, Treatment] = {
    "customer.name": Treatment.MASK,
    "customer.phones": Treatment.MASK,
    "customer.emails": Treatment.MASK,
    "customer.handles": Treatment.MASK,
    "customer.addresses": Treatment.MASK,
    "customer.external_ids": Treatment.MASK,
    "customer.company": Treatment.MASK,
    "customer.birth_date": Treatment.REMOVE,
    "customer.family": Treatment.REMOVE,
    "customer.special_needs": Treatment.REMOVE,
    "customer.notes": Treatment.REMOVE,
    "customer.custom": Treatment.REMOVE,
    "interaction.subject": Treatment.REMOVE,
    "interaction.content": Treatment.REMOVE,
    "transaction.note": Treatment.REMOVE,
    "transaction.after_sales": Treatment.MASK,
    "feedback.text": Treatment.REMOVE,
}


# Amounts are what retention and accounting keep; a redacted sale still adds up.
_FIXED = frozenset({"transaction.total", "transaction.items", "transaction.after_sales"})


def _removable(key: str, field: attrs.Attribute[Any]) -> bool:
    """Whether a field has an empty default to fall back to (ids, times, amounts do not)."""
    return key not in _FIXED and (field.default is None or field.default == ())


def _check_rule(key: object, treatment: object) -> tuple[str, Treatment]:
    if not isinstance(key, str) or key.count(".") != 1:
        raise ValidationError("rules", key, "a rule key is '<record type>.<field>'")
    type_name, field = key.split(".")
    kind = _TYPES.get(type_name)
    if kind is None:
        raise ValidationError("rules", key, f"{type_name!r} is not one of {', '.join(_TYPES)}")
    fields = attrs.fields_dict(kind)
    if field not in fields:
        raise ValidationError("rules", key, f"{field!r} is not a field of a {type_name}")
    try:
        chosen = Treatment(str(treatment))
    except ValueError:
        raise ValidationError(key, treatment, "a treatment is keep, mask or remove") from None
    if chosen is Treatment.MASK and key not in _MASKERS:
        raise ValidationError(key, treatment, "this field has no masked form; keep or remove it")
    if chosen is Treatment.REMOVE and not _removable(key, fields[field]):
        raise ValidationError(key, treatment, "this field is needed by the record; keep it")
    return key, chosen


def _to_rules(value: Mapping[str, Treatment | str]) -> FrozenMap[str, Treatment]:
    if not isinstance(value, Mapping):
        raise ValidationError("rules", value, "expected a mapping of '<type>.<field>' to treatment")
    return FrozenMap(dict(_check_rule(key, treatment) for key, treatment in value.items()))


@attrs.frozen
class RedactionPolicy:
    """Which fields redaction keeps, masks or removes.

    Build the standard one with :meth:`standard` and adjust it with :meth:`with_rules`.
    Fields the rules do not name are kept.

    Attributes:
        rules: ``"<record type>.<field>"`` (``"customer.phones"``) to a :class:`Treatment`.
    """

    rules: FrozenMap[str, Treatment] = attrs.field(factory=FrozenMap, converter=_to_rules)

    @classmethod
    def standard(cls) -> RedactionPolicy:
        """Return the policy for logs and exports.

        Names, phones, emails, handles, external ids and company are masked; addresses are
        cut to city level; birth date, family, special needs, notes, custom fields,
        interaction subject and content, transaction notes (after-sales notes too) and
        feedback text are removed. Everything else is kept.

        Returns:
            The standard policy.
        """
        return cls(_STANDARD)

    def with_rules(self, rules: Mapping[str, Treatment | str]) -> RedactionPolicy:
        """Return a copy of this policy with some rules added or replaced.

        Args:
            rules: ``"<record type>.<field>"`` to ``"keep"``, ``"mask"`` or ``"remove"``.

        Returns:
            The new policy.

        Raises:
            ValidationError: A key names no field, or a field cannot take the treatment
                (only some fields have a masked form; ids, times and amounts cannot be removed).
        """
        return RedactionPolicy({**self.rules, **rules})

    def treatment(self, record_type: str, field: str) -> Treatment:
        """Return what happens to ``field`` of a ``record_type`` (``"customer"``…)."""
        chosen: Treatment = self.rules.get(f"{record_type}.{field}", Treatment.KEEP)
        return chosen


def _changes(record: Record, policy: RedactionPolicy) -> tuple[dict[str, Any], list[str]]:
    type_name = record_type_name(record)
    changes: dict[str, Any] = {}
    removed: list[str] = []
    for field in attrs.fields(type(record)):
        treatment = policy.treatment(type_name, field.name)
        if treatment is Treatment.MASK:
            changes[field.name] = _MASKERS[f"{type_name}.{field.name}"](getattr(record, field.name))
        elif treatment is Treatment.REMOVE:
            changes[field.name] = field.default
            removed.append(field.name)
    if (
        isinstance(record, Feedback)
        and "text" in removed
        and changes.get("rating", record.rating) is None
        and changes.get("nps", record.nps) is None
        and record.text is not None
    ):
        changes["text"] = REMOVED_TEXT
    return changes, removed


def redact(record: R, policy: RedactionPolicy | None = None) -> R:
    """Return a copy of a record with personal data masked or removed.

    The copy is a valid record of the same type (removed fields hold their empty default),
    so it can be logged, shown or handed to code that expects records. Feedback that held
    only text keeps :data:`REMOVED_TEXT` as its text, since feedback must hold something.

    Args:
        record: A customer, interaction, transaction or feedback.
        policy: What to mask and remove; :meth:`RedactionPolicy.standard` when ``None``.

    Returns:
        The redacted copy.

    Raises:
        ValidationError: ``record`` is not one of the four record types.
    """
    if not isinstance(record, Customer | Interaction | Transaction | Feedback):
        raise ValidationError("record", type(record).__name__, "not a custrec record")
    changes, _ = _changes(record, policy or RedactionPolicy.standard())
    return attrs.evolve(record, **changes) if changes else record


def redact_dict(record: Record, policy: RedactionPolicy | None = None) -> dict[str, Any]:
    """Return a redacted record as a JSON-ready dict, removed fields left out entirely.

    Args:
        record: A customer, interaction, transaction or feedback.
        policy: What to mask and remove; :meth:`RedactionPolicy.standard` when ``None``.

    Returns:
        The document :func:`custrec.to_dict` gives for the redacted record, without the
        removed fields' keys.

    Raises:
        ValidationError: ``record`` is not one of the four record types.
    """
    if not isinstance(record, Customer | Interaction | Transaction | Feedback):
        raise ValidationError("record", type(record).__name__, "not a custrec record")
    changes, removed = _changes(record, policy or RedactionPolicy.standard())
    document = to_dict(attrs.evolve(record, **changes) if changes else record)
    for name in removed:
        document.pop(name, None)
    return document
