"""Build a large PostgreSQL store and print the query plans of what the store sends.

Not a timed benchmark (it registers none, so ``python -m benchmarks`` only imports it): this
is the script behind the measured plans in ``docs/scaling.md``. Run it from the repository
root, preferably at low priority::

    nice -n 19 python -m benchmarks.pg_scale \\
        --url postgresql://postgres@127.0.0.1:5432/scale --customers 1000000

What it does:

1. Drops and recreates the database named in ``--url`` (refusing ``postgres``, ``test`` and
   the templates), and opens a custrec store in it (``open_store("postgresql://…")``).
2. Adds a *seed* of ``customers / copies`` synthetic customers and their history from
   :mod:`custrec.testing.synthetic` through ``add_many``, as the classification benchmark
   does (contact keys and audit entries included).
3. Grows the store to ``--customers`` in SQL: ``copies - 1`` times, every seed row of
   ``customers``, ``transactions``, ``interactions``, ``feedback`` and ``contacts`` is
   inserted again with rewritten ids. Copy ``k`` of customer number ``n`` is customer
   number ``k × seed + n`` (``C000001`` … ``C1000000``, the ids the generator itself would
   give), and history ids are renumbered the same way per letter (``T…``, ``I…``,
   ``F…``). The documents' ``id`` and ``customer_id`` are rewritten with ``jsonb_set`` so
   they agree with the columns. Contact keys get the suffix ``~k`` so that every key stays
   unique to one customer (a phone lookup finds one customer, as in real data; the copies'
   documents keep the seed's phone numbers). The audit trail is not copied: it holds the
   seed's entries only. Foreign-key triggers are skipped while copying
   (``session_replication_role = replica``): the copies are consistent by construction.
4. ``VACUUM ANALYZE``, then prints the row counts and sizes.
5. Runs each operation of the doc's table through the store while recording the SQL the
   store sends (``psycopg.Connection.execute``), and prints ``EXPLAIN (ANALYZE, BUFFERS,
   COSTS OFF)`` of it, the second of two runs. The facts aggregates are explained from the
   store's own query text (:mod:`custrec.store._pgaggregate`) with the parameters
   ``aggregate_history`` would pass, without building the facts in Python, at the server's
   ``work_mem`` and again at 512 MB.

``--skip-build`` only prints sizes and plans of an existing store; ``--drop`` drops the
database at the end.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from custrec.expr import F
from custrec.model import Customer, Feedback, Interaction, Transaction
from custrec.store import Query, Store, open_store
from custrec.store._aggregate import WINDOWS, window_starts
from custrec.store._sqlcompile import epoch_us
from custrec.testing import synthetic

try:
    import psycopg
    from psycopg import sql

    from custrec.store._pgaggregate import _queries
except ImportError:  # imported by ``python -m benchmarks`` too, which must not need psycopg
    psycopg = None  # type: ignore[assignment]

SEED = 2024
BATCH_SIZE = 1_000
CUSTOMER_CHUNK = 10_000
PROTECTED = {"postgres", "test", "template0", "template1"}
HISTORY = ("transactions", "interactions", "feedback")
CUTOFF = datetime.combine(synthetic.DEFAULT_START + timedelta(days=730), datetime.min.time(), UTC)
"""The day after the generated period (UTC midnight): every transaction counts."""


def profile(transactions: float) -> synthetic.Profile:
    """The classification benchmark's profile, with ``transactions`` per person."""
    return synthetic.Profile(
        transactions_per_customer=transactions,
        interactions_per_customer=0.5,
        feedback_per_customer=0.2,
    )


def say(message: str) -> None:
    """Progress on stderr, with the time."""
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def _database(url: str) -> tuple[str, str]:
    """The database name in ``url`` and the same URL pointing at ``postgres``."""
    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    if not name or name in PROTECTED:
        raise SystemExit(f"--url must name a database of its own, not {name or 'none'!r}")
    return name, urlunsplit(parts._replace(path="/postgres", query=""))


def recreate_database(url: str) -> None:
    """Drop and create the database named in ``url``."""
    name, admin = _database(url)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def drop_database(url: str) -> None:
    """Drop the database named in ``url``."""
    name, admin = _database(url)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))


def add_seed(store: Store, count: int, transactions: float) -> None:
    """Add ``count`` synthetic customers and their history, as the classify benchmark does."""
    chosen = profile(transactions)
    added = [0]

    def customers() -> Iterator[Customer]:
        chunk: list[Customer] = []
        for customer in synthetic.iter_customers(count, seed=SEED, profile=chosen):
            chunk.append(customer)
            if len(chunk) == CUSTOMER_CHUNK:
                store.customers.add_many(chunk, batch_size=BATCH_SIZE)
                added[0] += len(chunk)
                say(f"seed: {added[0]:,} customers")
                yield from chunk
                chunk = []
        store.customers.add_many(chunk, batch_size=BATCH_SIZE)
        yield from chunk

    buffers: dict[type[Any], list[Any]] = {Interaction: [], Transaction: [], Feedback: []}
    repositories: dict[type[Any], Any] = {
        Interaction: store.interactions,
        Transaction: store.transactions,
        Feedback: store.feedback,
    }
    for record in synthetic.iter_history(customers(), seed=SEED, profile=chosen):
        buffer = buffers[type(record)]
        buffer.append(record)
        if len(buffer) == BATCH_SIZE:
            repositories[type(record)].add_many(buffer, batch_size=BATCH_SIZE)
            buffer.clear()
    for kind, buffer in buffers.items():
        repositories[kind].add_many(buffer, batch_size=BATCH_SIZE)


