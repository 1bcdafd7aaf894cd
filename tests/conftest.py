"""Shared test set-up: Hypothesis profiles, and the SQL stores the push-down tests share.

Choose one with the ``HYPOTHESIS_PROFILE`` environment variable:

- ``ci`` (default): 100 examples per property, no deadline, failures print a reproduction blob;
- ``dev``: 30 examples, for quick local runs;
- ``thorough``: 1000 examples, before a release or after touching the model.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings

import pgserver as pg
from custrec.store import Store, open_store

settings.register_profile("ci", max_examples=100, deadline=None, print_blob=True)
settings.register_profile("dev", max_examples=30, deadline=None)
settings.register_profile("thorough", max_examples=1000, deadline=None, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture
def pg_store() -> Iterator[Store]:
    """A PostgreSQL store in a fresh schema (skips without a server)."""
    for schema in pg.fresh_schema():
        store = open_store(pg.store_url(schema))
        yield store
        store.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def sql_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """An SQLite store, then a PostgreSQL one."""
    if request.param == "sqlite":
        with open_store(f"sqlite:///{tmp_path / 'store.db'}") as store:
            yield store
    else:
        yield request.getfixturevalue("pg_store")
