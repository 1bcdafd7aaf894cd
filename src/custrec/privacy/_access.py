"""A store seen through a role: unreadable fields come back blank, forbidden writes raise."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, Generic, TypeVar

import attrs

from custrec.errors import PermissionDenied, ValidationError
from custrec.expr import Expr, Field, HasTag
from custrec.model import Feedback, FrozenMap, HistoryRecord, Record
from custrec.privacy._redact import REMOVED_TEXT
from custrec.privacy._roles import RECORD_TYPES, Role, blank_value, has_blank
from custrec.serialize import record_type_name
from custrec.store import AuditEntry, FieldChange, Page, Query, Repository, Store
from custrec.store._base import Row

__all__ = ["RestrictedRepository", "RestrictedStore"]

R = TypeVar("R", bound=Record)


def _paths_of(expr: Expr | None) -> set[str]:
    """The field paths an expression reads (``"custom.level"``, ``"phones"``)."""
    if expr is None:
        return set()
    if isinstance(expr, Field):
        return {expr.path}
    if isinstance(expr, HasTag):
        return {"tags"}
    found: set[str] = set()
    for field in attrs.fields(type(expr)):  # type: ignore[arg-type]  # every node is an attrs class
        value = getattr(expr, field.name)
        for item in value if isinstance(value, tuple) else (value,):
            if isinstance(item, Expr):
                found |= _paths_of(item)
    return found


def _fields_of(expr: Expr | None) -> set[str]:
    """The top-level record fields an expression reads."""
    return {path.split(".", 1)[0] for path in _paths_of(expr)}


def _is_blank(value: object) -> bool:
    return value is None or (isinstance(value, tuple | frozenset | FrozenMap) and not value)


class RestrictedRepository(Generic[R]):
    """One record type of a :class:`RestrictedStore`, its reads and writes checked.

    Reads return records whose unreadable fields hold their empty value (``None``, an empty
    list); a record type with an unreadable field that has no empty value (an amount, a
    time) cannot be read at all. Queries, orderings, lookups and projections that use an
    unreadable field are refused. A write may change only writable fields; fields the role
    cannot read, sent back blank as they were shown, keep their stored values.
    """

    def __init__(self, store: Store, repository: Repository[R], role: Role) -> None:
        self._store = store
        self._repository = repository
        self._role = role
        self.record_type = repository.record_type
        self.type_name = repository.type_name
        self._fields = attrs.fields(self.record_type)

    # -- checks ---------------------------------------------------------------------------

    def _denied(self, action: str, field: str) -> PermissionDenied:
        return PermissionDenied(self._role.name, action, f"{self.type_name}.{field}")

    def _check_reads(self, names: Iterable[str]) -> None:
        for name in names:
            if not self._role.can_read(self.type_name, name):
                raise self._denied("read", name)

    def _show(self, record: R) -> R:
        changes: dict[str, Any] = {}
        for field in self._fields:
            if self._role.can_read(self.type_name, field.name):
                continue
            if not has_blank(field):
                raise self._denied("read", field.name)
            if not _is_blank(getattr(record, field.name)):
                changes[field.name] = blank_value(field)
        if not changes:
            return record
        if isinstance(record, Feedback):
            rating = changes.get("rating", record.rating)
            text = changes.get("text", record.text)
            if rating is None and changes.get("nps", record.nps) is None and text is None:
                changes["text"] = REMOVED_TEXT  # feedback must hold something
        return attrs.evolve(record, **changes)

    def _merge(self, incoming: R, stored: R | None) -> R:
        """The record to store: forbidden changes raise, unseen fields keep stored values."""
        shown = None if stored is None else self._show(stored)
        restore: dict[str, Any] = {}
        for field in self._fields:
            name = field.name
            if self._role.can_write(self.type_name, name):
                continue
            value = getattr(incoming, name)
            if stored is None:
                if _is_blank(value) or value == field.default:
                    continue
            elif self._role.can_read(self.type_name, name):
                if value == getattr(stored, name):
                    continue
            # A hidden field accepts only what the role was shown: accepting the stored
            # value too would let the role test guesses of what it may not read.
            elif value == getattr(shown, name):
                restore[name] = getattr(stored, name)
                continue
            raise self._denied("write", name)
        return attrs.evolve(incoming, **restore) if restore else incoming

    # -- reads ----------------------------------------------------------------------------

    def get(self, record_id: str) -> R:
        """Return the record with ``record_id`` as the role may see it.

        Raises:
            NotFoundError: There is none.
            PermissionDenied: The role may not read a field that cannot be shown blank.
        """
        return self._show(self._repository.get(record_id))

    def get_many(self, record_ids: Iterable[str]) -> dict[str, R]:
        """Return the records with these ids that exist, by id, as the role may see them."""
        return {k: self._show(v) for k, v in self._repository.get_many(record_ids).items()}

    def exists(self, record_id: str) -> bool:
        """Whether a record with ``record_id`` exists."""
        return self._repository.exists(record_id)

    def count(self, where: Expr | None = None) -> int:
        """Count the records matching ``where``.

        Raises:
            PermissionDenied: The condition reads a field the role may not read.
        """
        self._check_reads(_fields_of(where))
        return self._repository.count(where)

    def find(self, query: Query | Expr | None = None) -> Page[R]:
        """Return a page of matching records as the role may see them.

        Raises:
            PermissionDenied: The condition or the order uses a field the role may not read.
        """
        if not isinstance(query, Query):
            query = Query(where=query)
        self._check_reads(_fields_of(query.where))
        self._check_reads(order.path.split(".", 1)[0] for order in query.order)
        page = self._repository.find(query)
        return Page(tuple(self._show(record) for record in page.items), page.next_cursor)

    def iter_batches(self, batch_size: int = 1000, where: Expr | None = None) -> Iterator[list[R]]:
        """Yield every matching record in id order, as the role may see them.

        Raises:
            PermissionDenied: The condition reads a field the role may not read.
        """
        self._check_reads(_fields_of(where))
        for batch in self._repository.iter_batches(batch_size, where):
            yield [self._show(record) for record in batch]

    def __iter__(self) -> Iterator[R]:
        for batch in self.iter_batches():
            yield from batch

    def __len__(self) -> int:
        return self.count()

    def project(
        self, fields: Sequence[str], batch_size: int = 1000, where: Expr | None = None
    ) -> Iterator[list[Row]]:
        """Yield chosen fields of matching records (see :meth:`Repository.project`).

        Raises:
            PermissionDenied: A field asked for, or read by the condition, is not readable.
        """
        self._check_reads([*fields, *_fields_of(where)])
        return self._repository.project(fields, batch_size, where)

    def for_customer(self, customer_id: str) -> list[R]:
        """Return a customer's records of this type, oldest first, as the role may see them."""
        records: list[R] = self._repository.for_customer(customer_id)  # type: ignore[attr-defined]  # history repositories only
        return [self._show(record) for record in records]

    def _lookup(self, field: str, method: str, *args: str) -> list[R]:
        self._check_reads([field])
        found: list[R] = getattr(self._repository, method)(*args)
        return [self._show(record) for record in found]

    def find_by_phone(self, phone: str, region: str | None = None) -> list[R]:
        """Customers with this phone number; needs read access to phones."""
        return self._lookup("phones", "find_by_phone", phone, *([region] if region else []))

    def find_by_email(self, email: str) -> list[R]:
        """Customers with this email address; needs read access to emails."""
        return self._lookup("emails", "find_by_email", email)

    def find_by_handle(self, network: str, handle: str) -> list[R]:
        """Customers with this messaging handle; needs read access to handles."""
        return self._lookup("handles", "find_by_handle", network, handle)

    def find_by_external_id(self, system: str, external_id: str) -> list[R]:
        """Customers known by this id in another system; needs read access to external_ids."""
        return self._lookup("external_ids", "find_by_external_id", system, external_id)

    # -- writes ---------------------------------------------------------------------------

    def add(self, record: R, *, actor: str | None = None) -> R:
        """Add a new record whose fields the role may not write hold their defaults.

        Raises:
            PermissionDenied: A field the role may not write holds a value.
        """
        return self._show(self._repository.add(self._merge(record, None), actor=actor))

    def add_many(
        self, records: Iterable[R], *, batch_size: int = 1000, actor: str | None = None
    ) -> int:
        """Add many new records (see :meth:`add`); each is checked before it is stored."""
        checked = (self._merge(record, None) for record in records)
        return self._repository.add_many(checked, batch_size=batch_size, actor=actor)

    def update(self, record: R, *, actor: str | None = None) -> R:
        """Update a record, changing only fields the role may write.

        Raises:
            NotFoundError: No record has its id.
            ConflictError: Someone else changed it since it was read.
            PermissionDenied: A field the role may not write was changed.
        """
        if not isinstance(record, self.record_type):
            raise ValidationError("record", type(record).__name__, f"expected a {self.type_name}")
        with self._store.transaction():
            stored = self._repository.get(record.id)
            return self._show(self._repository.update(self._merge(record, stored), actor=actor))

    def upsert(self, record: R, *, actor: str | None = None) -> R:
        """Add the record or replace the stored one, changing only writable fields.

        Raises:
            PermissionDenied: A field the role may not write would change.
        """
        with self._store.transaction():
            stored = self._repository.get_many([record.id]).get(record.id)
            if stored is not None:
                record = attrs.evolve(record, version=stored.version)
            merged = self._merge(record, stored)
            return self._show(self._repository.upsert(merged, actor=actor))

    def delete(self, record_id: str, **options: Any) -> None:
        """Delete a record; the role needs write access to every field of its type.

        With ``cascade=True`` (customers) it needs write access to every field of the
        history types too, since their records go with the customer.

        Raises:
            PermissionDenied: Some field of a type deleted from is not writable for the role.
        """
        kinds = RECORD_TYPES if options.get("cascade") else {self.type_name: self.record_type}
        for type_name, kind in kinds.items():
            for field in attrs.fields(kind):
                if not self._role.can_write(type_name, field.name):
                    raise PermissionDenied(self._role.name, "write", f"{type_name}.{field.name}")
        self._repository.delete(record_id, **options)


