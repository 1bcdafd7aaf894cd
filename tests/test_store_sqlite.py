"""The SQLite store passes the store conformance suite, across connections too."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from custrec.store import Store, open_store
from custrec.store._sqlite import SQLiteStore
from custrec.testing.store_suite import StoreSuite


class TestSQLiteStore(StoreSuite):
    """Every conformance test, on a fresh file per test; ``reopen`` opens it again."""

    @pytest.fixture
    def url(self, tmp_path: Path) -> str:
        return f"sqlite:///{tmp_path / 'store.db'}"

    @pytest.fixture
    def store(self, url: str) -> Iterator[Store]:
        store = open_store(url)
        assert isinstance(store, SQLiteStore)
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
