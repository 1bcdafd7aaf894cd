"""The memory store, the reference backend, passes the store conformance suite."""

from __future__ import annotations

import pytest

from custrec.store import MemoryStore, Store
from custrec.testing.store_suite import StoreSuite


class TestMemoryStore(StoreSuite):
    """Every conformance test, on a fresh MemoryStore (no second handle: nothing to reopen)."""

    @pytest.fixture
    def store(self) -> Store:
        return MemoryStore()
