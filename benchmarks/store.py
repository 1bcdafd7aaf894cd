"""The SQLite store against raw ``sqlite3`` on the same customers.

Both sides work on files in the same temporary directory with the same settings: the
PRAGMAs custrec's SQLite backend sets (WAL journal, ``synchronous=NORMAL``, foreign keys
on), units of work opened with ``BEGIN IMMEDIATE``, one commit per batch of
:data:`BATCH_SIZE` records.

The baseline's tables are not a copy: its file is made by replaying every statement of the
backend's migrations (:data:`custrec.store._sqlite.MIGRATIONS`), and its rows hold the
backend's own query columns (:data:`custrec.store._sqlcompile.TABLES`) and contact-key
hashes (:func:`custrec.store._sqlite.key_hash`). When the backend's schema changes, the
baseline follows; if a change renames the ``customers`` or ``contacts`` tables,
:func:`_make_baseline_schema` fails loudly instead of comparing with something else.
"""

from __future__ import annotations

import contextlib
import json
import random
import sqlite3
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from benchmarks._runner import Context, Result, benchmark, best_of, building_inputs
from custrec import to_dict
from custrec.model import Customer
from custrec.store import Store, contact_keys, open_store
from custrec.store._sqlcompile import TABLES
from custrec.store._sqlite import MIGRATIONS, key_hash
from custrec.testing.synthetic import iter_customers

SEED = 2024
BATCH_SIZE = 1_000
"""Records per ``add_many`` batch (its default), and per baseline transaction."""

_TABLE = TABLES[Customer]
_COLUMNS = (*_TABLE.column_names, _TABLE.doc)
_INSERT = f"INSERT INTO customers ({', '.join(_COLUMNS)}) VALUES ({', '.join('?' * len(_COLUMNS))})"
_INSERT_CONTACT = "INSERT OR IGNORE INTO contacts (key_hash, customer_id) VALUES (?, ?)"
_GET = f"SELECT {_TABLE.doc} FROM customers WHERE id = ?"
_BY_KEY = (
    f"SELECT c.{_TABLE.doc} FROM contacts AS k JOIN customers AS c ON c.id = k.customer_id"
    " WHERE k.key_hash = ? ORDER BY k.customer_id"
)
# The settings SQLiteStore._open makes on every connection.
_PRAGMAS = ("PRAGMA journal_mode=WAL", "PRAGMA foreign_keys=ON", "PRAGMA synchronous=NORMAL")
# The backend's JSON encoding of documents (compact, characters kept).
_DUMPS = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode

Row = tuple[tuple[Any, ...], dict[str, Any]]


def _make_baseline_schema(conn: sqlite3.Connection) -> None:
    """Create the backend's schema by replaying its migrations on a raw connection."""
    conn.create_function("custrec_key_hash", 1, key_hash, deterministic=True)
    for step in MIGRATIONS:
        for statement in step.statements:
            conn.execute(statement)
    tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    for table in ("customers", "contacts"):
        if table not in tables:
            raise RuntimeError(f"the SQLite backend no longer creates a {table!r} table")


def _connect(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None, cached_statements=256)
    for pragma in _PRAGMAS:
        conn.execute(pragma)
    return conn


