"""The SQLite store: custrec's embedded default, one file that several processes can share.

Each record type has a table of query columns plus the record as a JSON document (see
:mod:`custrec.store._sqlcompile`); customers' contact points live in ``contacts`` for
lookups (see :mod:`custrec.store._sqlcontacts`), and every change in ``audit``. The file
runs in WAL mode: readers never wait for the writer, and a unit of work takes the write lock
when it begins (``BEGIN IMMEDIATE``), so two processes never deadlock upgrading a read lock.
A writer that finds the file locked waits up to ``timeout`` seconds, then gets a
:class:`~custrec.errors.StoreError`.

The schema is versioned: :data:`MIGRATIONS` (:mod:`custrec.store._sqlschema`) lists every
step, and opening a file applies the missing ones in one transaction. A file written by a
newer custrec is refused. Aggregates for classification are computed in SQL by
:mod:`custrec.store._sqlaggregate`, quality checks' suspects by :mod:`custrec.store._sqlquality`.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import pathlib
import re
import sqlite3
import typing
from collections.abc import (
    Callable,
    Collection,
    Iterator,
    Sequence,
)
from datetime import datetime
from typing import Any, TypeVar
from urllib.parse import parse_qsl, unquote

import attrs

from custrec.errors import (
    ConflictError,
    DuplicateIdError,
    IntegrityError,
    NotFoundError,
    StoreError,
    ValidationError,
)
from custrec.expr import Expr
from custrec.model import Customer, Record, Transaction, now
from custrec.serialize import SCHEMA_VERSION as SERIALIZE_VERSION
from custrec.serialize import from_dict, record_type_name, structure, to_json
from custrec.store import _sqlaggregate, _sqlcontacts, _sqlquality
from custrec.store._aggregate import (
    WINDOWS,
    HistoryAggregates,
    SalesRow,
)
from custrec.store._audit import AuditAction, AuditEntry, FieldChange
from custrec.store._base import Row, Store
from custrec.store._keyhash import key_hash, key_hash_range
from custrec.store._pyquery import order_values
from custrec.store._quality import SuspectQuery
from custrec.store._query import Page, Query, encode_cursor
from custrec.store._sqlcompile import (
    SQLITE,
    TABLES,
    Table,
    compile_count,
    compile_scan,
    compile_select,
    compile_where,
    epoch_us,
    fold_case,
    from_epoch_us,
    list_sort_key,
)
from custrec.store._sqlrules import RuleQuery, match_rules_sql
from custrec.store._sqlschema import MIGRATIONS, SCHEMA_VERSION, Migration

__all__ = ["MIGRATIONS", "SCHEMA_VERSION", "Migration", "SQLiteStore", "key_hash", "key_hash_range"]

R = TypeVar("R", bound=Record)


# Every connection's settings. synchronous=NORMAL is safe with WAL (a crash loses at most
# the last commits, never consistency). Imports write contact keys in random key order, so
# each batch dirties pages all over that index: a larger cache keeps them in memory, and a
# checkpoint every 10,000 pages (not 1,000) copies each page back once for several batches,
# which halves bulk-add time; journal_size_limit shrinks the WAL again afterwards.
_PRAGMAS = (
    "PRAGMA foreign_keys=ON",
    "PRAGMA synchronous=NORMAL",
    "PRAGMA cache_size=-32768",
    "PRAGMA wal_autocheckpoint=10000",
    "PRAGMA journal_size_limit=67108864",
)
# Privacy: freed space is overwritten with zeros, so deleted or replaced personal data does
# not linger in free pages of the file (custrec.privacy.erase relies on it, with _purge).
_PRIVACY_PRAGMAS = ("PRAGMA secure_delete=ON",)
_ENCODE = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
_SAVEPOINT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_URL_OPTIONS = {"timeout": float, "mode": str}

# Primary SQLite result codes (https://sqlite.org/rescode.html).
_PERM, _BUSY, _LOCKED, _READONLY, _IOERR, _CORRUPT, _FULL, _CANTOPEN = 3, 5, 6, 8, 10, 11, 13, 14
_CONSTRAINT, _NOTADB = 19, 26


def _statements(table: Table) -> dict[str, str]:
    """The fixed statements for one table (names from the layout, values as parameters)."""
    columns = (*table.column_names, table.doc)
    settable = ", ".join(f"{name} = ?" for name in columns[1:])
    name = table.name
    return {
        "insert": f"INSERT INTO {name} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})",  # noqa: E501, S608 - layout names only
        "update": f"UPDATE {name} SET {settable} WHERE id = ? AND version = ?",  # noqa: S608 - layout names only
        "get": f"SELECT {table.doc} FROM {name} WHERE id = ?",  # noqa: S608 - layout names only
        "get_many": f"SELECT id, {table.doc} FROM {name} WHERE id IN (SELECT value FROM json_each(?))",  # noqa: E501, S608 - layout names only
        "ids": f"SELECT id FROM {name} WHERE id IN (SELECT value FROM json_each(?))",  # noqa: S608 - layout names only
        "exists": f"SELECT id FROM {name} WHERE id = ?",  # noqa: S608 - layout names only
        "version": f"SELECT version FROM {name} WHERE id = ?",  # noqa: S608 - layout names only
        "delete": f"DELETE FROM {name} WHERE id = ?",  # noqa: S608 - layout names only
    }


_SQL = {kind: _statements(table) for kind, table in TABLES.items()}
_INSERT_AUDIT = (
    "INSERT INTO audit (at_us, actor, action, record_type, record_id, version, changes)"
    " VALUES (?, ?, ?, ?, ?, ?, ?)"
)
_INSERT_AUDIT_IDS = (
    "INSERT INTO audit (at_us, actor, action, record_type, record_id, version, changes)"
    " SELECT ?, ?, ?, ?, value, ?, '[]' FROM json_each(?) ORDER BY key"
)
_READ_AUDIT = (
    "SELECT at_us, actor, action, record_type, record_id, version, changes FROM audit"
    " WHERE record_id = ? ORDER BY seq"
)


def _shared_entry_ids(entries: Sequence[AuditEntry]) -> list[str] | None:
    """The record ids of entries that differ in nothing else (no changes), else ``None``.

    A bulk add's entries share their moment (one object), actor, action, record type and
    version, and list no changes.
    """
    if len(entries) < 2:
        return None
    first = entries[0]
    at, actor, action, kind, version = (
        first.at,
        first.actor,
        first.action,
        first.record_type,
        first.version,
    )
    ids = []
    for entry in entries:
        if (
            entry.changes
            or entry.at is not at
            or entry.actor != actor
            or entry.action is not action
            or entry.record_type != kind
            or entry.version != version
            or type(entry.record_id) is not str
        ):
            return None
        ids.append(entry.record_id)
    return ids


class _Rejected(Exception):  # noqa: N818 - internal signal, never leaves the module
    """An insert broke a constraint; raised to roll its savepoint back before explaining."""

    def __init__(self, cause: sqlite3.IntegrityError) -> None:
        super().__init__(str(cause))
        self.cause = cause


def _url_to_path(url: str) -> tuple[str, dict[str, Any]]:
    """Split ``sqlite:///relative.db`` / ``sqlite:////absolute.db`` into a path and options."""
    shape = "an SQLite store URL is sqlite:///relative/path.db or sqlite:////absolute/path.db"
    if not isinstance(url, str):
        raise ValidationError("url", url, shape)
    scheme, separator, rest = url.partition("://")
    if scheme.lower() != "sqlite" or not separator:
        raise ValidationError("url", url, shape)
    if not rest.startswith("/"):
        raise ValidationError("url", url, f"an SQLite URL names no host; {shape}")
    path, _, query = rest[1:].partition("?")
    path = unquote(path)
    if not path:
        raise ValidationError("url", url, f"the URL names no file; {shape}")
    options: dict[str, Any] = {}
    try:
        pairs = parse_qsl(query, keep_blank_values=True, strict_parsing=bool(query))
    except ValueError:
        raise ValidationError("url", url, "options after '?' must be name=value") from None
    for key, value in pairs:
        if key not in _URL_OPTIONS:
            known = ", ".join(sorted(_URL_OPTIONS))
            raise ValidationError("url", url, f"unknown option {key!r} (known: {known})")
        try:
            options[key] = _URL_OPTIONS[key](value)
        except ValueError:
            raise ValidationError("url", url, f"option {key!r} is not a number") from None
    mode = options.pop("mode", "rw")
    if mode not in ("rw", "ro"):
        raise ValidationError("url", url, "mode is 'rw' (read and write) or 'ro' (read only)")
    if mode == "ro":
        options["read_only"] = True
    return path, options


