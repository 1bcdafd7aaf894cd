"""Survivorship: which value each field of a merged customer takes from its records.

Per field, one strategy:

- ``"most_recent"``: the value of the most recently updated record that has one;
- ``"most_complete"``: the value of the record with the most fields filled in (ties go to
  the most recently updated);
- ``"oldest"``: the value of the record created first that has one;
- ``"union"``: every value of every record, without repeats (phones by number, emails
  by address, handles by network and handle, addresses, tags, interests, special needs,
  consents, custom values and external ids key by key);
- ``"record:<id>"`` (see :meth:`Survivorship.from_record`): the value of that record.

Contact points, tags and interests are unions by default, so a merge never loses a way to
reach the customer. ``created_at`` is always the oldest, ``reviewed_at`` the latest.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import attrs

from custrec.errors import ValidationError
from custrec.model import Customer, FrozenMap

__all__ = ["DEFAULT_STRATEGIES", "STRATEGIES", "Survivorship", "survive"]

STRATEGIES = ("most_recent", "most_complete", "oldest", "union")
"""The strategy names (besides ``"record:<id>"``)."""

_UNION_FIELDS = frozenset(
    {
        "phones",
        "emails",
        "handles",
        "addresses",
        "interests",
        "special_needs",
        "tags",
        "consents",
        "custom",
        "external_ids",
    }
)
_SCALAR_FIELDS = (
    "name",
    "kind",
    "gender",
    "birth_date",
    "occupation",
    "job_title",
    "company",
    "industry",
    "family",
    "notes",
    "source",
    "owner",
)
_MERGED_FIELDS = frozenset(_SCALAR_FIELDS) | _UNION_FIELDS

DEFAULT_STRATEGIES: Mapping[str, str] = {
    **dict.fromkeys(_SCALAR_FIELDS, "most_recent"),
    **dict.fromkeys(sorted(_UNION_FIELDS), "union"),
}
"""The strategy of each field when none is given."""


def _check_strategy(field: str, strategy: str) -> None:
    if field not in _MERGED_FIELDS:
        raise ValidationError(
            "survivorship", field, f"not a mergeable field; fields: {sorted(_MERGED_FIELDS)}"
        )
    if strategy.startswith("record:") and len(strategy) > len("record:"):
        return
    if strategy not in STRATEGIES:
        raise ValidationError(
            f"survivorship.{field}", strategy, f"strategies: {', '.join(STRATEGIES)}, record:<id>"
        )
    if strategy == "union" and field not in _UNION_FIELDS:
        raise ValidationError(
            f"survivorship.{field}", strategy, "union applies to lists, sets and maps only"
        )


def _fields(value: Mapping[str, str] | None) -> Mapping[str, str]:
    chosen = dict(value or {})
    for field, strategy in chosen.items():
        _check_strategy(field, strategy)
    return {**DEFAULT_STRATEGIES, **chosen}


@attrs.frozen
class Survivorship:
    """The strategy of each field; fields not named keep :data:`DEFAULT_STRATEGIES`.

    Attributes:
        fields: Field name to strategy (``{"name": "oldest", "notes": "record:C1"}``).
    """

    fields: Mapping[str, str] = attrs.field(default=None, converter=_fields)

    @classmethod
    def from_record(cls, record_id: str, *fields: str) -> Survivorship:
        """Take ``fields`` (every non-union field when none are named) from one record."""
        names = fields or _SCALAR_FIELDS
        return cls(dict.fromkeys(names, f"record:{record_id}"))


def _filled(value: object) -> bool:
    if isinstance(value, str | tuple | frozenset | Mapping):
        return len(value) > 0
    return value is not None


def _completeness(customer: Customer) -> int:
    return sum(_filled(getattr(customer, name)) for name in _MERGED_FIELDS)


def _key(item: Any) -> Any:
    for attribute in ("e164", "key"):
        value = getattr(item, attribute, None)
        if value:
            return value
    if hasattr(item, "primary"):
        return attrs.evolve(item, primary=False)
    return item


def _union_items(values: Sequence[Any]) -> Any:
    """Union of tuples (first record's order first), of frozensets, or of maps."""
    first = values[0]
    if isinstance(first, frozenset):
        return frozenset().union(*values)
    if isinstance(first, Mapping):
        merged: dict[Any, Any] = {}
        for value in reversed(values):  # the first record's value wins a shared key
            merged.update(value)
        return FrozenMap(merged)
    seen: set[Any] = set()
    out: list[Any] = []
    has_primary = False
    for value in values:
        for item in value:
            key = _key(item)
            if key in seen:
                continue
            seen.add(key)
            primary = bool(getattr(item, "primary", False))
            out.append(attrs.evolve(item, primary=False) if primary and has_primary else item)
            has_primary = has_primary or primary
    return tuple(out)


def survive(records: Sequence[Customer], survivor: Customer, rules: Survivorship) -> Customer:
    """Return the merged customer: ``survivor``'s id and version, each field by its strategy.

    Args:
        records: Every input record (the survivor among them).
        survivor: The record whose id lives on.
        rules: The strategies.

    Returns:
        The merged customer (not stored).

    Raises:
        ValidationError: A ``record:<id>`` strategy names a record not being merged.
    """
    by_id = {record.id: record for record in records}
    recent = sorted(records, key=lambda r: (r.updated_at, r.id), reverse=True)
    oldest = sorted(records, key=lambda r: (r.created_at, r.id))
    complete = sorted(records, key=lambda r: (_completeness(r), r.updated_at, r.id), reverse=True)
    orders: dict[str, list[Customer]] = {
        "most_recent": recent,
        "oldest": oldest,
        "most_complete": complete,
    }
    # Unions list the survivor's items first, then the others from the most recent.
    union_order = [survivor, *(r for r in recent if r is not survivor)]
    changes: dict[str, Any] = {}
    for field, strategy in rules.fields.items():
        if strategy == "union":
            changes[field] = _union_items([getattr(r, field) for r in union_order])
            continue
        if strategy.startswith("record:"):
            ident = strategy.removeprefix("record:")
            if ident not in by_id:
                raise ValidationError(f"survivorship.{field}", strategy, "not a merged record")
            changes[field] = getattr(by_id[ident], field)
            continue
        ordered = orders[strategy]
        values = [getattr(r, field) for r in ordered]
        changes[field] = next((v for v in values if _filled(v)), values[0])
    changes["created_at"] = oldest[0].created_at
    reviewed = [r.reviewed_at for r in records if r.reviewed_at is not None]
    changes["reviewed_at"] = max(reviewed) if reviewed else None
    return attrs.evolve(survivor, **changes)
