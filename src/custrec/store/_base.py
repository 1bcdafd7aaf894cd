"""The Store: repositories for the four record types, a unit of work and an audit trail.

Backends subclass :class:`Store` and implement a small set of primitives (``_fetch``,
``_insert``, ``_replace``, ``_remove``, ``_select``, ``_count``, ``_scan``, ``_lookup``, the
audit pair and the transaction hooks). Everything a user calls lives here, once, as template
methods: type checks, version checks, timestamps, audit entries and batching behave the same
on every backend, and the conformance suite (:mod:`custrec.testing.store_suite`) proves the
primitives.
"""

from __future__ import annotations

import abc
import contextlib
import contextvars
import heapq
import json
import re
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from types import MappingProxyType
from typing import Any, ClassVar, Generic, TypeVar

import attrs

from custrec.errors import ConflictError, IntegrityError, NotFoundError, ValidationError
from custrec.expr import Expr, F, bind
from custrec.model import (
    Customer,
    Feedback,
    Handle,
    HistoryRecord,
    Interaction,
    Record,
    Transaction,
    normalize_email,
    normalize_phone,
    now,
)
from custrec.serialize import record_type_name, to_dict
from custrec.store._audit import AuditAction, AuditEntry, diff
from custrec.store._query import Query

__all__ = [
    "Collection",
    "CustomerRepository",
    "HistoryRepository",
    "Progress",
    "Repository",
    "Row",
    "Store",
    "contact_keys",
]

R = TypeVar("R", bound=Record)
H = TypeVar("H", bound=HistoryRecord)

Progress = Callable[[int], None]
"""Called with the number of records done so far, after each batch."""

Row = tuple[Any, ...]
"""A projected record: its id, then the values of the fields asked for."""

HISTORY_TYPES: tuple[type[HistoryRecord], ...] = (Interaction, Transaction, Feedback)

# The actor set by Store.acting_as, per store: one variable maps each store to its actor.
_actors: contextvars.ContextVar[Mapping[Store, str]] = contextvars.ContextVar(
    "custrec_actors", default=MappingProxyType({})
)


def contact_keys(customer: Customer) -> list[str]:
    """Return the lookup keys of a customer's contact points.

    ``phone:+86138…`` (E.164), ``email:<lower-cased address>``, ``handle:<network>:<handle>``
    and ``ext:<system>:<id>``. Stores index them so lookups need no scan.
    """
    return sorted(set(contact_key_texts(customer)))


def contact_key_texts(customer: Customer) -> list[str]:
    """The keys :func:`contact_keys` gives, unsorted and possibly repeated.

    For callers that gather the keys of many customers into one set of their own.
    """
    keys = [f"phone:{phone.e164}" for phone in customer.phones if phone.e164]
    if customer.emails:
        keys += [f"email:{email.key}" for email in customer.emails]
    if customer.handles:
        keys += [f"handle:{handle.key}" for handle in customer.handles]
    if customer.external_ids:
        keys += [f"ext:{system}:{ident}" for system, ident in customer.external_ids.items()]
    return keys


