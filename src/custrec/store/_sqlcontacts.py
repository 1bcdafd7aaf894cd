"""Contact keys in the SQLite store: the rows a customer's contact points make, and the merge.

Every customer's contact points (phones by E.164, emails, handles, external ids; see
:func:`custrec.store._base.contact_keys`) are stored as 64-bit key hashes
(:func:`custrec.store._keyhash.key_hash`) beside the customer's id. New keys go to the small
``contacts_recent`` table and move to the big ``contacts`` index in bulk
(:class:`ContactMerger`); lookups read both tables (:data:`FIND_BY_KEY`) and check the key
itself on each customer found (:func:`has_key`), since two keys may share a hash.
"""

from __future__ import annotations

import contextlib
import math
import sqlite3
from collections.abc import Iterable

from custrec.errors import StoreError
from custrec.model import Customer
from custrec.store._base import contact_key_texts, contact_keys
from custrec.store._keyhash import key_hash

__all__ = [
    "COUNT_RECENT",
    "DELETE_CONTACTS",
    "FIND_BY_KEY",
    "INSERT_CONTACT",
    "MERGE_RECENT",
    "ContactMerger",
    "batch_contact_rows",
    "contact_rows",
    "has_key",
    "rows_for_key",
]

INSERT_CONTACT = "INSERT OR IGNORE INTO contacts_recent (key_hash, customer_id) VALUES (?, ?)"
"""Store one ``(key hash, customer id)`` row; new keys go to the side table."""
DELETE_CONTACTS = (
    "DELETE FROM contacts WHERE customer_id = ?",
    "DELETE FROM contacts_recent WHERE customer_id = ?",
)
"""Remove a customer's keys from both tables (before writing its new ones)."""
COUNT_RECENT = "SELECT count(*) FROM contacts_recent"
"""How many keys wait in the side table."""
MERGE_RECENT = (
    "INSERT OR IGNORE INTO contacts (key_hash, customer_id)"
    " SELECT key_hash, customer_id FROM contacts_recent ORDER BY key_hash, customer_id",
    "DELETE FROM contacts_recent",
)
"""Move the side table into ``contacts`` in key order, then empty it."""
# Both contact tables, each through its own index (the contacts_all view with an ORDER BY
# costs a sort step per lookup); the few rows found are put in id order in Python.
FIND_BY_KEY = (
    "SELECT c.id, c.doc FROM contacts AS k JOIN customers AS c ON c.id = k.customer_id"
    " WHERE k.key_hash = ?1"
    " UNION ALL SELECT c.id, c.doc FROM contacts_recent AS k"
    " JOIN customers AS c ON c.id = k.customer_id WHERE k.key_hash = ?1"
)
"""The ``(id, doc)`` of every customer holding a key hash, from both tables (unordered)."""


def rows_for_key(conn: sqlite3.Connection, key: str) -> list[tuple[str, str]]:
    """The ``(id, doc)`` rows of the customers whose stored keys share ``key``'s hash, by id.

    Ids sort by code point, as the other backends and SQLite's BINARY collation order them.
    A customer whose keys merely share the hash is among them: check with :func:`has_key`.
    """
    rows: list[tuple[str, str]] = conn.execute(FIND_BY_KEY, (key_hash(key),)).fetchall()
    if len(rows) > 1:
        rows.sort()
    return rows


def has_key(customer: Customer, key: str) -> bool:
    """Whether ``key`` is one of the customer's contact keys (phones checked directly)."""
    if key.startswith("phone:"):
        e164 = key[6:]
        return any(phone.e164 == e164 for phone in customer.phones)
    return key in contact_keys(customer)


def contact_rows(customer: Customer) -> list[tuple[int, str]]:
    """The ``(key hash, customer id)`` rows of one customer's contact keys, one per key."""
    return [(key_hash(key), customer.id) for key in contact_keys(customer)]


