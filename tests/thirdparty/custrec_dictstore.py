"""custrec-dictstore: a store kept in plain dicts, written as a third party would write one.

It uses custrec's public API only: the :class:`~custrec.store.Store` primitives, the Python
query reference :func:`~custrec.store.run_query`, :func:`~custrec.store.contact_keys` for
lookups and :func:`~custrec.expr.compile_predicate` for counts and scans. A unit of work
copies the dicts when it begins (and at each savepoint) and puts the copy back on rollback:
slow for big stores, obviously right for small ones.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from custrec.errors import ConflictError, DuplicateIdError, NotFoundError
from custrec.expr import Expr, compile_predicate
from custrec.model import Customer
from custrec.serialize import RECORD_TYPES, record_type_name
from custrec.store import AuditEntry, Page, Query, Store, contact_keys, run_query

Snapshot = tuple[dict[type[Any], dict[str, Any]], list[AuditEntry]]


class DictStore(Store):
    """A store in this process's memory, in one dict per record type."""

    scheme = "dict"

    def __init__(self, *, actor: str | None = None) -> None:
        super().__init__(actor=actor)
        self._tables: dict[type[Any], dict[str, Any]] = {kind: {} for kind in RECORD_TYPES.values()}
        self._entries: list[AuditEntry] = []
        self._snapshots: dict[str, Snapshot] = {}

    @classmethod
    def from_url(cls, url: str, **options: Any) -> DictStore:
        """Open a new, empty store (``dict://``)."""
        return cls(**options)

    # -- unit of work: copies of the dicts -------------------------------------------------

    def _copy(self) -> Snapshot:
        return {kind: dict(table) for kind, table in self._tables.items()}, list(self._entries)

    def _restore(self, snapshot: Snapshot) -> None:
        self._tables, self._entries = snapshot

    def _begin(self) -> None:
        self._snapshots = {"": self._copy()}

    def _commit(self) -> None:
        self._snapshots = {}

    def _rollback(self) -> None:
        self._restore(self._snapshots.pop(""))
        self._snapshots = {}

    def _savepoint(self, name: str) -> None:
        self._snapshots[name] = self._copy()

    def _release(self, name: str) -> None:
        del self._snapshots[name]

    def _rollback_to(self, name: str) -> None:
        self._restore(self._snapshots.pop(name))

    # -- records ---------------------------------------------------------------------------

    def _fetch(self, kind: type[Any], ids: Sequence[str]) -> dict[str, Any]:
        table = self._tables[kind]
        return {ident: table[ident] for ident in ids if ident in table}

    def _insert(self, kind: type[Any], records: Sequence[Any]) -> None:
        table = self._tables[kind]
        seen: set[str] = set()
        for record in records:
            if record.id in table or record.id in seen:
                raise DuplicateIdError(record_type_name(kind), record.id)
            seen.add(record.id)
        for record in records:
            table[record.id] = record

    def _replace(self, kind: type[Any], record: Any, expected_version: int) -> None:
        stored = self._tables[kind].get(record.id)
        if stored is None:
            raise NotFoundError(record_type_name(kind), record.id)
        if stored.version != expected_version:
            raise ConflictError(record_type_name(kind), record.id, expected_version, stored.version)
        self._tables[kind][record.id] = record

    def _remove(self, kind: type[Any], ids: Sequence[str]) -> None:
        for ident in ids:
            self._tables[kind].pop(ident, None)

    def _select(self, kind: type[Any], query: Query) -> Page[Any]:
        return run_query(list(self._tables[kind].values()), kind, query)

    def _count(self, kind: type[Any], where: Expr | None) -> int:
        keep = compile_predicate(where, kind)
        return sum(1 for record in self._tables[kind].values() if keep(record))

    def _scan(
        self, kind: type[Any], after: str | None, limit: int, where: Expr | None
    ) -> list[Any]:
        keep = compile_predicate(where, kind)
        table = self._tables[kind]
        found: list[Any] = []
        for ident in sorted(ident for ident in table if after is None or ident > after):
            if keep(table[ident]):
                found.append(table[ident])
                if len(found) == limit:
                    break
        return found

    def _lookup(self, key: str) -> list[str]:
        customers = self._tables[Customer].values()
        return sorted(customer.id for customer in customers if key in contact_keys(customer))

    # -- audit -----------------------------------------------------------------------------

    def _append_audit(self, entries: Sequence[AuditEntry]) -> None:
        self._entries.extend(entries)

    def _read_audit(self, record_type: str | None, record_id: str) -> list[AuditEntry]:
        return [
            entry
            for entry in self._entries
            if entry.record_id == record_id
            and (record_type is None or entry.record_type == record_type)
        ]