class Repository(Generic[R]):
    """The records of one type in a store.

    Reads return records; writes return the record as stored (with its new version).
    Every write runs in the store's unit of work: alone it commits at once, inside
    ``with store.transaction():`` it commits or rolls back with the block.
    """

    def __init__(self, store: Store, record_type: type[R]) -> None:
        self._store = store
        self.record_type = record_type
        self.type_name = record_type_name(record_type)

    def _check(self, record: object) -> R:
        if not isinstance(record, self.record_type):
            raise ValidationError(
                "record",
                type(record).__name__,
                f"this repository holds {self.record_type.__name__} records",
            )
        return record

    def _entry(
        self, action: AuditAction, record: R, changes: Any = (), actor: str | None = None
    ) -> AuditEntry:
        return AuditEntry(
            at=now(),
            actor=self._store.current_actor(actor),
            action=action,
            record_type=self.type_name,
            record_id=record.id,
            version=record.version,
            changes=tuple(changes),
        )

    def _before_insert(self, record: R) -> None:
        """Hook: refuse a record whose links are broken (history checks its customer)."""

    # -- reads ---------------------------------------------------------------------------

    def get(self, record_id: str) -> R:
        """Return the record with ``record_id``.

        Raises:
            NotFoundError: There is none.
        """
        found = self._store._fetch(self.record_type, [record_id])
        try:
            return found[record_id]
        except KeyError:
            raise NotFoundError(self.type_name, record_id) from None

    def get_many(self, record_ids: Iterable[str]) -> dict[str, R]:
        """Return the records with the given ids that exist, by id (missing ids are absent)."""
        ids = list(dict.fromkeys(record_ids))
        return self._store._fetch(self.record_type, ids) if ids else {}

    def exists(self, record_id: str) -> bool:
        """Whether a record with ``record_id`` exists."""
        return bool(self._store._existing(self.record_type, [record_id]))

    def count(self, where: Expr | None = None) -> int:
        """Count the records matching ``where`` (all when ``None``)."""
        if where is not None:
            bind(where, self.record_type)
        return self._store._count(self.record_type, where)

    def find(self, query: Query | Expr | None = None) -> Any:
        """Return a :class:`~custrec.store.Page` of the records a query matches.

        Args:
            query: A :class:`~custrec.store.Query`, or just a condition (every match,
                ordered by id), or ``None`` for every record.

        Raises:
            ValidationError: The query names an unknown field, compares a field with a
                constant of the wrong kind, or carries a cursor from another query.
        """
        if not isinstance(query, Query):
            query = Query(where=query)
        if query.where is not None:
            bind(query.where, self.record_type)
        for order in query.order:
            bind(F(order.path) == None, self.record_type)  # noqa: E711 - checks the field
        return self._store._select(self.record_type, query)

    def iter_batches(self, batch_size: int = 1000, where: Expr | None = None) -> Iterator[list[R]]:
        """Yield every matching record in id order, ``batch_size`` at a time.

        Memory use is bounded by one batch whatever the store's size.
        """
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise ValidationError("batch_size", batch_size, "must be a whole number from 1")
        if where is not None:
            bind(where, self.record_type)
        return self._batches(batch_size, where)

    def project(
        self, fields: Sequence[str], batch_size: int = 1000, where: Expr | None = None
    ) -> Iterator[list[Row]]:
        """Yield chosen fields of every matching record, in id order, ``batch_size`` at a time.

        Each row is ``(id, value of fields[0], value of fields[1], …)`` holding the values
        exactly as the records do. Use it when a pass needs a few fields of many records:
        SQL stores read them out of the stored documents without building whole records.

        Args:
            fields: Names of the record type's fields (``"birth_date"``, ``"addresses"``).
            batch_size: Rows per batch.
            where: Only records meeting this condition (all when ``None``).

        Raises:
            ValidationError: A name is not a field of the record type, the batch size is
                not a whole number from 1, or the condition does not fit the record type.
        """
        names = tuple(fields)
        known = attrs.fields_dict(self.record_type)
        for name in names:
            if not isinstance(name, str) or name not in known:
                kind = record_type_name(self.record_type)
                raise ValidationError("fields", name, f"not a field of a {kind}")
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise ValidationError("batch_size", batch_size, "must be a whole number from 1")
        if where is not None:
            bind(where, self.record_type)
        return self._store._project(self.record_type, names, batch_size, where)

    def _batches(self, batch_size: int, where: Expr | None) -> Iterator[list[R]]:
        after: str | None = None
        while True:
            batch = self._store._scan(self.record_type, after, batch_size, where)
            if not batch:
                return
            yield batch
            if len(batch) < batch_size:
                return
            after = batch[-1].id

    def __iter__(self) -> Iterator[R]:
        for batch in self.iter_batches():
            yield from batch

    def __len__(self) -> int:
        return self.count()

    # -- writes --------------------------------------------------------------------------

    def add(self, record: R, *, actor: str | None = None) -> R:
        """Add a new record; it is stored as version 1.

        Raises:
            DuplicateIdError: A record with its id exists.
            IntegrityError: History for a customer the store does not hold.
        """
        record = self._check(record)
        if record.version != 1:
            record = attrs.evolve(record, version=1)
        with self._store.transaction():
            self._before_insert(record)
            self._store._insert(self.record_type, [record])
            self._store._append_audit([self._entry(AuditAction.ADD, record, actor=actor)])
        return record

    def add_many(
        self,
        records: Iterable[R],
        *,
        batch_size: int = 1000,
        actor: str | None = None,
        progress: Progress | None = None,
    ) -> int:
        """Add many new records fast, in batches; each batch is all-or-nothing.

        Inside an enclosing ``store.transaction()`` the whole call is all-or-nothing.

        Args:
            records: The records, any iterable (read lazily, one batch at a time).
            batch_size: Records per batch, each in its own unit of work.
            actor: Who is adding them.
            progress: Called after each batch with the number of records added so far.

        Returns:
            How many records were added.

        Raises:
            DuplicateIdError: A record's id exists (its batch is not stored).
            IntegrityError: History for an unknown customer (its batch is not stored).
        """
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise ValidationError("batch_size", batch_size, "must be a whole number from 1")
        done = 0
        batch: list[R] = []
        for item in records:
            record = self._check(item)
            batch.append(record if record.version == 1 else attrs.evolve(record, version=1))
            if len(batch) >= batch_size:
                done += self._add_batch(batch, actor)
                batch = []
                if progress is not None:
                    progress(done)
        if batch:
            done += self._add_batch(batch, actor)
            if progress is not None:
                progress(done)
        return done

    def _add_batch(self, batch: list[R], actor: str | None) -> int:
        with self._store.transaction():
            self._before_insert_many(batch)
            self._store._insert(self.record_type, batch)
            # One unit of work, one moment and one actor: the entries share them.
            at, who, name = now(), self._store.current_actor(actor), self.type_name
            self._store._append_audit(
                [
                    AuditEntry(at, who, AuditAction.ADD, name, record.id, record.version)
                    for record in batch
                ]
            )
        return len(batch)

    def _before_insert_many(self, batch: list[R]) -> None:
        for record in batch:
            self._before_insert(record)

    def update(self, record: R, *, actor: str | None = None) -> R:
        """Replace a stored record by a changed copy of it, checking its version.

        ``record.version`` must equal the stored version; the stored record gets the next
        version (customers also a new ``updated_at``).

        Raises:
            NotFoundError: No record has its id.
            ConflictError: Someone else changed it since it was read.
        """
        record = self._check(record)
        with self._store.transaction():
            old = self.get(record.id)
            if old.version != record.version:
                raise ConflictError(self.type_name, record.id, record.version, old.version)
            return self._replace(old, record, actor)

    def _replace(self, old: R, record: R, actor: str | None) -> R:
        changes: dict[str, Any] = {"version": old.version + 1}
        if isinstance(record, Customer):
            changes["updated_at"] = now()
        new = attrs.evolve(record, **changes)
        self._before_insert(new)
        self._store._replace(self.record_type, new, old.version)
        entry = self._entry(AuditAction.UPDATE, new, diff(to_dict(old), to_dict(new)), actor)
        self._store._append_audit([entry])
        return new

    def upsert(self, record: R, *, actor: str | None = None) -> R:
        """Add the record, or replace the stored one with the same id whatever its version.

        For imports and syncs, where the incoming data wins. Use :meth:`update` when a
        concurrent change must not be overwritten.
        """
        record = self._check(record)
        with self._store.transaction():
            found = self._store._fetch(self.record_type, [record.id]).get(record.id)
            if found is None:
                return self.add(record, actor=actor)
            return self._replace(found, attrs.evolve(record, version=found.version), actor)

    def delete(
        self, record_id: str, *, expected_version: int | None = None, actor: str | None = None
    ) -> None:
        """Delete a record; the audit trail keeps its last values.

        Args:
            record_id: The record's id.
            expected_version: When given, delete only if the stored version is this one.
            actor: Who is deleting it.

        Raises:
            NotFoundError: No record has this id.
            ConflictError: The stored version is not ``expected_version``.
        """
        with self._store.transaction():
            old = self.get(record_id)
            if expected_version is not None and old.version != expected_version:
                raise ConflictError(self.type_name, record_id, expected_version, old.version)
            self._delete(old, actor)

    def _delete(self, old: R, actor: str | None) -> None:
        self._store._remove(self.record_type, [old.id])
        self._store._append_audit(
            [self._entry(AuditAction.DELETE, old, diff(to_dict(old), None), actor)]
        )