def batch_contact_rows(customers: Iterable[Customer]) -> list[tuple[int, str]]:
    """The ``(key hash, customer id)`` rows of many customers' contact keys, sorted, once each.

    The rows :func:`contact_rows` gives for each customer (tests compare them), with one
    set for the whole batch instead of a set, a sort and a list per customer. Sorted, since
    inserting in key order touches each index page once per batch.
    """
    rows: set[tuple[int, str]] = set()
    for customer in customers:
        ident = customer.id
        rows.update([(key_hash(key), ident) for key in contact_key_texts(customer)])
    return sorted(rows)


class ContactMerger:
    """When new contact keys move from ``contacts_recent`` into ``contacts`` (migration 4).

    A merge rewrites about every page of the big index, and each commit before it rewrites
    the side table's pages, which grow with its rows. Merging when the side table holds
    ``_SCALE * sqrt(customers)`` keys balances the two (the cost per key is then
    ``O(1 / sqrt(n))`` pages instead of ``O(1)``). The count of customers is read from the
    largest rowid, which costs one index descent; the side table's count is read only when
    this process's own additions say a merge may be due, so other processes' keys are
    merged a little late at worst, never lost: readers see both tables.

    A merge runs in a unit of work of its own, right after the commit that made it due,
    with foreign keys off: every row it moves was checked against ``customers`` when it
    was written (and deleting a customer cascades to both tables), so nothing needs
    checking again, and without a foreign key to honour SQLite empties the side table
    page by page instead of deleting it row by row, which makes a merge about 3x cheaper.
    (``PRAGMA foreign_keys`` cannot change inside a transaction, hence the unit of its own.)
    """

    _MIN = 4_096
    _SCALE = 128

    def __init__(self) -> None:
        self._pending = -1  # keys this process believes are in the side table; -1: unknown
        self._limit = 0

    def added(self, conn: sqlite3.Connection, count: int) -> None:
        """Note ``count`` new side-table keys in the open unit of work."""
        if self._pending < 0:
            self._pending = conn.execute(COUNT_RECENT).fetchone()[0]
            self._limit = self._threshold(conn)
        else:
            self._pending += count
        if self._pending >= self._limit:
            # The threshold grows with the customers: read it again before calling it due,
            # since a merge that finds nothing to do still costs a unit of work.
            self._limit = self._threshold(conn)

    @property
    def due(self) -> bool:
        """Whether this process's own additions say a merge may be due."""
        return self._pending >= 0 and self._pending >= self._limit

    def merge(self, conn: sqlite3.Connection) -> None:
        """Move the side table into ``contacts`` if it is still due, in a unit of its own.

        Call with no transaction open. Either every key moves or (on an error, which
        propagates) none does; foreign keys are on again afterwards in any case.
        """
        conn.execute("PRAGMA foreign_keys=OFF")
        try:
            conn.execute("BEGIN IMMEDIATE")
            try:
                # Read again: another process may have merged, or added, meanwhile.
                self._pending = conn.execute(COUNT_RECENT).fetchone()[0]
                self._limit = self._threshold(conn)
                if self._pending >= self._limit:
                    for statement in MERGE_RECENT:
                        conn.execute(statement)
                    self._pending = 0
                    self._limit = self._threshold(conn)
                conn.execute("COMMIT")
            except BaseException:
                self.forget()
                raise
        finally:
            if conn.in_transaction:
                with contextlib.suppress(sqlite3.Error):
                    conn.execute("ROLLBACK")
            conn.execute("PRAGMA foreign_keys=ON")
            # The pragma does nothing inside a transaction: never go on without the checks.
            if conn.execute("PRAGMA foreign_keys").fetchone()[0] != 1:
                raise StoreError("cannot switch foreign keys back on after a contact merge")

    def forget(self) -> None:
        """Read the side table's size again next time (after a rollback or another writer)."""
        self._pending = -1

    @classmethod
    def _threshold(cls, conn: sqlite3.Connection) -> int:
        customers = conn.execute("SELECT max(rowid) FROM customers").fetchone()[0] or 0
        return max(cls._MIN, cls._SCALE * math.isqrt(customers))
