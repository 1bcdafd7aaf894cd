"""A store whose chosen customer fields are encrypted at rest (AES-256-GCM, HMAC indexes)."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from typing import Any

import attrs

from custrec.errors import ValidationError
from custrec.expr import Expr
from custrec.model import Customer, Handle, HistoryRecord, normalize_email, normalize_phone
from custrec.privacy._access import _paths_of
from custrec.privacy._keys import KeyRing
from custrec.privacy._seal import (
    DEFAULT_SEALED,
    INDEX_NETWORK,
    SEALED_FIELD,
    Sealer,
)
from custrec.store import AuditEntry, Page, Progress, Query, Repository, Store
from custrec.store._base import Row

__all__ = ["EncryptedCustomers", "EncryptedStore", "reencrypt"]


class EncryptedCustomers:
    """The customers of an :class:`EncryptedStore`: sealed on the way in, opened on the way out.

    It offers what :class:`~custrec.store.CustomerRepository` offers. Lookups by phone,
    email, handle and external id work on sealed fields through blind indexes. Conditions,
    orderings and cursors that read a sealed field are refused: the wrapped store holds only
    ciphertext there.
    """

    record_type = Customer
    type_name = "customer"

    def __init__(self, store: EncryptedStore, sealer: Sealer) -> None:
        self._store = store
        self._inner = store.inner.customers
        self._sealer = sealer
        # Fields a condition may not read: the sealed ones, and the handles when they carry
        # blind indexes beside the real handles (a condition there would see the indexes).
        self._unreadable = set(sealer.fields)
        if sealer.indexed:
            self._unreadable.add("handles")

    # -- checks ---------------------------------------------------------------------------

    def _check_paths(self, paths: Iterable[str]) -> None:
        for path in sorted(paths):
            head = path.split(".", 1)[0]
            if head in self._unreadable or path == f"custom.{SEALED_FIELD}":
                what = "holds blind indexes" if head not in self._sealer.fields else "is sealed"
                raise ValidationError(
                    "where",
                    path,
                    f"{path!r} {what} (encrypted at rest), so a query cannot read it; "
                    "look customers up by phone, email, handle or external id instead",
                )

    def _check_query(self, query: Query) -> None:
        self._check_paths(_paths_of(query.where))
        self._check_paths(order.path for order in query.order)

    def _shown(self, given: Customer, stored: Customer) -> Customer:
        """The caller's record with the bookkeeping the store gave it (no decrypting)."""
        return attrs.evolve(
            given,
            version=stored.version,
            created_at=stored.created_at,
            updated_at=stored.updated_at,
        )

    # -- reads ----------------------------------------------------------------------------

    def get(self, record_id: str) -> Customer:
        """Return the customer with ``record_id``, its sealed fields opened.

        Raises:
            NotFoundError: There is none.
            DecryptionError: Its key is not in the ring, or its stored data was changed.
        """
        return self._sealer.open(self._inner.get(record_id))

    def get_many(self, record_ids: Iterable[str]) -> dict[str, Customer]:
        """Return the customers with these ids that exist, by id."""
        found = self._inner.get_many(record_ids)
        return {ident: self._sealer.open(record) for ident, record in found.items()}

    def exists(self, record_id: str) -> bool:
        """Whether a customer with ``record_id`` exists."""
        return self._inner.exists(record_id)

    def count(self, where: Expr | None = None) -> int:
        """Count the customers matching ``where``.

        Raises:
            ValidationError: The condition reads a sealed field.
        """
        self._check_paths(_paths_of(where))
        return self._inner.count(where)

    def find(self, query: Query | Expr | None = None) -> Page[Customer]:
        """Return a page of matching customers (see :meth:`Repository.find`).

        Raises:
            ValidationError: The condition or the order reads a sealed field.
        """
        if not isinstance(query, Query):
            query = Query(where=query)
        self._check_query(query)
        page = self._inner.find(query)
        return Page(tuple(self._sealer.open(record) for record in page.items), page.next_cursor)

    def iter_batches(
        self, batch_size: int = 1000, where: Expr | None = None
    ) -> Iterator[list[Customer]]:
        """Yield every matching customer in id order, ``batch_size`` at a time.

        Raises:
            ValidationError: The condition reads a sealed field.
        """
        self._check_paths(_paths_of(where))
        return self._opened_batches(batch_size, where)

    def _opened_batches(self, batch_size: int, where: Expr | None) -> Iterator[list[Customer]]:
        for batch in self._inner.iter_batches(batch_size, where):
            yield [self._sealer.open(record) for record in batch]

    def __iter__(self) -> Iterator[Customer]:
        for batch in self.iter_batches():
            yield from batch

    def __len__(self) -> int:
        return self.count()

    def project(
        self, fields: Sequence[str], batch_size: int = 1000, where: Expr | None = None
    ) -> Iterator[list[Row]]:
        """Yield chosen fields of matching customers (see :meth:`Repository.project`).

        Sealed fields can be projected: their records are read whole and opened.

        Raises:
            ValidationError: An unknown field, a bad batch size, or a condition reading a
                sealed field.
        """
        self._check_paths(_paths_of(where))
        names = tuple(fields)
        # The wrapped store validates the names, the batch size and the condition.
        rows = self._inner.project(names, batch_size, where)
        if not (set(names) & (self._unreadable | {"custom"})):
            return rows
        return (
            [(record.id, *(getattr(record, name) for name in names)) for record in batch]
            for batch in self._opened_batches(batch_size, where)
        )

    # -- lookups --------------------------------------------------------------------------

    def _by_key(self, lookup_key: str, plain: Callable[[], list[Customer]]) -> list[Customer]:
        found: dict[str, Customer] = {}
        if lookup_key.split(":", 1)[0] in self._sealer.indexed:
            for tag in self._sealer.tags(lookup_key):
                for record in self._inner.find_by_handle(INDEX_NETWORK, tag):
                    found[record.id] = record
        # Records written before the field was sealed are found by their plain values
        # until reencrypt() seals them.
        for record in plain():
            found.setdefault(record.id, record)
        return [self._sealer.open(found[ident]) for ident in sorted(found)]

    def find_by_phone(self, phone: str, region: str | None = None) -> list[Customer]:
        """Return the customers with this phone number, typed in any format."""
        e164 = normalize_phone(phone, region)
        if not e164:
            return []
        return self._by_key(f"phone:{e164}", lambda: self._inner.find_by_phone(phone, region))

    def find_by_email(self, email: str) -> list[Customer]:
        """Return the customers with this email address, ignoring case."""
        return self._by_key(
            f"email:{normalize_email(email)}", lambda: self._inner.find_by_email(email)
        )

    def find_by_handle(self, network: str, handle: str) -> list[Customer]:
        """Return the customers with this messaging handle.

        Raises:
            ValidationError: ``network`` is the one reserved for blind indexes.
        """
        key = Handle(network, handle).key
        if key.split(":", 1)[0] == INDEX_NETWORK:
            raise ValidationError("network", network, "this network holds blind indexes")
        return self._by_key(f"handle:{key}", lambda: self._inner.find_by_handle(network, handle))

    def find_by_external_id(self, system: str, external_id: str) -> list[Customer]:
        """Return the customers known as ``external_id`` in ``system``."""
        return self._by_key(
            f"ext:{system}:{external_id}",
            lambda: self._inner.find_by_external_id(system, external_id),
        )

    # -- writes ---------------------------------------------------------------------------

    def add(self, record: Customer, *, actor: str | None = None) -> Customer:
        """Add a new customer, its chosen fields sealed (see :meth:`Repository.add`).

        Raises:
            ValidationError: Not a customer, or it uses the reserved custom field or network.
            DuplicateIdError: A customer with its id exists.
        """
        stored = self._inner.add(self._sealer.seal(record), actor=actor)
        return self._shown(record, stored)

    def add_many(
        self,
        records: Iterable[Customer],
        *,
        batch_size: int = 1000,
        actor: str | None = None,
        progress: Progress | None = None,
    ) -> int:
        """Add many new customers, sealed one by one (see :meth:`Repository.add_many`)."""
        sealed = (self._sealer.seal(record) for record in records)
        return self._inner.add_many(sealed, batch_size=batch_size, actor=actor, progress=progress)

    def update(self, record: Customer, *, actor: str | None = None) -> Customer:
        """Replace a stored customer by a changed copy, sealed afresh under the primary key.

        Raises:
            NotFoundError: No customer has its id.
            ConflictError: Someone else changed it since it was read.
        """
        return self._shown(record, self._inner.update(self._sealer.seal(record), actor=actor))

    def upsert(self, record: Customer, *, actor: str | None = None) -> Customer:
        """Add the customer or replace the stored one whatever its version, sealed."""
        return self._shown(record, self._inner.upsert(self._sealer.seal(record), actor=actor))

    def delete(self, record_id: str, **options: Any) -> None:
        """Delete a customer (see :meth:`CustomerRepository.delete`); sealed data goes with it."""
        self._inner.delete(record_id, **options)


