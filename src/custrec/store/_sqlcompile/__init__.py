"""The SQL layout of records, and the compiler from expressions and queries to SQL.

SQL stores keep one table per record type: the columns that queries, indexes and aggregates
need (ids, timestamps as integer microseconds since the epoch, amounts as integer minor
units) plus the whole record as a JSON document. :data:`TABLES` describes that layout; the
compiler turns a bound expression into a ``WHERE`` clause over it, and a :class:`Query` into
a complete ``SELECT`` with keyset pagination.

The compiled SQL gives exactly the answers of the Python evaluator
(:func:`custrec.expr.compile_predicate`) and the ordering of :func:`custrec.store.run_query`:

- Every value has a *family* (number, text, date, datetime, money in one currency). A
  comparison across families is unknown (``NULL``), never SQL's type-class comparison;
  custom (JSON) fields get their family from the document at run time, so each comparison
  with one is guarded by a ``CASE`` on its JSON type.
- Predicates produce ``1``, ``0`` or ``NULL`` exactly where Python gives ``True``, ``False``
  or ``None`` (anything else, such as a bare number used as a condition, is ``NULL``).
- Numbers compare exactly, including constants no double can hold (``Decimal("0.1")``,
  integers beyond 64 bits). Arithmetic is the one approximation: Python computes in
  ``Decimal``, SQL in 64-bit integers and doubles, so sums and products beyond 2**53 or
  fractional quotients may differ in the last digits. Division by zero is ``NULL`` in both.
- User text never becomes SQL: constants and JSON paths travel as bound parameters, and
  paths are built only from catalog names and keys that match ``CUSTOM_KEY_PATTERN``.

Dialect differences (JSON functions, case folding, parameter marks, how numbers bind) live
in :class:`Dialect`; :data:`SQLITE` spells them for SQLite, and
:class:`custrec.store._pgdialect.PostgresDialect` for PostgreSQL, which reuses the layout,
the compiler and the pagination unchanged.

The package's modules, by theme: ``_fragments`` (:class:`Sql` and its builders, epoch
microseconds), ``_layout`` (:class:`Table`, :data:`TABLES`), ``_dialect`` (:class:`Dialect`,
:data:`SQLITE`, the sort-key functions), ``_compiler`` (expressions) and ``_statements``
(``WHERE``, ``SELECT``, counts, scans, keyset pagination).
"""

from custrec.store._sqlcompile._dialect import (
    SQLITE,
    Dialect,
    SQLiteDialect,
    list_sort_key,
    texts_sort_key,
)
from custrec.store._sqlcompile._dialect import Family as Family
from custrec.store._sqlcompile._dialect import fold_case as fold_case
from custrec.store._sqlcompile._fragments import FALSE as FALSE
from custrec.store._sqlcompile._fragments import INT64_MAX as INT64_MAX
from custrec.store._sqlcompile._fragments import INT64_MIN as INT64_MIN
from custrec.store._sqlcompile._fragments import TRUE as TRUE
from custrec.store._sqlcompile._fragments import Sql, epoch_us, from_epoch_us
from custrec.store._sqlcompile._fragments import sql as sql
from custrec.store._sqlcompile._layout import TABLES, Table
from custrec.store._sqlcompile._statements import (
    compile_count,
    compile_scan,
    compile_select,
    compile_where,
)

# The SQL store modules also import the names aliased to themselves above (Family, fold_case,
# FALSE, TRUE, INT64_MIN, INT64_MAX, sql); the alias re-exports them without making them public.
__all__ = [
    "SQLITE",
    "TABLES",
    "Dialect",
    "SQLiteDialect",
    "Sql",
    "Table",
    "compile_count",
    "compile_scan",
    "compile_select",
    "compile_where",
    "epoch_us",
    "from_epoch_us",
    "list_sort_key",
    "texts_sort_key",
]