class CustomerRepository(Repository[Customer]):
    """The customers of a store, with lookups by contact point."""

    def __init__(self, store: Store) -> None:
        super().__init__(store, Customer)

    def _by_key(self, key: str) -> list[Customer]:
        return self._store._find_by_key(key)

    def find_by_phone(self, phone: str, region: str | None = None) -> list[Customer]:
        """Return the customers with this phone number, typed in any format.

        ``138 1234 5678``, ``+86-13812345678`` and ``８６１３８１２３４５６７８`` all find
        the same customers.

        Args:
            phone: The number as a person typed it.
            region: Region for a number without a country code; the configured default
                when ``None``.
        """
        e164 = normalize_phone(phone, region)
        return self._by_key(f"phone:{e164}") if e164 else []

    def find_by_email(self, email: str) -> list[Customer]:
        """Return the customers with this email address, ignoring case."""
        return self._by_key(f"email:{normalize_email(email)}")

    def find_by_handle(self, network: str, handle: str) -> list[Customer]:
        """Return the customers with this messaging handle (``"wechat"``, ``"zhang_3"``)."""
        return self._by_key(f"handle:{Handle(network, handle).key}")

    def find_by_external_id(self, system: str, external_id: str) -> list[Customer]:
        """Return the customers known as ``external_id`` in ``system``."""
        return self._by_key(f"ext:{system}:{external_id}")

    def delete(
        self,
        record_id: str,
        *,
        expected_version: int | None = None,
        actor: str | None = None,
        cascade: bool = False,
    ) -> None:
        """Delete a customer. A store never holds history for a customer it does not hold.

        By default a customer who still has interactions, transactions or feedback is not
        deleted (:class:`~custrec.errors.IntegrityError`). With ``cascade=True`` the history
        is deleted too, in the same unit of work, each record with its own audit entry.

        Raises:
            NotFoundError: No customer has this id.
            ConflictError: The stored version is not ``expected_version``.
            IntegrityError: The customer has history and ``cascade`` is false.
        """
        with self._store.transaction():
            old = self.get(record_id)
            if expected_version is not None and old.version != expected_version:
                raise ConflictError(self.type_name, record_id, expected_version, old.version)
            history = self._store.history(record_id)
            if history and not cascade:
                raise IntegrityError(
                    "customer",
                    record_id,
                    f"has {len(history)} history record(s); delete them first or pass cascade=True",
                )
            for item in history:
                self._store.repository(type(item))._delete(item, actor)
            self._delete(old, actor)