class EncryptedStore:
    """A store whose chosen customer fields are encrypted before they reach it.

    Build one around any store: ``EncryptedStore(store, keys=ring, index_keys=index_ring)``.
    Customers go through :attr:`customers`, which seals the chosen fields with AES-256-GCM
    under the primary key of ``keys`` and keeps HMAC-SHA256 blind indexes (keyed by
    ``index_keys``) of their phones, emails, handles and external ids, so lookups still
    work. Interactions, transactions and feedback are passed through unchanged. What it
    promises and what not is written down in ``docs/privacy.md``.

    Args:
        store: The store to wrap; it only ever sees sealed customers.
        keys: The sealing keys; new writes use the primary, reads any key in the ring.
        index_keys: The blind-index keys, distinct from ``keys``; lookups try every one.
        fields: The customer fields to seal (:data:`~custrec.privacy.DEFAULT_SEALED`
            when not given; any of :data:`~custrec.privacy.SEALABLE`).

    Raises:
        ValidationError: A ring is not a :class:`KeyRing`, the rings share a key, or a field
            cannot be sealed.
    """

    def __init__(
        self,
        store: Store,
        *,
        keys: KeyRing,
        index_keys: KeyRing,
        fields: Collection[str] = DEFAULT_SEALED,
    ) -> None:
        if not isinstance(store, Store):
            raise ValidationError("store", type(store).__name__, "expected a Store")
        self.inner = store
        self.sealer = Sealer(keys, index_keys, fields)
        self.customers = EncryptedCustomers(self, self.sealer)
        self.interactions = store.interactions
        self.transactions = store.transactions
        self.feedback = store.feedback

    @property
    def fields(self) -> tuple[str, ...]:
        """The sealed customer fields, sorted."""
        return self.sealer.fields

    @property
    def actor(self) -> str | None:
        """Who acts when a write names nobody (the wrapped store's actor)."""
        return self.inner.actor

    @actor.setter
    def actor(self, actor: str | None) -> None:
        self.inner.actor = actor

    def repository(self, record_type: type[Any]) -> Any:
        """Return the repository for a record type; customers come sealed and opened."""
        if record_type is Customer:
            return self.customers
        repository: Repository[Any] = self.inner.repository(record_type)
        return repository

    def transaction(self) -> contextlib.AbstractContextManager[None]:
        """Group writes into one unit of work (see :meth:`Store.transaction`)."""
        return self.inner.transaction()

    @property
    def in_transaction(self) -> bool:
        """Whether a ``transaction()`` block is open."""
        return self.inner.in_transaction

    def acting_as(self, actor: str) -> contextlib.AbstractContextManager[None]:
        """Record ``actor`` as the author of writes inside the block."""
        return self.inner.acting_as(actor)

    def current_actor(self, given: str | None = None) -> str | None:
        """The actor a write is recorded under (see :meth:`Store.current_actor`)."""
        return self.inner.current_actor(given)

    def history(self, customer_id: str) -> list[HistoryRecord]:
        """Return a customer's history, oldest first (history is not sealed)."""
        return self.inner.history(customer_id)

    def audit(self, record_id: str, record_type: str | None = None) -> list[AuditEntry]:
        """Return a record's audit trail as the wrapped store keeps it.

        Changes to sealed fields show as changes of the envelope and the blind indexes:
        ciphertext and keyed hashes, never the values.
        """
        return self.inner.audit(record_id, record_type)

    def collection(self, name: str) -> Any:
        """Return a collection of the wrapped store (see :meth:`Store.collection`)."""
        return self.inner.collection(name)

    def close(self) -> None:
        """Close the wrapped store."""
        self.inner.close()

    def __enter__(self) -> EncryptedStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def reencrypt(
    store: EncryptedStore,
    *,
    batch_size: int = 500,
    progress: Progress | None = None,
    actor: str | None = None,
) -> int:
    """Seal every customer again under the primary keys and the current field choice.

    Run it after :meth:`KeyRing.rotated` (then drop the old key with
    :meth:`KeyRing.without`), after changing which fields are sealed, or to seal customers
    written before the store was wrapped. Customers already sealed as they would be now are
    left alone, so a second run changes nothing. Each batch is one unit of work; every
    customer re-sealed gets an audit entry, a new version and a new ``updated_at``.

    Args:
        store: The encrypted store, holding the new and the old keys.
        batch_size: Customers per unit of work.
        progress: Called after each batch with the number of customers looked at so far.
        actor: Who is re-sealing, for the audit trail.

    Returns:
        How many customers were re-sealed.

    Raises:
        DecryptionError: A customer's key is not in the ring, or its data was changed;
            batches before it stay re-sealed, so the call can be repeated after a fix.
        ConflictError: A customer changed while its batch was re-sealed.
    """
    if not isinstance(store, EncryptedStore):
        raise ValidationError("store", type(store).__name__, "expected an EncryptedStore")
    inner, sealer = store.inner, store.sealer
    done = resealed = 0
    for batch in inner.customers.iter_batches(batch_size):
        with inner.transaction():
            for stored in batch:
                if sealer.is_current(stored):
                    continue
                opened = attrs.evolve(sealer.open(stored), version=stored.version)
                inner.customers.update(sealer.seal(opened), actor=actor)
                resealed += 1
        done += len(batch)
        if progress is not None:
            progress(done)
    return resealed