class _Connection:
    """``with store._db() as conn``: the connection under the store's lock, errors translated.

    A class rather than a generator context manager: every read and write goes through it,
    and one reusable object costs a fraction of a generator made per use. It holds no
    state of its own, so nested uses (a write inside a unit of work) share it.
    """

    __slots__ = ("_store",)

    def __init__(self, store: SQLiteStore) -> None:
        self._store = store

    def __enter__(self) -> sqlite3.Connection:
        store = self._store
        store._lock.acquire()
        conn = store._conn
        if conn is None:
            store._lock.release()
            raise StoreError(f"the store at {store.path} is closed")
        return conn

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, _: object
    ) -> None:
        store = self._store
        try:
            if isinstance(exc, sqlite3.Error):
                raise store._translate(exc) from exc
            if isinstance(exc, OverflowError | UnicodeEncodeError):
                raise StoreError(f"cannot store this value in {store.path}: {exc}") from exc
        finally:
            store._lock.release()


class SQLiteStore(Store):
    """A store in an SQLite file. Open one with ``open_store("sqlite:///customers.db")``.

    Several threads may share a store (one unit of work runs at a time) and several
    processes may share a file: their units of work take turns, and an update that lost a
    race raises :class:`~custrec.errors.ConflictError` instead of overwriting.

    Args:
        path: The database file; created if missing. ``":memory:"`` keeps everything in
            this process.
        actor: Who acts when a write names nobody.
        timeout: Seconds to wait for another process's unit of work before giving up.
        read_only: Open the file for reading only; every write raises StoreError.

    Raises:
        StoreError: The file cannot be opened, is not a custrec database, or was written
            by a newer custrec.
    """

    scheme = "sqlite"

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        actor: str | None = None,
        timeout: float = 30.0,
        read_only: bool = False,
    ) -> None:
        super().__init__(actor=actor)
        if (
            isinstance(timeout, bool)
            or not isinstance(timeout, int | float)
            or not math.isfinite(timeout)
            or timeout < 0
        ):
            raise ValidationError("timeout", timeout, "seconds to wait: a number from 0")
        self.path = os.fsdecode(path)
        if read_only and self.path == ":memory:":
            raise ValidationError("read_only", read_only, "an in-memory store starts empty")
        self.timeout = float(timeout)
        self.read_only = read_only
        self._conn: sqlite3.Connection | None = None
        self._connection = _Connection(self)
        self._merger = _sqlcontacts.ContactMerger()
        self._conn = self._open()

    @classmethod
    def from_url(cls, url: str, **options: Any) -> SQLiteStore:
        """Open the store a URL names.

        ``sqlite:///customers.db`` is relative to the working directory,
        ``sqlite:////var/lib/app/customers.db`` absolute, ``sqlite:///:memory:`` in memory.
        The URL may add ``?timeout=5`` and ``?mode=ro``; keyword options win over them.

        Raises:
            ValidationError: The URL is not an SQLite store URL.
            StoreError: The file cannot be opened.
        """
        path, from_query = _url_to_path(url)
        return cls(path, **{**from_query, **options})

    def __repr__(self) -> str:
        return f"SQLiteStore({self.path!r})"

    # -- connection ---------------------------------------------------------------------

    def _open(self) -> sqlite3.Connection:
        target, uri = self.path, False
        if self.read_only:
            target, uri = pathlib.Path(self.path).absolute().as_uri() + "?mode=ro", True
        try:
            conn = sqlite3.connect(
                target,
                timeout=self.timeout,
                isolation_level=None,
                check_same_thread=False,
                cached_statements=256,
                uri=uri,
            )
        except sqlite3.Error as exc:
            raise self._translate(exc) from exc
        try:
            conn.create_function("custrec_lower", 1, fold_case, deterministic=True)
            conn.create_function("custrec_listkey", 1, list_sort_key, deterministic=True)
            conn.create_function("custrec_key_hash", 1, key_hash, deterministic=True)
            self._check_sqlite(conn)
            if not self.read_only:
                conn.execute("PRAGMA journal_mode=WAL")
            for pragma in (*_PRAGMAS, *_PRIVACY_PRAGMAS):
                conn.execute(pragma)
            self._migrate(conn)
        except BaseException as exc:
            conn.close()
            if isinstance(exc, sqlite3.Error):
                raise self._translate(exc) from exc
            raise
        return conn

    def _check_sqlite(self, conn: sqlite3.Connection) -> None:
        try:
            conn.execute("SELECT json_type('[]')")
        except sqlite3.OperationalError:
            raise StoreError(
                f"SQLite {sqlite3.sqlite_version} lacks the JSON functions custrec needs "
                "(built in from SQLite 3.38)"
            ) from None

    @staticmethod
    def _schema_version(conn: sqlite3.Connection) -> int:
        found = conn.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'"
        ).fetchone()
        if found is None:
            return 0
        version = conn.execute("SELECT max(version) FROM schema_migrations").fetchone()[0]
        return int(version or 0)

    def _check_version(self, version: int) -> None:
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"{self.path} was written by a newer custrec (schema version {version}; "
                f"this one reads up to {SCHEMA_VERSION}); upgrade custrec to open it"
            )

    def _migrate(self, conn: sqlite3.Connection) -> None:
        """Bring the file's schema to :data:`SCHEMA_VERSION`, all steps in one transaction."""
        version = self._schema_version(conn)
        self._check_version(version)
        if version == SCHEMA_VERSION:
            return
        if self.read_only:
            raise StoreError(
                f"{self.path} has schema version {version} and needs upgrading to "
                f"{SCHEMA_VERSION}; open it once for writing"
            )
        conn.execute("BEGIN IMMEDIATE")
        try:
            version = self._schema_version(conn)  # another process may have migrated meanwhile
            self._check_version(version)
            for step in MIGRATIONS[version:]:
                for statement in step.statements:
                    conn.execute(statement)
                conn.execute(
                    "INSERT INTO schema_migrations (version, applied_us, description)"
                    " VALUES (?, ?, ?)",
                    (step.version, epoch_us(now()), step.description),
                )
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise

    @property
    def schema_version(self) -> int:
        """The schema version of the open file."""
        with self._db() as conn:
            return self._schema_version(conn)

    def close(self) -> None:
        """Close the file. Using the store afterwards raises StoreError."""
        with self._lock:
            conn, self._conn = self._conn, None
            if conn is not None:
                try:
                    conn.close()
                except sqlite3.Error as exc:
                    raise self._translate(exc) from exc

    # -- errors -------------------------------------------------------------------------

    def _translate(self, exc: sqlite3.Error) -> StoreError:
        """A custrec error for an sqlite3 one, naming the file and the cause."""
        code = getattr(exc, "sqlite_errorcode", 0) & 0xFF
        where = self.path
        if code in (_BUSY, _LOCKED):
            return StoreError(
                f"the database {where} is locked by another writer; "
                f"gave up after waiting {self.timeout:g}s ({exc})"
            )
        if code == _READONLY:
            return StoreError(f"cannot write to {where}: the database is read-only ({exc})")
        if code == _FULL:
            return StoreError(f"cannot write to {where}: the disk is full ({exc})")
        if code == _IOERR:
            return StoreError(f"disk I/O error on {where} ({exc})")
        if code in (_CORRUPT, _NOTADB):
            return StoreError(f"{where} is not a custrec database or is damaged ({exc})")
        if code in (_CANTOPEN, _PERM):
            return StoreError(f"cannot open {where} ({exc})")
        if code == _CONSTRAINT or isinstance(exc, sqlite3.IntegrityError):
            return IntegrityError("record", "", f"the database refused a change: {exc}")
        if isinstance(exc, sqlite3.ProgrammingError) and self._conn is None:
            return StoreError(f"the store at {where} is closed")
        return StoreError(f"SQLite failed on {where}: {exc}")

    def _db(self) -> _Connection:
        """The connection, under the store's lock, with sqlite3 errors translated."""
        return self._connection

    @contextlib.contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """The connection inside a unit of work (a new one when none is open)."""
        with self._lock:
            if self._depth:
                with self._db() as conn:
                    yield conn
            else:
                with self.transaction(), self._db() as conn:
                    yield conn

    # -- unit of work ---------------------------------------------------------------------

    def _begin(self) -> None:
        with self._db() as conn:
            conn.execute("BEGIN IMMEDIATE")

    def _commit(self) -> None:
        with self._db() as conn:
            try:
                conn.execute("COMMIT")
            except sqlite3.Error:
                # A failed COMMIT (disk full, I/O error) can leave the transaction open;
                # end it so the store stays usable, then report the failure.
                if conn.in_transaction:
                    with contextlib.suppress(sqlite3.Error):
                        conn.execute("ROLLBACK")
                raise
            if self._merger.due:
                self._merge_contacts(conn)

    def _merge_contacts(self, conn: sqlite3.Connection) -> None:
        """Merge the contact side table after a commit (see :class:`_sqlcontacts.ContactMerger`).

        The commit before it has succeeded, so a merge that fails (the file locked by
        another writer past the timeout, a full disk) is not the caller's failure: the keys
        stay in the side table, where lookups see them, and a later commit tries again.
        """
        try:
            self._merger.merge(conn)
        except sqlite3.Error:
            self._merger.forget()

    def _rollback(self) -> None:
        self._merger.forget()
        with self._db() as conn:
            if conn.in_transaction:  # SQLite may have rolled back already after an error
                conn.execute("ROLLBACK")

    def _savepoint(self, name: str) -> None:
        with self._db() as conn:
            conn.execute(f"SAVEPOINT {_savepoint_name(name)}")

    def _release(self, name: str) -> None:
        with self._db() as conn:
            conn.execute(f"RELEASE {_savepoint_name(name)}")

    def _rollback_to(self, name: str) -> None:
        name = _savepoint_name(name)
        self._merger.forget()
        with self._db() as conn:
            if conn.in_transaction:
                conn.execute(f"ROLLBACK TO {name}")
                conn.execute(f"RELEASE {name}")

    # -- documents ----------------------------------------------------------------------

    def _decode(self, kind: type[R], record_id: str, doc: str) -> R:
        try:
            record: R = from_dict(json.loads(doc), kind)
        except ValueError as exc:
            name = record_type_name(kind)
            raise StoreError(f"{self.path}: {name} {record_id!r} cannot be read: {exc}") from exc
        return record

    def _decode_all(self, kind: type[R], rows: Sequence[tuple[str, str]]) -> list[R]:
        return [self._decode(kind, ident, doc) for ident, doc in rows]

    # -- records ------------------------------------------------------------------------

    def _fetch(self, kind: type[R], ids: Sequence[str]) -> dict[str, R]:
        statements = _SQL[kind]
        with self._db() as conn:
            if len(ids) == 1:
                row = conn.execute(statements["get"], (ids[0],)).fetchone()
                rows = [] if row is None else [(ids[0], row[0])]
            else:
                rows = conn.execute(statements["get_many"], (_ENCODE(list(ids)),)).fetchall()
        found = {ident: self._decode(kind, ident, doc) for ident, doc in rows}
        return {ident: found[ident] for ident in ids if ident in found}

    def _existing(self, kind: type[R], ids: Sequence[str]) -> set[str]:
        if not ids:
            return set()
        statements = _SQL[kind]
        with self._db() as conn:
            if len(ids) == 1:
                return {row[0] for row in conn.execute(statements["exists"], (ids[0],))}
            return {row[0] for row in conn.execute(statements["ids"], (_ENCODE(list(ids)),))}

    def _insert(self, kind: type[R], records: Sequence[R]) -> None:
        if not records:
            return
        table = TABLES[kind]
        values = table.values
        rows = [(*values(record), to_json(record)) for record in records]
        contacts = _sqlcontacts.batch_contact_rows(records) if kind is Customer else []  # type: ignore[arg-type]  # kind is Customer
        statement = _SQL[kind]["insert"]
        try:
            with self.transaction(), self._db() as conn:  # a savepoint inside a unit of work
                try:
                    conn.executemany(statement, rows)
                    if contacts:
                        conn.executemany(_sqlcontacts.INSERT_CONTACT, contacts)
                        self._merger.added(conn, len(contacts))
                except sqlite3.IntegrityError as exc:
                    raise _Rejected(exc) from exc
        except _Rejected as rejected:
            raise self._explain(kind, records, rejected.cause) from None

    def _explain(self, kind: type[R], records: Sequence[R], cause: Exception) -> Exception:
        """Name the record an insert was refused for, once its writes are undone."""
        name = record_type_name(kind)
        with self._db() as conn:
            ids = _ENCODE([record.id for record in records])
            existing = {row[0] for row in conn.execute(_SQL[kind]["ids"], (ids,))}
            seen: set[str] = set()
            for record in records:
                if record.id in existing or record.id in seen:
                    return DuplicateIdError(name, record.id)
                seen.add(record.id)
            if kind is not Customer:
                wanted = _ENCODE([record.customer_id for record in records])  # type: ignore[union-attr]  # history records
                known = {row[0] for row in conn.execute(_SQL[Customer]["ids"], (wanted,))}
                for record in records:
                    if record.customer_id not in known:  # type: ignore[union-attr]  # history records
                        return IntegrityError(name, record.id, "its customer_id names no customer")
        return IntegrityError(name, records[0].id, f"the database refused the insert: {cause}")

    def _replace(self, kind: type[R], record: R, expected_version: int) -> None:
        statements = _SQL[kind]
        row = (*TABLES[kind].values(record)[1:], to_json(record))
        with self._write() as conn:
            cursor = conn.execute(statements["update"], (*row, record.id, expected_version))
            if cursor.rowcount == 0:
                found = conn.execute(statements["version"], (record.id,)).fetchone()
                if found is None:
                    raise NotFoundError(record_type_name(kind), record.id)
                raise ConflictError(record_type_name(kind), record.id, expected_version, found[0])
            if kind is Customer:
                for statement in _sqlcontacts.DELETE_CONTACTS:
                    conn.execute(statement, (record.id,))
                rows = _sqlcontacts.contact_rows(record)  # type: ignore[arg-type]  # kind is Customer
                conn.executemany(_sqlcontacts.INSERT_CONTACT, rows)
                self._merger.added(conn, len(rows))

    def _remove(self, kind: type[R], ids: Sequence[str]) -> None:
        statement = _SQL[kind]["delete"]
        try:
            with self._write() as conn:
                try:
                    conn.executemany(statement, [(ident,) for ident in ids])
                except sqlite3.IntegrityError as exc:
                    raise _Rejected(exc) from exc
        except _Rejected:
            raise IntegrityError(
                record_type_name(kind), ", ".join(ids), "it still has history; delete that first"
            ) from None

    # -- queries ------------------------------------------------------------------------

    def _select(self, kind: type[R], query: Query) -> Page[R]:
        statement = compile_select(TABLES[kind], query, SQLITE)
        with self._db() as conn:
            docs = conn.execute(statement.text, statement.params).fetchall()
        records = self._decode_all(kind, docs)
        if query.size is None or len(records) <= query.size:
            return Page(tuple(records))
        page = records[: query.size]
        last = page[-1]
        cursor = encode_cursor(query.order, order_values(last, query.order), last.id)
        return Page(tuple(page), cursor)

    def _count(self, kind: type[R], where: Expr | None) -> int:
        statement = compile_count(TABLES[kind], where, SQLITE)
        with self._db() as conn:
            return int(conn.execute(statement.text, statement.params).fetchone()[0])

    def _scan(self, kind: type[R], after: str | None, limit: int, where: Expr | None) -> list[R]:
        statement = compile_scan(TABLES[kind], after, limit, where, SQLITE)
        with self._db() as conn:
            docs = conn.execute(statement.text, statement.params).fetchall()
        return self._decode_all(kind, docs)

    def _project(
        self, kind: type[R], fields: Sequence[str], limit: int, where: Expr | None
    ) -> Iterator[list[Row]]:
        # Each field comes out of the document as JSON text (json_quote keeps arrays and
        # objects as they are and quotes scalars), so SQLite parses the document in C and
        # Python builds only the fields asked for. A document of another schema version, or
        # a value the field's converter refuses, is decoded in full instead: the same
        # record, or the same clear error, as a read of the whole record.
        table = TABLES[kind]
        version = f"json_extract({table.doc}, '$.schema_version')" if fields else "NULL"
        columns = "".join(f", json_quote(json_extract({table.doc}, ?))" for _ in fields)
        condition = compile_where(table, where, SQLITE)
        select = (
            f"SELECT id, {version}{columns} FROM {table.name}"  # noqa: S608 - layout names only
            f" WHERE id > ? AND {condition.text} ORDER BY id LIMIT ?"
        )
        paths = [f"$.{name}" for name in fields]
        readers = [_field_reader(kind, name) for name in fields]
        after = ""
        while True:
            params = (*paths, after, *condition.params, limit)
            with self._db() as conn:
                rows = conn.execute(select, params).fetchall()
            if not rows:
                return
            yield [self._project_row(kind, row, fields, readers) for row in rows]
            if len(rows) < limit:
                return
            after = rows[-1][0]

    def _project_row(
        self,
        kind: type[R],
        row: Sequence[Any],
        fields: Sequence[str],
        readers: Sequence[Callable[[Any], Any]],
    ) -> Row:
        ident, version = row[0], row[1]
        if not fields:
            return (ident,)
        if version == SERIALIZE_VERSION:
            try:
                texts = row[2:]
                values = [read(json.loads(text)) for read, text in zip(readers, texts, strict=True)]
            except (ValueError, TypeError):
                pass
            else:
                return (ident, *values)
        record = self._fetch(kind, [ident])[ident]
        return (ident, *(getattr(record, name) for name in fields))

    def _lookup(self, key: str) -> list[str]:
        return [customer.id for customer in self._find_by_key(key)]

    def _find_by_key(self, key: str) -> list[Customer]:
        # One query instead of a lookup and a fetch. The index holds hashes, so a
        # customer whose keys merely share the hash is left out.
        with self._db() as conn:
            rows = _sqlcontacts.rows_for_key(conn, key)
        found = self._decode_all(Customer, rows)
        return [customer for customer in found if _sqlcontacts.has_key(customer, key)]

    # -- audit --------------------------------------------------------------------------

    def _append_audit(self, entries: Sequence[AuditEntry]) -> None:
        ids = _shared_entry_ids(entries)
        if ids is not None:
            # A bulk add's entries differ only in the record id: one statement writes
            # them all, in order (binding 7 values a row costs more than reading a list).
            first = entries[0]
            shared = (epoch_us(first.at), first.actor, first.action.value, first.record_type)
            with self._write() as conn:
                conn.execute(_INSERT_AUDIT_IDS, (*shared, first.version, _ENCODE(ids)))
            return
        moments: dict[datetime, int] = {}  # a bulk add's entries share one moment
        rows = [
            (
                moments[entry.at]
                if entry.at in moments
                else moments.setdefault(entry.at, epoch_us(entry.at)),
                entry.actor,
                entry.action.value,
                entry.record_type,
                entry.record_id,
                entry.version,
                _ENCODE([[c.field, c.old, c.new] for c in entry.changes])
                if entry.changes
                else "[]",
            )
            for entry in entries
        ]
        with self._write() as conn:
            conn.executemany(_INSERT_AUDIT, rows)

    def _read_audit(self, record_type: str | None, record_id: str) -> list[AuditEntry]:
        with self._db() as conn:
            rows = conn.execute(_READ_AUDIT, (record_id,)).fetchall()
        return [
            AuditEntry(
                at=from_epoch_us(at_us),
                actor=actor,
                action=AuditAction(action),
                record_type=kind,
                record_id=ident,
                version=version,
                changes=tuple(FieldChange(*change) for change in json.loads(changes)),
            )
            for at_us, actor, action, kind, ident, version, changes in rows
            if record_type is None or kind == record_type
        ]

    # -- collections ----------------------------------------------------------------------

    def _doc_get(self, collection: str, key: str) -> dict[str, Any] | None:
        with self._db() as conn:
            row = conn.execute(
                "SELECT doc FROM documents WHERE collection = ? AND key = ?", (collection, key)
            ).fetchone()
        return None if row is None else dict(json.loads(row[0]))

    def _doc_put(self, collection: str, key: str, document: dict[str, Any]) -> None:
        text = json.dumps(document, ensure_ascii=False, separators=(",", ":"))
        with self._write() as conn:
            conn.execute(
                "INSERT OR REPLACE INTO documents (collection, key, doc) VALUES (?, ?, ?)",
                (collection, key, text),
            )

    def _doc_delete(self, collection: str, key: str) -> bool:
        with self._write() as conn:
            cursor = conn.execute(
                "DELETE FROM documents WHERE collection = ? AND key = ?", (collection, key)
            )
        return cursor.rowcount > 0

    def _doc_scan(
        self, collection: str, prefix: str, after: str | None, limit: int
    ) -> list[tuple[str, dict[str, Any]]]:
        # Keys compare as text in code-point order (SQLite's BINARY collation on UTF-8).
        sql = "SELECT key, doc FROM documents WHERE collection = ? AND key >= ?"
        params: list[Any] = [collection, prefix if after is None or after < prefix else after]
        if after is not None and after >= prefix:
            sql = "SELECT key, doc FROM documents WHERE collection = ? AND key > ?"
        sql += " AND substr(key, 1, ?) = ? ORDER BY key LIMIT ?"
        params += [len(prefix), prefix, limit]
        with self._db() as conn:
            rows = conn.execute(sql, params).fetchall()
        return [(key, dict(json.loads(doc))) for key, doc in rows]

    # -- privacy primitives (custrec.privacy) -------------------------------------------

    def _scrub_audit(self, record_type: str, record_ids: Sequence[str]) -> int:
        with self._write() as conn:
            rows = conn.execute(
                "SELECT seq, changes FROM audit WHERE record_id IN (SELECT value FROM json_each(?))"
                " AND record_type = ? AND changes != '[]'",
                (json.dumps(list(record_ids)), record_type),
            ).fetchall()
            updates = []
            for seq, changes in rows:
                fields = json.loads(changes)
                if any(old is not None or new is not None for _, old, new in fields):
                    blank = _ENCODE([[field, None, None] for field, _, _ in fields])
                    updates.append((blank, seq))
            conn.executemany("UPDATE audit SET changes = ? WHERE seq = ?", updates)
        return len(updates)

    def _purge(self) -> None:
        """Rebuild the file from live data only and empty the WAL, leaving no deleted bytes."""
        with self._db() as conn:
            if conn.in_transaction:
                raise StoreError(f"cannot purge {self.path} inside a unit of work")
            try:
                conn.execute("VACUUM")
                busy = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0]
            except sqlite3.OperationalError as exc:
                if exc.sqlite_errorcode & 0xFF not in (_BUSY, _LOCKED):
                    raise
                busy = 1
        if busy:
            raise StoreError(
                f"{self.path}: another connection is using the file, so it may still hold "
                "deleted data; purge again when that connection has finished"
            )

    def aggregate_history(
        self,
        cutoff: datetime,
        currency: str,
        windows: Sequence[int] = WINDOWS,
        parts: Collection[str] | None = None,
    ) -> dict[str, HistoryAggregates]:
        """Aggregate every customer's history before ``cutoff`` in SQL.

        Gives exactly what :func:`custrec.store.aggregate_history` gives in Python for the
        parts asked for (:data:`~custrec.store.AGGREGATE_PARTS`; all when ``None``): SQLite
        computes the sums, counts and extremes over the indexed columns. Refunds are summed
        there too when the last one was paid before ``cutoff``; the rare sale with a refund
        on or after it is read back to date each refund.
        """
        return _sqlaggregate.aggregate_history(
            self._db, self._decode_sale, cutoff, currency, windows=windows, parts=parts
        )

    def _decode_sale(self, customer_id: str, doc: str) -> Transaction:
        return self._decode(Transaction, customer_id, doc)

    # -- quality push-down (custrec.quality.run_checks) -----------------------------------

    def quality_suspects(self, query: SuspectQuery) -> list[str]:
        """The ids of the customers meeting any part of ``query``, in id order, by SQL.

        See :class:`custrec.store._quality.SupportsQualityPushdown`.
        """
        with self._db() as conn:
            return _sqlquality.quality_suspects(conn, query)

    def unknown_customer_refs(self, record_type: type[Any]) -> list[str]:
        """The ids of the history records whose customer does not exist, in id order."""
        with self._db() as conn:
            return _sqlquality.unknown_customer_refs(conn, record_type)

    def batch_starts(self, record_type: type[Any], batch_size: int) -> list[str]:
        """The first id of each batch ``iter_batches(batch_size)`` gives, in order."""
        with self._db() as conn:
            return _sqlquality.batch_starts(conn, record_type, batch_size)

    # -- rule push-down (custrec.classify) -----------------------------------------------

    def match_rules(self, query: RuleQuery) -> list[tuple[Any, ...]]:
        """Each customer's first rule that holds, per dimension, by SQL (see ``_sqlrules``)."""
        sql, params = match_rules_sql(query, "sqlite")
        with self._db() as conn:
            return conn.execute(sql, params).fetchall()

    # -- sales rows (custrec.classify's fast path) ------------------------------------------

    def aggregate_sales_rows(
        self,
        cutoff: datetime,
        currency: str,
        windows: Sequence[int] = WINDOWS,
        parts: Collection[str] | None = None,
    ) -> dict[str, SalesRow]:
        """Every customer's sales aggregates before ``cutoff`` as plain numbers, by SQL.

        The same queries as :meth:`aggregate_history`, handed out as :data:`SalesRow` tuples
        (times stay epoch microseconds), so no object or datetime is made per customer.

        Raises:
            ValidationError: A part is not one of the sales parts.
        """
        return _sqlaggregate.aggregate_sales_rows(
            self._db, self._decode_sale, cutoff, currency, windows=windows, parts=parts
        )


_READERS: dict[tuple[type[Any], str], Callable[[Any], Any]] = {}


def _field_reader(kind: type[Any], name: str) -> Callable[[Any], Any]:
    """Build one field of a record from its JSON value, as the record's constructor would."""
    found = _READERS.get((kind, name))
    if found is None:
        found = _READERS[kind, name] = _make_field_reader(kind, name)
    return found


def _make_field_reader(kind: type[Any], name: str) -> Callable[[Any], Any]:
    field_type = typing.get_type_hints(kind)[name]
    attribute = attrs.fields_dict(kind)[name]
    # attrs types a field's converter loosely; the record types only use plain callables.
    convert: Callable[[Any], Any] | None = attribute.converter  # type: ignore[assignment]
    validate = attribute.validator

    def read(value: Any) -> Any:
        built = structure(value, field_type)
        if convert is not None:
            built = convert(built)
        if validate is not None:
            validate(None, attribute, built)
        return built

    return read


def _savepoint_name(name: str) -> str:
    if not _SAVEPOINT.fullmatch(name):
        raise ValidationError("savepoint", name, "a savepoint name is a plain identifier")
    return name
