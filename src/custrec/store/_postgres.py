"""The PostgreSQL store: custrec on a database server, through psycopg 3 and a pool.

The schema is SQLite's with PostgreSQL types (see :mod:`custrec.store._pgschema`). Reads
outside a unit of work take any pooled connection; a unit of work holds one connection
from ``BEGIN`` to ``COMMIT``, nested blocks are savepoints, and updates check the stored
version in their ``WHERE`` so that of two concurrent writers from one version, the second
gets :class:`~custrec.errors.ConflictError`. Bulk adds stream through ``COPY``.

Install the driver with ``pip install custrec[postgres]``.
"""

from __future__ import annotations

import contextlib
import re
import threading
from collections.abc import Collection, Iterator, Sequence
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import psycopg
import psycopg.errors
from psycopg_pool import ConnectionPool, PoolClosed, PoolTimeout

from custrec.errors import (
    ConflictError,
    DuplicateIdError,
    IntegrityError,
    NotFoundError,
    StoreError,
    ValidationError,
)
from custrec.expr import Expr
from custrec.model import Customer, now
from custrec.serialize import from_dict, record_type_name
from custrec.store import _pgquality
from custrec.store import _pgschema as schema
from custrec.store._aggregate import WINDOWS, HistoryAggregates
from custrec.store._audit import AuditAction, AuditEntry, FieldChange
from custrec.store._base import Store, contact_keys
from custrec.store._pgaggregate import aggregate_history
from custrec.store._pgdialect import PostgresDialect
from custrec.store._pyquery import order_values
from custrec.store._quality import SuspectQuery
from custrec.store._query import Page, Query, encode_cursor
from custrec.store._sqlcompile import (
    TABLES,
    compile_count,
    compile_scan,
    compile_select,
    epoch_us,
    from_epoch_us,
)
from custrec.store._sqlrules import RuleQuery, match_rules_sql

__all__ = ["PostgresStore"]

_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")
_SAVEPOINT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_OPTIONS = {"schema": str, "pool_size": int, "timeout": float}
_SCAN = "SELECT key, doc FROM documents WHERE collection = %s AND key {} %s"
_SCAN_FROM, _SCAN_AFTER = (
    _SCAN.format(op) + " AND starts_with(key, %s) ORDER BY key LIMIT %s" for op in (">=", ">")
)
_COPY_FROM = 16  # batches this large go through COPY; smaller ones through INSERT


class _Rejected(Exception):  # noqa: N818 - internal signal, never leaves the module
    """A write broke a constraint; raised to roll its savepoint back before explaining."""

    def __init__(self, cause: psycopg.Error) -> None:
        super().__init__(str(cause))
        self.cause = cause


def _split_url(url: str) -> tuple[str, dict[str, Any]]:
    """The libpq URL without custrec's own options, and those options."""
    if not isinstance(url, str):
        raise ValidationError("url", url, "a PostgreSQL URL is postgresql://user@host/db")
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("postgresql", "postgres"):
        raise ValidationError("url", url, "a PostgreSQL URL is postgresql://user@host/db")
    options: dict[str, Any] = {}
    kept = []
    for key, value in parse_qsl(parts.query, keep_blank_values=True):
        if key in _OPTIONS:
            try:
                options[key] = _OPTIONS[key](value)
            except ValueError:
                raise ValidationError("url", url, f"option {key!r} is not a number") from None
        else:
            kept.append((key, value))
    libpq = urlunsplit(("postgresql", parts.netloc, parts.path, urlencode(kept), ""))
    return libpq, options