def _columns(conn: psycopg.Connection[Any], table: str) -> list[str]:
    rows = conn.execute(
        "SELECT column_name FROM information_schema.columns"
        " WHERE table_schema = current_schema() AND table_name = %s ORDER BY ordinal_position",
        (table,),
    ).fetchall()
    return [row[0] for row in rows]


def _renumbered(column: str, stride: str, width: int) -> str:
    """SQL for copy ``%(k)s`` of an id ``<letter><digits>``: the number moved up by k strides."""
    number = f"(%(k)s * {stride} + substring({column} from 2)::bigint)::text"
    # lpad cuts what is longer than the width: C1000000 must not become C100000.
    return f"(left({column}, 1) || lpad({number}, greatest({width}, length({number})), '0'))"


def grow(url: str, copies: int) -> None:
    """Copy the seed rows ``copies - 1`` times with rewritten ids (see the module docstring)."""
    with psycopg.connect(url, autocommit=True) as conn:
        for table in ("customers", *HISTORY):
            bad = conn.execute(
                f"SELECT id FROM {table} WHERE id !~ '^[A-Z][0-9]+$' LIMIT 1"
            ).fetchone()
            if bad:
                raise SystemExit(f"{table}: id {bad[0]!r} is not a letter and digits")
        strides = {
            table: conn.execute(
                f"SELECT max(substring(id from 2)::bigint) FROM {table}"
            ).fetchone()[0]
            or 1
            for table in ("customers", *HISTORY)
        }
        for table in ("customers", *HISTORY, "contacts"):
            conn.execute(f"CREATE TEMP TABLE seed_{table} AS SELECT * FROM {table}")
        customer = _renumbered("customer_id", str(strides["customers"]), 6)
        statements = []
        for table in ("customers", *HISTORY):
            own = _renumbered("id", str(strides[table]), 6 if table == "customers" else 8)
            parent = own if table == "customers" else customer
            exprs = []
            for column in _columns(conn, table):
                if column == "id":
                    exprs.append(own)
                elif column == "customer_id":
                    exprs.append(customer)
                elif column == "doc":
                    doc = f"jsonb_set(doc, '{{id}}', to_jsonb({own}), false)"
                    if table != "customers":
                        doc = f"jsonb_set({doc}, '{{customer_id}}', to_jsonb({parent}), false)"
                    exprs.append(doc)
                else:
                    exprs.append(column)
            names = ", ".join(_columns(conn, table))
            statements.append(
                f"INSERT INTO {table} ({names}) SELECT {', '.join(exprs)} FROM seed_{table}"
            )
        statements.append(
            f"INSERT INTO contacts (key, customer_id) SELECT key || '~' || %(k)s, {customer}"
            " FROM seed_contacts"
        )
        conn.execute("SET session_replication_role = replica")
        for k in range(1, copies):
            with conn.transaction():
                for statement in statements:
                    conn.execute(statement, {"k": k})
            say(f"grow: copy {k} of {copies - 1} done")
        conn.execute("SET session_replication_role = DEFAULT")
        say("VACUUM ANALYZE")
        conn.execute("VACUUM ANALYZE")


def report_sizes(url: str) -> None:
    """Print row counts and on-disk sizes."""
    with psycopg.connect(url, autocommit=True) as conn:
        print("## The store\n")
        for table in ("customers", *HISTORY, "contacts", "audit"):
            rows = conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
            size = conn.execute(
                "SELECT pg_size_pretty(pg_total_relation_size(%s::regclass))", (table,)
            ).fetchone()[0]
            print(f"- {table}: {rows:,} rows, {size} with indexes")
        total = conn.execute("SELECT pg_size_pretty(pg_database_size(current_database()))")
        print(f"- database: {total.fetchone()[0]}\n")


@contextlib.contextmanager
def recording() -> Iterator[list[tuple[str, Any]]]:
    """Record every ``(query, params)`` sent through ``psycopg.Connection.execute``."""
    sent: list[tuple[str, Any]] = []
    original = psycopg.Connection.execute

    def execute(self: Any, query: Any, params: Any = None, **options: Any) -> Any:
        sent.append((query, params))
        return original(self, query, params, **options)

    psycopg.Connection.execute = execute  # type: ignore[method-assign]
    try:
        yield sent
    finally:
        psycopg.Connection.execute = original  # type: ignore[method-assign]