class RestrictedStore:
    """A store as one role may use it. Build one with ``RestrictedStore(store, role)``.

    It offers the repositories (``customers``, ``interactions``, ``transactions``,
    ``feedback``), :meth:`history`, :meth:`audit` and :meth:`transaction`; everything read
    through it is cut to the role's read rights and every write checked against its write
    rights (:class:`~custrec.errors.PermissionDenied`). It offers no collections and no
    way to reach the store it wraps.

    Args:
        store: The store to restrict.
        role: The role whose rights apply.
    """

    def __init__(self, store: Store, role: Role) -> None:
        if not isinstance(role, Role):
            raise ValidationError("role", role, "expected a Role")
        self._store = store
        self.role = role
        self.customers = RestrictedRepository(store, store.customers, role)
        self.interactions = RestrictedRepository(store, store.interactions, role)
        self.transactions = RestrictedRepository(store, store.transactions, role)
        self.feedback = RestrictedRepository(store, store.feedback, role)
        self._by_type: dict[str, RestrictedRepository[Any]] = {
            "customer": self.customers,
            "interaction": self.interactions,
            "transaction": self.transactions,
            "feedback": self.feedback,
        }

    def transaction(self) -> contextlib.AbstractContextManager[None]:
        """Group writes into one unit of work (see :meth:`Store.transaction`)."""
        return self._store.transaction()

    def history(self, customer_id: str) -> list[HistoryRecord]:
        """Return a customer's history, oldest first, as the role may see it."""
        return [
            self._by_type[record_type_name(record)]._show(record)
            for record in self._store.history(customer_id)
        ]

    def audit(self, record_id: str, record_type: str | None = None) -> list[AuditEntry]:
        """Return a record's audit trail; values of fields the role may not read are ``None``."""
        out = []
        for entry in self._store.audit(record_id, record_type):
            changes = tuple(
                change
                if self.role.can_read(entry.record_type, change.field)
                else FieldChange(change.field, None, None)
                for change in entry.changes
            )
            out.append(attrs.evolve(entry, changes=changes))
        return out
