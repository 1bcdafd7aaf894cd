"""The PostgreSQL store passes the store conformance suite, across connections too.

Each test gets a fresh schema on the test server (see ``tests/pg.py``), dropped afterwards.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

import pgserver as pg
from custrec.store import Store, open_store
from custrec.testing.store_suite import StoreSuite


class TestPostgresStore(StoreSuite):
    """Every conformance test, in a fresh schema per test; ``reopen`` opens another pool."""

    @pytest.fixture
    def url(self) -> Iterator[str]:
        for schema in pg.fresh_schema():
            yield pg.store_url(schema)

    @pytest.fixture
    def store(self, url: str) -> Iterator[Store]:
        from custrec.store._postgres import PostgresStore

        store = open_store(url)
        assert isinstance(store, PostgresStore)
        yield store
        store.close()

    @pytest.fixture
    def reopen(self, url: str) -> Iterator[Callable[[], Store]]:
        opened: list[Store] = []

        def another() -> Store:
            opened.append(open_store(url))
            return opened[-1]

        yield another
        for handle in opened:
            handle.close()
