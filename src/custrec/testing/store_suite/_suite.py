"""The whole conformance suite in one class: every group of :mod:`custrec.testing.store_suite`."""

from custrec.testing.store_suite._audit import AuditTests
from custrec.testing.store_suite._bulk import BulkTests
from custrec.testing.store_suite._crud import CrudTests
from custrec.testing.store_suite._history import HistoryTests
from custrec.testing.store_suite._lookup import LookupTests
from custrec.testing.store_suite._properties import PropertyTests
from custrec.testing.store_suite._query import QueryTests
from custrec.testing.store_suite._unit_of_work import UnitOfWorkTests

__all__ = ["StoreSuite"]


class StoreSuite(
    CrudTests,
    LookupTests,
    QueryTests,
    UnitOfWorkTests,
    HistoryTests,
    AuditTests,
    BulkTests,
    PropertyTests,
):
    """Every conformance test. Subclass it as ``Test<YourStore>`` and supply ``store``.

    Supply ``reopen`` too when your backend can open a second handle on the same data.
    """