class PostgresStore(Store):
    """A store in a PostgreSQL database (12 or later).

    Open one with ``open_store("postgresql://user@host:5432/dbname")``.

    Args:
        conninfo: A libpq connection string or URL.
        actor: Who acts when a write names nobody.
        schema: The schema holding the store's tables (created if missing); the
            connection's ``search_path`` when not given.
        pool_size: The most connections the store opens.
        timeout: Seconds to wait for the server or for a free connection.

    Raises:
        StoreError: The server cannot be reached, or its store was written by a newer
            custrec.
    """

    scheme = "postgresql"

    def __init__(
        self,
        conninfo: str,
        *,
        actor: str | None = None,
        schema: str | None = None,
        pool_size: int = 4,
        timeout: float = 30.0,
    ) -> None:
        super().__init__(actor=actor)
        if schema is not None and not (isinstance(schema, str) and _NAME.fullmatch(schema)):
            raise ValidationError("schema", schema, "a lower-case name: letters, digits, _")
        if isinstance(pool_size, bool) or not isinstance(pool_size, int) or pool_size < 1:
            raise ValidationError("pool_size", pool_size, "a whole number from 1")
        self.schema = schema
        self.timeout = float(timeout)
        self._where = re.sub(r"//[^@/]*@", "//", conninfo)  # never show a password
        kwargs: dict[str, Any] = {"autocommit": True}
        if schema is not None:
            kwargs["options"] = f"-c search_path={schema}"
        self._tx: psycopg.Connection[Any] | None = None
        self._tx_thread = 0
        self._pool = ConnectionPool(
            conninfo,
            min_size=1,
            max_size=pool_size,
            kwargs=kwargs,
            timeout=self.timeout,
            open=False,
            name="custrec",
        )
        try:
            self._pool.open(wait=True, timeout=self.timeout)
        except PoolTimeout as exc:
            self._pool.close()
            raise StoreError(f"cannot connect to PostgreSQL at {self._where}: {exc}") from exc
        try:
            self._prepare()
        except BaseException:
            self._pool.close()
            raise

    @classmethod
    def from_url(cls, url: str, **options: Any) -> PostgresStore:
        """Open the store a URL names.

        ``postgresql://user:password@host:5432/dbname`` with any libpq parameters after
        ``?`` (``sslmode=require``), and custrec's own: ``schema``, ``pool_size``,
        ``timeout``. Keyword options win over the URL's.

        Raises:
            ValidationError: The URL is not a PostgreSQL URL.
            StoreError: The server cannot be reached.
        """
        conninfo, from_query = _split_url(url)
        return cls(conninfo, **{**from_query, **options})

    def __repr__(self) -> str:
        return f"PostgresStore({self._where!r}, schema={self.schema!r})"

    # -- schema --------------------------------------------------------------------------

    def _prepare(self) -> None:
        with self._db() as conn:
            icu = conn.execute("SELECT 1 FROM pg_collation WHERE collname = 'und-x-icu'").fetchone()
        self.dialect = PostgresDialect("und-x-icu" if icu else "default")
        if self._version() != schema.SCHEMA_VERSION:
            self._migrate()

    def _version(self) -> int:
        with self._db() as conn:
            found = conn.execute("SELECT to_regclass('schema_migrations')").fetchone()
            if found is None or found[0] is None:
                return 0
            row = conn.execute("SELECT max(version) FROM schema_migrations").fetchone()
        return int(row[0] or 0) if row else 0

    def _migrate(self) -> None:
        """Apply the missing steps in one transaction, one migrating process at a time."""
        with self.transaction(), self._db() as conn:
            if self.schema is not None:
                conn.execute(f"CREATE SCHEMA IF NOT EXISTS {self.schema}")
            conn.execute("SELECT pg_advisory_xact_lock(hashtext(current_schema()))")
            conn.execute(schema.CREATE_MIGRATIONS)
            row = conn.execute("SELECT max(version) FROM schema_migrations").fetchone()
            version = int(row[0] or 0) if row else 0
            if version > schema.SCHEMA_VERSION:
                raise StoreError(
                    f"the store at {self._where} was written by a newer custrec (schema "
                    f"version {version}; this one reads up to {schema.SCHEMA_VERSION})"
                )
            for step in schema.MIGRATIONS[version:]:
                for statement in step.statements:
                    conn.execute(statement)
                conn.execute(
                    "INSERT INTO schema_migrations VALUES (%s, %s, %s)",
                    (step.version, epoch_us(now()), step.description),
                )

    @property
    def schema_version(self) -> int:
        """The schema version of the open store."""
        return self._version()

    def close(self) -> None:
        """Close every connection. Using the store afterwards raises StoreError."""
        self._pool.close()

    # -- connections and errors ------------------------------------------------------------

    def _translate(self, exc: psycopg.Error) -> Exception:
        if isinstance(exc, psycopg.errors.IntegrityError):
            return IntegrityError("record", "", f"the database refused a change: {exc}")
        if isinstance(exc, psycopg.errors.DataError):
            return StoreError(f"cannot store this value in {self._where}: {exc}")
        if isinstance(exc, psycopg.errors.SerializationFailure | psycopg.errors.DeadlockDetected):
            return StoreError(f"a concurrent unit of work won on {self._where}; retry ({exc})")
        if isinstance(exc, psycopg.OperationalError):
            return StoreError(f"the connection to {self._where} failed: {exc}")
        return StoreError(f"PostgreSQL failed on {self._where}: {exc}")

    @contextlib.contextmanager
    def _db(self) -> Iterator[psycopg.Connection[Any]]:
        """The unit of work's connection in its thread, else a pooled one; errors translated."""
        try:
            tx = self._tx
            if tx is not None and self._tx_thread == threading.get_ident():
                yield tx
            else:
                with self._pool.connection() as conn:
                    yield conn
        except psycopg.Error as exc:
            raise self._translate(exc) from exc
        except PoolTimeout as exc:
            raise StoreError(f"no free connection to {self._where}: {exc}") from exc
        except PoolClosed as exc:
            raise StoreError(f"the store at {self._where} is closed") from exc

    @contextlib.contextmanager
    def _write(self) -> Iterator[psycopg.Connection[Any]]:
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
        try:
            conn = self._pool.getconn()
        except PoolClosed as exc:
            raise StoreError(f"the store at {self._where} is closed") from exc
        except PoolTimeout as exc:
            raise StoreError(f"no free connection to {self._where}: {exc}") from exc
        try:
            conn.execute("BEGIN")
        except psycopg.Error as exc:
            self._pool.putconn(conn)
            raise self._translate(exc) from exc
        self._tx, self._tx_thread = conn, threading.get_ident()

    def _end(self, statement: str) -> None:
        conn, self._tx = self._tx, None
        if conn is None:
            return
        try:
            conn.execute(statement)
        except psycopg.Error as exc:
            with contextlib.suppress(psycopg.Error):
                conn.rollback()
            raise self._translate(exc) from exc
        finally:
            self._pool.putconn(conn)

    def _commit(self) -> None:
        self._end("COMMIT")

    def _rollback(self) -> None:
        self._end("ROLLBACK")

    def _savepoint(self, name: str) -> None:
        with self._db() as conn:
            conn.execute(f"SAVEPOINT {_savepoint_name(name)}")

    def _release(self, name: str) -> None:
        with self._db() as conn:
            conn.execute(f"RELEASE SAVEPOINT {_savepoint_name(name)}")

    def _rollback_to(self, name: str) -> None:
        name = _savepoint_name(name)
        with self._db() as conn:
            conn.execute(f"ROLLBACK TO SAVEPOINT {name}")
            conn.execute(f"RELEASE SAVEPOINT {name}")

    # -- records ------------------------------------------------------------------------

    def _decode(self, kind: type[Any], record_id: str, doc: Any) -> Any:
        try:
            return from_dict(doc, kind)
        except ValueError as exc:
            name = record_type_name(kind)
            raise StoreError(f"{self._where}: {name} {record_id!r} cannot be read: {exc}") from exc

    def _fetch(self, kind: type[Any], ids: Sequence[str]) -> dict[str, Any]:
        with self._db() as conn:
            if len(ids) == 1:  # one id compares faster than an array
                rows = conn.execute(schema.SQL[kind]["get"], (ids[0],)).fetchall()
            else:
                rows = conn.execute(schema.SQL[kind]["get_many"], (list(ids),)).fetchall()
        found = {ident: self._decode(kind, ident, doc) for ident, doc in rows}
        return {ident: found[ident] for ident in ids if ident in found}

    def _existing(self, kind: type[Any], ids: Sequence[str]) -> set[str]:
        if not ids:
            return set()
        with self._db() as conn:
            return {row[0] for row in conn.execute(schema.SQL[kind]["ids"], (list(ids),))}

    def _insert(self, kind: type[Any], records: Sequence[Any]) -> None:
        if not records:
            return
        values = TABLES[kind].values
        rows = [(*values(record), schema.encode_record(record)) for record in records]
        contacts: list[tuple[str, str]] = []
        if kind is Customer:
            for record in records:
                contacts.extend((key, record.id) for key in contact_keys(record))
        statements = schema.SQL[kind]
        try:
            with self.transaction(), self._db() as conn:  # a savepoint inside a unit of work
                try:
                    _write_rows(conn, statements["insert"], statements["copy"], rows)
                    if contacts:
                        _write_rows(conn, schema.INSERT_CONTACT, schema.COPY_CONTACTS, contacts)
                except psycopg.errors.IntegrityError as exc:
                    raise _Rejected(exc) from exc
        except _Rejected as rejected:
            raise self._explain(kind, records, rejected.cause) from None

    def _explain(self, kind: type[Any], records: Sequence[Any], cause: Exception) -> Exception:
        """Name the record an insert was refused for, once its writes are undone."""
        name = record_type_name(kind)
        existing = self._existing(kind, [record.id for record in records])
        seen: set[str] = set()
        for record in records:
            if record.id in existing or record.id in seen:
                return DuplicateIdError(name, record.id)
            seen.add(record.id)
        if kind is not Customer:
            known = self._existing(Customer, [record.customer_id for record in records])
            for record in records:
                if record.customer_id not in known:
                    return IntegrityError(name, record.id, "its customer_id names no customer")
        return IntegrityError(name, records[0].id, f"the database refused the insert: {cause}")

    def _replace(self, kind: type[Any], record: Any, expected_version: int) -> None:
        statements = schema.SQL[kind]
        row = (*TABLES[kind].values(record)[1:], schema.encode_record(record))
        with self._write() as conn:
            cursor = conn.execute(statements["update"], (*row, record.id, expected_version))
            if cursor.rowcount == 0:
                found = conn.execute(statements["version"], (record.id,)).fetchone()
                if found is None:
                    raise NotFoundError(record_type_name(kind), record.id)
                raise ConflictError(record_type_name(kind), record.id, expected_version, found[0])
            if kind is Customer:
                conn.execute(schema.DELETE_CONTACTS, (record.id,))
                keys = [(key, record.id) for key in contact_keys(record)]
                if keys:
                    conn.cursor().executemany(schema.INSERT_CONTACT, keys)

    def _remove(self, kind: type[Any], ids: Sequence[str]) -> None:
        try:
            with self.transaction(), self._db() as conn:
                try:
                    conn.execute(schema.SQL[kind]["delete"], (list(ids),))
                except psycopg.errors.IntegrityError as exc:
                    raise _Rejected(exc) from exc
        except _Rejected:
            raise IntegrityError(
                record_type_name(kind), ", ".join(ids), "it still has history; delete that first"
            ) from None

    # -- queries ------------------------------------------------------------------------

    def _select(self, kind: type[Any], query: Query) -> Page[Any]:
        statement = compile_select(TABLES[kind], query, self.dialect)
        with self._db() as conn:
            rows = conn.execute(statement.text, statement.params).fetchall()
        records = [self._decode(kind, ident, doc) for ident, doc in rows]
        if query.size is None or len(records) <= query.size:
            return Page(tuple(records))
        page = records[: query.size]
        last = page[-1]
        cursor = encode_cursor(query.order, order_values(last, query.order), last.id)
        return Page(tuple(page), cursor)

    def _count(self, kind: type[Any], where: Expr | None) -> int:
        statement = compile_count(TABLES[kind], where, self.dialect)
        with self._db() as conn:
            row = conn.execute(statement.text, statement.params).fetchone()
        return int(row[0]) if row else 0

    def _scan(
        self, kind: type[Any], after: str | None, limit: int, where: Expr | None
    ) -> list[Any]:
        statement = compile_scan(TABLES[kind], after, limit, where, self.dialect)
        with self._db() as conn:
            rows = conn.execute(statement.text, statement.params).fetchall()
        return [self._decode(kind, ident, doc) for ident, doc in rows]

    def _lookup(self, key: str) -> list[str]:
        with self._db() as conn:
            return [row[0] for row in conn.execute(schema.LOOKUP, (key,))]

    # -- audit --------------------------------------------------------------------------

    def _append_audit(self, entries: Sequence[AuditEntry]) -> None:
        rows = [
            (
                epoch_us(entry.at),
                entry.actor,
                entry.action.value,
                entry.record_type,
                entry.record_id,
                entry.version,
                schema.encode_document([[c.field, c.old, c.new] for c in entry.changes]),
            )
            for entry in entries
        ]
        with self._write() as conn:
            _write_rows(conn, schema.INSERT_AUDIT, schema.COPY_AUDIT, rows)

    def _read_audit(self, record_type: str | None, record_id: str) -> list[AuditEntry]:
        with self._db() as conn:
            rows = conn.execute(schema.READ_AUDIT, (record_id,)).fetchall()
        return [
            AuditEntry(
                at=from_epoch_us(at_us),
                actor=actor,
                action=AuditAction(action),
                record_type=kind,
                record_id=ident,
                version=version,
                changes=tuple(FieldChange(*change) for change in changes),
            )
            for at_us, actor, action, kind, ident, version, changes in rows
            if record_type is None or kind == record_type
        ]

    # -- collections ----------------------------------------------------------------------

    def _doc_get(self, collection: str, key: str) -> dict[str, Any] | None:
        with self._db() as conn:
            row = conn.execute(
                "SELECT doc FROM documents WHERE collection = %s AND key = %s", (collection, key)
            ).fetchone()
        return None if row is None else dict(row[0])

    def _doc_put(self, collection: str, key: str, document: dict[str, Any]) -> None:
        with self._write() as conn:
            conn.execute(
                "INSERT INTO documents (collection, key, doc) VALUES (%s, %s, %s)"
                " ON CONFLICT (collection, key) DO UPDATE SET doc = EXCLUDED.doc",
                (collection, key, schema.encode_document(document)),
            )

    # -- privacy primitives (custrec.privacy.erase and retention) --------------------------

    def _scrub_audit(self, record_type: str, record_ids: Sequence[str]) -> int:
        with self._write() as conn:
            rows = conn.execute(
                "SELECT seq, changes FROM audit WHERE record_id = ANY(%s)"
                " AND record_type = %s AND changes <> '[]'::jsonb",
                (list(record_ids), record_type),
            ).fetchall()
            updates = [
                (schema.encode_document([[field, None, None] for field, _, _ in changes]), seq)
                for seq, changes in rows
                if any(old is not None or new is not None for _, old, new in changes)
            ]
            with conn.cursor() as cursor:
                cursor.executemany("UPDATE audit SET changes = %s WHERE seq = %s", updates)
        return len(updates)

    def _purge(self) -> None:
        """Rewrite the tables from live rows only (``VACUUM FULL``), so deleted rows are gone.

        PostgreSQL keeps deleted rows in its files until they are vacuumed; ``VACUUM FULL``
        rewrites each table. Copies the server keeps elsewhere (write-ahead log segments not
        yet recycled, base backups, replicas) are the operator's to manage: see
        ``docs/privacy.md``.
        """
        if self._depth:
            raise StoreError(f"cannot purge {self._where} inside a unit of work")
        with self._pool.connection() as conn:
            conn.autocommit = True
            try:
                for table in (
                    "customers",
                    "interactions",
                    "transactions",
                    "feedback",
                    "contacts",
                    "audit",
                    "documents",
                ):
                    conn.execute(f"VACUUM FULL {table}")
            except psycopg.Error as exc:
                raise self._translate(exc) from exc
            finally:
                conn.autocommit = False

    def _doc_delete(self, collection: str, key: str) -> bool:
        with self._write() as conn:
            cursor = conn.execute(
                "DELETE FROM documents WHERE collection = %s AND key = %s", (collection, key)
            )
        return cursor.rowcount > 0

    def _doc_scan(
        self, collection: str, prefix: str, after: str | None, limit: int
    ) -> list[tuple[str, dict[str, Any]]]:
        start = prefix if after is None or after < prefix else after
        strict = after is not None and after >= prefix
        sql = _SCAN_AFTER if strict else _SCAN_FROM
        with self._db() as conn:
            rows = conn.execute(sql, (collection, start, prefix, limit)).fetchall()
        return [(key, dict(doc)) for key, doc in rows]

    # -- aggregation (SQL push-down for classification) -----------------------------------

    def aggregate_history(
        self,
        cutoff: datetime,
        currency: str,
        windows: Sequence[int] = WINDOWS,
        parts: Collection[str] | None = None,
    ) -> dict[str, HistoryAggregates]:
        """Aggregate every customer's history before ``cutoff`` in PostgreSQL.

        Gives exactly what :func:`custrec.store.aggregate_history` gives in Python for the
        parts asked for (:data:`~custrec.store.AGGREGATE_PARTS`; all when ``None``); only
        their queries run.

        Raises:
            ValidationError: A part is unknown.
        """
        with self._db() as conn:
            return aggregate_history(conn, cutoff, currency, windows, self._decode, parts=parts)

    # -- rule push-down (custrec.classify) -----------------------------------------------

    def match_rules(self, query: RuleQuery) -> list[tuple[Any, ...]]:
        """Each customer's first rule that holds, per dimension, by SQL (see ``_sqlrules``)."""
        sql, params = match_rules_sql(query, "postgresql")
        with self._db() as conn:
            return conn.execute(sql, params).fetchall()

    # -- quality push-down (custrec.quality.run_checks) -----------------------------------

    def quality_suspects(self, query: SuspectQuery) -> list[str]:
        """The ids of the customers meeting any part of ``query``, in id order, by SQL.

        See :class:`custrec.store._quality.SupportsQualityPushdown`.
        """
        with self._db() as conn:
            return _pgquality.quality_suspects(conn, query)

    def unknown_customer_refs(self, record_type: type[Any]) -> list[str]:
        """The ids of the history records whose customer does not exist, in id order."""
        with self._db() as conn:
            return _pgquality.unknown_customer_refs(conn, record_type)

    def batch_starts(self, record_type: type[Any], batch_size: int) -> list[str]:
        """The first id of each batch ``iter_batches(batch_size)`` gives, in order."""
        with self._db() as conn:
            return _pgquality.batch_starts(conn, record_type, batch_size)


def _write_rows(
    conn: psycopg.Connection[Any], insert: str, copy: str, rows: Sequence[tuple[Any, ...]]
) -> None:
    """Insert rows: through ``COPY`` for a batch, ``INSERT`` for a few."""
    if len(rows) < _COPY_FROM:
        conn.cursor().executemany(insert, rows)
        return
    with conn.cursor().copy(copy) as stream:
        for row in rows:
            stream.write_row(row)


def _savepoint_name(name: str) -> str:
    if not _SAVEPOINT.fullmatch(name):
        raise ValidationError("savepoint", name, "a savepoint name is a plain identifier")
    return name
