"""Retention: records older than a policy allows are listed (a dry run), then deleted."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

import attrs

from custrec.errors import ConflictError, NotFoundError, ValidationError
from custrec.expr import Expr, F, bind
from custrec.model import Customer, Feedback, Interaction, Transaction, now, parse_datetime
from custrec.privacy._documents import documents_about
from custrec.privacy._erase import ERASE_COLLECTIONS
from custrec.serialize import record_type_name
from custrec.store import Progress, Store

__all__ = ["RETENTION_RUNS", "RetentionPlan", "RetentionRule", "apply_retention", "retention_plan"]

RETENTION_RUNS = "privacy.retention"
"""The collection recording each applied retention run, keyed by when it ran."""

_TYPES: dict[str, type[Any]] = {
    "customer": Customer,
    "interaction": Interaction,
    "transaction": Transaction,
    "feedback": Feedback,
}
_HISTORY = ("interaction", "transaction", "feedback")


def _to_type(value: str) -> str:
    if value not in _TYPES:
        raise ValidationError("record_type", value, f"one of {', '.join(_TYPES)}")
    return value


def _check_keep(instance: RetentionRule, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, timedelta) or value <= timedelta(0):
        raise ValidationError("keep_for", value, "a positive timedelta (how long to keep)")


@attrs.frozen
class RetentionRule:
    """How long records of one type are kept.

    History records age from their ``at``. A customer ages from ``updated_at`` and goes
    only when none of their history is younger than the limit; their remaining history goes
    with them.

    Attributes:
        record_type: ``"customer"``, ``"interaction"``, ``"transaction"`` or ``"feedback"``.
        keep_for: How long a record is kept (``timedelta(days=3 * 365)``).
        where: Only records meeting this condition are subject to the rule (all when ``None``).
    """

    record_type: str = attrs.field(converter=_to_type)
    keep_for: timedelta = attrs.field(validator=_check_keep)
    where: Expr | None = None

    def __attrs_post_init__(self) -> None:
        if self.where is not None:
            bind(self.where, _TYPES[self.record_type])

    def condition(self, as_of: datetime) -> Expr:
        """The condition a record meets when this rule says it must go on ``as_of``."""
        field = "updated_at" if self.record_type == "customer" else "at"
        old = F(field) < as_of - self.keep_for
        return old if self.where is None else old & self.where


@attrs.frozen
class RetentionPlan:
    """What :func:`apply_retention` would delete: a dry run's result, to check and apply.

    Attributes:
        as_of: The moment the plan ages records from.
        rules: The rules it applied.
        records: Record type to ``(id, version)`` pairs due for deletion.
    """

    as_of: datetime
    rules: tuple[RetentionRule, ...]
    records: dict[str, tuple[tuple[str, int], ...]]

    def __len__(self) -> int:
        return sum(len(items) for items in self.records.values())

    def counts(self) -> dict[str, int]:
        """How many records of each type are due."""
        return {kind: len(items) for kind, items in self.records.items()}


def _young_customers(store: Store, cutoff: datetime) -> set[str]:
    """Ids of customers with any history at or after ``cutoff``."""
    young: set[str] = set()
    for kind in _HISTORY:
        rows = store.repository(_TYPES[kind]).project(["customer_id"], where=F("at") >= cutoff)
        for batch in rows:
            young.update(row[1] for row in batch)
    return young


def retention_plan(
    store: Store,
    rules: Iterable[RetentionRule],
    as_of: datetime | str | None = None,
    *,
    progress: Progress | None = None,
) -> RetentionPlan:
    """List the records the rules say must go, without changing anything.

    Args:
        store: The store.
        rules: The retention rules; several may name the same record type.
        as_of: The moment to age records from; now when ``None``.
        progress: Called with the number of records listed so far, after each batch.

    Returns:
        The plan, to inspect and pass to :func:`apply_retention`.

    Raises:
        ValidationError: A rule is not a :class:`RetentionRule` or ``as_of`` is unreadable.
    """
    moment = now() if as_of is None else parse_datetime(as_of, field="as_of")
    chosen = tuple(rules)
    for rule in chosen:
        if not isinstance(rule, RetentionRule):
            raise ValidationError("rules", rule, "expected RetentionRule values")
    found: dict[str, dict[str, int]] = {}
    listed = 0
    for rule in chosen:
        kind = _TYPES[rule.record_type]
        young = (
            _young_customers(store, moment - rule.keep_for)
            if rule.record_type == "customer"
            else set()
        )
        due = found.setdefault(rule.record_type, {})
        for batch in store.repository(kind).project(["version"], where=rule.condition(moment)):
            for ident, version in batch:
                if ident not in young:
                    due[ident] = version
            listed += len(batch)
            if progress is not None:
                progress(listed)
    records = {kind: tuple(sorted(due.items())) for kind, due in found.items() if due}
    return RetentionPlan(moment, chosen, records)


def apply_retention(
    store: Store,
    plan: RetentionPlan,
    *,
    actor: str,
    collections: Sequence[str] = ERASE_COLLECTIONS,
) -> dict[str, int]:
    """Delete what a plan lists, in one unit of work, and blank their audit values.

    Each record is deleted with its own audit entry by ``actor``, whose values (and those of
    the record's earlier entries) are then blanked: retention that kept the data in the
    audit trail would not be retention. A record changed or deleted since the plan was made
    is skipped (counted under ``"skipped"``), as is a customer who has new history. Deleted
    customers' documents in ``collections`` go too. The run is recorded in
    :data:`RETENTION_RUNS`. Deleted bytes may stay in a store's files until
    :func:`custrec.privacy.purge` runs.

    Args:
        store: The store.
        plan: A plan from :func:`retention_plan`.
        actor: Who applies it.
        collections: Collections searched for deleted customers' documents.

    Returns:
        How many records of each type were deleted, plus ``"skipped"``.

    Raises:
        ValidationError: ``actor`` is blank, ``plan`` is not a RetentionPlan, or a
            collection name is not valid.
    """
    if not isinstance(actor, str) or not actor.strip():
        raise ValidationError("actor", actor, "required: non-blank text")
    if not isinstance(plan, RetentionPlan):
        raise ValidationError("plan", type(plan).__name__, "expected a RetentionPlan")
    targets = [store.collection(name) for name in collections]  # checks the names first
    done: dict[str, int] = {"skipped": 0}
    with store.transaction():
        deleted: dict[str, list[str]] = {}
        for kind in (*_HISTORY, "customer"):
            items = plan.records.get(kind, ())
            young: set[str] = set()
            if kind == "customer" and items:
                young = _young_customers(store, _customer_cutoff(plan))
            for ident, version in items:
                if ident in young:
                    done["skipped"] += 1
                    continue
                try:
                    _delete(store, kind, ident, version, actor=actor, deleted=deleted)
                except (NotFoundError, ConflictError):
                    done["skipped"] += 1
        for kind, ids in deleted.items():
            store._scrub_audit(kind, ids)
            done[kind] = len(ids)
        for ident in deleted.get("customer", ()):
            for target in targets:
                for key in documents_about(store, target.name, ident):
                    target.delete(key)
        store.collection(RETENTION_RUNS).put(
            now().isoformat(),
            {"as_of": plan.as_of.isoformat(), "actor": actor.strip(), "deleted": done},
        )
    return done


def _customer_cutoff(plan: RetentionPlan) -> datetime:
    keeps = [rule.keep_for for rule in plan.rules if rule.record_type == "customer"]
    return plan.as_of - min(keeps)


def _delete(
    store: Store,
    kind: str,
    ident: str,
    version: int,
    *,
    actor: str,
    deleted: dict[str, list[str]],
) -> None:
    if kind == "customer":
        history = store.history(ident)
        store.customers.delete(ident, expected_version=version, actor=actor, cascade=True)
        for record in history:
            deleted.setdefault(record_type_name(record), []).append(record.id)
    else:
        store.repository(_TYPES[kind]).delete(ident, expected_version=version, actor=actor)
    deleted.setdefault(kind, []).append(ident)
