"""The storage and classification benchmarks on PostgreSQL (``*.pg``).

They run against the server named by ``CUSTREC_BENCH_POSTGRES_URL`` (default
``postgresql://postgres@127.0.0.1:5432/test``), each in a schema of its own that is dropped
afterwards. When that server does not answer (or psycopg is not installed) they are not
registered at all: ``python -m benchmarks --list`` leaves them out and says why on stderr,
and every other benchmark runs as usual.

``store.bulk_add.pg``: ``customers.add_many(records, batch_size=1000)`` into a fresh
``postgresql://`` store (contact keys and an audit entry per record too; batches of 16 or
more go through ``COPY``), in seconds for all records. Baseline: the same rows (query
columns plus the JSON text, made before timing) written by psycopg's ``COPY`` into an
equivalent ``customers`` table, one transaction per batch.

``store.get_by_id.pg`` / ``store.get_by_phone.pg``: ``customers.get(id)`` and
``customers.find_by_phone(raw)``, in µs per lookup. Baselines: the indexed ``SELECT doc``
(and the join through ``contacts`` given the normalised key) plus ``json.loads``.

``classify.facts.pg``: ``Classification.run`` with three built-in
dimensions, exactly as ``classify.facts_sqlite`` runs them, on a PostgreSQL store; the
baseline is the same custrec code on a SQLite store holding the same records, and both
sides' labels are compared for every customer.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import sys
from collections.abc import Iterator
from typing import Any

try:
    import psycopg
except ImportError:  # the *.pg benchmarks are left out, saying so
    psycopg = None  # type: ignore[assignment]

from benchmarks import classify as bench_classify
from benchmarks._runner import Context, Result, benchmark, best_of, building_inputs
from custrec import config, to_dict
from custrec.model import Customer
from custrec.store import Store, open_store
from custrec.store._pgschema import MIGRATIONS
from custrec.store._sqlcompile import TABLES
from custrec.testing.synthetic import iter_customers

URL = os.environ.get("CUSTREC_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
SEED = 2024
BATCH_SIZE = 1_000

_TABLE = TABLES[Customer]
_COLUMNS = ", ".join((*_TABLE.column_names, _TABLE.doc))
_DUMPS = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def _unreachable() -> str | None:
    if psycopg is None:
        return "psycopg is not installed; pip install 'custrec[postgres]'"
    try:
        with psycopg.connect(URL, connect_timeout=2):
            return None
    except psycopg.Error as exc:
        return f"no PostgreSQL at {URL} ({str(exc).strip().splitlines()[0]})"


@contextlib.contextmanager
def _schema(name: str) -> Iterator[str]:
    """A fresh schema on the server, dropped afterwards."""
    schema = f"bench_{name}_{os.getpid()}"
    with psycopg.connect(URL, autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
    try:
        yield schema
    finally:
        with psycopg.connect(URL, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")


def _store_url(schema: str) -> str:
    return f"{URL}{'&' if '?' in URL else '?'}schema={schema}"


def pg_store(ctx: Context) -> Iterator[Result]:
    """Bulk add, then look customers up by id and by phone, on PostgreSQL."""
    count = ctx.size(100_000, full=1_000_000, smoke=500)  # smoke: the whole run stays < 30 s
    with building_inputs():
        ctx.progress(f"store.*.pg: generating {count:,} customers")
        customers = list(iter_customers(count, seed=SEED))
        rows = [(*_TABLE.values(c), _DUMPS(to_dict(c))) for c in customers]
    with _schema("ours") as ours, _schema("theirs") as theirs:
        opened: list[Store] = []

        def fresh_store() -> None:
            for old in opened:
                old.close()
            with psycopg.connect(URL, autocommit=True) as conn:
                conn.execute(f"DROP SCHEMA IF EXISTS {ours} CASCADE")
            opened[:] = [open_store(_store_url(ours))]

        def add_with_custrec() -> None:
            added = opened[0].customers.add_many(customers, batch_size=BATCH_SIZE)
            assert added == count  # noqa: S101 - a benchmark that did less work would lie

        raw = psycopg.connect(URL, autocommit=True)

        def fresh_table() -> None:
            raw.execute(f"DROP SCHEMA IF EXISTS {theirs} CASCADE; CREATE SCHEMA {theirs}")
            raw.execute(f"SET search_path TO {theirs}")
            raw.execute(_customers_ddl())

        def add_with_copy() -> None:
            for start in range(0, len(rows), BATCH_SIZE):
                with (
                    raw.transaction(),
                    raw.cursor().copy(f"COPY customers ({_COLUMNS}) FROM STDIN") as copy,
                ):
                    for row in rows[start : start + BATCH_SIZE]:
                        copy.write_row(row)

        with contextlib.closing(raw):
            repeat = ctx.repeat if ctx.wants("store.bulk_add.pg") else 1
            ctx.progress(f"store.bulk_add.pg: custrec add_many, best of {repeat}")
            custrec = best_of(repeat, add_with_custrec, setup=fresh_store)
            baseline = best_of(repeat, add_with_copy, setup=fresh_table)
            yield Result("store.bulk_add.pg", custrec, "s", "psycopg COPY of the rows", baseline)
            store = opened[0]
            with contextlib.closing(store):
                raw.execute(
                    "CREATE TABLE contacts AS SELECT * FROM "
                    f"{ours}.contacts; CREATE INDEX ON contacts (key)"
                )
                # Fresh tables have no statistics yet; give both sides the planner's view.
                raw.execute(f"ANALYZE customers, contacts, {ours}.customers, {ours}.contacts")
                lookups = ctx.size(10_000, full=10_000, smoke=50)
                chosen = random.Random(SEED).choices(customers, k=lookups)
                if ctx.wants("store.get_by_id.pg"):
                    yield _lookups(ctx, "store.get_by_id.pg", store, raw, chosen, by_phone=False)
                if ctx.wants("store.get_by_phone.pg"):
                    yield _lookups(ctx, "store.get_by_phone.pg", store, raw, chosen, by_phone=True)


def _customers_ddl() -> str:
    return next(s for s in MIGRATIONS[0].statements if s.startswith("CREATE TABLE customers"))


def _lookups(
    ctx: Context, name: str, store: Store, raw: Any, chosen: list[Customer], *, by_phone: bool
) -> Result:
    found: list[Any] = []
    expected = [c.id for c in chosen]
    if by_phone:
        raws = [c.phones[0].raw for c in chosen]
        keys = [f"phone:{c.phones[0].e164}" for c in chosen]
        sql = (
            "SELECT c.doc::text FROM contacts AS k JOIN customers AS c ON c.id = k.customer_id"
            " WHERE k.key = %s ORDER BY k.customer_id"
        )

        def ours() -> None:
            find = store.customers.find_by_phone
            found[:] = [find(r)[0] for r in raws]

        def theirs() -> None:
            found[:] = [json.loads(raw.execute(sql, (k,)).fetchone()[0]) for k in keys]

        baseline = "contacts-index SELECT (E.164 key given) + json.loads"
    else:

        def ours() -> None:
            get = store.customers.get
            found[:] = [get(i) for i in expected]

        def theirs() -> None:
            sql = "SELECT doc::text FROM customers WHERE id = %s"
            found[:] = [json.loads(raw.execute(sql, (i,)).fetchone()[0]) for i in expected]

        baseline = "indexed SELECT + json.loads"
    ctx.progress(f"{name}: {len(chosen):,} lookups, best of {ctx.repeat}")
    custrec = best_of(ctx.repeat, ours)
    assert [c.id for c in found] == expected  # noqa: S101 - found what was asked for
    base = best_of(ctx.repeat, theirs)
    assert [doc["id"] for doc in found] == expected  # noqa: S101 - found what was asked for
    per = 1e6 / len(chosen)
    return Result(name, custrec * per, "us", baseline, base * per)


def facts_pg(ctx: Context) -> Iterator[Result]:
    """Facts and three labels for every customer of a PostgreSQL store, in seconds."""
    count = ctx.size(100_000, full=1_000_000, smoke=200)
    name = "classify.facts.pg"
    with _schema("classify") as schema:
        with building_inputs():
            pg = open_store(_store_url(schema))
            lite = open_store(f"sqlite:///{ctx.workdir / 'classify-pg-baseline.db'}")
            bench_classify._fill(ctx, pg, count)
            bench_classify._fill(ctx, lite, count)
        with (
            contextlib.closing(pg),
            contextlib.closing(lite),
            config.using(timezone=bench_classify.ZONE),
        ):
            classification = bench_classify._classification()
            results: dict[str, Any] = {}

            def on(store: Store, key: str) -> None:
                run = classification.run(store, bench_classify.AS_OF, save=False)
                results[key] = dict(run.types)

            ctx.progress(f"{name}: custrec on PostgreSQL, best of {ctx.repeat}")
            custrec = best_of(ctx.repeat, lambda: on(pg, "pg"))
            ctx.progress(f"{name}: the same on SQLite")
            baseline = best_of(ctx.repeat, lambda: on(lite, "sqlite"))
    labels = {
        side: {k: (v["value_tier"], v["rfm"], v["lifecycle"]) for k, v in kinds.items()}
        for side, kinds in results.items()
    }
    if labels["pg"] != labels["sqlite"]:
        raise AssertionError("PostgreSQL and SQLite labelled the customers differently")
    yield Result(name, custrec, "s", "the same custrec code on SQLite", baseline)


_WHY = _unreachable()
if _WHY is None:
    benchmark("store.bulk_add.pg", "store.get_by_id.pg", "store.get_by_phone.pg")(pg_store)
    benchmark("classify.facts.pg")(facts_pg)
else:
    print(f"benchmarks: the *.pg benchmarks are left out: {_WHY}", file=sys.stderr)