class HistoryRepository(Repository[H]):
    """Interactions, transactions or feedback: records that belong to a customer."""

    def _before_insert(self, record: H) -> None:
        if not self._store.customers.exists(record.customer_id):
            raise IntegrityError(self.type_name, record.id, "its customer_id names no customer")

    def _before_insert_many(self, batch: list[H]) -> None:
        present = self._store._existing(Customer, list({r.customer_id for r in batch}))
        for record in batch:
            if record.customer_id not in present:
                raise IntegrityError(self.type_name, record.id, "its customer_id names no customer")

    def for_customer(self, customer_id: str) -> list[H]:
        """Return a customer's records of this type, oldest first."""
        query = Query(F("customer_id") == customer_id).order_by("at")
        page: Any = self._store._select(self.record_type, query)
        return list(page.items)


_COLLECTION_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_.]{0,63}")


class Collection:
    """Small JSON documents kept in a store under text keys, beside the records.

    Use :meth:`Store.collection` to get one. Keys are any non-empty text; documents are
    JSON-ready dicts. Writes join the store's unit of work.
    """

    def __init__(self, store: Store, name: str) -> None:
        if not isinstance(name, str) or not _COLLECTION_NAME.fullmatch(name):
            raise ValidationError("collection", name, "a name is letters, digits, _ and .")
        self._store = store
        self.name = name

    @staticmethod
    def _check_key(key: str) -> str:
        if not isinstance(key, str) or not key:
            raise ValidationError("key", key, "a key is non-empty text")
        return key

    def get(self, key: str) -> dict[str, Any] | None:
        """Return the document under ``key``, or ``None``."""
        return self._store._doc_get(self.name, self._check_key(key))

    def put(self, key: str, document: Mapping[str, Any]) -> None:
        """Store ``document`` under ``key``, replacing any document there.

        Raises:
            ValidationError: The document is not JSON-ready (it must survive ``json.dumps``).
        """
        body = dict(document)
        try:
            json.dumps(body, allow_nan=False)
        except (TypeError, ValueError) as exc:
            raise ValidationError("document", body, f"not JSON-ready: {exc}") from None
        with self._store.transaction():
            self._store._doc_put(self.name, self._check_key(key), body)

    def delete(self, key: str) -> bool:
        """Delete the document under ``key``; return whether there was one."""
        with self._store.transaction():
            return self._store._doc_delete(self.name, self._check_key(key))

    def items(
        self, prefix: str = "", batch_size: int = 1000
    ) -> Iterator[tuple[str, dict[str, Any]]]:
        """Yield ``(key, document)`` pairs whose keys start with ``prefix``, in key order."""
        after: str | None = None
        while True:
            batch = self._store._doc_scan(self.name, prefix, after, batch_size)
            yield from batch
            if len(batch) < batch_size:
                return
            after = batch[-1][0]


