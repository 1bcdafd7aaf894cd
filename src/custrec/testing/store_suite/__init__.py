"""The store conformance suite: the tests every :class:`~custrec.store.Store` backend passes.

Subclass :class:`StoreSuite` in your backend's test module and supply a ``store`` fixture
that gives each test a fresh, empty store; every test of the suite then runs against your
backend::

    import pytest
    from custrec.testing.store_suite import StoreSuite
    from custrec_redis import RedisStore

    class TestRedisStore(StoreSuite):
        @pytest.fixture
        def store(self, redis_url):
            with RedisStore.from_url(redis_url) as store:
                yield store

        @pytest.fixture  # optional: turns on the cross-connection tests
        def reopen(self, redis_url):
            return lambda: RedisStore.from_url(redis_url)

``reopen`` is optional: a callable returning another handle on the same underlying store
(another connection to the same file or server). Without it the tests that need two handles
are skipped, saying why. Handles made by ``reopen`` are the fixture's to close.

Collection: no class in this package has a name starting with ``Test``, so pytest collects
nothing from it, even when a test module imports :class:`StoreSuite`; a subclass named
``Test…`` is collected with every inherited test and needs nothing else (no ``__test__``
attribute). If your project's ``python_classes`` also matches ``*Tests``, import only
:class:`StoreSuite`, not the group classes.

The suite is composed of groups, each usable on its own (each carries the fixtures):
:class:`CrudTests`, :class:`LookupTests`, :class:`QueryTests`, :class:`UnitOfWorkTests`,
:class:`HistoryTests`, :class:`AuditTests`, :class:`BulkTests` and :class:`PropertyTests`.
The Python reference semantics the query tests compare with is
:func:`custrec.store.run_query`.

This package needs pytest and hypothesis (``pip install custrec[testing]``).
"""

from custrec.testing.store_suite._audit import AuditTests
from custrec.testing.store_suite._base import SuiteBase
from custrec.testing.store_suite._bulk import BulkTests
from custrec.testing.store_suite._crud import CrudTests
from custrec.testing.store_suite._history import HistoryTests
from custrec.testing.store_suite._lookup import LookupTests
from custrec.testing.store_suite._properties import PropertyTests
from custrec.testing.store_suite._query import QueryTests
from custrec.testing.store_suite._suite import StoreSuite
from custrec.testing.store_suite._unit_of_work import UnitOfWorkTests

__all__ = [
    "AuditTests",
    "BulkTests",
    "CrudTests",
    "HistoryTests",
    "LookupTests",
    "PropertyTests",
    "QueryTests",
    "StoreSuite",
    "SuiteBase",
    "UnitOfWorkTests",
]
