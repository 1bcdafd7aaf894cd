"""The in-memory store: the reference implementation of the Store protocol.

Nothing is written anywhere; everything is gone when the process ends. Writes are undone on
rollback from a journal, so a unit of work costs what it changes, not the store's size.
"""

from __future__ import annotations

import bisect
import copy
import itertools
from collections import defaultdict
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import attrs

from custrec.errors import ConflictError, DuplicateIdError, NotFoundError
from custrec.expr import Expr, compile_predicate
from custrec.model import Customer, Feedback, Interaction, Record, Transaction
from custrec.serialize import record_type_name
from custrec.store._audit import AuditEntry, FieldChange
from custrec.store._base import Store, contact_keys
from custrec.store._pyquery import run_query
from custrec.store._query import Page, Query

__all__ = ["MemoryStore"]

R = TypeVar("R", bound=Record)


class MemoryStore(Store):
    """A store that keeps everything in this process's memory.

    It is the reference for every other backend's behaviour, and handy in tests. It is
    safe to share between threads: one unit of work runs at a time.
    """

    scheme = "memory"

    def __init__(self, *, actor: str | None = None) -> None:
        super().__init__(actor=actor)
        self._tables: dict[type[Any], dict[str, Any]] = {
            Customer: {},
            Interaction: {},
            Transaction: {},
            Feedback: {},
        }
        self._contacts: defaultdict[str, set[str]] = defaultdict(set)
        self._audit: list[AuditEntry] = []
        self._docs: dict[str, dict[str, dict[str, Any]]] = defaultdict(dict)
        self._journal: list[Callable[[], None]] = []
        self._sorted_ids: dict[type[Any], list[str]] = {}  # cached id order for scans
        self._marks: dict[str, int] = {}

    @classmethod
    def from_url(cls, url: str, **options: Any) -> MemoryStore:
        """Open a new, empty memory store (``memory://``)."""
        return cls(**options)

    # -- unit of work --------------------------------------------------------------------

    def _begin(self) -> None:
        self._journal.clear()
        self._marks.clear()

    def _commit(self) -> None:
        self._journal.clear()
        self._marks.clear()

    def _undo_to(self, length: int) -> None:
        while len(self._journal) > length:
            self._journal.pop()()

    def _rollback(self) -> None:
        self._undo_to(0)
        self._marks.clear()

    def _savepoint(self, name: str) -> None:
        self._marks[name] = len(self._journal)

    def _release(self, name: str) -> None:
        self._marks.pop(name, None)

    def _rollback_to(self, name: str) -> None:
        self._undo_to(self._marks.pop(name))

    # -- records -------------------------------------------------------------------------

    def _put(self, kind: type[Any], record: Any) -> None:
        table = self._tables[kind]
        self._sorted_ids.pop(kind, None)
        old = table.get(record.id)
        table[record.id] = record
        if kind is Customer:
            self._index(old, remove=True)
            self._index(record, remove=False)

        def undo() -> None:
            self._sorted_ids.pop(kind, None)
            if old is None:
                del table[record.id]
            else:
                table[record.id] = old
            if kind is Customer:
                self._index(record, remove=True)
                self._index(old, remove=False)

        self._journal.append(undo)

    def _index(self, customer: Customer | None, *, remove: bool) -> None:
        if customer is None:
            return
        for key in contact_keys(customer):
            if remove:
                self._contacts[key].discard(customer.id)
                if not self._contacts[key]:
                    del self._contacts[key]
            else:
                self._contacts[key].add(customer.id)

    def _fetch(self, kind: type[R], ids: Sequence[str]) -> dict[str, R]:
        with self._lock:
            table = self._tables[kind]
            return {ident: table[ident] for ident in ids if ident in table}

    def _insert(self, kind: type[R], records: Sequence[R]) -> None:
        with self._lock:
            table = self._tables[kind]
            seen: set[str] = set()
            for record in records:
                if record.id in table or record.id in seen:
                    raise DuplicateIdError(record_type_name(kind), record.id)
                seen.add(record.id)
            for record in records:
                self._put(kind, record)

    def _replace(self, kind: type[R], record: R, expected_version: int) -> None:
        with self._lock:
            stored = self._tables[kind].get(record.id)
            if stored is None:
                raise NotFoundError(record_type_name(kind), record.id)
            if stored.version != expected_version:
                raise ConflictError(
                    record_type_name(kind), record.id, expected_version, stored.version
                )
            self._put(kind, record)

    def _remove(self, kind: type[R], ids: Sequence[str]) -> None:
        with self._lock:
            table = self._tables[kind]
            self._sorted_ids.pop(kind, None)
            for ident in ids:
                old = table.pop(ident, None)
                if old is None:
                    continue
                if kind is Customer:
                    self._index(old, remove=True)

                def undo(old: Any = old) -> None:
                    self._sorted_ids.pop(kind, None)
                    table[old.id] = old
                    if kind is Customer:
                        self._index(old, remove=False)

                self._journal.append(undo)

    def _select(self, kind: type[R], query: Query) -> Page[R]:
        with self._lock:
            records = list(self._tables[kind].values())
        return run_query(records, kind, query)

    def _count(self, kind: type[R], where: Expr | None) -> int:
        keep = compile_predicate(where, kind)
        with self._lock:
            records = list(self._tables[kind].values())
        return sum(1 for record in records if keep(record))

    def _scan(self, kind: type[R], after: str | None, limit: int, where: Expr | None) -> list[R]:
        keep = compile_predicate(where, kind)
        with self._lock:
            table = self._tables[kind]
            ids = self._sorted_ids.get(kind)
            if ids is None:
                ids = self._sorted_ids[kind] = sorted(table)
            start = 0 if after is None else bisect.bisect_right(ids, after)
            out: list[R] = []
            for ident in itertools.islice(ids, start, None):
                record = table[ident]
                if keep(record):
                    out.append(record)
                    if len(out) == limit:
                        break
            return out

    def _lookup(self, key: str) -> list[str]:
        with self._lock:
            return sorted(self._contacts.get(key, ()))

    # -- audit ---------------------------------------------------------------------------

    def _append_audit(self, entries: Sequence[AuditEntry]) -> None:
        with self._lock:
            mark = len(self._audit)
            self._audit.extend(entries)
            self._journal.append(lambda: self._audit.__delitem__(slice(mark, None)))

    def _read_audit(self, record_type: str | None, record_id: str) -> list[AuditEntry]:
        with self._lock:
            return [
                entry
                for entry in self._audit
                if entry.record_id == record_id
                and (record_type is None or entry.record_type == record_type)
            ]

    def _scrub_audit(self, record_type: str, record_ids: Sequence[str]) -> int:
        wanted = set(record_ids)
        with self._lock:
            changed: list[tuple[int, AuditEntry]] = []
            for index, entry in enumerate(self._audit):
                if entry.record_type != record_type or entry.record_id not in wanted:
                    continue
                if any(c.old is not None or c.new is not None for c in entry.changes):
                    changed.append((index, entry))
                    blank = tuple(FieldChange(c.field, None, None) for c in entry.changes)
                    self._audit[index] = attrs.evolve(entry, changes=blank)

            def undo() -> None:
                for index, entry in changed:
                    self._audit[index] = entry

            self._journal.append(undo)
            return len(changed)

    def _purge(self) -> None:
        """Nothing to do: deleted records are gone from memory once unreferenced."""

    # -- collections ---------------------------------------------------------------------

    def _doc_get(self, collection: str, key: str) -> dict[str, Any] | None:
        with self._lock:
            document = self._docs[collection].get(key)
            return None if document is None else copy.deepcopy(document)

    def _doc_put(self, collection: str, key: str, document: dict[str, Any]) -> None:
        with self._lock:
            docs = self._docs[collection]
            old = docs.get(key)
            docs[key] = copy.deepcopy(document)
            self._journal.append(lambda: self._restore_doc(docs, key, old))

    def _doc_delete(self, collection: str, key: str) -> bool:
        with self._lock:
            docs = self._docs[collection]
            old = docs.pop(key, None)
            if old is not None:
                self._journal.append(lambda: self._restore_doc(docs, key, old))
            return old is not None

    @staticmethod
    def _restore_doc(docs: dict[str, dict[str, Any]], key: str, old: dict[str, Any] | None) -> None:
        if old is None:
            docs.pop(key, None)
        else:
            docs[key] = old

    def _doc_scan(
        self, collection: str, prefix: str, after: str | None, limit: int
    ) -> list[tuple[str, dict[str, Any]]]:
        with self._lock:
            docs = self._docs[collection]
            keys = sorted(k for k in docs if k.startswith(prefix) and (after is None or k > after))
            return [(key, copy.deepcopy(docs[key])) for key in keys[:limit]]
