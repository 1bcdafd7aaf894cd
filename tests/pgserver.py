"""Finding the PostgreSQL server the Postgres tests run against, a schema per test, refills.

The server is named by ``CUSTREC_TEST_POSTGRES_URL`` (default
``postgresql://postgres@127.0.0.1:5432/test``). When it cannot be reached the tests skip,
saying how to enable them, unless ``CUSTREC_REQUIRE_POSTGRES=1`` (as CI sets): then they fail.
"""

from __future__ import annotations

import functools
import os
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from custrec.model import Customer, Feedback, Interaction, Transaction
from custrec.store import Store

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/test"
HOW = (
    "start PostgreSQL and set CUSTREC_TEST_POSTGRES_URL (default {default}), and "
    "pip install 'custrec[postgres]'; .ci/run does both"
)


def server_url() -> str:
    """The URL of the test server."""
    return os.environ.get("CUSTREC_TEST_POSTGRES_URL", DEFAULT_URL)


@functools.cache
def _unreachable() -> str | None:
    """Why the server cannot be used, or ``None`` when it can."""
    try:
        import psycopg
    except ImportError as exc:
        return f"psycopg is not installed ({exc})"
    try:
        with psycopg.connect(server_url(), connect_timeout=3, autocommit=True) as conn:
            conn.execute("SELECT 1")
    except psycopg.Error as exc:
        return f"PostgreSQL at {server_url()} is unreachable ({str(exc).strip()})"
    return None


def require_server() -> None:
    """Skip (or, under ``CUSTREC_REQUIRE_POSTGRES=1``, fail) when there is no server."""
    reason = _unreachable()
    if reason is None:
        return
    message = f"{reason}; to run the PostgreSQL tests, {HOW.format(default=DEFAULT_URL)}"
    if os.environ.get("CUSTREC_REQUIRE_POSTGRES") == "1":
        pytest.fail(message)
    pytest.skip(message)


def drop_schema(name: str) -> None:
    """Drop a test schema and everything in it."""
    import psycopg

    with psycopg.connect(server_url(), autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA IF EXISTS {name} CASCADE")  # type: ignore[arg-type]


def fresh_schema() -> Iterator[str]:
    """Yield a new schema name for one test; drop the schema afterwards."""
    require_server()
    name = f"t_{uuid.uuid4().hex[:16]}"
    try:
        yield name
    finally:
        drop_schema(name)


def store_url(schema: str) -> str:
    """The store URL of ``schema`` on the test server."""
    url = server_url()
    return f"{url}{'&' if '?' in url else '?'}schema={schema}"


def empty(store: object) -> None:
    """Delete every row of a PostgreSQL store's tables (fast, for property tests)."""
    with store._pool.connection() as conn:  # type: ignore[attr-defined]
        conn.execute(
            "DELETE FROM contacts; DELETE FROM feedback; DELETE FROM transactions;"
            " DELETE FROM interactions; DELETE FROM customers; DELETE FROM audit;"
            " DELETE FROM documents"
        )


def refill(store: Store, records: list[Any]) -> None:
    """Empty the store (PostgreSQL or SQLite), then add the records (customers first)."""
    if store.scheme == "postgresql":
        empty(store)
    else:
        with store.transaction():
            for ident in [c.id for c in store.customers]:
                store.customers.delete(ident, cascade=True)
    with store.transaction():
        for kind in (Customer, Interaction, Transaction, Feedback):
            store.repository(kind).add_many(r for r in records if isinstance(r, kind))