def _batches(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


class _Side:
    """One side's database file: a fresh one per timing, the last kept for the lookups."""

    def __init__(self, workdir: Path, name: str) -> None:
        self.workdir = workdir
        self.name = name
        self.runs = 0
        self.path = workdir / f"{name}-0.db"

    def fresh_path(self) -> Path:
        """A new file name; the previous file (closed by now) is deleted to save disk."""
        for suffix in ("", "-wal", "-shm"):
            Path(f"{self.path}{suffix}").unlink(missing_ok=True)
        self.runs += 1
        self.path = self.workdir / f"{self.name}-{self.runs}.db"
        return self.path


@benchmark("store.bulk_add", "store.get_by_id", "store.get_by_phone")
def sqlite_store(ctx: Context) -> Iterator[Result]:
    """Bulk add, then look customers up by id and by phone.

    ``store.bulk_add``: ``customers.add_many(records, batch_size=BATCH_SIZE)`` into a fresh
    ``sqlite:///`` store (which also writes contact keys and an audit entry per record), in
    seconds for all records. Baseline: the same customers, already turned into JSON-ready
    dicts (``custrec.to_dict``) with their query column values, are written by
    ``json.dumps`` plus ``sqlite3.executemany`` into an equivalent ``customers`` table (same
    columns and indexes as custrec's, plus the JSON document), one transaction per batch.
    Record generation and the dicts are made before any timing.

    ``store.get_by_id``: ``customers.get(id)`` for random ids, in µs per lookup. Baseline:
    the indexed ``SELECT doc FROM customers WHERE id = ?`` plus ``json.loads``.

    ``store.get_by_phone``: ``customers.find_by_phone(raw)`` with each number as it was
    typed (``138 1234 5678``, ``+86-…``), in µs per lookup. Baseline: the same join through
    an equivalent ``contacts`` index, given the already normalised key
    (``phone:+8613812345678``) since that is what an application would store, plus
    ``json.loads`` of each document found.
    """
    count = ctx.size(100_000, full=1_000_000, smoke=2_000)
    with building_inputs():
        ctx.progress(f"store: generating {count:,} customers")
        customers = list(iter_customers(count, seed=SEED))
        ctx.progress("store: turning them into documents for the baseline")
        rows: list[Row] = [(_TABLE.values(c), to_dict(c)) for c in customers]

    store, baseline, result = _bulk_add(ctx, customers, rows)
    yield result
    with contextlib.closing(store), contextlib.closing(_connect(baseline)) as conn:
        if not (ctx.wants("store.get_by_id") or ctx.wants("store.get_by_phone")):
            return
        # The baseline's contacts index, filled outside any timing.
        conn.execute("BEGIN IMMEDIATE")
        conn.executemany(
            _INSERT_CONTACT, [(key_hash(key), c.id) for c in customers for key in contact_keys(c)]
        )
        conn.execute("COMMIT")
        lookups = ctx.size(10_000, full=10_000, smoke=200)
        chosen = [customers[i] for i in random.Random(SEED).choices(range(count), k=lookups)]
        if ctx.wants("store.get_by_id"):
            yield _get_by_id(ctx, store, conn, chosen)
        if ctx.wants("store.get_by_phone"):
            yield _get_by_phone(ctx, store, conn, chosen)


def _bulk_add(
    ctx: Context, customers: list[Customer], rows: list[Row]
) -> tuple[Store, Path, Result]:
    """Time both bulk adds; return the last custrec store (open) and baseline file."""
    count = len(customers)
    ours = _Side(ctx.workdir, "custrec")
    theirs = _Side(ctx.workdir, "baseline")
    store: list[Store] = []

    def open_fresh_store() -> None:
        for old in store:
            old.close()
        store[:] = [open_store(f"sqlite:///{ours.fresh_path()}")]

    def add_with_custrec() -> None:
        added = store[0].customers.add_many(customers, batch_size=BATCH_SIZE)
        assert added == count  # noqa: S101 - a benchmark that did less work would lie

    def make_baseline() -> None:
        conn = _connect(theirs.fresh_path())
        _make_baseline_schema(conn)
        conn.close()

    def add_with_sqlite3() -> None:
        conn = _connect(theirs.path)
        for batch in _batches(rows, BATCH_SIZE):
            conn.execute("BEGIN IMMEDIATE")
            conn.executemany(_INSERT, [(*values, _DUMPS(doc)) for values, doc in batch])
            conn.execute("COMMIT")
        conn.close()

    # Only the last run's databases are needed for the lookups.
    repeat = ctx.repeat if ctx.wants("store.bulk_add") else 1
    ctx.progress(f"store.bulk_add: custrec add_many, best of {repeat}")
    custrec = best_of(repeat, add_with_custrec, setup=open_fresh_store)
    ctx.progress(f"store.bulk_add: custrec {count / custrec:,.0f} records/s; baseline next")
    baseline = best_of(repeat, add_with_sqlite3, setup=make_baseline)
    ctx.progress(f"store.bulk_add: baseline {count / baseline:,.0f} records/s")
    result = Result("store.bulk_add", custrec, "s", "json.dumps + sqlite3.executemany", baseline)
    return store[0], theirs.path, result


def _get_by_id(
    ctx: Context, store: Store, conn: sqlite3.Connection, chosen: list[Customer]
) -> Result:
    ids = [c.id for c in chosen]
    got: list[Any] = []

    def get_with_custrec() -> None:
        get = store.customers.get
        got[:] = [get(ident) for ident in ids]

    def get_with_sqlite3() -> None:
        execute = conn.execute
        got[:] = [json.loads(execute(_GET, (ident,)).fetchone()[0]) for ident in ids]

    ctx.progress(f"store.get_by_id: {len(ids):,} lookups, best of {ctx.repeat}")
    custrec = best_of(ctx.repeat, get_with_custrec)
    assert [c.id for c in got] == ids  # noqa: S101 - found what was asked for
    baseline = best_of(ctx.repeat, get_with_sqlite3)
    assert [doc["id"] for doc in got] == ids  # noqa: S101 - found what was asked for
    per_lookup = 1e6 / len(ids)
    return Result(
        "store.get_by_id",
        custrec * per_lookup,
        "us",
        "indexed SELECT + json.loads",
        baseline * per_lookup,
    )


def _get_by_phone(
    ctx: Context, store: Store, conn: sqlite3.Connection, chosen: list[Customer]
) -> Result:
    raws = [c.phones[0].raw for c in chosen]
    keys = [key_hash(f"phone:{c.phones[0].e164}") for c in chosen]
    expected = [[c.id] for c in chosen]  # synthetic phone numbers are unique
    found: list[Any] = []

    def find_with_custrec() -> None:
        find = store.customers.find_by_phone
        found[:] = [find(raw) for raw in raws]

    def find_with_sqlite3() -> None:
        execute = conn.execute
        found[:] = [[json.loads(row[0]) for row in execute(_BY_KEY, (key,))] for key in keys]

    ctx.progress(f"store.get_by_phone: {len(raws):,} lookups, best of {ctx.repeat}")
    custrec = best_of(ctx.repeat, find_with_custrec)
    assert [[c.id for c in hit] for hit in found] == expected  # noqa: S101 - found them
    baseline = best_of(ctx.repeat, find_with_sqlite3)
    assert [[doc["id"] for doc in hit] for hit in found] == expected  # noqa: S101 - found them
    per_lookup = 1e6 / len(raws)
    return Result(
        "store.get_by_phone",
        custrec * per_lookup,
        "us",
        "contacts-index SELECT (E.164 key hash given) + json.loads",
        baseline * per_lookup,
    )
