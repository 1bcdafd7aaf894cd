"""Merge duplicate customers into one, and undo a merge.

A merge, in one unit of work:

1. picks the *survivor* (the record created first, unless one is named), builds the merged
   customer by :mod:`survivorship <custrec.quality._merge_survivorship>` and stores it as
   an update of the survivor;
2. re-points every interaction, transaction and feedback of the other records (the
   *losers*) to the survivor, each an update with its own audit entry;
3. removes the losers from the customers, each with an audit entry holding its last values;
4. writes a *merge record* to the store's ``quality.merges`` collection: a full snapshot of
   every input customer, the id, type and former owner of every re-pointed history record,
   the survivor, the time and the actor.

Nothing is lost: a loser leaves the active customer table (so lookups, counts and
classification see one customer), but lives on in full in the merge record and in the
audit trail, and :func:`unmerge` puts it back. There is no limit on the number of records.

:func:`unmerge` restores, in one unit of work, every input customer and the owner of every
re-pointed history record. *Exactly* means: every field of every record equals its value
before the merge, except the bookkeeping the store keeps itself — ``version`` and a
customer's ``updated_at`` — which move forward as for any write (a restored loser is added
anew, at version 1), so that optimistic concurrency stays sound and the audit trail shows
the merge and its undoing. History recorded for the survivor after the merge stays with the
survivor. An unmerge is refused (:class:`~custrec.errors.ConflictError`) when the survivor
changed after the merge, since restoring it would silently drop that change.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import attrs

from custrec.errors import ConflictError, IntegrityError, NotFoundError, ValidationError
from custrec.model import Customer, HistoryRecord, new_id, now
from custrec.quality._merge_survivorship import Survivorship, survive
from custrec.serialize import from_dict, record_type_name, to_dict
from custrec.store import Store

__all__ = ["MERGES", "MergeRecord", "merge", "merge_record", "unmerge"]

MERGES = "quality.merges"
"""The collection holding merge records, keyed by merge id."""


@attrs.frozen
class MergeRecord:
    """What a merge did, as kept in the store (enough to undo it).

    Attributes:
        id: The merge's id.
        at: When it happened.
        actor: Who merged.
        survivor: The id that lives on.
        merged: The ids of the records merged into it.
        inputs: Every input customer as it was before the merge.
        history: ``(record type, record id, former customer id)`` of each re-pointed record.
        survivor_version: The survivor's version right after the merge.
        undone_at: When it was undone, or ``None``.
        undone_by: Who undid it.
    """

    id: str
    at: str
    actor: str | None
    survivor: str
    merged: tuple[str, ...]
    inputs: tuple[Customer, ...]
    history: tuple[tuple[str, str, str], ...]
    survivor_version: int
    undone_at: str | None = None
    undone_by: str | None = None

    def as_document(self) -> dict[str, Any]:
        """Return the JSON-ready document kept in the collection."""
        return {
            "id": self.id,
            "at": self.at,
            "actor": self.actor,
            "survivor": self.survivor,
            "merged": list(self.merged),
            "inputs": [to_dict(customer) for customer in self.inputs],
            "history": [list(entry) for entry in self.history],
            "survivor_version": self.survivor_version,
            "undone_at": self.undone_at,
            "undone_by": self.undone_by,
        }

    @classmethod
    def from_document(cls, document: dict[str, Any]) -> MergeRecord:
        """Rebuild a merge record from :meth:`as_document` output."""
        inputs = tuple(from_dict(item) for item in document["inputs"])
        return cls(
            id=document["id"],
            at=document["at"],
            actor=document["actor"],
            survivor=document["survivor"],
            merged=tuple(document["merged"]),
            inputs=tuple(c for c in inputs if isinstance(c, Customer)),
            history=tuple((str(t), str(i), str(o)) for t, i, o in document["history"]),
            survivor_version=int(document["survivor_version"]),
            undone_at=document.get("undone_at"),
            undone_by=document.get("undone_by"),
        )


@contextlib.contextmanager
def _acting(store: Store, actor: str | None) -> Iterator[None]:
    if actor is None:
        yield
    else:
        with store.acting_as(actor):
            yield


def _history_repository(store: Store, type_name: str) -> Any:
    for repository in (store.interactions, store.transactions, store.feedback):
        if repository.type_name == type_name:
            return repository
    raise ValidationError("history", type_name, "not a history record type")


def merge(
    store: Store,
    ids: Iterable[str],
    *,
    survivor: str | None = None,
    survivorship: Survivorship | None = None,
    actor: str | None = None,
) -> MergeRecord:
    """Merge customers into one, re-pointing all their history to it.

    Args:
        store: The store holding them.
        ids: Two or more customer ids.
        survivor: The id that lives on; the record created first when ``None``.
        survivorship: Which value each field takes; the defaults (most recent value, union
            of contact points, tags and interests) when ``None``.
        actor: Who merges (recorded in the audit trail and the merge record); the store's
            current actor when ``None``.

    Returns:
        The merge record (its ``id`` undoes the merge with :func:`unmerge`).

    Raises:
        ValidationError: Fewer than two distinct ids, or ``survivor`` is not among them.
        NotFoundError: An id names no customer.
    """
    wanted = list(dict.fromkeys(ids))
    if len(wanted) < 2:
        raise ValidationError("ids", wanted, "a merge needs two or more distinct customers")
    if survivor is not None and survivor not in wanted:
        raise ValidationError("survivor", survivor, "must be one of the merged ids")
    rules = survivorship or Survivorship()
    with _acting(store, actor), store.transaction():
        found = store.customers.get_many(wanted)
        for ident in wanted:
            if ident not in found:
                raise NotFoundError("customer", ident)
        inputs = [found[ident] for ident in wanted]
        keeper = found[survivor] if survivor else min(inputs, key=lambda c: (c.created_at, c.id))
        losers = [c for c in inputs if c.id != keeper.id]
        moved = _repoint(store, [c.id for c in losers], keeper.id)
        merged = store.customers.update(survive(inputs, keeper, rules))
        for loser in losers:
            store.customers.delete(loser.id, expected_version=loser.version)
        record = MergeRecord(
            id=new_id(),
            at=now().isoformat(),
            actor=store.current_actor(),
            survivor=keeper.id,
            merged=tuple(c.id for c in losers),
            inputs=tuple(inputs),
            history=tuple(moved),
            survivor_version=merged.version,
        )
        store.collection(MERGES).put(record.id, record.as_document())
    return record


def _repoint(store: Store, owners: Sequence[str], target: str) -> list[tuple[str, str, str]]:
    moved = []
    for owner in owners:
        for record in store.history(owner):
            repository = _history_repository(store, record_type_name(record))
            repository.update(attrs.evolve(record, customer_id=target))
            moved.append((repository.type_name, record.id, owner))
    return moved


def merge_record(store: Store, merge_id: str) -> MergeRecord:
    """Return the merge record ``merge_id``.

    Raises:
        NotFoundError: No merge has this id.
    """
    document = store.collection(MERGES).get(merge_id)
    if document is None:
        raise NotFoundError("merge", merge_id)
    return MergeRecord.from_document(document)


def unmerge(store: Store, merge_id: str, *, actor: str | None = None) -> MergeRecord:
    """Undo a merge: restore every input customer and give each history record back.

    Args:
        store: The store the merge happened in.
        merge_id: The merge's id (:attr:`MergeRecord.id`).
        actor: Who undoes it; the store's current actor when ``None``.

    Returns:
        The merge record, marked undone.

    Raises:
        NotFoundError: No merge has this id, or a re-pointed history record was deleted.
        ValidationError: The merge was undone already.
        ConflictError: The survivor changed after the merge.
        IntegrityError: A re-pointed history record was moved to another customer since.
        DuplicateIdError: A merged record's id was taken again since.
    """
    with _acting(store, actor), store.transaction():
        record = merge_record(store, merge_id)
        if record.undone_at is not None:
            raise ValidationError("merge_id", merge_id, f"undone already at {record.undone_at}")
        current = store.customers.get(record.survivor)
        if current.version != record.survivor_version:
            raise ConflictError(
                "customer", record.survivor, record.survivor_version, current.version
            )
        for snapshot in record.inputs:
            if snapshot.id != record.survivor:
                store.customers.add(snapshot)
        for type_name, ident, owner in record.history:
            repository = _history_repository(store, type_name)
            stored: HistoryRecord = repository.get(ident)
            if stored.customer_id != record.survivor:
                raise IntegrityError(
                    type_name, ident, "moved to another customer since the merge; not given back"
                )
            repository.update(attrs.evolve(stored, customer_id=owner))
        (before,) = (c for c in record.inputs if c.id == record.survivor)
        store.customers.update(attrs.evolve(before, version=current.version))
        undone = attrs.evolve(record, undone_at=now().isoformat(), undone_by=store.current_actor())
        store.collection(MERGES).put(merge_id, undone.as_document())
    return undone