class Store(abc.ABC):
    """A place where customer records live. Open one with :func:`custrec.open_store`.

    Attributes:
        customers: The customers.
        interactions: Interactions with customers.
        transactions: Transactions.
        feedback: Feedback.
        actor: Who acts when a write names nobody (see :meth:`acting_as`).
    """

    scheme: ClassVar[str] = ""

    def __init__(self, *, actor: str | None = None) -> None:
        self.actor = actor
        self.customers = CustomerRepository(self)
        self.interactions: HistoryRepository[Interaction] = HistoryRepository(self, Interaction)
        self.transactions: HistoryRepository[Transaction] = HistoryRepository(self, Transaction)
        self.feedback: HistoryRepository[Feedback] = HistoryRepository(self, Feedback)
        self._repositories: Mapping[type[Any], Repository[Any]] = {
            Customer: self.customers,
            Interaction: self.interactions,
            Transaction: self.transactions,
            Feedback: self.feedback,
        }
        self._lock = threading.RLock()
        self._depth = 0

    def collection(self, name: str) -> Collection:
        """Return a collection of small JSON documents kept with the records.

        Collections hold what extensions derive from records (classification labels,
        merge records, tombstones). Writes join the store's unit of work.

        Args:
            name: The collection's name: letters, digits, ``_`` and ``.``.
        """
        return Collection(self, name)

    def repository(self, record_type: type[R]) -> Repository[R]:
        """Return the repository holding ``record_type``."""
        repo: Repository[R] = self._repositories[record_type]
        return repo

    # -- unit of work --------------------------------------------------------------------

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        """Group writes into one unit of work: all are kept, or (on an exception) none.

        Blocks nest: an inner block that fails is undone alone (a savepoint) and its
        exception propagates; the outer block decides about the rest.
        """
        with self._lock:
            depth = self._depth
            if depth == 0:
                self._begin()
            else:
                self._savepoint(f"sp{depth}")
            self._depth += 1
            try:
                yield
            except BaseException:
                self._depth -= 1
                if depth == 0:
                    self._rollback()
                else:
                    self._rollback_to(f"sp{depth}")
                raise
            self._depth -= 1
            if depth == 0:
                self._commit()
            else:
                self._release(f"sp{depth}")

    @property
    def in_transaction(self) -> bool:
        """Whether a ``transaction()`` block is open."""
        return self._depth > 0

    # -- actor ---------------------------------------------------------------------------

    @contextlib.contextmanager
    def acting_as(self, actor: str) -> Iterator[None]:
        """Record ``actor`` as the author of this store's writes inside the block.

        The setting belongs to this store and this context (thread or task) only.
        """
        token = _actors.set({**_actors.get(), self: actor})
        try:
            yield
        finally:
            _actors.reset(token)

    def current_actor(self, given: str | None = None) -> str | None:
        """The actor a write is recorded under: given, else :meth:`acting_as`, else the store's."""
        return given or _actors.get().get(self) or self.actor

    # -- across record types -------------------------------------------------------------

    def history(self, customer_id: str) -> list[HistoryRecord]:
        """Return all of a customer's interactions, transactions and feedback, oldest first.

        Records at the same moment come interactions, then transactions, then feedback,
        then by id.
        """
        streams: list[list[tuple[Any, int, str, HistoryRecord]]] = []
        for rank, kind in enumerate(HISTORY_TYPES):
            repository: HistoryRepository[Any] = self._repositories[kind]  # type: ignore[assignment]  # the history types map to HistoryRepository
            records = repository.for_customer(customer_id)
            streams.append([(record.at, rank, record.id, record) for record in records])
        return [item[3] for item in heapq.merge(*streams)]

    def audit(self, record_id: str, record_type: str | None = None) -> list[AuditEntry]:
        """Return the audit trail of a record, oldest first.

        Args:
            record_id: The record's id.
            record_type: ``"customer"``…; needed only when ids repeat across types.
        """
        return self._read_audit(record_type, record_id)

    # -- lifecycle -----------------------------------------------------------------------

    def close(self) -> None:  # noqa: B027 - optional hook; a memory store holds nothing open
        """Release the store's resources. The store is unusable afterwards."""

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- primitives backends implement -----------------------------------------------------

    @abc.abstractmethod
    def _begin(self) -> None:
        """Start a unit of work."""

    @abc.abstractmethod
    def _commit(self) -> None:
        """Make the unit of work's writes permanent."""

    @abc.abstractmethod
    def _rollback(self) -> None:
        """Undo every write of the unit of work."""

    @abc.abstractmethod
    def _savepoint(self, name: str) -> None:
        """Mark a point inside the unit of work to roll back to."""

    @abc.abstractmethod
    def _release(self, name: str) -> None:
        """Forget a savepoint, keeping its writes in the unit of work."""

    @abc.abstractmethod
    def _rollback_to(self, name: str) -> None:
        """Undo the writes made since a savepoint, and forget it."""

    @abc.abstractmethod
    def _fetch(self, kind: type[R], ids: Sequence[str]) -> dict[str, R]:
        """Return the records with these ids that exist, by id."""

    def _existing(self, kind: type[R], ids: Sequence[str]) -> set[str]:
        """Return which of these ids exist. Override with something cheaper than a fetch."""
        return set(self._fetch(kind, ids))

    @abc.abstractmethod
    def _insert(self, kind: type[R], records: Sequence[R]) -> None:
        """Insert new records (and, for customers, their contact keys).

        Raise DuplicateIdError, naming one id, if any id exists or repeats.
        """

    @abc.abstractmethod
    def _replace(self, kind: type[R], record: R, expected_version: int) -> None:
        """Overwrite the stored record whose version is ``expected_version``.

        Raise ConflictError if the stored version differs (a concurrent writer won).
        """

    @abc.abstractmethod
    def _remove(self, kind: type[R], ids: Sequence[str]) -> None:
        """Delete the records with these ids (and customers' contact keys)."""

    @abc.abstractmethod
    def _select(self, kind: type[R], query: Query) -> Any:
        """Run a checked query; return a Page with the next cursor set when more remain."""

    @abc.abstractmethod
    def _count(self, kind: type[R], where: Expr | None) -> int:
        """Count the records matching a checked condition."""

    @abc.abstractmethod
    def _scan(self, kind: type[R], after: str | None, limit: int, where: Expr | None) -> list[R]:
        """Return up to ``limit`` matching records with ids above ``after``, in id order."""

    def _project(
        self, kind: type[R], fields: Sequence[str], limit: int, where: Expr | None
    ) -> Iterator[list[Row]]:
        """Yield ``(id, *field values)`` of matching records in id order, ``limit`` at a time.

        This default reads whole records; override it where fields can be read alone.
        """
        after: str | None = None
        while True:
            batch = self._scan(kind, after, limit, where)
            if not batch:
                return
            yield [(record.id, *(getattr(record, name) for name in fields)) for record in batch]
            if len(batch) < limit:
                return
            after = batch[-1].id

    @abc.abstractmethod
    def _lookup(self, key: str) -> list[str]:
        """Return the ids of customers having a contact key (see :func:`contact_keys`)."""

    def _find_by_key(self, key: str) -> list[Customer]:
        """Return the customers having a contact key, in id order.

        Built on :meth:`_lookup` and :meth:`_fetch`; a backend may override it to do both
        in one query.
        """
        ids = self._lookup(key)
        found = self._fetch(Customer, list(dict.fromkeys(ids))) if ids else {}
        return [found[ident] for ident in sorted(found)]

    @abc.abstractmethod
    def _append_audit(self, entries: Sequence[AuditEntry]) -> None:
        """Store audit entries."""

    @abc.abstractmethod
    def _read_audit(self, record_type: str | None, record_id: str) -> list[AuditEntry]:
        """Return a record's audit entries, oldest first."""

    def _doc_get(self, collection: str, key: str) -> dict[str, Any] | None:
        """Return the document stored under ``key`` in ``collection``, or ``None``."""
        raise NotImplementedError(f"{type(self).__name__} keeps no collections")

    def _doc_put(self, collection: str, key: str, document: dict[str, Any]) -> None:
        """Store a JSON-ready document under ``key``, replacing any there."""
        raise NotImplementedError(f"{type(self).__name__} keeps no collections")

    def _doc_delete(self, collection: str, key: str) -> bool:
        """Delete the document under ``key``; return whether there was one."""
        raise NotImplementedError(f"{type(self).__name__} keeps no collections")

    def _doc_scan(
        self, collection: str, prefix: str, after: str | None, limit: int
    ) -> list[tuple[str, dict[str, Any]]]:
        """Return up to ``limit`` documents whose keys start with ``prefix``, above ``after``.

        In key order (code-point order of the key text).
        """
        raise NotImplementedError(f"{type(self).__name__} keeps no collections")

    # -- privacy primitives (used by custrec.privacy) --------------------------------------

    def _scrub_audit(self, record_type: str, record_ids: Sequence[str]) -> int:
        """Blank the old and new values in the audit entries of these records.

        Field names, times, actors, actions and versions stay; every value becomes ``None``.
        Joins the open unit of work. Return how many entries held a value that was blanked.
        """
        raise NotImplementedError(f"{type(self).__name__} cannot scrub its audit trail")

    def _purge(self) -> None:
        """Make data deleted by committed units of work unrecoverable from the store's files.

        Called outside any unit of work. Raise StoreError when it could not be completed
        (another connection holding old pages, say); a store keeping nothing outside its
        live data does nothing.
        """
        raise NotImplementedError(f"{type(self).__name__} cannot purge deleted data")