def explain(url: str, title: str, query: str, params: Any, work_mem: str | None = None) -> None:
    """Print the statement and ``EXPLAIN (ANALYZE, BUFFERS, COSTS OFF)`` of it (second run)."""
    with psycopg.connect(url, autocommit=True) as conn:
        if work_mem is not None:
            conn.execute(sql.SQL("SET work_mem = {}").format(sql.Literal(work_mem)))
            title = f"{title} (work_mem = {work_mem})"
        text = f"EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) {query}"
        conn.execute(text, params).fetchall()
        plan = [row[0] for row in conn.execute(text, params).fetchall()]
    print(f"#### {title}\n\n```sql\n{query}\n```\n\nparameters: {params!r}\n")
    print("```text\n" + "\n".join(plan) + "\n```\n", flush=True)


def _sent(store: Store, call: Any, wanted: str) -> tuple[str, Any]:
    with recording() as sent:
        call()
    for query, params in sent:
        if wanted in str(query):
            return str(query), params
    raise AssertionError(f"no statement with {wanted!r} among {sent!r}")


def plans(url: str) -> None:
    """Print the plans of the operations in docs/scaling.md's table."""
    with contextlib.closing(open_store(url)) as store:
        with psycopg.connect(url) as conn:
            # A customer with a phone and some purchases, from the seed's middle.
            found = conn.execute(
                "SELECT c.id FROM customers AS c WHERE c.doc->'phones' <> '[]'"
                " AND EXISTS (SELECT 1 FROM transactions AS t WHERE t.customer_id = c.id)"
                " ORDER BY c.id < 'C017862', c.id LIMIT 1"
            ).fetchone()
        one = store.customers.get(found[0])
        phone = one.phones[0].raw
        batches = store.customers.iter_batches(100)
        operations = [
            ("get a customer by id", lambda: store.customers.get(one.id), "WHERE id ="),
            (
                "find_by_phone: contact key lookup",
                lambda: store.customers.find_by_phone(phone),
                "FROM contacts",
            ),
            (
                "a customer's transactions, in time order (for_customer / history)",
                lambda: store.transactions.for_customer(one.id),
                "FROM transactions",
            ),
            (
                "keyset pagination: the second page of 100 in id order",
                lambda: [next(batches), next(batches)],
                "id >",
            ),
            ("count every customer", store.customers.count, "count("),
            (
                "query on a column without an index: name == '张伟', first page of 20",
                lambda: store.customers.find(Query(F("name") == "张伟").order_by("name").limit(20)),
                "FROM customers",
            ),
            (
                "query on a custom field (JSONB): custom.preferred_store, first page of 20",
                lambda: store.customers.find(
                    Query(F("custom.preferred_store") == "上海南京西路店").limit(20)
                ),
                "FROM customers",
            ),
            (
                "query on a custom field (JSONB) that no customer has, first page of 20",
                lambda: store.customers.find(Query(F("custom.preferred_store") == "无").limit(20)),
                "FROM customers",
            ),
        ]
        for title, call, wanted in operations:
            query, params = _sent(store, call, wanted)
            explain(url, title, query, params)
    facts = _queries(WINDOWS)
    params: dict[str, Any] = {"cutoff": epoch_us(CUTOFF), "currency": "CNY"}
    params.update({f"w{n}": epoch_us(start) for n, start in window_starts(CUTOFF, WINDOWS).items()})
    explain(url, "facts push-down: the sales aggregate (aggregate_history)", facts["sales"], params)
    explain(url, "facts push-down: second-latest purchase per customer", facts["previous"], params)
    for name, title in (("sales", "the sales aggregate"), ("previous", "second-latest purchase")):
        explain(url, f"facts push-down: {title}", facts[name], params, work_mem="512MB")


def main(argv: list[str] | None = None) -> int:
    """Build the store (unless ``--skip-build``), print its sizes and the plans."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.pg_scale", description=__doc__)
    parser.add_argument("--url", default="postgresql://postgres@127.0.0.1:5432/scale")
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--copies", type=int, default=50, help="seed = customers / copies")
    parser.add_argument("--transactions", type=float, default=9.26, help="mean per person")
    parser.add_argument("--skip-build", action="store_true")
    parser.add_argument("--drop", action="store_true", help="drop the database at the end")
    args = parser.parse_args(argv)
    if psycopg is None:
        parser.error("psycopg is not installed; pip install 'custrec[postgres]'")
    _database(args.url)
    if args.customers % args.copies:
        parser.error("--customers must be a multiple of --copies")
    if not args.skip_build:
        started = time.monotonic()
        recreate_database(args.url)
        with contextlib.closing(open_store(args.url)) as store:
            say(f"seed: {args.customers // args.copies:,} customers and their history")
            add_seed(store, args.customers // args.copies, args.transactions)
        say(f"seed added in {time.monotonic() - started:.0f} s; growing")
        grow(args.url, args.copies)
        say(f"built in {time.monotonic() - started:.0f} s")
    report_sizes(args.url)
    plans(args.url)
    if args.drop:
        drop_database(args.url)
        say("database dropped")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
